//! The HTTP/1.x stream state machine: lines and bodies per direction, replies paired with requests.
//!
//! This file holds the per-direction state, the line framing and the analyzer
//! interface; `head.rs` parses start lines and headers, `body.rs` bodies
//! (lengths, chunks, decoding) and the end of each message.

mod body;
mod head;

#[cfg(test)]
pub(super) use head::{content_range, http_version};

use super::decode::{decode, Coding, Decoder};
use super::events::*;
use super::lines::{cap, strip_cr};
use super::multipart::{boundary_param, buffer_entity_data, Multipart};
use super::uri::{atoi_prefix, hex, mime_token, mime_token_and_rest, trim, unescape_uri};
use super::{Header, Limits, RequestLine, StatusLine};
use flate2::Decompress;
use netpac_runtime::analyzer::{Analyzer, AnalyzerCx};
use netpac_runtime::event::TypedEvent;
use netpac_runtime::parse::{Cursor, ParseCx};
use netpac_runtime::raise;
use netpac_runtime::zeek::{Time, ZString};
use std::collections::VecDeque;

// ---------------------------------------------------------------- state

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    None,
    Length(u64),
    ChunkSize,
    ChunkData(u64),
    /// The CRLF after a chunk's data.
    ChunkEnd,
    /// Trailer lines after the last chunk.
    Trailer,
    UntilClose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    FirstLine,
    Headers,
    Body,
    /// Parsing stopped for good (tunnel, upgrade, violation).
    Stopped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Head,
    Connect,
    Other,
}

/// One message (request or reply) being parsed.
struct Message {
    start: Time,
    header_length: u64,
    body_length: u64,
    gap_length: u64,
    headers: Vec<(ZString, ZString)>,
    header_count: usize,
    /// The last header line, kept until the next line shows it is not folded.
    last_header: Option<Vec<u8>>,
    /// The last header was folded over several lines.
    folded: bool,
    /// Entity data waiting to fill a delivery piece.
    data_buf: Vec<u8>,
    content_length: Option<u64>,
    chunked: bool,
    coding: Option<Coding>,
    content_type: (ZString, ZString),
    /// The parts of a `multipart/*` body with a boundary.
    multipart: Option<Multipart>,
    upgrade: Option<ZString>,
    connection_upgrade: bool,
    status: u64,
    decoder: Option<Decoder>,
    skip_data: bool,
    /// An `Expect: 100-continue` header was seen.
    expect_100: bool,
    /// The length a 206 reply's Content-Range announces.
    range_length: Option<u64>,
    /// A reply body read to the close in Zeek's line mode: each line counts with a
    /// CRLF, even a bare-LF one or an unterminated last one. Holds the last byte seen.
    by_lines: Option<u8>,
}

impl Message {
    fn new(start: Time) -> Message {
        Message {
            start,
            header_length: 0,
            body_length: 0,
            gap_length: 0,
            headers: Vec::new(),
            header_count: 0,
            last_header: None,
            folded: false,
            data_buf: Vec::new(),
            content_length: None,
            chunked: false,
            coding: None,
            content_type: (ZString::from("TEXT"), ZString::from("PLAIN")),
            multipart: None,
            upgrade: None,
            connection_upgrade: false,
            status: 0,
            decoder: None,
            skip_data: false,
            expect_100: false,
            range_length: None,
            by_lines: None,
        }
    }
}

struct Side {
    phase: Phase,
    body: Body,
    /// A line that straddles segments.
    line: Vec<u8>,
    /// The current line was too long: drop bytes until its end.
    overlong: bool,
    msg: Option<Message>,
    /// The next message's entity data is skipped (`skip_http_entity_data`).
    skip_next: bool,
    /// The last line ended with a CR that was the last byte delivered: an LF first
    /// in the next delivery completes the CRLF, anything else makes it a bare CR.
    after_cr: bool,
}

impl Side {
    fn new() -> Side {
        Side {
            phase: Phase::FirstLine,
            body: Body::None,
            line: Vec::new(),
            overlong: false,
            msg: None,
            skip_next: false,
            after_cr: false,
        }
    }
}

/// Where the line at the start of some data ends.
enum LineEnd {
    /// `len` bytes of line, the next line starting at `next`; `bare_cr`: ended by a CR
    /// that is followed by something other than LF.
    Line {
        len: usize,
        next: usize,
        bare_cr: bool,
        cr_last: bool,
    },
    /// No terminator yet.
    Open,
}

fn line_end(data: &[u8]) -> LineEnd {
    match data.iter().position(|&b| b == b'\n' || b == b'\r') {
        None => LineEnd::Open,
        Some(p) if data[p] == b'\n' => LineEnd::Line {
            len: p,
            next: p + 1,
            bare_cr: false,
            cr_last: false,
        },
        Some(p) => match data.get(p + 1) {
            Some(b'\n') => LineEnd::Line {
                len: p,
                next: p + 2,
                bare_cr: false,
                cr_last: false,
            },
            Some(_) => LineEnd::Line {
                len: p,
                next: p + 1,
                bare_cr: true,
                cr_last: false,
            },
            // The last byte: the next segment tells (see `Side::after_cr`).
            None => LineEnd::Line {
                len: p,
                next: p + 1,
                bare_cr: false,
                cr_last: true,
            },
        },
    }
}

/// The HTTP analyzer of one connection; `G` supplies the grammar's line parsers.
pub struct HttpAnalyzer {
    pub limits: Limits,
    sides: [Side; 2],
    /// Methods of the requests not yet answered, oldest first.
    pending: VecDeque<Method>,
    num_requests: u64,
    num_replies: u64,
    request_version: (u8, u8),
    reply_version: (u8, u8),
    keep_alive: bool,
    connection_close: bool,
    connect_request: bool,
    /// The next reply data answers an HTTP/0.9 request.
    http09_reply: bool,
    /// `pending` was full once (its weird is reported once per connection).
    pending_overflowed: bool,
    /// `line_terminated_with_single_CR` was reported.
    single_cr_seen: bool,
}

impl Default for HttpAnalyzer {
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

fn ix(is_orig: bool) -> usize {
    usize::from(!is_orig)
}

impl HttpAnalyzer {
    pub fn new(limits: Limits) -> Self {
        HttpAnalyzer {
            limits,
            sides: [Side::new(), Side::new()],
            pending: VecDeque::new(),
            num_requests: 0,
            num_replies: 0,
            request_version: (0, 0),
            reply_version: (0, 0),
            keep_alive: false,
            connection_close: false,
            connect_request: false,
            http09_reply: false,
            pending_overflowed: false,
            single_cr_seen: false,
        }
    }

    /// Zeek's `skip_http_entity_data(c, is_orig)`: the rest of the current (or
    /// the next) entity of that side is not delivered as `http_entity_data`;
    /// it is still counted in `body_length`.
    pub fn skip_entity_data(&mut self, is_orig: bool) {
        let side = &mut self.sides[ix(is_orig)];
        match &mut side.msg {
            Some(m) => m.skip_data = true,
            None => side.skip_next = true,
        }
    }

    /// Bytes held for lines that straddle segments (bounded by `max_line`).
    pub fn buffered(&self) -> usize {
        self.sides.iter().map(|s| s.line.capacity()).sum()
    }

    /// Whether parsing of this direction has stopped (after CONNECT, an upgrade or a violation).
    pub fn stopped(&self, is_orig: bool) -> bool {
        self.sides[ix(is_orig)].phase == Phase::Stopped
    }

    fn stop_all(&mut self) {
        for s in &mut self.sides {
            s.phase = Phase::Stopped;
            s.line = Vec::new();
        }
    }

    fn violation(&mut self, cx: &mut AnalyzerCx<'_>, why: &str) {
        cx.violation(why.to_string());
        self.stop_all();
    }

    fn http_event(cx: &mut AnalyzerCx<'_>, event_type: &'static str, detail: &[u8]) {
        raise!(
            cx.events,
            cx.ts,
            HttpEvent {
                c: cx.conn.record(),
                event_type: ZString::from(event_type),
                detail: ZString::copy_from(detail),
            }
        );
    }

    // ------------------------------------------------------------ framing

    fn feed(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool, mut data: &[u8]) {
        if !is_orig && self.http09_reply && self.sides[1].msg.is_none() && !data.is_empty() {
            self.start_http09_reply(cx);
        }
        while !data.is_empty() {
            let side = &mut self.sides[ix(is_orig)];
            match side.phase {
                Phase::Stopped => return,
                Phase::Body
                    if !matches!(side.body, Body::ChunkSize | Body::ChunkEnd | Body::Trailer) =>
                {
                    // Zeek's ContentLine drops the LF of a CRLF split across segments
                    // even when the body (plain delivery) starts after the CR.
                    if std::mem::take(&mut side.after_cr) && data[0] == b'\n' {
                        data = &data[1..];
                        continue;
                    }
                    let n = self.body_bytes(cx, is_orig, data);
                    if n == 0 && self.sides[ix(is_orig)].phase == Phase::Body {
                        // Defensive: a body state that takes nothing would loop forever.
                        self.sides[ix(is_orig)].phase = Phase::Stopped;
                        return;
                    }
                    data = &data[n..];
                }
                _ => {
                    // A line ends at CRLF, at a bare LF and at a bare CR, as in Zeek's
                    // ContentLine analyzer. A CR ending a segment ends its line at once;
                    // an LF starting the next segment then completes that CRLF.
                    let side = &mut self.sides[ix(is_orig)];
                    if std::mem::take(&mut side.after_cr) {
                        if data[0] == b'\n' {
                            data = &data[1..];
                            continue;
                        }
                        self.single_cr(cx);
                    }
                    match line_end(data) {
                        LineEnd::Line {
                            len,
                            next,
                            bare_cr,
                            cr_last,
                        } => {
                            let (head, rest) = (&data[..len], &data[next..]);
                            data = rest;
                            if bare_cr {
                                self.single_cr(cx);
                            }
                            let side = &mut self.sides[ix(is_orig)];
                            // A CR as the last byte: what follows decides whether it was bare.
                            side.after_cr = cr_last;
                            if side.overlong {
                                side.overlong = false;
                                continue;
                            }
                            if side.line.is_empty() {
                                self.line(cx, is_orig, head, rest.first().copied());
                            } else if side.line.len() + head.len() > cap(self.limits.max_line) {
                                side.line.clear();
                                self.too_long(cx);
                            } else {
                                let mut line = std::mem::take(&mut side.line);
                                line.extend_from_slice(head);
                                self.line(cx, is_orig, &line, rest.first().copied());
                                line.clear();
                                // Keep the allocation for the next straddling line.
                                let side = &mut self.sides[ix(is_orig)];
                                if side.line.is_empty() {
                                    side.line = line;
                                }
                            }
                        }
                        LineEnd::Open => {
                            let side = &mut self.sides[ix(is_orig)];
                            if !side.overlong {
                                if side.line.len() + data.len() > cap(self.limits.max_line) {
                                    side.line.clear();
                                    side.overlong = true;
                                    self.too_long(cx);
                                } else {
                                    side.line.extend_from_slice(data);
                                }
                            }
                            return;
                        }
                    }
                }
            }
        }
    }

    /// A line ended by a CR alone (Zeek's ContentLine reports it; weird.log keeps the first).
    fn single_cr(&mut self, cx: &mut AnalyzerCx<'_>) {
        if !self.single_cr_seen {
            self.single_cr_seen = true;
            cx.weird_from(
                netpac_runtime::lines::WEIRD_SOURCE,
                "line_terminated_with_single_CR",
                String::new(),
            );
        }
    }

    fn too_long(&mut self, cx: &mut AnalyzerCx<'_>) {
        cx.weird("HTTP_line_too_long", String::new());
        self.violation(cx, "HTTP line exceeds max_line");
    }

    /// One complete line (terminator removed); `next` is the byte after it when the
    /// same segment holds one (a header line is then complete without copying it).
    fn line(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool, line: &[u8], next: Option<u8>) {
        let side = &mut self.sides[ix(is_orig)];
        match (side.phase, side.body) {
            (Phase::FirstLine, _) if is_orig => self.request_line(cx, line),
            // Empty lines between replies are ignored.
            (Phase::FirstLine, _) if !line.is_empty() => self.status_line(cx, line),
            (Phase::Headers, _) => self.header_line(cx, is_orig, line, next),
            (Phase::Body, Body::ChunkSize) => self.chunk_size(cx, is_orig, line),
            (Phase::Body, Body::ChunkEnd) => {
                if !line.is_empty() {
                    Self::http_event(
                        cx,
                        "illegal format",
                        b"inaccurate chunk size: data before <CR><LF>",
                    );
                }
                self.sides[ix(is_orig)].body = Body::ChunkSize;
            }
            (Phase::Body, Body::Trailer) if line.is_empty() => {
                self.end_message(cx, is_orig, false, NORMAL_END)
            }
            _ => {}
        }
    }

    fn parse_cx(cx: &AnalyzerCx<'_>, is_orig: bool) -> ParseCx {
        ParseCx::new(is_orig, cx.conn.id().resp_p.number)
    }

    fn drain(cx: &mut AnalyzerCx<'_>, pcx: &mut ParseCx) -> Option<&'static str> {
        for (name, addl) in pcx.take_weirds() {
            cx.weird(name, addl);
        }
        pcx.violation()
    }

    /// Whether another request may follow (Zeek's `RequestExpected`).
    fn request_expected(&self) -> bool {
        self.num_requests == 0 || self.keep_alive
    }
}

const NORMAL_END: &str = "message ends normally";
const EOF_END: &str = "message ends as connection contents are completely delivered";
const DONE_END: &str = "message interrupted when connection done";
const GAP_END: &str = "message interrupted by a content gap";

fn trim_start(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    &s[start..]
}

fn version_f64(v: (u8, u8)) -> f64 {
    f64::from(v.0) + f64::from(v.1) / 10.0
}

impl Analyzer for HttpAnalyzer {
    fn deliver(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool, data: &[u8]) {
        // As Zeek: a connection picked up mid-stream has no message boundary to start from.
        if cx.conn.is_partial() {
            return;
        }
        self.feed(cx, is_orig, data);
    }

    fn undelivered(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool, len: u64) {
        let side = &mut self.sides[ix(is_orig)];
        // A gap inside a body of known length is counted and skipped (once the body has begun).
        if let (Phase::Body, Some(msg)) = (side.phase, side.msg.as_mut()) {
            if msg.body_length > 0 {
                let next = match side.body {
                    Body::Length(n) if n >= len => Some(Body::Length(n - len)),
                    Body::ChunkData(n) if n >= len => Some(if n == len {
                        Body::ChunkEnd
                    } else {
                        Body::ChunkData(n - len)
                    }),
                    _ => None,
                };
                if let Some(next) = next {
                    msg.body_length += len;
                    msg.gap_length += len;
                    side.body = next;
                    if next == Body::Length(0) {
                        self.end_message(cx, is_orig, false, NORMAL_END);
                    }
                    return;
                }
            }
        }
        if is_orig {
            self.end_message(cx, true, true, GAP_END);
            self.end_message(cx, false, true, GAP_END);
        } else {
            self.end_message(cx, false, true, GAP_END);
        }
        let side = &mut self.sides[ix(is_orig)];
        side.line.clear();
        side.phase = Phase::Stopped;
    }

    fn end_of_data(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool) {
        let side = &mut self.sides[ix(is_orig)];
        // A partial last line is still a line.
        if !side.line.is_empty() && side.phase != Phase::Stopped && side.phase != Phase::Body {
            let line = std::mem::take(&mut side.line);
            self.line(cx, is_orig, strip_cr(&line), None);
        }
        if self.sides[ix(is_orig)].msg.is_some() {
            self.end_message(cx, is_orig, false, EOF_END);
        }
    }

    fn done(&mut self, cx: &mut AnalyzerCx<'_>) {
        self.end_message(cx, true, true, DONE_END);
        self.end_message(cx, false, true, DONE_END);
        raise!(
            cx.events,
            cx.ts,
            HttpStats {
                c: cx.conn.record(),
                stats: HttpStatsRec {
                    num_requests: self.num_requests,
                    num_replies: self.num_replies,
                    request_version: version_f64(self.request_version),
                    reply_version: version_f64(self.reply_version),
                },
            }
        );
    }
}
