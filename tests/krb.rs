//! Kerberos over UDP and TCP: every KRB event from messages built here, through
//! the engine; `kerberos.log` (with PKINIT certificate subjects); messages Zeek's
//! analyzer rejects. The datagrams were replayed through Zeek 8.2.2: the same
//! events with the same records, the same log rows and weirds.

mod ber_support;
mod common;
mod lines_support;
mod tls_support;

use ber_support::*;
use common::*;
use lines_support::{orig, resp, session};
use serde_json::Value;

const REALM: &[u8] = b"EXAMPLE.ORG";

fn principal(name_type: i64, names: &[&[u8]]) -> Vec<u8> {
    seq(&[ctx(0, int(name_type)), ctx(1, seq(&names.iter().map(|n| gstr(n)).collect::<Vec<_>>()))])
}

fn krbtgt() -> Vec<u8> {
    principal(2, &[b"krbtgt", REALM])
}

fn alice() -> Vec<u8> {
    principal(1, &[b"alice"])
}

/// EncryptedData, with a kvno when given.
fn enc_data(etype: i64, cipher: &[u8], kvno: Option<i64>) -> Vec<u8> {
    let mut parts = vec![ctx(0, int(etype))];
    if let Some(k) = kvno {
        parts.push(ctx(1, int(k)));
    }
    parts.push(ctx(2, octets(cipher)));
    seq(&parts)
}

fn ticket(sname: Vec<u8>, etype: i64, cipher: &[u8]) -> Vec<u8> {
    app(1, seq(&[ctx(0, int(5)), ctx(1, gstr(REALM)), ctx(2, sname), ctx(3, enc_data(etype, cipher, Some(2)))]))
}

/// METHOD-DATA: PA-DATA elements of (type, value).
fn padata(items: &[(i64, Vec<u8>)]) -> Vec<u8> {
    seq(&items.iter().map(|(t, v)| seq(&[ctx(1, int(*t)), ctx(2, octets(v))])).collect::<Vec<_>>())
}

#[derive(Default)]
struct Body {
    cname: Option<Vec<u8>>,
    sname: Option<Vec<u8>>,
    from: Option<&'static [u8]>,
    rtime: Option<&'static [u8]>,
    addrs: Vec<(i64, Vec<u8>)>,
    tickets: Vec<Vec<u8>>,
}

fn req_body(b: Body) -> Vec<u8> {
    let mut p = vec![ctx(0, bits(&[0x40, 0x81, 0x00, 0x10]))];
    if let Some(c) = b.cname {
        p.push(ctx(1, c));
    }
    p.push(ctx(2, gstr(REALM)));
    if let Some(s) = b.sname {
        p.push(ctx(3, s));
    }
    if let Some(f) = b.from {
        p.push(ctx(4, gtime(f)));
    }
    p.push(ctx(5, gtime(b"20370913024805Z")));
    if let Some(r) = b.rtime {
        p.push(ctx(6, gtime(r)));
    }
    p.push(ctx(7, int(12345)));
    p.push(ctx(8, seq(&[int(18), int(17), int(23)])));
    if !b.addrs.is_empty() {
        let addrs = b.addrs.iter().map(|(t, a)| seq(&[ctx(0, int(*t)), ctx(1, octets(a))])).collect::<Vec<_>>();
        p.push(ctx(9, seq(&addrs)));
    }
    if !b.tickets.is_empty() {
        p.push(ctx(11, seq(&b.tickets)));
    }
    seq(&p)
}

fn kdc_req(msg_type: u8, body: Vec<u8>, pa: Option<Vec<u8>>) -> Vec<u8> {
    let mut p = vec![ctx(1, int(5)), ctx(2, int(msg_type.into()))];
    if let Some(pa) = pa {
        p.push(ctx(3, pa));
    }
    p.push(ctx(4, body));
    app(msg_type, seq(&p))
}

fn kdc_rep(msg_type: u8, cname: Vec<u8>, tkt: Vec<u8>, enc: Vec<u8>, pa: Option<Vec<u8>>) -> Vec<u8> {
    let mut p = vec![ctx(0, int(5)), ctx(1, int(msg_type.into()))];
    if let Some(pa) = pa {
        p.push(ctx(2, pa));
    }
    p.extend([ctx(3, gstr(REALM)), ctx(4, cname), ctx(5, tkt), ctx(6, enc)]);
    app(msg_type, seq(&p))
}

fn ap_req(tkt: Vec<u8>) -> Vec<u8> {
    app(14, seq(&[ctx(0, int(5)), ctx(1, int(14)), ctx(2, bits(&[0x20, 0, 0, 0])), ctx(3, tkt), ctx(4, enc_data(18, b"AUTH", None))]))
}

#[derive(Default)]
struct Err {
    cname: Option<Vec<u8>>,
    text: Option<&'static [u8]>,
    edata: Option<Vec<u8>>,
}

fn krb_error(code: i64, e: Err) -> Vec<u8> {
    let mut p = vec![
        ctx(0, int(5)),
        ctx(1, int(30)),
        ctx(2, gtime(b"20240101115959Z")),
        ctx(3, int(5)),
        ctx(4, gtime(b"20240101120000Z")),
        ctx(5, int(123456)),
        ctx(6, int(code)),
    ];
    if let Some(c) = e.cname {
        p.extend([ctx(7, gstr(REALM)), ctx(8, c)]);
    }
    p.extend([ctx(9, gstr(REALM)), ctx(10, krbtgt())]);
    if let Some(t) = e.text {
        p.push(ctx(11, gstr(t)));
    }
    if let Some(d) = e.edata {
        p.push(ctx(12, d));
    }
    app(30, seq(&p))
}

fn client(port: u16) -> Host {
    Host::v4("10.0.0.2", port)
}

fn kdc() -> Host {
    Host::v4("10.0.0.1", 88)
}

/// One conversation per port: (datagram, from the client?).
fn datagrams(convs: &[Vec<(Vec<u8>, bool)>]) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut t = 1.0;
    for (i, conv) in convs.iter().enumerate() {
        let c = client(50000 + i as u16);
        for (msg, from_client) in conv {
            let (src, dst) = if *from_client { (c, kdc()) } else { (kdc(), c) };
            frames.push(udp(t, src, dst, msg));
            t += 1.0;
        }
    }
    frames
}

const EVENTS: &[&str] = &[
    "krb_as_request",
    "krb_as_response",
    "krb_tgs_request",
    "krb_tgs_response",
    "krb_ap_request",
    "krb_ap_response",
    "krb_priv",
    "krb_safe",
    "krb_cred",
    "krb_error",
    "protocol_confirmation",
    "protocol_violation",
    "conn_weird",
    "net_weird",
];

fn krb_events(frames: &[Frame]) -> Vec<Value> {
    analyzer_events(frames, EVENTS.to_vec())
}

/// AS and TGS exchanges: pre-authentication data of each kind Zeek reports, host
/// addresses of each kind (one IPv4 address of the wrong length: a weird), a
/// PA-TGS-REQ's AP-REQ, additional tickets, odd names and times.
fn kdc_traffic() -> Vec<Vec<(Vec<u8>, bool)>> {
    let as_req = kdc_req(
        10,
        req_body(Body {
            cname: Some(alice()),
            sname: Some(krbtgt()),
            from: Some(b"20240101000000Z"),
            rtime: Some(b"99999999999999Z"),
            addrs: vec![
                (2, vec![10, 0, 0, 2]),
                (20, b"NETBIOSNAME     ".to_vec()),
                (24, (0..16).collect()),
                (2, vec![1, 2]),
                (7, b"xx".to_vec()),
            ],
            ..Body::default()
        }),
        Some(padata(&[(2, enc_data(18, b"TIMESTAMP", None)), (128, seq(&[ctx(0, tlv(1, &[0xff]))]))])),
    );
    let etype_info2 = seq(&[seq(&[ctx(0, int(18)), ctx(1, gstr(b"EXAMPLE.ORGalice"))])]);
    let etype_info = seq(&[seq(&[ctx(0, int(23)), ctx(1, octets(b"salt1"))])]);
    let as_rep = kdc_rep(
        11,
        alice(),
        ticket(krbtgt(), 18, b"TGT"),
        enc_data(18, b"ENCPART", Some(3)),
        Some(padata(&[(19, etype_info2), (3, b"salty".to_vec()), (11, etype_info), (136, vec![]), (137, b"abc".to_vec())])),
    );
    let host = principal(2, &[b"host", b"srv.example.org"]);
    let tgs_req = kdc_req(
        12,
        req_body(Body { sname: Some(host.clone()), tickets: vec![ticket(krbtgt(), 23, b"EXTRA")], ..Body::default() }),
        Some(padata(&[(1, ap_req(ticket(krbtgt(), 18, b"TGT"))), (3, b"x".to_vec())])),
    );
    let tgs_rep = kdc_rep(
        13,
        alice(),
        ticket(principal(2, &[b"host", b"srv.example.org", b"third"]), 23, b"SERVICE"),
        enc_data(23, b"EP", None),
        None,
    );
    let odd = kdc_req(
        10,
        req_body(Body {
            cname: Some(principal(1, &[b"a\0b", b"c"])),
            sname: Some(principal(2, &[b"w", b"x", b"y", b"z"])),
            from: Some(b"not a time"),
            rtime: Some(b"2024010100000000Z"),
            ..Body::default()
        }),
        None,
    );
    vec![vec![(as_req, true), (as_rep, false)], vec![(tgs_req, true), (tgs_rep, false)], vec![(odd, true)]]
}

#[test]
fn as_and_tgs_exchanges() {
    insta::assert_json_snapshot!(krb_events(&datagrams(&kdc_traffic())));
}

/// Errors (with the client's name, with pre-authentication methods, with an
/// e-data Zeek does not read), a lone AP-REQ and its AP-REP, KRB-PRIV, KRB-CRED in
/// the shape Zeek's analyzer reads it (one SEQUENCE shallower than RFC 4120 encodes
/// it; see `real_safe_and_cred_...`), and a KRB-SAFE in that shape, which Zeek
/// does not read to its end either (a violation: Zeek never raises krb_safe).
#[test]
fn errors_and_the_other_messages() {
    let methods = padata(&[(2, vec![]), (3, b"salt".to_vec()), (16, b"z".to_vec()), (136, vec![])]);
    let safe = app(
        20,
        [
            ctx(0, int(5)),
            ctx(1, int(20)),
            ctx(
                2,
                [
                    ctx(0, octets(b"userdata")),
                    ctx(1, gtime(b"20240101120000Z")),
                    ctx(2, int(7)),
                    ctx(3, int(99)),
                    ctx(4, seq(&[ctx(0, int(2)), ctx(1, octets(&[1, 2, 3, 4]))])),
                    ctx(5, seq(&[ctx(0, int(20)), ctx(1, octets(b"NB"))])),
                ]
                .concat(),
            ),
            ctx(3, seq(&[ctx(0, int(1)), ctx(1, octets(b"ck"))])),
        ]
        .concat(),
    );
    let priv_msg = app(21, [ctx(0, int(5)), ctx(1, int(21)), ctx(3, enc_data(18, b"PRIV", None))].concat());
    let cred = app(
        22,
        [
            ctx(0, int(5)),
            ctx(1, int(22)),
            ctx(2, seq(&[seq(&[ticket(krbtgt(), 18, b"ONE"), ticket(alice(), 17, b"TWO")])])),
            ctx(3, enc_data(18, b"CRED", None)),
        ]
        .concat(),
    );
    let ap_rep = app(15, [ctx(0, int(5)), ctx(1, int(15)), ctx(2, enc_data(18, b"REP", None))].concat());
    let frames = datagrams(&[
        vec![(krb_error(6, Err { cname: Some(principal(1, &[b"bob"])), text: Some(b"Client not found"), ..Err::default() }), false)],
        vec![(krb_error(25, Err { edata: Some(methods), ..Err::default() }), false)],
        vec![(krb_error(24, Err { edata: Some(octets(b"opaque")), ..Err::default() }), false)],
        vec![(ap_req(ticket(krbtgt(), 18, b"TGT")), true), (ap_rep, false)],
        vec![(priv_msg, true), (cred, false)],
        vec![(safe, true)],
    ]);
    insta::assert_json_snapshot!(krb_events(&frames));
}

/// What Zeek's analyzer cannot read is a violation: an unknown message type, a
/// KRB-SAFE and a KRB-CRED as RFC 4120 encodes them (Zeek reads one SEQUENCE too
/// few: the CRED's ticket then claims 33 length bytes, a network weird), lengths
/// past the datagram, a length of 2^64 - 1, a short datagram.
#[test]
fn real_safe_and_cred_and_hostile_messages_are_violations() {
    let safe = app(20, seq(&[ctx(0, int(5)), ctx(1, int(20)), ctx(2, seq(&[ctx(0, octets(b"u"))])), ctx(3, seq(&[ctx(0, int(1))]))]));
    let cred = app(22, seq(&[ctx(0, int(5)), ctx(1, int(22)), ctx(2, seq(&[ticket(krbtgt(), 18, b"T")])), ctx(3, enc_data(18, b"C", None))]));
    let mut cut = kdc_req(10, req_body(Body { cname: Some(alice()), ..Body::default() }), None);
    cut.truncate(cut.len() - 10);
    let frames = datagrams(&[
        vec![(app(9, seq(&[ctx(0, int(5))])), true)],
        vec![(safe, true)],
        vec![(cred, true)],
        vec![(cut, true)],
        vec![([&[0x6a, 0x88][..], &[0xff; 8], &[0x30, 0]].concat(), true)],
        vec![(vec![0x6a], true)],
    ]);
    insta::assert_json_snapshot!(krb_events(&frames));
}

/// Over TCP each message comes behind its 4-byte length, here cut across segments.
#[test]
fn kerberos_over_tcp() {
    let framed = |m: &[u8]| [&(m.len() as u32).to_be_bytes()[..], m].concat();
    let conv = &kdc_traffic()[0];
    let req = framed(&conv[0].0);
    let rep = framed(&conv[1].0);
    let frames = session(1.0, client(51000), kdc(), &[orig(&req[..7]), orig(&req[7..]), resp(&rep)]);
    let events = krb_events(&frames);
    let names: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    // The request's IPv4 address of two bytes is a weird, as over UDP.
    assert_eq!(names, ["conn_weird", "krb_as_request", "protocol_confirmation", "krb_as_response"]);
    assert_eq!(events[3]["args"]["msg"]["ticket"]["ciphertext"], "TGT");
}

/// kerberos.log: successful AS and TGS exchanges, errors (one that Zeek drops as
/// NEEDED_PREAUTH), a reply without its request, and PKINIT: the client's and the
/// KDC's certificates, whose subjects the row carries.
#[test]
fn kerberos_log_rows() {
    let mut convs = kdc_traffic();
    convs.push(vec![
        (kdc_req(10, req_body(Body { cname: Some(principal(1, &[b"bob"])), sname: Some(krbtgt()), ..Body::default() }), None), true),
        (krb_error(6, Err { cname: Some(principal(1, &[b"bob"])), text: Some(b"Client not found"), ..Err::default() }), false),
    ]);
    convs.push(vec![
        (kdc_req(10, req_body(Body { cname: Some(alice()), sname: Some(krbtgt()), ..Body::default() }), None), true),
        (krb_error(25, Err { text: Some(b"NEEDED_PREAUTH"), ..Err::default() }), false),
    ]);
    convs.push(vec![(kdc_rep(11, alice(), ticket(krbtgt(), 99, b"T"), enc_data(18, b"X", None), None), false)]);
    // PA-PK-AS-REQ / -REP as Zeek walks them: after the OCTET STRING, three (request)
    // or four (reply) metas, an OID, two more, version, digests, signed data, then the
    // certificate.
    let pk = |cert: Vec<u8>, rep: bool| {
        let metas: &[u8] = if rep { &[0xa0, 0, 0x30, 0, 0xa0, 0, 0x30, 0] } else { &[0x30, 0, 0xa0, 0, 0x30, 0] };
        let rest = [oid("1.2.840.113549.1.7.2"), tlv(0xa0, &[]), seq(&[]), int(3), tlv(0x31, &[]), seq(&[]), tlv(0xa0, &cert)].concat();
        [metas, &rest[..]].concat()
    };
    let client_cert = tls_support::certificate("test_pkinit", &[], false, 1);
    let kdc_cert = tls_support::certificate("kdc.example.org", &[], false, 2);
    convs.push(vec![
        (kdc_req(10, req_body(Body { cname: Some(alice()), sname: Some(krbtgt()), ..Body::default() }), Some(padata(&[(16, pk(client_cert, false))]))), true),
        (kdc_rep(11, alice(), ticket(krbtgt(), 18, b"T"), enc_data(18, b"X", None), Some(padata(&[(17, pk(kdc_cert, true))]))), false),
    ]);
    let (rows, services) = lines_support::log_rows(&datagrams(&convs), vec![netpac_analyzers::krb::log::KrbLogger::sink()]);
    insta::assert_snapshot!(rows.get("kerberos.log").cloned().unwrap_or_default());
    assert!(services.iter().all(|s| s == "krb"), "{services:?}");
}
