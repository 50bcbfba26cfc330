//! Runtime support for generated parsers: a bounded [`Cursor`] over the
//! input, [`ParseError`] (which separates "need more input" from
//! "malformed"), checked arithmetic helpers and the per-PDU [`ParseCx`].
//!
//! Every length read from the wire opens a window ([`Cursor::sub`]); running
//! out inside a window is [`InvalidKind::Truncated`]. Only a cursor made with
//! [`Cursor::streaming`] reports [`ParseError::Incomplete`] at its end.

use bytes::Bytes;
use std::cell::OnceCell;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Why a parse failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// The (streaming) input ended early: at least `needed` more bytes are required.
    Incomplete { needed: usize },
    /// The input is malformed.
    Invalid {
        /// Offset (from the start of the input) where the problem was found.
        offset: usize,
        /// Grammar path of the field being parsed, e.g. `dns.RR.rdata`.
        at: &'static str,
        kind: InvalidKind,
        /// Whether a weird naming this failure was already reported
        /// (`&on_error(weird = ..)`), so the analyzer need not report a violation.
        reported: bool,
    },
}

/// What was wrong with malformed input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidKind {
    /// A window (length field) ended before the field did.
    Truncated,
    /// A `&size` window was not consumed completely.
    TrailingData,
    /// A `&requires(.., violation = "name")` constraint failed.
    Requires(&'static str),
    /// Overflow, underflow or division by zero.
    Arithmetic,
    /// A declared limit was exceeded (element count, depth, ...).
    Limit(&'static str),
    /// A value the grammar (or an extern unit) rejects.
    BadValue(&'static str),
    /// An array element consumed no input (would loop forever).
    NoProgress,
}

impl ParseError {
    pub fn invalid(offset: usize, at: &'static str, kind: InvalidKind) -> ParseError {
        ParseError::Invalid {
            offset,
            at,
            kind,
            reported: false,
        }
    }
    pub fn is_incomplete(&self) -> bool {
        matches!(self, ParseError::Incomplete { .. })
    }
    /// The same error, marked as already reported through a weird.
    pub fn mark_reported(self) -> ParseError {
        match self {
            ParseError::Invalid {
                offset, at, kind, ..
            } => ParseError::Invalid {
                offset,
                at,
                kind,
                reported: true,
            },
            e => e,
        }
    }
    pub fn is_reported(&self) -> bool {
        matches!(self, ParseError::Invalid { reported: true, .. })
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Incomplete { needed } => {
                write!(f, "incomplete input: {needed} more bytes needed")
            }
            ParseError::Invalid {
                offset, at, kind, ..
            } => {
                write!(f, "{at} at offset {offset}: ")?;
                match kind {
                    InvalidKind::Truncated => f.write_str("truncated"),
                    InvalidKind::TrailingData => f.write_str("trailing data in window"),
                    InvalidKind::Requires(n) => write!(f, "constraint {n} failed"),
                    InvalidKind::Arithmetic => f.write_str("arithmetic overflow"),
                    InvalidKind::Limit(n) => write!(f, "limit {n} exceeded"),
                    InvalidKind::BadValue(n) => write!(f, "bad value: {n}"),
                    InvalidKind::NoProgress => f.write_str("array element consumed no input"),
                }
            }
        }
    }
}

impl std::error::Error for ParseError {}

/// A bounded reader over `buf[pos..end]`.
#[derive(Debug, Clone, Copy)]
pub struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
    origin: usize,
    streaming: bool,
    /// Where a scan of the same stream ran out the last time (a unit that frames
    /// itself is parsed again from its start as its bytes come): that scan goes
    /// on from there instead of reading its bytes again.
    memo: Option<&'a std::cell::Cell<ScanMemo>>,
}

/// A scan (`&while_in`, `&while_not_in`, `&until`) that ran out of a stream's bytes:
/// from `start` of the buffer at `base`, nothing ending it lies before `end`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanMemo {
    base: usize,
    start: usize,
    key: usize,
    end: usize,
}

macro_rules! read_int {
    ($name:ident, $ty:ty, $n:expr, $conv:ident) => {
        #[inline]
        pub fn $name(&mut self, at: &'static str) -> Result<$ty, ParseError> {
            let b = self.take($n, at)?;
            let mut a = [0u8; $n];
            a.copy_from_slice(b);
            Ok(<$ty>::$conv(a))
        }
    };
}

impl<'a> Cursor<'a> {
    /// A cursor over a complete PDU: running out is `Truncated`.
    pub fn new(buf: &'a [u8]) -> Cursor<'a> {
        Cursor {
            buf,
            pos: 0,
            end: buf.len(),
            origin: 0,
            streaming: false,
            memo: None,
        }
    }
    /// A cursor over the start of a stream: running out is `Incomplete`.
    pub fn streaming(buf: &'a [u8]) -> Cursor<'a> {
        Cursor {
            streaming: true,
            ..Cursor::new(buf)
        }
    }
    /// As [`Cursor::streaming`], remembering in `memo` where scans ran out, so that
    /// parsing the same buffer again, longer, does not read those bytes again (the
    /// framer of a unit that frames itself keeps `memo` while its buffer only grows).
    pub fn streaming_with_memo(buf: &'a [u8], memo: &'a std::cell::Cell<ScanMemo>) -> Cursor<'a> {
        Cursor {
            memo: Some(memo),
            ..Cursor::streaming(buf)
        }
    }
    /// Where a scan from the cursor with `key` may start: past what an earlier try
    /// over the same buffer already read (less `back` bytes, for a delimiter that
    /// may straddle).
    fn scan_from(&self, key: usize, back: usize) -> usize {
        match self.memo.map(|m| m.get()) {
            Some(m) if self.streaming && m.base == self.buf.as_ptr() as usize && m.start == self.pos && m.key == key && m.end <= self.end => {
                m.end.saturating_sub(back).max(self.pos)
            }
            _ => self.pos,
        }
    }
    /// A scan from the cursor with `key` ran out of input.
    fn scan_ran_out(&self, key: usize) {
        if let (true, Some(m)) = (self.streaming, self.memo) {
            m.set(ScanMemo { base: self.buf.as_ptr() as usize, start: self.pos, key, end: self.end });
        }
    }
    /// Offset from the start of the input.
    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }
    #[inline]
    pub fn remaining(&self) -> usize {
        self.end - self.pos
    }
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pos >= self.end
    }
    fn short(&self, n: usize, at: &'static str) -> ParseError {
        if self.streaming {
            ParseError::Incomplete {
                needed: n - self.remaining(),
            }
        } else {
            ParseError::invalid(self.pos, at, InvalidKind::Truncated)
        }
    }
    /// The next `n` bytes.
    #[inline]
    pub fn take(&mut self, n: usize, at: &'static str) -> Result<&'a [u8], ParseError> {
        if n > self.remaining() {
            return Err(self.short(n, at));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize, at: &'static str) -> Result<(), ParseError> {
        self.take(n, at).map(|_| ())
    }
    /// Everything up to the end of the window.
    #[inline]
    pub fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..self.end];
        self.pos = self.end;
        s
    }
    /// Bytes up to (not including) `delim`; the delimiter is consumed.
    pub fn until(&mut self, delim: &[u8], at: &'static str) -> Result<&'a [u8], ParseError> {
        let key = (delim.as_ptr() as usize) ^ (delim.len() << 1) ^ 1;
        let from = self.scan_from(key, delim.len().saturating_sub(1)) - self.pos;
        let hay = &self.buf[self.pos..self.end];
        let found = if delim.is_empty() {
            Some(0)
        } else if delim.len() == 1 {
            hay[from..].iter().position(|&b| b == delim[0]).map(|n| n + from)
        } else {
            // Scan for the first delimiter byte, then compare the rest.
            let mut i = from;
            let mut hit = None;
            while let Some(p) = hay[i..].iter().position(|&b| b == delim[0]) {
                let s = i + p;
                if hay.len() - s < delim.len() {
                    break;
                }
                if &hay[s..s + delim.len()] == delim {
                    hit = Some(s);
                    break;
                }
                i = s + 1;
            }
            hit
        };
        match found {
            Some(n) => {
                let s = &hay[..n];
                self.pos += n + delim.len();
                Ok(s)
            }
            None if self.streaming => {
                self.scan_ran_out(key);
                Err(ParseError::Incomplete { needed: 1 })
            }
            None => Err(ParseError::invalid(self.end, at, InvalidKind::Truncated)),
        }
    }
    /// Bytes up to (not including) `delim`, which is consumed; without one, the rest of the window.
    pub fn until_or_eod(&mut self, delim: &[u8]) -> &'a [u8] {
        let mut probe = *self;
        probe.streaming = false;
        match probe.until(delim, "") {
            Ok(s) => {
                self.pos = probe.pos;
                s
            }
            Err(_) => self.rest(),
        }
    }
    /// The longest run of bytes that are in `set` (`inside`) or not in it; may be empty.
    pub fn take_while_in(&mut self, set: &[u8], inside: bool) -> &'a [u8] {
        let key = (set.as_ptr() as usize) ^ (set.len() << 1) ^ usize::from(inside) << 2;
        let from = self.scan_from(key, 0) - self.pos;
        let hay = &self.buf[self.pos..self.end];
        let n = match hay[from..].iter().position(|b| set.contains(b) != inside) {
            Some(n) => n + from,
            None => {
                // The run may go on in bytes still to come.
                self.scan_ran_out(key);
                hay.len()
            }
        };
        self.pos += n;
        &hay[..n]
    }
    /// Whether the input at the cursor starts with `lit` (ASCII case-insensitively
    /// with `ci`); nothing is consumed.
    pub fn looking_at(&self, lit: &[u8], ci: bool) -> bool {
        let hay = &self.buf[self.pos..self.end];
        match hay.get(..lit.len()) {
            Some(h) if ci => h.eq_ignore_ascii_case(lit),
            Some(h) => h == lit,
            None => false,
        }
    }
    /// Whether the input `at` bytes past the cursor starts with `lit` (grammar
    /// `looking_at(b"..", at)`); nothing is consumed.
    pub fn looking_at_offset(&self, at: u64, lit: &[u8], ci: bool) -> bool {
        let hay = &self.buf[self.pos..self.end];
        let Some(hay) = usize::try_from(at).ok().and_then(|at| hay.get(at..)) else {
            return false;
        };
        match hay.get(..lit.len()) {
            Some(h) if ci => h.eq_ignore_ascii_case(lit),
            Some(h) => h == lit,
            None => false,
        }
    }
    /// The next `n` bytes read as an ASCII decimal number (grammar `peek_dec(n)`),
    /// 0 unless there are `n` bytes and all are digits (Zeek's FTP/SMTP reply codes);
    /// nothing is consumed.
    pub fn peek_dec(&self, n: u64) -> u64 {
        let hay = &self.buf[self.pos..self.end];
        match usize::try_from(n).ok().and_then(|n| hay.get(..n)) {
            Some(d) if d.iter().all(u8::is_ascii_digit) => crate::text::ascii_dec(d),
            _ => 0,
        }
    }
    /// The `width` bytes `at` bytes past the cursor as a big-endian number (grammar
    /// `peek_uint`), 0 unless they are all there; nothing is consumed.
    pub fn peek_uint(&self, at: u64, width: u8) -> u64 {
        let hay = &self.buf[self.pos..self.end];
        let Ok(at) = usize::try_from(at) else {
            return 0;
        };
        match at.checked_add(usize::from(width)).and_then(|end| hay.get(at..end)) {
            Some(b) => b.iter().fold(0u64, |v, &x| (v << 8) | u64::from(x)),
            None => 0,
        }
    }
    /// [`Cursor::peek_uint`] for a frame length: on a streaming cursor, bytes
    /// not there yet are [`ParseError::Incomplete`] (the PDU's length cannot be
    /// told yet) instead of 0.
    pub fn peek_uint_framed(&self, at: u64, width: u8, little: bool) -> Result<u64, ParseError> {
        let have = (self.end - self.pos) as u64;
        if self.streaming && at.saturating_add(u64::from(width)) > have {
            return Err(ParseError::Incomplete {
                needed: usize::try_from(at.saturating_add(u64::from(width)) - have).unwrap_or(usize::MAX),
            });
        }
        Ok(if little { self.peek_uint_le(at, width) } else { self.peek_uint(at, width) })
    }
    /// [`Cursor::peek_uint`] read little-endian.
    pub fn peek_uint_le(&self, at: u64, width: u8) -> u64 {
        let hay = &self.buf[self.pos..self.end];
        let Ok(at) = usize::try_from(at) else {
            return 0;
        };
        match at.checked_add(usize::from(width)).and_then(|end| hay.get(at..end)) {
            Some(b) => b.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x)),
            None => 0,
        }
    }
    /// A window over the next `n` bytes; this cursor moves past them.
    pub fn sub(&mut self, n: usize, at: &'static str) -> Result<Cursor<'a>, ParseError> {
        if n > self.remaining() {
            return Err(self.short(n, at));
        }
        let w = Cursor {
            buf: self.buf,
            pos: self.pos,
            end: self.pos + n,
            origin: self.origin,
            streaming: false,
            memo: self.memo,
        };
        self.pos += n;
        Ok(w)
    }
    /// A window over at most `n` bytes; the caller advances this cursor by
    /// what the window consumed ([`Cursor::advance_to`]).
    pub fn sub_max(&self, n: usize) -> Cursor<'a> {
        let len = n.min(self.remaining());
        Cursor {
            buf: self.buf,
            pos: self.pos,
            end: self.pos + len,
            origin: self.origin,
            // A window that ends where a stream's bytes so far end may grow with more.
            streaming: self.streaming && n > self.remaining(),
            memo: self.memo,
        }
    }
    /// The bytes from the origin (a `&origin` unit's start, else the input's) to the
    /// cursor (grammar `$span`: what the unit has read so far).
    pub fn since_origin(&self) -> &'a [u8] {
        &self.buf[self.origin.min(self.pos)..self.pos]
    }
    /// Moves to `pos` (from a window made by [`Cursor::sub_max`]); forward only.
    pub fn advance_to(&mut self, pos: usize) {
        if pos > self.pos && pos <= self.end {
            self.pos = pos;
        }
    }
    /// Moves forward to `origin + off` (grammar `skip to`); backward or out of window is invalid.
    pub fn skip_to(&mut self, off: usize, at: &'static str) -> Result<(), ParseError> {
        let target = self.origin.checked_add(off).ok_or(ParseError::invalid(
            self.pos,
            at,
            InvalidKind::Arithmetic,
        ))?;
        if target < self.pos || target > self.end {
            return Err(ParseError::invalid(
                self.pos,
                at,
                InvalidKind::BadValue("offset outside window"),
            ));
        }
        self.pos = target;
        Ok(())
    }
    /// A cursor at `origin + off` up to the end of this window, before or after
    /// this cursor's position (grammar `&at`: a field where it lies); this cursor
    /// does not move.
    pub fn at_origin(&self, off: usize, at: &'static str) -> Result<Cursor<'a>, ParseError> {
        let target = self.origin.checked_add(off).ok_or(ParseError::invalid(self.pos, at, InvalidKind::Arithmetic))?;
        if target > self.end {
            return Err(ParseError::invalid(self.pos, at, InvalidKind::BadValue("offset outside window")));
        }
        Ok(Cursor {
            buf: self.buf,
            pos: target,
            end: self.end,
            origin: self.origin,
            // The same end: a stream's bytes so far, if this cursor reads a stream.
            streaming: self.streaming,
            memo: self.memo,
        })
    }
    /// Makes the current position the origin that extern units (e.g. DNS
    /// names) count offsets from; returns the previous origin.
    pub fn set_origin_here(&mut self) -> usize {
        std::mem::replace(&mut self.origin, self.pos)
    }
    pub fn restore_origin(&mut self, origin: usize) {
        self.origin = origin;
    }
    /// Offset of the origin in the input.
    pub fn origin(&self) -> usize {
        self.origin
    }
    /// The input from the origin up to the current position (what a
    /// backward pointer may refer to).
    pub fn before_from_origin(&self) -> &'a [u8] {
        &self.buf[self.origin.min(self.pos)..self.pos]
    }
    /// The input from the cursor to the end of the window, not consumed
    /// (a grammar's `$rest`).
    pub fn peek_rest(&self) -> &'a [u8] {
        &self.buf[self.pos..self.end]
    }
    /// The whole input buffer (extern units resolve backward pointers in it).
    pub fn input(&self) -> &'a [u8] {
        self.buf
    }
    read_int!(u8, u8, 1, from_be_bytes);
    read_int!(i8, i8, 1, from_be_bytes);
    read_int!(u16_be, u16, 2, from_be_bytes);
    read_int!(u16_le, u16, 2, from_le_bytes);
    read_int!(u32_be, u32, 4, from_be_bytes);
    read_int!(u32_le, u32, 4, from_le_bytes);
    read_int!(u64_be, u64, 8, from_be_bytes);
    read_int!(u64_le, u64, 8, from_le_bytes);
    read_int!(i16_be, i16, 2, from_be_bytes);
    read_int!(i16_le, i16, 2, from_le_bytes);
    read_int!(i32_be, i32, 4, from_be_bytes);
    read_int!(i32_le, i32, 4, from_le_bytes);
    read_int!(i64_be, i64, 8, from_be_bytes);
    read_int!(i64_le, i64, 8, from_le_bytes);
    #[inline]
    pub fn u24_be(&mut self, at: &'static str) -> Result<u32, ParseError> {
        let b = self.take(3, at)?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }
    #[inline]
    pub fn u24_le(&mut self, at: &'static str) -> Result<u32, ParseError> {
        let b = self.take(3, at)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], 0]))
    }
    #[inline]
    pub fn u8_be(&mut self, at: &'static str) -> Result<u8, ParseError> {
        self.u8(at)
    }
    #[inline]
    pub fn u8_le(&mut self, at: &'static str) -> Result<u8, ParseError> {
        self.u8(at)
    }
    #[inline]
    pub fn i8_be(&mut self, at: &'static str) -> Result<i8, ParseError> {
        self.i8(at)
    }
    #[inline]
    pub fn i8_le(&mut self, at: &'static str) -> Result<i8, ParseError> {
        self.i8(at)
    }
    pub fn ipv4(&mut self, at: &'static str) -> Result<Ipv4Addr, ParseError> {
        let b = self.take(4, at)?;
        Ok(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
    }
    pub fn ipv6(&mut self, at: &'static str) -> Result<Ipv6Addr, ParseError> {
        let b = self.take(16, at)?;
        let mut a = [0u8; 16];
        a.copy_from_slice(b);
        Ok(Ipv6Addr::from(a))
    }
}

/// Checked arithmetic for generated code: every failure is a parse error.
pub mod ops {
    use super::{InvalidKind, ParseError};
    fn arith(at: &'static str, off: usize) -> ParseError {
        ParseError::invalid(off, at, InvalidKind::Arithmetic)
    }
    #[inline]
    pub fn add(a: u64, b: u64, at: &'static str, off: usize) -> Result<u64, ParseError> {
        a.checked_add(b).ok_or_else(|| arith(at, off))
    }
    #[inline]
    pub fn sub(a: u64, b: u64, at: &'static str, off: usize) -> Result<u64, ParseError> {
        a.checked_sub(b).ok_or_else(|| arith(at, off))
    }
    #[inline]
    pub fn mul(a: u64, b: u64, at: &'static str, off: usize) -> Result<u64, ParseError> {
        a.checked_mul(b).ok_or_else(|| arith(at, off))
    }
    #[inline]
    pub fn div(a: u64, b: u64, at: &'static str, off: usize) -> Result<u64, ParseError> {
        a.checked_div(b).ok_or_else(|| arith(at, off))
    }
    #[inline]
    pub fn rem(a: u64, b: u64, at: &'static str, off: usize) -> Result<u64, ParseError> {
        a.checked_rem(b).ok_or_else(|| arith(at, off))
    }
    #[inline]
    pub fn shl(a: u64, b: u64, at: &'static str, off: usize) -> Result<u64, ParseError> {
        u32::try_from(b)
            .ok()
            .and_then(|b| a.checked_shl(b))
            .ok_or_else(|| arith(at, off))
    }
    #[inline]
    pub fn shr(a: u64, b: u64, at: &'static str, off: usize) -> Result<u64, ParseError> {
        u32::try_from(b)
            .ok()
            .and_then(|b| a.checked_shr(b))
            .ok_or_else(|| arith(at, off))
    }
    #[inline]
    pub fn to_usize(a: u64, at: &'static str, off: usize) -> Result<usize, ParseError> {
        usize::try_from(a).map_err(|_| arith(at, off))
    }
}

/// Limits every generated parser obeys, whatever its grammar declares.
pub const MAX_ELEMENTS: usize = 1 << 20;
/// Maximum nesting of units (recursive grammars).
pub const MAX_DEPTH: u16 = 64;
/// At most this many weirds are kept per PDU.
pub const MAX_WEIRDS_PER_PDU: usize = 32;

/// Per-PDU parse state: direction, weirds seen, whether parsing halted.
#[derive(Debug, Default)]
pub struct ParseCx {
    pub is_orig: bool,
    /// The responder's port (some protocols change rules by port).
    pub resp_port: u16,
    /// The analyzer had confirmed its protocol on the connection before this
    /// PDU (`$confirmed`: Zeek's Teredo reports truncation only then).
    pub confirmed: bool,
    /// The connection's start (SYN) was not seen (`$partial`: Zeek's Login analyzers
    /// take such a dialog as confused).
    pub conn_partial: bool,
    weirds: Vec<(&'static str, String)>,
    net_weirds: Vec<(&'static str, String)>,
    halted: Option<&'static str>,
    violation: Option<&'static str>,
    recovered: Option<ParseError>,
    depth: u16,
    /// The PDU was dropped unanalysed (`&requires(.., skip = "x")`): the
    /// connection's history gets Zeek's `X`.
    partial: bool,
}

impl ParseCx {
    pub fn new(is_orig: bool, resp_port: u16) -> ParseCx {
        ParseCx {
            is_orig,
            resp_port,
            ..ParseCx::default()
        }
    }
    /// Records a named anomaly; parsing continues.
    /// Past [`MAX_WEIRDS_PER_PDU`], only a name not yet reported is kept (weird.log
    /// shows each name once per connection, so a flood of one name must not
    /// hide another); names are a fixed set, so this stays bounded.
    pub fn weird(&mut self, name: &'static str, addl: impl Into<String>) {
        if self.weirds.len() < MAX_WEIRDS_PER_PDU
            || (self.weirds.len() < 4 * MAX_WEIRDS_PER_PDU
                && !self.weirds.iter().any(|(n, _)| *n == name))
        {
            self.weirds.push((name, addl.into()));
        }
    }
    /// A weird of no connection (Zeek's ASN.1 decoders call `reporter->Weird`
    /// without one): `weird.log` has no uid for it.
    pub fn net_weird(&mut self, name: &'static str, addl: impl Into<String>) {
        if self.net_weirds.len() < MAX_WEIRDS_PER_PDU {
            self.net_weirds.push((name, addl.into()));
        }
    }
    pub fn take_net_weirds(&mut self) -> Vec<(&'static str, String)> {
        std::mem::take(&mut self.net_weirds)
    }
    pub fn weirds(&self) -> &[(&'static str, String)] {
        &self.weirds
    }
    pub fn take_weirds(&mut self) -> Vec<(&'static str, String)> {
        std::mem::take(&mut self.weirds)
    }
    /// Stops parsing of the remaining `&partial` arrays of this PDU.
    pub fn halt(&mut self, why: &'static str) {
        if self.halted.is_none() {
            self.halted = Some(why);
        }
    }
    pub fn halted(&self) -> Option<&'static str> {
        self.halted
    }
    /// Notes that the PDU is dropped unanalysed (see [`ParseCx::partial`]).
    pub fn mark_partial(&mut self) {
        self.partial = true;
    }
    /// Whether the analyzer should report analysis left incomplete (`X` in
    /// the connection's history, [`crate::analyzer::AnalyzerCx::analysis_partial`]).
    pub fn partial(&self) -> bool {
        self.partial
    }
    /// Notes a protocol violation while keeping what was parsed
    /// (`&requires(.., halt = "name")`).
    pub fn flag_violation(&mut self, why: &'static str) {
        if self.violation.is_none() {
            self.violation = Some(why);
        }
    }
    pub fn violation(&self) -> Option<&'static str> {
        self.violation
    }
    /// A `&recover` field failed: the PDU is kept without it, parsing halts,
    /// and the analyzer reports the error as a protocol violation.
    pub fn recover(&mut self, err: ParseError) {
        if self.recovered.is_none() {
            self.recovered = Some(err);
        }
        self.halt("recovered");
    }
    /// The error a `&recover` field stopped at, if any.
    pub fn recovered(&self) -> Option<&ParseError> {
        self.recovered.as_ref()
    }
    /// Enters a nested unit; fails beyond [`MAX_DEPTH`].
    #[inline]
    pub fn enter(&mut self, at: &'static str, offset: usize) -> Result<(), ParseError> {
        if self.depth >= MAX_DEPTH {
            return Err(ParseError::invalid(offset, at, InvalidKind::Limit("depth")));
        }
        self.depth += 1;
        Ok(())
    }
    #[inline]
    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }
}

/// What event bindings of one PDU see besides the parse tree.
pub struct EmitCx<'e> {
    pub ts: crate::zeek::Time,
    pub conn: &'e dyn crate::analyzer::ConnView,
    pub pdu: Pdu<'e>,
    /// Length of the message the events describe (the PDU without framing).
    pub pdu_len: usize,
    pub is_orig: bool,
    /// Parsing stopped early (`&partial` arrays or a `halt` constraint).
    pub halted: bool,
    /// The link-layer header of the frame (link analyzers only).
    pub l2: Option<&'e crate::packet::Layer2>,
}

impl<'e> EmitCx<'e> {
    /// Source MAC of the frame (`$l2_src`); empty when the link layer has none.
    pub fn l2_src(&self) -> &'e [u8] {
        match self.l2 {
            Some(crate::packet::Layer2 {
                src_mac: Some(m), ..
            }) => &m[..],
            _ => &[],
        }
    }
    /// Destination MAC of the frame (`$l2_dst`); empty when the link layer has none.
    pub fn l2_dst(&self) -> &'e [u8] {
        match self.l2 {
            Some(crate::packet::Layer2 {
                dst_mac: Some(m), ..
            }) => &m[..],
            _ => &[],
        }
    }
}

/// Bytes as Zeek prints a MAC address: lowercase hex pairs joined by `:` (grammar builtin `mac(x)`).
pub fn mac_string(b: &[u8]) -> crate::zeek::ZString {
    let mut s = String::with_capacity(b.len() * 3);
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push_str(&format!("{x:02x}"));
    }
    crate::zeek::ZString::new(s)
}

/// The first `n` bits of `b`, least significant bit of each byte first
/// (grammar builtin `bits(x, n)`; Modbus coils). Never more than `b` holds.
pub fn bits_lsb_first(b: &[u8], n: u64) -> Vec<bool> {
    let avail = b.len() as u64 * 8;
    let n = n.min(avail) as usize;
    (0..n).map(|i| (b[i / 8] >> (i % 8)) & 1 == 1).collect()
}

/// The PDU an event binding reads from: `string` arguments become
/// `Bytes` slices of one shared copy, made only when the first one is built.
pub struct Pdu<'p> {
    data: &'p [u8],
    shared: OnceCell<Bytes>,
}

impl<'p> Pdu<'p> {
    pub fn new(data: &'p [u8]) -> Pdu<'p> {
        Pdu {
            data,
            shared: OnceCell::new(),
        }
    }
    /// A PDU that already lives in a `Bytes` (no copy at all).
    pub fn from_bytes(data: &'p Bytes) -> Pdu<'p> {
        let cell = OnceCell::new();
        let _ = cell.set(data.clone());
        Pdu { data, shared: cell }
    }
    pub fn data(&self) -> &'p [u8] {
        self.data
    }
    pub fn len(&self) -> usize {
        self.data.len()
    }
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    /// `sub` as a Zeek string sharing the PDU's buffer when `sub` lies in it.
    pub fn string(&self, sub: &[u8]) -> crate::zeek::ZString {
        let base = self.data.as_ptr() as usize;
        let start = sub.as_ptr() as usize;
        if start >= base && start + sub.len() <= base + self.data.len() {
            let off = start - base;
            let shared = self
                .shared
                .get_or_init(|| Bytes::copy_from_slice(self.data));
            crate::zeek::ZString(shared.slice(off..off + sub.len()))
        } else {
            crate::zeek::ZString::copy_from(sub)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_that_ran_out_goes_on_where_it_stopped() {
        let memo = std::cell::Cell::new(ScanMemo::default());
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(b"xabcdef");
        // From 1, no end in sight: remembered up to the end of the bytes at hand.
        let mut c = Cursor::streaming_with_memo(&buf, &memo);
        c.skip(1, "x").unwrap();
        assert!(c.until(b"\r\n", "line").unwrap_err().is_incomplete());
        assert_eq!((memo.get().start, memo.get().end), (1, 7));
        // More bytes in the same buffer: the scan resumes (a delimiter straddling
        // the old end is still found) and finds the same line it would from the start.
        buf.extend_from_slice(b"\r\nrest");
        let mut c = Cursor::streaming_with_memo(&buf, &memo);
        c.skip(1, "x").unwrap();
        assert_eq!(c.until(b"\r\n", "line").unwrap(), b"abcdef");
        // A run of bytes in a set, too; a scan from elsewhere ignores the memo.
        let memo = std::cell::Cell::new(ScanMemo::default());
        let mut c = Cursor::streaming_with_memo(b"aaaa", &memo);
        assert_eq!(c.take_while_in(b"a", true), b"aaaa");
        assert_eq!(memo.get().end, 4);
        let mut c = Cursor::streaming_with_memo(b"aaaa", &memo);
        c.skip(2, "x").unwrap();
        assert_eq!(c.take_while_in(b"a", true), b"aa");
    }

    #[test]
    fn a_flood_of_one_weird_does_not_hide_another() {
        let mut cx = ParseCx::default();
        for _ in 0..1000 {
            cx.weird("flood", "");
        }
        cx.weird("other", "");
        cx.weird("other", "");
        let names: Vec<_> = cx.weirds().iter().map(|(n, _)| *n).collect();
        assert_eq!(names.len(), MAX_WEIRDS_PER_PDU + 1);
        assert_eq!(names.last(), Some(&"other"));
    }

    #[test]
    fn windows_bound_reads_and_report_truncation() {
        let data = [0u8, 3, 1, 2, 3, 4];
        let mut c = Cursor::new(&data);
        let n = c.u16_be("t.len").unwrap();
        let mut w = c.sub(n as usize, "t.body").unwrap();
        assert_eq!(w.u16_be("t.a").unwrap(), 0x0102);
        assert!(matches!(
            w.u16_be("t.b"),
            Err(ParseError::Invalid {
                kind: InvalidKind::Truncated,
                ..
            })
        ));
        assert_eq!(c.remaining(), 1);
    }

    #[test]
    fn streaming_cursor_reports_incomplete() {
        let mut c = Cursor::streaming(&[1]);
        assert_eq!(c.u32_be("x"), Err(ParseError::Incomplete { needed: 3 }));
    }

    #[test]
    fn until_or_eod_takes_the_rest_without_a_delimiter() {
        let mut c = Cursor::new(b"/a b HTTP/1.1");
        assert_eq!(c.until_or_eod(b" HTTP/"), b"/a b");
        assert_eq!(c.rest(), b"1.1");
        let mut c = Cursor::new(b"/only");
        assert_eq!(c.until_or_eod(b" HTTP/"), b"/only");
        assert!(c.is_empty());
    }

    #[test]
    fn byte_sets_and_lookahead() {
        let mut c = Cursor::new(b" \t/wjoe");
        assert_eq!(c.take_while_in(b" \t", true), b" \t");
        assert!(c.looking_at(b"/W", true));
        assert!(!c.looking_at(b"/W", false));
        assert!(!c.looking_at(b"/wjoe!", true));
        assert_eq!(c.take_while_in(b"j", false), b"/w");
        assert_eq!(c.take_while_in(b"x", false), b"joe");
        assert_eq!(c.take_while_in(b"x", true), b"");
    }

    #[test]
    fn until_finds_two_byte_delimiters() {
        let mut c = Cursor::new(b"ab\rc\r\nrest");
        assert_eq!(c.until(b"\r\n", "x").unwrap(), b"ab\rc");
        assert_eq!(c.rest(), b"rest");
    }

    #[test]
    fn arithmetic_is_checked() {
        assert!(ops::sub(1, 2, "x", 0).is_err());
        assert!(ops::shl(1, 64, "x", 0).is_err());
        assert_eq!(ops::add(1, 2, "x", 0), Ok(3));
    }

    #[test]
    fn bits_are_lsb_first_and_bounded_by_the_bytes() {
        assert_eq!(
            bits_lsb_first(&[0b0000_0101, 0x01], 10),
            [true, false, true, false, false, false, false, false, true, false]
        );
        assert_eq!(bits_lsb_first(&[0xff], u64::MAX).len(), 8);
        assert!(bits_lsb_first(&[], 2000).is_empty());
    }

    #[test]
    fn mac_strings_are_lowercase_hex_pairs() {
        assert_eq!(
            mac_string(&[0x00, 0x1B, 0xff, 0, 1, 0xa0]).as_bytes(),
            b"00:1b:ff:00:01:a0"
        );
        assert_eq!(mac_string(&[]).as_bytes(), b"");
    }

    #[test]
    fn pdu_strings_share_the_buffer() {
        let data = b"hello world".to_vec();
        let pdu = Pdu::new(&data);
        let a = pdu.string(&data[0..5]);
        let b = pdu.string(&data[6..]);
        assert_eq!(a.as_bytes(), b"hello");
        assert_eq!(b.as_bytes(), b"world");
        assert_eq!(pdu.string(b"other").as_bytes(), b"other");
    }
}

/// Where `part` lies inside `whole`, when it is a slice of it (what a
/// tunnel's `decapsulate` names is a zero-copy slice of its payload; a
/// constant or a copy is not, and gives `None`). Compares addresses only.
pub fn offset_in(whole: &[u8], part: &[u8]) -> Option<usize> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    (start.checked_add(part.len())? <= whole.len()).then_some(start)
}
