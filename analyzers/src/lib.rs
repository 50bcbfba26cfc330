//! Analyzer glue: the stateful parts of protocols that a grammar cannot say
//! (name decompression, body state machines, ...), one module per protocol.
#![forbid(unsafe_code)]
pub mod dns;
pub mod arp;
pub mod http;
