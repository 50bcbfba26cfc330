//! Connection state: `state name: u64 = init;` variables, `on r: Unit set name = expr;`
//! updates, and the state passed to line units as arguments (`resp: Reply(pending)`).

use super::*;
use crate::ast::{AnalyzerDecl, Expr, ExprKind, SetOp};
use crate::ir::{QueueSpec, RawSet, Sink, StateSet, StateVar};

impl Checker<'_> {
    /// The analyzer's state variables and their updates.
    pub(super) fn check_states(&mut self, a: &AnalyzerDecl) -> (Vec<StateVar>, Vec<StateSet>) {
        let mut vars: Vec<StateVar> = Vec::new();
        for s in &a.states {
            if vars.iter().any(|v| v.name == s.name) {
                self.err(s.span, format!("state `{}` is declared twice", s.name));
                continue;
            }
            let queue = match &s.queue {
                Some((cap, attrs)) => {
                    if *cap == 0 {
                        self.err(s.span, "a queue holds at least one value: `queue(1)` or more");
                        continue;
                    }
                    Some(QueueSpec {
                        cap: *cap,
                        overflow_weird: self.queue_overflow(attrs),
                    })
                }
                // Few types keep the design small: codes, counts, flags as 0/1, and short texts.
                None if s.ty.0 != "u64" && s.bytes.is_none() => {
                    self.err(s.ty.1, "a state variable is a `u64`, a `queue(N)` or `bytes(N)`");
                    continue;
                }
                None => None,
            };
            if let Some(cap) = s.bytes {
                if cap == 0 || cap > 4096 {
                    self.err(s.span, "a bytes state holds 1 to 4096 bytes: `bytes(64)`");
                    continue;
                }
            }
            vars.push(StateVar {
                name: s.name.clone(),
                init: s.init,
                queue,
                bytes: s.bytes,
            });
        }
        let mut sets = Vec::new();
        for s in &a.sets {
            if matches!(s.op, SetOp::Stop | SetOp::Confirm) {
                if s.op == SetOp::Confirm && a.confirm_never {
                    self.err(s.span, "`confirm on` contradicts `confirm never`");
                    continue;
                }
                if !self.parses(a, &s.unit.0) {
                    self.err(s.unit.1, format!("`{}` is not a unit this analyzer parses", s.unit.0));
                    continue;
                }
                if !s.var.0.is_empty() && s.var.0 != "@detect" && !s.var.0.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') {
                    self.err(s.var.1, "`handoff` names an analyzer tag in upper case: `handoff SSL`");
                    continue;
                }
                sets.extend(self.flag_update(s, "a `stop`/`handoff`/`confirm on` condition"));
                continue;
            }
            if s.op == SetOp::Forward {
                if !s.var.0.is_empty() && !s.var.0.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') {
                    self.err(s.var.1, "`forward` names a child analyzer by its tag in upper case: `forward SSL = ...`");
                    continue;
                }
                if !self.parses(a, &s.unit.0) {
                    self.err(s.unit.1, format!("`{}` is not a unit this analyzer parses", s.unit.0));
                    continue;
                }
                let Some((sc, binders)) = self.on_scope(s) else {
                    continue;
                };
                self.fallible_bytes_ok = true;
                let value = self.bytes_arg(&s.value, &sc);
                self.fallible_bytes_ok = false;
                let cond = s.cond.as_ref().map(|c| self.boolean(c, &sc));
                sets.push(StateSet { unit: s.unit.0.clone(), var: s.var.0.clone(), value, op: SetOp::Forward, cond, binders, pieces: None, at: None, after_events: s.after_events });
                continue;
            }
            if s.op == SetOp::Feed {
                if let Some(set) = self.check_feed(a, s) {
                    sets.push(set);
                }
                continue;
            }
            if s.op == SetOp::Reset {
                // A sink, or the tag of a child analyzer some `forward TAG` feeds.
                let child = a.sets.iter().any(|f| f.op == SetOp::Forward && f.var.0 == s.var.0 && !f.var.0.is_empty());
                if !child && !a.sinks.iter().any(|k| k.name == s.var.0) {
                    self.err(s.var.1, format!("`reset {}` names neither a sink nor a child analyzer (`forward {} = ...`)", s.var.0, s.var.0));
                    continue;
                }
                if !self.parses(a, &s.unit.0) {
                    self.err(s.unit.1, format!("`{}` is not a unit this analyzer parses", s.unit.0));
                    continue;
                }
                sets.extend(self.flag_update(s, "a `reset` condition"));
                continue;
            }
            if s.op == SetOp::Close {
                if self.declared_sink(a, s).is_none() {
                    continue;
                }
                if !self.parses(a, &s.unit.0) {
                    self.err(s.unit.1, format!("`{}` is not a unit this analyzer parses", s.unit.0));
                    continue;
                }
                sets.extend(self.flag_update(s, "a `close` condition"));
                continue;
            }
            let Some(var) = vars.iter().find(|v| v.name == s.var.0) else {
                self.err(s.var.1, format!("unknown state `{}`", s.var.0));
                continue;
            };
            match (s.op, var.queue.is_some()) {
                (SetOp::Set, true) => {
                    self.err(s.var.1, format!("`{}` is a queue: `push` to it or `pop` it", s.var.0));
                    continue;
                }
                (SetOp::Append, _) if var.bytes.is_none() => {
                    self.err(s.var.1, format!("`append` adds bytes to a bytes state: `{}` is not one (`state {}: bytes(N);`)", s.var.0, s.var.0));
                    continue;
                }
                (SetOp::Push | SetOp::Pop | SetOp::Stop | SetOp::Confirm | SetOp::Feed | SetOp::Close | SetOp::Forward | SetOp::Reset, false) => {
                    self.err(s.var.1, format!("`{}` is not a queue: `set` it", s.var.0));
                    continue;
                }
                _ => {}
            }
            if !self.parses(a, &s.unit.0) {
                self.err(
                    s.unit.1,
                    format!("`{}` is not a unit this analyzer parses", s.unit.0),
                );
                continue;
            }
            if let Some(span) = outside_the_pdu(&s.value)
                .or_else(|| s.cond.as_ref().and_then(outside_the_pdu))
            {
                let what = match s.op {
                    SetOp::Set | SetOp::Append => "a `set` value",
                    SetOp::Push => "a `push` value or condition",
                    SetOp::Pop | SetOp::Stop | SetOp::Confirm | SetOp::Feed | SetOp::Close | SetOp::Forward | SetOp::Reset => "a `pop` condition",
                };
                self.err(
                    span,
                    format!("{what} reads only the PDU: its fields, integers and `len`, `count`, `dec`, `trim`, `choose`"),
                );
                continue;
            }
            // More binders select inside the PDU; each selection runs the update.
            let Some((sc, binders)) = self.on_scope(s) else {
                continue;
            };
            let value = if var.bytes.is_some() {
                self.bytes_arg(&s.value, &sc)
            } else {
                self.int(&s.value, &sc)
            };
            let cond = s.cond.as_ref().map(|c| self.boolean(c, &sc));
            sets.push(StateSet {
                unit: s.unit.0.clone(),
                var: s.var.0.clone(),
                value,
                op: s.op,
                cond,
                binders,
                pieces: None,
                at: None,
                after_events: false,
            });
        }
        (vars, sets)
    }

    /// An update without a value (`stop`, `handoff`, `confirm on`, `close`): its
    /// condition reads only the PDU.
    fn flag_update(&mut self, s: &crate::ast::SetDecl, what: &str) -> Option<StateSet> {
        if let Some(span) = s.cond.as_ref().and_then(outside_the_pdu) {
            self.err(span, format!("{what} reads only the PDU: its fields, integers and `len`, `count`, `dec`, `trim`, `choose`"));
            return None;
        }
        let (sc, binders) = self.on_scope(s)?;
        let cond = s.cond.as_ref().map(|c| self.boolean(c, &sc));
        Some(StateSet {
            unit: s.unit.0.clone(),
            var: s.var.0.clone(),
            value: crate::ir::Expr { kind: crate::ir::ExprKind::Int(0), ty: ExprTy::Int },
            op: s.op,
            cond,
            binders,
            pieces: None,
            at: None,
            after_events: false,
        })
    }

    /// `sink name: Unit(args);`: a unit with fields (framed by its unit-level `&size`,
    /// or by parsing), its arguments state variables, names not taken.
    pub(super) fn check_sinks(&mut self, a: &AnalyzerDecl) -> Vec<Sink> {
        let mut out: Vec<Sink> = Vec::new();
        for k in &a.sinks {
            if out.iter().any(|o| o.name == k.name) || a.states.iter().any(|s| s.name == k.name) {
                self.err(k.span, format!("`{}` is declared twice (state and sink names share one space)", k.name));
                continue;
            }
            let Some(u) = self.w.unit(self.m, &k.unit.0) else {
                self.err(k.unit.1, format!("unknown unit `{}`", k.unit.0));
                continue;
            };
            let mut per_feed = false;
            let mut keep = None;
            let mut leftover = None;
            let mut eof = None;
            let mut join_gaps = false;
            for at in &k.attrs {
                match (at.name.as_str(), at.value.is_none(), at.args.as_slice()) {
                    ("per_feed", true, []) => per_feed = true,
                    // `&keep(n)`: a constant number of bytes, at least 1.
                    ("keep", true, [arg]) => match &arg.expr {
                        Expr { kind: ExprKind::Int(n), .. } if *n > 0 => keep = Some(*n),
                        _ => self.err(at.span, "`&keep(n)` takes a number of bytes (a constant, at least 1)"),
                    },
                    // `&leftover(Unit)`: a unit with fields of this grammar.
                    ("leftover", true, [arg]) => match &arg.expr {
                        Expr { kind: ExprKind::Path(p), span } if !p.contains("::") => {
                            match self.w.unit(self.m, p) {
                                Some(lu) if matches!(lu.body, crate::ast::UnitBody::Fields(_)) && lu.params.is_empty() => {
                                    leftover = Some(p.clone())
                                }
                                Some(_) => self.err(*span, format!("`&leftover({p})`: the unit takes the bytes alone, so it has fields and no parameters")),
                                None => self.err(*span, format!("unknown unit `{p}`")),
                            }
                        }
                        _ => self.err(at.span, "`&leftover(Unit)` names the unit of the bytes left at the end"),
                    },
                    ("join_gaps", true, []) => join_gaps = true,
                    // `&eof(b"\n")`: bytes that end a PDU cut short by the end of its direction.
                    ("eof", true, [arg]) => match &arg.expr {
                        Expr { kind: ExprKind::Bytes(b), .. } if !b.is_empty() => eof = Some(b.clone()),
                        _ => self.err(at.span, "`&eof(b\"..\")` takes the bytes (a literal, not empty) that end a PDU cut short by the end of its direction"),
                    },
                    _ => self.err(
                        at.span,
                        "a sink takes `&per_feed` (each feed is one whole PDU), `&keep(n)` (longer PDUs are parsed from their first n bytes), `&leftover(Unit)` (a PDU under way at the end), `&eof(b\"..\")` (bytes ending a PDU cut short by a FIN) and `&join_gaps` (a gap leaves a PDU under way as it is)",
                    ),
                }
            }
            let fields = matches!(u.body, crate::ast::UnitBody::Fields(_));
            let framed = fields && super::attrs::find_unit(&u.attrs, super::attrs::UnitAttr::Size).is_some();
            if !fields {
                self.err(k.unit.1, format!("a sink's PDUs are units with fields: `{}` is not", k.unit.0));
                continue;
            }
            // Without a unit-level `&size` the unit frames itself: a PDU ends where its parse
            // does, the framer passing it the state.
            let self_framed = !framed && !per_feed;
            if self_framed {
                if keep.is_some() {
                    self.err(k.unit.1, format!("`&keep` cuts PDUs of known length: give `{}` a unit-level `&size`", k.unit.0));
                    continue;
                }
            }
            if per_feed && (keep.is_some() || leftover.is_some() || eof.is_some()) {
                self.err(k.span, "a `&per_feed` sink holds nothing between feeds: no `&keep`, `&leftover` or `&eof`");
                continue;
            }
            let args = if u.params.is_empty() && k.args.is_empty() {
                Vec::new()
            } else {
                match self.state_args(a, &k.unit, &k.args) {
                    Some(args) => args,
                    None => continue,
                }
            };
            let by_offset = a.sets.iter().any(|s| s.op == SetOp::Feed && s.var.0 == k.name && s.at.is_some());
            out.push(Sink {
                name: k.name.clone(),
                unit: k.unit.0.clone(),
                args,
                per_feed,
                by_offset,
                self_framed,
                keep,
                leftover,
                eof,
                join_gaps,
            });
        }
        out
    }

    /// `at end => Unit(args);` (or `at eof`): at most one of each, a unit with fields,
    /// its arguments state.
    pub(super) fn check_end(&mut self, a: &AnalyzerDecl, eof: bool) -> Option<crate::ir::EndUnit> {
        let what = if eof { "at eof" } else { "at end" };
        let mut ends = a.ends.iter().filter(|e| e.eof == eof);
        let e = ends.next()?;
        if let Some(extra) = ends.next() {
            self.err(extra.span, format!("an analyzer has one `{what}` unit"));
        }
        let u = self.w.unit(self.m, &e.unit.0);
        let Some(u) = u else {
            self.err(e.unit.1, format!("unknown unit `{}`", e.unit.0));
            return None;
        };
        if !matches!(u.body, crate::ast::UnitBody::Fields(_)) {
            self.err(e.unit.1, format!("`{what}` parses a unit with fields: `{}` is not", e.unit.0));
            return None;
        }
        let args = if u.params.is_empty() && e.args.is_empty() {
            Vec::new()
        } else {
            self.state_args(a, &e.unit, &e.args)?
        };
        Some(crate::ir::EndUnit { unit: e.unit.0.clone(), args })
    }

    /// The sink a `feed` or `close` names, if the analyzer declares it.
    fn declared_sink<'d>(&mut self, a: &'d AnalyzerDecl, s: &crate::ast::SetDecl) -> Option<&'d crate::ast::SinkDecl> {
        let sink = a.sinks.iter().find(|k| k.name == s.var.0);
        if sink.is_none() {
            self.err(s.var.1, format!("unknown sink `{}`: declare it with `sink {}: Unit;`", s.var.0, s.var.0));
        }
        sink
    }

    /// `on r: Unit feed sink = bytes [where cond];`: a declared sink, fed bytes of
    /// the PDU by a unit the analyzer parses, other than the sink's own.
    fn check_feed(&mut self, a: &AnalyzerDecl, s: &crate::ast::SetDecl) -> Option<StateSet> {
        let sink = self.declared_sink(a, s)?;
        if sink.unit.0 == s.unit.0 {
            self.err(s.unit.1, format!("`{}` cannot feed its own sink", s.unit.0));
            return None;
        }
        if !self.parses(a, &s.unit.0) {
            self.err(s.unit.1, format!("`{}` is not a unit this analyzer parses", s.unit.0));
            return None;
        }
        // An extern fn returning bytes may make the value (QUIC's decryption), from the PDU's fields.
        let value_reads = match &s.value.kind {
            ExprKind::Call(f, args) if self.module().extern_fns.iter().any(|x| x.name == *f && x.ret == "bytes") => {
                args.iter().find_map(outside_the_pdu)
            }
            _ => outside_the_pdu(&s.value),
        };
        if let Some(span) = value_reads.or_else(|| s.cond.as_ref().and_then(outside_the_pdu)) {
            self.err(span, "a `feed` value or condition reads only the PDU: its fields and slices of them");
            return None;
        }
        // More binders select inside the PDU; each selection feeds.
        let (sc, binders) = self.on_scope(s)?;
        self.fallible_bytes_ok = true;
        let value = self.bytes_arg(&s.value, &sc);
        self.fallible_bytes_ok = false;
        let pieces = match &s.pieces {
            Some(p) => Some(self.check_pieces(p, &sc)?),
            None => None,
        };
        let per_feed = sink.attrs.iter().any(|at| at.name == "per_feed");
        if per_feed && (s.pieces.is_some() || s.at.is_some()) {
            self.err(s.var.1, format!("`{}` takes each feed as one whole PDU (`&per_feed`): it has no pieces or offsets", s.var.0));
            return None;
        }
        // `at offset`: every feed of the sink places its bytes, or none does.
        let placed = a.sets.iter().filter(|o| o.op == SetOp::Feed && o.var.0 == s.var.0);
        if s.at.is_none() && placed.clone().any(|o| o.at.is_some()) {
            self.err(s.var.1, format!("other feeds place bytes in `{}` by offset: this one needs `at` too", s.var.0));
            return None;
        }
        let at = match &s.at {
            Some(e) => {
                if let Some(span) = outside_the_pdu(e) {
                    self.err(span, "a `feed` offset reads only the PDU: its fields and slices of them");
                    return None;
                }
                Some(self.int(e, &sc))
            }
            None => None,
        };
        let cond = s.cond.as_ref().map(|c| self.boolean(c, &sc));
        Some(StateSet {
            unit: s.unit.0.clone(),
            var: s.var.0.clone(),
            value,
            op: SetOp::Feed,
            cond,
            binders,
            pieces,
            at,
            after_events: s.after_events,
        })
    }

    /// `pieces(message = .., offset = .., length = .., header = ..)`: integers for the
    /// message's key, the piece's offset in it and the message's length; bytes for the
    /// header put before the whole message (optional).
    fn check_pieces(&mut self, p: &crate::ast::PiecesDecl, sc: &Scope) -> Option<crate::ir::Pieces> {
        let mut message = None;
        let mut offset = None;
        let mut length = None;
        let mut header = None;
        for a in &p.args {
            let slot = match a.name.as_str() {
                "message" => &mut message,
                "offset" => &mut offset,
                "length" => &mut length,
                "header" => &mut header,
                other => {
                    self.err(a.span, format!("`pieces` takes `message`, `offset`, `length` and `header`, not `{other}`"));
                    return None;
                }
            };
            if slot.is_some() {
                self.err(a.span, format!("`{}` is given twice in `pieces(...)`", a.name));
                return None;
            }
            *slot = Some(a);
        }
        let (Some(message), Some(offset), Some(length)) = (message, offset, length) else {
            self.err(p.span, "`pieces(...)` needs `message` (which message a piece belongs to), `offset` (where in it the piece goes) and `length` (the message's length)");
            return None;
        };
        Some(crate::ir::Pieces {
            message: self.int(&message.expr, sc),
            offset: self.int(&offset.expr, sc),
            length: self.int(&length.expr, sc),
            header: header.map(|h| self.bytes_arg(&h.expr, sc)),
        })
    }

    /// The scope of a value or condition that reads one parsed PDU of `unit` as `binder`.
    pub(super) fn pdu_scope(&self, binder: &str, unit: &str) -> Scope {
        let mut sc = Scope::new(Mode::Bind);
        sc.vars.push(Var {
            name: binder.to_string(),
            var: VarRef::Pdu,
            ty: Ty::Unit(self.m, unit.to_string()),
            is_ref: true,
        });
        sc
    }

    /// The scope of an `on p: Unit, x: p.path, ... <action>` item: the PDU's
    /// binder and each further binder, which selects inside what came before
    /// (the action runs once per selection). `None` when a path does not check.
    pub(super) fn on_scope(&mut self, s: &crate::ast::SetDecl) -> Option<(Scope, Vec<(String, crate::ir::BinderIter)>)> {
        let mut sc = self.pdu_scope(&s.binder, &s.unit.0);
        let mut binders = Vec::new();
        for b in &s.binders {
            let (iter, ty) = self.binder_iter(&b.expr, &sc)?;
            sc.vars.push(Var::named(&b.name, ty, true));
            binders.push((b.name.clone(), iter));
        }
        Some((sc, binders))
    }

    /// `&overflow(weird = "name")` on a queue: the weird reported when a full queue is cleared.
    fn queue_overflow(&mut self, attrs: &[crate::ast::Attr]) -> Option<String> {
        let mut out = None;
        for at in attrs {
            let weird = (at.name == "overflow" && at.value.is_none() && at.args.len() == 1)
                .then(|| &at.args[0])
                .filter(|arg| arg.name.as_deref() == Some("weird"))
                .and_then(|arg| match &arg.expr.kind {
                    ExprKind::Str(s) => Some(s.clone()),
                    _ => None,
                });
            match weird {
                Some(w) => out = Some(w),
                None => self.err(
                    at.span,
                    "a queue takes only `&overflow(weird = \"name\")`",
                ),
            }
        }
        out
    }

    /// `on c: Unit raw = expr;`: `Unit` is a line unit whose direction has a raw
    /// unit, at most one per unit; the value reads only the PDU, like a `set`.
    pub(super) fn check_raws(&mut self, a: &AnalyzerDecl) -> Vec<RawSet> {
        let mut out: Vec<RawSet> = Vec::new();
        for r in &a.raws {
            let (unit, span) = (&r.unit.0, r.unit.1);
            let dir = a.items.iter().filter_map(|it| it.lines.as_ref()).find_map(|l| {
                if l.orig.as_ref().is_some_and(|(u, _)| u == unit) {
                    Some((l.orig_raw.is_some(), "orig"))
                } else if l.resp.as_ref().is_some_and(|(u, _)| u == unit) {
                    Some((l.resp_raw.is_some(), "resp"))
                } else {
                    None
                }
            });
            match dir {
                None => {
                    self.err(span, format!("`{unit}` is not a line unit of this analyzer"));
                    continue;
                }
                Some((false, dir)) => {
                    self.err(
                        span,
                        format!("`{unit}` switches `{dir}` to raw bytes, but `lines(...)` has no `{dir} raw: Unit` for them"),
                    );
                    continue;
                }
                Some((true, _)) => {}
            }
            if out.iter().any(|o| o.unit == *unit) {
                self.err(r.span, format!("`{unit}` has a `raw` already"));
                continue;
            }
            if let Some(span) = outside_the_pdu(&r.value) {
                self.err(
                    span,
                    "a `raw` value reads only the PDU: its fields, integers and `len`, `count`, `dec`, `trim`, `choose`",
                );
                continue;
            }
            let sc = self.pdu_scope(&r.binder, unit);
            let value = self.int(&r.value, &sc);
            out.push(RawSet {
                unit: unit.clone(),
                value,
            });
        }
        out
    }

    /// `confirm on Unit;`: units of this analyzer whose PDUs alone confirm it.
    pub(super) fn check_confirm_on(&mut self, a: &AnalyzerDecl) -> Vec<String> {
        let mut out = Vec::new();
        for (unit, span) in &a.confirm_on {
            let is_side = unit == "orig" || unit == "resp";
            if a.confirm_never {
                self.err(*span, "`confirm on` contradicts `confirm never`");
            } else if is_side && !a.items.iter().any(|it| it.lines.is_some()) {
                self.err(
                    *span,
                    format!("`confirm on {unit};` needs a `lines(...)` item: only line framing has directions of its own units"),
                );
            } else if !is_side && !self.parses(a, unit) {
                self.err(
                    *span,
                    format!("`{unit}` is not a unit this analyzer parses"),
                );
            } else {
                out.push(unit.clone());
            }
        }
        out
    }

    /// Whether an item of `a` parses PDUs of `unit` (directly, as a line unit or from a sink).
    fn parses(&self, a: &AnalyzerDecl, unit: &str) -> bool {
        let leftover = |k: &crate::ast::SinkDecl| {
            k.attrs.iter().any(|at| {
                at.name == "leftover"
                    && at.args.iter().any(|x| matches!(&x.expr, Expr { kind: ExprKind::Path(p), .. } if p == unit))
            })
        };
        a.sinks.iter().any(|k| k.unit.0 == unit || leftover(k)) || a.ends.iter().any(|e| e.unit.0 == unit) || a.items.iter().any(|it| {
            it.unit == unit
                || it.lines.as_ref().is_some_and(|l| {
                    [&l.orig, &l.resp, &l.orig_raw, &l.resp_raw]
                        .into_iter()
                        .flatten()
                        .any(|(u, _)| u == unit)
                })
        })
    }

    /// The state variables a line unit takes as arguments: declared, one per parameter.
    pub(super) fn state_args(
        &mut self,
        a: &AnalyzerDecl,
        unit: &(String, Span),
        args: &[(String, Span)],
    ) -> Option<Vec<String>> {
        let u = self.w.unit(self.m, &unit.0)?;
        let params = u.params.len();
        if let Some(p) = u.params.iter().find(|p| p.ty != "u64" && p.ty != "bytes") {
            let span = p.span;
            self.err(
                span,
                "an analyzer passes state variables as its units' arguments, so their parameters are `u64` or `bytes`",
            );
            return None;
        }
        let param_tys: Vec<(String, Span)> = u.params.iter().map(|p| (p.ty.clone(), p.span)).collect();
        if params != args.len() {
            self.err(
                unit.1,
                format!(
                    "`{}` takes {params} argument(s), {} given (an analyzer passes state variables)",
                    unit.0,
                    args.len()
                ),
            );
            return None;
        }
        let mut out = Vec::new();
        for ((name, span), (pty, _)) in args.iter().zip(&param_tys) {
            let Some(s) = a.states.iter().find(|s| s.name == *name) else {
                self.err(*span, format!("unknown state `{name}`"));
                return None;
            };
            let is_bytes = s.bytes.is_some();
            if is_bytes != (pty == "bytes") {
                let (have, want) = if is_bytes { ("bytes", "u64") } else { ("an integer", "bytes") };
                self.err(*span, format!("state `{name}` is {have}, but the parameter is `{want}`"));
                return None;
            }
            out.push(name.clone());
        }
        Some(out)
    }
}

/// The first part of a `set` value that reads more than the PDU (`$` builtins,
/// records, extern fns): the update runs before the event context exists.
fn outside_the_pdu(e: &Expr) -> Option<Span> {
    match &e.kind {
        ExprKind::Dollar(_) => Some(e.span),
        ExprKind::Call(f, args) => {
            if matches!(f.as_str(), "len" | "count" | "dec" | "trim" | "choose") {
                args.iter().find_map(outside_the_pdu)
            } else {
                Some(e.span)
            }
        }
        ExprKind::ListComp { .. } => Some(e.span),
        ExprKind::Member(b, _) | ExprKind::Unary(_, b) => outside_the_pdu(b),
        ExprKind::Binary(_, a, b) => outside_the_pdu(a).or_else(|| outside_the_pdu(b)),
        _ => None,
    }
}
