//! Modbus/TCP: entirely `grammars/modbus.npac` and `grammars/modbus.evt`.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_modbus.rs"));
}
pub use generated::modbus::*;
