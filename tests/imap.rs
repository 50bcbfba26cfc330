//! IMAP (Zeek's "StartTLS only" analyzer): capabilities, STARTTLS accepted and
//! refused, the point where Zeek stops looking, and violations. Events, weirds and
//! `service` checked against Zeek 8.2.2 on the pcap of `imap_through_the_engine`.

mod common;
mod lines_support;

use lines_support::{orig, resp, run, session, Outcome, Piece};
use netpac_analyzers::imap::{self, IMAPAnalyzer, Limits};

fn imap(pieces: &[Piece]) -> Outcome {
    run(Box::new(IMAPAnalyzer::new(0, Limits::default())), "IMAP", 143, pieces)
}

/// Greeting, CAPABILITY, STARTTLS accepted, then TLS bytes.
fn starttls() -> Vec<Piece> {
    vec![
        resp(b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n"),
        orig(b"a001 CAPABILITY\r\n"),
        resp(b"* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN LOGINDISABLED \r\na001 OK CAPABILITY completed\r\n"),
        orig(b"a002 starttls\r\n"),
        resp(b"a002 OK Begin TLS negotiation now\r\n"),
        orig(b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00\r\x00\r\n"),
        resp(b"\x16\x03\x03\x00\x02\x02\x00\r\r\r\n"),
    ]
}

#[test]
fn capabilities_and_starttls() {
    let o = imap(&starttls());
    insta::assert_json_snapshot!(o);
    assert_eq!(o.verdict, "Confirmed");
}

#[test]
fn every_imap_event_is_raised() {
    let o = imap(&starttls());
    let names: Vec<&str> = o.events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(names, imap::EVENT_NAMES);
}

#[test]
fn refused_and_duplicate_starttls_are_weirds() {
    let o = imap(&[
        resp(b"* OK hi\r\n"),
        orig(b"a1 STARTTLS\r\n"),
        resp(b"a1 NO not now\r\n"),
        orig(b"a2 STARTTLS\r\n"),
        resp(b"* BYE\r\na2 BAD no\r\n"),
    ]);
    assert_eq!(
        o.weirds,
        [
            "IMAP: server refused StartTLS [] (IMAP)",
            "IMAP: client sent duplicate StartTLS [] (IMAP)",
            "IMAP: server refused StartTLS [] (IMAP)",
        ]
    );
    assert!(o.events.is_empty());
}

#[test]
fn nothing_is_looked_at_after_a_login() {
    let o = imap(&[
        resp(b"* OK hi\r\n"),
        orig(b"a1 login joe secret\r\n"),
        resp(b"* CAPABILITY IMAP4rev1\r\n\x01\x02\r\n"),
    ]);
    assert!(o.events.is_empty());
    assert_eq!(o.verdict, "Confirmed");
}

#[test]
fn other_protocols_are_violations() {
    let o = imap(&[orig(b"GET / HTTP/1.1\r\n"), resp(b"\x00\x01binary\r\n")]);
    assert!(o.verdict.starts_with("Violation"), "{}", o.verdict);
    // An empty capability list is no token: Zeek's parser fails on it too.
    let o = imap(&[resp(b"* CAPABILITY\r\n")]);
    assert!(o.verdict.starts_with("Violation"), "{}", o.verdict);
}

#[test]
fn imap_through_the_engine() {
    use common::{conn_columns, run_with, Config, Host};
    let c = Host::v4("10.0.0.1", 40001);
    let s = Host::v4("10.0.0.2", 143);
    let mut frames = session(1.0, c, s, &starttls());
    let c2 = Host::v4("10.0.0.1", 40002);
    frames.extend(session(
        2.0,
        c2,
        s,
        &[
            resp(b"* OK hi\r\n"),
            orig(b"a1 STARTTLS\r\n"),
            resp(b"a1 NO not now\r\n"),
            orig(b"a2 STARTTLS\r\n"),
            resp(b"a2 BAD no\r\n"),
            orig(b"a3 login joe secret\r\n"),
            resp(b"* CAPABILITY IMAP4rev1\r\n"),
        ],
    ));
    let c3 = Host::v4("10.0.0.1", 40003);
    frames.extend(session(3.0, c3, s, &[orig(b"GET / HTTP/1.1\r\n"), resp(b"HTTP/1.1 200 OK\r\n")]));
    let out = run_with(
        &frames,
        Config::default(),
        netpac_analyzers::registry(),
        Some(vec!["imap_capabilities", "imap_starttls"]),
    );
    let got: Vec<String> = out.events.iter().map(|e| format!("{} {}", e["event"], e["args"].get("capabilities").unwrap_or(&serde_json::Value::Null))).collect();
    assert_eq!(
        got,
        [
            r#""imap_capabilities" ["IMAP4rev1","STARTTLS","AUTH=PLAIN","LOGINDISABLED"]"#,
            r#""imap_starttls" null"#,
        ]
    );
    let weirds: Vec<String> = out
        .weird_log
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').skip(6).collect::<Vec<_>>().join("|"))
        .collect();
    assert_eq!(
        weirds,
        [
            "IMAP: server refused StartTLS|-|F|zeek|IMAP",
            "IMAP: client sent duplicate StartTLS|-|F|zeek|IMAP"
        ]
    );
    // The third connection is HTTP, found by its signature once IMAP gave up.
    assert_eq!(conn_columns(&out, &["id.orig_p", "service"]), ["40001\timap", "40002\timap", "40003\thttp"]);
}

#[test]
fn a_huge_line_is_bounded() {
    let mut pieces = vec![resp(b"* OK hi\r\n")];
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..20 {
        pieces.push(orig(&chunk));
    }
    pieces.push(orig(b"\r\n"));
    let o = imap(&pieces);
    // 20 MiB without a line end: cut into lines of the limit, each a weird once framed.
    assert!(!o.weirds.is_empty());
    assert!(o.weirds.iter().all(|w| w.starts_with("contentline_size_exceeded")), "{:?}", o.weirds);
    assert!(o.events.is_empty());
}
