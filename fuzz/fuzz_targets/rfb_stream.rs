//! RFB: the handshake framed by the analyzer's state, fed an arbitrary stream
//! cut into client and server pieces.
#![no_main]

#[path = "stream_pieces.rs"]
mod stream_pieces;

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::rfb;

fuzz_target!(|data: &[u8]| {
    let mut analyzer = rfb::RFBAnalyzer::new(0, rfb::Limits::default());
    stream_pieces::drive(&mut analyzer, "RFB", 5900, data);
});
