//! Snapshot of the Rust generated for the ARP grammar: the link-layer
//! analyzer (`ethertype` items) and L2 bindings (review generator changes here).

use netpac_codegen::diag::SourceFile;
use std::collections::HashMap;
use std::path::Path;

#[test]
fn arp_grammar_generates_a_link_analyzer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut events = HashMap::new();
    netpac_codegen::parse_event_table(
        &std::fs::read_to_string(root.join("grammars/zeek/events.tsv")).unwrap(),
        &mut events,
    );
    let files: Vec<SourceFile> = ["grammars/arp.npac", "grammars/arp.evt"]
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
    assert!(code.contains("impl ::netpac_runtime::analyzer::LinkAnalyzer for ARPLinkAnalyzer"));
    // Only link items: no connection analyzer is generated.
    assert!(!code.contains("impl ::netpac_runtime::analyzer::Analyzer for"));
    insta::assert_snapshot!("arp_generated", code);
}
