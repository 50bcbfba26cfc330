//! Unit tests of the HTTP helpers.

use super::analyzer::{content_range, http_version};
use super::decode::gzip_header_len;
use super::uri::{atoi_prefix, mime_token};
use super::*;

#[test]
fn unescape_decodes_and_reports_bad_escapes() {
    let mut w = Vec::new();
    assert_eq!(unescape_uri(b"/a%20b%2fc", |x| w.push(x)), b"/a b/c");
    assert!(w.is_empty());
    assert_eq!(unescape_uri(b"/x%zz", |x| w.push(x)), b"/x%zz");
    assert_eq!(unescape_uri(b"/x%4", |x| w.push(x)), b"/x%4");
    assert_eq!(unescape_uri(b"/x%", |x| w.push(x)), b"/x%");
    assert_eq!(
        w,
        vec![
            "unescaped_%_in_URI",
            "partial_escape_at_end_of_URI",
            "illegal_%_at_end_of_URI"
        ]
    );
}

#[test]
fn versions_and_numbers() {
    assert_eq!(http_version(b"1.1"), Some((1, 1)));
    assert_eq!(http_version(b"x"), None);
    // Content-Length as Zeek reads it: the first MIME token's leading digits.
    assert_eq!(atoi_prefix(b"4294967296"), Some(4_294_967_296));
    assert_eq!(atoi_prefix(b"12abc"), Some(12));
    assert_eq!(atoi_prefix(b"-5"), Some(-5));
    assert_eq!(atoi_prefix(b"+5"), None);
    assert_eq!(atoi_prefix(b""), None);
    assert_eq!(atoi_prefix(b"000000000000000000000000005"), Some(5));
    assert_eq!(mime_token(b"  57, 65"), b"57");
    assert_eq!(mime_token(b"\t5/6"), b"5");
}

#[test]
fn sniffing() {
    assert_eq!(sniff_mime(b"\n<!DOCTYPE html><html>"), Some("text/html"));
    assert_eq!(sniff_mime(b"\x89PNG\r\n"), Some("image/png"));
    assert_eq!(sniff_mime(b"hello world, plain"), Some("text/plain"));
    assert_eq!(sniff_mime(b"{ \"a\": 1}"), Some("text/json"));
    assert_eq!(sniff_mime(b"[{\"name\": \"Alice\"}]"), Some("text/json"));
    assert_eq!(sniff_mime(b"\x00\x01\x02"), None);
    // Zeek's JSON rule wants a key and a value: a brace and a quote alone are plain text.
    assert_eq!(sniff_mime(b"{\"unterminated and long"), Some("text/plain"));
    assert_eq!(sniff_mime(b"{}"), Some("text/json"));
    // OCSP over HTTP: a DER request naming SHA-1, a response naming id-pkix-ocsp-basic.
    let req = b"\x30\x45\x30\x43\x30\x41\x30\x3f\x30\x3d\x30\x09\x06\x05\x2b\x0e\x03\x02\x1a\x05\x00";
    assert_eq!(sniff_mime(req), Some("application/ocsp-request"));
    let resp = b"\x30\x82\x01\xd3\x0a\x01\x00\xa0\x82\x01\xcc\x30\x82\x01\xc8\x06\x09\x2b\x06\x01\x05\x05\x07\x30\x01\x01";
    assert_eq!(sniff_mime(resp), Some("application/ocsp-response"));
    // An icon; `MZ` executables outrank the plain text their header may look like.
    assert_eq!(sniff_mime(b"\x00\x00\x01\x00\x01\x00\x10\x10"), Some("image/x-icon"));
    assert_eq!(sniff_mime(b"MZ plain-looking header"), Some("application/x-dosexec"));
}

#[test]
fn content_ranges() {
    assert_eq!(content_range(b"bytes 0-4/33"), Ok((5, None)));
    assert_eq!(
        content_range(b"bytes 0-4/x"),
        Ok((5, Some(b"0-4/x".to_vec())))
    );
    let weird = |v: &[u8]| content_range(v).err().flatten().map(|w| w.0);
    assert_eq!(
        weird(b"bytes foo-bar/baz"),
        Some("HTTP_content_range_cannot_parse")
    );
    assert_eq!(weird(b"bytes 0--5/*"), Some("HTTP_content_range_invalid"));
    assert_eq!(
        weird(b"bytes 10-5/*"),
        Some("HTTP_non_positive_content_range")
    );
    assert_eq!(
        weird(b"bytes 0-9223372036854775807/*"),
        Some("HTTP_content_range_overflow")
    );
    assert_eq!(
        weird(b"lines 1-2/3"),
        Some("HTTP_content_range_unknown_byte_unit")
    );
}

#[test]
fn gzip_headers() {
    assert_eq!(
        gzip_header_len(b"\x1f\x8b\x08\x00\0\0\0\0\0\x03"),
        Some(Ok(10))
    );
    assert_eq!(gzip_header_len(b"\x1f\x8b\x08\x08\0\0\0\0\0\x03ab"), None);
    assert_eq!(
        gzip_header_len(b"\x1f\x8b\x08\x08\0\0\0\0\0\x03ab\0"),
        Some(Ok(13))
    );
    assert_eq!(gzip_header_len(b"xxxxxxxxxxxx"), Some(Err(())));
}
