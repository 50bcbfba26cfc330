//! `.evt` declarations: records, events against the event table, and the
//! binder trees that raise them.

use super::*;
use crate::ast::{Expr, ExprKind, Transport, Trigger, UnitBody};
use crate::ir::{BindItem, BindLoop, EventStruct, Expect, FileHandoff, Raise, Record, UnitBindings, ZValue};
use crate::types::TypeDef;

/// A node of the binding tree: one binder (`q: m.question`) shared by every
/// event whose binder list starts with the same binders.
struct Node {
    var: String,
    src: Expr,
    key: String,
    items: Vec<Item>,
}

enum Item {
    Event(usize),
    Done(usize),
    /// An `expect` (index into the module's expects).
    Expect(usize),
    /// A `file` hand-off (index into the module's file hand-offs).
    File(usize),
    Child(Node),
}

impl Node {
    /// Whether a file is handed over at or below this node (its loops always run).
    fn hands_files(&self) -> bool {
        self.items.iter().any(|i| match i {
            Item::File(_) => true,
            Item::Child(c) => c.hands_files(),
            _ => false,
        })
    }
}

impl Node {
    fn child(&mut self, var: &str, src: &Expr) -> &mut Node {
        let key = format!("{var}:{}", src.text());
        let pos = self
            .items
            .iter()
            .position(|i| matches!(i, Item::Child(n) if n.key == key));
        let idx = match pos {
            Some(i) => i,
            None => {
                self.items.push(Item::Child(Node {
                    var: var.to_string(),
                    src: src.clone(),
                    key,
                    items: Vec::new(),
                }));
                self.items.len() - 1
            }
        };
        match &mut self.items[idx] {
            Item::Child(n) => n,
            _ => unreachable!("the item at idx is a child"),
        }
    }
}

impl Checker<'_> {
    fn bind_scope() -> Scope {
        Scope::new(Mode::Bind)
    }

    pub(super) fn check_records(&mut self) -> Vec<Record> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for r in &self.module().records {
            if !seen.insert(r.name.clone()) {
                self.err(r.span, format!("duplicate record `{}`", r.name));
                continue;
            }
            let mut sc = Self::bind_scope();
            let mut params = Vec::new();
            for p in &r.params {
                let ty = match self.w.lookup(self.m, &p.ty) {
                    // A slice of the PDU (or a literal): `irc_join_info(nick: bytes, ...)`.
                    _ if p.ty == "bytes" => Ty::Bytes,
                    // A number: `KRB::Type_Value(data_type: u64, val: bytes)`.
                    _ if p.ty == "u64" => Ty::Int { bits: 64, signed: false },
                    Some(TypeDef::Unit(m, u)) => match u.body {
                        UnitBody::Fields(_) => Ty::Unit(m, u.name.clone()),
                        UnitBody::Switch(_) => Ty::Union(m, u.name.clone()),
                    },
                    Some(TypeDef::Extern(m, x)) => Ty::Extern(m, x.name.clone()),
                    _ => {
                        self.err(
                            p.span,
                            format!(
                                "record parameters are units, bytes or u64; unknown unit `{}`",
                                p.ty
                            ),
                        );
                        continue;
                    }
                };
                params.push((p.name.clone(), ty.clone()));
                sc.vars.push(Var::named(&p.name, ty, true));
            }
            let mut fields = Vec::new();
            for f in &r.fields {
                let x = self.expr(&f.expr, &sc);
                let Some(z) = self.infer_z(&x.ty, f.expr.span) else {
                    continue;
                };
                let conv = self.convert_z(&x.ty, &z, f.expr.span);
                fields.push((f.name.clone(), z, ZValue { expr: x, conv }));
            }
            out.push(Record {
                name: r.name.clone(),
                params,
                fields,
            });
        }
        out
    }

    /// Event structs (one per event name), checked against the table.
    pub(super) fn check_event_structs(&mut self) -> Vec<EventStruct> {
        let mut out: Vec<EventStruct> = Vec::new();
        for ev in &self.module().events {
            let Some(sig) = self.events.get(&ev.name) else {
                self.err(
                    ev.name_span,
                    format!(
                        "unknown event `{}` (not in grammars/zeek/events.tsv)",
                        ev.name
                    ),
                );
                continue;
            };
            let want: Vec<&str> = sig.args.iter().map(|(n, _)| n.as_str()).collect();
            let got: Vec<&str> = ev.args.iter().map(|a| a.name.as_str()).collect();
            if want != got {
                let mut reported = false;
                for (i, a) in ev.args.iter().enumerate() {
                    if !want.contains(&a.name.as_str()) {
                        self.err(
                            a.span,
                            format!(
                                "event `{}` has no argument `{}`; its arguments are ({})",
                                ev.name,
                                a.name,
                                want.join(", ")
                            ),
                        );
                        reported = true;
                    } else if want.get(i) != Some(&a.name.as_str()) {
                        self.err(
                            a.span,
                            format!(
                                "argument `{}` is out of order; `{}` takes ({})",
                                a.name,
                                ev.name,
                                want.join(", ")
                            ),
                        );
                        reported = true;
                    }
                }
                if !reported {
                    let missing: Vec<&str> =
                        want.iter().filter(|w| !got.contains(w)).copied().collect();
                    self.err(
                        ev.span,
                        format!(
                            "event `{}` is missing argument(s) {}",
                            ev.name,
                            missing.join(", ")
                        ),
                    );
                }
                continue;
            }
            if out.iter().any(|e| e.name == ev.name) {
                continue;
            }
            let mut fields = Vec::new();
            for (n, t) in &sig.args {
                let z = ZTy::parse(t);
                if let Some(r) = z.record() {
                    // Zeek's `pkt_hdr` is the runtime's (`pkt_hdr(b)`).
                    if r != "pkt_hdr" && !self.module().records.iter().any(|d| d.name == *r) {
                        self.err(ev.span, format!("event `{}` needs record `{r}`; declare it with `record {r}(...) = {{ ... }}`", ev.name));
                        continue;
                    }
                }
                fields.push((n.clone(), z));
            }
            out.push(EventStruct {
                name: ev.name.clone(),
                fields,
            });
        }
        out
    }

    fn check_raise(&mut self, idx: usize, sc: &Scope) -> Option<Raise> {
        let ev = &self.module().events[idx];
        let sig = self.events.get(&ev.name)?;
        let mut args = Vec::new();
        for a in &ev.args {
            let Some(z) = sig
                .args
                .iter()
                .find(|(n, _)| *n == a.name)
                .map(|(_, t)| ZTy::parse(t))
            else {
                continue;
            };
            let x = self.expr(&a.expr, sc);
            let conv = self.convert_z(&x.ty, &z, a.expr.span);
            args.push((a.name.clone(), ZValue { expr: x, conv }));
        }
        let cond = ev.cond.as_ref().map(|c| self.boolean(c, sc));
        Some(Raise {
            event: ev.name.clone(),
            args,
            cond,
        })
    }

    /// A `file` hand-off: bytes of the PDU for an upper-case file analyzer tag.
    fn check_file(&mut self, idx: usize, sc: &Scope) -> Option<FileHandoff> {
        let f = &self.module().file_handoffs[idx];
        if !f.analyzer.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_') {
            self.err(
                f.analyzer_span,
                format!("`{}` is no file analyzer tag; tags are upper case, like `X509`", f.analyzer),
            );
            return None;
        }
        let data = self.bytes_arg(&f.data, sc);
        let cond = f.cond.as_ref().map(|c| self.boolean(c, sc));
        let is_orig = f.is_orig.as_ref().map(|d| self.boolean(d, sc));
        Some(FileHandoff {
            analyzer: f.analyzer.clone(),
            is_orig,
            data,
            cond,
        })
    }

    /// An `expect`: the originator an address (or any), the responder an
    /// `endpoint` (what an extern fn found in the payload, if anything).
    fn check_expect(&mut self, idx: usize, sc: &Scope) -> Option<Expect> {
        let x = &self.module().expects[idx];
        if x.transport == Transport::Link {
            return None;
        }
        let from = x.from.as_ref().map(|f| {
            let v = self.expr(f, sc);
            let conv = self.convert_z(&v.ty, &ZTy::Addr, f.span);
            ZValue { expr: v, conv }
        });
        let to = self.expr(&x.to, sc);
        if !matches!(to.ty, ExprTy::Zeek(ZTy::Endpoint) | ExprTy::Unknown) {
            self.err(
                x.to.span,
                format!(
                    "`to` takes an endpoint (an extern fn returning `endpoint`), found {}",
                    expr_ty_name(&to.ty)
                ),
            );
        }
        let cond = x.cond.as_ref().map(|c| self.boolean(c, sc));
        if !x.analyzer.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_') {
            self.err(
                x.analyzer_span,
                format!("`{}` is no analyzer tag; tags are upper case, like `FTP_DATA`", x.analyzer),
            );
        }
        Some(Expect {
            analyzer: x.analyzer.clone(),
            udp: x.transport == Transport::Udp,
            from,
            to,
            secs: x.secs,
            service: x.service.clone(),
            cond,
        })
    }

    /// The events (in the table) raised under a node.
    fn node_ids(&self, n: &Node, out: &mut Vec<String>) {
        for i in &n.items {
            match i {
                Item::Event(e) | Item::Done(e) => {
                    let name = &self.module().events[*e].name;
                    if self.events.contains_key(name) && !out.contains(name) {
                        out.push(name.clone());
                    }
                }
                Item::Child(c) => self.node_ids(c, out),
                Item::Expect(_) | Item::File(_) => {}
            }
        }
    }

    /// A node's items in raising order: events and loops in document order, then `done` events.
    fn check_node_items(&mut self, n: &Node, sc: &Scope) -> Vec<BindItem> {
        let mut body = Vec::new();
        let mut dones = Vec::new();
        for item in &n.items {
            match item {
                Item::Event(e) => body.extend(self.check_raise(*e, sc).map(BindItem::Raise)),
                Item::Done(e) => dones.push(*e),
                Item::Child(c) => body.extend(self.check_child(c, sc).map(BindItem::Loop)),
                Item::Expect(x) => body.extend(self.check_expect(*x, sc).map(BindItem::Expect)),
                Item::File(f) => body.extend(self.check_file(*f, sc).map(BindItem::File)),
            }
        }
        for e in dones {
            body.extend(self.check_raise(e, sc).map(BindItem::Raise));
        }
        body
    }

    fn check_child(&mut self, n: &Node, sc: &Scope) -> Option<BindLoop> {
        let (iter, ty) = self.binder_iter(&n.src, sc)?;
        let mut inner = sc.clone();
        inner.vars.push(Var::named(&n.var, ty, true));
        let items = self.check_node_items(n, &inner);
        let mut wants = Vec::new();
        self.node_ids(n, &mut wants);
        Some(BindLoop {
            var: n.var.clone(),
            iter,
            items,
            wants,
            always: n.hands_files(),
        })
    }

    /// The binder trees of every unit with fields (`bind_<unit>` functions).
    pub(super) fn check_bindings(&mut self) -> Vec<UnitBindings> {
        // Root: unit name → roots (one per root variable name).
        let mut roots: Vec<(String, Node)> = Vec::new();
        let mut errors: Vec<(String, Vec<usize>)> = Vec::new();
        // File hand-offs take their place among the events in document order (a
        // certificate's x509 events come before its message's ssl_handshake_message).
        let mut files: Vec<usize> = (0..self.module().file_handoffs.len()).collect();
        let at = |sp: crate::diag::Span| (sp.file, sp.start);
        files.sort_by_key(|&i| at(self.module().file_handoffs[i].span));
        let mut next_file = 0;
        for (i, ev) in self.module().events.iter().enumerate() {
            while next_file < files.len() && at(self.module().file_handoffs[files[next_file]].span) < at(ev.span) {
                self.add_file_handoff(&mut roots, files[next_file]);
                next_file += 1;
            }
            match &ev.trigger {
                Trigger::Never => {}
                Trigger::Error(u, span) => {
                    if self.w.unit(self.m, u).is_none() {
                        self.err(*span, format!("unknown unit `{u}`"));
                        continue;
                    }
                    if ev.done {
                        self.err(ev.span, "`done` does not apply to `on error(...)`");
                    }
                    match errors.iter_mut().find(|(n, _)| n == u) {
                        Some((_, v)) => v.push(i),
                        None => errors.push((u.clone(), vec![i])),
                    }
                }
                Trigger::Binders(bs) => {
                    let first = &bs[0];
                    let Some(pos) = self.root_node(&mut roots, first, "the first binder names a unit: `m: Message`") else {
                        continue;
                    };
                    let mut node = &mut roots[pos].1;
                    for b in &bs[1..] {
                        node = node.child(&b.name, &b.expr);
                    }
                    node.items.push(if ev.done {
                        Item::Done(i)
                    } else {
                        Item::Event(i)
                    });
                }
            }
        }
        for (i, x) in self.module().expects.iter().enumerate() {
            let [first] = &x.binders[..] else {
                self.err(
                    x.binders[1].span,
                    "an `expect` binds one unit: `on r: Request`",
                );
                continue;
            };
            let Some(pos) = self.root_node(&mut roots, first, "the binder names a unit: `on r: Request`") else {
                continue;
            };
            roots[pos].1.items.push(Item::Expect(i));
        }
        for &i in &files[next_file..] {
            self.add_file_handoff(&mut roots, i);
        }
        let link_units = self.link_units();
        let mut out = Vec::new();
        for u in &self.module().units {
            if !matches!(u.body, UnitBody::Fields(_)) {
                continue;
            }
            let unit = &u.name;
            let mut scope = Self::bind_scope();
            scope.link = link_units.contains(unit);
            let mut unit_roots = Vec::new();
            for (ru, node) in &roots {
                if ru != unit {
                    continue;
                }
                let mut sc = scope.clone();
                sc.vars
                    .push(Var::named(&node.var, Ty::Unit(self.m, unit.clone()), true));
                let items = self.check_node_items(node, &sc);
                unit_roots.push((node.var.clone(), items));
            }
            let mut unit_errors = Vec::new();
            for (eu, evs) in &errors {
                if eu != unit {
                    continue;
                }
                for e in evs {
                    unit_errors.extend(self.check_raise(*e, &scope));
                }
            }
            out.push(UnitBindings {
                unit: unit.clone(),
                borrows: self.w.needs_lt(&Ty::Unit(self.m, unit.clone())),
                roots: unit_roots,
                errors: unit_errors,
            });
        }
        out
    }

    /// The root of the binder tree for a first binder (`m: Message`), made on
    /// first use; `None` (reported) if it names no unit with fields.
    /// Puts file hand-off `i` into the binder trees, under its binders.
    fn add_file_handoff(&mut self, roots: &mut Vec<(String, Node)>, i: usize) {
        let f = &self.module().file_handoffs[i];
        let Some(pos) = self.root_node(roots, &f.binders[0], "the first binder names a unit: `on h: Handshake`") else {
            return;
        };
        let mut node = &mut roots[pos].1;
        for b in &f.binders[1..] {
            node = node.child(&b.name, &b.expr);
        }
        node.items.push(Item::File(i));
    }

    fn root_node(
        &mut self,
        roots: &mut Vec<(String, Node)>,
        first: &crate::ast::Named,
        not_a_unit: &str,
    ) -> Option<usize> {
        let ExprKind::Path(unit) = &first.expr.kind else {
            self.err(first.expr.span, not_a_unit);
            return None;
        };
        match self.w.unit(self.m, unit) {
            Some(u) if matches!(u.body, UnitBody::Fields(_)) => {}
            _ => {
                self.err(first.expr.span, format!("unknown unit `{unit}`"));
                return None;
            }
        }
        let key = format!("{}:{}", first.name, unit);
        if let Some(p) = roots.iter().position(|(_, n)| n.key == key) {
            return Some(p);
        }
        roots.push((
            unit.clone(),
            Node {
                var: first.name.clone(),
                src: first.expr.clone(),
                key,
                items: Vec::new(),
            },
        ));
        Some(roots.len() - 1)
    }

    /// Units whose events are bound from link-layer PDUs (`ethertype ... => Unit[.field]`).
    fn link_units(&mut self) -> Vec<String> {
        let mut link = Vec::new();
        let mut conn = Vec::new();
        for a in &self.module().analyzers {
            for item in &a.items {
                let bound = match &item.bind_field {
                    None => Some(item.unit.clone()),
                    Some((f, _)) => match self.w.field_ty(self.m, &item.unit, f) {
                        Some(Ty::Unit(_, u)) => Some(u),
                        _ => None,
                    },
                };
                let Some(bound) = bound else { continue };
                if item.transport == Transport::Link {
                    link.push((bound, item.unit_span));
                } else {
                    conn.push(bound);
                }
            }
        }
        for (u, span) in &link {
            if conn.contains(u) {
                self.err(*span, format!("unit `{u}` is attached to a link layer and to a transport; its events cannot have both contexts"));
            }
        }
        link.into_iter().map(|(u, _)| u).collect()
    }
}
