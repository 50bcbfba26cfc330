//! The HTTP/1.x stream state machine: lines and bodies per direction, replies paired with requests.

use super::decode::{decode, Coding, Decoder};
use super::events::*;
use super::multipart::{boundary_param, buffer_entity_data, Multipart};
use super::uri::{decimal, hex, trim, unescape_uri};
use super::{Header, Limits, RequestLine, StatusLine};
use flate2::Decompress;
use netpac_runtime::analyzer::{Analyzer, AnalyzerCx};
use netpac_runtime::event::TypedEvent;
use netpac_runtime::parse::{Cursor, ParseCx};
use netpac_runtime::raise;
use netpac_runtime::zeek::{Time, ZString};
use std::collections::VecDeque;

/// A grammar limit as a length bound.
pub(super) fn cap(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

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
        }
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
                    let n = self.body_bytes(cx, is_orig, data);
                    if n == 0 && self.sides[ix(is_orig)].phase == Phase::Body {
                        // Defensive: a body state that takes nothing would loop forever.
                        self.sides[ix(is_orig)].phase = Phase::Stopped;
                        return;
                    }
                    data = &data[n..];
                }
                _ => {
                    // A line: up to LF (a preceding CR is dropped).
                    match data.iter().position(|&b| b == b'\n') {
                        Some(nl) => {
                            let (head, rest) = (&data[..nl], &data[nl + 1..]);
                            data = rest;
                            let side = &mut self.sides[ix(is_orig)];
                            if side.overlong {
                                side.overlong = false;
                                continue;
                            }
                            if side.line.is_empty() {
                                self.line(cx, is_orig, strip_cr(head), rest.first().copied());
                            } else if side.line.len() + head.len() > cap(self.limits.max_line) {
                                side.line.clear();
                                self.too_long(cx);
                            } else {
                                let mut line = std::mem::take(&mut side.line);
                                line.extend_from_slice(head);
                                self.line(cx, is_orig, strip_cr(&line), rest.first().copied());
                                line.clear();
                                // Keep the allocation for the next straddling line.
                                let side = &mut self.sides[ix(is_orig)];
                                if side.line.is_empty() {
                                    side.line = line;
                                }
                            }
                        }
                        None => {
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

    fn set_version(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool, v: (u8, u8)) {
        let slot = if is_orig {
            &mut self.request_version
        } else {
            &mut self.reply_version
        };
        if *slot != (0, 0) && *slot != v {
            cx.weird("HTTP_version_mismatch", String::new());
        }
        *slot = v;
        if v.0 > 1 || (v.0 == 1 && v.1 > 0) {
            self.keep_alive = true;
        }
    }

    fn request_line(&mut self, cx: &mut AnalyzerCx<'_>, line: &[u8]) {
        let mut pcx = Self::parse_cx(cx, true);
        let parsed = RequestLine::parse(&mut Cursor::new(line), &mut pcx, &self.limits);
        let flagged = Self::drain(cx, &mut pcx);
        let req = match (parsed, flagged) {
            (Ok(r), None) if r.method.iter().all(|&c| is_token_char(c)) => Some(r),
            _ => None,
        };
        let http09 = req.as_ref().is_some_and(|r| r.version.is_empty());
        // HTTP/0.9 needs a GET-like method and a URI.
        let req = req.filter(|r| !http09 || (r.method.len() >= 3 && !trim(r.uri).is_empty()));
        let Some(req) = req else {
            let no_method = !line.first().is_some_and(|&c| is_token_char(c));
            if no_method
                && line.len() >= 9
                && line[line.len() - 9..line.len() - 3].eq_ignore_ascii_case(b" HTTP/")
            {
                cx.weird("bad_HTTP_request_with_version", String::new());
            } else {
                cx.weird("bad_HTTP_request", String::new());
            }
            if !self.request_expected() {
                Self::http_event(cx, "crud_trailing_HTTP_request", line);
            } else if line.is_empty() {
                cx.weird("empty_http_request", String::new());
            } else {
                cx.violation("not a http request line".to_string());
                self.sides[0].phase = Phase::Stopped;
            }
            return;
        };
        let mut req = req;
        if req.version.is_empty() {
            split_lowercase_version(cx, &mut req);
        }
        let http09 = req.version.is_empty();
        let uri = trim_start(req.uri);
        if http09 {
            self.set_version(cx, true, (0, 9));
        } else {
            match http_version(req.version) {
                Some(v) => {
                    self.set_version(cx, true, v);
                    if trim(&req.version[3..]) != b"" {
                        Self::http_event(cx, "crud after HTTP version is ignored", line);
                    }
                }
                None => Self::http_event(cx, "bad_HTTP_version", line),
            }
        }
        self.num_requests += 1;
        if self.num_requests > 1 && !self.keep_alive {
            cx.weird("unexpected_multiple_HTTP_requests", String::new());
        }
        cx.confirm();
        let method = if req.method.eq_ignore_ascii_case(b"HEAD") {
            Method::Head
        } else if req.method.eq_ignore_ascii_case(b"CONNECT") {
            self.connect_request = true;
            Method::Connect
        } else {
            Method::Other
        };
        if self.pending.len() < cap(self.limits.max_pending) {
            self.pending.push_back(method);
        } else {
            cx.weird("HTTP_too_many_pending_requests", String::new());
        }
        let version = ZString::from(format!("{:.1}", version_f64(self.request_version)));
        let mut weirds = Vec::new();
        let unescaped = unescape_uri(uri, |w| weirds.push(w));
        for w in weirds {
            cx.weird(w, String::new());
        }
        raise!(
            cx.events,
            cx.ts,
            HttpRequest {
                c: cx.conn.record(),
                method: ZString::copy_from(req.method),
                original_URI: ZString::copy_from(uri),
                unescaped_URI: ZString::from(unescaped),
                version,
            }
        );
        self.begin_message(cx, true, line.len() as u64);
        if http09 {
            if req.method != b"GET" {
                cx.weird(
                    "invalid_http_09_request_method",
                    String::from_utf8_lossy(req.method).into_owned(),
                );
            }
            // As in Zeek, header lines may still follow; the reply is raw data to the end.
            if self.sides[1].msg.is_some() {
                cx.weird("http_09_reply_before_request", String::new());
                self.end_message(cx, false, false, NORMAL_END);
            }
            self.http09_reply = true;
        }
    }

    fn status_line(&mut self, cx: &mut AnalyzerCx<'_>, line: &[u8]) {
        let mut pcx = Self::parse_cx(cx, false);
        let parsed = StatusLine::parse(&mut Cursor::new(line), &mut pcx, &self.limits);
        let flagged = Self::drain(cx, &mut pcx);
        let st = match (parsed, flagged) {
            (Ok(st), None) if st.magic.eq_ignore_ascii_case(b"HTTP/") => {
                if st.magic != b"HTTP/" {
                    cx.weird("lowercase_HTTP_keyword", String::new());
                }
                st
            }
            _ => {
                Self::http_event(cx, "bad_HTTP_reply", line);
                self.reply_not_http(cx);
                return;
            }
        };
        match http_version(st.version) {
            Some(v) => self.set_version(cx, false, v),
            None => {
                Self::http_event(cx, "bad_HTTP_version", st.version);
                self.set_version(cx, false, (0, 0));
            }
        }
        let code_field = trim_start(st.code);
        if code_field.len() < 3 {
            Self::http_event(cx, "HTTP_reply_code_missing", line);
            self.reply_not_http(cx);
            return;
        }
        let code = match &code_field[..3] {
            [a, b, c] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
                u64::from(a - b'0') * 100 + u64::from(b - b'0') * 10 + u64::from(c - b'0')
            }
            _ => 0,
        };
        let reason = trim_start(st.reason);
        let reason = if st.reason.is_empty() && code_field.len() == 3 {
            Self::http_event(cx, "HTTP_reply_reason_phrase_missing", line);
            ZString::from("<empty>")
        } else if code_field.len() > 3 {
            // No space after the code: the reason starts after the next whitespace.
            match code_field.iter().position(|b| b.is_ascii_whitespace()) {
                Some(p) => ZString::copy_from(trim_start(&code_field[p..])),
                None => {
                    Self::http_event(cx, "HTTP_reply_reason_phrase_missing", line);
                    ZString::from("<empty>")
                }
            }
        } else {
            ZString::copy_from(reason)
        };
        self.num_replies += 1;
        if !self.pending.is_empty() {
            cx.confirm();
        }
        if self.connect_request && code != 200 {
            self.connect_request = false;
        }
        raise!(
            cx.events,
            cx.ts,
            HttpReply {
                c: cx.conn.record(),
                version: ZString::from(format!("{:.1}", version_f64(self.reply_version))),
                code,
                reason,
            }
        );
        self.begin_message(cx, false, line.len() as u64);
        if let Some(m) = &mut self.sides[1].msg {
            m.status = code;
        }
    }

    fn reply_not_http(&mut self, cx: &mut AnalyzerCx<'_>) {
        cx.violation("not a http reply line".to_string());
        self.sides[1].phase = Phase::Stopped;
    }

    /// The reply to an HTTP/0.9 request: no status line, all body until the end.
    fn start_http09_reply(&mut self, cx: &mut AnalyzerCx<'_>) {
        self.http09_reply = false;
        self.set_version(cx, false, (0, 9));
        if self.pending.pop_front().is_some() {
            cx.confirm();
        }
        self.num_replies += 1;
        raise!(
            cx.events,
            cx.ts,
            HttpReply {
                c: cx.conn.record(),
                version: ZString::from("0.9"),
                code: 0,
                reason: ZString::from("<empty>"),
            }
        );
        self.begin_message(cx, false, 0);
        self.headers_done_events(cx, false);
        let side = &mut self.sides[1];
        side.phase = Phase::Body;
        side.body = Body::UntilClose;
        side.line.clear();
    }

    fn begin_message(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool, first_line_len: u64) {
        if self.sides[ix(is_orig)].msg.is_some() {
            cx.weird("HTTP_overlapping_messages", String::new());
        }
        let side = &mut self.sides[ix(is_orig)];
        let mut msg = Message::new(cx.ts);
        msg.header_length = first_line_len;
        msg.skip_data = std::mem::take(&mut side.skip_next);
        side.msg = Some(msg);
        side.phase = Phase::Headers;
        side.body = Body::None;
        raise!(
            cx.events,
            cx.ts,
            HttpBeginEntity {
                c: cx.conn.record(),
                is_orig
            }
        );
    }

    fn header_line(
        &mut self,
        cx: &mut AnalyzerCx<'_>,
        is_orig: bool,
        line: &[u8],
        next: Option<u8>,
    ) {
        let max_headers = cap(self.limits.max_headers);
        let max_line = cap(self.limits.max_line);
        let Some(msg) = self.sides[ix(is_orig)].msg.as_mut() else {
            return;
        };
        msg.header_length += line.len() as u64;
        // A folded continuation line (obs-fold) belongs to the previous header.
        if matches!(line.first(), Some(b' ' | b'\t')) {
            if let Some(prev) = &mut msg.last_header {
                if prev.len() + line.len() <= max_line {
                    prev.push(b' ');
                    prev.extend_from_slice(trim(line));
                }
                msg.folded = true;
                return;
            }
        }
        let prev = msg.last_header.take();
        let folded = std::mem::take(&mut msg.folded);
        if let Some(prev) = prev {
            self.submit_header(cx, is_orig, &prev, folded);
        }
        if line.is_empty() {
            self.end_headers(cx, is_orig);
            return;
        }
        let Some(msg) = self.sides[ix(is_orig)].msg.as_mut() else {
            return;
        };
        msg.header_count += 1;
        if msg.header_count > max_headers {
            cx.weird("HTTP_too_many_headers", String::new());
            self.violation(cx, "HTTP message exceeds max_headers");
            return;
        }
        // Kept (copied) only while a folded continuation may still follow in a later segment.
        match next {
            Some(b) if b != b' ' && b != b'\t' => self.submit_header(cx, is_orig, line, false),
            _ => msg.last_header = Some(line.to_vec()),
        }
    }

    fn submit_header(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool, line: &[u8], folded: bool) {
        let mut pcx = Self::parse_cx(cx, is_orig);
        let parsed = Header::parse(&mut Cursor::new(line), &mut pcx, &self.limits);
        let flagged = Self::drain(cx, &mut pcx);
        let h = match (parsed, flagged) {
            (Ok(h), None) => h,
            _ => {
                Self::http_event(cx, "illegal format", b"incomplete header");
                return;
            }
        };
        let name = trim(h.name);
        let value = trim(h.value);
        if folded {
            cx.weird(
                "HTTP_obsolete_line_folding",
                String::from_utf8_lossy(name).into_owned(),
            );
        }
        let version = if is_orig {
            self.request_version
        } else {
            self.reply_version
        };
        let token = value
            .split(|&b| b == b',' || b == b';')
            .next()
            .map(trim)
            .unwrap_or(b"");
        if name.eq_ignore_ascii_case(b"connection") {
            if is_orig && token.eq_ignore_ascii_case(b"keep-alive") {
                self.keep_alive = true;
            }
            if !is_orig && token.eq_ignore_ascii_case(b"close") {
                self.connection_close = true;
            }
        }
        let Some(msg) = self.sides[ix(is_orig)].msg.as_mut() else {
            return;
        };
        if name.eq_ignore_ascii_case(b"content-length") {
            if msg.chunked {
                cx.weird("HTTP_content_length_and_chunked", String::new());
            }
            match decimal(token).filter(|n| i64::try_from(*n).is_ok()) {
                Some(n) => {
                    if n == 0 && msg.expect_100 {
                        cx.weird("HTTP_content_length_0_and_expect_100_cont", String::new());
                    }
                    if let Some(range) = msg.range_length.filter(|r| *r != n) {
                        cx.weird("HTTP_range_not_matching_len", String::new());
                        msg.content_length = Some(n.max(range));
                        return self.raise_header(cx, is_orig, name, value);
                    }
                    if n > 0 && token.first() == Some(&b'0') {
                        cx.weird(
                            "HTTP_content_length_leading_zeros",
                            String::from_utf8_lossy(token).into_owned(),
                        );
                    }
                    msg.content_length = Some(n);
                }
                None => {
                    cx.weird(
                        "HTTP_bad_content_length",
                        String::from_utf8_lossy(token).into_owned(),
                    );
                    msg.content_length = Some(0);
                }
            }
        } else if !is_orig && msg.status == 206 && name.eq_ignore_ascii_case(b"content-range") {
            if msg.chunked {
                cx.weird("HTTP_content_range_and_chunked", String::new());
            }
            match content_range(value) {
                Ok((len, bad_instance)) => {
                    if let Some(range) = bad_instance {
                        cx.weird(
                            "HTTP_content_range_invalid_instance",
                            String::from_utf8_lossy(&range).into_owned(),
                        );
                    }
                    match msg.content_length {
                        Some(cl) if cl > 0 && cl != len => {
                            cx.weird("HTTP_range_not_matching_len", String::new());
                            msg.content_length = Some(cl.max(len));
                        }
                        Some(cl) if cl > 0 => {}
                        _ => msg.content_length = Some(len),
                    }
                    msg.range_length = Some(len);
                }
                Err(Some((weird, addl))) => {
                    cx.weird(weird, String::from_utf8_lossy(&addl).into_owned())
                }
                Err(None) => {}
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            if token.eq_ignore_ascii_case(b"chunked") && version == (1, 1) {
                msg.chunked = true;
                let rest = trim(
                    &value[value
                        .len()
                        .min(token.len() + (value.len() - trim_start(value).len()))..],
                );
                if !rest.is_empty() {
                    cx.weird(
                        "HTTP_chunked_multi",
                        String::from_utf8_lossy(rest).into_owned(),
                    );
                }
                if msg.content_length.is_some() {
                    cx.weird("HTTP_content_length_and_chunked", String::new());
                }
            }
        } else if name.eq_ignore_ascii_case(b"content-encoding") {
            if token.eq_ignore_ascii_case(b"gzip") || token.eq_ignore_ascii_case(b"x-gzip") {
                msg.coding = Some(Coding::Gzip);
            } else if token.eq_ignore_ascii_case(b"deflate") {
                msg.coding = Some(Coding::Deflate);
            }
        } else if name.eq_ignore_ascii_case(b"content-type") {
            let mut parts = token.splitn(2, |&b| b == b'/');
            let ty = trim(parts.next().unwrap_or(b""));
            let sub = trim(parts.next().unwrap_or(b""));
            if !ty.is_empty() {
                msg.content_type = (
                    ZString::from(ty.to_ascii_uppercase()),
                    ZString::from(sub.to_ascii_uppercase()),
                );
            }
            msg.multipart = None;
            if ty.eq_ignore_ascii_case(b"multipart") {
                msg.multipart = boundary_param(value).map(Multipart::new);
            }
        } else if name.eq_ignore_ascii_case(b"expect") {
            if !token.eq_ignore_ascii_case(b"100-continue") {
                cx.weird(
                    "HTTP_expect_not_100_continue",
                    String::from_utf8_lossy(token).into_owned(),
                );
            }
            msg.expect_100 = true;
            if msg.content_length == Some(0) {
                cx.weird("HTTP_content_length_0_and_expect_100_cont", String::new());
            }
        } else if !is_orig && name.eq_ignore_ascii_case(b"upgrade") {
            msg.upgrade = Some(ZString::copy_from(token));
        } else if !is_orig
            && name.eq_ignore_ascii_case(b"connection")
            && token.eq_ignore_ascii_case(b"upgrade")
        {
            msg.connection_upgrade = true;
        }
        self.raise_header(cx, is_orig, name, value);
    }

    fn raise_header(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool, name: &[u8], value: &[u8]) {
        let max_headers = cap(self.limits.max_headers);
        let Some(msg) = self.sides[ix(is_orig)].msg.as_mut() else {
            return;
        };
        let upper = ZString::from(name.to_ascii_uppercase());
        if cx.events.wants(HttpAllHeaders::ID) && msg.headers.len() < max_headers {
            msg.headers.push((upper.clone(), ZString::copy_from(value)));
        }
        raise!(
            cx.events,
            cx.ts,
            HttpHeader {
                c: cx.conn.record(),
                is_orig,
                name: upper,
                value: ZString::copy_from(value),
            }
        );
    }

    fn headers_done_events(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool) {
        let Some(msg) = self.sides[ix(is_orig)].msg.as_mut() else {
            return;
        };
        let headers = std::mem::take(&mut msg.headers);
        let (ty, subty) = msg.content_type.clone();
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
    }

    fn end_headers(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool) {
        self.headers_done_events(cx, is_orig);
        let Some(msg) = self.sides[ix(is_orig)].msg.as_ref() else {
            return;
        };
        let (chunked, length, coding, status) =
            (msg.chunked, msg.content_length, msg.coding, msg.status);
        let expect_body = if is_orig {
            false // a request has a body only when it announces one
        } else {
            let head = self.pending.front() == Some(&Method::Head);
            !(head || (100..200).contains(&status) || status == 204 || status == 304)
        };
        if !is_orig && self.connect_request {
            // A successful CONNECT: the rest of the connection is the tunnel.
            self.stop_all();
            return;
        }
        let body = if !expect_body && !is_orig {
            Body::None
        } else if chunked {
            Body::ChunkSize
        } else {
            match length {
                Some(0) => Body::None,
                Some(n) => Body::Length(n),
                None if !is_orig || self.connection_close || coding.is_some() => Body::UntilClose,
                None => Body::None,
            }
        };
        if body == Body::None {
            self.end_message(cx, is_orig, false, NORMAL_END);
            return;
        }
        let line_mode = body == Body::UntilClose && !self.connection_close && coding.is_none();
        let side = &mut self.sides[ix(is_orig)];
        side.phase = Phase::Body;
        side.body = body;
        if let (true, Some(msg)) = (line_mode, side.msg.as_mut()) {
            msg.by_lines = Some(b'\n');
        }
        if let (Some(coding), Some(msg)) = (coding, side.msg.as_mut()) {
            msg.decoder = Some(Decoder {
                z: Decompress::new(coding == Coding::Deflate),
                coding,
                gzip_header: Vec::new(),
                started: false,
                failed: false,
                out_total: 0,
            });
        }
    }

    fn chunk_size(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool, line: &[u8]) {
        let field = trim_start(line);
        let digits = field.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        let size = if digits == 0 {
            None
        } else {
            field[..digits].iter().try_fold(0i64, |n, &d| {
                n.checked_mul(16)?.checked_add(i64::from(hex(d)))
            })
        };
        match size {
            Some(n) if n > 0 => self.sides[ix(is_orig)].body = Body::ChunkData(n as u64),
            Some(_) => self.sides[ix(is_orig)].body = Body::Trailer,
            None => {
                cx.weird(
                    "HTTP_bad_chunk_size",
                    String::from_utf8_lossy(line).into_owned(),
                );
                self.sides[ix(is_orig)].body = Body::Trailer;
            }
        }
    }

    /// Consumes body bytes from `data`; returns how many were taken.
    fn body_bytes(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool, data: &[u8]) -> usize {
        let side = &mut self.sides[ix(is_orig)];
        let (take, next) = match side.body {
            Body::Length(n) => {
                let take = (data.len() as u64).min(n) as usize;
                (
                    take,
                    if take as u64 == n {
                        Some(Body::None)
                    } else {
                        Some(Body::Length(n - take as u64))
                    },
                )
            }
            Body::ChunkData(n) => {
                let take = (data.len() as u64).min(n) as usize;
                (
                    take,
                    Some(if take as u64 == n {
                        Body::ChunkEnd
                    } else {
                        Body::ChunkData(n - take as u64)
                    }),
                )
            }
            Body::UntilClose => (data.len(), None),
            _ => (0, None),
        };
        if let Some(b) = next {
            side.body = b;
        }
        self.entity_data(cx, is_orig, &data[..take]);
        if self.sides[ix(is_orig)].body == Body::None
            && self.sides[ix(is_orig)].phase == Phase::Body
        {
            self.end_message(cx, is_orig, false, "message ends normally");
        }
        take
    }

    fn entity_data(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let max_decoded = self.limits.max_decoded;
        let Some(msg) = self.sides[ix(is_orig)].msg.as_mut() else {
            return;
        };
        let deliver = !msg.skip_data && cx.events.wants(HttpEntityData::ID);
        if let Some(last) = msg.by_lines.as_mut() {
            let mut prev = *last;
            for &b in data {
                if b == b'\n' && prev != b'\r' {
                    msg.body_length += 1;
                }
                prev = b;
            }
            *last = prev;
        }
        if msg.decoder.is_none() {
            if let Some(mp) = msg.multipart.as_mut() {
                mp.feed(
                    cx,
                    is_orig,
                    data,
                    &mut msg.data_buf,
                    &mut msg.body_length,
                    deliver,
                    &self.limits,
                );
                return;
            }
        }
        let Message {
            decoder,
            data_buf,
            body_length,
            ..
        } = msg;
        let mut submit = |chunk: &[u8]| {
            *body_length += chunk.len() as u64;
            if deliver {
                buffer_entity_data(cx, is_orig, data_buf, chunk);
            }
        };
        match decoder.as_mut() {
            Some(dec) if !dec.failed => {
                decode(dec, data, max_decoded, &mut submit);
                if dec.failed {
                    cx.weird("HTTP_decompression_failed", String::new());
                }
            }
            Some(_) => {}
            None => submit(data),
        }
    }

    fn end_message(
        &mut self,
        cx: &mut AnalyzerCx<'_>,
        is_orig: bool,
        interrupted: bool,
        finish_msg: &'static str,
    ) {
        let side = &mut self.sides[ix(is_orig)];
        if side.phase != Phase::Stopped {
            side.phase = if interrupted {
                Phase::Stopped
            } else {
                Phase::FirstLine
            };
        }
        side.body = Body::None;
        let Some(mut msg) = side.msg.take() else {
            return;
        };
        if let Some(prev) = msg.last_header.take() {
            // Interrupted in the headers: submit what we have.
            let folded = msg.folded;
            side.msg = Some(msg);
            self.submit_header(cx, is_orig, &prev, folded);
            msg = self.sides[ix(is_orig)].msg.take().expect("put back above");
        }
        if msg.by_lines.is_some_and(|last| last != b'\n') {
            msg.body_length += 2;
        }
        if let Some(mut mp) = msg.multipart.take() {
            let deliver = !msg.skip_data && cx.events.wants(HttpEntityData::ID);
            mp.finish(
                cx,
                is_orig,
                &mut msg.data_buf,
                &mut msg.body_length,
                deliver,
                &self.limits,
            );
        }
        self.flush_entity_data(cx, is_orig, &mut msg);
        raise!(
            cx.events,
            cx.ts,
            HttpEndEntity {
                c: cx.conn.record(),
                is_orig
            }
        );
        raise!(
            cx.events,
            cx.ts,
            HttpMessageDone {
                c: cx.conn.record(),
                is_orig,
                stat: HttpMessageStat {
                    start: msg.start,
                    interrupted,
                    finish_msg: ZString::from(finish_msg),
                    body_length: msg.body_length,
                    content_gap_length: msg.gap_length,
                    header_length: msg.header_length,
                },
            }
        );
        if !is_orig {
            let informational = (100..200).contains(&msg.status);
            if !informational {
                self.pending.pop_front();
            }
            // An upgrade confirmed by 101 ends HTTP on this connection.
            if msg.status == 101 && self.pending.len() == 1 && msg.connection_upgrade {
                if let Some(protocol) = msg.upgrade.filter(|p| !p.is_empty()) {
                    raise!(
                        cx.events,
                        cx.ts,
                        HttpConnectionUpgrade {
                            c: cx.conn.record(),
                            protocol
                        }
                    );
                    self.stop_all();
                }
            }
        }
    }

    /// Hands buffered entity data out as one `http_entity_data`.
    fn flush_entity_data(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool, msg: &mut Message) {
        if msg.data_buf.is_empty() {
            return;
        }
        let data = std::mem::take(&mut msg.data_buf);
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

/// Where the LF of the next CRLF is in `data`, given the partial line before it.
pub(super) fn crlf_end(partial: &[u8], data: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(p) = data[from..].iter().position(|&b| b == b'\n') {
        let at = from + p;
        let prev = if at > 0 {
            data.get(at - 1)
        } else {
            partial.last()
        };
        if prev == Some(&b'\r') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The length a Content-Range (`bytes F-L/N`) announces, or the weird Zeek reports.
#[allow(clippy::type_complexity)]
pub(super) fn content_range(
    value: &[u8],
) -> Result<(u64, Option<Vec<u8>>), Option<(&'static str, Vec<u8>)>> {
    let value = trim(value);
    let unit_end = value
        .iter()
        .position(|b| b.is_ascii_whitespace())
        .unwrap_or(value.len());
    if &value[..unit_end] != b"bytes" {
        return Err(Some(("HTTP_content_range_unknown_byte_unit", Vec::new())));
    }
    let range: Vec<u8> = value[unit_end..]
        .iter()
        .copied()
        .filter(|&b| b != b' ')
        .collect();
    let cannot = || Err(Some(("HTTP_content_range_cannot_parse", Vec::new())));
    let Some(slash) = range.iter().position(|&b| b == b'/') else {
        return cannot();
    };
    let (spec, instance) = (&range[..slash], &range[slash + 1..]);
    let Some(dash) = spec.iter().position(|&b| b == b'-') else {
        return cannot();
    };
    let num = |s: &[u8]| std::str::from_utf8(s).ok()?.parse::<i64>().ok();
    let (Some(f), Some(l)) = (num(&spec[..dash]), num(&spec[dash + 1..])) else {
        return Err(Some(("HTTP_content_range_cannot_parse", range.clone())));
    };
    if f < 0 || l < 0 {
        return Err(Some(("HTTP_content_range_invalid", range)));
    }
    if l < f {
        return Err(Some(("HTTP_non_positive_content_range", range)));
    }
    if l - f > i64::MAX - 1 {
        return Err(Some(("HTTP_content_range_overflow", range)));
    }
    // A bad instance length is reported, but the range still holds.
    let bad_instance = (instance != b"*" && num(instance).is_none()).then_some(range);
    Ok(((l - f + 1) as u64, bad_instance))
}

const NORMAL_END: &str = "message ends normally";
const EOF_END: &str = "message ends as connection contents are completely delivered";
const DONE_END: &str = "message interrupted when connection done";
const GAP_END: &str = "message interrupted by a content gap";

fn is_token_char(c: u8) -> bool {
    c > 31 && c < 127 && !b" \t()<>@,;:\\\"/[]?={}".contains(&c)
}

/// Zeek also finds the version after a lower-case ` http/`, and a version with no URI before it.
fn split_lowercase_version(cx: &mut AnalyzerCx<'_>, req: &mut RequestLine<'_>) {
    let uri = req.uri;
    if uri.len() >= 5 && uri[..5].eq_ignore_ascii_case(b"HTTP/") {
        if &uri[..5] != b"HTTP/" {
            cx.weird("lowercase_HTTP_keyword", String::new());
        }
        cx.weird("missing_HTTP_uri", String::new());
        req.version = &uri[5..];
        req.uri = &uri[..0];
        return;
    }
    if let Some(p) = uri
        .windows(6)
        .position(|w| w.eq_ignore_ascii_case(b" HTTP/"))
    {
        cx.weird("lowercase_HTTP_keyword", String::new());
        req.version = &uri[p + 6..];
        req.uri = &uri[..p];
    }
}

fn trim_start(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    &s[start..]
}

/// Zeek's HTTP_Version: `d.d` at the start, one digit each.
pub(super) fn http_version(v: &[u8]) -> Option<(u8, u8)> {
    match v {
        [a, b'.', b, ..] if a.is_ascii_digit() && b.is_ascii_digit() => Some((a - b'0', b - b'0')),
        _ => None,
    }
}

fn version_f64(v: (u8, u8)) -> f64 {
    f64::from(v.0) + f64::from(v.1) / 10.0
}

pub(super) fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
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
