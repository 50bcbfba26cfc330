//! Errors of the capture layer: values with messages a user can act on.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why a capture file could not be opened, read to its end, written, or a
/// filter compiled.
#[derive(Debug)]
pub enum CaptureError {
    /// The file could not be opened (missing, permissions, a directory...).
    Open { path: PathBuf, source: io::Error },
    /// Reading failed part-way (I/O error or corrupt gzip data).
    Read { path: PathBuf, source: io::Error },
    /// The file is neither pcap nor pcapng (plain or gzip-compressed).
    NotACapture { path: PathBuf, reason: String },
    /// The file ends in the middle of a record. All complete records before
    /// it were returned.
    Truncated {
        path: PathBuf,
        packets_read: u64,
        partial_bytes: usize,
    },
    /// A record is structurally invalid (bad block length, a length field
    /// larger than any real packet, a packet for an undescribed interface).
    Malformed {
        path: PathBuf,
        packets_read: u64,
        reason: String,
    },
    /// The capture's link-layer type is one netpac cannot decode.
    UnknownLinkType { path: PathBuf, linktype: u32 },
    /// A BPF filter expression did not compile.
    BadFilter { expr: String, reason: String },
    /// Writing a capture file failed.
    Write { path: PathBuf, reason: String },
    /// A live capture could not be opened or read (no such interface, no
    /// permission, the interface went down).
    Live { interface: String, reason: String },
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureError::Open { path, source } => {
                write!(f, "cannot open {}: {}", path.display(), source)
            }
            CaptureError::Read { path, source } => {
                write!(f, "error reading {}: {}", path.display(), source)
            }
            CaptureError::NotACapture { path, reason } => {
                write!(f, "{} is not a pcap or pcapng capture file: {}", path.display(), reason)
            }
            CaptureError::Truncated { path, packets_read, partial_bytes } => write!(
                f,
                "{} is truncated: it ends inside a record ({} bytes of an incomplete record after {} complete packets)",
                path.display(),
                partial_bytes,
                packets_read
            ),
            CaptureError::Malformed { path, packets_read, reason } => write!(
                f,
                "{} is corrupt after {} packets: {}",
                path.display(),
                packets_read,
                reason
            ),
            CaptureError::UnknownLinkType { path, linktype } => write!(
                f,
                "{}: unsupported link-layer type {} (see https://www.tcpdump.org/linktypes.html)",
                path.display(),
                linktype
            ),
            CaptureError::BadFilter { expr, reason } => {
                write!(f, "invalid BPF filter '{}': {}", expr, reason)
            }
            CaptureError::Write { path, reason } => {
                write!(f, "cannot write {}: {}", path.display(), reason)
            }
            CaptureError::Live { interface, reason } => {
                write!(f, "cannot capture on {}: {}", interface, reason)
            }
        }
    }
}

impl std::error::Error for CaptureError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CaptureError::Open { source, .. } | CaptureError::Read { source, .. } => Some(source),
            _ => None,
        }
    }
}
