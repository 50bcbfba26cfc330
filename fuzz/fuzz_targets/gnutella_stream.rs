//! Gnutella: text blocks that frame themselves, then binary messages kept to
//! 1024 payload bytes, and what is left at the end, fed an arbitrary stream cut
//! into client and server pieces.
#![no_main]

#[path = "stream_pieces.rs"]
mod stream_pieces;

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::gnutella;

fuzz_target!(|data: &[u8]| {
    let mut analyzer = gnutella::GNUTELLAAnalyzer::new(0, gnutella::Limits::default());
    stream_pieces::drive(&mut analyzer, "GNUTELLA", 6346, data);
});
