//! BDAT (RFC 3030) as Zeek reads it (src/analyzer/protocol/smtp/BDAT.cc): the
//! command's argument, and the lines of the raw chunks that follow it.

/// A parsed `BDAT <chunk-size> [LAST]` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BdatCmd {
    pub chunk_size: u64,
    pub last: bool,
}

/// `parse_bdat_arg`; the error is the `addl` of weird `smtp_invalid_bdat_command`.
pub fn parse_bdat_arg(arg: &[u8]) -> Result<BdatCmd, &'static str> {
    // strlen("18446744073709551615 LAST"): the longest argument Zeek accepts.
    const MAX_ARG_LEN: usize = 25;
    if arg.is_empty() || arg.len() > MAX_ARG_LEN {
        return Err("BDAT argument bad length");
    }
    if !arg[0].is_ascii_digit() {
        return Err("BDAT not followed by a valid chunk-size");
    }
    let digits = arg.iter().take_while(|c| c.is_ascii_digit()).count();
    let rest = &arg[digits..];
    // strtoull stops at the first non-digit; only a space or the end may follow.
    if !(rest.is_empty() || rest[0] == b' ' || rest[0] == 0) {
        return Err("BDAT chunk-size not valid");
    }
    let mut chunk_size: u64 = 0;
    for &d in &arg[..digits] {
        chunk_size = chunk_size
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .ok_or("BDAT chunk-size too large")?;
    }
    let mut last = false;
    if !rest.is_empty() {
        last = rest.len() >= 5 && rest[..5].eq_ignore_ascii_case(b" LAST");
        if !last || rest.len() != 5 {
            return Err("BDAT chunk-size followed by junk");
        }
    }
    Ok(BdatCmd { chunk_size, last })
}

/// What the chunk splitter hands on: a line and whether a CRLF ended it.
pub type ChunkLine<'a> = (&'a [u8], bool);

/// `SMTP_BDAT_Analyzer`: cuts the bytes of consecutive chunks into lines at
/// CRLF (a bare LF ends a line too, kept in it; an overlong line is cut) for
/// the MIME parser. Holds at most `max_line` bytes.
#[derive(Debug)]
pub struct BdatChunks {
    max_line: usize,
    buf: Vec<u8>,
    remaining: u64,
    last: bool,
}

impl BdatChunks {
    pub fn new(max_line: u64) -> BdatChunks {
        BdatChunks {
            max_line: usize::try_from(max_line).unwrap_or(usize::MAX).max(1),
            buf: Vec::new(),
            remaining: 0,
            last: false,
        }
    }

    /// `NextChunk`: the next `size` bytes are a chunk (the last one if `last`).
    pub fn next_chunk(&mut self, size: u64, last: bool) {
        self.remaining = size;
        self.last = last;
    }

    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    pub fn is_last(&self) -> bool {
        self.last
    }

    /// Bytes of the current chunk; `on` gets each line, `weird` each anomaly.
    pub fn deliver(
        &mut self,
        data: &[u8],
        on: &mut dyn FnMut(ChunkLine<'_>),
        weird: &mut dyn FnMut(&'static str, String),
    ) {
        let mut data = data;
        if data.len() as u64 > self.remaining {
            weird("smtp_bdat_chunk_overflow", String::new());
            data = &data[..self.remaining as usize];
        }
        // A CR at the end of the buffer not followed by LF ends a line of its own.
        if self.buf.last() == Some(&b'\r') && data.first() != Some(&b'\n') {
            weird("smtp_bdat_line_cr_only", String::new());
            on((&self.buf, false));
            self.buf.clear();
        }
        for &c in data {
            if c == b'\n' {
                if self.buf.last() == Some(&b'\r') {
                    self.buf.pop();
                    on((&self.buf, true));
                } else {
                    weird("smtp_bdat_line_lf_only", String::new());
                    self.buf.push(c);
                    on((&self.buf, false));
                }
                self.buf.clear();
                continue;
            }
            // Cut before the line grows past the limit; a CR may still end it.
            if c != b'\r' && self.buf.len() >= self.max_line {
                weird("smtp_bdat_line_too_long", (self.buf.len() + 1).to_string());
                on((&self.buf, false));
                self.buf.clear();
            }
            self.buf.push(c);
        }
        self.remaining -= data.len() as u64;
        if self.last && self.remaining == 0 && !self.buf.is_empty() {
            on((&self.buf, false));
            self.buf.clear();
        }
    }

    /// `Done`: anything still buffered is delivered (weird `smtp_bdat_undelivered_at_done`).
    pub fn done(&mut self, on: &mut dyn FnMut(ChunkLine<'_>), weird: &mut dyn FnMut(&'static str, String)) {
        if !self.buf.is_empty() {
            weird("smtp_bdat_undelivered_at_done", String::new());
            on((&self.buf, false));
            self.buf.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_as_zeek_reads_them() {
        let ok = |s: &[u8]| parse_bdat_arg(s).unwrap();
        assert_eq!(ok(b"86 LAST"), BdatCmd { chunk_size: 86, last: true });
        assert_eq!(ok(b"86 last"), BdatCmd { chunk_size: 86, last: true });
        assert_eq!(ok(b"86"), BdatCmd { chunk_size: 86, last: false });
        assert_eq!(ok(b"18446744073709551615 LAST").chunk_size, u64::MAX);
        let err = |s: &[u8]| parse_bdat_arg(s).unwrap_err();
        assert_eq!(err(b" 86 LAST"), "BDAT not followed by a valid chunk-size");
        assert_eq!(err(b"-42 LAST"), "BDAT not followed by a valid chunk-size");
        assert_eq!(err(b"86LAST"), "BDAT chunk-size not valid");
        assert_eq!(err(b"86 SCRAMBLE"), "BDAT chunk-size followed by junk");
        assert_eq!(err(b"86 LASTSCRAMBLE"), "BDAT chunk-size followed by junk");
        assert_eq!(err(b"184467440737095516150"), "BDAT chunk-size too large");
        assert_eq!(err(b"184467440737095516150 LAST"), "BDAT argument bad length");
        assert_eq!(err(b""), "BDAT argument bad length");
    }

    fn split(max: u64, parts: &[&[u8]]) -> (Vec<(Vec<u8>, bool)>, Vec<&'static str>) {
        let mut b = BdatChunks::new(max);
        b.next_chunk(parts.iter().map(|p| p.len() as u64).sum(), true);
        let (mut lines, mut weirds) = (Vec::new(), Vec::new());
        for p in parts {
            b.deliver(p, &mut |(l, c)| lines.push((l.to_vec(), c)), &mut |w, _| weirds.push(w));
        }
        (lines, weirds)
    }

    #[test]
    fn lines_across_pieces() {
        let (l, w) = split(128, &[b"MIME-", b"Version: 1.0\r", b"\nSubject: Zeek", b" Logo\r\n"]);
        assert_eq!(l, vec![(b"MIME-Version: 1.0".to_vec(), true), (b"Subject: Zeek Logo".to_vec(), true)]);
        assert!(w.is_empty());
    }

    #[test]
    fn bare_cr_and_lf() {
        let (l, w) = split(128, &[b"A\r", b"B\n", b"C\r\n"]);
        assert_eq!(
            l,
            vec![(b"A\r".to_vec(), false), (b"B\n".to_vec(), false), (b"C".to_vec(), true)]
        );
        assert_eq!(w, vec!["smtp_bdat_line_cr_only", "smtp_bdat_line_lf_only"]);
    }

    #[test]
    fn overlong_lines_are_cut() {
        let (l, _) = split(10, &[b"1234567890123: 45\r\n", b"X-Test: Y\r\n"]);
        assert_eq!(
            l,
            vec![
                (b"1234567890".to_vec(), false),
                (b"123: 45".to_vec(), true),
                (b"X-Test: Y".to_vec(), true)
            ]
        );
    }
}
