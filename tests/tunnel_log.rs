//! tunnel.log, `tunnel_changed` and conn.log's `tunnel_parents`, from
//! tunnels these tests build: Zeek's tunnel framework
//! (base/frameworks/tunnels) over its session code's encapsulation checks.

mod common;
use common::*;

/// A run through every analyzer netpac has: the tunnels with events of
/// their own (Teredo, GTPv1, AYIYA) are grammars of the analyzers crate.
fn run_all(frames: &[Frame], config: Config) -> Output {
    run_with(frames, config, netpac_analyzers::registry(), None)
}

/// A VXLAN payload (VNI 42) carrying `inner`, an Ethernet frame.
fn vxlan(inner: &Frame) -> Vec<u8> {
    let mut p = vec![0x08, 0, 0, 0, 0, 0, 0x2a, 0];
    p.extend_from_slice(&inner.data);
    p
}

/// A GRE payload carrying the IPv4 packet of `inner`.
fn gre(inner: &Frame) -> Vec<u8> {
    let mut p = vec![0, 0, 0x08, 0x00];
    p.extend_from_slice(&inner.data[14..]);
    p
}

/// The IP packet of `frame`, without its Ethernet header.
fn ip_of(frame: &Frame) -> &[u8] {
    &frame.data[14..]
}

fn tunnel_log(out: &Output) -> String {
    out.logs.get("tunnel.log").cloned().unwrap_or_default()
}

/// Rows of tunnel.log as `action type orig_h orig_p resp_h resp_p uid`, so
/// that asserts name the uids they compare.
fn tunnel_rows(out: &Output) -> Vec<String> {
    tunnel_log(out)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let v: Vec<&str> = l.split('\t').collect();
            format!(
                "{} {} {} {} {} {} {}",
                v[7], v[6], v[2], v[3], v[4], v[5], v[1]
            )
        })
        .collect()
}

/// Asserts that there are as many rows as prefixes and that each row starts
/// with its prefix.
fn assert_rows_start_with(rows: &[String], prefixes: &[&str]) {
    assert_eq!(rows.len(), prefixes.len(), "{rows:?}");
    for (row, prefix) in rows.iter().zip(prefixes) {
        assert!(
            row.starts_with(prefix),
            "{row} does not start with {prefix}: {rows:?}"
        );
    }
}

/// The uid (last field) of a `tunnel_rows` row.
fn row_uid(row: &str) -> &str {
    row.rsplit(' ').next().unwrap()
}

fn uid_of(rows: &[String], needle: &str) -> String {
    let row = rows
        .iter()
        .find(|r| r.contains(needle))
        .unwrap_or_else(|| panic!("no row with {needle}: {rows:?}"));
    row.split('\t').next().unwrap().to_string()
}

#[test]
fn a_udp_tunnel_is_discovered_once_and_closes_with_its_connection() {
    let vtep_a = Host::v4("192.0.2.1", 40000);
    let vtep_b = Host::v4("192.0.2.2", 4789);
    let c = Host::v4("10.9.0.1", 5555);
    let s = Host::v4("10.9.0.2", 80);
    let first = tcp(1.0, c, s, "S", 1, 0, b"");
    let second = tcp(1.5, c.port(5556), s, "S", 1, 0, b"");
    let out = run_all(
        &[
            udp(1.0, vtep_a, vtep_b, &vxlan(&first)),
            udp(1.5, vtep_a, vtep_b, &vxlan(&second)),
        ],
        Config::default(),
    );
    insta::assert_snapshot!(tunnel_log(&out));
    let conns = conn_columns(&out, &["uid", "id.resp_p", "tunnel_parents"]);
    let outer = uid_of(&conns, "\t4789\t");
    let rows = tunnel_rows(&out);
    assert_eq!(
        rows,
        [
            format!("Tunnel::DISCOVER Tunnel::VXLAN 192.0.2.1 40000 192.0.2.2 4789 {outer}"),
            format!("Tunnel::CLOSE Tunnel::VXLAN 192.0.2.1 40000 192.0.2.2 4789 {outer}"),
        ]
    );
    // Both inner connections name the tunnel; the tunnel's own names none.
    let parents: Vec<&str> = conns
        .iter()
        .map(|r| r.rsplit('\t').next().unwrap())
        .collect();
    assert_eq!(
        parents.iter().filter(|p| **p == outer).count(),
        2,
        "{conns:?}"
    );
    // `new_connection` of an inner connection carries the chain (Zeek's `c$tunnel`).
    let new_inner = out
        .events
        .iter()
        .find(|e| e["event"] == "new_connection" && e["args"]["c"]["id"]["resp_p"] == "80/tcp")
        .expect("inner new_connection");
    insta::assert_json_snapshot!(new_inner["args"]["c"]["tunnel"]);
}

#[test]
fn an_ip_tunnel_is_one_per_address_pair_and_never_closes() {
    let a = Host::v4("198.51.100.1", 0);
    let b = Host::v4("198.51.100.2", 0);
    let x = Host::v4("203.0.113.1", 0);
    let y = Host::v4("203.0.113.2", 0);
    let c = Host::v4("10.8.0.1", 33000);
    let s = Host::v4("10.8.0.2", 53);
    let out = run_all(
        &[
            // GRE both ways: one tunnel, named by its first packet.
            raw_ip4(1.0, a, b, 47, &gre(&udp(1.0, c, s, b"one"))),
            raw_ip4(2.0, b, a, 47, &gre(&udp(2.0, s.port(5353), c, b"two"))),
            // IP-in-IP.
            raw_ip4(3.0, x, y, 4, ip_of(&udp(3.0, c.port(33001), s, b"three"))),
        ],
        Config::default(),
    );
    insta::assert_snapshot!(tunnel_log(&out));
    let rows = tunnel_rows(&out);
    assert_rows_start_with(
        &rows,
        &[
            "Tunnel::DISCOVER Tunnel::GRE 198.51.100.1 0 198.51.100.2 0 C",
            "Tunnel::DISCOVER Tunnel::IP 203.0.113.1 0 203.0.113.2 0 C",
        ],
    );
    // Both GRE connections name the one tunnel.
    let gre_uid = row_uid(&rows[0]);
    let parents = conn_columns(&out, &["id.resp_p", "tunnel_parents"]);
    assert_eq!(
        parents.iter().filter(|p| p.ends_with(gre_uid)).count(),
        2,
        "{parents:?}"
    );
}

#[test]
fn nested_tunnels_are_each_discovered_and_the_innermost_is_the_parent() {
    let vtep_a = Host::v4("192.0.2.1", 40000);
    let vtep_b = Host::v4("192.0.2.2", 4789);
    let x = Host::v4("203.0.113.1", 0);
    let y = Host::v4("203.0.113.2", 0);
    let c = Host::v4("10.8.0.1", 33000);
    let s = Host::v4("10.8.0.2", 53);
    let ip_in_ip = raw_ip4(1.0, x, y, 4, ip_of(&udp(1.0, c, s, b"deep")));
    let out = run_all(
        &[udp(1.0, vtep_a, vtep_b, &vxlan(&ip_in_ip))],
        Config::default(),
    );
    let rows = tunnel_rows(&out);
    assert_rows_start_with(
        &rows,
        &[
            "Tunnel::DISCOVER Tunnel::VXLAN",
            "Tunnel::DISCOVER Tunnel::IP 203.0.113.1 0",
            "Tunnel::CLOSE Tunnel::VXLAN",
        ],
    );
    let ip_uid = row_uid(&rows[1]);
    let inner = conn_columns(&out, &["id.resp_p", "tunnel_parents"]);
    assert!(inner.contains(&format!("53\t{ip_uid}")), "{inner:?}");
    let new_inner = out
        .events
        .iter()
        .find(|e| e["event"] == "new_connection" && e["args"]["c"]["id"]["resp_p"] == "53/udp")
        .expect("inner new_connection");
    let chain = new_inner["args"]["c"]["tunnel"]
        .as_array()
        .expect("a chain");
    let types: Vec<&str> = chain
        .iter()
        .map(|t| t["tunnel_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["Tunnel::VXLAN", "Tunnel::IP"]);
}

/// Zeek's `Connection::CheckEncapsulation`: a connection first seen
/// directly, then through GRE, then directly again raises `tunnel_changed`
/// each time; the tunnel is discovered when the connection moves into it,
/// and stays among the connection's `tunnel_parents`.
#[test]
fn a_connection_moving_into_a_tunnel_raises_tunnel_changed() {
    let a = Host::v4("192.0.2.1", 0);
    let b = Host::v4("198.51.100.1", 0);
    let c = Host::v4("10.8.0.1", 33000);
    let s = Host::v4("10.8.0.2", 7000);
    let out = run_all(
        &[
            udp(1.0, c, s, b"direct"),
            raw_ip4(1.001, a, b, 47, &gre(&udp(1.001, c, s, b"tunnelled"))),
            udp(1.002, c, s, b"direct again"),
        ],
        Config::default(),
    );
    let changes: Vec<_> = out
        .events
        .iter()
        .filter(|e| e["event"] == "tunnel_changed")
        .map(|e| (e["ts"].clone(), e["args"]["e"].clone()))
        .collect();
    insta::assert_json_snapshot!(changes);
    let rows = tunnel_rows(&out);
    assert_rows_start_with(
        &rows,
        &["Tunnel::DISCOVER Tunnel::GRE 192.0.2.1 0 198.51.100.1 0"],
    );
    assert!(
        tunnel_log(&out).contains("1.001000\t"),
        "{}",
        tunnel_log(&out)
    );
    let gre_uid = row_uid(&rows[0]);
    assert_eq!(
        conn_columns(&out, &["history", "tunnel_parents"]),
        [format!("D\t{gre_uid}")]
    );
}

/// A tunnel no new connection used for an hour (Zeek's
/// `Tunnel::expiration_interval`) is logged as expired when time passes
/// it, and discovered again when it is used after that.
#[test]
fn an_idle_tunnel_expires_after_an_hour() {
    let a = Host::v4("198.51.100.1", 0);
    let b = Host::v4("198.51.100.2", 0);
    let x = Host::v4("203.0.113.1", 0);
    let y = Host::v4("203.0.113.2", 0);
    let c = Host::v4("10.8.0.1", 33000);
    let s = Host::v4("10.8.0.2", 53);
    let lone = Host::v4("192.0.2.50", 40000);
    let through = |ts: f64, outer: (Host, Host), port: u16| {
        raw_ip4(
            ts,
            outer.0,
            outer.1,
            47,
            &gre(&udp(ts, c.port(port), s, b"q")),
        )
    };
    let out = run_all(
        &[
            through(1.0, (a, b), 1),
            through(1.0, (x, y), 2),
            // A new connection through a-b half an hour later keeps it alive.
            through(1800.0, (a, b), 3),
            // A new connection elsewhere after x-y's hour: x-y expires.
            udp(3700.0, lone, s, b"q"),
            // a-b's hour runs out too.
            udp(5500.0, lone.port(40001), s, b"q"),
            // Used again: discovered anew.
            through(5600.0, (x, y), 4),
        ],
        Config::default(),
    );
    insta::assert_snapshot!(tunnel_log(&out));
    let actions: Vec<String> = tunnel_rows(&out)
        .iter()
        .map(|r| r.split(' ').take(3).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        actions,
        [
            "Tunnel::DISCOVER Tunnel::GRE 198.51.100.1",
            "Tunnel::DISCOVER Tunnel::GRE 203.0.113.1",
            "Tunnel::EXPIRE Tunnel::GRE 203.0.113.1",
            "Tunnel::EXPIRE Tunnel::GRE 198.51.100.1",
            "Tunnel::DISCOVER Tunnel::GRE 203.0.113.1",
        ]
    );
}

/// Zeek's Teredo detection on any port: Teredo's headers before an IPv6
/// packet, or an IPv6 packet to or from 2001:0::/32; a plain IPv6 packet
/// elsewhere in UDP is not Teredo.
#[test]
fn teredo_is_found_on_any_port_by_its_shape() {
    let relay = Host::v6("2001:db8::1", 25977);
    let client = Host::v6("2001:db8::2", 25964);
    let inner = udp(
        1.0,
        Host::v6("2002:c000:201::1", 1000),
        Host::v6("2a00::1", 2000),
        b"hi",
    );
    // Origin indication (port and address obfuscated), then the IPv6 packet.
    let mut with_origin = vec![0, 0, 0x19, 0, 0, 0, 0, 3];
    with_origin.extend_from_slice(ip_of(&inner));
    let to_prefix = udp(
        2.0,
        Host::v6("2a00::5", 1000),
        Host::v6("2001:0:4136:e378::7", 2000),
        b"hello",
    );
    let plain = udp(
        3.0,
        Host::v6("2a00::5", 1000),
        Host::v6("2a00::6", 2000),
        b"not teredo",
    );
    let reply = udp(
        1.1,
        Host::v6("2a00::1", 2000),
        Host::v6("2002:c000:201::1", 1000),
        b"ho",
    );
    let out = run_all(
        &[
            udp(1.0, relay, client, &with_origin),
            udp(
                1.1,
                client,
                relay,
                &[&[0u8, 0, 0x19, 0, 0, 0, 0, 3][..], ip_of(&reply)].concat(),
            ),
            udp(
                2.0,
                relay.port(30000),
                client.port(30001),
                ip_of(&to_prefix),
            ),
            udp(3.0, relay.port(30002), client.port(30003), ip_of(&plain)),
        ],
        Config::default(),
    );
    let rows = tunnel_rows(&out);
    let discovered: Vec<String> = rows
        .iter()
        .filter(|r| r.starts_with("Tunnel::DISCOVER"))
        .map(|r| r.split(' ').take(6).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        discovered,
        [
            "Tunnel::DISCOVER Tunnel::TEREDO 2001:db8::1 25977 2001:db8::2 25964",
            "Tunnel::DISCOVER Tunnel::TEREDO 2001:db8::1 30000 2001:db8::2 30001",
        ]
    );
    // Teredo confirms once both directions sent a good packet
    // (`Tunnel::delay_teredo_confirmation`).
    let services = conn_columns(&out, &["id.orig_p", "service"]);
    assert!(
        services.contains(&"25977\tteredo".to_string()),
        "{services:?}"
    );
    assert!(services.contains(&"30000\t-".to_string()), "{services:?}");
}

/// `tunnel_changed` is raised at most `Tunnel::max_changes_per_connection`
/// (5) times per connection; later changes are weirds (logged once), leave
/// the chain as it was and put `X` in the history, as in Zeek 8.2.
#[test]
fn tunnel_changes_between_tunnels_are_bounded() {
    let a = Host::v4("192.0.2.1", 0);
    let b = Host::v4("198.51.100.1", 0);
    let x = Host::v4("192.0.2.2", 0);
    let c = Host::v4("10.8.0.1", 33000);
    let s = Host::v4("10.8.0.2", 7000);
    let mut frames = Vec::new();
    for i in 0..10 {
        let ts = 1.0 + f64::from(i) * 0.001;
        let outer = if i % 2 == 0 { a } else { x };
        frames.push(raw_ip4(ts, outer, b, 47, &gre(&udp(ts, c, s, b"q"))));
    }
    frames.push(udp(1.5, c, s, b"direct"));
    let out = run_all(&frames, Config::default());
    let changes: Vec<usize> = out
        .events
        .iter()
        .filter(|e| e["event"] == "tunnel_changed")
        .map(|e| e["args"]["e"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(changes, [1, 1, 1, 1, 1]);
    let exceeded: Vec<_> = out
        .events
        .iter()
        .filter(|e| e["event"] == "conn_weird")
        .map(|e| {
            (
                e["ts"].as_f64().unwrap(),
                e["args"]["addl"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        exceeded.len(),
        5,
        "four more changes and the last, direct packet"
    );
    assert!(exceeded.iter().all(|(_, addl)| addl == "5"));
    assert!(out
        .weird_log
        .contains("tunnel_max_changes_per_connection_exceeded\t5"));
    // Both tunnels were discovered, and both are the connection's parents.
    assert_eq!(tunnel_rows(&out).len(), 2);
    let cols = conn_columns(&out, &["history", "orig_bytes", "tunnel_parents"]);
    let [history, bytes, parents] = cols[0].split('\t').collect::<Vec<_>>()[..] else {
        panic!("{cols:?}")
    };
    assert_eq!((history, bytes), ("DX", "16"));
    assert_eq!(parents.split(',').count(), 2, "{cols:?}");
}

/// An IP tunnel without a packet for a day (Zeek's `Tunnel::ip_tunnel_timeout`)
/// is forgotten: its next packet makes a new tunnel, with a new uid.
#[test]
fn an_ip_tunnel_idle_for_a_day_is_a_new_tunnel() {
    let a = Host::v4("198.51.100.1", 0);
    let b = Host::v4("198.51.100.2", 0);
    let c = Host::v4("10.8.0.1", 33000);
    let s = Host::v4("10.8.0.2", 53);
    let through = |ts: f64, port: u16| raw_ip4(ts, a, b, 47, &gre(&udp(ts, c.port(port), s, b"q")));
    let day = 86_400.0;
    let out = run_all(
        &[
            through(1.0, 1),
            through(1.0 + day - 10.0, 2),
            through(1.0 + 2.0 * day + 100.0, 3),
        ],
        Config::default(),
    );
    let rows = tunnel_rows(&out);
    assert_rows_start_with(
        &rows,
        &[
            "Tunnel::DISCOVER Tunnel::GRE",
            "Tunnel::EXPIRE Tunnel::GRE",
            "Tunnel::DISCOVER Tunnel::GRE",
            "Tunnel::EXPIRE Tunnel::GRE",
            "Tunnel::DISCOVER Tunnel::GRE",
        ],
    );
    // Used again within the day: the same uid; after a day idle: a new one.
    assert_eq!(row_uid(&rows[0]), row_uid(&rows[2]));
    assert_ne!(row_uid(&rows[2]), row_uid(&rows[4]));
}

/// A Teredo bubble (an IPv6 header with no next header and no payload) with
/// bytes after it is still Teredo, with the weird `Teredo_bubble_with_payload`;
/// a bubble inside Teredo raises no `ipv6_no_next` (Zeek's IP analyzer checks
/// the last encapsulation); another packet whose length disagrees is no Teredo.
/// As Zeek 8.2.2 does with the same packets.
#[test]
fn teredo_bubbles_with_bytes_after_them_are_weird() {
    let relay = Host::v4("10.0.0.1", 3544);
    let client = Host::v4("10.0.0.2", 40000);
    let bubble = |extra: &[u8]| {
        let mut ip6 = vec![0x60, 0, 0, 0, 0, 0, 59, 255];
        ip6.extend([0x20, 0x01].iter().chain(&[0u8; 13]).chain(&[1]));
        ip6.extend([0xfe, 0x80].iter().chain(&[0u8; 13]).chain(&[2]));
        ip6.extend_from_slice(extra);
        ip6
    };
    let inner_udp = udp(3.0, Host::v6("2001::1", 1), Host::v6("fe80::2", 2), b"");
    let out = run_all(
        &[
            udp(1.0, client, relay, &bubble(b"EXTRA")),
            udp(2.0, relay, client, &bubble(b"")),
            udp(3.0, client, relay, &[ip_of(&inner_udp), b"XX"].concat()),
            udp(4.0, client, relay, &bubble(b"")),
        ],
        Config::default(),
    );
    let weirds: Vec<&str> = out.weird_log.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(weirds.len(), 1, "{weirds:?}");
    assert!(weirds[0].contains("Teredo_bubble_with_payload") && weirds[0].ends_with("TEREDO"), "{weirds:?}");
    let services = conn_columns(&out, &["id.orig_p", "service"]);
    assert_eq!(services, ["40000\tteredo"]);
}

/// A GTPv1-U tunnel confirms its analyzer on the outer flow (`service`
/// gtpv1, `protocol_confirmation`), as Zeek's GTPv1 analyzer does (VXLAN,
/// Geneve and AYIYA too; Teredo once both directions sent a good packet).
#[test]
fn gtp_tunnels_confirm_their_service() {
    let sgsn = Host::v4("192.0.2.10", 2152);
    let ggsn = Host::v4("192.0.2.20", 2152);
    let c = Host::v4("10.45.0.7", 40100);
    let s = Host::v4("198.51.100.80", 80);
    let inner = tcp(5.0, c, s, "S", 10, 0, b"");
    let ip = &inner.data[14..];
    // Version 1, PT=1, G-PDU (0xff), length, TEID.
    let mut gtp = vec![0x30, 0xff];
    gtp.extend_from_slice(&(ip.len() as u16).to_be_bytes());
    gtp.extend_from_slice(&[0, 0, 0, 1]);
    gtp.extend_from_slice(ip);
    let out = run_all(&[udp(5.0, sgsn, ggsn, &gtp)], Config::default());
    let rows = conn_columns(&out, &["id.resp_p", "proto", "service"]);
    assert!(rows.contains(&"2152\tudp\tgtpv1".to_string()), "{rows:?}");
    assert!(rows.contains(&"80\ttcp\t-".to_string()), "{rows:?}");
    let confirmations: Vec<_> = out.events.iter().filter(|e| e["event"] == "protocol_confirmation").collect();
    assert_eq!(confirmations.len(), 1);
    assert_eq!(confirmations[0]["args"]["atype"], "Analyzer::ANALYZER_GTPV1");
}
