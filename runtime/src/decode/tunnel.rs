//! IP-level tunnels Zeek decapsulates in packet analysis: IP-in-IP (IPv4 or
//! IPv6 inside IPv4 or IPv6) and GRE (with Ethernet bridging, ERSPAN,
//! Aruba 802.11 and PPTP payloads). The decoder returns the innermost packet
//! and records the tunnels it went through in [`Decoder::encapsulation`].
//! Tunnels carried in UDP (Teredo, VXLAN, Geneve, GTP, AYIYA) sit above
//! connections and are not handled here.

use super::{be16, flow_weird, push_weird, Decoder};
use crate::packet::{Decoded, IpPacket, Layer2, LinkType, RawPacket};
use crate::weird::{Weird, WeirdScope};
use std::net::IpAddr;

pub(super) const IPPROTO_IPIP: u8 = 4;
pub(super) const IPPROTO_IPV6: u8 = 41;
pub(super) const IPPROTO_GRE: u8 = 47;

/// The kind of a tunnel (Zeek's `Tunnel::Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TunnelKind {
    Ip,
    Gre,
}

impl TunnelKind {
    /// Zeek's enum name, as `tunnel.log` writes it.
    pub fn zeek_name(self) -> &'static str {
        match self {
            TunnelKind::Ip => "Tunnel::IP",
            TunnelKind::Gre => "Tunnel::GRE",
        }
    }
}

/// One tunnel a decoded packet came through, outermost first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Encapsulation {
    /// Outer source address.
    pub src: IpAddr,
    /// Outer destination address.
    pub dst: IpAddr,
    pub kind: TunnelKind,
}

/// What follows a tunnel header.
enum Inner {
    Ip,
    Ethernet,
    Ieee80211,
}

/// Length of a GRE header with the given flags (checksum, key, sequence,
/// acknowledgement fields are optional).
fn gre_header_len(flags: u16) -> usize {
    let mut len = 4;
    for bit in [0x8000u16, 0x2000, 0x1000, 0x0080] {
        if flags & bit != 0 {
            len += 4;
        }
    }
    len
}

/// Aruba's GRE protocol types carry 802.11 frames.
fn is_aruba(proto: u16) -> bool {
    (proto & 0x8200 == 0x8200 && proto & 0x0f == 0)
        || (proto & 0x8300 == 0x8300 && proto & 0x0f == 0 && proto <= 0x8370)
        || proto == 0x9000
}

impl Decoder {
    /// Decapsulates the payload of an IP packet of protocol 4, 41 or 47.
    /// `outer` is the tunnel's IP packet, `payload` its transport bytes.
    pub(super) fn tunnel<'a>(
        &mut self,
        raw: &RawPacket<'a>,
        outer: &IpPacket<'a>,
        payload: &'a [u8],
        weirds: &mut Vec<Weird>,
    ) -> Option<Decoded<'a>> {
        let ts = raw.ts;
        let (src, dst) = (outer.src, outer.dst);
        if self.encap.len() >= self.config.max_tunnel_depth {
            flow_weird(
                weirds,
                ts,
                "exceeded_tunnel_max_depth",
                "IPTUNNEL",
                src,
                dst,
            );
            return None;
        }
        // IP-in-IP and PPTP payloads must be exactly one IP packet of the
        // announced version (Zeek's IP::ParsePacket check).
        let (kind, inner, data, strict_version) = if outer.proto == IPPROTO_GRE {
            let (inner, data, version) = gre(ts, src, dst, payload, weirds)?;
            (TunnelKind::Gre, inner, data, version)
        } else {
            let version = if outer.proto == IPPROTO_IPIP { 4 } else { 6 };
            (TunnelKind::Ip, Inner::Ip, payload, Some(version))
        };
        if let Some(version) = strict_version {
            let problem = check_inner_ip(data, version);
            if let Some(name) = problem {
                flow_weird(weirds, ts, name, "IPTUNNEL", src, dst);
                return None;
            }
        }
        self.encap.push(Encapsulation { src, dst, kind });
        // The inner packet is what was captured of it (Zeek gives it the
        // captured length as wire length).
        let link = match inner {
            Inner::Ip => LinkType::Raw,
            Inner::Ethernet => LinkType::Ethernet,
            Inner::Ieee80211 => LinkType::Other(crate::packet::LINKTYPE_IEEE802_11),
        };
        let inner_raw = RawPacket {
            ts,
            wire_len: data.len() as u32,
            link,
            data,
        };
        let l2 = Layer2::default();
        match inner {
            Inner::Ip => self.ip(&inner_raw, data, l2, weirds),
            Inner::Ethernet => self.ethernet(&inner_raw, data, l2, weirds),
            Inner::Ieee80211 => self.ieee802_11(&inner_raw, data, l2, weirds),
        }
    }
}

/// Zeek's check of an IP-in-IP payload (outer protocol `proto`, 4 or 41;
/// also used for PPTP): the name of the weird to raise and drop the packet
/// for, or `None` when the payload is exactly one IP packet of the right
/// version. For callers that decapsulate themselves.
pub fn ip_in_ip_problem(payload: &[u8], proto: u8) -> Option<&'static str> {
    check_inner_ip(payload, if proto == IPPROTO_IPIP { 4 } else { 6 })
}

/// Why an IP-in-IP payload is not exactly one IP packet of `version`.
fn check_inner_ip(data: &[u8], version: u8) -> Option<&'static str> {
    let claimed = if version == 6 {
        if data.len() < 40 {
            return Some("truncated_inner_IP");
        }
        if data[0] >> 4 != 6 {
            return Some("invalid_inner_IP_version");
        }
        be16(data, 4) as usize + 40
    } else {
        if data.len() < 20 || data[0] >> 4 != 4 {
            return Some("invalid_inner_IP_version");
        }
        be16(data, 2) as usize
    };
    match data.len().cmp(&claimed) {
        std::cmp::Ordering::Less => Some("truncated_inner_IP"),
        std::cmp::Ordering::Greater => Some("inner_IP_payload_length_mismatch"),
        std::cmp::Ordering::Equal => None,
    }
}

/// Parses a GRE header; returns what follows it, and for PPTP the IP
/// version the PPP header announces.
fn gre<'a>(
    ts: crate::zeek::Time,
    src: IpAddr,
    dst: IpAddr,
    data: &'a [u8],
    weirds: &mut Vec<Weird>,
) -> Option<(Inner, &'a [u8], Option<u8>)> {
    const SOURCE: &str = "GRE";
    let weird = |weirds: &mut Vec<Weird>, name: &'static str| {
        flow_weird(weirds, ts, name, SOURCE, src, dst)
    };
    if data.len() < 4 {
        weird(weirds, "truncated_GRE");
        return None;
    }
    let flags = be16(data, 0);
    let proto = be16(data, 2);
    let version = flags & 0x0007;
    let gre_len = gre_header_len(flags);
    let mut eth_len = 0;
    let mut erspan_len = 0;
    let pptp_len = if version == 1 { 4 } else { 0 };
    let mut inner = Inner::Ip;
    match version {
        0 => match proto {
            // Transparent Ethernet bridging.
            0x6558 => {
                if data.len() <= gre_len + 14 {
                    weird(weirds, "truncated_GRE");
                    return None;
                }
                eth_len = 14;
                inner = Inner::Ethernet;
            }
            // ERSPAN type I, or type II with a sequence number.
            0x88be => {
                if data.len() <= gre_len + 14 {
                    weird(weirds, "truncated_GRE");
                    return None;
                }
                eth_len = 14;
                inner = Inner::Ethernet;
                if flags & 0x1000 != 0 {
                    erspan_len = 8;
                }
            }
            // ERSPAN type III, with an optional platform-specific sub-header.
            0x22eb => {
                if data.len() <= gre_len + 14 + 12 {
                    weird(weirds, "truncated_GRE");
                    return None;
                }
                erspan_len = 12;
                eth_len = 14;
                inner = Inner::Ethernet;
                if data[gre_len + erspan_len - 1] & 0x01 != 0 {
                    if data.len() <= gre_len + erspan_len + 8 + eth_len {
                        weird(weirds, "truncated_GRE");
                        return None;
                    }
                    erspan_len += 8;
                }
            }
            p if is_aruba(p) => {
                if data.len() <= gre_len {
                    weird(weirds, "truncated_GRE");
                    return None;
                }
                inner = Inner::Ieee80211;
            }
            0x0800 | 0x86dd => {}
            _ => {
                // Zeek has no analyzer for other payloads.
                return None;
            }
        },
        1 => {
            if proto != 0x880b {
                // Enhanced GRE must carry PPTP.
                push_weird(
                    weirds,
                    ts,
                    "egre_protocol_type",
                    SOURCE,
                    WeirdScope::Flow { src, dst },
                    format!("proto={}", proto),
                );
                return None;
            }
        }
        v => {
            push_weird(
                weirds,
                ts,
                "unknown_gre_version",
                SOURCE,
                WeirdScope::Flow { src, dst },
                format!("version={}", v),
            );
            return None;
        }
    }
    if flags & 0x4000 != 0 {
        // Routing fields (RFC 1701, deprecated).
        weird(weirds, "gre_routing");
        return None;
    }
    if flags & 0x0078 != 0 {
        weird(weirds, "unknown_gre_flags");
        return None;
    }
    if data.len() < gre_len + pptp_len + eth_len + erspan_len {
        weird(weirds, "truncated_GRE");
        return None;
    }
    let mut pptp_version = None;
    if version == 1 {
        // PPTP: the PPP protocol names the payload.
        pptp_version = match be16(data, gre_len + 2) {
            0x0021 => Some(4),
            0x0057 => Some(6),
            _ => {
                weird(weirds, "non_ip_packet_in_encap");
                return None;
            }
        };
    }
    Some((
        inner,
        &data[gre_len + pptp_len + erspan_len..],
        pptp_version,
    ))
}
