//! Snapshot of the Rust generated for the FTP grammar: a `lines(...)` analyzer
//! with connection state (`state`, `on .. set`, state as line-unit arguments)
//! that confirms on commands only (review generator changes here).

use netpac_codegen::diag::SourceFile;
use std::collections::HashMap;
use std::path::Path;

#[test]
fn ftp_grammar_generates_a_stateful_line_analyzer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut events = HashMap::new();
    netpac_codegen::parse_event_table(
        &std::fs::read_to_string(root.join("grammars/zeek/events.tsv")).unwrap(),
        &mut events,
    );
    let files: Vec<SourceFile> = ["grammars/ftp.npac", "grammars/ftp.evt"]
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
    assert!(code.contains("pub struct FTPState"));
    // The reply handler passes the state in and stores the reply's `next_pending`.
    let reply_parse = code.find("Reply::parse(").expect("a reply handler");
    let call: String = code[reply_parse..]
        .chars()
        .take_while(|&c| c != ';')
        .collect();
    assert!(
        call.contains("state.pending") && call.contains("state.tls"),
        "{call}"
    );
    assert!(code.contains("state.pending = "));
    // `confirm on Request;`: one of the two handlers confirms.
    assert_eq!(code.matches("cx.confirm()").count(), 1);
    insta::assert_snapshot!("ftp_generated", code);
}
