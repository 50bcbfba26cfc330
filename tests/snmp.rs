//! SNMP v1, v2c and v3 over the BER elements of `grammars/asn1.npac`: every
//! event from datagrams built here, through the engine; `snmp.log`; hostile BER
//! (overlong OIDs, integers and lengths, a length of 2^64, bytes after the
//! bindings), checked against what Zeek 8.2.2 does with the same datagrams.

mod ber_support;
mod common;
mod lines_support;

use ber_support::*;
use common::*;
use serde_json::Value;

fn bindings(vbs: &[(&str, Vec<u8>)]) -> Vec<u8> {
    seq(&vbs.iter().map(|(o, v)| seq(&[oid(o), v.clone()])).collect::<Vec<_>>())
}

fn pdu(tag: u8, request_id: i64, vbs: &[(&str, Vec<u8>)]) -> Vec<u8> {
    tlv(tag, &[int(request_id), int(0), int(0), bindings(vbs)].concat())
}

/// A v1 (0) or v2c (1) message.
fn community_msg(version: i64, community: &[u8], pdu: Vec<u8>) -> Vec<u8> {
    seq(&[int(version), octets(community), pdu])
}

fn usm(user: &[u8], privacy: &[u8]) -> Vec<u8> {
    seq(&[
        octets(b"\x80\x00\x1f\x88\x01"),
        int(5),
        int(77),
        octets(user),
        octets(b""),
        octets(privacy),
    ])
}

fn v3(msg_id: i64, flags: &[u8], model: i64, params: Vec<u8>, scoped: Vec<u8>) -> Vec<u8> {
    let global = seq(&[int(msg_id), int(65507), octets(flags), int(model)]);
    seq(&[int(3), global, octets(&params), scoped])
}

fn scoped(pdu: Vec<u8>) -> Vec<u8> {
    seq(&[octets(b"\x80\x00\x1f\x88\x01"), octets(b"ctx"), pdu])
}

fn manager(port: u16) -> Host {
    Host::v4("10.0.0.2", port)
}

fn agent() -> Host {
    Host::v4("10.0.0.1", 161)
}

/// One request per connection (each from its own port), answered when given.
fn datagrams(msgs: &[(Vec<u8>, Option<Vec<u8>>)]) -> Vec<Frame> {
    let mut frames = Vec::new();
    for (i, (req, resp)) in msgs.iter().enumerate() {
        let t = 1.0 + i as f64;
        let port = 40000 + i as u16;
        frames.push(udp(t, manager(port), agent(), req));
        if let Some(r) = resp {
            frames.push(udp(t + 0.25, agent(), manager(port), r));
        }
    }
    frames
}

const EVENTS: &[&str] = &[
    "snmp_get_request",
    "snmp_get_next_request",
    "snmp_response",
    "snmp_set_request",
    "snmp_trap",
    "snmp_get_bulk_request",
    "snmp_inform_request",
    "snmp_trapV2",
    "snmp_report",
    "snmp_unknown_pdu",
    "snmp_unknown_scoped_pdu",
    "snmp_encrypted_pdu",
    "snmp_unknown_header_version",
    "protocol_confirmation",
    "protocol_violation",
    "net_weird",
];

fn snmp_events(frames: &[Frame]) -> Vec<Value> {
    analyzer_events(frames, EVENTS.to_vec())
}

/// Every kind of PDU in v1 and v2c, a v1 trap with a value of each tag Zeek
/// decodes, an unknown PDU and an unknown version.
fn v1_v2c_traffic() -> Vec<Frame> {
    let trap = tlv(
        0xa4,
        &[
            oid("1.3.6.1.4.1.8072.3.2.10"),
            tlv(0x40, &[10, 0, 0, 9]),
            int(6),
            int(17),
            tlv(0x43, &[1, 0]),
            bindings(&[
                ("1.3.6.1.2.1.1.5.0", octets(b"x")),
                ("1.3.6.1.2.1.2.2.1.1.1", int(-5)),
                ("1.3.6.1.2.1.4.20.1.1.1", tlv(0x40, &[1, 2, 3, 4])),
                ("1.3.6.1.2.1.1.2.0", oid("1.3.6.1.4.1.99")),
                ("1.3.6.1.2.1.31.1.1.1.6.1", tlv(0x46, &[0xff; 8])),
                ("1.3.6.1.2.1.1.9", tlv(0x80, b"")),
                ("1.3.6.1.2.1.1.10", tlv(0x44, &[1, 2])),
                ("1.3.6.1.2.1.1.11", tlv(0x41, &[0, 0xff])),
            ]),
        ]
        .concat(),
    );
    let bulk = tlv(0xa5, &[int(9), int(1), int(10), bindings(&[("1.3.6.1.2.1.2.2", NULL.to_vec())])].concat());
    let contact = || vec![("1.3.6.1.2.1.1.4.0", octets(b"me"))];
    datagrams(&[
        (
            community_msg(1, b"public", pdu(0xa0, 7, &[("1.3.6.1.2.1.1.1.0", NULL.to_vec()), ("1.3.6.1.2.1.1.3.0", NULL.to_vec())])),
            Some(community_msg(
                1,
                b"public",
                pdu(0xa2, 7, &[("1.3.6.1.2.1.1.1.0", octets(b"Linux box")), ("1.3.6.1.2.1.1.3.0", tlv(0x43, &[0x64]))]),
            )),
        ),
        (community_msg(0, b"traps", trap), None),
        (community_msg(1, b"private", bulk), None),
        (community_msg(1, b"public", pdu(0xa3, 11, &contact())), None),
        (community_msg(1, b"public", pdu(0xa6, 12, &contact())), None),
        (community_msg(1, b"public", pdu(0xa7, 13, &contact())), None),
        (community_msg(1, b"public", pdu(0xa8, 14, &contact())), None),
        (community_msg(1, b"public", pdu(0xa1, 15, &contact())), None),
        (community_msg(1, b"public", tlv(0xa9, &[2, 1, 0])), None),
        (seq(&[int(2), octets(b"zzz")]), None),
    ])
}

#[test]
fn every_pdu_of_v1_and_v2c() {
    insta::assert_json_snapshot!(snmp_events(&v1_v2c_traffic()));
}

/// SNMPv3: USM parameters beside a plaintext PDU; another security model;
/// encrypted and unknown scoped PDU data; flags of the wrong length; USM
/// parameters that do not parse, after encrypted data and before a PDU.
#[test]
fn v3_headers_and_scoped_pdus() {
    let get = || scoped(pdu(0xa0, 5, &[("1.3.6.1.2.1.1.5.0", NULL.to_vec())]));
    let frames = datagrams(&[
        (v3(99, &[0x04], 3, usm(b"alice", b""), get()), None),
        (v3(100, &[0x04], 1, usm(b"alice", b""), get()), None),
        (v3(101, &[0x07], 3, usm(b"alice", b"12345678"), octets(&[0x11; 20])), None),
        (v3(102, &[0x04], 3, usm(b"alice", b""), tlv(0x99, b"xx")), None),
        (v3(103, &[0x04, 0x00], 3, usm(b"alice", b""), get()), None),
        (v3(104, &[0x07], 3, b"abc".to_vec(), octets(&[0x11; 20])), None),
        (v3(105, &[0x04], 3, b"abc".to_vec(), get()), None),
    ]);
    insta::assert_json_snapshot!(snmp_events(&frames));
}

/// BER that Zeek's ASN.1 decoders warn about or reject: an OID subidentifier
/// of 10 bytes (fits) and 11 (does not: weird, empty OID), a 9-byte INTEGER
/// (weird, 0) and a 10-byte one (violation), a long length of 9 bytes, a length
/// of 2^64 - 1, bytes after the last binding, a wrong tag, a short datagram.
#[test]
fn hostile_ber_is_a_weird_or_a_violation() {
    let null_bind = |o: Vec<u8>| tlv(0x30, &tlv(0x30, &[o, NULL.to_vec()].concat()));
    let ten = tlv(0x06, &[&[0x2b, 0x81][..], &[0x80; 8], &[0x01]].concat());
    let eleven = tlv(0x06, &[&[0x2b, 0x81][..], &[0x80; 9], &[0x01]].concat());
    let get = |body: Vec<u8>| community_msg(1, b"public", tlv(0xa0, &body));
    let mut trailing = community_msg(1, b"public", pdu(0xa0, 3, &[("1.3.6.1", NULL.to_vec())]));
    trailing.extend([0x30, 0x00]);
    let frames = datagrams(&[
        (get([int(1), int(0), int(0), null_bind(ten)].concat()), None),
        (get([int(1), int(0), int(0), null_bind(eleven)].concat()), None),
        (get([tlv(0x02, &[&[0][..], &[0xff; 8]].concat()), int(0), int(0), bindings(&[])].concat()), None),
        (get([tlv(0x02, &[1; 10]), int(0), int(0), bindings(&[])].concat()), None),
        (community_msg(1, b"public", [&[0xa0, 0x89][..], &[0; 9]].concat()), None),
        (community_msg(1, b"public", [&[0xa0, 0x88][..], &[0xff; 8], &[2, 1, 1]].concat()), None),
        (trailing, None),
        (seq(&[int(1), tlv(0x06, b"public"), pdu(0xa0, 1, &[])]), None),
        (vec![0x30, 0x03, 0x02], None),
    ]);
    insta::assert_json_snapshot!(snmp_events(&frames));
}

#[test]
fn snmp_log_rows() {
    let mut frames = v1_v2c_traffic();
    let get = v3(99, &[0x04], 3, usm(b"alice", b""), scoped(pdu(0xa0, 5, &[])));
    frames.push(udp(21.0, manager(41000), agent(), &get));
    let (rows, services) = lines_support::log_rows(&frames, vec![netpac_analyzers::snmp::log::SnmpLogger::sink()]);
    // Only a responder's message confirms SNMP: the one exchange with a response.
    assert_eq!(services.iter().filter(|s| *s == "snmp").count(), 1, "{services:?}");
    insta::assert_snapshot!(rows.get("snmp.log").cloned().unwrap_or_default());
}
