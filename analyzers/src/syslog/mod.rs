//! Syslog: entirely `grammars/syslog.npac` and `grammars/syslog.evt`;
//! `syslog.log` (`log.rs`) is built from `syslog_message`.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_syslog.rs"));
}
pub use generated::syslog::*;
pub mod log;
