//! Expressions: names resolved, types inferred and checked, conversions decided.

use super::*;
use crate::ast::{BinOp, Expr, ExprKind, UnOp};
use crate::ir::{BinderIter, Builtin, CompareAs, Step, ZConv, ZValue};
use crate::types::TypeDef;

pub(super) type IrExpr = ir::Expr;
pub(super) type K = ir::ExprKind;

pub(super) fn typed(kind: K, ty: ExprTy) -> IrExpr {
    IrExpr { kind, ty }
}

/// An expression that failed to check (its error is already reported).
pub(super) fn invalid() -> IrExpr {
    typed(K::Invalid, ExprTy::Unknown)
}

pub(super) fn boxed(e: IrExpr) -> Box<IrExpr> {
    Box::new(e)
}

impl Checker<'_> {
    /// Reports a value that cannot be used as an integer.
    pub(super) fn need_int(&mut self, e: &IrExpr, span: Span) -> bool {
        let found = match &e.ty {
            ExprTy::Int | ExprTy::Zeek(ZTy::Count) | ExprTy::Unknown => return true,
            ExprTy::Node(Ty::Int { .. } | Ty::Enum(..) | Ty::Bool, _) => return true,
            ExprTy::Node(n, _) => ty_name(n),
            other => expr_ty_name(other),
        };
        self.err(span, format!("expected an integer, found {found}"));
        false
    }

    /// `e` as an integer (`u64`).
    pub(super) fn int(&mut self, e: &Expr, sc: &Scope) -> IrExpr {
        let x = self.expr(e, sc);
        self.as_int(x, e.span)
    }

    pub(super) fn as_int(&mut self, x: IrExpr, span: Span) -> IrExpr {
        if self.need_int(&x, span) {
            x
        } else {
            invalid()
        }
    }

    /// `e` as a boolean.
    pub(super) fn boolean(&mut self, e: &Expr, sc: &Scope) -> IrExpr {
        let x = self.expr(e, sc);
        match &x.ty {
            ExprTy::Bool
            | ExprTy::Zeek(ZTy::Bool)
            | ExprTy::Node(Ty::Bool, _)
            | ExprTy::Unknown => x,
            other => {
                self.err(
                    e.span,
                    format!("expected a boolean, found {}", expr_ty_name(other)),
                );
                invalid()
            }
        }
    }

    /// Resolves `Enum::CONST` to its value.
    pub(super) fn enum_const(&self, path: &str) -> Option<u64> {
        let (en, c) = path.split_once("::")?;
        let def = self.w.lookup(self.m, en)?;
        match def {
            TypeDef::Enum(_, e) => e.items.iter().find(|(n, _, _)| n == c).map(|(_, v, _)| *v),
            _ => None,
        }
    }

    /// Whether the module declares limit `name`, and if it is a boolean.
    pub(super) fn limit_is_bool(&self, name: &str) -> Option<bool> {
        self.module()
            .limits
            .iter()
            .find(|l| l.name == name)
            .map(|l| matches!(l.value, ast::LimitValue::Bool(_)))
    }

    pub(super) fn expr(&mut self, e: &Expr, sc: &Scope) -> IrExpr {
        match &e.kind {
            ExprKind::Int(v) => typed(K::Int(*v), ExprTy::Int),
            ExprKind::Bool(b) => typed(K::Bool(*b), ExprTy::Bool),
            ExprKind::Bytes(b) => typed(K::Bytes(b.clone()), ExprTy::BytesLit),
            ExprKind::Str(text) if sc.mode == Mode::Bind => {
                typed(K::Str(text.clone()), ExprTy::Zeek(ZTy::Str))
            }
            ExprKind::Str(_) => {
                self.err(
                    e.span,
                    "string literals are only allowed as attribute arguments",
                );
                invalid()
            }
            ExprKind::Path(p) => {
                if p.contains("::") {
                    match self.enum_const(p) {
                        Some(v) => typed(K::Int(v), ExprTy::Int),
                        None => {
                            self.err(e.span, format!("unknown enum constant `{p}`"));
                            invalid()
                        }
                    }
                } else if let Some(v) = sc.find(p) {
                    v.expr()
                } else {
                    self.err(e.span, format!("unknown name `{p}`"));
                    invalid()
                }
            }
            ExprKind::Dollar(d) => self.dollar(d, e.span, sc),
            ExprKind::Member(base, m) => self.member(e, base, m, sc),
            ExprKind::Index(base, i) => {
                if sc.mode != Mode::Parse {
                    self.err(e.span, "`a[i]` reads an array while parsing; in bindings select elements with a binder (`x: a`)");
                    return invalid();
                }
                let b = self.expr(base, sc);
                let i = self.int(i, sc);
                match b.ty.clone() {
                    ExprTy::Node(Ty::Array(elem), _) => typed(K::Index(boxed(b), boxed(i)), ExprTy::Node(*elem, true)),
                    ExprTy::Unknown => invalid(),
                    other => {
                        self.err(base.span, format!("`{}` is {}, not an array", base.text(), expr_ty_name(&other)));
                        invalid()
                    }
                }
            }
            ExprKind::Unary(UnOp::Not, a) => {
                let x = self.boolean(a, sc);
                typed(K::Not(boxed(x)), ExprTy::Bool)
            }
            ExprKind::Unary(UnOp::Neg, _) => {
                self.err(
                    e.span,
                    "negation is not supported (expressions compute in unsigned 64 bits)",
                );
                invalid()
            }
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, sc),
            ExprKind::Call(f, args) => self.call(f, args, e.span, sc),
            ExprKind::ListComp {
                key,
                elem,
                index,
                var,
                src,
                filter,
            } => {
                if sc.mode != Mode::Bind {
                    self.err(
                        e.span,
                        "list comprehensions are only allowed in event bindings and records",
                    );
                    return invalid();
                }
                let mut inner = sc.clone();
                if let Some(i) = index {
                    inner.vars.push(Var::named(
                        i,
                        Ty::Int {
                            bits: 64,
                            signed: false,
                        },
                        false,
                    ));
                }
                let iter = if let ExprKind::Call(f, args) = &src.kind {
                    if f == "chunks" && args.len() == 2 {
                        let b = self.bytes_arg(&args[0], sc);
                        let ExprKind::Int(n @ 1..) = args[1].kind else {
                            self.err(args[1].span, "`chunks` takes a number of bytes here (a constant, at least 1)");
                            return invalid();
                        };
                        inner.vars.push(Var::named(var, Ty::Bytes, false));
                        crate::ir::BinderIter::Chunks(Box::new(b), n)
                    } else {
                    if f != "split" || args.len() != 2 {
                        self.err(
                            src.span,
                            "a comprehension iterates a path (`m.answer`), `split(bytes, b\",\")` or `chunks(bytes, n)`",
                        );
                        return invalid();
                    }
                    let b = self.bytes_arg(&args[0], sc);
                    let ExprKind::Bytes(sep) = &args[1].kind else {
                        self.err(
                            args[1].span,
                            "`split` takes a one-byte separator literal here (`b\",\"`)",
                        );
                        return invalid();
                    };
                    if sep.len() != 1 {
                        self.err(
                            args[1].span,
                            "`split` takes a one-byte separator literal here (`b\",\"`)",
                        );
                        return invalid();
                    }
                    // The words are byte slices, not references into the tree.
                    inner.vars.push(Var::named(var, Ty::Bytes, false));
                    crate::ir::BinderIter::Split(Box::new(b), sep[0])
                    }
                } else {
                    let Some((iter, elem_ty)) = self.binder_iter(src, sc) else {
                        return invalid();
                    };
                    inner.vars.push(Var::named(var, elem_ty, true));
                    iter
                };
                let x = self.expr(elem, &inner);
                let filter = filter.as_ref().map(|w| boxed(self.boolean(w, &inner)));
                let Some(zt) = self.infer_z(&x.ty, elem.span) else {
                    return invalid();
                };
                let conv = self.convert_z(&x.ty, &zt, elem.span);
                if let ZTy::Opt(_) = zt {
                    self.err(elem.span, "a list's elements cannot be unset; `first`/`last` give optional values for record fields only");
                    return invalid();
                }
                if let Some(k) = key {
                    let kx = self.expr(k, &inner);
                    // String keys: one value per key (the last); integer keys group them.
                    let by_string = matches!(kx.ty, ExprTy::Node(Ty::Bytes, _) | ExprTy::BytesLit | ExprTy::Zeek(ZTy::Str));
                    if matches!(kx.ty, ExprTy::Bool) {
                        self.err(k.span, "a table's key is an integer (`table[count] of vector of T`) or bytes (`table[string] of T`), not a boolean");
                        return invalid();
                    }
                    let key_ty = if by_string { ZTy::Str } else { ZTy::Count };
                    let kconv = self.convert_z(&kx.ty, &key_ty, k.span);
                    let value_ty = if by_string { zt } else { ZTy::Vec(Box::new(zt)) };
                    return typed(
                        K::TableComp {
                            iter,
                            var: var.clone(),
                            key: Box::new(ZValue { expr: kx, conv: kconv }),
                            elem: Box::new(ZValue { expr: x, conv }),
                            filter,
                            grouped: !by_string,
                        },
                        ExprTy::Zeek(ZTy::Table(Box::new(key_ty), Box::new(value_ty))),
                    );
                }
                typed(
                    K::ListComp {
                        iter,
                        index: index.clone(),
                        var: var.clone(),
                        elem: Box::new(ZValue { expr: x, conv }),
                        filter,
                    },
                    ExprTy::Zeek(ZTy::Vec(Box::new(zt))),
                )
            }
        }
    }

    fn member(&mut self, e: &Expr, base: &Expr, m: &str, sc: &Scope) -> IrExpr {
        if let ExprKind::Dollar(d) = &base.kind {
            if d == "limit" {
                return match self.limit_is_bool(m) {
                    Some(is_bool) => typed(
                        K::Limit(m.to_string()),
                        if is_bool { ExprTy::Bool } else { ExprTy::Int },
                    ),
                    None => {
                        self.err(
                            e.span,
                            format!("unknown limit `{m}` (declare it in `limits {{ ... }}`)"),
                        );
                        invalid()
                    }
                };
            }
        }
        let b = self.expr(base, sc);
        match b.ty.clone() {
            ExprTy::Node(Ty::Unit(um, un), _) => {
                let Some(fty) = self.w.field_ty(um, &un, m) else {
                    self.err(e.span, format!("unit `{un}` has no field `{m}`"));
                    return invalid();
                };
                typed(K::Field(boxed(b), m.to_string()), ExprTy::Node(fty, false))
            }
            ExprTy::Node(Ty::Bits(_, sname, _, members), _) => {
                if members.iter().any(|(n, _, _)| n == m) {
                    typed(K::BitMember(boxed(b), m.to_string()), ExprTy::Int)
                } else {
                    self.err(e.span, format!("bit field `{sname}` has no member `{m}`"));
                    invalid()
                }
            }
            ExprTy::Node(Ty::Option(_), _) => {
                self.err(
                    e.span,
                    format!(
                        "`{}` is a conditional field; bind it with `x: {}` first",
                        base.text(),
                        base.text()
                    ),
                );
                invalid()
            }
            ExprTy::Node(Ty::Switch(..) | Ty::Union(..), _) => {
                self.err(
                    e.span,
                    format!(
                        "`{}` is a switch; select an arm with a binder (`x: {}.{m}`)",
                        base.text(),
                        base.text()
                    ),
                );
                invalid()
            }
            ExprTy::Unknown => invalid(),
            other => {
                self.err(
                    e.span,
                    format!("{} has no field `{m}`", expr_ty_name(&other)),
                );
                invalid()
            }
        }
    }

    fn dollar(&mut self, d: &str, span: Span, sc: &Scope) -> IrExpr {
        let builtin = |b: Builtin, ty: ExprTy| typed(K::Builtin(b), ty);
        let bytes = || ExprTy::Node(Ty::Bytes, false);
        match (sc.mode, d) {
            (_, "$") => match &sc.dollar {
                Some(v) => v.expr(),
                None => {
                    self.err(
                        span,
                        "`$$` is only defined in `&requires` and `&until` of a field",
                    );
                    invalid()
                }
            },
            (Mode::Parse, "offset") => builtin(Builtin::Offset, ExprTy::Int),
            (Mode::Parse, "pdu") => builtin(Builtin::ParsePdu, bytes()),
            (Mode::Parse, "rest") => builtin(Builtin::Rest, bytes()),
            (Mode::Parse, "span") => builtin(Builtin::Span, bytes()),
            (Mode::Parse, "remaining") => builtin(Builtin::Remaining, ExprTy::Int),
            (Mode::Parse, "index") if sc.array_element => builtin(Builtin::ArrayIndex, ExprTy::Int),
            (Mode::Parse, "index") => {
                self.err(span, "`$index` is the position of the array element being parsed: use it in the arguments of an array's element type (`values: Value(types[$index])[n]`)");
                invalid()
            }
            (Mode::Parse, "eod") => builtin(Builtin::Eod, ExprTy::Bool),
            (Mode::Parse, "is_orig") => builtin(Builtin::ParseIsOrig, ExprTy::Bool),
            (Mode::Parse, "resp_port") => builtin(Builtin::ParseRespPort, ExprTy::Int),
            (Mode::Parse, "confirmed") => builtin(Builtin::ParseConfirmed, ExprTy::Bool),
            (Mode::Parse, "partial") => builtin(Builtin::ParsePartial, ExprTy::Bool),
            (Mode::Bind, "conn" | "resp_port" | "is_orig" | "orig_h" | "resp_h") if sc.link => {
                self.err(
                    span,
                    format!("`${d}` is not available here: a link-layer PDU (`ethertype ... =>`) has no connection"),
                );
                invalid()
            }
            (Mode::Bind, "l2_src" | "l2_dst") if !sc.link => {
                self.err(
                    span,
                    format!("`${d}` is only available in events of a link-layer PDU (`ethertype ... =>`)"),
                );
                invalid()
            }
            (Mode::Bind, "l2_src") => builtin(Builtin::L2Src, bytes()),
            (Mode::Bind, "l2_dst") => builtin(Builtin::L2Dst, bytes()),
            (Mode::Bind, "conn") => builtin(Builtin::Conn, ExprTy::Zeek(ZTy::Conn)),
            (Mode::Bind, "is_orig") => builtin(Builtin::EventIsOrig, ExprTy::Bool),
            (Mode::Bind, "halted") => builtin(Builtin::Halted, ExprTy::Bool),
            (Mode::Bind, "pdu_len") => builtin(Builtin::PduLen, ExprTy::Int),
            (Mode::Bind, "pdu") => builtin(Builtin::Pdu, ExprTy::Zeek(ZTy::Str)),
            (Mode::Bind, "resp_port") => builtin(Builtin::EventRespPort, ExprTy::Int),
            (Mode::Bind, "ts") => builtin(Builtin::Ts, ExprTy::Zeek(ZTy::Time)),
            (Mode::Bind, "orig_h") => builtin(Builtin::OrigH, ExprTy::Zeek(ZTy::Addr)),
            (Mode::Bind, "resp_h") => builtin(Builtin::RespH, ExprTy::Zeek(ZTy::Addr)),
            (_, "limit") => {
                self.err(span, "`$limit` needs a limit name: `$limit.name`");
                invalid()
            }
            _ => {
                self.err(span, format!("`${d}` is not available here"));
                invalid()
            }
        }
    }

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, sc: &Scope) -> IrExpr {
        match op {
            BinOp::Or | BinOp::And => {
                let x = self.boolean(a, sc);
                let y = self.boolean(b, sc);
                typed(K::Logic(op, boxed(x), boxed(y)), ExprTy::Bool)
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                // Bytes compare with byte literals; everything else as u64 or bool.
                let x = self.expr(a, sc);
                let y = self.expr(b, sc);
                let is_bytes =
                    |t: &ExprTy| matches!(t, ExprTy::BytesLit | ExprTy::Node(Ty::Bytes, _));
                let is_bool = |t: &ExprTy| matches!(t, ExprTy::Bool | ExprTy::Node(Ty::Bool, _));
                let how = if is_bytes(&x.ty) && is_bytes(&y.ty) {
                    CompareAs::Bytes
                } else if is_bool(&x.ty) && is_bool(&y.ty) {
                    CompareAs::Bool
                } else {
                    CompareAs::Int
                };
                let (x, y) = match how {
                    CompareAs::Int => (self.as_int(x, a.span), self.as_int(y, b.span)),
                    _ => (x, y),
                };
                typed(K::Compare(op, how, boxed(x), boxed(y)), ExprTy::Bool)
            }
            BinOp::BitOr | BinOp::BitAnd | BinOp::BitXor => {
                let x = self.int(a, sc);
                let y = self.int(b, sc);
                typed(K::BitOp(op, boxed(x), boxed(y)), ExprTy::Int)
            }
            _ => {
                let x = self.int(a, sc);
                let y = self.int(b, sc);
                typed(K::Arith(op, boxed(x), boxed(y)), ExprTy::Int)
            }
        }
    }

    /// A `bytes` argument of a builtin.
    pub(super) fn bytes_arg(&mut self, e: &Expr, sc: &Scope) -> IrExpr {
        let x = self.expr(e, sc);
        match &x.ty {
            ExprTy::Node(Ty::Bytes, _) | ExprTy::BytesLit | ExprTy::Unknown => x,
            other => {
                self.err(
                    e.span,
                    format!("expected bytes, found {}", expr_ty_name(other)),
                );
                invalid()
            }
        }
    }

    /// The Zeek type an expression naturally has (record fields, comprehensions).
    pub(super) fn infer_z(&mut self, ty: &ExprTy, span: Span) -> Option<ZTy> {
        Some(match ty {
            ExprTy::Int => ZTy::Count,
            ExprTy::Bool => ZTy::Bool,
            ExprTy::Zeek(z) => z.clone(),
            ExprTy::BytesLit => ZTy::Str,
            ExprTy::Node(n, _) => match n {
                Ty::Int { signed: false, .. } | Ty::Enum(..) => ZTy::Count,
                Ty::Int { signed: true, .. } => ZTy::Int,
                Ty::Bool => ZTy::Bool,
                Ty::Bytes => ZTy::Str,
                Ty::Ipv4 | Ty::Ipv6 => ZTy::Addr,
                Ty::Array(inner) => {
                    let z = self.infer_z(&ExprTy::Node((**inner).clone(), true), span)?;
                    ZTy::Vec(Box::new(z))
                }
                other => {
                    self.err(
                        span,
                        format!(
                            "{} has no Zeek value; convert it with a record or extern fn",
                            ty_name(other)
                        ),
                    );
                    return None;
                }
            },
            ExprTy::Unknown => return None,
        })
    }

    /// How a value of type `ty` becomes a Zeek value of type `want`.
    pub(super) fn convert_z(&mut self, ty: &ExprTy, want: &ZTy, span: Span) -> ZConv {
        match (want, ty) {
            (_, ExprTy::Unknown) => ZConv::Same,
            (ZTy::Count, ExprTy::Int | ExprTy::Zeek(ZTy::Count)) => ZConv::Same,
            (ZTy::Count, ExprTy::Node(Ty::Int { .. } | Ty::Enum(..), _)) => ZConv::NodeToCount,
            (ZTy::Int, ExprTy::Int) => ZConv::CountToInt,
            (ZTy::Int, ExprTy::Node(Ty::Int { .. }, _)) => ZConv::NodeToInt,
            (ZTy::Bool, ExprTy::Bool | ExprTy::Zeek(ZTy::Bool)) => ZConv::Same,
            (ZTy::Bool, ExprTy::Node(Ty::Bool, _)) => ZConv::Deref,
            (ZTy::Str, ExprTy::Zeek(ZTy::Str)) => ZConv::Same,
            (ZTy::Str, ExprTy::BytesLit) => ZConv::StrFromLit,
            (ZTy::Str, ExprTy::Node(Ty::Bytes, _)) => ZConv::StrFromBytes,
            (ZTy::Addr, ExprTy::Zeek(ZTy::Addr)) => ZConv::Same,
            (ZTy::Addr, ExprTy::Node(Ty::Ipv4 | Ty::Ipv6, _)) => ZConv::Addr,
            // A set from a comprehension: duplicates dropped, first occurrence kept.
            (ZTy::Set(inner), ExprTy::Zeek(ZTy::Vec(el))) if inner == el => ZConv::Set {
                strings: **inner == ZTy::Str,
            },
            (ZTy::Vec(inner), ExprTy::Node(Ty::Array(el), _)) => {
                let elem = self.convert_z(&ExprTy::Node((**el).clone(), true), inner, span);
                ZConv::Vec(Box::new(elem))
            }
            (w, ExprTy::Zeek(z)) if w == z => ZConv::Same,
            (w, ExprTy::Zeek(ZTy::Opt(z))) if **z == *w => {
                self.err(
                    span,
                    format!("expected {}, found a value that may be unset; only record fields can be unset (give `first`/`last` a default)", w.name()),
                );
                ZConv::Same
            }
            (w, other) => {
                self.err(
                    span,
                    format!("expected {}, found {}", w.name(), expr_ty_name(other)),
                );
                ZConv::Same
            }
        }
    }

    /// The values a binder path selects (flattening arrays, skipping absent
    /// conditional fields and non-matching switch arms), and their type.
    pub(super) fn binder_iter(&mut self, e: &Expr, sc: &Scope) -> Option<(BinderIter, Ty)> {
        if let ExprKind::Binary(BinOp::BitOr, a, b) = &e.kind {
            let (ia, ta) = self.binder_iter(a, sc)?;
            let (ib, tb) = self.binder_iter(b, sc)?;
            if ta != tb {
                self.err(
                    e.span,
                    format!(
                        "alternatives select different types: {} and {}",
                        ty_name(&ta),
                        ty_name(&tb)
                    ),
                );
                return None;
            }
            return Some((BinderIter::Chain(Box::new(ia), Box::new(ib)), ta));
        }
        // Decompose into root variable + member segments.
        let mut segs = Vec::new();
        let mut cur = e;
        while let ExprKind::Member(base, m) = &cur.kind {
            segs.push((m.clone(), cur.span));
            cur = base;
        }
        segs.reverse();
        let ExprKind::Path(root) = &cur.kind else {
            self.err(
                e.span,
                "a binder selects a path from an earlier binder, e.g. `q: m.question`",
            );
            return None;
        };
        let Some(var) = sc.find(root).cloned() else {
            self.err(cur.span, format!("unknown name `{root}`"));
            return None;
        };
        let mut steps = Vec::new();
        let mut ty = var.ty.clone();
        let flatten = |steps: &mut Vec<Step>, ty: &mut Ty| {
            while let Ty::Array(inner) = ty.clone() {
                steps.push(Step::Flatten);
                *ty = *inner;
            }
        };
        flatten(&mut steps, &mut ty);
        for (seg, span) in segs {
            match ty.clone() {
                Ty::Unit(um, un) => {
                    let Some(ft) = self.w.field_ty(um, &un, &seg) else {
                        self.err(span, format!("unit `{un}` has no field `{seg}`"));
                        return None;
                    };
                    let is_boxed = self.boxed.field(um, &un, &seg);
                    match ft {
                        Ty::Option(inner) => {
                            steps.push(Step::Field {
                                name: seg.clone(),
                                optional: true,
                                boxed: is_boxed,
                            });
                            ty = *inner;
                        }
                        other => {
                            steps.push(Step::Field {
                                name: seg.clone(),
                                optional: false,
                                boxed: is_boxed,
                            });
                            ty = other;
                        }
                    }
                }
                t @ (Ty::Switch(..) | Ty::Union(..)) => {
                    let (sw, om, ename) = self.w.switch_of(&t)?;
                    let owner_unit = match &t {
                        Ty::Switch(_, u, _) | Ty::Union(_, u) => u.clone(),
                        _ => unreachable!("matched a switch type"),
                    };
                    let Some(arm) = sw
                        .arms
                        .iter()
                        .filter_map(|a| a.body.as_ref())
                        .find(|a| a.name == seg)
                    else {
                        self.err(span, format!("switch `{ename}` has no arm named `{seg}`"));
                        return None;
                    };
                    let at = self.w.arm_ty(om, &owner_unit, arm)?;
                    steps.push(Step::Arm {
                        module: om,
                        boxed: self.boxed.field(om, &ename, &seg),
                        enum_name: ename,
                        variant: seg.clone(),
                    });
                    ty = at;
                }
                other => {
                    self.err(
                        span,
                        format!("cannot select `{seg}` from {}", ty_name(&other)),
                    );
                    return None;
                }
            }
            flatten(&mut steps, &mut ty);
        }
        Some((
            BinderIter::Path {
                root: var.var.clone(),
                root_is_ref: var.is_ref,
                steps,
            },
            ty,
        ))
    }
}

/// The first connection builtin (`$conn`, `$resp_port`, `$is_orig`) an expression uses.
pub(super) fn uses_conn(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Dollar(d) if matches!(d.as_str(), "conn" | "resp_port" | "is_orig") => {
            Some(d.clone())
        }
        ExprKind::Member(b, _) | ExprKind::Unary(_, b) => uses_conn(b),
        ExprKind::Binary(_, a, b) => uses_conn(a).or_else(|| uses_conn(b)),
        ExprKind::Call(_, args) => args.iter().find_map(uses_conn),
        ExprKind::ListComp { key, elem, src, filter, .. } => uses_conn(elem)
            .or_else(|| uses_conn(src))
            .or_else(|| key.as_deref().and_then(uses_conn))
            .or_else(|| filter.as_deref().and_then(uses_conn)),
        _ => None,
    }
}
