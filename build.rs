//! Compiles the shape grammars of `tests/grammars/` used by the parser
//! benchmarks and the never-panic tests (the protocols' grammars are compiled
//! by `analyzers/build.rs`).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
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
