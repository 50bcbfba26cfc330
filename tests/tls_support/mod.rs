//! Builders of TLS records, handshake messages and certificates for the SSL
//! and DTLS tests (each writes the bytes a peer would send; nothing is checked here).
#![allow(dead_code)]

use crate::common::{Config, Frame, Harness};

pub fn u16b(v: usize) -> [u8; 2] {
    (v as u16).to_be_bytes()
}

pub fn u24b(v: usize) -> [u8; 3] {
    let b = (v as u32).to_be_bytes();
    [b[1], b[2], b[3]]
}

/// A record: type, version, length, body.
pub fn record(content_type: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let mut r = vec![content_type];
    r.extend(version.to_be_bytes());
    r.extend(u16b(body.len()));
    r.extend(body);
    r
}

/// A handshake message: type, 24-bit length, body.
pub fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![msg_type];
    m.extend(u24b(body.len()));
    m.extend(body);
    m
}

pub fn extension(code: u16, data: &[u8]) -> Vec<u8> {
    let mut e = code.to_be_bytes().to_vec();
    e.extend(u16b(data.len()));
    e.extend(data);
    e
}

pub fn prefixed16(body: &[u8]) -> Vec<u8> {
    let mut v = u16b(body.len()).to_vec();
    v.extend(body);
    v
}

pub fn prefixed8(body: &[u8]) -> Vec<u8> {
    let mut v = vec![body.len() as u8];
    v.extend(body);
    v
}

pub fn client_hello(session_id: &[u8], ciphers: &[u16], extensions: &[Vec<u8>]) -> Vec<u8> {
    let mut b = 0x0303u16.to_be_bytes().to_vec();
    b.extend(0x5a5a_5a5au32.to_be_bytes()); // gmt_unix_time
    b.extend([7u8; 28]);
    b.extend(prefixed8(session_id));
    let cs: Vec<u8> = ciphers.iter().flat_map(|c| c.to_be_bytes()).collect();
    b.extend(prefixed16(&cs));
    b.extend(prefixed8(&[0]));
    b.extend(prefixed16(&extensions.concat()));
    handshake(1, &b)
}

pub fn server_hello(random: [u8; 32], session_id: &[u8], cipher: u16, extensions: &[Vec<u8>]) -> Vec<u8> {
    let mut b = 0x0303u16.to_be_bytes().to_vec();
    b.extend(random);
    b.extend(prefixed8(session_id));
    b.extend(cipher.to_be_bytes());
    b.push(0);
    if !extensions.is_empty() {
        b.extend(prefixed16(&extensions.concat()));
    }
    handshake(2, &b)
}

pub fn sni(name: &[u8]) -> Vec<u8> {
    let mut entry = vec![0u8];
    entry.extend(prefixed16(name));
    extension(0, &prefixed16(&entry))
}

pub fn alpn(protocols: &[&[u8]]) -> Vec<u8> {
    let list: Vec<u8> = protocols.iter().flat_map(|p| prefixed8(p)).collect();
    extension(16, &prefixed16(&list))
}

pub fn prefixed24(body: &[u8]) -> Vec<u8> {
    let mut v = u24b(body.len()).to_vec();
    v.extend(body);
    v
}

pub fn der(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    match body.len() {
        n if n < 0x80 => v.push(n as u8),
        n if n < 0x100 => v.extend([0x81, n as u8]),
        n => v.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    v.extend(body);
    v
}

pub fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    der(0x30, &parts.concat())
}

pub fn oid(encoded: &[u8]) -> Vec<u8> {
    der(0x06, encoded)
}

/// `CN=<cn>,O=Example Org,C=US` in DER order (C first).
pub fn name(cn: &str) -> Vec<u8> {
    let rdn = |o: &[u8], tag: u8, v: &str| der(0x31, &seq(&[oid(o), der(tag, v.as_bytes())]));
    seq(&[
        rdn(&[0x55, 4, 6], 0x13, "US"),
        rdn(&[0x55, 4, 10], 0x0c, "Example Org"),
        rdn(&[0x55, 4, 3], 0x13, cn),
    ])
}

/// A v3 certificate for `cn` with an RSA key (2048-bit modulus, exponent 65537),
/// SAN DNS names and, for a CA, basic constraints.
pub fn certificate(cn: &str, san: &[&str], ca: bool, serial: u8) -> Vec<u8> {
    let sha256_rsa = seq(&[oid(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 1, 11]), der(0x05, &[])]);
    let mut modulus = vec![0u8, 0xc3];
    modulus.extend([0x5a; 255]);
    let rsa_key = seq(&[der(0x02, &modulus), der(0x02, &[1, 0, 1])]);
    let mut bits = vec![0u8];
    bits.extend(rsa_key);
    let spki = seq(&[
        seq(&[oid(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 1, 1]), der(0x05, &[])]),
        der(0x03, &bits),
    ]);
    let mut exts = Vec::new();
    if !san.is_empty() {
        let names: Vec<Vec<u8>> = san.iter().map(|d| der(0x82, d.as_bytes())).collect();
        exts.push(seq(&[oid(&[0x55, 29, 17]), der(0x04, &seq(&names))]));
    }
    exts.push(seq(&[oid(&[0x55, 29, 19]), der(0x04, &seq(&[der(0x01, &[if ca { 0xff } else { 0 }])][..if ca { 1 } else { 0 }]))]));
    let tbs = seq(&[
        der(0xa0, &der(0x02, &[2])),
        der(0x02, &[serial]),
        sha256_rsa.clone(),
        name("Example CA"),
        seq(&[der(0x17, b"240101000000Z"), der(0x17, b"341231235959Z")]),
        name(cn),
        spki,
        der(0xa3, &seq(&exts)),
    ]);
    seq(&[tbs, sha256_rsa, der(0x03, &[0, 1, 2, 3, 4])])
}

/// ssl.log, x509.log and conn.log's `orig_p service` pairs of `frames` run through the engine.
pub fn ssl_and_x509_logs(frames: &[Frame]) -> (String, String, String) {
    let mut h = Harness::with_sinks(
        Config::default(),
        netpac_analyzers::registry(),
        Some(vec![]),
        vec![
            netpac_analyzers::ssl::log::SslLogger::sink(),
            netpac_analyzers::x509::log::X509Logger::sink(),
        ],
    );
    h.play(frames);
    let out = h.finish();
    let conn: Vec<String> = out
        .conn_log
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            format!("{} {}", f[3], f[7])
        })
        .collect();
    (
        out.logs.get("ssl.log").cloned().unwrap_or_default(),
        out.logs.get("x509.log").cloned().unwrap_or_default(),
        conn.join("\n"),
    )
}
