//! Shared helpers for netpac's integration tests. The packet builders and the
//! engine-feeding helpers live with the runtime crate's tests
//! (`runtime/tests/common/mod.rs`); this module reuses that file rather than
//! keeping a second copy.
#![allow(dead_code, unused_imports)]

#[path = "../../runtime/tests/common/mod.rs"]
mod runtime_common;
pub use runtime_common::*;

/// The named events of a run through every analyzer, each connection record
/// shortened to its id (what snapshots of a protocol's events compare).
pub fn analyzer_events(frames: &[Frame], names: Vec<&'static str>) -> Vec<serde_json::Value> {
    let out = run_with(
        frames,
        Config::default(),
        netpac_analyzers::registry(),
        Some(names),
    );
    out.events
        .into_iter()
        .map(|mut e| {
            if let Some(c) = e["args"].get_mut("c") {
                let id = c["id"].clone();
                *c = serde_json::json!({ "id": id });
            }
            e
        })
        .collect()
}
