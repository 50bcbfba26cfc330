//! End to end: Ethernet frames → engine → registry's DNS analyzer → events.

mod common;
mod dns_support;

use common::*;
use dns_support::{name, Msg, QR, RA, RD};

#[test]
fn dns_over_udp_and_tcp_through_the_engine() {
    let c = Host::v4("192.168.1.10", 51000);
    let s = Host::v4("192.168.1.1", 53);
    let query = Msg::new(0xbeef, RD).question(&name("netpac.example"), 1, 1);
    let reply = Msg::new(0xbeef, QR | RD | RA)
        .question(&name("netpac.example"), 1, 1)
        .rr(1, &[0xc0, 12], 1, 1, 30, &[192, 0, 2, 7]);
    let tc = Host::v4("192.168.1.10", 51001);
    let q = query.tcp_bytes();
    let r = reply.tcp_bytes();
    let frames = vec![
        udp(1.0, c, s, &query.bytes()),
        udp(1.1, s, c, &reply.bytes()),
        tcp(2.0, tc, s, "S", 1000, 0, b""),
        tcp(2.1, s, tc, "SA", 5000, 1001, b""),
        tcp(2.2, tc, s, "A", 1001, 5001, b""),
        tcp(2.3, tc, s, "PA", 1001, 5001, &q),
        // The reply straddles two segments.
        tcp(2.4, s, tc, "PA", 5001, 1001 + q.len() as u32, &r[..10]),
        tcp(2.5, s, tc, "PA", 5011, 1001 + q.len() as u32, &r[10..]),
        tcp(
            2.6,
            tc,
            s,
            "FA",
            1001 + q.len() as u32,
            5001 + r.len() as u32,
            b"",
        ),
        tcp(
            2.7,
            s,
            tc,
            "FA",
            5001 + r.len() as u32,
            1002 + q.len() as u32,
            b"",
        ),
    ];
    let dns_events = vec![
        "dns_message",
        "dns_request",
        "dns_query_reply",
        "dns_A_reply",
        "dns_end",
    ];
    let out = run_with(
        &frames,
        Config::default(),
        netpac_analyzers::registry(),
        Some(dns_events),
    );
    let got: Vec<String> = out
        .events
        .iter()
        .map(|e| {
            let a = &e["args"];
            format!(
                "{} {} {}",
                e["event"].as_str().unwrap_or(""),
                a["c"]["id"]["resp_p"].as_str().unwrap_or(""),
                a.get("query")
                    .or(a.get("a"))
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            )
        })
        .collect();
    insta::assert_debug_snapshot!(got);
    assert!(out.conn_log.contains("dns"), "{}", out.conn_log);
}

/// DNS on a port nobody registered is found by its signature (a standard
/// query answered by a reply), confirmed, and named in `service`.
#[test]
fn dns_on_a_random_udp_port_is_detected_by_payload() {
    let c = Host::v4("10.1.1.10", 40000);
    let s = Host::v4("10.1.1.53", 31337);
    let query = Msg::new(0x4242, RD).question(&name("detect.example"), 1, 1);
    let reply = Msg::new(0x4242, QR | RD | RA)
        .question(&name("detect.example"), 1, 1)
        .rr(1, &[0xc0, 12], 1, 1, 60, &[198, 51, 100, 9]);
    // Not DNS: a datagram on another random port stays unanalysed.
    let other = Host::v4("10.1.1.99", 31338);
    let frames = vec![
        udp(1.0, c, s, &query.bytes()),
        udp(1.1, s, c, &reply.bytes()),
        udp(2.0, c, other, b"\x00\x01hello, this is not a name lookup"),
        udp(2.1, other, c, b"\x80\x01\x00\x01 nor is this"),
    ];
    let out = run_with(
        &frames,
        Config::default(),
        netpac_analyzers::registry(),
        Some(vec!["protocol_confirmation", "dns_request", "dns_A_reply"]),
    );
    let got: Vec<String> = out
        .events
        .iter()
        .map(|e| {
            let a = &e["args"];
            format!(
                "{} {} {}",
                e["event"].as_str().unwrap_or(""),
                a["c"]["id"]["resp_p"].as_str().unwrap_or(""),
                a.get("atype")
                    .or(a.get("query"))
                    .or(a.get("a"))
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            )
        })
        .collect();
    insta::assert_debug_snapshot!(got);
    insta::assert_snapshot!(conn_columns(&out, &["id.resp_p", "service"]).join("\n"));
}

/// Like Zeek's DPD framework, an analyzer survives a few protocol
/// violations and is removed at the fifth; the connection is marked `X`.
#[test]
fn an_analyzer_is_removed_after_five_violations() {
    let c = Host::v4("10.2.2.10", 41000);
    let s = Host::v4("10.2.2.53", 53);
    // 100 questions: more than dns_max_queries, a violation every time.
    let mut bad = vec![0x12, 0x34, 0x01, 0x00, 0x00, 100, 0, 0, 0, 0, 0, 0];
    bad.extend_from_slice(&name("x.example"));
    bad.extend_from_slice(&[0, 1, 0, 1]);
    let frames: Vec<Frame> = (0..7)
        .map(|i| udp(1.0 + f64::from(i) * 0.1, c, s, &bad))
        .collect();
    let out = run_with(
        &frames,
        Config::default(),
        netpac_analyzers::registry(),
        Some(vec!["protocol_violation", "dns_message"]),
    );
    let names = event_names(&out);
    assert_eq!(
        names.iter().filter(|n| *n == "protocol_violation").count(),
        5,
        "{names:?}"
    );
    // After the fifth violation no DNS event comes any more.
    assert_eq!(
        names.last().map(String::as_str),
        Some("protocol_violation"),
        "{names:?}"
    );
    assert!(conn_columns(&out, &["history"])[0].contains('X'));
}

/// A reply as the originator's first message means the originator is the
/// server: the roles flip (history `^`) and dns.log's events see the client
/// as originator, as Zeek's DNS analyzer does. Not towards a multicast group.
#[test]
fn a_reply_first_flips_the_roles() {
    let server = Host::v4("10.3.3.53", 53);
    let client = Host::v4("10.3.3.10", 53);
    let reply = Msg::new(0x0101, QR | RA)
        .question(&name("flip.example"), 1, 1)
        .rr(1, &[0xc0, 12], 1, 1, 9, &[10, 3, 3, 3]);
    let mdns = Host::v4("10.3.3.20", 5353);
    let group = Host::v4("224.0.0.251", 5353);
    let announce = Msg::new(0, QR | 0x0400).rr(1, &name("host.local"), 1, 1, 120, &[10, 3, 3, 20]);
    let frames = vec![
        udp(1.0, server, client, &reply.bytes()),
        udp(2.0, mdns, group, &announce.bytes()),
    ];
    let out = run_with(
        &frames,
        Config::default(),
        netpac_analyzers::registry(),
        Some(vec!["dns_message"]),
    );
    let seen: Vec<String> = out
        .events
        .iter()
        .map(|e| {
            format!(
                "{} is_orig={}",
                e["args"]["c"]["id"]["orig_h"].as_str().unwrap_or(""),
                e["args"]["is_orig"]
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec!["10.3.3.10 is_orig=false", "10.3.3.20 is_orig=true"]
    );
    assert_eq!(
        conn_columns(&out, &["id.orig_h", "id.resp_h", "history"]),
        // The datagram was recorded (`D`) before the analyzer saw it; the flip follows, as in Zeek.
        vec!["10.3.3.10\t10.3.3.53\tD^", "10.3.3.20\t224.0.0.251\tD"]
    );
}

/// Zeek's DNS analyzer arms its expire timer (`dns_session_timeout`, 10 s)
/// when it is created, also when payload detection attached it: the flow
/// ends ten seconds after its last packet, not at UDP's 60 s inactivity.
#[test]
fn dns_attached_by_payload_expires_like_dns_on_its_port() {
    let c = Host::v4("10.1.1.10", 40000);
    let s = Host::v4("10.1.1.53", 31337);
    let query = Msg::new(0x4242, RD).question(&name("detect.example"), 1, 1);
    let reply = Msg::new(0x4242, QR | RD | RA)
        .question(&name("detect.example"), 1, 1)
        .rr(1, &[0xc0, 12], 1, 1, 60, &[198, 51, 100, 9]);
    // Later traffic elsewhere moves time past the DNS timer (11.1) but not
    // past UDP's inactivity timeout (61.1); timers fire as time moves on.
    let other = Host::v4("10.1.1.99", 31338);
    let frames = vec![
        udp(1.0, c, s, &query.bytes()),
        udp(1.1, s, c, &reply.bytes()),
        udp(30.0, c, other, b"later"),
    ];
    let out = run_with(
        &frames,
        Config::default(),
        netpac_analyzers::registry(),
        Some(vec!["connection_timeout"]),
    );
    let timeouts: Vec<(f64, String)> = out
        .events
        .iter()
        .map(|e| {
            let port = e["args"]["c"]["id"]["resp_p"].as_str().unwrap_or("");
            (e["ts"].as_f64().unwrap_or(0.0), port.to_string())
        })
        .collect();
    assert_eq!(timeouts, [(30.0, "31337/udp".to_string())]);
}
