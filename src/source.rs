//! Where packets come from: a capture file (`-r`) or an interface (`-i`).

use netpac_runtime::capture::{
    BpfFilter, CaptureError, CaptureReader, LiveCapture, LiveNext, LiveOptions, LiveStats,
};
use netpac_runtime::packet::{LinkType, RawPacket};

pub enum Source {
    File(CaptureReader),
    /// Filtered in the kernel.
    Live(LiveCapture),
}

pub enum Next<'a> {
    Packet(RawPacket<'a>),
    /// A live interface was quiet for a moment.
    Idle,
    /// The file ended.
    End,
}

impl Source {
    pub fn file(path: &std::path::Path) -> Result<Source, CaptureError> {
        CaptureReader::open(path).map(Source::File)
    }

    /// The filter the caller runs on a file's packets: run here rather than
    /// by libpcap so that filters on the wire length see it (see
    /// `BpfFilter`). A live capture filters in the kernel and needs none.
    pub fn user_space_filter(&self, expr: Option<&str>) -> Result<Option<BpfFilter>, CaptureError> {
        match (self, expr) {
            (Source::File(reader), Some(expr)) => {
                BpfFilter::compile(expr, reader.link_type(), 65535).map(Some)
            }
            _ => Ok(None),
        }
    }

    pub fn live(interface: &str, options: &LiveOptions) -> Result<Source, CaptureError> {
        LiveCapture::open(interface, options).map(Source::Live)
    }

    pub fn is_live(&self) -> bool {
        matches!(self, Source::Live(_))
    }

    pub fn link_type(&self) -> LinkType {
        match self {
            Source::File(reader) => reader.link_type(),
            Source::Live(live) => live.link_type(),
        }
    }

    pub fn next_packet(&mut self) -> Result<Next<'_>, CaptureError> {
        match self {
            Source::File(reader) => Ok(match reader.next_packet()? {
                Some(raw) => Next::Packet(raw),
                None => Next::End,
            }),
            Source::Live(live) => Ok(match live.next_packet()? {
                LiveNext::Packet(raw) => Next::Packet(raw),
                LiveNext::Idle => Next::Idle,
            }),
        }
    }

    /// Bytes of the file read so far (for the progress bar).
    pub fn progress(&self) -> Option<(u64, u64)> {
        match self {
            Source::File(reader) => Some((reader.bytes_read(), reader.file_len().unwrap_or(0))),
            Source::Live(_) => None,
        }
    }

    /// libpcap's counters, for a live capture.
    pub fn live_stats(&mut self) -> Option<Result<LiveStats, CaptureError>> {
        match self {
            Source::File(_) => None,
            Source::Live(live) => Some(live.stats()),
        }
    }
}
