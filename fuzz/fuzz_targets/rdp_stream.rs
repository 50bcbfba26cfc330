//! RDP: TPKT records with the X.224 negotiation and MCS/GCC connect data, fed an arbitrary stream
//! cut into client and server pieces.
#![no_main]

#[path = "stream_pieces.rs"]
mod stream_pieces;

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::rdp;

fuzz_target!(|data: &[u8]| {
    let mut analyzer = rdp::RDPAnalyzer::new(0, rdp::Limits::default());
    stream_pieces::drive(&mut analyzer, "RDP", 3389, data);
});
