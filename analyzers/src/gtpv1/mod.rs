//! GTPv1: `grammars/gtpv1.npac` and `grammars/gtpv1.evt`, a tunnel analyzer
//! (`=> tunnel Message`) whose G-PDUs the engine analyses. The one thing the
//! grammar calls is the IMSI's decoding below.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_gtpv1.rs"));
}
pub use generated::gtpv1::*;

use netpac_runtime::parse::Pdu;

/// `tbcd(b)` in `gtpv1.evt`: an IMSI's TBCD digits (two a byte, the low
/// nibble first) as one decimal number, filler nibbles (0xf) skipped, as
/// gtpv1-protocol.pac's `decode_imsi` computes it (saturating, never
/// overflowing: 16 digits fit in 64 bits, but a nibble above 9 counts as
/// its value).
pub fn tbcd_number(_pdu: &Pdu<'_>, b: &[u8]) -> u64 {
    let digits = b.iter().flat_map(|&x| [x & 0x0f, x >> 4]);
    digits.filter(|&d| d != 0x0f).fold(0u64, |n, d| {
        n.saturating_mul(10).saturating_add(u64::from(d))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imsi_digits_low_nibble_first_fillers_skipped() {
        let pdu = Pdu::new(&[]);
        assert_eq!(
            tbcd_number(&pdu, &[0x21, 0x43, 0x65, 0x87, 0x09, 0x21, 0x43, 0xf5]),
            123456789012345
        );
        assert_eq!(
            tbcd_number(&pdu, &[0x10, 0x32, 0x54, 0x76, 0x98, 0x10, 0x32, 0x54]),
            123456789012345
        );
        assert_eq!(tbcd_number(&pdu, &[0xff; 8]), 0);
    }
}
