//! Calls: the builtins (`dec`, `choose`, `format`, ...), record constructors and
//! extern fns, each with its arguments checked.

use super::exprs::{boxed, invalid, typed, uses_conn, IrExpr, K};
use super::*;
use crate::ast::{Expr, ExprKind, ExternFn, RecordDecl};
use crate::ir::{ExternArg, FormatArg, ZValue};
use crate::types::TypeDef;

impl Checker<'_> {
    pub(super) fn call(&mut self, f: &str, args: &[Expr], span: Span, sc: &Scope) -> IrExpr {
        let arity = |me: &mut Self, n: usize| {
            if args.len() != n {
                me.err(
                    span,
                    format!("`{f}` takes {n} argument(s), {} given", args.len()),
                );
                false
            } else {
                true
            }
        };
        let bind = sc.mode == Mode::Bind;
        match f {
            "len" => {
                if !arity(self, 1) {
                    return invalid();
                }
                let x = self.expr(&args[0], sc);
                match &x.ty {
                    ExprTy::Node(Ty::Bytes | Ty::Array(_), _) | ExprTy::BytesLit => {
                        typed(K::Len(boxed(x)), ExprTy::Int)
                    }
                    ExprTy::Unknown => invalid(),
                    other => {
                        self.err(
                            args[0].span,
                            format!(
                                "`len` needs bytes or an array, found {}",
                                expr_ty_name(other)
                            ),
                        );
                        invalid()
                    }
                }
            }
            "count" => {
                if !arity(self, 1) {
                    return invalid();
                }
                let b = self.boolean(&args[0], sc);
                typed(K::Count(boxed(b)), ExprTy::Int)
            }
            "seconds" if bind => {
                if !arity(self, 1) {
                    return invalid();
                }
                let x = self.int(&args[0], sc);
                typed(K::Seconds(boxed(x)), ExprTy::Zeek(ZTy::Interval))
            }
            "pow2" if bind => {
                if !arity(self, 1) {
                    return invalid();
                }
                let x = self.expr(&args[0], sc);
                let conv = self.convert_z(&x.ty, &ZTy::Int, args[0].span);
                typed(
                    K::Pow2(Box::new(ZValue { expr: x, conv })),
                    ExprTy::Zeek(ZTy::Interval),
                )
            }
            "fixed" | "fixed_time" if bind => {
                let want = if f == "fixed" { 3 } else { 4 };
                if args.len() != want {
                    self.err(
                        span,
                        if f == "fixed" {
                            "`fixed` takes the integer part, the fraction and the fraction's bits: `fixed(t.secs, t.frac, 16)`"
                        } else {
                            "`fixed_time` takes the integer part, the fraction, the fraction's bits and the epoch's offset in seconds: `fixed_time(t.secs, t.frac, 32, 2208988800)`"
                        },
                    );
                    return invalid();
                }
                let part = |me: &mut Self, e: &Expr| {
                    let x = me.expr(e, sc);
                    let conv = me.convert_z(&x.ty, &ZTy::Int, e.span);
                    Box::new(ZValue { expr: x, conv })
                };
                let int = part(self, &args[0]);
                let frac = part(self, &args[1]);
                let constant = |me: &mut Self, e: &Expr, what: &str, max: u64| match &e.kind {
                    ExprKind::Int(v) if *v <= max => Some(*v),
                    _ => {
                        me.err(e.span, format!("{what} is an integer constant up to {max}"));
                        None
                    }
                };
                let Some(bits) = constant(self, &args[2], "the number of fraction bits", 63) else {
                    return invalid();
                };
                let epoch = if want == 4 {
                    let Some(e) = constant(self, &args[3], "the epoch's offset", u64::from(u32::MAX)) else {
                        return invalid();
                    };
                    Some(e)
                } else {
                    None
                };
                let ty = if epoch.is_some() { ZTy::Time } else { ZTy::Interval };
                typed(K::Fixed { int, frac, bits, epoch }, ExprTy::Zeek(ty))
            }
            "time" if bind => {
                if args.is_empty() || args.len() > 2 {
                    self.err(span, "`time` takes seconds and optionally milliseconds");
                    return invalid();
                }
                let s = self.int(&args[0], sc);
                let ms = (args.len() == 2).then(|| boxed(self.int(&args[1], sc)));
                typed(K::Time(boxed(s), ms), ExprTy::Zeek(ZTy::Time))
            }
            "mac" if bind => {
                if !arity(self, 1) {
                    return invalid();
                }
                let b = self.bytes_arg(&args[0], sc);
                typed(K::Mac(boxed(b)), ExprTy::Zeek(ZTy::Str))
            }
            "bits" if bind => {
                if args.is_empty() || args.len() > 2 {
                    self.err(span, "`bits` takes bytes and optionally a bit count");
                    return invalid();
                }
                let b = self.bytes_arg(&args[0], sc);
                let n = (args.len() == 2).then(|| boxed(self.int(&args[1], sc)));
                typed(
                    K::Bits(boxed(b), n),
                    ExprTy::Zeek(ZTy::Vec(Box::new(ZTy::Bool))),
                )
            }
            "format" if bind => self.format_call(args, span, sc),
            "first" | "last" if bind => self.pick_call(f == "last", args, span, sc),
            "join" if bind => self.join_call(args, span, sc),
            "nonempty" if bind => {
                if !arity(self, 1) {
                    return invalid();
                }
                let x = self.expr(&args[0], sc);
                match &x.ty {
                    ExprTy::Zeek(z @ (ZTy::Vec(_) | ZTy::Table(..))) => {
                        let ty = ZTy::Opt(Box::new(z.clone()));
                        typed(K::NonEmpty(boxed(x)), ExprTy::Zeek(ty))
                    }
                    ExprTy::Unknown => invalid(),
                    other => {
                        self.err(
                            args[0].span,
                            format!("`nonempty` takes a list or table comprehension, found {}", expr_ty_name(other)),
                        );
                        invalid()
                    }
                }
            }
            "looking_at" | "looking_at_ci" if !bind => {
                if args.is_empty() || args.len() > 2 {
                    self.err(
                        span,
                        format!("`{f}` takes a bytes literal and optionally an offset"),
                    );
                    return invalid();
                }
                let at = (args.len() == 2).then(|| boxed(self.int(&args[1], sc)));
                match &args[0].kind {
                    ExprKind::Bytes(b) => typed(
                        K::LookingAt {
                            lit: b.clone(),
                            ci: f == "looking_at_ci",
                            at,
                        },
                        ExprTy::Bool,
                    ),
                    _ => {
                        self.err(args[0].span, format!("`{f}` takes a bytes literal"));
                        invalid()
                    }
                }
            }
            "peek_dec" if !bind => {
                if !arity(self, 1) {
                    return invalid();
                }
                let n = self.int(&args[0], sc);
                typed(K::PeekDec(boxed(n)), ExprTy::Int)
            }
            "peek_uint" | "peek_uint_le" if !bind => {
                if !arity(self, 2) {
                    return invalid();
                }
                let width = match args[1].kind {
                    ExprKind::Int(w) if (1..=8).contains(&w) => w as u8,
                    _ => {
                        self.err(args[1].span, "`peek_uint`'s width is a constant from 1 to 8 (bytes)");
                        return invalid();
                    }
                };
                let at = self.int(&args[0], sc);
                typed(K::PeekUint(boxed(at), width, f == "peek_uint_le"), ExprTy::Int)
            }
            "dec" => {
                if !arity(self, 1) {
                    return invalid();
                }
                let b = self.bytes_arg(&args[0], sc);
                typed(K::Dec(boxed(b)), ExprTy::Int)
            }
            "be_uint" | "le_uint" | "oid_longest" | "base128" | "base128_len" => {
                if !arity(self, 1) {
                    return invalid();
                }
                let b = self.bytes_arg(&args[0], sc);
                let k = match f {
                    "be_uint" => K::BeUint(boxed(b)),
                    "le_uint" => K::LeUint(boxed(b)),
                    "oid_longest" => K::OidLongest(boxed(b)),
                    "base128" => K::Base128(boxed(b), false),
                    _ => K::Base128(boxed(b), true),
                };
                typed(k, ExprTy::Int)
            }
            "oid" if bind => {
                if !arity(self, 1) {
                    return invalid();
                }
                let b = self.bytes_arg(&args[0], sc);
                typed(K::Oid(boxed(b)), ExprTy::Zeek(ZTy::Str))
            }
            "int" if bind => {
                if !arity(self, 1) {
                    return invalid();
                }
                let x = self.expr(&args[0], sc);
                // Signed fields keep their sign; unsigned values are reinterpreted (two's complement).
                let signed = matches!(x.ty, ExprTy::Node(Ty::Int { signed: true, .. }, _));
                let via = if signed { ZTy::Int } else { ZTy::Count };
                let conv = self.convert_z(&x.ty, &via, args[0].span);
                typed(K::ToInt(Box::new(ZValue { expr: x, conv }), signed), ExprTy::Zeek(ZTy::Int))
            }
            "concat" if bind => {
                if !arity(self, 2) {
                    return invalid();
                }
                let a = self.bytes_arg(&args[0], sc);
                let b = self.bytes_arg(&args[1], sc);
                typed(K::Concat(boxed(a), boxed(b)), ExprTy::Zeek(ZTy::Str))
            }
            "upper" if bind => {
                if !arity(self, 1) {
                    return invalid();
                }
                let b = self.bytes_arg(&args[0], sc);
                typed(K::Upper(boxed(b)), ExprTy::Zeek(ZTy::Str))
            }
            // `without(b, b"\0")`: `b` with every byte of the set left out (Zeek's Login
            // drops a line's NULs).
            "without" if bind => {
                if !arity(self, 2) {
                    return invalid();
                }
                let Some(b) = self.text_arg(&args[0], "without(b, set)", sc) else {
                    return invalid();
                };
                let set = match &args[1].kind {
                    ExprKind::Bytes(b) if !b.is_empty() => b.clone(),
                    _ => {
                        self.err(args[1].span, "`without(b, set)` takes the bytes to leave out as a literal (`b\"\\0\"`)");
                        return invalid();
                    }
                };
                typed(K::Without(boxed(b), set), ExprTy::Zeek(ZTy::Str))
            }
            // `seven_bit(b, on)`: with `on`, every byte but 0xFF cut to its low 7 bits
            // (Telnet's binary mode, as Zeek's NVT reads it).
            "seven_bit" if bind => {
                if !arity(self, 2) {
                    return invalid();
                }
                let Some(b) = self.text_arg(&args[0], "seven_bit(b, on)", sc) else {
                    return invalid();
                };
                let on = self.boolean(&args[1], sc);
                typed(K::SevenBit(boxed(b), boxed(on)), ExprTy::Zeek(ZTy::Str))
            }
            "trim" => {
                if !arity(self, 1) {
                    return invalid();
                }
                let b = self.bytes_arg(&args[0], sc);
                typed(K::Trim(boxed(b)), ExprTy::Node(Ty::Bytes, false))
            }
            "eq_ci" | "word" | "words" | "skip_words" | "before" | "before_last" | "after" | "contains"
            | "starts_with" | "lstrip" | "drop_prefix" | "drop_suffix" | "digits"
            | "dec_before"
            | "head" | "tail" | "first_common" => self.text_call(f, args, span, sc),
            "join_words" if bind => self.text_call(f, args, span, sc),
            "choose" => {
                if !arity(self, 3) {
                    return invalid();
                }
                let c = self.boolean(&args[0], sc);
                let a = self.expr(&args[1], sc);
                let b = self.expr(&args[2], sc);
                let is_bytes =
                    |t: &ExprTy| matches!(t, ExprTy::Node(Ty::Bytes, _) | ExprTy::BytesLit);
                let ty = if is_bytes(&a.ty) && is_bytes(&b.ty) {
                    ExprTy::Node(Ty::Bytes, false)
                } else if self.need_int(&a, args[1].span) && self.need_int(&b, args[2].span) {
                    ExprTy::Int
                } else {
                    return invalid();
                };
                typed(K::Choose(boxed(c), boxed(a), boxed(b)), ty)
            }
            "unmask" if bind => {
                if !arity(self, 2) {
                    return invalid();
                }
                let a = self.bytes_arg(&args[0], sc);
                let b = self.bytes_arg(&args[1], sc);
                typed(K::Unmask(boxed(a), boxed(b)), ExprTy::Node(Ty::Bytes, false))
            }
            "ip" if bind => {
                if !arity(self, 1) {
                    return invalid();
                }
                let b = self.bytes_arg(&args[0], sc);
                typed(K::IpBytes(boxed(b)), ExprTy::Zeek(ZTy::Addr))
            }
            "ip_proto" if bind => {
                if !arity(self, 1) {
                    return invalid();
                }
                let b = self.bytes_arg(&args[0], sc);
                typed(K::IpProto(boxed(b)), ExprTy::Int)
            }
            "pkt_hdr" if bind => {
                if !arity(self, 1) {
                    return invalid();
                }
                let b = self.bytes_arg(&args[0], sc);
                typed(K::PktHdr(boxed(b)), ExprTy::Zeek(ZTy::Record("pkt_hdr".into())))
            }
            "ipv4" if bind => {
                if !arity(self, 1) {
                    return invalid();
                }
                let n = self.int(&args[0], sc);
                typed(K::Ipv4(boxed(n)), ExprTy::Zeek(ZTy::Addr))
            }
            "endpoint" if bind => {
                if !arity(self, 2) {
                    return invalid();
                }
                let a = self.expr(&args[0], sc);
                let conv = self.convert_z(&a.ty, &ZTy::Addr, args[0].span);
                let p = self.int(&args[1], sc);
                typed(
                    K::Endpoint(Box::new(ZValue { expr: a, conv }), boxed(p)),
                    ExprTy::Zeek(ZTy::Endpoint),
                )
            }
            "tcp_port" | "udp_port" if bind => {
                if !arity(self, 1) {
                    return invalid();
                }
                let n = self.int(&args[0], sc);
                let proto = if f == "tcp_port" { crate::ast::Transport::Tcp } else { crate::ast::Transport::Udp };
                typed(K::Port(boxed(n), proto), ExprTy::Zeek(ZTy::Port))
            }
            "string" if bind => {
                if !arity(self, 1) {
                    return invalid();
                }
                let x = self.expr(&args[0], sc);
                let conv = self.convert_z(&x.ty, &ZTy::Str, args[0].span);
                typed(
                    K::String(Box::new(ZValue { expr: x, conv })),
                    ExprTy::Zeek(ZTy::Str),
                )
            }
            _ => {
                if bind {
                    if let Some(r) = self.module().records.iter().find(|r| r.name == f) {
                        return self.record_call(r, args, span, sc);
                    }
                    if let Some(x) = self.module().extern_fns.iter().find(|x| x.name == f) {
                        return self.extern_call(x, args, span, sc);
                    }
                }
                self.err(span, format!("unknown function `{f}`"));
                invalid()
            }
        }
    }

    /// A text argument, bytes or a string, of the builtin `call` (`without(b, set)`).
    fn text_arg(&mut self, arg: &Expr, call: &str, sc: &Scope) -> Option<IrExpr> {
        let b = self.expr(arg, sc);
        if matches!(b.ty, ExprTy::Node(Ty::Bytes, _) | ExprTy::BytesLit | ExprTy::Zeek(ZTy::Str)) {
            Some(b)
        } else {
            self.err(arg.span, format!("`{call}` takes bytes or a string"));
            None
        }
    }

    /// `join([e for x in path])`: the texts the path selects, bytes or strings, one
    /// string (a line whose pieces were cut apart: Rlogin's around a window change).
    fn join_call(&mut self, args: &[Expr], span: Span, sc: &Scope) -> IrExpr {
        let Some(ExprKind::ListComp { key: None, index: None, elem, var, src, filter }) = args.first().map(|a| &a.kind).filter(|_| args.len() == 1)
        else {
            self.err(span, "`join` takes a list comprehension of texts: `join([x.text for x in l.pieces])`");
            return invalid();
        };
        let Some((iter, elem_ty)) = self.binder_iter(src, sc) else {
            return invalid();
        };
        let mut inner = sc.clone();
        inner.vars.push(Var::named(var, elem_ty, true));
        let x = self.expr(elem, &inner);
        let text = matches!(x.ty, ExprTy::Node(Ty::Bytes, _) | ExprTy::BytesLit | ExprTy::Zeek(ZTy::Str));
        if !text {
            self.err(elem.span, "`join` joins texts: each element is bytes or a string");
            return invalid();
        }
        let filter = filter.as_ref().map(|w| Box::new(self.boolean(w, &inner)));
        typed(K::Join { iter, var: var.clone(), elem: boxed(x), filter }, ExprTy::Zeek(ZTy::Str))
    }

    /// `first([e for x in path])`, `last(...)`, optionally with a default value: the
    /// value for the first / last element the path selects. Without a default the
    /// result is an optional Zeek value (a record field left unset when nothing is
    /// selected, Zeek's `&optional`).
    fn pick_call(&mut self, last: bool, args: &[Expr], span: Span, sc: &Scope) -> IrExpr {
        let f = if last { "last" } else { "first" };
        let comp = match args.first().map(|a| &a.kind) {
            Some(ExprKind::ListComp { key: None, index, elem, var, src, filter }) if args.len() <= 2 => (index, elem, var, src, filter),
            _ => {
                self.err(
                    span,
                    format!("`{f}` takes a list comprehension and optionally a default: `{f}([x.v for x in m.items])`"),
                );
                return invalid();
            }
        };
        let (index, elem, var, src, filter) = comp;
        let Some((iter, elem_ty)) = self.binder_iter(src, sc) else {
            return invalid();
        };
        let mut inner = sc.clone();
        inner.vars.push(Var::named(var, elem_ty, true));
        // `for i, x in path`: `i` counts the elements the path selects, kept or not.
        if let Some(i) = index {
            inner.vars.push(Var::named(i, Ty::Int { bits: 64, signed: false }, false));
        }
        let x = self.expr(elem, &inner);
        let filter = filter.as_ref().map(|w| Box::new(self.boolean(w, &inner)));
        // Bytes picked with a bytes default stay bytes (a slice of the PDU), so they may be
        // passed on where bytes go: `KRB::Type_Value(p.data_type, first([..], b""))`.
        let is_bytes = |t: &ExprTy| matches!(t, ExprTy::Node(Ty::Bytes, _) | ExprTy::BytesLit);
        if is_bytes(&x.ty) && args.len() == 2 && index.is_none() {
            let d = self.expr(&args[1], sc);
            if is_bytes(&d.ty) {
                return typed(
                    K::PickBytes {
                        last,
                        iter,
                        var: var.clone(),
                        elem: boxed(x),
                        default: boxed(d),
                        filter,
                    },
                    ExprTy::Node(Ty::Bytes, false),
                );
            }
        }
        let Some(zt) = self.infer_z(&x.ty, elem.span) else {
            return invalid();
        };
        let conv = self.convert_z(&x.ty, &zt, elem.span);
        let default = args.get(1).map(|d| {
            let dx = self.expr(d, sc);
            let dconv = self.convert_z(&dx.ty, &zt, d.span);
            Box::new(ZValue { expr: dx, conv: dconv })
        });
        let ty = if default.is_some() {
            zt
        } else {
            ZTy::Opt(Box::new(zt))
        };
        typed(
            K::Pick {
                last,
                iter,
                index: index.clone(),
                var: var.clone(),
                elem: Box::new(ZValue { expr: x, conv }),
                default,
                filter,
            },
            ExprTy::Zeek(ty),
        )
    }

    /// `format("text {} more {}", a, b)`: a Zeek string; `{}` takes integers (decimal) or strings.
    pub(super) fn format_call(&mut self, args: &[Expr], span: Span, sc: &Scope) -> IrExpr {
        let Some(ExprKind::Str(text)) = args.first().map(|a| &a.kind) else {
            self.err(
                span,
                "`format` takes a string literal with `{}` placeholders, then one value per `{}`",
            );
            return invalid();
        };
        let holes = text.matches("{}").count();
        if text.replace("{}", "").contains(['{', '}']) {
            self.err(
                args[0].span,
                "`format` text may contain only `{}` placeholders, no other braces",
            );
            return invalid();
        }
        if holes != args.len() - 1 {
            self.err(
                span,
                format!(
                    "`format` text has {holes} placeholder(s) but {} value(s) follow",
                    args.len() - 1
                ),
            );
            return invalid();
        }
        let mut vals = Vec::new();
        for a in &args[1..] {
            let x = self.expr(a, sc);
            vals.push(match &x.ty {
                ExprTy::Zeek(ZTy::Str) => FormatArg::Str(x),
                ExprTy::Node(Ty::Bytes, _) | ExprTy::BytesLit => FormatArg::Bytes(x),
                _ => FormatArg::Int(self.as_int(x, a.span)),
            });
        }
        typed(K::Format(text.clone(), vals), ExprTy::Zeek(ZTy::Str))
    }

    /// A unit (or extern unit) argument of a record or extern fn, passed by reference.
    fn node_arg(&mut self, e: &Expr, want: &str, sc: &Scope) -> IrExpr {
        let x = self.expr(e, sc);
        match &x.ty {
            ExprTy::Node(n, _) => {
                let ok = match (n, self.w.lookup(self.m, want)) {
                    (Ty::Unit(m, u), Some(TypeDef::Unit(m2, u2))) => *m == m2 && *u == u2.name,
                    (Ty::Extern(m, u), Some(TypeDef::Extern(m2, u2))) => *m == m2 && *u == u2.name,
                    (Ty::Union(m, u), Some(TypeDef::Unit(m2, u2))) => *m == m2 && *u == u2.name,
                    _ => false,
                };
                if !ok {
                    self.err(e.span, format!("expected `{want}`, found {}", ty_name(n)));
                }
                x
            }
            ExprTy::Unknown => invalid(),
            other => {
                self.err(
                    e.span,
                    format!("expected `{want}`, found {}", expr_ty_name(other)),
                );
                invalid()
            }
        }
    }

    fn record_call(&mut self, r: &RecordDecl, args: &[Expr], span: Span, sc: &Scope) -> IrExpr {
        if args.len() != r.params.len() {
            self.err(
                span,
                format!(
                    "record `{}` takes {} argument(s), {} given",
                    r.name,
                    r.params.len(),
                    args.len()
                ),
            );
            return invalid();
        }
        if sc.link {
            // Records are built once for every scope; from a link-layer PDU they must not need a connection.
            for f in &r.fields {
                if let Some(d) = uses_conn(&f.expr) {
                    self.err(
                        span,
                        format!("record `{}` uses `${d}` (field `{}`), which a link-layer PDU (`ethertype ... =>`) does not have", r.name, f.name),
                    );
                }
            }
        }
        let a = r
            .params
            .iter()
            .zip(args)
            .map(|(p, e)| {
                if p.ty == "bytes" {
                    self.bytes_arg(e, sc)
                } else if p.ty == "u64" {
                    self.int(e, sc)
                } else {
                    self.node_arg(e, &p.ty, sc)
                }
            })
            .collect();
        typed(
            K::Record(r.name.clone(), a),
            ExprTy::Zeek(ZTy::Record(r.name.clone())),
        )
    }

    fn extern_call(&mut self, x: &ExternFn, args: &[Expr], span: Span, sc: &Scope) -> IrExpr {
        let fallible_ok = std::mem::replace(&mut self.fallible_bytes_ok, false);
        if args.len() != x.params.len() {
            self.err(
                span,
                format!(
                    "`{}` takes {} argument(s), {} given",
                    x.name,
                    x.params.len(),
                    args.len()
                ),
            );
            return invalid();
        }
        let mut a = Vec::new();
        for (p, e) in x.params.iter().zip(args) {
            a.push(match p.ty.as_str() {
                "count" => ExternArg::Count(self.int(e, sc)),
                "addr" => {
                    let v = self.expr(e, sc);
                    let conv = self.convert_z(&v.ty, &ZTy::Addr, e.span);
                    ExternArg::Addr(ZValue { expr: v, conv })
                }
                "bool" => ExternArg::Bool(self.boolean(e, sc)),
                "bytes" => {
                    let v = self.expr(e, sc);
                    match v.ty {
                        ExprTy::Node(Ty::Bytes, _) => ExternArg::Bytes(v),
                        _ => {
                            self.err(e.span, "expected bytes");
                            ExternArg::Bytes(invalid())
                        }
                    }
                }
                other => ExternArg::Node(self.node_arg(e, other, sc)),
            });
        }
        if x.ret == "bytes" {
            if let Some(p) = x.params.iter().find(|p| !matches!(p.ty.as_str(), "count" | "bool" | "bytes")) {
                self.err(span, format!("`{}` returns bytes, so its parameters are `count`, `bool` or `bytes`, not `{}`", x.name, p.ty));
                return invalid();
            }
            if !fallible_ok {
                self.err(
                    span,
                    format!("`{}` returns bytes it may fail to make, so it is only the whole value of a `feed` or `forward`", x.name),
                );
                return invalid();
            }
            return typed(K::ExternBytes(x.path.clone(), a), ExprTy::Node(Ty::Bytes, false));
        }
        let ret = ZTy::parse(&x.ret);
        if let Some(r) = ret.record() {
            if !self.module().records.iter().any(|d| d.name == *r) {
                self.err(x.ret_span, format!("unknown return type `{r}`"));
            }
        }
        typed(K::ExternFn(x.path.clone(), a), ExprTy::Zeek(ret))
    }
}
