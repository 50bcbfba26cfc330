//! Emitter: lowers one checked module ([`crate::ir`]) to Rust tokens.
//!
//! The IR is valid by construction, so nothing here reports a diagnostic; an
//! IR node the check pass never builds for a valid grammar is an internal
//! error (`unreachable!`).

use crate::ident::path_tokens;
use crate::ir::{self, TypeTable};
use crate::types::Ty;
use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

mod analyzers;
mod bind;
mod exprs;
mod fields;
mod state;
mod tunnels;
mod units;

/// Where generated expressions are evaluated.
#[derive(Clone)]
enum Cx {
    /// Inside a parse function: `at` names the unit in arithmetic errors, `cur` is the cursor in scope.
    Parse { at: String, cur: Ident },
    /// Inside an event binding or record constructor.
    Bind,
}

impl Cx {
    fn cursor(&self) -> Ident {
        match self {
            Cx::Parse { cur, .. } => cur.clone(),
            Cx::Bind => format_ident!("cur"),
        }
    }

    fn with_cursor(&self, cur: Ident) -> Cx {
        match self {
            Cx::Parse { at, .. } => Cx::Parse {
                at: at.clone(),
                cur,
            },
            Cx::Bind => Cx::Bind,
        }
    }
}

fn lit_u64(v: u64) -> Literal {
    Literal::u64_suffixed(v)
}

/// Lowers one module of the program to `pub mod <name> { ... }`.
pub fn module_tokens(types: &TypeTable, module: &ir::Module) -> TokenStream {
    let mut em = Emitter {
        types,
        module,
        cursor_n: 0,
        in_frame: false,
    };
    let enums = em.gen_enums();
    let limits = em.gen_limits();
    let units = em.gen_units();
    let records = em.gen_records();
    let event_structs = em.gen_event_structs();
    let bindings = em.gen_bindings();
    let analyzers = em.gen_analyzers();
    let names = module.events.iter().map(|e| &e.name);
    let mname = format_ident!("{}", module.name);
    let imports = module.imports.iter().map(|n| {
        let i = format_ident!("{}", n);
        quote!(#[allow(unused_imports)] use super::#i::*;)
    });
    quote! {
        #[allow(non_snake_case, non_camel_case_types, dead_code, unused_parens, clippy::all)]
        pub mod #mname {
            #(#imports)*
            #enums
            #limits
            #units
            #records
            #event_structs
            #bindings
            #analyzers
            /// Events this grammar raises.
            pub const EVENT_NAMES: &[&str] = &[#(#names),*];
        }
    }
}

struct Emitter<'p> {
    types: &'p TypeTable,
    module: &'p ir::Module,
    /// Numbers the cursors of nested windows (`w1`, `w2`, ...) within a unit.
    cursor_n: u32,
    /// Emitting a `frame_len`: a look-ahead past the bytes at hand means "more
    /// bytes are needed", not 0.
    in_frame: bool,
}

impl Emitter<'_> {
    /// A type of module `m`, as named from this module.
    fn qual_name(&self, m: usize, name: &str) -> TokenStream {
        let n = format_ident!("{}", name);
        if m == self.module.index {
            quote!(#n)
        } else {
            let mn = format_ident!("{}", self.types.module_names[m]);
            quote!(super::#mn::#n)
        }
    }

    /// Rust type of a grammar value. Types of other modules are reached through `super::`.
    fn rust_ty(&self, ty: &Ty) -> TokenStream {
        let with_lt = |q: TokenStream| {
            if self.types.needs_lt(ty) {
                quote!(#q<'a>)
            } else {
                q
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
            Ty::Enum(m, n) | Ty::Bits(m, n, ..) => self.qual_name(*m, n),
            Ty::Unit(m, n) | Ty::Union(m, n) => with_lt(self.qual_name(*m, n)),
            Ty::Extern(m, n) => {
                let path = match self.types.extern_paths.get(&(*m, n.clone())) {
                    Some(p) => path_tokens(p),
                    None => unreachable!("extern unit `{n}` was resolved by the check pass"),
                };
                quote!(#path<'a>)
            }
            Ty::Switch(m, u, f) => {
                with_lt(self.qual_name(*m, &crate::ident::inner_type_name(u, f)))
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

    /// The stored type of a field or arm: boxed if it closes a cycle of units.
    fn stored_ty(&self, ty: &Ty, boxed: bool) -> TokenStream {
        match (ty, boxed) {
            (_, false) => self.rust_ty(ty),
            (Ty::Option(t), true) => {
                let i = self.rust_ty(t);
                quote!(::std::option::Option<::std::boxed::Box<#i>>)
            }
            (t, true) => {
                let i = self.rust_ty(t);
                quote!(::std::boxed::Box<#i>)
            }
        }
    }
}
