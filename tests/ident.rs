//! Ident events from lines built here (snapshots in tests/snapshots/), its weirds,
//! and the analyzer put on port 113 at run time, as Zeek needs a script for.
//! Checked against Zeek 8.2.2 (with `Analyzer::register_for_ports(ANALYZER_IDENT,
//! set(113/tcp))`) on the pcap of `ident_through_the_engine`.

mod common;
mod lines_support;

use lines_support::{orig, resp, run, session, Outcome, Piece};
use netpac_analyzers::ident::{self, IDENTAnalyzer, Limits};
use netpac_runtime::zeek::Proto;

fn ident(pieces: &[Piece]) -> Outcome {
    run(Box::new(IDENTAnalyzer::new(0, Limits::default())), "IDENT", 113, pieces)
}

#[test]
fn requests_replies_and_errors() {
    insta::assert_json_snapshot!(ident(&[
        orig(b"6191, 23\r\n"),
        resp(b"6191 , 23 : USERID : UNIX : joe\r\n"),
        orig(b" 6193 ,23\r\n"),
        resp(b"6193, 23 :USERID: OTHER , US-ASCII :  stjohns  \r\n"),
        orig(b"6195,23\r\n"),
        resp(b"6195, 23 : ERROR : NO-USER\r\n"),
        orig(b"\r\n"),
    ]));
}

#[test]
fn bad_requests_and_replies_are_weirds() {
    let o = ident(&[
        orig(b"hello\r\n"),
        orig(b"1,2 extra\r\n"),
        orig(b"99999,2\r\n"),
        resp(b"1,2 USERID\r\n"),
        resp(b"1,2 : FOO : x\r\n"),
        resp(b"1,2 : USERID : UNIX joe\r\n"),
    ]);
    assert_eq!(
        o.weirds,
        [
            "bad_ident_request [hello] (IDENT)",
            "ident_request_addendum [1,2 extra] (IDENT)",
            "bad_ident_port [99999,2] (IDENT)",
            // Only the first bad reply of a connection is reported.
            "bad_ident_reply [1,2 USERID] (IDENT)",
        ]
    );
    let names: Vec<String> = o.events.iter().map(|e| format!("{} {}", e["event"], e["args"]["lport"])).collect();
    // The request with an addendum still counts; the port past 65535 is 0.
    assert_eq!(names, ["\"ident_request\" \"2/tcp\"", "\"ident_request\" \"2/tcp\""]);
    assert_eq!(o.events[1]["args"]["rport"], "0/tcp");
    // Zeek's Ident never confirms nor rejects the protocol.
    assert_eq!(o.verdict, "Undecided");
}

#[test]
fn every_ident_event_is_raised() {
    let o = ident(&[orig(b"1,2\n"), resp(b"1,2:USERID:UNIX:u\n"), resp(b"1,2:ERROR:X\n")]);
    let names: Vec<&str> = o.events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(names, ident::EVENT_NAMES);
}

#[test]
fn garbage_never_panics_nor_violates() {
    let o = ident(&[
        orig(b"\xff,\x00\x00 ,, 12345678901234567890123,9\r\n"),
        resp(b",:,:::USERID:::\n99999999999999999999999,1:ERROR\n\0\0\0"),
        Piece::End(true),
        Piece::End(false),
    ]);
    assert_eq!(o.verdict, "Undecided");
}

#[test]
fn ident_through_the_engine() {
    use common::{conn_columns, event_names, run_with, Config, Host};
    let c = Host::v4("10.0.0.1", 40001);
    let s = Host::v4("10.0.0.2", 113);
    let frames = session(
        1.0,
        c,
        s,
        &[
            orig(b"6191, 23\r\n"),
            resp(b"6191 , 23 : USERID : UNIX : joe\r\n"),
            orig(b"6193 , 23 extra\r\n"),
            resp(b"6193, 23 :USERID: OTHER , US-ASCII :  stjohns  \r\n"),
            orig(b"hello\r\n99999,5\r\n"),
            resp(b"6195, 23 : ERROR : NO-USER\r\n1,2 USERID\r\n1,2 : FOO\r\n"),
            resp(b"1,2:USERID:UNIX:joe\r\n1,2 : USERID : UNIX   : joe\r\n1,2:USERID:OTHER,UTF-8:x\r\n1,2:USERID::x\r\n1,2:USERID: X :x\r\n1,2:USERID:A\tB\t:x\r\n"),
        ],
    );
    let wanted = vec!["ident_request", "ident_reply", "ident_error"];
    // Zeek registers no port for Ident: nothing without a registration.
    let out = run_with(&frames, Config::default(), netpac_analyzers::registry(), Some(wanted.clone()));
    assert!(event_names(&out).is_empty());

    let mut registry = netpac_analyzers::registry();
    registry.register_port("IDENT", Proto::Tcp, 113).unwrap();
    assert!(registry.register_port("NOPE", Proto::Tcp, 113).is_err());
    let out = run_with(&frames, Config::default(), registry, Some(wanted));
    // What Zeek 8.2.2 raises on this capture, in order and with these arguments.
    let got: Vec<String> = out
        .events
        .iter()
        .map(|e| {
            let a = &e["args"];
            let mut row = format!("{} {} {}", e["event"].as_str().unwrap(), a["lport"], a["rport"]);
            for k in ["user_id", "system", "line"] {
                if let Some(v) = a.get(k) {
                    row += &format!(" {v}");
                }
            }
            row
        })
        .collect();
    assert_eq!(
        got,
        [
            r#"ident_request "23/tcp" "6191/tcp""#,
            r#"ident_reply "23/tcp" "6191/tcp" "joe" "UNIX :""#,
            r#"ident_request "23/tcp" "6193/tcp""#,
            r#"ident_reply "23/tcp" "6193/tcp" "stjohns  " "OTHER ,""#,
            r#"ident_request "5/tcp" "0/tcp""#,
            r#"ident_error "23/tcp" "6195/tcp" "NO-USER""#,
            r#"ident_reply "2/tcp" "1/tcp" "joe" "UNIX:""#,
            r#"ident_reply "2/tcp" "1/tcp" "joe" "UNIX   :""#,
            r#"ident_reply "2/tcp" "1/tcp" "x" "OTHER,""#,
            r#"ident_reply "2/tcp" "1/tcp" "x" ":""#,
            r#"ident_reply "2/tcp" "1/tcp" "x" "X :""#,
            r#"ident_reply "2/tcp" "1/tcp" "x" "A\\x09B\\x09:""#,
        ]
    );
    let weirds: Vec<&str> = out
        .weird_log
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').nth(6).unwrap())
        .collect();
    assert_eq!(
        weirds,
        ["ident_request_addendum", "bad_ident_request", "bad_ident_port", "bad_ident_reply"]
    );
    // Zeek's Ident never confirms.
    assert_eq!(conn_columns(&out, &["service"]), ["-"]);
}
