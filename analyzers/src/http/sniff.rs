//! Content sniffing: the MIME type of the first bytes of a body.

/// The MIME type Zeek's file magic gives the start of a body, for the few
/// types HTTP traffic mostly carries; `None` when nothing matches.
pub fn sniff_mime(start: &[u8]) -> Option<&'static str> {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"\x89PNG", "image/png"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"\xff\xd8", "image/jpeg"),
        (b"%PDF-", "application/pdf"),
        (b"PK\x03\x04", "application/zip"),
        (b"\x1f\x8b", "application/x-gzip"),
        (b"MZ", "application/x-dosexec"),
        (b"FWS", "application/x-shockwave-flash"),
        (b"CWS", "application/x-shockwave-flash"),
        (b"ZWS", "application/x-shockwave-flash"),
        (b"MSCF", "application/vnd.ms-cab-compressed"),
        (b"\x7fELF", "application/x-executable"),
    ];
    for (magic, ty) in MAGIC {
        if start.starts_with(magic) {
            return Some(ty);
        }
    }
    let text = {
        let lead = start
            .iter()
            .position(|b| !b" \t\r\n".contains(b))
            .unwrap_or(start.len());
        &start[lead..]
    };
    let lower: Vec<u8> = text.iter().take(64).map(u8::to_ascii_lowercase).collect();
    for tag in [
        &b"<!doctype html"[..],
        b"<html",
        b"<head",
        b"<title",
        b"<body",
        b"<script",
        b"<iframe",
        b"<h1",
        b"<div",
        b"<table",
        b"<a ",
        b"<style",
        b"<meta",
        b"<center",
        b"<br",
        b"<p>",
        b"<!--",
    ] {
        if lower.starts_with(tag) {
            return Some("text/html");
        }
    }
    for start in [&b"document.write"[..], b"<script"] {
        if lower.starts_with(start) {
            return Some("application/javascript");
        }
    }
    if lower.starts_with(b"<?xml") {
        let head: Vec<u8> = text.iter().take(512).map(u8::to_ascii_lowercase).collect();
        if head.windows(5).any(|w| w == b"<html") {
            return Some("text/html");
        }
        return Some("application/xml");
    }
    // A JSON object, or an array of objects or strings.
    let next = |from: usize| {
        text.iter()
            .skip(from)
            .find(|b| !b" \t\r\n".contains(b))
            .copied()
    };
    let object = |at: usize| text.get(at) == Some(&b'{') && next(at + 1) == Some(b'"');
    let array = text.first() == Some(&b'[') && matches!(next(1), Some(b'{' | b'"'));
    if object(0) || array {
        return Some("text/json");
    }
    let printable = |b: &u8| (0x20..0x7f).contains(b) || b"\t\r\n\x0b\x0c".contains(b);
    if start.len() >= 10 && start[..10].iter().all(printable) {
        return Some("text/plain");
    }
    None
}
