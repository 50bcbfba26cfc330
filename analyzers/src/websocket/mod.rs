//! WebSocket: entirely `grammars/websocket.npac` and `grammars/websocket.evt`
//! (frames, the message state, the unmasked stream handed to payload detection);
//! `websocket.log` (`log.rs`) is built from HTTP's upgrade and headers.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_websocket.rs"));
}
pub use generated::websocket::*;
pub mod log;
