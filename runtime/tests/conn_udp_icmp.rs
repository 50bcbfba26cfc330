//! UDP, ICMP, fragments and other IP protocols through the engine.

mod common;
use common::*;

#[test]
fn udp_request_and_reply() {
    let c = Host::v4("192.168.1.10", 51000);
    let s = Host::v4("8.8.8.8", 53);
    let out = run(
        &[udp(1.0, c, s, b"query"), udp(1.05, s, c, b"answer!")],
        Config::default(),
    );
    assert_eq!(
        conn_columns(
            &out,
            &[
                "id.orig_h",
                "conn_state",
                "history",
                "orig_bytes",
                "resp_bytes",
                "local_orig",
                "local_resp"
            ]
        ),
        vec!["192.168.1.10\tSF\tDd\t5\t7\tT\tF"]
    );
    insta::assert_snapshot!(out.conn_log);
    insta::assert_json_snapshot!(event_names(&out));
}

#[test]
fn udp_from_server_port_flips() {
    let c = Host::v4("192.168.1.10", 51000);
    let s = Host::v4("8.8.8.8", 53);
    let out = run(&[udp(1.0, s, c, b"unsolicited")], Config::default());
    assert_eq!(
        conn_columns(&out, &["id.orig_h", "id.resp_p", "conn_state", "history"]),
        vec!["192.168.1.10\t53\tSHR\t^d"]
    );
}

#[test]
fn udp_bad_checksum() {
    let c = Host::v4("192.168.1.10", 51000);
    let s = Host::v4("192.168.1.20", 9999);
    let out = run(&[udp(1.0, c, s, b"x").bad_l4_checksum()], Config::default());
    assert_eq!(
        conn_columns(&out, &["conn_state", "history", "orig_pkts"]),
        vec!["OTH\tC\t0"]
    );
    assert!(out.weird_log.contains("bad_UDP_checksum"));
}

#[test]
fn udp_inactivity_timeout_splits_flows() {
    let c = Host::v4("192.168.1.10", 51000);
    let s = Host::v4("192.168.1.20", 9999);
    let out = run(
        &[
            udp(1.0, c, s, b"a"),
            udp(30.0, c, s, b"b"),
            udp(100.0, c, s, b"c"),
        ],
        Config::default(),
    );
    assert_eq!(
        conn_columns(&out, &["orig_pkts", "duration"]),
        vec!["2\t29.000000", "1\t-"]
    );
    assert!(event_names(&out).contains(&"connection_timeout".to_string()));
}

#[test]
fn udp_contents_when_enabled() {
    let c = Host::v4("192.168.1.10", 51000);
    let s = Host::v4("192.168.1.20", 9999);
    let config = Config {
        udp_content_deliver_all_orig: true,
        ..Config::default()
    };
    let out = run_with(
        &[udp(1.0, c, s, b"abc"), udp(1.1, s, c, b"def")],
        config,
        Registry::default(),
        Some(vec!["udp_contents"]),
    );
    insta::assert_json_snapshot!(out.events);
}

#[test]
fn icmp_echo_pair_is_one_connection() {
    let a = Host::v4("10.1.1.1", 0);
    let b = Host::v4("10.1.1.2", 0);
    let out = run(
        &[
            icmp4(1.0, a, b, 8, 0, [0, 7, 0, 1], b"ping-data"),
            icmp4(1.001, b, a, 0, 0, [0, 7, 0, 1], b"ping-data"),
        ],
        Config::default(),
    );
    assert_eq!(
        conn_columns(
            &out,
            &[
                "id.orig_p",
                "id.resp_p",
                "proto",
                "conn_state",
                "orig_bytes",
                "resp_bytes",
                "orig_pkts",
                "resp_pkts"
            ]
        ),
        vec!["8\t0\ticmp\tOTH\t9\t9\t1\t1"]
    );
    insta::assert_json_snapshot!(event_names(&out));
}

#[test]
fn icmp_unreachable_carries_the_quoted_udp_header() {
    let c = Host::v4("10.1.1.1", 33000);
    let s = Host::v4("10.1.1.2", 7777);
    let router = Host::v4("10.1.1.254", 0);
    let probe = udp(1.0, c, s, b"probe");
    let quoted = probe.data[14..14 + 28].to_vec();
    let out = run_with(
        &[probe, icmp4(1.01, router, c, 3, 3, [0; 4], &quoted)],
        Config::default(),
        Registry::default(),
        Some(vec!["icmp_unreachable"]),
    );
    assert_eq!(out.events.len(), 1);
    let ctx = &out.events[0]["args"]["context"];
    assert_eq!(ctx["id"]["orig_p"], "33000/udp");
    assert_eq!(ctx["id"]["resp_p"], "7777/udp");
    insta::assert_json_snapshot!(out.events);
}

#[test]
fn icmp6_neighbor_solicitation() {
    let a = Host::v6("fe80::1", 0);
    let b = Host::v6("ff02::1:ff00:2", 0);
    let mut body = "fe80::2"
        .parse::<std::net::Ipv6Addr>()
        .unwrap()
        .octets()
        .to_vec();
    body.extend_from_slice(&[1, 1, 0x02, 0, 0, 0, 0, 1]); // source link-layer address option
    let out = run_with(
        &[icmp6(1.0, a, b, 135, 0, [0; 4], &body)],
        Config::default(),
        Registry::default(),
        None,
    );
    assert_eq!(
        conn_columns(&out, &["id.orig_p", "id.resp_p", "proto", "ip_proto"]),
        vec!["135\t136\ticmp\t58"]
    );
    insta::assert_json_snapshot!(out.events);
}

#[test]
fn fragmented_udp_is_reassembled() {
    let c = Host::v4("192.168.1.10", 51000);
    let s = Host::v4("192.168.1.20", 9999);
    let big = udp(1.0, c, s, &[0x61; 3000]);
    let frags = fragment4(&big, 1480);
    assert_eq!(frags.len(), 3);
    let out = run(&frags, Config::default());
    assert_eq!(
        conn_columns(
            &out,
            &["conn_state", "history", "orig_pkts", "orig_ip_bytes"]
        ),
        vec!["S0\tD\t1\t3028"]
    );
}

#[test]
fn other_ip_protocols_are_unknown_transport_flows() {
    let a = Host::v4("10.9.9.1", 0);
    let b = Host::v4("224.0.0.5", 0);
    let out = run(
        &[
            raw_ip4(1.0, a, b, 89, &[0u8; 40]),
            raw_ip4(2.0, a, b, 89, &[0u8; 40]),
        ],
        Config::default(),
    );
    assert_eq!(
        conn_columns(
            &out,
            &[
                "id.orig_p",
                "proto",
                "conn_state",
                "history",
                "orig_pkts",
                "orig_ip_bytes",
                "ip_proto"
            ]
        ),
        vec!["0\tunknown_transport\tOTH\t-\t2\t120\t89"]
    );
}

#[test]
fn vxlan_inner_connection_names_its_tunnel() {
    let vtep_a = Host::v4("192.0.2.1", 40000);
    let vtep_b = Host::v4("192.0.2.2", 4789);
    let c = Host::v4("10.9.0.1", 5555);
    let s = Host::v4("10.9.0.2", 80);
    let inner = tcp(1.0, c, s, "S", 1, 0, b"");
    let mut payload = vec![0x08, 0, 0, 0, 0, 0, 0x2a, 0];
    payload.extend_from_slice(&inner.data);
    let out = run(&[udp(1.0, vtep_a, vtep_b, &payload)], Config::default());
    let rows = conn_columns(
        &out,
        &[
            "uid",
            "id.orig_h",
            "id.resp_p",
            "proto",
            "history",
            "service",
            "tunnel_parents",
        ],
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    let outer = rows
        .iter()
        .find(|r| r.contains("\t4789\tudp"))
        .expect("outer VXLAN flow");
    // A good VXLAN header confirms the protocol, as Zeek's analyzer does.
    assert!(outer.contains("\tvxlan\t-"), "{outer}");
    let inner = rows
        .iter()
        .find(|r| r.contains("\t80\ttcp"))
        .expect("inner TCP connection");
    let outer_uid = outer.split('\t').next().unwrap();
    assert!(inner.ends_with(&format!("\tS\t-\t{outer_uid}")), "{inner}");
}

#[test]
fn gre_carries_ip_without_an_outer_connection() {
    let a = Host::v4("198.51.100.1", 0);
    let b = Host::v4("198.51.100.2", 0);
    let c = Host::v4("10.8.0.1", 33000);
    let s = Host::v4("10.8.0.2", 53);
    let inner = udp(1.0, c, s, b"hello");
    let mut payload = vec![0, 0, 0x08, 0x00];
    payload.extend_from_slice(&inner.data[14..]);
    let out = run(&[raw_ip4(1.0, a, b, 47, &payload)], Config::default());
    assert_eq!(
        conn_columns(&out, &["id.orig_h", "id.resp_p", "proto", "conn_state"]),
        vec!["10.8.0.1\t53\tudp\tS0"]
    );
}
