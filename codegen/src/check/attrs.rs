//! Attributes: the names a field or unit accepts, and reading their values.

use super::*;
use crate::ast::{Attr, AttrArg, Expr, ExprKind};
use crate::ir::Action;

/// The attributes a field (or switch arm) accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum FieldAttr {
    Size,
    MaxSize,
    Prefix,
    Eod,
    Until,
    UntilIncl,
    OrEod,
    Requires,
    Trailing,
    Partial,
    OnError,
    Recover,
    ByteOrder,
    Weird,
    WhileIn,
    WhileNotIn,
    At,
}

impl FieldAttr {
    const ALL: [FieldAttr; 17] = [
        FieldAttr::Size,
        FieldAttr::MaxSize,
        FieldAttr::Prefix,
        FieldAttr::Eod,
        FieldAttr::Until,
        FieldAttr::UntilIncl,
        FieldAttr::OrEod,
        FieldAttr::Requires,
        FieldAttr::Trailing,
        FieldAttr::Partial,
        FieldAttr::OnError,
        FieldAttr::Recover,
        FieldAttr::ByteOrder,
        FieldAttr::Weird,
        FieldAttr::WhileIn,
        FieldAttr::WhileNotIn,
        FieldAttr::At,
    ];

    /// The name after `&` in a grammar.
    pub(super) fn name(self) -> &'static str {
        match self {
            FieldAttr::At => "at",
            FieldAttr::Size => "size",
            FieldAttr::MaxSize => "max_size",
            FieldAttr::Prefix => "prefix",
            FieldAttr::Eod => "eod",
            FieldAttr::Until => "until",
            FieldAttr::UntilIncl => "until_incl",
            FieldAttr::OrEod => "or_eod",
            FieldAttr::Requires => "requires",
            FieldAttr::Trailing => "trailing",
            FieldAttr::Partial => "partial",
            FieldAttr::OnError => "on_error",
            FieldAttr::Recover => "recover",
            FieldAttr::ByteOrder => "byteorder",
            FieldAttr::Weird => "weird",
            FieldAttr::WhileIn => "while_in",
            FieldAttr::WhileNotIn => "while_not_in",
        }
    }

    pub(super) fn is_known(name: &str) -> bool {
        FieldAttr::ALL.iter().any(|a| a.name() == name)
    }
}

/// The attributes a unit accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum UnitAttr {
    Size,
    Origin,
}

impl UnitAttr {
    pub(super) fn name(self) -> &'static str {
        match self {
            UnitAttr::Size => "size",
            UnitAttr::Origin => "origin",
        }
    }

    pub(super) fn is_known(name: &str) -> bool {
        [UnitAttr::Size, UnitAttr::Origin]
            .iter()
            .any(|a| a.name() == name)
    }
}

/// The first field attribute of that kind.
pub(super) fn find(attrs: &[Attr], which: FieldAttr) -> Option<&Attr> {
    attrs.iter().find(|a| a.name == which.name())
}

/// Every field attribute of that kind, in order.
pub(super) fn find_all(attrs: &[Attr], which: FieldAttr) -> impl Iterator<Item = &Attr> {
    attrs.iter().filter(move |a| a.name == which.name())
}

pub(super) fn has(attrs: &[Attr], which: FieldAttr) -> bool {
    find(attrs, which).is_some()
}

/// The first unit attribute of that kind.
pub(super) fn find_unit(attrs: &[Attr], which: UnitAttr) -> Option<&Attr> {
    attrs.iter().find(|a| a.name == which.name())
}

/// `&name(key = "text")`: the string literal of the named argument `key`.
pub(super) fn named_str(a: &Attr, key: &str) -> Option<String> {
    a.args
        .iter()
        .find(|x| x.name.as_deref() == Some(key))
        .and_then(|x| match &x.expr.kind {
            ExprKind::Str(s) => Some(s.clone()),
            _ => None,
        })
}

impl Checker<'_> {
    /// The value of `&name = e` or `&name(e, ...)`.
    pub(super) fn attr_expr<'a>(&mut self, a: &'a Attr) -> Option<&'a Expr> {
        if let Some(v) = &a.value {
            return Some(v);
        }
        match a.args.first() {
            Some(AttrArg {
                name: None, expr, ..
            }) => Some(expr),
            _ => {
                self.err(a.span, format!("`&{}` needs a value", a.name));
                None
            }
        }
    }

    /// A field's byte order: the type's suffix, else `&byteorder`, else the module's.
    pub(super) fn field_order(&mut self, attrs: &[Attr], suffix: Option<Order>) -> Order {
        if let Some(o) = suffix {
            return o;
        }
        if let Some(a) = find(attrs, FieldAttr::ByteOrder) {
            if let Some(ExprKind::Path(p)) = a.value.as_ref().map(|e| &e.kind) {
                match p.as_str() {
                    "big" => return Order::Big,
                    "little" => return Order::Little,
                    _ => {}
                }
            }
            self.err(a.span, "`&byteorder` must be `big` or `little`");
        }
        self.order()
    }

    /// The action of `&requires(cond, action = "name")`.
    pub(super) fn requires_action(&mut self, a: &Attr) -> Option<Action> {
        let named: Vec<&AttrArg> = a
            .args
            .iter()
            .filter(|x| x.name.is_some() && x.name.as_deref() != Some("addl"))
            .collect();
        if named.len() != 1 {
            self.err(a.span, "`&requires` needs exactly one of `weird`, `net_weird`, `error`, `violation`, `halt`, `report`, `skip` or `ignore` = \"name\" (and optionally `addl = value`)");
            return None;
        }
        let key = named[0].name.clone().unwrap_or_default();
        let Some(n) = named_str(a, &key) else {
            self.err(
                named[0].span,
                "the weird / violation name must be a string literal",
            );
            return None;
        };
        match key.as_str() {
            "weird" => Some(Action::Weird(n)),
            "net_weird" => Some(Action::NetWeird(n)),
            "violation" => Some(Action::Violation(n)),
            "error" => Some(Action::Error(n)),
            "halt" => Some(Action::Halt(n)),
            "ignore" => Some(Action::Ignore(n)),
            "report" => Some(Action::Report(n)),
            "skip" => Some(Action::Skip(n)),
            other => {
                self.err(
                    named[0].span,
                    format!(
                        "unknown action `{other}` (use weird, net_weird, error, violation, halt, report, skip or ignore)"
                    ),
                );
                None
            }
        }
    }

    /// A weird's `addl`: an integer (printed in decimal) or bytes (the text).
    pub(super) fn addl(&mut self, e: &Expr, sc: &Scope) -> Option<crate::ir::Expr> {
        // `format("..: {}\n", x)`: a text made of the PDU's values (while parsing too).
        if let ExprKind::Call(f, args) = &e.kind {
            if f == "format" {
                let x = self.format_call(args, e.span, sc);
                return (!matches!(x.ty, ExprTy::Unknown)).then_some(x);
            }
        }
        let x = self.expr(e, sc);
        match x.ty {
            ExprTy::Node(Ty::Bytes, _) | ExprTy::BytesLit => Some(x),
            ExprTy::Unknown => None,
            ExprTy::Int | ExprTy::Node(Ty::Int { .. } | Ty::Enum(..), _) => Some(self.int(e, sc)),
            _ => {
                self.err(e.span, "a weird's `addl` is an integer or bytes");
                None
            }
        }
    }
}
