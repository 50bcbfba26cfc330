//! Packet decoding: link layers (Ethernet, Linux cooked SLL/SLL2, raw IP,
//! BSD null/loopback, PPP), VLAN/QinQ, MPLS and PPPoE inside Ethernet, IPv4
//! and IPv6 with extension headers, and bounded IP fragment reassembly.
//!
//! Malformed frames produce weirds named as Zeek names them and are
//! dropped (`None`); nothing here panics on hostile input. The common path
//! (an unfragmented IP packet) borrows everything from the frame and does
//! not allocate.

mod frag;
mod ieee802_11;
mod ip;

use crate::packet::{
    Decoded, Layer2, LinkType, RawPacket, LINKTYPE_IEEE802_11, LINKTYPE_IEEE802_11_RADIOTAP,
    LINKTYPE_NFLOG,
};
use crate::weird::{Weird, WeirdScope};
use crate::zeek::{Interval, Time};
use std::net::IpAddr;

pub use frag::FragmentStats;
pub use ieee802_11::MoreInFrame;

/// Decoder settings; [`Default`] gives Zeek's defaults.
#[derive(Debug, Clone)]
pub struct DecoderConfig {
    /// Zeek's `-C`: do not verify IPv4 header checksums (and cope with a
    /// zero IPv4 total length, as TCP segmentation offload produces).
    pub ignore_checksums: bool,
    /// How long an incomplete fragmented datagram is kept, measured in
    /// packet time (Zeek's `frag_timeout`).
    pub frag_timeout: Interval,
    /// Fragments accepted for one datagram before it is abandoned.
    pub max_fragments_per_datagram: usize,
    /// Largest reassembled payload kept for one datagram. IP's 13-bit
    /// offsets and 16-bit lengths cannot describe more than 131 071 bytes.
    pub max_datagram_bytes: usize,
    /// Incomplete datagrams held at once; the oldest is dropped beyond this.
    pub max_datagrams_in_flight: usize,
    /// Bytes buffered over all incomplete datagrams; oldest dropped beyond.
    pub max_fragment_bytes_total: usize,
    /// Zeek's `PacketAnalyzer::max_depth`: the most packet analyzers (link
    /// layers, VLAN tags, IP, transport, tunnels and what they carry) one
    /// packet passes through; the analyzer at the limit does not hand the
    /// packet on (weird `max_packet_analyzer_depth_exceeded`). 0: no limit.
    pub max_analyzer_depth: u8,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        DecoderConfig {
            ignore_checksums: false,
            frag_timeout: Interval::from_secs(300),
            max_fragments_per_datagram: 512,
            max_datagram_bytes: 131_072,
            max_datagrams_in_flight: 4096,
            max_fragment_bytes_total: 64 << 20,
            max_analyzer_depth: 25,
        }
    }
}

/// Turns captured frames into [`Decoded`] packets. Tunnels are not
/// followed here: the engine decapsulates them (it also keeps their uids and
/// Zeek's depth limit) and hands the inner frame back to [`Decoder::decode`].
#[derive(Debug)]
pub struct Decoder {
    config: DecoderConfig,
    /// The packet being decoded came out of Teredo: an IPv6 "no next header" is
    /// a bubble, not a weird (Zeek's IP analyzer checks the last encapsulation).
    pub inside_teredo: bool,
    frags: frag::FragmentTable,
    /// The rest of the frame last decoded, when it holds more packets.
    more_in_frame: Option<MoreInFrame>,
    /// Set by [`Decoder::outer_addresses`]: stop at the first IP header
    /// and note its addresses there, instead of decoding it.
    probe: Option<Option<(std::net::IpAddr, std::net::IpAddr)>>,
    /// Packet analyzers the frame being decoded has passed (Zeek's
    /// `Packet::analyzer_history`), counted from `start_depth`.
    depth: u8,
    /// Analyzers an inner frame passed outside (0 for a captured frame):
    /// Zeek counts one packet's analyzers through its tunnels.
    start_depth: u8,
}

/// EtherTypes the decoder follows.
mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const IPV6: u16 = 0x86dd;
    pub const VLAN: u16 = 0x8100;
    pub const QINQ: u16 = 0x88a8;
    pub const QINQ_OLD: u16 = 0x9100;
    pub const MPLS_UNICAST: u16 = 0x8847;
    pub const MPLS_MULTICAST: u16 = 0x8848;
    pub const PPPOE_SESSION: u16 = 0x8864;
    pub const CISCO_FABRICPATH: u16 = 0x8903;
    pub const PBB: u16 = 0x88e7;
    pub const VNTAG: u16 = 0x8926;
}

/// PPP protocol numbers for IP.
const PPP_IPV4: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;

/// Records one weird.
pub(crate) fn push_weird(
    weirds: &mut Vec<Weird>,
    ts: Time,
    name: &'static str,
    source: &'static str,
    scope: WeirdScope,
    addl: String,
) {
    weirds.push(Weird {
        ts,
        name,
        addl,
        scope,
        source,
        in_tunnel: false,
    });
}

fn net_weird(weirds: &mut Vec<Weird>, ts: Time, name: &'static str, source: &'static str) {
    push_weird(weirds, ts, name, source, WeirdScope::Net, String::new());
}

pub(crate) fn flow_weird(
    weirds: &mut Vec<Weird>,
    ts: Time,
    name: &'static str,
    source: &'static str,
    src: IpAddr,
    dst: IpAddr,
) {
    push_weird(
        weirds,
        ts,
        name,
        source,
        WeirdScope::Flow { src, dst },
        String::new(),
    );
}

/// The weird of an analyzer at `PacketAnalyzer::max_depth`, named as
/// Zeek's session manager names weirds of encapsulated packets.
pub(crate) fn analyzer_depth_weird(in_tunnel: bool) -> &'static str {
    if in_tunnel {
        "max_packet_analyzer_depth_exceeded_in_tunnel"
    } else {
        "max_packet_analyzer_depth_exceeded"
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn mac(b: &[u8]) -> [u8; 6] {
    [b[0], b[1], b[2], b[3], b[4], b[5]]
}

impl Decoder {
    pub fn new(config: DecoderConfig) -> Decoder {
        let frags = frag::FragmentTable::new(&config);
        Decoder {
            config,
            frags,
            more_in_frame: None,
            inside_teredo: false,
            probe: None,
            depth: 0,
            start_depth: 0,
        }
    }

    /// Frames decoded from now on were found in a tunnel after passing
    /// `depth` packet analyzers (0: captured frames); returns the previous
    /// value, to restore when the inner frame is done.
    pub fn set_start_depth(&mut self, depth: u8) -> u8 {
        std::mem::replace(&mut self.start_depth, depth)
    }

    /// The analyzer `source` (one more in the packet's history) hands the
    /// packet on, unless the history has reached Zeek's
    /// `PacketAnalyzer::max_depth`: then the weird, about `flow` when the
    /// analyzer knows the packet's addresses, and nothing further.
    fn forward(
        &mut self,
        weirds: &mut Vec<Weird>,
        ts: Time,
        source: &'static str,
        flow: Option<(IpAddr, IpAddr)>,
    ) -> bool {
        self.depth = self.depth.saturating_add(1);
        let max = self.config.max_analyzer_depth;
        if max == 0 || self.depth < max {
            return true;
        }
        let name = analyzer_depth_weird(self.start_depth > 0);
        let scope = match flow {
            Some((src, dst)) => WeirdScope::Flow { src, dst },
            None => WeirdScope::Net,
        };
        push_weird(weirds, ts, name, source, scope, String::new());
        false
    }

    /// The source and destination of a frame's outermost IP header (its
    /// first packet's, when it holds several), found through the same link
    /// layers [`Decoder::decode`] follows; `None` for a frame without one.
    /// Nothing is reassembled or reported: a sharded run's reader uses this
    /// to send both directions of a flow, and all fragments of a datagram,
    /// to one worker.
    pub fn outer_addresses(&mut self, raw: &RawPacket<'_>) -> Option<(std::net::IpAddr, std::net::IpAddr)> {
        self.probe = Some(None);
        let mut weirds = Vec::new();
        let _ = self.decode(raw, &mut weirds);
        self.more_in_frame = None;
        self.probe.take().flatten()
    }

    pub fn config(&self) -> &DecoderConfig {
        &self.config
    }

    /// Counters of the fragment reassembler.
    /// Bytes the fragment reassembler holds.
    pub fn fragment_bytes(&self) -> usize {
        self.frags.buffered_bytes()
    }

    pub fn fragment_stats(&self) -> FragmentStats {
        self.frags.stats()
    }

    /// Incomplete fragmented datagrams currently held.
    pub fn fragments_in_flight(&self) -> usize {
        self.frags.in_flight()
    }

    /// Decodes one frame, or its first packet when it holds several (see
    /// [`Decoder::take_more_in_frame`]). Returns `None` when the frame is
    /// malformed (a weird says why), carries nothing to analyse, or is a
    /// fragment that does not complete a datagram.
    pub fn decode<'a>(
        &mut self,
        raw: &RawPacket<'a>,
        weirds: &mut Vec<Weird>,
    ) -> Option<Decoded<'a>> {
        let data = raw.data;
        let ts = raw.ts;
        let mut l2 = Layer2::default();
        self.more_in_frame = None;
        self.depth = self.start_depth;
        match raw.link {
            LinkType::Ethernet => self.ethernet(raw, data, l2, weirds),
            LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 => self.ip(raw, data, l2, weirds),
            LinkType::LinuxSll => {
                // packet type, ARPHRD type, address length, 8 address bytes, protocol.
                const SLL_LEN: usize = 16;
                if data.len() <= SLL_LEN {
                    net_weird(weirds, ts, "truncated_Linux_SLL_header", "LINUXSLL");
                    return None;
                }
                if be16(data, 4) == 6 {
                    l2.src_mac = Some(mac(&data[6..12]));
                }
                if !self.forward(weirds, ts, "LINUXSLL", None) {
                    return None;
                }
                self.ethertype(raw, be16(data, 14), &data[SLL_LEN..], l2, weirds)
            }
            LinkType::LinuxSll2 => {
                // protocol, reserved, interface index, ARPHRD type, packet type,
                // address length, 8 address bytes.
                const SLL2_LEN: usize = 20;
                if data.len() <= SLL2_LEN {
                    net_weird(weirds, ts, "truncated_Linux_SLL2_header", "LINUXSLL2");
                    return None;
                }
                if data[11] == 6 {
                    l2.src_mac = Some(mac(&data[12..18]));
                }
                if !self.forward(weirds, ts, "LINUXSLL2", None) {
                    return None;
                }
                self.ethertype(raw, be16(data, 0), &data[SLL2_LEN..], l2, weirds)
            }
            LinkType::Null | LinkType::Loop => {
                if data.len() <= 4 {
                    net_weird(weirds, ts, "null_analyzer_failed", "NULL");
                    return None;
                }
                let family = if raw.link == LinkType::Loop {
                    u32::from_be_bytes([data[0], data[1], data[2], data[3]])
                } else {
                    // Host byte order of the capturing machine; accept both.
                    let le = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
                    if le > 0xffff {
                        le.swap_bytes()
                    } else {
                        le
                    }
                };
                match family {
                    // AF_INET; AF_INET6 on the BSDs (24), FreeBSD (28), macOS (30).
                    2 | 24 | 28 | 30 => {
                        if !self.forward(weirds, ts, "NULL", None) {
                            return None;
                        }
                        self.ip(raw, &data[4..], l2, weirds)
                    }
                    _ => None,
                }
            }
            LinkType::Ppp => {
                // RFC 1662 framing: optional address/control (ff 03), then a
                // 1- or 2-byte protocol field.
                let mut rest = data;
                if rest.len() >= 2 && rest[0] == 0xff && rest[1] == 0x03 {
                    rest = &rest[2..];
                }
                let (protocol, header) = match rest {
                    [p, ..] if p & 1 == 1 => (*p as u16, 1),
                    [a, b, ..] => (u16::from_be_bytes([*a, *b]), 2),
                    _ => {
                        net_weird(weirds, ts, "truncated_link_header", "PPPSERIAL");
                        return None;
                    }
                };
                match protocol {
                    PPP_IPV4 | PPP_IPV6 => {
                        if !self.forward(weirds, ts, "PPPSERIAL", None) {
                            return None;
                        }
                        self.ip(raw, &rest[header..], l2, weirds)
                    }
                    _ => None,
                }
            }
            LinkType::Other(LINKTYPE_IEEE802_11) => self.ieee802_11(raw, data, l2, weirds),
            LinkType::Other(LINKTYPE_IEEE802_11_RADIOTAP) => {
                // Radiotap: version, pad, little-endian header length.
                if data.len() <= 3 {
                    net_weird(weirds, ts, "truncated_radiotap_header", "IEEE802_11_RADIO");
                    return None;
                }
                let header_len = u16::from_le_bytes([data[2], data[3]]) as usize;
                if header_len >= data.len() {
                    net_weird(weirds, ts, "truncated_radiotap_header", "IEEE802_11_RADIO");
                    return None;
                }
                if !self.forward(weirds, ts, "IEEE802_11_RADIO", None) {
                    return None;
                }
                self.ieee802_11(raw, &data[header_len..], l2, weirds)
            }
            LinkType::Other(LINKTYPE_NFLOG) => self.nflog(raw, data, l2, weirds),
            LinkType::Other(_) => {
                net_weird(weirds, ts, "no_suitable_analyzer_found", "");
                None
            }
        }
    }

    fn ethernet<'a>(
        &mut self,
        raw: &RawPacket<'a>,
        data: &'a [u8],
        mut l2: Layer2,
        weirds: &mut Vec<Weird>,
    ) -> Option<Decoded<'a>> {
        let ts = raw.ts;
        // Zeek wants more than a bare 14-byte header plus two bytes.
        if data.len() <= 16 {
            net_weird(weirds, ts, "truncated_ethernet_frame", "ETHERNET");
            return None;
        }
        let mut frame = data;
        if be16(frame, 12) == ethertype::CISCO_FABRICPATH {
            const CFP_LEN: usize = 16;
            if frame.len() <= CFP_LEN + 14 {
                net_weird(weirds, ts, "truncated_link_header_cfp", "ETHERNET");
                return None;
            }
            frame = &frame[CFP_LEN..];
        }
        l2.dst_mac = Some(mac(&frame[0..6]));
        l2.src_mac = Some(mac(&frame[6..12]));
        let ether_type = be16(frame, 12);
        if ether_type >= 1536 {
            if !self.forward(weirds, ts, "ETHERNET", None) {
                return None;
            }
            return self.ethertype(raw, ether_type, &frame[14..], l2, weirds);
        }
        if ether_type <= 1500 {
            // IEEE 802.3: the field is a length, an LLC header follows.
            let payload = &frame[14..];
            if payload.len() < ether_type as usize {
                net_weird(weirds, ts, "truncated_ethernet_frame", "ETHERNET");
                return None;
            }
            if !self.forward(weirds, ts, "ETHERNET", None) {
                return None;
            }
            return self.llc(raw, ether_type, payload, l2, weirds);
        }
        net_weird(weirds, ts, "undefined_ether_type", "ETHERNET");
        None
    }

    /// A Linux NFLOG message: TLVs (in the capturing host's byte order,
    /// little endian in practice) up to the packet payload TLV.
    fn nflog<'a>(
        &mut self,
        raw: &RawPacket<'a>,
        data: &'a [u8],
        l2: Layer2,
        weirds: &mut Vec<Weird>,
    ) -> Option<Decoded<'a>> {
        const SOURCE: &str = "NFLOG";
        const NFULA_PAYLOAD: u16 = 9;
        let ts = raw.ts;
        if data.len() <= 4 {
            net_weird(weirds, ts, "truncated_nflog_header", SOURCE);
            return None;
        }
        let family = data[0];
        if data[1] != 0 {
            net_weird(weirds, ts, "unknown_nflog_version", SOURCE);
            return None;
        }
        let mut rest = &data[4..];
        loop {
            if rest.len() <= 4 {
                net_weird(weirds, ts, "nflog_no_pcap_payload", SOURCE);
                return None;
            }
            let tlv_len = u16::from_le_bytes([rest[0], rest[1]]) as usize;
            let tlv_type = u16::from_le_bytes([rest[2], rest[3]]);
            if tlv_type == NFULA_PAYLOAD {
                rest = &rest[4..];
                break;
            }
            if tlv_len < 4 {
                net_weird(weirds, ts, "nflog_bad_tlv_len", SOURCE);
                return None;
            }
            // TLVs are padded to 32 bits; the padding is not in the length.
            let padded = tlv_len.div_ceil(4) * 4;
            if padded >= rest.len() {
                net_weird(weirds, ts, "nflog_no_pcap_payload", SOURCE);
                return None;
            }
            rest = &rest[padded..];
        }
        match family {
            // AF_INET, AF_INET6 (Linux).
            2 | 10 if self.forward(weirds, ts, "NFLOG", None) => self.ip(raw, rest, l2, weirds),
            _ => None,
        }
    }

    /// An IEEE 802.2 LLC payload of `length` bytes. SNAP with a zero OUI
    /// carries an EtherType and is followed; anything else is a non-IP
    /// frame, reported with the 802.3 length in place of an EtherType.
    fn llc<'a>(
        &mut self,
        raw: &RawPacket<'a>,
        length: u16,
        payload: &'a [u8],
        l2: Layer2,
        weirds: &mut Vec<Weird>,
    ) -> Option<Decoded<'a>> {
        if payload.len() < 2 || payload[0] != 0xaa || payload[1] != 0xaa {
            return Some(Decoded::Link {
                l2,
                ethertype: length,
                payload,
            });
        }
        if payload.len() < 3 {
            net_weird(weirds, raw.ts, "truncated_snap_llc_header", "SNAP");
            return None;
        }
        // A control field that is not an unnumbered PDU takes two bytes.
        let llc_len = if payload[2] & 0x03 == 0x03 { 3 } else { 4 };
        if payload.len() < llc_len + 5 {
            net_weird(weirds, raw.ts, "truncated_snap_header", "SNAP");
            return None;
        }
        let snap = &payload[llc_len..];
        if snap[..3] != [0, 0, 0] {
            return Some(Decoded::Link {
                l2,
                ethertype: length,
                payload,
            });
        }
        if !self.forward(weirds, raw.ts, "SNAP", None) {
            return None;
        }
        self.ethertype(raw, be16(snap, 3), &snap[5..], l2, weirds)
    }

    /// Follows EtherTypes through VLAN tags (iteratively: a hostile frame
    /// may stack thousands of tags) to IP, MPLS, PPPoE or a non-IP payload.
    fn ethertype<'a>(
        &mut self,
        raw: &RawPacket<'a>,
        mut ether_type: u16,
        mut payload: &'a [u8],
        mut l2: Layer2,
        weirds: &mut Vec<Weird>,
    ) -> Option<Decoded<'a>> {
        let ts = raw.ts;
        loop {
            match ether_type {
                ethertype::IPV4 | ethertype::IPV6 => return self.ip(raw, payload, l2, weirds),
                ethertype::VLAN | ethertype::QINQ | ethertype::QINQ_OLD => {
                    if payload.len() <= 4 {
                        net_weird(weirds, ts, "truncated_VLAN_header", "VLAN");
                        return None;
                    }
                    let vlan_id = be16(payload, 0) & 0x0fff;
                    if l2.vlan.is_none() {
                        l2.vlan = Some(vlan_id);
                    } else {
                        if l2.inner_vlan.is_some() {
                            push_weird(
                                weirds,
                                ts,
                                "triple_tagged_vlan_unsupported",
                                "VLAN",
                                WeirdScope::Net,
                                "inner VLAN tag overwritten".to_string(),
                            );
                        }
                        l2.inner_vlan = Some(vlan_id);
                    }
                    let inner = be16(payload, 2);
                    payload = &payload[4..];
                    if !self.forward(weirds, ts, "VLAN", None) {
                        return None;
                    }
                    if inner >= 1536 {
                        ether_type = inner;
                        continue;
                    }
                    if inner <= 1500 {
                        if payload.len() < 2 {
                            net_weird(weirds, ts, "truncated_VLAN_header", "VLAN");
                            return None;
                        }
                        let llc = &payload[..payload.len().min(inner as usize)];
                        return self.llc(raw, inner, llc, l2, weirds);
                    }
                    net_weird(weirds, ts, "undefined_vlan_protocol", "VLAN");
                    return None;
                }
                ethertype::PBB => {
                    // I-TAG, then the customer's destination and source
                    // addresses and EtherType.
                    const PBB_LEN: usize = 18;
                    if payload.len() <= PBB_LEN {
                        net_weird(weirds, ts, "truncated_PBB_header", "PBB");
                        return None;
                    }
                    l2.dst_mac = Some(mac(&payload[4..10]));
                    l2.src_mac = Some(mac(&payload[10..16]));
                    ether_type = be16(payload, 16);
                    payload = &payload[PBB_LEN..];
                    if !self.forward(weirds, ts, "PBB", None) {
                        return None;
                    }
                }
                ethertype::VNTAG => {
                    if payload.len() <= 6 {
                        net_weird(weirds, ts, "truncated_vntag_header", "VNTAG");
                        return None;
                    }
                    ether_type = be16(payload, 4);
                    payload = &payload[6..];
                    if !self.forward(weirds, ts, "VNTAG", None) {
                        return None;
                    }
                }
                ethertype::MPLS_UNICAST | ethertype::MPLS_MULTICAST => {
                    // Skip the label stack up to the bottom-of-stack bit; the
                    // payload's protocol is not encoded, IP is assumed.
                    loop {
                        if payload.len() <= 4 {
                            net_weird(weirds, ts, "truncated_link_header", "MPLS");
                            return None;
                        }
                        let bottom = payload[2] & 0x01 != 0;
                        payload = &payload[4..];
                        if bottom {
                            break;
                        }
                    }
                    if !self.forward(weirds, ts, "MPLS", None) {
                        return None;
                    }
                    return self.ip(raw, payload, l2, weirds);
                }
                ethertype::PPPOE_SESSION => {
                    // version/type, code, session id, length, PPP protocol.
                    if payload.len() <= 8 {
                        net_weird(weirds, ts, "truncated_pppoe_header", "PPPOE");
                        return None;
                    }
                    // The length counts the PPP protocol field, not the 6-byte header;
                    // Zeek 8.2 reports when the frame holds more or less than it says,
                    // and hands on no more than it says.
                    let length = usize::from(be16(payload, 4));
                    if length < payload.len() - 6 {
                        net_weird(weirds, ts, "pppoe_extra_data_after_payload", "PPPOE");
                    } else if length > payload.len() - 6 {
                        net_weird(weirds, ts, "pppoe_truncated_payload", "PPPOE");
                    }
                    let inner = &payload[8..8 + length.saturating_sub(2).min(payload.len() - 8)];
                    return match be16(payload, 6) {
                        PPP_IPV4 | PPP_IPV6 => {
                            if !self.forward(weirds, ts, "PPPOE", None) {
                                return None;
                            }
                            self.ip(raw, inner, l2, weirds)
                        }
                        _ => Some(Decoded::Link {
                            l2,
                            ethertype: ether_type,
                            payload,
                        }),
                    };
                }
                _ => {
                    return Some(Decoded::Link {
                        l2,
                        ethertype: ether_type,
                        payload,
                    })
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
