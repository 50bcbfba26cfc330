//! Gnutella: `grammars/gnutella.npac` and `grammars/gnutella.evt`, and how Zeek
//! joins a text block's lines for `gnutella_text_msg`. Zeek 8 attaches it to no port by itself
//! (`--analyzer-port GNUTELLA=...`), and writes no log for it.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_gnutella.rs"));
}
pub use generated::gnutella::*;

use netpac_runtime::parse::Pdu;
use netpac_runtime::zeek::ZString;

/// A text block as `gnutella_text_msg` reports it: each non-blank line, CRs left out,
/// after a CRLF (so the text starts with one), read as a C string (up to the first NUL).
pub fn headers(_pdu: &Pdu<'_>, b: &Block<'_>) -> ZString {
    let mut out = Vec::new();
    let lines = std::iter::once(&b.first).chain(b.more.iter().flatten());
    for l in lines.filter(|l| !l.blank) {
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(l.before_cr);
        out.extend(l.after_cr.iter().filter(|&&c| c != b'\r'));
    }
    ZString::from(c_string(&out).to_vec())
}

fn c_string(b: &[u8]) -> &[u8] {
    b.iter().position(|&c| c == 0).map_or(b, |i| &b[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_c_string_ends_at_the_first_nul() {
        assert_eq!(c_string(b"ab\0cd"), b"ab");
        assert_eq!(c_string(b"abc"), b"abc");
        assert_eq!(c_string(b"\0"), b"");
    }
}
