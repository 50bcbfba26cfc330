//! FTP data connections: the channel a control connection announces (PASV's
//! 227, PORT) is expected (grammars/ftp.evt's `expect`), gets FTP_DATA instead
//! of its port's analyzers and conn.log's service `ftp-data`; FTP_DATA raises
//! `file_transferred` with the first bytes, whose type reaches ftp.log's
//! `mime_type`. Zeek 8.2.2 writes the same service and mime_type for these packets.

mod common;
mod lines_support;

use common::*;
use lines_support::{orig, resp, session, Piece};
use netpac_runtime::event::Events;
use netpac_runtime::log::{Format, Logs};

const CLIENT: &str = "10.0.0.1";
const SERVER: &str = "10.0.0.2";

/// A passive download: the control session, and a data connection to the port
/// the 227 reply names (195 * 256 + 80 = 50000), made `data_after` seconds in.
fn passive_download(data_port: u16, data_after: f64) -> Vec<Frame> {
    let control: Vec<Piece> = vec![
        resp(b"220 ready\r\n"),
        orig(b"USER anonymous\r\n"),
        resp(b"331 send your email address\r\n"),
        orig(b"PASS me@example.com\r\n"),
        resp(b"230 ok\r\n"),
        orig(b"PASV\r\n"),
        resp(b"227 Entering Passive Mode (10,0,0,2,195,80).\r\n"),
        orig(b"RETR notes.txt\r\n"),
        resp(b"150 Opening BINARY mode data connection\r\n"),
        resp(b"226 Transfer complete.\r\n"),
    ];
    let mut frames = session(1.0, Host::v4(CLIENT, 40001), Host::v4(SERVER, 21), &control);
    // Over 1024 bytes: FTP_DATA reports the file as soon as its prefix is full
    // (a shorter file only when the data connection is removed).
    let data = [resp("Just some notes.\n".repeat(70).as_bytes())];
    frames.extend(session(
        1.0 + data_after,
        Host::v4(CLIENT, 40002),
        Host::v4(SERVER, data_port),
        &data,
    ));
    frames.sort_by(|a, b| a.ts.total_cmp(&b.ts));
    frames
}

fn run(frames: &[Frame]) -> Output {
    run_with(
        frames,
        Config::default(),
        netpac_analyzers::registry(),
        Some(vec!["file_transferred"]),
    )
}

#[test]
fn the_announced_connection_is_ftp_data() {
    let out = run(&passive_download(50000, 0.095));
    assert_eq!(
        conn_columns(&out, &["id.resp_p", "service"]),
        ["21\tftp", "50000\tftp-data"]
    );
    let mut events = out.events.clone();
    for e in &mut events {
        e["args"]["c"] = "<conn>".into();
    }
    insta::assert_json_snapshot!(events);
}

#[test]
fn another_port_or_a_late_connection_is_not() {
    let out = run(&passive_download(50001, 0.095));
    assert_eq!(conn_columns(&out, &["id.resp_p", "service"]), ["21\tftp", "50001\t-"]);
    assert!(out.events.is_empty());
    // Zeek schedules the analyzer for 5 minutes.
    let out = run(&passive_download(50000, 301.0));
    assert_eq!(conn_columns(&out, &["id.resp_p", "service"]), ["21\tftp", "50000\t-"]);
}

#[test]
fn active_mode_port_expects_the_server_to_connect() {
    let control: Vec<Piece> = vec![
        resp(b"220 ready\r\n"),
        orig(b"USER joe\r\n"),
        resp(b"331 password\r\n"),
        orig(b"PASS secret\r\n"),
        resp(b"230 ok\r\n"),
        orig(b"PORT 10,0,0,1,156,64\r\n"),
        resp(b"200 PORT command successful\r\n"),
        orig(b"RETR a.gif\r\n"),
        resp(b"150 Opening\r\n"),
        resp(b"226 done\r\n"),
    ];
    let mut frames = session(1.0, Host::v4(CLIENT, 40001), Host::v4(SERVER, 21), &control);
    // The server connects from port 20 to the port PORT named (156 * 256 + 64 = 40000).
    frames.extend(session(
        1.085,
        Host::v4(SERVER, 20),
        Host::v4(CLIENT, 40000),
        &[orig(b"GIF89a\x01\x00\x01\x00")],
    ));
    frames.sort_by(|a, b| a.ts.total_cmp(&b.ts));
    let out = run(&frames);
    assert_eq!(
        conn_columns(&out, &["id.orig_h", "id.resp_p", "service"]),
        ["10.0.0.1\t21\tftp", "10.0.0.2\t40000\tftp-data"]
    );
    let mime: Vec<&str> = out.events.iter().filter_map(|e| e["args"]["mime_type"].as_str()).collect();
    assert_eq!(mime, ["image/gif"]);
}

#[test]
fn ftp_log_takes_the_data_connections_mime_type() {
    let dir = scratch_dir();
    let mut events = Events::with_logs(Logs::new(&dir, Format::Tsv));
    events.subscribe(netpac_analyzers::ftp::log::FtpLogger::sink());
    let mut engine = Engine::new(Config::default(), netpac_analyzers::registry(), events);
    play(&mut engine, &passive_download(50000, 0.095));
    engine.finish().unwrap();
    let log = std::fs::read_to_string(dir.join("ftp.log")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let rows: Vec<(&str, &str)> = log
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (c[8], c[10])
        })
        .collect();
    assert_eq!(rows, [("PASV", "-"), ("RETR", "text/plain")]);
}
