//! netpac's runtime: everything between a capture file and the protocol
//! analyzers.
//!
//! - [`capture`]: pcap / pcapng input (plain or gzip), BPF filtering.
//! - [`decode`]: link layers, VLAN/MPLS/PPPoE, IPv4/IPv6, fragment reassembly.
//! - [`conn`]: the connection table, TCP state and reassembly, UDP, ICMP, `conn.log`.
//! - [`analyzer`]: the interface protocol analyzers implement.
//! - [`dpd`]: dynamic protocol detection by payload signatures.
//! - [`udp_tunnels`]: tunnels in UDP, registered by port (VXLAN, Geneve; grammars add Teredo, GTPv1, AYIYA).
//! - [`pkt_hdr`]: Zeek's `pkt_hdr` of a packet a tunnel carries.
//! - [`event`]: typed events, subscription and dispatch.
//! - [`log`]: Zeek TSV / JSON log writers.
//! - [`wire`]: wire formats several layers share (the Internet checksum, GRE).
#![forbid(unsafe_code)]

pub mod analyzer;
pub mod asn1;
pub mod capture;
pub mod conn;
pub mod decode;
pub mod dpd;
pub mod engine;
pub mod event;
pub mod expected;
pub mod files;
pub mod framer;
pub mod limits;
pub mod lines;
pub mod log;
pub mod packet;
pub mod parse;
pub mod pieces;
pub mod pkt_hdr;
pub mod reorder;
pub mod shard;
pub mod record;
pub mod text;
pub mod tunnel_log;
pub mod udp_tunnels;
pub mod weird;
pub mod wire;
pub mod zeek;

pub use bytes;
pub use serde;
pub use serde_json;
