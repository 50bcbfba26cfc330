//! NTP: entirely `grammars/ntp.npac` and `grammars/ntp.evt`; `ntp.log`
//! (`log.rs`) is built from `ntp_message`.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_ntp.rs"));
}
pub use generated::ntp::*;
pub mod log;
