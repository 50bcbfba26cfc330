//! gzip / deflate bodies (Content-Encoding), inflated in bounded pieces.

use flate2::{Decompress, FlushDecompress, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Coding {
    Gzip,
    Deflate,
}

pub(super) struct Decoder {
    pub(super) z: Decompress,
    pub(super) coding: Coding,
    /// Bytes of the gzip header still to skip, or None once parsed.
    pub(super) gzip_header: Vec<u8>,
    pub(super) started: bool,
    pub(super) failed: bool,
    pub(super) out_total: u64,
}

impl Decoder {
    pub(super) fn new(coding: Coding) -> Decoder {
        Decoder {
            z: Decompress::new(coding == Coding::Deflate),
            coding,
            gzip_header: Vec::new(),
            started: false,
            failed: false,
            out_total: 0,
        }
    }
}

/// Inflates `input`, handing decoded pieces to `out`; stops decoding at `max_total`.
pub(super) fn decode(
    dec: &mut Decoder,
    mut input: &[u8],
    max_total: u64,
    out: &mut dyn FnMut(&[u8]),
) {
    if dec.coding == Coding::Gzip && !dec.started {
        // The gzip header (RFC 1952) is variable-length; collect it (bounded) before inflating raw deflate.
        let prev = dec.gzip_header.len();
        let room = 4096usize.saturating_sub(prev);
        dec.gzip_header
            .extend_from_slice(&input[..input.len().min(room)]);
        match gzip_header_len(&dec.gzip_header) {
            Some(Ok(n)) => {
                input = &input[n.saturating_sub(prev).min(input.len())..];
                dec.gzip_header = Vec::new();
                dec.started = true;
            }
            Some(Err(())) => {
                dec.failed = true;
                return;
            }
            None if dec.gzip_header.len() >= 4096 => {
                dec.failed = true;
                return;
            }
            None => return,
        }
    } else if dec.coding == Coding::Deflate && !dec.started {
        dec.started = true;
        // "deflate" is meant to be zlib-wrapped, but raw deflate is common; pick by the header.
        let zlib = input.len() >= 2
            && (input[0] & 0x0f) == 8
            && (u16::from(input[0]) << 8 | u16::from(input[1])) % 31 == 0;
        dec.z = Decompress::new(zlib);
    }
    let mut buf = [0u8; 8192];
    while !input.is_empty() && dec.out_total < max_total {
        let before_in = dec.z.total_in();
        let before_out = dec.z.total_out();
        let status = dec.z.decompress(input, &mut buf, FlushDecompress::None);
        let used = (dec.z.total_in() - before_in) as usize;
        let made = (dec.z.total_out() - before_out) as usize;
        input = &input[used..];
        let made = made.min((max_total - dec.out_total) as usize);
        if made > 0 {
            dec.out_total += made as u64;
            out(&buf[..made]);
        }
        match status {
            Ok(Status::StreamEnd) => return,
            Ok(_) if used == 0 && made == 0 => return,
            Ok(_) => {}
            Err(_) => {
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
