//! The events of the tunnels written as grammars (`grammars/teredo.*`,
//! `grammars/gtpv1.*`, `grammars/ayiya.*`), from packets built here. The
//! same packets, replayed through Zeek 8.2.2 with handlers for these events
//! (`NETPAC_TEST_PCAPS=DIR`), gave the same events with the same arguments,
//! in the same order (Zeek raises its confirmation between a GTP message's
//! events; netpac after them), and the same weird.log.

mod common;
use common::*;

const TEREDO_EVENTS: [&str; 4] = [
    "teredo_packet",
    "teredo_authentication",
    "teredo_origin_indication",
    "teredo_bubble",
];
const GTP_EVENTS: [&str; 8] = [
    "gtpv1_message",
    "gtpv1_g_pdu_packet",
    "gtpv1_create_pdp_ctx_request",
    "gtpv1_create_pdp_ctx_response",
    "gtpv1_update_pdp_ctx_request",
    "gtpv1_update_pdp_ctx_response",
    "gtpv1_delete_pdp_ctx_request",
    "gtpv1_delete_pdp_ctx_response",
];

/// The named events and the verdicts, each connection record (`c`, `outer`)
/// shortened to its id; and the tunnels' weird.log rows as `name addl
/// source` (the inner packets built here have no transport checksums, which
/// Zeek and netpac report as weirds of the inner connections).
fn events_and_weirds(
    frames: &[Frame],
    names: &[&'static str],
) -> (Vec<serde_json::Value>, Vec<String>) {
    let mut wanted = names.to_vec();
    wanted.extend(["protocol_confirmation", "protocol_violation"]);
    let out = run_with(
        frames,
        Config::default(),
        netpac_analyzers::registry(),
        Some(wanted),
    );
    let events = out
        .events
        .into_iter()
        .map(|mut e| {
            for key in ["c", "outer"] {
                if let Some(c) = e["args"].get_mut(key) {
                    let id = c["id"].clone();
                    *c = serde_json::json!({ "id": id });
                }
            }
            e
        })
        .collect();
    let weirds = out
        .weird_log
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let v: Vec<&str> = l.split('\t').collect();
            format!("{} {} {}", v[6], v[7], v[10])
        })
        .filter(|w| w.ends_with("TEREDO") || w.ends_with("GTPV1") || w.ends_with("AYIYA"))
        .collect();
    (events, weirds)
}

/// An IPv6 packet: `next` header, then `payload` (which may start with
/// extension headers).
fn ipv6(src: &str, dst: &str, next: u8, payload: &[u8]) -> Vec<u8> {
    let addr = |a: &str| {
        a.parse::<std::net::Ipv6Addr>()
            .expect("IPv6 address")
            .octets()
    };
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    p.extend_from_slice(&[next, 64]);
    p.extend_from_slice(&addr(src));
    p.extend_from_slice(&addr(dst));
    p.extend_from_slice(payload);
    p
}

/// An IPv4 packet carrying a UDP datagram (no UDP checksum, which IPv4 allows).
fn ipv4_udp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let total = 28 + data.len();
    let mut p = vec![0x45, 0, 0, 0, 0, 1, 0, 0, 64, 17, 0, 0];
    p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    let sum = p
        .chunks(2)
        .fold(0u32, |s, w| s + u32::from(u16::from_be_bytes([w[0], w[1]])));
    let sum = !((sum & 0xffff) + (sum >> 16)) as u16;
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    p.extend_from_slice(&sport.to_be_bytes());
    p.extend_from_slice(&dport.to_be_bytes());
    p.extend_from_slice(&((8 + data.len()) as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(data);
    p
}

const CLIENT6: &str = "2001:0:4136:e378:8000:63bf:3fff:fdd2";
const PEER6: &str = "2001:db8::1";
const ECHO: [u8; 8] = [128, 0, 0, 0, 0, 1, 0, 1];

fn auth(id: &[u8], value: &[u8], nonce: u64, confirm: u8) -> Vec<u8> {
    let mut a = vec![0, 1, id.len() as u8, value.len() as u8];
    a.extend_from_slice(id);
    a.extend_from_slice(value);
    a.extend_from_slice(&nonce.to_be_bytes());
    a.push(confirm);
    a
}

fn origin(port: u16, addr: [u8; 4]) -> Vec<u8> {
    let mut o = vec![0, 0];
    o.extend_from_slice(&(port ^ 0xffff).to_be_bytes());
    o.extend(addr.iter().map(|b| b ^ 0xff));
    o
}

fn teredo(ts: f64, client_port: u16, to_relay: bool, payload: &[u8]) -> Frame {
    let (client, relay) = (
        Host::v4("10.0.0.1", client_port),
        Host::v4("10.0.0.2", 3544),
    );
    if to_relay {
        udp(ts, client, relay, payload)
    } else {
        udp(ts, relay, client, payload)
    }
}

/// Authentication and origin indication, a hop-by-hop header inside, a
/// bubble with bytes after it (weird, still Teredo), a TCP SYN.
#[test]
fn teredo_headers_bubbles_and_the_inner_packet_header() {
    let mut first = auth(b"abc", &[1, 2, 3, 4], 0x0102_0304_0506_0708, 5);
    first.extend(origin(0x1234, [1, 2, 3, 4]));
    let mut hop_by_hop_udp = vec![17, 0, 1, 4, 0, 0, 0, 0];
    hop_by_hop_udp.extend_from_slice(&[0x03, 0xe8, 0x07, 0xd0, 0, 13, 0, 0]);
    hop_by_hop_udp.extend_from_slice(b"hello");
    first.extend(ipv6(CLIENT6, PEER6, 0, &hop_by_hop_udp));
    let mut bubble = ipv6(PEER6, CLIENT6, 59, &[]);
    bubble.extend_from_slice(b"PAYLOAD!");
    let syn = [
        0x04, 0xd2, 0, 80, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 0x50, 0x02, 0x20, 0, 0, 0, 0, 0,
    ];
    let frames = [
        teredo(1.0, 40001, true, &first),
        teredo(2.0, 40001, false, &bubble),
        teredo(3.0, 40001, true, &ipv6(CLIENT6, PEER6, 6, &syn)),
    ];
    let (events, weirds) = events_and_weirds(&frames, &TEREDO_EVENTS);
    assert_eq!(weirds, ["Teredo_bubble_with_payload - TEREDO"]);
    insta::assert_json_snapshot!(events);
}

/// A bad encapsulation is a violation, after which Zeek's Teredo reads
/// nothing more of the connection; once confirmed, a payload cut short is a
/// weird too.
#[test]
fn teredo_violations_and_truncation_once_confirmed() {
    let mut bad = origin(1, [1, 1, 1, 1]);
    bad.extend(auth(b"", b"", 1, 0));
    bad.extend(ipv6(CLIENT6, PEER6, 58, &ECHO));
    let frames = [
        // Authentication after an origin indication: a violation, then nothing.
        teredo(1.0, 40007, true, &bad),
        teredo(1.1, 40007, true, &ipv6(CLIENT6, PEER6, 58, &ECHO)),
        // Both directions confirm; then an authentication header cut short.
        teredo(2.0, 41001, true, &ipv6(CLIENT6, PEER6, 58, &ECHO)),
        teredo(2.1, 41001, false, &ipv6(PEER6, CLIENT6, 58, &ECHO)),
        teredo(2.2, 41001, true, &[0, 1, 5, 5, 0, 0, 0, 0]),
        // Unconfirmed: the same cut is only a violation.
        teredo(3.0, 41002, true, &[0, 1, 5, 5, 0, 0, 0, 0]),
    ];
    let (events, weirds) = events_and_weirds(&frames, &TEREDO_EVENTS);
    assert_eq!(weirds, ["truncated_Teredo_authentication - TEREDO"]);
    insta::assert_json_snapshot!(events);
}

fn gtp(msg_type: u8, flags: u8, teid: u32, opt: &[u8], body: &[u8]) -> Vec<u8> {
    let mut m = vec![flags, msg_type];
    m.extend_from_slice(&((opt.len() + body.len()) as u16).to_be_bytes());
    m.extend_from_slice(&teid.to_be_bytes());
    m.extend_from_slice(opt);
    m.extend_from_slice(body);
    m
}

fn tv(t: u8, v: &[u8]) -> Vec<u8> {
    let mut e = vec![t];
    e.extend_from_slice(v);
    e
}

fn tlv(t: u8, v: &[u8]) -> Vec<u8> {
    let mut e = vec![t];
    e.extend_from_slice(&(v.len() as u16).to_be_bytes());
    e.extend_from_slice(v);
    e
}

fn gtp_c(ts: f64, port: u16, request: bool, message: &[u8]) -> Frame {
    let (sgsn, ggsn) = (Host::v4("10.1.0.1", port), Host::v4("10.1.0.2", 2123));
    if request {
        udp(ts, sgsn, ggsn, message)
    } else {
        udp(ts, ggsn, sgsn, message)
    }
}

/// The six PDP context messages with the information elements Zeek reads
/// (a second NSAPI and GSN address are the linked NSAPI and user address),
/// one it does not know (a TLV, skipped), a request missing the elements
/// it must have, and an echo request.
#[test]
fn gtpv1_pdp_context_messages() {
    let imsi = [0x21, 0x43, 0x65, 0x87, 0x09, 0x21, 0x43, 0xf5];
    let mut create = Vec::new();
    for e in [
        tv(2, &imsi),
        tv(3, &[0x21, 0xf3, 0x54, 0x12, 0x34, 0x56]),
        tv(14, &[7]),
        tv(15, &[0xfd]),
        tv(16, &0xdead_beef_u32.to_be_bytes()),
        tv(17, &0xcafe_u32.to_be_bytes()),
        tv(20, &[0xf5]),
        tv(20, &[0x06]),
        tv(26, &[8, 0]),
        tv(27, &[0, 9]),
        tv(28, &[0, 10]),
        tlv(128, &[0xf1, 0x21, 192, 168, 1, 1]),
        tlv(131, b"\x08internet"),
        tlv(132, &[0x80, 0xc0, 0x23]),
        tlv(133, &[10, 9, 9, 9]),
        tlv(
            133,
            &"2001:db8::9"
                .parse::<std::net::Ipv6Addr>()
                .unwrap()
                .octets(),
        ),
        tlv(134, &[0x91, 0x21, 0x43]),
        tlv(135, &[2, 0x12, 0x34, 0x56]),
        tlv(137, b"!\""),
        tlv(142, b"trig"),
        tlv(143, b"omc"),
        tlv(255, b"\x00\x2apext"),
        tlv(200, b"zz"),
    ] {
        create.extend(e);
    }
    let mut response = Vec::new();
    for e in [
        tv(1, &[0x80]),
        tv(8, &[1]),
        tv(14, &[3]),
        tv(16, &1u32.to_be_bytes()),
        tv(17, &2u32.to_be_bytes()),
        tv(127, &0x7777u32.to_be_bytes()),
        tlv(
            128,
            &[
                &[0xf1, 0x57][..],
                &"2001:db8::77"
                    .parse::<std::net::Ipv6Addr>()
                    .unwrap()
                    .octets(),
            ]
            .concat(),
        ),
        tlv(132, &[1]),
        tlv(133, &[10, 8, 8, 8]),
        tlv(133, &[1, 2, 3]),
        tlv(135, &[1, 0xaa]),
        tlv(251, &[10, 7, 7, 7]),
        tlv(255, &[0, 1]),
    ] {
        response.extend(e);
    }
    let update: Vec<u8> = [
        tv(2, &imsi),
        tv(16, &3u32.to_be_bytes()),
        tv(20, &[5]),
        tlv(133, &[1, 1, 1, 1]),
        tlv(133, &[2, 2, 2, 2]),
        tlv(135, &[3, 1, 2]),
        tlv(128, &[0xf0, 0x01]),
    ]
    .concat();
    let updated: Vec<u8> = [
        tv(1, &[0x80]),
        tlv(
            251,
            &"2001:db8::fb"
                .parse::<std::net::Ipv6Addr>()
                .unwrap()
                .octets(),
        ),
        tlv(133, &[3, 3, 3, 3]),
    ]
    .concat();
    let frames = [
        gtp_c(
            1.0,
            30001,
            true,
            &gtp(16, 0x32, 0, &[0x12, 0x34, 0, 0], &create),
        ),
        gtp_c(2.0, 30001, false, &gtp(17, 0x30, 0x55, &[], &response)),
        gtp_c(3.0, 30002, true, &gtp(18, 0x30, 0x1122_3344, &[], &update)),
        gtp_c(
            4.0,
            30002,
            false,
            &gtp(19, 0x30, 0x1122_3344, &[], &updated),
        ),
        gtp_c(
            5.0,
            30004,
            true,
            &gtp(
                20,
                0x30,
                0x1122_3344,
                &[],
                &[tv(19, &[1]), tv(20, &[5]), tlv(255, b"\x00\x07xy")].concat(),
            ),
        ),
        gtp_c(
            6.0,
            30004,
            false,
            &gtp(21, 0x30, 0x1122_3344, &[], &tv(1, &[0x80])),
        ),
        // A request without its GSN addresses and QoS profile: Zeek's empty records.
        gtp_c(6.5, 30005, true, &gtp(16, 0x30, 1, &[], &tv(2, &imsi))),
        // An echo request: the message event only.
        gtp_c(
            7.0,
            30010,
            true,
            &gtp(1, 0x32, 0x1122_3344, &[0, 7, 0, 0], &[]),
        ),
        // A TV type without a known length fails the message: no events.
        gtp_c(
            8.0,
            30006,
            true,
            &gtp(16, 0x30, 1, &[], &[tv(2, &imsi), vec![6, 1, 2, 3]].concat()),
        ),
        // GTP' (protocol type 0) and version 2 are not read.
        gtp_c(9.0, 30009, true, &gtp(16, 0x20, 1, &[], &[])),
        gtp_c(10.0, 30008, true, &gtp(16, 0x50, 1, &[], &[])),
    ];
    let (events, weirds) = events_and_weirds(&frames, &GTP_EVENTS);
    assert!(weirds.is_empty(), "{weirds:?}");
    insta::assert_json_snapshot!(events);
}

fn gtp_u(ts: f64, port: u16, message: &[u8]) -> Frame {
    udp(
        ts,
        Host::v4("10.2.0.1", port),
        Host::v4("10.2.0.2", 2152),
        message,
    )
}

/// G-PDUs: the inner packet's header with the message's, an extension
/// header, and the checks of what is carried (each connection's first
/// violation only, no confirmation after it), and GTP inside GTP.
#[test]
fn gtpv1_user_packets_and_their_checks() {
    let inner = ipv4_udp([192, 168, 0, 1], [192, 168, 0, 2], 5000, 53, b"abcd");
    let with_trailer = [&inner[..], b"TRAIL"].concat();
    let nested = ipv4_udp(
        [192, 168, 5, 1],
        [192, 168, 5, 2],
        2152,
        2152,
        &gtp(255, 0x30, 9, &[], &inner),
    );
    let frames = [
        gtp_u(1.0, 31001, &gtp(255, 0x30, 1, &[], &inner)),
        // E flag: an extension header (a PDU session container), then the packet.
        gtp_u(
            2.0,
            31002,
            &gtp(255, 0x34, 2, &[0, 0, 0, 0x85, 1, 0x10, 0x05, 0], &inner),
        ),
        // Bytes after the packet: a violation; then no confirmation.
        gtp_u(3.0, 31003, &gtp(255, 0x30, 3, &[], &with_trailer)),
        gtp_u(3.1, 31003, &gtp(255, 0x30, 3, &[], &inner)),
        // Not IP, too short, cut short.
        gtp_u(4.0, 31004, &gtp(255, 0x30, 4, &[], &[0x50; 26])),
        gtp_u(
            5.0,
            31005,
            &gtp(255, 0x30, 5, &[], &[0x45, 0, 0, 20, 0, 0, 0, 0]),
        ),
        gtp_u(
            6.0,
            31006,
            &gtp(255, 0x30, 6, &[], &inner[..inner.len() - 2]),
        ),
        // GTP carrying GTP: the inner one is a violation.
        gtp_u(7.0, 31007, &gtp(255, 0x30, 7, &[], &nested)),
    ];
    let (events, weirds) = events_and_weirds(&frames, &GTP_EVENTS);
    assert!(weirds.is_empty(), "{weirds:?}");
    insta::assert_json_snapshot!(events);
}

/// AYIYA forwards one whole IP packet; its protocol is confirmed then.
#[test]
fn ayiya_carries_a_whole_ip_packet() {
    let inner = ipv4_udp([192, 168, 9, 1], [192, 168, 9, 2], 7000, 7001, b"x");
    // Identity length 2^0, no signature, opcode 1 (forward), next header 4.
    let mut forward = vec![0x00, 0x00, 0x01, 4, 0, 0, 0, 0, 0xaa];
    forward.extend_from_slice(&inner);
    let mut other_op = forward.clone();
    other_op[2] = 0x02;
    let (a, b) = (Host::v4("10.3.0.1", 40000), Host::v4("10.3.0.2", 5072));
    let out = run_with(
        &[udp(1.0, a, b, &other_op), udp(2.0, a, b, &forward)],
        Config::default(),
        netpac_analyzers::registry(),
        None,
    );
    let rows = conn_columns(&out, &["id.resp_p", "proto", "service", "tunnel_parents"]);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows[0].starts_with("5072\tudp\tayiya"), "{rows:?}");
    assert!(rows[1].starts_with("7001\tudp\t-\t"), "{rows:?}");
}

/// `--disable-analyzer GTPV1` (Zeek's `Analyzer::disable_analyzer`): the
/// tunnel decapsulates nothing, its port is a plain UDP connection.
#[test]
fn a_disabled_tunnel_carries_nothing() {
    let inner = ipv4_udp([192, 168, 0, 1], [192, 168, 0, 2], 5000, 53, b"abcd");
    let frames = [gtp_u(1.0, 31001, &gtp(255, 0x30, 1, &[], &inner))];
    let mut registry = netpac_analyzers::registry();
    registry.disable("gtpv1").expect("GTPV1 is known");
    let out = run_with(&frames, Config::default(), registry, None);
    let rows = conn_columns(&out, &["id.resp_p", "service"]);
    assert_eq!(rows, ["2152\t-"]);
}
