//! Every Rust name the generator derives from a grammar name, in one place,
//! so the same grammar name always becomes the same Rust identifier.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// `dns_message` → `DnsMessage` (event, record and analyzer type names).
pub fn camel(s: &str) -> String {
    let mut out = String::new();
    for part in s.split('_').filter(|p| !p.is_empty()) {
        let mut cs = part.chars();
        if let Some(c) = cs.next() {
            out.extend(c.to_uppercase());
            out.push_str(cs.as_str());
        }
    }
    out
}

/// `TcpMessage` → `tcp_message`, `RR` → `rr`.
pub fn snake(s: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if i > 0 && (prev_lower || (next_lower && chars[i - 1].is_uppercase())) {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Rust keywords that cannot be field names as is.
pub fn is_rust_keyword(s: &str) -> bool {
    const KW: &[&str] = &[
        "as", "async", "await", "box", "break", "const", "continue", "dyn", "else", "enum",
        "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move",
        "mut", "pub", "ref", "return", "static", "struct", "trait", "true", "type", "unsafe",
        "use", "where", "while", "yield", "try", "abstract", "become", "do", "final", "macro",
        "override", "priv", "typeof", "unsized", "virtual", "gen",
    ];
    KW.contains(&s)
}

/// A field, parameter or local: keywords become raw identifiers, except the
/// ones raw syntax does not allow, which get a trailing `_`.
pub fn ident(name: &str) -> Ident {
    if matches!(name, "self" | "Self" | "super" | "crate") {
        format_ident!("{}_", name)
    } else if is_rust_keyword(name) {
        Ident::new_raw(name, proc_macro2::Span::call_site())
    } else {
        format_ident!("{}", name)
    }
}

/// An event's id constant (`dns_request` → `DNS_REQUEST`).
/// A namespaced event (`QUIC::initial_packet`) joins its parts with `_`.
pub fn upper_ident(name: &str) -> Ident {
    format_ident!("{}", name.replace("::", "_").to_uppercase())
}

/// The type generated for a unit's inline switch or bit field:
/// `Message` + `answer_data` → `MessageAnswerData`.
pub fn inner_type_name(owner: &str, field: &str) -> String {
    format!("{}{}", owner, camel(field))
}

/// An absolute Rust path from `a::b::c`.
pub fn path_tokens(p: &str) -> TokenStream {
    let parts: Vec<Ident> = p.split("::").map(|s| format_ident!("{}", s)).collect();
    quote!(::#(#parts)::*)
}
