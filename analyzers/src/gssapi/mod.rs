//! GSSAPI (SPNEGO): entirely `grammars/gssapi.npac` and `grammars/gssapi.evt`,
//! over the BER elements of `grammars/asn1.npac`; Kerberos tokens go on to the
//! KRB analyzer.

mod generated {
    // The grammar imports `asn1`: its generated module sits beside this one.
    pub(crate) use crate::asn1::generated::asn1;
    include!(concat!(env!("OUT_DIR"), "/npac_gssapi.rs"));
}
pub use generated::gssapi::*;
