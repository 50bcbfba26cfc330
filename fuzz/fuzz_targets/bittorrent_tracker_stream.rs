//! The BitTorrent tracker: requests and bencoded responses framed by parsing,
//! fed an arbitrary stream cut into client and server pieces.
#![no_main]

#[path = "stream_pieces.rs"]
mod stream_pieces;

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::bittorrent_tracker;

fuzz_target!(|data: &[u8]| {
    let mut analyzer = bittorrent_tracker::BITTORRENTTRACKERAnalyzer::new(0, bittorrent_tracker::Limits::default());
    stream_pieces::drive(&mut analyzer, "BITTORRENTTRACKER", 6969, data);
});
