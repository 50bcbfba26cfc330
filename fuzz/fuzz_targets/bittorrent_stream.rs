//! BitTorrent: handshakes and messages cut from each direction by the
//! `messages` sink, fed an arbitrary stream cut into client and server pieces.
#![no_main]

#[path = "stream_pieces.rs"]
mod stream_pieces;

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::bittorrent;

fuzz_target!(|data: &[u8]| {
    let mut analyzer = bittorrent::BITTORRENTAnalyzer::new(0, bittorrent::Limits::default());
    stream_pieces::drive(&mut analyzer, "BITTORRENT", 6881, data);
});
