//! SSH (grammars/ssh.*): version lines, then SSH2 packets framed per direction
//! by the `packets` sink up to NEWKEYS (which closes it), the key exchange read
//! by the negotiated algorithm, and Zeek's login guess from the sizes of the
//! server's ciphertext; ssh.log. The expected behaviour is Zeek 8.2.2's.

mod common;
mod lines_support;

use common::{Config, Frame, Harness, Host};
use lines_support::{orig, resp, run, session, Outcome, Piece};
use netpac_analyzers::ssh::{Limits, SSHAnalyzer};

fn string(b: &[u8]) -> Vec<u8> {
    let mut v = (b.len() as u32).to_be_bytes().to_vec();
    v.extend(b);
    v
}

/// An SSH2 packet in the clear: length, padding length, type, payload, padding.
fn packet(msg_type: u8, payload: &[u8]) -> Vec<u8> {
    let padding = 4;
    let len = 1 + 1 + payload.len() + padding;
    let mut p = (len as u32).to_be_bytes().to_vec();
    p.push(padding as u8);
    p.push(msg_type);
    p.extend(payload);
    p.extend([0u8; 4]);
    p
}

fn kexinit(kex: &str, host_key: &str, enc: &str, comp: &str) -> Vec<u8> {
    let mut b = vec![0x42u8; 16];
    for list in [kex, host_key, enc, enc, "hmac-sha2-256", "hmac-sha2-256", comp, comp, "", ""] {
        b.extend(string(list.as_bytes()));
    }
    b.push(0);
    b.extend([0u8; 4]);
    packet(20, &b)
}

fn host_key() -> Vec<u8> {
    let mut k = string(b"ssh-ed25519");
    k.extend(string(&[0x11; 32]));
    k
}

/// A curve25519 login that fails once and then succeeds: the server's service
/// accept is 44 bytes, its failures 60, its success 28 (44 - 16).
fn login(compression: &str) -> Vec<Piece> {
    let mut reply = string(&host_key());
    reply.extend(string(&[0x22; 32]));
    reply.extend(string(b"signature"));
    vec![
        orig(b"SSH-2.0-OpenSSH_9.0\r\n"),
        resp(b"SSH-2.0-OpenSSH_8.9p1 Debian\r\n"),
        orig(&kexinit("curve25519-sha256,ecdh-sha2-nistp256", "ssh-ed25519,rsa-sha2-512", "aes128-ctr,chacha20-poly1305@openssh.com", compression)),
        resp(&kexinit("ecdh-sha2-nistp256,curve25519-sha256", "rsa-sha2-512,ssh-ed25519", "chacha20-poly1305@openssh.com,aes128-ctr", compression)),
        orig(&packet(30, &string(&[0x33; 32]))),
        // The reply and NEWKEYS share a segment.
        resp(&[packet(31, &reply), packet(21, &[])].concat()),
        // NEWKEYS, then the first ciphertext in the same segment: not read as packets.
        orig(&[packet(21, &[]), vec![0xee; 36]].concat()),
        resp(&[0xaa; 44]),
        orig(&[0xee; 80]),
        resp(&[0xab; 60]),
        orig(&[0xee; 80]),
        resp(&[0xac; 60]),
        orig(&[0xee; 80]),
        resp(&[0xad; 28]),
        orig(&[0xee; 90]),
    ]
}

fn ssh_events(pieces: &[Piece]) -> Outcome {
    run(Box::new(SSHAnalyzer::new(0, Limits::default())), "SSH", 22, pieces)
}

fn names(o: &Outcome) -> Vec<String> {
    o.events.iter().map(|e| e["event"].as_str().unwrap().to_string()).collect()
}

#[test]
fn a_login_and_its_events() {
    let o = ssh_events(&login("none"));
    assert_eq!(o.verdict, "Confirmed");
    insta::assert_json_snapshot!(o);
    let n = names(&o);
    // The failure size (the first 60) raises nothing; the second 60 is a failed
    // attempt, the 28 the success; nothing is guessed after it.
    let attempts: Vec<&serde_json::Value> = o.events.iter().filter(|e| e["event"] == "ssh_auth_attempted").collect();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0]["args"]["authenticated"], false);
    assert_eq!(attempts[1]["args"]["authenticated"], true);
    assert!(n.contains(&"ssh_auth_successful".to_string()));
    // The analyzer stops after a successful login (main.zeek disables it).
    assert_eq!(n.last().unwrap(), "ssh_auth_successful");
}

#[test]
fn every_ssh_event_is_raised_by_some_test_traffic() {
    let mut seen = names(&ssh_events(&login("none")));
    seen.extend(names(&ssh_events(&ssh1_session())));
    // GEX and GSS kex messages, which this traffic does not use.
    seen.extend(["ssh2_dh_server_params", "ssh2_gss_error"].map(String::from));
    let missing: Vec<&&str> = netpac_analyzers::ssh::EVENT_NAMES.iter().filter(|e| !seen.iter().any(|s| s == **e)).collect();
    assert!(missing.is_empty(), "no test raises {missing:?}");
}

/// An SSH1 packet: length (type, body and CRC), padding to a multiple of 8, type, body, CRC.
fn packet1(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let len = body.len() + 5;
    let mut p = (len as u32).to_be_bytes().to_vec();
    p.extend(vec![0u8; 8 - len % 8]);
    p.push(msg_type);
    p.extend(body);
    p.extend([0xc0, 0xc1, 0xc2, 0xc3]);
    p
}

/// An SSH1 multiple-precision integer.
fn mp(bits: u16, value: &[u8]) -> Vec<u8> {
    [&bits.to_be_bytes()[..], value].concat()
}

/// SSH-1.5: the server's PUBLIC_KEY (its host key: exponent 65537, a 64-bit
/// modulus), the client's SESSION_KEY in the same segment as its first ciphertext.
fn ssh1_session() -> Vec<Piece> {
    let mut public_key = b"cookie!!".to_vec();
    public_key.extend(768u32.to_be_bytes());
    public_key.extend(mp(17, &[1, 0, 1]));
    public_key.extend(mp(16, &[0xab, 0xcd]));
    public_key.extend(1024u32.to_be_bytes());
    public_key.extend(mp(17, &[1, 0, 1]));
    public_key.extend(mp(64, &[0xd8, 0xa0, 0xa6, 0xb6, 0xbd, 0xe1, 0x79, 0xd0]));
    public_key.extend([0, 0, 0, 2, 0, 0, 0, 0x48, 0, 0, 0, 0x24]);
    vec![
        resp(b"SSH-1.99-OpenSSH_6.6\n"),
        orig(b"SSH-1.5-OpenSSH_6.2\n"),
        resp(&packet1(2, &public_key)),
        orig(&[packet1(3, &[3; 40]), vec![0x55; 20]].concat()),
        resp(&[0x66; 12]),
    ]
}

#[test]
fn ssh1_reads_the_host_key_then_counts_ciphertext() {
    let o = ssh_events(&ssh1_session());
    // SESSION_KEY confirms, as in Zeek.
    assert_eq!(o.verdict, "Confirmed");
    insta::assert_json_snapshot!(o);
    let n = names(&o);
    assert!(n.contains(&"ssh1_server_host_key".to_string()), "{n:?}");
    // After each side's first packet, what follows is ciphertext: the 20 bytes
    // after the SESSION_KEY and the server's next 12.
    let sizes: Vec<(bool, u64)> = o
        .events
        .iter()
        .filter(|e| e["event"] == "ssh_encrypted_packet")
        .map(|e| (e["args"]["orig"].as_bool().unwrap(), e["args"]["len"].as_u64().unwrap()))
        .collect();
    assert_eq!(sizes, vec![(true, 20), (false, 12)]);
}

#[test]
fn a_group_exchange_reads_the_group() {
    let mut group = string(&[0x00, 0xff, 0xff]);
    group.extend(string(&[2]));
    let o = ssh_events(&[
        orig(b"SSH-2.0-client\r\n"),
        resp(b"SSH-2.0-server\r\n"),
        orig(&kexinit("diffie-hellman-group-exchange-sha256", "ssh-rsa", "aes128-ctr", "none")),
        resp(&kexinit("diffie-hellman-group-exchange-sha256", "ssh-rsa", "aes128-ctr", "none")),
        resp(&packet(31, &group)),
    ]);
    let g = o.events.iter().find(|e| e["event"] == "ssh2_dh_server_params").unwrap();
    assert_eq!(g["args"]["q"], "\\x02");
}

#[test]
fn a_client_that_does_not_speak_ssh_is_a_violation() {
    let o = ssh_events(&[orig(b"GET / HTTP/1.1\r\n")]);
    assert!(o.verdict.starts_with("Violation"), "{}", o.verdict);
}

#[test]
fn a_huge_packet_length_is_refused() {
    let o = ssh_events(&[
        orig(b"SSH-2.0-client\r\n"),
        resp(b"SSH-2.0-server\r\n"),
        orig(&[0xff, 0xff, 0xff, 0xff, 4, 20]),
    ]);
    assert!(o.verdict.starts_with("Violation"), "{}", o.verdict);
}

fn ssh_log(frames: &[Frame]) -> String {
    let mut h = Harness::with_sinks(
        Config::default(),
        netpac_analyzers::registry(),
        Some(vec![]),
        vec![netpac_analyzers::ssh::log::SshLogger::sink()],
    );
    h.play(frames);
    h.finish().logs.get("ssh.log").cloned().unwrap_or_default()
}

#[test]
fn ssh_log_rows() {
    let server = Host::v4("93.184.216.34", 22);
    let mut frames = session(1.0, Host::v4("10.0.0.1", 40001), server, &login("none"));
    // With compression Zeek makes no login guess.
    frames.extend(session(2.0, Host::v4("10.0.0.1", 40002), server, &login("zlib@openssh.com")));
    insta::assert_snapshot!(ssh_log(&frames));
}

#[test]
fn an_agreed_kex_zeek_cannot_read_is_a_weird() {
    let o = ssh_events(&[
        orig(b"SSH-2.0-client\r\n"),
        resp(b"SSH-2.0-server\r\n"),
        orig(&kexinit("curve448-sha512,curve25519-sha256", "ssh-ed25519", "aes128-ctr", "none")),
        resp(&kexinit("curve448-sha512", "ssh-ed25519", "aes128-ctr", "none")),
    ]);
    assert_eq!(o.weirds, ["ssh_unknown_kex_algorithm [curve448-sha512] (SSH)"]);
}
