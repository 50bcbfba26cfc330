//! WebSocket: frames with masks, 16- and 64-bit lengths and fragmented
//! messages, fed an arbitrary stream cut into client and server pieces.
#![no_main]

#[path = "stream_pieces.rs"]
mod stream_pieces;

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::websocket;

fuzz_target!(|data: &[u8]| {
    let mut analyzer = websocket::WEBSOCKETAnalyzer::new(0, websocket::Limits::default());
    stream_pieces::drive(&mut analyzer, "WEBSOCKET", 8888, data);
});
