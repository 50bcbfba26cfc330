//! Teredo: entirely `grammars/teredo.npac` and `grammars/teredo.evt`, a tunnel
//! analyzer (`=> tunnel Packet`) whose inner IPv6 packets the engine analyses.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_teredo.rs"));
}
pub use generated::teredo::*;
