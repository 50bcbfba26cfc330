//! SIP: datagrams through one analyzer, every event subscribed. SIP keeps
//! state across datagrams (a message's lines and body may span several), so
//! the input is cut into datagrams at each 0xff byte; each piece goes
//! through `one_datagram.rs`'s driver (its first byte gives the direction).
#![no_main]

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::sip;

#[path = "one_datagram.rs"]
mod one_datagram;

fuzz_target!(|data: &[u8]| {
    let mut analyzer = sip::SipAnalyzer::new(sip::Limits::default());
    for datagram in data.split(|&b| b == 0xff) {
        one_datagram::drive(&mut analyzer, "SIP", datagram);
    }
});
