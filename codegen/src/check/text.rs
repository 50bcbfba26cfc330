//! The text builtins (`word`, `before`, `drop_prefix`, ...): each calls one
//! function of `netpac_runtime::text`; arguments are checked against its shape.

use super::exprs::{invalid, typed, IrExpr, K};
use super::*;
use crate::ast::{Expr, ExprKind};

impl Checker<'_> {
    /// A text builtin of `netpac_runtime::text`: checks its arguments against the
    /// function's shape (bytes, a one-byte separator literal, a bytes literal, an integer).
    pub(super) fn text_call(&mut self, f: &str, args: &[Expr], span: Span, sc: &Scope) -> IrExpr {
        use crate::ir::{TextArg, TextFn};
        // B: bytes, S: separator literal, L: bytes literal, I: integer.
        let (func, shape, ty) = match f {
            "eq_ci" => (TextFn::EqCi, "BL", ExprTy::Bool),
            "word" => (TextFn::Word, "BSI", ExprTy::Node(Ty::Bytes, false)),
            "words" => (TextFn::Words, "BS", ExprTy::Int),
            "skip_words" => (TextFn::SkipWords, "BSI", ExprTy::Node(Ty::Bytes, false)),
            "join_words" => (TextFn::JoinWords, "BS", ExprTy::Zeek(ZTy::Str)),
            "before" => (TextFn::Before, "BL", ExprTy::Node(Ty::Bytes, false)),
            "after" => (TextFn::After, "BL", ExprTy::Node(Ty::Bytes, false)),
            "before_last" => (TextFn::BeforeLast, "BL", ExprTy::Node(Ty::Bytes, false)),
            "contains" => (TextFn::Contains, "BL", ExprTy::Bool),
            "starts_with" => (TextFn::StartsWith, "BL", ExprTy::Bool),
            "lstrip" => (TextFn::Lstrip, "BL", ExprTy::Node(Ty::Bytes, false)),
            "drop_prefix" => (TextFn::DropPrefix, "BL", ExprTy::Node(Ty::Bytes, false)),
            "drop_suffix" => (TextFn::DropSuffix, "BL", ExprTy::Node(Ty::Bytes, false)),
            "digits" => (TextFn::Digits, "B", ExprTy::Int),
            "dec_before" => (TextFn::DecBefore, "BL", ExprTy::Int),
            "head" => (TextFn::Head, "BI", ExprTy::Node(Ty::Bytes, false)),
            "tail" => (TextFn::Tail, "BI", ExprTy::Node(Ty::Bytes, false)),
            "first_common" => (TextFn::FirstCommon, "BBS", ExprTy::Node(Ty::Bytes, false)),
            _ => unreachable!("`{f}` is a text builtin"),
        };
        if args.len() != shape.len() {
            let what: Vec<&str> = shape
                .chars()
                .map(|c| match c {
                    'B' => "bytes",
                    'S' => "a one-byte separator literal",
                    'L' => "a bytes literal",
                    _ => "an integer",
                })
                .collect();
            self.err(span, format!("`{f}` takes {}", what.join(", ")));
            return invalid();
        }
        let mut out = Vec::new();
        for (c, a) in shape.chars().zip(args) {
            out.push(match (c, &a.kind) {
                ('B', _) => TextArg::Bytes(self.bytes_arg(a, sc)),
                ('S', ExprKind::Bytes(b)) if b.len() == 1 => TextArg::Sep(b[0]),
                ('L', ExprKind::Bytes(b)) => TextArg::Lit(b.clone()),
                ('I', _) => TextArg::Int(self.int(a, sc)),
                ('S', _) => {
                    self.err(
                        a.span,
                        format!("`{f}` takes a one-byte separator literal here (`b\" \"`)"),
                    );
                    return invalid();
                }
                _ => {
                    self.err(a.span, format!("`{f}` takes a bytes literal here"));
                    return invalid();
                }
            });
        }
        typed(K::Text(func, out), ty)
    }
}
