//! RDP (grammars/rdp.*): the X.224 negotiation, the MCS Connect-Initial and
//! Connect-Response with their GCC data blocks, the hand-off to SSL and rdp.log,
//! from sessions these tests build. The expected behaviour is Zeek 8.2.2's.

mod common;
mod lines_support;
mod tls_support;

use common::{Frame, Host};
use lines_support::{orig, resp, run, session, Outcome, Piece, log_rows};
use netpac_analyzers::rdp::{Limits, RDPAnalyzer};

/// A TPKT record around an X.224 TPDU (`li` counts the bytes after itself).
fn tpkt(tpdu: &[u8]) -> Vec<u8> {
    let len = (tpdu.len() + 4) as u16;
    [&[3u8, 0][..], &len.to_be_bytes(), tpdu].concat()
}

fn connection_request(cookie: Option<&[u8]>, requested: u32) -> Vec<u8> {
    let mut body = vec![0xe0, 0, 0, 0, 0, 0];
    if let Some(c) = cookie {
        body.extend(b"Cookie: mstshash=");
        body.extend(c);
        body.extend(b"\r\n");
    }
    body.extend([1, 0, 8, 0]);
    body.extend(requested.to_le_bytes());
    tpkt(&[&[body.len() as u8][..], &body].concat())
}

fn connection_confirm(selected: u32) -> Vec<u8> {
    let mut body = vec![0xd0, 0, 0, 0x12, 0x34, 0, 2, 0x1f, 8, 0];
    body.extend(selected.to_le_bytes());
    tpkt(&[&[body.len() as u8][..], &body].concat())
}

fn utf16(s: &str, size: usize) -> Vec<u8> {
    let mut b: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    b.resize(size, 0);
    b
}

fn block(kind: u16, body: &[u8]) -> Vec<u8> {
    [&kind.to_le_bytes()[..], &((body.len() + 4) as u16).to_le_bytes(), body].concat()
}

fn client_core() -> Vec<u8> {
    let mut c = Vec::new();
    c.extend(0x0008_0004u32.to_le_bytes());
    c.extend(1920u16.to_le_bytes());
    c.extend(1080u16.to_le_bytes());
    c.extend(0xca01u16.to_le_bytes());
    c.extend(0xaa03u16.to_le_bytes());
    c.extend(263198u32.to_le_bytes());
    c.extend(9600u32.to_le_bytes());
    c.extend(utf16("JOHN-PC-LAPTOP", 32));
    c.extend(4u32.to_le_bytes());
    c.extend(0u32.to_le_bytes());
    c.extend(12u32.to_le_bytes());
    c.extend([0; 64]);
    c.extend(0xca01u16.to_le_bytes());
    c.extend(1u16.to_le_bytes());
    c.extend(0u32.to_le_bytes());
    c.extend(16u16.to_le_bytes());
    c.extend(0x0fu16.to_le_bytes());
    c.extend(0x0001u16.to_le_bytes());
    c.extend(utf16("3c571ed0-3415-474b-ae94-74e151b", 64));
    block(0xc001, &c)
}

fn client_network(channels: &[&[u8]]) -> Vec<u8> {
    let mut n = (channels.len() as u32).to_le_bytes().to_vec();
    for ch in channels {
        let mut name = ch.to_vec();
        name.resize(8, 0);
        n.extend(name);
        n.extend(0x8000_0000u32.to_le_bytes());
    }
    block(0xc003, &n)
}

/// MCS Connect-Initial with the GCC Conference Create Request and `blocks`.
fn connect_initial(blocks: &[u8]) -> Vec<u8> {
    let mut m = vec![0x7f, 0x65, 0x82, 0x01, 0x90];
    m.extend([0x04, 0x01, 0x01, 0x04, 0x01, 0x01, 0x01, 0x01, 0xff]);
    for _ in 0..3 {
        m.extend([0x30, 0x03, 0x02, 0x01, 0x22]);
    }
    m.extend([0x04, 0x82, 0x01, 0x00]);
    m.extend([0x00, 0x05, 0x00, 0x14, 0x7c, 0x00, 0x01]);
    m.extend([0x81, 0x2a]);
    m.extend([0x00, 0x08, 0x00, 0x10, 0x00, 0x01, 0xc0, 0x00]);
    m.extend(b"Duca");
    m.extend((blocks.len() as u16).to_be_bytes());
    m.extend(blocks);
    tpkt(&[&[2u8, 0xf0, 0x80][..], &m].concat())
}

/// MCS Connect-Response with the GCC Create Response and the server's security
/// data (`method`, `level`, a proprietary certificate).
fn connect_response(method: u32, level: u32) -> Vec<u8> {
    let mut sec = method.to_le_bytes().to_vec();
    sec.extend(level.to_le_bytes());
    sec.extend(32u32.to_le_bytes());
    // A proprietary certificate: algorithms, the RSA key blob, the signature blob.
    let key = [&b"RSA1"[..], &72u32.to_le_bytes(), &512u32.to_le_bytes(), &65537u32.to_le_bytes(), &[0x77; 72]].concat();
    let cert = [
        &1u32.to_le_bytes()[..],
        &1u32.to_le_bytes(),
        &1u32.to_le_bytes(),
        &6u16.to_le_bytes(),
        &(key.len() as u16).to_le_bytes(),
        &key,
        &8u16.to_le_bytes(),
        &72u16.to_le_bytes(),
        &[0x88; 72],
    ]
    .concat();
    sec.extend((cert.len() as u32).to_le_bytes());
    sec.extend([0x5a; 32]);
    sec.extend(&cert);
    let blocks = [block(0x0c01, &[4, 0, 8, 0, 0, 0, 0, 0]), block(0x0c02, &sec)].concat();
    let mut m = vec![0x7f, 0x66, 0x82, 0x01, 0x00];
    m.extend([0x0a, 0x01, 0x00, 0x02, 0x01, 0x00]);
    m.extend([0x30, 0x03, 0x02, 0x01, 0x22]);
    m.extend([0x04, 0x82, 0x00, 0xf0]);
    m.extend([0x00, 0x05, 0x00, 0x14, 0x7c, 0x00, 0x01]);
    m.push(0x2a);
    m.extend([0x14, 0x76, 0x0a, 0x01, 0x01, 0x00, 0x01, 0xc0, 0x00]);
    m.extend(b"McDn");
    m.extend((blocks.len() as u16).to_be_bytes());
    m.extend(blocks);
    tpkt(&[&[2u8, 0xf0, 0x80][..], &m].concat())
}

/// Native RDP security: the negotiation picks plain RDP, then the GCC exchange.
fn native() -> Vec<Piece> {
    let blocks = [
        client_core(),
        block(0xc002, &[3, 0, 0, 0, 0, 0, 0, 0]),
        client_network(&[b"rdpdr", b"rdpsnd", b"cliprdr", b"drdynvc"]),
        block(0xc004, &[0x0d, 0, 0, 0, 0x7f, 0, 0, 0]),
    ]
    .concat();
    vec![
        orig(&connection_request(Some(b"JOHN-PC  "), 0)),
        resp(&connection_confirm(0)),
        orig(&connect_initial(&blocks)),
        resp(&connect_response(2, 2)),
        orig(&[0x80, 0x11, 0x22, 0x33, 0x44, 0x55]),
    ]
}

fn rdp_events(pieces: &[Piece]) -> Outcome {
    run(Box::new(RDPAnalyzer::new(0, Limits::default())), "RDP", 3389, pieces)
}

fn names(o: &Outcome) -> Vec<String> {
    o.events.iter().map(|e| e["event"].as_str().unwrap().to_string()).collect()
}

fn logs(frames: &[Frame]) -> (String, String) {
    let (rows, services) = log_rows(
        frames,
        vec![netpac_analyzers::rdp::log::RdpLogger::sink(), netpac_analyzers::ssl::log::SslLogger::sink()],
    );
    let row = |log: &str| rows.get(log).cloned().unwrap_or_default();
    (format!("{}\n--\n{}", row("rdp.log"), row("ssl.log")), services.join(","))
}

#[test]
fn native_rdp_events() {
    let o = rdp_events(&native());
    assert_eq!(o.verdict, "Confirmed");
    insta::assert_json_snapshot!(o);
    assert_eq!(
        names(&o),
        [
            "rdp_connect_request",
            "rdp_negotiation_response",
            "rdp_client_core_data",
            "rdp_client_security_data",
            "rdp_client_network_data",
            "rdp_client_cluster_data",
            "rdp_gcc_server_create_response",
            "rdp_server_certificate",
            "rdp_begin_encryption",
            "rdp_server_security",
        ]
    );
}

#[test]
fn rdp_log_rows() {
    let mut frames = session(1.0, Host::v4("10.0.0.1", 50000), Host::v4("10.0.0.2", 3389), &native());
    // TLS: the negotiation picks SSL; the rest of the connection is SSL's.
    let hello = tls_support::record(22, 0x0301, &tls_support::client_hello(&[], &[0x009c], &[tls_support::sni(b"rdp.example")]));
    let tls = vec![
        orig(&connection_request(Some(b"bob"), 3)),
        resp(&connection_confirm(1)),
        orig(&hello),
    ];
    frames.extend(session(2.0, Host::v4("10.0.0.1", 50001), Host::v4("10.0.0.2", 3389), &tls));
    let (rows, service) = logs(&frames);
    insta::assert_snapshot!(rows);
    assert_eq!(service, "rdp,ssl");
}

#[test]
fn every_rdp_event_is_raised_by_some_test_traffic() {
    let mut seen = names(&rdp_events(&native()));
    let failure = {
        let mut body = vec![0xd0, 0, 0, 0, 0, 0, 3, 0, 8, 0];
        body.extend(5u32.to_le_bytes());
        tpkt(&[&[body.len() as u8][..], &body].concat())
    };
    let failed = rdp_events(&[orig(&connection_request(None, 0)), resp(&failure)]);
    insta::assert_json_snapshot!("rdp_negotiation_failure", failed);
    seen.extend(names(&failed));
    let missing: Vec<&&str> = netpac_analyzers::rdp::EVENT_NAMES.iter().filter(|e| !seen.iter().any(|s| s == **e)).collect();
    assert!(missing.is_empty(), "no test raises {missing:?}");
}

#[test]
fn malformed_negotiations_are_violations() {
    for bad in [
        // A routing token that is no cookie: its bytes read as a NEG_REQ of the wrong length.
        {
            let mut body = vec![0xe0, 0, 0, 0, 0, 0];
            body.extend(b"Cookie: msts=3640205228.15629.0000\r\n");
            tpkt(&[&[body.len() as u8][..], &body].concat())
        },
        // A cookie without its CRLF.
        {
            let mut body = vec![0xe0, 0, 0, 0, 0, 0];
            body.extend(b"Cookie: mstshash=abc");
            tpkt(&[&[body.len() as u8][..], &body].concat())
        },
        // A client core block too short for its fields.
        connect_initial(&block(0xc001, &[0; 100])),
    ] {
        let o = rdp_events(&[orig(&bad)]);
        assert!(o.verdict.starts_with("Violation"), "{} {:?}", o.verdict, names(&o));
    }
}
