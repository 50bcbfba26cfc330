//! POP3 events from sessions built here (snapshots in tests/snapshots/): login,
//! pipelining, multi-line replies, AUTH exchanges, STLS, Zeek 8's limits and bad
//! input. The event sequences were checked against Zeek 8.2.2 (with a handler
//! for every POP3 event) on the pcaps of these sessions.

mod common;
mod lines_support;

use common::*;
use lines_support::{orig, resp, run, session, Outcome, Piece};
use netpac_analyzers::pop3::{Limits, Pop3Analyzer};
use netpac_runtime::analyzer::{Analyzer, AnalyzerCx, TestConn};
use netpac_runtime::event::Events;
use netpac_runtime::weird::Weird;
use netpac_runtime::zeek::{Proto, Time};

fn pop3(pieces: &[Piece]) -> Outcome {
    run(
        Box::new(Pop3Analyzer::new(Limits::default())),
        "POP3",
        110,
        pieces,
    )
}

fn names(o: &Outcome) -> Vec<String> {
    o.events
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect()
}

/// USER/PASS, pipelined commands (answered in order), every transaction
/// command, multi-line replies (`..` lines are data), and a command the server
/// rejects in the wrong state.
#[test]
fn a_mailbox_session() {
    insta::assert_json_snapshot!(pop3(&[
        resp(b"+OK POP3 ready\r\n"),
        orig(b"CAPA\r\nUSER  bob  smith \r\n"),
        resp(b"+OK Capability list follows\r\nUSER\r\nSASL PLAIN LOGIN\r\n.\r\n+OK send pass\r\n"),
        orig(b"PASS s3cret\r\n"),
        resp(b"+OK logged in\r\n"),
        orig(b"STAT\r\nLIST\r\n"),
        resp(b"+OK 2 300\r\n+OK\r\n1 100\r\n2 200\r\n.\r\n"),
        orig(b"RETR 1\r\n"),
        resp(b"+OK 100 octets\r\nSubject: hi\r\n\r\n..dot  line\r\nbody\r\n.\r\n"),
        orig(b"TOP 2 0\r\nDELE 1\r\nUIDL 1\r\nNOOP\r\nRSET\r\nLAST\r\nXSENDER 1\r\nUSER again\r\nAPOP x y\r\n"),
        resp(b"+OK\r\nh: v\r\n.\r\n+OK deleted\r\n+OK 1 abc\r\n+OK\r\n+OK\r\n-ERR no\r\n+OK x@y\r\n-ERR not now\r\n-ERR no\r\n"),
        orig(b"+OK\r\nFOO bar\r\nQUIT\r\n"),
        resp(b"+OK bye\r\n"),
    ]));
}

/// AUTH PLAIN and AUTH LOGIN carry the credentials in base64; STLS ends the analysis.
#[test]
fn auth_exchanges_and_stls() {
    insta::assert_json_snapshot!(pop3(&[
        resp(b"+OK ready\r\n"),
        orig(b"AUTH PLAIN\r\n"),
        resp(b"+ \r\n"),
        orig(b"AGJvYgBzZWNyZXQ=\r\n"),
        resp(b"-ERR auth failed\r\n"),
        orig(b"AUTH LOGIN\r\n"),
        resp(b"+ VXNlcm5hbWU6\r\n"),
        orig(b"Ym9i\r\n"),
        resp(b"+ UGFzc3dvcmQ6\r\n"),
        orig(b"cGFzcw==\r\n"),
        resp(b"+OK welcome\r\n"),
        orig(b"STAT\r\n"),
        resp(b"+OK 0 0\r\n"),
        orig(b"STLS\r\n"),
        resp(b"+OK begin TLS\r\n"),
        orig(b"\x16\x03\x01garbage\r\n"),
        resp(b"\x16\x03\x03more\r\n"),
    ]));
}

#[test]
fn every_pop3_event_is_raised() {
    let mut seen = names(&pop3(&[
        resp(b"+OK ready\r\n"),
        orig(b"LIST\r\n"),
        resp(b"+OK\r\n1 10\r\n.\r\n"),
        orig(b"QUIT\r\n"),
        resp(b"+OK\r\n"),
    ]));
    for pieces in [
        vec![
            resp(b"+OK\r\n"),
            orig(b"USER a\r\n"),
            resp(b"+OK\r\n"),
            orig(b"PASS b\r\n"),
            resp(b"+OK\r\n"),
        ],
        vec![
            resp(b"+OK\r\n"),
            orig(b"USER a\r\n"),
            resp(b"+OK\r\n"),
            orig(b"PASS b\r\n"),
            resp(b"-ERR\r\n"),
        ],
        vec![resp(b"+OK\r\n"), orig(b"STLS\r\n"), resp(b"+OK\r\n")],
    ] {
        seen.extend(names(&pop3(&pieces)));
    }
    seen.sort();
    seen.dedup();
    let mut all: Vec<String> = netpac_analyzers::pop3::EVENT_NAMES
        .iter()
        .map(|s| s.to_string())
        .collect();
    all.sort();
    assert_eq!(seen, all);
}

/// Wrong states and bad lines: Zeek's pop3_unexpected, weirds and violations.
#[test]
fn unexpected_commands_and_bad_lines() {
    let o = pop3(&[
        resp(b"+OK ready\r\n"),
        orig(b"LIST\r\n"),
        resp(b"+OK\r\n1 10\r\n.\r\n"),
        orig(b"AUTH XOAUTH\r\n"),
        resp(b"-ERR\r\n"),
        orig(b"AUTH PLAIN\r\n"),
        resp(b"+ \r\n"),
    ]);
    insta::assert_json_snapshot!(o);
    // Inside an AUTH exchange a line that is not base64 is a weird.
    let o = pop3(&[
        resp(b"+OK\r\n"),
        orig(b"AUTH PLAIN\r\n"),
        resp(b"+ \r\n"),
        orig(b"!!notbase64\r\n"),
    ]);
    assert_eq!(o.weirds, ["pop3_bad_base64_encoding [] (POP3)"]);
    let o = pop3(&[
        resp(b"+OK\r\n"),
        orig(b"AUTH PLAIN\r\n"),
        resp(b"+ \r\n"),
        orig(b"AGJvYg==\r\n"),
    ]);
    assert_eq!(o.weirds, ["pop3_malformed_auth_plain [] (POP3)"]);
}

/// Zeek 8's limits: more than 10 pending commands drop the oldest (a weird each);
/// more than 10 unknown commands are violations.
#[test]
fn pipelined_floods_are_bounded() {
    let mut flood = Vec::new();
    for _ in 0..1000 {
        flood.extend_from_slice(b"NOOP\r\n");
    }
    let o = pop3(&[resp(b"+OK\r\n"), orig(&flood)]);
    assert_eq!(o.weirds.len(), 990);
    assert!(o
        .weirds
        .iter()
        .all(|w| w == "pop3_client_too_many_pending_commands [] (POP3)"));
    let unknown: Vec<Piece> = (0..11)
        .flat_map(|_| [orig(b"*2\r\n"), resp(b"+OK\r\n")])
        .collect();
    let o = pop3(&unknown);
    assert!(
        o.verdict.contains("too many unknown client commands"),
        "{}",
        o.verdict
    );
    let o = pop3(&unknown[..20]);
    assert!(!o.verdict.contains("Violation"), "{}", o.verdict);
}

/// A 100 MB line is cut by the framer (contentline_size_exceeded), never buffered whole.
#[test]
fn a_100_mb_line_is_bounded() {
    let chunk = vec![b'x'; 1 << 20];
    let mut pieces: Vec<Piece> = vec![resp(b"+OK\r\n")];
    pieces.extend((0..100).map(|_| orig(&chunk)));
    pieces.push(orig(b"\r\nQUIT\r\n"));
    let o = pop3(&pieces);
    assert!(
        o.weirds
            .iter()
            .any(|w| w.starts_with("contentline_size_exceeded")),
        "{:?}",
        o.weirds
    );
}

/// conn.log's service through the engine: by port 110 and by signature on another port.
#[test]
fn pop3_service_by_port_and_signature() {
    use common::{conn_columns, run_with};
    for port in [110, 1110] {
        let frames = session(
            1.0,
            Host::v4("10.0.0.1", 40001),
            Host::v4("10.0.0.2", port),
            &[
                resp(b"+OK ready\r\n"),
                orig(b"CAPA\r\n"),
                resp(b"+OK\r\nUSER\r\n.\r\n"),
                orig(b"QUIT\r\n"),
                resp(b"+OK\r\n"),
            ],
        );
        let out = run_with(
            &frames,
            Config::default(),
            netpac_analyzers::registry(),
            None,
        );
        assert_eq!(conn_columns(&out, &["service"]), ["pop3"], "port {port}");
    }
}

/// The messages of RETR and TOP replies go to the MIME parser (POP3.cc's `MIME_Mail`):
/// the `+OK` line first, then the message lines as they are, up to the lone `.`;
/// a message still open when the connection ends is finished.
#[test]
fn retr_and_top_messages_go_to_mime() {
    use common::{conn_columns, run_with};
    let pieces = [
        resp(b"+OK ready\r\n"),
        orig(b"USER bob\r\nPASS x\r\n"),
        resp(b"+OK\r\n+OK\r\n"),
        orig(b"RETR 1\r\n"),
        resp(b"+OK 120 octets\r\nSubject: hi\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--b--\r\n.\r\n"),
        orig(b"TOP 1 0\r\n"),
        resp(b"+OK\r\nSubject: again\r\n\r\n..dotted\r\n"),
    ];
    insta::assert_json_snapshot!(pop3(&pieces));
    // The same session through the engine (`NETPAC_TEST_PCAPS=DIR` keeps its pcap for Zeek).
    let frames = session(1.0, Host::v4("10.0.0.1", 40002), Host::v4("10.0.0.2", 110), &pieces);
    let out = run_with(&frames, Config::default(), netpac_analyzers::registry(), None);
    assert_eq!(conn_columns(&out, &["service"]), ["pop3"]);
}

/// A RETR message nested a thousand multipart levels deep: the MIME parser keeps
/// at most `max_mime_depth` entities open (the message and `max_mime_depth` levels below it; weird `exceeded_mime_max_depth` once, as Zeek), and
/// the lone dot closes them all.
#[test]
fn a_message_nested_a_thousand_deep_is_bounded() {
    let mut a = Pop3Analyzer::new(Limits::default());
    let mut msg = b"+OK\r\n".to_vec();
    for i in 0..1000 {
        msg.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n").as_bytes(),
        );
    }
    let conn = TestConn::new(Proto::Tcp, 110, "CPop3Deep");
    let mut events = Events::new();
    let mut weirds: Vec<Weird> = Vec::new();
    let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, "POP3");
    a.deliver(&mut cx, false, b"+OK ready\r\n");
    a.deliver(&mut cx, true, b"USER u\r\nPASS p\r\n");
    a.deliver(&mut cx, false, b"+OK\r\n+OK\r\n");
    a.deliver(&mut cx, true, b"RETR 1\r\n");
    a.deliver(&mut cx, false, &msg);
    assert_eq!(a.mime_depth(), Limits::default().max_mime_depth as usize + 1);
    a.deliver(&mut cx, false, b".\r\n");
    assert_eq!(a.mime_depth(), 0);
    let names: Vec<&str> = weirds.iter().map(|w| w.name).collect();
    assert_eq!(names, ["exceeded_mime_max_depth"]);
}
