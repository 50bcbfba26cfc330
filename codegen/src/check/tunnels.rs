//! Tunnel analyzers: `udp port 3544 => tunnel Packet &attrs;` and the
//! `decapsulate` items that say which bytes of a PDU are the inner packet.

use super::*;
use crate::ast::{AnalyzerDecl, ExprKind, SetOp, Transport, UnitBody};
use crate::ir::{Decap, Tunnel};

impl Checker<'_> {
    /// The analyzer's tunnel item, if it has one. A tunnel analyzer parses
    /// only its payloads: it has no other items, state, sinks or flips.
    pub(super) fn check_tunnel(&mut self, a: &AnalyzerDecl) -> Option<Tunnel> {
        let tunnels: Vec<usize> = (0..a.items.len()).filter(|&i| a.items[i].tunnel).collect();
        let Some(&index) = tunnels.first() else {
            for d in &a.decaps {
                self.err(
                    d.span,
                    "`decapsulate` belongs to a tunnel analyzer (`udp port N => tunnel Unit;`)",
                );
            }
            return None;
        };
        let item = &a.items[index];
        for &i in &tunnels[1..] {
            self.err(
                a.items[i].span,
                "a tunnel analyzer has one `=> tunnel` line",
            );
        }
        for (i, other) in a.items.iter().enumerate() {
            if !other.tunnel && i != index {
                self.err(other.span, "a tunnel analyzer parses only its tunnel's payloads: give this line an analyzer of its own");
            }
        }
        if item.transport != Transport::Udp {
            self.err(
                item.span,
                "tunnels run over `udp` (Zeek's packet analyzers under UDP)",
            );
        }
        let leftovers = a
            .states
            .iter()
            .map(|s| s.span)
            .chain(
                a.sets
                    .iter()
                    .filter(|s| s.op != SetOp::Confirm)
                    .map(|s| s.span),
            )
            .chain(a.raws.iter().map(|s| s.span))
            .chain(a.sinks.iter().map(|s| s.span))
            .chain(a.flips.iter().map(|s| s.span))
            .chain(a.signatures.iter().map(|s| s.span))
            .chain(a.expires.iter().map(|s| s.span));
        for span in leftovers.collect::<Vec<_>>() {
            self.err(span, "a tunnel analyzer keeps no state and has no signature, flip or expire timer: it reads each payload on its own (`decapsulate` and `confirm on` items only)");
        }
        for (u, span) in &a.confirm_on {
            self.err(*span, format!("write `confirm on p: {u} where cond;` for a tunnel, or nothing: every PDU that parses confirms"));
        }
        let mut detect = None;
        let mut delay_confirmation = false;
        let mut stop_on_violation = false;
        let mut nested_violation = None;
        for at in &item.attrs {
            let plain = at.value.is_none() && at.args.is_empty();
            match at.name.as_str() {
                "delay_confirmation" if plain => delay_confirmation = true,
                "stop_on_violation" if plain => stop_on_violation = true,
                "not_nested" if at.value.is_none() && at.args.len() == 1 && at.args[0].name.as_deref() == Some("violation") => {
                    match &at.args[0].expr.kind {
                        ExprKind::Str(s) => nested_violation = Some(s.clone()),
                        _ => self.err(at.span, "`&not_nested(violation = \"reason\")` takes a string"),
                    }
                }
                "detect" if at.value.is_none() && at.args.len() == 1 && at.args[0].name.is_none() => {
                    match &at.args[0].expr.kind {
                        ExprKind::Path(p) if !p.contains('.') => {
                            if self.plain_unit(p, at.span) {
                                detect = Some(p.clone());
                            }
                        }
                        _ => self.err(at.span, "`&detect(Unit)` names the unit a payload must parse as"),
                    }
                }
                _ => self.err(at.span, "a tunnel line takes `&detect(Unit)`, `&delay_confirmation`, `&stop_on_violation` and `&not_nested(violation = \"..\")`"),
            }
        }
        if item.ports.is_empty() && detect.is_none() {
            self.err(
                item.span,
                "a tunnel needs ports or `&detect(Unit)`: nothing would reach it",
            );
        }
        if !self.plain_unit(&item.unit, item.unit_span) {
            return None;
        }
        let bind = self.bind_target(item)?;
        let mut confirm_when = None;
        for s in a.sets.iter().filter(|s| s.op == SetOp::Confirm) {
            if a.confirm_never {
                self.err(s.span, "`confirm on` contradicts `confirm never`");
            } else if s.unit.0 != item.unit {
                self.err(
                    s.unit.1,
                    format!("`{}` is not the unit of this tunnel", s.unit.0),
                );
            } else if confirm_when.is_some() {
                self.err(s.span, "a tunnel has one `confirm on` item");
            } else if let Some(c) = &s.cond {
                let sc = self.pdu_scope(&s.binder, &s.unit.0);
                confirm_when = Some(self.boolean(c, &sc));
            }
        }
        let mut decaps = Vec::new();
        for d in &a.decaps {
            if d.unit.0 != item.unit {
                self.err(
                    d.unit.1,
                    format!("`{}` is not the unit of this tunnel", d.unit.0),
                );
                continue;
            }
            let ethernet = match d.var.0.as_str() {
                "ip" => false,
                "ethernet" => true,
                _ => {
                    self.err(
                        d.var.1,
                        "the inner packet is `ip` (IPv4 or IPv6 by its version) or `ethernet`",
                    );
                    continue;
                }
            };
            let Some((sc, binders)) = self.on_scope(d) else {
                continue;
            };
            let value = self.bytes_arg(&d.value, &sc);
            let cond = d.cond.as_ref().map(|c| self.boolean(c, &sc));
            decaps.push(Decap {
                ethernet,
                binders,
                value,
                cond,
            });
        }
        if a.decaps.is_empty() {
            self.err(item.span, "a tunnel analyzer needs a `decapsulate` item: `on p: Packet decapsulate ip = p.packet;`");
        }
        Some(Tunnel {
            index,
            unit: item.unit.clone(),
            bind,
            ports: item.ports.clone(),
            detect,
            delay_confirmation,
            stop_on_violation,
            nested_violation,
            confirm: !a.confirm_never,
            confirm_when,
            decaps,
        })
    }

    /// Whether `unit` is a unit with fields and no parameters (what a
    /// tunnel's payload and its detection parse).
    fn plain_unit(&mut self, unit: &str, span: Span) -> bool {
        match self.w.unit(self.m, unit) {
            None => {
                self.err(span, format!("unknown unit `{unit}`"));
                false
            }
            Some(u) if !matches!(u.body, UnitBody::Fields(_)) || !u.params.is_empty() => {
                self.err(
                    span,
                    "a tunnel's payload is a unit with fields and without parameters",
                );
                false
            }
            Some(_) => true,
        }
    }
}
