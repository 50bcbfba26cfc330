//! The SIP analyzer: Zeek's `SIP_Analyzer` (SIP.cc) and the flows of its
//! binpac parser (sip.pac, sip-analyzer.pac).
//!
//! Zeek hands each datagram to one of two binpac flows: the reply flow when
//! it starts with `SIP/` (and is longer than 6 bytes), the request flow
//! otherwise, whatever its direction; a datagram of two bytes starting with
//! CR (a keep-alive) is ignored. Each flow reads its bytes as a stream
//! (`FlowBuffer`): a start line, header lines up to an empty line, then a
//! body of the flow's last `Content-Length` (the member is never reset, so a
//! message without one reuses the previous length); a message may span
//! datagrams and a datagram may hold several. Each line is parsed with the
//! units of `grammars/sip.npac` and its events are those bound in
//! `grammars/sip.evt`; `sip_all_headers` is raised here.
//!
//! A line that does not parse is binpac's exception: the flow's message and
//! everything buffered are dropped with the rest of the datagram, and the
//! analyzer reports a protocol violation. A reply line confirms the protocol.

use super::flow::FlowBuffer;
use super::{
    bind_body, bind_header, bind_reply_line, bind_request_line, Body, Header, Limits,
    ReplyLine, RequestLine,
};
use crate::http::MimeHeaderRec;
use netpac_runtime::analyzer::{Analyzer, AnalyzerCx};
use netpac_runtime::define_event;
use netpac_runtime::event::TypedEvent;
use netpac_runtime::parse::{Cursor, EmitCx, ParseCx, Pdu};
use netpac_runtime::raise;
use netpac_runtime::record::Connection;
use netpac_runtime::zeek::ZString;
use std::collections::{BTreeMap, VecDeque};

define_event!(
    /// `hlist` is Zeek's `mime_header_list` (indexed from 1): each header's
    /// name in upper case and its value, as sip-analyzer.pac builds them.
    SipAllHeaders = SIP_ALL_HEADERS { c: Connection, is_orig: bool, hlist: BTreeMap<u64, MimeHeaderRec> }
);

/// What the flow's message asks for next (binpac's parse position in `SIP_PDU`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    StartLine,
    Headers,
    Body,
}

/// One binpac flow (`SIP_Flow`).
struct Flow {
    /// Whether this is the request flow (binpac's `is_orig` of the flow).
    requests: bool,
    fb: FlowBuffer,
    /// The message being parsed (binpac's data unit) and whether its next
    /// line or frame was asked for; `None` between messages.
    unit: Option<(Stage, bool)>,
    /// `content_length`: set by each `Content-Length` (or `L`) header, never reset.
    content_length: i64,
    /// The headers since the last `sip_all_headers` (binpac clears them only
    /// then, so a message that failed leaves its headers to the next one).
    headers: VecDeque<MimeHeaderRec>,
    header_bytes: usize,
}

impl Flow {
    fn new(requests: bool, limits: &Limits) -> Flow {
        Flow {
            requests,
            fb: FlowBuffer::new(usize::try_from(limits.max_buffer).unwrap_or(usize::MAX)),
            unit: None,
            content_length: 0,
            headers: VecDeque::new(),
            header_bytes: 0,
        }
    }

    /// binpac's `NewData` of a flow-unit flow: parse messages while data lasts.
    fn deliver(&mut self, cx: &mut AnalyzerCx<'_>, lim: &Limits, data: &[u8]) -> Result<(), String> {
        self.fb.new_data(data).map_err(|e| e.0)?;
        while self.fb.data_available() && (!self.fb.have_pending_request() || self.fb.ready()) {
            if !self.message(cx, lim, data)? {
                break;
            }
        }
        Ok(())
    }

    /// Continues the current message (starting one if none is open) as far as
    /// the data goes; true when it is complete.
    fn message(&mut self, cx: &mut AnalyzerCx<'_>, lim: &Limits, data: &[u8]) -> Result<bool, String> {
        loop {
            let (stage, asked) = *self.unit.get_or_insert((Stage::StartLine, false));
            if !asked {
                match stage {
                    // binpac checks a body's length before it asks for the bytes.
                    Stage::Body if self.content_length < 0 => {
                        return Err(format!("invalid length for string: {}", self.content_length))
                    }
                    Stage::Body => self.fb.new_frame(data, self.content_length),
                    _ => self.fb.new_line(data),
                }
                .map_err(|e| e.0)?;
                self.unit = Some((stage, true));
            }
            if !self.fb.ready() {
                return Ok(false);
            }
            let Flow {
                requests,
                fb,
                content_length,
                headers,
                header_bytes,
                ..
            } = self;
            let is_orig = *requests;
            let msg = fb.message(data);
            let next = match stage {
                Stage::StartLine => {
                    start_line(cx, lim, is_orig, msg)?;
                    Stage::Headers
                }
                Stage::Headers if msg.is_empty() => {
                    all_headers(cx, is_orig, headers);
                    *header_bytes = 0;
                    Stage::Body
                }
                Stage::Headers => {
                    let mut pcx = ParseCx::new(is_orig, cx.conn.id().resp_p.number);
                    let h = Header::parse(&mut Cursor::new(msg), &mut pcx, lim)
                        .map_err(|e| e.to_string())?;
                    if h.name == b"Content-Length" || h.name == b"L" {
                        *content_length = strtol_int(h.value);
                    }
                    bind_header(&h, cx.events, &emit_cx(cx, msg, is_orig), lim);
                    if cx.events.wants(SipAllHeaders::ID) {
                        keep_header(headers, header_bytes, lim, &h);
                    }
                    Stage::Headers
                }
                Stage::Body => {
                    let body = Body::parse(
                        &mut Cursor::new(msg),
                        &mut ParseCx::new(is_orig, cx.conn.id().resp_p.number),
                        lim,
                    )
                    .map_err(|e| e.to_string())?;
                    bind_body(&body, cx.events, &emit_cx(cx, msg, is_orig), lim);
                    self.unit = None;
                    return Ok(true);
                }
            };
            self.unit = Some((next, false));
        }
    }
}

/// The start line of a request or reply: its events, and for a reply the
/// confirmation (binpac's `proc_sip_request` / `proc_sip_reply`).
fn start_line(cx: &mut AnalyzerCx<'_>, lim: &Limits, is_orig: bool, line: &[u8]) -> Result<(), String> {
    let mut pcx = ParseCx::new(is_orig, cx.conn.id().resp_p.number);
    let ecx_line = line;
    if is_orig {
        let r = RequestLine::parse(&mut Cursor::new(line), &mut pcx, lim).map_err(|e| e.to_string())?;
        if !r.junk.is_empty() {
            cx.weird("sip_junk_before_request", render(r.junk));
        }
        bind_request_line(&r, cx.events, &emit_cx(cx, ecx_line, is_orig), lim);
    } else {
        let r = ReplyLine::parse(&mut Cursor::new(line), &mut pcx, lim).map_err(|e| e.to_string())?;
        cx.confirm();
        bind_reply_line(&r, cx.events, &emit_cx(cx, ecx_line, is_orig), lim);
    }
    Ok(())
}

/// `sip_all_headers` with the headers kept since the last one, which it clears.
fn all_headers(cx: &mut AnalyzerCx<'_>, is_orig: bool, headers: &mut VecDeque<MimeHeaderRec>) {
    let hlist: BTreeMap<u64, MimeHeaderRec> = headers
        .drain(..)
        .enumerate()
        .map(|(i, h)| (i as u64 + 1, h))
        .collect();
    raise!(
        cx.events,
        cx.ts,
        SipAllHeaders {
            c: cx.conn.record(),
            is_orig,
            hlist
        }
    );
}

/// Keeps a header for `sip_all_headers`, the oldest dropped past the limits
/// (Zeek keeps them without bound).
fn keep_header(headers: &mut VecDeque<MimeHeaderRec>, bytes: &mut usize, lim: &Limits, h: &Header<'_>) {
    let size = h.name.len() + h.value.len();
    headers.push_back(MimeHeaderRec {
        name: ZString::copy_from(&h.name.to_ascii_uppercase()),
        value: ZString::copy_from(h.value),
    });
    *bytes += size;
    let max = usize::try_from(lim.max_headers).unwrap_or(usize::MAX);
    let max_bytes = usize::try_from(lim.max_header_bytes).unwrap_or(usize::MAX);
    while headers.len() > max || (*bytes > max_bytes && headers.len() > 1) {
        if let Some(old) = headers.pop_front() {
            *bytes = bytes.saturating_sub(old.name.len() + old.value.len());
        }
    }
}

fn emit_cx<'e>(cx: &AnalyzerCx<'e>, line: &'e [u8], is_orig: bool) -> EmitCx<'e> {
    EmitCx {
        ts: cx.ts,
        conn: cx.conn,
        pdu: Pdu::new(line),
        pdu_len: line.len(),
        is_orig,
        halted: false,
        l2: None,
    }
}

/// binpac's `bytestring_to_int(value, 10)`: C's `strtol` (leading white space,
/// a sign, digits; saturating at the range of a 64-bit `long`) stored in an `int`.
pub fn strtol_int(v: &[u8]) -> i64 {
    let v = v.split(|&c| c == 0).next().unwrap_or(&[]);
    let (mut i, neg) = c_number_start(v);
    let mut n: i128 = 0;
    while let Some(d) = v.get(i).filter(|c| c.is_ascii_digit()) {
        n = (n * 10 + i128::from(d - b'0')).min(i128::from(i64::MAX) + 1);
        i += 1;
    }
    let long = if neg {
        (-n).max(i128::from(i64::MIN)) as i64
    } else {
        n.min(i128::from(i64::MAX)) as i64
    };
    i64::from(long as i32)
}

/// Where C's `strtol`/`strtoull` start reading digits: after leading white space
/// (`isspace`) and one sign, and whether that sign was `-`.
pub fn c_number_start(v: &[u8]) -> (usize, bool) {
    let mut i = 0;
    while i < v.len() && matches!(v[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    match v.get(i) {
        Some(b'-') => (i + 1, true),
        Some(b'+') => (i + 1, false),
        _ => (i, false),
    }
}

/// Zeek's `String::Render()`: printable ASCII as is, other bytes as `\xNN`.
pub fn render(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for &c in b {
        if (32..=126).contains(&c) {
            s.push(char::from(c));
        } else {
            s.push_str(&format!("\\x{c:02x}"));
        }
    }
    s
}

/// Zeek's SIP analyzer on one UDP connection.
pub struct SipAnalyzer {
    pub limits: Limits,
    /// The request flow and the reply flow.
    flows: [Flow; 2],
}

impl SipAnalyzer {
    pub fn new(limits: Limits) -> SipAnalyzer {
        let flows = [Flow::new(true, &limits), Flow::new(false, &limits)];
        SipAnalyzer { limits, flows }
    }
}

impl Analyzer for SipAnalyzer {
    fn deliver(&mut self, cx: &mut AnalyzerCx<'_>, _is_orig: bool, data: &[u8]) {
        let reply = data.len() > 6 && data.starts_with(b"SIP/");
        if data.len() == 2 && data[0] == b'\r' {
            return;
        }
        let flow = &mut self.flows[usize::from(reply)];
        if let Err(why) = flow.deliver(cx, &self.limits, data) {
            flow.unit = None;
            flow.fb.discard();
            cx.violation(format!("Binpac exception: {why}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_as_strtol_into_an_int() {
        assert_eq!(strtol_int(b"42"), 42);
        assert_eq!(strtol_int(b" +7x"), 7);
        assert_eq!(strtol_int(b"-5"), -5);
        assert_eq!(strtol_int(b"abc"), 0);
        assert_eq!(strtol_int(b"4294967306"), 10);
        assert_eq!(strtol_int(b"99999999999999999999"), -1);
        assert_eq!(strtol_int(b"1\x002"), 1);
    }

    #[test]
    fn render_escapes_what_is_not_printable() {
        assert_eq!(render(b" a\x01\xff"), " a\\x01\\xff");
    }
}
