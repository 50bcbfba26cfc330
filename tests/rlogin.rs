//! Rlogin (grammars/rlogin.*, over the login dialog of grammars/login.npac): the client's
//! opening (a NUL, the client user, the server user, the terminal), the server's
//! acknowledgement, lines both ways with the client's window-size changes taken out,
//! and what the login dialog makes of them, from sessions these tests build. The
//! analyzer is put on port 513 at run time, as Zeek needs a script for. Checked
//! against Zeek 8.2.2 (with `Analyzer::register_for_ports(Analyzer::ANALYZER_RLOGIN,
//! set(513/tcp))`) on the same sessions: the events and weirds are identical.

mod common;
mod lines_support;

use common::{tcp, Frame, Host};
use lines_support::{events_with_port, orig, resp, session, Piece};

fn client() -> Host {
    Host::v4("10.0.0.1", 1023)
}

fn server() -> Host {
    Host::v4("10.0.0.2", 513)
}

/// The login and Rlogin events and the weirds of `frames`, one line each, and
/// conn.log's service and history.
fn events(frames: &[Frame]) -> (Vec<String>, Vec<String>) {
    let keep = |name: &str, _: &serde_json::Value| {
        name.starts_with("login_") || name.starts_with("protocol_") || name == "conn_weird"
    };
    events_with_port(frames, "RLOGIN", 513, keep, &["service", "history"])
}

/// A login: the terminal reported whole, the server's first line taken for a failed
/// login with the server user as user and "<timeout>" as password (Zeek 8.2's login
/// pattern sets are empty, so every line is a timeout), CRLF a line and an empty one,
/// a window-size change in the middle of a client line left out of it, and every
/// client line a "possible login ploy". Rlogin never confirms: no service.
#[test]
fn a_login_and_a_window_change() {
    let window = b"\xff\xffss\x00\x18\x00\x50\x00\x00\x00\x00";
    let pieces = vec![
        orig(b"\0alice\0bob\0xterm/38400\0"),
        resp(b"\0Password: \r\n"),
        orig(&[&b"sec"[..], window, b"ret\r"].concat()),
        resp(b"Last login: Mon\r\n$ "),
        orig(b"ls\r"),
    ];
    let (events, conn) = events(&session(1.0, client(), server(), &pieces));
    insta::assert_snapshot!(events.join("\n"));
    assert_eq!(conn, ["-\tShADdFf"]);
}

/// Nothing after the opening: when a direction ends, the server user still typed
/// ahead is the user of a successful login ("<EOF>").
#[test]
fn an_opening_and_nothing_more() {
    let pieces = vec![orig(b"\0alice\0bob\0vt100/9600\0"), resp(b"\0")];
    let (events, _) = events(&session(1.0, client(), server(), &pieces));
    insta::assert_snapshot!(events.join("\n"));
}

/// A rejected login (the server's first byte is not a NUL): the client's next line
/// is weird `rlogin_text_after_rejected`, and a NUL in a line weird `NUL_in_line`
/// once per connection (the dialog leaves NULs out).
#[test]
fn a_rejected_login_and_nuls() {
    let pieces = vec![
        orig(b"\0alice\0bob\0xterm\0"),
        resp(b"\x01Permission denied.\r\n"),
        orig(b"a\0b\n"),
        resp(b"c\0d\n"),
    ];
    let (events, _) = events(&session(1.0, client(), server(), &pieces));
    insta::assert_snapshot!(events.join("\n"));
}

/// Control bytes in pieces: a window-size change split across segments, a lone
/// 0xFF kept, FF FF followed by something other than `s` kept without that byte,
/// after which 0xFF is text for good; a first byte that is not a NUL is weird
/// `bad_rlogin_prolog`.
#[test]
fn control_bytes_in_pieces_and_a_bad_opening() {
    let pieces = vec![
        orig(b"\0u\0v\0t\0"),
        resp(b"\0"),
        orig(b"ab\xff\xffs"),
        orig(b"s\x00\x18\x00\x50\x00\x00\x00\x00cd\xffe\n"),
        orig(b"p\xff\xffqz\n"),
        orig(b"\xff\xffssABCDEFGH\n"),
    ];
    let (control, _) = events(&session(1.0, client(), server(), &pieces));
    insta::assert_snapshot!("control_bytes", control.join("\n"));
    let pieces = vec![orig(b"x\0alice\0"), resp(b"\0hello\n")];
    let (bad, _) = events(&session(1.0, client(), server(), &pieces));
    insta::assert_snapshot!("bad_opening", bad.join("\n"));
}

/// A connection whose start was not seen goes straight to lines, the dialog confused
/// from its first line: a server line first is taken for the login's success.
#[test]
fn a_partial_connection() {
    let (c, s) = (client(), server());
    let frames = vec![
        tcp(1.0, s, c, "A", 900, 100, b"welcome\r\n"),
        tcp(1.1, c, s, "A", 100, 909, b"id\r"),
        tcp(1.2, c, s, "FA", 103, 909, b""),
        tcp(1.3, s, c, "FA", 909, 104, b""),
    ];
    let (events, _) = events(&frames);
    insta::assert_snapshot!(events.join("\n"));
}

/// Hostile input: a user name and a line that never end are held only up to the
/// framing limit; nothing panics and the other direction is still read.
#[test]
fn endless_openings_and_lines_stay_bounded() {
    let name = vec![b'a'; 70_000];
    for first in [[&b"\0"[..], &name].concat(), [&b"\0u\0v\0t\0"[..], &name].concat()] {
        let mut pieces: Vec<Piece> = first.chunks(1400).map(orig).collect();
        pieces.push(resp(b"\0still read\n"));
        let (events, _) = events(&session(1.0, client(), server(), &pieces));
        assert!(events.iter().any(|e| e.contains("still read")), "{events:?}");
    }
}
