//! netpac as a library: the examples' subscribers run through `Analysis` on
//! captures written here, and write their own logs beside Zeek's.

mod common;
mod lines_support;

#[path = "../examples/dns_long_queries.rs"]
mod dns_long_queries;
#[path = "../examples/ftp_brute_force.rs"]
mod ftp_brute_force;

use common::*;
use lines_support::{orig, resp, session};
use netpac::{Analysis, Format};
use netpac_runtime::capture::CaptureWriter;
use std::path::Path;

/// Writes `frames` as a pcap (kept in `NETPAC_TEST_PCAPS` too, for Zeek).
fn write_capture(path: &Path, frames: &[Frame]) {
    let mut w = CaptureWriter::create(path, netpac_runtime::packet::LinkType::Ethernet).unwrap();
    for f in frames {
        w.write(netpac::Time::from_secs_f64(f.ts), &f.data).unwrap();
    }
    w.finish().unwrap();
    if let Some(dir) = std::env::var_os("NETPAC_TEST_PCAPS") {
        std::fs::copy(path, Path::new(&dir).join(path.file_name().unwrap())).unwrap();
    }
}

fn rows(dir: &Path, log: &str) -> Vec<Vec<String>> {
    std::fs::read_to_string(dir.join(log))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// 25 sessions from one host, each a rejected password: one notice, at the
/// 20th rejection, with the row Zeek 8.2.2 writes (policy/protocols/ftp/detect-bruteforcing) for these packets.
#[test]
fn ftp_brute_force_example_writes_one_notice_at_the_threshold() {
    let dir = scratch_dir();
    let mut frames = Vec::new();
    for i in 0..25u16 {
        frames.extend(session(
            1.0 + f64::from(i) * 2.0,
            Host::v4("10.0.0.1", 40000 + i),
            Host::v4("10.0.0.2", 21),
            &[
                resp(b"220 ready\r\n"),
                orig(b"USER admin\r\n"),
                resp(b"331 password please\r\n"),
                orig(format!("PASS guess{i}\r\n").as_bytes()),
                resp(b"530 Login incorrect.\r\n"),
                orig(b"QUIT\r\n"),
                resp(b"221 bye\r\n"),
            ],
        ));
    }
    // A successful login elsewhere counts for nothing.
    frames.extend(session(
        60.0,
        Host::v4("10.0.0.3", 40000),
        Host::v4("10.0.0.2", 21),
        &[
            resp(b"220 ready\r\n"),
            orig(b"USER ok\r\n"),
            resp(b"331 pw\r\n"),
            orig(b"PASS ok\r\n"),
            resp(b"230 in\r\n"),
        ],
    ));
    let capture = dir.join("ftp_brute_force.pcap");
    write_capture(&capture, &frames);

    let mut analysis = Analysis::builder()
        .logs(&dir, Format::Tsv)
        .subscribe(ftp_brute_force::detector())
        .build()
        .unwrap();
    analysis.read_file(&capture).unwrap();
    let summary = analysis.finish().unwrap();
    assert_eq!(summary.connections, 26);

    let notices = rows(&dir, "notice.log");
    assert_eq!(notices.len(), 1, "{notices:?}");
    let n = &notices[0];
    // ts, note, msg, src, actions, suppress_for
    assert_eq!(
        (
            n[0].as_str(),
            n[10].as_str(),
            n[11].as_str(),
            n[13].as_str(),
            n[18].as_str(),
            n[20].as_str()
        ),
        (
            "39.070000",
            "FTP::Bruteforcing",
            "10.0.0.1 had 20 failed logins on 1 FTP server in 0m38s",
            "10.0.0.1",
            "Notice::ACTION_LOG",
            "3600.000000"
        )
    );
    // Zeek's own logs are written beside it.
    assert_eq!(rows(&dir, "conn.log").len(), 26);
    let _ = std::fs::remove_dir_all(&dir);
}

fn dns_query(id: u16, name: &str) -> Vec<u8> {
    let mut q = id.to_be_bytes().to_vec();
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 16, 0, 1]);
    q
}

/// Only the long names are rows of the custom log; without Zeek's logs
/// (`without_zeek_logs`) nothing else is written.
#[test]
fn dns_long_queries_example_logs_only_long_names() {
    let dir = scratch_dir();
    let long_label = "a".repeat(50);
    let long_name = format!(
        "{}.{}.{}.t.example",
        "b".repeat(35),
        "c".repeat(35),
        "d".repeat(35)
    );
    let names = [
        "www.example.com",
        &format!("{long_label}.t.example"),
        &long_name,
    ];
    let frames: Vec<Frame> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            udp(
                1.0 + i as f64,
                Host::v4("10.0.0.5", 5000 + i as u16),
                Host::v4("10.0.0.53", 53),
                &dns_query(i as u16, name),
            )
        })
        .collect();
    let capture = dir.join("dns_long_queries.pcap");
    write_capture(&capture, &frames);

    let mut analysis = Analysis::builder()
        .logs(&dir, Format::Tsv)
        .without_zeek_logs()
        .subscribe(dns_long_queries::detector())
        .build()
        .unwrap();
    analysis.read_file(&capture).unwrap();
    analysis.finish().unwrap();

    let logged: Vec<(String, String, String, String)> = rows(&dir, "dns_long_queries.log")
        .into_iter()
        .map(|r| (r[6].clone(), r[7].clone(), r[8].clone(), r[9].clone()))
        .collect();
    assert_eq!(
        logged,
        vec![
            (names[1].to_string(), "16".into(), "60".into(), "50".into()),
            (long_name.clone(), "16".into(), "117".into(), "35".into()),
        ]
    );
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".log"))
        .collect();
    files.sort();
    assert_eq!(files, ["dns_long_queries.log"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `stats.log` from a file, as Zeek's policy/misc/stats writes it for one: a
/// row at the first packet, one each interval of network time after the
/// last, one at the end; the packet counts add up to the run's.
#[test]
fn stats_log_rows_follow_network_time() {
    use netpac::stats::StatsLog;
    let dir = scratch_dir();
    // One DNS query every 10 s for 200 s.
    let frames: Vec<Frame> = (0..21u16)
        .map(|i| {
            udp(
                1000.0 + f64::from(i) * 10.0,
                Host::v4("10.0.0.5", 6000 + i),
                Host::v4("10.0.0.53", 53),
                &dns_query(i, "www.example.com"),
            )
        })
        .collect();
    let mut analysis = Analysis::builder().logs(&dir, Format::Tsv).build().unwrap();
    let mut stats = StatsLog::new(netpac::Interval::from_secs(60), netpac::Time::ZERO);
    let mut last = netpac::Time::ZERO;
    for f in &frames {
        last = netpac::Time::from_secs_f64(f.ts);
        analysis.packet(&netpac::RawPacket {
            ts: last,
            wire_len: f.data.len() as u32,
            link: netpac_runtime::packet::LinkType::Ethernet,
            data: &f.data,
        });
        stats.tick(last, &mut analysis, || None);
    }
    stats.finish(last, &mut analysis, None);
    analysis.finish().unwrap();
    let rows = rows(&dir, "stats.log");
    // ts, pkts_proc, pkts_dropped (unset reading a file), udp_conns
    let got: Vec<(&str, &str, &str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[3].as_str(), r[5].as_str(), r[15].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("1000.000000", "1", "-", "1"),
            ("1060.000000", "6", "-", "6"),
            ("1120.000000", "6", "-", "6"),
            ("1180.000000", "6", "-", "6"),
            ("1200.000000", "2", "-", "2"),
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
