//! Syslog: `syslog_message` from datagrams built here (with and without a
//! priority, odd priorities), through the engine, and `syslog.log`.

mod common;

use common::*;
use netpac_runtime::engine::Config;
use netpac_runtime::event::Events;
use netpac_runtime::log::{Format, Logs};
use serde_json::Value;

fn frames() -> Vec<Frame> {
    let msgs: [&[u8]; 6] = [
        b"<166>%PIX-6-305011: Built dynamic TCP translation\n",
        b"This is not really a syslog message",
        b"<13>",
        b"<99999999999999999999999>overflowing priority",
        b"<abc>no digits",
        b"<13 no closing bracket",
    ];
    msgs.iter()
        .enumerate()
        .map(|(i, m)| {
            udp(
                1.0 + i as f64,
                Host::v4("192.168.0.49", 514),
                Host::v4("192.168.0.38", 514),
                m,
            )
        })
        .collect()
}

fn syslog_events(frames: &[Frame]) -> Vec<Value> {
    analyzer_events(frames, vec!["syslog_message", "protocol_violation", "protocol_confirmation"])
}

#[test]
fn messages_with_and_without_priority() {
    insta::assert_json_snapshot!(syslog_events(&frames()));
}

#[test]
fn syslog_log_rows() {
    let dir = scratch_dir();
    let mut events = Events::with_logs(Logs::new(&dir, Format::Tsv));
    events.subscribe(netpac_analyzers::syslog::log::SyslogLogger::sink());
    let mut engine = Engine::new(Config::default(), netpac_analyzers::registry(), events);
    play(&mut engine, &frames());
    engine.finish().unwrap();
    let log = std::fs::read_to_string(dir.join("syslog.log")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let rows: Vec<String> = log
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').skip(6).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        rows,
        [
            r"udp LOCAL4 INFO %PIX-6-305011: Built dynamic TCP translation\x0a",
            "udp UNSPECIFIED UNSPECIFIED This is not really a syslog message",
            "udp USER NOTICE (empty)",
            "udp ?-127 DEBUG overflowing priority",
        ]
    );
}
