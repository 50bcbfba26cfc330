//! FTP: the control connection in `grammars/ftp.npac` and `grammars/ftp.evt`.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_ftp.rs"));
}
pub use generated::ftp::*;
