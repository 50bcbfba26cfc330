//! Snapshot of the Rust generated for the Teredo grammar: a tunnel analyzer
//! (`=> tunnel Packet`): one function per payload that parses, reports its
//! weirds and verdict, picks the inner packet and binds the events, a
//! detection function, and the `TunnelSpec` it registers (review generator
//! changes here).

mod support;

#[test]
fn teredo_grammar_generates_a_tunnel_analyzer() {
    let out = support::compile(
        &["grammars/teredo.npac", "grammars/teredo.evt"],
        &["grammars/zeek/events.tsv"],
    );
    assert_eq!(out.len(), 1);
    let code = &out[0].code;
    assert!(!code.contains("unsafe"));
    assert!(code.contains("fn tunnel_teredo("));
    assert!(code.contains("fn detect_teredo("));
    assert!(code.contains("reg.add_tunnel("));
    assert!(code.contains("Confirm::BothSides"));
    // No connection analyzer: a tunnel reads each payload on its own.
    assert!(!code.contains("impl ::netpac_runtime::analyzer::Analyzer for"));
    insta::assert_snapshot!("teredo_generated", code);
}
