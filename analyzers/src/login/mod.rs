//! The login dialog of Rsh, Rlogin and Telnet: entirely `grammars/login.npac`, which
//! those grammars import (`import login;`) and run on each of their lines.

pub(crate) mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_login.rs"));
}
pub use generated::login::*;
