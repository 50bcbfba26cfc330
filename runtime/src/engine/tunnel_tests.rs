//! Tunnel tests of the engine: Zeek's `Tunnel::max_depth` at its boundary.

use super::*;
use crate::event::{Recorded, RecordingSink};
use crate::packet::RawPacket;

/// An engine whose flow weirds are recorded.
fn engine(max_depth: u8) -> (Engine, Recorded) {
    let config = Config {
        ignore_checksums: true,
        tunnel_max_depth: max_depth,
        ..Config::default()
    };
    let rec = Recorded::default();
    let mut events = Events::new();
    events.subscribe(Box::new(RecordingSink {
        into: rec.clone(),
        filter: Some(vec!["flow_weird"]),
    }));
    (Engine::new(config, Registry::default(), events), rec)
}

/// An IPv4 packet from `10.0.0.<n>` to `10.0.1.<n>` carrying `payload`.
fn ipv4(n: u8, proto: u8, payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 0, 64, proto, 0, 0, 10, 0, 0, n, 10, 0, 1, n]);
    p.extend_from_slice(payload);
    p
}

/// A UDP datagram inside `levels` IP-in-IP tunnels; level `k` (outermost 1)
/// has addresses ending in `k`.
fn nested(levels: u8) -> Vec<u8> {
    let udp = [0x30, 0x39, 0x00, 0x35, 0, 8, 0, 0];
    let mut packet = ipv4(99, 17, &udp);
    for level in (1..=levels).rev() {
        packet = ipv4(level, 4, &packet);
    }
    packet
}

fn feed(e: &mut Engine, data: &[u8]) {
    e.packet(&RawPacket {
        ts: Time::from_secs_f64(1.0),
        wire_len: data.len() as u32,
        link: LinkType::Raw,
        data,
    });
}

#[test]
fn tunnels_are_followed_up_to_max_depth_and_no_further() {
    // As deep as allowed: the inner UDP flow is a connection, no weird.
    let (mut e, rec) = engine(4);
    feed(&mut e, &nested(4));
    assert_eq!(e.active_connections(), 1);
    assert!(rec.0.borrow().is_empty());

    // One level more: the fifth tunnel is not opened. Zeek reports it on the
    // tunnel's own packet, which is itself in a tunnel.
    let (mut e, rec) = engine(4);
    feed(&mut e, &nested(5));
    assert_eq!(e.active_connections(), 0);
    let weirds = rec.0.borrow();
    assert_eq!(weirds.len(), 1);
    let args = &weirds[0]["args"];
    assert_eq!(args["name"], "exceeded_tunnel_max_depth_in_tunnel");
    assert_eq!(args["src"], "10.0.0.5");
}

#[test]
fn max_depth_zero_follows_no_tunnel() {
    let (mut e, rec) = engine(0);
    feed(&mut e, &nested(1));
    assert_eq!(e.active_connections(), 0);
    assert_eq!(
        rec.0.borrow()[0]["args"]["name"],
        "exceeded_tunnel_max_depth"
    );
}
