//! QUIC: the packets, the frames of decrypted Initials and the hand-off of their
//! TLS handshake to an SSL child analyzer are `grammars/quic.npac` and
//! `grammars/quic.evt`; what a grammar cannot say is here: Initial packet
//! protection (`crypto.rs`, RustCrypto's AES-GCM and HKDF) and `quic.log`
//! (`log.rs`), built from the QUIC::* events and the SSL events of the child.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_quic.rs"));
}
pub use generated::quic::*;
pub mod crypto;
pub mod log;
