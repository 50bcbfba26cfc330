//! DHCP: the wire format and `dhcp_message` are `grammars/dhcp.npac` and
//! `grammars/dhcp.evt`; here are the three string conversions Zeek's analyzer
//! makes (`fmt_mac`, NUL trimming, option 252's newline) and `dhcp.log` (`log.rs`).

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_dhcp.rs"));
}
pub use generated::dhcp::*;
pub mod log;

use netpac_runtime::parse::Pdu;
use netpac_runtime::zeek::ZString;

/// Zeek's `fmt_mac`: fewer than 8 bytes (other than exactly 6) give "";
/// six bytes, or eight whose last two are 0, print as six hex pairs, else eight.
pub fn fmt_mac(_pdu: &Pdu<'_>, b: &[u8]) -> ZString {
    let n = if b.len() == 6 || (b.len() >= 8 && b[6] == 0 && b[7] == 0) {
        6
    } else if b.len() >= 8 {
        8
    } else {
        return ZString::from("");
    };
    netpac_runtime::parse::mac_string(&b[..n])
}

/// The bytes up to the last non-NUL one, as Zeek trims `sname`, `file` and the
/// domain name option: Zeek's loop keeps `last_non_null + 1` bytes only when the
/// last non-NUL byte is past the first, so a lone first byte gives "".
pub fn nul_trimmed(pdu: &Pdu<'_>, b: &[u8]) -> ZString {
    match b.iter().rposition(|&c| c != 0) {
        Some(i) if i > 0 => pdu.string(&b[..=i]),
        _ => ZString::from(""),
    }
}

/// Option 252 (auto-proxy-config) without one trailing `\n`.
pub fn without_newline(pdu: &Pdu<'_>, b: &[u8]) -> ZString {
    pdu.string(b.strip_suffix(b"\n").unwrap_or(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_as_zeek_makes_them() {
        let pdu = Pdu::new(b"");
        let chaddr = [
            0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(fmt_mac(&pdu, &chaddr).as_bytes(), b"00:0b:82:01:fc:42");
        assert_eq!(
            fmt_mac(&pdu, &[1, 2, 3, 4, 5, 6, 7, 8]).as_bytes(),
            b"01:02:03:04:05:06:07:08"
        );
        assert_eq!(fmt_mac(&pdu, &[1, 2, 3]).as_bytes(), b"");
        assert_eq!(fmt_mac(&pdu, &[1, 2, 3, 4, 5, 6, 7]).as_bytes(), b"");
        assert_eq!(nul_trimmed(&pdu, b"abc\0\0").as_bytes(), b"abc");
        assert_eq!(nul_trimmed(&pdu, b"a\0\0").as_bytes(), b"");
        assert_eq!(nul_trimmed(&pdu, b"\0\0").as_bytes(), b"");
        assert_eq!(nul_trimmed(&pdu, b"a\0b").as_bytes(), b"a\0b");
        assert_eq!(
            without_newline(&pdu, b"http://wpad/\n").as_bytes(),
            b"http://wpad/"
        );
        assert_eq!(without_newline(&pdu, b"").as_bytes(), b"");
    }
}
