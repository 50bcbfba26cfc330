//! Zeek's `pkt_hdr`: the IP header of a packet and its transport header, as
//! tunnel events carry the packet a tunnel wraps (Teredo's `teredo_hdr`,
//! GTPv1's `gtpv1_g_pdu_packet`). Built as Zeek's `IP_Hdr::ToPktHdrVal` builds
//! it (src/IP.cc), only when such an event is subscribed.

use crate::wire::ipv6::{ext, ExtHeaders};
use crate::zeek::{Port, Proto, ZString};
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Zeek's `pkt_hdr`: exactly one of `ip` and `ip6`, and the transport header
/// when the payload holds a whole one.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct PktHdr {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<Ip4Hdr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip6: Option<Ip6Hdr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp: Option<TcpHdr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub udp: Option<UdpHdr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp: Option<IcmpHdr>,
}

/// Zeek's `ip4_hdr` (`hl` and `offset` in bytes, `sum` as sent).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Ip4Hdr {
    pub hl: u64,
    pub tos: u64,
    pub len: u64,
    pub id: u64,
    #[serde(rename = "DF")]
    pub df: bool,
    #[serde(rename = "MF")]
    pub mf: bool,
    pub offset: u64,
    pub ttl: u64,
    pub p: u64,
    pub sum: u64,
    pub src: IpAddr,
    pub dst: IpAddr,
}

/// Zeek's `ip6_hdr`: the fixed header (`nxt` is its own next-header field)
/// and the extension headers after it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Ip6Hdr {
    pub class: u64,
    pub flow: u64,
    pub len: u64,
    pub nxt: u64,
    pub hlim: u64,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub exts: Vec<Ip6ExtHdr>,
}

/// Zeek's `ip6_ext_hdr`: the header's type and the record of that type.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Ip6ExtHdr {
    pub id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hopopts: Option<Ip6Opts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dstopts: Option<Ip6Opts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing: Option<Ip6Routing>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fragment: Option<Ip6Fragment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ah: Option<Ip6Ah>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub esp: Option<Ip6Esp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobility: Option<Ip6Mobility>,
}

/// Zeek's `ip6_hopopts` and `ip6_dstopts` (the same fields).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Ip6Opts {
    pub nxt: u64,
    pub len: u64,
    pub options: Vec<Ip6Option>,
}

/// Zeek's `ip6_option` (Pad1 has no length byte: `len` 0, no data).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Ip6Option {
    pub otype: u64,
    pub len: u64,
    pub data: ZString,
}

/// Zeek's `ip6_routing`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Ip6Routing {
    pub nxt: u64,
    pub len: u64,
    pub rtype: u64,
    pub segleft: u64,
    pub data: ZString,
}

/// Zeek's `ip6_fragment` (`offset` in 8-byte units, as on the wire).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Ip6Fragment {
    pub nxt: u64,
    pub rsv1: u64,
    pub offset: u64,
    pub rsv2: u64,
    pub more: bool,
    pub id: u64,
}

/// Zeek's `ip6_ah`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Ip6Ah {
    pub nxt: u64,
    pub len: u64,
    pub rsv: u64,
    pub spi: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<ZString>,
}

/// Zeek's `ip6_esp`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Ip6Esp {
    pub spi: u64,
    pub seq: u64,
}

/// Zeek's `ip6_mobility_hdr`, its common fields; `msg` carries only the
/// message type (`id`): the per-type message records are not decoded.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Ip6Mobility {
    pub nxt: u64,
    pub len: u64,
    pub mh_type: u64,
    pub rsv: u64,
    pub chksum: u64,
    pub msg: Ip6MobilityMsg,
}

/// Zeek's `ip6_mobility_msg`, its type only.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Ip6MobilityMsg {
    pub id: u64,
}

/// Zeek's `tcp_hdr` (`hl` in bytes, `dl` the payload after it).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TcpHdr {
    pub sport: Port,
    pub dport: Port,
    pub seq: u64,
    pub ack: u64,
    pub hl: u64,
    pub dl: u64,
    pub reserved: u64,
    pub flags: u64,
    pub win: u64,
}

/// Zeek's `udp_hdr`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UdpHdr {
    pub sport: Port,
    pub dport: Port,
    pub ulen: u64,
}

/// Zeek's `icmp_hdr`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IcmpHdr {
    pub icmp_type: u64,
}

fn be(b: &[u8], at: usize, width: usize) -> u64 {
    b.get(at..at + width)
        .map_or(0, |x| x.iter().fold(0u64, |n, &c| (n << 8) | u64::from(c)))
}

fn v6_addr(b: &[u8], at: usize) -> IpAddr {
    let mut a = [0u8; 16];
    if let Some(x) = b.get(at..at + 16) {
        a.copy_from_slice(x);
    }
    IpAddr::V6(Ipv6Addr::from(a))
}

impl PktHdr {
    /// The header record of the IP packet `b` starts (version 4 or 6; any
    /// other gives an empty record). Lengths are those the headers claim,
    /// bounded by the bytes there; nothing past `b` is read.
    pub fn from_ip(b: &[u8]) -> PktHdr {
        match b.first().map(|v| v >> 4) {
            Some(4) if b.len() >= 20 => Self::from_ipv4(b),
            Some(6) if b.len() >= 40 => Self::from_ipv6(b),
            _ => PktHdr::default(),
        }
    }

    fn from_ipv4(b: &[u8]) -> PktHdr {
        let hl = usize::from(b[0] & 0x0f) * 4;
        let len = be(b, 2, 2) as usize;
        let frag = be(b, 6, 2);
        let ip = Ip4Hdr {
            hl: hl as u64,
            tos: u64::from(b[1]),
            len: len as u64,
            id: be(b, 4, 2),
            df: frag & 0x4000 != 0,
            mf: frag & 0x2000 != 0,
            offset: (frag & 0x1fff) * 8,
            ttl: u64::from(b[8]),
            p: u64::from(b[9]),
            sum: be(b, 10, 2),
            src: IpAddr::V4(Ipv4Addr::new(b[12], b[13], b[14], b[15])),
            dst: IpAddr::V4(Ipv4Addr::new(b[16], b[17], b[18], b[19])),
        };
        let proto = b[9];
        let end = len.min(b.len());
        let payload = b.get(hl..end.max(hl)).unwrap_or(&[]);
        let mut h = PktHdr {
            ip: Some(ip),
            ..PktHdr::default()
        };
        h.transport(proto, payload);
        h
    }

    fn from_ipv6(b: &[u8]) -> PktHdr {
        let word = be(b, 0, 4);
        let plen = be(b, 4, 2) as usize;
        let first = b[6];
        let end = (40 + plen).min(b.len());
        let (exts, last, at) = ext_chain(&b[..end], first);
        let ip6 = Ip6Hdr {
            class: (word & 0x0ff0_0000) >> 20,
            flow: word & 0x000f_ffff,
            len: plen as u64,
            nxt: u64::from(first),
            hlim: u64::from(b[7]),
            src: v6_addr(b, 8),
            dst: v6_addr(b, 24),
            exts,
        };
        let mut h = PktHdr {
            ip6: Some(ip6),
            ..PktHdr::default()
        };
        h.transport(last, b.get(at..end).unwrap_or(&[]));
        h
    }

    /// The transport header by the last next-header value, when the payload
    /// holds all of it (Zeek compares with `sizeof(struct icmp)`, 28, for
    /// ICMPv4). A later fragment's bytes are read as a header too, as in Zeek.
    fn transport(&mut self, proto: u8, p: &[u8]) {
        match proto {
            6 if p.len() >= 20 => {
                let hl = u64::from(p[12] >> 4) * 4;
                self.tcp = Some(TcpHdr {
                    sport: Port::new(be(p, 0, 2) as u16, Proto::Tcp),
                    dport: Port::new(be(p, 2, 2) as u16, Proto::Tcp),
                    seq: be(p, 4, 4),
                    ack: be(p, 8, 4),
                    hl,
                    dl: (p.len() as u64).saturating_sub(hl),
                    reserved: u64::from(p[12] & 0x0f),
                    flags: u64::from(p[13]),
                    win: be(p, 14, 2),
                });
            }
            17 if p.len() >= 8 => {
                self.udp = Some(UdpHdr {
                    sport: Port::new(be(p, 0, 2) as u16, Proto::Udp),
                    dport: Port::new(be(p, 2, 2) as u16, Proto::Udp),
                    ulen: be(p, 4, 2),
                });
            }
            1 if p.len() >= 28 => {
                self.icmp = Some(IcmpHdr {
                    icmp_type: u64::from(p[0]),
                })
            }
            58 if p.len() >= 8 => {
                self.icmp = Some(IcmpHdr {
                    icmp_type: u64::from(p[0]),
                })
            }
            _ => {}
        }
    }
}

/// The protocol of an IP packet's payload: IPv4's protocol field, or IPv6's
/// last next-header value after its extension headers (Zeek's
/// `IP_Hdr::NextProto`); 255 for anything else.
pub fn ip_proto(b: &[u8]) -> u64 {
    match b.first().map(|v| v >> 4) {
        Some(4) if b.len() >= 20 => u64::from(b[9]),
        Some(6) if b.len() >= 40 => {
            let end = (40 + be(b, 4, 2) as usize).min(b.len());
            u64::from(ext_chain(&b[..end], b[6]).1)
        }
        _ => 255,
    }
}

/// Zeek's IPv6 header chain after the fixed header: each extension header in
/// order, ending after a Fragment, ESP or Mobility header, at any other next
/// header, or where the bytes end. Returns the records, the last next-header
/// value and where the payload starts. The headers are those the decoder
/// walks (`wire::ipv6::ExtHeaders`); Zeek's chain also takes the three it
/// leaves to others: an AH too short for its fields (Zeek reads 8 bytes),
/// ESP and Mobility.
fn ext_chain(b: &[u8], first: u8) -> (Vec<Ip6ExtHdr>, u8, usize) {
    let mut exts = Vec::new();
    let (mut next, mut at) = (first, 40usize);
    loop {
        let mut walk = ExtHeaders::new(b, at, next);
        for h in walk.by_ref() {
            exts.push(ext_record(h.kind, h.bytes));
        }
        (next, at) = (walk.next_header(), walk.offset());
        if exts.last().is_some_and(|e| e.fragment.is_some()) {
            break;
        }
        let Some(h) = b.get(at..) else { break };
        let len = match next {
            ext::AUTH if h.len() >= 8 && h[1] == 0 => 8,
            ESP if h.len() >= 8 => 8,
            MOBILITY if h.len() >= 6 => (usize::from(h[1]) + 1) * 8,
            _ => break,
        };
        exts.push(ext_record(next, &h[..len.min(h.len())]));
        at += len;
        match next {
            // ESP's payload is encrypted: no next header is known.
            ESP => break,
            MOBILITY => {
                next = h[0];
                break;
            }
            _ => next = h[0],
        }
    }
    (exts, next, at)
}

const ESP: u8 = 50;
const MOBILITY: u8 = 135;

/// The record of one extension header of type `kind`, `h` its bytes.
fn ext_record(kind: u8, h: &[u8]) -> Ip6ExtHdr {
    let rec = match kind {
        ext::HOP_BY_HOP | ext::DEST_OPTS => {
            let opts = Ip6Opts {
                nxt: u64::from(h[0]),
                len: u64::from(h[1]),
                options: options(&h[2..]),
            };
            if kind == ext::HOP_BY_HOP {
                Ip6ExtHdr {
                    hopopts: Some(opts),
                    ..Ip6ExtHdr::default()
                }
            } else {
                Ip6ExtHdr {
                    dstopts: Some(opts),
                    ..Ip6ExtHdr::default()
                }
            }
        }
        ext::ROUTING => Ip6ExtHdr {
            routing: Some(Ip6Routing {
                nxt: u64::from(h[0]),
                len: u64::from(h[1]),
                rtype: u64::from(h[2]),
                segleft: u64::from(h[3]),
                data: ZString::copy_from(&h[4..]),
            }),
            ..Ip6ExtHdr::default()
        },
        ext::FRAGMENT => {
            let offlg = be(h, 2, 2);
            Ip6ExtHdr {
                fragment: Some(Ip6Fragment {
                    nxt: u64::from(h[0]),
                    rsv1: u64::from(h[1]),
                    offset: (offlg & 0xfff8) >> 3,
                    rsv2: (offlg & 0x0006) >> 1,
                    more: offlg & 1 != 0,
                    id: be(h, 4, 4),
                }),
                ..Ip6ExtHdr::default()
            }
        }
        ext::AUTH => {
            let long = h.len() >= 12;
            Ip6ExtHdr {
                ah: Some(Ip6Ah {
                    nxt: u64::from(h[0]),
                    len: u64::from(h[1]),
                    rsv: be(h, 2, 2),
                    spi: be(h, 4, 4),
                    seq: long.then(|| be(h, 8, 4)),
                    data: long.then(|| ZString::copy_from(&h[12..])),
                }),
                ..Ip6ExtHdr::default()
            }
        }
        ESP => Ip6ExtHdr {
            esp: Some(Ip6Esp {
                spi: be(h, 0, 4),
                seq: be(h, 4, 4),
            }),
            ..Ip6ExtHdr::default()
        },
        _ => Ip6ExtHdr {
            mobility: Some(Ip6Mobility {
                nxt: u64::from(h[0]),
                len: u64::from(h[1]),
                mh_type: u64::from(h[2]),
                rsv: u64::from(h[3]),
                chksum: be(h, 4, 2),
                msg: Ip6MobilityMsg {
                    id: u64::from(h[2]),
                },
            }),
            ..Ip6ExtHdr::default()
        },
    };
    Ip6ExtHdr {
        id: u64::from(kind),
        ..rec
    }
}

/// The options of a Hop-by-Hop or Destination Options header.
fn options(mut b: &[u8]) -> Vec<Ip6Option> {
    let mut out = Vec::new();
    while let Some(&otype) = b.first() {
        if otype == 0 {
            out.push(Ip6Option {
                otype: 0,
                len: 0,
                data: ZString::from(""),
            });
            b = &b[1..];
            continue;
        }
        let Some(&len) = b.get(1) else { break };
        let Some(data) = b.get(2..2 + usize::from(len)) else {
            break;
        };
        out.push(Ip6Option {
            otype: u64::from(otype),
            len: u64::from(len),
            data: ZString::copy_from(data),
        });
        b = &b[2 + usize::from(len)..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv6(next: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0x00, 0x00, 0x00];
        p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        p.extend_from_slice(&[next, 64]);
        p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8].repeat(4));
        p.extend_from_slice(&[0xfe, 0x80, 0, 0].repeat(4));
        p.extend_from_slice(payload);
        p
    }

    #[test]
    fn ipv4_with_a_tcp_header() {
        let mut p = vec![
            0x45, 0, 0, 40, 0x47, 0xe6, 0x40, 0x00, 128, 6, 0xb6, 0x87, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        p.extend_from_slice(&[
            0xd9, 0xc2, 0, 80, 0, 0, 0, 1, 0, 0, 0, 2, 0x50, 0x10, 0x10, 0xe0, 0, 0, 0, 0,
        ]);
        let h = PktHdr::from_ip(&p);
        let ip = h.ip.unwrap();
        assert_eq!(
            (ip.hl, ip.len, ip.id, ip.df, ip.offset, ip.sum),
            (20, 40, 18406, true, 0, 46727)
        );
        let tcp = h.tcp.unwrap();
        assert_eq!(
            (
                tcp.sport.number,
                tcp.dport.number,
                tcp.hl,
                tcp.dl,
                tcp.flags,
                tcp.win
            ),
            (55746, 80, 20, 0, 16, 4320)
        );
        assert!(h.udp.is_none() && h.ip6.is_none());
    }

    #[test]
    fn an_icmp_echo_too_short_for_zeeks_struct_has_no_icmp_record() {
        let mut p = vec![
            0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        p.extend_from_slice(&[8, 0, 0, 0, 0, 1, 0, 1]);
        assert!(PktHdr::from_ip(&p).icmp.is_none());
    }

    #[test]
    fn ipv6_hop_by_hop_then_udp() {
        let mut payload = vec![17, 0, 1, 4, 0, 0, 0, 0];
        payload.extend_from_slice(&[0x04, 0xd2, 0x14, 0xeb, 0, 8, 0, 0]);
        let h = PktHdr::from_ip(&ipv6(0, &payload));
        let ip6 = h.ip6.unwrap();
        assert_eq!((ip6.nxt, ip6.len), (0, 16));
        let hop = ip6.exts[0].hopopts.as_ref().unwrap();
        assert_eq!((ip6.exts[0].id, hop.nxt, hop.options.len()), (0, 17, 1));
        assert_eq!((hop.options[0].otype, hop.options[0].len), (1, 4));
        assert_eq!(h.udp.unwrap().dport.number, 5355);
    }

    #[test]
    fn a_fragment_header_ends_the_chain() {
        let mut payload = vec![17, 0, 0, 1, 0, 0, 0xab, 0xcd];
        payload.extend_from_slice(&[0, 1, 0, 2, 0, 8, 0, 0]);
        let h = PktHdr::from_ip(&ipv6(44, &payload));
        let f = h.ip6.unwrap().exts[0].fragment.clone().unwrap();
        assert_eq!((f.nxt, f.offset, f.more, f.id), (17, 0, true, 0xabcd));
        assert_eq!(h.udp.unwrap().ulen, 8);
    }

    #[test]
    fn the_headers_zeeks_chain_takes_beyond_the_decoders() {
        // An AH of length 0 (8 bytes, no sequence number), then UDP.
        let mut payload = vec![17, 0, 0, 0, 0, 0, 0, 7];
        payload.extend_from_slice(&[0, 1, 0, 2, 0, 8, 0, 0]);
        let h = PktHdr::from_ip(&ipv6(51, &payload));
        let ah = h.ip6.unwrap().exts[0].ah.clone().unwrap();
        assert_eq!((ah.nxt, ah.spi, ah.seq), (17, 7, None));
        assert_eq!(h.udp.unwrap().ulen, 8);
        // ESP ends the chain: what follows is encrypted.
        let h = PktHdr::from_ip(&ipv6(50, &[0, 0, 0, 9, 0, 0, 0, 1, 0xde, 0xad]));
        let esp = h.ip6.unwrap().exts[0].esp.clone().unwrap();
        assert_eq!((esp.spi, esp.seq), (9, 1));
        assert_eq!(ip_proto(&ipv6(50, &[0; 8])), 50);
    }

    #[test]
    fn a_bubble_has_no_transport_and_garbage_gives_an_empty_record() {
        let h = PktHdr::from_ip(&ipv6(59, &[]));
        assert!(h.ip6.unwrap().exts.is_empty() && h.tcp.is_none() && h.udp.is_none());
        assert_eq!(ip_proto(&ipv6(59, &[])), 59);
        assert_eq!(ip_proto(&ipv6(0, &[59, 0, 1, 4, 0, 0, 0, 0])), 59);
        assert_eq!(PktHdr::from_ip(b"\x61\x00"), PktHdr::default());
        // A header length past the bytes stops the chain, never panics.
        let h = PktHdr::from_ip(&ipv6(0, &[17, 200, 0, 0]));
        assert!(h.ip6.unwrap().exts.is_empty());
    }
}
