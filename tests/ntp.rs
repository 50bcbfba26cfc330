//! NTP: `ntp_message` with `NTP::Message` for standard (client, server), control,
//! mode 7 and mode 0 messages built here, through the engine; `ntp.log`; and
//! truncated messages (violations, no event).

mod common;

use common::*;
use netpac_runtime::engine::Config;
use netpac_runtime::event::Events;
use netpac_runtime::log::{Format, Logs};
use serde_json::Value;

/// A standard message: LI 0, version 4, `mode`; `stratum`, poll 6, precision -20.
fn standard(mode: u8, stratum: u8, refid: [u8; 4], mac: bool) -> Vec<u8> {
    let mut v = vec![(4 << 3) | mode, stratum, 6, (-20i8) as u8];
    v.extend_from_slice(&[0x00, 0x00, 0x0b, 0xd9]); // root delay: 0x0bd9 / 65536 s
    v.extend_from_slice(&[0x00, 0x01, 0x80, 0x00]); // root dispersion: 1.5 s
    v.extend_from_slice(&refid);
    // Reference, origin (zero: time 0), receive, transmit timestamps.
    for (s, f) in [
        (0xe09d_7c5cu32, 0x12d6_f000u32),
        (0, 0),
        (0xe09d_7d46, 0x8000_0000),
        (0xe09d_7d46, 0xc000_0000),
    ] {
        v.extend_from_slice(&s.to_be_bytes());
        v.extend_from_slice(&f.to_be_bytes());
    }
    if mac {
        v.extend_from_slice(&7u32.to_be_bytes());
        v.extend_from_slice(&[0xaa; 16]);
    }
    v
}

fn control() -> Vec<u8> {
    // version 2, mode 6; R=1 M=1 opcode 2; sequence 1, status 0x0615, assoc 0, offset 0, count 4.
    let mut v = vec![(2 << 3) | 6, 0x80 | 0x20 | 2];
    for w in [1u16, 0x0615, 0, 0, 4] {
        v.extend_from_slice(&w.to_be_bytes());
    }
    v.extend_from_slice(b"ok=1");
    v.extend_from_slice(&9u32.to_be_bytes());
    v.extend_from_slice(&[0xbb; 8]);
    v
}

fn mode7() -> Vec<u8> {
    // version 2, mode 7; auth bit, sequence 3; implementation 3, request 42 (MON_GETLIST_1);
    // error 0, 2 bytes of data; then the MAC.
    let mut v = vec![(2 << 3) | 7, 0x80 | 3, 3, 42, 0x00, 0x02, 0xde, 0xad];
    v.extend_from_slice(&1u32.to_be_bytes());
    v.extend_from_slice(&[0xcc; 16]);
    v
}

fn client() -> Host {
    Host::v4("192.168.1.10", 123)
}

fn server() -> Host {
    Host::v4("17.253.4.125", 123)
}

fn frames() -> Vec<Frame> {
    vec![
        udp(1.0, client(), server(), &standard(3, 0, *b"INIT", false)),
        udp(1.1, server(), client(), &standard(4, 1, *b"GPSs", true)),
        udp(
            2.0,
            client(),
            server(),
            &standard(3, 2, [85, 199, 214, 99], false),
        ),
        udp(
            3.0,
            Host::v4("10.0.0.1", 40000),
            Host::v4("10.0.0.2", 123),
            &control(),
        ),
        udp(
            4.0,
            Host::v4("10.0.0.1", 40001),
            Host::v4("10.0.0.2", 123),
            &mode7(),
        ),
        udp(
            5.0,
            Host::v4("10.0.0.1", 40002),
            Host::v4("10.0.0.2", 123),
            &[4 << 3, 1, 2, 3],
        ),
    ]
}

fn ntp_events(frames: &[Frame]) -> Vec<Value> {
    analyzer_events(frames, vec!["ntp_message", "protocol_violation"])
}

#[test]
fn every_mode() {
    insta::assert_json_snapshot!(ntp_events(&frames()));
}

#[test]
fn truncated_messages_are_violations() {
    let full = standard(3, 2, [1, 2, 3, 4], false);
    let frames = vec![
        udp(1.0, client(), server(), &full[..30]),
        udp(
            2.0,
            Host::v4("10.0.0.1", 1),
            Host::v4("10.0.0.2", 123),
            &control()[..14],
        ),
        udp(
            3.0,
            Host::v4("10.0.0.1", 2),
            Host::v4("10.0.0.2", 123),
            &mode7()[..10],
        ),
        udp(4.0, Host::v4("10.0.0.1", 3), Host::v4("10.0.0.2", 123), &[]),
    ];
    insta::assert_json_snapshot!(ntp_events(&frames));
}

#[test]
fn a_server_reply_seen_first_flips_the_connection() {
    let frames = vec![udp(
        1.0,
        server(),
        client(),
        &standard(4, 1, *b"GPSs", false),
    )];
    let ev = ntp_events(&frames);
    assert_eq!(ev[0]["args"]["c"]["id"]["orig_h"], "192.168.1.10");
    assert_eq!(ev[0]["args"]["is_orig"], false);
}

#[test]
fn a_flipped_udp_connection_keeps_its_counts_where_they_were_counted() {
    // Zeek 8.2.2: the reply seen first is counted for the side that sent it, then
    // the roles flip without moving the counts: the client's request adds to them.
    let frames = vec![
        udp(1.0, server(), client(), &standard(4, 1, *b"GPSs", false)),
        udp(
            2.0,
            client(),
            server(),
            &standard(3, 2, [1, 2, 3, 4], false),
        ),
    ];
    let out = run_with(
        &frames,
        Config::default(),
        netpac_analyzers::registry(),
        Some(vec![]),
    );
    let cols = conn_columns(
        &out,
        &[
            "id.orig_h",
            "history",
            "orig_pkts",
            "orig_bytes",
            "resp_pkts",
            "conn_state",
            "service",
        ],
    );
    assert_eq!(cols, ["192.168.1.10\tD^\t2\t96\t0\tS0\tntp"]);
}

#[test]
fn ntp_log_rows() {
    let dir = scratch_dir();
    let mut events = Events::with_logs(Logs::new(&dir, Format::Tsv));
    events.subscribe(netpac_analyzers::ntp::log::NtpLogger::sink());
    let mut engine = Engine::new(Config::default(), netpac_analyzers::registry(), events);
    play(&mut engine, &frames());
    engine.finish().unwrap();
    let log = std::fs::read_to_string(dir.join("ntp.log")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let rows: Vec<String> = log
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').skip(2).collect::<Vec<_>>().join(" "))
        .collect();
    insta::assert_snapshot!(rows.join("\n"));
}
