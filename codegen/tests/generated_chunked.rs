//! Snapshot of the Rust generated for a `lines(...)` analyzer with a raw unit
//! (`orig raw: Chunk`, `on c: Command raw = c.size;`, tests/grammars/chunked.*):
//! the line handler returns the raw byte count, the router hands it to the
//! framer, raw pieces go to the raw unit's handler; and of a queue of the connection
//! (`state cmds: queue(3)`, `push`, `pop`, tests/grammars/pairing.*) (review generator changes here).

mod support;

#[test]
fn chunked_grammar_switches_lines_to_raw_bytes() {
    let out = support::compile(&["tests/grammars/chunked.npac", "tests/grammars/chunked.evt"], &[]);
    let code = &out[0].code;
    assert!(code.contains("deliver_switching("));
    assert!(code.contains("-> u64"));
    insta::assert_snapshot!("chunked_generated", code);
}

#[test]
fn pairing_grammar_keeps_a_bounded_queue() {
    let out = support::compile(&["tests/grammars/pairing.npac", "tests/grammars/pairing.evt"], &[]);
    let code = &out[0].code;
    assert!(code.contains("VecDeque<u64>"));
    insta::assert_snapshot!("pairing_generated", code);
}

/// A sink (`sink messages: Message;`, `on r: Record feed messages = r.payload;`,
/// tests/grammars/sinks.*): a framer per direction in the state, a handler for the
/// sink's PDUs, the feed after the record's events; and state passed to a TCP unit.
#[test]
fn sinks_grammar_frames_a_stream_inside_records() {
    let out = support::compile(&["tests/grammars/sinks.npac", "tests/grammars/sinks.evt"], &[]);
    let code = &out[0].code;
    assert!(code.contains("sink_messages: [::netpac_runtime::framer::Framer; 2]"));
    assert!(code.contains("fn handle_sinks_sink_messages("));
    insta::assert_snapshot!("sinks_generated", code);
}
