//! multipart bodies (RFC 2046): each part an entity of its own, as Zeek's MIME analysis splits them.

use super::events::*;
use super::lines::{cap, crlf_end, strip_cr};
use super::uri::trim;
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
                    if self.line.is_empty() {
                        self.line_done(
                            cx,
                            is_orig,
                            strip_cr(head),
                            buf,
                            body_length,
                            deliver,
                            limits,
                        );
                    } else {
                        let mut line = std::mem::take(&mut self.line);
                        line.extend_from_slice(head);
                        self.line_done(
                            cx,
                            is_orig,
                            strip_cr(&line),
                            buf,
                            body_length,
                            deliver,
                            limits,
                        );
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
    pub(super) fn line_done(
        &mut self,
        cx: &mut AnalyzerCx<'_>,
        is_orig: bool,
        line: &[u8],
        buf: &mut Vec<u8>,
        body_length: &mut u64,
        deliver: bool,
        limits: &Limits,
    ) {
        // Zeek counts a multipart body by lines, each with a CRLF.
        *body_length += line.len() as u64 + 2;
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
            self.line_done(
                cx,
                is_orig,
                strip_cr(&line),
                buf,
                body_length,
                deliver,
                limits,
            );
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
