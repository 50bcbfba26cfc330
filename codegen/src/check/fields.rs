//! Fields and switch arms: their type, window, attributes and arrays.

use super::attrs::{find, find_all, has, named_str, FieldAttr};
use super::*;
use crate::ast::{Attr, Expr, ExprKind, Param, Switch, TypeSpec};
use crate::ident::{camel, inner_type_name};
use crate::ir::{
    ArmBody, ArrayEnd, ArrayParse, FieldParse, IntRead, ParamArg, Parse, Partial, Requires,
    SwitchArm, SwitchParse, SwitchType, Trailing, Variant, Window,
};
use crate::types::{builtin_int, TypeDef};

impl Checker<'_> {
    pub(super) fn at(&self, unit: &str, field: &str) -> String {
        format!("{}.{}.{}", self.module().name, unit, field)
    }

    /// Checks one field (or switch arm): how its value is parsed.
    pub(super) fn check_field(
        &mut self,
        owner: &str,
        fname: &str,
        ts: &TypeSpec,
        attrs: &[Attr],
        sc: &Scope,
        span: Span,
    ) -> FieldParse {
        let at = self.at(owner, fname);
        for a in attrs {
            if !FieldAttr::is_known(&a.name) {
                self.err(a.span, format!("unknown attribute `&{}`", a.name));
            }
        }
        // Window from &size / &max_size / &prefix.
        let mut window = None;
        if let Some(a) = find(attrs, FieldAttr::Size) {
            if let Some(e) = self.attr_expr(a) {
                window = Some(Window::Exact(self.int(e, sc)));
            }
        } else if let Some(a) = find(attrs, FieldAttr::Prefix) {
            let e = self.attr_expr(a).cloned();
            match e.as_ref().map(|e| &e.kind) {
                Some(ExprKind::Path(t)) if builtin_int(t).is_some_and(|(_, s, _)| !s) => {
                    let (bits, _, suffix) = builtin_int(t).unwrap_or((8, false, None));
                    let order = self.field_order(attrs, suffix);
                    window = Some(Window::Prefix(IntRead {
                        bits,
                        signed: false,
                        order,
                    }));
                }
                _ => self.err(
                    a.span,
                    "`&prefix` takes an unsigned integer type, e.g. `&prefix(u16)`",
                ),
            }
        } else if let Some(a) = find(attrs, FieldAttr::MaxSize) {
            if let Some(e) = self.attr_expr(a) {
                window = Some(Window::Max(self.int(e, sc)));
            }
        }
        let parse = self.parse_spec(owner, fname, ts, attrs, sc, window.is_some(), span);

        // Constraints on the value ($$).
        let mut requires = None;
        let reqs: Vec<&Attr> = find_all(attrs, FieldAttr::Requires).collect();
        if !reqs.is_empty() {
            let fty = self.w.spec_ty(self.m, owner, fname, ts).unwrap_or(U64);
            let mut rsc = sc.clone();
            // `$$` and the field's own name both mean the value just parsed.
            let value = Var {
                name: fname.to_string(),
                var: VarRef::Value,
                ty: fty,
                is_ref: false,
            };
            rsc.vars.push(value.clone());
            rsc.dollar = Some(Var {
                name: "$".into(),
                ..value
            });
            let mut checks = Vec::new();
            for a in reqs {
                let Some(cond) = a
                    .args
                    .first()
                    .filter(|x| x.name.is_none())
                    .map(|x| x.expr.clone())
                else {
                    self.err(a.span, "`&requires` needs a condition first");
                    continue;
                };
                let c = self.boolean(&cond, &rsc);
                let addl = a
                    .args
                    .iter()
                    .find(|x| x.name.as_deref() == Some("addl"))
                    .and_then(|x| self.addl(&x.expr, &rsc));
                if let Some(act) = self.requires_action(a) {
                    if addl.is_some() && matches!(act, crate::ir::Action::Violation(_) | crate::ir::Action::Ignore(_) | crate::ir::Action::Report(_)) {
                        self.err(a.span, "`addl` goes with a weird: `weird`, `error` or `halt` = \"name\"");
                    }
                    checks.push((c, act, addl));
                }
            }
            requires = Some(Requires { checks });
        }

        let mut weird = None;
        if let Some(a) = find(attrs, FieldAttr::Weird) {
            // `&weird("name")` or `&weird("name", value)`: the value becomes the weird's `addl`.
            let name = a
                .value
                .as_ref()
                .or(a.args.first().map(|x| &x.expr))
                .map(|e| e.kind.clone());
            match name {
                Some(ExprKind::Str(w)) => {
                    let addl = a.args.get(1).and_then(|x| self.addl(&x.expr, sc));
                    weird = Some((w, addl));
                }
                _ => self.err(
                    a.span,
                    "`&weird` takes a weird name and optionally a value: `&weird(\"name\", x)`",
                ),
            }
        }
        let mut trailing = Trailing::Error;
        if matches!(window, Some(Window::Exact(_) | Window::Prefix(_))) {
            if let Some(a) = find(attrs, FieldAttr::Trailing) {
                if let Some(w) = named_str(a, "weird") {
                    trailing = Trailing::Weird(w);
                } else if matches!(a.args.first().map(|x| &x.expr.kind), Some(ExprKind::Path(p)) if p == "ignore")
                {
                    trailing = Trailing::Ignore;
                } else {
                    self.err(a.span, "`&trailing` takes `weird = \"name\"` or `ignore`");
                }
            }
        }
        let mut on_error = None;
        if let Some(a) = find(attrs, FieldAttr::OnError) {
            let known = a.args.iter().all(|x| matches!(x.name.as_deref(), Some("weird" | "skip" | "addl")));
            match (named_str(a, "weird"), named_str(a, "skip")) {
                (Some(w), None) | (None, Some(w)) if known => {
                    let skip = named_str(a, "skip").is_some();
                    let addl = a
                        .args
                        .iter()
                        .find(|x| x.name.as_deref() == Some("addl"))
                        .and_then(|x| self.addl(&x.expr, sc));
                    on_error = Some(crate::ir::OnError { weird: w, skip, addl, ty: self.w.spec_ty(self.m, owner, fname, ts) });
                }
                _ => self.err(a.span, "`&on_error` takes `weird = \"name\"` or `skip = \"name\"`, and optionally `addl = value`"),
            }
        }
        // `&at = offset`: where the field lies, from the origin.
        let placed = find(attrs, FieldAttr::At).and_then(|a| self.attr_expr(a)).map(|e| self.int(e, sc));
        FieldParse {
            at,
            window,
            parse,
            requires,
            weird,
            trailing,
            on_error,
            placed,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn parse_spec(
        &mut self,
        owner: &str,
        fname: &str,
        ts: &TypeSpec,
        attrs: &[Attr],
        sc: &Scope,
        windowed: bool,
        span: Span,
    ) -> Parse {
        match ts {
            TypeSpec::Skip { .. } => {
                self.err(span, "`skip` is only allowed as a field type");
                Parse::Invalid
            }
            TypeSpec::Bits { width, .. } => {
                let order = self.field_order(attrs, None);
                Parse::Bits {
                    type_name: inner_type_name(owner, fname),
                    int: IntRead {
                        bits: *width,
                        signed: false,
                        order,
                    },
                }
            }
            TypeSpec::Switch(sw) => Parse::Switch(self.check_switch(owner, fname, sw, sc)),
            TypeSpec::Simple {
                name,
                name_span,
                args,
                array,
            } => match array {
                None => self.parse_base(name, *name_span, args, attrs, sc, windowed),
                Some(count) => {
                    // `$index` in the element's arguments is its position.
                    let mut esc = sc.clone();
                    esc.array_element = true;
                    let elem = self.parse_base(name, *name_span, args, attrs, &esc, false);
                    let elem_ty = self.w.spec_ty(
                        self.m,
                        owner,
                        fname,
                        &TypeSpec::Simple {
                            name: name.clone(),
                            name_span: *name_span,
                            args: vec![],
                            array: None,
                        },
                    );
                    self.check_array(elem, elem_ty, count.as_ref(), attrs, sc, windowed, span)
                }
            },
        }
    }

    /// Parses one value of a named (non-array) type.
    fn parse_base(
        &mut self,
        name: &str,
        name_span: Span,
        args: &[Expr],
        attrs: &[Attr],
        sc: &Scope,
        windowed: bool,
    ) -> Parse {
        if let Some((bits, signed, suffix)) = builtin_int(name) {
            let order = self.field_order(attrs, suffix);
            return Parse::Int(IntRead {
                bits,
                signed,
                order,
            });
        }
        match name {
            "bytes" => {
                // `&while_in(b" \t")` / `&while_not_in(b",:")`: the longest run of bytes (not) in the set.
                for (attr, inside) in [(FieldAttr::WhileIn, true), (FieldAttr::WhileNotIn, false)] {
                    if let Some(a) = find(attrs, attr) {
                        let Some(e) = self.attr_expr(a) else {
                            return Parse::Invalid;
                        };
                        return match &e.kind {
                            ExprKind::Bytes(b) if !b.is_empty() => Parse::BytesWhile {
                                set: b.clone(),
                                inside,
                            },
                            _ => {
                                self.err(e.span, format!("`&{}` takes a bytes literal listing the bytes of the set, e.g. b\" \\t\"", attr.name()));
                                Parse::Invalid
                            }
                        };
                    }
                }
                if let Some(a) = find(attrs, FieldAttr::Until) {
                    let Some(e) = self.attr_expr(a) else {
                        return Parse::Invalid;
                    };
                    return match &e.kind {
                        ExprKind::Bytes(b) => Parse::BytesUntil {
                            delimiter: b.clone(),
                            or_eod: has(attrs, FieldAttr::OrEod),
                        },
                        _ => {
                            self.err(e.span, "`&until` on bytes takes a bytes literal delimiter, e.g. b\"\\r\\n\"");
                            Parse::Invalid
                        }
                    };
                }
                if windowed || has(attrs, FieldAttr::Eod) {
                    return Parse::BytesRest;
                }
                self.err(
                    name_span,
                    "bytes need a length: `&size`, `&prefix`, `&until(b\"..\")` or `&eod`",
                );
                return Parse::Invalid;
            }
            "ipv4" => return Parse::Ipv4,
            "ipv6" => return Parse::Ipv6,
            _ => {}
        }
        match self.w.lookup(self.m, name) {
            Some(TypeDef::Enum(m, e)) => {
                // A bad base is reported with the enum itself.
                let bits = builtin_int(&e.base).map_or(64, |(b, _, _)| b);
                let order = self.field_order(attrs, None);
                Parse::Enum {
                    module: m,
                    name: e.name.clone(),
                    int: IntRead {
                        bits,
                        signed: false,
                        order,
                    },
                }
            }
            Some(TypeDef::Unit(m, u)) => Parse::Unit {
                module: m,
                name: u.name.clone(),
                args: self.call_args(&u.params, args, sc, name_span, name),
            },
            Some(TypeDef::Extern(_, x)) => Parse::Extern {
                path: x.path.clone(),
                args: self.call_args(&x.params, args, sc, name_span, name),
            },
            None => {
                self.err(name_span, format!("unknown type `{name}`"));
                Parse::Invalid
            }
        }
    }

    /// Converts an argument to a parameter of type `ty`.
    fn param_arg(&mut self, e: &Expr, ty: &str, sc: &Scope) -> Option<ParamArg> {
        match self.w.param_named(self.m, ty) {
            Some(Ty::Bool) => Some(ParamArg::Bool(self.boolean(e, sc))),
            Some(Ty::Bytes) => Some(ParamArg::Bytes(self.bytes_arg(e, sc))),
            Some(t @ Ty::Int { .. }) => Some(ParamArg::Int {
                value: self.int(e, sc),
                ty: t,
            }),
            Some(Ty::Enum(m, n)) => {
                let value = self.int(e, sc);
                let bits = self
                    .w
                    .enum_decl(m, &n)
                    .and_then(|d| builtin_int(&d.base))
                    .map(|(b, _, _)| b)
                    .unwrap_or(64);
                Some(ParamArg::Enum {
                    value,
                    module: m,
                    name: n,
                    base: Ty::Int {
                        bits,
                        signed: false,
                    },
                })
            }
            _ => {
                self.err(
                    e.span,
                    format!("parameter type `{ty}` must be an integer, bool, enum or bytes"),
                );
                None
            }
        }
    }

    fn call_args(
        &mut self,
        params: &[Param],
        args: &[Expr],
        sc: &Scope,
        span: Span,
        what: &str,
    ) -> Vec<ParamArg> {
        if params.len() != args.len() {
            self.err(
                span,
                format!(
                    "`{what}` takes {} argument(s), {} given",
                    params.len(),
                    args.len()
                ),
            );
            return Vec::new();
        }
        params
            .iter()
            .zip(args)
            .filter_map(|(p, e)| self.param_arg(e, &p.ty, sc))
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn check_array(
        &mut self,
        elem: Parse,
        elem_ty: Option<Ty>,
        count: Option<&Expr>,
        attrs: &[Attr],
        sc: &Scope,
        windowed: bool,
        span: Span,
    ) -> Parse {
        let partial = match find(attrs, FieldAttr::Partial) {
            None => None,
            Some(p) => match named_str(p, "weird") {
                Some(w) => Some(Partial::Weird(w)),
                None if p.args.is_empty() && p.value.is_none() => Some(Partial::Halt),
                None => {
                    self.err(p.span, "`&partial` takes nothing or `weird = \"name\"`");
                    None
                }
            },
        };
        let until = find(attrs, FieldAttr::Until)
            .map(|a| (a, false))
            .or_else(|| find(attrs, FieldAttr::UntilIncl).map(|a| (a, true)));
        let end = if let Some(n) = count {
            ArrayEnd::Count(self.int(n, sc))
        } else if let Some((a, inclusive)) = until {
            let Some(cond) = self.attr_expr(a).cloned() else {
                return Parse::Invalid;
            };
            let mut usc = sc.clone();
            usc.dollar = Some(Var {
                name: "$".into(),
                var: VarRef::Element,
                ty: elem_ty.unwrap_or(U64),
                is_ref: false,
            });
            ArrayEnd::Until {
                cond: self.boolean(&cond, &usc),
                inclusive,
            }
        } else if windowed || has(attrs, FieldAttr::Eod) {
            ArrayEnd::Eod
        } else {
            self.err(span, "an array needs a count `T[n]`, a window (`&size`, `&prefix`, `&max_size`), `&eod` or `&until`");
            return Parse::Invalid;
        };
        Parse::Array(Box::new(ArrayParse {
            elem,
            end,
            partial,
            or_eod: has(attrs, FieldAttr::OrEod),
            grammar_max_elements: self.limit_is_bool("max_elements") == Some(false),
        }))
    }

    fn const_pat(&mut self, e: &Expr) -> Option<u64> {
        match &e.kind {
            ExprKind::Int(v) => Some(*v),
            ExprKind::Path(p) => {
                // `A` alone: a constant of the scrutinee's enum is resolved by the caller.
                let v = if p.contains("::") {
                    self.enum_const(p)
                } else {
                    None
                };
                if v.is_none() {
                    self.err(e.span, format!("unknown constant `{p}`"));
                }
                v
            }
            _ => {
                self.err(e.span, "switch patterns must be integer or enum constants");
                None
            }
        }
    }

    /// The enum a scrutinee has, so arms may name its constants without `Enum::`.
    fn scrutinee_enum(&mut self, e: &Expr, sc: &Scope) -> Option<(usize, String)> {
        match &e.kind {
            ExprKind::Path(p) => match sc.find(p).map(|v| v.ty.clone()) {
                Some(Ty::Enum(m, n)) => Some((m, n)),
                _ => None,
            },
            ExprKind::Call(f, args) if args.len() == 1 => match self.w.lookup(self.m, f) {
                Some(TypeDef::Enum(m, en)) => Some((m, en.name.clone())),
                _ => None,
            },
            ExprKind::Member(..) => {
                // A probe: the scrutinee's own errors are reported when it is checked.
                let mut probe = Checker::new(self.w, self.m, self.events, self.boxed);
                match probe.expr(e, sc).ty {
                    ExprTy::Node(Ty::Enum(m, n), _) => Some((m, n)),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    pub(super) fn check_switch(
        &mut self,
        owner: &str,
        fname: &str,
        sw: &Switch,
        sc: &Scope,
    ) -> SwitchParse {
        // `switch (Enum(x))` casts an integer to an enum for its constants.
        let (scrutinee, senum) = match &sw.scrutinee.kind {
            ExprKind::Call(f, args)
                if args.len() == 1
                    && matches!(self.w.lookup(self.m, f), Some(TypeDef::Enum(..))) =>
            {
                let en = self.scrutinee_enum(&sw.scrutinee, sc);
                (self.int(&args[0], sc), en)
            }
            _ => {
                let en = self.scrutinee_enum(&sw.scrutinee, sc);
                (self.int(&sw.scrutinee, sc), en)
            }
        };
        let enum_name = if fname.is_empty() {
            owner.to_string()
        } else {
            inner_type_name(owner, fname)
        };
        let mut arms = Vec::new();
        let mut has_default = false;
        let mut seen_vals = std::collections::HashSet::new();
        for arm in &sw.arms {
            let values = match &arm.pats {
                None => {
                    has_default = true;
                    None
                }
                Some(pats) => {
                    let mut vals = Vec::new();
                    for p in pats {
                        let v = match (&p.kind, &senum) {
                            (ExprKind::Path(name), Some((m, e))) if !name.contains("::") => {
                                match self
                                    .w
                                    .enum_decl(*m, e)
                                    .and_then(|d| d.items.iter().find(|(n, _, _)| n == name))
                                {
                                    Some((_, v, _)) => Some(*v),
                                    None => {
                                        self.err(
                                            p.span,
                                            format!("enum `{e}` has no constant `{name}`"),
                                        );
                                        None
                                    }
                                }
                            }
                            _ => self.const_pat(p),
                        };
                        if let Some(v) = v {
                            if !seen_vals.insert(v) {
                                self.err(p.span, format!("value {v} already has an arm"));
                            }
                            vals.push(v);
                        }
                    }
                    if vals.is_empty() {
                        continue;
                    }
                    Some(vals)
                }
            };
            let body = match &arm.body {
                None => ArmBody::Empty,
                Some(af) => ArmBody::Variant {
                    name: camel(&af.name),
                    value: self.check_field(owner, &af.name, &af.ty, &af.attrs, sc, af.span),
                    boxed: self.boxed.field(self.m, &enum_name, &af.name),
                },
            };
            arms.push(SwitchArm { values, body });
        }
        if !has_default {
            self.err(sw.span, "a switch needs a default arm `_ => ...;`");
        }
        SwitchParse {
            enum_name,
            scrutinee,
            arms,
        }
    }

    /// The enum of a switch's arms (`ty`: the switch's own type).
    pub(super) fn switch_type(
        &mut self,
        owner: &str,
        fname: &str,
        sw: &Switch,
        ty: &Ty,
    ) -> SwitchType {
        let name = if fname.is_empty() {
            owner.to_string()
        } else {
            inner_type_name(owner, fname)
        };
        let mut variants = Vec::new();
        let mut names = std::collections::HashSet::new();
        let mut has_empty = false;
        for arm in &sw.arms {
            match &arm.body {
                None => has_empty = true,
                Some(af) => {
                    if !names.insert(af.name.clone()) {
                        self.err(af.span, format!("duplicate arm name `{}`", af.name));
                        continue;
                    }
                    match self.w.arm_ty(self.m, owner, af) {
                        Some(t) => variants.push(Variant {
                            name: camel(&af.name),
                            ty: t,
                            boxed: self.boxed.field(self.m, &name, &af.name),
                        }),
                        None => {
                            if let TypeSpec::Simple {
                                name, name_span, ..
                            } = &af.ty
                            {
                                self.err(*name_span, format!("unknown type `{name}`"));
                            }
                        }
                    }
                }
            }
        }
        SwitchType {
            borrows: self.w.needs_lt(ty),
            name,
            variants,
            has_empty,
        }
    }
}
