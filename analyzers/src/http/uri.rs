//! Zeek's `unescape_URI` and the small byte-string helpers the HTTP analyzer shares.

/// Zeek's `unescape_URI`: `%XX` becomes the byte and IIS's `%uXXXX` one or
/// two bytes; a bad escape is kept as it is and reported through `weird`
/// (`illegal_%_at_end_of_URI`, `partial_escape_at_end_of_URI`,
/// `double_%_in_URI`, `unescaped_%_in_URI`).
pub fn unescape_uri(uri: &[u8], mut weird: impl FnMut(&'static str)) -> Vec<u8> {
    let mut out = Vec::with_capacity(uri.len());
    let mut i = 0;
    while i < uri.len() {
        if uri[i] != b'%' {
            out.push(uri[i]);
            i += 1;
            continue;
        }
        i += 1;
        let rest = &uri[i..];
        match rest {
            [] => {
                out.push(b'%');
                weird("illegal_%_at_end_of_URI");
            }
            [c] => {
                out.extend_from_slice(&[b'%', *c]);
                weird("partial_escape_at_end_of_URI");
                i += 1;
            }
            // The first `%` of `%%` is dropped; the second starts an escape.
            [b'%', ..] => weird("double_%_in_URI"),
            [h, l, ..] if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => {
                out.push((hex(*h) << 4) | hex(*l));
                i += 2;
            }
            [b'u', a, b, c, d, ..] if [a, b, c, d].iter().all(|x| x.is_ascii_hexdigit()) => {
                if !(*a == b'0' && *b == b'0') {
                    out.push((hex(*a) << 4) | hex(*b));
                }
                out.push((hex(*c) << 4) | hex(*d));
                i += 5;
            }
            [c, ..] => {
                weird("unescaped_%_in_URI");
                out.extend_from_slice(&[b'%', *c]);
                i += 1;
            }
        }
    }
    out
}

pub(super) fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

pub(super) fn decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0')))
}

pub(super) fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &s[start..end]
}
