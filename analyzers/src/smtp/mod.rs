//! SMTP, as Zeek's SMTP analyzer reads it.
//!
//! The wire formats (command line, reply line), the limits and where the
//! analyzer attaches (ports 25 and 587, the DPD signature) are declared in
//! `grammars/smtp.npac` / `smtp.evt`. Beside the generated code: the stream
//! state machine ([`analyzer`], SMTP.cc's: pending commands, DATA, BDAT chunks,
//! STARTTLS), BDAT's argument and chunk lines ([`bdat`]), the events
//! ([`events`]), `smtp.log` ([`log`]) with the address helpers of Zeek's
//! scripts ([`addrs`]). Message bodies go to the shared MIME parser
//! (`crate::mime`), which raises the `mime_*` events.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_smtp.rs"));
}
pub use generated::smtp::*;

pub mod addrs;
pub mod analyzer;
pub mod bdat;
pub mod events;
pub mod log;

pub use analyzer::SmtpAnalyzer;
pub use events::*;

/// The events the SMTP analyzer raises: its own (`events`) and the MIME
/// parser's (`crate::mime::events::EVENT_NAMES`). The grammar binds none
/// itself (the generated `EVENT_NAMES` is empty).
pub const EVENT_NAMES: &[&str] = &[
    "smtp_request",
    "smtp_reply",
    "smtp_data",
    "smtp_unexpected",
    "smtp_starttls",
    "mime_begin_entity",
    "mime_end_entity",
    "mime_one_header",
    "mime_all_headers",
    "mime_segment_data",
    "mime_entity_data",
    "mime_all_data",
    "mime_event",
    "mime_content_hash",
];

/// Constructor named by `grammars/smtp.evt`.
pub fn new_analyzer() -> Box<dyn netpac_runtime::analyzer::Analyzer> {
    Box::new(SmtpAnalyzer::new(Limits::configured()))
}

/// Zeek's `skip_smtp_data(c)`: the SMTP analyzer of connection `cid` skips the
/// rest of the mail it is reading (no more `smtp_data`, no MIME). False when the
/// connection has no SMTP analyzer.
pub fn skip_smtp_data(engine: &mut netpac_runtime::engine::Engine, cid: &netpac_runtime::zeek::ConnId) -> bool {
    let Some(a) = engine.analyzer_mut(cid, "SMTP") else {
        return false;
    };
    match a.as_any_mut().and_then(|a| a.downcast_mut::<SmtpAnalyzer>()) {
        Some(smtp) => {
            smtp.skip_data();
            true
        }
        None => false,
    }
}
