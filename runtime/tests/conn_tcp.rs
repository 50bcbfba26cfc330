//! TCP connections through the engine: conn.log rows and event streams.

mod common;
use common::*;

fn hosts() -> (Host, Host) {
    (Host::v4("10.0.0.1", 40000), Host::v4("93.184.216.34", 80))
}

/// Handshake, one request and one response, FIN from both sides.
fn clean_session(c: Host, s: Host) -> Vec<Frame> {
    vec![
        tcp(1.0, c, s, "S", 1000, 0, b""),
        tcp(1.1, s, c, "SA", 5000, 1001, b""),
        tcp(1.2, c, s, "A", 1001, 5001, b""),
        tcp(1.3, c, s, "AP", 1001, 5001, b"GET / HTTP/1.0\r\n\r\n"),
        tcp(1.4, s, c, "AP", 5001, 1019, b"HTTP/1.0 200 OK\r\n\r\nhello"),
        tcp(1.5, c, s, "FA", 1019, 5025, b""),
        tcp(1.6, s, c, "FA", 5025, 1020, b""),
        tcp(1.7, c, s, "A", 1020, 5026, b""),
    ]
}

const COLS: &[&str] = &[
    "id.orig_h",
    "id.orig_p",
    "id.resp_p",
    "conn_state",
    "history",
    "orig_bytes",
    "resp_bytes",
    "missed_bytes",
    "orig_pkts",
    "resp_pkts",
    "duration",
];

#[test]
fn clean_session_is_sf() {
    let (c, s) = hosts();
    let out = run(&clean_session(c, s), Config::default());
    assert_eq!(
        conn_columns(&out, COLS),
        vec!["10.0.0.1\t40000\t80\tSF\tShADdFf\t18\t24\t0\t5\t3\t0.600000"]
    );
    insta::assert_snapshot!(out.conn_log);
    insta::assert_json_snapshot!(event_names(&out));
}

#[test]
fn clean_session_events_carry_the_connection() {
    let (c, s) = hosts();
    let out = run_with(
        &clean_session(c, s),
        Config::default(),
        Registry::default(),
        Some(vec![
            "connection_established",
            "connection_finished",
            "connection_SYN_packet",
            "connection_EOF",
        ]),
    );
    insta::assert_json_snapshot!(out.events);
}

#[test]
fn rejected_attempt_is_rej() {
    let (c, s) = hosts();
    let out = run(
        &[
            tcp(1.0, c, s, "S", 1000, 0, b""),
            tcp(1.01, s, c, "RA", 0, 1001, b""),
        ],
        Config::default(),
    );
    assert_eq!(
        conn_columns(&out, &["conn_state", "history"]),
        vec!["REJ\tSr"]
    );
    assert!(event_names(&out).contains(&"connection_rejected".to_string()));
}

#[test]
fn unanswered_syns_time_out_into_separate_attempts() {
    let (c, s) = hosts();
    // A retransmitted SYN within the attempt delay stays one attempt; one
    // after it starts a new connection.
    let out = run(
        &[
            tcp(1.0, c, s, "S", 1000, 0, b""),
            tcp(4.0, c, s, "S", 1000, 0, b""),
            tcp(10.0, c, s, "S", 1000, 0, b""),
        ],
        Config::default(),
    );
    assert_eq!(
        conn_columns(&out, &["conn_state", "history", "orig_pkts"]),
        vec!["S0\tS\t2", "S0\tS\t1"]
    );
    let names = event_names(&out);
    assert_eq!(
        names.iter().filter(|n| *n == "connection_attempt").count(),
        1
    );
    assert_eq!(
        names.iter().filter(|n| *n == "connection_pending").count(),
        1
    );
}

#[test]
fn originator_reset_after_data_is_rsto() {
    let (c, s) = hosts();
    let out = run(
        &[
            tcp(1.0, c, s, "S", 1000, 0, b""),
            tcp(1.1, s, c, "SA", 5000, 1001, b""),
            tcp(1.2, c, s, "AP", 1001, 5001, b"abc"),
            tcp(1.3, c, s, "RA", 1004, 5001, b""),
        ],
        Config::default(),
    );
    assert_eq!(
        conn_columns(&out, &["conn_state", "history", "orig_bytes"]),
        vec!["RSTO\tShDR\t3"]
    );
    assert!(event_names(&out).contains(&"connection_reset".to_string()));
}

#[test]
fn responder_reset_is_rstr_and_syn_then_rst_is_rstos0() {
    let (c, s) = hosts();
    let out = run(
        &[
            tcp(1.0, c, s, "S", 1000, 0, b""),
            tcp(1.1, s, c, "SA", 5000, 1001, b""),
            tcp(1.2, c, s, "A", 1001, 5001, b""),
            tcp(1.3, s, c, "R", 5001, 0, b""),
            tcp(2.0, c.port(40001), s, "S", 7000, 0, b""),
            tcp(2.1, c.port(40001), s, "R", 7001, 0, b""),
        ],
        Config::default(),
    );
    assert_eq!(
        conn_columns(&out, &["id.orig_p", "conn_state", "history"]),
        vec!["40000\tRSTR\tShAr", "40001\tRSTOS0\tSR"]
    );
}

#[test]
fn syn_then_fin_without_answer_is_sh() {
    let (c, s) = hosts();
    let out = run(
        &[
            tcp(1.0, c, s, "S", 1000, 0, b""),
            tcp(1.5, c, s, "F", 1001, 0, b""),
        ],
        Config::default(),
    );
    assert_eq!(
        conn_columns(&out, &["conn_state", "history"]),
        vec!["SH\tSF"]
    );
}

#[test]
fn acked_but_unseen_data_is_a_gap() {
    let (c, s) = hosts();
    let out = run(
        &[
            tcp(1.0, c, s, "S", 1000, 0, b""),
            tcp(1.1, s, c, "SA", 5000, 1001, b""),
            tcp(1.2, c, s, "A", 1001, 5001, b""),
            tcp(1.3, c, s, "AP", 1001, 5001, b"aaaa"),
            // bytes 1005..1105 never seen; the gap is in the originator's stream (`G`)
            tcp(1.4, c, s, "AP", 1105, 5001, b"bbbb"),
            tcp(1.5, s, c, "A", 5001, 1109, b""),
        ],
        Config::default(),
    );
    assert_eq!(
        conn_columns(
            &out,
            &["conn_state", "history", "orig_bytes", "missed_bytes"]
        ),
        vec!["S1\tShADaG\t108\t100"]
    );
    insta::assert_snapshot!(out.conn_log);
}

#[test]
fn retransmissions_are_recorded_logarithmically() {
    let (c, s) = hosts();
    let mut pkts = vec![
        tcp(1.0, c, s, "S", 1000, 0, b""),
        tcp(1.1, s, c, "SA", 5000, 1001, b""),
        tcp(1.2, c, s, "A", 1001, 5001, b""),
        tcp(1.3, c, s, "AP", 1001, 5001, b"data"),
    ];
    for i in 0..10 {
        pkts.push(tcp(
            1.4 + f64::from(i) * 0.01,
            c,
            s,
            "AP",
            1001,
            5001,
            b"data",
        ));
    }
    let out = run_with(
        &pkts,
        Config::default(),
        Registry::default(),
        Some(vec!["tcp_multiple_retransmissions"]),
    );
    assert_eq!(
        conn_columns(&out, &["history", "orig_bytes"]),
        vec!["ShADTT\t4"]
    );
    // tcp_rexmit comes from the TCPSTATS analyzer, off by default (engine_events).
    let names = event_names(&out);
    assert_eq!(
        names
            .iter()
            .filter(|n| *n == "tcp_multiple_retransmissions")
            .count(),
        1
    );
}

#[test]
fn inconsistent_retransmission_is_a_weird() {
    let (c, s) = hosts();
    let out = run(
        &[
            tcp(1.0, c, s, "S", 1000, 0, b""),
            tcp(1.1, s, c, "SA", 5000, 1001, b""),
            tcp(1.2, c, s, "AP", 1005, 5001, b"late"),
            tcp(1.3, c, s, "AP", 1005, 5001, b"LATE"),
        ],
        Config::default(),
    );
    assert!(
        out.weird_log.contains("rexmit_inconsistency"),
        "{}",
        out.weird_log
    );
}

#[test]
fn syn_ack_first_from_server_port_flips() {
    let (c, s) = hosts();
    let out = run(
        &[
            tcp(1.1, s, c, "SA", 5000, 1001, b""),
            tcp(1.2, c, s, "A", 1001, 5001, b""),
            tcp(1.3, c, s, "AP", 1001, 5001, b"hi"),
            tcp(1.4, s, c, "A", 5001, 1003, b""),
        ],
        Config::default(),
    );
    assert_eq!(
        conn_columns(&out, &["id.orig_h", "id.resp_p", "conn_state", "history"]),
        vec!["10.0.0.1\t80\tS1\t^hADa"]
    );
}

#[test]
fn midstream_traffic_is_oth() {
    let (c, s) = hosts();
    let out = run(
        &[
            tcp(1.0, c, s, "AP", 1000, 5000, b"xyz"),
            tcp(1.1, s, c, "A", 5000, 1003, b""),
        ],
        Config::default(),
    );
    assert_eq!(
        conn_columns(&out, &["conn_state", "history", "orig_bytes"]),
        vec!["OTH\tDa\t3"]
    );
    assert!(event_names(&out).contains(&"partial_connection".to_string()));
}

#[test]
fn bad_checksums_are_not_analysed_unless_ignored() {
    let (c, s) = hosts();
    let pkts = [tcp(1.0, c, s, "S", 1000, 0, b"").bad_l4_checksum()];
    let out = run(&pkts, Config::default());
    assert_eq!(
        conn_columns(&out, &["conn_state", "history", "orig_pkts"]),
        vec!["OTH\tC\t0"]
    );
    assert!(out.weird_log.contains("bad_TCP_checksum"));
    let out = run(
        &pkts,
        Config {
            ignore_checksums: true,
            ..Config::default()
        },
    );
    assert_eq!(
        conn_columns(&out, &["conn_state", "history", "orig_pkts"]),
        vec!["S0\tS\t1"]
    );
}

#[test]
fn new_syn_after_close_reuses_the_tuple() {
    let (c, s) = hosts();
    let mut pkts = clean_session(c, s);
    pkts.push(tcp(3.0, c, s, "S", 90000, 0, b""));
    let out = run(&pkts, Config::default());
    assert_eq!(
        conn_columns(&out, &["conn_state", "history"]),
        vec!["SF\tShADdFf", "S0\tS"]
    );
    assert!(event_names(&out).contains(&"connection_reused".to_string()));
}

#[test]
fn close_linger_expires_connection() {
    let (c, s) = hosts();
    let mut pkts = clean_session(c, s);
    // A late ACK after the close delay lands in a new, partial connection.
    pkts.push(tcp(20.0, c, s, "A", 1020, 5026, b""));
    let out = run(&pkts, Config::default());
    assert_eq!(
        conn_columns(&out, &["conn_state", "history"]),
        vec!["SF\tShADdFf", "OTH\tA"]
    );
}

#[test]
fn tcp_contents_are_delivered_in_order_when_enabled() {
    let (c, s) = hosts();
    let pkts = vec![
        tcp(1.0, c, s, "S", 1000, 0, b""),
        tcp(1.1, s, c, "SA", 5000, 1001, b""),
        tcp(1.2, c, s, "AP", 1005, 5001, b"5678"),
        tcp(1.3, c, s, "AP", 1001, 5001, b"1234"),
        tcp(1.4, s, c, "AP", 5001, 1009, b"ok"),
    ];
    let config = Config {
        tcp_content_deliver_all_orig: true,
        tcp_content_deliver_all_resp: true,
        ..Config::default()
    };
    let out = run_with(
        &pkts,
        config,
        Registry::default(),
        Some(vec!["tcp_contents"]),
    );
    let got: Vec<String> = out
        .events
        .iter()
        .map(|e| {
            format!(
                "{} {} {}",
                e["args"]["is_orig"], e["args"]["seq"], e["args"]["contents"]
            )
        })
        .collect();
    assert_eq!(
        got,
        vec!["true 1 \"1234\"", "true 5 \"5678\"", "false 1 \"ok\""]
    );
    insta::assert_json_snapshot!(out.events);
    // Off by default, as in Zeek.
    let out = run_with(
        &pkts,
        Config::default(),
        Registry::default(),
        Some(vec!["tcp_contents"]),
    );
    assert!(out.events.is_empty());
}

#[test]
fn tcp_packet_and_option_events() {
    let (c, s) = hosts();
    let out = run_with(
        &[
            tcp(1.0, c, s, "S", 1000, 0, b""),
            tcp(1.1, s, c, "SA", 5000, 1001, b""),
        ],
        Config::default(),
        Registry::default(),
        Some(vec!["tcp_packet", "connection_first_ACK"]),
    );
    insta::assert_json_snapshot!(out.events);
}

#[test]
fn ipv6_session() {
    let c = Host::v6("2001:db8::1", 50000);
    let s = Host::v6("2001:4860::8888", 443);
    let out = run(&clean_session(c, s), Config::default());
    assert_eq!(
        conn_columns(
            &out,
            &[
                "id.orig_h",
                "conn_state",
                "history",
                "orig_ip_bytes",
                "ip_proto"
            ]
        ),
        vec!["2001:db8::1\tSF\tShADdFf\t318\t6"]
    );
    insta::assert_snapshot!(out.conn_log);
}

#[test]
fn vlan_columns_when_enabled() {
    let (c, s) = hosts();
    let pkts: Vec<Frame> = clean_session(c, s)
        .into_iter()
        .map(|f| f.vlan(10).vlan(20))
        .collect();
    let out = run(
        &pkts,
        Config {
            conn_columns: netpac_runtime::conn::ConnColumns {
                vlan: true,
                l2_addrs: true,
                speculative_service: false,
                community_id: false,
            },
            ..Config::default()
        },
    );
    insta::assert_snapshot!(out.conn_log);
    assert_eq!(
        conn_columns(&out, &["conn_state", "vlan", "inner_vlan"]),
        vec!["SF\t20\t10"]
    );
}

#[test]
fn sequence_numbers_wrap() {
    let (c, s) = hosts();
    let isn = u32::MAX - 5;
    let out = run(
        &[
            tcp(1.0, c, s, "S", isn, 0, b""),
            tcp(1.1, s, c, "SA", 5000, isn.wrapping_add(1), b""),
            tcp(1.2, c, s, "AP", isn.wrapping_add(1), 5001, b"0123456789"),
            tcp(1.3, c, s, "AP", isn.wrapping_add(11), 5001, b"abcdefghij"),
            tcp(1.4, s, c, "A", 5001, isn.wrapping_add(21), b""),
        ],
        Config::default(),
    );
    assert_eq!(
        conn_columns(&out, &["history", "orig_bytes", "missed_bytes"]),
        vec!["ShDa\t20\t0"]
    );
}

#[test]
fn at_the_connection_limit_the_oldest_idle_connection_is_evicted() {
    let s = Host::v4("10.1.0.2", 80);
    let client = |i: u16| Host::v4(&format!("10.1.1.{i}"), 40000 + i);
    let mut frames = vec![
        tcp(1.0, client(1), s, "S", 1000, 0, b""),
        tcp(1.1, client(2), s, "S", 1000, 0, b""),
        tcp(1.2, client(3), s, "S", 1000, 0, b""),
        // The first client keeps talking, so the second is the oldest idle one.
        tcp(2.5, client(1), s, "S", 1000, 0, b""),
    ];
    frames.push(tcp(3.0, client(4), s, "S", 1000, 0, b""));
    let config = Config {
        max_connections: 3,
        ..Config::default()
    };
    let out = run(&frames, config);
    let rows = conn_columns(&out, &["id.orig_h", "conn_state"]);
    assert_eq!(rows.len(), 4, "{rows:?}");
    // Evicted first, so written first.
    assert_eq!(rows[0], "10.1.1.2\tS0");
    assert!(
        out.weird_log.contains("connection_evicted_at_limit"),
        "{}",
        out.weird_log
    );
    assert_eq!(
        out.weird_log.matches("connection_evicted_at_limit").count(),
        1
    );
}

/// A connection whose first packet is a SYN-ACK between two likely server ports
/// (80 and 1080): the port heuristic keeps it with its sender, and Zeek 8.2.2 then
/// reports the originator's SYN-ACK and swaps the roles (history `^h`); the
/// analyzers are those of the real server's port. With a client port that is no
/// likely server the heuristic alone swaps them, without the weird.
#[test]
fn a_first_syn_ack_between_two_server_ports_flips_the_connection() {
    for (client_port, weird) in [(1080, true), (40000, false)] {
        let (s, c) = (Host::v4("10.0.0.1", 80), Host::v4("10.0.0.2", client_port));
        let frames = [
            tcp(1.0, s, c, "SA", 1000, 500, b""),
            tcp(1.1, c, s, "A", 501, 1001, b""),
            tcp(1.2, c, s, "PA", 501, 1001, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            tcp(1.3, s, c, "PA", 1001, 528, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
            tcp(1.4, c, s, "FA", 528, 1041, b""),
            tcp(1.5, s, c, "FA", 1041, 529, b""),
            tcp(1.6, c, s, "A", 529, 1042, b""),
        ];
        let out = run(&frames, Config::default());
        assert_eq!(
            conn_columns(&out, &["id.orig_p", "id.resp_p", "history"]),
            [format!("{client_port}\t80\t^hADdFf")]
        );
        assert_eq!(out.weird_log.contains("connection_originator_SYN_ack"), weird, "{}", out.weird_log);
        if weird {
            // Reported with the roles as they were.
            assert!(out.weird_log.contains("10.0.0.1\t80\t10.0.0.2\t1080\tconnection_originator_SYN_ack"));
        }
    }
}

/// Zeek's storms: from an endpoint's 1000th RST (or FIN) on, each one within
/// a second of its previous packet is weird (Zeek 8.2.2 wrote the same rows).
#[test]
fn rst_and_fin_storms() {
    let (c, s) = (Host::v4("10.0.0.1", 40010), Host::v4("10.0.0.2", 80));
    let mut frames = vec![
        tcp(1000.0, c, s, "S", 1000, 0, b""),
        tcp(1000.001, s, c, "SA", 5000, 1001, b""),
        tcp(1000.002, c, s, "A", 1001, 5001, b""),
    ];
    let mut t = 1000.003;
    for _ in 0..1005 {
        frames.push(tcp(t, c, s, "RA", 1001, 5001, b""));
        t += 0.001;
    }
    for _ in 0..1005 {
        frames.push(tcp(t, s, c, "FA", 5001, 1001, b""));
        t += 0.001;
    }
    let out = run(&frames, Config::default());
    let weirds: Vec<String> = out
        .weird_log
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let v: Vec<&str> = l.split('\t').collect();
            format!("{} {}", v[0], v[6])
        })
        .collect();
    assert_eq!(weirds, ["1001.002000 RST_storm", "1002.007000 FIN_storm"]);
}
