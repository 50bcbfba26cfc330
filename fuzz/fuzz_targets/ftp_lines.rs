//! FTP: the generated line analyzer (line framing, connection state,
//! multi-line replies, bindings) fed an arbitrary stream cut into client and
//! server pieces.
#![no_main]

#[path = "stream_pieces.rs"]
mod stream_pieces;

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::ftp;

fuzz_target!(|data: &[u8]| {
    let mut analyzer = ftp::FTPAnalyzer::new(0, ftp::Limits::default());
    stream_pieces::drive(&mut analyzer, "FTP", 21, data);
});
