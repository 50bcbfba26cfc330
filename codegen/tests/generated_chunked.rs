//! Snapshot of the Rust generated for a `lines(...)` analyzer with a raw unit
//! (`orig raw: Chunk`, `on c: Command raw = c.size;`, tests/grammars/chunked.*):
//! the line handler returns the raw byte count, the router hands it to the
//! framer, raw pieces go to the raw unit's handler; and of a queue of the connection
//! (`state cmds: queue(3)`, `push`, `pop`, tests/grammars/pairing.*) (review generator changes here).

use netpac_codegen::diag::SourceFile;
use std::collections::HashMap;
use std::path::Path;

#[test]
fn chunked_grammar_switches_lines_to_raw_bytes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let files: Vec<SourceFile> = ["tests/grammars/chunked.npac", "tests/grammars/chunked.evt"]
        .iter()
        .map(|f| SourceFile {
            name: f.to_string(),
            text: std::fs::read_to_string(root.join(f)).unwrap(),
        })
        .collect();
    let out = netpac_codegen::compile_sources(&files, &HashMap::new()).unwrap_or_else(|e| panic!("{e}"));
    let code = &out[0].code;
    assert!(code.contains("deliver_switching("));
    assert!(code.contains("-> u64"));
    insta::assert_snapshot!("chunked_generated", code);
}

#[test]
fn pairing_grammar_keeps_a_bounded_queue() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let files: Vec<SourceFile> = ["tests/grammars/pairing.npac", "tests/grammars/pairing.evt"]
        .iter()
        .map(|f| SourceFile {
            name: f.to_string(),
            text: std::fs::read_to_string(root.join(f)).unwrap(),
        })
        .collect();
    let out = netpac_codegen::compile_sources(&files, &HashMap::new()).unwrap_or_else(|e| panic!("{e}"));
    let code = &out[0].code;
    assert!(code.contains("VecDeque<u64>"));
    insta::assert_snapshot!("pairing_generated", code);
}
