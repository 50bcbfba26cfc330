//! Live capture from a network interface (`-i`), through libpcap.
//!
//! The defaults are Zeek's: a snap length of 9216 bytes (`snaplen`), a
//! 128 MiB kernel buffer (`Pcap::bufsize`) and promiscuous mode. Reads wait
//! at most [`READ_TIMEOUT_MS`], so that the caller can move network time on
//! while the link is quiet (Zeek's timer manager follows the wall clock when
//! reading live) and notice a stop request.

use super::CaptureError;
use crate::packet::{LinkType, RawPacket};
use crate::zeek::Time;

/// How long one read waits for a packet before reporting [`LiveNext::Idle`].
pub const READ_TIMEOUT_MS: i32 = 100;

/// How an interface is opened.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// Most bytes kept of each frame.
    pub snaplen: u32,
    /// Whether the interface is put into promiscuous mode.
    pub promiscuous: bool,
    /// BPF filter run in the kernel (tcpdump syntax).
    pub filter: Option<String>,
    /// Size of the kernel's capture buffer.
    pub buffer_bytes: u32,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            snaplen: 9216,
            promiscuous: true,
            filter: None,
            buffer_bytes: 128 << 20,
        }
    }
}

/// What a read returned.
pub enum LiveNext<'a> {
    Packet(RawPacket<'a>),
    /// No packet arrived within [`READ_TIMEOUT_MS`].
    Idle,
}

/// Packet counts libpcap keeps for a live capture (since it was opened).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LiveStats {
    /// Packets that passed the filter.
    pub received: u64,
    /// Packets that passed the filter but found no room in the kernel's
    /// buffer because they were not read fast enough.
    pub dropped: u64,
    /// Packets the interface or its driver dropped.
    pub interface_dropped: u64,
}

/// An open interface.
pub struct LiveCapture {
    interface: String,
    /// Non-blocking: waiting is done with poll(2), which a signal or the
    /// timeout ends (libpcap's own blocking read on Linux may wait forever).
    capture: pcap::Capture<pcap::Active>,
    link: LinkType,
    /// Whether the last read found a packet: then the next one tries the
    /// ring again before waiting, so a busy link costs no poll per packet.
    busy: bool,
}

impl LiveCapture {
    /// Opens `interface` for capture (needs the right to capture: root or
    /// CAP_NET_RAW on Linux).
    pub fn open(interface: &str, options: &LiveOptions) -> Result<LiveCapture, CaptureError> {
        let fail = |e: pcap::Error| CaptureError::Live {
            interface: interface.to_string(),
            reason: e.to_string(),
        };
        let mut capture = pcap::Capture::from_device(interface)
            .map_err(fail)?
            .snaplen(i32::try_from(options.snaplen).unwrap_or(i32::MAX))
            .promisc(options.promiscuous)
            .buffer_size(i32::try_from(options.buffer_bytes).unwrap_or(i32::MAX))
            .timeout(READ_TIMEOUT_MS)
            // Deliver each packet as it arrives instead of when a kernel
            // block fills: a quiet link must not hold packets back.
            .immediate_mode(true)
            .open()
            .and_then(pcap::Capture::setnonblock)
            .map_err(fail)?;
        let link = LinkType::from_linktype(capture.get_datalink().0 as u32);
        if let LinkType::Other(n) = link {
            return Err(CaptureError::Live {
                interface: interface.to_string(),
                reason: format!(
                    "unsupported link-layer type {n} (see https://www.tcpdump.org/linktypes.html)"
                ),
            });
        }
        if let Some(expr) = &options.filter {
            capture
                .filter(expr, true)
                .map_err(|e| CaptureError::BadFilter {
                    expr: expr.clone(),
                    reason: e.to_string(),
                })?;
        }
        Ok(LiveCapture {
            interface: interface.to_string(),
            capture,
            link,
            busy: false,
        })
    }

    pub fn interface(&self) -> &str {
        &self.interface
    }

    pub fn link_type(&self) -> LinkType {
        self.link
    }

    /// The next packet, or [`LiveNext::Idle`] when none came in time.
    pub fn next_packet(&mut self) -> Result<LiveNext<'_>, CaptureError> {
        if !self.busy {
            self.wait_readable()?;
        }
        match self.capture.next_packet() {
            Ok(packet) => {
                let header = packet.header;
                let ts = Time(
                    (header.ts.tv_sec as i64)
                        .saturating_mul(1_000_000_000)
                        .saturating_add(header.ts.tv_usec as i64 * 1000),
                );
                self.busy = true;
                Ok(LiveNext::Packet(RawPacket {
                    ts,
                    wire_len: header.len,
                    link: self.link,
                    data: packet.data,
                }))
            }
            Err(pcap::Error::TimeoutExpired) => {
                self.busy = false;
                Ok(LiveNext::Idle)
            }
            Err(e) => Err(CaptureError::Live {
                interface: self.interface.clone(),
                reason: e.to_string(),
            }),
        }
    }

    /// Waits up to [`READ_TIMEOUT_MS`] for the capture to become readable; a
    /// signal ends the wait early.
    fn wait_readable(&self) -> Result<(), CaptureError> {
        use rustix::event::{poll, PollFd, PollFlags, Timespec};
        let mut fds = [PollFd::new(&self.capture, PollFlags::IN)];
        let timeout = Timespec {
            tv_sec: 0,
            tv_nsec: i64::from(READ_TIMEOUT_MS) * 1_000_000,
        };
        match poll(&mut fds, Some(&timeout)) {
            Ok(_) | Err(rustix::io::Errno::INTR) => Ok(()),
            Err(e) => Err(CaptureError::Live {
                interface: self.interface.clone(),
                reason: format!("waiting for packets: {e}"),
            }),
        }
    }

    /// libpcap's counters since the capture was opened.
    pub fn stats(&mut self) -> Result<LiveStats, CaptureError> {
        let stat = self.capture.stats().map_err(|e| CaptureError::Live {
            interface: self.interface.clone(),
            reason: e.to_string(),
        })?;
        Ok(LiveStats {
            received: u64::from(stat.received),
            dropped: u64::from(stat.dropped),
            interface_dropped: u64::from(stat.if_dropped),
        })
    }
}
