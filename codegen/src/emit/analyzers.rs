//! Analyzers: per-item handlers, the analyzer structs and `register`.

use super::*;
use crate::ast::Transport;
use crate::ident::{camel, ident, snake};
use crate::ir::{Analyzer, BindTarget, LinesItem, Signature, TransportKind};

/// How a stream of a unit is framed: by `Unit::frame_len`, or, when the unit's
/// `&size` reads its parameters or direction, by `frame_len_in` with the state
/// as it stands before each PDU.
pub(super) struct Framing {
    /// Set up before delivering (the state's values and the direction).
    pub setup: TokenStream,
    /// The frame-length function or closure.
    pub frame_len: TokenStream,
    /// After each PDU's handler: the state's values again.
    pub refresh: TokenStream,
    /// The framer's method: `deliver_while`, or `deliver_while_memo` for a unit that
    /// frames itself (its scans remember where they ran out).
    pub deliver: TokenStream,
}

impl Emitter<'_> {
    /// The framing of `unit`'s stream, whose parameters take the state variables `args`.
    pub(super) fn framing(&self, unit: &str, args: &[String]) -> Framing {
        let un = format_ident!("{}", unit);
        let u = self.module.units.iter().find(|u| u.name == unit);
        let Some(u) = u.filter(|u| u.frame.as_ref().is_some_and(|f| f.contextual)) else {
            return Framing { setup: quote!(), frame_len: quote!(#un::frame_len), refresh: quote!(), deliver: quote!(deliver_while) };
        };
        let values: Vec<TokenStream> = u
            .params
            .iter()
            .zip(args)
            .filter(|((_, t), _)| matches!(t, crate::types::Ty::Int { .. } | crate::types::Ty::Bool))
            .map(|((_, t), a)| {
                let id = ident(a);
                if matches!(t, crate::types::Ty::Bool) {
                    quote!((state.#id != 0))
                } else {
                    quote!(state.#id)
                }
            })
            .collect();
        let picks = (0..values.len()).map(syn::Index::from);
        Framing {
            setup: quote! {
                let frame_state = ::std::cell::Cell::new((#(#values,)*));
                let mut frame_cx = ::netpac_runtime::parse::ParseCx::new(is_orig, cx.conn.id().resp_p.number);
                frame_cx.conn_partial = cx.conn.is_partial();
            },
            frame_len: quote!(|p: &[u8]| #un::frame_len_in(p, &frame_cx #(, frame_state.get().#picks)*)),
            refresh: quote!(frame_state.set((#(#values,)*));),
            deliver: quote!(deliver_while),
        }
    }

    /// Framing of a sink whose unit has no unit-level `&size`: the bytes at hand are
    /// parsed (a streaming cursor, the state as it stands before each PDU); a PDU
    /// ends where the parse does, running out of input waits for more, and a
    /// failed parse is handed out whole (its handler reports why) and ends the sink.
    pub(super) fn self_framing(&self, a: &Analyzer, unit: &str, args: &[String]) -> Framing {
        let un = format_ident!("{}", unit);
        let values: Vec<TokenStream> = args
            .iter()
            .map(|n| {
                let id = ident(n);
                let var = a.states.iter().find(|s| s.name == *n);
                if var.is_some_and(|s| s.queue.is_some()) {
                    quote!(state.#id.front().copied().unwrap_or(0))
                } else {
                    quote!(state.#id)
                }
            })
            .collect();
        // A bytes variable is kept in place (`ShortBytes`, copied with the rest) and read as a slice.
        let picks: Vec<TokenStream> = args
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let ix = syn::Index::from(i);
                if a.states.iter().any(|s| s.name == *n && s.bytes.is_some()) {
                    quote!(args.#ix.as_slice())
                } else {
                    quote!(args.#ix)
                }
            })
            .collect();
        Framing {
            setup: quote! {
                let frame_state = ::std::cell::Cell::new((#(#values,)*));
                let frame_port = cx.conn.id().resp_p.number;
                let frame_partial = cx.conn.is_partial();
            },
            frame_len: quote!(|p: &[u8], memo: &::std::cell::Cell<::netpac_runtime::parse::ScanMemo>| {
                let mut c = ::netpac_runtime::parse::Cursor::streaming_with_memo(p, memo);
                let mut pcx = ::netpac_runtime::parse::ParseCx::new(is_orig, frame_port);
                pcx.conn_partial = frame_partial;
                let args = frame_state.get();
                let _ = &args;
                match #un::parse(&mut c, &mut pcx, limits #(, #picks)*) {
                    ::std::result::Result::Ok(_) => ::netpac_runtime::framer::FrameLen::Pdu(c.pos()),
                    ::std::result::Result::Err(e) if e.is_incomplete() => ::netpac_runtime::framer::FrameLen::More,
                    ::std::result::Result::Err(_) => ::netpac_runtime::framer::FrameLen::Malformed,
                }
            }),
            refresh: quote!(frame_state.set((#(#values,)*));),
            deliver: quote!(deliver_while_memo),
        }
    }

    pub(super) fn gen_analyzers(&mut self) -> TokenStream {
        let mut out = TokenStream::new();
        let mut specs = Vec::new();
        for a in &self.module.analyzers {
            if a.has_link {
                self.gen_link_analyzer(a, &mut out, &mut specs);
            }
            if let Some(t) = &a.tunnel {
                self.gen_tunnel(a, t, &mut out, &mut specs);
            }
            if !a.has_transport {
                continue;
            }
            self.gen_transport_analyzer(a, &mut out, &mut specs);
        }
        let max_pdu = Literal::usize_unsuffixed(self.module.max_pdu);
        out.extend(quote! {
            /// Largest PDU a stream framer buffers (`limits { max_pdu = ...; }`).
            pub const MAX_PDU: usize = #max_pdu;
            /// Adds this grammar's analyzers to `reg`.
            #[allow(unused_variables)]
            pub fn register(reg: &mut ::netpac_runtime::analyzer::Registry) {
                reg.add_limits(MODULE, LIMIT_NAMES);
                #(#specs)*
            }
        });
        out
    }

    fn gen_transport_analyzer(
        &mut self,
        a: &Analyzer,
        out: &mut TokenStream,
        specs: &mut Vec<TokenStream>,
    ) {
        let an = format_ident!("{}Analyzer", camel(&a.name));
        let tag = &a.name;
        let mut handlers = Vec::new();
        let mut deliver_arms = Vec::new();
        let mut gap_arms = Vec::new();
        let mut eof_arms = Vec::new();
        let mut line_configs = Vec::new();
        let has_state = a.keeps_state();
        // After `stop`/`handoff` nothing more of the connection is parsed.
        let stop_check = if a.stops {
            quote!(if state.stopped.is_some() { return; })
        } else {
            quote!()
        };
        let state_ty = format_ident!("{}State", camel(&a.name));
        // Analyzers without `state` keep their exact former shape.
        let state_arg = if has_state { quote!(, state) } else { quote!() };
        for item in &a.items {
            let i = item.index;
            let signature = signature_tokens(item.signature.as_ref());
            let expire_after = expire_tokens(item.expire_after_secs);
            let ports: Vec<Literal> = item
                .ports
                .iter()
                .map(|p| Literal::u16_unsuffixed(*p))
                .collect();
            let proto = if item.transport == Transport::Udp {
                quote!(Udp)
            } else {
                quote!(Tcp)
            };
            let idx = Literal::u8_unsuffixed(i as u8);
            let (arm, gap) = match &item.kind {
                TransportKind::Extern(ctor) => {
                    let ctor: syn::Path = syn::parse_str(ctor)
                        .expect("the check pass accepted the constructor as a Rust path");
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
                TransportKind::Generated {
                    unit,
                    args,
                    bind,
                    framed,
                    flip,
                    skip_partial,
                    stop_after_gap,
                    split,
                    per_delivery,
                    stop_on_violation,
                } => {
                    let h = format_ident!("handle_{}_{}", snake(&a.name), i);
                    let un = format_ident!("{}", unit);
                    // Events bind to the PDU, or to one unit-typed field of it (`=> TcpMessage.msg`).
                    let (bound, pdu_len) = match &bind.field {
                        None => (quote!(pdu), quote!(data.len())),
                        Some(f) => {
                            let fi = ident(f);
                            let prefix = if *framed {
                                quote!(data.len().saturating_sub(#un::FRAME_PREFIX))
                            } else {
                                quote!(data.len())
                            };
                            (quote!(&pdu.#fi), prefix)
                        }
                    };
                    let flip = self.flip_check(flip.as_ref());
                    let state = self.state_tokens(a, unit, args);
                    handlers.push(pdu_handler(
                        &h,
                        &un,
                        bind,
                        &bound,
                        &pdu_len,
                        &flip,
                        confirms(a, unit),
                        &state,
                        if *split && !*framed { Returns::Consumed } else { Returns::Nothing },
                    ));
                    // `&stop_on_violation`: after a violation nothing more of the connection is parsed.
                    let violation_stops = if *stop_on_violation {
                        quote! {
                            if matches!(cx.verdict, ::netpac_runtime::analyzer::Verdict::Violation(_)) {
                                state.stopped = ::std::option::Option::Some("");
                            }
                        }
                    } else {
                        quote!()
                    };
                    match item.transport {
                        Transport::Link => unreachable!("link items are not transport items"),
                        // `&split`: each PDU of the datagram is handled (and updates the
                        // state) before the next is framed; a last PDU longer than what is
                        // left gets what is left, and its unit says what that means.
                        Transport::Udp if *split => {
                            let stopped = if a.stops {
                                quote!(if state.stopped.is_some() { break; })
                            } else {
                                quote!()
                            };
                            if !*framed {
                                // Each PDU takes what its fields read; the next starts after it.
                                let arm = quote!(#idx => {
                                    let mut rest = data;
                                    while !rest.is_empty() {
                                        let n = #h(limits, cx, is_orig, rest, first #state_arg);
                                        #violation_stops
                                        #stopped
                                        rest = &rest[n.min(rest.len())..];
                                    }
                                });
                                (arm, quote!())
                            } else {
                            let Framing { setup, frame_len, refresh, .. } = self.framing(unit, args);
                            (
                                quote!(#idx => {
                                    #setup
                                    let frame_len = #frame_len;
                                    let mut rest = data;
                                    while !rest.is_empty() {
                                        let n = match frame_len(rest) {
                                            ::netpac_runtime::framer::FrameLen::Pdu(n) if n > 0 => n.min(rest.len()),
                                            ::netpac_runtime::framer::FrameLen::Pdu(_)
                                            | ::netpac_runtime::framer::FrameLen::Need(_)
                                            | ::netpac_runtime::framer::FrameLen::More
                                            | ::netpac_runtime::framer::FrameLen::Malformed => rest.len(),
                                            ::netpac_runtime::framer::FrameLen::Invalid => {
                                                cx.violation(::netpac_runtime::framer::FrameError::BadLength.to_string());
                                                break;
                                            }
                                        };
                                        let (pdu, tail) = rest.split_at(n);
                                        #h(limits, cx, is_orig, pdu, first #state_arg);
                                        #violation_stops
                                        #refresh
                                        #stopped
                                        rest = tail;
                                    }
                                }),
                                quote!(),
                            )
                            }
                        }
                        Transport::Udp if *stop_on_violation => (
                            quote!(#idx => {
                                #h(limits, cx, is_orig, data, first #state_arg);
                                #violation_stops
                            }),
                            quote!(),
                        ),
                        Transport::Udp => (
                            quote!(#idx => #h(limits, cx, is_orig, data, first #state_arg),),
                            quote!(),
                        ),
                        Transport::Tcp if *per_delivery => {
                            let partial = if *skip_partial {
                                quote!(if cx.conn.is_partial() { return; })
                            } else {
                                quote!()
                            };
                            let gap = if *stop_after_gap {
                                quote!(#idx => state.stopped = ::std::option::Option::Some(""),)
                            } else {
                                quote!()
                            };
                            (
                                quote!(#idx => {
                                    #partial
                                    #h(limits, cx, is_orig, data, first #state_arg);
                                }),
                                gap,
                            )
                        }
                        Transport::Tcp => {
                            // `&skip_partial`: Zeek's `TCP()->IsPartial()` check.
                            let partial = if *skip_partial {
                                quote!(if cx.conn.is_partial() { return; })
                            } else {
                                quote!()
                            };
                            // `&stop_after_gap`: a gap in either direction ends the parsing (Zeek's SSL `had_gap`).
                            let gap = if *stop_after_gap {
                                quote!(#idx => state.stopped = ::std::option::Option::Some(""),)
                            } else {
                                quote!(#idx => framers[usize::from(!is_orig)].desync(),)
                            };
                            let Framing { setup, frame_len, refresh, .. } = self.framing(unit, args);
                            (
                            quote!(#idx => {
                                #partial
                                let framer = &mut framers[usize::from(!is_orig)];
                                #setup
                                let r = framer.deliver(data, #frame_len, &mut |pdu| {
                                    #h(limits, cx, is_orig, pdu, first #state_arg);
                                    #refresh
                                });
                                if let ::std::result::Result::Err(e) = r {
                                    cx.violation(e.to_string());
                                }
                            }),
                            gap,
                            )
                        }
                    }
                }
                TransportKind::Lines(l) => {
                    let (arm, eof, config) = self.lines_item(a, i, l, &mut handlers, &state_arg);
                    eof_arms.push(eof);
                    line_configs.push(config);
                    // A gap leaves a started line as it is: Zeek's ContentLine appends what
                    // follows; with `&stop_after_gap` (Zeek's IMAP, XMPP) parsing ends there.
                    let gap = if l.stop_after_gap {
                        quote!(#idx => state.stopped = ::std::option::Option::Some(""),)
                    } else {
                        quote!()
                    };
                    (arm, gap)
                }
            };
            deliver_arms.push(arm);
            gap_arms.push(gap);
            let ctor = format_ident!("new_{}_{}", snake(&a.name), i);
            out.extend(quote! {
                fn #ctor() -> ::std::boxed::Box<dyn ::netpac_runtime::analyzer::Analyzer> {
                    ::std::boxed::Box::new(#an::new(#idx, Limits::configured()))
                }
            });
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
        if a.all_extern {
            return;
        }
        // Each sink's PDUs: parsed, bound and applied to the state like the stream's own.
        for sink in &a.sinks {
            let h = super::state::sink_handler(a, sink);
            let un = format_ident!("{}", sink.unit);
            let bind = BindTarget {
                unit: sink.unit.clone(),
                field: None,
            };
            let state = self.state_tokens(a, &sink.unit, &sink.args);
            let flip = self.flip_check(None);
            handlers.push(pdu_handler(
                &h,
                &un,
                &bind,
                &quote!(pdu),
                &quote!(data.len()),
                &flip,
                confirms(a, &sink.unit),
                &state,
                Returns::Nothing,
            ));
        }
        // `at end => Unit(args);` and `&leftover(Unit)`: PDUs made when the connection
        // ends. They are parsed even after a `stop` (Zeek's `Done()` runs regardless)
        // and confirm nothing.
        let mut at_end = Vec::new();
        if let Some(e) = &a.end {
            let h = format_ident!("handle_{}_end", snake(&a.name));
            let un = format_ident!("{}", e.unit);
            let bind = BindTarget { unit: e.unit.clone(), field: None };
            let mut state = self.state_tokens(a, &e.unit, &e.args);
            state.stops = false;
            let flip = self.flip_check(None);
            handlers.push(pdu_handler(&h, &un, &bind, &quote!(pdu), &quote!(data.len()), &flip, false, &state, Returns::Nothing));
            at_end.push(quote!(#h(limits, cx, true, &[], first, state);));
        }
        for sink in a.sinks.iter().filter(|k| k.leftover.is_some()) {
            let unit = sink.leftover.as_deref().unwrap_or_default();
            let h = format_ident!("handle_{}_leftover_{}", snake(&a.name), sink.name);
            let un = format_ident!("{}", unit);
            let bind = BindTarget { unit: unit.to_string(), field: None };
            let mut state = self.state_tokens(a, unit, &[]);
            state.stops = false;
            let flip = self.flip_check(None);
            handlers.push(pdu_handler(&h, &un, &bind, &quote!(pdu), &quote!(data.len()), &flip, false, &state, Returns::Nothing));
            let var = format_ident!("sink_{}", sink.name);
            at_end.push(quote! {
                for ix in 0..2 {
                    if state.#var[ix].in_pdu() {
                        let left = state.#var[ix].pending().to_vec();
                        state.#var[ix].reset();
                        #h(limits, cx, ix == 0, &left, first, state);
                    }
                }
            });
        }
        // When a direction ends (FIN): `&eof(bytes)` finishes a sink's PDU cut short,
        // then `at eof => Unit(args);` runs for that direction.
        let mut at_eof = Vec::new();
        for sink in a.sinks.iter().filter(|k| k.eof.is_some()) {
            let bytes = Literal::byte_string(sink.eof.as_deref().unwrap_or_default());
            let var = format_ident!("sink_{}", sink.name);
            let closed = format_ident!("sink_{}_closed", sink.name);
            let delivery = self.sink_delivery(a, sink);
            at_eof.push(quote! {
                if state.#var[ix].in_pdu() && !state.#closed[ix] {
                    let fed: &[u8] = #bytes;
                    #delivery
                    if let ::std::result::Result::Err(e) = r {
                        cx.violation(e.to_string());
                    }
                }
            });
        }
        if let Some(e) = &a.eof {
            let h = format_ident!("handle_{}_eof", snake(&a.name));
            let un = format_ident!("{}", e.unit);
            let bind = BindTarget { unit: e.unit.clone(), field: None };
            let state = self.state_tokens(a, &e.unit, &e.args);
            let flip = self.flip_check(None);
            handlers.push(pdu_handler(&h, &un, &bind, &quote!(pdu), &quote!(data.len()), &flip, false, &state, Returns::Nothing));
            at_eof.push(quote!(#h(limits, cx, is_orig, &[], first, state);));
        }
        let doc = format!(
            " The `{}` analyzer (generated from its `analyzer` declaration).",
            a.name
        );
        // Only analyzers with `lines(...)` items hold a line framer and finish lines at the end.
        let lines_init = if a.has_lines {
            quote!(lines,)
        } else {
            quote!()
        };
        let (lines_field, lines_let, lines_pat, lines_eof) = if a.has_lines {
            (
                quote! {
                    /// Line framing of both directions (`lines(...)` items).
                    lines: ::netpac_runtime::lines::Lines,
                },
                quote! {
                    let lines = match item {
                        #(#line_configs)*
                        _ => ::netpac_runtime::lines::Lines::new(
                            ::netpac_runtime::lines::LineConfig::default(),
                            ::netpac_runtime::lines::LineConfig::default(),
                        ),
                    };
                },
                quote!(, lines),
                quote! {
                    #[allow(unused_variables)]
                    fn end_of_data(&mut self, cx: &mut ::netpac_runtime::analyzer::AnalyzerCx<'_>, is_orig: bool) {
                        let #an { item, limits, first, lines #state_arg, .. } = self;
                        #stop_check
                        match *item {
                            #(#eof_arms)*
                            _ => {}
                        }
                    }
                },
            )
        } else if !at_eof.is_empty() {
            (
                quote!(),
                quote!(),
                quote!(),
                quote! {
                    #[allow(unused_variables)]
                    fn end_of_data(&mut self, cx: &mut ::netpac_runtime::analyzer::AnalyzerCx<'_>, is_orig: bool) {
                        let #an { limits, first, state, .. } = self;
                        #stop_check
                        let ix = usize::from(!is_orig);
                        #(#at_eof)*
                    }
                },
            )
        } else {
            (quote!(), quote!(), quote!(), quote!())
        };
        let (state_def, state_field, state_init) = self.state_struct(a, &state_ty);
        // Child analyzers (`forward TAG = ..`) end with the connection.
        let children_done = if super::state::has_children(a) {
            quote!(state.children.done(cx);)
        } else {
            quote!()
        };
        let children_done = if at_end.is_empty() && children_done.is_empty() {
            quote!()
        } else {
            quote! {
                #[allow(unused_variables)]
                fn done(&mut self, cx: &mut ::netpac_runtime::analyzer::AnalyzerCx<'_>) {
                    let #an { limits, first, state, .. } = self;
                    #(#at_end)*
                    #children_done
                }
            }
        };
        let gap_state = if a.stops || !a.sinks.is_empty() { quote!(, state) } else { quote!() };
        // A gap in a direction leaves its sinks without the bytes that were to follow.
        let sink_gaps = a.sinks.iter().filter(|k| !k.join_gaps).map(|k| {
            let f = format_ident!("sink_{}", k.name);
            quote!(state.#f[usize::from(!is_orig)].desync();)
        });
        out.extend(quote! {
            #(#handlers)*
            #state_def
            #[doc = #doc]
            pub struct #an {
                item: u8,
                /// Limits in force; change them before data arrives.
                pub limits: Limits,
                framers: [::netpac_runtime::framer::Framer; 2],
                /// Whether the connection's first PDU was seen (`flip` rules look at it).
                first: bool,
                #lines_field
                #state_field
            }
            impl #an {
                /// `item` is the index of the `udp`/`tcp` line of the declaration.
                pub fn new(item: u8, limits: Limits) -> Self {
                    #lines_let
                    #an {
                        item,
                        limits,
                        framers: [
                            ::netpac_runtime::framer::Framer::new(MAX_PDU),
                            ::netpac_runtime::framer::Framer::new(MAX_PDU),
                        ],
                        first: false,
                        #lines_init
                        #state_init
                    }
                }
            }
            impl ::netpac_runtime::analyzer::Analyzer for #an {
                /// The analyzer itself, for functions that reach into it (Zeek's BIFs).
                fn as_any_mut(&mut self) -> ::std::option::Option<&mut dyn ::std::any::Any> {
                    ::std::option::Option::Some(self)
                }
                #[allow(unused_variables)]
                fn deliver(&mut self, cx: &mut ::netpac_runtime::analyzer::AnalyzerCx<'_>, is_orig: bool, data: &[u8]) {
                    let #an { item, limits, framers, first #lines_pat #state_arg } = self;
                    #stop_check
                    match *item {
                        #(#deliver_arms)*
                        _ => {}
                    }
                }
                #[allow(unused_variables)]
                fn undelivered(&mut self, cx: &mut ::netpac_runtime::analyzer::AnalyzerCx<'_>, is_orig: bool, len: u64) {
                    let #an { item, framers #gap_state, .. } = self;
                    #(#sink_gaps)*
                    match *item {
                        #(#gap_arms)*
                        _ => {}
                    }
                }
                #lines_eof
                #children_done
            }
        });
    }

    /// A `lines(...)` item: a handler per direction's unit, one function routing the
    /// framer's output, and the item's deliver arm, end-of-data arm and framer config.
    fn lines_item(
        &mut self,
        a: &Analyzer,
        i: usize,
        l: &LinesItem,
        handlers: &mut Vec<TokenStream>,
        state_arg: &TokenStream,
    ) -> (TokenStream, TokenStream, TokenStream) {
        let idx = Literal::u8_unsuffixed(i as u8);
        // With a raw unit (`orig raw: Chunk`) the router tells the framer how many
        // bytes follow a line raw (`on c: Unit raw = expr;`).
        let has_raw = l.orig_raw.is_some() || l.resp_raw.is_some();
        // Zeek names the support analyzer that cut the lines (FTP's is its NVT analyzer).
        let framing_source = match &l.weird_source {
            Some(s) => quote!(#s),
            None => quote!(::netpac_runtime::lines::WEIRD_SOURCE),
        };
        let mut dir = |d: Option<&BindTarget>, args: &[String], side: &str, input: TokenStream| -> TokenStream {
            let Some(bind) = d else {
                return if has_raw { quote!(0) } else { quote!({}) };
            };
            let h = format_ident!("handle_{}_{}_{}", snake(&a.name), i, side);
            let un = format_ident!("{}", bind.unit);
            let flip = self.flip_check(None);
            let state = self.state_tokens(a, &bind.unit, args);
            let raw = a
                .raws
                .iter()
                .find(|r| r.unit == bind.unit && !side.ends_with("raw"))
                .map(|r| self.int(&r.value, &Cx::Bind));
            handlers.push(pdu_handler(
                &h,
                &un,
                bind,
                &quote!(pdu),
                &quote!(data.len()),
                &flip,
                confirms(a, &bind.unit) || (a.confirm && a.confirm_on.iter().any(|u| u == side)),
                &state,
                raw.as_ref().map_or(Returns::Nothing, Returns::Raw),
            ));
            let call = quote!(#h(limits, cx, is_orig, #input, first #state_arg));
            match (has_raw, raw.is_some()) {
                (true, false) => quote!({
                    #call;
                    0
                }),
                _ => call,
            }
        };
        let orig = dir(l.orig.as_ref(), &l.orig_args, "orig", quote!(line));
        let resp = dir(l.resp.as_ref(), &l.resp_args, "resp", quote!(line));
        let orig_raw = dir(l.orig_raw.as_ref(), &l.orig_raw_args, "orig_raw", quote!(raw));
        let resp_raw = dir(l.resp_raw.as_ref(), &l.resp_raw_args, "resp_raw", quote!(raw));
        let state_param = if state_arg.is_empty() {
            quote!()
        } else {
            let ty = format_ident!("{}State", camel(&a.name));
            quote!(, state: &mut #ty)
        };
        let route = format_ident!("lines_{}_{}", snake(&a.name), i);
        if has_raw {
            let skip_empty = if l.skip_empty {
                quote!(if line.is_empty() {
                    return 0;
                })
            } else {
                quote!()
            };
            handlers.push(quote! {
                /// One event of the line framer: a line goes to its direction's unit, which
                /// may switch the direction to raw bytes (the count returned); raw bytes go to
                /// the direction's raw unit.
                fn #route(limits: &Limits, cx: &mut ::netpac_runtime::analyzer::AnalyzerCx<'_>, is_orig: bool,
                          event: ::netpac_runtime::lines::LineEvent<'_>, first: &mut bool #state_param) -> u64 {
                    match event {
                        ::netpac_runtime::lines::LineEvent::Line(line) => {
                            #skip_empty
                            if is_orig { #orig } else { #resp }
                        }
                        ::netpac_runtime::lines::LineEvent::Raw(raw) => {
                            if is_orig { #orig_raw } else { #resp_raw };
                            0
                        }
                        ::netpac_runtime::lines::LineEvent::Weird(name) => {
                            cx.weird_from(#framing_source, name, ::std::string::String::new());
                            0
                        }
                    }
                }
            });
        } else {
            let skip_empty = if l.skip_empty {
                quote!(if line.is_empty() {
                    return;
                })
            } else {
                quote!()
            };
            handlers.push(quote! {
                /// One event of the line framer: a line goes to its direction's unit.
                fn #route(limits: &Limits, cx: &mut ::netpac_runtime::analyzer::AnalyzerCx<'_>, is_orig: bool,
                          event: ::netpac_runtime::lines::LineEvent<'_>, first: &mut bool #state_param) {
                    match event {
                        ::netpac_runtime::lines::LineEvent::Line(line) => {
                            #skip_empty
                            if is_orig { #orig } else { #resp }
                        }
                        ::netpac_runtime::lines::LineEvent::Raw(_) => {}
                        ::netpac_runtime::lines::LineEvent::Weird(name) => {
                            cx.weird_from(#framing_source, name, ::std::string::String::new());
                        }
                    }
                }
            });
        }
        let max_line = if self.module.grammar_max_line {
            quote!(usize::try_from(limits.max_line)
                .unwrap_or(usize::MAX)
                .max(1))
        } else {
            quote!(::netpac_runtime::lines::DEFAULT_MAX_LINE)
        };
        let (cr, lf) = (l.cr_is_eol, l.lf_is_eol);
        let [nul_orig, nul_resp] = l.nul_weird;
        let delimiter = match l.delimiter {
            Some(b) => {
                let b = Literal::u8_suffixed(b);
                quote!(::std::option::Option::Some(#b))
            }
            None => quote!(::std::option::Option::None),
        };
        let config = quote! {
            #idx => ::netpac_runtime::lines::Lines::new(
                ::netpac_runtime::lines::LineConfig { max_line: #max_line, cr_is_eol: #cr, lf_is_eol: #lf, nul_weird: #nul_orig, delimiter: #delimiter },
                ::netpac_runtime::lines::LineConfig { max_line: #max_line, cr_is_eol: #cr, lf_is_eol: #lf, nul_weird: #nul_resp, delimiter: #delimiter },
            ),
        };
        // `&skip_partial`: a connection whose start was not seen is not parsed (Zeek's IMAP, XMPP).
        let partial = if l.skip_partial {
            quote!(if cx.conn.is_partial() { return; })
        } else {
            quote!()
        };
        let (arm, eof) = if has_raw {
            (
                quote!(#idx => { #partial lines.deliver_switching(is_orig, data, &mut |e| #route(limits, cx, is_orig, e, first #state_arg)) }),
                quote!(#idx => { #partial lines.end_of_data(is_orig, &mut |e| {
                    #route(limits, cx, is_orig, e, first #state_arg);
                }) }),
            )
        } else {
            (
                quote!(#idx => { #partial lines.deliver(is_orig, data, &mut |e| #route(limits, cx, is_orig, e, first #state_arg)) }),
                quote!(#idx => { #partial lines.end_of_data(is_orig, &mut |e| #route(limits, cx, is_orig, e, first #state_arg)) }),
            )
        };
        (arm, eof, config)
    }

    /// A link-layer analyzer (`ethertype 0x0806 => Unit;`): parses each frame's payload as one PDU.
    fn gen_link_analyzer(
        &mut self,
        a: &Analyzer,
        out: &mut TokenStream,
        specs: &mut Vec<TokenStream>,
    ) {
        let an = format_ident!("{}LinkAnalyzer", camel(&a.name));
        let tag = &a.name;
        let mut handlers = Vec::new();
        let mut arms = Vec::new();
        for item in &a.link_items {
            let i = item.index;
            let un = format_ident!("{}", item.unit);
            let bound = match &item.bind.field {
                None => quote!(pdu),
                Some(f) => {
                    let fi = ident(f);
                    quote!(&pdu.#fi)
                }
            };
            let (bind, bind_err) = bind_fns(&item.bind);
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
                            // Link analyzers see captured frames only.
                            in_tunnel: false,
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
                    ::std::boxed::Box::new(#an::new(#idx, Limits::configured()))
                }
            });
            for et in &item.ethertypes {
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

    /// The `flip on m: Unit where cond;` check for a PDU: on the connection's
    /// first PDU, sent by the originator, a true `cond` swaps the roles
    /// (unless the responder is a multicast group, as in Zeek).
    fn flip_check(&self, cond: Option<&ir::Expr>) -> TokenStream {
        let Some(cond) = cond else {
            return quote!(*first = true;);
        };
        let cond = self.boolean(cond, &Cx::Bind);
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
}

#[allow(clippy::too_many_arguments)]
/// The function that parses one PDU of `un`, reports its verdict and weirds and raises its events.
fn pdu_handler(
    h: &Ident,
    un: &Ident,
    bind: &BindTarget,
    bound: &TokenStream,
    pdu_len: &TokenStream,
    flip: &TokenStream,
    confirm: bool,
    state: &StateTokens,
    returns: Returns<'_>,
) -> TokenStream {
    let (bind_fn, bind_err) = bind_fns(bind);
    let raw = match returns {
        Returns::Raw(v) => Some(v),
        _ => None,
    };
    // `on c: Unit raw = expr;`: the handler returns how many bytes of its
    // direction follow raw (0 when the line did not parse).
    let (ret_ty, raw_let, raw_ret) = match raw {
        Some(v) => (
            quote!(-> u64),
            quote! {
                let raw: u64 = match &parsed {
                    ::std::result::Result::Ok(pdu) => {
                        let _ = pdu;
                        #v
                    }
                    ::std::result::Result::Err(_) => 0,
                };
            },
            quote!(raw),
        ),
        // A `&split` PDU without `&size` is what its fields read (all of it when
        // the parse failed: the rest of the datagram is not parsed).
        None if matches!(returns, Returns::Consumed) => (
            quote!(-> usize),
            quote! {
                let consumed = match &parsed {
                    ::std::result::Result::Ok(_) => cur.pos().max(1),
                    ::std::result::Result::Err(_) => data.len(),
                };
            },
            quote!(consumed),
        ),
        None => (quote!(), quote!(), quote!()),
    };
    let stop_guard = match (state.stops, matches!(returns, Returns::Nothing)) {
        (false, _) => quote!(),
        (true, false) => quote!(if state.stopped.is_some() { return 0; }),
        (true, true) => quote!(if state.stopped.is_some() { return; }),
    };
    let StateTokens {
        prelude,
        param,
        args,
        update,
        feeds,
        late_feeds,
        report_weird,
        ..
    } = state;
    // A feed hands the bytes after a sink's `close` back to this handler.
    let self_alias = if feeds.is_empty() && late_feeds.is_empty() {
        quote!()
    } else {
        quote!(let npac_self = #h;)
    };
    // `confirm never;`: a parsed PDU says nothing about the protocol (Zeek's Finger, Ident).
    let confirm = if confirm {
        quote!(else if pcx.halted().is_none() {
            cx.confirm();
        })
    } else {
        quote!()
    };
    quote! {
                #[allow(unused_mut, unused_variables)]
                fn #h(limits: &Limits, cx: &mut ::netpac_runtime::analyzer::AnalyzerCx<'_>, mut is_orig: bool, data: &[u8], first: &mut bool #param) #ret_ty {
                    #stop_guard
                    let resp_port = cx.conn.id().resp_p.number;
                    let mut pcx = ::netpac_runtime::parse::ParseCx::new(is_orig, resp_port);
                    pcx.confirmed = cx.confirmed;
                    pcx.conn_partial = cx.conn.is_partial();
                    let mut cur = ::netpac_runtime::parse::Cursor::new(data);
                    #prelude
                    let parsed = #un::parse(&mut cur, &mut pcx, limits #args);
                    #flip
                    #update
                    #raw_let
                    for (name, addl) in pcx.take_weirds() {
                        #report_weird
                    }
                    for (name, addl) in pcx.take_net_weirds() {
                        cx.net_weird(name, addl);
                    }
                    if pcx.partial() {
                        cx.analysis_partial();
                    }
                    match &parsed {
                        ::std::result::Result::Ok(_) => {
                            if let ::std::option::Option::Some(e) = pcx.recovered() {
                                cx.violation(e.to_string());
                            } else if let ::std::option::Option::Some(why) = pcx.violation() {
                                cx.violation(why);
                            } #confirm
                        }
                        ::std::result::Result::Err(e) => {
                            if !e.is_reported() {
                                cx.violation(e.to_string());
                            }
                        }
                    }
                    #self_alias
                    #feeds
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
                        ::std::result::Result::Ok(pdu) => #bind_fn(#bound, cx.events, &ecx, limits),
                        // A PDU dropped unanalysed (`skip`) is not one that failed to parse.
                        ::std::result::Result::Err(_) if pcx.partial() => {}
                        ::std::result::Result::Err(_) => #bind_err(cx.events, &ecx, limits),
                    }
                    #late_feeds
                    #raw_ret
                }
    }
}

/// What a PDU handler returns.
#[derive(Clone, Copy)]
pub(super) enum Returns<'t> {
    Nothing,
    /// `on c: Unit raw = expr;`: how many raw bytes follow the line.
    Raw(&'t TokenStream),
    /// `&split` without a unit-level `&size`: how many bytes the PDU took.
    Consumed,
}

/// What a PDU handler adds for the analyzer's `state`: its parameter, the unit's
/// arguments and the `set` updates after a parse (all empty without state).
#[derive(Default)]
pub(super) struct StateTokens {
    /// The analyzer can stop (`stop`/`handoff`): the handler parses nothing after.
    pub(super) stops: bool,
    /// Statements before the parse (copies of bytes state passed as arguments).
    pub(super) prelude: TokenStream,
    pub(super) param: TokenStream,
    pub(super) args: TokenStream,
    pub(super) update: TokenStream,
    /// `feed` updates: after the PDU's weirds and verdict, before its events (Zeek's SSL
    /// raises a record's handshake events before the record's own).
    pub(super) feeds: TokenStream,
    /// `feed .. after events` updates: after the PDU's events (QUIC decrypts an Initial
    /// after raising the event of its header).
    pub(super) late_feeds: TokenStream,
    /// How a weird of the parse is reported: `cx.weird`, or from the component a
    /// `weird "x" from "SOURCE";` names.
    pub(super) report_weird: TokenStream,
}

/// Whether parsed PDUs of `unit` confirm the protocol (`confirm never;`, `confirm on U;`;
/// `confirm on orig;` is decided per direction by the lines item).
fn confirms(a: &Analyzer, unit: &str) -> bool {
    // `confirm on r: Unit where cond;` confirms from the state updates instead.
    let conditional = a.sets.iter().any(|s| s.op == crate::ast::SetOp::Confirm);
    a.confirm && !conditional && (a.confirm_on.is_empty() || a.confirm_on.iter().any(|u| u == unit))
}

/// `bind_<unit>` and `bind_error_<unit>` of the unit events bind to.
pub(super) fn bind_fns(b: &BindTarget) -> (Ident, Ident) {
    (
        format_ident!("bind_{}", snake(&b.unit)),
        format_ident!("bind_error_{}", snake(&b.unit)),
    )
}

/// `expire_after: Some(..)` for the lines of the transport an `expire` names.
fn expire_tokens(secs: Option<u32>) -> TokenStream {
    match secs {
        Some(secs) => {
            let secs = Literal::i64_unsuffixed(i64::from(secs));
            quote!(::std::option::Option::Some(::netpac_runtime::zeek::Interval::from_secs(#secs)))
        }
        None => quote!(::std::option::Option::None),
    }
}

/// `signature: Some(..)` for the first line of the signature's transport, else `None`.
fn signature_tokens(sig: Option<&Signature>) -> TokenStream {
    match sig {
        Some(sig) => {
            let side = |p: &Option<String>| match p {
                Some(p) => quote!(::std::option::Option::Some(#p)),
                None => quote!(::std::option::Option::None),
            };
            let (o, r, e) = (side(&sig.orig), side(&sig.resp), sig.either);
            quote!(::std::option::Option::Some(::netpac_runtime::dpd::Signature { orig: #o, resp: #r, either: #e }))
        }
        None => quote!(::std::option::Option::None),
    }
}
