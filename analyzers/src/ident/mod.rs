//! Ident: entirely `grammars/ident.npac` and `grammars/ident.evt`.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_ident.rs"));
}
pub use generated::ident::*;
