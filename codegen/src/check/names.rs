//! Declarations every module must get right before anything is resolved:
//! no name declared twice, imports that exist.

use crate::ast::Module;
use crate::diag::{Diagnostic, Span};
use std::collections::{HashMap, HashSet};

pub(super) fn check_names(modules: &[Module], diags: &mut Vec<Diagnostic>) {
    for m in modules {
        // Without `module x;` the name comes from the file name, which may not be one.
        if !is_identifier(&m.name) {
            diags.push(Diagnostic::new(
                m.name_span,
                format!(
                    "grammar name `{}` (from the file name) is not an identifier; rename the file or declare `module <name>;`",
                    m.name
                ),
            ));
        }
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
        let mut limits = HashSet::new();
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

/// `[A-Za-z_][A-Za-z0-9_]*`, not `_` alone: a grammar name is a Rust module name.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name != "_"
}
