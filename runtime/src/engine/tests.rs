//! Unit tests of the engine: TCP states, timers, ICMP counterparts (tunnels: `tunnel_tests.rs`).

use super::*;
use crate::packet::Layer2;
use std::borrow::Cow;

const C: [u8; 4] = [10, 0, 0, 1];
const S: [u8; 4] = [10, 0, 0, 2];

fn engine() -> Engine {
    let config = Config {
        ignore_checksums: true,
        ..Config::default()
    };
    Engine::new(config, Registry::default(), Events::new())
}

/// Feeds one TCP segment; `from_client` picks the direction.
fn seg(e: &mut Engine, t: f64, from_client: bool, flags: u8, seq: u32, ack: u32, payload: &[u8]) {
    let (src, dst, sport, dport) = if from_client {
        (C, S, 40000u16, 80u16)
    } else {
        (S, C, 80, 40000)
    };
    let mut l4 = Vec::new();
    l4.extend_from_slice(&sport.to_be_bytes());
    l4.extend_from_slice(&dport.to_be_bytes());
    l4.extend_from_slice(&seq.to_be_bytes());
    l4.extend_from_slice(&ack.to_be_bytes());
    l4.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    l4.extend_from_slice(payload);
    let ip = IpPacket {
        l2: Layer2::default(),
        src: IpAddr::from(src),
        dst: IpAddr::from(dst),
        proto: 6,
        ttl: 64,
        ip_id: 0,
        dont_fragment: false,
        ip_len: 20 + l4.len() as u32,
        counted_len: 20 + l4.len() as u32,
        hdr_len: 20,
        flow_label: 0,
        l4: Cow::Owned(l4),
        bad_ip_checksum: false,
        analyzer_depth: 0,
    };
    e.process_ip(Time::from_secs_f64(t), &ip);
}

fn states(e: &Engine) -> (S, S, String) {
    let slot = *e.table.values().next().expect("one connection");
    let conn = e.slots[slot as usize].conn.as_ref().expect("live");
    let t = tcp_ref(&conn.core);
    (t.orig().state, t.resp().state, conn.core.history.to_string())
}

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const FIN: u8 = 0x01;
const RST: u8 = 0x04;

#[test]
fn handshake_moves_both_endpoints_to_established() {
    let mut e = engine();
    seg(&mut e, 1.0, true, SYN, 100, 0, b"");
    assert_eq!(states(&e).0, S::SynSent);
    assert_eq!(states(&e).1, S::Inactive);
    seg(&mut e, 1.1, false, SYN | ACK, 500, 101, b"");
    assert_eq!(
        (states(&e).0, states(&e).1),
        (S::Established, S::Established)
    );
    seg(&mut e, 1.2, true, ACK, 101, 501, b"");
    assert_eq!(states(&e).2, "ShA");
}

#[test]
fn fin_exchange_closes_and_schedules_removal() {
    let mut e = engine();
    seg(&mut e, 1.0, true, SYN, 100, 0, b"");
    seg(&mut e, 1.1, false, SYN | ACK, 500, 101, b"");
    seg(&mut e, 1.2, true, FIN | ACK, 101, 501, b"");
    assert_eq!(states(&e).0, S::Closed);
    seg(&mut e, 1.3, false, FIN | ACK, 501, 102, b"");
    assert_eq!((states(&e).0, states(&e).1), (S::Closed, S::Closed));
    assert_eq!(e.active_connections(), 1);
    // The close delay passes with the next packet's time.
    seg(&mut e, 7.0, true, ACK, 102, 502, b"");
    let slot = *e.table.values().next().expect("a new partial connection");
    assert_eq!(
        e.slots[slot as usize]
            .conn
            .as_ref()
            .map(|c| c.core.history.as_str()),
        Some("A")
    );
}

#[test]
fn responder_rst_to_syn_is_a_reject() {
    let mut e = engine();
    seg(&mut e, 1.0, true, SYN, 100, 0, b"");
    seg(&mut e, 1.1, false, RST | ACK, 0, 101, b"");
    let slot = *e.table.values().next().expect("conn");
    let conn = e.slots[slot as usize].conn.as_ref().expect("live");
    assert_eq!(conn.core.conn_state(), "REJ");
    assert!(tcp_ref(&conn.core).resp().did_close);
}

#[test]
fn repeated_syn_is_one_letter_new_sequence_is_a_new_attempt() {
    let mut e = engine();
    seg(&mut e, 1.0, true, SYN, 100, 0, b"");
    seg(&mut e, 1.5, true, SYN, 100, 0, b"");
    assert_eq!(states(&e).2, "S");
    assert_eq!(e.summary.connections, 1);
    // A SYN with another sequence number is a new attempt (Zeek's IsReuse).
    seg(&mut e, 2.0, true, SYN, 900, 0, b"");
    assert_eq!(e.summary.connections, 2);
    assert_eq!(states(&e).2, "S");
}

#[test]
fn zero_windows_are_recorded() {
    let mut e = engine();
    seg(&mut e, 1.0, true, SYN, 100, 0, b"");
    seg(&mut e, 1.1, false, SYN | ACK, 500, 101, b"");
    // window 0 from the responder
    let mut l4 = Vec::new();
    l4.extend_from_slice(&80u16.to_be_bytes());
    l4.extend_from_slice(&40000u16.to_be_bytes());
    l4.extend_from_slice(&501u32.to_be_bytes());
    l4.extend_from_slice(&101u32.to_be_bytes());
    l4.extend_from_slice(&[0x50, ACK, 0, 0, 0, 0, 0, 0]);
    let ip = IpPacket {
        l2: Layer2::default(),
        src: IpAddr::from(S),
        dst: IpAddr::from(C),
        proto: 6,
        ttl: 64,
        ip_id: 0,
        dont_fragment: false,
        ip_len: 40,
        counted_len: 40,
        hdr_len: 20,
        flow_label: 0,
        l4: Cow::Owned(l4),
        bad_ip_checksum: false,
        analyzer_depth: 0,
    };
    e.process_ip(Time::from_secs_f64(1.2), &ip);
    assert_eq!(states(&e).2, "Shaw");
}

#[test]
fn a_huge_jump_in_time_does_not_spin_timers() {
    let mut e = engine();
    seg(&mut e, 1.0, true, SYN, 100, 0, b"");
    seg(&mut e, 1.1, false, SYN | ACK, 500, 101, b"");
    seg(&mut e, 1.2, true, ACK, 101, 501, b"");
    let started = std::time::Instant::now();
    seg(&mut e, 1.0e9, true, ACK, 101, 501, b"");
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    assert_eq!(e.summary.connections, 2);
}

#[test]
fn counterparts_pair_icmp_requests_and_replies() {
    assert_eq!(icmp_counterpart(false, 8, 0), (0, false));
    assert_eq!(icmp_counterpart(false, 3, 1), (1, true));
    assert_eq!(icmp_counterpart(true, 135, 0), (136, false));
}

/// A quiet live link: time moved on by the wall clock expires connections
/// as packets would (Zeek's timer manager follows the clock when reading live).
#[test]
fn advancing_time_without_packets_expires_idle_connections() {
    let mut e = engine();
    seg(&mut e, 1.0, true, SYN, 100, 0, b"");
    assert_eq!(e.active_connections(), 1);
    // Going back in time does nothing.
    e.advance_time(Time::from_secs_f64(0.5));
    assert_eq!(e.active_connections(), 1);
    // Past the attempt (5 s) and inactivity (5 min) timeouts.
    e.advance_time(Time::from_secs_f64(1000.0));
    assert_eq!(e.active_connections(), 0);
}
