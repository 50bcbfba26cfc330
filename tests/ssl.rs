//! SSL/TLS (grammars/ssl.*): records, handshake messages reassembled across
//! records (the `handshake` sink), the per-direction encryption state, the
//! events and ssl.log, from TLS sessions these tests build. The expected
//! behaviour is Zeek 8.2.2's (its SSL analyzer and base/protocols/ssl scripts).

mod common;
mod lines_support;
mod tls_support;

use common::{Frame, Host};
use lines_support::{orig, resp, run, session, Outcome, Piece};
use netpac_analyzers::ssl::{self, Limits, SSLAnalyzer};
use tls_support::*;

// ---- handshakes (the writer is tests/tls_support) -------------------------------

const ECDHE_RSA_AES128_GCM: u16 = 0xc02f;
const DHE_RSA_AES128_GCM: u16 = 0x009e;
const RSA_AES128_GCM: u16 = 0x009c;
const TLS_AES_128_GCM: u16 = 0x1301;

/// A TLS 1.2 ECDHE handshake: the client's extensions cover each extension event;
/// the server's Certificate, ServerKeyExchange and ServerHelloDone share one record;
/// the ClientHello spans two records.
fn tls12_ecdhe() -> Vec<Piece> {
    let hello = client_hello(
        &[],
        &[ECDHE_RSA_AES128_GCM, RSA_AES128_GCM],
        &[
            sni(b"www.example.com"),
            extension(10, &prefixed16(&[0, 29, 0, 23])),
            extension(11, &prefixed8(&[0])),
            extension(13, &prefixed16(&[4, 1, 8, 4])),
            alpn(&[b"h2", b"http/1.1"]),
            extension(35, &[]),
            extension(43, &prefixed8(&[3, 3, 3, 2])),
            extension(45, &prefixed8(&[1])),
            extension(51, &prefixed16(&[0, 29, 0, 2, 0xaa, 0xbb])),
        ],
    );
    let (a, b) = hello.split_at(40);
    let mut server = Vec::new();
    server.extend(record(
        22,
        0x0303,
        &server_hello([1; 32], &[9; 32], ECDHE_RSA_AES128_GCM, &[alpn(&[b"h2"]), extension(0xff01, &[0])]),
    ));
    let certs = [prefixed24(b"certificate one"), prefixed24(b"cert two")].concat();
    let mut ske = vec![3u8, 0, 23];
    ske.extend(prefixed8(&[4, 1, 2, 3]));
    ske.extend([4, 1]); // sha256, rsa
    ske.extend(prefixed16(b"signature"));
    let flight = [
        handshake(11, &prefixed24(&certs)),
        handshake(12, &ske),
        handshake(14, &[]),
    ]
    .concat();
    server.extend(record(22, 0x0303, &flight));
    vec![
        orig(&record(22, 0x0301, a)),
        orig(&record(22, 0x0301, b)),
        resp(&server),
        orig(&[
            record(22, 0x0303, &handshake(16, &prefixed8(&[4, 5, 6, 7]))),
            record(20, 0x0303, &[1]),
            record(22, 0x0303, &[0xee; 40]),
        ]
        .concat()),
        resp(&[
            record(22, 0x0303, &handshake(4, &[0, 0, 1, 0x2c, 0, 3, 0xaa, 0xbb, 0xcc])),
            record(20, 0x0303, &[1]),
            record(22, 0x0303, &[0xdd; 40]),
        ]
        .concat()),
        orig(&record(23, 0x0303, &[0x11; 30])),
        resp(&record(23, 0x0303, &[0x22; 50])),
    ]
}

fn ssl_events(pieces: &[Piece]) -> Outcome {
    run(Box::new(SSLAnalyzer::new(0, Limits::default())), "SSL", 443, pieces)
}

fn names(o: &Outcome) -> Vec<String> {
    o.events
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn tls12_handshake_events() {
    let o = ssl_events(&tls12_ecdhe());
    assert_eq!(o.verdict, "Confirmed");
    insta::assert_json_snapshot!(o);
    let n = names(&o);
    // Handshake events come with the record that completes the message, before its
    // ssl_plaintext_data; the ClientHello's first record has only its own.
    assert_eq!(n[0], "ssl_plaintext_data");
    assert_eq!(
        n.iter().filter(|e| *e == "ssl_handshake_message").count(),
        7,
        "ClientHello, ServerHello, Certificate, ServerKeyExchange, ServerHelloDone, ClientKeyExchange, NewSessionTicket"
    );
    // The server's encrypted Finished, after both CCSs, establishes the connection.
    let established = n.iter().position(|e| e == "ssl_established").unwrap();
    assert_eq!(n[established + 1], "ssl_encrypted_data");
    assert_eq!(o.events[established + 1]["args"]["is_orig"], false);
}

#[test]
fn where_records_cut_the_handshake_does_not_matter() {
    let whole = ssl_events(&tls12_ecdhe());
    // The same client bytes, cut differently by TCP: record boundaries matter,
    // segment boundaries do not.
    let mut pieces = tls12_ecdhe();
    let Piece::Data(_, first) = pieces.remove(0) else { unreachable!() };
    let Piece::Data(_, second) = pieces.remove(0) else { unreachable!() };
    let joined = [first, second].concat();
    let mut cut: Vec<Piece> = joined.chunks(7).map(orig).collect();
    cut.extend(pieces);
    let o = ssl_events(&cut);
    let handshake_events = |o: &Outcome| -> Vec<String> {
        o.events
            .iter()
            .filter(|e| e["event"] != "ssl_plaintext_data")
            .map(|e| format!("{} {}", e["event"], e["args"]))
            .collect()
    };
    assert_eq!(handshake_events(&whole), handshake_events(&o));
}

#[test]
fn key_exchange_follows_the_chosen_cipher() {
    // DHE: the server's p, g, Ys; the client's Yc (its whole body).
    let mut dh = vec![];
    dh.extend(prefixed16(&[0x17; 8]));
    dh.extend(prefixed16(&[2]));
    dh.extend(prefixed16(&[0x33; 8]));
    dh.extend([4, 1]);
    dh.extend(prefixed16(b"sig"));
    let dhe = ssl_events(&[
        orig(&record(22, 0x0301, &client_hello(&[], &[DHE_RSA_AES128_GCM], &[]))),
        resp(&record(
            22,
            0x0303,
            &[server_hello([2; 32], &[], DHE_RSA_AES128_GCM, &[]), handshake(12, &dh)].concat(),
        )),
        orig(&record(22, 0x0303, &handshake(16, &prefixed16(&[0x44; 8])))),
    ]);
    let n = names(&dhe);
    assert!(n.contains(&"ssl_dh_server_params".to_string()), "{n:?}");
    assert!(n.contains(&"ssl_server_signature".to_string()), "{n:?}");
    let yc = dhe.events.iter().find(|e| e["event"] == "ssl_dh_client_params").unwrap();
    assert_eq!(yc["args"]["Yc"], "\\x00\\x08DDDDDDDD");
    // RSA: the encrypted premaster secret.
    let rsa = ssl_events(&[
        orig(&record(22, 0x0301, &client_hello(&[], &[RSA_AES128_GCM], &[]))),
        resp(&record(22, 0x0303, &server_hello([3; 32], &[], RSA_AES128_GCM, &[]))),
        orig(&record(22, 0x0303, &handshake(16, &prefixed16(&[0x55; 4])))),
    ]);
    assert!(names(&rsa).contains(&"ssl_rsa_client_pms".to_string()));
    insta::assert_json_snapshot!("dhe_and_rsa", (dhe.events, rsa.events));
}

#[test]
fn alerts_heartbeats_and_stapled_ocsp_in_the_clear() {
    let mut status = vec![1u8];
    status.extend(prefixed24(b"ocsp response"));
    let o = ssl_events(&[
        orig(&record(22, 0x0301, &client_hello(&[], &[RSA_AES128_GCM], &[]))),
        resp(&record(
            22,
            0x0303,
            &[server_hello([4; 32], &[], RSA_AES128_GCM, &[]), handshake(22, &status)].concat(),
        )),
        orig(&record(24, 0x0303, &[1, 0, 3, b'a', b'b', b'c', 0, 0])),
        resp(&record(21, 0x0303, &[2, 40, 1, 0])),
    ]);
    insta::assert_json_snapshot!(o);
    let n = names(&o);
    for e in ["ssl_stapled_ocsp", "ssl_heartbeat", "ssl_alert"] {
        assert!(n.contains(&e.to_string()), "{e} missing from {n:?}");
    }
    assert_eq!(n.iter().filter(|e| *e == "ssl_alert").count(), 2);
}

/// TLS 1.3: the version from supported_versions, then encrypted records before the
/// connection is established (`ssl_probable_encrypted_handshake_message`).
#[test]
fn tls13_handshake_events() {
    insta::assert_json_snapshot!(ssl_events(&tls13()));
}

#[test]
fn every_ssl_event_is_raised_by_some_test_traffic() {
    let mut seen: Vec<String> = Vec::new();
    for o in [
        ssl_events(&tls12_ecdhe()),
        ssl_events(&tls13()),
    ] {
        seen.extend(names(&o));
    }
    // Covered by the other tests of this file.
    seen.extend(
        [
            "ssl_dh_server_params",
            "ssl_dh_client_params",
            "ssl_rsa_client_pms",
            "ssl_stapled_ocsp",
            "ssl_heartbeat",
            "ssl_alert",
            "ssl_extension_signed_certificate_timestamp",
            "ssl_connection_flipped",
            // Declared `never`: Zeek 8 has no such event (the curve comes with ssl_ecdh_server_params).
            "ssl_server_curve",
        ]
        .map(String::from),
    );
    let missing: Vec<&&str> = ssl::EVENT_NAMES.iter().filter(|e| !seen.iter().any(|s| s == **e)).collect();
    assert!(missing.is_empty(), "no test raises {missing:?}");
}

#[test]
fn a_client_hello_from_the_responder_swaps_the_roles() {
    // The responder speaks first as a TLS client (a capture that began late, or
    // unusual roles): Zeek says so with ssl_connection_flipped and reports the
    // handshake by TLS role, not by connection direction.
    let hello = record(22, 0x0301, &client_hello(&[], &[RSA_AES128_GCM], &[sni(b"flip.example")]));
    let answer = record(22, 0x0303, &[server_hello([3; 32], &[], RSA_AES128_GCM, &[]), handshake(14, &[])].concat());
    let o = ssl_events(&[resp(&hello), orig(&answer)]);
    let n = names(&o);
    assert_eq!(n.iter().filter(|e| *e == "ssl_connection_flipped").count(), 1, "{n:?}");
    let flipped_at = n.iter().position(|e| e == "ssl_connection_flipped").unwrap();
    let hello_at = n.iter().position(|e| e == "ssl_client_hello").unwrap();
    assert!(flipped_at < hello_at, "{n:?}");
    let by_role: Vec<(u64, bool)> = o
        .events
        .iter()
        .filter(|e| e["event"] == "ssl_handshake_message")
        .map(|e| (e["args"]["msg_type"].as_u64().unwrap(), e["args"]["is_orig"].as_bool().unwrap()))
        .collect();
    assert_eq!(by_role, vec![(1, true), (2, false), (14, false)]);
    // ClientHellos from both sides swap the roles back and forth: the swap back is
    // a weird, reported once.
    let o = ssl_events(&[resp(&hello), orig(&hello), resp(&hello), orig(&hello)]);
    assert_eq!(names(&o).iter().filter(|e| *e == "ssl_connection_flipped").count(), 4);
    assert_eq!(o.weirds.iter().filter(|w| w.starts_with("SSL_unclear_connection_direction")).count(), 1, "{:?}", o.weirds);
    // ssl.log: `^` first, the client's letters upper case.
    let frames = session(1.0, Host::v4("10.0.0.1", 40100), Host::v4("10.0.0.2", 443), &[resp(&hello), orig(&answer)]);
    let (ssl, _) = ssl_log(&frames);
    let row = ssl.lines().find(|l| !l.starts_with('#')).unwrap();
    assert!(row.contains("\t^Csn\t"), "{row}");
}

/// A TLS 1.3 handshake as browsers send it: the version in supported_versions,
/// middlebox-compatible CCSs, the encrypted handshake in application data records.
fn tls13() -> Vec<Piece> {
    let hello = client_hello(
        &[5; 32],
        &[TLS_AES_128_GCM],
        &[
            sni(b"tls13.example"),
            extension(43, &prefixed8(&[3, 4, 3, 3])),
            extension(51, &prefixed16(&[0, 29, 0, 2, 0xaa, 0xbb])),
        ],
    );
    let sh = server_hello(
        [6; 32],
        &[5; 32],
        TLS_AES_128_GCM,
        &[extension(43, &[3, 4]), extension(51, &[0, 29, 0, 2, 0xcc, 0xdd])],
    );
    vec![
        orig(&record(22, 0x0301, &hello)),
        resp(&[record(22, 0x0303, &sh), record(20, 0x0303, &[1]), record(23, 0x0303, &[0x33; 60])].concat()),
        orig(&[record(20, 0x0303, &[1]), record(23, 0x0303, &[0x44; 40])].concat()),
        orig(&record(23, 0x0303, &[0x45; 40])),
    ]
}

/// A TLS 1.2 RSA handshake whose server sends a leaf for `www.example.com` and a CA.
fn tls12_with_certificates() -> Vec<Piece> {
    let leaf = certificate("www.example.com", &["www.example.com", "*.example.org"], false, 0x81);
    let ca = certificate("Example CA", &[], true, 2);
    let chain = [prefixed24(&leaf), prefixed24(&ca)].concat();
    vec![
        orig(&record(22, 0x0301, &client_hello(&[], &[RSA_AES128_GCM], &[sni(b"www.example.com")]))),
        resp(&record(
            22,
            0x0303,
            &[
                server_hello([8; 32], &[], RSA_AES128_GCM, &[]),
                handshake(11, &prefixed24(&chain)),
                handshake(14, &[]),
            ]
            .concat(),
        )),
        orig(&[
            record(22, 0x0303, &handshake(16, &prefixed16(&[0x55; 4]))),
            record(20, 0x0303, &[1]),
            record(22, 0x0303, &[0xee; 40]),
        ]
        .concat()),
        resp(&[record(20, 0x0303, &[1]), record(22, 0x0303, &[0xdd; 40])].concat()),
    ]
}

// ---- ssl.log through the engine -------------------------------------------------

fn ssl_log(frames: &[Frame]) -> (String, String) {
    let (ssl, _, conn) = ssl_and_x509_logs(frames);
    (ssl, conn)
}


#[test]
fn certificates_give_fingerprints_and_x509_log() {
    let server = Host::v4("10.0.0.2", 443);
    let mut frames = session(1.0, Host::v4("10.0.0.1", 40020), server, &tls12_with_certificates());
    // The same server again: x509.log logs a certificate once a day.
    frames.extend(session(2.0, Host::v4("10.0.0.1", 40021), server, &tls12_with_certificates()));
    let (ssl, x509, _) = ssl_and_x509_logs(&frames);
    insta::assert_snapshot!("certificates_ssl_log", ssl);
    insta::assert_snapshot!("certificates_x509_log", x509);
    let fps = netpac_analyzers::x509::fingerprint(&certificate("www.example.com", &["www.example.com", "*.example.org"], false, 0x81));
    assert!(ssl.contains(&fps), "{ssl}");
    assert_eq!(x509.lines().filter(|l| !l.starts_with('#')).count(), 2);
}

#[test]
fn ssl_log_rows() {
    let server = Host::v4("10.0.0.2", 443);
    let mut frames = session(1.0, Host::v4("10.0.0.1", 40001), server, &tls12_ecdhe());
    frames.extend(session(2.0, Host::v4("10.0.0.1", 40002), server, &tls13()));
    // A TLS server on another port, found by its ClientHello.
    frames.extend(session(3.0, Host::v4("10.0.0.1", 40003), Host::v4("10.0.0.2", 8443), &tls13()));
    let (log, conn) = ssl_log(&frames);
    insta::assert_snapshot!(log);
    assert_eq!(conn, "40001 ssl\n40002 ssl\n40003 ssl");
}

#[test]
fn starttls_continues_in_ssl() {
    let server = Host::v4("10.0.0.3", 25);
    let mut pieces = vec![
        resp(b"220 mail.example ESMTP\r\n"),
        orig(b"EHLO client\r\n"),
        resp(b"250-mail.example\r\n250 STARTTLS\r\n"),
        orig(b"STARTTLS\r\n"),
        resp(b"220 go ahead\r\n"),
    ];
    pieces.extend(tls13());
    let frames = session(1.0, Host::v4("10.0.0.1", 40010), server, &pieces);
    let (log, conn) = ssl_log(&frames);
    assert_eq!(conn, "40010 smtp,ssl");
    assert!(log.contains("tls13.example"), "{log}");
}

// ---- hostile input ---------------------------------------------------------------

#[test]
fn a_huge_handshake_message_is_refused_not_buffered() {
    let mut a = SSLAnalyzer::new(0, Limits::default());
    let o = {
        let claim = [1u8, 0xff, 0xff, 0xff];
        ssl_events(&[orig(&record(22, 0x0301, &claim)), orig(&record(22, 0x0301, &[0; 1000]))])
    };
    assert!(o.verdict.starts_with("Violation"), "{}", o.verdict);
    // Nothing is held for it.
    use netpac_runtime::analyzer::{Analyzer, AnalyzerCx, TestConn};
    use netpac_runtime::event::Events;
    use netpac_runtime::zeek::{Proto, Time};
    let conn = TestConn::new(Proto::Tcp, 443, "CHuge");
    let mut events = Events::new();
    let mut weirds = Vec::new();
    let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, "SSL");
    a.deliver(&mut cx, true, &record(22, 0x0301, &[1, 0x00, 0xff, 0xff]));
    for _ in 0..20 {
        a.deliver(&mut cx, true, &record(22, 0x0301, &[0; 16000]));
    }
    assert!(a.state.sink_handshake[0].buffered() <= 65539);
}

#[test]
fn empty_records_raise_nothing_and_hold_nothing() {
    let pieces: Vec<Piece> = (0..1000).map(|_| orig(&record(23, 0x0303, &[]))).collect();
    let o = ssl_events(&pieces);
    assert!(o.events.is_empty(), "{:?}", o.events.first());
}

#[test]
fn not_tls_is_a_violation() {
    // The bytes of an HTTP request read as a record header claim 8,239 bytes; the
    // violation comes once that many are there.
    let mut request = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    request.resize(9000, b'a');
    let o = ssl_events(&[orig(&request)]);
    assert!(o.verdict.starts_with("Violation"), "{}", o.verdict);
    assert!(o.events.is_empty());
}

#[test]
fn an_sslv2_client_hello_opens_a_tls_connection() {
    // SSLv2 header (2-byte length), ClientHello type 1, version 3.1, then
    // cipher-spec, session-id and challenge lengths, the 3-byte specs, the challenge.
    let mut body = vec![1u8, 3, 1, 0, 6, 0, 0, 0, 16];
    body.extend([0x00, 0x00, 0x04, 0x01, 0x00, 0x80]);
    body.extend([0xcc; 16]);
    let mut v2 = vec![0x80 | (body.len() >> 8) as u8, body.len() as u8];
    v2.extend(&body);
    let mut pieces = vec![orig(&v2)];
    pieces.extend(tls12_with_certificates().into_iter().skip(1));
    let o = ssl_events(&pieces);
    assert_eq!(o.verdict, "Confirmed");
    let hello = o.events.iter().find(|e| e["event"] == "ssl_client_hello").unwrap();
    assert_eq!(hello["args"]["record_version"], 0);
    assert_eq!(hello["args"]["version"], 0x0301);
    assert_eq!(hello["args"]["ciphers"], serde_json::json!([4, 0x10080]));
    let server = Host::v4("10.0.0.2", 443);
    let (log, _) = ssl_log(&session(1.0, Host::v4("10.0.0.1", 40030), server, &pieces));
    // `C` for the SSLv2 hello, then the TLS handshake as usual.
    assert!(log.contains("\tCsxnGIi\t"), "{log}");
}

#[test]
fn an_sslv2_record_later_is_a_violation() {
    // Mid-handshake (an established connection is no longer parsed at all).
    let mut pieces: Vec<Piece> = tls12_ecdhe().into_iter().take(3).collect();
    pieces.push(orig(&[0x80, 3, 1, 3, 1]));
    let o = ssl_events(&pieces);
    assert!(o.verdict.starts_with("Violation"), "{}", o.verdict);
}

#[test]
fn a_connection_whose_start_was_not_seen_is_not_analysed() {
    use common::tcp;
    let (c, s) = (Host::v4("10.0.0.1", 40040), Host::v4("10.0.0.2", 443));
    // No handshake: the first packet is the client's data.
    let mut frames = Vec::new();
    let mut seq = 1000u32;
    for p in tls13() {
        let Piece::Data(is_orig, data) = p else { continue };
        if is_orig {
            frames.push(tcp(1.0, c, s, "PA", seq, 5000, &data));
            seq += data.len() as u32;
        }
    }
    let (log, conn) = ssl_log(&frames);
    assert!(log.lines().all(|l| l.starts_with('#')), "{log}");
    assert_eq!(conn, "40040 -");
}

/// An SSLv2 record: 2-byte header with the high bit set, then the body.
fn v2_record(body: &[u8]) -> Vec<u8> {
    let mut r = vec![0x80 | (body.len() >> 8) as u8, body.len() as u8];
    r.extend(body);
    r
}

#[test]
fn an_sslv2_connection_is_logged_as_zeek_logs_it() {
    let mut hello = vec![1u8, 0, 2, 0, 3, 0, 0, 0, 16, 0x07, 0x00, 0xc0];
    hello.extend([0xcc; 16]);
    let cert = certificate("v2.example", &[], false, 9);
    let mut server = vec![4u8, 0, 1, 0, 2];
    server.extend(u16b(cert.len()));
    server.extend(u16b(3));
    server.extend(u16b(16));
    server.extend(&cert);
    server.extend([0x07, 0x00, 0xc0]);
    server.extend([0xdd; 16]);
    let pieces = vec![
        orig(&v2_record(&hello)),
        resp(&v2_record(&server)),
        orig(&v2_record(&[2, 0x07, 0x00, 0xc0, 0, 0, 0, 8, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8])),
        resp(&v2_record(&[0x55; 20])),
    ];
    let o = ssl_events(&pieces);
    assert_eq!(o.verdict, "Confirmed");
    assert!(names(&o).contains(&"ssl_established".to_string()), "{:?}", names(&o));
    let server_hello = o.events.iter().find(|e| e["event"] == "ssl_server_hello").unwrap();
    assert_eq!(server_hello["args"]["cipher"], 0x0700c0);
    let (log, x509, _) = ssl_and_x509_logs(&session(1.0, Host::v4("10.0.0.1", 40050), Host::v4("10.0.0.2", 443), &pieces));
    insta::assert_snapshot!("sslv2_ssl_log", log);
    assert_eq!(x509.lines().filter(|l| !l.starts_with('#')).count(), 1);
}

#[test]
fn zeeks_ssl_weirds() {
    // Twelve alerts in one record: ten are read, the rest is a weird.
    let mut alerts = Vec::new();
    for _ in 0..12 {
        alerts.extend([1u8, 0]);
    }
    // A server name of an unknown type swallows what follows it.
    let mut names = vec![0u8];
    names.extend(prefixed16(b"a.example"));
    names.extend([7u8, 0, 1, b'x']);
    names.extend([0u8, 0, 1, b'y']);
    let mut empty_ocsp = vec![1u8];
    empty_ocsp.extend(prefixed24(b""));
    let o = ssl_events(&[
        orig(&record(22, 0x0301, &client_hello(&[], &[RSA_AES128_GCM], &[extension(0, &prefixed16(&names))]))),
        resp(&record(
            22,
            0x0303,
            &[server_hello([4; 32], &[], RSA_AES128_GCM, &[]), handshake(22, &empty_ocsp)].concat(),
        )),
        resp(&record(21, 0x0303, &alerts)),
    ]);
    assert_eq!(
        o.weirds,
        [
            "ssl_ext_unknown_server_name_type [7] (SSL)",
            "SSL_zero_length_stapled_OCSP_message [] (SSL)",
            "SSL_excessive_alerts_in_record [12] (SSL)",
        ]
    );
    let sni = o.events.iter().find(|e| e["event"] == "ssl_extension_server_name").unwrap();
    assert_eq!(sni["args"]["names"], serde_json::json!(["a.example"]));
    let n = names_of(&o);
    assert_eq!(n.iter().filter(|e| *e == "ssl_alert").count(), 10);
    assert!(!n.contains(&"ssl_stapled_ocsp".to_string()));
}

fn names_of(o: &Outcome) -> Vec<String> {
    names(o)
}

#[test]
fn signed_certificate_timestamps_one_event_each() {
    let sct = |ts: u64| {
        let mut s = vec![0u8];
        s.extend([0x11; 32]);
        s.extend(ts.to_be_bytes());
        s.extend(prefixed16(&[]));
        s.extend([4, 3]);
        s.extend(prefixed16(b"sig"));
        prefixed16(&s)
    };
    let list = prefixed16(&[sct(1), sct(2)].concat());
    let o = ssl_events(&[
        orig(&record(22, 0x0301, &client_hello(&[], &[RSA_AES128_GCM], &[extension(18, &[])]))),
        resp(&record(22, 0x0303, &server_hello([4; 32], &[], RSA_AES128_GCM, &[extension(18, &list)]))),
    ]);
    let scts: Vec<&serde_json::Value> = o
        .events
        .iter()
        .filter(|e| e["event"] == "ssl_extension_signed_certificate_timestamp")
        .collect();
    assert_eq!(scts.len(), 2, "the client's empty extension raises none");
    // An empty extension body is not parsed (it would be too short for its format).
    assert_eq!(o.verdict, "Confirmed");
    assert!(names(&o).contains(&"ssl_client_hello".to_string()));
    assert_eq!(scts[1]["args"]["timestamp"], 2);
    assert_eq!(scts[0]["args"]["signature_and_hashalgorithm"], serde_json::json!({"HashAlgorithm": 4, "SignatureAlgorithm": 3}));
}

#[test]
fn set_ssl_established_encrypts_without_an_event() {
    let mut state = ssl::SSLState::default();
    ssl::start_encryption(&mut state);
    assert_eq!((state.client_encrypted, state.server_encrypted, state.established), (1, 1, 1));
}

#[test]
fn an_unknown_handshake_type_is_a_violation_but_still_an_event() {
    let o = ssl_events(&[orig(&record(22, 0x0301, &handshake(99, &[1, 2, 3])))]);
    assert!(o.verdict.starts_with("Violation(\"unknown handshake message"), "{}", o.verdict);
    let m = o.events.iter().find(|e| e["event"] == "ssl_handshake_message").unwrap();
    assert_eq!(m["args"]["msg_type"], 99);
}

#[test]
fn tls_through_an_http_proxy_is_found_by_its_signature() {
    let mut pieces = vec![
        orig(b"CONNECT tls13.example:443 HTTP/1.1\r\nHost: tls13.example:443\r\n\r\n"),
        resp(b"HTTP/1.1 200 Connection established\r\n\r\n"),
    ];
    pieces.extend(tls13());
    let frames = session(1.0, Host::v4("10.0.0.1", 40060), Host::v4("10.0.0.4", 3128), &pieces);
    let (log, conn) = ssl_log(&frames);
    assert_eq!(conn, "40060 http,ssl");
    assert!(log.contains("tls13.example"), "{log}");
}

#[test]
fn a_chain_of_thousands_of_certificates_stays_bounded() {
    // 2,000 certificates in one Certificate message (about 1.3 MB, within the
    // 10 MiB a handshake message may hold): each goes to X.509 once, and the
    // log writer cuts the fingerprint vector as Zeek 8's log limits do.
    let leaf = certificate("www.example.com", &["www.example.com"], false, 1);
    let one = prefixed24(&leaf);
    let chain: Vec<u8> = std::iter::repeat_n(one, 2000).flatten().collect();
    let message = handshake(11, &prefixed24(&chain));
    let mut server = record(22, 0x0303, &server_hello([8; 32], &[], RSA_AES128_GCM, &[]));
    for piece in message.chunks(16_000) {
        server.extend(record(22, 0x0303, piece));
    }
    let mut pieces = vec![orig(&record(
        22,
        0x0301,
        &client_hello(&[], &[RSA_AES128_GCM], &[sni(b"www.example.com")]),
    ))];
    pieces.extend(server.chunks(60_000).map(resp));
    let (log, x509, _) = ssl_and_x509_logs(&session(1.0, Host::v4("10.0.0.1", 40070), Host::v4("10.0.0.2", 443), &pieces));
    let row = log.lines().find(|l| !l.starts_with('#')).unwrap();
    let fps = row.split('\t').nth(15).unwrap();
    assert_eq!(fps.split(',').count(), 100, "Zeek 8 writes at most 100 elements of a vector");
    // The same certificate in the same role is logged once.
    assert_eq!(x509.lines().filter(|l| !l.starts_with('#')).count(), 2);
}
