//! RDP: the negotiation and the MCS/GCC connect data are `grammars/rdp.npac` and
//! `grammars/rdp.evt`; `rdp.log` (`log.rs`) is built from the rdp_* events with
//! the names of `consts.rs` (Zeek's consts.zeek).

pub mod consts;
pub mod log;

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_rdp.rs"));
}
pub use generated::rdp::*;

use netpac_runtime::parse::Pdu;
use netpac_runtime::zeek::ZString;

/// A fixed-size UTF-16LE field of the client's core data as Zeek reports it:
/// converted leniently (unpaired surrogates become U+FFFD), cut at the first NUL.
/// A field whose last unit opens a surrogate pair Zeek cannot convert; it keeps
/// the raw bytes.
pub fn utf16_field(_pdu: &Pdu<'_>, b: &[u8]) -> ZString {
    let units: Vec<u16> = b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    if units.last().is_some_and(|u| (0xd800..0xdc00).contains(u)) {
        return ZString::from(b.to_vec());
    }
    let text = String::from_utf16_lossy(&units);
    let text = text.split('\0').next().unwrap_or("");
    ZString::from(text.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str, size: usize) -> Vec<u8> {
        let mut b: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        b.resize(size, 0);
        b
    }

    #[test]
    fn fields_stop_at_the_first_nul() {
        let pdu = Pdu::new(b"");
        assert_eq!(utf16_field(&pdu, &utf16le("JOHN-PC-LAPTOP", 32)).as_bytes(), b"JOHN-PC-LAPTOP");
        assert_eq!(utf16_field(&pdu, &utf16le("", 32)).as_bytes(), b"");
        assert_eq!(utf16_field(&pdu, &utf16le("\u{e9}t\u{e9}", 8)).as_bytes(), "\u{e9}t\u{e9}".as_bytes());
    }

    #[test]
    fn a_trailing_high_surrogate_keeps_the_raw_bytes() {
        let pdu = Pdu::new(b"");
        let raw = [0x41, 0x00, 0x00, 0xd8];
        assert_eq!(utf16_field(&pdu, &raw).as_bytes(), &raw);
    }
}
