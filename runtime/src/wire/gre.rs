//! The GRE header (RFC 2784/2890, and PPTP's enhanced GRE, RFC 2637) as the
//! engine follows it, for GRE over IP and GRE in UDP (RFC 8086).

use crate::packet::{LinkType, LINKTYPE_IEEE802_11};

/// Parses a GRE header: what follows it and where, or the weird to report.
pub fn gre_payload(b: &[u8]) -> Result<(LinkType, usize), &'static str> {
    if b.len() < 4 {
        return Err("truncated_GRE");
    }
    let flags = u16::from_be_bytes([b[0], b[1]]);
    let version = flags & 0x7;
    let proto = u16::from_be_bytes([b[2], b[3]]);
    let mut off = 4;
    match version {
        0 => {
            if flags & 0x4000 != 0 {
                return Err("gre_routing");
            }
            for bit in [0x8000, 0x2000, 0x1000] {
                if flags & bit != 0 {
                    off += 4;
                }
            }
        }
        1 => {
            off += 4; // payload length and call id
            for bit in [0x1000, 0x0080] {
                if flags & bit != 0 {
                    off += 4;
                }
            }
        }
        _ => return Err("unknown_gre_version"),
    }
    if off > b.len() {
        return Err("truncated_GRE");
    }
    match proto {
        0x0800 | 0x86dd => Ok((LinkType::Raw, off)),
        0x6558 => Ok((LinkType::Ethernet, off)),
        // Aruba access points tunnel raw 802.11 frames.
        0x8200..=0x8299 => Ok((LinkType::Other(LINKTYPE_IEEE802_11), off)),
        // ERSPAN type II (sequence number present) has an 8-byte header; type I none.
        0x88be => Ok((
            LinkType::Ethernet,
            off + if flags & 0x1000 != 0 { 8 } else { 0 },
        )),
        // ERSPAN type III: 12 bytes, plus an 8-byte platform subheader when flagged.
        0x22eb => {
            let sub = b
                .get(off + 11)
                .map_or(0, |f| if f & 0x01 != 0 { 8 } else { 0 });
            Ok((LinkType::Ethernet, off + 12 + sub))
        }
        0x880b if version == 1 => {
            let mut o = off;
            if b.get(o..o + 2) == Some(&[0xff, 0x03][..]) {
                o += 2;
            }
            match b.get(o..o + 2).map(|x| u16::from_be_bytes([x[0], x[1]])) {
                Some(0x0021) | Some(0x0057) => Ok((LinkType::Raw, o + 2)),
                _ => Err("unknown_gre_protocol"),
            }
        }
        _ => Err("unknown_gre_protocol"),
    }
}
