//! Enums, limits and units: declarations, fields in order, framing.

use super::attrs::{find, find_unit, FieldAttr, UnitAttr};
use super::*;
use crate::ast::{Attr, FieldKind, TypeSpec, Unit, UnitBody};
use crate::ident::inner_type_name;
use crate::ir::{
    BitsType, Field, Frame, FrameRead, InlineType, IntRead, LetValue, Local, ParsedField, Presence,
};
use crate::types::{builtin_int, TypeDef};

impl Checker<'_> {
    pub(super) fn check_enums(&mut self) -> Vec<ir::Enum> {
        let mut out = Vec::new();
        for e in &self.module().enums {
            let Some((bits, false, _)) = builtin_int(&e.base) else {
                self.err(
                    e.base_span,
                    format!(
                        "enum base must be an unsigned integer type, not `{}`",
                        e.base
                    ),
                );
                continue;
            };
            let max = if bits >= 64 {
                u64::MAX
            } else {
                (1u64 << bits) - 1
            };
            let mut items = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for (n, v, span) in &e.items {
                if *v > max {
                    self.err(*span, format!("value {v} does not fit in {}", e.base));
                    continue;
                }
                if !seen.insert(n.clone()) {
                    self.err(*span, format!("duplicate enum item `{n}`"));
                    continue;
                }
                items.push((n.clone(), *v));
            }
            out.push(ir::Enum {
                name: e.name.clone(),
                bits,
                items,
            });
        }
        out
    }

    pub(super) fn limits(&self) -> Vec<ir::Limit> {
        self.module()
            .limits
            .iter()
            .map(|l| ir::Limit {
                name: l.name.clone(),
                value: match l.value {
                    ast::LimitValue::Int(v) => ir::LimitValue::Int(v),
                    ast::LimitValue::Bool(b) => ir::LimitValue::Bool(b),
                },
            })
            .collect()
    }

    pub(super) fn check_units(&mut self) -> Vec<ir::Unit> {
        let mut out = Vec::new();
        for u in &self.module().units {
            out.push(self.check_unit(u));
        }
        out
    }

    fn check_unit(&mut self, u: &Unit) -> ir::Unit {
        let mut names = std::collections::HashSet::new();
        for p in &u.params {
            if !names.insert(p.name.clone()) {
                self.err(p.span, format!("duplicate name `{}`", p.name));
            }
            if self.w.param_named(self.m, &p.ty).is_none() {
                self.err(
                    p.span,
                    format!("parameter type `{}` must be an integer, bool, enum or bytes", p.ty),
                );
            }
        }
        for a in &u.attrs {
            if !UnitAttr::is_known(&a.name) {
                self.err(
                    a.span,
                    format!(
                        "unknown unit attribute `&{}` (units take `&size` and `&origin`)",
                        a.name
                    ),
                );
            }
        }
        let is_union = matches!(u.body, UnitBody::Switch(_));
        let self_ty = if is_union {
            Ty::Union(self.m, u.name.clone())
        } else {
            Ty::Unit(self.m, u.name.clone())
        };
        let mut sc = Scope::new(Mode::Parse);
        let mut params = Vec::new();
        for p in &u.params {
            let Some(t) = self.w.param_named(self.m, &p.ty) else {
                continue;
            };
            params.push((p.name.clone(), t.clone()));
            sc.vars.push(Var::named(&p.name, t, false));
        }
        let body = match &u.body {
            UnitBody::Switch(sw) => {
                let ty = self.switch_type(&u.name, "", sw, &self_ty);
                let parse = self.check_switch(&u.name, "", sw, &sc);
                ir::UnitBody::Switch { ty, parse }
            }
            UnitBody::Fields(fields) => {
                let mut out = Vec::new();
                for (i, f) in fields.iter().enumerate() {
                    if f.name != "_" && !names.insert(f.name.clone()) {
                        self.err(f.span, format!("duplicate field `{}`", f.name));
                        continue;
                    }
                    if let Some(field) = self.check_unit_field(u, i, f, &mut sc) {
                        out.push(field);
                    }
                }
                ir::UnitBody::Fields(out)
            }
        };
        let frame = match find_unit(&u.attrs, UnitAttr::Size) {
            Some(a) if !is_union => self.check_frame(u, a),
            _ => None,
        };
        ir::Unit {
            name: u.name.clone(),
            at: format!("{}.{}", self.module().name, u.name),
            borrows: self.w.needs_lt(&self_ty),
            params,
            origin: find_unit(&u.attrs, UnitAttr::Origin).is_some(),
            frame,
            body,
        }
    }

    /// One field of a unit with fields; adds it to the scope of later fields.
    fn check_unit_field(
        &mut self,
        u: &Unit,
        i: usize,
        f: &ast::Field,
        sc: &mut Scope,
    ) -> Option<Field> {
        let local = if f.name == "_" {
            Local::Anon(i)
        } else {
            Local::Named(f.name.clone())
        };
        match &f.kind {
            FieldKind::Let { ty, expr } => {
                let fty = match ty {
                    // A slice of the input the PDU borrows (`before(params, b" ")`).
                    Some((t, _)) if t == "bytes" => Ty::Bytes,
                    Some((t, span)) => match self.w.scalar_named(self.m, t) {
                        Some(t) => t,
                        None => {
                            self.err(
                                *span,
                                format!("`let` type must be an integer, bool or bytes, not `{t}`"),
                            );
                            return None;
                        }
                    },
                    None => self.w.let_infer(expr),
                };
                let value = match &fty {
                    Ty::Bool => LetValue::Bool(self.boolean(expr, sc)),
                    Ty::Bytes => LetValue::Bytes(self.bytes_arg(expr, sc)),
                    Ty::Int {
                        bits: 64,
                        signed: false,
                    } => LetValue::U64(self.int(expr, sc)),
                    _ => LetValue::Narrowed {
                        value: self.int(expr, sc),
                        at: self.at(&u.name, &f.name),
                    },
                };
                sc.vars.push(Var::named(&f.name, fty.clone(), false));
                Some(Field::Let {
                    local,
                    ty: fty,
                    value,
                })
            }
            FieldKind::Typed(TypeSpec::Skip { to, expr }) => {
                // A skip has no value for attributes to constrain or shape.
                if let Some(a) = f.attrs.first() {
                    self.err(
                        a.span,
                        "`skip` takes no attributes (put them on a field that parses a value)",
                    );
                }
                Some(Field::Skip {
                    to: *to,
                    at: self.at(&u.name, &f.name),
                    n: self.int(expr, sc),
                    cond: f.cond.as_ref().map(|c| self.boolean(c, sc)),
                })
            }
            FieldKind::Typed(ts) => {
                let Some(fty) = self.w.spec_ty(self.m, &u.name, &f.name, ts) else {
                    if let TypeSpec::Simple {
                        name, name_span, ..
                    } = ts
                    {
                        self.err(*name_span, format!("unknown type `{name}`"));
                    }
                    return None;
                };
                let inline_type = match ts {
                    TypeSpec::Switch(sw) => Some(InlineType::Switch(
                        self.switch_type(&u.name, &f.name, sw, &fty),
                    )),
                    TypeSpec::Bits { width, members } => Some(InlineType::Bits(BitsType {
                        name: inner_type_name(&u.name, &f.name),
                        width: *width,
                        members: members
                            .iter()
                            .map(|b| (b.name.clone(), b.lo, b.hi))
                            .collect(),
                    })),
                    _ => None,
                };
                let value = self.check_field(&u.name, &f.name, ts, &f.attrs, sc, f.span);
                let recover = find(&f.attrs, FieldAttr::Recover);
                let (presence, stored) = match (&f.cond, recover) {
                    (Some(_), Some(a)) => {
                        self.err(
                            a.span,
                            "`&recover` cannot be combined with a condition `if (...)`",
                        );
                        (Presence::Always, fty)
                    }
                    (None, Some(a)) => {
                        if !a.args.is_empty() || a.value.is_some() {
                            self.err(a.span, "`&recover` takes no arguments");
                        }
                        (
                            Presence::Recover { ty: fty.clone() },
                            Ty::Option(Box::new(fty)),
                        )
                    }
                    (Some(c), None) => {
                        (Presence::If(self.boolean(c, sc)), Ty::Option(Box::new(fty)))
                    }
                    (None, None) => (Presence::Always, fty),
                };
                let kept = f.name != "_";
                if kept {
                    sc.vars.push(Var::named(&f.name, stored.clone(), false));
                }
                Some(Field::Parsed(ParsedField {
                    local,
                    stored: kept.then_some(stored),
                    inline_type,
                    value,
                    presence,
                    boxed: kept && self.boxed.field(self.m, &u.name, &f.name),
                }))
            }
        }
    }

    /// `frame_len` for a unit with `&size = expr` over its leading fixed-size fields.
    fn check_frame(&mut self, u: &Unit, a: &Attr) -> Option<Frame> {
        let size = self.attr_expr(a).cloned()?;
        let UnitBody::Fields(fields) = &u.body else {
            return None;
        };
        let mut sc = Scope::new(Mode::Parse);
        // The unit's parameters (the connection's state) and direction may decide
        // the size: framing by phase (RFB's messages by the handshake state).
        let mut param_names = Vec::new();
        for p in &u.params {
            if let Some(t) = self.w.param_named(self.m, &p.ty) {
                if matches!(t, Ty::Int { .. } | Ty::Bool) {
                    sc.vars.push(Var::named(&p.name, t.clone(), false));
                    param_names.push(p.name.clone());
                }
            }
        }
        let contextual = size.mentions(&|k| match k {
            crate::ast::ExprKind::Path(p) => param_names.contains(p),
            crate::ast::ExprKind::Dollar(d) => d == "is_orig" || d == "resp_port",
            _ => false,
        });
        let mut reads = Vec::new();
        let mut prefix = 0usize;
        for f in fields {
            let FieldKind::Typed(TypeSpec::Simple {
                name, array: None, ..
            }) = &f.kind
            else {
                break;
            };
            if !f.attrs.is_empty() || f.cond.is_some() {
                break;
            }
            let (bits, signed, suffix, ty) = if let Some((b, s, o)) = builtin_int(name) {
                (b, s, o, Ty::Int { bits: b, signed: s })
            } else if let Some(TypeDef::Enum(m, e)) = self.w.lookup(self.m, name) {
                let Some((b, _, _)) = builtin_int(&e.base) else {
                    break;
                };
                (b, false, None, Ty::Enum(m, e.name.clone()))
            } else {
                break;
            };
            reads.push(FrameRead {
                name: f.name.clone(),
                at: self.at(&u.name, &f.name),
                int: IntRead {
                    bits,
                    signed,
                    order: suffix.unwrap_or(self.order()),
                },
                enum_ty: match &ty {
                    Ty::Enum(m, n) => Some((*m, n.clone())),
                    _ => None,
                },
            });
            sc.vars.push(Var::named(&f.name, ty, false));
            prefix += bits as usize / 8;
        }
        let before = self.diags.len();
        let n = self.int(&size, &sc);
        if self.diags.len() > before {
            self.diags.truncate(before);
            self.err(size.span, "a unit's `&size` may only use its leading fixed-size integer fields, its integer and bool parameters and `$is_orig` (it frames the stream)");
            return None;
        }
        Some(Frame {
            reads,
            prefix,
            at: u.name.clone(),
            size: n,
            contextual,
        })
    }
}
