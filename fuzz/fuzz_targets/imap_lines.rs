//! IMAP: the generated line analyzer (tags, capability lists, the STARTTLS tag kept in bytes state, stop and hand-off)
//! fed an arbitrary stream cut into client and server pieces.
#![no_main]

#[path = "stream_pieces.rs"]
mod stream_pieces;

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::imap;

fuzz_target!(|data: &[u8]| {
    let mut analyzer = imap::IMAPAnalyzer::new(0, imap::Limits::default());
    stream_pieces::drive(&mut analyzer, "IMAP", 143, data);
});
