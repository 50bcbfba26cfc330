//! One test per connection-level event of the TCP, UDP, ICMP and ConnSize
//! analyzers that the clean-session tests do not raise: each builds the
//! packets that make Zeek raise the event and snapshots its arguments.
//!
//! The scenarios were checked against Zeek: run with
//! `NETPAC_TEST_PCAPS=DIR cargo test -p netpac-runtime --test engine_events`
//! and give `DIR/<test>.pcap` to `zeek -b -C -r ... misc/dump-events`.

mod common;
use common::*;
use serde_json::{json, Value};

fn hosts() -> (Host, Host) {
    (Host::v4("10.1.0.1", 40000), Host::v4("10.1.0.2", 80))
}

/// A packet of an unrelated connection, to move network time forward so
/// that the engine's timers fire (as any traffic does in Zeek).
fn tick(ts: f64) -> Frame {
    udp(
        ts,
        Host::v4("10.9.9.9", 5000),
        Host::v4("10.9.9.8", 5001),
        b"tick",
    )
}

/// The recorded events with each connection record reduced to what these
/// tests are about (uid, history, endpoint states and sizes); every other
/// argument is kept whole.
fn compact(out: &Output) -> Vec<Value> {
    out.events
        .iter()
        .map(|e| {
            let mut args = e["args"].clone();
            for key in ["c", "u"] {
                if let Some(c) = args.get(key).cloned() {
                    args[key] = json!({
                        "uid": c["uid"],
                        "history": c["history"],
                        "orig": { "state": c["orig"]["state"], "size": c["orig"]["size"], "pkts": c["orig"]["num_pkts"] },
                        "resp": { "state": c["resp"]["state"], "size": c["resp"]["size"], "pkts": c["resp"]["num_pkts"] },
                    });
                }
            }
            json!({ "ts": e["ts"], "event": e["event"], "args": args })
        })
        .collect()
}

fn only(frames: &[Frame], events: Vec<&'static str>) -> Output {
    run_with(frames, Config::default(), Registry::default(), Some(events))
}

// ----- TCP state events -------------------------------------------------------------------

#[test]
fn connection_attempt_after_an_unanswered_syn() {
    let (c, s) = hosts();
    let out = only(
        &[tcp(1.0, c, s, "S", 1000, 0, b""), tick(10.0)],
        vec!["connection_attempt"],
    );
    insta::assert_json_snapshot!(compact(&out));
}

#[test]
fn connection_rejected_by_a_reset_to_the_syn() {
    let (c, s) = hosts();
    let out = only(
        &[
            tcp(1.0, c, s, "S", 1000, 0, b""),
            tcp(1.1, s, c, "RA", 0, 1001, b""),
        ],
        vec!["connection_rejected", "connection_reset"],
    );
    insta::assert_json_snapshot!(compact(&out));
}

#[test]
fn connection_reset_after_data() {
    let (c, s) = hosts();
    let out = only(
        &[
            tcp(1.0, c, s, "S", 1000, 0, b""),
            tcp(1.1, s, c, "SA", 5000, 1001, b""),
            tcp(1.2, c, s, "AP", 1001, 5001, b"abc"),
            tcp(1.3, s, c, "A", 5001, 1004, b""),
            tcp(1.4, c, s, "RA", 1004, 5001, b""),
        ],
        vec!["connection_reset", "connection_rejected"],
    );
    insta::assert_json_snapshot!(compact(&out));
}

#[test]
fn connection_half_finished_when_the_peer_never_spoke() {
    let (c, s) = hosts();
    let out = only(
        &[
            tcp(1.0, c, s, "S", 1000, 0, b""),
            tcp(1.5, c, s, "F", 1001, 0, b""),
            tick(20.0),
        ],
        vec!["connection_half_finished", "connection_finished"],
    );
    insta::assert_json_snapshot!(compact(&out));
}

#[test]
fn partial_connection_and_partial_close() {
    let (c, s) = hosts();
    let out = only(
        &[
            tcp(1.0, c, s, "AP", 1000, 5000, b"mid-stream"),
            tcp(1.1, s, c, "AP", 5000, 1010, b"reply"),
            tick(2.0),
        ],
        vec!["partial_connection", "connection_partial_close"],
    );
    insta::assert_json_snapshot!(compact(&out));
    // A side whose first packet is its FIN closes partially; the other side
    // never closes, so Zeek reports connection_partial_close after
    // tcp_partial_close_delay.
    let out = only(
        &[
            tcp(1.0, c, s, "AP", 1000, 5000, b"mid-stream"),
            tcp(1.1, s, c, "FA", 5000, 1010, b""),
            tick(10.0),
        ],
        vec!["partial_connection", "connection_partial_close"],
    );
    insta::assert_json_snapshot!(compact(&out));
}

#[test]
fn connection_pending_at_the_end_of_input() {
    let (c, s) = hosts();
    let out = only(
        &[
            tcp(1.0, c, s, "S", 1000, 0, b""),
            tcp(1.1, s, c, "SA", 5000, 1001, b""),
            tcp(1.2, c, s, "A", 1001, 5001, b""),
        ],
        vec!["connection_pending"],
    );
    insta::assert_json_snapshot!(compact(&out));
}

// ----- TCP packet-level events ------------------------------------------------------------

#[test]
fn tcp_option_for_each_option_of_a_syn() {
    let (c, s) = hosts();
    // MSS 1460, SACK permitted, timestamps, NOP, window scale 7.
    let opts = [
        2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
    ];
    let out = only(
        &[tcp_opts(1.0, c, s, "S", 1000, 0, 64240, &opts, b"")],
        vec!["tcp_option"],
    );
    insta::assert_json_snapshot!(compact(&out));
}

fn established() -> Vec<Frame> {
    let (c, s) = hosts();
    vec![
        tcp(1.0, c, s, "S", 1000, 0, b""),
        tcp(1.1, s, c, "SA", 5000, 1001, b""),
        tcp(1.2, c, s, "A", 1001, 5001, b""),
    ]
}

/// Zeek raises `tcp_rexmit` from its TCPSTATS analyzer, which is off unless
/// enabled; it tells retransmissions from reordering by the IP ID.
fn with_tcp_stats() -> Config {
    Config {
        tcp_stats: true,
        ..Config::default()
    }
}

#[test]
fn tcp_rexmit_for_data_sent_twice() {
    let (c, s) = hosts();
    let frames: Vec<Frame> = [
        tcp(1.0, c, s, "S", 1000, 0, b""),
        tcp(1.1, s, c, "SA", 5000, 1001, b""),
        tcp(1.2, c, s, "A", 1001, 5001, b""),
        tcp(1.3, c, s, "AP", 1001, 5001, b"hello"),
        tcp(1.4, c, s, "AP", 1001, 5001, b"hello"),
        tcp(1.5, s, c, "A", 5001, 1006, b""),
        tcp(1.6, c, s, "AP", 1006, 5001, b"world"),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, f)| f.ip_id(100 + i as u16))
    .collect();
    let out = run_with(
        &frames,
        with_tcp_stats(),
        Registry::default(),
        Some(vec!["tcp_rexmit"]),
    );
    insta::assert_json_snapshot!(compact(&out));
    // Off by default, as in Zeek.
    assert!(only(&frames, vec!["tcp_rexmit"]).events.is_empty());
}

#[test]
fn tcp_multiple_retransmissions_at_the_tenth() {
    let (c, s) = hosts();
    let mut frames = established();
    frames.push(tcp(1.3, c, s, "AP", 1001, 5001, b"hello"));
    for i in 0..10 {
        frames.push(tcp(
            1.4 + f64::from(i) * 0.01,
            c,
            s,
            "AP",
            1001,
            5001,
            b"hello",
        ));
    }
    let out = only(&frames, vec!["tcp_multiple_retransmissions"]);
    insta::assert_json_snapshot!(compact(&out));
}

#[test]
fn tcp_multiple_checksum_errors_at_the_tenth() {
    let (c, s) = hosts();
    let mut frames = established();
    for i in 0..10 {
        let seq = 1001 + 3 * i;
        frames
            .push(tcp(1.3 + f64::from(i) * 0.01, c, s, "AP", seq, 5001, b"abc").bad_l4_checksum());
    }
    let out = only(&frames, vec!["tcp_multiple_checksum_errors"]);
    insta::assert_json_snapshot!(compact(&out));
}

#[test]
fn tcp_multiple_zero_windows_at_the_tenth() {
    let (c, s) = hosts();
    let mut frames = established();
    for i in 0..10 {
        let seq = 1001 + 3 * i;
        let t = 1.3 + f64::from(i) * 0.02;
        frames.push(tcp(t, c, s, "AP", seq, 5001, b"abc"));
        frames.push(tcp_win(t + 0.01, s, c, "A", 5001, seq + 3, 0, b""));
    }
    let out = only(&frames, vec!["tcp_multiple_zero_windows"]);
    insta::assert_json_snapshot!(compact(&out));
}

fn tcp_cid(c: Host, s: Host) -> netpac_runtime::zeek::ConnId {
    use netpac_runtime::zeek::{ConnId, Port, Proto};
    ConnId {
        orig_h: c.addr,
        orig_p: Port::new(c.port, Proto::Tcp),
        resp_h: s.addr,
        resp_p: Port::new(s.port, Proto::Tcp),
    }
}

#[test]
fn contents_file_records_both_sides_and_reports_a_failed_write() {
    use netpac_runtime::engine::{ContentsDirection, ContentsFile};
    let (c, s) = hosts();
    let mut h = Harness::new(
        Config::default(),
        Registry::default(),
        Some(vec!["contents_file_write_failure"]),
    );
    h.play(&established());
    let cid = tcp_cid(c, s);
    let path = h.dir.join("contents.dat");
    let file = ContentsFile::create(&path).expect("create contents file");
    assert!(h
        .engine
        .set_contents_file(&cid, ContentsDirection::Both, Some(file)));
    let both = h.engine.get_contents_file(&cid, ContentsDirection::Both);
    assert_eq!(
        both.map(|f| f.name().to_string()),
        Some(path.display().to_string())
    );
    h.play(&[
        tcp(1.3, c, s, "AP", 1001, 5001, b"hello "),
        tcp(1.4, s, c, "AP", 5001, 1007, b"world"),
    ]);
    assert_eq!(std::fs::read(&path).expect("read contents"), b"hello world");
    // A file that cannot take the bytes: the write fails with ENOSPC.
    let full = ContentsFile::create("/dev/full").expect("open /dev/full");
    assert!(h
        .engine
        .set_contents_file(&cid, ContentsDirection::Resp, Some(full)));
    assert!(h
        .engine
        .get_contents_file(&cid, ContentsDirection::Both)
        .is_none());
    h.play(&[
        tcp(1.5, c, s, "AP", 1007, 5006, b"more"),
        tcp(1.6, s, c, "AP", 5006, 1011, b"reply"),
    ]);
    assert_eq!(
        std::fs::read(&path).expect("read contents"),
        b"hello worldmore"
    );
    assert!(!h
        .engine
        .set_contents_file(&tcp_cid(s, c), ContentsDirection::Both, None));
    let out = h.finish();
    insta::assert_json_snapshot!(compact(&out));
}

// ----- UDP and ConnSize ---------------------------------------------------------------------

#[test]
fn udp_multiple_checksum_errors_at_the_tenth() {
    let c = Host::v4("10.1.0.1", 51000);
    let s = Host::v4("10.1.0.2", 9999);
    let frames: Vec<Frame> = (0..10)
        .map(|i| udp(1.0 + f64::from(i) * 0.01, c, s, b"x").bad_l4_checksum())
        .collect();
    let out = only(&frames, vec!["udp_multiple_checksum_errors"]);
    insta::assert_json_snapshot!(compact(&out));
}

#[test]
fn conn_size_thresholds_set_on_a_live_connection() {
    let c = Host::v4("10.1.0.1", 51000);
    let s = Host::v4("10.1.0.2", 9999);
    let mut h = Harness::new(
        Config::default(),
        Registry::default(),
        Some(vec![
            "conn_bytes_threshold_crossed",
            "conn_packets_threshold_crossed",
        ]),
    );
    h.play(&[udp(1.0, c, s, b"first")]);
    let cid = netpac_runtime::zeek::ConnId {
        orig_h: c.addr,
        orig_p: netpac_runtime::zeek::Port::new(c.port, netpac_runtime::zeek::Proto::Udp),
        resp_h: s.addr,
        resp_p: netpac_runtime::zeek::Port::new(s.port, netpac_runtime::zeek::Proto::Udp),
    };
    assert!(h.engine.set_current_conn_bytes_threshold(&cid, 100, true));
    assert!(h.engine.set_current_conn_packets_threshold(&cid, 3, false));
    assert_eq!(h.engine.get_current_conn_bytes_threshold(&cid, true), 100);
    let mut frames = Vec::new();
    for i in 1..5 {
        let t = 1.0 + f64::from(i) * 0.1;
        frames.push(udp(t, c, s, &[b'a'; 40]));
        frames.push(udp(t + 0.01, s, c, b"ok"));
    }
    h.play(&frames);
    let out = h.finish();
    insta::assert_json_snapshot!(compact(&out));
}

// ----- ICMP ---------------------------------------------------------------------------------

/// The first bytes of `frame`'s IP packet, as an ICMP error quotes them.
fn quoted(frame: &Frame, len: usize) -> Vec<u8> {
    frame.data[14..14 + len].to_vec()
}

#[test]
fn icmp_sent_for_a_timestamp_request() {
    let a = Host::v4("10.1.0.1", 0);
    let b = Host::v4("10.1.0.2", 0);
    let out = only(
        &[icmp4(1.0, a, b, 13, 0, [0, 7, 0, 1], &[0; 12])],
        vec!["icmp_sent", "icmp_sent_payload"],
    );
    insta::assert_json_snapshot!(compact(&out));
}

#[test]
fn icmp_time_exceeded_v4_and_v6() {
    let a = Host::v4("10.1.0.1", 33434);
    let b = Host::v4("10.1.0.2", 33435);
    let router = Host::v4("10.1.0.254", 0);
    let probe = udp(1.0, a, b, b"traceroute");
    let a6 = Host::v6("2001:db8::1", 33434);
    let b6 = Host::v6("2001:db8::2", 33435);
    let router6 = Host::v6("2001:db8::fe", 0);
    let probe6 = udp(2.0, a6, b6, b"traceroute");
    let out = only(
        &[
            icmp4(1.1, router, a, 11, 0, [0; 4], &quoted(&probe, 28)),
            icmp6(2.1, router6, a6, 3, 0, [0; 4], &quoted(&probe6, 48)),
        ],
        vec!["icmp_time_exceeded"],
    );
    insta::assert_json_snapshot!(compact(&out));
}

#[test]
fn icmp6_packet_too_big_parameter_problem_and_other_errors() {
    let a6 = Host::v6("2001:db8::1", 40000);
    let b6 = Host::v6("2001:db8::2", 443);
    let router6 = Host::v6("2001:db8::fe", 0);
    let seg = tcp(1.0, a6, b6, "A", 1000, 5000, &[0; 32]);
    let q = quoted(&seg, 48);
    let out = only(
        &[
            icmp6(1.1, router6, a6, 2, 0, 1280u32.to_be_bytes(), &q),
            icmp6(1.2, b6, a6, 4, 1, 40u32.to_be_bytes(), &q),
            // An error type Zeek has no event of its own for.
            icmp6(1.3, router6, a6, 100, 3, [0; 4], &q),
        ],
        vec![
            "icmp_packet_too_big",
            "icmp_parameter_problem",
            "icmp_error_message",
        ],
    );
    insta::assert_json_snapshot!(compact(&out));
}

/// A source (1) or target (2) link-layer address option.
fn lla_option(kind: u8, mac: [u8; 6]) -> Vec<u8> {
    let mut o = vec![kind, 1];
    o.extend_from_slice(&mac);
    o
}

#[test]
fn icmp6_router_solicitation_and_advertisement() {
    let host = Host::v6("fe80::1", 0);
    let all_routers = Host::v6("ff02::2", 0);
    let router = Host::v6("fe80::fe", 0);
    let all_nodes = Host::v6("ff02::1", 0);
    // Advertisement: hop limit 64, M and O flags, lifetime 1800 s; body:
    // reachable 30000 ms, retrans 1000 ms, then a prefix option.
    let mut adv = Vec::new();
    adv.extend_from_slice(&30000u32.to_be_bytes());
    adv.extend_from_slice(&1000u32.to_be_bytes());
    let mut prefix = vec![3, 4, 64, 0xc0];
    prefix.extend_from_slice(&86400u32.to_be_bytes());
    prefix.extend_from_slice(&14400u32.to_be_bytes());
    prefix.extend_from_slice(&[0; 4]);
    let p: std::net::Ipv6Addr = "2001:db8:1::".parse().unwrap();
    prefix.extend_from_slice(&p.octets());
    adv.extend_from_slice(&prefix);
    adv.extend_from_slice(&lla_option(1, router.mac));
    let out = only(
        &[
            icmp6(
                1.0,
                host,
                all_routers,
                133,
                0,
                [0; 4],
                &lla_option(1, host.mac),
            ),
            icmp6(1.1, router, all_nodes, 134, 0, [64, 0xc0, 0x07, 0x08], &adv),
        ],
        vec!["icmp_router_solicitation", "icmp_router_advertisement"],
    );
    insta::assert_json_snapshot!(compact(&out));
}

#[test]
fn icmp6_neighbor_advertisement_and_redirect() {
    let host = Host::v6("fe80::2", 0);
    let asker = Host::v6("fe80::1", 0);
    let router = Host::v6("fe80::fe", 0);
    let target: std::net::Ipv6Addr = "fe80::2".parse().unwrap();
    let mut na = target.octets().to_vec();
    na.extend_from_slice(&lla_option(2, host.mac));
    let better: std::net::Ipv6Addr = "fe80::fd".parse().unwrap();
    let dest: std::net::Ipv6Addr = "2001:db8:5::9".parse().unwrap();
    let mut redirect = better.octets().to_vec();
    redirect.extend_from_slice(&dest.octets());
    redirect.extend_from_slice(&lla_option(2, [0x02, 0, 0, 0, 0, 0xfd]));
    let out = only(
        &[
            // Router=0, Solicited=1, Override=1.
            icmp6(1.0, host, asker, 136, 0, [0x60, 0, 0, 0], &na),
            icmp6(1.1, router, asker, 137, 0, [0; 4], &redirect),
        ],
        vec!["icmp_neighbor_advertisement", "icmp_redirect"],
    );
    insta::assert_json_snapshot!(compact(&out));
}

/// Zeek's Connection::CheckFlowLabel: an IPv6 flow label that changes after a
/// direction's first packet raises `connection_flow_label_changed` (no weird).
#[test]
fn connection_flow_label_changed_after_the_first_packet() {
    let (a, b) = (Host::v6("2001:db8::1", 5000), Host::v6("2001:db8::2", 53));
    let with_label = |ts: f64, label: u32| {
        let mut f = udp(ts, a, b, b"query");
        // Ethernet, then the IPv6 header: version, traffic class and the 20-bit label.
        let l = label.to_be_bytes();
        f.data[15] = (f.data[15] & 0xf0) | (l[1] & 0x0f);
        f.data[16] = l[2];
        f.data[17] = l[3];
        f
    };
    let out = only(
        &[with_label(1.0, 7), with_label(1.1, 7), with_label(1.2, 9)],
        vec!["connection_flow_label_changed", "conn_weird"],
    );
    let got: Vec<(bool, u64, u64)> = out
        .events
        .iter()
        .map(|e| {
            assert_eq!(e["event"], "connection_flow_label_changed");
            let a = &e["args"];
            (a["is_orig"].as_bool().unwrap(), a["old_label"].as_u64().unwrap(), a["new_label"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(got, [(true, 7, 9)]);
}
