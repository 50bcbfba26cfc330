//! POP3: the analyzer (line framing, pending-command queue, multi-line
//! replies, AUTH base64, STLS) fed an arbitrary stream cut into client and
//! server pieces.
#![no_main]

#[path = "stream_pieces.rs"]
mod stream_pieces;

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::pop3;

fuzz_target!(|data: &[u8]| {
    let mut analyzer = pop3::Pop3Analyzer::new(pop3::Limits::default());
    stream_pieces::drive(&mut analyzer, "POP3", 110, data);
});
