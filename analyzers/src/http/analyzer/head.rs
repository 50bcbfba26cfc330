//! Start lines and headers: requests, replies, HTTP/0.9, header folding and
//! the headers Zeek acts on.

use super::*;
/// The largest header buffer kept for the next header (a longer header line gets a new one).
const REUSED_HEADER_BUF: usize = 64 * 1024;

impl Session {
    pub(super) fn set_version(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool, v: (u8, u8)) {
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

    pub(super) fn request_line(&mut self, cx: &mut AnalyzerCx<'_>, line: &[u8]) {
        let mut pcx = Self::parse_cx(cx, true);
        let parsed = RequestLine::parse(&mut Cursor::new(line), &mut pcx, &self.limits);
        let flagged = Self::drain(cx, &mut pcx);
        let req = match (parsed, flagged) {
            (Ok(r), None) if r.method.iter().all(|&c| is_token_char(c)) => Some(r),
            _ => None,
        };
        let mut req = req;
        // Zeek's ParseRequest runs for any line with a method: it finds a lower-case
        // version and sets the version (0.9 without one, with HTTP_version_mismatch after
        // 1.1) before an HTTP/0.9 request is checked for a GET-like method and a URI.
        if let Some(r) = req.as_mut() {
            if r.version.is_empty() {
                split_lowercase_version(cx, r);
            }
        }
        let http09 = req.as_ref().is_some_and(|r| r.version.is_empty());
        if http09
            && !req
                .as_ref()
                .is_some_and(|r| r.method.len() >= 3 && !trim(r.uri).is_empty())
        {
            self.set_version(cx, true, (0, 9));
            req = None;
        }
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
        } else if !self.pending_overflowed {
            // The table stays bounded; later replies pair as well as they can.
            self.pending_overflowed = true;
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

    pub(super) fn status_line(&mut self, cx: &mut AnalyzerCx<'_>, line: &[u8]) {
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

    pub(super) fn reply_not_http(&mut self, cx: &mut AnalyzerCx<'_>) {
        cx.violation("not a http reply line".to_string());
        self.sides[1].phase = Phase::Stopped;
    }

    /// The reply to an HTTP/0.9 request: no status line, all body until the end.
    pub(super) fn start_http09_reply(&mut self, cx: &mut AnalyzerCx<'_>) {
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
    }

    pub(super) fn begin_message(
        &mut self,
        cx: &mut AnalyzerCx<'_>,
        is_orig: bool,
        first_line_len: u64,
    ) {
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

    pub(super) fn header_line(
        &mut self,
        cx: &mut AnalyzerCx<'_>,
        is_orig: bool,
        line: &[u8],
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
            // Reused unless a huge header made it big.
            if prev.capacity() <= REUSED_HEADER_BUF {
                self.sides[ix(is_orig)].header_buf = prev;
            }
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
        // Kept until the next line tells whether a folded continuation follows (in
        // a buffer reused from header to header: no allocation per header).
        let side = &mut self.sides[ix(is_orig)];
        let mut buf = std::mem::take(&mut side.header_buf);
        buf.clear();
        buf.extend_from_slice(line);
        if let Some(msg) = side.msg.as_mut() {
            msg.last_header = Some(buf);
        }
    }

    pub(super) fn submit_header(
        &mut self,
        cx: &mut AnalyzerCx<'_>,
        is_orig: bool,
        line: &[u8],
        folded: bool,
    ) {
        let mut pcx = Self::parse_cx(cx, is_orig);
        let parsed = Header::parse(&mut Cursor::new(line), &mut pcx, &self.limits);
        let flagged = Self::drain(cx, &mut pcx);
        // A line without a colon or a name is dropped, as Zeek's MIME_Entity::FinishHeader
        // drops a header whose name is empty: no event, no weird.
        let h = match (parsed, flagged) {
            (Ok(h), None) => h,
            _ => return,
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
            // Zeek reads the first token's leading digits: "12abc" is 12, "+5" and "-5" are bad.
            let token = mime_token(value);
            match atoi_prefix(token).filter(|n| *n >= 0).map(|n| n as u64) {
                Some(n) => {
                    if n > 0 && token.first() == Some(&b'0') {
                        cx.weird(
                            "HTTP_content_length_leading_zeros",
                            String::from_utf8_lossy(token).into_owned(),
                        );
                    }
                    if let Some(range) = msg.range_length.filter(|r| *r != n) {
                        cx.weird("HTTP_range_not_matching_len", String::new());
                        msg.content_length = Some(n.max(range));
                        return self.raise_header(cx, is_orig, name, value);
                    }
                    if n == 0 && msg.expect_100 {
                        cx.weird("HTTP_content_length_0_and_expect_100_cont", String::new());
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
            // Zeek's MIME token: `"chunked"` and `chunked;q=1` are chunked too.
            let (te, rest) = mime_token_and_rest(value);
            if te.eq_ignore_ascii_case(b"chunked") && version == (1, 1) {
                msg.chunked = true;
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

    pub(super) fn raise_header(
        &mut self,
        cx: &mut AnalyzerCx<'_>,
        is_orig: bool,
        name: &[u8],
        value: &[u8],
    ) {
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

    pub(super) fn headers_done_events(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool) {
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

    pub(super) fn end_headers(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool) {
        self.headers_done_events(cx, is_orig);
        let Some(msg) = self.sides[ix(is_orig)].msg.as_ref() else {
            return;
        };
        let (chunked, length, coding, status, multipart) = (
            msg.chunked,
            msg.content_length,
            msg.coding,
            msg.status,
            msg.multipart.is_some(),
        );
        // Zeek's SetDeliverySize: the Content-Length counts the bytes of the deliveries
        // that follow (see `HttpAnalyzer::feed`).
        self.sides[ix(is_orig)].delivery_length = length.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let expect_body = if is_orig {
            false // a request has a body only when it announces one
        } else {
            let head = self.pending.front() == Some(&Method::Head);
            !(head || (100..200).contains(&status) || status == 204 || status == 304)
        };
        if !is_orig && self.connect_request {
            // A successful CONNECT: the rest of the connection is the tunnel, whose
            // protocol is found anew by its payload (Zeek's PIA child analyzer).
            self.stop_all();
            cx.detect_anew();
            return;
        }
        // A multipart body is read by lines up to its close delimiter, whatever the
        // message announces; Zeek ignores chunking there, with a weird.
        if multipart && chunked {
            cx.weird("HTTP_chunked_transfer_for_multipart_message", String::new());
        }
        let body = if !expect_body && !is_orig {
            Body::None
        } else if multipart {
            match length {
                Some(0) => Body::None,
                Some(n) => Body::Length(n),
                None => Body::UntilClose,
            }
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
        let line_mode =
            body == Body::UntilClose && !self.connection_close && coding.is_none() && !multipart;
        let side = &mut self.sides[ix(is_orig)];
        side.phase = Phase::Body;
        side.body = body;
        if let (true, Some(msg)) = (line_mode, side.msg.as_mut()) {
            msg.by_lines = Some(b'\n');
        }
        if let (Some(_), Some(msg)) = (coding, side.msg.as_mut()) {
            msg.decoder = Some(Decoder::new());
        }
    }
}

/// The length a Content-Range (`bytes F-L/N`) announces, or the weird Zeek reports.
#[allow(clippy::type_complexity)]
pub(in crate::http) fn content_range(
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

pub(super) fn is_token_char(c: u8) -> bool {
    c > 31 && c < 127 && !b" \t()<>@,;:\\\"/[]?={}".contains(&c)
}

/// Zeek also finds the version after a lower-case ` http/`, and a version with no URI before it.
pub(super) fn split_lowercase_version(cx: &mut AnalyzerCx<'_>, req: &mut RequestLine<'_>) {
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

/// Zeek's HTTP_Version: `d.d` at the start, one digit each.
pub(in crate::http) fn http_version(v: &[u8]) -> Option<(u8, u8)> {
    match v {
        [a, b'.', b, ..] if a.is_ascii_digit() && b.is_ascii_digit() => Some((a - b'0', b - b'0')),
        _ => None,
    }
}
