//! Snapshot of the Rust generated for the DNS grammar (review changes to the
//! generator through this file).

mod support;

#[test]
fn dns_grammar_generates_the_expected_rust() {
    let out = support::compile(&["grammars/dns.npac", "grammars/dns.evt"], &["grammars/zeek/events.tsv", "grammars/zeek/core-events.tsv", "grammars/zeek/newer-events.tsv"]);
    assert_eq!(out.len(), 1);
    assert!(out[0].code.starts_with("// @generated"));
    assert!(!out[0].code.contains("unsafe"));
    insta::assert_snapshot!("dns_generated", out[0].code);
}
