//! Compiles the grammars in `grammars/` into Rust (see `netpac-codegen`).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    if let Err(e) = netpac_codegen::Builder::new()
        .grammars("grammars")
        .events_table("grammars/zeek/events.tsv")
        .events_table("grammars/zeek/core-events.tsv")
        .out_dir(&out)
        .compile()
    {
        eprintln!("\n{e}\n");
        std::process::exit(1);
    }
    // Grammars used only by tests and benchmarks (shapes for the parser benchmarks).
    if let Err(e) = netpac_codegen::Builder::new()
        .grammars("tests/grammars")
        .out_dir(std::path::Path::new(&out).join("test_grammars"))
        .top_file("test_grammars.rs")
        .compile()
    {
        eprintln!("\n{e}\n");
        std::process::exit(1);
    }
}
