//! IRC DCC transfers: a `DCC SEND` announces a connection to the address and port it
//! names (grammars/irc.evt's `expect`, Zeek's irc/dcc-send.zeek); that connection gets
//! IRC_DATA instead of its port's analyzers, conn.log's service `irc-dcc-data`, and
//! `file_transferred`. Zeek 8.2.2 writes the same services for these packets.

mod common;
mod lines_support;

use common::*;
use lines_support::{orig, session, Piece};

/// A DCC SEND from 10.0.0.1 offering `notes.txt` on 10.0.0.1:5000 (167772161 is
/// 10.0.0.1 as a number), and the receiver connecting there `after` seconds later.
fn dcc_send(kind: &str, port: u16, after: f64) -> Vec<Frame> {
    let offer = format!("PRIVMSG bob :\x01DCC {kind} notes.txt 167772161 5000 1190\x01\r\n");
    let control: Vec<Piece> = vec![
        orig(b"NICK alice\r\n"),
        orig(b"USER alice 0 * :Alice\r\n"),
        orig(offer.as_bytes()),
    ];
    let mut frames = session(1.0, Host::v4("10.0.0.1", 40001), Host::v4("10.0.0.9", 6667), &control);
    let data = [lines_support::resp("Just some notes.\n".repeat(70).as_bytes())];
    frames.extend(session(1.0 + after, Host::v4("10.0.0.2", 40002), Host::v4("10.0.0.1", port), &data));
    frames.sort_by(|a, b| a.ts.total_cmp(&b.ts));
    frames
}

fn run(frames: &[Frame]) -> Output {
    run_with(frames, Config::default(), netpac_analyzers::registry(), Some(vec!["file_transferred"]))
}

#[test]
fn the_announced_transfer_is_irc_dcc_data() {
    let out = run(&dcc_send("SEND", 5000, 0.5));
    assert_eq!(conn_columns(&out, &["id.resp_p", "service"]), ["6667\tirc", "5000\tirc-dcc-data"]);
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0]["args"]["mime_type"], "text/plain");
}

#[test]
fn other_dcc_offers_other_ports_and_late_connections_are_not() {
    let out = run(&dcc_send("CHAT", 5000, 0.5));
    assert_eq!(conn_columns(&out, &["id.resp_p", "service"]), ["6667\tirc", "5000\t-"]);
    let out = run(&dcc_send("SEND", 5001, 0.5));
    assert_eq!(conn_columns(&out, &["id.resp_p", "service"]), ["6667\tirc", "5001\t-"]);
    // Zeek schedules the analyzer for 5 minutes.
    let out = run(&dcc_send("SEND", 5000, 301.0));
    assert_eq!(conn_columns(&out, &["id.resp_p", "service"]), ["6667\tirc", "5000\t-"]);
    assert!(out.events.is_empty());
}
