//! Raw bytes inside a line protocol, said in the grammar: `lines(orig: Command,
//! orig raw: Chunk)` with `on c: Command raw = c.size;` (tests/grammars/chunked.*):
//! after `SEND n` the next n bytes of the client are Chunk PDUs, wherever the
//! segments cut them, then lines resume.

mod common;
mod lines_support;

// The test grammars' registration helpers are not used here.
#[allow(dead_code)]
mod grammars {
    include!(concat!(env!("OUT_DIR"), "/test_grammars/test_grammars.rs"));
}

use grammars::chunked::{CHUNKEDAnalyzer, Limits};
use lines_support::{orig, resp, run, Piece};

fn chunked(pieces: &[Piece]) -> Vec<String> {
    run(
        Box::new(CHUNKEDAnalyzer::new(0, Limits::default())),
        "CHUNKED",
        7777,
        pieces,
    )
    .weirds
}

#[test]
fn raw_bytes_follow_the_line_that_announces_them() {
    assert_eq!(
        chunked(&[
            orig(b"HELLO x\r\nSEND 10\r\nab\r\ncd\r\n"),
            orig(b"efSEND 0\r\nQUIT\r\n"),
            resp(b"ok\r\n"),
        ]),
        [
            "command [0] (CHUNKED)",
            "command [10] (CHUNKED)",
            // The CRLFs are data inside the chunk; a segment ends a piece.
            "chunk [8] (CHUNKED)",
            "chunk [2] (CHUNKED)",
            // `SEND 0` announces nothing: what follows is lines again.
            "command [0] (CHUNKED)",
            "command [0] (CHUNKED)",
            "reply [2] (CHUNKED)",
        ]
    );
}

#[test]
fn the_other_direction_stays_lines() {
    assert_eq!(
        chunked(&[orig(b"SEND 4\r\n"), resp(b"SEND 2\r\nxy\r\n"), orig(b"wxyz")]),
        [
            "command [4] (CHUNKED)",
            "reply [6] (CHUNKED)",
            "reply [2] (CHUNKED)",
            "chunk [4] (CHUNKED)",
        ]
    );
}
