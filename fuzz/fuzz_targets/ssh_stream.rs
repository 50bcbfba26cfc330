//! SSH: version lines, the packets sink up to NEWKEYS (and the bytes after it
//! handed back), key exchange by the negotiated algorithm and the login guess,
//! fed an arbitrary stream cut into client and server pieces.
#![no_main]

#[path = "stream_pieces.rs"]
mod stream_pieces;

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::ssh;

fuzz_target!(|data: &[u8]| {
    let mut analyzer = ssh::SSHAnalyzer::new(0, ssh::Limits::default());
    stream_pieces::drive(&mut analyzer, "SSH", 22, data);
});
