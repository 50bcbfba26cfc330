//! XMPP (Zeek's "StartTLS only" analyzer): the XML tags of a stream up to STARTTLS,
//! the point where Zeek stops looking, its weird and violations. Events, weirds and
//! `service` checked against Zeek 8.2.2 on the pcap of `xmpp_through_the_engine`
//! (and on the corpus' xmpp-starttls and xmpp-dialback-starttls captures).

mod common;
mod lines_support;

use lines_support::{orig, resp, run, session, Outcome, Piece};
use netpac_analyzers::xmpp::{self, Limits, XMPPAnalyzer};

fn xmpp(pieces: &[Piece]) -> Outcome {
    run(Box::new(XMPPAnalyzer::new(0, Limits::default())), "XMPP", 5222, pieces)
}

fn starttls() -> Vec<Piece> {
    vec![
        orig(b"<?xml version='1.0'?><stream:stream to='example.com' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"),
        resp(b"<?xml version='1.0'?><stream:stream from='example.com' id='x' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"),
        resp(b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"),
        orig(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
        resp(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
        orig(b"\x16\x03\x01\x00\x05\x01<\x00>\x00"),
        resp(b"\x16\x03\x03\x00\x02<>"),
    ]
}

#[test]
fn stream_and_starttls() {
    let o = xmpp(&starttls());
    insta::assert_json_snapshot!(o);
    assert_eq!(o.verdict, "Confirmed");
    let names: Vec<&str> = o.events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(names, xmpp::EVENT_NAMES);
}

#[test]
fn proceed_without_starttls_is_a_weird() {
    let o = xmpp(&[
        orig(b"<stream:stream xmlns='jabber:client'>"),
        resp(b"<proceed/>"),
    ]);
    assert_eq!(o.weirds, ["XMPP: proceed without starttls [] (XMPP)"]);
    assert!(o.events.is_empty());
}

#[test]
fn nothing_is_looked_at_after_authentication() {
    let o = xmpp(&[
        orig(b"<stream:stream xmlns='jabber:client'>"),
        resp(b"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"),
        orig(b"<starttls/>"),
        resp(b"<proceed/>!!"),
    ]);
    assert!(o.events.is_empty());
    assert!(o.weirds.is_empty());
    assert_eq!(o.verdict, "Confirmed");
}

#[test]
fn text_that_is_no_tag_is_a_violation() {
    let o = xmpp(&[orig(b"GET / HTTP/1.1\r\n\r\n>")]);
    assert!(o.verdict.starts_with("Violation"), "{}", o.verdict);
    let o = xmpp(&[orig(b"<!-- comment -->")]);
    assert!(o.verdict.starts_with("Violation"), "{}", o.verdict);
}

#[test]
fn xmpp_through_the_engine() {
    use common::{conn_columns, run_with, Config, Host};
    let s = Host::v4("10.0.0.2", 5222);
    let mut frames = session(1.0, Host::v4("10.0.0.1", 40001), s, &starttls());
    frames.extend(session(
        2.0,
        Host::v4("10.0.0.1", 40002),
        s,
        &[orig(b"<stream:stream xmlns='jabber:client'>"), resp(b"<proceed/>")],
    ));
    // Not XMPP on its port; an XMPP stream on another port, found by its signature.
    frames.extend(session(3.0, Host::v4("10.0.0.1", 40003), s, &[orig(b"hello there>")]));
    frames.extend(session(
        4.0,
        Host::v4("10.0.0.1", 40004),
        Host::v4("10.0.0.2", 9999),
        &[orig(b"<stream:stream to='x' xmlns='jabber:client'>")],
    ));
    let out = run_with(&frames, Config::default(), netpac_analyzers::registry(), Some(vec!["xmpp_starttls"]));
    let got: Vec<String> = out.events.iter().map(|e| format!("{} {}", e["event"], e["args"]["c"]["id"]["orig_p"])).collect();
    assert_eq!(got, [r#""xmpp_starttls" "40001/tcp""#]);
    let weirds: Vec<String> = out
        .weird_log
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').skip(3).collect::<Vec<_>>().join("|"))
        .collect();
    assert_eq!(weirds, ["40002|10.0.0.2|5222|XMPP: proceed without starttls|-|F|zeek|XMPP"]);
    assert_eq!(
        conn_columns(&out, &["id.orig_p", "service"]),
        ["40001\txmpp", "40002\txmpp", "40003\t-", "40004\txmpp"]
    );
}

#[test]
fn nothing_is_parsed_after_a_content_gap() {
    use netpac_runtime::analyzer::{Analyzer, AnalyzerCx, TestConn};
    use netpac_runtime::event::Events;
    use netpac_runtime::zeek::{Proto, Time};
    let conn = TestConn::new(Proto::Tcp, 5222, "CGap");
    let mut events = Events::new();
    let mut weirds = Vec::new();
    let mut a = XMPPAnalyzer::new(0, Limits::default());
    let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, "XMPP");
    a.deliver(&mut cx, true, b"<stream:stream xmlns='jabber:client'><starttls/>");
    a.undelivered(&mut cx, false, 100);
    assert_eq!(a.state.stopped, Some(""));
    // Zeek's XMPP (and IMAP) deliver nothing more once a side had a gap.
    a.deliver(&mut cx, false, b"<proceed/>");
    assert_eq!(a.state.stopped, Some(""), "the <proceed/> after the gap was parsed");
    assert!(weirds.is_empty());
    assert_eq!(a.state.client_starttls, 1);
}
