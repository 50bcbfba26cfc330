//! netpac: Zeek-compatible protocol analysis.
pub use netpac_runtime as runtime;
