//! Shared helpers for netpac's integration tests. The packet builders and the
//! engine-feeding helpers live with the runtime crate's tests
//! (`runtime/tests/common/mod.rs`); this module reuses that file rather than
//! keeping a second copy.
#![allow(dead_code, unused_imports)]

#[path = "../../runtime/tests/common/mod.rs"]
mod runtime_common;
pub use runtime_common::*;
