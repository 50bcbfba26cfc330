//! Rlogin: entirely `grammars/rlogin.npac` and `grammars/rlogin.evt`, its lines read by
//! the login dialog of `grammars/login.npac`.

mod generated {
    // The grammar imports `login`: its generated module sits beside this one.
    pub(crate) use crate::login::generated::login;
    include!(concat!(env!("OUT_DIR"), "/npac_rlogin.rs"));
}
pub use generated::rlogin::*;
