//! XMPP: the generated delimiter-framed analyzer (XML tag pieces, STARTTLS state, stop and hand-off)
//! fed an arbitrary stream cut into client and server pieces.
#![no_main]

#[path = "stream_pieces.rs"]
mod stream_pieces;

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::xmpp;

fuzz_target!(|data: &[u8]| {
    let mut analyzer = xmpp::XMPPAnalyzer::new(0, xmpp::Limits::default());
    stream_pieces::drive(&mut analyzer, "XMPP", 5222, data);
});
