//! netpac's grammar language: parser, checker and Rust code generator.
//!
//! `build.rs` runs a [`Builder`] over `grammars/`:
//!
//! ```no_run
//! netpac_codegen::Builder::new()
//!     .grammars("grammars")
//!     .events_table("grammars/zeek/events.tsv")
//!     .out_dir(std::env::var("OUT_DIR").unwrap())
//!     .compile()
//!     .unwrap_or_else(|e| panic!("\n{e}\n"));
//! ```
//!
//! Each grammar (`x.npac`, plus `x.evt` beside it) becomes one file
//! `npac_x.rs` holding `pub mod x { ... }`; a top file (default
//! `netpac_protocols.rs`) includes them all and offers `register_all` and
//! `generated_event_names`. See `docs/grammar-language.md`.

pub mod ast;
pub mod diag;
mod emit;
pub mod ident;
pub mod parser;
pub mod types;

use crate::ast::Module;
use crate::diag::{Diagnostic, Errors, SourceFile, Span};
pub use crate::emit::EventSig;
use quote::{format_ident, quote};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Reads an event table (`analyzer<TAB>kind<TAB>name<TAB>signature`).
pub fn parse_event_table(text: &str, into: &mut HashMap<String, EventSig>) {
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() != 4 || cols[1] != "event" {
            continue;
        }
        let sig = cols[3].trim().trim_start_matches('(').trim_end_matches(')');
        let mut args = Vec::new();
        for a in split_top(sig) {
            if let Some((n, t)) = a.split_once(':') {
                args.push((n.trim().to_string(), t.trim().to_string()));
            }
        }
        into.insert(
            cols[2].to_string(),
            EventSig {
                name: cols[2].to_string(),
                args,
            },
        );
    }
}

/// Splits on commas outside brackets (`table[a, b] of c`).
fn split_top(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

/// One generated Rust file.
#[derive(Debug, Clone)]
pub struct Generated {
    pub module: String,
    pub file_name: String,
    pub code: String,
}

/// Parses, checks and emits a set of grammar sources. Files sharing a module
/// name (from `module x;` or the file stem) form one module.
pub fn compile_sources(
    files: &[SourceFile],
    events: &HashMap<String, EventSig>,
) -> Result<Vec<Generated>, Errors> {
    let mut diags: Vec<Diagnostic> = Vec::new();
    let mut modules: Vec<Module> = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let mut m = Module::default();
        if let Err(d) = parser::parse_file(&f.text, i as u32, &mut m) {
            diags.push(d);
            continue;
        }
        if m.name.is_empty() {
            m.name = Path::new(&f.name)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("grammar")
                .to_string();
            m.name_span = Span {
                file: i as u32,
                start: 0,
                end: 0,
            };
        }
        match modules.iter_mut().find(|x| x.name == m.name) {
            Some(existing) => merge(existing, m),
            None => modules.push(m),
        }
    }
    if !diags.is_empty() {
        return Err(render(files, diags));
    }
    check_names(&modules, &mut diags);
    if !diags.is_empty() {
        return Err(render(files, diags));
    }
    let world = types::World::new(&modules);
    let mut out = Vec::new();
    for (mi, m) in modules.iter().enumerate() {
        let mut em = emit::Emitter::new(&world, mi, events);
        let enums = em.gen_enums();
        let limits = em.gen_limits();
        let units = em.gen_units();
        let records = em.gen_records();
        let (event_structs, names) = em.gen_event_structs();
        let bindings = em.gen_bindings();
        let analyzers = em.gen_analyzers();
        if !em.diags.is_empty() {
            diags.append(&mut em.diags);
            continue;
        }
        let mname = format_ident!("{}", m.name);
        let imports = m.imports.iter().map(|(n, _)| {
            let i = format_ident!("{}", n);
            quote!(#[allow(unused_imports)] use super::#i::*;)
        });
        let tokens = quote! {
            #[allow(non_snake_case, non_camel_case_types, dead_code, unused_parens, clippy::all)]
            pub mod #mname {
                #(#imports)*
                #enums
                #limits
                #units
                #records
                #event_structs
                #bindings
                #analyzers
                /// Events this grammar raises.
                pub const EVENT_NAMES: &[&str] = &[#(#names),*];
            }
        };
        let code = match syn::parse2::<syn::File>(tokens) {
            Ok(f) => prettyplease::unparse(&f),
            Err(e) => {
                diags.push(Diagnostic::new(
                    m.name_span,
                    format!("internal error: generated code does not parse: {e}"),
                ));
                continue;
            }
        };
        let sources: Vec<&str> = m
            .files
            .iter()
            .map(|f| files[*f as usize].name.as_str())
            .collect();
        let header = format!(
            "// @generated by netpac-codegen from {} — do not edit.\n",
            sources.join(", ")
        );
        out.push(Generated {
            module: m.name.clone(),
            file_name: format!("npac_{}.rs", m.name),
            code: header + &code,
        });
    }
    if !diags.is_empty() {
        return Err(render(files, diags));
    }
    Ok(out)
}

fn merge(into: &mut Module, m: Module) {
    if into.byteorder.is_none() {
        into.byteorder = m.byteorder;
    }
    into.imports.extend(m.imports);
    into.limits.extend(m.limits);
    into.enums.extend(m.enums);
    into.extern_units.extend(m.extern_units);
    into.extern_fns.extend(m.extern_fns);
    into.units.extend(m.units);
    into.analyzers.extend(m.analyzers);
    into.records.extend(m.records);
    into.events.extend(m.events);
    into.files.extend(m.files);
}

fn check_names(modules: &[Module], diags: &mut Vec<Diagnostic>) {
    for m in modules {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        let decls = m
            .units
            .iter()
            .map(|u| (u.name.as_str(), u.span))
            .chain(m.enums.iter().map(|e| (e.name.as_str(), e.span)))
            .chain(m.extern_units.iter().map(|x| (x.name.as_str(), x.span)));
        for (n, span) in decls {
            if seen.insert(n, span).is_some() {
                diags.push(Diagnostic::new(span, format!("`{n}` is declared twice")));
            }
        }
        let mut limits = std::collections::HashSet::new();
        for l in &m.limits {
            if !limits.insert(l.name.as_str()) {
                diags.push(Diagnostic::new(
                    l.span,
                    format!("limit `{}` is declared twice", l.name),
                ));
            }
        }
        for (imp, span) in &m.imports {
            if !modules.iter().any(|x| &x.name == imp) {
                diags.push(Diagnostic::new(
                    *span,
                    format!("unknown grammar `{imp}` (no grammars/{imp}.npac)"),
                ));
            } else if imp == &m.name {
                diags.push(Diagnostic::new(*span, "a grammar cannot import itself"));
            }
        }
    }
}

fn render(files: &[SourceFile], mut diags: Vec<Diagnostic>) -> Errors {
    diags.sort_by_key(|d| (d.span.file, d.span.start));
    diags.dedup();
    Errors {
        rendered: diags.iter().map(|d| d.render(files)).collect(),
    }
}

/// Runs the generator from `build.rs` (like `prost_build::Config`).
#[derive(Debug, Clone)]
pub struct Builder {
    grammar_dirs: Vec<PathBuf>,
    event_tables: Vec<PathBuf>,
    out_dir: Option<PathBuf>,
    top_file: String,
    cargo: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    pub fn new() -> Builder {
        Builder {
            grammar_dirs: Vec::new(),
            event_tables: Vec::new(),
            out_dir: None,
            top_file: "netpac_protocols.rs".into(),
            cargo: true,
        }
    }
    /// A directory of `*.npac` / `*.evt` files (not recursive).
    pub fn grammars(mut self, dir: impl Into<PathBuf>) -> Self {
        self.grammar_dirs.push(dir.into());
        self
    }
    /// An event table that event declarations are checked against.
    pub fn events_table(mut self, path: impl Into<PathBuf>) -> Self {
        self.event_tables.push(path.into());
        self
    }
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }
    /// Name of the file that includes every generated module.
    pub fn top_file(mut self, name: impl Into<String>) -> Self {
        self.top_file = name.into();
        self
    }
    /// Whether to print `cargo:rerun-if-changed` lines (default: yes).
    pub fn cargo_metadata(mut self, on: bool) -> Self {
        self.cargo = on;
        self
    }

    /// Generates the code; returns the files written.
    pub fn compile(self) -> Result<Vec<PathBuf>, Box<dyn std::error::Error>> {
        let out_dir = match &self.out_dir {
            Some(d) => d.clone(),
            None => PathBuf::from(std::env::var("OUT_DIR")?),
        };
        let mut events = HashMap::new();
        for t in &self.event_tables {
            if self.cargo {
                println!("cargo:rerun-if-changed={}", t.display());
            }
            let text = std::fs::read_to_string(t).map_err(|e| format!("{}: {e}", t.display()))?;
            parse_event_table(&text, &mut events);
        }
        let mut files = Vec::new();
        for dir in &self.grammar_dirs {
            if self.cargo {
                println!("cargo:rerun-if-changed={}", dir.display());
            }
            let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
                .map_err(|e| format!("{}: {e}", dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("npac" | "evt")))
                .collect();
            // .npac before .evt of the same stem, stems in order: stable output.
            paths.sort_by_key(|p| {
                (
                    p.file_stem().map(|s| s.to_owned()),
                    p.extension().map(|e| e != "npac"),
                )
            });
            for p in paths {
                if self.cargo {
                    println!("cargo:rerun-if-changed={}", p.display());
                }
                let text =
                    std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
                files.push(SourceFile {
                    name: p.display().to_string(),
                    text,
                });
            }
        }
        let generated = compile_sources(&files, &events)?;
        std::fs::create_dir_all(&out_dir)?;
        let mut written = Vec::new();
        let mut top = String::from("// @generated by netpac-codegen — do not edit.\n");
        for g in &generated {
            let path = out_dir.join(&g.file_name);
            write_if_changed(&path, &g.code)?;
            // Relative to this file, so the set can live in any directory.
            top.push_str(&format!("include!(\"{}\");\n", g.file_name));
            written.push(path);
        }
        top.push_str("\n/// Adds every generated analyzer to `reg`.\n#[allow(unused_variables)]\npub fn register_all(reg: &mut ::netpac_runtime::analyzer::Registry) {\n");
        for g in &generated {
            top.push_str(&format!("    {}::register(reg);\n", g.module));
        }
        top.push_str("}\n\n/// Every event the generated analyzers can raise.\npub fn generated_event_names() -> ::std::vec::Vec<&'static str> {\n    let mut v: ::std::vec::Vec<&'static str> = ::std::vec::Vec::new();\n");
        for g in &generated {
            top.push_str(&format!(
                "    v.extend_from_slice({}::EVENT_NAMES);\n",
                g.module
            ));
        }
        top.push_str("    v\n}\n");
        let top_path = out_dir.join(&self.top_file);
        write_if_changed(&top_path, &top)?;
        written.push(top_path);
        Ok(written)
    }
}

/// Leaves unchanged files alone so their modification time stays put.
fn write_if_changed(path: &Path, text: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).ok().as_deref() == Some(text) {
        return Ok(());
    }
    std::fs::write(path, text)
}
