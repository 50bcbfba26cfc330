//! MySQL: packets whose meaning the connection's state decides (greeting,
//! login, commands and the answers they announce), fed an arbitrary stream cut
//! into client and server pieces.
#![no_main]

#[path = "stream_pieces.rs"]
mod stream_pieces;

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::mysql;

fuzz_target!(|data: &[u8]| {
    let mut analyzer = mysql::MYSQLAnalyzer::new(0, mysql::Limits::default());
    stream_pieces::drive(&mut analyzer, "MYSQL", 3306, data);
});
