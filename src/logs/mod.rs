//! Protocol logs built from events: each writer is an [`EventSink`] that owns
//! its own log stream, the way Zeek's base scripts build logs from events.
//!
//! [`EventSink`]: netpac_runtime::event::EventSink

pub mod dns;
pub mod http;

use netpac_runtime::event::Events;
use netpac_runtime::log::Format;
use std::path::Path;

/// Subscribes every protocol log writer (`dns.log`, `http.log`).
pub fn subscribe_all(events: &mut Events, out_dir: &Path, format: Format) {
    subscribe_dns(events, out_dir, format);
    subscribe_http(events, out_dir, format);
}

/// Subscribes the `dns.log` writer.
pub fn subscribe_dns(events: &mut Events, out_dir: &Path, format: Format) {
    events.subscribe(Box::new(dns::DnsLogger::new(out_dir, format)));
}

/// Subscribes the `http.log` writer.
pub fn subscribe_http(events: &mut Events, out_dir: &Path, format: Format) {
    events.subscribe(Box::new(http::HttpLogger::new(out_dir, format)));
}
