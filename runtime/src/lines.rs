//! Line framing of a TCP connection, with the rules of Zeek's ContentLine
//! analyzer (`src/analyzer/protocol/tcp/ContentLine.cc`), for the grammar's
//! `lines(orig: Unit, resp: Unit)` analyzers.
//!
//! - A line ends at CRLF, at a bare LF and at a bare CR (each of the bare
//!   ones can be turned off); the terminator is not part of the line. A CR
//!   that ended a line swallows an LF right after it, even in the next chunk.
//!   A bare CR followed by anything but LF is reported once per connection
//!   (`line_terminated_with_single_CR`), a bare LF that is not an end of line
//!   likewise (`line_terminated_with_single_LF`).
//! - A line reaching `max_line` bytes is cut there: weird
//!   `contentline_size_exceeded`, the line is delivered, and the byte that
//!   did not fit is dropped (Zeek's `EMIT_LINE` consumes it).
//! - With `nul_weird`, the first NUL of the connection is dropped and
//!   reported (`NUL_in_line`); later NULs are data. Without it NULs are data.
//! - At the end of a direction a partial line is delivered as if an LF followed.
//! - `set_plain(n)` hands the next `n` bytes out unframed ([`LineEvent::Raw`]),
//!   then line framing resumes (Zeek's `SetPlainDelivery`); the consumer may end
//!   it early from inside a raw piece (see [`Lines::deliver_switching`]).
//!
//! A line inside one delivered chunk is handed out in place; only a line
//! that straddles chunks is copied, and never more than `max_line` bytes.

/// Zeek's ContentLine default: slightly below 16 MiB.
pub const DEFAULT_MAX_LINE: usize = 16 * 1024 * 1024 - 100;

/// Where weirds of the framer come from in `weird.log` (Zeek's support analyzer).
pub const WEIRD_SOURCE: &str = "CONTENTLINE";

/// How one direction is cut into lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineConfig {
    /// Longest line; a longer one is cut (weird `contentline_size_exceeded`).
    pub max_line: usize,
    /// A bare CR ends a line (Zeek's `CR_as_EOL`, on by default).
    pub cr_is_eol: bool,
    /// A bare LF ends a line (Zeek's `LF_as_EOL`, on by default).
    pub lf_is_eol: bool,
    /// The first NUL is dropped with weird `NUL_in_line` (Zeek's `SetIsNULSensitive`).
    pub nul_weird: bool,
    /// Pieces end at this byte instead (dropped like a line end); CR, LF and NUL are
    /// data (a grammar's `&delimiter(b">")`: XMPP's XML tokens).
    pub delimiter: Option<u8>,
}

impl Default for LineConfig {
    fn default() -> Self {
        LineConfig {
            max_line: DEFAULT_MAX_LINE,
            cr_is_eol: true,
            lf_is_eol: true,
            nul_weird: false,
            delimiter: None,
        }
    }
}

/// What framing produced, in stream order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineEvent<'a> {
    /// One line without its terminator.
    Line(&'a [u8]),
    /// Bytes delivered unframed after [`Lines::set_plain`].
    Raw(&'a [u8]),
    /// An anomaly of the framing (source [`WEIRD_SOURCE`]).
    Weird(&'static str),
}

/// Weirds Zeek flags once per connection (`Connection::FlagEvent`).
const SINGLE_CR: u8 = 1;
const SINGLE_LF: u8 = 2;
const NUL_IN_LINE: u8 = 4;

#[derive(Debug)]
struct Side {
    cfg: LineConfig,
    /// The start of a line that straddles chunks.
    pending: Vec<u8>,
    /// The previous byte scanned (0 after plain delivery), for CRLF across chunks.
    last_char: u8,
    /// Bytes still to hand out unframed.
    plain: u64,
    /// The next NUL is reported and dropped.
    nul_armed: bool,
}

/// Line framing of both directions of one connection.
#[derive(Debug)]
pub struct Lines {
    sides: [Side; 2],
    /// Once-per-connection weirds already reported.
    flagged: u8,
}

/// The line being built in one chunk: `pending` (earlier chunks) plus `data[run..]`.
struct Scan<'d> {
    data: &'d [u8],
    /// Start of the part of the current line that lies in `data`.
    run: usize,
}

impl Lines {
    /// `orig` and `resp` configure the two directions.
    pub fn new(orig: LineConfig, resp: LineConfig) -> Lines {
        let side = |cfg: LineConfig| Side {
            cfg,
            pending: Vec::new(),
            last_char: 0,
            plain: 0,
            nul_armed: cfg.nul_weird,
        };
        Lines {
            sides: [side(orig), side(resp)],
            flagged: 0,
        }
    }

    /// Bytes held for a line that straddles chunks.
    pub fn buffered(&self, is_orig: bool) -> usize {
        self.sides[ix(is_orig)].pending.len()
    }

    /// Whether a started line waits for its end (Zeek's `HasPartialLine`).
    pub fn has_partial_line(&self, is_orig: bool) -> bool {
        !self.sides[ix(is_orig)].pending.is_empty()
    }

    /// Hands the next `n` bytes of a direction out unframed, then goes back to lines.
    pub fn set_plain(&mut self, is_orig: bool, n: u64) {
        self.sides[ix(is_orig)].plain = n;
    }

    /// Bytes of a direction still to be handed out unframed.
    pub fn plain_remaining(&self, is_orig: bool) -> u64 {
        self.sides[ix(is_orig)].plain
    }

    /// `len` bytes of a direction were lost: they count against what is still
    /// to be handed out unframed (Zeek's ContentLine on a gap in plain mode).
    pub fn skip_plain(&mut self, is_orig: bool, len: u64) {
        let side = &mut self.sides[ix(is_orig)];
        side.plain = side.plain.saturating_sub(len);
    }

    /// Forgets the started line of a direction (Zeek's `SetSkipPartial` after a gap).
    pub fn drop_partial(&mut self, is_orig: bool) {
        self.sides[ix(is_orig)].pending.clear();
    }

    /// Feeds in-order stream bytes of one direction.
    pub fn deliver(&mut self, is_orig: bool, data: &[u8], on: &mut dyn FnMut(LineEvent<'_>)) {
        self.deliver_switching(is_orig, data, &mut |ev| {
            on(ev);
            0
        });
    }

    /// Like [`Lines::deliver`], but the consumer may switch the direction to plain
    /// delivery right after a line: `on` returns how many of the bytes that follow
    /// the line are to be handed out unframed (0: keep framing lines). This is
    /// Zeek's `SetPlainDelivery` called from inside `DeliverStream` (SMTP's BDAT:
    /// the chunk starts right after the command line, in the same segment).
    /// For a [`LineEvent::Raw`] piece `on` returns how many of its last bytes it did
    /// not use (0: all): plain delivery then ends and those bytes are framed as lines
    /// (an HTTP multipart body whose close delimiter ends the message early).
    pub fn deliver_switching(
        &mut self,
        is_orig: bool,
        data: &[u8],
        on: &mut dyn FnMut(LineEvent<'_>) -> u64,
    ) {
        let flagged = &mut self.flagged;
        let side = &mut self.sides[ix(is_orig)];
        if let Some(delimiter) = side.cfg.delimiter {
            return deliver_delimited(side, delimiter, data, on);
        }
        let mut s = Scan { data, run: 0 };
        let mut i = 0;
        while i < data.len() {
            let c = data[i];
            // A CR ended the last line: the LF of its CRLF is no new line.
            if side.cfg.cr_is_eol && side.last_char == b'\r' && c == b'\n' && s.is_empty_at(side, i)
            {
                side.last_char = c;
                i += 1;
                s.run = i;
                continue;
            }
            if side.plain > 0 {
                let n = usize::try_from(side.plain)
                    .unwrap_or(usize::MAX)
                    .min(data.len() - i);
                side.plain -= n as u64;
                side.last_char = 0;
                // The consumer may leave plain delivery inside the piece: the bytes it
                // did not use are framed as lines again (Zeek's `SetPlainDelivery(0)`).
                let unused = usize::try_from(on(LineEvent::Raw(&data[i..i + n])))
                    .unwrap_or(usize::MAX)
                    .min(n);
                if unused > 0 {
                    side.plain = 0;
                }
                i += n - unused;
                s.run = i;
                continue;
            }
            if s.len(side, i) >= side.cfg.max_line {
                let _ = on(LineEvent::Weird("contentline_size_exceeded"));
                s.emit(side, i, on);
                side.last_char = c;
                i += 1;
                s.run = i;
                continue;
            }
            match c {
                b'\r' if data.get(i + 1) == Some(&b'\n') => {
                    s.emit(side, i, on);
                    side.last_char = b'\n';
                    i += 2;
                    s.run = i;
                    continue;
                }
                b'\r' if side.cfg.cr_is_eol => {
                    s.emit(side, i, on);
                    side.last_char = c;
                    i += 1;
                    s.run = i;
                    continue;
                }
                b'\n' if side.last_char == b'\r' => {
                    if s.is_empty_at(side, i) {
                        // The CR ended a line already (it was the first byte of this chunk).
                        side.last_char = c;
                        i += 1;
                        s.run = i;
                        continue;
                    }
                    // A CR that is data, then LF: the pair ends the line.
                    s.emit_without_cr(side, i, on);
                    side.last_char = c;
                    i += 1;
                    s.run = i;
                    continue;
                }
                b'\n' if side.cfg.lf_is_eol => {
                    s.emit(side, i, on);
                    side.last_char = c;
                    i += 1;
                    s.run = i;
                    continue;
                }
                b'\n' => flag(flagged, SINGLE_LF, "line_terminated_with_single_LF", on),
                0 if side.nul_armed => {
                    side.nul_armed = false;
                    flag(flagged, NUL_IN_LINE, "NUL_in_line", on);
                    // The NUL is dropped: keep what came before it, restart the run after it.
                    side.pending.extend_from_slice(&data[s.run..i]);
                    s.run = i + 1;
                }
                _ => {}
            }
            if side.last_char == b'\r' {
                flag(flagged, SINGLE_CR, "line_terminated_with_single_CR", on);
            }
            side.last_char = c;
            i += 1;
            // Plain bytes of the line: take them in bulk up to the next special byte or the
            // limit (not right after a CR: the byte after it is checked for the weird above).
            if c == b'\r' {
                continue;
            }
            let room = side.cfg.max_line.saturating_sub(s.len(side, i));
            let end = data.len().min(i.saturating_add(room));
            let n = data[i..end]
                .iter()
                .position(|&b| matches!(b, b'\r' | b'\n' | 0))
                .unwrap_or(end - i);
            if n > 0 {
                side.last_char = data[i + n - 1];
                i += n;
            }
        }
        // Keep the unfinished line for the next chunk.
        side.pending
            .extend_from_slice(&data[s.run.min(data.len())..]);
    }

    /// The direction ended: a partial line is delivered as if an LF followed (Zeek's `EndpointEOF`).
    pub fn end_of_data(&mut self, is_orig: bool, on: &mut dyn FnMut(LineEvent<'_>)) {
        if !self.has_partial_line(is_orig) {
            return;
        }
        let side = &mut self.sides[ix(is_orig)];
        match side.cfg.delimiter {
            Some(d) => self.deliver(is_orig, &[d], on),
            None => self.deliver(is_orig, b"\n", on),
        }
    }
}

/// Delimiter framing: a piece ends at `delimiter` (not included) or at `max_line`
/// bytes (weird `contentline_size_exceeded`, the piece delivered cut, as lines are).
fn deliver_delimited(
    side: &mut Side,
    delimiter: u8,
    data: &[u8],
    on: &mut dyn FnMut(LineEvent<'_>) -> u64,
) {
    let mut s = Scan { data, run: 0 };
    let mut i = 0;
    while i < data.len() {
        let room = side.cfg.max_line.saturating_sub(s.len(side, i));
        if room == 0 {
            let _ = on(LineEvent::Weird("contentline_size_exceeded"));
            s.emit(side, i, on);
            s.run = i;
            continue;
        }
        let end = data.len().min(i.saturating_add(room));
        match data[i..end].iter().position(|&b| b == delimiter) {
            Some(n) => {
                s.emit(side, i + n, on);
                i += n + 1;
                s.run = i;
            }
            None => i = end,
        }
    }
    side.pending.extend_from_slice(&data[s.run.min(data.len())..]);
}

impl Scan<'_> {
    /// Length of the current line up to (not including) `data[i]`.
    fn len(&self, side: &Side, i: usize) -> usize {
        side.pending.len() + i.saturating_sub(self.run)
    }

    fn is_empty_at(&self, side: &Side, i: usize) -> bool {
        self.len(side, i) == 0
    }

    /// Delivers the line ending before `data[i]`: in place when it lies in this chunk.
    fn emit(&self, side: &mut Side, i: usize, on: &mut dyn FnMut(LineEvent<'_>) -> u64) {
        let here = &self.data[self.run.min(i)..i];
        let plain = if side.pending.is_empty() {
            on(LineEvent::Line(here))
        } else {
            side.pending.extend_from_slice(here);
            let plain = on(LineEvent::Line(&side.pending));
            side.pending.clear();
            plain
        };
        side.plain = side.plain.max(plain);
    }

    /// Like [`Scan::emit`], without the CR that ends the line so far.
    fn emit_without_cr(&self, side: &mut Side, i: usize, on: &mut dyn FnMut(LineEvent<'_>) -> u64) {
        if i > self.run {
            self.emit(side, i - 1, on);
        } else {
            side.pending.pop();
            let plain = on(LineEvent::Line(&side.pending));
            side.pending.clear();
            side.plain = side.plain.max(plain);
        }
    }
}

/// Reports a once-per-connection weird the first time.
fn flag(flagged: &mut u8, bit: u8, name: &'static str, on: &mut dyn FnMut(LineEvent<'_>) -> u64) {
    if *flagged & bit == 0 {
        *flagged |= bit;
        let _ = on(LineEvent::Weird(name));
    }
}

fn ix(is_orig: bool) -> usize {
    usize::from(!is_orig)
}

#[cfg(test)]
mod tests;
