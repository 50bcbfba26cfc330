//! IPv4 and IPv6 headers, with the checks (and weird names) of Zeek's IP
//! packet analyzer, in its order.

use super::frag::{FragmentIn, Reassembled};
use super::{flow_weird, net_weird, push_weird, Decoder};
use crate::packet::{Decoded, IpPacket, Layer2, RawPacket};
use crate::weird::{Weird, WeirdScope};
use crate::wire::checksum::header_checksum_ok;
use crate::wire::ipv4::{self, Ipv4Packet};
use crate::wire::ipv6::{self, ext, ExtHeaders, Ipv6Packet};
use crate::zeek::Time;
use std::borrow::Cow;
use std::net::{IpAddr, Ipv6Addr};

/// The result of walking an IPv6 extension header chain.
struct Ipv6Chain {
    /// Bytes of the IPv6 header and the extension headers walked.
    hdr_len: usize,
    /// The protocol after the last header walked.
    proto: u8,
    /// Fragment header: (offset in bytes, more fragments, identification,
    /// where the fragment header starts).
    fragment: Option<(usize, bool, u32, usize)>,
}

/// Walks extension headers from `off` with `next` as the first header type,
/// over `data` (the captured bytes), as [`ExtHeaders`] does. Routing headers
/// may replace `dst` with the final destination, and a home address option
/// `src` (as Zeek's connection addresses do).
fn walk_ipv6_chain(
    data: &[u8],
    off: usize,
    next: u8,
    ts: Time,
    src: &mut IpAddr,
    dst: &mut IpAddr,
    mut weirds: Option<&mut Vec<Weird>>,
) -> Ipv6Chain {
    let mut fragment = None;
    let mut routed = false;
    let mut home_address = false;
    let mut walk = ExtHeaders::new(data, off, next);
    while let Some(header) = walk.next() {
        let start = walk.offset() - header.bytes.len();
        if let Some((offset, more, id)) = header.fragment() {
            fragment = Some((offset, more, id, start));
        }
        let Some(w) = weirds.as_deref_mut() else {
            continue;
        };
        match header.kind {
            ext::ROUTING => routing_header(header.bytes, ts, *src, dst, &mut routed, w),
            ext::DEST_OPTS => {
                destination_options(header.bytes, ts, src, *dst, &mut home_address, w)
            }
            _ => {}
        }
    }
    Ipv6Chain {
        hdr_len: walk.offset(),
        proto: walk.next_header(),
        fragment,
    }
}

/// A routing header: type 0 with segments left names the final destination
/// (and is deprecated); other types are reported as unknown.
fn routing_header(
    hdr: &[u8],
    ts: Time,
    src: IpAddr,
    dst: &mut IpAddr,
    routed: &mut bool,
    weirds: &mut Vec<Weird>,
) {
    if *routed {
        flow_weird(weirds, ts, "multiple_routing_headers", "", src, *dst);
        return;
    }
    // next header, length in 8-byte units beyond the first, type, segments left.
    let (units, kind, segments_left) = (hdr[1], hdr[2], hdr[3]);
    match kind {
        0 => {
            if segments_left > 0 && units >= 2 {
                if units % 2 == 0 {
                    let last = &hdr[hdr.len() - 16..];
                    let mut addr = [0u8; 16];
                    addr.copy_from_slice(last);
                    *dst = IpAddr::V6(Ipv6Addr::from(addr));
                    *routed = true;
                } else {
                    flow_weird(weirds, ts, "odd_routing0_len", "", src, *dst);
                }
            }
            flow_weird(weirds, ts, "routing0_hdr", "", src, *dst);
        }
        other => push_weird(
            weirds,
            ts,
            "unknown_routing_type",
            "",
            WeirdScope::Flow { src, dst: *dst },
            other.to_string(),
        ),
    }
}

/// Destination options: a Mobile IPv6 Home Address option (type 201)
/// names the connection's real source address, as in Zeek.
fn destination_options(
    hdr: &[u8],
    ts: Time,
    src: &mut IpAddr,
    dst: IpAddr,
    home_address: &mut bool,
    weirds: &mut Vec<Weird>,
) {
    const HOME_ADDRESS: u8 = 201;
    let mut opts = &hdr[2..];
    while let Some(&kind) = opts.first() {
        if kind == 0 {
            // Pad1 is a single byte.
            opts = &opts[1..];
            continue;
        }
        let Some(&len) = opts.get(1) else {
            flow_weird(weirds, ts, "bad_ipv6_dest_opt_len", "", *src, dst);
            return;
        };
        let len = len as usize;
        if opts.len() < 2 + len {
            flow_weird(weirds, ts, "bad_ipv6_dest_opt_len", "", *src, dst);
            return;
        }
        if kind == HOME_ADDRESS {
            if len == 16 {
                if *home_address {
                    flow_weird(weirds, ts, "multiple_home_addr_opts", "", *src, dst);
                } else {
                    let mut addr = [0u8; 16];
                    addr.copy_from_slice(&opts[2..18]);
                    *src = IpAddr::V6(Ipv6Addr::from(addr));
                    *home_address = true;
                }
            } else {
                flow_weird(weirds, ts, "bad_home_addr_len", "", *src, dst);
            }
        }
        opts = &opts[2 + len..];
    }
}

impl Decoder {
    /// Decodes an IP packet starting at `data` (a suffix of the frame).
    pub(super) fn ip<'a>(
        &mut self,
        raw: &RawPacket<'a>,
        data: &'a [u8],
        l2: Layer2,
        weirds: &mut Vec<Weird>,
    ) -> Option<Decoded<'a>> {
        if data.len() < 20 {
            net_weird(weirds, raw.ts, "truncated_IP", "IP");
            return None;
        }
        if let Some(found) = &mut self.probe {
            *found = outer_addresses(data);
            return None;
        }
        match data[0] >> 4 {
            4 => self.ipv4(raw, data, l2, weirds),
            6 => self.ipv6(raw, data, l2, weirds),
            _ => {
                net_weird(weirds, raw.ts, "unknown_ip_version", "IP");
                None
            }
        }
    }

    /// Bytes of link-layer headers before `data` in the frame.
    fn link_header_len(raw: &RawPacket<'_>, data: &[u8]) -> u64 {
        raw.data.len().saturating_sub(data.len()) as u64
    }

    fn ipv4<'a>(
        &mut self,
        raw: &RawPacket<'a>,
        data: &'a [u8],
        l2: Layer2,
        weirds: &mut Vec<Weird>,
    ) -> Option<Decoded<'a>> {
        let ts = raw.ts;
        // `ip` checked that the fixed header is there.
        let header = Ipv4Packet::new_unchecked(data);
        let hdr_len = header.header_len();
        let mut total_len = usize::from(header.total_len());
        if total_len == 0 {
            // TCP segmentation offload can leave the length zero.
            net_weird(weirds, ts, "ip_hdr_len_zero", "IP");
            if !self.config.ignore_checksums {
                return None;
            }
            total_len = data.len();
        }
        if (raw.wire_len as u64) < total_len as u64 + Self::link_header_len(raw, data) {
            net_weird(weirds, ts, "truncated_IP_len", "IP");
            return None;
        }
        if hdr_len > total_len {
            net_weird(weirds, ts, "invalid_IP_header_size", "IP");
            return None;
        }
        if hdr_len > data.len() {
            net_weird(weirds, ts, "internally_truncated_header", "IP");
            return None;
        }
        if hdr_len < ipv4::MIN_HEADER_LEN {
            net_weird(weirds, ts, "IPv4_min_header_size", "IP");
            return None;
        }
        let src = IpAddr::V4(header.src_addr());
        let dst = IpAddr::V4(header.dst_addr());
        if !self.config.ignore_checksums && !header_checksum_ok(&data[..hdr_len]) {
            flow_weird(weirds, ts, "bad_IP_checksum", "IP", src, dst);
            return None;
        }
        let offset = header.frag_offset();
        let more = header.more_fragments();
        let l4 = &data[hdr_len..total_len.min(data.len())];
        if more || offset != 0 {
            if data.len() < total_len {
                flow_weird(weirds, ts, "incompletely_captured_fragment", "IP", src, dst);
                // Only the first fragment is worth analysing as it is.
                if offset != 0 {
                    return None;
                }
            } else {
                let fragment = FragmentIn {
                    ts,
                    src,
                    dst,
                    id: u32::from(header.ident()),
                    v6: false,
                    header: &data[..hdr_len],
                    next_proto: header.protocol(),
                    hdr_len,
                    total_len,
                    offset,
                    more,
                    dont_fragment: header.dont_fragment(),
                    data: l4,
                    ttl: header.ttl(),
                    flow_label: 0,
                };
                let done = self.frags.add(fragment, weirds)?;
                return self.reassembled(raw, l2, done, weirds);
            }
        }
        self.deliver(
            raw,
            weirds,
            IpPacket {
                l2,
                src,
                dst,
                proto: header.protocol(),
                ttl: header.ttl(),
                ip_id: u32::from(header.ident()),
                dont_fragment: header.dont_fragment(),
                ip_len: total_len as u32,
                counted_len: u32::from(header.total_len()),
                hdr_len: hdr_len as u32,
                flow_label: 0,
                l4: Cow::Borrowed(l4),
                bad_ip_checksum: false,
                analyzer_depth: 0,
            },
        )
    }

    fn ipv6<'a>(
        &mut self,
        raw: &RawPacket<'a>,
        data: &'a [u8],
        l2: Layer2,
        weirds: &mut Vec<Weird>,
    ) -> Option<Decoded<'a>> {
        let ts = raw.ts;
        let Some(header) = Ipv6Packet::new_checked(data) else {
            net_weird(weirds, ts, "truncated_IP", "IP");
            return None;
        };
        let total_len = header.total_len();
        if (raw.wire_len as u64) < total_len as u64 + Self::link_header_len(raw, data) {
            net_weird(weirds, ts, "truncated_IP_len", "IP");
            return None;
        }
        let mut src = IpAddr::V6(header.src_addr());
        let mut dst = IpAddr::V6(header.dst_addr());
        let chain = walk_ipv6_chain(
            data,
            ipv6::HEADER_LEN,
            header.next_header(),
            ts,
            &mut src,
            &mut dst,
            Some(weirds),
        );
        if chain.hdr_len > total_len {
            net_weird(weirds, ts, "invalid_IP_header_size", "IP");
            return None;
        }
        let l4 = &data[chain.hdr_len..total_len.min(data.len())];
        let flow_label = header.flow_label();
        if let Some((offset, more, id, frag_at)) = chain.fragment {
            if data.len() < total_len {
                flow_weird(weirds, ts, "incompletely_captured_fragment", "IP", src, dst);
                if offset != 0 {
                    return None;
                }
            } else {
                let fragment = FragmentIn {
                    ts,
                    src,
                    dst,
                    id,
                    v6: true,
                    header: &data[..frag_at],
                    next_proto: chain.proto,
                    hdr_len: chain.hdr_len,
                    total_len,
                    offset,
                    more,
                    dont_fragment: false,
                    data: l4,
                    ttl: header.hop_limit(),
                    flow_label,
                };
                let done = self.frags.add(fragment, weirds)?;
                return self.reassembled(raw, l2, done, weirds);
            }
        }
        self.deliver(
            raw,
            weirds,
            IpPacket {
                l2,
                src,
                dst,
                proto: chain.proto,
                ttl: header.hop_limit(),
                ip_id: chain.fragment.map_or(0, |(_, _, id, _)| id),
                dont_fragment: false,
                ip_len: total_len as u32,
                counted_len: total_len as u32,
                hdr_len: chain.hdr_len as u32,
                flow_label,
                l4: Cow::Borrowed(l4),
                bad_ip_checksum: false,
                analyzer_depth: 0,
            },
        )
    }

    /// Turns a reassembled datagram into a packet, as Zeek does: the length
    /// field is rewritten (in 16 bits, so oversized datagrams wrap and are
    /// then rejected as `invalid_IP_header_size`), and for IPv6 the
    /// extension headers inside the reassembled payload are walked.
    fn reassembled<'a>(
        &mut self,
        raw: &RawPacket<'a>,
        l2: Layer2,
        d: Reassembled,
        weirds: &mut Vec<Weird>,
    ) -> Option<Decoded<'a>> {
        let ts = raw.ts;
        let mut payload = d.payload;
        let frag_size = payload.len();
        let (ip_len, hdr_len, proto) = if d.v6 {
            // Addresses were settled by the first fragment's headers.
            let (mut unused_src, mut unused_dst) = (d.src, d.dst);
            let chain = walk_ipv6_chain(
                &payload,
                0,
                d.next_proto,
                ts,
                &mut unused_src,
                &mut unused_dst,
                None,
            );
            let plen = (frag_size + d.header_len - 40) as u16 as usize;
            (plen + 40, d.header_len + chain.hdr_len, chain.proto)
        } else {
            let ip_len = (frag_size + d.header_len) as u16 as usize;
            (ip_len, d.header_len, d.next_proto)
        };
        if hdr_len > ip_len {
            flow_weird(weirds, ts, "invalid_IP_header_size", "IP", d.src, d.dst);
            return None;
        }
        // Drop the extension headers inside the payload, and anything past
        // what the (rewritten) length covers.
        let skip = hdr_len - d.header_len;
        payload.truncate(ip_len - d.header_len);
        payload.drain(..skip);
        self.deliver(
            raw,
            weirds,
            IpPacket {
                l2,
                src: d.src,
                dst: d.dst,
                proto,
                ttl: d.ttl,
                ip_id: d.id,
                dont_fragment: false,
                ip_len: ip_len as u32,
                counted_len: ip_len as u32,
                hdr_len: hdr_len as u32,
                flow_label: d.flow_label,
                l4: Cow::Owned(payload),
                bad_ip_checksum: false,
                analyzer_depth: 0,
            },
        )
    }
}

impl Decoder {
    /// Hands out a decoded IP packet.
    fn deliver<'a>(
        &mut self,
        raw: &RawPacket<'a>,
        weirds: &mut Vec<Weird>,
        packet: IpPacket<'a>,
    ) -> Option<Decoded<'a>> {
        if packet.proto == ext::NO_NEXT {
            if !self.inside_teredo {
                flow_weird(weirds, raw.ts, "ipv6_no_next", "IP", packet.src, packet.dst);
            }
            return None;
        }
        if !self.forward(weirds, raw.ts, "IP", Some((packet.src, packet.dst))) {
            return None;
        }
        let mut packet = packet;
        packet.analyzer_depth = self.depth;
        Some(Decoded::Ip(packet))
    }
}

/// The addresses of the IP header `data` starts with (at least 20 bytes).
fn outer_addresses(data: &[u8]) -> Option<(std::net::IpAddr, std::net::IpAddr)> {
    match data[0] >> 4 {
        4 => {
            let src: [u8; 4] = data[12..16].try_into().ok()?;
            let dst: [u8; 4] = data[16..20].try_into().ok()?;
            Some((src.into(), dst.into()))
        }
        6 if data.len() >= 40 => {
            let src: [u8; 16] = data[8..24].try_into().ok()?;
            let dst: [u8; 16] = data[24..40].try_into().ok()?;
            Some((src.into(), dst.into()))
        }
        _ => None,
    }
}
