//! Protocol logs built from events: each writer is an [`EventSink`] that owns
//! its own log stream.
//!
//! [`EventSink`]: netpac_runtime::event::EventSink

pub mod http;

use netpac_runtime::event::Events;
use netpac_runtime::log::Format;
use std::path::Path;

/// Subscribes the `http.log` writer.
pub fn subscribe_http(events: &mut Events, out_dir: &Path, format: Format) {
    events.subscribe(Box::new(http::HttpLogger::new(out_dir, format)));
}
