//! SSL/TLS: records, the handshake sink across records, the per-direction
//! encryption state and key exchange by cipher, fed an arbitrary stream cut into
//! client and server pieces.
#![no_main]

#[path = "stream_pieces.rs"]
mod stream_pieces;

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::ssl;

fuzz_target!(|data: &[u8]| {
    let mut analyzer = ssl::SSLAnalyzer::new(0, ssl::Limits::default());
    stream_pieces::drive(&mut analyzer, "SSL", 443, data);
});
