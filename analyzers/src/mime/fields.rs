//! Header fields as Zeek's MIME analyzer reads them (src/analyzer/protocol/mime/MIME.cc):
//! the name and value of a (folded) header line, and the structured values of
//! `Content-Type` (type/subtype, the multipart boundary) and
//! `Content-Transfer-Encoding` (RFC 2045 tokens, comments, quoted strings).

fn is_lws(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// `MIME_skip_comments`: the length of a `( ... )` comment at the start (nested, with `\` escapes).
fn skip_comment(data: &[u8]) -> usize {
    if data.first() != Some(&b'(') {
        return 0;
    }
    let mut depth = 0usize;
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            b'\\' => i += 1,
            _ => {}
        }
        i += 1;
    }
    data.len()
}

/// `MIME_skip_lws_comments`: blanks and comments at the start.
fn skip_lws_comments(data: &[u8]) -> usize {
    let mut i = 0;
    while i < data.len() {
        if is_lws(data[i]) {
            i += 1;
        } else if data[i] == b'(' {
            i += skip_comment(&data[i..]);
        } else {
            return i;
        }
    }
    data.len()
}

fn is_field_name_char(c: u8) -> bool {
    (33..=126).contains(&c) && c != b':'
}

fn is_tspecial(c: u8, boundary: bool) -> bool {
    if boundary {
        return c == b'"';
    }
    b"()<>@,;:\\\"/[]?=".contains(&c)
}

fn is_token_char(c: u8, boundary: bool) -> bool {
    (33..=126).contains(&c) && !is_tspecial(c, boundary)
}

/// `MIME_get_token`: the next token (after blanks and comments, unless a boundary) and
/// the offset just past it.
fn token(data: &[u8], boundary: bool) -> Option<(&[u8], usize)> {
    let mut i = if boundary { 0 } else { skip_lws_comments(data) };
    while i < data.len() {
        if is_token_char(data[i], boundary) {
            let end = data[i..]
                .iter()
                .position(|&c| !is_token_char(c, boundary))
                .map_or(data.len(), |n| i + n);
            return Some((&data[i..end], end));
        }
        let j = skip_lws_comments(&data[i..]);
        i += j.max(1);
    }
    None
}

/// A header of an entity: its name as written and its value with leading whitespace removed.
/// `None` for a line without a field name and a colon (Zeek drops those).
pub fn split_header(line: &[u8]) -> Option<(&[u8], &[u8])> {
    // MIME_get_field_name
    let mut i = skip_lws_comments(line);
    let (name, after) = loop {
        if i >= line.len() {
            return None;
        }
        if is_field_name_char(line[i]) {
            let end = line[i..]
                .iter()
                .position(|&c| !is_field_name_char(c))
                .map_or(line.len(), |n| i + n);
            break (&line[i..end], end);
        }
        let j = skip_lws_comments(&line[i..]);
        i += j.max(1);
    };
    let rest = &line[after..];
    let off = skip_lws_comments(rest);
    if rest.get(off) != Some(&b':') {
        return None;
    }
    let mut value = &rest[off + 1..];
    while let Some((&c, tail)) = value.split_first() {
        if !c.is_ascii_whitespace() && c != 0x0b {
            break;
        }
        value = tail;
    }
    Some((name, value))
}

/// What `Content-Type` says about an entity.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContentType {
    /// Upper-cased type and subtype.
    pub ty: Vec<u8>,
    pub subty: Vec<u8>,
    /// The `boundary` parameter of a multipart type.
    pub boundary: Option<Vec<u8>>,
}

/// `ParseContentTypeField`: `type/subtype *(; attr=value)`; anomalies go to `illegal`
/// (Zeek's `IllegalFormat`, a `mime_event`). `None` when no type/subtype is found.
pub fn content_type(value: &[u8], illegal: &mut Vec<&'static str>) -> Option<ContentType> {
    let Some((ty, off)) = token(value, false) else {
        illegal.push("media type/subtype not found in content type");
        return None;
    };
    let rest = &value[off..];
    let slash = skip_lws_comments(rest);
    if rest.get(slash) != Some(&b'/') {
        illegal.push("media type/subtype not found in content type");
        return None;
    }
    let rest = &rest[slash + 1..];
    let Some((subty, off)) = token(rest, false) else {
        illegal.push("media type/subtype not found in content type");
        return None;
    };
    let mut ct = ContentType {
        ty: ty.to_ascii_uppercase(),
        subty: subty.to_ascii_uppercase(),
        boundary: None,
    };
    // Only multipart and message types have parameters Zeek reads.
    if ct.ty == b"MULTIPART" || ct.ty == b"MESSAGE" {
        ct.boundary = parameters(&rest[off..], ct.ty == b"MULTIPART", illegal);
    }
    Some(ct)
}

/// `ParseFieldParameters`: returns the boundary when asked for one.
fn parameters(mut data: &[u8], want_boundary: bool, illegal: &mut Vec<&'static str>) -> Option<Vec<u8>> {
    let mut boundary = None;
    loop {
        let off = skip_lws_comments(data);
        if data.get(off) != Some(&b';') {
            break;
        }
        data = &data[off + 1..];
        let Some((attr, off)) = token(data, false) else {
            illegal.push("attribute name not found in parameter specification");
            return boundary;
        };
        data = &data[off..];
        let off = skip_lws_comments(data);
        if data.get(off) != Some(&b'=') {
            illegal.push("= not found in parameter specification");
            continue;
        }
        data = &data[off + 1..];
        let is_boundary = want_boundary && attr.eq_ignore_ascii_case(b"boundary");
        match value(data, is_boundary) {
            Some((v, off)) => {
                if is_boundary {
                    boundary = Some(v);
                }
                data = &data[off..];
            }
            None if is_boundary => illegal.push("Could not parse multipart boundary"),
            None => illegal.push("value not found in parameter specification"),
        }
    }
    boundary
}

/// `MIME_get_value`: a quoted string (quoted pairs decoded) or a token.
fn value(data: &[u8], boundary: bool) -> Option<(Vec<u8>, usize)> {
    let start = if boundary { 0 } else { skip_lws_comments(data) };
    let d = &data[start..];
    if d.first() == Some(&b'"') {
        // MIME_get_quoted_string
        let mut i = 1;
        while i < d.len() {
            match d[i] {
                b'"' => return Some((unquote(&d[1..i]), start + i + 1)),
                b'\\' => i += 1,
                _ => {}
            }
            i += 1;
        }
        return None;
    }
    let (t, end) = token(d, boundary)?;
    Some((t.to_vec(), start + end))
}

/// `MIME_decode_quoted_pairs`: `\x` is `x`; a trailing `\` is dropped.
fn unquote(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' {
            i += 1;
            if let Some(&c) = s.get(i) {
                out.push(c);
            }
        } else {
            out.push(s[i]);
        }
        i += 1;
    }
    out
}

/// The transfer encodings Zeek decodes; every other name is passed through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    SevenBit,
    EightBit,
    Binary,
    QuotedPrintable,
    Base64,
    Other,
}

/// `ParseContentEncodingField`: the first token of the value.
pub fn content_encoding(value: &[u8], illegal: &mut Vec<&'static str>) -> Option<Encoding> {
    let Some((t, _)) = token(value, false) else {
        illegal.push("encoding type not found in content encoding");
        return None;
    };
    let names: [(&[u8], Encoding); 5] = [
        (b"7BIT", Encoding::SevenBit),
        (b"8BIT", Encoding::EightBit),
        (b"BINARY", Encoding::Binary),
        (b"QUOTED-PRINTABLE", Encoding::QuotedPrintable),
        (b"BASE64", Encoding::Base64),
    ];
    Some(
        names
            .iter()
            .find(|(n, _)| t.eq_ignore_ascii_case(n))
            .map_or(Encoding::Other, |(_, e)| *e),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_name_and_value() {
        assert_eq!(
            split_header(b"Subject:   Hello  there "),
            Some((&b"Subject"[..], &b"Hello  there "[..]))
        );
        assert_eq!(split_header(b"no colon here"), None);
    }

    #[test]
    fn multipart_boundary_quoted_or_token() {
        let mut ill = Vec::new();
        let ct = content_type(b"multipart/mixed;\tboundary=\"=_a b\\\"c\"", &mut ill).unwrap();
        assert_eq!(ct.ty, b"MULTIPART");
        assert_eq!(ct.subty, b"MIXED");
        assert_eq!(ct.boundary.as_deref(), Some(&b"=_a b\"c"[..]));
        let ct = content_type(b"Multipart/Alternative; boundary=Apple-Mail=_1", &mut ill).unwrap();
        assert_eq!(ct.boundary.as_deref(), Some(&b"Apple-Mail=_1"[..]));
        assert!(ill.is_empty());
    }

    #[test]
    fn content_type_without_subtype_is_illegal() {
        let mut ill = Vec::new();
        assert_eq!(content_type(b"text", &mut ill), None);
        assert_eq!(ill, vec!["media type/subtype not found in content type"]);
    }

    #[test]
    fn encodings() {
        let mut ill = Vec::new();
        assert_eq!(content_encoding(b" Base64 ", &mut ill), Some(Encoding::Base64));
        assert_eq!(content_encoding(b"x-uue", &mut ill), Some(Encoding::Other));
    }
}
