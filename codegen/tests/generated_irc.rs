//! Snapshot of the Rust generated for the IRC grammar: one line unit for both
//! directions with `confirm on orig;`, bytes lets (word cuts of the line), sets
//! from comprehensions (review generator changes here).

mod support;

#[test]
fn irc_grammar_generates_word_cuts_sets_and_one_confirming_direction() {
    let out = support::compile(&["grammars/irc.npac", "grammars/irc.evt"], &["grammars/zeek/events.tsv"]);
    let code = &out[0].code;
    assert!(!code.contains("unsafe"));
    // `confirm on orig;`: the client's handler confirms, the server's does not.
    assert_eq!(code.matches("cx.confirm()").count(), 1);
    // `let x: bytes` keeps slices of the line; sets drop duplicates.
    assert!(code.contains("pub join_params: &'a [u8]"));
    assert!(code.contains("::netpac_runtime::zeek::string_set("));
    assert!(code.contains("::netpac_runtime::zeek::set_of("));
    assert!(code.contains(".enumerate()"));
    insta::assert_snapshot!("irc_generated", code);
}
