//! Telnet, Rlogin and Rsh (the first byte picks one): tokens, openings and lines,
//! commands and subnegotiations, each line through the shared login dialog, fed an
//! arbitrary stream cut into client and server pieces.
#![no_main]

#[path = "stream_pieces.rs"]
mod stream_pieces;

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::{rlogin, rsh, telnet};

fuzz_target!(|data: &[u8]| {
    let Some((&which, data)) = data.split_first() else {
        return;
    };
    match which % 3 {
        0 => stream_pieces::drive(&mut telnet::TELNETAnalyzer::new(0, telnet::Limits::default()), "TELNET", 23, data),
        1 => stream_pieces::drive(&mut rlogin::RLOGINAnalyzer::new(0, rlogin::Limits::default()), "RLOGIN", 513, data),
        _ => stream_pieces::drive(&mut rsh::RSHAnalyzer::new(0, rsh::Limits::default()), "RSH", 514, data),
    }
});
