//! Name resolution and the types of grammar values (shared by the checker
//! and the emitter).

use crate::ast::*;
use crate::ident::inner_type_name;
use std::collections::{HashMap, HashSet};

/// The type of a parsed value.
#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    Int {
        bits: u8,
        signed: bool,
    },
    Bool,
    Bytes,
    Ipv4,
    Ipv6,
    /// Open enum (module index, name).
    Enum(usize, String),
    /// Bit field struct: module, Rust struct name, storage width, members.
    Bits(usize, String, u8, Vec<(String, u8, u8)>),
    Unit(usize, String),
    /// `unit X = switch (...) {...}`.
    Union(usize, String),
    Extern(usize, String),
    /// A `switch` field: module, unit, field.
    Switch(usize, String, String),
    Array(Box<Ty>),
    Option(Box<Ty>),
}

/// A named type declaration.
#[derive(Clone, Copy)]
pub enum TypeDef<'w> {
    Unit(usize, &'w Unit),
    Enum(usize, &'w EnumDecl),
    Extern(usize, &'w ExternUnit),
}

/// Integer type names: `u8 .. u64`, `i8 .. i64`, `u24`, with optional `le`/`be`.
pub fn builtin_int(name: &str) -> Option<(u8, bool, Option<Order>)> {
    let (base, order) = if let Some(b) = name.strip_suffix("le") {
        (b, Some(Order::Little))
    } else if let Some(b) = name.strip_suffix("be") {
        (b, Some(Order::Big))
    } else {
        (name, None)
    };
    let (signed, bits) = match base {
        "u8" => (false, 8),
        "u16" => (false, 16),
        "u24" => (false, 24),
        "u32" => (false, 32),
        "u64" => (false, 64),
        "i8" => (true, 8),
        "i16" => (true, 16),
        "i32" => (true, 32),
        "i64" => (true, 64),
        _ => return None,
    };
    Some((bits, signed, order))
}

/// All modules, with lookups.
pub struct World<'w> {
    pub modules: &'w [Module],
    lifetimes: HashMap<(usize, String), bool>,
}

impl<'w> World<'w> {
    pub fn new(modules: &'w [Module]) -> World<'w> {
        let mut w = World {
            modules,
            lifetimes: HashMap::new(),
        };
        w.compute_lifetimes();
        w
    }

    /// Every type (module, Rust type name) that borrows the input.
    pub fn borrowing(&self) -> HashSet<(usize, String)> {
        self.lifetimes
            .iter()
            .filter(|(_, borrows)| **borrows)
            .map(|(key, _)| key.clone())
            .collect()
    }

    pub fn module_index(&self, name: &str) -> Option<usize> {
        self.modules.iter().position(|m| m.name == name)
    }

    fn lookup_in(&self, m: usize, name: &str) -> Option<TypeDef<'w>> {
        let module = &self.modules[m];
        if let Some(u) = module.units.iter().find(|u| u.name == name) {
            return Some(TypeDef::Unit(m, u));
        }
        if let Some(e) = module.enums.iter().find(|e| e.name == name) {
            return Some(TypeDef::Enum(m, e));
        }
        if let Some(x) = module.extern_units.iter().find(|x| x.name == name) {
            return Some(TypeDef::Extern(m, x));
        }
        None
    }

    /// Resolves a type name in module `m` (its own declarations, then imports).
    pub fn lookup(&self, m: usize, name: &str) -> Option<TypeDef<'w>> {
        if let Some(d) = self.lookup_in(m, name) {
            return Some(d);
        }
        for (imp, _) in &self.modules[m].imports {
            if let Some(i) = self.module_index(imp) {
                if let Some(d) = self.lookup_in(i, name) {
                    return Some(d);
                }
            }
        }
        None
    }

    pub fn unit(&self, m: usize, name: &str) -> Option<&'w Unit> {
        self.modules[m].units.iter().find(|u| u.name == name)
    }

    pub fn enum_decl(&self, m: usize, name: &str) -> Option<&'w EnumDecl> {
        self.modules[m].enums.iter().find(|e| e.name == name)
    }

    /// The type of a unit parameter: a scalar, or `bytes` (a line unit's bytes state).
    pub fn param_named(&self, m: usize, name: &str) -> Option<Ty> {
        if name == "bytes" {
            return Some(Ty::Bytes);
        }
        self.scalar_named(m, name)
    }

    /// The type named by a parameter or enum base (`u8`, `bool`, an enum).
    pub fn scalar_named(&self, m: usize, name: &str) -> Option<Ty> {
        if let Some((bits, signed, _)) = builtin_int(name) {
            return Some(Ty::Int { bits, signed });
        }
        match name {
            "bool" => return Some(Ty::Bool),
            "count" => {
                return Some(Ty::Int {
                    bits: 64,
                    signed: false,
                })
            }
            _ => {}
        }
        match self.lookup(m, name)? {
            TypeDef::Enum(mi, e) => Some(Ty::Enum(mi, e.name.clone())),
            _ => None,
        }
    }

    /// The type of a type spec (without arrays/conditions applied by the field).
    pub fn spec_ty(&self, m: usize, unit: &str, field: &str, ts: &TypeSpec) -> Option<Ty> {
        let base = match ts {
            TypeSpec::Skip { .. } => return None,
            TypeSpec::Bits { width, members } => Ty::Bits(
                m,
                inner_type_name(unit, field),
                *width,
                members
                    .iter()
                    .map(|b| (b.name.clone(), b.lo, b.hi))
                    .collect(),
            ),
            TypeSpec::Switch(_) => Ty::Switch(m, unit.to_string(), field.to_string()),
            TypeSpec::Simple { name, array, .. } => {
                let t = match name.as_str() {
                    "bytes" => Ty::Bytes,
                    "ipv4" => Ty::Ipv4,
                    "ipv6" => Ty::Ipv6,
                    "bool" => Ty::Bool,
                    n => {
                        if let Some((bits, signed, _)) = builtin_int(n) {
                            Ty::Int { bits, signed }
                        } else {
                            match self.lookup(m, n)? {
                                TypeDef::Unit(mi, u) => match u.body {
                                    UnitBody::Fields(_) => Ty::Unit(mi, u.name.clone()),
                                    UnitBody::Switch(_) => Ty::Union(mi, u.name.clone()),
                                },
                                TypeDef::Enum(mi, e) => Ty::Enum(mi, e.name.clone()),
                                TypeDef::Extern(mi, x) => Ty::Extern(mi, x.name.clone()),
                            }
                        }
                    }
                };
                if array.is_some() {
                    Ty::Array(Box::new(t))
                } else {
                    t
                }
            }
        };
        Some(base)
    }

    /// The stored type of field `field` of record unit `unit` in module `m`.
    pub fn field_ty(&self, m: usize, unit: &str, field: &str) -> Option<Ty> {
        let u = self.unit(m, unit)?;
        if let Some(p) = u.params.iter().find(|p| p.name == field) {
            return self.scalar_named(m, &p.ty);
        }
        let UnitBody::Fields(fields) = &u.body else {
            return None;
        };
        let f = fields.iter().find(|f| f.name == field && f.name != "_")?;
        match &f.kind {
            FieldKind::Let { ty, expr } => match ty {
                Some((t, _)) if t == "bytes" => Some(Ty::Bytes),
                Some((t, _)) => self.scalar_named(m, t),
                None => Some(self.let_infer(expr)),
            },
            FieldKind::Typed(ts) => {
                let t = self.spec_ty(m, unit, field, ts)?;
                // Conditional and `&recover` fields may be absent.
                Some(
                    if f.cond.is_some() || f.attrs.iter().any(|a| a.name == "recover") {
                        Ty::Option(Box::new(t))
                    } else {
                        t
                    },
                )
            }
        }
    }

    /// `let` without a type: bool for comparisons and logic, else u64.
    pub fn let_infer(&self, e: &Expr) -> Ty {
        match &e.kind {
            ExprKind::Bool(_) | ExprKind::Unary(UnOp::Not, _) => Ty::Bool,
            ExprKind::Binary(
                BinOp::Or
                | BinOp::And
                | BinOp::Eq
                | BinOp::Ne
                | BinOp::Lt
                | BinOp::Le
                | BinOp::Gt
                | BinOp::Ge,
                _,
                _,
            ) => Ty::Bool,
            _ => Ty::Int {
                bits: 64,
                signed: false,
            },
        }
    }

    /// The arms of a switch type: (variant name, arm).
    pub fn switch_of(&self, ty: &Ty) -> Option<(&'w Switch, usize, String)> {
        match ty {
            Ty::Switch(m, unit, field) => {
                let u = self.unit(*m, unit)?;
                let UnitBody::Fields(fields) = &u.body else {
                    return None;
                };
                let f = fields.iter().find(|f| &f.name == field)?;
                match &f.kind {
                    FieldKind::Typed(TypeSpec::Switch(s)) => {
                        Some((s, *m, inner_type_name(unit, field)))
                    }
                    _ => None,
                }
            }
            Ty::Union(m, unit) => {
                let u = self.unit(*m, unit)?;
                match &u.body {
                    UnitBody::Switch(s) => Some((s, *m, unit.clone())),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The type of a switch arm's value.
    pub fn arm_ty(&self, owner_m: usize, owner_unit: &str, arm: &ArmField) -> Option<Ty> {
        self.spec_ty(owner_m, owner_unit, &arm.name, &arm.ty)
    }

    /// Whether values of `ty` borrow the input (need a lifetime).
    pub fn needs_lt(&self, ty: &Ty) -> bool {
        match ty {
            Ty::Bytes | Ty::Extern(..) => true,
            Ty::Unit(m, n) | Ty::Union(m, n) => self
                .lifetimes
                .get(&(*m, n.clone()))
                .copied()
                .unwrap_or(false),
            Ty::Switch(m, u, f) => self
                .lifetimes
                .get(&(*m, inner_type_name(u, f)))
                .copied()
                .unwrap_or(false),
            Ty::Array(t) | Ty::Option(t) => self.needs_lt(t),
            _ => false,
        }
    }

    fn compute_lifetimes(&mut self) {
        // Fixpoint: a unit borrows if any stored field (or switch arm) borrows.
        let mut changed = true;
        let mut guard = 0;
        while changed && guard < 1000 {
            changed = false;
            guard += 1;
            for (mi, module) in self.modules.iter().enumerate() {
                for u in &module.units {
                    // A `bytes` parameter is kept in the unit like a field.
                    let mut uses = u.params.iter().any(|p| p.ty == "bytes");
                    match &u.body {
                        UnitBody::Fields(fields) => {
                            for f in fields {
                                if f.name == "_" {
                                    continue;
                                }
                                // `let x: bytes = ...` keeps a slice of the input.
                                if matches!(&f.kind, FieldKind::Let { ty: Some((t, _)), .. } if t == "bytes")
                                {
                                    uses = true;
                                }
                                if let FieldKind::Typed(ts) = &f.kind {
                                    if let TypeSpec::Switch(s) = ts {
                                        let key = (mi, inner_type_name(&u.name, &f.name));
                                        let arms = self.arms_borrow(mi, &u.name, s);
                                        if arms
                                            && !self.lifetimes.get(&key).copied().unwrap_or(false)
                                        {
                                            self.lifetimes.insert(key, true);
                                            changed = true;
                                        }
                                        uses |= arms;
                                    } else if let Some(t) = self.spec_ty(mi, &u.name, &f.name, ts) {
                                        uses |= self.needs_lt(&t);
                                    }
                                }
                            }
                        }
                        UnitBody::Switch(s) => uses = self.arms_borrow(mi, &u.name, s),
                    }
                    let key = (mi, u.name.clone());
                    if uses && !self.lifetimes.get(&key).copied().unwrap_or(false) {
                        self.lifetimes.insert(key, true);
                        changed = true;
                    }
                }
            }
        }
    }

    fn arms_borrow(&self, m: usize, unit: &str, s: &Switch) -> bool {
        s.arms
            .iter()
            .filter_map(|a| a.body.as_ref())
            .any(|a| self.arm_ty(m, unit, a).is_some_and(|t| self.needs_lt(&t)))
    }
}

/// Names every module declares at top level (for duplicate checks).
pub fn declared_names(m: &Module) -> HashSet<&str> {
    let mut s = HashSet::new();
    for u in &m.units {
        s.insert(u.name.as_str());
    }
    for e in &m.enums {
        s.insert(e.name.as_str());
    }
    for x in &m.extern_units {
        s.insert(x.name.as_str());
    }
    s
}

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
    /// A port with its transport (`53/udp`).
    Port,
    Interval,
    Time,
    Conn,
    /// An address and port an extern fn found in a payload, if any
    /// (`Option<netpac_runtime::expected::Endpoint>`): what `expect ... to` takes.
    Endpoint,
    Vec(Box<ZTy>),
    /// A Zeek set: a vector without duplicates (first occurrence kept, in order).
    Set(Box<ZTy>),
    Record(String),
    /// `table[K] of V` (a table comprehension groups values by key).
    Table(Box<ZTy>, Box<ZTy>),
    /// A record field that may be unset (`&optional` in Zeek): `first(...)` / `last(...)`
    /// of a list comprehension that selects nothing.
    Opt(Box<ZTy>),
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
            "port" => ZTy::Port,
            "interval" => ZTy::Interval,
            "time" => ZTy::Time,
            "connection" => ZTy::Conn,
            "endpoint" => ZTy::Endpoint,
            "string_vec" => ZTy::Vec(Box::new(ZTy::Str)),
            "index_vec" => ZTy::Vec(Box::new(ZTy::Count)),
            // Zeek's vector type aliases (init-bare.zeek).
            "ModbusCoils" => ZTy::Vec(Box::new(ZTy::Bool)),
            "ModbusRegisters" => ZTy::Vec(Box::new(ZTy::Count)),
            "KRB::Ticket_Vector" => ZTy::Vec(Box::new(ZTy::Record("KRB::Ticket".into()))),
            "signature_and_hashalgorithm_vec" => {
                ZTy::Vec(Box::new(ZTy::Record("SSL::SignatureAndHashAlgorithm".into())))
            }
            // Zeek's set type aliases (init-bare.zeek).
            "string_set" => ZTy::Set(Box::new(ZTy::Str)),
            "irc_join_list" => ZTy::Set(Box::new(ZTy::Record("irc_join_info".into()))),
            // The BitTorrent tracker's (init-bare.zeek).
            "bittorrent_peer_set" => ZTy::Set(Box::new(ZTy::Record("bittorrent_peer".into()))),
            "bittorrent_benc_dir" => ZTy::Table(Box::new(ZTy::Str), Box::new(ZTy::Record("bittorrent_benc_value".into()))),
            "bt_tracker_headers" => ZTy::Table(Box::new(ZTy::Str), Box::new(ZTy::Str)),
            _ => {
                if let Some(inner) = s.strip_prefix("vector of ") {
                    ZTy::Vec(Box::new(ZTy::parse(inner)))
                } else if let Some(inner) = s.strip_prefix("set[").and_then(|x| x.strip_suffix(']'))
                {
                    ZTy::Set(Box::new(ZTy::parse(inner)))
                } else {
                    ZTy::Record(s.to_string())
                }
            }
        }
    }

    /// The name Zeek scripts use.
    pub fn name(&self) -> String {
        match self {
            ZTy::Count => "count".into(),
            ZTy::Int => "int".into(),
            ZTy::Bool => "bool".into(),
            ZTy::Str => "string".into(),
            ZTy::Addr => "addr".into(),
            ZTy::Port => "port".into(),
            ZTy::Interval => "interval".into(),
            ZTy::Time => "time".into(),
            ZTy::Conn => "connection".into(),
            ZTy::Endpoint => "endpoint".into(),
            ZTy::Vec(t) => format!("vector of {}", t.name()),
            ZTy::Set(t) => format!("set[{}]", t.name()),
            ZTy::Record(r) => r.clone(),
            ZTy::Opt(t) => format!("{} &optional", t.name()),
            ZTy::Table(k, v) => format!("table[{}] of {}", k.name(), v.name()),
        }
    }

    /// The record this type is or holds (`dns_msg`, `irc_join_list`'s `irc_join_info`).
    pub fn record(&self) -> Option<&str> {
        match self {
            ZTy::Record(r) => Some(r),
            ZTy::Vec(t) | ZTy::Set(t) | ZTy::Table(_, t) => t.record(),
            _ => None,
        }
    }
}

/// The Rust struct of a Zeek record: `DHCP::Msg` → `DHCPMsg`, `dns_msg` → `DnsMsg`.
pub fn record_rust_name(r: &str) -> String {
    r.split("::").map(crate::ident::camel).collect()
}

/// The function building a record: `DHCP::Msg` → `build_dhcp_msg`.
pub fn record_builder_name(r: &str) -> String {
    format!("build_{}", r.to_lowercase().replace("::", "_"))
}
