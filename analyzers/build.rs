//! Compiles the grammars in `grammars/` (at the workspace root) into Rust, one
//! file per grammar in `OUT_DIR`; each protocol's folder includes its own.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    // Run from the workspace root so diagnostics name `grammars/dns.npac`, the
    // path a protocol author knows; cargo resolves rerun paths from here.
    std::env::set_current_dir("..").expect("the workspace root is the parent of analyzers/");
    for entry in [
        "grammars",
        "grammars/zeek/events.tsv",
        "grammars/zeek/core-events.tsv",
        "grammars/zeek/newer-events.tsv",
    ] {
        println!("cargo:rerun-if-changed=../{entry}");
    }
    if let Ok(dir) = std::fs::read_dir("grammars") {
        for p in dir.filter_map(|e| e.ok().map(|e| e.path())) {
            println!("cargo:rerun-if-changed=../{}", p.display());
        }
    }
    if let Err(e) = netpac_codegen::Builder::new()
        .grammars("grammars")
        .events_table("grammars/zeek/events.tsv")
        .events_table("grammars/zeek/core-events.tsv")
        // Events today's Zeek raises that the specification (Zeek 2.6's table) does not list.
        .events_table("grammars/zeek/newer-events.tsv")
        .out_dir(Path::new(&out))
        .cargo_metadata(false)
        .compile()
    {
        eprintln!("\n{e}\n");
        std::process::exit(1);
    }
}
