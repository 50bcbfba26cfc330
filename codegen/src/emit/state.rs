//! Connection state (`state` and `on .. set` in an analyzer): the state struct the
//! analyzer holds and what each PDU handler does with it.

use super::analyzers::StateTokens;
use super::*;
use crate::ident::ident;
use crate::ast::SetOp;
use crate::ir::Analyzer;

/// Whether the analyzer feeds child analyzers of its own (`forward TAG = ..`).
pub(super) fn has_children(a: &Analyzer) -> bool {
    a.sets.iter().any(|s| s.op == SetOp::Forward && !s.var.is_empty())
}

/// The handler of the PDUs a sink frames: `handle_<analyzer>_sink_<name>`.
pub(super) fn sink_handler(a: &Analyzer, sink: &crate::ir::Sink) -> Ident {
    format_ident!("handle_{}_sink_{}", crate::ident::snake(&a.name), sink.name)
}

impl Emitter<'_> {
    /// The state struct, the analyzer's field holding it and its initialiser
    /// (all empty when the analyzer declares no state).
    pub(super) fn state_struct(
        &self,
        a: &Analyzer,
        ty: &Ident,
    ) -> (TokenStream, TokenStream, TokenStream) {
        if !a.keeps_state() {
            return (quote!(), quote!(), quote!());
        }
        let mut names: Vec<Ident> = a.states.iter().map(|s| ident(&s.name)).collect();
        // A queue is a FIFO of u64 values; a bytes variable holds up to N bytes in place;
        // every other variable is a u64.
        let mut types: Vec<TokenStream> = a
            .states
            .iter()
            .map(|s| match (&s.queue, s.bytes) {
                (Some(_), _) => quote!(::std::collections::VecDeque<u64>),
                (None, Some(cap)) => {
                    let cap = Literal::usize_unsuffixed(cap as usize);
                    quote!(::netpac_runtime::text::ShortBytes<#cap>)
                }
                (None, None) => quote!(u64),
            })
            .collect();
        let mut inits: Vec<TokenStream> = a
            .states
            .iter()
            .map(|s| match (&s.queue, s.bytes) {
                (Some(_), _) => quote!(::std::collections::VecDeque::new()),
                (None, Some(_)) => quote!(::netpac_runtime::text::ShortBytes::default()),
                (None, None) => {
                    let v = Literal::u64_unsuffixed(s.init);
                    quote!(#v)
                }
            })
            .collect();
        // `sink name: Unit;`: a framer per direction (index 0: the originator's).
        for k in &a.sinks {
            names.push(format_ident!("sink_{}", k.name));
            types.push(quote!([::netpac_runtime::framer::Framer; 2]));
            // A `&per_feed` sink frames nothing: its framers stay empty.
            let cap = if k.per_feed { quote!(0) } else { quote!(MAX_PDU) };
            // `&keep(n)`: longer PDUs are cut to their first n bytes.
            let keep = match k.keep {
                Some(n) => {
                    let n = Literal::usize_unsuffixed(usize::try_from(n).unwrap_or(usize::MAX));
                    quote!(.with_keep(#n))
                }
                None => quote!(),
            };
            inits.push(quote!([
                ::netpac_runtime::framer::Framer::new(#cap)#keep,
                ::netpac_runtime::framer::Framer::new(#cap)#keep,
            ]));
            // `feed .. at offset`: per direction, the stream put in order.
            if k.by_offset {
                names.push(format_ident!("sink_{}_offsets", k.name));
                types.push(quote!([::netpac_runtime::reorder::OffsetStream; 2]));
                inits.push(quote!(::std::default::Default::default()));
            }
            // `close`: per direction, the sink takes nothing more.
            names.push(format_ident!("sink_{}_closed", k.name));
            types.push(quote!([bool; 2]));
            inits.push(quote!([false, false]));
            // `feed .. pieces(...)`: per direction, the message being put together.
            if a.sets.iter().any(|s| s.op == SetOp::Feed && s.var == k.name && s.pieces.is_some()) {
                names.push(format_ident!("sink_{}_pieces", k.name));
                types.push(quote!([::netpac_runtime::pieces::Pieces; 2]));
                inits.push(quote!(::std::default::Default::default()));
            }
        }
        // `forward TAG = ..`: the child analyzers the analyzer feeds itself.
        if has_children(a) {
            names.push(format_ident!("children"));
            types.push(quote!(::netpac_runtime::analyzer::Children));
            inits.push(quote!(::std::default::Default::default()));
        }
        // `stop` / `handoff TAG`: `Some("")` / `Some("TAG")` once the analyzer stopped parsing.
        if a.stops {
            names.push(format_ident!("stopped"));
            types.push(quote!(::std::option::Option<&'static str>));
            inits.push(quote!(::std::option::Option::None));
        }
        // Child analyzers are neither cloned nor compared.
        let derives = if has_children(a) { quote!() } else { quote!(, Clone, PartialEq, Eq) };
        let doc = format!(
            " The `{}` analyzer's connection state (`state` items; `stopped` is the analyzer tag a `handoff` named, or empty after a `stop`).",
            a.name
        );
        (
            quote! {
                #[doc = #doc]
                #[derive(Debug #derives)]
                pub struct #ty { #(pub #names: #types,)* }
                impl ::std::default::Default for #ty {
                    fn default() -> Self {
                        #ty { #(#names: #inits,)* }
                    }
                }
            },
            quote! {
                /// Variables kept between PDUs (`state` items).
                pub state: #ty,
            },
            quote!(state: #ty::default(),),
        )
    }

    /// What the handler of `unit`'s PDUs adds: the state parameter, `args` (state
    /// variables) as the unit's arguments, and the `on x: unit set ..` updates,
    /// applied in declaration order after a parse that succeeded.
    pub(super) fn state_tokens(&self, a: &Analyzer, unit: &str, args: &[String]) -> StateTokens {
        let report_weird = if a.weird_sources.is_empty() {
            quote!(cx.weird(name, addl);)
        } else {
            let arms = a.weird_sources.iter().map(|(n, s)| quote!(#n => #s,));
            quote! {
                let source = match name {
                    #(#arms)*
                    _ => cx.tag,
                };
                cx.weird_from(source, name, addl);
            }
        };
        if !a.keeps_state() {
            return StateTokens { report_weird, ..StateTokens::default() };
        }
        let ty = format_ident!("{}State", crate::ident::camel(&a.name));
        // A queue passed to a line unit is its oldest value (0 when empty). A bytes
        // variable is copied out first: the PDU may keep it while `set`s change the state.
        let mut prelude = TokenStream::new();
        let args: Vec<TokenStream> = args
            .iter()
            .map(|n| {
                let var = a.states.iter().find(|s| s.name == *n);
                let is_queue = var.is_some_and(|s| s.queue.is_some());
                let is_bytes = var.is_some_and(|s| s.bytes.is_some());
                let id = ident(n);
                if is_queue {
                    quote!(state.#id.front().copied().unwrap_or(0))
                } else if is_bytes {
                    let copy = format_ident!("state_{}", n);
                    prelude.extend(quote!(let #copy = state.#id;));
                    quote!(#copy.as_slice())
                } else {
                    quote!(state.#id)
                }
            })
            .collect();
        // 0: updates; 1: feeds before the events; 2: feeds after them (`after events`).
        let updates = |phase: u8| -> Vec<TokenStream> { a
            .sets
            .iter()
            .filter(|s| {
                let p = match (s.op, s.after_events) {
                    (SetOp::Feed, false) => 1,
                    (SetOp::Feed | SetOp::Forward, true) => 2,
                    _ => 0,
                };
                s.unit == unit && p == phase
            })
            .map(|s| {
                // `stop`, `handoff` and `confirm on` name no variable.
                let var = if matches!(s.op, SetOp::Stop | SetOp::Confirm | SetOp::Forward | SetOp::Reset) {
                    format_ident!("stopped")
                } else if s.op == SetOp::Close {
                    format_ident!("sink_{}_closed", s.var)
                } else if s.op == SetOp::Feed {
                    format_ident!("sink_{}", s.var)
                } else {
                    ident(&s.var)
                };
                let is_bytes = a.states.iter().any(|v| v.name == s.var && v.bytes.is_some());
                // An extern fn returning bytes may fail: its error is a protocol
                // violation and the update is skipped.
                let fallible = match &s.value.kind {
                    crate::ir::ExprKind::ExternBytes(path, args) => Some(self.extern_bytes_call(path, args)),
                    _ => None,
                };
                let value = if fallible.is_some() {
                    quote!(&npac_made[..])
                } else if is_bytes || s.op == SetOp::Feed || s.op == SetOp::Forward {
                    self.bytes_arg(&s.value, &Cx::Bind)
                } else {
                    self.int(&s.value, &Cx::Bind)
                };
                let update = match s.op {
                    SetOp::Confirm => quote!(cx.confirm();),
                    // The engine hands the bytes to the stream inside the connection.
                    SetOp::Forward if s.var.is_empty() => quote!(cx.forward(is_orig, #value);),
                    // A child analyzer of that tag takes them now, its events in order with ours.
                    SetOp::Forward => {
                        let tag = &s.var;
                        quote!(state.children.deliver(cx, #tag, is_orig, #value);)
                    }
                    SetOp::Reset if a.sinks.iter().any(|k| k.name == s.var) => {
                        let framers = format_ident!("sink_{}", s.var);
                        let closed = format_ident!("sink_{}_closed", s.var);
                        let offsets = if a.sinks.iter().any(|k| k.name == s.var && k.by_offset) {
                            let o = format_ident!("sink_{}_offsets", s.var);
                            quote!(for o in state.#o.iter_mut() { o.reset(); })
                        } else {
                            quote!()
                        };
                        quote! {
                            for f in state.#framers.iter_mut() { f.reset(); }
                            state.#closed = [false, false];
                            #offsets
                        }
                    }
                    SetOp::Reset => {
                        let tag = &s.var;
                        quote!(state.children.close(cx, #tag);)
                    }
                    SetOp::Close => quote!(state.#var[usize::from(!is_orig)] = true;),
                    SetOp::Feed => {
                        let sink = a.sinks.iter().find(|k| k.name == s.var).expect("checked sink");
                        let h = sink_handler(a, sink);
                        // `pieces(...)`: the piece joins its message; only a whole message is fed.
                        let (fed, put_back) = match &s.pieces {
                            None => (quote!(let fed: &[u8] = #value;), quote!()),
                            Some(p) => {
                                let pieces = format_ident!("sink_{}_pieces", s.var);
                                let message = self.int(&p.message, &Cx::Bind);
                                let offset = self.int(&p.offset, &Cx::Bind);
                                let length = self.int(&p.length, &Cx::Bind);
                                let header = match &p.header {
                                    Some(h) => self.bytes_arg(h, &Cx::Bind),
                                    None => quote!(&[]),
                                };
                                (
                                    quote! {
                                        let piece: &[u8] = #value;
                                        match state.#pieces[ix].add(#message, #offset, #length, #header, piece, MAX_PDU) {
                                            ::netpac_runtime::pieces::PieceOutcome::Whole => {}
                                            ::netpac_runtime::pieces::PieceOutcome::Pending => break 'piece,
                                            ::netpac_runtime::pieces::PieceOutcome::Violation(why) => {
                                                cx.violation(why.to_string());
                                                break 'piece;
                                            }
                                        }
                                        let whole = state.#pieces[ix].take_message();
                                        let fed: &[u8] = &whole;
                                    },
                                    quote!(state.#pieces[ix].restore(whole);),
                                )
                            }
                        };
                        // `at offset`: the bytes join the direction's stream in order;
                        // what follows what was fed before goes on.
                        let fed = match &s.at {
                            Some(at) => {
                                let offsets = format_ident!("sink_{}_offsets", s.var);
                                let at = self.int(at, &Cx::Bind);
                                quote! {
                                    let piece: &[u8] = #value;
                                    let ready = match state.#offsets[ix].add(#at, piece, MAX_PDU) {
                                        ::netpac_runtime::reorder::Placed::Ready(b) => b,
                                        ::netpac_runtime::reorder::Placed::Violation(why) => {
                                            cx.violation(why.to_string());
                                            ::std::vec::Vec::new()
                                        }
                                    };
                                    let fed: &[u8] = &ready;
                                }
                            }
                            None => fed,
                        };
                        let body = if sink.per_feed {
                            // `&per_feed`: the bytes are one whole PDU.
                            quote! {
                                #fed
                                #h(limits, cx, is_orig, fed, first, state);
                            }
                        } else {
                            let delivery = self.sink_delivery(a, sink);
                            quote! {
                            #fed
                            #delivery
                            match r {
                                // The sink closed inside these bytes: what follows it is
                                // one more PDU of the feeding unit (SSH's ciphertext after NEWKEYS).
                                ::std::result::Result::Ok(rest) if rest > 0 => {
                                    npac_self(limits, cx, is_orig, &fed[fed.len() - rest..], first, state);
                                }
                                ::std::result::Result::Ok(_) => {}
                                ::std::result::Result::Err(e) => cx.violation(e.to_string()),
                            }
                            #put_back
                        }
                        };
                        if s.pieces.is_some() {
                            // Until its message is whole, a piece feeds nothing.
                            quote! {
                                let ix = usize::from(!is_orig);
                                'piece: { #body }
                            }
                        } else {
                            quote! {
                                let ix = usize::from(!is_orig);
                                #body
                            }
                        }
                    }
                    SetOp::Stop if s.var.is_empty() => {
                        quote!(state.stopped = ::std::option::Option::Some("");)
                    }
                    // `redetect`: what follows is a new stream for payload detection.
                    SetOp::Stop if s.var == "@detect" => {
                        quote! {
                            state.stopped = ::std::option::Option::Some("");
                            cx.detect_anew();
                        }
                    }
                    // `handoff TAG`: the engine attaches that analyzer for the rest of the stream.
                    SetOp::Stop => {
                        let tag = &s.var;
                        quote! {
                            state.stopped = ::std::option::Option::Some(#tag);
                            cx.hand_off(#tag);
                        }
                    }
                    SetOp::Set if is_bytes => quote!(state.#var.set(#value);),
                    SetOp::Append => quote!(state.#var.append(#value);),
                    SetOp::Set => quote!(state.#var = #value;),
                    SetOp::Pop => quote!(state.#var.pop_front();),
                    SetOp::Push => {
                        let q = a
                            .states
                            .iter()
                            .find_map(|v| (v.name == s.var).then_some(v.queue.as_ref()).flatten());
                        let cap = Literal::u64_unsuffixed(q.map_or(1, |q| q.cap));
                        let weird = match q.and_then(|q| q.overflow_weird.as_deref()) {
                            Some(w) => quote!(cx.weird(#w, ::std::string::String::new());),
                            None => quote!(),
                        };
                        quote! {
                            // Full: cleared first (SMTP.cc's pending commands).
                            if state.#var.len() as u64 >= #cap {
                                #weird
                                state.#var.clear();
                            }
                            state.#var.push_back(#value);
                        }
                    }
                };
                let update = match fallible {
                    Some(call) => quote! {
                        match #call {
                            ::std::result::Result::Ok(npac_made) => { #update }
                            ::std::result::Result::Err(why) => cx.violation(why),
                        }
                    },
                    None => update,
                };
                let guarded = match &s.cond {
                    Some(c) => {
                        let c = self.boolean(c, &Cx::Bind);
                        quote!(if #c { #update })
                    }
                    None => update,
                };
                // `on h: Unit, e: h.path set ...`: once per selection, in order.
                self.for_each_selection(&s.binders, guarded)
            })
            .collect() };
        let on_parsed = |items: Vec<TokenStream>| {
            if items.is_empty() {
                quote!()
            } else {
                quote! {
                    if let ::std::result::Result::Ok(pdu) = &parsed {
                        // A constant value does not read the PDU.
                        let _ = pdu;
                        #(#items)*
                    }
                }
            }
        };
        let update = on_parsed(updates(0));
        // Feeds run after the PDU's weirds and verdict, before its events
        // (`after events`: after them).
        let feeds = on_parsed(updates(1));
        let late_feeds = on_parsed(updates(2));
        StateTokens {
            stops: a.stops,
            prelude,
            param: quote!(, state: &mut #ty),
            args: quote!(#(, #args)*),
            update,
            feeds,
            late_feeds,
            report_weird,
        }
    }

    /// `fed` (bytes of direction `ix`) through `sink`'s framer, each PDU to its
    /// handler; `r` is what the framer said. The framer is taken out while its PDUs
    /// are handled: their handler updates the same state.
    pub(super) fn sink_delivery(&self, a: &Analyzer, sink: &crate::ir::Sink) -> TokenStream {
        let var = format_ident!("sink_{}", sink.name);
        let closed = format_ident!("sink_{}_closed", sink.name);
        let h = sink_handler(a, sink);
        let super::analyzers::Framing { setup, frame_len, refresh, deliver } = if sink.self_framed {
            self.self_framing(a, &sink.unit, &sink.args)
        } else {
            self.framing(&sink.unit, &sink.args)
        };
        quote! {
            let mut framer = ::std::mem::replace(&mut state.#var[ix], ::netpac_runtime::framer::Framer::new(0));
            #setup
            let r = framer.#deliver(fed, #frame_len, &mut |bytes| {
                #h(limits, cx, is_orig, bytes, first, state);
                #refresh
                !state.#closed[ix]
            });
            state.#var[ix] = framer;
        }
    }

    /// `body` once per selection of the binders after an `on p: Unit, x: p.path`
    /// item's PDU (nested loops, in order); `body` itself without binders.
    pub(super) fn for_each_selection(&self, binders: &[(String, crate::ir::BinderIter)], body: TokenStream) -> TokenStream {
        binders.iter().rev().fold(body, |body, (var, iter)| {
            let v = ident(var);
            let iter = self.binder_iter(iter);
            quote!(for #v in #iter { #body })
        })
    }

    /// The call of an extern fn returning bytes: `Result<Vec<u8>, String>`.
    fn extern_bytes_call(&self, path: &str, args: &[crate::ir::ExternArg]) -> TokenStream {
        use crate::ir::ExternArg;
        let a = args.iter().map(|x| match x {
            ExternArg::Count(x) => self.int(x, &Cx::Bind),
            ExternArg::Bool(x) => self.boolean(x, &Cx::Bind),
            ExternArg::Bytes(x) => self.bytes_arg(x, &Cx::Bind),
            ExternArg::Addr(_) | ExternArg::Node(_) => {
                unreachable!("the check pass gives bytes-making extern fns integers, bools and bytes")
            }
        });
        let path = crate::ident::path_tokens(path);
        quote!(#path(#(#a),*))
    }
}
