//! SMTP: the stream state machine (line framing, pending commands, DATA,
//! BDAT chunks, STARTTLS) and the MIME parser behind it, fed an arbitrary
//! stream cut into client and server pieces.
#![no_main]

#[path = "stream_pieces.rs"]
mod stream_pieces;

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::smtp;

fuzz_target!(|data: &[u8]| {
    let mut analyzer = smtp::SmtpAnalyzer::new(smtp::Limits::default());
    stream_pieces::drive(&mut analyzer, "SMTP", 25, data);
});
