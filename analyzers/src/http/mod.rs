//! HTTP/1.x, as Zeek's HTTP analyzer reads it.
//!
//! The wire formats (request line, status line, header line) and the limits
//! are declared in `grammars/http.npac`; the generated parsers and `Limits`
//! are this module's. What a grammar cannot say yet lives beside them: the
//! stream state machine ([`analyzer`]) frames each direction into lines and
//! bodies (Content-Length, chunked, until close), pairs replies with requests
//! (pipelining, HEAD, 1xx/204/304, CONNECT and Upgrade hand-off), inflates
//! gzip/deflate bodies ([`decode`]), splits multipart bodies into part
//! entities ([`multipart`]) and raises Zeek's `http_*` events ([`events`]).
//! [`log`] builds `http.log` from those events.
//!
//! Zeek's HTTP analyzer parses entities with its MIME machinery but raises only
//! `http_*` events for them (each multipart part is an `http_begin_entity` ..
//! `http_end_entity` with its own `http_header`s); the `mime_*` events come from
//! its mail analyzers (SMTP, POP3), so none are raised here.
//!
//! Streaming: input is consumed once; lines and body bytes inside a segment are
//! used in place, and only a line that straddles segments is copied (bounded by
//! `max_line`). A body length is a counter, so a 4 GB Content-Length costs
//! nothing. Header count, pending requests and decoded bytes are bounded too.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_http.rs"));
}
pub use generated::http::*;

pub mod analyzer;
pub mod decode;
pub mod events;
mod lines;
pub mod log;
pub mod multipart;
pub mod sniff;
#[cfg(test)]
mod tests;
pub mod uri;

pub use analyzer::HttpAnalyzer;
pub use events::*;
// The grammar binds no events itself (`EVENT_NAMES` of the generated module is
// empty); the stream state machine raises them all.
pub use events::EVENT_NAMES;
pub use multipart::ENTITY_DATA_DELIVERY_SIZE;
pub use sniff::sniff_mime;
pub use uri::unescape_uri;

/// Constructor named by `grammars/http.evt`.
pub fn new_analyzer() -> Box<dyn netpac_runtime::analyzer::Analyzer> {
    Box::new(HttpAnalyzer::new(Limits::configured()))
}
