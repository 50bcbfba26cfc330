//! A bounded queue of the connection, said in the grammar: `state cmds: queue(3)
//! &overflow(weird = ..)`, `on c: Command push cmds = c.n where ..;`, `on r: Reply
//! pop cmds where ..;`, and `resp: Reply(cmds)` passing the oldest value
//! (tests/grammars/pairing.*): replies pair with pipelined commands in order.

mod common;
mod lines_support;

// The test grammars' registration helpers are not used here.
#[allow(dead_code)]
mod grammars {
    include!(concat!(env!("OUT_DIR"), "/test_grammars/test_grammars.rs"));
}

use grammars::pairing::{Limits, PAIRINGAnalyzer};
use lines_support::{orig, resp, run, Piece};

fn pairing(pieces: &[Piece]) -> Vec<String> {
    run(
        Box::new(PAIRINGAnalyzer::new(0, Limits::default())),
        "PAIRING",
        7778,
        pieces,
    )
    .weirds
}

#[test]
fn replies_answer_pipelined_commands_in_order() {
    assert_eq!(
        pairing(&[
            orig(b"1\r\n2\r\n0\r\n3\r\n"),
            resp(b"a\r\n-more\r\nb\r\nc\r\nd\r\n"),
        ]),
        [
            "answers [1] (PAIRING)",
            // A continuation line still sees the command of its reply.
            "answers [2] (PAIRING)",
            "answers [2] (PAIRING)",
            "answers [3] (PAIRING)",
            // Nothing is pending (`0` was not queued).
            "answers [0] (PAIRING)",
        ]
    );
}

#[test]
fn a_full_queue_is_cleared_with_its_weird() {
    let mut a = PAIRINGAnalyzer::new(0, Limits::default());
    let o = run(
        Box::new(PAIRINGAnalyzer::new(0, Limits::default())),
        "PAIRING",
        7778,
        &[orig(b"1\r\n2\r\n3\r\n4\r\n5\r\n"), resp(b"x\r\ny\r\nz\r\n")],
    );
    assert_eq!(
        o.weirds,
        [
            "too_many_pending [] (PAIRING)",
            "answers [4] (PAIRING)",
            "answers [5] (PAIRING)",
            "answers [0] (PAIRING)",
        ]
    );
    // However many commands wait, the state holds at most 3.
    let lines = b"7\r\n".repeat(100_000);
    let conn = netpac_runtime::analyzer::TestConn::new(netpac_runtime::zeek::Proto::Tcp, 7778, "C");
    let mut events = netpac_runtime::event::Events::new();
    let mut weirds = Vec::new();
    let mut cx = netpac_runtime::analyzer::AnalyzerCx::new(
        netpac_runtime::zeek::Time(0),
        &conn,
        &mut events,
        &mut weirds,
        "PAIRING",
    );
    netpac_runtime::analyzer::Analyzer::deliver(&mut a, &mut cx, true, &lines);
    assert!(a.state.cmds.len() <= 3);
}
