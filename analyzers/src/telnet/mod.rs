//! Telnet: entirely `grammars/telnet.npac` and `grammars/telnet.evt`, its lines read by
//! the login dialog of `grammars/login.npac`.

mod generated {
    // The grammar imports `login`: its generated module sits beside this one.
    pub(crate) use crate::login::generated::login;
    include!(concat!(env!("OUT_DIR"), "/npac_telnet.rs"));
}
pub use generated::telnet::*;
