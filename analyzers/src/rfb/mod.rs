//! RFB (VNC): entirely `grammars/rfb.npac` and `grammars/rfb.evt` (the messages
//! and the handshake state that frames them); `rfb.log` (`log.rs`) is built from
//! the rfb_* events.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_rfb.rs"));
}
pub use generated::rfb::*;
pub mod log;
