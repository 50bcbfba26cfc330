//! Writing classic pcap files, so tests and the sample generator can make
//! captures with our own code.

use super::CaptureError;
use crate::packet::LinkType;
use crate::zeek::Time;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, Endianness, TsResolution};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Snap length written into the file header (libpcap's maximum).
pub const WRITER_SNAPLEN: u32 = 262_144;

/// Writes packets to a pcap file (little endian).
pub struct CaptureWriter {
    path: PathBuf,
    writer: PcapWriter<BufWriter<File>>,
    nanos: bool,
}

impl CaptureWriter {
    /// Creates a pcap file with microsecond timestamps (the classic format
    /// every tool reads; sub-microsecond digits of [`Time`] are dropped).
    pub fn create(path: &Path, link: LinkType) -> Result<CaptureWriter, CaptureError> {
        Self::create_with_resolution(path, link, false)
    }

    /// Creates a pcap file with nanosecond timestamps when `nanos` is set.
    pub fn create_with_resolution(
        path: &Path,
        link: LinkType,
        nanos: bool,
    ) -> Result<CaptureWriter, CaptureError> {
        let file = File::create(path).map_err(|e| CaptureError::Write {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let header = PcapHeader {
            version_major: 2,
            version_minor: 4,
            ts_correction: 0,
            ts_accuracy: 0,
            snaplen: WRITER_SNAPLEN,
            datalink: DataLink::from(link.to_linktype()),
            ts_resolution: if nanos {
                TsResolution::NanoSecond
            } else {
                TsResolution::MicroSecond
            },
            endianness: Endianness::Little,
        };
        let writer = PcapWriter::with_header(BufWriter::new(file), header).map_err(|e| {
            CaptureError::Write {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }
        })?;
        Ok(CaptureWriter {
            path: path.to_path_buf(),
            writer,
            nanos,
        })
    }

    /// Writes one complete frame.
    pub fn write(&mut self, ts: Time, data: &[u8]) -> Result<(), CaptureError> {
        self.write_truncated(ts, data, data.len() as u32)
    }

    /// Writes a frame that was `wire_len` bytes on the wire but of which only
    /// `data` was captured (a snap length cut).
    pub fn write_truncated(
        &mut self,
        ts: Time,
        data: &[u8],
        wire_len: u32,
    ) -> Result<(), CaptureError> {
        if ts.0 < 0 {
            return Err(self.err(format!("timestamp {} is before 1970", ts.0)));
        }
        if data.len() > WRITER_SNAPLEN as usize || wire_len < data.len() as u32 {
            return Err(self.err(format!(
                "frame of {} captured bytes (wire length {}) does not fit a pcap record",
                data.len(),
                wire_len
            )));
        }
        let mut nanos = ts.0 as u64;
        if !self.nanos {
            nanos -= nanos % 1000;
        }
        let packet = PcapPacket::new(Duration::from_nanos(nanos), wire_len, data);
        self.writer
            .write_packet(&packet)
            .map_err(|e| self.err(e.to_string()))?;
        Ok(())
    }

    /// Flushes buffered records to disk, reporting any write error (dropping
    /// the writer also flushes, but silently).
    pub fn finish(self) -> Result<(), CaptureError> {
        let path = self.path;
        self.writer
            .into_writer()
            .flush()
            .map_err(|e| CaptureError::Write {
                path,
                reason: e.to_string(),
            })
    }

    fn err(&self, reason: String) -> CaptureError {
        CaptureError::Write {
            path: self.path.clone(),
            reason,
        }
    }
}
