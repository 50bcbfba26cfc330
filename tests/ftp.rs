//! FTP control-connection events from lines built here (snapshots in
//! tests/snapshots/), multi-line replies, and bad input. The event sequences
//! follow FTP.cc of Zeek 8 (checked with Zeek on the pcap of `ftp_through_the_engine`).

mod common;
mod lines_support;

use lines_support::{orig, resp, run, session, Outcome, Piece};
use netpac_analyzers::ftp::{self, FTPAnalyzer, Limits};

fn ftp(pieces: &[Piece]) -> Outcome {
    run(
        Box::new(FTPAnalyzer::new(0, Limits::default())),
        "FTP",
        21,
        pieces,
    )
}

/// `(code, msg, cont_resp)` of every ftp_reply.
fn replies(o: &Outcome) -> Vec<(u64, String, bool)> {
    o.events
        .iter()
        .filter(|e| e["event"] == "ftp_reply")
        .map(|e| {
            let a = &e["args"];
            (
                a["code"].as_u64().unwrap(),
                a["msg"].as_str().unwrap().to_string(),
                a["cont_resp"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_login_session() {
    insta::assert_json_snapshot!(ftp(&[
        resp(b"220 ProFTPD Server ready.\r\n"),
        orig(b"user anonymous\r\n"),
        resp(b"331 Anonymous login ok, send your complete email address as your password\r\n"),
        orig(b"  PASS \t ftp@example.com  \r\n"),
        resp(b"230 Anonymous access granted\r\n"),
        orig(b"PASV\r\n"),
        resp(b"227 Entering Passive Mode (192,168,1,2,195,149).\r\n"),
        orig(b"QUIT\n"),
        resp(b"221"),
        resp(b"\n"),
    ]));
}

#[test]
fn multi_line_replies_continue_until_their_code_and_a_space() {
    insta::assert_json_snapshot!(ftp(&[
        resp(b"220-Welcome\r\n"),
        resp(b"220-  second line\r\n"),
        resp(b" indented text\r\n"),
        resp(b"230 another code inside\r\n"),
        resp(b"2201 not the end\r\n"),
        resp(b"220   ready\r\n"),
        resp(b"211-Features:\r\n MDTM\r\n211 End\r\n"),
    ]));
}

#[test]
fn the_lines_inside_a_multi_line_reply_have_code_0_and_the_whole_line() {
    let o = ftp(&[resp(b"150-a\r\n150-b\r\n150 c\r\n")]);
    assert_eq!(
        replies(&o),
        [
            (150, "a".into(), true),
            (0, "150-b".into(), true),
            (150, "c".into(), false)
        ]
    );
    assert!(o.weirds.is_empty());
}

#[test]
fn bad_reply_codes_are_violations_and_raise_nothing() {
    for (line, why) in [
        (&b"hello\r\n"[..], "non-numeric reply code"),
        (b"22 short\r\n", "non-numeric reply code"),
        (b"099 low\r\n", "invalid reply code"),
        (b"220x\r\n", "invalid reply line"),
    ] {
        let o = ftp(&[resp(line)]);
        assert!(replies(&o).is_empty(), "{line:?}");
        assert!(o.verdict.contains(why), "{line:?}: {}", o.verdict);
    }
    // A bare code is a whole reply with an empty message.
    let o = ftp(&[resp(b"200\r\n")]);
    assert_eq!(replies(&o), [(200, String::new(), false)]);
}

#[test]
fn replies_without_commands_are_events_and_do_not_confirm() {
    let o = ftp(&[resp(b"220 hi\r\n"), resp(b"500 what\r\n")]);
    assert_eq!(replies(&o).len(), 2);
    assert_eq!(o.verdict, "Undecided");
}

#[test]
fn lines_that_are_no_commands_are_ignored_with_a_weird_once_confirmed() {
    // Before the first command nothing is reported; after it, each bad line is a weird.
    let o = ftp(&[
        orig(b"ab\r\n"),
        orig(b"US\xe9R x\r\n"),
        orig(b"NOOP\r\n"),
        orig(b"ab\r\n"),
        orig(format!("{} x\r\n", "A".repeat(101)).as_bytes()),
        orig(format!("{} x\r\n", "A".repeat(100)).as_bytes()),
    ]);
    let cmds: Vec<&str> = o
        .events
        .iter()
        .map(|e| e["args"]["command"].as_str().unwrap())
        .collect();
    assert_eq!(cmds, ["NOOP", &"A".repeat(100)[..]]);
    assert_eq!(
        o.weirds,
        [
            "FTP_invalid_command [] (FTP)",
            "FTP_max_command_length_exceeded [101] (FTP)"
        ]
    );
    assert_eq!(o.verdict, "Confirmed");
}

#[test]
fn an_endless_multi_line_reply_stays_one_reply() {
    let mut pieces = vec![resp(b"220-start\r\n")];
    let chunk = b"220-more\r\n".repeat(1000);
    for _ in 0..100 {
        pieces.push(resp(&chunk));
    }
    let o = ftp(&pieces);
    let r = replies(&o);
    assert_eq!(r.len(), 100_001);
    assert!(r[1..].iter().all(|(code, _, cont)| *code == 0 && *cont));
}

#[test]
fn a_100_mb_line_is_cut_by_the_line_framer() {
    let chunk = vec![b'A'; 1 << 20];
    let pieces: Vec<Piece> = (0..100).map(|_| orig(&chunk)).collect();
    let mut o = ftp(&pieces);
    // Each cut piece of the line is one over-long command, ignored (the analyzer
    // is not confirmed, so without a weird); only the framer reports.
    assert!(o.events.is_empty());
    o.weirds.dedup();
    assert_eq!(o.weirds, ["contentline_size_exceeded [] (NVT)"]);
}

#[test]
fn pipelined_commands_without_replies_queue_nothing() {
    // The analyzer pairs nothing: each command is its event at once, and its
    // state stays two numbers however many commands wait for replies.
    let lines = b"NOOP\r\n".repeat(200_000);
    let mut a = FTPAnalyzer::new(0, Limits::default());
    let o = ftp(&[orig(&lines)]);
    assert_eq!(o.events.len(), 200_000);
    assert!(o.weirds.is_empty());
    a.state.pending = 0;
    assert_eq!(a.state, ftp::FTPState::default());
}

#[test]
fn the_first_nul_of_each_direction_is_dropped_and_reported_once() {
    let o = ftp(&[orig(b"USER a\0b\r\n"), resp(b"331 x\0y\r\n")]);
    // Both directions are NUL-sensitive (Zeek's NVT analyzers): the line framer drops
    // each direction's first NUL and reports the connection's first.
    assert_eq!(o.weirds, ["NUL_in_line [] (NVT)"]);
    assert_eq!(o.events[0]["args"]["arg"], "ab");
    assert_eq!(o.events[1]["args"]["msg"], "xy");
    // Later NULs are data.
    let o = ftp(&[orig(b"USER a\0b\0c\r\n")]);
    assert_eq!(o.events[0]["args"]["arg"], "ab\\x00c");
}

#[test]
fn after_auth_tls_and_its_234_reply_no_line_is_ftp() {
    let o = ftp(&[
        orig(b"AUTH TLS\r\n"),
        resp(b"234 AUTH TLS successful\r\n"),
        orig(b"\x16\x03\x01 hello\n"),
        resp(b"\x16\x03\x03 server hello\n"),
        orig(b"USER x\r\n"),
    ]);
    let names: Vec<&str> = o
        .events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    // Zeek hands the connection to its SSL analyzer after the 234: nothing is an FTP
    // line, nothing violates.
    assert_eq!(names, ["ftp_request", "ftp_reply"]);
    assert_eq!(o.verdict, "Confirmed");
    // Another AUTH argument, or a 234 to another command, starts nothing.
    let o = ftp(&[
        orig(b"AUTH TLS\r\n"),
        orig(b"AUTH SSL\r\n"),
        resp(b"234 ok\r\n"),
        orig(b"USER x\r\n"),
    ]);
    assert_eq!(o.events.len(), 4);
}

#[test]
fn every_ftp_event_is_raised() {
    let o = ftp(&[orig(b"USER x\r\n"), resp(b"331 ok\r\n")]);
    let names: Vec<&str> = o
        .events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(names, ftp::EVENT_NAMES);
}

#[test]
fn ftp_through_the_engine() {
    use common::{conn_columns, event_names, run_with, Config, Host};
    let c = Host::v4("10.0.0.1", 40002);
    let s = Host::v4("10.0.0.2", 21);
    let frames = session(
        1.0,
        c,
        s,
        &[
            resp(b"220-hello\r\n220 ready\r\n"),
            orig(b"USER anonymous\r\n"),
            resp(b"331 password please\r\n"),
            orig(b"PASS x@y\r\n"),
            resp(b"230 ok\r\n"),
            orig(b"QUIT\r\n"),
            resp(b"221 bye\r\n"),
        ],
    );
    let out = run_with(
        &frames,
        Config::default(),
        netpac_analyzers::registry(),
        Some(vec!["ftp_request", "ftp_reply"]),
    );
    assert_eq!(
        event_names(&out),
        [
            "ftp_reply",
            "ftp_reply",
            "ftp_request",
            "ftp_reply",
            "ftp_request",
            "ftp_reply",
            "ftp_request",
            "ftp_reply"
        ]
    );
    assert_eq!(conn_columns(&out, &["service"]), ["ftp"]);
}
