//! A stream inside a stream, said in the grammar: `sink messages: Message;` with
//! `on r: Record feed messages = r.payload;` (tests/grammars/sinks.*): the payloads
//! of a direction's records are one stream, cut into messages by their own
//! `&size` whatever the records' boundaries; a message's `set` changes the state
//! the next record is parsed with (`=> Record(sealed)`).

mod common;
mod lines_support;

// The test grammars' registration helpers are not used here.
#[allow(dead_code)]
mod grammars {
    include!(concat!(env!("OUT_DIR"), "/test_grammars/test_grammars.rs"));
}

use grammars::sinks::{Limits, SINKSAnalyzer};
use lines_support::{orig, resp, run, Outcome, Piece};

fn sinks(pieces: &[Piece]) -> Outcome {
    run(
        Box::new(SINKSAnalyzer::new(0, Limits::default())),
        "SINKS",
        7779,
        pieces,
    )
}

#[test]
fn messages_span_records_and_share_them() {
    let out = sinks(&[
        // A message of 4 body bytes cut over two records, then two messages in one record.
        orig(&[1, 4, 7, 0, 4, b'a']),
        orig(&[1, 3, b'b', b'c', b'd']),
        orig(&[1, 7, 8, 0, 0, 5, 0, 1, b'x']),
    ]);
    assert_eq!(
        out.weirds,
        [
            "record [4] (SINKS)",
            "record [3] (SINKS)",
            "message [7] (SINKS)",
            "record [7] (SINKS)",
            "message [8] (SINKS)",
            "message [5] (SINKS)",
        ]
    );
    assert_eq!(out.verdict, "Confirmed");
}

#[test]
fn each_direction_has_its_own_stream() {
    let out = sinks(&[
        orig(&[1, 2, 7, 0]),
        resp(&[1, 3, 6, 0, 0]),
        orig(&[1, 1, 0]),
    ]);
    assert_eq!(
        out.weirds,
        [
            "record [2] (SINKS)",
            "record [3] (SINKS)",
            "message [6] (SINKS)",
            "record [1] (SINKS)",
            "message [7] (SINKS)",
        ]
    );
}

#[test]
fn state_set_by_a_message_reaches_the_next_record() {
    // The `9` message seals the connection: the next record's payload is not fed,
    // so its bytes never make a message.
    let out = sinks(&[orig(&[1, 3, 9, 0, 0]), orig(&[1, 3, 5, 0, 0])]);
    assert_eq!(
        out.weirds,
        ["record [3] (SINKS)", "message [9] (SINKS)", "record [3] (SINKS)"]
    );
}

#[test]
fn records_of_other_kinds_feed_nothing() {
    let out = sinks(&[orig(&[2, 3, 5, 0, 0])]);
    assert_eq!(out.weirds, ["record [3] (SINKS)"]);
}

#[test]
fn a_message_longer_than_the_limit_is_a_violation_not_a_buffer() {
    // MAX_PDU bounds what a sink holds, as it bounds a TCP framer.
    let len = u16::MAX;
    let out = sinks(&[orig(&[1, 3, 5, (len >> 8) as u8, len as u8])]);
    assert_eq!(out.weirds, ["record [3] (SINKS)"]);
    assert!(out.verdict.starts_with("Violation(\"PDU of 65538 bytes exceeds the limit of 1000"), "{}", out.verdict);
}
