//! Shared by the generated-code snapshot tests: compiles grammar files of the
//! workspace (paths from its root) against the given event tables.

use netpac_codegen::diag::SourceFile;
use std::collections::HashMap;
use std::path::Path;

/// The modules generated from `files`, with the events of `tables`; a grammar
/// error fails the test with its diagnostic.
pub fn compile(files: &[&str], tables: &[&str]) -> Vec<netpac_codegen::Generated> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut events = HashMap::new();
    for t in tables {
        netpac_codegen::parse_event_table(
            &std::fs::read_to_string(root.join(t)).unwrap(),
            &mut events,
        );
    }
    let sources: Vec<SourceFile> = files
        .iter()
        .map(|f| SourceFile {
            name: f.to_string(),
            text: std::fs::read_to_string(root.join(f)).unwrap(),
        })
        .collect();
    netpac_codegen::compile_sources(&sources, &events).unwrap_or_else(|e| panic!("{e}"))
}
