//! Modbus/TCP: entirely `grammars/modbus.npac` and `grammars/modbus.evt`;
//! `modbus.log` (`log.rs`) is built from its events.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_modbus.rs"));
}
pub use generated::modbus::*;
pub mod log;
