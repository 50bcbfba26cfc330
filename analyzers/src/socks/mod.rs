//! SOCKS: entirely `grammars/socks.npac` and `grammars/socks.evt` (the messages,
//! the SOCKS 5 negotiation state and the hand-off to payload detection);
//! `socks.log` (`log.rs`) is built from the socks_* events.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_socks.rs"));
}
pub use generated::socks::*;
pub mod log;
