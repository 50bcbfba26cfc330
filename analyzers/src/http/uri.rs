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

/// Zeek's `util::atoi_n` in base 10: an optional `-`, then the leading digits (at least
/// one; what follows them is ignored), with Zeek's wrapping 64-bit arithmetic.
pub(super) fn atoi_prefix(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let n = digits.iter().take_while(|b| b.is_ascii_digit()).count();
    if n == 0 {
        return None;
    }
    let v = digits[..n].iter().fold(0i64, |v, &d| {
        v.wrapping_mul(10).wrapping_add(i64::from(d - b'0'))
    });
    Some(if neg { v.wrapping_neg() } else { v })
}

/// The first token of a header value as Zeek's MIME code reads it (`MIME_get_token`):
/// whitespace, comments in parentheses and any other non-token byte before it are
/// skipped (`"chunked"` reads as `chunked`); it runs to the next space, control byte or
/// tspecial.
pub(super) fn mime_token(value: &[u8]) -> &[u8] {
    mime_token_and_rest(value).0
}

/// The first token and what follows it (Zeek's `get_value_after_token`).
pub(super) fn mime_token_and_rest(value: &[u8]) -> (&[u8], &[u8]) {
    let is_token = |b: u8| (33..=126).contains(&b) && !b"()<>@,;:\\\"/[]?=".contains(&b);
    let mut i = 0;
    while i < value.len() {
        if is_token(value[i]) {
            let end = value[i..]
                .iter()
                .position(|&b| !is_token(b))
                .map_or(value.len(), |n| i + n);
            return (&value[i..end], &value[end..]);
        }
        if value[i] == b'(' {
            // A comment, nested ones included.
            let mut depth = 0usize;
            while i < value.len() {
                match value[i] {
                    b'(' => depth += 1,
                    b')' => depth -= 1,
                    _ => {}
                }
                i += 1;
                if depth == 0 {
                    break;
                }
            }
            continue;
        }
        i += 1;
    }
    (&value[value.len()..], &value[value.len()..])
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
