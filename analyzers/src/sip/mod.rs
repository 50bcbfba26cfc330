//! SIP over UDP, as Zeek's binpac SIP analyzer reads it.
//!
//! The line formats (request line, status line, header), the limits, the
//! port and the DPD signature are declared in `grammars/sip.npac` and
//! `grammars/sip.evt`, which also bind five of the six events to those
//! units. What a grammar cannot say lives beside them: [`analyzer`] keeps
//! binpac's two flows (a message's lines and body may span datagrams, the
//! flow is chosen by the datagram's first bytes, the body length is the last
//! `Content-Length` seen) and raises `sip_all_headers`, whose list spans the
//! lines of a message. [`log`] writes `sip.log` from the events.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_sip.rs"));
}
pub use generated::sip::*;

pub mod analyzer;
mod flow;
pub mod log;

pub use analyzer::{SipAllHeaders, SipAnalyzer};

/// The events of SIP: the five the grammar binds and `sip_all_headers`.
pub const EVENT_NAMES: &[&str] = &[
    "sip_request",
    "sip_reply",
    "sip_header",
    "sip_all_headers",
    "sip_begin_entity",
    "sip_end_entity",
];

/// Constructor named by `grammars/sip.evt`.
pub fn new_analyzer() -> Box<dyn netpac_runtime::analyzer::Analyzer> {
    Box::new(SipAnalyzer::new(Limits::configured()))
}
