//! Content sniffing: the MIME type of the first bytes of a body, as Zeek's file
//! magic (`base/frameworks/files/magic/*.sig`) gives it for the types HTTP,
//! FTP and mail mostly carry.
//!
//! Each rule is an anchored byte pattern with a strength; of the rules that
//! match, the strongest wins (Zeek's `file_magic` ranks its matches the same
//! way), so a JSON document is `text/json` rather than the weak `text/plain`.

use regex::bytes::Regex;
use std::sync::OnceLock;

/// The magic rules: pattern (anchored at the start), MIME type, strength.
const RULES: &[(&str, &str, i32)] = &[
    // Text: plain (weakest), JSON objects and arrays, XML.
    (
        r"(\xef\xbb\xbf|(\x00\x00)?\xfe\xff|\xff\xfe(\x00\x00)?)?[\x09-\x0d\x20-\x7e]{10}",
        "text/plain",
        -20,
    ),
    (
        r#"(\xef\xbb\xbf|\xff\xfe|\xfe\xff)?[\r\n\t ]*\{[\r\n\t ]*("[^"]+"|[a-zA-Z][a-zA-Z0-9\\_]*)[\r\n\t ]*:[\r\n\t ]*("|\[|\{|[0-9]|true|false)"#,
        "text/json",
        1,
    ),
    (
        r#"(\xef\xbb\xbf|\xff\xfe|\xfe\xff)?[\r\n\t ]*\[[\r\n\t ]*((("[^"]+"|[0-9]+(\.[0-9]+)?|true|false)[\r\n\t ]*,)|\{|\[)"#,
        "text/json",
        1,
    ),
    (
        r"(\xef\xbb\xbf|\xff\xfe|\xfe\xff)?[\r\n\t ]*(\[\]|\{\})[\r\n\t ]*$",
        "text/json",
        0,
    ),
    (
        r"(\xef\xbb\xbf|\xff\xfe|\xfe\xff)?([\r\n\t ]*(<!--.*-->)?[\r\n\t ]*)*\x00?<\x00?\?\x00?x\x00?m\x00?l\x00? \x00?",
        "application/xml",
        10,
    ),
    // OCSP requests and responses (DER, the algorithm or response-type OID early on).
    (
        r"(?s).{11,19}\x06\x05\x2b\x0e\x03\x02\x1a",
        "application/ocsp-request",
        71,
    ),
    (
        r"(?s).{11,19}\x06\x09\x2b\x06\x01\x05\x05\x07\x30\x01\x01",
        "application/ocsp-response",
        71,
    ),
    // Images.
    (r"\x89PNG", "image/png", 110),
    (r"GIF8", "image/gif", 70),
    (r"\xff\xd8", "image/jpeg", 52),
    (r"\x00\x00\x01\x00", "image/x-icon", 70),
    // Documents, archives, executables.
    (r"%PDF", "application/pdf", 80),
    (r"(?s)PK\x03\x04.{2}", "application/zip", 10),
    (r"\x1f\x8b", "application/x-gzip", 100),
    (r"MSCF\x00\x00\x00\x00", "application/vnd.ms-cab-compressed", 110),
    (r"MZ", "application/x-dosexec", 51),
    (
        r"(?s)\x7fELF[\x01\x02](\x01.{10}\x02\x00|\x02.{10}\x00\x02)",
        "application/x-executable",
        50,
    ),
    (r"(F|C|Z)WS", "application/x-shockwave-flash", 60),
];

/// HTML starts (Zeek's `file-html*` rules, after optional blanks): the tags browsers
/// sniff as HTML.
const HTML_TAGS: &[&[u8]] = &[
    b"<!doctype html",
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
];

fn rules() -> &'static [(Regex, &'static str, i32)] {
    static COMPILED: OnceLock<Vec<(Regex, &'static str, i32)>> = OnceLock::new();
    COMPILED.get_or_init(|| {
        RULES
            .iter()
            .filter_map(|(p, ty, strength)| {
                // `(?-u)`: classes and `.` are bytes, not UTF-8 characters.
                Regex::new(&format!("(?-u)^(?:{p})"))
                    .ok()
                    .map(|r| (r, *ty, *strength))
            })
            .collect()
    })
}

/// The MIME type Zeek's file magic gives the start of a body; `None` when nothing matches.
pub fn sniff_mime(start: &[u8]) -> Option<&'static str> {
    let mut best: Option<(&'static str, i32)> = None;
    let mut consider = |ty: &'static str, strength: i32| {
        if best.is_none_or(|(_, s)| strength > s) {
            best = Some((ty, strength));
        }
    };
    for (re, ty, strength) in rules() {
        if re.is_match(start) {
            consider(ty, *strength);
        }
    }
    let lead = start
        .iter()
        .position(|b| !b" \t\r\n".contains(b))
        .unwrap_or(start.len());
    let text = &start[lead..];
    let lower: Vec<u8> = text.iter().take(64).map(u8::to_ascii_lowercase).collect();
    if HTML_TAGS.iter().any(|tag| lower.starts_with(tag)) {
        consider("text/html", 49);
    }
    if lower.starts_with(b"document.write") {
        consider("application/javascript", 60);
    }
    if lower.starts_with(b"<?xml") {
        let head: Vec<u8> = text.iter().take(512).map(u8::to_ascii_lowercase).collect();
        if head.windows(5).any(|w| w == b"<html") {
            consider("text/html", 100);
        }
    }
    best.map(|(ty, _)| ty)
}
