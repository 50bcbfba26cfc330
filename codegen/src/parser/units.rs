//! Units: fields, their types, switches, attributes and enums.

use super::*;

pub(super) fn enum_decl(cx: &Cx, p: P<'_>) -> Result<EnumDecl, Diagnostic> {
    let span = cx.span(&p);
    let mut it = p.into_inner();
    let name = it.next().unwrap().as_str().to_string();
    let base = it.next().unwrap();
    let base_span = cx.span(&base);
    let mut items = Vec::new();
    for e in it {
        let s = cx.span(&e);
        let mut parts = e.into_inner();
        let n = parts.next().unwrap().as_str().to_string();
        let v = int_value(cx, &parts.next().unwrap())?;
        items.push((n, v, s));
    }
    Ok(EnumDecl {
        name,
        base: base.as_str().to_string(),
        base_span,
        items,
        span,
    })
}

pub(super) fn unit_decl(cx: &Cx, p: P<'_>) -> Result<Unit, Diagnostic> {
    let span = cx.span(&p);
    let mut it = p.into_inner();
    let name = it.next().unwrap().as_str().to_string();
    let mut params = Vec::new();
    let mut attrs = Vec::new();
    let mut body = None;
    for part in it {
        match part.as_rule() {
            Rule::params => params = params_of(cx, part),
            Rule::attr => attrs.push(attr(cx, part)?),
            Rule::unit_body => {
                let mut fields = Vec::new();
                for f in part.into_inner() {
                    fields.push(field(cx, f)?);
                }
                body = Some(UnitBody::Fields(fields));
            }
            Rule::switch_type => body = Some(UnitBody::Switch(switch(cx, part)?)),
            r => unreachable!("unit part {r:?}"),
        }
    }
    Ok(Unit {
        name,
        params,
        attrs,
        body: body.unwrap(),
        span,
    })
}

fn field(cx: &Cx, p: P<'_>) -> Result<Field, Diagnostic> {
    let span = cx.span(&p);
    match p.as_rule() {
        Rule::let_field => {
            let mut it = p.into_inner();
            let name = it.next().unwrap().as_str().to_string();
            let mut next = it.next().unwrap();
            let mut ty = None;
            if next.as_rule() == Rule::name {
                ty = Some((next.as_str().to_string(), cx.span(&next)));
                next = it.next().unwrap();
            }
            Ok(Field {
                name,
                kind: FieldKind::Let {
                    ty,
                    expr: expr(cx, next)?,
                },
                attrs: vec![],
                cond: None,
                span,
            })
        }
        _ => {
            let mut it = p.into_inner();
            let name = it.next().unwrap().as_str().to_string();
            let ty = type_spec(cx, it.next().unwrap())?;
            let mut attrs = Vec::new();
            let mut cond = None;
            for rest in it {
                match rest.as_rule() {
                    Rule::attr => attrs.push(attr(cx, rest)?),
                    Rule::cond => cond = Some(expr(cx, rest.into_inner().next().unwrap())?),
                    r => unreachable!("field part {r:?}"),
                }
            }
            Ok(Field {
                name,
                kind: FieldKind::Typed(ty),
                attrs,
                cond,
                span,
            })
        }
    }
}

fn type_spec(cx: &Cx, p: P<'_>) -> Result<TypeSpec, Diagnostic> {
    let inner = p.into_inner().next().unwrap();
    match inner.as_rule() {
        Rule::switch_type => Ok(TypeSpec::Switch(switch(cx, inner)?)),
        Rule::skip_type => {
            let mut it = inner.into_inner();
            let _kw = it.next();
            let e = it.next().unwrap();
            if e.as_rule() == Rule::skip_to {
                let x = e.into_inner().nth(1).unwrap();
                Ok(TypeSpec::Skip {
                    to: true,
                    expr: expr(cx, x)?,
                })
            } else {
                Ok(TypeSpec::Skip {
                    to: false,
                    expr: expr(cx, e)?,
                })
            }
        }
        Rule::bits_type => {
            let mut it = inner.into_inner();
            let kw = it.next().unwrap();
            let width: u8 = kw.as_str()[4..].parse().unwrap_or(8);
            let mut members = Vec::new();
            for m in it {
                let span = cx.span(&m);
                let mut parts = m.into_inner();
                let name = parts.next().unwrap().as_str().to_string();
                let lo_p = parts.next().unwrap();
                let lo = int_value(cx, &lo_p)?;
                let hi = match parts.next() {
                    Some(h) => int_value(cx, &h)?,
                    None => lo,
                };
                if lo > hi || hi >= width as u64 {
                    return Err(Diagnostic::new(
                        span,
                        format!("bit range {lo}..{hi} does not fit in bits{width}"),
                    ));
                }
                members.push(BitMember {
                    name,
                    lo: lo as u8,
                    hi: hi as u8,
                    span,
                });
            }
            Ok(TypeSpec::Bits { width, members })
        }
        Rule::simple_type => {
            let mut it = inner.into_inner();
            let n = it.next().unwrap();
            let name_span = cx.span(&n);
            let name = n.as_str().to_string();
            let mut args = Vec::new();
            let mut array = None;
            for part in it {
                match part.as_rule() {
                    Rule::call_args => {
                        for a in part.into_inner() {
                            args.push(expr(cx, a)?);
                        }
                    }
                    Rule::array_suffix => {
                        array = Some(match part.into_inner().next() {
                            Some(e) => Some(expr(cx, e)?),
                            None => None,
                        })
                    }
                    r => unreachable!("type part {r:?}"),
                }
            }
            Ok(TypeSpec::Simple {
                name,
                name_span,
                args,
                array,
            })
        }
        r => unreachable!("type {r:?}"),
    }
}

fn switch(cx: &Cx, p: P<'_>) -> Result<Switch, Diagnostic> {
    let span = cx.span(&p);
    let mut it = p.into_inner();
    let scrutinee = expr(cx, it.next().unwrap())?;
    let mut arms = Vec::new();
    for a in it {
        let aspan = cx.span(&a);
        let mut parts = a.into_inner();
        let pats_p = parts.next().unwrap();
        let pats = match pats_p.clone().into_inner().next() {
            Some(first) if first.as_rule() == Rule::default_pat => None,
            _ => Some(
                pats_p
                    .into_inner()
                    .map(|e| expr(cx, e))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        let body_p = parts.next().unwrap();
        let body = if body_p.as_rule() == Rule::empty_arm {
            None
        } else {
            let fspan = cx.span(&body_p);
            let mut bi = body_p.into_inner();
            let name = bi.next().unwrap().as_str().to_string();
            let ty = type_spec(cx, bi.next().unwrap())?;
            let attrs = bi.map(|a| attr(cx, a)).collect::<Result<Vec<_>, _>>()?;
            Some(ArmField {
                name,
                ty,
                attrs,
                span: fspan,
            })
        };
        arms.push(Arm {
            pats,
            body,
            span: aspan,
        });
    }
    Ok(Switch {
        scrutinee,
        arms,
        span,
    })
}

pub(super) fn attr(cx: &Cx, p: P<'_>) -> Result<Attr, Diagnostic> {
    let span = cx.span(&p);
    let mut it = p.into_inner();
    let name = it.next().unwrap().as_str().to_string();
    let mut value = None;
    let mut args = Vec::new();
    for part in it {
        match part.as_rule() {
            Rule::expr => value = Some(expr(cx, part)?),
            Rule::attr_arg => {
                let aspan = cx.span(&part);
                let a = part.into_inner().next().unwrap();
                if a.as_rule() == Rule::named_arg {
                    let mut ni = a.into_inner();
                    let n = ni.next().unwrap().as_str().to_string();
                    args.push(AttrArg {
                        name: Some(n),
                        expr: expr(cx, ni.next().unwrap())?,
                        span: aspan,
                    });
                } else {
                    args.push(AttrArg {
                        name: None,
                        expr: expr(cx, a)?,
                        span: aspan,
                    });
                }
            }
            r => unreachable!("attr part {r:?}"),
        }
    }
    Ok(Attr {
        name,
        value,
        args,
        span,
    })
}
