//! Lowering of `.evt` declarations: records, events, bindings, analyzers.

use super::*;

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
    Child(Node),
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
            _ => unreachable!(),
        }
    }
}

impl Emitter<'_> {
    fn ztype_of_arg(&self, event: &str, arg: &str) -> Option<ZTy> {
        let sig = self.events.get(event)?;
        sig.args
            .iter()
            .find(|(n, _)| n == arg)
            .map(|(_, t)| ZTy::parse(t))
    }

    fn bind_scope() -> Scope {
        Scope {
            mode: Mode::Bind,
            vars: Vec::new(),
            dollar: None,
            cursor: format_ident!("cur"),
            link: false,
        }
    }

    pub(crate) fn gen_records(&mut self) -> TokenStream {
        let mut out = TokenStream::new();
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
                    Some(TypeDef::Unit(m, u)) => match u.body {
                        UnitBody::Fields(_) => Ty::Unit(m, u.name.clone()),
                        UnitBody::Switch(_) => Ty::Union(m, u.name.clone()),
                    },
                    Some(TypeDef::Extern(m, x)) => Ty::Extern(m, x.name.clone()),
                    _ => {
                        self.err(
                            p.span,
                            format!("record parameters are units; unknown unit `{}`", p.ty),
                        );
                        continue;
                    }
                };
                let n = ident(&p.name);
                let rt = self.rust_ty(&ty);
                params.push(quote!(#n: &#rt));
                sc.vars.push(Var {
                    name: p.name.clone(),
                    tokens: quote!(#n),
                    ty,
                    is_ref: true,
                });
            }
            let mut fields = Vec::new();
            let mut inits = Vec::new();
            for f in &r.fields {
                let (t, ety) = self.expr(&f.expr, &sc);
                let Some(z) = self.infer_z(&ety, f.expr.span) else {
                    continue;
                };
                let v = self.convert_z(t, &ety, &z, f.expr.span);
                let rt = self.zty_rust(&z);
                let n = ident(&f.name);
                fields.push(quote!(pub #n: #rt,));
                inits.push(quote!(#n: #v,));
            }
            let sn = format_ident!("{}", camel(&r.name));
            let f = format_ident!("build_{}", r.name.to_lowercase());
            let doc = format!(" Zeek's `{}` record.", r.name);
            out.extend(quote! {
                #[doc = #doc]
                #[derive(Debug, Clone, serde::Serialize)]
                pub struct #sn { #(#fields)* }
                #[allow(unused_variables)]
                pub fn #f<'a>(#(#params,)* ecx: &::netpac_runtime::parse::EmitCx<'_>, lim: &Limits) -> #sn {
                    #sn { #(#inits)* }
                }
            });
        }
        out
    }

    /// Event structs (one per event name) and the checks against the table.
    pub(crate) fn gen_event_structs(&mut self) -> (TokenStream, Vec<String>) {
        let mut out = TokenStream::new();
        let mut done = Vec::new();
        for ev in &self.module().events {
            let Some(sig) = self.events.get(&ev.name).cloned() else {
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
            if done.contains(&ev.name) {
                continue;
            }
            done.push(ev.name.clone());
            let sn = format_ident!("{}", camel(&ev.name));
            let id = upper_ident(&ev.name);
            let mut fields = Vec::new();
            for (n, t) in &sig.args {
                let z = ZTy::parse(t);
                if let ZTy::Record(r) = &z {
                    if !self.module().records.iter().any(|d| &d.name == r) {
                        self.err(ev.span, format!("event `{}` needs record `{r}`; declare it with `record {r}(...) = {{ ... }}`", ev.name));
                        continue;
                    }
                }
                let rt = self.zty_rust(&z);
                let f = ident(n);
                fields.push(quote!(#f: #rt));
            }
            let doc = format!(" Zeek event `{}`.", ev.name);
            out.extend(quote! {
                ::netpac_runtime::define_event!(#[doc = #doc] #sn = #id { #(#fields),* });
            });
        }
        (out, done)
    }

    fn event_raise(&mut self, idx: usize, sc: &Scope) -> TokenStream {
        let ev = &self.module().events[idx];
        if !self.events.contains_key(&ev.name) {
            return quote!();
        }
        let sn = format_ident!("{}", camel(&ev.name));
        let id = upper_ident(&ev.name);
        let mut inits = Vec::new();
        for a in &ev.args {
            let Some(z) = self.ztype_of_arg(&ev.name, &a.name) else {
                continue;
            };
            let (t, ety) = self.expr(&a.expr, sc);
            let v = self.convert_z(t, &ety, &z, a.expr.span);
            let f = ident(&a.name);
            inits.push(quote!(#f: #v));
        }
        let cond = match &ev.cond {
            Some(c) => {
                let c = self.boolean(c, sc);
                quote!(&& #c)
            }
            None => quote!(),
        };
        quote! {
            if events.wants(::netpac_runtime::event::ids::#id) #cond {
                ::netpac_runtime::raise!(events, ecx.ts, #sn { #(#inits),* });
            }
        }
    }

    fn node_ids(&self, n: &Node, out: &mut Vec<String>) {
        for i in &n.items {
            match i {
                Item::Event(e) | Item::Done(e) => {
                    let name = self.module().events[*e].name.clone();
                    if self.events.contains_key(&name) && !out.contains(&name) {
                        out.push(name);
                    }
                }
                Item::Child(c) => self.node_ids(c, out),
            }
        }
    }

    fn emit_node_items(&mut self, n: &Node, sc: &Scope) -> TokenStream {
        let mut body = Vec::new();
        let mut dones = Vec::new();
        for item in &n.items {
            match item {
                Item::Event(e) => body.push(self.event_raise(*e, sc)),
                Item::Done(e) => dones.push(*e),
                Item::Child(c) => body.push(self.emit_child(c, sc)),
            }
        }
        for e in dones {
            body.push(self.event_raise(e, sc));
        }
        quote!(#(#body)*)
    }

    fn emit_child(&mut self, n: &Node, sc: &Scope) -> TokenStream {
        let Some((iter, ty)) = self.binder_iter(&n.src, sc) else {
            return quote!();
        };
        let mut inner = sc.clone();
        let v = ident(&n.var);
        inner.vars.push(Var {
            name: n.var.clone(),
            tokens: quote!(#v),
            ty,
            is_ref: true,
        });
        let body = self.emit_node_items(n, &inner);
        let mut ids = Vec::new();
        self.node_ids(n, &mut ids);
        let wants: Vec<TokenStream> = ids
            .iter()
            .map(|i| {
                let id = upper_ident(i);
                quote!(events.wants(::netpac_runtime::event::ids::#id))
            })
            .collect();
        if wants.is_empty() {
            return quote!();
        }
        quote! {
            if #(#wants)||* {
                for #v in #iter { #body }
            }
        }
    }

    /// `bind_<unit>` functions: raise the events bound to a parsed PDU, in document order.
    pub(crate) fn gen_bindings(&mut self) -> TokenStream {
        // Root: unit name → roots (one per root variable name).
        let mut roots: Vec<(String, Node)> = Vec::new();
        let mut errors: Vec<(String, Vec<usize>)> = Vec::new();
        let events = self.module().events.clone();
        for (i, ev) in events.iter().enumerate() {
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
                    let ExprKind::Path(unit) = &first.expr.kind else {
                        self.err(
                            first.expr.span,
                            "the first binder names a unit: `m: Message`",
                        );
                        continue;
                    };
                    match self.w.unit(self.m, unit) {
                        Some(u) if matches!(u.body, UnitBody::Fields(_)) => {}
                        _ => {
                            self.err(first.expr.span, format!("unknown unit `{unit}`"));
                            continue;
                        }
                    }
                    let key = format!("{}:{}", first.name, unit);
                    let pos = roots.iter().position(|(_, n)| n.key == key);
                    let root = match pos {
                        Some(p) => &mut roots[p].1,
                        None => {
                            roots.push((
                                unit.clone(),
                                Node {
                                    var: first.name.clone(),
                                    src: first.expr.clone(),
                                    key,
                                    items: Vec::new(),
                                },
                            ));
                            &mut roots.last_mut().unwrap().1
                        }
                    };
                    let mut node = root;
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
        let link_units = self.link_units();
        let mut out = TokenStream::new();
        let mut units: Vec<String> = Vec::new();
        for u in &self.module().units {
            if matches!(u.body, UnitBody::Fields(_)) {
                units.push(u.name.clone());
            }
        }
        for unit in units {
            let mut bodies = Vec::new();
            for (u, node) in &roots {
                if *u != unit {
                    continue;
                }
                let mut sc = Self::bind_scope();
                sc.link = link_units.contains(&unit);
                let v = ident(&node.var);
                sc.vars.push(Var {
                    name: node.var.clone(),
                    tokens: quote!(#v),
                    ty: Ty::Unit(self.m, unit.clone()),
                    is_ref: true,
                });
                let body = self.emit_node_items(node, &sc);
                bodies.push(quote!({ let #v = pdu; #body }));
            }
            let mut err_bodies = Vec::new();
            for (u, evs) in &errors {
                if *u != unit {
                    continue;
                }
                let mut sc = Self::bind_scope();
                sc.link = link_units.contains(&unit);
                for e in evs {
                    err_bodies.push(self.event_raise(*e, &sc));
                }
            }
            let un = format_ident!("{}", unit);
            let lt = if self.w.needs_lt(&Ty::Unit(self.m, unit.clone())) {
                quote!(<'_>)
            } else {
                quote!()
            };
            let f = format_ident!("bind_{}", snake(&unit));
            let fe = format_ident!("bind_error_{}", snake(&unit));
            let doc = format!(" Raises the events bound to a parsed `{unit}`, in document order.");
            let doc_e = format!(" Raises the events bound to a `{unit}` that failed to parse.");
            out.extend(quote! {
                #[doc = #doc]
                #[allow(unused_variables, clippy::all)]
                pub fn #f(pdu: &#un #lt, events: &mut ::netpac_runtime::event::Events, ecx: &::netpac_runtime::parse::EmitCx<'_>, lim: &Limits) {
                    #(#bodies)*
                }
                #[doc = #doc_e]
                #[allow(unused_variables, clippy::all)]
                pub fn #fe(events: &mut ::netpac_runtime::event::Events, ecx: &::netpac_runtime::parse::EmitCx<'_>, lim: &Limits) {
                    #(#err_bodies)*
                }
            });
        }
        out
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

    /// A link-layer analyzer (`ethertype 0x0806 => Unit;`): parses each frame's payload as one PDU.
    fn gen_link_analyzer(
        &mut self,
        a: &AnalyzerDecl,
        out: &mut TokenStream,
        specs: &mut Vec<TokenStream>,
    ) {
        let an = format_ident!("{}LinkAnalyzer", camel(&a.name));
        let tag = &a.name;
        let mut handlers = Vec::new();
        let mut arms = Vec::new();
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
            let un = format_ident!("{}", item.unit);
            let (bind_unit, bound) = match &item.bind_field {
                None => (item.unit.clone(), quote!(pdu)),
                Some((f, span)) => match self.w.field_ty(self.m, &item.unit, f) {
                    Some(Ty::Unit(fm, fu)) if fm == self.m => {
                        let fi = ident(f);
                        (fu, quote!(&pdu.#fi))
                    }
                    _ => {
                        self.err(
                            *span,
                            format!(
                                "`{}.{f}` must be a field of a unit type of this grammar",
                                item.unit
                            ),
                        );
                        continue;
                    }
                },
            };
            let bind = format_ident!("bind_{}", snake(&bind_unit));
            let bind_err = format_ident!("bind_error_{}", snake(&bind_unit));
            let h = format_ident!("link_{}_{}", snake(&a.name), i);
            handlers.push(quote! {
                #[allow(clippy::too_many_arguments)]
                fn #h(limits: &Limits, ts: ::netpac_runtime::zeek::Time, l2: &::netpac_runtime::packet::Layer2, data: &[u8],
                      events: &mut ::netpac_runtime::event::Events, weirds: &mut ::std::vec::Vec<::netpac_runtime::weird::Weird>) {
                    let mut pcx = ::netpac_runtime::parse::ParseCx::new(false, 0);
                    let mut cur = ::netpac_runtime::parse::Cursor::new(data);
                    let parsed = #un::parse(&mut cur, &mut pcx, limits);
                    // A frame has no connection: its weirds are network weirds.
                    for (name, addl) in pcx.take_weirds() {
                        weirds.push(::netpac_runtime::weird::Weird {
                            ts,
                            name,
                            addl,
                            scope: ::netpac_runtime::weird::WeirdScope::Net,
                            source: #tag,
                        });
                    }
                    let ecx = ::netpac_runtime::parse::EmitCx {
                        ts,
                        conn: &::netpac_runtime::analyzer::NoConnection,
                        pdu: ::netpac_runtime::parse::Pdu::new(data),
                        pdu_len: data.len(),
                        is_orig: false,
                        halted: pcx.halted().is_some(),
                        l2: ::std::option::Option::Some(l2),
                    };
                    match &parsed {
                        ::std::result::Result::Ok(pdu) => #bind(#bound, events, &ecx, limits),
                        ::std::result::Result::Err(_) => #bind_err(events, &ecx, limits),
                    }
                }
            });
            let idx = Literal::u8_unsuffixed(i as u8);
            arms.push(quote!(#idx => #h(limits, ts, l2, payload, events, weirds),));
            let ctor = format_ident!("new_link_{}_{}", snake(&a.name), i);
            out.extend(quote! {
                fn #ctor() -> ::std::boxed::Box<dyn ::netpac_runtime::analyzer::LinkAnalyzer> {
                    ::std::boxed::Box::new(#an::new(#idx, Limits::default()))
                }
            });
            for et in &item.ports {
                let et = Literal::u16_unsuffixed(*et);
                specs.push(quote! {
                    reg.add_link(::netpac_runtime::analyzer::LinkAnalyzerSpec {
                        tag: #tag,
                        ethertype: #et,
                        new: #ctor,
                    });
                });
            }
        }
        let doc = format!(
            " The `{}` link-layer analyzer (generated from its `ethertype` items).",
            a.name
        );
        out.extend(quote! {
            #(#handlers)*
            #[doc = #doc]
            pub struct #an {
                item: u8,
                /// Limits in force; change them before frames arrive.
                pub limits: Limits,
            }
            impl #an {
                /// `item` is the index of the `ethertype` line of the declaration.
                pub fn new(item: u8, limits: Limits) -> Self {
                    #an { item, limits }
                }
            }
            impl ::netpac_runtime::analyzer::LinkAnalyzer for #an {
                #[allow(unused_variables)]
                fn deliver(&mut self, ts: ::netpac_runtime::zeek::Time, l2: &::netpac_runtime::packet::Layer2, payload: &[u8],
                           events: &mut ::netpac_runtime::event::Events, weirds: &mut ::std::vec::Vec<::netpac_runtime::weird::Weird>) {
                    let #an { item, limits } = self;
                    match *item {
                        #(#arms)*
                        _ => {}
                    }
                }
            }
        });
    }

    /// The `flip on m: Unit where cond;` check for PDUs of `unit`: on the
    /// connection's first PDU, sent by the originator, a true `cond` swaps the
    /// roles (unless the responder is a multicast group, as in Zeek).
    fn flip_check(&mut self, a: &crate::ast::AnalyzerDecl, unit: &str) -> TokenStream {
        let Some(f) = a.flips.iter().find(|f| f.unit == unit) else {
            return quote!(*first = true;);
        };
        let mut sc = Self::bind_scope();
        sc.vars.push(Var { name: f.binder.clone(), tokens: quote!(pdu), ty: Ty::Unit(self.m, f.unit.clone()), is_ref: true });
        let cond = self.boolean(&f.cond, &sc);
        quote! {
            if !::std::mem::replace(first, true) && is_orig {
                if let ::std::result::Result::Ok(pdu) = &parsed {
                    if !cx.conn.id().resp_h.is_multicast() && #cond {
                        cx.flip_roles();
                        is_orig = false;
                    }
                }
            }
        }
    }

    pub(crate) fn gen_analyzers(&mut self) -> TokenStream {
        let mut out = TokenStream::new();
        let mut specs = Vec::new();
        let analyzers = self.module().analyzers.clone();
        for a in &analyzers {
            if a.items.iter().any(|i| i.transport == Transport::Link) {
                self.gen_link_analyzer(a, &mut out, &mut specs);
            }
            if a.items.iter().all(|i| i.transport == Transport::Link) {
                continue;
            }
            let an = format_ident!("{}Analyzer", camel(&a.name));
            let tag = &a.name;
            let mut handlers = Vec::new();
            let mut deliver_arms = Vec::new();
            let mut gap_arms = Vec::new();
            for f in &a.flips {
                if self.w.unit(self.m, &f.unit).is_none() {
                    self.err(f.unit_span, format!("unknown unit `{}`", f.unit));
                } else if !a.items.iter().any(|it| it.unit == f.unit) {
                    self.err(f.unit_span, format!("`{}` is not a unit this analyzer parses", f.unit));
                }
            }
            for sig in &a.signatures {
                if !a.items.iter().any(|it| it.transport == sig.transport) {
                    self.err(sig.span, "a signature needs a `udp`/`tcp` line of the same transport in this analyzer (it says which unit parses the traffic)");
                }
                if a.signatures.iter().filter(|s| s.transport == sig.transport).count() > 1 {
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
                    self.err(e.span, "an expire timer needs a `udp`/`tcp` line of the same transport in this analyzer");
                }
                if a.expires.iter().filter(|x| x.transport == e.transport).count() > 1 {
                    self.err(e.span, "only one expire timer per transport");
                }
            }
            for (i, item) in a.items.iter().enumerate() {
                if item.transport == Transport::Link {
                    continue;
                }
                if let Some(ctor) = &item.extern_ctor {
                    let ctor: syn::Path = match syn::parse_str(ctor) {
                        Ok(p) => p,
                        Err(_) => {
                            self.err(item.unit_span, format!("`{ctor}` is not a Rust path"));
                            continue;
                        }
                    };
                    let proto = if item.transport == Transport::Udp { quote!(Udp) } else { quote!(Tcp) };
                    let signature = signature_tokens(a, i);
                    let expire_after = expire_tokens(a, i);
                    let ports: Vec<Literal> = item
                        .ports
                        .iter()
                        .map(|p| Literal::u16_unsuffixed(*p))
                        .collect();
                    specs.push(quote! {
                        reg.add(::netpac_runtime::analyzer::AnalyzerSpec {
                            tag: #tag,
                            proto: ::netpac_runtime::zeek::Proto::#proto,
                            ports: &[#(#ports),*],
                            new: #ctor,
                            signature: #signature,
                            expire_after: #expire_after,
                        });
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
                if !u.params.is_empty() {
                    self.err(
                        item.unit_span,
                        "an analyzer's PDU unit cannot take parameters",
                    );
                    continue;
                }
                let idx = Literal::u8_unsuffixed(i as u8);
                let h = format_ident!("handle_{}_{}", snake(&a.name), i);
                let un = format_ident!("{}", item.unit);
                // Events bind to the PDU, or to one unit-typed field of it (`=> TcpMessage.msg`).
                let (bind_unit, bound, pdu_len) = match &item.bind_field {
                    None => (item.unit.clone(), quote!(pdu), quote!(data.len())),
                    Some((f, span)) => match self.w.field_ty(self.m, &item.unit, f) {
                        Some(Ty::Unit(fm, fu)) if fm == self.m => {
                            let fi = ident(f);
                            let prefix = if u.attrs.iter().any(|x| x.name == "size") {
                                quote!(data.len().saturating_sub(#un::FRAME_PREFIX))
                            } else {
                                quote!(data.len())
                            };
                            (fu, quote!(&pdu.#fi), prefix)
                        }
                        _ => {
                            self.err(
                                *span,
                                format!(
                                    "`{}.{f}` must be a field of a unit type of this grammar",
                                    item.unit
                                ),
                            );
                            continue;
                        }
                    },
                };
                let bind = format_ident!("bind_{}", snake(&bind_unit));
                let bind_err = format_ident!("bind_error_{}", snake(&bind_unit));
                let flip = self.flip_check(a, &item.unit);
                handlers.push(quote! {
                    #[allow(unused_mut)]
                    fn #h(limits: &Limits, cx: &mut ::netpac_runtime::analyzer::AnalyzerCx<'_>, mut is_orig: bool, data: &[u8], first: &mut bool) {
                        let resp_port = cx.conn.id().resp_p.number;
                        let mut pcx = ::netpac_runtime::parse::ParseCx::new(is_orig, resp_port);
                        let mut cur = ::netpac_runtime::parse::Cursor::new(data);
                        let parsed = #un::parse(&mut cur, &mut pcx, limits);
                        #flip
                        for (name, addl) in pcx.take_weirds() {
                            cx.weird(name, addl);
                        }
                        match &parsed {
                            ::std::result::Result::Ok(_) => {
                                if let ::std::option::Option::Some(e) = pcx.recovered() {
                                    cx.violation(e.to_string());
                                } else if let ::std::option::Option::Some(why) = pcx.violation() {
                                    cx.violation(why);
                                } else if pcx.halted().is_none() {
                                    cx.confirm();
                                }
                            }
                            ::std::result::Result::Err(e) => {
                                if !e.is_reported() {
                                    cx.violation(e.to_string());
                                }
                            }
                        }
                        let flipped = ::netpac_runtime::analyzer::FlippedConn(cx.conn);
                        let ecx = ::netpac_runtime::parse::EmitCx {
                            ts: cx.ts,
                            conn: if cx.flip { &flipped } else { cx.conn },
                            pdu: ::netpac_runtime::parse::Pdu::new(data),
                            pdu_len: #pdu_len,
                            is_orig,
                            halted: pcx.halted().is_some(),
                            l2: ::std::option::Option::None,
                        };
                        match &parsed {
                            ::std::result::Result::Ok(pdu) => #bind(#bound, cx.events, &ecx, limits),
                            ::std::result::Result::Err(_) => #bind_err(cx.events, &ecx, limits),
                        }
                    }
                });
                let (proto, arm, gap) = match item.transport {
                    Transport::Link => continue,
                    Transport::Udp => (
                        quote!(Udp),
                        quote!(#idx => #h(limits, cx, is_orig, data, first),),
                        quote!(),
                    ),
                    Transport::Tcp => {
                        if !u.attrs.iter().any(|x| x.name == "size") {
                            self.err(item.unit_span, format!("unit `{}` is attached over tcp, so it needs a unit-level `&size = ...` to frame the stream", item.unit));
                        }
                        (
                            quote!(Tcp),
                            quote!(#idx => {
                                let framer = &mut framers[usize::from(!is_orig)];
                                let r = framer.deliver(data, #un::frame_len, &mut |pdu| #h(limits, cx, is_orig, pdu, first));
                                if let ::std::result::Result::Err(e) = r {
                                    cx.violation(e.to_string());
                                }
                            }),
                            quote!(#idx => framers[usize::from(!is_orig)].desync(),),
                        )
                    }
                };
                deliver_arms.push(arm);
                gap_arms.push(gap);
                let ports: Vec<Literal> = item
                    .ports
                    .iter()
                    .map(|p| Literal::u16_unsuffixed(*p))
                    .collect();
                let ctor = format_ident!("new_{}_{}", snake(&a.name), i);
                out.extend(quote! {
                    fn #ctor() -> ::std::boxed::Box<dyn ::netpac_runtime::analyzer::Analyzer> {
                        ::std::boxed::Box::new(#an::new(#idx, Limits::default()))
                    }
                });
                let signature = signature_tokens(a, i);
                let expire_after = expire_tokens(a, i);
                specs.push(quote! {
                    reg.add(::netpac_runtime::analyzer::AnalyzerSpec {
                        tag: #tag,
                        proto: ::netpac_runtime::zeek::Proto::#proto,
                        ports: &[#(#ports),*],
                        new: #ctor,
                        signature: #signature,
                        expire_after: #expire_after,
                    });
                });
            }
            if a.items.iter().all(|i| i.extern_ctor.is_some()) {
                continue;
            }
            let doc = format!(
                " The `{}` analyzer (generated from its `analyzer` declaration).",
                a.name
            );
            out.extend(quote! {
                #(#handlers)*
                #[doc = #doc]
                pub struct #an {
                    item: u8,
                    /// Limits in force; change them before data arrives.
                    pub limits: Limits,
                    framers: [::netpac_runtime::framer::Framer; 2],
                    /// Whether the connection's first PDU was seen (`flip` rules look at it).
                    first: bool,
                }
                impl #an {
                    /// `item` is the index of the `udp`/`tcp` line of the declaration.
                    pub fn new(item: u8, limits: Limits) -> Self {
                        #an {
                            item,
                            limits,
                            framers: [
                                ::netpac_runtime::framer::Framer::new(MAX_PDU),
                                ::netpac_runtime::framer::Framer::new(MAX_PDU),
                            ],
                            first: false,
                        }
                    }
                }
                impl ::netpac_runtime::analyzer::Analyzer for #an {
                    #[allow(unused_variables)]
                    fn deliver(&mut self, cx: &mut ::netpac_runtime::analyzer::AnalyzerCx<'_>, is_orig: bool, data: &[u8]) {
                        let #an { item, limits, framers, first } = self;
                        match *item {
                            #(#deliver_arms)*
                            _ => {}
                        }
                    }
                    #[allow(unused_variables)]
                    fn undelivered(&mut self, cx: &mut ::netpac_runtime::analyzer::AnalyzerCx<'_>, is_orig: bool, len: u64) {
                        let #an { item, framers, .. } = self;
                        match *item {
                            #(#gap_arms)*
                            _ => {}
                        }
                    }
                }
            });
        }
        let max_pdu = self
            .module()
            .limits
            .iter()
            .find(|l| l.name == "max_pdu")
            .and_then(|l| match l.value {
                LimitValue::Int(v) => usize::try_from(v).ok(),
                _ => None,
            })
            .unwrap_or(1 << 24);
        let max_pdu = Literal::usize_unsuffixed(max_pdu);
        out.extend(quote! {
            /// Largest PDU a stream framer buffers (`limits { max_pdu = ...; }`).
            pub const MAX_PDU: usize = #max_pdu;
            /// Adds this grammar's analyzers to `reg`.
            #[allow(unused_variables)]
            pub fn register(reg: &mut ::netpac_runtime::analyzer::Registry) {
                #(#specs)*
            }
        });
        out
    }
}

/// `signature: Some(..)` for the first line of the signature's transport, else `None`.
fn signature_tokens(a: &crate::ast::AnalyzerDecl, i: usize) -> TokenStream {
    let item = &a.items[i];
    let first_of_transport = a.items.iter().position(|it| it.transport == item.transport) == Some(i);
    match a.signatures.iter().find(|s| s.transport == item.transport) {
        Some(sig) if first_of_transport => {
            let side = |p: &Option<(String, crate::diag::Span)>| match p {
                Some((p, _)) => quote!(::std::option::Option::Some(#p)),
                None => quote!(::std::option::Option::None),
            };
            let (o, r) = (side(&sig.orig), side(&sig.resp));
            quote!(::std::option::Option::Some(::netpac_runtime::dpd::Signature { orig: #o, resp: #r }))
        }
        _ => quote!(::std::option::Option::None),
    }
}

/// `expire_after: Some(..)` for every line of the transport an `expire` names, else `None`.
fn expire_tokens(a: &crate::ast::AnalyzerDecl, i: usize) -> TokenStream {
    match a.expires.iter().find(|e| e.transport == a.items[i].transport) {
        Some(e) => {
            let secs = Literal::i64_unsuffixed(i64::from(e.secs));
            quote!(::std::option::Option::Some(::netpac_runtime::zeek::Interval::from_secs(#secs)))
        }
        None => quote!(::std::option::Option::None),
    }
}
