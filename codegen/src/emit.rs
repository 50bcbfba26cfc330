//! Emitter: lowers one checked module to Rust (quote → prettyplease).
//!
//! Type errors found while lowering are reported as diagnostics; the emitter
//! never panics on a bad grammar.

use crate::ast::*;
use crate::diag::{Diagnostic, Span};
use crate::ident::{camel, ident, inner_type_name, path_tokens, snake, upper_ident};
use crate::types::{builtin_int, Ty, TypeDef, World};
use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};
use std::collections::HashMap;

/// One event of the specification table: name and `(arg, zeek type)` list.
#[derive(Debug, Clone)]
pub struct EventSig {
    pub name: String,
    pub args: Vec<(String, String)>,
}

/// Zeek-level value types of event arguments and record fields.
#[derive(Debug, Clone, PartialEq)]
pub enum ZTy {
    Count,
    Int,
    Bool,
    Str,
    Addr,
    Interval,
    Time,
    Conn,
    Vec(Box<ZTy>),
    Record(String),
}

impl ZTy {
    pub fn parse(s: &str) -> ZTy {
        let s = s.trim();
        match s {
            "count" => ZTy::Count,
            "int" => ZTy::Int,
            "bool" => ZTy::Bool,
            "string" => ZTy::Str,
            "addr" => ZTy::Addr,
            "interval" => ZTy::Interval,
            "time" => ZTy::Time,
            "connection" => ZTy::Conn,
            "string_vec" => ZTy::Vec(Box::new(ZTy::Str)),
            "index_vec" => ZTy::Vec(Box::new(ZTy::Count)),
            // Zeek's vector type aliases (init-bare.zeek).
            "ModbusCoils" => ZTy::Vec(Box::new(ZTy::Bool)),
            "ModbusRegisters" => ZTy::Vec(Box::new(ZTy::Count)),
            _ => match s.strip_prefix("vector of ") {
                Some(inner) => ZTy::Vec(Box::new(ZTy::parse(inner))),
                None => ZTy::Record(s.to_string()),
            },
        }
    }
    fn name(&self) -> String {
        match self {
            ZTy::Count => "count".into(),
            ZTy::Int => "int".into(),
            ZTy::Bool => "bool".into(),
            ZTy::Str => "string".into(),
            ZTy::Addr => "addr".into(),
            ZTy::Interval => "interval".into(),
            ZTy::Time => "time".into(),
            ZTy::Conn => "connection".into(),
            ZTy::Vec(t) => format!("vector of {}", t.name()),
            ZTy::Record(r) => r.clone(),
        }
    }
}

/// Type of a compiled expression.
#[derive(Debug, Clone)]
enum ETy {
    Int,
    Bool,
    Z(ZTy),
    /// A grammar value; `true` if the tokens are a reference.
    Node(Ty, bool),
    /// A bytes literal.
    Lit,
    Unknown,
}

#[derive(Clone)]
enum Mode {
    /// Inside a unit's parse function: `cur` is the cursor in scope.
    Parse { at: String },
    /// Inside an event binding or record constructor.
    Bind,
}

#[derive(Clone)]
struct Var {
    name: String,
    tokens: TokenStream,
    ty: Ty,
    is_ref: bool,
}

#[derive(Clone)]
struct Scope {
    mode: Mode,
    vars: Vec<Var>,
    dollar: Option<Var>,
    cursor: Ident,
    /// Bindings of a link-layer PDU (`ethertype ... => Unit`): no connection, but `$l2_src`/`$l2_dst`.
    link: bool,
}

impl Scope {
    fn find(&self, n: &str) -> Option<&Var> {
        self.vars.iter().rev().find(|v| v.name == n)
    }
}

fn lit_u64(v: u64) -> Literal {
    Literal::u64_suffixed(v)
}

/// Limits declared by a module, with their types.
struct LimitInfo {
    name: String,
    is_bool: bool,
}

pub struct Emitter<'w> {
    w: &'w World<'w>,
    m: usize,
    events: &'w HashMap<String, EventSig>,
    pub diags: Vec<Diagnostic>,
    limits: Vec<LimitInfo>,
    cursor_n: u32,
}

impl<'w> Emitter<'w> {
    pub fn new(w: &'w World<'w>, m: usize, events: &'w HashMap<String, EventSig>) -> Emitter<'w> {
        let limits = w.modules[m]
            .limits
            .iter()
            .map(|l| LimitInfo {
                name: l.name.clone(),
                is_bool: matches!(l.value, LimitValue::Bool(_)),
            })
            .collect();
        Emitter {
            w,
            m,
            events,
            diags: Vec::new(),
            limits,
            cursor_n: 0,
        }
    }

    fn err(&mut self, span: Span, msg: impl Into<String>) {
        self.diags.push(Diagnostic::new(span, msg));
    }

    fn module(&self) -> &'w Module {
        &self.w.modules[self.m]
    }

    fn order(&self) -> Order {
        self.module().byteorder.unwrap_or(Order::Big)
    }

    /// Rust type of a grammar value. Types of other modules are reached through `super::`.
    fn rust_ty(&self, ty: &Ty) -> TokenStream {
        let qual = |m: usize, name: &str| -> TokenStream {
            let n = format_ident!("{}", name);
            if m == self.m {
                quote!(#n)
            } else {
                let mn = format_ident!("{}", self.w.modules[m].name);
                quote!(super::#mn::#n)
            }
        };
        match ty {
            Ty::Int { bits, signed } => {
                let b: u8 = match bits {
                    8 => 8,
                    16 => 16,
                    24 | 32 => 32,
                    _ => 64,
                };
                let n = format_ident!("{}{}", if *signed { "i" } else { "u" }, b);
                quote!(#n)
            }
            Ty::Bool => quote!(bool),
            Ty::Bytes => quote!(&'a [u8]),
            Ty::Ipv4 => quote!(::std::net::Ipv4Addr),
            Ty::Ipv6 => quote!(::std::net::Ipv6Addr),
            Ty::Enum(m, n) => qual(*m, n),
            Ty::Bits(m, n, ..) => qual(*m, n),
            Ty::Unit(m, n) | Ty::Union(m, n) => {
                let q = qual(*m, n);
                if self.w.needs_lt(ty) {
                    quote!(#q<'a>)
                } else {
                    q
                }
            }
            Ty::Extern(m, n) => {
                let path = self.extern_path(*m, n);
                quote!(#path<'a>)
            }
            Ty::Switch(m, u, f) => {
                let q = qual(*m, &inner_type_name(u, f));
                if self.w.needs_lt(ty) {
                    quote!(#q<'a>)
                } else {
                    q
                }
            }
            Ty::Array(t) => {
                let i = self.rust_ty(t);
                quote!(::std::vec::Vec<#i>)
            }
            Ty::Option(t) => {
                let i = self.rust_ty(t);
                quote!(::std::option::Option<#i>)
            }
        }
    }

    fn extern_path(&self, m: usize, name: &str) -> TokenStream {
        let x = self.w.modules[m]
            .extern_units
            .iter()
            .find(|x| x.name == name);
        match x {
            Some(x) => path_tokens(&x.path),
            None => quote!(()),
        }
    }

    // ---------------------------------------------------------------- expressions

    fn node_to_int(
        &mut self,
        tokens: TokenStream,
        ty: &Ty,
        is_ref: bool,
        span: Span,
    ) -> TokenStream {
        let v = if is_ref { quote!((*#tokens)) } else { tokens };
        match ty {
            Ty::Int { signed: false, .. } => quote!(u64::from(#v)),
            Ty::Int { signed: true, .. } => quote!((#v as u64)),
            Ty::Enum(..) => quote!(u64::from(#v.0)),
            Ty::Bool => quote!(u64::from(#v)),
            other => {
                self.err(
                    span,
                    format!("expected an integer, found {}", ty_name(other)),
                );
                quote!(0u64)
            }
        }
    }

    fn int(&mut self, e: &Expr, sc: &Scope) -> TokenStream {
        let (t, ty) = self.expr(e, sc);
        match ty {
            ETy::Int | ETy::Z(ZTy::Count) => t,
            ETy::Node(n, r) => self.node_to_int(t, &n, r, e.span),
            ETy::Unknown => t,
            other => {
                self.err(
                    e.span,
                    format!("expected an integer, found {}", ety_name(&other)),
                );
                quote!(0u64)
            }
        }
    }

    fn boolean(&mut self, e: &Expr, sc: &Scope) -> TokenStream {
        let (t, ty) = self.expr(e, sc);
        match ty {
            ETy::Bool | ETy::Z(ZTy::Bool) => t,
            ETy::Node(Ty::Bool, r) => {
                if r {
                    quote!((*#t))
                } else {
                    t
                }
            }
            ETy::Unknown => t,
            other => {
                self.err(
                    e.span,
                    format!("expected a boolean, found {}", ety_name(&other)),
                );
                quote!(false)
            }
        }
    }

    fn arith(&mut self, op: BinOp, a: TokenStream, b: TokenStream, sc: &Scope) -> TokenStream {
        match &sc.mode {
            Mode::Parse { at } => {
                let cur = &sc.cursor;
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
            Mode::Bind => match op {
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

    /// Resolves `Enum::CONST` to its value.
    fn enum_const(&self, path: &str) -> Option<u64> {
        let (en, c) = path.split_once("::")?;
        let def = self.w.lookup(self.m, en)?;
        match def {
            TypeDef::Enum(_, e) => e.items.iter().find(|(n, _, _)| n == c).map(|(_, v, _)| *v),
            _ => None,
        }
    }

    fn limit(&self, name: &str) -> Option<&LimitInfo> {
        self.limits.iter().find(|l| l.name == name)
    }

    fn expr(&mut self, e: &Expr, sc: &Scope) -> (TokenStream, ETy) {
        match &e.kind {
            ExprKind::Int(v) => {
                let l = lit_u64(*v);
                (quote!(#l), ETy::Int)
            }
            ExprKind::Bool(b) => (quote!(#b), ETy::Bool),
            ExprKind::Bytes(b) => {
                let l = Literal::byte_string(b);
                (quote!(#l), ETy::Lit)
            }
            ExprKind::Str(text) if matches!(sc.mode, Mode::Bind) => {
                let l = Literal::string(text);
                (
                    quote!(::netpac_runtime::zeek::ZString::from_static(#l)),
                    ETy::Z(ZTy::Str),
                )
            }
            ExprKind::Str(_) => {
                self.err(
                    e.span,
                    "string literals are only allowed as attribute arguments",
                );
                (quote!(()), ETy::Unknown)
            }
            ExprKind::Path(p) => {
                if p.contains("::") {
                    match self.enum_const(p) {
                        Some(v) => {
                            let l = lit_u64(v);
                            (quote!(#l), ETy::Int)
                        }
                        None => {
                            self.err(e.span, format!("unknown enum constant `{p}`"));
                            (quote!(0u64), ETy::Unknown)
                        }
                    }
                } else if let Some(v) = sc.find(p) {
                    (v.tokens.clone(), ETy::Node(v.ty.clone(), v.is_ref))
                } else {
                    self.err(e.span, format!("unknown name `{p}`"));
                    (quote!(0u64), ETy::Unknown)
                }
            }
            ExprKind::Dollar(d) => self.dollar(d, e.span, sc),
            ExprKind::Member(base, m) => {
                if let ExprKind::Dollar(d) = &base.kind {
                    if d == "limit" {
                        return match self.limit(m) {
                            Some(l) => {
                                let n = ident(m);
                                let lim = match sc.mode {
                                    Mode::Parse { .. } => quote!(lim),
                                    Mode::Bind => quote!(lim),
                                };
                                (
                                    quote!(#lim.#n),
                                    if l.is_bool { ETy::Bool } else { ETy::Int },
                                )
                            }
                            None => {
                                self.err(
                                    e.span,
                                    format!(
                                        "unknown limit `{m}` (declare it in `limits {{ ... }}`)"
                                    ),
                                );
                                (quote!(0u64), ETy::Unknown)
                            }
                        };
                    }
                }
                let (bt, bty) = self.expr(base, sc);
                match bty {
                    ETy::Node(Ty::Unit(um, un), _) => {
                        let Some(fty) = self.w.field_ty(um, &un, m) else {
                            self.err(e.span, format!("unit `{un}` has no field `{m}`"));
                            return (quote!(0u64), ETy::Unknown);
                        };
                        let f = ident(m);
                        (quote!(#bt.#f), ETy::Node(fty, false))
                    }
                    ETy::Node(Ty::Bits(_, sname, _, members), _) => {
                        if members.iter().any(|(n, _, _)| n == m) {
                            let f = ident(m);
                            (quote!(#bt.#f()), ETy::Int)
                        } else {
                            self.err(e.span, format!("bit field `{sname}` has no member `{m}`"));
                            (quote!(0u64), ETy::Unknown)
                        }
                    }
                    ETy::Node(Ty::Option(_), _) => {
                        self.err(
                            e.span,
                            format!(
                                "`{}` is a conditional field; bind it with `x: {}` first",
                                base.text(),
                                base.text()
                            ),
                        );
                        (quote!(0u64), ETy::Unknown)
                    }
                    ETy::Node(Ty::Switch(..) | Ty::Union(..), _) => {
                        self.err(
                            e.span,
                            format!(
                                "`{}` is a switch; select an arm with a binder (`x: {}.{m}`)",
                                base.text(),
                                base.text()
                            ),
                        );
                        (quote!(0u64), ETy::Unknown)
                    }
                    ETy::Unknown => (quote!(0u64), ETy::Unknown),
                    other => {
                        self.err(e.span, format!("{} has no field `{m}`", ety_name(&other)));
                        (quote!(0u64), ETy::Unknown)
                    }
                }
            }
            ExprKind::Unary(UnOp::Not, a) => {
                let t = self.boolean(a, sc);
                (quote!((!#t)), ETy::Bool)
            }
            ExprKind::Unary(UnOp::Neg, _) => {
                self.err(
                    e.span,
                    "negation is not supported (expressions compute in unsigned 64 bits)",
                );
                (quote!(0u64), ETy::Unknown)
            }
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, e.span, sc),
            ExprKind::Call(f, args) => self.call(f, args, e.span, sc),
            ExprKind::ListComp { elem, var, src } => {
                if !matches!(sc.mode, Mode::Bind) {
                    self.err(
                        e.span,
                        "list comprehensions are only allowed in event bindings and records",
                    );
                    return (quote!(()), ETy::Unknown);
                }
                let Some((iter, elem_ty)) = self.binder_iter(src, sc) else {
                    return (quote!(()), ETy::Unknown);
                };
                let mut inner = sc.clone();
                let v = ident(var);
                inner.vars.push(Var {
                    name: var.clone(),
                    tokens: quote!(#v),
                    ty: elem_ty,
                    is_ref: true,
                });
                let (et, ety) = self.expr(elem, &inner);
                let Some(zt) = self.infer_z(&ety, elem.span) else {
                    return (quote!(()), ETy::Unknown);
                };
                let conv = self.convert_z(et, &ety, &zt, elem.span);
                (
                    quote!(#iter.map(|#v| #conv).collect::<::std::vec::Vec<_>>()),
                    ETy::Z(ZTy::Vec(Box::new(zt))),
                )
            }
        }
    }

    fn dollar(&mut self, d: &str, span: Span, sc: &Scope) -> (TokenStream, ETy) {
        let cur = &sc.cursor;
        match (&sc.mode, d) {
            (_, "$") => match &sc.dollar {
                Some(v) => (v.tokens.clone(), ETy::Node(v.ty.clone(), v.is_ref)),
                None => {
                    self.err(
                        span,
                        "`$$` is only defined in `&requires` and `&until` of a field",
                    );
                    (quote!(0u64), ETy::Unknown)
                }
            },
            (Mode::Parse { .. }, "offset") => (quote!((#cur.pos() as u64)), ETy::Int),
            (Mode::Parse { .. }, "remaining") => (quote!((#cur.remaining() as u64)), ETy::Int),
            (Mode::Parse { .. }, "eod") => (quote!(#cur.is_empty()), ETy::Bool),
            (Mode::Parse { .. }, "is_orig") => (quote!(cx.is_orig), ETy::Bool),
            (Mode::Parse { .. }, "resp_port") => (quote!(u64::from(cx.resp_port)), ETy::Int),
            (Mode::Bind, "conn" | "resp_port" | "is_orig") if sc.link => {
                self.err(
                    span,
                    format!("`${d}` is not available here: a link-layer PDU (`ethertype ... =>`) has no connection"),
                );
                (quote!(0u64), ETy::Unknown)
            }
            (Mode::Bind, "l2_src" | "l2_dst") if !sc.link => {
                self.err(
                    span,
                    format!("`${d}` is only available in events of a link-layer PDU (`ethertype ... =>`)"),
                );
                (quote!(0u64), ETy::Unknown)
            }
            (Mode::Bind, "l2_src") => (quote!(ecx.l2_src()), ETy::Node(Ty::Bytes, false)),
            (Mode::Bind, "l2_dst") => (quote!(ecx.l2_dst()), ETy::Node(Ty::Bytes, false)),
            (Mode::Bind, "conn") => (quote!(ecx.conn.record()), ETy::Z(ZTy::Conn)),
            (Mode::Bind, "is_orig") => (quote!(ecx.is_orig), ETy::Bool),
            (Mode::Bind, "halted") => (quote!(ecx.halted), ETy::Bool),
            (Mode::Bind, "pdu_len") => (quote!((ecx.pdu_len as u64)), ETy::Int),
            (Mode::Bind, "pdu") => (quote!(ecx.pdu.string(ecx.pdu.data())), ETy::Z(ZTy::Str)),
            (Mode::Bind, "resp_port") => (quote!(u64::from(ecx.conn.id().resp_p.number)), ETy::Int),
            (Mode::Bind, "ts") => (quote!(ecx.ts), ETy::Z(ZTy::Time)),
            (_, "limit") => {
                self.err(span, "`$limit` needs a limit name: `$limit.name`");
                (quote!(0u64), ETy::Unknown)
            }
            _ => {
                self.err(span, format!("`${d}` is not available here"));
                (quote!(0u64), ETy::Unknown)
            }
        }
    }

    fn binary(
        &mut self,
        op: BinOp,
        a: &Expr,
        b: &Expr,
        span: Span,
        sc: &Scope,
    ) -> (TokenStream, ETy) {
        match op {
            BinOp::Or | BinOp::And => {
                let x = self.boolean(a, sc);
                let y = self.boolean(b, sc);
                if op == BinOp::Or {
                    (quote!((#x || #y)), ETy::Bool)
                } else {
                    (quote!((#x && #y)), ETy::Bool)
                }
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                // Bytes compare with byte literals; everything else as u64 or bool.
                let (at, aty) = self.expr(a, sc);
                let (bt, bty) = self.expr(b, sc);
                let cmp = match op {
                    BinOp::Eq => quote!(==),
                    BinOp::Ne => quote!(!=),
                    BinOp::Lt => quote!(<),
                    BinOp::Le => quote!(<=),
                    BinOp::Gt => quote!(>),
                    _ => quote!(>=),
                };
                let is_bytes = |t: &ETy| matches!(t, ETy::Lit | ETy::Node(Ty::Bytes, _));
                let is_bool = |t: &ETy| matches!(t, ETy::Bool | ETy::Node(Ty::Bool, _));
                if is_bytes(&aty) && is_bytes(&bty) {
                    return (quote!((&#at[..] #cmp &#bt[..])), ETy::Bool);
                }
                if is_bool(&aty) && is_bool(&bty) {
                    let x = self.boolean(a, sc);
                    let y = self.boolean(b, sc);
                    return (quote!((#x #cmp #y)), ETy::Bool);
                }
                let _ = (at, bt);
                let x = self.int(a, sc);
                let y = self.int(b, sc);
                (quote!((#x #cmp #y)), ETy::Bool)
            }
            BinOp::BitOr | BinOp::BitAnd | BinOp::BitXor => {
                let x = self.int(a, sc);
                let y = self.int(b, sc);
                let o = match op {
                    BinOp::BitOr => quote!(|),
                    BinOp::BitAnd => quote!(&),
                    _ => quote!(^),
                };
                let _ = span;
                (quote!((#x #o #y)), ETy::Int)
            }
            _ => {
                let x = self.int(a, sc);
                let y = self.int(b, sc);
                (self.arith(op, x, y, sc), ETy::Int)
            }
        }
    }

    fn call(&mut self, f: &str, args: &[Expr], span: Span, sc: &Scope) -> (TokenStream, ETy) {
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
        match f {
            "len" => {
                if !arity(self, 1) {
                    return (quote!(0u64), ETy::Unknown);
                }
                let (t, ty) = self.expr(&args[0], sc);
                match ty {
                    ETy::Node(Ty::Bytes | Ty::Array(_), _) | ETy::Lit => {
                        (quote!((#t.len() as u64)), ETy::Int)
                    }
                    ETy::Unknown => (t, ETy::Unknown),
                    other => {
                        self.err(
                            args[0].span,
                            format!("`len` needs bytes or an array, found {}", ety_name(&other)),
                        );
                        (quote!(0u64), ETy::Unknown)
                    }
                }
            }
            "count" if matches!(sc.mode, Mode::Bind) => {
                if !arity(self, 1) {
                    return (quote!(0u64), ETy::Unknown);
                }
                let b = self.boolean(&args[0], sc);
                (quote!(u64::from(#b)), ETy::Int)
            }
            "seconds" if matches!(sc.mode, Mode::Bind) => {
                if !arity(self, 1) {
                    return (quote!(0u64), ETy::Unknown);
                }
                let x = self.int(&args[0], sc);
                (
                    quote!(::netpac_runtime::zeek::Interval(i64::try_from(#x).unwrap_or(i64::MAX).saturating_mul(1_000_000_000))),
                    ETy::Z(ZTy::Interval),
                )
            }
            "time" if matches!(sc.mode, Mode::Bind) => {
                if args.is_empty() || args.len() > 2 {
                    self.err(span, "`time` takes seconds and optionally milliseconds");
                    return (quote!(0u64), ETy::Unknown);
                }
                let s = self.int(&args[0], sc);
                let ms = if args.len() == 2 {
                    self.int(&args[1], sc)
                } else {
                    quote!(0u64)
                };
                (
                    quote!(::netpac_runtime::zeek::Time(
                        i64::try_from(#s).unwrap_or(i64::MAX).saturating_mul(1_000_000_000)
                            .saturating_add(i64::try_from(#ms).unwrap_or(i64::MAX).saturating_mul(1_000_000))
                    )),
                    ETy::Z(ZTy::Time),
                )
            }
            "mac" if matches!(sc.mode, Mode::Bind) => {
                if !arity(self, 1) {
                    return (quote!(0u64), ETy::Unknown);
                }
                let b = self.bytes_arg(&args[0], sc);
                (
                    quote!(::netpac_runtime::parse::mac_string(#b)),
                    ETy::Z(ZTy::Str),
                )
            }
            "bits" if matches!(sc.mode, Mode::Bind) => {
                if args.is_empty() || args.len() > 2 {
                    self.err(span, "`bits` takes bytes and optionally a bit count");
                    return (quote!(0u64), ETy::Unknown);
                }
                let b = self.bytes_arg(&args[0], sc);
                let n = if args.len() == 2 {
                    self.int(&args[1], sc)
                } else {
                    quote!(u64::MAX)
                };
                (
                    quote!(::netpac_runtime::parse::bits_lsb_first(#b, #n)),
                    ETy::Z(ZTy::Vec(Box::new(ZTy::Bool))),
                )
            }
            "format" if matches!(sc.mode, Mode::Bind) => self.format_call(args, span, sc),
            "string" if matches!(sc.mode, Mode::Bind) => {
                if !arity(self, 1) {
                    return (quote!(0u64), ETy::Unknown);
                }
                let (t, ty) = self.expr(&args[0], sc);
                (
                    self.convert_z(t, &ty, &ZTy::Str, args[0].span),
                    ETy::Z(ZTy::Str),
                )
            }
            _ => {
                if matches!(sc.mode, Mode::Bind) {
                    if let Some(r) = self.module().records.iter().find(|r| r.name == f) {
                        return self.record_call(r, args, span, sc);
                    }
                    if let Some(x) = self.module().extern_fns.iter().find(|x| x.name == f) {
                        return self.extern_call(x, args, span, sc);
                    }
                }
                self.err(span, format!("unknown function `{f}`"));
                (quote!(0u64), ETy::Unknown)
            }
        }
    }

    /// A `bytes` argument of a builtin, as a `&[u8]` expression.
    fn bytes_arg(&mut self, e: &Expr, sc: &Scope) -> TokenStream {
        let (t, ty) = self.expr(e, sc);
        match ty {
            ETy::Node(Ty::Bytes, true) => quote!((*#t)),
            ETy::Node(Ty::Bytes, false) | ETy::Lit => quote!(&#t[..]),
            ETy::Unknown => quote!(&[][..]),
            other => {
                self.err(
                    e.span,
                    format!("expected bytes, found {}", ety_name(&other)),
                );
                quote!(&[][..])
            }
        }
    }

    /// `format("text {} more {}", a, b)`: a Zeek string; `{}` takes integers (decimal) or strings.
    fn format_call(&mut self, args: &[Expr], span: Span, sc: &Scope) -> (TokenStream, ETy) {
        let Some(ExprKind::Str(text)) = args.first().map(|a| &a.kind) else {
            self.err(
                span,
                "`format` takes a string literal with `{}` placeholders, then one value per `{}`",
            );
            return (quote!(0u64), ETy::Unknown);
        };
        let holes = text.matches("{}").count();
        if text.replace("{}", "").contains(['{', '}']) {
            self.err(
                args[0].span,
                "`format` text may contain only `{}` placeholders, no other braces",
            );
            return (quote!(0u64), ETy::Unknown);
        }
        if holes != args.len() - 1 {
            self.err(
                span,
                format!(
                    "`format` text has {holes} placeholder(s) but {} value(s) follow",
                    args.len() - 1
                ),
            );
            return (quote!(0u64), ETy::Unknown);
        }
        let mut vals = Vec::new();
        for a in &args[1..] {
            let (t, ty) = self.expr(a, sc);
            let v = match ty {
                ETy::Z(ZTy::Str) => quote!(::std::string::String::from_utf8_lossy(#t.as_bytes())),
                ETy::Node(Ty::Bytes, _) | ETy::Lit => {
                    quote!(::std::string::String::from_utf8_lossy(&#t[..]))
                }
                _ => self.int(a, sc),
            };
            vals.push(v);
        }
        let l = Literal::string(text);
        (
            quote!(::netpac_runtime::zeek::ZString::new(
                ::std::format!(#l, #(#vals),*)
            )),
            ETy::Z(ZTy::Str),
        )
    }

    fn node_arg(&mut self, e: &Expr, want: &str, sc: &Scope) -> TokenStream {
        let (t, ty) = self.expr(e, sc);
        match ty {
            ETy::Node(n, is_ref) => {
                let ok = match (&n, self.w.lookup(self.m, want)) {
                    (Ty::Unit(m, u), Some(TypeDef::Unit(m2, u2))) => *m == m2 && *u == u2.name,
                    (Ty::Extern(m, u), Some(TypeDef::Extern(m2, u2))) => *m == m2 && *u == u2.name,
                    (Ty::Union(m, u), Some(TypeDef::Unit(m2, u2))) => *m == m2 && *u == u2.name,
                    _ => false,
                };
                if !ok {
                    self.err(e.span, format!("expected `{want}`, found {}", ty_name(&n)));
                }
                if is_ref {
                    t
                } else {
                    quote!(&#t)
                }
            }
            ETy::Unknown => quote!(()),
            other => {
                self.err(
                    e.span,
                    format!("expected `{want}`, found {}", ety_name(&other)),
                );
                quote!(())
            }
        }
    }

    fn record_call(
        &mut self,
        r: &RecordDecl,
        args: &[Expr],
        span: Span,
        sc: &Scope,
    ) -> (TokenStream, ETy) {
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
            return (quote!(()), ETy::Unknown);
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
        let mut a = Vec::new();
        for (p, e) in r.params.iter().zip(args) {
            a.push(self.node_arg(e, &p.ty, sc));
        }
        let f = format_ident!("build_{}", r.name.to_lowercase());
        (
            quote!(#f(#(#a,)* ecx, lim)),
            ETy::Z(ZTy::Record(r.name.clone())),
        )
    }

    fn extern_call(
        &mut self,
        x: &ExternFn,
        args: &[Expr],
        span: Span,
        sc: &Scope,
    ) -> (TokenStream, ETy) {
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
            return (quote!(()), ETy::Unknown);
        }
        let mut a = Vec::new();
        for (p, e) in x.params.iter().zip(args) {
            let t = match p.ty.as_str() {
                "count" => self.int(e, sc),
                "bool" => self.boolean(e, sc),
                "bytes" => {
                    let (t, ty) = self.expr(e, sc);
                    match ty {
                        ETy::Node(Ty::Bytes, _) => t,
                        _ => {
                            self.err(e.span, "expected bytes");
                            quote!(&[][..])
                        }
                    }
                }
                other => self.node_arg(e, other, sc),
            };
            a.push(t);
        }
        let path = path_tokens(&x.path);
        let ret = ZTy::parse(&x.ret);
        if let ZTy::Record(r) = &ret {
            if !self.module().records.iter().any(|d| &d.name == r) {
                self.err(x.ret_span, format!("unknown return type `{r}`"));
            }
        }
        (quote!(#path(&ecx.pdu, #(#a),*)), ETy::Z(ret))
    }

    /// The Zeek type an expression naturally has (record fields, comprehensions).
    fn infer_z(&mut self, ty: &ETy, span: Span) -> Option<ZTy> {
        Some(match ty {
            ETy::Int => ZTy::Count,
            ETy::Bool => ZTy::Bool,
            ETy::Z(z) => z.clone(),
            ETy::Lit => ZTy::Str,
            ETy::Node(n, _) => match n {
                Ty::Int { signed: false, .. } | Ty::Enum(..) => ZTy::Count,
                Ty::Int { signed: true, .. } => ZTy::Int,
                Ty::Bool => ZTy::Bool,
                Ty::Bytes => ZTy::Str,
                Ty::Ipv4 | Ty::Ipv6 => ZTy::Addr,
                Ty::Array(inner) => {
                    let z = self.infer_z(&ETy::Node((**inner).clone(), true), span)?;
                    ZTy::Vec(Box::new(z))
                }
                other => {
                    self.err(
                        span,
                        format!(
                            "{} has no Zeek value; convert it with a record or extern fn",
                            ty_name(other)
                        ),
                    );
                    return None;
                }
            },
            ETy::Unknown => return None,
        })
    }

    /// Converts a compiled expression to a value of Zeek type `want`.
    fn convert_z(&mut self, t: TokenStream, ty: &ETy, want: &ZTy, span: Span) -> TokenStream {
        let deref = |t: TokenStream, r: bool| if r { quote!((*#t)) } else { t };
        match (want, ty) {
            (_, ETy::Unknown) => t,
            (ZTy::Count, ETy::Int | ETy::Z(ZTy::Count)) => t,
            (ZTy::Count, ETy::Node(n, r)) if matches!(n, Ty::Int { .. } | Ty::Enum(..)) => {
                self.node_to_int(t, &n.clone(), *r, span)
            }
            (ZTy::Int, ETy::Int) => quote!((#t as i64)),
            (ZTy::Int, ETy::Node(Ty::Int { .. }, r)) => {
                let v = deref(t, *r);
                quote!(i64::from(#v))
            }
            (ZTy::Bool, ETy::Bool | ETy::Z(ZTy::Bool)) => t,
            (ZTy::Bool, ETy::Node(Ty::Bool, r)) => deref(t, *r),
            (ZTy::Str, ETy::Z(ZTy::Str)) => t,
            (ZTy::Str, ETy::Lit) => quote!(::netpac_runtime::zeek::ZString::copy_from(#t)),
            (ZTy::Str, ETy::Node(Ty::Bytes, r)) => {
                let v = deref(t, *r);
                quote!(ecx.pdu.string(#v))
            }
            (ZTy::Addr, ETy::Z(ZTy::Addr)) => t,
            (ZTy::Addr, ETy::Node(Ty::Ipv4 | Ty::Ipv6, r)) => {
                let v = deref(t, *r);
                quote!(::std::net::IpAddr::from(#v))
            }
            (ZTy::Vec(inner), ETy::Node(Ty::Array(el), r)) => {
                let v = deref(t, *r);
                let conv = self.convert_z(quote!(x), &ETy::Node((**el).clone(), true), inner, span);
                quote!(#v.iter().map(|x| #conv).collect::<::std::vec::Vec<_>>())
            }
            (w, ETy::Z(z)) if w == z => t,
            (w, other) => {
                self.err(
                    span,
                    format!("expected {}, found {}", w.name(), ety_name(other)),
                );
                t
            }
        }
    }

    fn zty_rust(&self, z: &ZTy) -> TokenStream {
        match z {
            ZTy::Count => quote!(u64),
            ZTy::Int => quote!(i64),
            ZTy::Bool => quote!(bool),
            ZTy::Str => quote!(::netpac_runtime::zeek::ZString),
            ZTy::Addr => quote!(::std::net::IpAddr),
            ZTy::Interval => quote!(::netpac_runtime::zeek::Interval),
            ZTy::Time => quote!(::netpac_runtime::zeek::Time),
            ZTy::Conn => quote!(::netpac_runtime::record::Connection),
            ZTy::Vec(t) => {
                let i = self.zty_rust(t);
                quote!(::std::vec::Vec<#i>)
            }
            ZTy::Record(r) => {
                let n = format_ident!("{}", camel(r));
                quote!(#n)
            }
        }
    }

    /// An iterator over the values a binder path selects (flattening arrays,
    /// skipping absent conditional fields and non-matching switch arms).
    fn binder_iter(&mut self, e: &Expr, sc: &Scope) -> Option<(TokenStream, Ty)> {
        if let ExprKind::Binary(BinOp::BitOr, a, b) = &e.kind {
            let (ia, ta) = self.binder_iter(a, sc)?;
            let (ib, tb) = self.binder_iter(b, sc)?;
            if ta != tb {
                self.err(
                    e.span,
                    format!(
                        "alternatives select different types: {} and {}",
                        ty_name(&ta),
                        ty_name(&tb)
                    ),
                );
                return None;
            }
            return Some((quote!(#ia.chain(#ib)), ta));
        }
        // Decompose into root variable + member segments.
        let mut segs = Vec::new();
        let mut cur = e;
        while let ExprKind::Member(base, m) = &cur.kind {
            segs.push((m.clone(), cur.span));
            cur = base;
        }
        segs.reverse();
        let ExprKind::Path(root) = &cur.kind else {
            self.err(
                e.span,
                "a binder selects a path from an earlier binder, e.g. `q: m.question`",
            );
            return None;
        };
        let Some(var) = sc.find(root).cloned() else {
            self.err(cur.span, format!("unknown name `{root}`"));
            return None;
        };
        let vt = &var.tokens;
        let mut iter = if var.is_ref {
            quote!(::std::iter::once(#vt))
        } else {
            quote!(::std::iter::once(&#vt))
        };
        let mut ty = var.ty.clone();
        let flatten = |iter: &mut TokenStream, ty: &mut Ty| {
            while let Ty::Array(inner) = ty.clone() {
                *iter = quote!(#iter.flat_map(|x| x.iter()));
                *ty = *inner;
            }
        };
        flatten(&mut iter, &mut ty);
        for (seg, span) in segs {
            match ty.clone() {
                Ty::Unit(um, un) => {
                    let Some(ft) = self.w.field_ty(um, &un, &seg) else {
                        self.err(span, format!("unit `{un}` has no field `{seg}`"));
                        return None;
                    };
                    let f = ident(&seg);
                    match ft {
                        Ty::Option(inner) => {
                            iter = quote!(#iter.filter_map(|x| x.#f.as_ref()));
                            ty = *inner;
                        }
                        other => {
                            iter = quote!(#iter.map(|x| &x.#f));
                            ty = other;
                        }
                    }
                }
                t @ (Ty::Switch(..) | Ty::Union(..)) => {
                    let (sw, om, ename) = self.w.switch_of(&t)?;
                    let owner_unit = match &t {
                        Ty::Switch(_, u, _) => u.clone(),
                        Ty::Union(_, u) => u.clone(),
                        _ => unreachable!(),
                    };
                    let Some(arm) = sw
                        .arms
                        .iter()
                        .filter_map(|a| a.body.as_ref())
                        .find(|a| a.name == seg)
                    else {
                        self.err(span, format!("switch `{ename}` has no arm named `{seg}`"));
                        return None;
                    };
                    let at = self.w.arm_ty(om, &owner_unit, arm)?;
                    let en = self.qual_name(om, &ename);
                    let v = format_ident!("{}", camel(&seg));
                    iter =
                        quote!(#iter.filter_map(|x| match x { #en::#v(v) => Some(v), _ => None }));
                    ty = at;
                }
                other => {
                    self.err(
                        span,
                        format!("cannot select `{seg}` from {}", ty_name(&other)),
                    );
                    return None;
                }
            }
            flatten(&mut iter, &mut ty);
        }
        Some((iter, ty))
    }

    fn qual_name(&self, m: usize, name: &str) -> TokenStream {
        let n = format_ident!("{}", name);
        if m == self.m {
            quote!(#n)
        } else {
            let mn = format_ident!("{}", self.w.modules[m].name);
            quote!(super::#mn::#n)
        }
    }
}

/// The first connection builtin (`$conn`, `$resp_port`, `$is_orig`) an expression uses.
fn uses_conn(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Dollar(d) if matches!(d.as_str(), "conn" | "resp_port" | "is_orig") => {
            Some(d.clone())
        }
        ExprKind::Member(b, _) | ExprKind::Unary(_, b) => uses_conn(b),
        ExprKind::Binary(_, a, b) => uses_conn(a).or_else(|| uses_conn(b)),
        ExprKind::Call(_, args) => args.iter().find_map(uses_conn),
        ExprKind::ListComp { elem, src, .. } => uses_conn(elem).or_else(|| uses_conn(src)),
        _ => None,
    }
}

pub fn ty_name(t: &Ty) -> String {
    match t {
        Ty::Int { bits, signed } => format!("{}{}", if *signed { "i" } else { "u" }, bits),
        Ty::Bool => "bool".into(),
        Ty::Bytes => "bytes".into(),
        Ty::Ipv4 => "ipv4".into(),
        Ty::Ipv6 => "ipv6".into(),
        Ty::Enum(_, n) => format!("enum `{n}`"),
        Ty::Bits(_, n, ..) => format!("bit field `{n}`"),
        Ty::Unit(_, n) => format!("unit `{n}`"),
        Ty::Union(_, n) => format!("switch unit `{n}`"),
        Ty::Extern(_, n) => format!("extern unit `{n}`"),
        Ty::Switch(_, u, f) => format!("switch `{u}.{f}`"),
        Ty::Array(t) => format!("array of {}", ty_name(t)),
        Ty::Option(t) => format!("optional {}", ty_name(t)),
    }
}

fn ety_name(t: &ETy) -> String {
    match t {
        ETy::Int => "an integer".into(),
        ETy::Bool => "a boolean".into(),
        ETy::Z(z) => format!("a value of type {}", z.name()),
        ETy::Node(n, _) => ty_name(n),
        ETy::Lit => "a bytes literal".into(),
        ETy::Unknown => "an unknown value".into(),
    }
}

mod bind;
mod units;
