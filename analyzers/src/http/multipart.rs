//! multipart bodies (RFC 2046): each part an entity of its own, as Zeek's MIME analysis splits them.

use super::decode::{decode, Coding, Decoder};
use super::events::*;
use super::lines::{cap, crlf_end, strip_cr};
use super::uri::{atoi_prefix, mime_token, trim};
use super::{Header, Limits};
use netpac_runtime::analyzer::AnalyzerCx;
use netpac_runtime::event::TypedEvent;
use netpac_runtime::parse::{Cursor, ParseCx};
use netpac_runtime::raise;
use netpac_runtime::zeek::ZString;

/// The `boundary` parameter of a Content-Type value (quotes removed), bounded.
pub(super) fn boundary_param(value: &[u8]) -> Option<Vec<u8>> {
    for param in value.split(|&b| b == b';').skip(1) {
        let param = trim(param);
        if param.len() > 9 && param[..9].eq_ignore_ascii_case(b"boundary=") {
            let b = &param[9..];
            let b = b
                .strip_prefix(b"\"")
                .and_then(|x| x.strip_suffix(b"\""))
                .unwrap_or(b);
            if !b.is_empty() && b.len() <= 200 {
                return Some(b.to_vec());
            }
        }
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PartState {
    Preamble,
    Headers,
    Body,
    Done,
}

/// A multipart body (RFC 2046) split into parts, each an entity of its own as
/// in Zeek's MIME analysis: `http_begin_entity`, its headers, its data, `http_end_entity`.
pub(super) struct Multipart {
    /// `--` + boundary.
    delimiter: Vec<u8>,
    state: PartState,
    /// A line straddling body pieces (bounded by `max_line`).
    line: Vec<u8>,
    /// The CRLF after the last data line, delivered only if more data follows
    /// (the one before a boundary belongs to the boundary).
    crlf_pending: bool,
    headers: Vec<(ZString, ZString)>,
    header_count: usize,
    last_header: Option<Vec<u8>>,
    content_type: (ZString, ZString),
    /// The open part's Content-Length (Zeek reads a value without digits as 0).
    part_length: Option<u64>,
    /// The open part's gzip or deflate content coding, and its inflater once
    /// its body starts.
    part_coding: Option<Coding>,
    decoder: Option<Decoder>,
    /// Bytes still to come as they arrive rather than as lines (Zeek's content
    /// line analyzer in plain delivery; `u64::MAX`: to the end). A part whose
    /// headers announce a length, or a coding or a closing connection without
    /// one, switches the whole body to it, not only the part.
    plain: u64,
    /// What the open part's Content-Length still expects.
    part_left: Option<u64>,
    /// The reply said `Connection: close` (Zeek's `IsConnectionClose`).
    pub(super) connection_close: bool,
}

impl Multipart {
    pub(super) fn new(boundary: Vec<u8>) -> Multipart {
        let mut delimiter = b"--".to_vec();
        delimiter.extend_from_slice(&boundary);
        Multipart {
            delimiter,
            state: PartState::Preamble,
            line: Vec::new(),
            crlf_pending: false,
            headers: Vec::new(),
            header_count: 0,
            last_header: None,
            content_type: (ZString::from("TEXT"), ZString::from("PLAIN")),
            part_length: None,
            part_coding: None,
            decoder: None,
            plain: 0,
            part_left: None,
            connection_close: false,
        }
    }

    /// Takes body bytes; returns how many of them reached the close delimiter's line end
    /// when that line is in `data`: the message ends there, as Zeek's top-level entity does.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn feed(
        &mut self,
        cx: &mut AnalyzerCx<'_>,
        is_orig: bool,
        mut data: &[u8],
        buf: &mut Vec<u8>,
        body_length: &mut u64,
        deliver: bool,
        limits: &Limits,
    ) -> Option<usize> {
        let total = data.len();
        while !data.is_empty() {
            let was_done = self.state == PartState::Done;
            if self.plain > 0 {
                // The rest of this delivery, as far as the plain length goes, is one piece.
                let take = (data.len() as u64).min(self.plain) as usize;
                self.plain = self.plain.saturating_sub(take as u64);
                let (piece, rest) = data.split_at(take);
                data = rest;
                self.plain_piece(cx, is_orig, piece, buf, body_length, deliver, limits);
                if !was_done && self.state == PartState::Done {
                    return Some(total - data.len());
                }
                continue;
            }
            // Inside a part only CRLF ends a line (Zeek turns bare CR/LF off there).
            let end = if self.state == PartState::Body {
                crlf_end(&self.line, data)
            } else {
                data.iter().position(|&b| b == b'\n')
            };
            match end {
                Some(nl) => {
                    let head = &data[..nl];
                    data = &data[nl + 1..];
                    // Zeek counts a multipart body by lines, each with a CRLF.
                    if self.line.is_empty() {
                        let line = strip_cr(head);
                        *body_length += line.len() as u64 + 2;
                        self.line_done(cx, is_orig, line, buf, deliver, limits);
                    } else {
                        let mut line = std::mem::take(&mut self.line);
                        line.extend_from_slice(head);
                        let line = strip_cr(&line);
                        *body_length += line.len() as u64 + 2;
                        self.line_done(cx, is_orig, line, buf, deliver, limits);
                    }
                    if !was_done && self.state == PartState::Done {
                        return Some(total - data.len());
                    }
                }
                None => {
                    self.line.extend_from_slice(data);
                    if self.line.len() > cap(limits.max_line) {
                        // A long line inside a part is data; elsewhere it is dropped.
                        let line = std::mem::take(&mut self.line);
                        *body_length += line.len() as u64;
                        if self.state == PartState::Body {
                            self.data(cx, is_orig, &line, buf, deliver);
                        }
                    }
                    return None;
                }
            }
        }
        None
    }

    #[allow(clippy::too_many_arguments)]
    /// One line of the body (its length is counted by the caller).
    pub(super) fn line_done(
        &mut self,
        cx: &mut AnalyzerCx<'_>,
        is_orig: bool,
        line: &[u8],
        buf: &mut Vec<u8>,
        deliver: bool,
        limits: &Limits,
    ) {
        if self.state != PartState::Done && line.starts_with(&self.delimiter) {
            let rest = &line[self.delimiter.len()..];
            self.end_part(cx, is_orig, buf, limits);
            if rest.starts_with(b"--") {
                self.state = PartState::Done;
            } else {
                self.state = PartState::Headers;
                self.headers.clear();
                self.header_count = 0;
                self.content_type = (ZString::from("TEXT"), ZString::from("PLAIN"));
                self.part_length = None;
                self.part_coding = None;
                self.decoder = None;
                self.part_left = None;
                raise!(
                    cx.events,
                    cx.ts,
                    HttpBeginEntity {
                        c: cx.conn.record(),
                        is_orig
                    }
                );
            }
            return;
        }
        match self.state {
            PartState::Headers => {
                if matches!(line.first(), Some(b' ' | b'\t')) {
                    if let Some(prev) = &mut self.last_header {
                        if prev.len() + line.len() <= cap(limits.max_line) {
                            prev.push(b' ');
                            prev.extend_from_slice(trim(line));
                        }
                        return;
                    }
                }
                if let Some(prev) = self.last_header.take() {
                    self.submit_header(cx, is_orig, &prev, limits);
                }
                if line.is_empty() {
                    let headers = std::mem::take(&mut self.headers);
                    raise!(
                        cx.events,
                        cx.ts,
                        HttpAllHeaders {
                            c: cx.conn.record(),
                            is_orig,
                            hlist: headers
                                .into_iter()
                                .zip(1u64..)
                                .map(|((name, value), i)| (i, MimeHeaderRec { name, value }))
                                .collect(),
                        }
                    );
                    let (ty, subty) = self.content_type.clone();
                    raise!(
                        cx.events,
                        cx.ts,
                        HttpContentType {
                            c: cx.conn.record(),
                            is_orig,
                            ty,
                            subty
                        }
                    );
                    self.state = PartState::Body;
                    self.crlf_pending = false;
                    self.part_body_starts(cx, is_orig, buf, limits);
                    return;
                }
                self.header_count += 1;
                if self.header_count > cap(limits.max_headers) {
                    cx.weird("HTTP_too_many_headers", String::new());
                    self.state = PartState::Done;
                    return;
                }
                self.last_header = Some(line.to_vec());
            }
            PartState::Body => {
                if std::mem::take(&mut self.crlf_pending) {
                    self.data(cx, is_orig, b"\r\n", buf, deliver);
                }
                self.data(cx, is_orig, line, buf, deliver);
                self.crlf_pending = true;
            }
            PartState::Preamble | PartState::Done => {}
        }
    }

    pub(super) fn data(
        &mut self,
        cx: &mut AnalyzerCx<'_>,
        is_orig: bool,
        data: &[u8],
        buf: &mut Vec<u8>,
        deliver: bool,
    ) {
        if deliver {
            buffer_entity_data(cx, is_orig, buf, data);
        }
    }

    pub(super) fn submit_header(
        &mut self,
        cx: &mut AnalyzerCx<'_>,
        is_orig: bool,
        line: &[u8],
        limits: &Limits,
    ) {
        let mut pcx = ParseCx::new(is_orig, cx.conn.id().resp_p.number);
        let parsed = Header::parse(&mut Cursor::new(line), &mut pcx, limits);
        for (name, addl) in pcx.take_weirds() {
            cx.weird(name, addl);
        }
        let Ok(h) = parsed else { return };
        let (name, value) = (trim(h.name), trim(h.value));
        if name.eq_ignore_ascii_case(b"content-type") {
            let token = value.split(|&b| b == b';').next().map(trim).unwrap_or(b"");
            let mut parts = token.splitn(2, |&b| b == b'/');
            let ty = trim(parts.next().unwrap_or(b""));
            let sub = trim(parts.next().unwrap_or(b""));
            if !ty.is_empty() {
                self.content_type = (
                    ZString::from(ty.to_ascii_uppercase()),
                    ZString::from(sub.to_ascii_uppercase()),
                );
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            cx.weird("HTTP_nested_transfer_encoding_header", String::new());
        } else if name.eq_ignore_ascii_case(b"content-length") {
            // Zeek's atoi_n on the first token: no digits is 0, a negative number unset.
            self.part_length = match atoi_prefix(mime_token(value)) {
                Some(n) if n >= 0 => Some(n as u64),
                Some(_) => None,
                None => Some(0),
            };
        } else if name.eq_ignore_ascii_case(b"content-encoding") {
            let token = mime_token(value);
            if token.eq_ignore_ascii_case(b"gzip") || token.eq_ignore_ascii_case(b"x-gzip") {
                self.part_coding = Some(Coding::Gzip);
            } else if token.eq_ignore_ascii_case(b"deflate") {
                self.part_coding = Some(Coding::Deflate);
            }
        }
        let upper = ZString::from(name.to_ascii_uppercase());
        if cx.events.wants(HttpAllHeaders::ID) {
            self.headers
                .push((upper.clone(), ZString::copy_from(value)));
        }
        raise!(
            cx.events,
            cx.ts,
            HttpHeader {
                c: cx.conn.record(),
                is_orig,
                name: upper,
                value: ZString::copy_from(value)
            }
        );
    }

    /// A part's headers ended: Zeek's HTTP entity then switches the content line
    /// analyzer (shared by the whole body) to plain delivery for the length the
    /// part announces, or to the end when it announces none but is coded or the
    /// connection closes; a length of 0 ends the part at once.
    fn part_body_starts(
        &mut self,
        cx: &mut AnalyzerCx<'_>,
        is_orig: bool,
        buf: &mut Vec<u8>,
        limits: &Limits,
    ) {
        self.decoder = self.part_coding.map(|_| Decoder::new());
        match self.part_length {
            Some(0) => {
                self.end_part(cx, is_orig, buf, limits);
                self.state = PartState::Preamble;
            }
            Some(n) => {
                self.part_left = Some(n);
                self.plain = n;
            }
            None if self.part_coding.is_some() || self.connection_close => self.plain = u64::MAX,
            None => {}
        }
    }

    /// A piece of the body delivered plainly (no line end implied), as Zeek's
    /// MIME code takes it: the multipart entity first takes a piece that starts
    /// with the delimiter for a boundary (dropping the rest of it); any other
    /// piece that reaches a part still in its headers is a header line (weird
    /// `http_no_crlf_in_header_list`); else it is part data, which ends a part
    /// whose Content-Length it completes.
    #[allow(clippy::too_many_arguments)]
    fn plain_piece(
        &mut self,
        cx: &mut AnalyzerCx<'_>,
        is_orig: bool,
        piece: &[u8],
        buf: &mut Vec<u8>,
        body_length: &mut u64,
        deliver: bool,
        limits: &Limits,
    ) {
        // A plain piece counts as it is, with no CRLF.
        *body_length += piece.len() as u64;
        if self.state != PartState::Done && piece.starts_with(&self.delimiter) {
            // A boundary line as the line framing would give it.
            let end = piece
                .iter()
                .position(|&b| b == b'\r' || b == b'\n')
                .unwrap_or(piece.len());
            self.line_done(cx, is_orig, &piece[..end], buf, deliver, limits);
            return;
        }
        if self.state == PartState::Headers {
            cx.weird("http_no_crlf_in_header_list", String::new());
            if piece.first() == Some(&0) {
                // Zeek takes a line starting with NUL for the empty one.
                self.line_done(cx, is_orig, b"", buf, deliver, limits);
                return;
            }
            if matches!(piece.first(), Some(b' ' | b'\t')) {
                if let Some(prev) = &mut self.last_header {
                    if prev.len() + piece.len() <= cap(limits.max_line) {
                        prev.extend_from_slice(piece);
                    }
                    return;
                }
            }
            if let Some(prev) = self.last_header.take() {
                self.submit_header(cx, is_orig, &prev, limits);
            }
            self.last_header = Some(piece.to_vec());
            return;
        }
        if self.state != PartState::Body {
            return;
        }
        if std::mem::take(&mut self.crlf_pending) {
            self.data(cx, is_orig, b"\r\n", buf, deliver);
        }
        match self.decoder.as_mut() {
            Some(dec) if !dec.failed => {
                let mut out = Vec::new();
                decode(dec, piece, limits.max_decoded, &mut |chunk| {
                    out.extend_from_slice(chunk)
                });
                if dec.failed {
                    cx.weird_from("ZIP", "inflate_failed", String::new());
                }
                self.data(cx, is_orig, &out, buf, deliver);
            }
            Some(_) => {}
            None => self.data(cx, is_orig, piece, buf, deliver),
        }
        if let Some(left) = self.part_left.as_mut() {
            *left = left.saturating_sub(piece.len() as u64);
            if *left == 0 {
                self.part_left = None;
                self.plain = 0;
                self.end_part(cx, is_orig, buf, limits);
                self.state = PartState::Preamble;
            }
        }
    }

    pub(super) fn end_part(
        &mut self,
        cx: &mut AnalyzerCx<'_>,
        is_orig: bool,
        buf: &mut Vec<u8>,
        limits: &Limits,
    ) {
        if matches!(self.state, PartState::Headers | PartState::Body) {
            if let Some(prev) = self.last_header.take() {
                self.submit_header(cx, is_orig, &prev, limits);
            }
            if !buf.is_empty() {
                let data = std::mem::take(buf);
                raise!(
                    cx.events,
                    cx.ts,
                    HttpEntityData {
                        c: cx.conn.record(),
                        is_orig,
                        length: data.len() as u64,
                        data: ZString::from(data)
                    }
                );
            }
            raise!(
                cx.events,
                cx.ts,
                HttpEndEntity {
                    c: cx.conn.record(),
                    is_orig
                }
            );
        }
    }

    /// The body ended: a partial last line still counts, and an open part ends.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn finish(
        &mut self,
        cx: &mut AnalyzerCx<'_>,
        is_orig: bool,
        buf: &mut Vec<u8>,
        body_length: &mut u64,
        deliver: bool,
        limits: &Limits,
    ) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            let line = strip_cr(&line);
            *body_length += line.len() as u64 + 2;
            self.line_done(cx, is_orig, line, buf, deliver, limits);
        }
        self.end_part(cx, is_orig, buf, limits);
        self.state = PartState::Done;
    }
}

/// Appends to the delivery buffer, raising `http_entity_data` for every full one.
pub(super) fn buffer_entity_data(
    cx: &mut AnalyzerCx<'_>,
    is_orig: bool,
    buf: &mut Vec<u8>,
    mut chunk: &[u8],
) {
    while !chunk.is_empty() {
        let take = chunk.len().min(ENTITY_DATA_DELIVERY_SIZE - buf.len());
        buf.extend_from_slice(&chunk[..take]);
        chunk = &chunk[take..];
        if buf.len() == ENTITY_DATA_DELIVERY_SIZE {
            let data = std::mem::replace(buf, Vec::with_capacity(ENTITY_DATA_DELIVERY_SIZE));
            raise!(
                cx.events,
                cx.ts,
                HttpEntityData {
                    c: cx.conn.record(),
                    is_orig,
                    length: data.len() as u64,
                    data: ZString::from(data),
                }
            );
        }
    }
}

/// Zeek's `http_entity_data_delivery_size`: entity data comes in pieces of at most this size.
pub const ENTITY_DATA_DELIVERY_SIZE: usize = 1500;
