//! Expressions, Zeek value conversions and binder iterators.

use super::*;
use crate::ast::{BinOp, Transport};
use crate::ident::{camel, ident, path_tokens};
use crate::ir::{
    BinderIter, Builtin, CompareAs, Expr, ExprKind, ExprTy, ExternArg, FormatArg, Step, VarRef,
    ZConv,
};
use crate::types::ZTy;

/// `(*t)` for a reference, else `t`.
fn deref(t: TokenStream, is_ref: bool) -> TokenStream {
    if is_ref {
        quote!((*#t))
    } else {
        t
    }
}

fn var_tokens(v: &VarRef) -> TokenStream {
    match v {
        VarRef::Named(n) => {
            let i = ident(n);
            quote!(#i)
        }
        VarRef::Value => quote!(npac_value),
        VarRef::Element => quote!(npac_e),
        VarRef::Pdu => quote!(pdu),
    }
}

impl Emitter<'_> {
    fn node_to_int(&self, tokens: TokenStream, ty: &Ty, is_ref: bool) -> TokenStream {
        let v = deref(tokens, is_ref);
        match ty {
            Ty::Int { signed: false, .. } => quote!(u64::from(#v)),
            Ty::Int { signed: true, .. } => quote!((#v as u64)),
            Ty::Enum(..) => quote!(u64::from(#v.0)),
            Ty::Bool => quote!(u64::from(#v)),
            other => unreachable!("checked as an integer: {other:?}"),
        }
    }

    /// An integer expression as `u64`.
    pub(super) fn int(&self, e: &Expr, cx: &Cx) -> TokenStream {
        let t = self.expr(e, cx);
        match &e.ty {
            ExprTy::Int | ExprTy::Zeek(ZTy::Count) => t,
            ExprTy::Node(n, r) => self.node_to_int(t, n, *r),
            other => unreachable!("checked as an integer: {other:?}"),
        }
    }

    /// A boolean expression as `bool`.
    pub(super) fn boolean(&self, e: &Expr, cx: &Cx) -> TokenStream {
        let t = self.expr(e, cx);
        match &e.ty {
            ExprTy::Bool | ExprTy::Zeek(ZTy::Bool) => t,
            ExprTy::Node(Ty::Bool, r) => deref(t, *r),
            other => unreachable!("checked as a boolean: {other:?}"),
        }
    }

    fn arith(&self, op: BinOp, a: TokenStream, b: TokenStream, cx: &Cx) -> TokenStream {
        match cx {
            Cx::Parse { at, cur } => {
                let f = match op {
                    BinOp::Add => quote!(add),
                    BinOp::Sub => quote!(sub),
                    BinOp::Mul => quote!(mul),
                    BinOp::Div => quote!(div),
                    BinOp::Rem => quote!(rem),
                    BinOp::Shl => quote!(shl),
                    _ => quote!(shr),
                };
                quote!(::netpac_runtime::parse::ops::#f(#a, #b, #at, #cur.pos())?)
            }
            Cx::Bind => match op {
                // Bindings cannot fail; arithmetic there saturates (or yields 0 for ÷0).
                BinOp::Add => quote!(#a.saturating_add(#b)),
                BinOp::Sub => quote!(#a.saturating_sub(#b)),
                BinOp::Mul => quote!(#a.saturating_mul(#b)),
                BinOp::Div => quote!(#a.checked_div(#b).unwrap_or(0)),
                BinOp::Rem => quote!(#a.checked_rem(#b).unwrap_or(0)),
                BinOp::Shl => {
                    quote!(u32::try_from(#b).ok().and_then(|s| #a.checked_shl(s)).unwrap_or(0))
                }
                _ => quote!(u32::try_from(#b).ok().and_then(|s| #a.checked_shr(s)).unwrap_or(0)),
            },
        }
    }

    fn builtin(&self, b: Builtin, cx: &Cx) -> TokenStream {
        let cur = cx.cursor();
        match b {
            Builtin::Offset => quote!((#cur.pos() as u64)),
            Builtin::ParsePdu => quote!(#cur.input()),
            Builtin::Rest => quote!(#cur.peek_rest()),
            Builtin::Span => quote!(#cur.since_origin()),
            Builtin::Remaining => quote!((#cur.remaining() as u64)),
            // The elements parsed so far (see `lower_array`).
            Builtin::ArrayIndex => quote!((npac_v.len() as u64)),
            Builtin::Eod => quote!(#cur.is_empty()),
            Builtin::ParseIsOrig => quote!(cx.is_orig),
            Builtin::ParseRespPort => quote!(u64::from(cx.resp_port)),
            Builtin::ParseConfirmed => quote!(cx.confirmed),
            Builtin::ParsePartial => quote!(cx.conn_partial),
            Builtin::L2Src => quote!(ecx.l2_src()),
            Builtin::L2Dst => quote!(ecx.l2_dst()),
            Builtin::Conn => quote!(ecx.conn.record()),
            Builtin::EventIsOrig => quote!(ecx.is_orig),
            Builtin::Halted => quote!(ecx.halted),
            Builtin::PduLen => quote!((ecx.pdu_len as u64)),
            Builtin::Pdu => quote!(ecx.pdu.string(ecx.pdu.data())),
            Builtin::EventRespPort => quote!(u64::from(ecx.conn.id().resp_p.number)),
            Builtin::Ts => quote!(ecx.ts),
            Builtin::OrigH => quote!(ecx.conn.id().orig_h),
            Builtin::RespH => quote!(ecx.conn.id().resp_h),
        }
    }

    pub(super) fn expr(&self, e: &Expr, cx: &Cx) -> TokenStream {
        match &e.kind {
            ExprKind::Int(v) => {
                let l = lit_u64(*v);
                quote!(#l)
            }
            ExprKind::Bool(b) => quote!(#b),
            ExprKind::Bytes(b) => {
                let l = Literal::byte_string(b);
                quote!(#l)
            }
            ExprKind::Str(text) => {
                let l = Literal::string(text);
                quote!(::netpac_runtime::zeek::ZString::from_static(#l))
            }
            ExprKind::Var(v) => var_tokens(v),
            ExprKind::Limit(name) => {
                let n = ident(name);
                quote!(lim.#n)
            }
            ExprKind::Builtin(b) => self.builtin(*b, cx),
            ExprKind::Index(base, i) => {
                let bt = self.expr(base, cx);
                let i = self.int(i, cx);
                match cx {
                    Cx::Parse { at, cur } => quote!(
                        (#bt).get(::netpac_runtime::parse::ops::to_usize(#i, #at, #cur.pos())?).ok_or_else(|| {
                            ::netpac_runtime::parse::ParseError::invalid(#cur.pos(), #at, ::netpac_runtime::parse::InvalidKind::Arithmetic)
                        })?
                    ),
                    Cx::Bind => unreachable!("the check pass allows indexing only while parsing"),
                }
            }
            ExprKind::Field(base, m) => {
                let bt = self.expr(base, cx);
                let f = ident(m);
                quote!(#bt.#f)
            }
            ExprKind::BitMember(base, m) => {
                let bt = self.expr(base, cx);
                let f = ident(m);
                quote!(#bt.#f())
            }
            ExprKind::Not(a) => {
                let t = self.boolean(a, cx);
                quote!((!#t))
            }
            ExprKind::Logic(op, a, b) => {
                let x = self.boolean(a, cx);
                let y = self.boolean(b, cx);
                if *op == BinOp::Or {
                    quote!((#x || #y))
                } else {
                    quote!((#x && #y))
                }
            }
            ExprKind::Compare(op, how, a, b) => {
                let cmp = match op {
                    BinOp::Eq => quote!(==),
                    BinOp::Ne => quote!(!=),
                    BinOp::Lt => quote!(<),
                    BinOp::Le => quote!(<=),
                    BinOp::Gt => quote!(>),
                    _ => quote!(>=),
                };
                match how {
                    CompareAs::Bytes => {
                        let x = self.expr(a, cx);
                        let y = self.expr(b, cx);
                        quote!((&#x[..] #cmp &#y[..]))
                    }
                    CompareAs::Bool => {
                        let x = self.boolean(a, cx);
                        let y = self.boolean(b, cx);
                        quote!((#x #cmp #y))
                    }
                    CompareAs::Int => {
                        let x = self.int(a, cx);
                        let y = self.int(b, cx);
                        quote!((#x #cmp #y))
                    }
                }
            }
            ExprKind::BitOp(op, a, b) => {
                let x = self.int(a, cx);
                let y = self.int(b, cx);
                let o = match op {
                    BinOp::BitOr => quote!(|),
                    BinOp::BitAnd => quote!(&),
                    _ => quote!(^),
                };
                quote!((#x #o #y))
            }
            ExprKind::Arith(op, a, b) => {
                let x = self.int(a, cx);
                let y = self.int(b, cx);
                self.arith(*op, x, y, cx)
            }
            ExprKind::LookingAt { lit, ci, at } => {
                let l = Literal::byte_string(lit);
                let cur = cx.cursor();
                match at {
                    None => quote!(#cur.looking_at(#l, #ci)),
                    Some(at) => {
                        let at = self.int(at, cx);
                        quote!(#cur.looking_at_offset(#at, #l, #ci))
                    }
                }
            }
            ExprKind::PeekDec(n) => {
                let n = self.int(n, cx);
                let cur = cx.cursor();
                quote!(#cur.peek_dec(#n))
            }
            ExprKind::PeekUint(at, width, little) => {
                let at = self.int(at, cx);
                let width = Literal::u8_unsuffixed(*width);
                let cur = cx.cursor();
                if self.in_frame {
                    // In `frame_len`: past the bytes at hand, wait for more.
                    quote!(#cur.peek_uint_framed(#at, #width, #little)?)
                } else if *little {
                    quote!(#cur.peek_uint_le(#at, #width))
                } else {
                    quote!(#cur.peek_uint(#at, #width))
                }
            }
            ExprKind::Dec(b) => {
                let b = self.bytes_arg(b, cx);
                quote!(::netpac_runtime::text::ascii_dec(#b))
            }
            ExprKind::BeUint(b) => {
                let b = self.bytes_arg(b, cx);
                quote!(::netpac_runtime::asn1::be_uint(#b))
            }
            ExprKind::LeUint(b) => {
                let b = self.bytes_arg(b, cx);
                quote!(::netpac_runtime::text::le_uint(#b))
            }
            ExprKind::Base128(b, len) => {
                let b = self.bytes_arg(b, cx);
                if *len {
                    quote!(::netpac_runtime::asn1::base128_len(#b))
                } else {
                    quote!(::netpac_runtime::asn1::base128(#b))
                }
            }
            ExprKind::OidLongest(b) => {
                let b = self.bytes_arg(b, cx);
                quote!(::netpac_runtime::asn1::longest_subidentifier(#b))
            }
            ExprKind::Oid(b) => {
                let b = self.bytes_arg(b, cx);
                quote!(::netpac_runtime::zeek::ZString::new(::netpac_runtime::asn1::oid_string(#b).into_bytes()))
            }
            ExprKind::ToInt(v, signed) => {
                let t = self.expr(&v.expr, cx);
                let t = self.convert_z(t, &v.expr.ty, &v.conv);
                if *signed {
                    t
                } else {
                    quote!((#t as i64))
                }
            }
            ExprKind::Concat(a, b) => {
                let a = self.bytes_arg(a, cx);
                let b = self.bytes_arg(b, cx);
                quote!(::netpac_runtime::zeek::ZString::new([#a, #b].concat()))
            }
            ExprKind::Upper(b) => {
                let b = self.bytes_arg(b, cx);
                quote!(::netpac_runtime::zeek::ZString::new((#b).to_ascii_uppercase()))
            }
            ExprKind::Without(b, set) => {
                let set = proc_macro2::Literal::byte_string(set);
                let text = self.text_bytes(b, cx);
                quote!({
                    #text
                    ::netpac_runtime::zeek::ZString::new(npac_text.iter().copied().filter(|x| !#set.contains(x)).collect::<::std::vec::Vec<u8>>())
                })
            }
            ExprKind::SevenBit(b, on) => {
                let text = self.text_bytes(b, cx);
                let on = self.boolean(on, cx);
                quote!({
                    #text
                    let npac_on = #on;
                    ::netpac_runtime::zeek::ZString::new(npac_text.iter().map(|&x| if npac_on && x != 0xff { x & 0x7f } else { x }).collect::<::std::vec::Vec<u8>>())
                })
            }
            ExprKind::Trim(b) => {
                let b = self.bytes_arg(b, cx);
                quote!(::netpac_runtime::text::trim_blanks(#b))
            }
            ExprKind::Text(f, args) => {
                use crate::ir::{TextArg, TextFn};
                let a: Vec<TokenStream> = args
                    .iter()
                    .map(|x| match x {
                        TextArg::Bytes(e) => self.bytes_arg(e, cx),
                        TextArg::Sep(b) => {
                            let l = proc_macro2::Literal::u8_suffixed(*b);
                            quote!(#l)
                        }
                        TextArg::Lit(b) => {
                            let l = Literal::byte_string(b);
                            quote!(&#l[..])
                        }
                        TextArg::Int(e) => self.int(e, cx),
                    })
                    .collect();
                let name = match f {
                    TextFn::EqCi => "eq_ci",
                    TextFn::Word => "word",
                    TextFn::Words => "word_count",
                    TextFn::SkipWords => "skip_words",
                    TextFn::JoinWords => "join_words",
                    TextFn::Before => "before",
                    TextFn::BeforeLast => "before_last",
                    TextFn::After => "after",
                    TextFn::Contains => "contains",
                    TextFn::StartsWith => {
                        let (b, l) = (&a[0], &a[1]);
                        return quote!((#b).starts_with(#l));
                    }
                    TextFn::Lstrip => "lstrip",
                    TextFn::DropPrefix => "drop_prefix",
                    TextFn::DropSuffix => "drop_suffix",
                    TextFn::Digits => "leading_digits",
                    TextFn::DecBefore => "dec_before",
                    TextFn::Head => "head",
                    TextFn::Tail => "tail",
                    TextFn::FirstCommon => "first_common",
                };
                let func = format_ident!("{}", name);
                let call = quote!(::netpac_runtime::text::#func(#(#a),*));
                if *f == TextFn::JoinWords {
                    quote!(::netpac_runtime::zeek::ZString::from(#call))
                } else {
                    call
                }
            }
            ExprKind::Choose(c, a, b) => {
                let c = self.boolean(c, cx);
                if matches!(e.ty, ExprTy::Int) {
                    let (x, y) = (self.int(a, cx), self.int(b, cx));
                    quote!((if #c { #x } else { #y }))
                } else {
                    let (x, y) = (self.bytes_arg(a, cx), self.bytes_arg(b, cx));
                    quote!((if #c { #x } else { #y }))
                }
            }
            ExprKind::Unmask(a, b) => {
                let a = self.bytes_arg(a, cx);
                let b = self.bytes_arg(b, cx);
                quote!((&::netpac_runtime::text::unmask(#a, #b)[..]))
            }
            ExprKind::IpBytes(b) => {
                let b = self.bytes_arg(b, cx);
                quote!(::netpac_runtime::zeek::ip_from_bytes(#b))
            }
            ExprKind::IpProto(b) => {
                let b = self.bytes_arg(b, cx);
                quote!(::netpac_runtime::pkt_hdr::ip_proto(#b))
            }
            ExprKind::PktHdr(b) => {
                let b = self.bytes_arg(b, cx);
                quote!(::netpac_runtime::pkt_hdr::PktHdr::from_ip(#b))
            }
            ExprKind::Ipv4(n) => {
                let n = self.int(n, cx);
                // The low 32 bits, as Zeek's IRC analyzer builds a DCC host in a uint32_t.
                quote!(::std::net::IpAddr::from(::std::net::Ipv4Addr::from((#n & 0xffff_ffff) as u32)))
            }
            ExprKind::Endpoint(a, p) => {
                let t = self.expr(&a.expr, cx);
                let a = self.convert_z(t, &a.expr.ty, &a.conv);
                let p = self.int(p, cx);
                quote!(u16::try_from(#p).ok().map(|p| ::netpac_runtime::expected::Endpoint { h: #a, p }))
            }
            ExprKind::Port(n, proto) => {
                let n = self.int(n, cx);
                let proto = match proto {
                    Transport::Tcp => quote!(::netpac_runtime::zeek::Proto::Tcp),
                    Transport::Udp | Transport::Link => quote!(::netpac_runtime::zeek::Proto::Udp),
                };
                // A number past 65535 is port 0, as Zeek's Ident analyzer makes it.
                quote!(::netpac_runtime::zeek::Port::new(u16::try_from(#n).unwrap_or(0), #proto))
            }
            ExprKind::Len(a) => {
                let t = self.expr(a, cx);
                quote!((#t.len() as u64))
            }
            ExprKind::Count(a) => {
                let b = self.boolean(a, cx);
                quote!(u64::from(#b))
            }
            ExprKind::Seconds(a) => {
                let x = self.int(a, cx);
                quote!(::netpac_runtime::zeek::Interval(i64::try_from(#x).unwrap_or(i64::MAX).saturating_mul(1_000_000_000)))
            }
            ExprKind::Pow2(n) => {
                let t = self.expr(&n.expr, cx);
                let n = self.convert_z(t, &n.expr.ty, &n.conv);
                quote!(::netpac_runtime::zeek::Interval::from_secs_f64(2f64.powi(i32::try_from(#n).unwrap_or(i32::MAX))))
            }
            ExprKind::Fixed {
                int,
                frac,
                bits,
                epoch,
            } => {
                let t = self.expr(&int.expr, cx);
                let i = self.convert_z(t, &int.expr.ty, &int.conv);
                let t = self.expr(&frac.expr, cx);
                let f = self.convert_z(t, &frac.expr.ty, &frac.conv);
                let scale = Literal::f64_suffixed(2f64.powi(-(*bits as i32)));
                match epoch {
                    None => quote!(::netpac_runtime::zeek::Interval::from_secs_f64((#i) as f64 + (#f) as f64 * #scale)),
                    Some(e) => {
                        let e = Literal::f64_suffixed(*e as f64);
                        quote!({
                            let (i, f) = (#i, #f);
                            if i == 0 && f == 0 {
                                ::netpac_runtime::zeek::Time(0)
                            } else {
                                // As Zeek computes it: the seconds since the epoch, then the fraction.
                                ::netpac_runtime::zeek::Time::from_secs_f64_exact((i as f64 - #e) + f as f64 * #scale)
                            }
                        })
                    }
                }
            }
            ExprKind::Time(s, ms) => {
                let s = self.int(s, cx);
                let ms = match ms {
                    Some(ms) => self.int(ms, cx),
                    None => quote!(0u64),
                };
                quote!(::netpac_runtime::zeek::Time(
                    i64::try_from(#s).unwrap_or(i64::MAX).saturating_mul(1_000_000_000)
                        .saturating_add(i64::try_from(#ms).unwrap_or(i64::MAX).saturating_mul(1_000_000))
                ))
            }
            ExprKind::Mac(a) => {
                let b = self.bytes_arg(a, cx);
                quote!(::netpac_runtime::parse::mac_string(#b))
            }
            ExprKind::Bits(a, n) => {
                let b = self.bytes_arg(a, cx);
                let n = match n {
                    Some(n) => self.int(n, cx),
                    None => quote!(u64::MAX),
                };
                quote!(::netpac_runtime::parse::bits_lsb_first(#b, #n))
            }
            ExprKind::Format(text, args) => {
                let vals = args.iter().map(|a| match a {
                    FormatArg::Str(x) => {
                        let t = self.expr(x, cx);
                        quote!(::std::string::String::from_utf8_lossy(#t.as_bytes()))
                    }
                    FormatArg::Bytes(x) => {
                        let t = self.expr(x, cx);
                        quote!(::std::string::String::from_utf8_lossy(&#t[..]))
                    }
                    FormatArg::Int(x) => self.int(x, cx),
                });
                let l = Literal::string(text);
                quote!(::netpac_runtime::zeek::ZString::new(
                    ::std::format!(#l, #(#vals),*)
                ))
            }
            ExprKind::String(v) => {
                let t = self.expr(&v.expr, cx);
                self.convert_z(t, &v.expr.ty, &v.conv)
            }
            ExprKind::Record(name, args) => {
                let a = args.iter().map(|x| match &x.ty {
                    ExprTy::Node(Ty::Bytes, _) | ExprTy::BytesLit => {
                        let b = self.bytes_arg(x, cx);
                        quote!(&#b)
                    }
                    ExprTy::Int | ExprTy::Node(Ty::Int { .. } | Ty::Enum(..), _) => {
                        let n = self.int(x, cx);
                        quote!(&(#n))
                    }
                    _ => self.node_arg(x, cx),
                });
                let f = format_ident!("{}", crate::types::record_builder_name(name));
                quote!(#f(#(#a,)* ecx, lim))
            }
            ExprKind::ExternBytes(..) => {
                unreachable!("the check pass allows bytes-making extern fns only as feed and forward values")
            }
            ExprKind::ExternFn(path, args) => {
                let a = args.iter().map(|x| match x {
                    ExternArg::Count(x) => self.int(x, cx),
                    ExternArg::Addr(v) => {
                        let t = self.expr(&v.expr, cx);
                        self.convert_z(t, &v.expr.ty, &v.conv)
                    }
                    ExternArg::Bool(x) => self.boolean(x, cx),
                    ExternArg::Bytes(x) => self.expr(x, cx),
                    ExternArg::Node(x) => self.node_arg(x, cx),
                });
                let path = path_tokens(path);
                quote!(#path(&ecx.pdu, #(#a),*))
            }
            ExprKind::Pick {
                last,
                iter,
                index,
                var,
                elem,
                default,
                filter,
            } => {
                let t = self.expr(&elem.expr, cx);
                let conv = self.convert_z(t, &elem.expr.ty, &elem.conv);
                let end = if *last { quote!(last) } else { quote!(next) };
                let pick = match index {
                    None => {
                        let (iter, v) = self.comp_source(iter, var, filter.as_deref(), cx);
                        quote!(#iter.map(|#v| #conv).#end())
                    }
                    // Positions count every selected element, kept by the filter or not.
                    Some(ix) => {
                        let iter = self.comp_iter(iter, cx);
                        let (v, ix) = (ident(var), ident(ix));
                        let keep = match filter {
                            Some(w) => self.expr(w, cx),
                            None => quote!(true),
                        };
                        quote!(#iter.enumerate().filter_map(|(#ix, #v)| {
                            let #ix = #ix as u64;
                            if !(#keep) { return ::std::option::Option::None; }
                            ::std::option::Option::Some(#conv)
                        }).#end())
                    }
                };
                match default {
                    Some(d) => {
                        let t = self.expr(&d.expr, cx);
                        let dv = self.convert_z(t, &d.expr.ty, &d.conv);
                        quote!(#pick.unwrap_or_else(|| #dv))
                    }
                    None => pick,
                }
            }
            ExprKind::Join { iter, var, elem, filter } => {
                let (iter, v) = self.comp_source(iter, var, filter.as_deref(), cx);
                let add = if matches!(elem.ty, crate::ir::ExprTy::Zeek(_)) {
                    let t = self.expr(elem, cx);
                    quote!(let s = #t; joined.extend_from_slice(s.as_bytes());)
                } else {
                    let b = self.bytes_arg(elem, cx);
                    quote!(joined.extend_from_slice(#b);)
                };
                quote!({
                    let mut joined: ::std::vec::Vec<u8> = ::std::vec::Vec::new();
                    for #v in #iter {
                        #add
                    }
                    ::netpac_runtime::zeek::ZString::new(joined)
                })
            }
            ExprKind::PickBytes {
                last,
                iter,
                var,
                elem,
                default,
                filter,
            } => {
                let (iter, v) = self.comp_source(iter, var, filter.as_deref(), cx);
                let b = self.bytes_arg(elem, cx);
                let d = self.bytes_arg(default, cx);
                let pick = if *last { quote!(last) } else { quote!(next) };
                quote!({
                    let npac_pick: &[u8] = #iter.map(|#v| -> &[u8] { #b }).#pick().unwrap_or(#d);
                    npac_pick
                })
            }
            ExprKind::TableComp {
                iter,
                var,
                key,
                elem,
                filter,
                grouped,
            } => {
                let (iter, v) = self.comp_source(iter, var, filter.as_deref(), cx);
                let t = self.expr(&key.expr, cx);
                let k = self.convert_z(t, &key.expr.ty, &key.conv);
                let t = self.expr(&elem.expr, cx);
                let e = self.convert_z(t, &elem.expr.ty, &elem.conv);
                let put = if *grouped {
                    quote!(table.entry(#k).or_insert_with(::std::vec::Vec::new).push(#e);)
                } else {
                    quote!(table.insert(#k, #e);)
                };
                quote!({
                    let mut table = ::std::collections::BTreeMap::new();
                    for #v in #iter {
                        #put
                    }
                    table
                })
            }
            ExprKind::NonEmpty(x) => {
                let t = self.expr(x, cx);
                quote!({
                    let v = #t;
                    if v.is_empty() { ::std::option::Option::None } else { ::std::option::Option::Some(v) }
                })
            }
            ExprKind::ListComp {
                iter,
                index,
                var,
                elem,
                filter,
            } => {
                let t = self.expr(&elem.expr, cx);
                let conv = self.convert_z(t, &elem.expr.ty, &elem.conv);
                match index {
                    None => {
                        let (iter, v) = self.comp_source(iter, var, filter.as_deref(), cx);
                        quote!(#iter.map(|#v| #conv).collect::<::std::vec::Vec<_>>())
                    }
                    Some(ix) => {
                        let iter = self.comp_iter(iter, cx);
                        let v = ident(var);
                        let ix = ident(ix);
                        match filter {
                            None => quote!(#iter.enumerate().map(|(#ix, #v)| {
                                let #ix = #ix as u64;
                                #conv
                            }).collect::<::std::vec::Vec<_>>()),
                            // Positions count every element, kept or not.
                            Some(w) => {
                                let c = self.expr(w, cx);
                                quote!(#iter.enumerate().filter_map(|(#ix, #v)| {
                                    let #ix = #ix as u64;
                                    if !(#c) { return ::std::option::Option::None; }
                                    ::std::option::Option::Some(#conv)
                                }).collect::<::std::vec::Vec<_>>())
                            }
                        }
                    }
                }
            }
            ExprKind::Invalid => {
                unreachable!("an invalid expression was reported by the check pass")
            }
        }
    }

    /// Statements binding `npac_text: &[u8]` to a text, bytes or a string (`without`,
    /// `seven_bit`).
    fn text_bytes(&self, b: &Expr, cx: &Cx) -> TokenStream {
        if matches!(b.ty, crate::ir::ExprTy::Zeek(_)) {
            let t = self.expr(b, cx);
            quote!(let npac_owned = #t; let npac_text = npac_owned.as_bytes();)
        } else {
            let b = self.bytes_arg(b, cx);
            quote!(let npac_text = #b;)
        }
    }

    /// A comprehension's elements and its variable: what it iterates, kept by its
    /// `where` filter if it has one (each element keeps its type).
    fn comp_source(
        &self,
        iter: &BinderIter,
        var: &str,
        filter: Option<&Expr>,
        cx: &Cx,
    ) -> (TokenStream, proc_macro2::Ident) {
        let it = self.comp_iter(iter, cx);
        let v = ident(var);
        let it = match filter {
            None => it,
            Some(w) => {
                let c = self.expr(w, cx);
                quote!(#it.filter_map(|#v| if #c { ::std::option::Option::Some(#v) } else { ::std::option::Option::None }))
            }
        };
        (it, v)
    }

    /// What a comprehension iterates: a binder path, or the words `split` cuts.
    fn comp_iter(&self, iter: &BinderIter, cx: &Cx) -> TokenStream {
        match iter {
            BinderIter::Split(bytes, sep) => {
                let b = self.bytes_arg(bytes, cx);
                let l = proc_macro2::Literal::u8_suffixed(*sep);
                quote!(::netpac_runtime::text::split_words(#b, #l))
            }
            BinderIter::Chunks(bytes, n) => {
                let b = self.bytes_arg(bytes, cx);
                let n = proc_macro2::Literal::usize_unsuffixed(usize::try_from(*n).unwrap_or(usize::MAX));
                quote!((#b).chunks_exact(#n))
            }
            other => self.binder_iter(other),
        }
    }

    /// A `bytes` argument of a builtin, as a `&[u8]` expression.
    /// A weird's `addl` as a `String`: an integer in decimal, bytes as text.
    pub(super) fn addl(&self, e: &Expr, cx: &Cx) -> TokenStream {
        if matches!(e.ty, ExprTy::Node(Ty::Bytes, _) | ExprTy::BytesLit) {
            let b = self.bytes_arg(e, cx);
            quote!(::std::string::String::from_utf8_lossy(#b).into_owned())
        } else if matches!(e.ty, ExprTy::Zeek(crate::types::ZTy::Str)) {
            let t = self.expr(e, cx);
            quote!(::std::string::String::from_utf8_lossy((#t).as_bytes()).into_owned())
        } else {
            let v = self.int(e, cx);
            quote!(::std::format!("{}", #v))
        }
    }

    pub(super) fn bytes_arg(&self, e: &Expr, cx: &Cx) -> TokenStream {
        let t = self.expr(e, cx);
        match &e.ty {
            ExprTy::Node(Ty::Bytes, true) => quote!((*#t)),
            ExprTy::Node(Ty::Bytes, false) | ExprTy::BytesLit => quote!(&#t[..]),
            other => unreachable!("checked as bytes: {other:?}"),
        }
    }

    /// A unit passed by reference to a record constructor or extern fn.
    fn node_arg(&self, e: &Expr, cx: &Cx) -> TokenStream {
        let t = self.expr(e, cx);
        match &e.ty {
            ExprTy::Node(_, true) => t,
            ExprTy::Node(_, false) => quote!(&#t),
            other => unreachable!("checked as a unit: {other:?}"),
        }
    }

    /// Converts a compiled expression of type `ty` to a Zeek value.
    pub(super) fn convert_z(&self, t: TokenStream, ty: &ExprTy, conv: &ZConv) -> TokenStream {
        let is_ref = matches!(ty, ExprTy::Node(_, true));
        match (conv, ty) {
            (ZConv::Same, _) => t,
            (ZConv::NodeToCount, ExprTy::Node(n, r)) => self.node_to_int(t, n, *r),
            (ZConv::CountToInt, _) => quote!((#t as i64)),
            (ZConv::NodeToInt, _) => {
                let v = deref(t, is_ref);
                quote!(i64::from(#v))
            }
            (ZConv::Deref, _) => deref(t, is_ref),
            (ZConv::StrFromLit, _) => quote!(::netpac_runtime::zeek::ZString::copy_from(#t)),
            (ZConv::StrFromBytes, _) => {
                let v = deref(t, is_ref);
                quote!(ecx.pdu.string(#v))
            }
            (ZConv::Addr, _) => {
                let v = deref(t, is_ref);
                quote!(::std::net::IpAddr::from(#v))
            }
            (ZConv::Vec(inner), ExprTy::Node(Ty::Array(el), r)) => {
                let v = deref(t, *r);
                let conv = self.convert_z(quote!(x), &ExprTy::Node((**el).clone(), true), inner);
                quote!(#v.iter().map(|x| #conv).collect::<::std::vec::Vec<_>>())
            }
            (ZConv::Set { strings: true }, _) => quote!(::netpac_runtime::zeek::string_set(#t)),
            (ZConv::Set { strings: false }, _) => quote!(::netpac_runtime::zeek::set_of(#t)),
            (conv, ty) => unreachable!("conversion {conv:?} of {ty:?} was checked"),
        }
    }

    pub(super) fn zty_rust(&self, z: &ZTy) -> TokenStream {
        match z {
            ZTy::Count => quote!(u64),
            ZTy::Int => quote!(i64),
            ZTy::Bool => quote!(bool),
            ZTy::Str => quote!(::netpac_runtime::zeek::ZString),
            ZTy::Addr => quote!(::std::net::IpAddr),
            ZTy::Port => quote!(::netpac_runtime::zeek::Port),
            ZTy::Interval => quote!(::netpac_runtime::zeek::Interval),
            ZTy::Time => quote!(::netpac_runtime::zeek::Time),
            ZTy::Conn => quote!(::netpac_runtime::record::Connection),
            ZTy::Endpoint => quote!(::std::option::Option<::netpac_runtime::expected::Endpoint>),
            ZTy::Vec(t) => {
                let i = self.zty_rust(t);
                quote!(::std::vec::Vec<#i>)
            }
            ZTy::Set(t) => {
                let i = self.zty_rust(t);
                quote!(::std::vec::Vec<#i>)
            }
            // Zeek's `pkt_hdr` is the runtime's (the `pkt_hdr(b)` builtin).
            ZTy::Record(r) if r == "pkt_hdr" => quote!(::netpac_runtime::pkt_hdr::PktHdr),
            ZTy::Record(r) => {
                let n = format_ident!("{}", crate::types::record_rust_name(r));
                quote!(#n)
            }
            ZTy::Opt(t) => {
                let i = self.zty_rust(t);
                quote!(::std::option::Option<#i>)
            }
            ZTy::Table(k, v) => {
                let k = self.zty_rust(k);
                let v = self.zty_rust(v);
                quote!(::std::collections::BTreeMap<#k, #v>)
            }
        }
    }

    /// An iterator over the values a binder path selects.
    pub(super) fn binder_iter(&self, b: &BinderIter) -> TokenStream {
        let (root, root_is_ref, steps) = match b {
            BinderIter::Split(..) | BinderIter::Chunks(..) => {
                unreachable!("`split` and `chunks` are checked to appear in comprehensions only")
            }
            BinderIter::Chain(a, b) => {
                let ia = self.binder_iter(a);
                let ib = self.binder_iter(b);
                return quote!(#ia.chain(#ib));
            }
            BinderIter::Path {
                root,
                root_is_ref,
                steps,
            } => (root, *root_is_ref, steps),
        };
        let vt = var_tokens(root);
        let mut iter = if root_is_ref {
            quote!(::std::iter::once(#vt))
        } else {
            quote!(::std::iter::once(&#vt))
        };
        for step in steps {
            iter = match step {
                Step::Flatten => quote!(#iter.flat_map(|x| x.iter())),
                Step::Field {
                    name,
                    optional,
                    boxed,
                } => {
                    let f = ident(name);
                    // A boxed field yields the unit itself, like any other field.
                    match (optional, boxed) {
                        (true, false) => quote!(#iter.filter_map(|x| x.#f.as_ref())),
                        (true, true) => quote!(#iter.filter_map(|x| x.#f.as_deref())),
                        (false, false) => quote!(#iter.map(|x| &x.#f)),
                        (false, true) => quote!(#iter.map(|x| &*x.#f)),
                    }
                }
                Step::Arm {
                    module,
                    enum_name,
                    variant,
                    boxed,
                } => {
                    let en = self.qual_name(*module, enum_name);
                    let v = format_ident!("{}", camel(variant));
                    let value = if *boxed { quote!(&**v) } else { quote!(v) };
                    quote!(#iter.filter_map(|x| match x { #en::#v(v) => Some(#value), _ => None }))
                }
            };
        }
        iter
    }
}
