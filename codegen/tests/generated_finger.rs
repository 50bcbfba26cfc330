//! Snapshot of the Rust generated for the Finger grammar: a `lines(...)`
//! analyzer (line framer, one handler per direction, end-of-data flush) that
//! never confirms (review generator changes here).

mod support;

#[test]
fn finger_grammar_generates_a_line_analyzer() {
    let out = support::compile(&["grammars/finger.npac", "grammars/finger.evt"], &["grammars/zeek/events.tsv"]);
    assert_eq!(out.len(), 1);
    let code = &out[0].code;
    assert!(!code.contains("unsafe"));
    assert!(code.contains("lines: ::netpac_runtime::lines::Lines,"));
    assert!(code.contains("fn end_of_data("));
    // `confirm never;`: nothing confirms.
    assert!(!code.contains("cx.confirm()"));
    insta::assert_snapshot!("finger_generated", code);
}
