//! Analyzer declarations: the units they parse, framing, signatures, flips.

use super::attrs::{find_unit, UnitAttr};
use super::*;
use crate::ast::{AnalyzerDecl, AnalyzerItem, Transport, UnitBody};
use crate::ir::{Analyzer, BindTarget, LinkItem, Signature, TransportItem, TransportKind};

impl Checker<'_> {
    pub(super) fn check_analyzers(&mut self) -> Vec<Analyzer> {
        let mut out = Vec::new();
        for a in &self.module().analyzers {
            let has_link = a.items.iter().any(|i| i.transport == Transport::Link);
            let link_items = if has_link {
                self.check_link_items(a)
            } else {
                Vec::new()
            };
            let tunnel = self.check_tunnel(a);
            let has_transport = a.items.iter().any(|i| i.transport != Transport::Link && !i.tunnel);
            let items = if has_transport {
                self.check_transport_items(a)
            } else {
                Vec::new()
            };
            // A tunnel analyzer's `confirm on` is its own (`check_tunnel`).
            let (states, sets) = if tunnel.is_some() {
                (Vec::new(), Vec::new())
            } else {
                self.check_states(a)
            };
            let raws = self.check_raws(a);
            // `&stop_after_gap` and `&stop_on_violation` stop the analyzer too.
            let stops = sets.iter().any(|s| s.op == crate::ast::SetOp::Stop)
                || items.iter().any(|it| match &it.kind {
                    crate::ir::TransportKind::Lines(l) => l.stop_after_gap,
                    crate::ir::TransportKind::Generated { stop_after_gap, stop_on_violation, .. } => {
                        *stop_after_gap || *stop_on_violation
                    }
                    crate::ir::TransportKind::Extern(_) => false,
                });
            let confirm_on = self.check_confirm_on(a);
            let sinks = self.check_sinks(a);
            let end = self.check_end(a, false);
            let eof = self.check_end(a, true);
            let mut weird_sources: Vec<(String, String)> = Vec::new();
            for (name, source, span) in &a.weird_sources {
                if source.is_empty() || !source.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_') {
                    self.err(*span, format!("a weird's source names a component in upper case (`\"CONTENTLINE\"`), not `\"{source}\"`"));
                } else if weird_sources.iter().any(|(n, _)| n == name) {
                    self.err(*span, format!("weird `{name}` is given a source twice"));
                } else {
                    weird_sources.push((name.clone(), source.clone()));
                }
            }
            // A line analyzer's framer finishes its lines at a FIN itself.
            if a.items.iter().any(|i| i.lines.is_some()) {
                if let Some(e) = a.ends.iter().find(|e| e.eof) {
                    self.err(e.span, "`at eof` is for analyzers without `lines(...)` framing, which ends its last line at a FIN itself");
                }
                if let Some(k) = a.sinks.iter().find(|k| k.attrs.iter().any(|at| at.name == "eof")) {
                    self.err(k.span, "`&eof` is for analyzers without `lines(...)` framing, which ends its last line at a FIN itself");
                }
            }
            out.push(Analyzer {
                name: a.name.clone(),
                has_link,
                link_items,
                has_transport,
                items,
                all_extern: a.items.iter().all(|i| i.extern_ctor.is_some()),
                has_lines: a.items.iter().any(|i| i.lines.is_some()),
                confirm: !a.confirm_never,
                confirm_on,
                stops,
                states,
                sets,
                raws,
                sinks,
                tunnel,
                end,
                eof,
                weird_sources,
            });
        }
        out
    }

    /// What the events of an item bind to: the PDU or `=> Unit.field`.
    pub(super) fn bind_target(&mut self, item: &AnalyzerItem) -> Option<BindTarget> {
        match &item.bind_field {
            None => Some(BindTarget {
                unit: item.unit.clone(),
                field: None,
            }),
            Some((f, span)) => match self.w.field_ty(self.m, &item.unit, f) {
                Some(Ty::Unit(fm, fu)) if fm == self.m => Some(BindTarget {
                    unit: fu,
                    field: Some(f.clone()),
                }),
                _ => {
                    self.err(
                        *span,
                        format!(
                            "`{}.{f}` must be a field of a unit type of this grammar",
                            item.unit
                        ),
                    );
                    None
                }
            },
        }
    }

    /// The `ethertype ... => Unit;` items.
    fn check_link_items(&mut self, a: &AnalyzerDecl) -> Vec<LinkItem> {
        let mut out = Vec::new();
        for (i, item) in a.items.iter().enumerate() {
            if item.transport != Transport::Link {
                continue;
            }
            let Some(u) = self.w.unit(self.m, &item.unit) else {
                self.err(item.unit_span, format!("unknown unit `{}`", item.unit));
                continue;
            };
            if !matches!(u.body, UnitBody::Fields(_)) || !u.params.is_empty() {
                self.err(
                    item.unit_span,
                    "an analyzer's PDU must be a unit with fields and without parameters",
                );
                continue;
            }
            let Some(bind) = self.bind_target(item) else {
                continue;
            };
            out.push(LinkItem {
                index: i,
                unit: item.unit.clone(),
                bind,
                ethertypes: item.ports.clone(),
            });
        }
        out
    }

    /// The `udp`/`tcp` items, with the analyzer's flips and signatures.
    fn check_transport_items(&mut self, a: &AnalyzerDecl) -> Vec<TransportItem> {
        for f in &a.flips {
            if self.w.unit(self.m, &f.unit).is_none() {
                self.err(f.unit_span, format!("unknown unit `{}`", f.unit));
            } else if !a.items.iter().any(|it| it.unit == f.unit) {
                self.err(
                    f.unit_span,
                    format!("`{}` is not a unit this analyzer parses", f.unit),
                );
            }
        }
        for sig in &a.signatures {
            if !a.items.iter().any(|it| it.transport == sig.transport) {
                self.err(sig.span, "a signature needs a `udp`/`tcp` line of the same transport in this analyzer (it says which unit parses the traffic)");
            }
            if a.signatures
                .iter()
                .filter(|s| s.transport == sig.transport)
                .count()
                > 1
            {
                self.err(sig.span, "only one signature per transport");
            }
            for (pat, span) in [&sig.orig, &sig.resp].into_iter().flatten() {
                // The same flags the runtime compiles with (`dpd::Detector`).
                if let Err(e) = regex::bytes::Regex::new(&format!("(?s-u)\\A(?:{pat})")) {
                    let msg = e.to_string();
                    let last = msg.lines().last().unwrap_or("invalid pattern").trim();
                    let last = last.strip_prefix("error: ").unwrap_or(last).to_string();
                    self.err(*span, format!("invalid signature pattern: {last}"));
                }
            }
        }
        for e in &a.expires {
            if !a.items.iter().any(|it| it.transport == e.transport) {
                self.err(
                    e.span,
                    "an expire timer needs a `udp`/`tcp` line of the same transport in this analyzer",
                );
            }
            if a.expires
                .iter()
                .filter(|x| x.transport == e.transport)
                .count()
                > 1
            {
                self.err(e.span, "only one expire timer per transport");
            }
        }
        let mut out = Vec::new();
        for (i, item) in a.items.iter().enumerate() {
            if item.transport == Transport::Link || item.tunnel {
                continue;
            }
            let signature = signature_of(a, i);
            let expire_after_secs = a
                .expires
                .iter()
                .find(|e| e.transport == item.transport)
                .map(|e| e.secs);
            // A TCP PDU item takes `&skip_partial` and `&stop_after_gap` (Zeek's SSL), a
            // UDP one `&split` (several PDUs in a datagram, DTLS records);
            // `lines(...)` items check their own attributes.
            let mut skip_partial = false;
            let mut stop_after_gap = false;
            let mut split = false;
            let mut per_delivery = false;
            let mut stop_on_violation = false;
            if item.lines.is_none() {
                for at in &item.attrs {
                    let plain = at.value.is_none() && at.args.is_empty();
                    match at.name.as_str() {
                        "skip_partial" if plain && item.transport == Transport::Tcp && item.extern_ctor.is_none() => skip_partial = true,
                        "stop_after_gap" if plain && item.transport == Transport::Tcp && item.extern_ctor.is_none() => stop_after_gap = true,
                        "split" if plain && item.transport == Transport::Udp && item.extern_ctor.is_none() => split = true,
                        "per_delivery" if plain && item.transport == Transport::Tcp && item.extern_ctor.is_none() => per_delivery = true,
                        "stop_on_violation" if plain && item.transport == Transport::Udp && item.extern_ctor.is_none() => stop_on_violation = true,
                        _ => self.err(
                            at.span,
                            "a PDU item takes only `&skip_partial`, `&stop_after_gap` and `&per_delivery` (over tcp) or `&split` and `&stop_on_violation` (over udp); other attributes belong to `lines(...)` items",
                        ),
                    }
                }
            }
            if let Some(lines) = &item.lines {
                if let Some(l) = self.check_lines_item(a, item, lines) {
                    out.push(TransportItem {
                        index: i,
                        transport: item.transport,
                        ports: item.ports.clone(),
                        signature,
                        expire_after_secs,
                        kind: TransportKind::Lines(l),
                    });
                }
                continue;
            }
            if let Some(ctor) = &item.extern_ctor {
                if syn::parse_str::<syn::Path>(ctor).is_err() {
                    self.err(item.unit_span, format!("`{ctor}` is not a Rust path"));
                    continue;
                }
                out.push(TransportItem {
                    index: i,
                    transport: item.transport,
                    ports: item.ports.clone(),
                    signature,
                    expire_after_secs,
                    kind: TransportKind::Extern(ctor.clone()),
                });
                continue;
            }
            let Some(u) = self.w.unit(self.m, &item.unit) else {
                self.err(item.unit_span, format!("unknown unit `{}`", item.unit));
                continue;
            };
            if !matches!(u.body, UnitBody::Fields(_)) {
                self.err(
                    item.unit_span,
                    "an analyzer's PDU must be a unit with fields",
                );
                continue;
            }
            // A PDU unit's parameters take state variables (`=> Record(encrypted)`).
            let args = if u.params.is_empty() && item.args.is_empty() {
                Vec::new()
            } else {
                match self.state_args(a, &(item.unit.clone(), item.unit_span), &item.args) {
                    Some(args) => args,
                    None => continue,
                }
            };
            let Some(bind) = self.bind_target(item) else {
                continue;
            };
            let flip = self.check_flip(a, &item.unit);
            let framed = find_unit(&u.attrs, UnitAttr::Size).is_some();
            if item.transport == Transport::Tcp && !framed && !per_delivery {
                self.err(item.unit_span, format!("unit `{}` is attached over tcp, so it needs a unit-level `&size = ...` to frame the stream", item.unit));
            }
            out.push(TransportItem {
                index: i,
                transport: item.transport,
                ports: item.ports.clone(),
                signature,
                expire_after_secs,
                kind: TransportKind::Generated {
                    unit: item.unit.clone(),
                    args,
                    bind,
                    framed,
                    flip,
                    skip_partial,
                    stop_after_gap,
                    split,
                    per_delivery,
                    stop_on_violation,
                },
            });
        }
        out
    }

    /// The condition of `flip on m: Unit where cond;` for PDUs of `unit`.
    fn check_flip(&mut self, a: &AnalyzerDecl, unit: &str) -> Option<ir::Expr> {
        let f = a.flips.iter().find(|f| f.unit == unit)?;
        let mut sc = Scope::new(Mode::Bind);
        sc.vars.push(Var {
            name: f.binder.clone(),
            var: VarRef::Pdu,
            ty: Ty::Unit(self.m, f.unit.clone()),
            is_ref: true,
        });
        Some(self.boolean(&f.cond, &sc))
    }
}

/// The signature of item `i`: only the first line of the signature's transport carries it.
fn signature_of(a: &AnalyzerDecl, i: usize) -> Option<Signature> {
    let item = &a.items[i];
    let first_of_transport =
        a.items.iter().position(|it| it.transport == item.transport) == Some(i);
    match a.signatures.iter().find(|s| s.transport == item.transport) {
        Some(sig) if first_of_transport => Some(Signature {
            orig: sig.orig.as_ref().map(|(p, _)| p.clone()),
            resp: sig.resp.as_ref().map(|(p, _)| p.clone()),
            either: sig.either,
        }),
        _ => None,
    }
}
