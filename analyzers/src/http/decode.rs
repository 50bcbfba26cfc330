//! gzip / deflate bodies (Content-Encoding), inflated in bounded pieces.

use flate2::{Decompress, FlushDecompress, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Coding {
    Gzip,
    Deflate,
}

/// An inflater as Zeek's ZIP analyzer runs one over a body: zlib that finds
/// a gzip or zlib header by itself (whatever the Content-Encoding says), a
/// delivery at a time, 4,096 output bytes per inflate call. When the first
/// call of a delivery fails (no header at all, or bytes after a content
/// gap), it starts over on that delivery as raw deflate, once; any later
/// failure ends decoding (`inflate_failed`), and the output of the failing
/// call is lost. A gzip member's trailer (CRC-32, length) is checked as zlib
/// checks it.
pub(super) struct Decoder {
    z: Decompress,
    phase: Phase,
    /// Bytes of a header not yet complete (bounded), taken with the next delivery.
    held: Vec<u8>,
    /// The gzip member's running CRC-32 and length, and its trailer bytes.
    crc: crc32fast::Hasher,
    isize: u32,
    trailer: Vec<u8>,
    pub(super) failed: bool,
    pub(super) out_total: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the stream's header.
    Header,
    Gzip,
    /// zlib-wrapped or raw deflate (flate2 checks the zlib trailer).
    Deflate,
    /// After a gzip member's data, reading its trailer.
    Trailer,
    /// The stream ended (Zeek's `Z_STREAM_END`): later bytes are ignored.
    Done,
}

/// What one inflate call (at most one output buffer) did.
enum Call {
    /// Output made, and whether the stream ended.
    Ok {
        made: usize,
        ended: bool,
    },
    Error,
}

/// What the start of a stream is.
enum Header {
    Gzip(usize),
    Zlib,
    NeedMore,
    Bad,
}

/// Zeek's `unzip_size`.
const OUTPUT_PER_CALL: usize = 4096;
/// Most header bytes held while waiting for the rest of a gzip header.
const MAX_HEADER: usize = 4096;

fn header(h: &[u8]) -> Header {
    match h {
        [] | [0x1f] => Header::NeedMore,
        [0x1f, 0x8b, ..] => match gzip_header_len(h) {
            Some(Ok(n)) => Header::Gzip(n),
            Some(Err(())) => Header::Bad,
            None if h.len() >= MAX_HEADER => Header::Bad,
            None => Header::NeedMore,
        },
        [0x1f, ..] => Header::Bad,
        [_] => Header::NeedMore,
        [a, b, ..] if a & 0x0f == 8 && (u16::from(*a) << 8 | u16::from(*b)) % 31 == 0 => {
            Header::Zlib
        }
        _ => Header::Bad,
    }
}

impl Decoder {
    /// Zeek's ZIP analyzer finds the coding in the bytes, whatever the header said.
    pub(super) fn new() -> Decoder {
        Decoder {
            z: Decompress::new(false),
            phase: Phase::Header,
            held: Vec::new(),
            crc: crc32fast::Hasher::new(),
            isize: 0,
            trailer: Vec::new(),
            failed: false,
            out_total: 0,
        }
    }

    /// zlib's `inflateInit2(-MAX_WBITS)`: raw deflate from here on.
    fn restart_raw(&mut self) {
        self.z = Decompress::new(false);
        self.phase = Phase::Deflate;
        self.held.clear();
        self.trailer.clear();
    }

    /// One inflate call over `input` (advanced past what it consumed).
    fn call(&mut self, input: &mut &[u8], buf: &mut [u8]) -> Call {
        if self.phase == Phase::Trailer {
            let take = (8 - self.trailer.len()).min(input.len());
            self.trailer.extend_from_slice(&input[..take]);
            *input = &input[take..];
            if self.trailer.len() < 8 {
                return Call::Ok {
                    made: 0,
                    ended: false,
                };
            }
            let crc = u32::from_le_bytes([
                self.trailer[0],
                self.trailer[1],
                self.trailer[2],
                self.trailer[3],
            ]);
            let len = u32::from_le_bytes([
                self.trailer[4],
                self.trailer[5],
                self.trailer[6],
                self.trailer[7],
            ]);
            let ours = std::mem::replace(&mut self.crc, crc32fast::Hasher::new()).finalize();
            if crc != ours || len != self.isize {
                return Call::Error;
            }
            self.phase = Phase::Done;
            return Call::Ok {
                made: 0,
                ended: true,
            };
        }
        let before_in = self.z.total_in();
        let before_out = self.z.total_out();
        let status = self.z.decompress(input, buf, FlushDecompress::Sync);
        let used = (self.z.total_in() - before_in) as usize;
        let made = (self.z.total_out() - before_out) as usize;
        *input = &input[used..];
        if self.phase == Phase::Gzip {
            self.crc.update(&buf[..made]);
            self.isize = self.isize.wrapping_add(made as u32);
        }
        match status {
            Err(_) => Call::Error,
            Ok(Status::StreamEnd) if self.phase == Phase::Gzip => {
                // zlib checks a trailer that is already here in the same call.
                self.phase = Phase::Trailer;
                match self.call(input, &mut []) {
                    Call::Ok { ended, .. } => Call::Ok { made, ended },
                    Call::Error => Call::Error,
                }
            }
            Ok(Status::StreamEnd) => {
                self.phase = Phase::Done;
                Call::Ok { made, ended: true }
            }
            Ok(_) => Call::Ok { made, ended: false },
        }
    }
}

/// Inflates one delivery of body bytes, handing decoded pieces to `out`;
/// stops decoding at `max_total`. Sets `failed` where Zeek reports
/// `inflate_failed`.
pub(super) fn decode(
    dec: &mut Decoder,
    delivery: &[u8],
    max_total: u64,
    out: &mut dyn FnMut(&[u8]),
) {
    if dec.failed || dec.phase == Phase::Done || delivery.is_empty() {
        return;
    }
    let mut allow_restart = true;
    let joined;
    let mut input: &[u8] = if dec.held.is_empty() {
        delivery
    } else {
        joined = [std::mem::take(&mut dec.held), delivery.to_vec()].concat();
        &joined
    };
    if dec.phase == Phase::Header {
        match header(input) {
            Header::NeedMore => {
                dec.held = input.to_vec();
                return;
            }
            Header::Gzip(n) => {
                input = &input[n..];
                dec.phase = Phase::Gzip;
            }
            Header::Zlib => {
                dec.z = Decompress::new(true);
                dec.phase = Phase::Deflate;
            }
            Header::Bad => {
                // "Some servers seem to not generate zlib headers": raw deflate,
                // from the start of this delivery.
                allow_restart = false;
                dec.restart_raw();
                input = delivery;
            }
        }
    }
    let mut buf = [0u8; OUTPUT_PER_CALL];
    loop {
        let before = input.len();
        match dec.call(&mut input, &mut buf) {
            Call::Ok {
                made: 0,
                ended: false,
            } if input.len() == before => {
                // No progress at all: zlib's Z_BUF_ERROR, which Zeek reports.
                dec.failed = true;
                return;
            }
            Call::Ok { made, ended } => {
                allow_restart = false;
                let made = made.min(max_total.saturating_sub(dec.out_total) as usize);
                if made > 0 {
                    dec.out_total += made as u64;
                    out(&buf[..made]);
                }
                if ended || input.is_empty() || dec.out_total >= max_total {
                    return;
                }
            }
            Call::Error if allow_restart => {
                allow_restart = false;
                dec.restart_raw();
                input = delivery;
            }
            Call::Error => {
                dec.failed = true;
                return;
            }
        }
    }
}

/// Length of a complete gzip member header, `None` if more bytes are needed.
pub(super) fn gzip_header_len(h: &[u8]) -> Option<Result<usize, ()>> {
    // A wrong magic number or method fails at once, as zlib does on its first bytes.
    if h.iter()
        .zip([0x1f, 0x8b, 8])
        .any(|(got, want)| *got != want)
    {
        return Some(Err(()));
    }
    if h.len() < 10 {
        return None;
    }
    let flags = h[3];
    let mut pos = 10;
    if flags & 4 != 0 {
        let xlen = usize::from(*h.get(pos)?) | usize::from(*h.get(pos + 1)?) << 8;
        pos += 2 + xlen;
    }
    for bit in [8u8, 16] {
        if flags & bit != 0 {
            let z = h.get(pos..)?.iter().position(|&b| b == 0)?;
            pos += z + 1;
        }
    }
    if flags & 2 != 0 {
        pos += 2;
    }
    (pos <= h.len()).then_some(Ok(pos))
}
