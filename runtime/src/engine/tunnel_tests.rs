//! Tunnel tests of the engine: IP-in-IP, GRE (bridged Ethernet, ERSPAN,
//! PPTP, Aruba 802.11) and Zeek's `Tunnel::max_depth` at its boundary.

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

/// A UDP datagram from port `sport`, addresses ending in 99.
fn udp(sport: u16) -> Vec<u8> {
    let mut udp = sport.to_be_bytes().to_vec();
    udp.extend_from_slice(&[0x00, 0x35, 0, 8, 0, 0]);
    ipv4(99, 17, &udp)
}

/// The names of the flow weirds recorded.
fn names(rec: &Recorded) -> Vec<String> {
    let weirds = rec.0.borrow();
    let name = |w: &serde_json::Value| w["args"]["name"].as_str().unwrap_or("").to_string();
    weirds.iter().map(name).collect()
}

/// A UDP datagram inside `levels` IP-in-IP tunnels; level `k` (outermost 1)
/// has addresses ending in `k`.
fn nested(levels: u8) -> Vec<u8> {
    let mut packet = udp(12345);
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

#[test]
fn ip_in_ip_payload_must_be_exactly_one_packet() {
    let (mut e, rec) = engine(4);
    feed(&mut e, &ipv4(1, 4, &udp(1)));
    assert_eq!(e.active_connections(), 1);
    // The same pair in the other direction, as GRE: the same tunnel for Zeek.
    let mut gre = vec![0, 0, 0x08, 0x00];
    gre.extend_from_slice(&udp(2));
    let mut back = ipv4(1, 47, &gre);
    back[12..20].copy_from_slice(&[10, 0, 1, 1, 10, 0, 0, 1]);
    feed(&mut e, &back);
    assert_eq!(e.active_connections(), 2);
    assert_eq!(e.ip_tunnels.len(), 1);
    assert!(names(&rec).is_empty());

    let mut long = udp(3);
    long.extend_from_slice(&[0; 4]);
    feed(&mut e, &ipv4(1, 4, &long));
    feed(&mut e, &ipv4(1, 4, &udp(4)[..24]));
    feed(&mut e, &ipv4(1, 41, &udp(5)));
    assert_eq!(
        names(&rec),
        [
            "inner_IP_payload_length_mismatch",
            "truncated_inner_IP",
            "truncated_inner_IP"
        ]
    );
    assert_eq!(e.active_connections(), 2);
}

/// An Ethernet frame carrying `ip`.
fn ethernet(ip: &[u8]) -> Vec<u8> {
    let mut frame = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00];
    frame.extend_from_slice(ip);
    frame
}

/// GRE with these flags, protocol type and optional words over IPv4.
fn gre(flags: u16, protocol: u16, words: &[u8], body: &[u8]) -> Vec<u8> {
    let mut g = flags.to_be_bytes().to_vec();
    g.extend_from_slice(&protocol.to_be_bytes());
    g.extend_from_slice(words);
    g.extend_from_slice(body);
    ipv4(1, 47, &g)
}

#[test]
fn gre_carries_ip_ethernet_erspan_and_pptp() {
    let (mut e, rec) = engine(4);
    feed(&mut e, &gre(0x2000, 0x0800, &[0, 0, 0, 7], &udp(1)));
    feed(&mut e, &gre(0, 0x6558, &[], &ethernet(&udp(2))));
    let erspan_ii = [0, 0, 0, 1, 0x10, 0, 0, 0, 0, 0, 0, 0];
    feed(&mut e, &gre(0x1000, 0x88be, &erspan_ii, &ethernet(&udp(3))));
    let mut ppp = vec![0xff, 0x03, 0x00, 0x21];
    ppp.extend_from_slice(&udp(4));
    feed(
        &mut e,
        &gre(0x3001, 0x880b, &[0, 4, 0, 1, 0, 0, 0, 9], &ppp),
    );
    assert_eq!(e.active_connections(), 4);
    assert!(names(&rec).is_empty());
}

#[test]
fn broken_gre_is_reported_as_zeek_names_it() {
    let (mut e, rec) = engine(4);
    feed(&mut e, &ipv4(1, 47, &[0, 0]));
    feed(&mut e, &gre(0x0003, 0x0800, &[], &udp(1)));
    feed(&mut e, &gre(0x4000, 0x0800, &[], &udp(1)));
    // Enhanced GRE not carrying PPP; the engine used to call this
    // unknown_gre_protocol, a name Zeek 8 no longer has.
    feed(&mut e, &gre(0x0001, 0x0800, &[0; 4], &udp(1)));
    // PPTP carrying a packet of another version than its PPP header says.
    let mut ppp = vec![0xff, 0x03, 0x00, 0x57];
    ppp.extend_from_slice(&udp(1));
    feed(&mut e, &gre(0x2001, 0x880b, &[0, 4, 0, 1], &ppp));
    assert_eq!(
        names(&rec),
        [
            "truncated_GRE",
            "unknown_gre_version",
            "gre_routing",
            "egre_protocol_type",
            "truncated_inner_IP"
        ]
    );
    assert_eq!(e.active_connections(), 0);
}

#[test]
fn aruba_gre_yields_every_amsdu_subframe() {
    // QoS data frame, A-MSDU flag set, two subframes of IPv4 (lengths
    // chosen so that Zeek's `len % 4` padding is the aligning one).
    let mut frame = vec![0x88, 0x00, 0, 0];
    frame.extend_from_slice(&[0; 18]);
    frame.extend_from_slice(&[0, 0, 0x80, 0]);
    for sport in [1, 2] {
        let mut sub = vec![0u8; 12];
        let ip = udp(sport);
        sub.extend_from_slice(&((8 + ip.len()) as u16).to_be_bytes());
        sub.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
        sub.extend_from_slice(&ip);
        frame.extend_from_slice(&sub);
        frame.extend(std::iter::repeat_n(0, (8 + ip.len()) % 4));
    }
    let (mut e, rec) = engine(4);
    feed(&mut e, &gre(0, 0x8200, &[], &frame));
    assert_eq!(e.active_connections(), 2);
    assert!(names(&rec).is_empty());
}
