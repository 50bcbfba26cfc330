//! FTP: the control connection in `grammars/ftp.npac` and `grammars/ftp.evt`;
//! `ftp.log` (`log.rs`) with the helpers Zeek's ftp scripts call: reply
//! pairing (`commands.rs`), address/port parsing (`ports.rs`), paths (`paths.rs`).

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_ftp.rs"));
}
pub mod commands;
pub mod log;
pub mod paths;
pub mod ports;
pub use generated::ftp::*;
