//! Zeek's `PacketAnalyzer::max_depth` (25): a packet passes at most that
//! many packet analyzers, counted through its tunnels; the analyzer at the
//! limit does not hand it on and reports `max_packet_analyzer_depth_exceeded`
//! (`_in_tunnel` inside a tunnel). Every expectation here is what Zeek 8.2.2
//! wrote for the same packets: Ethernet, then `tags` VLAN tags, IPv4, ...

mod common;
use common::*;

/// A run through every analyzer netpac has: the tunnels with events of
/// their own (Teredo, GTPv1, AYIYA) are grammars of the analyzers crate.
fn run_all(frames: &[Frame], config: Config) -> Output {
    run_with(frames, config, netpac_analyzers::registry(), None)
}

fn tagged(mut frame: Frame, tags: usize) -> Frame {
    for _ in 0..tags {
        frame = frame.vlan(10);
    }
    frame
}

/// weird.log rows as `name source orig_h resp_h` and the conn.log rows'
/// `proto service` (a conn.log row means the transport analysed the packet).
fn outcome(out: &Output) -> (Vec<String>, Vec<String>) {
    let rows = |log: &str, pick: &dyn Fn(&[&str]) -> String| -> Vec<String> {
        log.lines()
            .filter(|l| !l.starts_with('#') && !l.contains("triple_tagged_vlan"))
            .map(|l| pick(&l.split('\t').collect::<Vec<_>>()))
            .collect()
    };
    let weirds = rows(&out.weird_log, &|v| {
        format!("{} {} {} {}", v[6], v[10], v[2], v[4])
    });
    let conns = rows(&out.conn_log, &|v| format!("{} {} {}", v[2], v[6], v[7]));
    (weirds, conns)
}

fn depth_run(frame: Frame) -> (Vec<String>, Vec<String>) {
    outcome(&run_all(&[frame], Config::default()))
}

const WEIRD: &str = "max_packet_analyzer_depth_exceeded";
const WEIRD_IN_TUNNEL: &str = "max_packet_analyzer_depth_exceeded_in_tunnel";

#[test]
fn the_transport_at_the_limit_analyses_the_packet_then_reports() {
    let (a, b) = (Host::v4("10.0.0.1", 1234), Host::v4("10.0.0.2", 9999));
    // Ethernet, 21 tags, IP, UDP: 24 analyzers, below the limit.
    let (weirds, conns) = depth_run(tagged(udp(1.0, a, b, b"hello"), 21));
    assert!(weirds.is_empty(), "{weirds:?}");
    assert_eq!(conns, ["10.0.0.1 udp -"]);
    // 22 tags: UDP is the 25th and cannot hand the payload on.
    for (frame, source) in [
        (udp(1.0, a, b, b"hello"), "UDP"),
        (tcp(1.0, a, b.port(80), "S", 1, 0, b""), "TCP"),
        (icmp4(1.0, a, b, 8, 0, [0, 1, 0, 1], b"ping"), "ICMP"),
    ] {
        let (weirds, conns) = depth_run(tagged(frame, 22));
        assert_eq!(weirds, [format!("{WEIRD} {source} 10.0.0.1 10.0.0.2")]);
        assert_eq!(conns.len(), 1, "{conns:?}");
    }
}

#[test]
fn ip_or_a_vlan_tag_at_the_limit_stops_the_packet() {
    let (a, b) = (Host::v4("10.0.0.1", 1234), Host::v4("10.0.0.2", 9999));
    let (weirds, conns) = depth_run(tagged(udp(1.0, a, b, b"hello"), 23));
    assert_eq!(weirds, [format!("{WEIRD} IP 10.0.0.1 10.0.0.2")]);
    assert!(conns.is_empty(), "{conns:?}");
    for tags in [24, 30] {
        let (weirds, conns) = depth_run(tagged(udp(1.0, a, b, b"hello"), tags));
        assert_eq!(weirds, [format!("{WEIRD} VLAN - -")]);
        assert!(conns.is_empty(), "{conns:?}");
    }
}

#[test]
fn the_count_goes_on_through_tunnels() {
    let (a, b) = (Host::v4("10.0.0.1", 5555), Host::v4("10.0.0.2", 0));
    let (c, s) = (Host::v4("192.168.0.1", 1234), Host::v4("192.168.0.2", 9999));
    let inner = udp(1.0, c, s, b"hi");
    let inner_ip = inner.data[14..].to_vec();
    let gre = |tags| {
        let payload = [&[0u8, 0, 0x08, 0x00][..], &inner_ip].concat();
        tagged(raw_ip4(1.0, a, b, 47, &payload), tags)
    };
    let ip_in_ip = |tags| tagged(raw_ip4(1.0, a, b, 4, &inner_ip), tags);
    let teredo = |tags| {
        let inner6 = udp(
            1.0,
            Host::v6("2001::1", 1234),
            Host::v6("2001::2", 9999),
            b"hi",
        );
        tagged(udp(1.0, a, b.port(3544), &inner6.data[14..]), tags)
    };
    let vxlan = |tags| {
        let payload = [&[0x08u8, 0, 0, 0, 0, 0, 1, 0][..], &inner.data].concat();
        tagged(udp(1.0, a, b.port(4789), &payload), tags)
    };
    let cases: Vec<(&str, Frame, Vec<String>, usize)> = vec![
        // GRE: IP, GRE, the root again, the inner IP.
        ("gre 18", gre(18), vec![], 1),
        (
            "gre 19",
            gre(19),
            vec![format!("{WEIRD_IN_TUNNEL} UDP 192.168.0.1 192.168.0.2")],
            1,
        ),
        (
            "gre 20",
            gre(20),
            vec![format!("{WEIRD_IN_TUNNEL} IP 192.168.0.1 192.168.0.2")],
            0,
        ),
        (
            "gre 21",
            gre(21),
            vec![format!("{WEIRD_IN_TUNNEL} ROOT - -")],
            0,
        ),
        (
            "gre 22",
            gre(22),
            vec![format!("{WEIRD} GRE 10.0.0.1 10.0.0.2")],
            0,
        ),
        // IP-in-IP: IP, IPTunnel, the inner IP.
        (
            "ipip 20",
            ip_in_ip(20),
            vec![format!("{WEIRD_IN_TUNNEL} UDP 192.168.0.1 192.168.0.2")],
            1,
        ),
        (
            "ipip 22",
            ip_in_ip(22),
            vec![format!("{WEIRD_IN_TUNNEL} IPTUNNEL - -")],
            0,
        ),
        // Teredo: UDP, Teredo, the inner IPv6 (the outer UDP has its row).
        (
            "teredo 19",
            teredo(19),
            vec![format!("{WEIRD_IN_TUNNEL} UDP 2001::1 2001::2")],
            2,
        ),
        (
            "teredo 21",
            teredo(21),
            vec![format!("{WEIRD_IN_TUNNEL} TEREDO - -")],
            1,
        ),
        (
            "teredo 22",
            teredo(22),
            vec![format!("{WEIRD} UDP 10.0.0.1 10.0.0.2")],
            1,
        ),
        // VXLAN: UDP, VXLAN, the inner Ethernet frame.
        (
            "vxlan 18",
            vxlan(18),
            vec![format!("{WEIRD_IN_TUNNEL} UDP 192.168.0.1 192.168.0.2")],
            2,
        ),
        (
            "vxlan 19",
            vxlan(19),
            vec![format!("{WEIRD_IN_TUNNEL} IP 192.168.0.1 192.168.0.2")],
            1,
        ),
        (
            "vxlan 20",
            vxlan(20),
            vec![format!("{WEIRD_IN_TUNNEL} ETHERNET - -")],
            1,
        ),
        (
            "vxlan 21",
            vxlan(21),
            vec![format!("{WEIRD_IN_TUNNEL} VXLAN - -")],
            1,
        ),
    ];
    for (name, frame, want, conns) in cases {
        let (weirds, got_conns) = depth_run(frame);
        assert_eq!(weirds, want, "{name}");
        assert_eq!(got_conns.len(), conns, "{name}: {got_conns:?}");
    }
}
