//! Snapshot of the Rust generated for the DNS grammar (review changes to the
//! generator through this file).

use netpac_codegen::diag::SourceFile;
use std::collections::HashMap;
use std::path::Path;

#[test]
fn dns_grammar_generates_the_expected_rust() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut events = HashMap::new();
    for t in ["grammars/zeek/events.tsv", "grammars/zeek/core-events.tsv"] {
        netpac_codegen::parse_event_table(&std::fs::read_to_string(root.join(t)).unwrap(), &mut events);
    }
    let files: Vec<SourceFile> = ["grammars/dns.npac", "grammars/dns.evt"]
        .iter()
        .map(|f| SourceFile { name: f.to_string(), text: std::fs::read_to_string(root.join(f)).unwrap() })
        .collect();
    let out = netpac_codegen::compile_sources(&files, &events).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.len(), 1);
    assert!(out[0].code.starts_with("// @generated"));
    assert!(!out[0].code.contains("unsafe"));
    insta::assert_snapshot!("dns_generated", out[0].code);
}
