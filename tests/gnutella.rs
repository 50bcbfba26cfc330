//! Gnutella (grammars/gnutella.*): the text handshake cut into blocks, the binary
//! messages cut from each direction once both sides said `200`, and what is left
//! when the connection ends, from sessions these tests build. The analyzer is put
//! on a port at run time, as Zeek needs a script for. Checked against Zeek 8.2.2
//! (with `Analyzer::register_for_port(Analyzer::ANALYZER_GNUTELLA, 6346/tcp)`) on
//! the pcaps these tests write (`NETPAC_TEST_PCAPS`), apart from what the grammar
//! says it does differently (a payload is its own message's, never the bytes Zeek's
//! buffer kept from earlier ones).

mod common;
mod lines_support;

use common::{run_with, Config, Frame, Host};
use lines_support::{events_with_port, orig, resp, session, Piece};

/// A binary message: a 16-byte id, type, TTL, hops, the payload's length
/// (little-endian) and as much of the payload as given.
fn msg(kind: u8, ttl: u8, hops: u8, len: u32, payload: &[u8]) -> Vec<u8> {
    let mut m = vec![0x11; 16];
    m.extend([kind, ttl, hops]);
    m.extend(len.to_le_bytes());
    m.extend(payload);
    m
}

/// The Gnutella events and weirds of `frames` with the analyzer on port 6346, one
/// line each, and conn.log's service and history.
fn events(frames: &[Frame]) -> (Vec<String>, Vec<String>) {
    let keep = |name: &str, _: &serde_json::Value| {
        name.starts_with("gnutella") || name.starts_with("protocol_") || name == "conn_weird"
    };
    events_with_port(frames, "GNUTELLA", 6346, keep, &["service", "history"])
}

fn client() -> Host {
    Host::v4("10.0.0.1", 40004)
}

fn servent() -> Host {
    Host::v4("10.0.0.2", 6346)
}

/// The handshake in three blocks (the last one completing it, with a message after
/// it in the same segment), messages both ways: one split across segments, an empty
/// one, one with a NUL, one longer than the 1024 bytes kept, and at the end a header
/// cut short (originator) and a payload cut short (responder).
#[test]
fn handshake_messages_and_what_is_left_at_the_end() {
    let big: Vec<u8> = (0..1100u32).map(|i| b'A' + (i % 26) as u8).collect();
    let split = msg(0x80, 5, 2, 5, b"hello");
    let pieces = vec![
        orig(b"GNUTELLA CONNECT/0.6\r\nUser-Agent: netpac-test\r\nX-Ultrapeer: False\r\n\r\n"),
        resp(b"GNUTELLA/0.6 200 OK\r\nUser-Agent: servent\r\n\r\n"),
        orig(&[&b"GNUTELLA/0.6 200 OK\r\n\r\n"[..], &msg(0, 7, 0, 0, b"")].concat()),
        resp(&split[..10]),
        resp(&split[10..]),
        orig(&[msg(1, 6, 1, 5, b"ab\0cd"), msg(0x40, 3, 0, 1100, &big)].concat()),
        orig(&msg(2, 1, 1, 9, b"")[..7]),
        resp(&msg(0x81, 4, 1, 100, b"partial")),
    ];
    let frames = session(1.0, client(), servent(), &pieces);
    let (events, conn) = events(&frames);
    insta::assert_snapshot!(events.join("\n"));
    // Gnutella never confirms: no service.
    assert_eq!(conn, ["-\tShADdFf"]);
}

/// Lines as Zeek's Gnutella cuts them: every CR is dropped and the next LF after
/// one ends the line (a bare LF is data); a blank line with nothing before it is an
/// empty block; `200` must follow the first space of a first line that starts with
/// `GNUTELLA`. Never established: `gnutella_not_establish` at the end.
#[test]
fn lines_blocks_and_a_handshake_that_never_completes() {
    let pieces = vec![
        orig(b"\r\n"),
        orig(b"GNUTELLA CONNECT/0.6\r\nX: a\nb\r\nY: c\rd\n\r\n"),
        resp(b"GNUTELLA/0.6  200 OK\r\n\r\n"),
        resp(b"gnutella/0.6 200 OK\r\n\r\n"),
        orig(b"GNUTELLA/0.6 200 OK\r\nunterminated"),
    ];
    let frames = session(1.0, client(), servent(), &pieces);
    let (events, conn) = events(&frames);
    insta::assert_snapshot!(events.join("\n"));
    assert_eq!(conn, ["-\tShADdFf"]);
}

/// A line reaching `max_line_length` (8192) bytes ends its direction's text with
/// `exceeded_gnutella_max_line_length` and `X` in the history; the other direction
/// goes on.
#[test]
fn a_line_at_the_limit_ends_the_direction() {
    let long = [&b"X-Long: "[..], &[b'C'; 9000], b"\r\n\r\n"].concat();
    let pieces = vec![orig(&long), resp(b"GNUTELLA/0.6 200 OK\r\n\r\n"), orig(b"GNUTELLA/0.6 200 OK\r\n\r\n")];
    let frames = session(1.0, client(), servent(), &pieces);
    let (events, conn) = events(&frames);
    insta::assert_snapshot!(events.join("\n"));
    assert_eq!(conn, ["-\tShADXdFf"]);
}

/// A block reaching `max_header_length` (32768) bytes, its lines counted with the
/// CRLF before each as Zeek joins them: the weird names the length it would have had.
#[test]
fn a_block_at_the_header_limit_ends_the_direction() {
    let line = [&b"X-Filler: "[..], &[b'f'; 988], b"\r\n"].concat();
    let mut block = b"GNUTELLA CONNECT/0.6\r\n".to_vec();
    for _ in 0..40 {
        block.extend(&line);
    }
    block.extend(b"\r\n");
    let frames = session(1.0, client(), servent(), &[orig(&block), resp(b"GNUTELLA/0.6 200 OK\r\n\r\n")]);
    let (events, conn) = events(&frames);
    insta::assert_snapshot!(events.join("\n"));
    assert_eq!(conn, ["-\tShADXdFf"]);
}

/// A first line naming HTTP hands the connection to the HTTP analyzer
/// (`gnutella_http_notify`), which reads what follows.
#[test]
fn a_first_line_naming_http_hands_off_to_http() {
    let pieces = vec![
        orig(b"GET /uri-res/N2R?urn:sha1:ABC HTTP/1.1\r\nHost: 10.0.0.2:6346\r\n\r\n"),
        resp(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
    ];
    let frames = session(1.0, client(), servent(), &pieces);
    let (events, _) = events(&frames);
    insta::assert_snapshot!(events.join("\n"));
}

/// Zeek registers no port or signature for Gnutella.
#[test]
fn nothing_without_a_registration() {
    let frames = session(1.0, client(), servent(), &[orig(b"GNUTELLA CONNECT/0.6\r\n\r\n")]);
    let out = run_with(&frames, Config::default(), netpac_analyzers::registry(), None);
    assert!(!out.events.iter().any(|e| e["event"].as_str().unwrap().starts_with("gnutella")));
}

/// Bytes that are not Gnutella, never ending a line, stay within the limits.
#[test]
fn garbage_is_bounded() {
    let junk: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8 & 0xf7).collect();
    let pieces: Vec<Piece> = junk.chunks(1400).map(orig).collect();
    let frames = session(1.0, client(), servent(), &pieces);
    let (events, _) = events(&frames);
    assert!(events.len() <= 3, "{events:?}");
}
