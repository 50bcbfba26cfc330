//! Snapshot of the Rust generated for the FTP grammar: a `lines(...)` analyzer
//! with connection state (`state`, `on .. set`, state as line-unit arguments)
//! that confirms on commands only and hands the stream to SSL after AUTH TLS
//! (review generator changes here).

mod support;

#[test]
fn ftp_grammar_generates_a_stateful_line_analyzer() {
    let out = support::compile(&["grammars/ftp.npac", "grammars/ftp.evt"], &["grammars/zeek/events.tsv"]);
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
        call.contains("state.pending") && call.contains("state.auth_tls"),
        "{call}"
    );
    assert!(code.contains("state.pending = "));
    // `handoff SSL`: the reply that starts TLS stops the analyzer, which then parses nothing.
    assert!(code.contains("state.stopped = ::std::option::Option::Some(\"SSL\")"));
    assert!(code.contains("if state.stopped.is_some()"));
    // `confirm on Request;`: one of the two handlers confirms.
    assert_eq!(code.matches("cx.confirm()").count(), 1);
    insta::assert_snapshot!("ftp_generated", code);
}
