//! Snapshot of the Rust generated for the Finger grammar: a `lines(...)`
//! analyzer (line framer, one handler per direction, end-of-data flush) that
//! never confirms (review generator changes here).

use netpac_codegen::diag::SourceFile;
use std::collections::HashMap;
use std::path::Path;

#[test]
fn finger_grammar_generates_a_line_analyzer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut events = HashMap::new();
    netpac_codegen::parse_event_table(
        &std::fs::read_to_string(root.join("grammars/zeek/events.tsv")).unwrap(),
        &mut events,
    );
    let files: Vec<SourceFile> = ["grammars/finger.npac", "grammars/finger.evt"]
        .iter()
        .map(|f| SourceFile {
            name: f.to_string(),
            text: std::fs::read_to_string(root.join(f)).unwrap(),
        })
        .collect();
    let out = netpac_codegen::compile_sources(&files, &events).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.len(), 1);
    let code = &out[0].code;
    assert!(!code.contains("unsafe"));
    assert!(code.contains("lines: ::netpac_runtime::lines::Lines,"));
    assert!(code.contains("fn end_of_data("));
    // `confirm never;`: nothing confirms.
    assert!(!code.contains("cx.confirm()"));
    insta::assert_snapshot!("finger_generated", code);
}
