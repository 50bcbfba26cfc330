//! BitTorrent's HTTP tracker: `grammars/bittorrent_tracker.npac` and
//! `grammars/bittorrent_tracker.evt`, and how Zeek reads a bencoded integer. Zeek 8
//! attaches it to no port by itself (`--analyzer-port BITTORRENTTRACKER=6969`), and
//! writes no log for it.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_bittorrent_tracker.rs"));
}
pub use generated::bittorrent_tracker::*;

use netpac_runtime::parse::Pdu;

/// A bencoded integer's digits (an optional `-`, then digits) as Zeek's
/// `sscanf("%" SCNd64)` reads them: -1 when they do not fit 64 bits.
pub fn benc_int(_pdu: &Pdu<'_>, digits: &[u8]) -> i64 {
    let (negative, body) = match digits.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, digits),
    };
    let mut v: i64 = 0;
    for &d in body {
        match v.checked_mul(10).and_then(|x| x.checked_add(i64::from(d - b'0'))) {
            Some(x) => v = x,
            None => return -1,
        }
    }
    if negative {
        -v
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_read_as_zeek_reads_them() {
        let pdu = Pdu::new(b"");
        assert_eq!(benc_int(&pdu, b"007"), 7);
        assert_eq!(benc_int(&pdu, b"-42"), -42);
        assert_eq!(benc_int(&pdu, b"-0"), 0);
        assert_eq!(benc_int(&pdu, b"99999999999999999999"), -1);
    }
}
