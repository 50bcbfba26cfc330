//! IRC: the generated line analyzer (line framing, the line unit, STARTTLS and
//! invalid-command state, every event's word cuts) fed an arbitrary stream cut
//! into client and server pieces.
#![no_main]

#[path = "stream_pieces.rs"]
mod stream_pieces;

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::irc;

fuzz_target!(|data: &[u8]| {
    let mut analyzer = irc::IRCAnalyzer::new(0, irc::Limits::default());
    stream_pieces::drive(&mut analyzer, "IRC", 6667, data);
});
