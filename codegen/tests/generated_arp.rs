//! Snapshot of the Rust generated for the ARP grammar: the link-layer
//! analyzer (`ethertype` items) and L2 bindings (review generator changes here).

mod support;

#[test]
fn arp_grammar_generates_a_link_analyzer() {
    let out = support::compile(&["grammars/arp.npac", "grammars/arp.evt"], &["grammars/zeek/events.tsv"]);
    assert_eq!(out.len(), 1);
    let code = &out[0].code;
    assert!(!code.contains("unsafe"));
    assert!(code.contains("impl ::netpac_runtime::analyzer::LinkAnalyzer for ARPLinkAnalyzer"));
    // Only link items: no connection analyzer is generated.
    assert!(!code.contains("impl ::netpac_runtime::analyzer::Analyzer for"));
    insta::assert_snapshot!("arp_generated", code);
}
