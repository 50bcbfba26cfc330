//! Rsh (grammars/rsh.*, over the login dialog of grammars/login.npac): the client's
//! opening (stderr port, client user, server user), its command and the lines both
//! ways, each reported by the login dialog and as a request or reply, from sessions
//! these tests build. The analyzer is put on port 514 at run time, as Zeek needs a
//! script for. Checked against Zeek 8.2.2 (with
//! `Analyzer::register_for_ports(Analyzer::ANALYZER_RSH, set(514/tcp))`) on the same
//! sessions: the events and weirds are identical.

mod common;
mod lines_support;

use common::{tcp, Frame, Host};
use lines_support::{events_with_port, orig, resp, session, Piece};

fn client() -> Host {
    Host::v4("10.0.0.1", 1022)
}

fn server() -> Host {
    Host::v4("10.0.0.2", 514)
}

/// The Rsh and login events and the weirds of `frames`, one line each, and
/// conn.log's service and history.
fn events(frames: &[Frame]) -> (Vec<String>, Vec<String>) {
    let keep = |name: &str, _: &serde_json::Value| {
        name.starts_with("rsh_") || name.starts_with("login_") || name.starts_with("protocol_") || name == "conn_weird"
    };
    events_with_port(frames, "RSH", 514, keep, &["service", "history"])
}

/// A command and its output: the command is the session's first request, the
/// server's acknowledging NUL an empty reply, a CRLF a line and an empty one, and
/// every client line a "possible login ploy" of the dialog (Zeek 8.2's login
/// pattern sets are empty). Rsh never confirms: no service.
#[test]
fn a_command_and_its_output() {
    let pieces = vec![
        orig(b"1021\0alice\0bob\0ls -l /tmp\0"),
        resp(b"\0total 0\nfile1\r\nfile2\n"),
        orig(b"  stdin line\n"),
    ];
    let (events, conn) = events(&session(1.0, client(), server(), &pieces));
    insta::assert_snapshot!(events.join("\n"));
    assert_eq!(conn, ["-\tShADdFf"]);
}

/// The opening in pieces: digits and names split across segments, an empty server
/// user skipped, leading blanks left out of what rsh_request reports, and a last
/// line without its end finished by the FIN.
#[test]
fn an_opening_in_pieces_and_a_line_the_fin_ends() {
    let pieces = vec![
        orig(b"10"),
        orig(b"21\0al"),
        orig(b"ice\0\0b"),
        orig(b"ob\0\t\x0b x\r"),
        resp(b"\0 \t y"),
    ];
    let (events, _) = events(&session(1.0, client(), server(), &pieces));
    insta::assert_snapshot!(events.join("\n"));
}

/// A server line before the command: the dialog takes it for a failed login (every
/// line matches Zeek's empty timeout set), with the server user as the user and
/// "<timeout>" as the password; the command after it is still the new session's.
#[test]
fn a_server_line_before_the_command() {
    let pieces = vec![
        orig(b"1021\0alice\0bob\0"),
        resp(b"\0motd\n"),
        orig(b"cmd\0"),
        resp(b"out\n"),
    ];
    let (events, _) = events(&session(1.0, client(), server(), &pieces));
    insta::assert_snapshot!(events.join("\n"));
}

/// A first byte that is neither a digit nor a NUL: weird `bad_rsh_prolog` (from
/// Zeek's CONTENTS_RSH component), the byte dropped, and lines from then on with no
/// users known (`<none>`). The client's lines are ploys, so the server's lines
/// say nothing of the login.
#[test]
fn a_bad_opening() {
    let pieces = vec![orig(b"x1021\0alice\0"), resp(b"\x01Permission denied\nnext\n")];
    let (events, _) = events(&session(1.0, client(), server(), &pieces));
    insta::assert_snapshot!(events.join("\n"));
}

/// A connection whose start was not seen goes straight to lines, and the dialog
/// is confused from its first line; bytes lost in a gap are just missing from
/// the line they were in.
#[test]
fn a_partial_connection_with_a_gap() {
    let (c, s) = (client(), server());
    let frames = vec![
        tcp(1.0, c, s, "A", 100, 900, b"1021\0ali"),
        // 5 bytes lost.
        tcp(1.1, c, s, "A", 113, 900, b"ce\0cmd\0"),
        tcp(1.2, s, c, "A", 900, 120, b"out\n"),
        tcp(1.3, c, s, "FA", 120, 904, b""),
        tcp(1.4, s, c, "FA", 904, 121, b""),
    ];
    let (events, _) = events(&frames);
    insta::assert_snapshot!(events.join("\n"));
}

/// Hostile input: a stderr port of endless digits, a user name that never ends and
/// a line that never ends are each held only up to the framing limit; nothing
/// panics and the session's other direction is still read.
#[test]
fn endless_openings_and_lines_stay_bounded() {
    let digits = vec![b'7'; 70_000];
    let name = vec![b'a'; 70_000];
    for first in [digits, [&b"1\0"[..], &name].concat()] {
        let mut pieces: Vec<Piece> = first.chunks(1400).map(orig).collect();
        pieces.push(resp(b"\0still read\n"));
        let (events, _) = events(&session(1.0, client(), server(), &pieces));
        assert!(events.iter().any(|e| e.contains("still read")), "{events:?}");
    }
}

/// `get_login_state` and `set_login_state` between packets: the dialog is
/// authenticating after the opening, confused after the command (a ploy), and a
/// dialog set to 2 (skipped) reports no more login lines, while Rsh's own requests go
/// on. A connection without a login analyzer has no state. (Zeek 8.2.2's own
/// functions look for an analyzer named "Login", which never runs, and answer false.)
#[test]
fn login_state_functions() {
    use common::{Config, Harness};
    use netpac_analyzers::login::{get_login_state, set_login_state};
    use netpac_runtime::zeek::{ConnId, Port, Proto};
    let pieces = vec![orig(b"1021\0alice\0bob\0"), orig(b"ls\0"), orig(b"more\n")];
    let frames = session(1.0, client(), server(), &pieces);
    let mut registry = netpac_analyzers::registry();
    registry.register_port("RSH", Proto::Tcp, 514).unwrap();
    let names = vec!["login_input_line", "rsh_request"];
    let mut h = Harness::new(Config::default(), registry, Some(names));
    let cid = ConnId {
        orig_h: "10.0.0.1".parse().unwrap(),
        orig_p: Port::new(1022, Proto::Tcp),
        resp_h: "10.0.0.2".parse().unwrap(),
        resp_p: Port::new(514, Proto::Tcp),
    };
    // Handshake, then the opening.
    h.play(&frames[..4]);
    assert_eq!(get_login_state(&mut h.engine, &cid), Some(0));
    h.play(&frames[4..5]);
    assert_eq!(get_login_state(&mut h.engine, &cid), Some(3));
    assert!(set_login_state(&mut h.engine, &cid, 2));
    assert!(!set_login_state(&mut h.engine, &cid, 4));
    let other = ConnId { orig_p: Port::new(1, Proto::Tcp), ..cid };
    assert_eq!(get_login_state(&mut h.engine, &other), None);
    assert!(!set_login_state(&mut h.engine, &other, 1));
    h.play(&frames[5..]);
    let out = h.finish();
    let seen: Vec<String> = out
        .events
        .iter()
        .map(|e| format!("{} {}", e["event"].as_str().unwrap(), e["args"]["line"].as_str().unwrap()))
        .collect();
    assert_eq!(seen, ["login_input_line ls", "rsh_request ls", "rsh_request more"]);
}
