//! Analyzers: per-item handlers, the analyzer structs and `register`.

use super::*;
use crate::ast::Transport;
use crate::ident::{camel, ident, snake};
use crate::ir::{Analyzer, BindTarget, Signature, TransportKind};

impl Emitter<'_> {
    pub(super) fn gen_analyzers(&mut self) -> TokenStream {
        let mut out = TokenStream::new();
        let mut specs = Vec::new();
        for a in &self.module.analyzers {
            if a.has_link {
                self.gen_link_analyzer(a, &mut out, &mut specs);
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
            let (unit, bind, framed, flip) = match &item.kind {
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
                    bind,
                    framed,
                    flip,
                } => (unit, bind, *framed, flip),
            };
            let idx = Literal::u8_unsuffixed(i as u8);
            let h = format_ident!("handle_{}_{}", snake(&a.name), i);
            let un = format_ident!("{}", unit);
            // Events bind to the PDU, or to one unit-typed field of it (`=> TcpMessage.msg`).
            let (bound, pdu_len) = match &bind.field {
                None => (quote!(pdu), quote!(data.len())),
                Some(f) => {
                    let fi = ident(f);
                    let prefix = if framed {
                        quote!(data.len().saturating_sub(#un::FRAME_PREFIX))
                    } else {
                        quote!(data.len())
                    };
                    (quote!(&pdu.#fi), prefix)
                }
            };
            let (bind_fn, bind_err) = bind_fns(bind);
            let flip = self.flip_check(flip.as_ref());
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
                        ::std::result::Result::Ok(pdu) => #bind_fn(#bound, cx.events, &ecx, limits),
                        ::std::result::Result::Err(_) => #bind_err(cx.events, &ecx, limits),
                    }
                }
            });
            let (arm, gap) = match item.transport {
                Transport::Link => unreachable!("link items are not transport items"),
                Transport::Udp => (
                    quote!(#idx => #h(limits, cx, is_orig, data, first),),
                    quote!(),
                ),
                Transport::Tcp => (
                    quote!(#idx => {
                        let framer = &mut framers[usize::from(!is_orig)];
                        let r = framer.deliver(data, #un::frame_len, &mut |pdu| #h(limits, cx, is_orig, pdu, first));
                        if let ::std::result::Result::Err(e) = r {
                            cx.violation(e.to_string());
                        }
                    }),
                    quote!(#idx => framers[usize::from(!is_orig)].desync(),),
                ),
            };
            deliver_arms.push(arm);
            gap_arms.push(gap);
            let ctor = format_ident!("new_{}_{}", snake(&a.name), i);
            out.extend(quote! {
                fn #ctor() -> ::std::boxed::Box<dyn ::netpac_runtime::analyzer::Analyzer> {
                    ::std::boxed::Box::new(#an::new(#idx, Limits::default()))
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

/// `bind_<unit>` and `bind_error_<unit>` of the unit events bind to.
fn bind_fns(b: &BindTarget) -> (Ident, Ident) {
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
            let (o, r) = (side(&sig.orig), side(&sig.resp));
            quote!(::std::option::Option::Some(::netpac_runtime::dpd::Signature { orig: #o, resp: #r }))
        }
        None => quote!(::std::option::Option::None),
    }
}
