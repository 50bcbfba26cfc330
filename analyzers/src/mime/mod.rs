//! MIME entities of a mail body, as Zeek's `MIME_Mail` / `MIME_Entity`
//! (src/analyzer/protocol/mime/MIME.cc) parse them for the mail analyzers:
//! header lines (folded lines continue a header), `Content-Type` and
//! `Content-Transfer-Encoding`, nested `multipart/*` parts and `message/*`
//! bodies, base64 and quoted-printable decoding, the decoded data in segments
//! of `mime_segment_length`, and the `mime_*` events.
//!
//! Bounded as Zeek bounds it: entities nest at most `max_depth` below the
//! message (deeper parts are not opened and their lines are dropped, as lines
//! outside any part are; weird `exceeded_mime_max_depth`), a folded header
//! past [`MAX_HEADER_BYTES`] ends the analysis of the mail (weird
//! `exceeded_mime_max_header_bytes`, history `X`), and an entity keeps at most
//! [`MAX_HEADERS`] headers for `mime_all_headers`; entity and mail data are
//! only gathered when `mime_entity_data` / `mime_all_data` are subscribed.
//! Nesting is walked with a stack, never with recursion over the input.

pub mod base64;
pub mod events;
pub mod fields;

use self::base64::Base64Decoder;
use self::events::*;
use self::fields::{content_encoding, content_type, split_header, Encoding};
use md5::{Digest, Md5};
use netpac_runtime::analyzer::AnalyzerCx;
use netpac_runtime::event::TypedEvent;
use netpac_runtime::raise;
use netpac_runtime::zeek::ZString;
use std::collections::BTreeMap;

/// Zeek's `MIME::max_header_bytes`: a folded header that holds this many
/// bytes when another line would be added to it ends the mail's MIME analysis
/// (weird `exceeded_mime_max_header_bytes`); a single longer line is cut here.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Most headers of one entity kept for `mime_all_headers`.
pub const MAX_HEADERS: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Multipart,
    Message,
    Text,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delimiter {
    None,
    Boundary,
    Closing,
}

/// One entity (`MIME_Entity`): the top-level message, a part, an enclosed message.
struct Entity {
    in_header: bool,
    ended: bool,
    /// The header being read, with its folded continuation lines appended.
    header: Option<Vec<u8>>,
    headers: Vec<MimeHeaderRec>,
    kind: Kind,
    boundary: Option<Vec<u8>>,
    encoding: Encoding,
    base64: Option<Base64Decoder>,
    /// The CRLF after the last line of a part belongs to the next boundary:
    /// it is only added once more data follows.
    delay_crlf: bool,
    parent_is_multipart: bool,
}

impl Entity {
    fn new(parent: Option<&Entity>) -> Entity {
        Entity {
            in_header: true,
            ended: false,
            header: None,
            headers: Vec::new(),
            kind: Kind::Text,
            boundary: None,
            // A child starts with its parent's transfer encoding.
            encoding: parent.map_or(Encoding::Other, |p| p.encoding),
            base64: None,
            delay_crlf: false,
            parent_is_multipart: parent.is_some_and(|p| p.kind == Kind::Multipart),
        }
    }
}

/// The MIME parser of one mail (`MIME_Mail`): begun at DATA (or the first BDAT
/// chunk), fed each line of the message, done at its end.
pub struct MimeMail {
    /// The open entities, outermost first: each is the current child of the one before.
    stack: Vec<Entity>,
    max_depth: usize,
    segment_length: usize,
    /// Decoded data not yet submitted as a segment.
    segment: Vec<u8>,
    entity_content: Vec<u8>,
    all_content: Vec<u8>,
    md5: Md5,
    content_len: u64,
    /// A header passed MAX_HEADER_BYTES: the rest of the mail is not analysed.
    stopped: bool,
    /// Nesting past `max_depth` was reported.
    too_deep: bool,
}

impl MimeMail {
    /// Starts a mail: the top-level entity begins (`mime_begin_entity`).
    pub fn new(cx: &mut AnalyzerCx<'_>, segment_length: u64, max_depth: u64) -> MimeMail {
        let mut m = MimeMail {
            stack: Vec::new(),
            max_depth: usize::try_from(max_depth).unwrap_or(usize::MAX).max(1),
            segment_length: usize::try_from(segment_length).unwrap_or(1024).max(1),
            segment: Vec::new(),
            entity_content: Vec::new(),
            all_content: Vec::new(),
            md5: Md5::new(),
            content_len: 0,
            too_deep: false,
            stopped: false,
        };
        m.begin_entity(cx, None);
        m
    }

    fn begin_entity(&mut self, cx: &mut AnalyzerCx<'_>, parent: Option<usize>) {
        let e = Entity::new(parent.map(|p| &self.stack[p]));
        self.stack.push(e);
        raise!(cx.events, cx.ts, MimeBeginEntity { c: cx.conn.record() });
    }

    /// One line of the message, without its CRLF; `crlf` says one followed it.
    pub fn deliver(&mut self, cx: &mut AnalyzerCx<'_>, line: &[u8], crlf: bool) {
        if self.stopped {
            return;
        }
        let mut level = 0;
        loop {
            let Some(e) = self.stack.get_mut(level) else {
                return;
            };
            if e.in_header {
                if line.is_empty() || line[0] == 0 {
                    self.finish_header(cx, level);
                    self.stack[level].in_header = false;
                    self.submit_all_headers(cx, level);
                    if !self.stack[level].ended {
                        self.begin_body(cx, level);
                    }
                } else if line[0] == b' ' || line[0] == b'\t' {
                    self.cont_header(cx, level, line);
                } else {
                    self.new_header(cx, level, line);
                }
                return;
            }
            if e.kind == Kind::Multipart {
                match delimiter(e.boundary.as_deref(), line) {
                    Delimiter::Boundary => {
                        if level + 1 < self.stack.len() {
                            self.end_child(cx, level);
                        }
                        if !self.stack[level].ended {
                            self.begin_child(cx, level);
                        }
                        return;
                    }
                    Delimiter::Closing => {
                        if level + 1 < self.stack.len() {
                            self.end_child(cx, level);
                        }
                        self.end_of_data(cx, level);
                        return;
                    }
                    Delimiter::None => {}
                }
            }
            let e = &self.stack[level];
            if e.kind == Kind::Multipart || e.kind == Kind::Message {
                // Lines before the first or after the last boundary belong to no part.
                if level + 1 < self.stack.len() {
                    level += 1;
                    continue;
                }
                return;
            }
            self.decode_line(cx, level, line, crlf);
            return;
        }
    }

    /// The end of the message (`MIME_Mail::Done`): open entities end, then
    /// `mime_all_data` and `mime_content_hash`.
    pub fn done(mut self, cx: &mut AnalyzerCx<'_>) {
        self.end_of_data(cx, 0);
        if cx.events.wants(MimeAllData::ID) {
            let data = std::mem::take(&mut self.all_content);
            raise!(cx.events, cx.ts, MimeAllData {
                c: cx.conn.record(),
                length: data.len() as u64,
                data: ZString::from(data)
            });
        }
        if cx.events.wants(MimeContentHash::ID) {
            let digest = self.md5.clone().finalize();
            raise!(cx.events, cx.ts, MimeContentHash {
                c: cx.conn.record(),
                content_len: self.content_len,
                hash_value: ZString::from(digest.to_vec())
            });
        }
    }

    fn new_header(&mut self, cx: &mut AnalyzerCx<'_>, level: usize, line: &[u8]) {
        self.finish_header(cx, level);
        let keep = line.len().min(MAX_HEADER_BYTES);
        self.stack[level].header = Some(line[..keep].to_vec());
    }

    fn cont_header(&mut self, cx: &mut AnalyzerCx<'_>, level: usize, line: &[u8]) {
        match &mut self.stack[level].header {
            // Zeek's MIME::max_header_bytes: a folded header that already holds
            // that many bytes ends the mail's MIME analysis (the header read so
            // far is still submitted), and the connection is marked partial.
            Some(h) if h.len() >= MAX_HEADER_BYTES => {
                cx.weird("exceeded_mime_max_header_bytes", MAX_HEADER_BYTES.to_string());
                self.finish_header(cx, level);
                self.end_of_data(cx, 0);
                self.stopped = true;
                cx.analysis_partial();
            }
            Some(h) => h.extend_from_slice(line),
            None => {
                self.illegal_format(cx, "first header line starts with linear whitespace");
                let ws = line.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
                self.new_header(cx, level, &line[ws..]);
            }
        }
    }

    /// `FinishHeader`: the header read so far is parsed and submitted (`mime_one_header`).
    fn finish_header(&mut self, cx: &mut AnalyzerCx<'_>, level: usize) {
        let Some(line) = self.stack[level].header.take() else {
            return;
        };
        if line.is_empty() {
            return;
        }
        let Some((name, value)) = split_header(&line) else {
            return;
        };
        let mut illegal = Vec::new();
        let e = &mut self.stack[level];
        if name.eq_ignore_ascii_case(b"content-type") {
            if let Some(ct) = content_type(value, &mut illegal) {
                e.kind = match &ct.ty[..] {
                    b"MULTIPART" => Kind::Multipart,
                    b"MESSAGE" => Kind::Message,
                    b"TEXT" => Kind::Text,
                    _ => Kind::Other,
                };
                if ct.boundary.is_some() {
                    e.boundary = ct.boundary;
                }
                if e.kind == Kind::Multipart && e.boundary.is_none() {
                    illegal.push("boundary delimiter is not specified for a multipart entity -- content is treated as type application/octet-stream");
                    e.kind = Kind::Other;
                }
            }
        } else if name.eq_ignore_ascii_case(b"content-transfer-encoding") {
            if let Some(enc) = content_encoding(value, &mut illegal) {
                e.encoding = enc;
            }
        }
        for what in illegal {
            self.illegal_format(cx, what);
        }
        // The header record is built only for a subscriber, and copied only for two.
        let keep = cx.events.wants(MimeAllHeaders::ID) && self.stack[level].headers.len() < MAX_HEADERS;
        if !keep && !cx.events.wants(MimeOneHeader::ID) {
            return;
        }
        let rec = MimeHeaderRec {
            name: ZString::from(name.to_ascii_uppercase()),
            value: ZString::from(value.to_vec()),
        };
        if keep {
            raise!(cx.events, cx.ts, MimeOneHeader { c: cx.conn.record(), h: rec.clone() });
            self.stack[level].headers.push(rec);
        } else {
            raise!(cx.events, cx.ts, MimeOneHeader { c: cx.conn.record(), h: rec });
        }
    }

    fn submit_all_headers(&mut self, cx: &mut AnalyzerCx<'_>, level: usize) {
        let headers = std::mem::take(&mut self.stack[level].headers);
        raise!(cx.events, cx.ts, MimeAllHeaders {
            c: cx.conn.record(),
            hlist: headers
                .into_iter()
                .enumerate()
                .map(|(i, h)| (i as u64 + 1, h))
                .collect::<BTreeMap<_, _>>()
        });
    }

    fn begin_body(&mut self, cx: &mut AnalyzerCx<'_>, level: usize) {
        let e = &mut self.stack[level];
        if e.encoding == Encoding::Base64 {
            e.base64 = Some(Base64Decoder::new());
        }
        if e.kind == Kind::Message {
            self.begin_child(cx, level);
        }
    }

    fn begin_child(&mut self, cx: &mut AnalyzerCx<'_>, level: usize) {
        // Zeek's MIME::max_depth: entities nest down to that depth below the
        // message (the message itself is depth 0); a deeper child is not
        // analysed, and the first one is reported.
        if self.stack.len() > self.max_depth {
            if !self.too_deep {
                self.too_deep = true;
                cx.weird("exceeded_mime_max_depth", self.max_depth.to_string());
            }
            return;
        }
        self.begin_entity(cx, Some(level));
    }

    /// `EndChildEntity`: the child of `level` (and everything inside it) ends.
    fn end_child(&mut self, cx: &mut AnalyzerCx<'_>, level: usize) {
        self.end_of_data(cx, level + 1);
        self.stack.truncate(level + 1);
    }

    /// `EndOfData`: the entity at `level` ends (once), after its open child.
    fn end_of_data(&mut self, cx: &mut AnalyzerCx<'_>, level: usize) {
        let Some(e) = self.stack.get_mut(level) else {
            return;
        };
        if e.ended {
            return;
        }
        e.ended = true;
        if e.in_header {
            self.finish_header(cx, level);
            self.stack[level].in_header = false;
            self.submit_all_headers(cx, level);
            self.illegal_format(cx, "entity body missing");
        } else {
            if level + 1 < self.stack.len() {
                if self.stack[level].kind == Kind::Multipart {
                    self.illegal_format(cx, "multipart closing boundary delimiter missing");
                }
                self.end_child(cx, level);
            }
            if let Some(mut dec) = self.stack[level].base64.take() {
                let mut out = Vec::new();
                let mut weirds = Vec::new();
                dec.finish(&mut out, &mut weirds);
                self.base64_weirds(cx, weirds);
                self.data_octets(cx, &out);
            }
            self.flush(cx);
        }
        self.end_entity(cx);
    }

    /// `MIME_Mail::EndEntity`: the data since the last entity ended, then `mime_end_entity`.
    fn end_entity(&mut self, cx: &mut AnalyzerCx<'_>) {
        if cx.events.wants(MimeEntityData::ID) {
            let data = std::mem::take(&mut self.entity_content);
            raise!(cx.events, cx.ts, MimeEntityData {
                c: cx.conn.record(),
                length: data.len() as u64,
                data: ZString::from(data)
            });
        }
        raise!(cx.events, cx.ts, MimeEndEntity { c: cx.conn.record() });
    }

    /// `DecodeDataLine`: one body line of a leaf entity, decoded, then flushed.
    fn decode_line(&mut self, cx: &mut AnalyzerCx<'_>, level: usize, line: &[u8], crlf: bool) {
        match self.stack[level].encoding {
            Encoding::QuotedPrintable => {
                let mut out = Vec::with_capacity(line.len() + 2);
                let bad = decode_quoted_printable(line, &mut out);
                for what in bad {
                    self.illegal_encoding(cx, what);
                }
                self.data_octets(cx, &out);
            }
            Encoding::Base64 => {
                let mut out = Vec::with_capacity(line.len());
                let mut weirds = Vec::new();
                if let Some(dec) = &mut self.stack[level].base64 {
                    dec.decode(line, &mut out, &mut weirds);
                }
                self.base64_weirds(cx, weirds);
                self.data_octets(cx, &out);
            }
            _ => {
                let e = &mut self.stack[level];
                if e.delay_crlf {
                    e.delay_crlf = false;
                    self.data_octets(cx, b"\r\n");
                }
                self.data_octets(cx, line);
                if crlf {
                    let e = &mut self.stack[level];
                    if e.parent_is_multipart {
                        e.delay_crlf = true;
                    } else {
                        self.data_octets(cx, b"\r\n");
                    }
                }
            }
        }
        self.flush(cx);
    }

    /// `DataOctets`: decoded bytes fill segments of `segment_length`.
    fn data_octets(&mut self, cx: &mut AnalyzerCx<'_>, mut data: &[u8]) {
        while !data.is_empty() {
            let n = (self.segment_length - self.segment.len()).min(data.len());
            self.segment.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.segment.len() == self.segment_length {
                self.flush(cx);
            }
        }
    }

    /// `FlushData` / `SubmitData`: the segment so far is hashed, kept for the
    /// entity and mail data events that are subscribed, and raised.
    fn flush(&mut self, cx: &mut AnalyzerCx<'_>) {
        if self.segment.is_empty() {
            return;
        }
        let seg = std::mem::take(&mut self.segment);
        self.content_len += seg.len() as u64;
        if cx.events.wants(MimeContentHash::ID) {
            self.md5.update(&seg);
        }
        if cx.events.wants(MimeEntityData::ID) {
            self.entity_content.extend_from_slice(&seg);
        }
        if cx.events.wants(MimeAllData::ID) {
            self.all_content.extend_from_slice(&seg);
        }
        raise!(cx.events, cx.ts, MimeSegmentData {
            c: cx.conn.record(),
            length: seg.len() as u64,
            data: ZString::from(seg)
        });
    }

    fn illegal_format(&mut self, cx: &mut AnalyzerCx<'_>, detail: &'static str) {
        raise!(cx.events, cx.ts, MimeEvent {
            c: cx.conn.record(),
            event_type: ZString::from("illegal format"),
            detail: ZString::from(detail)
        });
    }

    fn illegal_encoding(&mut self, cx: &mut AnalyzerCx<'_>, detail: String) {
        raise!(cx.events, cx.ts, MimeEvent {
            c: cx.conn.record(),
            event_type: ZString::from("illegal encoding"),
            detail: ZString::from(detail)
        });
    }

    /// The base64 decoder reports to the connection (`Base64Converter::IllegalEncoding`).
    fn base64_weirds(&mut self, cx: &mut AnalyzerCx<'_>, weirds: Vec<String>) {
        for w in weirds {
            cx.weird_from("", base64::WEIRD, w);
        }
    }

    /// How many entities are open (for tests and bounds).
    pub fn depth(&self) -> usize {
        self.stack.len()
    }
}

/// `CheckBoundaryDelimiter`: `--boundary` opens a part, `--boundary--` closes the multipart.
fn delimiter(boundary: Option<&[u8]>, line: &[u8]) -> Delimiter {
    let Some(b) = boundary else {
        return Delimiter::None;
    };
    let Some(rest) = line.strip_prefix(b"--") else {
        return Delimiter::None;
    };
    let Some(rest) = rest.strip_prefix(b) else {
        return Delimiter::None;
    };
    if rest.starts_with(b"--") {
        Delimiter::Closing
    } else {
        Delimiter::Boundary
    }
}

/// `DecodeQuotedPrintable`: one line; trailing blanks are dropped, `=` at the end
/// is a soft line break, otherwise a CRLF follows. Returns the anomalies.
pub fn decode_quoted_printable(line: &[u8], out: &mut Vec<u8>) -> Vec<String> {
    let mut bad = Vec::new();
    let end = line
        .iter()
        .rposition(|&c| c != b' ' && c != b'\t')
        .map_or(0, |i| i + 1);
    let mut soft_break = false;
    let mut i = 0;
    while i < end {
        let c = line[i];
        if c == b'=' {
            if i + 1 == end {
                soft_break = true;
            } else {
                let hex = |c: u8| (c as char).to_digit(16);
                match (line.get(i + 1).copied().and_then(hex), line.get(i + 2).copied().and_then(hex)) {
                    (Some(a), Some(b)) if i + 2 < line.len() => {
                        out.push((a * 16 + b) as u8);
                        i += 2;
                    }
                    _ => {
                        bad.push("= is not followed by two hexadecimal digits in quoted-printable encoding".to_string());
                        out.push(c);
                    }
                }
            }
        } else if (33..=60).contains(&c) || (62..=126).contains(&c) || c == b' ' || c == b'\t' {
            out.push(c);
        } else {
            bad.push(format!("control characters in quoted-printable encoding: {}", c as i8));
            out.push(c);
        }
        i += 1;
    }
    if !soft_break {
        out.extend_from_slice(b"\r\n");
    }
    bad
}

#[cfg(test)]
mod tests;
