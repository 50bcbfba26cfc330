//! The HTTP/1.x stream state machine: lines and bodies per direction, replies paired with requests.
//!
//! Lines come from the runtime's ContentLine framing (`netpac_runtime::lines`, as
//! for every line protocol), which hands bodies of a known length out unframed.
//! This file holds the per-direction state and the analyzer interface; `head.rs`
//! parses start lines and headers, `body.rs` bodies (lengths, chunks, decoding)
//! and the end of each message.

mod body;
mod head;

#[cfg(test)]
pub(super) use head::{content_range, http_version};

use super::decode::{decode, Coding, Decoder};
use super::events::*;
use super::lines::cap;
use super::multipart::{boundary_param, buffer_entity_data, Multipart};
use super::uri::{atoi_prefix, hex, mime_token, mime_token_and_rest, trim, unescape_uri};
use super::{Header, Limits, RequestLine, StatusLine};
use netpac_runtime::analyzer::{Analyzer, AnalyzerCx};
use netpac_runtime::lines::{LineConfig, LineEvent, Lines};
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
    /// The last header line, kept until the next line shows it is not folded
    /// (as Zeek's MIME parser does); its buffer is the side's `header_buf`.
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
    msg: Option<Message>,
    /// The next message's entity data is skipped (`skip_http_entity_data`).
    skip_next: bool,
    /// The buffer of the header line kept for folding, reused from header to header.
    header_buf: Vec<u8>,
    /// Zeek's ContentLine `delivery_length`: the bytes a Content-Length still
    /// announces (-1: none). A delivery that brings it to exactly 0 ends a line it
    /// left unfinished (weird `line_terminated_without_CRLF`).
    delivery_length: i64,
}

impl Side {
    fn new() -> Side {
        Side {
            phase: Phase::FirstLine,
            body: Body::None,
            msg: None,
            skip_next: false,
            header_buf: Vec::new(),
            delivery_length: -1,
        }
    }
}

/// The HTTP analyzer of one connection: the line framing and the HTTP state.
pub struct HttpAnalyzer {
    lines: Lines,
    s: Session,
}

/// The HTTP state of one connection, fed by the line framing.
struct Session {
    limits: Limits,
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
    /// A 101 reply just upgraded the connection: the rest of the delivery that
    /// ended it is the new protocol's (`Some(analyzer)` when one takes it over).
    upgrade_rest: Option<Option<&'static str>>,
    pending_overflowed: bool,
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
        // Zeek's HTTP reads both directions through ContentLine analyzers with their
        // defaults; `max_line` is the grammar's (Zeek's default length).
        let cfg = LineConfig {
            max_line: cap(limits.max_line).max(1),
            ..LineConfig::default()
        };
        HttpAnalyzer {
            lines: Lines::new(cfg, cfg),
            s: Session::new(limits),
        }
    }

    /// Zeek's `skip_http_entity_data(c, is_orig)`: the rest of the current (or
    /// the next) entity of that side is not delivered as `http_entity_data`;
    /// it is still counted in `body_length`.
    pub fn skip_entity_data(&mut self, is_orig: bool) {
        let side = &mut self.s.sides[ix(is_orig)];
        match &mut side.msg {
            Some(m) => m.skip_data = true,
            None => side.skip_next = true,
        }
    }

    /// Bytes held for lines that straddle segments, both directions (each bounded by `max_line`).
    pub fn buffered(&self) -> usize {
        self.lines.buffered(true) + self.lines.buffered(false)
    }

    /// Whether parsing of this direction has stopped (after CONNECT, an upgrade or a violation).
    pub fn stopped(&self, is_orig: bool) -> bool {
        self.s.sides[ix(is_orig)].phase == Phase::Stopped
    }

    /// Frames a direction's bytes; the session switches the framing to plain bytes for bodies.
    fn feed(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool, data: &[u8]) {
        let s = &mut self.s;
        if !is_orig && s.http09_reply && s.sides[1].msg.is_none() && !data.is_empty() {
            // The reply to an HTTP/0.9 request is all body, unframed.
            s.start_http09_reply(cx);
            self.lines.set_plain(false, u64::MAX);
        }
        if s.sides[ix(is_orig)].phase == Phase::Stopped {
            return;
        }
        let side = &mut s.sides[ix(is_orig)];
        if side.delivery_length > 0 {
            side.delivery_length -= i64::try_from(data.len()).unwrap_or(i64::MAX);
        }
        self.lines
            .deliver_switching(is_orig, data, &mut |ev| s.framed(cx, is_orig, ev));
        // An upgrade at the very end of the delivery leaves nothing for the new protocol.
        s.upgrade_rest = None;
        // The announced length ends exactly here: a line it left open is ended (as
        // Zeek's ContentLine does after SetDeliverySize, Content-Length: 0 included).
        if s.sides[ix(is_orig)].delivery_length == 0 {
            s.sides[ix(is_orig)].delivery_length = -1;
            if self.lines.has_partial_line(is_orig) && s.sides[ix(is_orig)].phase != Phase::Stopped {
                cx.weird_from(
                    netpac_runtime::lines::WEIRD_SOURCE,
                    "line_terminated_without_CRLF",
                    String::new(),
                );
                self.lines
                    .deliver_switching(is_orig, b"\r\n", &mut |ev| s.framed(cx, is_orig, ev));
            }
        }
    }
}

impl Session {
    fn new(limits: Limits) -> Self {
        Session {
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
            upgrade_rest: None,
        }
    }

    fn stop_all(&mut self) {
        for s in &mut self.sides {
            s.phase = Phase::Stopped;
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

    /// One event of the line framing; returns how many bytes after a line are body
    /// bytes to be handed out unframed, or after body bytes how many of them were
    /// not used (a multipart body ended inside them: the rest is lines again).
    fn framed(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool, ev: LineEvent<'_>) -> u64 {
        // Framing weirds of the delivery that stopped the analyzer are still reported:
        // Zeek's ContentLine runs over the whole segment before the analyzer is removed.
        if let (Some(to), LineEvent::Raw(rest)) = (self.upgrade_rest, &ev) {
            // Zeek's HTTP_Upgrade: bytes after the 101 reply in its segment go to the
            // new protocol's analyzer, with a weird giving their count.
            self.upgrade_rest = None;
            cx.weird("protocol_data_with_HTTP_upgrade_reply", rest.len().to_string());
            if to.is_some() {
                cx.hand_off_rest(is_orig, rest);
            }
            return 0;
        }
        if self.sides[ix(is_orig)].phase == Phase::Stopped && !matches!(ev, LineEvent::Weird(_)) {
            return 0;
        }
        match ev {
            LineEvent::Line(line) => {
                self.line(cx, is_orig, line);
                if self.upgrade_rest.is_some() {
                    // The rest of this delivery, whatever it is, comes as one piece.
                    return u64::MAX;
                }
                self.plain_after(is_orig)
            }
            LineEvent::Raw(data) => {
                let used = self.body_bytes(cx, is_orig, data);
                (data.len() - used.min(data.len())) as u64
            }
            LineEvent::Weird(name) => {
                cx.weird_from(netpac_runtime::lines::WEIRD_SOURCE, name, String::new());
                0
            }
        }
    }

    /// How many bytes of a direction are body bytes now, to be delivered unframed.
    fn plain_after(&self, is_orig: bool) -> u64 {
        let side = &self.sides[ix(is_orig)];
        match (side.phase, side.body) {
            (Phase::Body, Body::Length(n) | Body::ChunkData(n)) => n,
            (Phase::Body, Body::UntilClose) => u64::MAX,
            _ => 0,
        }
    }

    /// One complete line (terminator removed).
    fn line(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool, line: &[u8]) {
        let side = &mut self.sides[ix(is_orig)];
        match (side.phase, side.body) {
            (Phase::FirstLine, _) if is_orig => self.request_line(cx, line),
            // Empty lines between replies are ignored.
            (Phase::FirstLine, _) if !line.is_empty() => self.status_line(cx, line),
            (Phase::Headers, _) => self.header_line(cx, is_orig, line),
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
        if self.s.gap(cx, is_orig, len) {
            // Inside a body of known length: the framing counts the gap against it.
            self.lines.skip_plain(is_orig, len);
        } else {
            self.lines.drop_partial(is_orig);
        }
    }

    fn end_of_data(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool) {
        // A partial last line is still a line.
        if !matches!(self.s.sides[ix(is_orig)].phase, Phase::Stopped | Phase::Body) {
            let s = &mut self.s;
            self.lines.end_of_data(is_orig, &mut |ev| {
                s.framed(cx, is_orig, ev);
            });
        }
        if self.s.sides[ix(is_orig)].msg.is_some() {
            self.s.end_message(cx, is_orig, false, EOF_END);
        }
    }

    fn done(&mut self, cx: &mut AnalyzerCx<'_>) {
        let s = &mut self.s;
        s.end_message(cx, true, true, DONE_END);
        s.end_message(cx, false, true, DONE_END);
        raise!(
            cx.events,
            cx.ts,
            HttpStats {
                c: cx.conn.record(),
                stats: HttpStatsRec {
                    num_requests: s.num_requests,
                    num_replies: s.num_replies,
                    request_version: version_f64(s.request_version),
                    reply_version: version_f64(s.reply_version),
                },
            }
        );
    }
}

impl Session {
    /// A content gap of `len` bytes: `true` when it lies inside a body of known length,
    /// which is counted and skipped; otherwise the message ends and the direction stops
    /// (a request gap ends the reply too: whether a reply has a body depends on its request).
    fn gap(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool, len: u64) -> bool {
        let side = &mut self.sides[ix(is_orig)];
        // Once the body has begun; never inside a multipart body, which Zeek reads by
        // lines without a length to count the gap against (it ends the message).
        if let (Phase::Body, Some(msg)) = (side.phase, side.msg.as_mut()) {
            if msg.body_length > 0 && msg.multipart.is_none() {
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
                    return true;
                }
            }
        }
        if is_orig {
            self.end_message(cx, true, true, GAP_END);
            self.end_message(cx, false, true, GAP_END);
        } else {
            self.end_message(cx, false, true, GAP_END);
        }
        self.sides[ix(is_orig)].phase = Phase::Stopped;
        false
    }
}
