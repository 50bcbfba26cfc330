//! netpac: Zeek-compatible protocol analysis.
//!
//! The protocol parsers and their event bindings are generated from
//! `grammars/*.npac` / `*.evt` by `build.rs` (see `docs/grammar-language.md`).
pub use netpac_runtime as runtime;

/// Generated parsers, events and analyzers, one module per grammar.
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/netpac_protocols.rs"));
}

/// Glue between the HTTP grammar's line units and the HTTP analyzer.
pub mod http;
/// Protocol logs written from events (dns.log, http.log).
pub mod logs;

/// Every analyzer netpac knows, for the engine to attach by port.
pub fn registry() -> netpac_runtime::analyzer::Registry {
    let mut reg = netpac_runtime::analyzer::Registry::default();
    proto::register_all(&mut reg);
    reg
}

/// Every event netpac can raise: the generated analyzers' events plus the
/// connection-level events the runtime raises itself.
pub fn event_names() -> Vec<&'static str> {
    let mut names = proto::generated_event_names();
    names.extend_from_slice(netpac_analyzers::http::EVENT_NAMES);
    names.extend(runtime_event_names());
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(*n));
    names
}

/// Events raised by the runtime (connections, TCP, UDP, ICMP, weirds).
pub fn runtime_event_names() -> impl Iterator<Item = &'static str> {
    netpac_runtime::conn::events::ENGINE_EVENTS
        .iter()
        .map(|id| id.name())
}
