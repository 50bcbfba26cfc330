//! One field (or switch arm): window, value, constraints, arrays, switches.

use super::*;
use crate::ir::{
    Action, ArmBody, ArrayEnd, ArrayParse, FieldParse, ParamArg, Parse, Partial, SwitchParse,
    Trailing, Window,
};

/// A window's length: exact (must be consumed) or a maximum.
enum WindowLen {
    Exact(TokenStream),
    Max(TokenStream),
}

impl Emitter<'_> {
    /// An expression producing the field's value.
    pub(super) fn lower_field(&mut self, fp: &FieldParse, cx: &Cx) -> TokenStream {
        let at = fp.at.as_str();
        let cur = cx.cursor();
        let window = fp.window.as_ref().map(|w| match w {
            Window::Exact(e) => WindowLen::Exact(self.int(e, cx)),
            Window::Prefix(r) => {
                let read = self.int_read(*r, &cur, at);
                WindowLen::Exact(quote!(u64::from(#read)))
            }
            Window::Max(e) => WindowLen::Max(self.int(e, cx)),
        });
        let inner_cur = if window.is_some() {
            self.next_cursor()
        } else {
            cur.clone()
        };
        let inner = cx.with_cursor(inner_cur.clone());
        let mut value = self.parse_value(&fp.parse, &inner, at);

        if let Some(req) = &fp.requires {
            let checks: Vec<TokenStream> = req
                .checks
                .iter()
                .map(|(c, act, addl)| {
                    let c = self.boolean(c, cx);
                    let addl = addl.as_ref().map(|e| self.addl(e, cx));
                    let act = action(act, at, &cur, addl);
                    quote!(if !#c { #act })
                })
                .collect();
            value = quote!({ let npac_value = #value; #(#checks)* npac_value });
        }
        if let Some((w, addl)) = &fp.weird {
            let addl = match addl {
                Some(e) => self.addl(e, cx),
                None => quote!(::std::string::String::new()),
            };
            value = quote!({ cx.weird(#w, #addl); #value });
        }
        let mut out = match window {
            None => value,
            Some(WindowLen::Exact(n)) => {
                let trailing = match &fp.trailing {
                    Trailing::Error => quote! {
                        if !#inner_cur.is_empty() {
                            return ::std::result::Result::Err(::netpac_runtime::parse::ParseError::invalid(
                                #inner_cur.pos(), #at, ::netpac_runtime::parse::InvalidKind::TrailingData));
                        }
                    },
                    Trailing::Weird(w) => {
                        quote!(if !#inner_cur.is_empty() { cx.weird(#w, ::std::string::String::new()); })
                    }
                    Trailing::Ignore => quote!(),
                };
                quote!({
                    // Named apart from the grammar's fields (`len`, `window`), which the inner parse may read.
                    let npac_window_len = ::netpac_runtime::parse::ops::to_usize(#n, #at, #cur.pos())?;
                    let mut npac_window = #cur.sub(npac_window_len, #at)?;
                    let #inner_cur = &mut npac_window;
                    let value = #value;
                    #trailing
                    value
                })
            }
            Some(WindowLen::Max(n)) => quote!({
                let npac_window_len = ::netpac_runtime::parse::ops::to_usize(#n, #at, #cur.pos())?;
                let mut npac_window = #cur.sub_max(npac_window_len);
                let value = { let #inner_cur = &mut npac_window; #value };
                #cur.advance_to(npac_window.pos());
                value
            }),
        };
        // `&at = offset`: the field is read where it lies, from the origin; the
        // cursor stays where it is.
        if let Some(off) = &fp.placed {
            let off = self.int(off, cx);
            out = quote!({
                let npac_at = ::netpac_runtime::parse::ops::to_usize(#off, #at, #cur.pos())?;
                let mut npac_placed = #cur.at_origin(npac_at, #at)?;
                let #cur = &mut npac_placed;
                #out
            });
        }
        if let Some(oe) = &fp.on_error {
            let w = &oe.weird;
            let addl = match &oe.addl {
                Some(e) => self.addl(e, cx),
                None => quote!(::std::string::String::new()),
            };
            // `skip = ..`: part of the connection goes unanalysed (`X` in its history).
            let partial = if oe.skip { quote!(cx.mark_partial();) } else { quote!() };
            let ty = match &oe.ty {
                Some(t) => self.rust_ty(t),
                None => quote!(_),
            };
            out = quote!(match (|| -> ::std::result::Result<#ty, ::netpac_runtime::parse::ParseError> {
                ::std::result::Result::Ok(#out)
            })() {
                ::std::result::Result::Ok(v) => v,
                ::std::result::Result::Err(e) => {
                    // A failure the field already reported (its `&requires`) is not this one,
                    // nor is running out of a stream still coming (a unit framing itself).
                    if !e.is_reported() && !e.is_incomplete() {
                        cx.weird(#w, #addl);
                        #partial
                    }
                    return ::std::result::Result::Err(e.mark_reported());
                }
            })
        }
        out
    }

    /// Parses one value from the cursor of `cx`.
    fn parse_value(&mut self, p: &Parse, cx: &Cx, at: &str) -> TokenStream {
        let cur = cx.cursor();
        match p {
            Parse::Int(r) => self.int_read(*r, &cur, at),
            Parse::BytesWhile { set, inside } => {
                let l = Literal::byte_string(set);
                quote!(#cur.take_while_in(#l, #inside))
            }
            Parse::BytesUntil { delimiter, or_eod } => {
                let l = Literal::byte_string(delimiter);
                if *or_eod {
                    quote!(#cur.until_or_eod(#l))
                } else {
                    quote!(#cur.until(#l, #at)?)
                }
            }
            Parse::BytesRest => quote!(#cur.rest()),
            Parse::Ipv4 => quote!(#cur.ipv4(#at)?),
            Parse::Ipv6 => quote!(#cur.ipv6(#at)?),
            Parse::Enum { module, name, int } => {
                let read = self.int_read(*int, &cur, at);
                let en = self.qual_name(*module, name);
                quote!(#en(#read))
            }
            Parse::Unit { module, name, args } => {
                let a: Vec<TokenStream> = args.iter().map(|x| self.param_arg(x, cx, at)).collect();
                let un = self.qual_name(*module, name);
                let lim = if *module == self.module.index {
                    quote!(lim)
                } else {
                    let mn = format_ident!("{}", self.types.module_names[*module]);
                    quote!(&super::#mn::Limits::default())
                };
                quote!(#un::parse(#cur, cx, #lim #(, #a)*)?)
            }
            Parse::Extern { path, args } => {
                let a: Vec<TokenStream> = args.iter().map(|x| self.param_arg(x, cx, at)).collect();
                let p = crate::ident::path_tokens(path);
                quote!(#p::parse(#cur, cx #(, #a)*)?)
            }
            Parse::Bits { type_name, int } => {
                let read = self.int_read(*int, &cur, at);
                let n = format_ident!("{}", type_name);
                quote!(#n(#read))
            }
            Parse::Switch(sw) => self.lower_switch(sw, cx),
            Parse::Array(a) => {
                let elem = self.parse_value(&a.elem, cx, at);
                self.lower_array(elem, a, cx, at)
            }
            Parse::Invalid => unreachable!("an invalid field was reported by the check pass"),
        }
    }

    /// An argument converted to a unit parameter's type (out of range: `Arithmetic`).
    fn param_arg(&self, a: &ParamArg, cx: &Cx, at: &str) -> TokenStream {
        let cur = cx.cursor();
        match a {
            ParamArg::Bool(e) => self.boolean(e, cx),
            ParamArg::Bytes(e) => self.bytes_arg(e, cx),
            ParamArg::Int { value, ty } => {
                let v = self.int(value, cx);
                let t = self.rust_ty(ty);
                quote!(<#t>::try_from(#v).map_err(|_| ::netpac_runtime::parse::ParseError::invalid(#cur.pos(), #at, ::netpac_runtime::parse::InvalidKind::Arithmetic))?)
            }
            ParamArg::Enum {
                value,
                module,
                name,
                base,
            } => {
                let v = self.int(value, cx);
                let bt = self.rust_ty(base);
                let en = self.qual_name(*module, name);
                quote!(#en(<#bt>::try_from(#v).map_err(|_| ::netpac_runtime::parse::ParseError::invalid(#cur.pos(), #at, ::netpac_runtime::parse::InvalidKind::Arithmetic))?))
            }
        }
    }

    fn lower_array(&mut self, elem: TokenStream, a: &ArrayParse, cx: &Cx, at: &str) -> TokenStream {
        let cur = cx.cursor();
        let limit_err = quote!(return ::std::result::Result::Err(::netpac_runtime::parse::ParseError::invalid(
            #cur.pos(), #at, ::netpac_runtime::parse::InvalidKind::Limit("elements"))));
        // One element, with &partial turning a failure into weird + halt + stop.
        let get = match &a.partial {
            None => quote!(let npac_e = #elem;),
            Some(p) => {
                let report = match p {
                    Partial::Weird(w) => {
                        quote!(if !err.is_reported() { cx.weird(#w, ::std::string::String::new()); } cx.halt(#w);)
                    }
                    Partial::Halt => quote!(cx.halt("partial");),
                };
                quote! {
                    let npac_e = match (|| -> ::std::result::Result<_, ::netpac_runtime::parse::ParseError> {
                        ::std::result::Result::Ok(#elem)
                    })() {
                        ::std::result::Result::Ok(e) => e,
                        ::std::result::Result::Err(err) => {
                            #report
                            break;
                        }
                    };
                }
            }
        };
        // `limits { max_elements = N; }` overrides the runtime's default bound.
        let max_el = if a.grammar_max_elements {
            quote!(usize::try_from(lim.max_elements).unwrap_or(usize::MAX))
        } else {
            quote!(::netpac_runtime::parse::MAX_ELEMENTS)
        };
        let eod_check = if a.or_eod {
            quote!(if #cur.is_empty() { break; })
        } else {
            quote!()
        };
        let body = match &a.end {
            ArrayEnd::Count(n) => {
                let n = self.int(n, cx);
                quote! {
                    let npac_n = ::netpac_runtime::parse::ops::to_usize(#n, #at, #cur.pos())?;
                    if npac_n > #max_el { #limit_err }
                    npac_v.reserve(npac_n.min(#cur.remaining()));
                    for _ in 0..npac_n {
                        #eod_check
                        #get
                        npac_v.push(npac_e);
                    }
                }
            }
            ArrayEnd::Until { cond, inclusive } => {
                let c = self.boolean(cond, cx);
                let push = if *inclusive {
                    quote!(let npac_stop = #c; npac_v.push(npac_e); if npac_stop { break; })
                } else {
                    quote!(if #c { break; } npac_v.push(npac_e);)
                };
                quote! {
                    loop {
                        #eod_check
                        if npac_v.len() >= #max_el { #limit_err }
                        let npac_before = #cur.pos();
                        #get
                        if #cur.pos() == npac_before {
                            return ::std::result::Result::Err(::netpac_runtime::parse::ParseError::invalid(
                                #cur.pos(), #at, ::netpac_runtime::parse::InvalidKind::NoProgress));
                        }
                        #push
                    }
                }
            }
            ArrayEnd::Eod => quote! {
                while !#cur.is_empty() {
                    if npac_v.len() >= #max_el { #limit_err }
                    let npac_before = #cur.pos();
                    #get
                    if #cur.pos() == npac_before {
                        return ::std::result::Result::Err(::netpac_runtime::parse::ParseError::invalid(
                            #cur.pos(), #at, ::netpac_runtime::parse::InvalidKind::NoProgress));
                    }
                    npac_v.push(npac_e);
                }
            },
        };
        let body = if a.partial.is_some() {
            quote!(if cx.halted().is_none() { #body })
        } else {
            body
        };
        quote!({
            let mut npac_v = ::std::vec::Vec::new();
            #body
            npac_v
        })
    }

    pub(super) fn lower_switch(&mut self, sw: &SwitchParse, cx: &Cx) -> TokenStream {
        let scrut = self.int(&sw.scrutinee, cx);
        let en = format_ident!("{}", sw.enum_name);
        let mut arms = Vec::new();
        for arm in &sw.arms {
            let pat = match &arm.values {
                None => quote!(_),
                Some(vals) => {
                    let vals = vals.iter().map(|v| lit_u64(*v));
                    quote!(#(#vals)|*)
                }
            };
            let body = match &arm.body {
                ArmBody::Empty => quote!(#en::Empty),
                ArmBody::Variant { name, value, boxed } => {
                    let v = format_ident!("{}", name);
                    let val = self.lower_field(value, cx);
                    if *boxed {
                        quote!(#en::#v(::std::boxed::Box::new(#val)))
                    } else {
                        quote!(#en::#v(#val))
                    }
                }
            };
            arms.push(quote!(#pat => #body,));
        }
        quote!(match #scrut { #(#arms)* })
    }
}

/// What a failed `&requires` does.
fn action(a: &Action, at: &str, cur: &Ident, addl: Option<TokenStream>) -> TokenStream {
    let addl = addl.unwrap_or_else(|| quote!(::std::string::String::new()));
    match a {
        Action::Weird(n) => quote!(cx.weird(#n, #addl);),
        Action::NetWeird(n) => quote!(cx.net_weird(#n, #addl);),
        Action::Violation(n) => quote! {
            return ::std::result::Result::Err(::netpac_runtime::parse::ParseError::invalid(
                #cur.pos(), #at, ::netpac_runtime::parse::InvalidKind::Requires(#n)));
        },
        Action::Error(n) => quote! {
            cx.weird(#n, #addl);
            return ::std::result::Result::Err(::netpac_runtime::parse::ParseError::invalid(
                #cur.pos(), #at, ::netpac_runtime::parse::InvalidKind::Requires(#n)).mark_reported());
        },
        Action::Halt(n) => quote! {
            cx.weird(#n, #addl);
            cx.halt(#n);
            cx.flag_violation(#n);
        },
        Action::Ignore(n) => quote! {
            return ::std::result::Result::Err(::netpac_runtime::parse::ParseError::invalid(
                #cur.pos(), #at, ::netpac_runtime::parse::InvalidKind::Requires(#n)).mark_reported());
        },
        Action::Report(n) => quote!(cx.flag_violation(#n);),
        Action::Skip(n) => quote! {
            cx.weird(#n, #addl);
            cx.mark_partial();
            return ::std::result::Result::Err(::netpac_runtime::parse::ParseError::invalid(
                #cur.pos(), #at, ::netpac_runtime::parse::InvalidKind::Requires(#n)).mark_reported());
        },
    }
}
