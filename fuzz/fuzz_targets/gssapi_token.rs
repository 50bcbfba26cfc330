//! GSSAPI: one token through the generated analyzer, every event subscribed
//! (the input: a direction byte, then the datagram; see `one_datagram.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::gssapi;

#[path = "one_datagram.rs"]
mod one_datagram;

fuzz_target!(|data: &[u8]| {
    let mut analyzer = gssapi::GSSAPIAnalyzer::new(0, gssapi::Limits::default());
    one_datagram::drive(&mut analyzer, "GSSAPI", data);
});
