//! Log rotation on network time (`Logs::rotate_every`, the CLI's `--rotate`):
//! files are closed at multiples of the interval since midnight UTC and
//! renamed after the network time they were opened (their first row), timers
//! run in order with the rotation (a row a timer due before the boundary
//! writes stays in the old file), and the files open at the end keep their
//! plain names: the files and rows Zeek 8.2.2 writes for these packets with
//! `Log::default_rotation_interval = 3600 secs`.

mod common;

use common::*;
use netpac_runtime::event::Events;
use netpac_runtime::log::{Format, Logs};
use netpac_runtime::zeek::Interval;

/// 2024-01-01 00:00:00 UTC.
const MIDNIGHT: f64 = 1_704_067_200.0;

fn rotated_run(times: &[f64]) -> Vec<(String, Vec<String>)> {
    let dir = scratch_dir();
    let mut logs = Logs::new(&dir, Format::Tsv);
    logs.rotate_every(Interval::from_secs(3600));
    let mut events = Events::with_logs(logs);
    let config = Config::default();
    netpac_runtime::engine::subscribe_logs(&mut events, &config);
    let mut engine = Engine::new(config, Registry::default(), events);
    let frames: Vec<Frame> = times
        .iter()
        .enumerate()
        .map(|(i, t)| {
            udp(
                MIDNIGHT + t,
                Host::v4("10.0.0.1", 40000 + i as u16),
                Host::v4("10.0.0.2", 9999),
                b"x",
            )
        })
        .collect();
    play(&mut engine, &frames);
    engine.finish().unwrap();
    let mut files: Vec<(String, Vec<String>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(text.lines().last().unwrap().starts_with("#close"), "{path:?} not closed");
            let starts = text
                .lines()
                .filter(|l| !l.starts_with('#'))
                .map(|l| l.split('\t').next().unwrap().to_string())
                .collect();
            (path.file_name().unwrap().to_string_lossy().into_owned(), starts)
        })
        .collect();
    files.sort();
    let _ = std::fs::remove_dir_all(&dir);
    files
}

#[test]
fn logs_rotate_on_the_hour_of_network_time() {
    // Connections at 00:01:40, 01:06:40 and 02:13:20; each UDP connection
    // times out a minute after its packet, when the next packet comes.
    let files = rotated_run(&[100.0, 4000.0, 8000.0]);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "conn.2024-01-01-01-06-40.log",
            "conn.2024-01-01-02-13-20.log",
            "conn.log",
        ]
    );
    // The first connection's timer (00:02:40) runs when the packet of 01:06:40
    // comes, before the rotation timer of 01:00:00: its row opens the first
    // file at network time 01:06:40, which the rotation then closes.
    assert_eq!(files[0].1, ["1704067300.000000"]);
    assert_eq!(files[1].1, ["1704071200.000000"]);
    assert_eq!(files[2].1, ["1704075200.000000"]);
}
