//! DNS, as Zeek's DNS analyzer reads it: the message format and its event
//! bindings are `grammars/dns.npac` and `grammars/dns.evt`; compressed names,
//! which a grammar cannot say yet, are [`name`]; [`log`] builds `dns.log`.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_dns.rs"));
}
pub use generated::dns::*;

pub mod log;
pub mod name;

pub use name::{name_string, svcb_target_string, Name, MAX_NAME_TEXT};
