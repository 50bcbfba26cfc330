//! QUIC (grammars/quic.*): Initial packets these tests protect with the keys
//! RFC 9001 derives from the client's first DCID, decrypted and read as Zeek's
//! QUIC analyzer reads them; the TLS hellos in their CRYPTO frames go to an SSL
//! child analyzer. quic.log and ssl.log rows, events and services are Zeek
//! 8.2's (base/protocols/quic; its Spicy analyzer).

mod common;
mod lines_support;
mod tls_support;

use common::{analyzer_events, udp, Frame, Host};
use lines_support::log_rows;
use netpac_analyzers::quic::crypto::encrypt_initial;
use tls_support::*;

const V1: u32 = 1;
const V2: u32 = 0x6b33_43cf;
const DCID: &[u8] = &[0xc5, 0xa5, 0x01, 0x5a, 0xe8, 0xf4, 0x79, 0x78];
const CLIENT_SCID: &[u8] = &[0x34, 0x69, 0x6c];
const SERVER_SCID: &[u8] = &[0x01, 0x27, 0x5b, 0x13];

fn client() -> Host {
    Host::v4("10.0.0.1", 44174)
}

fn server() -> Host {
    Host::v4("10.0.0.2", 443)
}

/// A QUIC variable-length integer in its shortest form (up to 4 bytes).
fn varint(v: u64) -> Vec<u8> {
    if v < 64 {
        vec![v as u8]
    } else if v < 16384 {
        ((v as u16) | 0x4000).to_be_bytes().to_vec()
    } else {
        ((v as u32) | 0x8000_0000).to_be_bytes().to_vec()
    }
}

fn crypto_frame(offset: u64, data: &[u8]) -> Vec<u8> {
    let mut f = vec![0x06];
    f.extend(varint(offset));
    f.extend(varint(data.len() as u64));
    f.extend(data);
    f
}

fn ack_frame() -> Vec<u8> {
    vec![0x02, 0x00, 0x00, 0x00, 0x00]
}

fn close_frame(code: u64, reason: &[u8]) -> Vec<u8> {
    let mut f = vec![0x1c];
    f.extend(varint(code));
    f.extend(varint(0));
    f.extend(varint(reason.len() as u64));
    f.extend(reason);
    f
}

/// The long-header type bits of an Initial, as each version numbers it.
fn initial_type(version: u32) -> u8 {
    if version == V2 {
        1
    } else {
        0
    }
}

/// A protected Initial: `frames`, padded with PADDING frames to `pad_to` bytes of plaintext.
fn initial(version: u32, key_dcid: &[u8], dcid: &[u8], scid: &[u8], pn: u32, frames: &[u8], pad_to: usize, from_client: bool) -> Vec<u8> {
    let mut plain = frames.to_vec();
    if plain.len() < pad_to {
        plain.resize(pad_to, 0);
    }
    let pn_len = 2;
    let mut h = vec![0xc0 | (initial_type(version) << 4) | (pn_len as u8 - 1)];
    h.extend(version.to_be_bytes());
    h.extend(prefixed8(dcid));
    h.extend(prefixed8(scid));
    h.extend(varint(0)); // no token
    h.extend(varint((pn_len + plain.len() + 16) as u64));
    encrypt_initial(version, key_dcid, &h, pn, pn_len, &plain, from_client)
}

/// A long-header packet of another type (0-RTT: 1, Handshake: 2 in v1), its payload opaque.
fn protected(version: u32, kind: u8, dcid: &[u8], scid: &[u8], payload_len: usize) -> Vec<u8> {
    let mut p = vec![0xc1 | (kind << 4)];
    p.extend(version.to_be_bytes());
    p.extend(prefixed8(dcid));
    p.extend(prefixed8(scid));
    p.extend(varint(payload_len as u64));
    p.extend(vec![0x5a; payload_len]);
    p
}

/// The server's Retry: the connection id it picks, a token and a 16-byte integrity tag.
fn retry(server_cid: &[u8], token_len: usize) -> Vec<u8> {
    let mut p = vec![0xf0];
    p.extend(V1.to_be_bytes());
    p.extend(prefixed8(CLIENT_SCID));
    p.extend(prefixed8(server_cid));
    p.extend(vec![0xaa; token_len]);
    p.extend([0xbb; 16]);
    p
}

/// A short-header packet to a connection id.
fn short(dcid: &[u8]) -> Vec<u8> {
    let mut p = vec![0x41];
    p.extend(dcid);
    p.extend([0x77; 30]);
    p
}

fn quic_client_hello() -> Vec<u8> {
    client_hello(
        &[],
        &[0x1301, 0x1302],
        &[
            sni(b"blog.example.com"),
            alpn(&[b"h3"]),
            extension(43, &prefixed8(&[0x03, 0x04])),
            extension(51, &prefixed16(&[&[0x00, 0x1d][..], &prefixed16(&[0x42; 32])].concat())),
        ],
    )
}

fn quic_server_hello() -> Vec<u8> {
    server_hello(
        [0x33; 32],
        &[],
        0x1301,
        &[extension(43, &[0x03, 0x04]), extension(51, &[&[0x00, 0x1d][..], &prefixed16(&[0x24; 32])].concat())],
    )
}

/// A whole handshake: the client's Initial (ClientHello), the server's Initial
/// (ServerHello) with a Handshake packet in the same datagram, then 1-RTT.
fn handshake(version: u32) -> Vec<Frame> {
    let (c, s) = (client(), server());
    let ch = initial(version, DCID, DCID, CLIENT_SCID, 0, &crypto_frame(0, &quic_client_hello()), 1162, true);
    let sh = [
        initial(version, DCID, CLIENT_SCID, SERVER_SCID, 0, &[ack_frame(), crypto_frame(0, &quic_server_hello())].concat(), 0, false),
        protected(version, if version == V2 { 3 } else { 2 }, CLIENT_SCID, SERVER_SCID, 40),
    ]
    .concat();
    vec![
        udp(1.0, c, s, &ch),
        udp(1.1, s, c, &sh),
        udp(1.2, c, s, &short(SERVER_SCID)),
        udp(1.3, s, c, &short(CLIENT_SCID)),
        udp(1.4, c, s, &short(SERVER_SCID)),
    ]
}

fn quic_names() -> Vec<&'static str> {
    vec![
        "QUIC::initial_packet",
        "QUIC::handshake_packet",
        "QUIC::zero_rtt_packet",
        "QUIC::retry_packet",
        "QUIC::connection_close_frame",
        "QUIC::unhandled_version",
        "QUIC::discarded_packet",
        "QUIC::short_header_packet_threshold_crossed",
        "ssl_client_hello",
        "ssl_server_hello",
        "ssl_extension_server_name",
        "protocol_confirmation",
        "protocol_violation",
    ]
}

fn quic_rows(frames: &[Frame]) -> (String, String, Vec<String>) {
    let (rows, services) = log_rows(
        frames,
        vec![netpac_analyzers::quic::log::QuicLogger::sink(), netpac_analyzers::ssl::log::SslLogger::sink()],
    );
    let get = |n: &str| rows.get(n).cloned().unwrap_or_default();
    (get("quic.log"), get("ssl.log"), services)
}

#[test]
fn quic_handshake_events() {
    insta::assert_json_snapshot!(analyzer_events(&handshake(V1), quic_names()));
}

#[test]
fn quic_log_ssl_log_and_service() {
    let (quic, ssl, services) = quic_rows(&handshake(V1));
    insta::assert_snapshot!("quic_v1_logs", format!("{quic}\n{ssl}\n{services:?}"));
    assert!(quic.contains("ISishOoO"), "{quic}");
    assert_eq!(services, vec!["quic,ssl"]);
}

#[test]
fn quic_v2_reads_its_own_packet_types_and_keys() {
    let (quic, _, services) = quic_rows(&handshake(V2));
    assert!(quic.starts_with("quicv2 "), "{quic}");
    assert!(quic.contains("ISishOoO"), "{quic}");
    assert_eq!(services, vec!["quic,ssl"]);
}

/// The ClientHello in CRYPTO frames out of order over two Initials, zero padding
/// after the first and a 0-RTT packet after the second: the hello is whole after
/// the second Initial.
#[test]
fn crypto_frames_out_of_order_over_several_initials() {
    let (c, s) = (client(), server());
    let hello = quic_client_hello();
    let cut = hello.len() / 2;
    let first = [
        initial(V1, DCID, DCID, CLIENT_SCID, 0, &crypto_frame(cut as u64, &hello[cut..]), 600, true),
        vec![0; 40],
    ]
    .concat();
    let second = [
        initial(V1, DCID, DCID, CLIENT_SCID, 1, &[vec![0x01], crypto_frame(0, &hello[..cut])].concat(), 600, true),
        protected(V1, 1, DCID, CLIENT_SCID, 30),
    ]
    .concat();
    let frames = vec![udp(1.0, c, s, &first), udp(1.1, c, s, &second)];
    let (quic, ssl, services) = quic_rows(&frames);
    // The padding after the first Initial is X: that Initial was decrypted (its CRYPTO
    // data waited for the bytes before it).
    assert!(quic.ends_with("blog.example.com h3 IXISZ"), "{quic}");
    assert!(ssl.contains("blog.example.com"), "{ssl}");
    assert_eq!(services, vec!["quic,ssl"]);
}

/// A Retry ends the first row; the handshake starts anew with a new DCID and a new SSL analyzer.
#[test]
fn retry_starts_a_new_row_and_a_new_ssl_analyzer() {
    let (c, s) = (client(), server());
    let new_dcid: &[u8] = &[0x1b, 0x03, 0x6a, 0x11];
    let retry = retry(new_dcid, 20);
    let hello = crypto_frame(0, &quic_client_hello());
    let frames = vec![
        udp(1.0, c, s, &initial(V1, DCID, DCID, CLIENT_SCID, 0, &hello, 1162, true)),
        udp(1.1, s, c, &retry),
        udp(1.2, c, s, &initial(V1, new_dcid, new_dcid, CLIENT_SCID, 1, &hello, 1162, true)),
        udp(1.3, s, c, &initial(V1, new_dcid, CLIENT_SCID, SERVER_SCID, 0, &crypto_frame(0, &quic_server_hello()), 0, false)),
    ];
    let (quic, ssl, _) = quic_rows(&frames);
    let rows: Vec<&str> = quic.lines().collect();
    assert_eq!(rows.len(), 2, "{quic}");
    assert!(rows[0].ends_with("ISr"), "{quic}");
    assert!(rows[1].starts_with("1 1b036a11 34696c 01275b13"), "{quic}");
    assert!(rows[1].ends_with("ISis"), "{quic}");
    assert!(ssl.contains(" CCs "), "{ssl}");
}

/// A CONNECTION_CLOSE in a decrypted Initial ends the row.
#[test]
fn connection_close_in_an_initial_ends_the_row() {
    let (c, s) = (client(), server());
    let frames = vec![
        udp(1.0, c, s, &initial(V1, DCID, DCID, CLIENT_SCID, 0, &close_frame(0x128, b"no thanks"), 100, true)),
        udp(1.1, c, s, &short(SERVER_SCID)),
    ];
    let events = analyzer_events(&frames, vec!["QUIC::connection_close_frame"]);
    insta::assert_json_snapshot!(events);
    let (quic, _, _) = quic_rows(&frames);
    // The row ends at C; the short packet later finds no record (a weird, not a row).
    assert_eq!(quic.lines().count(), 1, "{quic}");
    assert!(quic.ends_with(" IC"), "{quic}");
}

/// A version Zeek cannot read: one row with `U`, a violation, nothing more parsed.
#[test]
fn unhandled_versions_are_logged_and_end_the_analysis() {
    let (c, s) = (client(), server());
    let mut p = vec![0xc0];
    p.extend(0x1001_0000u32.to_be_bytes());
    p.extend(prefixed8(&[0]));
    p.extend(prefixed8(&[]));
    p.extend([0u8; 30]);
    let frames = vec![udp(1.0, c, s, &p), udp(1.1, c, s, &initial(V1, DCID, DCID, CLIENT_SCID, 0, &crypto_frame(0, &quic_client_hello()), 1162, true))];
    let (quic, _, services) = quic_rows(&frames);
    assert_eq!(quic, "unknown-10010000 00 (empty) - - - U");
    assert_eq!(services, vec!["-"]);
}

/// An Initial whose tag does not verify is a violation: its `I` is logged, nothing after it is read.
#[test]
fn a_failed_decryption_ends_the_analysis() {
    let (c, s) = (client(), server());
    let mut bad = initial(V1, DCID, DCID, CLIENT_SCID, 0, &crypto_frame(0, &quic_client_hello()), 1162, true);
    let n = bad.len();
    bad[n - 1] ^= 1;
    let frames = vec![udp(1.0, c, s, &bad), udp(1.1, s, c, &protected(V1, 2, CLIENT_SCID, SERVER_SCID, 40))];
    let events = analyzer_events(&frames, vec!["QUIC::initial_packet", "QUIC::handshake_packet", "protocol_violation"]);
    insta::assert_json_snapshot!(events);
}

/// Lengths that point past the datagram, tokens that claim more than there is,
/// garbage and truncations: violations, never a panic.
#[test]
fn hostile_packets_are_violations() {
    let (c, s) = (client(), server());
    let good = initial(V1, DCID, DCID, CLIENT_SCID, 0, &crypto_frame(0, &quic_client_hello()), 1162, true);
    let mut frames = Vec::new();
    for cut in [1, 5, 6, 14, 20, 40, good.len() - 1] {
        frames.push(udp(1.0 + cut as f64 / 1e4, c, s, &good[..cut]));
    }
    // A token length of 2^14 - 1 and a Length of 16383 in a short datagram.
    let mut p = vec![0xc1];
    p.extend(1u32.to_be_bytes());
    p.extend(prefixed8(DCID));
    p.extend(prefixed8(&[]));
    p.extend([0x7f, 0xff, 0x7f, 0xff]);
    frames.push(udp(2.0, c, s, &p));
    // A decrypted Initial whose CRYPTO frame claims to be far past the stream start.
    frames.push(udp(2.1, c, s, &initial(V1, DCID, DCID, CLIENT_SCID, 0, &crypto_frame(100_000, b"x"), 100, true)));
    for f in &frames {
        let _ = analyzer_events(std::slice::from_ref(f), quic_names());
    }
    let events = analyzer_events(&frames[frames.len() - 1..], vec!["protocol_violation", "QUIC::initial_packet"]);
    insta::assert_json_snapshot!(events);
}

/// Retry, 0-RTT, discarded padding and an unknown version, as events.
#[test]
fn retry_zero_rtt_discards_and_unknown_versions_as_events() {
    let (c, s) = (client(), server());
    let new_dcid: &[u8] = &[0x1b, 0x03, 0x6a, 0x11];
    let retry = retry(new_dcid, 4);
    let hello = crypto_frame(0, &quic_client_hello());
    let mut unknown = vec![0xc0];
    unknown.extend(0xff00_0099u32.to_be_bytes());
    unknown.extend(prefixed8(&[9, 9]));
    unknown.extend(prefixed8(&[]));
    let other = Host::v4("10.0.0.3", 5555);
    let frames = vec![
        udp(1.0, c, s, &initial(V1, DCID, DCID, CLIENT_SCID, 0, &hello, 1162, true)),
        udp(1.1, s, c, &retry),
        udp(1.2, c, s, &[initial(V1, new_dcid, new_dcid, CLIENT_SCID, 1, &hello, 1000, true), vec![0; 20], ].concat()),
        udp(1.3, c, s, &protected(V1, 1, new_dcid, CLIENT_SCID, 25)),
        udp(1.4, other, s, &unknown),
    ];
    insta::assert_json_snapshot!(analyzer_events(
        &frames,
        vec![
            "QUIC::retry_packet",
            "QUIC::zero_rtt_packet",
            "QUIC::unhandled_version",
            "QUIC::discarded_packet",
        ],
    ));
}
