//! DTLS: datagrams through one analyzer, every event subscribed. Records are
//! packed into datagrams and handshake messages come in pieces put together
//! across datagrams, so the input is cut into datagrams at each 0xff 0xff pair
//! (a byte that DTLS input needs on its own); each piece goes through
//! `one_datagram.rs`'s driver (its first byte gives the direction).
#![no_main]

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::ssl;

#[path = "one_datagram.rs"]
mod one_datagram;

fuzz_target!(|data: &[u8]| {
    let mut analyzer = ssl::DTLSAnalyzer::new(0, ssl::Limits::default());
    let mut rest = data;
    while !rest.is_empty() {
        let end = rest.windows(2).position(|w| w == [0xff, 0xff]).unwrap_or(rest.len());
        one_datagram::drive(&mut analyzer, "DTLS", &rest[..end]);
        rest = &rest[(end + 2).min(rest.len())..];
    }
});
