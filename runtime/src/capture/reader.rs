//! Reading pcap and pcapng files, plain or gzip-compressed.
//!
//! The record formats are parsed by the `pcap-file` crate's slice parsers;
//! this module owns the read buffer so that a packet's bytes are handed out
//! borrowed (no copy per packet), so that a corrupt length field can never
//! make us allocate more than [`MAX_RECORD_LEN`], and so that a file that
//! ends mid-record is reported only after every complete record before it.

use super::CaptureError;
use crate::packet::{LinkType, RawPacket};
use crate::zeek::Time;
use byteorder::{BigEndian, ByteOrder, LittleEndian};
use flate2::read::MultiGzDecoder;
use pcap_file::pcap::PcapParser;
use pcap_file::pcapng::blocks::{
    Block, RawBlock, ENHANCED_PACKET_BLOCK, INTERFACE_DESCRIPTION_BLOCK, PACKET_BLOCK,
    SECTION_HEADER_BLOCK, SIMPLE_PACKET_BLOCK,
};
use pcap_file::{Endianness, PcapError, TsResolution};
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

/// The largest record (pcap packet record or pcapng block) we accept. Real
/// packets are at most 256 KiB (libpcap's maximum snap length); anything
/// near this is a corrupt length field, and must not drive allocation.
pub const MAX_RECORD_LEN: usize = 16 << 20;

/// Room for a record's own framing beyond its packet bytes (a pcap record
/// header, a pcapng block's header, trailer and options), so that a packet
/// of exactly [`MAX_RECORD_LEN`] bytes is still read.
const RECORD_FRAMING: usize = 64 << 10;

/// The pcap header's link-type field also carries FCS information in its
/// upper bits (pcap spec: bits 26-31); the link type is the low 16 bits.
const LINKTYPE_MASK: u32 = 0xFFFF;

const INITIAL_BUFFER: usize = 1 << 20;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Counts the bytes pulled from the file, for progress reporting (for a
/// gzip file this is compressed bytes, comparable with [`CaptureReader::file_len`]).
struct CountingFile {
    file: File,
    count: u64,
}

impl Read for CountingFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// The compressed stream: the two magic bytes already read, then the file.
type GzipSource = BufReader<io::Chain<io::Cursor<[u8; 2]>, CountingFile>>;

enum Input {
    Plain(CountingFile),
    /// The gzip magic bytes already read are chained back in front, so
    /// pipes (which cannot rewind) work too.
    Gzip(Box<MultiGzDecoder<GzipSource>>),
}

impl Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let r = match self {
                Input::Plain(f) => f.read(buf),
                Input::Gzip(g) => g.read(buf),
            };
            match r {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }
    fn bytes_read(&self) -> u64 {
        match self {
            Input::Plain(f) => f.count,
            Input::Gzip(g) => g.get_ref().get_ref().get_ref().1.count,
        }
    }
}

/// One pcapng interface (Interface Description Block).
#[derive(Debug, Clone, Copy)]
struct Interface {
    link: LinkType,
    snaplen: u32,
    /// Timestamp units per second is `ts_mul`/`ts_div` scaled to nanoseconds:
    /// ns = raw * ts_mul / ts_div.
    ts_mul: u128,
    ts_div: u128,
    /// if_tsoffset, in seconds.
    ts_offset_secs: i64,
}

impl Interface {
    fn nanos(&self, raw: u64) -> i64 {
        let ns = (raw as u128).saturating_mul(self.ts_mul) / self.ts_div;
        let ns = i64::try_from(ns).unwrap_or(i64::MAX);
        ns.saturating_add(self.ts_offset_secs.saturating_mul(1_000_000_000))
    }
}

enum Format {
    Pcap {
        parser: PcapParser,
        big_endian: bool,
        nanos: bool,
        link: LinkType,
    },
    PcapNg {
        big_endian: bool,
        interfaces: Vec<Interface>,
    },
}

/// Where the next packet lies in the buffer, found by a parse step.
struct Found {
    ts: Time,
    wire_len: u32,
    link: LinkType,
    data_start: usize,
    data_len: usize,
}

/// Outcome of trying to parse one record from the buffered bytes.
enum Step {
    /// A packet; `consumed` bytes of the buffer belong to its record.
    Packet(Found, usize),
    /// A record without a packet (pcapng SHB, IDB, statistics...).
    Skip(usize),
    /// More bytes are needed; the record claims this total length if known.
    NeedMore(Option<usize>),
}

/// Reads packets from a pcap or pcapng file, plain or gzip-compressed
/// (recognised by magic bytes, not the file name).
pub struct CaptureReader {
    path: PathBuf,
    input: Input,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// Set after an error or the end: further calls return `Ok(None)`.
    finished: bool,
    format: Format,
    file_len: Option<u64>,
    packets: u64,
    /// Link type of the first interface (or the pcap header).
    link: LinkType,
}

impl std::fmt::Debug for CaptureReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureReader")
            .field("path", &self.path)
            .field("link", &self.link)
            .field("packets", &self.packets)
            .finish_non_exhaustive()
    }
}

impl CaptureReader {
    /// Opens a capture file and reads its header (for pcapng, up to the
    /// first interface description). Fails if the file cannot be read, is
    /// not a capture, or its (first) link type is not one netpac decodes.
    pub fn open(path: &Path) -> Result<CaptureReader, CaptureError> {
        let open_err = |source| CaptureError::Open {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(open_err)?;
        let meta = file.metadata().map_err(open_err)?;
        if meta.is_dir() {
            return Err(open_err(io::Error::other("is a directory")));
        }
        let mut counting = CountingFile { file, count: 0 };
        let mut magic = [0u8; 2];
        let mut got = 0;
        while got < 2 {
            match counting.read(&mut magic[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(open_err(e)),
            }
        }
        // The magic bytes read so far become the first buffered bytes of a
        // plain file, or go back in front of the gzip stream.
        let mut buf = vec![0u8; INITIAL_BUFFER];
        let (input, end) = if got == 2 && magic == GZIP_MAGIC {
            let stream = io::Cursor::new(magic).chain(counting);
            let dec = MultiGzDecoder::new(BufReader::with_capacity(256 << 10, stream));
            (Input::Gzip(Box::new(dec)), 0)
        } else {
            buf[..got].copy_from_slice(&magic[..got]);
            (Input::Plain(counting), got)
        };
        let mut reader = CaptureReader {
            path: path.to_path_buf(),
            input,
            buf,
            start: 0,
            end,
            eof: false,
            finished: false,
            // Placeholder until the header is parsed below.
            format: Format::PcapNg {
                big_endian: false,
                interfaces: Vec::new(),
            },
            // Pipes and devices have no meaningful length.
            file_len: meta.is_file().then_some(meta.len()),
            packets: 0,
            link: LinkType::Ethernet,
        };
        reader.read_header()?;
        if !reader.link.is_supported() {
            return Err(CaptureError::UnknownLinkType {
                path: reader.path.clone(),
                linktype: reader.link.to_linktype(),
            });
        }
        Ok(reader)
    }

    /// The link type of the pcap header, or of the first pcapng interface.
    /// Each packet carries its own in [`RawPacket::link`].
    pub fn link_type(&self) -> LinkType {
        self.link
    }

    /// Bytes consumed from the file so far (compressed bytes for gzip).
    pub fn bytes_read(&self) -> u64 {
        self.input.bytes_read()
    }

    /// Size of the file on disk; `None` for pipes and devices.
    pub fn file_len(&self) -> Option<u64> {
        self.file_len
    }

    /// Packets returned so far.
    pub fn packets_read(&self) -> u64 {
        self.packets
    }

    /// The file this reader reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The next packet, `Ok(None)` at the end of the file. After an error
    /// (e.g. [`CaptureError::Truncated`]) further calls return `Ok(None)`.
    pub fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, CaptureError> {
        if self.finished {
            return Ok(None);
        }
        loop {
            match self.step() {
                Ok(Step::Packet(found, consumed)) => {
                    self.start += consumed;
                    self.packets += 1;
                    let data = &self.buf[found.data_start..found.data_start + found.data_len];
                    return Ok(Some(RawPacket {
                        ts: found.ts,
                        wire_len: found.wire_len,
                        link: found.link,
                        data,
                    }));
                }
                Ok(Step::Skip(consumed)) => self.start += consumed,
                Ok(Step::NeedMore(claimed)) => {
                    if self.eof {
                        self.finished = true;
                        let partial = self.end - self.start;
                        if partial == 0 {
                            return Ok(None);
                        }
                        return Err(CaptureError::Truncated {
                            path: self.path.clone(),
                            packets_read: self.packets,
                            partial_bytes: partial,
                        });
                    }
                    if let Err(e) = self.fill(claimed) {
                        self.finished = true;
                        return Err(e);
                    }
                }
                Err(e) => {
                    self.finished = true;
                    return Err(e);
                }
            }
        }
    }

    fn malformed(&self, reason: impl Into<String>) -> CaptureError {
        CaptureError::Malformed {
            path: self.path.clone(),
            packets_read: self.packets,
            reason: reason.into(),
        }
    }

    /// Reads more bytes behind the unconsumed ones, growing the buffer when
    /// one record needs more room (never beyond [`MAX_RECORD_LEN`]).
    fn fill(&mut self, claimed: Option<usize>) -> Result<(), CaptureError> {
        let max_buffer = MAX_RECORD_LEN + RECORD_FRAMING;
        if let Some(len) = claimed {
            if len > max_buffer {
                return Err(self.malformed(format!(
                    "a record claims {} bytes, more than the {} bytes any real packet needs",
                    len, MAX_RECORD_LEN
                )));
            }
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let want = claimed.unwrap_or(0).max(self.end + 1);
        if want > self.buf.len() {
            if self.buf.len() >= max_buffer {
                return Err(self.malformed(format!(
                    "a record is larger than {} bytes (corrupt length field)",
                    MAX_RECORD_LEN
                )));
            }
            let new_len = want.max(self.buf.len() * 2).min(max_buffer);
            self.buf.resize(new_len, 0);
        }
        match self.input.read(&mut self.buf[self.end..]) {
            Ok(0) => self.eof = true,
            Ok(n) => self.end += n,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                // A gzip stream cut short: whatever was decompressed stays
                // usable; the missing rest is reported as truncation.
                self.eof = true;
            }
            Err(source) => {
                return Err(CaptureError::Read {
                    path: self.path.clone(),
                    source,
                })
            }
        }
        Ok(())
    }

    /// Fills the buffer with at least `n` bytes unless the file ends first.
    fn fill_at_least(&mut self, n: usize) -> Result<(), CaptureError> {
        while self.end - self.start < n && !self.eof {
            self.fill(Some(n))?;
        }
        Ok(())
    }

    fn read_header(&mut self) -> Result<(), CaptureError> {
        self.fill_at_least(24)?;
        let avail = &self.buf[self.start..self.end];
        if avail.len() < 4 {
            let reason = if avail.is_empty() {
                "the file is empty".to_string()
            } else {
                format!("the file is only {} bytes long", avail.len())
            };
            return Err(CaptureError::NotACapture {
                path: self.path.clone(),
                reason,
            });
        }
        let magic = BigEndian::read_u32(&avail[..4]);
        match magic {
            0xA1B2C3D4 | 0xA1B23C4D | 0xD4C3B2A1 | 0x4D3CB2A1 => {
                if avail.len() < 24 {
                    return Err(CaptureError::Truncated {
                        path: self.path.clone(),
                        packets_read: 0,
                        partial_bytes: avail.len(),
                    });
                }
                let (rem, parser) = PcapParser::new(avail).map_err(|e| self.pcap_err(e))?;
                let consumed = avail.len() - rem.len();
                let header = parser.header();
                let link = LinkType::from_linktype(u32::from(header.datalink) & LINKTYPE_MASK);
                self.link = link;
                self.format = Format::Pcap {
                    parser,
                    big_endian: header.endianness == Endianness::Big,
                    nanos: header.ts_resolution == TsResolution::NanoSecond,
                    link,
                };
                self.start += consumed;
                Ok(())
            }
            // The section header block type reads the same in both byte orders.
            0x0A0D0D0A => {
                // Consume blocks up to the first interface description so
                // the link type is known before the first packet.
                loop {
                    match self.step()? {
                        Step::Skip(consumed) => {
                            self.start += consumed;
                            if let Format::PcapNg { interfaces, .. } = &self.format {
                                if let Some(first) = interfaces.first() {
                                    self.link = first.link;
                                    return Ok(());
                                }
                            }
                        }
                        Step::Packet(..) => {
                            return Err(self.malformed(
                                "a packet block precedes any interface description block",
                            ));
                        }
                        Step::NeedMore(claimed) => {
                            if self.eof {
                                if self.end == self.start {
                                    // A valid file without interfaces holds no packets.
                                    return Ok(());
                                }
                                return Err(CaptureError::Truncated {
                                    path: self.path.clone(),
                                    packets_read: 0,
                                    partial_bytes: self.end - self.start,
                                });
                            }
                            self.fill(claimed)?;
                        }
                    }
                }
            }
            _ => Err(CaptureError::NotACapture {
                path: self.path.clone(),
                reason: format!("unknown magic number 0x{:08x}", magic),
            }),
        }
    }

    fn pcap_err(&self, e: PcapError) -> CaptureError {
        match e {
            PcapError::IoError(source) => CaptureError::Read {
                path: self.path.clone(),
                source,
            },
            other => self.malformed(other.to_string()),
        }
    }

    /// Parses the record at the buffer's read position, if complete.
    fn step(&mut self) -> Result<Step, CaptureError> {
        let avail = &self.buf[self.start..self.end];
        let base = self.start;
        match &mut self.format {
            Format::Pcap {
                parser,
                big_endian,
                nanos,
                link,
            } => {
                match parser.next_raw_packet(avail) {
                    Ok((rem, raw)) => {
                        let consumed = avail.len() - rem.len();
                        let data_start =
                            base + (raw.data.as_ptr() as usize - avail.as_ptr() as usize);
                        let frac_ns = if *nanos {
                            raw.ts_frac as i64
                        } else {
                            raw.ts_frac as i64 * 1000
                        };
                        let ts = Time(raw.ts_sec as i64 * 1_000_000_000 + frac_ns);
                        let found = Found {
                            ts,
                            // A record claiming less on the wire than it holds is corrupt;
                            // trust what is there.
                            wire_len: raw.orig_len.max(raw.incl_len),
                            link: *link,
                            data_start,
                            data_len: raw.data.len(),
                        };
                        Ok(Step::Packet(found, consumed))
                    }
                    Err(PcapError::IncompleteBuffer) => {
                        // The record header's incl_len tells how much is coming.
                        let claimed = (avail.len() >= 16).then(|| {
                            let incl = &avail[8..12];
                            let n = if *big_endian {
                                BigEndian::read_u32(incl)
                            } else {
                                LittleEndian::read_u32(incl)
                            };
                            16 + n as usize
                        });
                        Ok(Step::NeedMore(claimed))
                    }
                    Err(e) => Err(CaptureError::Malformed {
                        path: self.path.clone(),
                        packets_read: self.packets,
                        reason: e.to_string(),
                    }),
                }
            }
            Format::PcapNg {
                big_endian,
                interfaces,
            } => {
                let parsed = if *big_endian {
                    pcapng_step::<BigEndian>(avail, base, big_endian, interfaces)
                } else {
                    pcapng_step::<LittleEndian>(avail, base, big_endian, interfaces)
                };
                parsed.map_err(|reason| CaptureError::Malformed {
                    path: self.path.clone(),
                    packets_read: self.packets,
                    reason,
                })
            }
        }
    }
}

/// An interface description block's body: link type, snap length and the
/// options that change timestamps, read directly so that an option this
/// reader does not need (a name or description that is not UTF-8) cannot
/// reject the file.
fn interface_description<B: ByteOrder>(body: &[u8]) -> Result<Interface, String> {
    if body.len() < 8 {
        return Err("invalid interface description block: too short".into());
    }
    let mut iface = Interface {
        link: LinkType::from_linktype(u32::from(B::read_u16(&body[..2]))),
        snaplen: B::read_u32(&body[4..8]),
        ts_mul: 1000,
        ts_div: 1,
        ts_offset_secs: 0,
    };
    let mut opts = &body[8..];
    while opts.len() >= 4 {
        let code = B::read_u16(&opts[..2]);
        let len = usize::from(B::read_u16(&opts[2..4]));
        let Some(value) = opts.get(4..4 + len) else {
            return Err("invalid interface description block: option runs past the block".into());
        };
        match code {
            0 => break, // opt_endofopt
            9 if len == 1 => set_ts_resolution(&mut iface, value[0])?,
            14 if len == 8 => {
                iface.ts_offset_secs = i64::try_from(B::read_u64(value)).unwrap_or(i64::MAX)
            }
            _ => {}
        }
        opts = opts.get(4 + len.next_multiple_of(4)..).unwrap_or_default();
    }
    Ok(iface)
}

/// `if_tsresol`: units of 10^-exp seconds, or of 2^-exp with the top bit set.
fn set_ts_resolution(iface: &mut Interface, r: u8) -> Result<(), String> {
    let exp = u32::from(r & 0x7f);
    if r & 0x80 == 0 {
        if exp > 38 {
            return Err(format!(
                "interface timestamp resolution 10^-{} is out of range",
                exp
            ));
        }
        if exp <= 9 {
            iface.ts_mul = 10u128.pow(9 - exp);
            iface.ts_div = 1;
        } else {
            iface.ts_mul = 1;
            iface.ts_div = 10u128.pow(exp - 9);
        }
    } else {
        if exp > 96 {
            return Err(format!(
                "interface timestamp resolution 2^-{} is out of range",
                exp
            ));
        }
        iface.ts_mul = 1_000_000_000;
        iface.ts_div = 1u128 << exp;
    }
    Ok(())
}

/// An enhanced packet block without its options, for when they cannot be decoded.
fn enhanced_packet_fixed<B: ByteOrder>(
    body: &[u8],
) -> Option<pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock<'_>> {
    let caplen = B::read_u32(body.get(12..16)?) as usize;
    let data = body.get(20..20 + caplen)?;
    let units = (u64::from(B::read_u32(&body[4..8])) << 32) | u64::from(B::read_u32(&body[8..12]));
    Some(
        pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock {
            interface_id: B::read_u32(&body[..4]),
            timestamp: std::time::Duration::from_nanos(units),
            original_len: B::read_u32(&body[16..20]),
            data: std::borrow::Cow::Borrowed(data),
            options: Vec::new(),
        },
    )
}

/// Parses one pcapng block. `B` is the current section's byte order (a new
/// section header block may change it).
fn pcapng_step<B: ByteOrder>(
    avail: &[u8],
    base: usize,
    big_endian: &mut bool,
    interfaces: &mut Vec<Interface>,
) -> Result<Step, String> {
    let (rem, raw) = match RawBlock::from_slice::<B>(avail) {
        Ok(ok) => ok,
        Err(PcapError::IncompleteBuffer) => {
            let claimed = (avail.len() >= 12).then(|| {
                let len = &avail[4..8];
                let block_type = BigEndian::read_u32(&avail[..4]);
                // A section header's length is in the byte order its magic states.
                let big = if block_type == SECTION_HEADER_BLOCK {
                    BigEndian::read_u32(&avail[8..12]) == 0x1A2B3C4D
                } else {
                    *big_endian
                };
                if big {
                    BigEndian::read_u32(len) as usize
                } else {
                    LittleEndian::read_u32(len) as usize
                }
            });
            return Ok(Step::NeedMore(claimed));
        }
        Err(e) => return Err(format!("invalid pcapng block: {}", e)),
    };
    let consumed = avail.len() - rem.len();
    let block_type = raw.type_;
    let offset_of = |data: &[u8]| base + (data.as_ptr() as usize - avail.as_ptr() as usize);
    match block_type {
        SECTION_HEADER_BLOCK => {
            // The byte-order magic opens the body; the options (free text) are not needed.
            if raw.body.len() < 4 {
                return Err("invalid section header block: too short".into());
            }
            *big_endian = BigEndian::read_u32(&raw.body[..4]) == 0x1A2B3C4D;
            // Interface numbers restart in every section.
            interfaces.clear();
            Ok(Step::Skip(consumed))
        }
        INTERFACE_DESCRIPTION_BLOCK => {
            interfaces.push(interface_description::<B>(&raw.body)?);
            Ok(Step::Skip(consumed))
        }
        ENHANCED_PACKET_BLOCK | PACKET_BLOCK | SIMPLE_PACKET_BLOCK => {
            // Borrowed from `avail` (no copy): the fallback below reads it.
            let body = raw.body.clone();
            let fixed = (block_type == ENHANCED_PACKET_BLOCK)
                .then(|| enhanced_packet_fixed::<B>(&body))
                .flatten();
            let block = match (Block::try_from_raw_block::<B>(raw), fixed) {
                (Ok(block), _) => block,
                // An option pcap-file cannot decode (text that is not UTF-8): the
                // packet itself is intact, so it is kept without its options.
                (Err(_), Some(epb)) => Block::EnhancedPacket(epb),
                (Err(e), None) => return Err(format!("invalid packet block: {}", e)),
            };
            let (iface_id, raw_ts, wire_len, data): (u32, u64, u32, &[u8]) = match &block {
                // pcap-file stores the raw timestamp units as nanoseconds
                // without applying if_tsresol; we apply it below.
                Block::EnhancedPacket(b) => (
                    b.interface_id,
                    b.timestamp.as_nanos() as u64,
                    b.original_len,
                    &b.data,
                ),
                Block::Packet(b) => (b.interface_id as u32, b.timestamp, b.original_len, &b.data),
                Block::SimplePacket(b) => (0, 0, b.original_len, &b.data),
                _ => return Err("invalid packet block".into()),
            };
            let Some(iface) = interfaces.get(iface_id as usize) else {
                return Err(format!(
                    "a packet refers to interface {}, but only {} interfaces are described",
                    iface_id,
                    interfaces.len()
                ));
            };
            let mut data_len = data.len();
            if block_type == SIMPLE_PACKET_BLOCK {
                // The simple packet block's data includes padding; its
                // captured length is implied by the original length and snaplen.
                let mut cap = wire_len as usize;
                if iface.snaplen != 0 {
                    cap = cap.min(iface.snaplen as usize);
                }
                data_len = data_len.min(cap);
            }
            let found = Found {
                ts: Time(if block_type == SIMPLE_PACKET_BLOCK {
                    0
                } else {
                    iface.nanos(raw_ts)
                }),
                wire_len: wire_len.max(data_len as u32),
                link: iface.link,
                data_start: offset_of(data),
                data_len,
            };
            Ok(Step::Packet(found, consumed))
        }
        _ => Ok(Step::Skip(consumed)),
    }
}
