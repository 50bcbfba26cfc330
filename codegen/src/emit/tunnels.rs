//! Tunnel analyzers (`udp port 3544 => tunnel Packet;`): one function that
//! reads a payload of the outer connection, raises its events and returns
//! the inner packet, registered as a `TunnelSpec`.

use super::*;
use crate::ident::{ident, snake};
use crate::ir::{Analyzer, Tunnel};

impl Emitter<'_> {
    pub(super) fn gen_tunnel(
        &mut self,
        a: &Analyzer,
        t: &Tunnel,
        out: &mut TokenStream,
        specs: &mut Vec<TokenStream>,
    ) {
        let tag = &a.name;
        let run = format_ident!("tunnel_{}", snake(&a.name));
        let un = format_ident!("{}", t.unit);
        let bound = match &t.bind.field {
            None => quote!(pdu),
            Some(f) => {
                let fi = ident(f);
                quote!(&pdu.#fi)
            }
        };
        let (bind, bind_err) = super::analyzers::bind_fns(&t.bind);
        let confirm = match (&t.confirm_when, t.confirm) {
            (_, false) => quote!(),
            (None, true) => quote!(else if pcx.halted().is_none() { cx.confirm(); }),
            (Some(c), true) => {
                let c = self.boolean(c, &Cx::Bind);
                quote!(else if pcx.halted().is_none() && #c { cx.confirm(); })
            }
        };
        let decaps: Vec<TokenStream> = t
            .decaps
            .iter()
            .map(|d| {
                let link = if d.ethernet {
                    quote!(::netpac_runtime::packet::LinkType::Ethernet)
                } else {
                    quote!(::netpac_runtime::packet::LinkType::Raw)
                };
                let value = self.bytes_arg(&d.value, &Cx::Bind);
                let take = quote! {
                    let bytes: &[u8] = #value;
                    if let ::std::option::Option::Some(offset) = ::netpac_runtime::parse::offset_in(data, bytes) {
                        inner = ::std::option::Option::Some(::netpac_runtime::udp_tunnels::InnerPacket {
                            link: #link,
                            offset,
                            len: bytes.len(),
                        });
                        break 'decap;
                    }
                };
                let guarded = match &d.cond {
                    Some(c) => {
                        let c = self.boolean(c, &Cx::Bind);
                        quote!(if #c { #take })
                    }
                    None => take,
                };
                self.for_each_selection(&d.binders, guarded)
            })
            .collect();
        let doc = format!(" The `{tag}` tunnel: one payload of the outer connection.");
        out.extend(quote! {
            #[doc = #doc]
            #[allow(unused_mut, unused_variables, unused_labels)]
            fn #run(cx: &mut ::netpac_runtime::analyzer::AnalyzerCx<'_>, is_orig: bool, data: &[u8])
                -> ::std::option::Option<::netpac_runtime::udp_tunnels::InnerPacket> {
                let limits = &Limits::configured();
                let resp_port = cx.conn.id().resp_p.number;
                let mut pcx = ::netpac_runtime::parse::ParseCx::new(is_orig, resp_port);
                pcx.confirmed = cx.confirmed;
                let mut cur = ::netpac_runtime::parse::Cursor::new(data);
                let parsed = #un::parse(&mut cur, &mut pcx, limits);
                for (name, addl) in pcx.take_weirds() {
                    cx.weird(name, addl);
                }
                for (name, addl) in pcx.take_net_weirds() {
                    cx.net_weird(name, addl);
                }
                let mut inner = ::std::option::Option::None;
                match &parsed {
                    ::std::result::Result::Ok(pdu) => {
                        if let ::std::option::Option::Some(e) = pcx.recovered() {
                            cx.violation(e.to_string());
                        } else if let ::std::option::Option::Some(why) = pcx.violation() {
                            cx.violation(why);
                        } #confirm
                        // A payload that violates the protocol carries nothing on.
                        if !matches!(cx.verdict, ::netpac_runtime::analyzer::Verdict::Violation(_)) {
                            'decap: { #(#decaps)* }
                        }
                    }
                    ::std::result::Result::Err(e) => {
                        if !e.is_reported() {
                            cx.violation(e.to_string());
                        }
                    }
                }
                let ecx = ::netpac_runtime::parse::EmitCx {
                    ts: cx.ts,
                    conn: cx.conn,
                    pdu: ::netpac_runtime::parse::Pdu::new(data),
                    pdu_len: data.len(),
                    is_orig,
                    halted: pcx.halted().is_some(),
                    l2: ::std::option::Option::None,
                };
                match &parsed {
                    ::std::result::Result::Ok(pdu) => #bind(#bound, cx.events, &ecx, limits),
                    ::std::result::Result::Err(_) => #bind_err(cx.events, &ecx, limits),
                }
                inner
            }
        });
        let detect = match &t.detect {
            Some(unit) => {
                let du = format_ident!("{}", unit);
                let f = format_ident!("detect_{}", snake(&a.name));
                let doc = format!(" Whether a payload on another port is the `{tag}` tunnel's: it parses as `{unit}`.");
                out.extend(quote! {
                    #[doc = #doc]
                    fn #f(data: &[u8]) -> bool {
                        let mut pcx = ::netpac_runtime::parse::ParseCx::new(true, 0);
                        let mut cur = ::netpac_runtime::parse::Cursor::new(data);
                        #du::parse(&mut cur, &mut pcx, &Limits::default()).is_ok()
                    }
                });
                quote!(::std::option::Option::Some(#f))
            }
            None => quote!(::std::option::Option::None),
        };
        let ports: Vec<Literal> = t
            .ports
            .iter()
            .map(|p| Literal::u16_unsuffixed(*p))
            .collect();
        let when = if t.delay_confirmation {
            quote!(BothSides)
        } else {
            quote!(Now)
        };
        let stop = t.stop_on_violation;
        let nested = match &t.nested_violation {
            Some(why) => quote!(::std::option::Option::Some(#why)),
            None => quote!(::std::option::Option::None),
        };
        specs.push(quote! {
            reg.add_tunnel(::netpac_runtime::udp_tunnels::TunnelSpec {
                tag: #tag,
                ports: &[#(#ports),*],
                detect: #detect,
                decapsulate: ::netpac_runtime::udp_tunnels::Decapsulator::Grammar(
                    ::netpac_runtime::udp_tunnels::GrammarTunnel {
                        run: #run,
                        confirm: ::netpac_runtime::udp_tunnels::Confirm::#when,
                        stop_on_violation: #stop,
                        nested_violation: #nested,
                    },
                ),
            });
        });
    }
}
