//! IRC: the lines, their weirds and every event are `grammars/irc.npac` and
//! `grammars/irc.evt`; here only `irc.log` (`log.rs`).

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_irc.rs"));
}
pub mod log;
pub use generated::irc::*;
