//! RADIUS: entirely `grammars/radius.npac` and `grammars/radius.evt`;
//! `radius.log` (`log.rs`) is built from `radius_message`.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_radius.rs"));
}
pub use generated::radius::*;
pub mod log;
