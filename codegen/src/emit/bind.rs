//! Records, event structs and the `bind_<unit>` functions that raise events.

use super::*;
use crate::ident::{camel, ident, snake, upper_ident};
use crate::ir::{BindItem, BindLoop, Expect, FileHandoff, Raise};

impl Emitter<'_> {
    pub(super) fn gen_records(&mut self) -> TokenStream {
        let mut out = TokenStream::new();
        for r in &self.module.records {
            let params = r.params.iter().map(|(p, ty)| {
                let n = ident(p);
                let rt = self.rust_ty(ty);
                quote!(#n: &#rt)
            });
            let mut fields = Vec::new();
            let mut inits = Vec::new();
            for (name, z, value) in &r.fields {
                let t = self.expr(&value.expr, &Cx::Bind);
                let v = self.convert_z(t, &value.expr.ty, &value.conv);
                let rt = self.zty_rust(z);
                let n = ident(name);
                if matches!(z, crate::types::ZTy::Opt(_)) {
                    // Unset fields are left out, as Zeek leaves out unset `&optional` fields.
                    fields.push(quote!(#[serde(skip_serializing_if = "::std::option::Option::is_none")] pub #n: #rt,));
                } else {
                    fields.push(quote!(pub #n: #rt,));
                }
                inits.push(quote!(#n: #v,));
            }
            let sn = format_ident!("{}", crate::types::record_rust_name(&r.name));
            let f = format_ident!("{}", crate::types::record_builder_name(&r.name));
            let doc = format!(" Zeek's `{}` record.", r.name);
            out.extend(quote! {
                #[doc = #doc]
                #[derive(Debug, Clone, PartialEq, serde::Serialize)]
                pub struct #sn { #(#fields)* }
                #[allow(unused_variables)]
                pub fn #f<'a>(#(#params,)* ecx: &::netpac_runtime::parse::EmitCx<'_>, lim: &Limits) -> #sn {
                    #sn { #(#inits)* }
                }
            });
        }
        out
    }

    /// One struct per event name.
    pub(super) fn gen_event_structs(&mut self) -> TokenStream {
        let mut out = TokenStream::new();
        for ev in &self.module.events {
            let sn = format_ident!("{}", camel(&ev.name.replace("::", "_")));
            let id = upper_ident(&ev.name);
            let fields = ev.fields.iter().map(|(n, z)| {
                let rt = self.zty_rust(z);
                let f = ident(n);
                quote!(#f: #rt)
            });
            let doc = format!(" Zeek event `{}`.", ev.name);
            out.extend(quote! {
                ::netpac_runtime::define_event!(#[doc = #doc] #sn = #id { #(#fields),* });
            });
        }
        out
    }

    fn event_raise(&self, r: &Raise) -> TokenStream {
        let sn = format_ident!("{}", camel(&r.event.replace("::", "_")));
        let id = upper_ident(&r.event);
        let inits = r.args.iter().map(|(name, value)| {
            let t = self.expr(&value.expr, &Cx::Bind);
            let v = self.convert_z(t, &value.expr.ty, &value.conv);
            let f = ident(name);
            quote!(#f: #v)
        });
        let cond = match &r.cond {
            Some(c) => {
                let c = self.boolean(c, &Cx::Bind);
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

    fn bind_items(&self, items: &[BindItem]) -> TokenStream {
        let body = items.iter().map(|item| match item {
            BindItem::Raise(r) => self.event_raise(r),
            BindItem::Loop(l) => self.bind_loop(l),
            BindItem::Expect(x) => self.expect(x),
            BindItem::File(f) => self.file_handoff(f),
        });
        quote!(#(#body)*)
    }

    /// Handing a file to a file analyzer: always, when the condition holds; the
    /// index counts the files this PDU handed over (a certificate's place in its chain).
    fn file_handoff(&self, f: &FileHandoff) -> TokenStream {
        let cond = match &f.cond {
            Some(c) => self.boolean(c, &Cx::Bind),
            None => quote!(true),
        };
        let data = self.bytes_arg(&f.data, &Cx::Bind);
        let is_orig = match &f.is_orig {
            Some(d) => self.boolean(d, &Cx::Bind),
            None => quote!(ecx.is_orig),
        };
        let tag = &f.analyzer;
        // Zeek's `fa_file$source`: the analyzer that found the file, named as the grammar's module.
        let source = self.module.name.to_ascii_uppercase();
        quote! {
            if #cond {
                events.file_data(#tag, &::netpac_runtime::files::FileData {
                    ecx,
                    is_orig: #is_orig,
                    source: #source,
                    index: *npac_file_index,
                    data: #data,
                });
                *npac_file_index += 1;
            }
        }
    }

    /// Announcing a connection: scheduled whether or not anything subscribes,
    /// when the condition holds and the payload names an endpoint.
    fn expect(&self, x: &Expect) -> TokenStream {
        let cond = match &x.cond {
            Some(c) => self.boolean(c, &Cx::Bind),
            None => quote!(true),
        };
        let to = self.expr(&x.to, &Cx::Bind);
        let orig = match &x.from {
            Some(v) => {
                let t = self.expr(&v.expr, &Cx::Bind);
                let a = self.convert_z(t, &v.expr.ty, &v.conv);
                quote!(::std::option::Option::Some(#a))
            }
            None => quote!(::std::option::Option::None),
        };
        let proto = if x.udp {
            quote!(::netpac_runtime::zeek::Proto::Udp)
        } else {
            quote!(::netpac_runtime::zeek::Proto::Tcp)
        };
        let analyzer = &x.analyzer;
        let service = match &x.service {
            Some(s) => quote!(::std::option::Option::Some(#s)),
            None => quote!(::std::option::Option::None),
        };
        let secs = i64::from(x.secs);
        quote! {
            if #cond {
                if let ::std::option::Option::Some(to) = #to {
                    events.schedule(::netpac_runtime::expected::Expectation {
                        orig_h: #orig,
                        resp_h: to.h,
                        resp_p: to.p,
                        proto: #proto,
                        analyzer: #analyzer,
                        service: #service,
                        expires: ecx.ts.add(::netpac_runtime::zeek::Interval::from_secs(#secs)),
                    });
                }
            }
        }
    }

    /// A loop over a binder, run only if an event below it is subscribed.
    fn bind_loop(&self, l: &BindLoop) -> TokenStream {
        let iter = self.binder_iter(&l.iter);
        let v = ident(&l.var);
        let body = self.bind_items(&l.items);
        if l.wants.is_empty() && !l.always {
            return quote!();
        }
        let wants = l.wants.iter().map(|i| {
            let id = upper_ident(i);
            quote!(events.wants(::netpac_runtime::event::ids::#id))
        });
        if l.always {
            return quote!(for #v in #iter { #body });
        }
        quote! {
            if #(#wants)||* {
                for #v in #iter { #body }
            }
        }
    }

    /// `bind_<unit>` functions: raise the events bound to a parsed PDU, in document order.
    pub(super) fn gen_bindings(&mut self) -> TokenStream {
        let mut out = TokenStream::new();
        for b in &self.module.bindings {
            let bodies = b.roots.iter().map(|(var, items)| {
                let v = ident(var);
                let body = self.bind_items(items);
                quote!({ let #v = pdu; #body })
            });
            // Files handed over count from 0 in each PDU.
            let file_counter = if b.roots.iter().any(|(_, items)| hands_files(items)) {
                quote!(let npac_file_index = &mut 0u64;)
            } else {
                quote!()
            };
            let err_bodies = b.errors.iter().map(|r| self.event_raise(r));
            let unit = &b.unit;
            let un = format_ident!("{}", unit);
            let lt = if b.borrows { quote!(<'_>) } else { quote!() };
            let f = format_ident!("bind_{}", snake(unit));
            let fe = format_ident!("bind_error_{}", snake(unit));
            let doc = format!(" Raises the events bound to a parsed `{unit}`, in document order.");
            let doc_e = format!(" Raises the events bound to a `{unit}` that failed to parse.");
            out.extend(quote! {
                #[doc = #doc]
                #[allow(unused_variables, clippy::all)]
                pub fn #f(pdu: &#un #lt, events: &mut ::netpac_runtime::event::Events, ecx: &::netpac_runtime::parse::EmitCx<'_>, lim: &Limits) {
                    #file_counter
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
}

/// Whether these items hand a file over, at any depth.
fn hands_files(items: &[BindItem]) -> bool {
    items.iter().any(|i| match i {
        BindItem::File(_) => true,
        BindItem::Loop(l) => hands_files(&l.items),
        _ => false,
    })
}
