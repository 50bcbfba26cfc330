//! DTLS (grammars/ssl.*, the `DTLS` analyzer): records packed into datagrams
//! (`&split`), handshake messages in pieces put together by offset (`pieces`),
//! the epoch deciding what is encrypted, and ssl.log, from sessions these tests
//! build. The expected behaviour is Zeek 8.2.2's DTLS analyzer.

mod common;
mod lines_support;
mod tls_support;

use common::{udp, Frame, Host};
use lines_support::{orig, resp, run_on, Outcome, Piece};
use netpac_analyzers::ssl::{DTLSAnalyzer, Limits};
use netpac_runtime::zeek::Proto;
use tls_support::*;

const DTLS10: u16 = 0xfeff;
const DTLS12: u16 = 0xfefd;
const ECDHE_RSA_AES128_GCM: u16 = 0xc02f;

// ---- a small DTLS writer ----------------------------------------------------------

/// A record: type, version, epoch, 48-bit sequence number, length, body.
fn drec(content_type: u8, version: u16, epoch: u16, seq: u64, body: &[u8]) -> Vec<u8> {
    let mut r = vec![content_type];
    r.extend(version.to_be_bytes());
    r.extend(epoch.to_be_bytes());
    r.extend(&seq.to_be_bytes()[2..]);
    r.extend(u16b(body.len()));
    r.extend(body);
    r
}

/// The piece `[offset, offset + len)` of handshake message `msg_seq` (its whole body `body`).
fn piece(msg_type: u8, msg_seq: u16, body: &[u8], offset: usize, len: usize) -> Vec<u8> {
    let mut m = vec![msg_type];
    m.extend(u24b(body.len()));
    m.extend(msg_seq.to_be_bytes());
    m.extend(u24b(offset));
    m.extend(u24b(len));
    m.extend(&body[offset..offset + len]);
    m
}

/// A whole handshake message in one piece.
fn whole(msg_type: u8, msg_seq: u16, body: &[u8]) -> Vec<u8> {
    piece(msg_type, msg_seq, body, 0, body.len())
}

/// A DTLS ClientHello body: version, random, session id, cookie, suites, compression, extensions.
fn dtls_client_hello(cookie: &[u8]) -> Vec<u8> {
    let mut b = DTLS12.to_be_bytes().to_vec();
    b.extend([0x11; 32]);
    b.extend(prefixed8(&[]));
    b.extend(prefixed8(cookie));
    b.extend(prefixed16(&ECDHE_RSA_AES128_GCM.to_be_bytes()));
    b.extend(prefixed8(&[0]));
    b.extend(prefixed16(&[extension(10, &prefixed16(&[0, 23])), extension(11, &prefixed8(&[0]))].concat()));
    b
}

fn dtls_server_hello() -> Vec<u8> {
    let mut b = DTLS12.to_be_bytes().to_vec();
    b.extend([0x22; 32]);
    b.extend(prefixed8(&[0x33; 32]));
    b.extend(ECDHE_RSA_AES128_GCM.to_be_bytes());
    b.push(0);
    b
}

fn certificate_chain() -> Vec<u8> {
    let leaf = certificate("dtls.example", &["dtls.example"], false, 0x42);
    prefixed24(&prefixed24(&leaf))
}

fn server_key_exchange() -> Vec<u8> {
    let mut ske = vec![3u8, 0, 23];
    ske.extend(prefixed8(&[4, 9, 8, 7]));
    ske.extend([4, 1]);
    ske.extend(prefixed16(b"signature"));
    ske
}

/// A DTLS 1.2 handshake: a HelloVerifyRequest round; the server's Certificate in
/// three pieces over two datagrams, the last piece first; each flight's records
/// packed into datagrams, so that the server's ChangeCipherSpec and its encrypted
/// Finished (epoch 1) share one.
fn dtls12() -> Vec<Piece> {
    let chain = certificate_chain();
    let third = chain.len() / 3;
    let hvr = [DTLS10.to_be_bytes().to_vec(), prefixed8(b"cookie")].concat();
    vec![
        orig(&drec(22, DTLS10, 0, 0, &whole(1, 0, &dtls_client_hello(&[])))),
        resp(&drec(22, DTLS10, 0, 0, &whole(3, 0, &hvr))),
        orig(&drec(22, DTLS12, 0, 1, &whole(1, 1, &dtls_client_hello(b"cookie")))),
        resp(&[
            drec(22, DTLS12, 0, 1, &whole(2, 1, &dtls_server_hello())),
            drec(22, DTLS12, 0, 4, &piece(11, 2, &chain, 2 * third, chain.len() - 2 * third)),
        ]
        .concat()),
        resp(&[
            drec(22, DTLS12, 0, 2, &piece(11, 2, &chain, 0, third)),
            drec(22, DTLS12, 0, 3, &piece(11, 2, &chain, third, third)),
            drec(22, DTLS12, 0, 5, &whole(12, 3, &server_key_exchange())),
            drec(22, DTLS12, 0, 6, &whole(14, 4, &[])),
        ]
        .concat()),
        orig(&[
            drec(22, DTLS12, 0, 2, &whole(16, 2, &prefixed8(&[4, 1, 2, 3]))),
            drec(20, DTLS12, 0, 3, &[1]),
            drec(22, DTLS12, 1, 0, &[0xee; 48]),
        ]
        .concat()),
        resp(&[drec(20, DTLS12, 0, 7, &[1]), drec(22, DTLS12, 1, 0, &[0xdd; 48])].concat()),
        orig(&drec(23, DTLS12, 1, 1, &[0x44; 64])),
    ]
}

fn dtls_events(pieces: &[Piece]) -> Outcome {
    run_on(Proto::Udp, Box::new(DTLSAnalyzer::new(0, Limits::default())), "DTLS", 443, pieces)
}

fn names(o: &Outcome) -> Vec<String> {
    o.events.iter().map(|e| e["event"].as_str().unwrap().to_string()).collect()
}

/// The datagrams of `pieces` between `client` and `server`, 10 ms apart.
fn datagrams(client: Host, server: Host, pieces: &[Piece]) -> Vec<Frame> {
    pieces
        .iter()
        .enumerate()
        .filter_map(|(i, p)| match p {
            Piece::Data(true, d) => Some(udp(1.0 + i as f64 * 0.01, client, server, d)),
            Piece::Data(false, d) => Some(udp(1.0 + i as f64 * 0.01, server, client, d)),
            Piece::End(_) => None,
        })
        .collect()
}

#[test]
fn dtls12_handshake_events() {
    let o = dtls_events(&dtls12());
    assert_eq!(o.verdict, "Confirmed");
    insta::assert_json_snapshot!(o);
    let n = names(&o);
    assert_eq!(n.iter().filter(|e| *e == "ssl_client_hello").count(), 2);
    // The certificate, put together from its three pieces, is one message.
    let types: Vec<u64> = o
        .events
        .iter()
        .filter(|e| e["event"] == "ssl_handshake_message")
        .map(|e| e["args"]["msg_type"].as_u64().unwrap())
        .collect();
    assert_eq!(types, vec![1, 3, 1, 2, 11, 12, 14, 16]);
    // The server's ChangeCipherSpec and encrypted Finished share a datagram: the
    // Finished sees the state the CCS left and establishes the connection.
    let ccs = n.iter().rposition(|e| e == "ssl_change_cipher_spec").unwrap();
    assert_eq!(n[ccs + 2], "ssl_established", "{n:?}");
    // Established and confirmed: the analyzer parses no more (the application data).
    assert_eq!(n.last().unwrap(), "ssl_encrypted_data");
    assert_eq!(n.iter().filter(|e| *e == "ssl_encrypted_data").count(), 2);
}

#[test]
fn dtls_ssl_log_and_certificate() {
    let frames = datagrams(Host::v4("10.0.0.1", 50000), Host::v4("10.0.0.2", 443), &dtls12());
    let (ssl, x509, conn) = ssl_and_x509_logs(&frames);
    insta::assert_snapshot!("dtls12_ssl_log", ssl);
    assert_eq!(conn, "50000 dtls");
    assert!(x509.contains("dtls.example"), "{x509}");
}

/// The `ssl_history` column of the one ssl.log row of `frames`.
fn history(frames: &[Frame]) -> String {
    let (ssl, _, _) = ssl_and_x509_logs(frames);
    let fields = ssl.lines().find(|l| l.starts_with("#fields")).expect("a header");
    let at = fields.split('\t').skip(1).position(|f| f == "ssl_history").unwrap();
    let row = ssl.lines().find(|l| !l.starts_with('#')).expect("an ssl.log row");
    row.split('\t').nth(at).unwrap().to_string()
}

#[test]
fn dtls_is_found_by_its_client_hello_and_a_late_start_swaps_the_roles() {
    // A STUN request from the server is the connection's first datagram, so the
    // client is the responder; the ClientHello then shows DPD it is DTLS (on no
    // DTLS port), and Zeek reports the handshake by role: `^` in the history, the
    // client upper case. (STUN sharing the flow is skipped, as DTLS.cc does.)
    let client = Host::v4("10.0.0.1", 50001);
    let server = Host::v4("10.0.0.2", 4433);
    let mut pieces = vec![resp(&stun_request())];
    pieces.extend(dtls12());
    let frames = datagrams(client, server, &pieces);
    let (_, _, conn) = ssl_and_x509_logs(&frames);
    assert_eq!(conn, "4433 dtls");
    let plain = history(&datagrams(client, Host::v4("10.0.0.2", 443), &dtls12()));
    assert_eq!(history(&frames), format!("^{plain}"));
}

// ---- hostile input ---------------------------------------------------------------

/// A STUN binding request (its magic cookie at offset 4).
fn stun_request() -> Vec<u8> {
    let mut stun = vec![0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42];
    stun.extend([7; 12]);
    stun.extend([0; 8]);
    stun
}

fn confirmed_start() -> Vec<Piece> {
    vec![orig(&drec(22, DTLS12, 0, 0, &whole(1, 0, &dtls_client_hello(&[]))))]
}

#[test]
fn records_of_another_version_are_reported_once_and_end_parsing_after_ten() {
    let mut pieces = confirmed_start();
    for i in 0..12u8 {
        // An RTP-like datagram (another version, made-up length): the rest of it is skipped.
        pieces.push(orig(&[0x80, 0x60, i, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3]));
    }
    // STUN sharing the flow is not counted.
    let stun = stun_request();
    let mut with_stun = confirmed_start();
    for _ in 0..20 {
        with_stun.push(orig(&stun));
    }
    with_stun.push(resp(&drec(21, DTLS12, 0, 1, &[2, 40])));
    let o = dtls_events(&pieces);
    assert!(o.verdict.starts_with("Violation"), "{}", o.verdict);
    let o = dtls_events(&with_stun);
    assert_eq!(o.verdict, "Confirmed");
    assert!(names(&o).contains(&"ssl_alert".to_string()));
}

#[test]
fn hostile_pieces_and_lengths_are_violations() {
    for bad in [
        // A message claiming 16 MiB, in a small piece.
        drec(22, DTLS12, 0, 1, &{
            let mut m = vec![11u8];
            m.extend(u24b(0xff_ffff));
            m.extend([0, 5, 0, 0, 0x10, 0, 0, 4, 1, 2, 3, 4]);
            m
        }),
        // A piece past the end of its message.
        drec(22, DTLS12, 0, 1, &{
            let mut m = vec![11u8];
            m.extend(u24b(10));
            m.extend([0, 5, 0, 0, 8, 0, 0, 4, 1, 2, 3, 4]);
            m
        }),
        // A record longer than its datagram.
        {
            let mut r = drec(22, DTLS12, 0, 1, &[1; 40]);
            r.truncate(30);
            r
        },
    ] {
        let mut pieces = confirmed_start();
        pieces.push(resp(&bad));
        let o = dtls_events(&pieces);
        assert!(o.verdict.starts_with("Violation"), "{}", o.verdict);
    }
    // More pieces than a message may come in.
    let body = vec![9u8; 64];
    let mut pieces = confirmed_start();
    for i in 0..40 {
        pieces.push(resp(&drec(22, DTLS12, 0, 1 + i as u64, &piece(11, 1, &body, i, 1))));
    }
    let o = dtls_events(&pieces);
    assert!(o.verdict.starts_with("Violation"), "{}", o.verdict);
}
