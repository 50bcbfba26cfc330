//! RADIUS: `radius_attribute` and `radius_message` (with `RADIUS::Message`'s
//! attribute table) from datagrams built here, through the engine;
//! `radius.log`; attributes of length 0 and 1 (violations).

mod common;

use common::*;
use netpac_runtime::engine::Config;
use netpac_runtime::event::Events;
use netpac_runtime::log::{Format, Logs};
use serde_json::Value;

fn attr(code: u8, value: &[u8]) -> Vec<u8> {
    let mut v = vec![code, value.len() as u8 + 2];
    v.extend_from_slice(value);
    v
}

fn pdu(code: u8, id: u8, attrs: &[Vec<u8>]) -> Vec<u8> {
    let body = attrs.concat();
    let mut v = vec![code, id];
    v.extend_from_slice(&(20 + body.len() as u16).to_be_bytes());
    v.extend_from_slice(&[0x11; 16]);
    v.extend_from_slice(&body);
    v
}

fn nas(port: u16) -> Host {
    Host::v4("10.0.0.1", port)
}

fn server() -> Host {
    Host::v4("10.0.0.2", 1812)
}

fn exchange() -> Vec<Frame> {
    vec![
        udp(
            1.0,
            nas(5000),
            server(),
            &pdu(
                1,
                7,
                &[
                    attr(1, b"steve"),
                    attr(31, b"00-0B-82-01-FC-42"),
                    attr(66, b"192.0.2.1"),
                    attr(77, b"CONNECT 54Mbps"),
                    attr(79, b"eap1"),
                    attr(79, b"eap2"),
                ],
            ),
        ),
        udp(
            1.5,
            server(),
            nas(5000),
            &pdu(11, 7, &[attr(8, &[172, 16, 3, 33]), attr(18, b"challenge")]),
        ),
        udp(2.0, nas(5000), server(), &pdu(1, 8, &[attr(1, b"steve")])),
        udp(2.25, server(), nas(5000), &pdu(2, 8, &[])),
        // A second attempt on another port never gets its answer.
        udp(3.0, nas(5001), server(), &pdu(1, 9, &[attr(1, b"mallory")])),
    ]
}

fn radius_events(frames: &[Frame]) -> Vec<Value> {
    analyzer_events(frames, vec!["radius_message", "radius_attribute", "protocol_violation"])
}

#[test]
fn attributes_and_messages() {
    insta::assert_json_snapshot!(radius_events(&exchange()));
}

#[test]
fn attributes_of_length_0_and_1_are_violations() {
    let mut zero = pdu(1, 1, &[attr(1, b"a")]);
    zero.extend_from_slice(&[5, 0, 1, 2]);
    let mut one = pdu(1, 2, &[]);
    one.extend_from_slice(&[5, 1]);
    let truncated = pdu(1, 3, &[attr(1, b"abcdef")]);
    let frames = vec![
        udp(1.0, nas(6000), server(), &zero),
        udp(2.0, nas(6001), server(), &one),
        udp(3.0, nas(6002), server(), &truncated[..truncated.len() - 2]),
        udp(4.0, nas(6003), server(), &[1, 2, 3]),
    ];
    insta::assert_json_snapshot!(radius_events(&frames));
}

#[test]
fn radius_log_rows() {
    let dir = scratch_dir();
    let mut events = Events::with_logs(Logs::new(&dir, Format::Tsv));
    events.subscribe(netpac_analyzers::radius::log::RadiusLogger::sink());
    let mut engine = Engine::new(Config::default(), netpac_analyzers::registry(), events);
    play(&mut engine, &exchange());
    engine.finish().unwrap();
    let log = std::fs::read_to_string(dir.join("radius.log")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let mut rows: Vec<String> = log
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            [&c[..1], &c[2..]].concat().join(" ")
        })
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        [
            "1.000000 10.0.0.1 5000 10.0.0.2 1812 steve 00:0b:82:01:fc:42 172.16.3.33 192.0.2.1 CONNECT 54Mbps challenge success 1.250000",
            "3.000000 10.0.0.1 5001 10.0.0.2 1812 mallory - - - - - unknown -",
        ]
    );
}
