//! Capture input: pcap / pcapng files (plain or gzip), live interfaces,
//! BPF filters, and a pcap writer (fixtures, `-w`).
//!
//! ```no_run
//! # use netpac_runtime::capture::*;
//! # fn main() -> Result<(), CaptureError> {
//! let mut reader = CaptureReader::open(std::path::Path::new("trace.pcap"))?;
//! let filter = BpfFilter::compile("tcp port 80", reader.link_type(), 65535)?;
//! while let Some(pkt) = reader.next_packet()? {
//!     if filter.matches(pkt.data, pkt.wire_len) { /* decode */ }
//! }
//! # Ok(()) }
//! ```

mod bpf;
mod error;
mod live;
mod reader;
mod writer;

pub use bpf::BpfFilter;
pub use error::CaptureError;
pub use live::{LiveCapture, LiveNext, LiveOptions, LiveStats, READ_TIMEOUT_MS};
pub use reader::{CaptureReader, MAX_RECORD_LEN};
pub use writer::{CaptureWriter, WRITER_SNAPLEN};

#[cfg(test)]
mod tests;
