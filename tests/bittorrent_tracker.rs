//! The BitTorrent tracker (grammars/bittorrent_tracker.*): announce requests and
//! the tracker's bencoded answers, framed by parsing in each direction's sink, from
//! sessions these tests build. The analyzer is put on a port at run time, as Zeek
//! needs a script for. Checked against Zeek 8.2.2 (with
//! `Analyzer::register_for_ports(Analyzer::ANALYZER_BITTORRENTTRACKER, set(6969/tcp))`)
//! on the pcaps these tests write (`NETPAC_TEST_PCAPS`).

mod common;
mod lines_support;

use common::{run_with, Config, Frame, Host};
use lines_support::{events_with_port, orig, resp, session, Piece};

const ANNOUNCE: &[u8] = b"GET /announce?info_hash=%12%34%56%78%9a%bc%de%f1%23%45%67%89%ab%cd%ef%12%34%56%78%9a&peer_id=-TR2940-abcdefghijkl&port=6881&compact=1&event=started HTTP/1.1\r\nHost: tracker.example:6969\r\nUser-Agent: Transmission/2.94\r\nConnection: close\r\n\r\n";

/// A 200 response with `body`.
fn ok(body: &[u8]) -> Vec<u8> {
    [&b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "[..], body.len().to_string().as_bytes(), b"\r\n\r\n", body].concat()
}

/// The tracker's events, weirds and violations of `frames` with the analyzer on
/// port 6969, one line each (HTTP's, which its signature attaches too, left out),
/// and conn.log's service.
fn events(frames: &[Frame]) -> (Vec<String>, Vec<String>) {
    let keep = |name: &str, args: &serde_json::Value| {
        name.starts_with("bt_tracker")
            || args["atype"].as_str().is_some_and(|t| t.contains("BITTORRENT"))
            || args["name"].as_str().is_some_and(|n| n.starts_with("bittorrent"))
    };
    events_with_port(frames, "BITTORRENTTRACKER", 6969, keep, &["service"])
}

fn client() -> Host {
    Host::v4("10.0.0.1", 40000)
}

fn tracker() -> Host {
    Host::v4("10.0.0.2", 6969)
}

/// An announce answered with compact peers (read byte-reversed, as Zeek's x86 build
/// does), counts, a nested dictionary and a list kept as their bencoded text; the
/// response comes in two segments.
#[test]
fn announce_and_compact_peers() {
    let mut body = b"d8:completei2e10:incompletei-1e8:intervali900e5:peers12:".to_vec();
    body.extend([0x0a, 0x01, 0x01, 0x01, 0x1a, 0xe1, 0xc0, 0xa8, 0x07, 0x09, 0xc8, 0xd5]);
    body.extend(b"4:infod1:xi1ee4:listl1:ai2ee7:warning3:oldee");
    let response = ok(&body);
    let frames = session(1.0, client(), tracker(), &[orig(ANNOUNCE), resp(&response[..50]), resp(&response[50..])]);
    let (events, service) = events(&frames);
    insta::assert_snapshot!(events.join("\n"));
    assert_eq!(service, ["bittorrenttracker,http"]);
}

/// BEP 3's dictionary peers are not decoded: Zeek cuts their bencoded text into
/// six-byte peers all the same.
#[test]
fn dictionary_peers_are_cut_as_text() {
    let body = b"d8:intervali1800e5:peersld2:ip8:10.1.1.17:peer id20:-TR2940-0000000000014:porti6881eeee";
    let frames = session(1.0, client(), tracker(), &[orig(ANNOUNCE), resp(&ok(body))]);
    let (events, _) = events(&frames);
    insta::assert_snapshot!(events.join("\n"));
}

/// A status other than 200 ends the tracker's side; lines after an HTTP/1.0 request
/// are reported as post-request data (a weird and `bt_tracker_weird`).
#[test]
fn not_ok_and_data_after_the_request() {
    let pieces = vec![
        orig(b"GET /scrape?info_hash=x HTTP/1.0\r\nHost: t\r\n\r\nfoo=bar\r\n\r\nsecond line\r\n"),
        resp(b"HTTP/1.0 404 Not Found\r\n\r\nNot Found\n"),
        resp(&ok(b"d1:ai1ee")),
    ];
    let frames = session(1.0, client(), tracker(), &pieces);
    let (events, _) = events(&frames);
    insta::assert_snapshot!(events.join("\n"));
}

/// Kept-alive HTTP/1.1: two requests and two responses, one blank line allowed
/// before the second status line.
#[test]
fn kept_alive_requests_and_responses() {
    let pieces = vec![
        orig(b"GET /announce?a=1 HTTP/1.1\r\nHost: t\r\n\r\nGET /announce?a=2 HTTP/1.1\r\nHost: t\r\n\r\n"),
        resp(&[ok(b"d1:ai1ee"), b"\r\n".to_vec(), ok(b"d1:ai2ee")].concat()),
    ];
    let frames = session(1.0, client(), tracker(), &pieces);
    let (events, _) = events(&frames);
    insta::assert_snapshot!(events.join("\n"));
}

/// What is not a tracker exchange: a POST, a body that is not a bencoded
/// dictionary, a key that is not a string. Each ends its direction with Zeek's reason.
#[test]
fn violations_end_their_direction() {
    let cases: [&[Piece]; 3] = [
        &[orig(b"POST /announce HTTP/1.1\r\n\r\n")],
        &[orig(ANNOUNCE), resp(&ok(b"l1:ae"))],
        &[orig(ANNOUNCE), resp(&ok(b"d1:ad1:bi1eei5e1:ce"))],
    ];
    let mut out = Vec::new();
    for pieces in cases {
        let frames = session(1.0, client(), tracker(), pieces);
        out.extend(events(&frames).0);
    }
    insta::assert_snapshot!(out.join("\n"));
}

/// A direction may send at most 2047 bytes (Zeek's buffer): a longer response is a
/// violation and raises nothing.
#[test]
fn a_response_past_the_buffer_is_refused() {
    let mut body = b"d5:peers2400:".to_vec();
    body.extend([7u8; 2400]);
    body.push(b'e');
    let frames = session(1.0, client(), tracker(), &[orig(ANNOUNCE), resp(&ok(&body))]);
    let (events, _) = events(&frames);
    insta::assert_snapshot!(events.join("\n"));
}

/// Zeek registers no port or signature for the tracker.
#[test]
fn nothing_without_a_registration() {
    let frames = session(1.0, client(), tracker(), &[orig(ANNOUNCE), resp(&ok(b"d1:ai1ee"))]);
    let out = run_with(&frames, Config::default(), netpac_analyzers::registry(), None);
    assert!(!out.events.iter().any(|e| e["event"].as_str().unwrap().starts_with("bt_tracker")));
}
