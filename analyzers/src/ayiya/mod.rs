//! AYIYA: entirely `grammars/ayiya.npac` and `grammars/ayiya.evt`, a tunnel
//! analyzer (`=> tunnel Packet`) without events of its own.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_ayiya.rs"));
}
pub use generated::ayiya::*;
