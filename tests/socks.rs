//! SOCKS (grammars/socks.*): each delivery one message (`&per_delivery`), the
//! SOCKS 5 negotiation state, the hand-off to payload detection after the
//! handshake (`redetect`) and socks.log, from sessions these tests build. The
//! expected behaviour is Zeek 8.2.2's SOCKS analyzer.

mod common;
mod lines_support;

use common::{Frame, Host};
use lines_support::{orig, resp, run, session, Outcome, Piece, log_rows};
use netpac_analyzers::socks::{Limits, SOCKSAnalyzer};

/// SOCKS 5 with username/password, a CONNECT to a name, then HTTP through the tunnel.
fn v5_http() -> Vec<Piece> {
    vec![
        orig(&[5, 1, 2]),
        resp(&[5, 2]),
        orig(&[&[1u8, 3][..], b"bob", &[5], b"alice"].concat()),
        resp(&[1, 0]),
        orig(&[&[5u8, 1, 0, 3, 14][..], b"www.osnews.com", &[0, 80]].concat()),
        resp(&[5, 0, 0, 1, 192, 168, 0, 31, 0x0a, 0x80]),
        orig(b"GET / HTTP/1.1\r\nHost: www.osnews.com\r\n\r\n"),
        resp(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    ]
}

fn socks_events(pieces: &[Piece]) -> Outcome {
    run(Box::new(SOCKSAnalyzer::new(0, Limits::default())), "SOCKS", 1080, pieces)
}

fn names(o: &Outcome) -> Vec<String> {
    o.events.iter().map(|e| e["event"].as_str().unwrap().to_string()).collect()
}

fn logs(frames: &[Frame]) -> (String, String, String) {
    let (rows, services) = log_rows(
        frames,
        vec![netpac_analyzers::socks::log::SocksLogger::sink(), netpac_analyzers::http::log::HttpLogger::sink()],
    );
    let row = |log: &str| rows.get(log).cloned().unwrap_or_default();
    (row("socks.log"), row("http.log"), services.join(" "))
}

#[test]
fn v5_handshake_events() {
    let o = socks_events(&v5_http());
    assert_eq!(o.verdict, "Confirmed");
    insta::assert_json_snapshot!(o);
    // The HTTP after the handshake is not SOCKS's.
    assert_eq!(
        names(&o),
        ["socks_login_userpass_request", "socks_login_userpass_reply", "socks_request", "socks_reply"]
    );
}

#[test]
fn the_tunnel_is_detected_anew_and_socks_log_written() {
    // On a port of its own, found by its signature; HTTP inside is found by its own.
    let frames = session(1.0, Host::v4("192.168.0.2", 40000), Host::v4("192.168.0.1", 8124), &v5_http());
    let (socks, http, service) = logs(&frames);
    assert_eq!(socks, "5 bob - succeeded - www.osnews.com 80 192.168.0.31 - 2688");
    assert!(http.contains("GET www.osnews.com /"), "{http}");
    assert_eq!(service, "socks,http");
}

#[test]
fn socks4a_names_its_host_and_an_rfc_reply_is_zeeks_unknown_version() {
    let request = [&[4u8, 1, 0, 80, 0, 0, 0, 1][..], b"alice\0", b"example.com\0"].concat();
    let o = socks_events(&[orig(&request), resp(&[0, 0x5a, 0, 80, 0, 0, 0, 0])]);
    let sa = &o.events[0]["args"]["sa"];
    assert_eq!(sa["name"], "example.com");
    assert_eq!(sa["host"], "0.0.0.1");
    assert_eq!(o.events[0]["args"]["user"], "alice");
    // Zeek reads a version byte before a SOCKS 4 reply: the RFC's 0 is no version.
    assert!(o.verdict.starts_with("Violation"), "{}", o.verdict);
}

#[test]
fn every_socks_event_is_raised_by_some_test_traffic() {
    let seen = names(&socks_events(&v5_http()));
    let missing: Vec<&&str> = netpac_analyzers::socks::EVENT_NAMES.iter().filter(|e| !seen.iter().any(|s| s == **e)).collect();
    assert!(missing.is_empty(), "no test raises {missing:?}");
}

#[test]
fn each_delivery_is_one_message_and_bad_ones_are_violations() {
    // A greeting and a request in one segment: the request is lost, as in Zeek.
    let o = socks_events(&[orig(&[5, 1, 0, 5, 1, 0, 1, 10, 0, 0, 1, 0, 80]), resp(&[5, 0])]);
    assert!(!names(&o).contains(&"socks_request".to_string()));
    for bad in [
        vec![orig(&[5, 1, 0]), resp(&[5, 0]), orig(&[5, 1, 7, 1, 10, 0, 0, 1, 0, 80])],
        vec![orig(&[5, 1, 0]), resp(&[5, 0]), orig(&[5, 9, 0, 1, 10, 0, 0, 1, 0, 80])],
        vec![orig(&[6, 1, 0])],
        // A request cut short by the end of its segment.
        vec![orig(&[5, 1, 0]), resp(&[5, 0]), orig(&[5, 1, 0, 3, 40, b'a'])],
    ] {
        let o = socks_events(&bad);
        assert!(o.verdict.starts_with("Violation"), "{} {:?}", o.verdict, names(&o));
    }
}
