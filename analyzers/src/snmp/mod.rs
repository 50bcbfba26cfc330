//! SNMP: entirely `grammars/snmp.npac` and `grammars/snmp.evt`, over the BER
//! elements of `grammars/asn1.npac`; `snmp.log` (`log.rs`) is built from its events.

mod generated {
    // The grammar imports `asn1`: its generated module sits beside this one.
    pub(crate) use crate::asn1::generated::asn1;
    include!(concat!(env!("OUT_DIR"), "/npac_snmp.rs"));
}
pub use generated::snmp::*;
pub mod log;
