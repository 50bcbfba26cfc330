//! Enums, limits and units: their types and parse functions.

use super::*;
use crate::ast::Order;
use crate::ident::ident;
use crate::ir::{
    BitsType, Field, Frame, InlineType, IntRead, LetValue, LimitValue, Local, Presence, SwitchType,
    Unit, UnitBody,
};

fn local_tokens(l: &Local) -> Ident {
    match l {
        Local::Named(n) => ident(n),
        Local::Anon(i) => format_ident!("_anon{}", i),
    }
}

impl Emitter<'_> {
    pub(super) fn gen_enums(&mut self) -> TokenStream {
        let mut out = TokenStream::new();
        for e in &self.module.enums {
            let base = format_ident!("u{}", if e.bits == 24 { 32 } else { e.bits });
            let name = format_ident!("{}", e.name);
            let mut consts = Vec::new();
            let mut arms = Vec::new();
            for (n, v) in &e.items {
                let c = format_ident!("{}", n);
                let lit = Literal::u64_unsuffixed(*v);
                consts.push(quote!(pub const #c: #name = #name(#lit);));
                arms.push(quote!(#lit => ::std::option::Option::Some(#n),));
            }
            let ename = &e.name;
            out.extend(quote! {
                /// Open enum: unknown codes are values, not errors.
                #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
                pub struct #name(pub #base);
                impl #name {
                    #(#consts)*
                    /// The constant's name, if the code is known.
                    pub fn name(self) -> ::std::option::Option<&'static str> {
                        #[allow(unreachable_patterns)]
                        match self.0 { #(#arms)* _ => ::std::option::Option::None }
                    }
                }
                impl ::std::fmt::Debug for #name {
                    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        match self.name() {
                            ::std::option::Option::Some(n) => f.write_str(n),
                            ::std::option::Option::None => write!(f, "{}({:#x})", #ename, self.0),
                        }
                    }
                }
            });
        }
        out
    }

    pub(super) fn gen_limits(&mut self) -> TokenStream {
        let mut fields = Vec::new();
        let mut inits = Vec::new();
        let mut sets = Vec::new();
        let module = self.module.name.clone();
        let names: Vec<&str> = self.module.limits.iter().map(|l| l.name.as_str()).collect();
        for l in &self.module.limits {
            let n = ident(&l.name);
            let ns = &l.name;
            match l.value {
                LimitValue::Int(v) => {
                    let lit = lit_u64(v);
                    fields.push(quote!(pub #n: u64,));
                    inits.push(quote!(#n: #lit,));
                    sets.push(quote!(#ns => { self.#n = value; true }));
                }
                LimitValue::Bool(b) => {
                    fields.push(quote!(pub #n: bool,));
                    inits.push(quote!(#n: #b,));
                    sets.push(quote!(#ns => { self.#n = value != 0; true }));
                }
            }
        }
        quote! {
            /// Limits and options declared by the grammar; override them at run time.
            #[derive(Debug, Clone, PartialEq, Eq)]
            pub struct Limits { #(#fields)* }
            impl ::std::default::Default for Limits {
                fn default() -> Self { Limits { #(#inits)* } }
            }
            impl Limits {
                /// Sets a limit by name (booleans: 0 = false); false if there is no such limit.
                pub fn set(&mut self, name: &str, value: u64) -> bool {
                    let _ = value;
                    match name { #(#sets)* _ => false }
                }
                /// The defaults with the limits changed at run time (`--limit`,
                /// `netpac_runtime::limits`): what each new analyzer starts with.
                pub fn configured() -> Self {
                    let mut l = Limits::default();
                    ::netpac_runtime::limits::apply(MODULE, |name, value| {
                        l.set(name, value);
                    });
                    l
                }
            }
            /// The grammar's module name (its limits' prefix: `module.limit`).
            pub const MODULE: &str = #module;
            /// The names of the grammar's limits.
            pub const LIMIT_NAMES: &[&str] = &[#(#names),*];
        }
    }

    pub(super) fn next_cursor(&mut self) -> Ident {
        self.cursor_n += 1;
        format_ident!("w{}", self.cursor_n)
    }

    pub(super) fn int_read(&self, r: IntRead, cur: &Ident, at: &str) -> TokenStream {
        let o = if r.order == Order::Big { "be" } else { "le" };
        let f = format_ident!("{}{}_{}", if r.signed { "i" } else { "u" }, r.bits, o);
        quote!(#cur.#f(#at)?)
    }

    /// The type definition of a switch: the enum of its arms.
    fn switch_enum(&self, st: &SwitchType) -> TokenStream {
        let en = format_ident!("{}", st.name);
        let lt = if st.borrows { quote!(<'a>) } else { quote!() };
        let mut variants: Vec<TokenStream> = st
            .variants
            .iter()
            .map(|v| {
                let n = format_ident!("{}", v.name);
                let rt = self.stored_ty(&v.ty, v.boxed);
                quote!(#n(#rt),)
            })
            .collect();
        if st.has_empty {
            variants.push(quote!(Empty,));
        }
        quote! {
            #[derive(Debug, Clone)]
            pub enum #en #lt { #(#variants)* }
        }
    }

    fn bits_struct(&self, b: &BitsType) -> TokenStream {
        let n = format_ident!("{}", b.name);
        let st = format_ident!("u{}", b.width);
        let mut fns = Vec::new();
        for (name, lo, hi) in &b.members {
            let f = ident(name);
            let lo_lit = Literal::u32_unsuffixed(*lo as u32);
            let w = (hi - lo + 1) as u32;
            let mask = if w >= 64 { u64::MAX } else { (1u64 << w) - 1 };
            let mask = lit_u64(mask);
            let doc = format!(" Bits {}..={} (bit 0 = least significant).", lo, hi);
            fns.push(quote! {
                #[doc = #doc]
                #[inline]
                pub fn #f(&self) -> u64 { (u64::from(self.0) >> #lo_lit) & #mask }
            });
        }
        quote! {
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            pub struct #n(pub #st);
            impl #n { #(#fns)* }
        }
    }

    pub(super) fn gen_units(&mut self) -> TokenStream {
        let mut out = TokenStream::new();
        for u in &self.module.units {
            out.extend(self.gen_unit(u));
        }
        out
    }

    fn gen_unit(&mut self, u: &Unit) -> TokenStream {
        let name = format_ident!("{}", u.name);
        let ltp = if u.borrows { quote!(<'a>) } else { quote!() };
        let impl_lt = if u.borrows {
            quote!(impl<'a> #name<'a>)
        } else {
            quote!(impl #name)
        };
        let fn_lt = if u.borrows { quote!() } else { quote!(<'a>) };
        let at_unit = &u.at;
        self.cursor_n = 0;
        let cx = Cx::Parse {
            at: at_unit.clone(),
            cur: format_ident!("cur"),
        };
        let mut param_decls = Vec::new();
        let mut struct_fields = Vec::new();
        let mut inits = Vec::new();
        let mut param_names = Vec::new();
        for (p, t) in &u.params {
            let rt = self.rust_ty(t);
            let n = ident(p);
            param_decls.push(quote!(#n: #rt));
            param_names.push(quote!(#n));
            struct_fields.push(quote!(pub #n: #rt,));
            inits.push(quote!(#n,));
        }
        let mut extra_types = TokenStream::new();
        let mut stmts = Vec::new();
        match &u.body {
            UnitBody::Switch { ty, parse } => {
                extra_types.extend(self.switch_enum(ty));
                let m = self.lower_switch(parse, &cx);
                stmts.push(quote!(let value = #m;));
            }
            UnitBody::Fields(fields) => {
                for f in fields {
                    match f {
                        Field::Let { local, ty, value } => {
                            let local = local_tokens(local);
                            let rt = self.rust_ty(ty);
                            let v = match value {
                                LetValue::Bool(e) => self.boolean(e, &cx),
                                LetValue::U64(e) => self.int(e, &cx),
                                LetValue::Bytes(e) => self.bytes_arg(e, &cx),
                                LetValue::Narrowed { value, at } => {
                                    let x = self.int(value, &cx);
                                    quote!(<#rt>::try_from(#x).map_err(|_| ::netpac_runtime::parse::ParseError::invalid(cur.pos(), #at, ::netpac_runtime::parse::InvalidKind::Arithmetic))?)
                                }
                            };
                            stmts.push(quote!(let #local: #rt = #v;));
                            struct_fields.push(quote!(pub #local: #rt,));
                            inits.push(quote!(#local,));
                        }
                        Field::Skip { to, at, n, cond } => {
                            let n = self.int(n, &cx);
                            let skip = if *to {
                                quote!(cur.skip_to(::netpac_runtime::parse::ops::to_usize(#n, #at, cur.pos())?, #at)?;)
                            } else {
                                quote!(cur.skip(::netpac_runtime::parse::ops::to_usize(#n, #at, cur.pos())?, #at)?;)
                            };
                            stmts.push(match cond {
                                None => skip,
                                Some(c) => {
                                    let c = self.boolean(c, &cx);
                                    quote!(if #c { #skip })
                                }
                            });
                        }
                        Field::Parsed(f) => {
                            match &f.inline_type {
                                Some(InlineType::Switch(st)) => {
                                    extra_types.extend(self.switch_enum(st))
                                }
                                Some(InlineType::Bits(b)) => {
                                    extra_types.extend(self.bits_struct(b))
                                }
                                None => {}
                            }
                            let val = self.lower_field(&f.value, &cx);
                            let val = match &f.presence {
                                Presence::Always => val,
                                Presence::Recover { ty } => {
                                    // A failed field is absent; the error becomes a violation and parsing halts.
                                    let rt = self.rust_ty(ty);
                                    quote!(match (|| -> ::std::result::Result<#rt, ::netpac_runtime::parse::ParseError> {
                                        ::std::result::Result::Ok(#val)
                                    })() {
                                        ::std::result::Result::Ok(v) => ::std::option::Option::Some(v),
                                        ::std::result::Result::Err(e) if e.is_incomplete() => return ::std::result::Result::Err(e),
                                        ::std::result::Result::Err(e) => {
                                            cx.recover(e);
                                            let _ = cur.rest();
                                            ::std::option::Option::None
                                        }
                                    })
                                }
                                Presence::If(c) => {
                                    let c = self.boolean(c, &cx);
                                    quote!(if #c { ::std::option::Option::Some(#val) } else { ::std::option::Option::None })
                                }
                            };
                            let val = match (f.boxed, &f.presence) {
                                (false, _) => val,
                                (true, Presence::Always) => quote!(::std::boxed::Box::new(#val)),
                                (true, _) => quote!(#val.map(::std::boxed::Box::new)),
                            };
                            let local = local_tokens(&f.local);
                            stmts.push(quote!(let #local = #val;));
                            if let Some(ty) = &f.stored {
                                let rt = self.stored_ty(ty, f.boxed);
                                struct_fields.push(quote!(pub #local: #rt,));
                                inits.push(quote!(#local,));
                            }
                        }
                    }
                }
            }
        }
        let (set_origin, restore_origin) = if u.origin {
            (
                quote!(let origin = cur.set_origin_here();),
                quote!(cur.restore_origin(origin);),
            )
        } else {
            (quote!(), quote!())
        };
        let frame = match &u.frame {
            Some(f) => self.frame_len(f, &u.params),
            None => quote!(),
        };
        let doc = format!(
            " Parses `{}` from `cur`. Never panics; see `ParseError`.",
            u.name
        );
        let (typedef, result) = match u.body {
            UnitBody::Switch { .. } => (quote!(), quote!(value)),
            UnitBody::Fields(_) => (
                quote! {
                    #[derive(Debug, Clone)]
                    pub struct #name #ltp { #(#struct_fields)* }
                },
                quote!(#name { #(#inits)* }),
            ),
        };
        quote! {
            #typedef
            #extra_types
            #impl_lt {
                #[doc = #doc]
                pub fn parse #fn_lt (
                    cur: &mut ::netpac_runtime::parse::Cursor<'a>,
                    cx: &mut ::netpac_runtime::parse::ParseCx,
                    lim: &Limits,
                    #(#param_decls),*
                ) -> ::std::result::Result<Self, ::netpac_runtime::parse::ParseError> {
                    cx.enter(#at_unit, cur.pos())?;
                    #set_origin
                    let r = Self::parse_fields(cur, cx, lim #(, #param_names)*);
                    #restore_origin
                    cx.leave();
                    r
                }
                #[allow(unused_variables, clippy::let_and_return, clippy::redundant_closure_call)]
                fn parse_fields #fn_lt (
                    cur: &mut ::netpac_runtime::parse::Cursor<'a>,
                    cx: &mut ::netpac_runtime::parse::ParseCx,
                    lim: &Limits,
                    #(#param_decls),*
                ) -> ::std::result::Result<Self, ::netpac_runtime::parse::ParseError> {
                    #(#stmts)*
                    ::std::result::Result::Ok(#result)
                }
                #frame
            }
        }
    }

    /// `frame_len` for a unit with `&size = expr` over its leading fixed-size fields.
    fn frame_len(&mut self, f: &Frame, params: &[(String, Ty)]) -> TokenStream {
        let cur = format_ident!("cur");
        let cx = Cx::Parse {
            at: f.at.clone(),
            cur: cur.clone(),
        };
        let mut stmts = Vec::new();
        for r in &f.reads {
            let read = self.int_read(r.int, &cur, &r.at);
            let local = ident(&r.name);
            let read = match &r.enum_ty {
                Some((m, n)) => {
                    let en = self.qual_name(*m, n);
                    quote!(#en(#read))
                }
                None => read,
            };
            stmts.push(quote!(let #local = #read;));
        }
        self.in_frame = true;
        let n = self.int(&f.size, &cx);
        self.in_frame = false;
        let prefix_lit = Literal::usize_unsuffixed(f.prefix);
        // Framing by state: the integer and bool parameters, and the direction.
        let (name, doc, extra) = if f.contextual {
            let ps: Vec<TokenStream> = params
                .iter()
                .filter(|(_, t)| matches!(t, Ty::Int { .. } | Ty::Bool))
                .map(|(p, t)| {
                    let id = ident(p);
                    let ty = self.rust_ty(t);
                    quote!(, #id: #ty)
                })
                .collect();
            (
                format_ident!("frame_len_in"),
                quote!(#[doc = " The length of the PDU starting at `prefix`, from its leading fields, the direction (`cx`) and the connection's state (the unit's parameters)."]),
                quote!(, cx: &::netpac_runtime::parse::ParseCx #(#ps)*),
            )
        } else {
            (
                format_ident!("frame_len"),
                quote!(#[doc = " The length of the PDU starting at `prefix`, from its leading fields."]),
                quote!(),
            )
        };
        quote! {
            /// Bytes needed before the frame length can be told.
            pub const FRAME_PREFIX: usize = #prefix_lit;
            #doc
            #[allow(unused_variables, clippy::redundant_closure_call)]
            pub fn #name(prefix: &[u8] #extra) -> ::netpac_runtime::framer::FrameLen {
                let mut c = ::netpac_runtime::parse::Cursor::streaming(prefix);
                let cur = &mut c;
                let r = (|| -> ::std::result::Result<u64, ::netpac_runtime::parse::ParseError> {
                    #(#stmts)*
                    // A peek in the length counts from the unit's start, as the
                    // grammar reads it, not from after the leading fields.
                    let mut c = ::netpac_runtime::parse::Cursor::streaming(prefix);
                    let cur = &mut c;
                    ::std::result::Result::Ok(#n)
                })();
                match r {
                    ::std::result::Result::Ok(n) => match usize::try_from(n) {
                        ::std::result::Result::Ok(n) => ::netpac_runtime::framer::FrameLen::Pdu(n),
                        ::std::result::Result::Err(_) => ::netpac_runtime::framer::FrameLen::Invalid,
                    },
                    ::std::result::Result::Err(e) if e.is_incomplete() => ::netpac_runtime::framer::FrameLen::Need(Self::FRAME_PREFIX),
                    ::std::result::Result::Err(_) => ::netpac_runtime::framer::FrameLen::Invalid,
                }
            }
        }
    }
}
