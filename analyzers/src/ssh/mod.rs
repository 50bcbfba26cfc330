//! SSH: the version lines, packets and events are `grammars/ssh.npac` and
//! `grammars/ssh.evt`; `ssh.log` is built from the events in `log.rs`.

pub mod log;

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_ssh.rs"));
}
pub use generated::ssh::*;
