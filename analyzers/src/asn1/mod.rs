//! ASN.1 BER: entirely `grammars/asn1.npac`, the elements the BER grammars
//! (`import asn1;`) read. Its two decoders that are not fields, integers of any
//! width and OIDs as text, are the `be_uint` and `oid` builtins
//! (`netpac_runtime::asn1`).

pub(crate) mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_asn1.rs"));
}
pub use generated::asn1::*;
