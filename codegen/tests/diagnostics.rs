//! Golden tests of the diagnostics for broken grammars (`tests/broken/*`):
//! every error is `file:line:col: error: message`, the source line and a caret.

use netpac_codegen::diag::SourceFile;
use std::collections::HashMap;
use std::path::Path;

fn events() -> HashMap<String, netpac_codegen::EventSig> {
    let mut ev = HashMap::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../grammars/zeek/events.tsv");
    netpac_codegen::parse_event_table(&std::fs::read_to_string(root).unwrap(), &mut ev);
    ev
}

fn diagnose(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let files = vec![SourceFile { name: format!("broken/{file}"), text }];
    match netpac_codegen::compile_sources(&files, &events()) {
        Ok(_) => panic!("{file} compiled but should not"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn broken_grammars_report_where_and_why() {
    let mut names: Vec<String> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 10);
    for n in names {
        let out = diagnose(&n);
        assert!(out.starts_with(&format!("broken/{n}:")), "{out}");
        insta::assert_snapshot!(n.replace('.', "_"), out);
    }
}
