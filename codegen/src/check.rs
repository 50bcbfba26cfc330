//! The check pass: every diagnostic of a grammar comes from here. It resolves
//! names and types over the parsed modules and builds the typed IR
//! ([`crate::ir`]) that the emitter lowers without further checks.
//!
//! The checks run in the order the generated items appear (enums, units,
//! records, events, bindings, analyzers), so diagnostics keep a stable order.

use crate::ast::{self, Order};
use crate::diag::{Diagnostic, Span};
use crate::ir::{self, ExprTy, VarRef};
use crate::types::{EventSig, Ty, World, ZTy};
use std::collections::HashMap;

mod analyzers;
mod attrs;
mod calls;
mod events;
mod exprs;
mod fields;
mod graph;
mod lines;
mod names;
mod state;
mod text;
mod tunnels;
mod units;

pub use graph::Boxed;

/// Checks parsed modules; on success returns the program's IR, else every diagnostic.
pub fn check(
    modules: &[ast::Module],
    events: &HashMap<String, EventSig>,
) -> Result<ir::Program, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    names::check_names(modules, &mut diags);
    if !diags.is_empty() {
        return Err(diags);
    }
    let world = World::new(modules);
    let boxed = graph::boxed_edges(&world);
    let mut out = Vec::new();
    for mi in 0..modules.len() {
        let mut ck = Checker::new(&world, mi, events, &boxed);
        let module = ck.module_ir();
        diags.append(&mut ck.diags);
        out.push(module);
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    let types = ir::TypeTable {
        module_names: modules.iter().map(|m| m.name.clone()).collect(),
        borrowing: world.borrowing(),
        extern_paths: modules
            .iter()
            .enumerate()
            .flat_map(|(mi, m)| {
                m.extern_units
                    .iter()
                    .map(move |x| ((mi, x.name.clone()), x.path.clone()))
            })
            .collect(),
    };
    Ok(ir::Program {
        types,
        modules: out,
    })
}

/// Where an expression is evaluated.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Inside a unit's parse function (may fail, has a cursor).
    Parse,
    /// Inside an event binding or record constructor (cannot fail).
    Bind,
}

#[derive(Clone)]
struct Var {
    name: String,
    var: VarRef,
    ty: Ty,
    is_ref: bool,
}

impl Var {
    fn named(name: &str, ty: Ty, is_ref: bool) -> Var {
        Var {
            name: name.to_string(),
            var: VarRef::Named(name.to_string()),
            ty,
            is_ref,
        }
    }

    fn expr(&self) -> ir::Expr {
        ir::Expr {
            kind: ir::ExprKind::Var(self.var.clone()),
            ty: ExprTy::Node(self.ty.clone(), self.is_ref),
        }
    }
}

/// The names an expression can see.
#[derive(Clone)]
struct Scope {
    mode: Mode,
    vars: Vec<Var>,
    /// `$$`.
    dollar: Option<Var>,
    /// Bindings of a link-layer PDU (`ethertype ... => Unit`): no connection, but `$l2_src`/`$l2_dst`.
    link: bool,
    /// The arguments of an array's element type: `$index` is the element's position.
    array_element: bool,
}

impl Scope {
    fn new(mode: Mode) -> Scope {
        Scope {
            mode,
            vars: Vec::new(),
            dollar: None,
            link: false,
            array_element: false,
        }
    }

    fn find(&self, n: &str) -> Option<&Var> {
        self.vars.iter().rev().find(|v| v.name == n)
    }
}

/// Checks one module of the world.
struct Checker<'w> {
    w: &'w World<'w>,
    m: usize,
    events: &'w HashMap<String, EventSig>,
    boxed: &'w Boxed,
    diags: Vec<Diagnostic>,
    /// Set while checking the value of a `feed` or `forward`, the one place an extern fn
    /// returning `bytes` (which may fail) is allowed.
    fallible_bytes_ok: bool,
}

impl<'w> Checker<'w> {
    fn new(
        w: &'w World<'w>,
        m: usize,
        events: &'w HashMap<String, EventSig>,
        boxed: &'w Boxed,
    ) -> Checker<'w> {
        Checker {
            w,
            m,
            events,
            boxed,
            diags: Vec::new(),
            fallible_bytes_ok: false,
        }
    }

    fn err(&mut self, span: Span, msg: impl Into<String>) {
        self.diags.push(Diagnostic::new(span, msg));
    }

    fn module(&self) -> &'w ast::Module {
        &self.w.modules[self.m]
    }

    /// The module's default byte order.
    fn order(&self) -> Order {
        self.module().byteorder.unwrap_or(Order::Big)
    }

    fn module_ir(&mut self) -> ir::Module {
        let m = self.module();
        let enums = self.check_enums();
        let limits = self.limits();
        let units = self.check_units();
        let records = self.check_records();
        let events = self.check_event_structs();
        let bindings = self.check_bindings();
        let analyzers = self.check_analyzers();
        let max_pdu = m
            .limits
            .iter()
            .find(|l| l.name == "max_pdu")
            .and_then(|l| match l.value {
                ast::LimitValue::Int(v) => usize::try_from(v).ok(),
                _ => None,
            })
            .unwrap_or(1 << 24);
        let grammar_max_line = m.limits.iter().any(|l| l.name == "max_line");
        ir::Module {
            index: self.m,
            name: m.name.clone(),
            files: m.files.clone(),
            imports: m.imports.iter().map(|(n, _)| n.clone()).collect(),
            enums,
            limits,
            units,
            records,
            events,
            bindings,
            analyzers,
            max_pdu,
            grammar_max_line,
        }
    }
}

/// How a grammar type is named in messages.
fn ty_name(t: &Ty) -> String {
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

/// How an expression's type is named in messages.
fn expr_ty_name(t: &ExprTy) -> String {
    match t {
        ExprTy::Int => "an integer".into(),
        ExprTy::Bool => "a boolean".into(),
        ExprTy::Zeek(z) => format!("a value of type {}", z.name()),
        ExprTy::Node(n, _) => ty_name(n),
        ExprTy::BytesLit => "a bytes literal".into(),
        ExprTy::Unknown => "an unknown value".into(),
    }
}

/// The type of a `u64` computed value.
const U64: Ty = Ty::Int {
    bits: 64,
    signed: false,
};
