//! BitTorrent's peer wire protocol: entirely `grammars/bittorrent.npac` and
//! `grammars/bittorrent.evt`. Zeek 8 attaches it to no port by itself
//! (`--analyzer-port BITTORRENT=...`), and writes no log for it.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_bittorrent.rs"));
}
pub use generated::bittorrent::*;
