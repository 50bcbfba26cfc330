//! Finger events from lines built here (snapshots in tests/snapshots/), the
//! line framing they come through, and bad input. Checked against Zeek 8.2.2
//! (legacy Finger analyzer) on the pcap of `finger_through_the_engine`.

mod common;
mod lines_support;

use lines_support::{orig, resp, run, session, Outcome, Piece};
use netpac_analyzers::finger::{self, FINGERAnalyzer, Limits};

fn finger(pieces: &[Piece]) -> Outcome {
    run(
        Box::new(FINGERAnalyzer::new(0, Limits::default())),
        "FINGER",
        79,
        pieces,
    )
}

#[test]
fn requests_user_host_and_long_form() {
    insta::assert_json_snapshot!(finger(&[
        orig(b" /W  joe@host.example \r\n"),
        orig(b"/wanne\r\n"),
        orig(b"@only-host\n"),
        orig(b"plain\r\n"),
        orig(b" \r\n"),
    ]));
}

#[test]
fn reply_lines_skip_empty_ones_and_end_at_cr_lf_or_crlf() {
    insta::assert_json_snapshot!(finger(&[
        orig(b"joe\r\n"),
        resp(b"Login: joe\r\nName: Jo"),
        resp(b"e\rPlan:\n\nNone\r"),
        resp(b"\nlast line without end"),
        Piece::End(false),
    ]));
}

#[test]
fn the_first_nul_of_a_request_is_a_weird_and_dropped() {
    let o = finger(&[orig(b"a\0b\0c\r\n"), resp(b"x\0y\n")]);
    assert_eq!(o.weirds, ["NUL_in_line [] (CONTENTLINE)"]);
    // Zeek prints a NUL in a string as `\x00`.
    assert_eq!(o.events[0]["args"]["username"], "ab\\x00c");
    assert_eq!(o.events[1]["args"]["reply_line"], "x\\x00y");
}

#[test]
fn over_long_lines_are_cut_at_the_grammar_limit() {
    let long = vec![b'x'; 2500];
    let o = finger(&[resp(&long), resp(b"\n")]);
    assert_eq!(
        o.weirds,
        [
            "contentline_size_exceeded [] (CONTENTLINE)",
            "contentline_size_exceeded [] (CONTENTLINE)"
        ]
    );
    let lens: Vec<usize> = o
        .events
        .iter()
        .map(|e| e["args"]["reply_line"].as_str().unwrap().len())
        .collect();
    // 1000, then the byte that did not fit is dropped (as Zeek's ContentLine does), 1000, the rest.
    assert_eq!(lens, [1000, 1000, 498]);
}

#[test]
fn garbage_never_violates_nor_confirms() {
    let o = finger(&[
        orig(b"\xff\xfe\x00garbage\r\r\n\x01"),
        resp(&[0u8, 1, 2, 255, b'\n']),
        Piece::End(true),
    ]);
    assert_eq!(o.verdict, "Undecided");
    // Two client lines (the NUL dropped, the empty one skipped, the last at the end), one server line.
    assert_eq!(o.events.len(), 3);
}

#[test]
fn an_unterminated_request_is_delivered_at_the_end_only() {
    let o = finger(&[orig(b"joe")]);
    assert!(o.events.is_empty());
    let o = finger(&[orig(b"joe"), Piece::End(true)]);
    assert_eq!(o.events[0]["args"]["username"], "joe");
}

#[test]
fn every_finger_event_is_raised() {
    let o = finger(&[orig(b"joe\n"), resp(b"x\n")]);
    let names: Vec<&str> = o
        .events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(names, finger::EVENT_NAMES);
}

#[test]
fn finger_through_the_engine() {
    use common::{conn_columns, event_names, run_with, Config, Host};
    let c = Host::v4("10.0.0.1", 40001);
    let s = Host::v4("10.0.0.2", 79);
    let frames = session(
        1.0,
        c,
        s,
        &[
            orig(b" /W  joe@host.example \r\n"),
            resp(b"Login: joe\r\n"),
            resp(b"Name: Joe\rPlan:\n\nNone\r\n"),
        ],
    );
    let wanted = vec!["finger_request", "finger_reply", "conn_weird"];
    let out = run_with(
        &frames,
        Config::default(),
        netpac_analyzers::registry(),
        Some(wanted),
    );
    assert_eq!(
        event_names(&out),
        [
            "finger_request",
            "finger_reply",
            "finger_reply",
            "conn_weird",
            "finger_reply",
            "finger_reply"
        ]
    );
    assert_eq!(
        out.events[3]["args"]["name"],
        "line_terminated_with_single_CR"
    );
    let row = out
        .weird_log
        .lines()
        .find(|l| l.contains("line_terminated_with_single_CR"))
        .expect("weird.log row");
    assert!(row.ends_with("\tCONTENTLINE"), "{row}");
    // Zeek's Finger analyzer never confirms.
    assert_eq!(conn_columns(&out, &["service"]), ["-"]);
}
