//! Expressions: operators by precedence (pest's Pratt parser), literals, calls.

use super::*;
use pest::pratt_parser::{Assoc, Op, PrattParser};
use std::sync::OnceLock;

fn pratt() -> &'static PrattParser<Rule> {
    static P: OnceLock<PrattParser<Rule>> = OnceLock::new();
    P.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::or_op, Assoc::Left))
            .op(Op::infix(Rule::and_op, Assoc::Left))
            .op(Op::infix(Rule::eq_op, Assoc::Left)
                | Op::infix(Rule::ne_op, Assoc::Left)
                | Op::infix(Rule::lt_op, Assoc::Left)
                | Op::infix(Rule::le_op, Assoc::Left)
                | Op::infix(Rule::gt_op, Assoc::Left)
                | Op::infix(Rule::ge_op, Assoc::Left))
            .op(Op::infix(Rule::bor_op, Assoc::Left))
            .op(Op::infix(Rule::xor_op, Assoc::Left))
            .op(Op::infix(Rule::band_op, Assoc::Left))
            .op(Op::infix(Rule::shl_op, Assoc::Left) | Op::infix(Rule::shr_op, Assoc::Left))
            .op(Op::infix(Rule::add_op, Assoc::Left) | Op::infix(Rule::sub_op, Assoc::Left))
            .op(Op::infix(Rule::mul_op, Assoc::Left)
                | Op::infix(Rule::div_op, Assoc::Left)
                | Op::infix(Rule::rem_op, Assoc::Left))
            .op(Op::prefix(Rule::not_op) | Op::prefix(Rule::neg_op))
            .op(Op::postfix(Rule::member) | Op::postfix(Rule::index))
    })
}

fn unescape(cx: &Cx, p: &P<'_>, body: &str) -> Result<Vec<u8>, Diagnostic> {
    let mut out = Vec::new();
    let b = body.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            i += 1;
            match b[i] {
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'0' => out.push(0),
                b'x' if i + 2 < b.len() => {
                    let h = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                    let v = u8::from_str_radix(h, 16).map_err(|_| {
                        Diagnostic::new(cx.span(p), "bad \\x escape (two hex digits expected)")
                    })?;
                    out.push(v);
                    i += 2;
                }
                c => out.push(c),
            }
        } else {
            out.push(b[i]);
        }
        i += 1;
    }
    Ok(out)
}

pub(super) fn expr(cx: &Cx, p: P<'_>) -> Result<Expr, Diagnostic> {
    let span = cx.span(&p);
    let pairs = p.into_inner();
    expr_pairs(cx, pairs, span)
}

fn expr_pairs(cx: &Cx, pairs: Pairs<'_, Rule>, _span: Span) -> Result<Expr, Diagnostic> {
    pratt()
        .map_primary(|prim| primary(cx, prim))
        .map_prefix(|op, rhs| {
            let rhs = rhs?;
            let span = Span {
                file: cx.file,
                start: op.as_span().start() as u32,
                end: rhs.span.end,
            };
            let o = if op.as_rule() == Rule::not_op {
                UnOp::Not
            } else {
                UnOp::Neg
            };
            Ok(Expr {
                kind: ExprKind::Unary(o, Box::new(rhs)),
                span,
            })
        })
        .map_postfix(|lhs, op| {
            let lhs = lhs?;
            let end = op.as_span().end() as u32;
            let span = Span {
                file: cx.file,
                start: lhs.span.start,
                end,
            };
            let is_index = op.as_rule() == Rule::index;
            let m = op.into_inner().next().unwrap();
            let kind = if is_index {
                ExprKind::Index(Box::new(lhs), Box::new(expr(cx, m)?))
            } else {
                ExprKind::Member(Box::new(lhs), m.as_str().to_string())
            };
            Ok(Expr { kind, span })
        })
        .map_infix(|lhs, op, rhs| {
            let (lhs, rhs) = (lhs?, rhs?);
            let o = match op.as_rule() {
                Rule::or_op => BinOp::Or,
                Rule::and_op => BinOp::And,
                Rule::eq_op => BinOp::Eq,
                Rule::ne_op => BinOp::Ne,
                Rule::lt_op => BinOp::Lt,
                Rule::le_op => BinOp::Le,
                Rule::gt_op => BinOp::Gt,
                Rule::ge_op => BinOp::Ge,
                Rule::bor_op => BinOp::BitOr,
                Rule::xor_op => BinOp::BitXor,
                Rule::band_op => BinOp::BitAnd,
                Rule::shl_op => BinOp::Shl,
                Rule::shr_op => BinOp::Shr,
                Rule::add_op => BinOp::Add,
                Rule::sub_op => BinOp::Sub,
                Rule::mul_op => BinOp::Mul,
                Rule::div_op => BinOp::Div,
                _ => BinOp::Rem,
            };
            let span = Span {
                file: cx.file,
                start: lhs.span.start,
                end: rhs.span.end,
            };
            Ok(Expr {
                kind: ExprKind::Binary(o, Box::new(lhs), Box::new(rhs)),
                span,
            })
        })
        .parse(pairs)
}

fn primary(cx: &Cx, p: P<'_>) -> Result<Expr, Diagnostic> {
    let span = cx.span(&p);
    let kind = match p.as_rule() {
        Rule::paren => return expr(cx, p.into_inner().next().unwrap()),
        Rule::int_lit => ExprKind::Int(int_value(cx, &p)?),
        Rule::bool_lit => ExprKind::Bool(p.as_str() == "true"),
        Rule::str_lit => {
            let s = p.as_str();
            let bytes = unescape(cx, &p, &s[1..s.len() - 1])?;
            ExprKind::Str(String::from_utf8_lossy(&bytes).into_owned())
        }
        Rule::bytes_lit => {
            let s = p.as_str();
            ExprKind::Bytes(unescape(cx, &p, &s[2..s.len() - 1])?)
        }
        Rule::dollar => {
            let s = p.as_str();
            ExprKind::Dollar(if s == "$$" {
                "$".into()
            } else {
                s[1..].to_string()
            })
        }
        Rule::path_ref => ExprKind::Path(p.as_str().to_string()),
        Rule::call => {
            let mut it = p.into_inner();
            let f = it.next().unwrap().as_str().to_string();
            let args = it.map(|a| expr(cx, a)).collect::<Result<Vec<_>, _>>()?;
            ExprKind::Call(f, args)
        }
        Rule::list_comp => {
            let mut it = p.into_inner().peekable();
            let first = expr(cx, it.next().unwrap())?;
            // `[k => v for ...]`: the first expression is the key.
            let (key, elem) = if it.peek().map(|n| n.as_rule()) == Some(Rule::table_arrow) {
                it.next();
                (Some(Box::new(first)), expr(cx, it.next().unwrap())?)
            } else {
                (None, first)
            };
            let first = it.next().unwrap();
            let next = it.next().unwrap();
            // `for i, x in src`: two names before the source.
            let (index, var, src) = if next.as_rule() == Rule::name {
                let src = it.next().unwrap();
                (
                    Some(first.as_str().to_string()),
                    next.as_str().to_string(),
                    src,
                )
            } else {
                (None, first.as_str().to_string(), next)
            };
            let src = expr(cx, src)?;
            let filter = match it.next() {
                Some(w) => Some(Box::new(expr(cx, w.into_inner().next().unwrap())?)),
                None => None,
            };
            ExprKind::ListComp {
                key,
                elem: Box::new(elem),
                index,
                var,
                src: Box::new(src),
                filter,
            }
        }
        r => unreachable!("primary {r:?}"),
    };
    Ok(Expr { kind, span })
}
