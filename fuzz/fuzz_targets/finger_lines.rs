//! Finger: the generated line analyzer (line framing, request and reply
//! units, bindings) fed an arbitrary stream cut into client and server pieces.
#![no_main]

#[path = "stream_pieces.rs"]
mod stream_pieces;

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::finger;

fuzz_target!(|data: &[u8]| {
    let mut analyzer = finger::FINGERAnalyzer::new(0, finger::Limits::default());
    stream_pieces::drive(&mut analyzer, "FINGER", 79, data);
});
