//! Protocol logs built from events: each writer is an [`EventSink`] that owns
//! its own log stream, the way Zeek's base scripts build logs from events.
//!
//! [`EventSink`]: netpac_runtime::event::EventSink

pub mod dns;

use netpac_runtime::event::Events;
use netpac_runtime::log::Format;
use std::path::Path;

/// Subscribes the `dns.log` writer.
pub fn subscribe_dns(events: &mut Events, out_dir: &Path, format: Format) {
    events.subscribe(Box::new(dns::DnsLogger::new(out_dir, format)));
}
