//! Telnet (grammars/telnet.*, over the login dialog of grammars/login.npac): lines cut
//! as Zeek's NVT cuts them, commands taken out of them, option negotiation and the
//! terminal-type, environment, authentication and encryption subnegotiations, from
//! sessions these tests build. The analyzer is put on port 23 at run time, as Zeek
//! needs a script for. Checked against Zeek 8.2.2 (with
//! `Analyzer::register_for_ports(Analyzer::ANALYZER_TELNET, set(23/tcp))`) on the same
//! sessions: the events and weirds are identical.

mod common;
mod lines_support;

use common::{tcp, Frame, Host};
use lines_support::{events_with_port, orig, resp, session, Piece};

const IAC: u8 = 255;
const SB: u8 = 250;
const SE: u8 = 240;
const WILL: u8 = 251;
const WONT: u8 = 252;
const DO: u8 = 253;
const DONT: u8 = 254;

fn client() -> Host {
    Host::v4("10.0.0.1", 40000)
}

fn server() -> Host {
    Host::v4("10.0.0.2", 23)
}

/// A subnegotiation of `option` with `data`.
fn sb(option: u8, data: &[u8]) -> Vec<u8> {
    [&[IAC, SB, option][..], data, &[IAC, SE]].concat()
}

/// The Telnet and login events and the weirds of `frames`, one line each, and
/// conn.log's service and history.
fn events(frames: &[Frame]) -> (Vec<String>, Vec<String>) {
    let keep = |name: &str, _: &serde_json::Value| {
        ["login_", "authentication_", "activating_", "inconsistent_", "bad_option", "protocol_", "conn_weird"]
            .iter()
            .any(|p| name.starts_with(p))
    };
    events_with_port(frames, "TELNET", 23, keep, &["service", "history"])
}

/// Lines as the NVT cuts them: CR NUL and CRLF are one line end (even across
/// segments), LF CR and CR CR two, a NUL elsewhere is text the dialog leaves out
/// (weird `NUL_in_line`), commands in a line are taken out of it, IAC IAC is a 0xFF,
/// and the FIN ends a last line. The server's first line confuses the dialog (no user
/// known: "no_username2") and its next one is the login's success. Telnet never
/// confirms: no service.
#[test]
fn lines_commands_and_the_dialog() {
    let pieces = vec![
        resp(b"a1\r\0a2\r\na3\ra4\na5\n\ra6\r"),
        resp(b"\r"),
        resp(b"b1\r"),
        resp(b"\nb2\0x\r\n"),
        resp(&[&b"hel"[..], &[IAC, 241], b"lo", &[IAC, IAC], b"x", &[IAC, DO, 5], b"y\r\n"].concat()),
        orig(b"tail without end"),
    ];
    let (events, conn) = events(&session(1.0, client(), server(), &pieces));
    insta::assert_snapshot!(events.join("\n"));
    assert_eq!(conn, ["-\tShAdDFf"]);
}

/// Option negotiation: an option becomes active in the side that said DO once the
/// other said WILL; saying what contradicts what was said is `inconsistent_option`
/// (five times here, as in Zeek's own accounting), options NVT.cc does not track are
/// ignored, and BINARY never is inconsistent.
#[test]
fn option_negotiation() {
    let pieces = vec![
        orig(&[IAC, WILL, 24]),
        resp(&[IAC, DO, 24]),
        orig(&[IAC, WILL, 24]),
        resp(&[IAC, DO, 24]),
        orig(&[IAC, WILL, 37]),
        resp(&[IAC, DONT, 37]),
        orig(&[IAC, WILL, 37]),
        orig(&[IAC, WONT, 39]),
        resp(&[IAC, DO, 39]),
        resp(&[IAC, DO, 38]),
        resp(&[IAC, DONT, 38]),
        orig(&[IAC, WILL, 1, IAC, WILL, 0, IAC, WILL, 0]),
        resp(&[IAC, DO, 0, IAC, DO, 0, IAC, DONT, 3]),
    ];
    let (events, _) = events(&session(1.0, client(), server(), &pieces));
    insta::assert_snapshot!(events.join("\n"));
}

/// Subnegotiations: the terminal type (IS, SEND, bad ones, an IAC IAC in the name),
/// the environment (USER names the user the dialog reports, TERM, DISPLAY and
/// TTYPROMPT their events, an ESC, a pair that does not parse, a second user, the
/// responder's environment confusing the dialog), and one ended by an IAC that is
/// not SE, whose negotiation is read after it.
#[test]
fn terminal_type_and_environment() {
    let env = [
        &[0u8][..], &[0], b"USER", &[1], b"bob", &[0], b"DISPLAY", &[1], b"host:0.0", &[3], b"TTYPROMPT", &[1],
        b"abc", &[0], b"TERM", &[1], b"vt220", &[3], b"OTHER", &[1], b"zz",
    ]
    .concat();
    let pieces = vec![
        orig(&sb(24, b"\0XTERM-256COLOR")),
        orig(&sb(24, b"")),
        orig(&sb(24, b"\x01")),
        orig(&sb(24, b"\x05x")),
        orig(&sb(24, &[0, b'a', IAC, IAC, b'b'])),
        orig(&[&[IAC, SB, 24, 0][..], b"vt100", &[IAC, WILL, 24], b"ok\r\n"].concat()),
        orig(&sb(39, &env)),
        orig(&sb(39, &[2, 0, b'U', b'S', b'E', b'R', 1, b'e', b'v', b'e', 0, b'D', 2])),
        orig(&sb(39, &[0, 0, b'D', b'I', b'S', b'P', b'L', b'A', b'Y', 1, b'a', 2, 0, b'b'])),
        resp(&sb(39, &[0, 0, b'U', b'S', b'E', b'R', 1, b'x'])),
        resp(b"Password: \r\n"),
    ];
    let (events, _) = events(&session(1.0, client(), server(), &pieces));
    insta::assert_snapshot!(events.join("\n"));
}

/// Authentication and encryption: the server's REPLY names the client's NAME
/// (accepted: 2, rejected: 1, as NVT.cc reads the byte; "<empty>" without a NAME);
/// an IS before any SEND is inconsistent; ENCRYPT before the option is active is
/// inconsistent; once active, START after an accepted authentication starts
/// encrypting: the rest of that segment is still read, the next one not.
#[test]
fn authentication_and_encryption() {
    let pieces = vec![
        resp(&sb(37, &[2, 1, 0])),
        orig(&sb(37, &[0, 1, 0])),
        resp(&sb(37, &[1, 1, 0])),
        orig(&sb(37, &[3, b'a', b'l', b'i', b'c', b'e', 0, b'x'])),
        resp(&sb(37, &[2, 1, 0])),
        resp(&sb(37, &[2, 2, 0])),
        resp(&sb(37, &[2, 5, 0])),
        resp(&sb(37, &[2])),
        resp(&sb(37, &[7])),
        orig(&sb(38, &[3])),
        orig(&[IAC, DO, 38]),
        resp(&[IAC, WILL, 38]),
        resp(&sb(38, &[5])),
        orig(&[&sb(38, &[3])[..], b"same segment\r\n"].concat()),
        orig(b"next segment\r\n"),
        resp(b"still read\r\n"),
    ];
    let (events, _) = events(&session(1.0, client(), server(), &pieces));
    insta::assert_snapshot!(events.join("\n"));
}

/// A connection whose start was not seen: the dialog is confused from its first line
/// on; bytes lost in a gap are just missing from the line they were in.
#[test]
fn a_partial_connection_with_a_gap() {
    let (c, s) = (client(), server());
    let frames = vec![
        tcp(1.0, c, s, "A", 100, 900, b"ab"),
        tcp(1.1, c, s, "A", 105, 900, b"cd\r\n"),
        tcp(1.2, s, c, "A", 900, 109, b"welcome\r\n"),
        tcp(1.3, c, s, "FA", 109, 909, b""),
        tcp(1.4, s, c, "FA", 909, 110, b""),
    ];
    insta::assert_snapshot!(events(&frames).0.join("\n"));
}

/// Hostile input: a subnegotiation, a line and a run of commands that never end are
/// held only up to the framing limit; nothing panics and the other direction is
/// still read.
#[test]
fn endless_subnegotiations_and_lines_stay_bounded() {
    let long = vec![b'a'; 70_000];
    let commands: Vec<u8> = std::iter::repeat([IAC, WILL, 1]).take(30_000).flatten().collect();
    for first in [[&[IAC, SB, 24, 0][..], &long].concat(), long.clone(), commands] {
        let mut pieces: Vec<Piece> = first.chunks(1400).map(orig).collect();
        pieces.push(resp(b"still read\r\n"));
        let (events, _) = events(&session(1.0, client(), server(), &pieces));
        assert!(events.iter().any(|e| e.contains("still read")), "{:?}", &events[..events.len().min(5)]);
    }
}

/// Binary mode: once the client said WILL BINARY and the server DO BINARY, BINARY is
/// active in the server's side, whose bytes are read as their low 7 bits (0x8D ends a
/// line as CR does, 0x80 is a NUL the dialog leaves out); the client's bytes are
/// not, and outside binary mode 0x8D and 0x8A are text.
#[test]
fn binary_mode_reads_seven_bits() {
    let pieces = vec![
        orig(&[IAC, WILL, 0]),
        resp(&[IAC, DO, 0]),
        resp(b"caf\xe9 \xc1\x8d\x8ax\x80y\r\n"),
        orig(b"caf\xe9 \x8dz\r\n"),
    ];
    let (events, _) = events(&session(1.0, client(), server(), &pieces));
    insta::assert_snapshot!(events.join("\n"));
}
