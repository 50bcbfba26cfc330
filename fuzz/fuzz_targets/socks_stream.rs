//! SOCKS: each delivery one message, the SOCKS 5 negotiation state and the
//! hand-off to detection, fed an arbitrary stream cut into client and server pieces.
#![no_main]

#[path = "stream_pieces.rs"]
mod stream_pieces;

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::socks;

fuzz_target!(|data: &[u8]| {
    let mut analyzer = socks::SOCKSAnalyzer::new(0, socks::Limits::default());
    stream_pieces::drive(&mut analyzer, "SOCKS", 1080, data);
});
