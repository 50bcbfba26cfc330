//! Ident: the generated line analyzer (line framing, the port pairs, the bad-reply
//! state and its weirds) fed an arbitrary stream cut
//! into client and server pieces.
#![no_main]

#[path = "stream_pieces.rs"]
mod stream_pieces;

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::ident;

fuzz_target!(|data: &[u8]| {
    let mut analyzer = ident::IDENTAnalyzer::new(0, ident::Limits::default());
    stream_pieces::drive(&mut analyzer, "IDENT", 113, data);
});
