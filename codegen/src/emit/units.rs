//! Lowering of enums, limits and units (types + parse functions).

use super::*;

/// Known field attributes.
const FIELD_ATTRS: &[&str] = &[
    "size",
    "max_size",
    "prefix",
    "eod",
    "until",
    "until_incl",
    "or_eod",
    "requires",
    "trailing",
    "partial",
    "on_error",
    "recover",
    "byteorder",
    "weird",
];

enum Window {
    Exact(TokenStream),
    Max(TokenStream),
}

impl Emitter<'_> {
    pub(crate) fn gen_enums(&mut self) -> TokenStream {
        let mut out = TokenStream::new();
        for e in &self.module().enums {
            let Some((bits, false, _)) = builtin_int(&e.base) else {
                self.err(
                    e.base_span,
                    format!(
                        "enum base must be an unsigned integer type, not `{}`",
                        e.base
                    ),
                );
                continue;
            };
            let base = format_ident!("u{}", if bits == 24 { 32 } else { bits });
            let name = format_ident!("{}", e.name);
            let max = if bits >= 64 {
                u64::MAX
            } else {
                (1u64 << bits) - 1
            };
            let mut consts = Vec::new();
            let mut arms = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for (n, v, span) in &e.items {
                if *v > max {
                    self.err(*span, format!("value {v} does not fit in {}", e.base));
                    continue;
                }
                if !seen.insert(n.clone()) {
                    self.err(*span, format!("duplicate enum item `{n}`"));
                    continue;
                }
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

    pub(crate) fn gen_limits(&mut self) -> TokenStream {
        let mut fields = Vec::new();
        let mut inits = Vec::new();
        let mut sets = Vec::new();
        for l in &self.module().limits {
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
            }
        }
    }

    fn next_cursor(&mut self) -> Ident {
        self.cursor_n += 1;
        format_ident!("w{}", self.cursor_n)
    }

    fn at(&self, unit: &str, field: &str) -> String {
        format!("{}.{}.{}", self.module().name, unit, field)
    }

    fn attr<'a>(&self, attrs: &'a [Attr], name: &str) -> Option<&'a Attr> {
        attrs.iter().find(|a| a.name == name)
    }

    fn attr_expr<'a>(&mut self, a: &'a Attr) -> Option<&'a Expr> {
        if let Some(v) = &a.value {
            return Some(v);
        }
        match a.args.first() {
            Some(AttrArg {
                name: None, expr, ..
            }) => Some(expr),
            _ => {
                self.err(a.span, format!("`&{}` needs a value", a.name));
                None
            }
        }
    }

    fn attr_named_str(&mut self, a: &Attr, key: &str) -> Option<String> {
        a.args
            .iter()
            .find(|x| x.name.as_deref() == Some(key))
            .and_then(|x| match &x.expr.kind {
                ExprKind::Str(s) => Some(s.clone()),
                _ => None,
            })
    }

    fn int_read(&self, bits: u8, signed: bool, order: Order, cur: &Ident, at: &str) -> TokenStream {
        let o = if order == Order::Big { "be" } else { "le" };
        let f = format_ident!("{}{}_{}", if signed { "i" } else { "u" }, bits, o);
        quote!(#cur.#f(#at)?)
    }

    fn field_order(&mut self, attrs: &[Attr], suffix: Option<Order>) -> Order {
        if let Some(o) = suffix {
            return o;
        }
        if let Some(a) = self.attr(attrs, "byteorder") {
            if let Some(ExprKind::Path(p)) = a.value.as_ref().map(|e| &e.kind) {
                match p.as_str() {
                    "big" => return Order::Big,
                    "little" => return Order::Little,
                    _ => {}
                }
            }
            self.err(a.span, "`&byteorder` must be `big` or `little`");
        }
        self.order()
    }

    /// Converts a u64 expression to a parameter of type `ty`.
    fn param_arg(&mut self, e: &Expr, ty: &str, sc: &Scope, at: &str) -> TokenStream {
        let cur = &sc.cursor;
        match self.w.scalar_named(self.m, ty) {
            Some(Ty::Bool) => self.boolean(e, sc),
            Some(Ty::Int { bits, signed }) => {
                let v = self.int(e, sc);
                let t = self.rust_ty(&Ty::Int { bits, signed });
                quote!(<#t>::try_from(#v).map_err(|_| ::netpac_runtime::parse::ParseError::invalid(#cur.pos(), #at, ::netpac_runtime::parse::InvalidKind::Arithmetic))?)
            }
            Some(Ty::Enum(m, n)) => {
                let v = self.int(e, sc);
                let base = self
                    .w
                    .enum_decl(m, &n)
                    .and_then(|d| builtin_int(&d.base))
                    .map(|(b, _, _)| b)
                    .unwrap_or(64);
                let bt = self.rust_ty(&Ty::Int {
                    bits: base,
                    signed: false,
                });
                let en = self.qual_name(m, &n);
                quote!(#en(<#bt>::try_from(#v).map_err(|_| ::netpac_runtime::parse::ParseError::invalid(#cur.pos(), #at, ::netpac_runtime::parse::InvalidKind::Arithmetic))?))
            }
            _ => {
                self.err(
                    e.span,
                    format!("parameter type `{ty}` must be an integer, bool or enum"),
                );
                quote!(0)
            }
        }
    }

    fn call_args(
        &mut self,
        params: &[Param],
        args: &[Expr],
        sc: &Scope,
        at: &str,
        span: Span,
        what: &str,
    ) -> Vec<TokenStream> {
        if params.len() != args.len() {
            self.err(
                span,
                format!(
                    "`{what}` takes {} argument(s), {} given",
                    params.len(),
                    args.len()
                ),
            );
            return Vec::new();
        }
        params
            .iter()
            .zip(args)
            .map(|(p, e)| self.param_arg(e, &p.ty, sc, at))
            .collect()
    }

    /// Parses one value of a named (non-array) type from `sc.cursor`.
    #[allow(clippy::too_many_arguments)]
    fn parse_base(
        &mut self,
        name: &str,
        name_span: Span,
        args: &[Expr],
        attrs: &[Attr],
        sc: &Scope,
        at: &str,
        windowed: bool,
    ) -> TokenStream {
        let cur = &sc.cursor;
        if let Some((bits, signed, suffix)) = builtin_int(name) {
            let order = self.field_order(attrs, suffix);
            return self.int_read(bits, signed, order, cur, at);
        }
        match name {
            "bytes" => {
                if let Some(a) = self.attr(attrs, "until") {
                    let Some(e) = self.attr_expr(a) else {
                        return quote!(&[][..]);
                    };
                    return match &e.kind {
                        ExprKind::Bytes(b) => {
                            let l = Literal::byte_string(b);
                            if self.attr(attrs, "or_eod").is_some() {
                                quote!(#cur.until_or_eod(#l))
                            } else {
                                quote!(#cur.until(#l, #at)?)
                            }
                        }
                        _ => {
                            self.err(e.span, "`&until` on bytes takes a bytes literal delimiter, e.g. b\"\\r\\n\"");
                            quote!(&[][..])
                        }
                    };
                }
                if windowed || self.attr(attrs, "eod").is_some() {
                    return quote!(#cur.rest());
                }
                self.err(
                    name_span,
                    "bytes need a length: `&size`, `&prefix`, `&until(b\"..\")` or `&eod`",
                );
                return quote!(&[][..]);
            }
            "ipv4" => return quote!(#cur.ipv4(#at)?),
            "ipv6" => return quote!(#cur.ipv6(#at)?),
            _ => {}
        }
        match self.w.lookup(self.m, name) {
            Some(TypeDef::Enum(m, e)) => {
                let Some((bits, _, _)) = builtin_int(&e.base) else {
                    return quote!(0);
                };
                let order = self.field_order(attrs, None);
                let read = self.int_read(bits, false, order, cur, at);
                let en = self.qual_name(m, &e.name);
                quote!(#en(#read))
            }
            Some(TypeDef::Unit(m, u)) => {
                let a = self.call_args(&u.params, args, sc, at, name_span, name);
                let un = self.qual_name(m, &u.name);
                let lim = if m == self.m {
                    quote!(lim)
                } else {
                    let mn = format_ident!("{}", self.w.modules[m].name);
                    quote!(&super::#mn::Limits::default())
                };
                quote!(#un::parse(#cur, cx, #lim #(, #a)*)?)
            }
            Some(TypeDef::Extern(_, x)) => {
                let a = self.call_args(&x.params, args, sc, at, name_span, name);
                let p = path_tokens(&x.path);
                quote!(#p::parse(#cur, cx #(, #a)*)?)
            }
            None => {
                self.err(name_span, format!("unknown type `{name}`"));
                quote!(())
            }
        }
    }

    fn action(&mut self, a: &Attr, at: &str, cur: &Ident) -> TokenStream {
        let named: Vec<&AttrArg> = a.args.iter().filter(|x| x.name.is_some()).collect();
        if named.len() != 1 {
            self.err(a.span, "`&requires` needs exactly one of `weird`, `error`, `violation` or `halt` = \"name\"");
            return quote!();
        }
        let key = named[0].name.clone().unwrap_or_default();
        let Some(n) = self.attr_named_str(a, &key) else {
            self.err(
                named[0].span,
                "the weird / violation name must be a string literal",
            );
            return quote!();
        };
        match key.as_str() {
            "weird" => quote!(cx.weird(#n, ::std::string::String::new());),
            "violation" => quote! {
                return ::std::result::Result::Err(::netpac_runtime::parse::ParseError::invalid(
                    #cur.pos(), #at, ::netpac_runtime::parse::InvalidKind::Requires(#n)));
            },
            "error" => quote! {
                cx.weird(#n, ::std::string::String::new());
                return ::std::result::Result::Err(::netpac_runtime::parse::ParseError::invalid(
                    #cur.pos(), #at, ::netpac_runtime::parse::InvalidKind::Requires(#n)).mark_reported());
            },
            "halt" => quote! {
                cx.weird(#n, ::std::string::String::new());
                cx.halt(#n);
                cx.flag_violation(#n);
            },
            other => {
                self.err(
                    named[0].span,
                    format!("unknown action `{other}` (use weird, error, violation or halt)"),
                );
                quote!()
            }
        }
    }

    /// Lowers one field (or switch arm) to an expression producing its value.
    #[allow(clippy::too_many_arguments)]
    fn lower_field(
        &mut self,
        owner: &str,
        fname: &str,
        ts: &TypeSpec,
        attrs: &[Attr],
        sc: &Scope,
        span: Span,
    ) -> TokenStream {
        let at = self.at(owner, fname);
        for a in attrs {
            if !FIELD_ATTRS.contains(&a.name.as_str()) {
                self.err(a.span, format!("unknown attribute `&{}`", a.name));
            }
        }
        let cur = sc.cursor.clone();
        // Window from &size / &max_size / &prefix.
        let mut window = None;
        if let Some(a) = self.attr(attrs, "size") {
            if let Some(e) = self.attr_expr(a) {
                let n = self.int(e, sc);
                window = Some(Window::Exact(n));
            }
        } else if let Some(a) = self.attr(attrs, "prefix") {
            let e = self.attr_expr(a).cloned();
            match e.as_ref().map(|e| &e.kind) {
                Some(ExprKind::Path(t)) if builtin_int(t).is_some_and(|(_, s, _)| !s) => {
                    let (bits, _, suffix) = builtin_int(t).unwrap_or((8, false, None));
                    let order = self.field_order(attrs, suffix);
                    let read = self.int_read(bits, false, order, &cur, &at);
                    window = Some(Window::Exact(quote!(u64::from(#read))));
                }
                _ => self.err(
                    a.span,
                    "`&prefix` takes an unsigned integer type, e.g. `&prefix(u16)`",
                ),
            }
        } else if let Some(a) = self.attr(attrs, "max_size") {
            if let Some(e) = self.attr_expr(a) {
                let n = self.int(e, sc);
                window = Some(Window::Max(n));
            }
        }
        let inner_cur = if window.is_some() {
            self.next_cursor()
        } else {
            cur.clone()
        };
        let mut inner = sc.clone();
        inner.cursor = inner_cur.clone();
        let mut value =
            self.parse_spec(owner, fname, ts, attrs, &inner, &at, window.is_some(), span);

        // Constraints on the value ($$).
        let reqs: Vec<&Attr> = attrs.iter().filter(|a| a.name == "requires").collect();
        if !reqs.is_empty() {
            let fty = match self.w.spec_ty(self.m, owner, fname, ts) {
                Some(t) => t,
                None => Ty::Int {
                    bits: 64,
                    signed: false,
                },
            };
            let mut rsc = sc.clone();
            // `$$` and the field's own name both mean the value just parsed.
            rsc.vars.push(Var {
                name: fname.to_string(),
                tokens: quote!(value),
                ty: fty.clone(),
                is_ref: false,
            });
            rsc.dollar = Some(Var {
                name: "$".into(),
                tokens: quote!(value),
                ty: fty,
                is_ref: false,
            });
            let mut checks = Vec::new();
            for a in reqs {
                let Some(cond) = a
                    .args
                    .first()
                    .filter(|x| x.name.is_none())
                    .map(|x| x.expr.clone())
                else {
                    self.err(a.span, "`&requires` needs a condition first");
                    continue;
                };
                let c = self.boolean(&cond, &rsc);
                let act = self.action(a, &at, &cur);
                checks.push(quote!(if !#c { #act }));
            }
            value = quote!({ let value = #value; #(#checks)* value });
        }

        if let Some(a) = self.attr(attrs, "weird") {
            // `&weird("name")` or `&weird("name", value)`: the value becomes the weird's `addl`.
            let name = a
                .value
                .as_ref()
                .or(a.args.first().map(|x| &x.expr))
                .map(|e| e.kind.clone());
            match name {
                Some(ExprKind::Str(w)) => {
                    let addl = match a.args.get(1) {
                        Some(x) => {
                            let v = self.int(&x.expr, sc);
                            quote!(::std::format!("{}", #v))
                        }
                        None => quote!(::std::string::String::new()),
                    };
                    value = quote!({ cx.weird(#w, #addl); #value });
                }
                _ => self.err(
                    a.span,
                    "`&weird` takes a weird name and optionally a value: `&weird(\"name\", x)`",
                ),
            }
        }
        let mut out = match window {
            None => value,
            Some(Window::Exact(n)) => {
                let trailing = match self.attr(attrs, "trailing") {
                    None => quote! {
                        if !#inner_cur.is_empty() {
                            return ::std::result::Result::Err(::netpac_runtime::parse::ParseError::invalid(
                                #inner_cur.pos(), #at, ::netpac_runtime::parse::InvalidKind::TrailingData));
                        }
                    },
                    Some(a) => {
                        if let Some(w) = self.attr_named_str(a, "weird") {
                            quote!(if !#inner_cur.is_empty() { cx.weird(#w, ::std::string::String::new()); })
                        } else if matches!(a.args.first().map(|x| &x.expr.kind), Some(ExprKind::Path(p)) if p == "ignore")
                        {
                            quote!()
                        } else {
                            self.err(a.span, "`&trailing` takes `weird = \"name\"` or `ignore`");
                            quote!()
                        }
                    }
                };
                quote!({
                    let len = ::netpac_runtime::parse::ops::to_usize(#n, #at, #cur.pos())?;
                    let mut window = #cur.sub(len, #at)?;
                    let #inner_cur = &mut window;
                    let value = #value;
                    #trailing
                    value
                })
            }
            Some(Window::Max(n)) => quote!({
                let len = ::netpac_runtime::parse::ops::to_usize(#n, #at, #cur.pos())?;
                let mut window = #cur.sub_max(len);
                let value = { let #inner_cur = &mut window; #value };
                #cur.advance_to(window.pos());
                value
            }),
        };
        if let Some(a) = self.attr(attrs, "on_error") {
            match self.attr_named_str(a, "weird") {
                Some(w) => {
                    let ty = self
                        .w
                        .spec_ty(self.m, owner, fname, ts)
                        .map(|t| self.rust_ty(&t))
                        .unwrap_or(quote!(_));
                    out = quote!(match (|| -> ::std::result::Result<#ty, ::netpac_runtime::parse::ParseError> {
                        ::std::result::Result::Ok(#out)
                    })() {
                        ::std::result::Result::Ok(v) => v,
                        ::std::result::Result::Err(e) => {
                            cx.weird(#w, ::std::string::String::new());
                            return ::std::result::Result::Err(e.mark_reported());
                        }
                    })
                }
                None => self.err(a.span, "`&on_error` takes `weird = \"name\"`"),
            }
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn parse_spec(
        &mut self,
        owner: &str,
        fname: &str,
        ts: &TypeSpec,
        attrs: &[Attr],
        sc: &Scope,
        at: &str,
        windowed: bool,
        span: Span,
    ) -> TokenStream {
        let cur = sc.cursor.clone();
        match ts {
            TypeSpec::Skip { .. } => {
                self.err(span, "`skip` is only allowed as a field type");
                quote!(())
            }
            TypeSpec::Bits { width, .. } => {
                let order = self.field_order(attrs, None);
                let read = self.int_read(*width, false, order, &cur, at);
                let n = format_ident!("{}", inner_type_name(owner, fname));
                quote!(#n(#read))
            }
            TypeSpec::Switch(sw) => self.lower_switch(owner, fname, sw, sc, at),
            TypeSpec::Simple {
                name,
                name_span,
                args,
                array,
            } => match array {
                None => self.parse_base(name, *name_span, args, attrs, sc, at, windowed),
                Some(count) => {
                    let elem = self.parse_base(name, *name_span, args, attrs, sc, at, false);
                    let elem_ty = self.w.spec_ty(
                        self.m,
                        owner,
                        fname,
                        &TypeSpec::Simple {
                            name: name.clone(),
                            name_span: *name_span,
                            args: vec![],
                            array: None,
                        },
                    );
                    self.lower_array(elem, elem_ty, count.as_ref(), attrs, sc, at, windowed, span)
                }
            },
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn lower_array(
        &mut self,
        elem: TokenStream,
        elem_ty: Option<Ty>,
        count: Option<&Expr>,
        attrs: &[Attr],
        sc: &Scope,
        at: &str,
        windowed: bool,
        span: Span,
    ) -> TokenStream {
        let cur = sc.cursor.clone();
        let partial = self.attr(attrs, "partial").cloned();
        let or_eod = self.attr(attrs, "or_eod").is_some();
        let limit_err = quote!(return ::std::result::Result::Err(::netpac_runtime::parse::ParseError::invalid(
            #cur.pos(), #at, ::netpac_runtime::parse::InvalidKind::Limit("elements"))));
        // One element, with &partial turning a failure into weird + halt + stop.
        let get = match &partial {
            None => quote!(let e = #elem;),
            Some(p) => {
                let report = match self.attr_named_str(p, "weird") {
                    Some(w) => {
                        quote!(if !err.is_reported() { cx.weird(#w, ::std::string::String::new()); } cx.halt(#w);)
                    }
                    None if p.args.is_empty() && p.value.is_none() => quote!(cx.halt("partial");),
                    None => {
                        self.err(p.span, "`&partial` takes nothing or `weird = \"name\"`");
                        quote!()
                    }
                };
                quote! {
                    let e = match (|| -> ::std::result::Result<_, ::netpac_runtime::parse::ParseError> {
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
        let max_el = if self.limit("max_elements").is_some_and(|l| !l.is_bool) {
            quote!(usize::try_from(lim.max_elements).unwrap_or(usize::MAX))
        } else {
            quote!(::netpac_runtime::parse::MAX_ELEMENTS)
        };
        let eod_check = if or_eod {
            quote!(if #cur.is_empty() { break; })
        } else {
            quote!()
        };
        let until = self
            .attr(attrs, "until")
            .map(|a| (a.clone(), false))
            .or_else(|| self.attr(attrs, "until_incl").map(|a| (a.clone(), true)));
        let body = if let Some(n) = count {
            let n = self.int(n, sc);
            quote! {
                let n = ::netpac_runtime::parse::ops::to_usize(#n, #at, #cur.pos())?;
                if n > #max_el { #limit_err }
                v.reserve(n.min(#cur.remaining()));
                for _ in 0..n {
                    #eod_check
                    #get
                    v.push(e);
                }
            }
        } else if let Some((a, incl)) = until {
            let Some(cond) = self.attr_expr(&a).cloned() else {
                return quote!(::std::vec::Vec::new());
            };
            let mut usc = sc.clone();
            usc.dollar = Some(Var {
                name: "$".into(),
                tokens: quote!(e),
                ty: elem_ty.unwrap_or(Ty::Int {
                    bits: 64,
                    signed: false,
                }),
                is_ref: false,
            });
            let c = self.boolean(&cond, &usc);
            let push = if incl {
                quote!(let stop = #c; v.push(e); if stop { break; })
            } else {
                quote!(if #c { break; } v.push(e);)
            };
            quote! {
                loop {
                    #eod_check
                    if v.len() >= #max_el { #limit_err }
                    let before = #cur.pos();
                    #get
                    if #cur.pos() == before {
                        return ::std::result::Result::Err(::netpac_runtime::parse::ParseError::invalid(
                            #cur.pos(), #at, ::netpac_runtime::parse::InvalidKind::NoProgress));
                    }
                    #push
                }
            }
        } else if windowed || self.attr(attrs, "eod").is_some() {
            quote! {
                while !#cur.is_empty() {
                    if v.len() >= #max_el { #limit_err }
                    let before = #cur.pos();
                    #get
                    if #cur.pos() == before {
                        return ::std::result::Result::Err(::netpac_runtime::parse::ParseError::invalid(
                            #cur.pos(), #at, ::netpac_runtime::parse::InvalidKind::NoProgress));
                    }
                    v.push(e);
                }
            }
        } else {
            self.err(span, "an array needs a count `T[n]`, a window (`&size`, `&prefix`, `&max_size`), `&eod` or `&until`");
            quote!()
        };
        let body = if partial.is_some() {
            quote!(if cx.halted().is_none() { #body })
        } else {
            body
        };
        quote!({
            let mut v = ::std::vec::Vec::new();
            #body
            v
        })
    }

    fn const_pat(&mut self, e: &Expr) -> Option<u64> {
        match &e.kind {
            ExprKind::Int(v) => Some(*v),
            ExprKind::Path(p) => {
                // `A` alone: a constant of the scrutinee's enum is resolved by the caller.
                let v = if p.contains("::") {
                    self.enum_const(p)
                } else {
                    None
                };
                if v.is_none() {
                    self.err(e.span, format!("unknown constant `{p}`"));
                }
                v
            }
            _ => {
                self.err(e.span, "switch patterns must be integer or enum constants");
                None
            }
        }
    }

    /// The enum a scrutinee has, so arms may name its constants without `Enum::`.
    fn scrutinee_enum(&mut self, e: &Expr, sc: &Scope) -> Option<(usize, String)> {
        match &e.kind {
            ExprKind::Path(p) => match sc.find(p).map(|v| v.ty.clone()) {
                Some(Ty::Enum(m, n)) => Some((m, n)),
                _ => None,
            },
            ExprKind::Call(f, args) if args.len() == 1 => match self.w.lookup(self.m, f) {
                Some(TypeDef::Enum(m, en)) => Some((m, en.name.clone())),
                _ => None,
            },
            ExprKind::Member(..) => {
                let mut probe = Emitter::new(self.w, self.m, self.events);
                match probe.expr(e, sc).1 {
                    ETy::Node(Ty::Enum(m, n), _) => Some((m, n)),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn lower_switch(
        &mut self,
        owner: &str,
        fname: &str,
        sw: &Switch,
        sc: &Scope,
        at: &str,
    ) -> TokenStream {
        // `switch (Enum(x))` casts an integer to an enum for its constants.
        let (scrut, senum) = match &sw.scrutinee.kind {
            ExprKind::Call(f, args)
                if args.len() == 1
                    && matches!(self.w.lookup(self.m, f), Some(TypeDef::Enum(..))) =>
            {
                let en = self.scrutinee_enum(&sw.scrutinee, sc);
                (self.int(&args[0], sc), en)
            }
            _ => {
                let en = self.scrutinee_enum(&sw.scrutinee, sc);
                (self.int(&sw.scrutinee, sc), en)
            }
        };
        let ename = if fname.is_empty() {
            owner.to_string()
        } else {
            inner_type_name(owner, fname)
        };
        let en = format_ident!("{}", ename);
        let mut arms = Vec::new();
        let mut has_default = false;
        let mut seen_vals = std::collections::HashSet::new();
        for arm in &sw.arms {
            let pat = match &arm.pats {
                None => {
                    has_default = true;
                    quote!(_)
                }
                Some(pats) => {
                    let mut vals = Vec::new();
                    for p in pats {
                        let v = match (&p.kind, &senum) {
                            (ExprKind::Path(name), Some((m, e))) if !name.contains("::") => {
                                match self
                                    .w
                                    .enum_decl(*m, e)
                                    .and_then(|d| d.items.iter().find(|(n, _, _)| n == name))
                                {
                                    Some((_, v, _)) => Some(*v),
                                    None => {
                                        self.err(
                                            p.span,
                                            format!("enum `{e}` has no constant `{name}`"),
                                        );
                                        None
                                    }
                                }
                            }
                            _ => self.const_pat(p),
                        };
                        if let Some(v) = v {
                            if !seen_vals.insert(v) {
                                self.err(p.span, format!("value {v} already has an arm"));
                            }
                            vals.push(lit_u64(v));
                        }
                    }
                    if vals.is_empty() {
                        continue;
                    }
                    quote!(#(#vals)|*)
                }
            };
            let body = match &arm.body {
                None => quote!(#en::Empty),
                Some(af) => {
                    let v = format_ident!("{}", camel(&af.name));
                    let field_owner = owner.to_string();
                    let val =
                        self.lower_field(&field_owner, &af.name, &af.ty, &af.attrs, sc, af.span);
                    quote!(#en::#v(#val))
                }
            };
            arms.push(quote!(#pat => #body,));
        }
        if !has_default {
            self.err(sw.span, "a switch needs a default arm `_ => ...;`");
        }
        let _ = at;
        quote!(match #scrut { #(#arms)* })
    }

    /// Type definitions for a switch: the enum of its arms.
    fn switch_enum(&mut self, owner: &str, fname: &str, sw: &Switch, ty: &Ty) -> TokenStream {
        let ename = if fname.is_empty() {
            owner.to_string()
        } else {
            inner_type_name(owner, fname)
        };
        let en = format_ident!("{}", ename);
        let lt = if self.w.needs_lt(ty) {
            quote!(<'a>)
        } else {
            quote!()
        };
        let mut variants = Vec::new();
        let mut names = std::collections::HashSet::new();
        let mut has_empty = false;
        for arm in &sw.arms {
            match &arm.body {
                None => has_empty = true,
                Some(af) => {
                    if !names.insert(af.name.clone()) {
                        self.err(af.span, format!("duplicate arm name `{}`", af.name));
                        continue;
                    }
                    let v = format_ident!("{}", camel(&af.name));
                    match self.w.arm_ty(self.m, owner, af) {
                        Some(t) => {
                            let rt = self.rust_ty(&t);
                            variants.push(quote!(#v(#rt),));
                        }
                        None => {
                            if let TypeSpec::Simple {
                                name, name_span, ..
                            } = &af.ty
                            {
                                self.err(*name_span, format!("unknown type `{name}`"));
                            }
                        }
                    }
                }
            }
        }
        if has_empty {
            variants.push(quote!(Empty,));
        }
        quote! {
            #[derive(Debug, Clone)]
            pub enum #en #lt { #(#variants)* }
        }
    }

    pub(crate) fn gen_units(&mut self) -> TokenStream {
        let mut out = TokenStream::new();
        let mname = self.module().name.clone();
        for u in &self.module().units {
            let mut names = std::collections::HashSet::new();
            for p in &u.params {
                if !names.insert(p.name.clone()) {
                    self.err(p.span, format!("duplicate name `{}`", p.name));
                }
                if self.w.scalar_named(self.m, &p.ty).is_none() {
                    self.err(
                        p.span,
                        format!("parameter type `{}` must be an integer, bool or enum", p.ty),
                    );
                }
            }
            for a in &u.attrs {
                if !matches!(a.name.as_str(), "size" | "origin") {
                    self.err(
                        a.span,
                        format!(
                            "unknown unit attribute `&{}` (units take `&size` and `&origin`)",
                            a.name
                        ),
                    );
                }
            }
            let is_union = matches!(u.body, UnitBody::Switch(_));
            let self_ty = if is_union {
                Ty::Union(self.m, u.name.clone())
            } else {
                Ty::Unit(self.m, u.name.clone())
            };
            let lt = self.w.needs_lt(&self_ty);
            let name = format_ident!("{}", u.name);
            let ltp = if lt { quote!(<'a>) } else { quote!() };
            let impl_lt = if lt {
                quote!(impl<'a> #name<'a>)
            } else {
                quote!(impl #name)
            };
            let fn_lt = if lt { quote!() } else { quote!(<'a>) };
            let at_unit = format!("{}.{}", mname, u.name);
            self.cursor_n = 0;
            let mut sc = Scope {
                mode: Mode::Parse {
                    at: at_unit.clone(),
                },
                vars: Vec::new(),
                dollar: None,
                cursor: format_ident!("cur"),
                link: false,
            };
            let mut param_decls = Vec::new();
            let mut struct_fields = Vec::new();
            let mut inits = Vec::new();
            let mut param_names = Vec::new();
            for p in &u.params {
                let Some(t) = self.w.scalar_named(self.m, &p.ty) else {
                    continue;
                };
                let rt = self.rust_ty(&t);
                let n = ident(&p.name);
                param_decls.push(quote!(#n: #rt));
                param_names.push(quote!(#n));
                struct_fields.push(quote!(pub #n: #rt,));
                inits.push(quote!(#n,));
                sc.vars.push(Var {
                    name: p.name.clone(),
                    tokens: quote!(#n),
                    ty: t,
                    is_ref: false,
                });
            }
            let mut extra_types = TokenStream::new();
            let mut stmts = Vec::new();
            match &u.body {
                UnitBody::Switch(sw) => {
                    extra_types.extend(self.switch_enum(&u.name, "", sw, &self_ty));
                    let m = self.lower_switch(&u.name, "", sw, &sc, &at_unit);
                    stmts.push(quote!(let value = #m;));
                }
                UnitBody::Fields(fields) => {
                    for (i, f) in fields.iter().enumerate() {
                        if f.name != "_" && !names.insert(f.name.clone()) {
                            self.err(f.span, format!("duplicate field `{}`", f.name));
                            continue;
                        }
                        let local = if f.name == "_" {
                            format_ident!("_anon{}", i)
                        } else {
                            ident(&f.name)
                        };
                        match &f.kind {
                            FieldKind::Let { ty, expr } => {
                                let fty = match ty {
                                    Some((t, span)) => match self.w.scalar_named(self.m, t) {
                                        Some(t) => t,
                                        None => {
                                            self.err(*span, format!("`let` type must be an integer or bool, not `{t}`"));
                                            continue;
                                        }
                                    },
                                    None => self.w.let_infer(expr),
                                };
                                let rt = self.rust_ty(&fty);
                                let v = match &fty {
                                    Ty::Bool => self.boolean(expr, &sc),
                                    Ty::Int {
                                        bits: 64,
                                        signed: false,
                                    } => self.int(expr, &sc),
                                    _ => {
                                        let x = self.int(expr, &sc);
                                        let at = self.at(&u.name, &f.name);
                                        quote!(<#rt>::try_from(#x).map_err(|_| ::netpac_runtime::parse::ParseError::invalid(cur.pos(), #at, ::netpac_runtime::parse::InvalidKind::Arithmetic))?)
                                    }
                                };
                                stmts.push(quote!(let #local: #rt = #v;));
                                struct_fields.push(quote!(pub #local: #rt,));
                                inits.push(quote!(#local,));
                                sc.vars.push(Var {
                                    name: f.name.clone(),
                                    tokens: quote!(#local),
                                    ty: fty,
                                    is_ref: false,
                                });
                            }
                            FieldKind::Typed(TypeSpec::Skip { to, expr }) => {
                                let at = self.at(&u.name, &f.name);
                                let n = self.int(expr, &sc);
                                let s = if *to {
                                    quote!(cur.skip_to(::netpac_runtime::parse::ops::to_usize(#n, #at, cur.pos())?, #at)?;)
                                } else {
                                    quote!(cur.skip(::netpac_runtime::parse::ops::to_usize(#n, #at, cur.pos())?, #at)?;)
                                };
                                stmts.push(s);
                            }
                            FieldKind::Typed(ts) => {
                                let Some(fty) = self.w.spec_ty(self.m, &u.name, &f.name, ts) else {
                                    if let TypeSpec::Simple {
                                        name, name_span, ..
                                    } = ts
                                    {
                                        self.err(*name_span, format!("unknown type `{name}`"));
                                    }
                                    continue;
                                };
                                match ts {
                                    TypeSpec::Switch(sw) => extra_types
                                        .extend(self.switch_enum(&u.name, &f.name, sw, &fty)),
                                    TypeSpec::Bits { width, members } => extra_types.extend(
                                        self.bits_struct(&u.name, &f.name, *width, members),
                                    ),
                                    _ => {}
                                }
                                let val =
                                    self.lower_field(&u.name, &f.name, ts, &f.attrs, &sc, f.span);
                                let recover = f.attrs.iter().find(|a| a.name == "recover");
                                let (val, fty) = match (&f.cond, recover) {
                                    (Some(_), Some(a)) => {
                                        self.err(a.span, "`&recover` cannot be combined with a condition `if (...)`");
                                        (val, fty)
                                    }
                                    (None, Some(a)) => {
                                        if !a.args.is_empty() || a.value.is_some() {
                                            self.err(a.span, "`&recover` takes no arguments");
                                        }
                                        // A failed field is absent; the error becomes a violation and parsing halts.
                                        let rt = self.rust_ty(&fty);
                                        (
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
                                            }),
                                            Ty::Option(Box::new(fty)),
                                        )
                                    }
                                    (Some(c), None) => {
                                        let c = self.boolean(c, &sc);
                                        (
                                            quote!(if #c { ::std::option::Option::Some(#val) } else { ::std::option::Option::None }),
                                            Ty::Option(Box::new(fty)),
                                        )
                                    }
                                    (None, None) => (val, fty),
                                };
                                stmts.push(quote!(let #local = #val;));
                                if f.name != "_" {
                                    let rt = self.rust_ty(&fty);
                                    struct_fields.push(quote!(pub #local: #rt,));
                                    inits.push(quote!(#local,));
                                    sc.vars.push(Var {
                                        name: f.name.clone(),
                                        tokens: quote!(#local),
                                        ty: fty,
                                        is_ref: false,
                                    });
                                }
                            }
                        }
                    }
                }
            }
            let origin = u.attrs.iter().any(|a| a.name == "origin");
            let (set_origin, restore_origin) = if origin {
                (
                    quote!(let origin = cur.set_origin_here();),
                    quote!(cur.restore_origin(origin);),
                )
            } else {
                (quote!(), quote!())
            };
            let frame = match u.attrs.iter().find(|a| a.name == "size") {
                Some(a) if !is_union => self.frame_len(u, a),
                _ => quote!(),
            };
            let doc = format!(
                " Parses `{}` from `cur`. Never panics; see `ParseError`.",
                u.name
            );
            let (typedef, result) = if is_union {
                (quote!(), quote!(value))
            } else {
                (
                    quote! {
                        #[derive(Debug, Clone)]
                        pub struct #name #ltp { #(#struct_fields)* }
                    },
                    quote!(#name { #(#inits)* }),
                )
            };
            out.extend(quote! {
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
            });
        }
        out
    }

    fn bits_struct(
        &mut self,
        owner: &str,
        fname: &str,
        width: u8,
        members: &[BitMember],
    ) -> TokenStream {
        let n = format_ident!("{}", inner_type_name(owner, fname));
        let st = format_ident!("u{}", width);
        let mut fns = Vec::new();
        for b in members {
            let f = ident(&b.name);
            let lo = Literal::u32_unsuffixed(b.lo as u32);
            let w = (b.hi - b.lo + 1) as u32;
            let mask = if w >= 64 { u64::MAX } else { (1u64 << w) - 1 };
            let mask = lit_u64(mask);
            let doc = format!(" Bits {}..={} (bit 0 = least significant).", b.lo, b.hi);
            fns.push(quote! {
                #[doc = #doc]
                #[inline]
                pub fn #f(&self) -> u64 { (u64::from(self.0) >> #lo) & #mask }
            });
        }
        quote! {
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            pub struct #n(pub #st);
            impl #n { #(#fns)* }
        }
    }

    /// `frame_len` for a unit with `&size = expr` over its leading fixed-size fields.
    fn frame_len(&mut self, u: &Unit, a: &Attr) -> TokenStream {
        let Some(size) = self.attr_expr(a).cloned() else {
            return quote!();
        };
        let UnitBody::Fields(fields) = &u.body else {
            return quote!();
        };
        let mut sc = Scope {
            mode: Mode::Parse { at: u.name.clone() },
            vars: Vec::new(),
            dollar: None,
            cursor: format_ident!("cur"),
            link: false,
        };
        let mut stmts = Vec::new();
        let mut prefix = 0usize;
        for f in fields {
            let FieldKind::Typed(TypeSpec::Simple {
                name, array: None, ..
            }) = &f.kind
            else {
                break;
            };
            if !f.attrs.is_empty() || f.cond.is_some() {
                break;
            }
            let (bits, signed, suffix, ty) = if let Some((b, s, o)) = builtin_int(name) {
                (b, s, o, Ty::Int { bits: b, signed: s })
            } else if let Some(TypeDef::Enum(m, e)) = self.w.lookup(self.m, name) {
                let Some((b, _, _)) = builtin_int(&e.base) else {
                    break;
                };
                (b, false, None, Ty::Enum(m, e.name.clone()))
            } else {
                break;
            };
            let order = suffix.unwrap_or(self.order());
            let at = self.at(&u.name, &f.name);
            let read = self.int_read(bits, signed, order, &format_ident!("cur"), &at);
            let local = ident(&f.name);
            let read = if let Ty::Enum(m, n) = &ty {
                let en = self.qual_name(*m, n);
                quote!(#en(#read))
            } else {
                read
            };
            stmts.push(quote!(let #local = #read;));
            sc.vars.push(Var {
                name: f.name.clone(),
                tokens: quote!(#local),
                ty,
                is_ref: false,
            });
            prefix += bits as usize / 8;
        }
        let before = self.diags.len();
        let n = self.int(&size, &sc);
        if self.diags.len() > before {
            self.diags.truncate(before);
            self.err(size.span, "a unit's `&size` may only use its leading fixed-size integer fields (it frames the stream)");
            return quote!();
        }
        let prefix_lit = Literal::usize_unsuffixed(prefix);
        quote! {
            /// Bytes needed before [`Self::frame_len`] can tell the PDU length.
            pub const FRAME_PREFIX: usize = #prefix_lit;
            /// The length of the PDU starting at `prefix`, from its leading fields.
            #[allow(unused_variables, clippy::redundant_closure_call)]
            pub fn frame_len(prefix: &[u8]) -> ::netpac_runtime::framer::FrameLen {
                let mut c = ::netpac_runtime::parse::Cursor::streaming(prefix);
                let cur = &mut c;
                let r = (|| -> ::std::result::Result<u64, ::netpac_runtime::parse::ParseError> {
                    #(#stmts)*
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
