//! Source text → [`Module`] (pest grammar in `npac.pest`).

use crate::ast::*;
use crate::diag::{Diagnostic, Span};
use pest::iterators::{Pair, Pairs};
use pest::Parser;

mod exprs;
mod units;
use exprs::*;
use units::*;

#[derive(pest_derive::Parser)]
#[grammar = "npac.pest"]
struct NpacParser;

type P<'i> = Pair<'i, Rule>;

struct Cx {
    file: u32,
}

impl Cx {
    fn span(&self, p: &P<'_>) -> Span {
        let s = p.as_span();
        Span {
            file: self.file,
            start: s.start() as u32,
            end: s.end() as u32,
        }
    }
}

fn rule_name(r: &Rule) -> String {
    match r {
        Rule::EOI => "end of file".into(),
        Rule::name | Rule::ident | Rule::path_name => "a name".into(),
        Rule::int_lit => "a number".into(),
        Rule::expr => "an expression".into(),
        Rule::ftype => "a type".into(),
        Rule::attr => "an attribute (`&...`)".into(),
        Rule::cond => "`if (...)`".into(),
        Rule::item | Rule::module_decl | Rule::unit_decl | Rule::event_decl => {
            "a declaration".into()
        }
        other => format!("{other:?}").replace("_op", "").replace('_', " "),
    }
}

/// Parses one source file into `module` (declarations are appended).
pub fn parse_file(text: &str, file: u32, module: &mut Module) -> Result<(), Diagnostic> {
    let cx = Cx { file };
    let mut pairs = NpacParser::parse(Rule::file, text).map_err(|e| {
        let (start, end) = match e.location {
            pest::error::InputLocation::Pos(p) => (p, p + 1),
            pest::error::InputLocation::Span((s, e)) => (s, e),
        };
        let msg = match &e.variant {
            pest::error::ErrorVariant::ParsingError { positives, .. } => {
                let mut names: Vec<String> = positives.iter().map(rule_name).collect();
                names.sort();
                names.dedup();
                if names.is_empty() {
                    "syntax error".to_string()
                } else {
                    format!("syntax error: expected {}", names.join(" or "))
                }
            }
            pest::error::ErrorVariant::CustomError { message } => message.clone(),
        };
        let end = end.min(text.len()).max(start);
        Diagnostic::new(
            Span {
                file,
                start: start as u32,
                end: end as u32,
            },
            msg,
        )
    })?;
    let file_pair = pairs.next().expect("pest returns the file rule");
    module.files.push(file);
    for item in file_pair.into_inner() {
        match item.as_rule() {
            Rule::module_decl => {
                let n = item.into_inner().next().unwrap();
                module.name_span = cx.span(&n);
                module.name = n.as_str().to_string();
            }
            Rule::byteorder_decl => {
                let o = item.into_inner().next().unwrap();
                module.byteorder = Some(if o.as_str() == "big" {
                    Order::Big
                } else {
                    Order::Little
                });
            }
            Rule::import_decl => {
                let n = item.into_inner().next().unwrap();
                module.imports.push((n.as_str().to_string(), cx.span(&n)));
            }
            Rule::limits_decl => {
                for li in item.into_inner() {
                    let span = cx.span(&li);
                    let mut it = li.into_inner();
                    let name = it.next().unwrap().as_str().to_string();
                    let v = it.next().unwrap();
                    let value = if v.as_rule() == Rule::bool_lit {
                        LimitValue::Bool(v.as_str() == "true")
                    } else {
                        LimitValue::Int(int_value(&cx, &v)?)
                    };
                    module.limits.push(Limit { name, value, span });
                }
            }
            Rule::enum_decl => module.enums.push(enum_decl(&cx, item)?),
            Rule::extern_unit => {
                let span = cx.span(&item);
                let mut it = item.into_inner();
                let name = it.next().unwrap().as_str().to_string();
                let mut params = Vec::new();
                let mut next = it.next().unwrap();
                if next.as_rule() == Rule::params {
                    params = params_of(&cx, next);
                    next = it.next().unwrap();
                }
                module.extern_units.push(ExternUnit {
                    name,
                    params,
                    path: next.as_str().to_string(),
                    span,
                });
            }
            Rule::extern_fn => {
                let span = cx.span(&item);
                let mut it = item.into_inner().peekable();
                let name = it.next().unwrap().as_str().to_string();
                let mut params = Vec::new();
                while it.peek().map(|p| p.as_rule()) == Some(Rule::param) {
                    params.push(param_of(&cx, it.next().unwrap()));
                }
                let ret = it.next().unwrap();
                let ret_span = cx.span(&ret);
                let path = it.next().unwrap().as_str().to_string();
                module.extern_fns.push(ExternFn {
                    name,
                    params,
                    ret: ret.as_str().to_string(),
                    ret_span,
                    path,
                    span,
                });
            }
            Rule::unit_decl => module.units.push(unit_decl(&cx, item)?),
            Rule::analyzer_decl => {
                let span = cx.span(&item);
                let mut it = item.into_inner();
                let name = it.next().unwrap().as_str().to_string();
                let mut items = Vec::new();
                let mut signatures = Vec::new();
                let mut flips = Vec::new();
                let mut expires = Vec::new();
                let mut confirm_never = false;
                let mut confirm_on = Vec::new();
                let mut states = Vec::new();
                let mut sets = Vec::new();
                let mut raws = Vec::new();
                let mut sinks = Vec::new();
                let mut decaps = Vec::new();
                let mut ends = Vec::new();
                let mut weird_sources = Vec::new();
                for ai in it {
                    let span = cx.span(&ai);
                    if ai.as_rule() == Rule::weird_from_item {
                        let lits: Vec<String> = ai
                            .into_inner()
                            .map(|p| {
                                let s = p.as_str();
                                s[1..s.len() - 1].to_string()
                            })
                            .collect();
                        if let Some((source, names)) = lits.split_last() {
                            for n in names {
                                weird_sources.push((n.clone(), source.clone(), span));
                            }
                        }
                        continue;
                    }
                    if ai.as_rule() == Rule::decap_item {
                        let mut parts = ai.into_inner().peekable();
                        let head = on_binders(&cx, &mut parts)?;
                        let var = parts.next().unwrap();
                        let var = (var.as_str().to_string(), cx.span(&var));
                        let value = expr(&cx, parts.next().unwrap())?;
                        let cond = parts.next().map(|c| expr(&cx, c)).transpose()?;
                        decaps.push(on_item(head, SetOp::Set, var, value, cond, span));
                        continue;
                    }
                    if ai.as_rule() == Rule::end_item {
                        let mut parts = ai.into_inner();
                        let eof = parts.next().unwrap().as_str() == "eof";
                        let unit = parts.next().unwrap();
                        let unit = (unit.as_str().to_string(), cx.span(&unit));
                        let args = parts.next().map(|p| state_arg_names(&cx, p)).unwrap_or_default();
                        ends.push(EndDecl { eof, unit, args, span });
                        continue;
                    }
                    if ai.as_rule() == Rule::sink_item {
                        let mut parts = ai.into_inner();
                        let name = parts.next().unwrap().as_str().to_string();
                        let unit = parts.next().unwrap();
                        let unit = (unit.as_str().to_string(), cx.span(&unit));
                        let mut args = Vec::new();
                        let mut attrs = Vec::new();
                        for p in parts {
                            if p.as_rule() == Rule::state_args {
                                args = state_arg_names(&cx, p);
                            } else {
                                attrs.push(attr(&cx, p)?);
                            }
                        }
                        sinks.push(SinkDecl {
                            name,
                            unit,
                            args,
                            attrs,
                            span,
                        });
                        continue;
                    }
                    if ai.as_rule() == Rule::forward_item {
                        let mut parts = ai.into_inner().peekable();
                        let head = on_binders(&cx, &mut parts)?;
                        // `forward SSL = ...`: a child analyzer's tag.
                        let mut var = (String::new(), span);
                        if parts.peek().is_some_and(|p| p.as_rule() == Rule::forward_tag) {
                            let t = parts.next().unwrap();
                            var = (t.as_str().trim().to_string(), cx.span(&t));
                        }
                        let value = expr(&cx, parts.next().unwrap())?;
                        // `after events`: handed over after the PDU's events.
                        let after_events = parts.peek().is_some_and(|p| p.as_rule() == Rule::after_events);
                        if after_events {
                            parts.next();
                        }
                        let cond = parts.next().map(|c| expr(&cx, c)).transpose()?;
                        let mut item = on_item(head, SetOp::Forward, var, value, cond, span);
                        item.after_events = after_events;
                        sets.push(item);
                        continue;
                    }
                    if ai.as_rule() == Rule::feed_item {
                        sets.push(update_item(&cx, ai, SetOp::Feed, span)?);
                        continue;
                    }
                    if ai.as_rule() == Rule::state_item {
                        let mut parts = ai.into_inner();
                        let name = parts.next().unwrap().as_str().to_string();
                        let ty = parts.next().unwrap();
                        let ty = (ty.as_str().to_string(), cx.span(&ty));
                        let init = int_value(&cx, &parts.next().unwrap())?;
                        states.push(StateDecl {
                            name,
                            ty,
                            init,
                            queue: None,
                            bytes: None,
                            span,
                        });
                        continue;
                    }
                    if ai.as_rule() == Rule::bytes_state_item {
                        let mut parts = ai.into_inner();
                        let name = parts.next().unwrap().as_str().to_string();
                        let cap = int_value(&cx, &parts.next().unwrap())?;
                        states.push(StateDecl {
                            name,
                            ty: ("bytes".to_string(), span),
                            init: 0,
                            queue: None,
                            bytes: Some(cap),
                            span,
                        });
                        continue;
                    }
                    if ai.as_rule() == Rule::queue_item {
                        let mut parts = ai.into_inner();
                        let name = parts.next().unwrap().as_str().to_string();
                        let cap = int_value(&cx, &parts.next().unwrap())?;
                        let mut attrs = Vec::new();
                        for p in parts {
                            attrs.push(attr(&cx, p)?);
                        }
                        states.push(StateDecl {
                            name,
                            ty: ("queue".to_string(), span),
                            init: 0,
                            queue: Some((cap, attrs)),
                            bytes: None,
                            span,
                        });
                        continue;
                    }
                    if ai.as_rule() == Rule::reset_item {
                        let mut parts = ai.into_inner().peekable();
                        let head = on_binders(&cx, &mut parts)?;
                        let var = parts.next().unwrap();
                        let var = (var.as_str().to_string(), cx.span(&var));
                        let cond = parts.next().map(|c| expr(&cx, c)).transpose()?;
                        sets.push(on_item(head, SetOp::Reset, var, no_value(span), cond, span));
                        continue;
                    }
                    if matches!(ai.as_rule(), Rule::push_item | Rule::pop_item | Rule::close_item) {
                        let op = match ai.as_rule() {
                            Rule::push_item => SetOp::Push,
                            Rule::pop_item => SetOp::Pop,
                            _ => SetOp::Close,
                        };
                        let mut parts = ai.into_inner().peekable();
                        let head = on_binders(&cx, &mut parts)?;
                        let var = parts.next().unwrap();
                        let var = (var.as_str().to_string(), cx.span(&var));
                        let mut exprs = Vec::new();
                        for p in parts {
                            exprs.push(expr(&cx, p)?);
                        }
                        let mut exprs = exprs.into_iter();
                        let value = if op == SetOp::Push {
                            exprs.next().unwrap()
                        } else {
                            no_value(span)
                        };
                        sets.push(on_item(head, op, var, value, exprs.next(), span));
                        continue;
                    }
                    if ai.as_rule() == Rule::set_item {
                        sets.push(update_item(&cx, ai, SetOp::Set, span)?);
                        continue;
                    }
                    if ai.as_rule() == Rule::append_item {
                        sets.push(update_item(&cx, ai, SetOp::Append, span)?);
                        continue;
                    }
                    if ai.as_rule() == Rule::stop_item {
                        let mut parts = ai.into_inner().peekable();
                        let head = on_binders(&cx, &mut parts)?;
                        let kw = parts.next().unwrap();
                        let var = if kw.as_rule() == Rule::handoff_kw {
                            let tag = parts.next().unwrap();
                            (tag.as_str().to_string(), cx.span(&tag))
                        } else if kw.as_rule() == Rule::redetect_kw {
                            // Not an analyzer tag: detection picks what follows.
                            ("@detect".to_string(), cx.span(&kw))
                        } else {
                            (String::new(), cx.span(&kw))
                        };
                        let cond = parts.next().map(|c| expr(&cx, c)).transpose()?;
                        sets.push(on_item(head, SetOp::Stop, var, no_value(span), cond, span));
                        continue;
                    }
                    if ai.as_rule() == Rule::raw_item {
                        let mut parts = ai.into_inner().peekable();
                        let head = on_binders(&cx, &mut parts)?;
                        let value = expr(&cx, parts.next().unwrap())?;
                        raws.push(on_item(head, SetOp::Set, ("raw".to_string(), span), value, None, span));
                        continue;
                    }
                    if ai.as_rule() == Rule::confirm_item {
                        match ai.into_inner().next() {
                            Some(on) => {
                                let mut parts = on.into_inner();
                                let first = parts.next().unwrap();
                                match parts.next() {
                                    None => confirm_on.push((first.as_str().to_string(), cx.span(&first))),
                                    Some(unit) => {
                                        let cond = expr(&cx, parts.next().unwrap())?;
                                        let head = OnHead {
                                            binder: first.as_str().to_string(),
                                            unit: (unit.as_str().to_string(), cx.span(&unit)),
                                            binders: Vec::new(),
                                        };
                                        let var = (String::new(), span);
                                        sets.push(on_item(head, SetOp::Confirm, var, no_value(span), Some(cond), span));
                                    }
                                }
                            }
                            None => confirm_never = true,
                        }
                        continue;
                    }
                    if ai.as_rule() == Rule::signature_item {
                        signatures.push(signature_item(&cx, ai, span)?);
                        continue;
                    }
                    if ai.as_rule() == Rule::expire_item {
                        let mut parts = ai.into_inner();
                        let transport = if parts.next().unwrap().as_str() == "udp" {
                            Transport::Udp
                        } else {
                            Transport::Tcp
                        };
                        let lit = parts.next().unwrap();
                        let secs = u32::try_from(int_value(&cx, &lit)?)
                            .ok()
                            .filter(|&s| s > 0)
                            .ok_or_else(|| {
                                Diagnostic::new(
                                    cx.span(&lit),
                                    "expire time out of range (1 to 2^32-1 seconds)",
                                )
                            })?;
                        expires.push(ExpireDecl {
                            transport,
                            secs,
                            span,
                        });
                        continue;
                    }
                    if ai.as_rule() == Rule::flip_item {
                        let mut parts = ai.into_inner();
                        let binder = parts.next().unwrap().as_str().to_string();
                        let unit = parts.next().unwrap();
                        let unit_span = cx.span(&unit);
                        let cond = expr(&cx, parts.next().unwrap())?;
                        flips.push(FlipDecl {
                            binder,
                            unit: unit.as_str().to_string(),
                            unit_span,
                            cond,
                            span,
                        });
                        continue;
                    }
                    let mut parts = ai.into_inner();
                    let transport = match parts.next().unwrap().as_str() {
                        "udp" => Transport::Udp,
                        "tcp" => Transport::Tcp,
                        _ => Transport::Link,
                    };
                    let mut ports = Vec::new();
                    let mut unit = None;
                    let mut bind_field = None;
                    let mut extern_ctor = None;
                    let mut lines = None;
                    let mut tunnel = false;
                    let mut attrs = Vec::new();
                    let mut args = Vec::new();
                    for p in parts {
                        match p.as_rule() {
                            Rule::tunnel_target => {
                                tunnel = true;
                                let n = p.into_inner().nth(1).unwrap();
                                unit = Some((n.as_str().to_string(), cx.span(&n)));
                            }
                            Rule::state_args => args = state_arg_names(&cx, p),
                            Rule::lines_target => {
                                let lspan = cx.span(&p);
                                unit = Some((String::new(), lspan));
                                lines = Some(lines_target(&cx, p, lspan)?);
                            }
                            Rule::attr => attrs.push(attr(&cx, p)?),
                            Rule::expected_kw => {}
                            Rule::extern_ctor => {
                                let path = p.into_inner().next().unwrap();
                                extern_ctor = Some(path.as_str().split_whitespace().collect());
                                unit = Some((String::new(), cx.span(&path)));
                            }
                            Rule::bind_field => {
                                bind_field = Some((p.as_str().to_string(), cx.span(&p)))
                            }
                            Rule::int_lit => {
                                let v = int_value(&cx, &p)?;
                                let port = u16::try_from(v).map_err(|_| {
                                    let what = if transport == Transport::Link {
                                        "EtherType out of range (16 bits)"
                                    } else {
                                        "port number out of range"
                                    };
                                    Diagnostic::new(cx.span(&p), what)
                                })?;
                                ports.push(port);
                            }
                            _ => unit = Some((p.as_str().to_string(), cx.span(&p))),
                        }
                    }
                    let (unit, unit_span) = unit.unwrap();
                    items.push(AnalyzerItem {
                        transport,
                        ports,
                        unit,
                        unit_span,
                        bind_field,
                        args,
                        extern_ctor,
                        lines,
                        tunnel,
                        attrs,
                        span,
                    });
                }
                module.analyzers.push(AnalyzerDecl {
                    name,
                    items,
                    signatures,
                    flips,
                    expires,
                    confirm_never,
                    confirm_on,
                    states,
                    sets,
                    raws,
                    sinks,
                    decaps,
                    ends,
                    weird_sources,
                    span,
                });
            }
            Rule::record_decl => {
                let span = cx.span(&item);
                let mut it = item.into_inner();
                let name = it.next().unwrap().as_str().to_string();
                let params = params_of(&cx, it.next().unwrap());
                let mut fields = Vec::new();
                for f in it {
                    fields.push(named(&cx, f)?);
                }
                module.records.push(RecordDecl {
                    name,
                    params,
                    fields,
                    span,
                });
            }
            Rule::event_decl => module.events.push(event_decl(&cx, item)?),
            Rule::expect_decl => module.expects.push(expect_decl(&cx, item)?),
            Rule::file_decl => module.file_handoffs.push(file_decl(&cx, item)?),
            Rule::EOI => {}
            r => unreachable!("unexpected item {r:?}"),
        }
    }
    Ok(())
}

/// `on x: Unit, y: x.path, ...`, which every `on` item of an analyzer block
/// starts with: the PDU's binder, its unit (with its span), the binders after it.
struct OnHead {
    binder: String,
    unit: (String, Span),
    binders: Vec<Named>,
}

fn on_binders(cx: &Cx, parts: &mut std::iter::Peekable<Pairs<'_, Rule>>) -> Result<OnHead, Diagnostic> {
    let binder = parts.next().unwrap().as_str().to_string();
    let unit = parts.next().unwrap();
    let unit = (unit.as_str().to_string(), cx.span(&unit));
    let mut binders = Vec::new();
    while parts.peek().is_some_and(|p| p.as_rule() == Rule::binder) {
        binders.push(named(cx, parts.next().unwrap())?);
    }
    Ok(OnHead { binder, unit, binders })
}

/// An `on` item that is not a feed (no `pieces`, `at` or `after events`).
fn on_item(
    head: OnHead,
    op: SetOp,
    var: (String, Span),
    value: Expr,
    cond: Option<Expr>,
    span: Span,
) -> SetDecl {
    SetDecl {
        binder: head.binder,
        unit: head.unit,
        var,
        value,
        op,
        cond,
        binders: head.binders,
        pieces: None,
        at: None,
        after_events: false,
        span,
    }
}

/// The value of an item that has none (`stop`, `pop`, `reset`, ...).
fn no_value(span: Span) -> Expr {
    Expr {
        kind: ExprKind::Int(0),
        span,
    }
}

fn int_value(cx: &Cx, p: &P<'_>) -> Result<u64, Diagnostic> {
    let s = p.as_str();
    let r = if let Some(h) = s.strip_prefix("0x") {
        u64::from_str_radix(h, 16)
    } else if let Some(b) = s.strip_prefix("0b") {
        u64::from_str_radix(b, 2)
    } else {
        s.parse()
    };
    r.map_err(|_| Diagnostic::new(cx.span(p), "number does not fit in 64 bits"))
}

fn param_of(cx: &Cx, p: P<'_>) -> Param {
    let span = cx.span(&p);
    let mut it = p.into_inner();
    let name = it.next().unwrap().as_str().to_string();
    let ty = it.next().unwrap().as_str().to_string();
    Param { name, ty, span }
}

fn params_of(cx: &Cx, p: P<'_>) -> Vec<Param> {
    p.into_inner().map(|q| param_of(cx, q)).collect()
}

/// `lines(orig: A, resp: B, orig raw: C)`: each direction (and its raw unit) at most once.
fn lines_target(cx: &Cx, p: P<'_>, span: Span) -> Result<LinesDecl, Diagnostic> {
    let mut out = LinesDecl {
        orig: None,
        resp: None,
        orig_args: Vec::new(),
        resp_args: Vec::new(),
        orig_raw: None,
        resp_raw: None,
        orig_raw_args: Vec::new(),
        resp_raw_args: Vec::new(),
        span,
    };
    for d in p.into_inner() {
        let dspan = cx.span(&d);
        let mut parts = d.into_inner().peekable();
        let dir = parts.next().unwrap().as_str();
        let raw = parts.peek().is_some_and(|p| p.as_rule() == Rule::raw_kw);
        if raw {
            parts.next();
        }
        let unit = parts.next().unwrap();
        let (slot, args_slot) = match (dir == "orig", raw) {
            (true, false) => (&mut out.orig, &mut out.orig_args),
            (false, false) => (&mut out.resp, &mut out.resp_args),
            (true, true) => (&mut out.orig_raw, &mut out.orig_raw_args),
            (false, true) => (&mut out.resp_raw, &mut out.resp_raw_args),
        };
        if slot.is_some() {
            let what = if raw { format!("{dir} raw") } else { dir.to_string() };
            return Err(Diagnostic::new(
                dspan,
                format!("`{what}` is given twice in `lines(...)`"),
            ));
        }
        *slot = Some((unit.as_str().to_string(), cx.span(&unit)));
        *args_slot = parts
            .next()
            .map(|a| state_arg_names(cx, a))
            .unwrap_or_default();
    }
    Ok(out)
}

/// `on r: Unit[, x: path ...] set|feed name = value [where cond];`.
fn update_item(cx: &Cx, p: P<'_>, op: SetOp, span: Span) -> Result<SetDecl, Diagnostic> {
    let mut parts = p.into_inner().peekable();
    let OnHead { binder, unit, binders } = on_binders(cx, &mut parts)?;
    let var = parts.next().unwrap();
    let var = (var.as_str().to_string(), cx.span(&var));
    let value = expr(cx, parts.next().unwrap())?;
    let pieces = match parts.peek() {
        Some(p) if p.as_rule() == Rule::pieces_clause => {
            let p = parts.next().unwrap();
            let pspan = cx.span(&p);
            let args = p.into_inner().map(|a| named(cx, a)).collect::<Result<Vec<_>, _>>()?;
            Some(crate::ast::PiecesDecl { args, span: pspan })
        }
        _ => None,
    };
    let at = match parts.peek() {
        Some(p) if p.as_rule() == Rule::at_clause => Some(expr(cx, parts.next().unwrap().into_inner().next().unwrap())?),
        _ => None,
    };
    let after_events = parts.peek().is_some_and(|p| p.as_rule() == Rule::after_events);
    if after_events {
        parts.next();
    }
    let cond = parts.next().map(|c| expr(cx, c)).transpose()?;
    Ok(SetDecl {
        pieces,
        at,
        after_events,
        binder,
        unit,
        var,
        value,
        op,
        cond,
        binders,
        span,
    })
}

/// `(pending, tag)`: the state variables passed as a unit's arguments.
fn state_arg_names(cx: &Cx, p: P<'_>) -> Vec<(String, Span)> {
    p.into_inner()
        .map(|n| (n.as_str().to_string(), cx.span(&n)))
        .collect()
}

fn named(cx: &Cx, p: P<'_>) -> Result<Named, Diagnostic> {
    let span = cx.span(&p);
    let mut it = p.into_inner();
    let name = it.next().unwrap().as_str().to_string();
    Ok(Named {
        name,
        expr: expr(cx, it.next().unwrap())?,
        span,
    })
}

fn event_decl(cx: &Cx, p: P<'_>) -> Result<EventDecl, Diagnostic> {
    let span = cx.span(&p);
    let mut it = p.into_inner();
    let n = it.next().unwrap();
    let name_span = cx.span(&n);
    let name = n.as_str().to_string();
    let mut args = Vec::new();
    let mut trigger = None;
    let mut done = false;
    let mut cond = None;
    for part in it {
        match part.as_rule() {
            Rule::rec_field => args.push(named(cx, part)?),
            Rule::error_trigger => {
                let u = part.into_inner().next().unwrap();
                trigger = Some(Trigger::Error(u.as_str().to_string(), cx.span(&u)));
            }
            Rule::binders => {
                trigger = Some(Trigger::Binders(
                    part.into_inner()
                        .map(|b| named(cx, b))
                        .collect::<Result<_, _>>()?,
                ))
            }
            Rule::done_kw => done = true,
            Rule::never_kw => trigger = Some(Trigger::Never),
            Rule::expr => cond = Some(expr(cx, part)?),
            r => unreachable!("event part {r:?}"),
        }
    }
    Ok(EventDecl {
        name,
        name_span,
        args,
        trigger: trigger.unwrap(),
        done,
        cond,
        span,
    })
}

fn file_decl(cx: &Cx, p: P<'_>) -> Result<FileDecl, Diagnostic> {
    let span = cx.span(&p);
    let mut it = p.into_inner();
    let n = it.next().unwrap();
    let analyzer_span = cx.span(&n);
    let analyzer = n.as_str().to_string();
    let mut next = it.next().unwrap();
    let is_orig = if next.as_rule() == Rule::file_dir {
        let d = expr(cx, next.into_inner().next().unwrap())?;
        next = it.next().unwrap();
        Some(d)
    } else {
        None
    };
    let data = expr(cx, next)?;
    let binders = it
        .next()
        .unwrap()
        .into_inner()
        .map(|b| named(cx, b))
        .collect::<Result<_, _>>()?;
    let cond = it.next().map(|c| expr(cx, c)).transpose()?;
    Ok(FileDecl {
        analyzer,
        analyzer_span,
        is_orig,
        data,
        binders,
        cond,
        span,
    })
}

fn expect_decl(cx: &Cx, p: P<'_>) -> Result<ExpectDecl, Diagnostic> {
    let span = cx.span(&p);
    let mut it = p.into_inner();
    let n = it.next().unwrap();
    let analyzer_span = cx.span(&n);
    let analyzer = n.as_str().to_string();
    let transport = if it.next().unwrap().as_str() == "udp" {
        Transport::Udp
    } else {
        Transport::Tcp
    };
    let from_part = it.next().unwrap();
    let from = match from_part.as_rule() {
        Rule::any_kw => None,
        _ => Some(expr(cx, from_part)?),
    };
    let to = expr(cx, it.next().unwrap())?;
    let lit = it.next().unwrap();
    let secs = u32::try_from(int_value(cx, &lit)?)
        .ok()
        .filter(|&s| s > 0)
        .ok_or_else(|| Diagnostic::new(cx.span(&lit), "expect time out of range (1 to 2^32-1 seconds)"))?;
    let mut service = None;
    let mut binders = Vec::new();
    let mut cond = None;
    for part in it {
        match part.as_rule() {
            Rule::str_lit => {
                let raw = part.as_str();
                service = Some(raw[1..raw.len() - 1].to_string());
            }
            Rule::binders => {
                binders = part
                    .into_inner()
                    .map(|b| named(cx, b))
                    .collect::<Result<_, _>>()?
            }
            Rule::expr => cond = Some(expr(cx, part)?),
            r => unreachable!("expect part {r:?}"),
        }
    }
    Ok(ExpectDecl {
        analyzer,
        analyzer_span,
        transport,
        from,
        to,
        secs,
        service,
        binders,
        cond,
        span,
    })
}

/// `signature tcp orig /re/, resp /re/;` (both must match) or `orig /re/ or resp /re/` (either).
fn signature_item(cx: &Cx, item: P<'_>, span: Span) -> Result<SignatureDecl, Diagnostic> {
    let mut parts = item.into_inner();
    let transport = if parts.next().unwrap().as_str() == "udp" {
        Transport::Udp
    } else {
        Transport::Tcp
    };
    let mut sig = SignatureDecl {
        transport,
        orig: None,
        resp: None,
        either: false,
        span,
    };
    for side in parts {
        if side.as_rule() == Rule::sig_join {
            sig.either |= side.as_str() == "or";
            continue;
        }
        let side_span = cx.span(&side);
        let mut it = side.into_inner();
        let dir = it.next().unwrap().as_str();
        let lit = it.next().unwrap();
        let lit_span = cx.span(&lit);
        let raw = lit.as_str();
        let pattern = raw[1..raw.len() - 1].replace("\\/", "/");
        let slot = if dir == "orig" {
            &mut sig.orig
        } else {
            &mut sig.resp
        };
        if slot.is_some() {
            return Err(Diagnostic::new(
                side_span,
                format!("the signature already has a pattern for `{dir}`"),
            ));
        }
        *slot = Some((pattern, lit_span));
    }
    Ok(sig)
}
