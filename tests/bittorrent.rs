//! BitTorrent's peer wire protocol (grammars/bittorrent.*): each direction's
//! handshake, then its messages cut from the stream by the `messages` sink,
//! from sessions these tests build. The analyzer is put on a port at run time,
//! as Zeek needs a script for. Checked against Zeek 8.2.2 (with
//! `Analyzer::register_for_ports(Analyzer::ANALYZER_BITTORRENT, set(6881/tcp))`)
//! on the pcaps these tests write (`NETPAC_TEST_PCAPS`).

mod common;
mod lines_support;

use common::{run_with, Config, Frame, Host};
use lines_support::{events_with_port, orig, resp, session, Piece};

fn handshake(peer: u8) -> Vec<u8> {
    let mut h = b"\x13BitTorrent protocol".to_vec();
    h.extend([0, 0, 0, 0, 0, 0x10, 0, 5]);
    h.extend([0xab; 20]);
    h.extend([peer; 20]);
    h
}

/// A message: its length, type and payload.
fn msg(id: u8, payload: &[u8]) -> Vec<u8> {
    let mut m = ((payload.len() + 1) as u32).to_be_bytes().to_vec();
    m.push(id);
    m.extend(payload);
    m
}

fn u32s(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

/// Both handshakes, then every message type; several messages share a
/// segment, and a piece straddles two.
fn peers() -> Vec<Piece> {
    let piece = msg(7, &[&u32s(&[3, 16384])[..], &[0x5a; 1000]].concat());
    vec![
        orig(&handshake(b'A')),
        resp(&[&handshake(b'B')[..], &msg(5, &[0xff, 0x80])].concat()),
        orig(&[&msg(2, b"")[..], &0u32.to_be_bytes()].concat()),
        resp(&[&msg(1, b"")[..], &msg(4, &u32s(&[7]))].concat()),
        orig(&[&msg(6, &u32s(&[3, 16384, 1000]))[..], &msg(9, &6881u16.to_be_bytes())].concat()),
        resp(&piece[..500]),
        resp(&piece[500..]),
        orig(&[&msg(8, &u32s(&[3, 16384, 1000]))[..], &msg(3, b""), &msg(20, b"ext")].concat()),
        resp(&msg(0, b"")),
    ]
}

/// The events of `frames` with the analyzer on port 6881, one line each.
fn events(frames: &[Frame]) -> (Vec<String>, Vec<String>) {
    let keep = |name: &str, _: &serde_json::Value| name.starts_with("bittorrent") || name.starts_with("protocol_");
    events_with_port(frames, "BITTORRENT", 6881, keep, &["service", "history"])
}

fn client() -> Host {
    Host::v4("10.0.0.1", 40001)
}

fn peer() -> Host {
    Host::v4("10.0.0.2", 6881)
}

#[test]
fn peer_wire_events() {
    let frames = session(1.0, client(), peer(), &peers());
    let (events, conn) = events(&frames);
    insta::assert_snapshot!(events.join("\n"));
    assert_eq!(conn, ["bittorrent\tShADdFf"]);
}

/// Zeek registers no port or signature for BitTorrent.
#[test]
fn nothing_without_a_registration() {
    let frames = session(1.0, client(), peer(), &peers());
    let out = run_with(&frames, Config::default(), netpac_analyzers::registry(), None);
    assert!(!out.events.iter().any(|e| e["event"].as_str().unwrap().starts_with("bittorrent")));
}

/// A handshake naming another protocol drops the analyzer without a word, as
/// Zeek does; the other side's valid handshake is not read either.
#[test]
fn another_protocol_is_dropped_silently() {
    let mut bad = handshake(b'A');
    bad[1] = b'b';
    let frames = session(1.0, client(), peer(), &[orig(&bad), resp(&handshake(b'B')), orig(&msg(2, b""))]);
    let (events, conn) = events(&frames);
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(conn, ["-\tShADdFf"]);
}

/// A length past Zeek's 256 KiB limit ends its direction with
/// `bittorrent_peer_weird`; the other direction goes on, and its own end
/// makes the protocol violation.
#[test]
fn a_length_past_the_limit_ends_the_direction() {
    let huge = 300_000u32.to_be_bytes();
    let frames = session(
        1.0,
        client(),
        peer(),
        &[
            orig(&handshake(b'A')),
            resp(&handshake(b'B')),
            orig(&[&huge[..], &[7; 100], &msg(2, b"")].concat()),
            orig(&msg(2, b"")),
            resp(&msg(1, b"")),
            resp(&[&huge[..], &[7; 100]].concat()),
            resp(&msg(1, b"")),
        ],
    );
    let (events, _) = events(&frames);
    insta::assert_snapshot!(events.join("\n"));
}

/// A message shorter than its type needs ends its direction as binpac's
/// out-of-bound exception does in Zeek (the text names binpac's record).
#[test]
fn a_message_shorter_than_its_type() {
    let short = |id: u8, n: usize| [&((n + 1) as u32).to_be_bytes()[..], &[id], &vec![9; n]].concat();
    let exchange = |orig_short: Vec<u8>, resp_short: Vec<u8>| {
        vec![
            orig(&handshake(b'A')),
            resp(&handshake(b'B')),
            orig(&[&orig_short[..], &msg(2, b"")].concat()),
            orig(&msg(3, b"")),
            resp(&[&resp_short[..], &msg(1, b"")].concat()),
        ]
    };
    let mut frames = session(1.0, client(), peer(), &exchange(short(4, 1), short(6, 2)));
    frames.extend(session(2.0, client().port(40002), peer(), &exchange(short(7, 7), short(8, 11))));
    frames.extend(session(3.0, client().port(40003), peer(), &exchange(short(9, 1), msg(1, b""))));
    let (events, _) = events(&frames);
    insta::assert_snapshot!(events.join("\n"));
}

/// Every peer wire event of the specification is raised by the traffic above.
#[test]
fn every_peer_wire_event_is_raised() {
    let mut frames = session(1.0, client(), peer(), &peers());
    let huge = 300_000u32.to_be_bytes();
    frames.extend(session(
        2.0,
        client().port(40002),
        peer(),
        &[orig(&handshake(b'A')), resp(&handshake(b'B')), orig(&huge)],
    ));
    let (events, _) = events(&frames);
    let seen: std::collections::BTreeSet<&str> =
        events.iter().map(|e| e.split(' ').next().unwrap()).collect();
    for name in netpac_analyzers::bittorrent::EVENT_NAMES {
        assert!(seen.contains(name), "{name} not raised");
    }
    assert_eq!(netpac_analyzers::bittorrent::EVENT_NAMES.len(), 14);
}
