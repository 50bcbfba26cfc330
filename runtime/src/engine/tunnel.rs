//! Tunnel payloads the engine unwraps itself: 802.11 data frames, GRE, Teredo's shape.

use super::*;

/// libpcap's number for raw 802.11 frames.
pub(super) const LINKTYPE_IEEE802_11: u32 = 105;

/// The IP packets in an unprotected 802.11 data frame (LLC/SNAP, and the
/// subframes of an A-MSDU): (ethertype, packet).
pub(super) fn ieee80211_ip_payloads(b: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    if b.len() < 24 {
        return out;
    }
    let (fc0, fc1) = (b[0], b[1]);
    let frame_type = (fc0 >> 2) & 0x3;
    let subtype = fc0 >> 4;
    if frame_type != 2 || fc1 & 0x40 != 0 {
        return out; // not data, or encrypted
    }
    let mut hl = 24;
    if fc1 & 0x03 == 0x03 {
        hl += 6;
    }
    let mut amsdu = false;
    if subtype & 0x08 != 0 {
        amsdu = b.get(hl).is_some_and(|q| q & 0x80 != 0);
        hl += 2;
        if fc1 & 0x80 != 0 {
            hl += 4;
        }
    }
    let snap = |p: &[u8]| -> Option<(u16, usize)> {
        (p.len() >= 8 && p[..6] == [0xaa, 0xaa, 0x03, 0, 0, 0])
            .then(|| (u16::from_be_bytes([p[6], p[7]]), 8))
    };
    let Some(mut rest) = b.get(hl..) else {
        return out;
    };
    if !amsdu {
        if let Some((et, n)) = snap(rest) {
            if matches!(et, 0x0800 | 0x86dd) {
                out.push(&rest[n..]);
            }
        }
        return out;
    }
    // A-MSDU: DA, SA, length, then LLC/SNAP + payload, padded to 4 bytes.
    while rest.len() >= 14 {
        let len = usize::from(u16::from_be_bytes([rest[12], rest[13]]));
        let Some(sub) = rest.get(14..14 + len) else {
            break;
        };
        if let Some((et, n)) = snap(sub) {
            if matches!(et, 0x0800 | 0x86dd) {
                out.push(&sub[n..]);
            }
        }
        let step = (14 + len).div_ceil(4) * 4;
        rest = rest.get(step..).unwrap_or(&[]);
    }
    out
}

/// Zeek finds Teredo on other ports by signature: an IPv6 packet (possibly
/// after Teredo's own headers) to or from the Teredo prefix 2001:0::/32.
pub(super) fn looks_like_teredo(payload: &[u8]) -> bool {
    let mut p = payload;
    if p.len() >= 8 && p[0] == 0 && p[1] == 0 {
        p = &p[8..];
    }
    if p.len() < 40 || p[0] >> 4 != 6 {
        return false;
    }
    let plen = usize::from(u16::from_be_bytes([p[4], p[5]]));
    let teredo = |a: &[u8]| a[..4] == [0x20, 0x01, 0x00, 0x00];
    plen + 40 == p.len() && (teredo(&p[8..24]) || teredo(&p[24..40]))
}

/// Parses a GRE header: what follows it and where, or the weird to report.
pub(super) fn gre_payload(b: &[u8]) -> Result<(LinkType, usize), &'static str> {
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
