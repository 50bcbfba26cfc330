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
        vec![netpac_analyzers::socks::log::SocksLogger::sink(Default::default()), netpac_analyzers::http::log::HttpLogger::sink(Default::default())],
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

/// tunnel.log rows (`uid orig_h orig_p resp_h resp_p tunnel_type action`)
/// after running `frames` with every log.
fn tunnel_rows(frames: &[Frame]) -> Vec<String> {
    use netpac_runtime::engine::{Config, Engine};
    use netpac_runtime::event::Events;
    use netpac_runtime::log::{Format, Logs};
    let dir = common::scratch_dir();
    let mut events = Events::with_logs(Logs::new(&dir, Format::Tsv));
    netpac_analyzers::subscribe_logs(&mut events, &Config::default());
    let mut engine = Engine::new(Config::default(), netpac_analyzers::registry(), events);
    common::play(&mut engine, frames);
    engine.finish().unwrap();
    let log = std::fs::read_to_string(dir.join("tunnel.log")).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    log.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').skip(1).collect::<Vec<_>>().join(" "))
        .collect()
}

/// Zeek's SOCKS and HTTP scripts register a proxy as one tunnel whatever
/// the client's port (port 0, no uid): a second session through it is not
/// discovered again, and a proxy's tunnel never closes with a connection.
#[test]
fn proxies_are_tunnels_in_tunnel_log() {
    let client = Host::v4("192.168.0.2", 40000);
    let proxy = Host::v4("192.168.0.1", 1080);
    let mut frames = session(1.0, client, proxy, &v5_http());
    frames.extend(session(2.0, client.port(40001), proxy, &v5_http()));
    assert_eq!(
        tunnel_rows(&frames),
        ["- 192.168.0.2 0 192.168.0.1 1080 Tunnel::SOCKS Tunnel::DISCOVER"]
    );
    // HTTP CONNECT, once the proxy answers 200.
    let web_proxy = Host::v4("192.168.0.1", 3128);
    let connect = |ok: bool| {
        let status: &[u8] = if ok { b"200 Connection established" } else { b"407 Proxy Authentication Required" };
        vec![
            orig(b"CONNECT mail.example.com:25 HTTP/1.1\r\nHost: mail.example.com:25\r\n\r\n"),
            resp(&[&b"HTTP/1.1 "[..], status, b"\r\nContent-Length: 0\r\n\r\n"].concat()),
        ]
    };
    assert_eq!(tunnel_rows(&session(1.0, client, web_proxy, &connect(false))), Vec::<String>::new());
    assert_eq!(
        tunnel_rows(&session(1.0, client, web_proxy, &connect(true))),
        ["- 192.168.0.2 0 192.168.0.1 3128 Tunnel::HTTP Tunnel::DISCOVER"]
    );
}
