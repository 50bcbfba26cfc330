//! Tunnels carried in UDP, as Zeek runs them: packet analyzers registered
//! under UDP by responder port (`PacketAnalyzer::register_for_ports`, ports
//! from each one's `*_ports` set), Teredo also by the shape of any UDP payload
//! (`register_protocol_detection`). Each only reads its header and says where
//! the inner packet starts; the engine takes it from there (one
//! decapsulation path, one depth limit). [`builtin`] is what
//! [`Registry::default`](crate::analyzer::Registry) holds.

use crate::packet::LinkType;
use crate::wire::gre::GrePacket;
use crate::wire::ipv6::Ipv6Packet;

/// What a tunnel found in one UDP payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decapsulated {
    /// Not this tunnel's traffic (or nothing it carries further).
    Not,
    /// The header is broken, or carries nothing: a weird of this name about
    /// the outer packet, source the tunnel's tag; `confirm`: the header was
    /// good enough for the tunnel to confirm its protocol first.
    Weird {
        name: &'static str,
        addl: &'static str,
        confirm: Confirm,
    },
    /// The inner packet starts at `offset` and begins with `link`'s header;
    /// `confirm`: when the tunnel confirms its protocol (`service`).
    Inner {
        link: crate::packet::LinkType,
        offset: usize,
        confirm: Confirm,
        /// A weird on the outer connection, the packet still decapsulated
        /// (Teredo's bubble with bytes after it).
        weird: Option<&'static str>,
    },
}

/// When a tunnel confirms its protocol on the outer connection, as Zeek's
/// tunnel analyzers do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// A plain encapsulation: no service.
    Never,
    /// At its first good packet.
    Now,
    /// Once both directions sent a good packet (Zeek's
    /// `Tunnel::delay_teredo_confirmation`).
    BothSides,
}

/// A tunnel carried in UDP (Zeek's packet analyzers under UDP: VXLAN,
/// Geneve, GTPv1, AYIYA, Teredo; the built-in ones below). It has no state
/// of its own: it reads its header and hands the inner packet back to the
/// engine, which decapsulates every tunnel the same way.
#[derive(Clone, Copy)]
pub struct TunnelSpec {
    /// Zeek's tag without the prefix: "GTPV1" names `Analyzer::ANALYZER_GTPV1`.
    pub tag: &'static str,
    /// Responder ports (after Zeek's likely-server-port flip).
    pub ports: &'static [u16],
    /// Whether a payload on any other port is this tunnel's (Zeek's
    /// `register_protocol_detection`), tried when no port matched.
    pub detect: Option<fn(&[u8]) -> bool>,
    pub decapsulate: fn(&[u8]) -> Decapsulated,
}

/// VXLAN, Geneve, GTPv1-U, AYIYA, Teredo and GRE-in-UDP with Zeek's ports.
pub fn builtin() -> Vec<TunnelSpec> {
    vec![
        TunnelSpec {
            tag: "GRE",
            ports: &[4754],
            detect: None,
            decapsulate: gre_in_udp,
        },
        TunnelSpec {
            tag: "VXLAN",
            ports: &[4789],
            detect: None,
            decapsulate: vxlan,
        },
        TunnelSpec {
            tag: "GENEVE",
            ports: &[6081],
            detect: None,
            decapsulate: geneve,
        },
        TunnelSpec {
            tag: "GTPV1",
            ports: &[2152, 2123],
            detect: None,
            decapsulate: gtpv1,
        },
        TunnelSpec {
            tag: "AYIYA",
            ports: &[5072],
            detect: None,
            decapsulate: ayiya,
        },
        TunnelSpec {
            tag: "TEREDO",
            ports: &[3544],
            detect: Some(looks_like_teredo),
            decapsulate: teredo,
        },
    ]
}

/// GRE in UDP (RFC 8086), read by the GRE analyzer as over IP (its weirds
/// too); a plain encapsulation, it confirms no service.
fn gre_in_udp(payload: &[u8]) -> Decapsulated {
    match GrePacket::new_checked(payload).and_then(|gre| gre.payload()) {
        Ok(inner) => Decapsulated::Inner {
            link: inner.link,
            offset: inner.offset,
            confirm: Confirm::Never,
            weird: None,
        },
        Err(weird) => weird_only(weird.name()),
    }
}

/// A broken header's weird, before anything is confirmed.
fn weird_only(name: &'static str) -> Decapsulated {
    Decapsulated::Weird {
        name,
        addl: "",
        confirm: Confirm::Never,
    }
}

/// VXLAN: an 8-byte header with the I flag, then Ethernet; a good header
/// confirms it, even with nothing after it (`vxlan_empty_packet`).
fn vxlan(payload: &[u8]) -> Decapsulated {
    if payload.len() < 8 || payload[0] & 0x08 == 0 {
        return Decapsulated::Not;
    }
    if payload.len() == 8 {
        return Decapsulated::Weird {
            name: "vxlan_empty_packet",
            addl: "",
            confirm: Confirm::Now,
        };
    }
    Decapsulated::Inner {
        link: LinkType::Ethernet,
        offset: 8,
        confirm: Confirm::Now,
        weird: None,
    }
}

/// Geneve: 8 bytes plus options; the protocol type says what follows.
/// Version 0 only (`geneve_invalid_version`, its number as `addl`); a good
/// header confirms Geneve even with nothing after it.
fn geneve(payload: &[u8]) -> Decapsulated {
    if payload.len() < 8 {
        return Decapsulated::Not;
    }
    let version = payload[0] >> 6;
    if version != 0 {
        return Decapsulated::Weird {
            name: "geneve_invalid_version",
            addl: ["0", "1", "2", "3"][usize::from(version)],
            confirm: Confirm::Never,
        };
    }
    let header_len = 8 + usize::from(payload[0] & 0x3f) * 4;
    if payload.len() < header_len {
        return Decapsulated::Not;
    }
    if payload.len() == header_len {
        return Decapsulated::Weird {
            name: "geneve_empty_packet",
            addl: "",
            confirm: Confirm::Now,
        };
    }
    let link = match u16::from_be_bytes([payload[2], payload[3]]) {
        0x6558 => LinkType::Ethernet,
        0x0800 | 0x86dd => LinkType::Raw,
        _ => return Decapsulated::Not,
    };
    Decapsulated::Inner {
        link,
        offset: header_len,
        confirm: Confirm::Now,
            weird: None,
    }
}

/// GTPv1-U: a G-PDU (version 1, message type 0xff) carrying IP, after the
/// optional sequence number, N-PDU number and extension headers.
fn gtpv1(payload: &[u8]) -> Decapsulated {
    gtpv1_inner_offset(payload).map_or(Decapsulated::Not, |offset| Decapsulated::Inner {
        link: LinkType::Raw,
        offset,
        confirm: Confirm::Now,
            weird: None,
    })
}

fn gtpv1_inner_offset(payload: &[u8]) -> Option<usize> {
    let is_gpdu =
        payload.len() >= 8 && payload[0] >> 5 == 1 && payload[0] & 0x10 != 0 && payload[1] == 0xff;
    if !is_gpdu {
        return None;
    }
    let mut offset = 8;
    if payload[0] & 0x07 != 0 {
        offset = 12;
        let mut next = payload.get(11).copied().unwrap_or(0);
        while next != 0 && payload[0] & 0x04 != 0 {
            let &units = payload.get(offset)?;
            if units == 0 {
                return None;
            }
            let len = usize::from(units) * 4;
            next = payload.get(offset + len - 1).copied().unwrap_or(0);
            offset += len;
        }
    }
    let inner = payload.get(offset..)?;
    whole_ip_packet(inner).then_some(offset)
}

/// Whether `data` is exactly one IP packet, as Zeek's `ParseIPPacket` wants
/// what GTPv1 and AYIYA carry: a version of 4 or 6 and a length that
/// matches the bytes there (longer or shorter, Zeek reports a violation and
/// decapsulates nothing).
fn whole_ip_packet(data: &[u8]) -> bool {
    match data.first().map(|v| v >> 4) {
        Some(4) => {
            data.len() >= 20 && usize::from(u16::from_be_bytes([data[2], data[3]])) == data.len()
        }
        Some(6) => {
            data.len() >= 40
                && usize::from(u16::from_be_bytes([data[4], data[5]])) + 40 == data.len()
        }
        _ => false,
    }
}

/// AYIYA: identity and signature lengths in the header; a forward (opcode 1)
/// of IPv4 or IPv6.
fn ayiya(payload: &[u8]) -> Decapsulated {
    if payload.len() < 8 {
        return Decapsulated::Not;
    }
    let id_len = 1usize << (payload[0] >> 4);
    let sig_len = usize::from(payload[1] >> 4) * 4;
    let opcode = payload[2] & 0x0f;
    let next_header = payload[3];
    let offset = 8 + id_len + sig_len;
    let whole = payload.get(offset..).is_some_and(whole_ip_packet);
    if opcode == 1 && matches!(next_header, 4 | 41) && whole {
        Decapsulated::Inner {
            link: LinkType::Raw,
            offset,
            confirm: Confirm::Now,
            weird: None,
        }
    } else {
        Decapsulated::Not
    }
}

/// Teredo: optional authentication and origin-indication headers, then
/// exactly one IPv6 packet. Zeek 8.2.2 reaches its Teredo parser only for
/// payloads its protocol detection accepts, so the parser's truncation
/// weirds (`truncated_Teredo*`) never fire: a payload that is not Teredo is
/// just not Teredo.
fn teredo(payload: &[u8]) -> Decapsulated {
    let mut p = payload;
    if p.len() >= 4 && p[0] == 0 && p[1] == 1 {
        let (id_len, auth_len) = (usize::from(p[2]), usize::from(p[3]));
        let Some(rest) = p.get(4 + id_len + auth_len + 9..) else {
            return Decapsulated::Not;
        };
        p = rest;
    }
    if p.len() >= 8 && p[0] == 0 && p[1] == 0 {
        p = &p[8..];
    }
    if let Some(ip) = Ipv6Packet::new_checked(p) {
        // A bubble (no next header, no payload) with bytes after it is only weird
        // (Zeek's `Teredo_bubble_with_payload`); any other length mismatch is no Teredo.
        let bubble = ip.next_header() == 59 && ip.payload_len() == 0;
        if ip.version() == 6 && (ip.total_len() == p.len() || (bubble && ip.total_len() < p.len())) {
            return Decapsulated::Inner {
                link: LinkType::Raw,
                offset: payload.len() - p.len(),
                confirm: Confirm::BothSides,
                weird: (ip.total_len() < p.len()).then_some("Teredo_bubble_with_payload"),
            };
        }
    }
    Decapsulated::Not
}

/// Zeek's Teredo protocol detection on any UDP port (`TeredoAnalyzer::
/// DetectProtocol`): an IPv6 packet to or from the Teredo prefix
/// 2001:0::/32 (its old DPD signature), or Teredo's own headers (an
/// authentication header, then an origin indication) followed by something
/// with IPv6's version, each with room for an IPv6 header.
pub(crate) fn looks_like_teredo(payload: &[u8]) -> bool {
    const IPV6_HEADER: usize = 40;
    let mut p = payload;
    if p.len() < IPV6_HEADER {
        return false;
    }
    let ipv6_first = p[0] >> 4 == 6;
    if !ipv6_first && (p[0] != 0 || (p[1] != 0 && p[1] != 1)) {
        return false;
    }
    let prefix_at = |at: usize| p.get(at..at + 4) == Some(&[0x20, 0x01, 0x00, 0x00][..]);
    if ipv6_first && (prefix_at(8) || prefix_at(24)) {
        return true;
    }
    let mut tag = u16::from(p[1]);
    if tag == 1 {
        // Authentication: 13 bytes besides the client id and the value.
        let skip = 13 + usize::from(p[2]) + usize::from(p[3]);
        match p.get(skip..) {
            Some(rest) if rest.len() >= IPV6_HEADER => p = rest,
            _ => return false,
        }
        tag = u16::from_be_bytes([p[0], p[1]]);
    }
    // An origin indication (8 bytes), then an IPv6 header.
    tag == 0 && p.len() >= 8 + IPV6_HEADER && p[8] >> 4 == 6
}
