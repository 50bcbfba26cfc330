use super::*;
use crate::packet::IpPacket;
use etherparse::{IpFragOffset, IpNumber, Ipv4Header, Ipv6FlowLabel, Ipv6Header, PacketBuilder};
use std::borrow::Cow;

const MAC_A: [u8; 6] = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55];
const MAC_B: [u8; 6] = [0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb];
const SRC4: [u8; 4] = [192, 168, 1, 10];
const DST4: [u8; 4] = [10, 1, 2, 3];
const SRC6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const DST6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

fn raw(link: LinkType, data: &[u8]) -> RawPacket<'_> {
    RawPacket {
        ts: Time(1_000_000_000),
        wire_len: data.len() as u32,
        link,
        data,
    }
}

fn decoder() -> Decoder {
    Decoder::new(DecoderConfig::default())
}

/// Decodes one frame with a fresh decoder; returns the packet (owned l4) and weird names.
fn decode_one(link: LinkType, data: &[u8]) -> (Option<Decoded<'_>>, Vec<&'static str>) {
    let mut weirds = Vec::new();
    let out = decoder().decode(&raw(link, data), &mut weirds);
    (out, weirds.iter().map(|w| w.name).collect())
}

fn expect_ip(d: Option<Decoded<'_>>) -> IpPacket<'_> {
    match d {
        Some(Decoded::Ip(p)) => p,
        other => panic!("expected an IP packet, got {:?}", other),
    }
}

/// IPv4 + TCP bytes (no link layer) with `payload`.
fn ipv4_tcp(payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ipv4(SRC4, DST4, 64)
        .tcp(40000, 80, 1, 1024)
        .ack(5);
    let mut out = Vec::new();
    b.write(&mut out, payload).unwrap();
    out
}

fn ipv6_udp(payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ipv6(SRC6, DST6, 33).udp(5353, 53);
    let mut out = Vec::new();
    b.write(&mut out, payload).unwrap();
    out
}

fn ether(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&MAC_B);
    out.extend_from_slice(&MAC_A);
    out.extend_from_slice(&ethertype.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

#[test]
fn ethernet_ipv4_tcp() {
    let b = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4(SRC4, DST4, 64)
        .tcp(40000, 80, 1, 1024)
        .syn();
    let mut frame = Vec::new();
    b.write(&mut frame, b"hello").unwrap();
    // Ethernet padding after the IP datagram must not become payload.
    frame.extend_from_slice(&[0u8; 6]);
    let (d, weirds) = decode_one(LinkType::Ethernet, &frame);
    assert!(weirds.is_empty(), "{:?}", weirds);
    let p = expect_ip(d);
    assert_eq!(p.src, IpAddr::from(SRC4));
    assert_eq!(p.dst, IpAddr::from(DST4));
    assert_eq!(p.proto, 6);
    assert_eq!(p.ttl, 64);
    assert_eq!(p.hdr_len, 20);
    assert_eq!(p.ip_len, 20 + 20 + 5);
    assert_eq!(p.l4.len(), 25);
    assert_eq!(&p.l4[20..], b"hello");
    assert!(matches!(p.l4, Cow::Borrowed(_)));
    assert!(!p.is_truncated());
    assert_eq!(p.l2.src_mac, Some(MAC_A));
    assert_eq!(p.l2.dst_mac, Some(MAC_B));
    assert_eq!(p.l2.vlan, None);
}

#[test]
fn ethernet_ipv6_udp_and_arp() {
    let frame = ether(0x86dd, &ipv6_udp(b"q"));
    let p = expect_ip(decode_one(LinkType::Ethernet, &frame).0);
    assert!(p.is_ipv6());
    assert_eq!(p.proto, 17);
    assert_eq!(p.ttl, 33);
    assert_eq!(p.ip_len, 40 + 8 + 1);
    assert_eq!(p.hdr_len, 40);

    let arp = ether(0x0806, &[0u8; 28]);
    match decode_one(LinkType::Ethernet, &arp) {
        (
            Some(Decoded::Link {
                ethertype,
                payload,
                l2,
            }),
            w,
        ) => {
            assert!(w.is_empty());
            assert_eq!(ethertype, 0x0806);
            assert_eq!(payload.len(), 28);
            assert_eq!(l2.src_mac, Some(MAC_A));
        }
        other => panic!("{:?}", other),
    }
}

#[test]
fn vlan_and_qinq() {
    let b = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .single_vlan(etherparse::VlanId::try_new(42).unwrap())
        .ipv4(SRC4, DST4, 1)
        .udp(1, 2);
    let mut frame = Vec::new();
    b.write(&mut frame, b"x").unwrap();
    let p = expect_ip(decode_one(LinkType::Ethernet, &frame).0);
    assert_eq!(p.l2.vlan, Some(42));
    assert_eq!(p.l2.inner_vlan, None);

    let b = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .double_vlan(
            etherparse::VlanId::try_new(100).unwrap(),
            etherparse::VlanId::try_new(200).unwrap(),
        )
        .ipv6(SRC6, DST6, 1)
        .udp(1, 2);
    let mut frame = Vec::new();
    b.write(&mut frame, b"x").unwrap();
    let p = expect_ip(decode_one(LinkType::Ethernet, &frame).0);
    assert_eq!(p.l2.vlan, Some(100));
    assert_eq!(p.l2.inner_vlan, Some(200));

    // 0x9100 outer, 0x88a8, then 0x8100: three tags.
    let mut tags = Vec::new();
    for (tpid_next, id) in [(0x88a8u16, 1u16), (0x8100, 2), (0x0800, 3)] {
        tags.extend_from_slice(&id.to_be_bytes());
        tags.extend_from_slice(&tpid_next.to_be_bytes());
    }
    tags.extend_from_slice(&ipv4_tcp(b""));
    let frame = ether(0x9100, &tags);
    let (d, weirds) = decode_one(LinkType::Ethernet, &frame);
    let p = expect_ip(d);
    assert_eq!(weirds, vec!["triple_tagged_vlan_unsupported"]);
    assert_eq!((p.l2.vlan, p.l2.inner_vlan), (Some(1), Some(3)));
}

/// 20,000 tags: Zeek's `PacketAnalyzer::max_depth` stops the packet at the
/// 24th (after Ethernet), and without the limit the tags are still followed
/// in a loop, not by recursion.
#[test]
fn deeply_stacked_vlan_tags_do_not_overflow_the_stack() {
    let mut tags = Vec::new();
    for _ in 0..20_000 {
        tags.extend_from_slice(&[0x00, 0x01, 0x81, 0x00]);
    }
    tags.extend_from_slice(&[0x00, 0x01, 0x08, 0x00]);
    tags.extend_from_slice(&ipv4_tcp(b""));
    let frame = ether(0x8100, &tags);
    let mut weirds = Vec::new();
    let d = decoder().decode(&raw(LinkType::Ethernet, &frame), &mut weirds);
    assert!(d.is_none());
    let names: Vec<_> = weirds.iter().map(|w| (w.name, w.source)).collect();
    assert_eq!(names.last(), Some(&("max_packet_analyzer_depth_exceeded", "VLAN")));
    let mut unlimited = Decoder::new(DecoderConfig {
        max_analyzer_depth: 0,
        ..Default::default()
    });
    let d = unlimited.decode(&raw(LinkType::Ethernet, &frame), &mut weirds);
    assert!(matches!(d, Some(Decoded::Ip(_))));
}

#[test]
fn mpls_label_stack() {
    let mut body = Vec::new();
    body.extend_from_slice(&[0x00, 0x01, 0x00, 0x40]); // label 16, not bottom
    body.extend_from_slice(&[0x00, 0x02, 0x01, 0x40]); // bottom of stack
    body.extend_from_slice(&ipv6_udp(b"mpls"));
    let frame = ether(0x8847, &body);
    let p = expect_ip(decode_one(LinkType::Ethernet, &frame).0);
    assert!(p.is_ipv6());
    assert_eq!(&p.l4[8..], b"mpls");

    let frame = ether(0x8847, &[0x00, 0x01, 0x00, 0x40, 0, 0, 0]);
    let (d, weirds) = decode_one(LinkType::Ethernet, &frame);
    assert!(d.is_none());
    assert_eq!(weirds, vec!["truncated_link_header"]);
}

#[test]
fn pppoe_session() {
    let ip = ipv4_tcp(b"ppp");
    let mut body = vec![0x11, 0x00, 0x12, 0x34];
    body.extend_from_slice(&((ip.len() + 2) as u16).to_be_bytes());
    body.extend_from_slice(&0x0021u16.to_be_bytes());
    body.extend_from_slice(&ip);
    let frame = ether(0x8864, &body);
    let p = expect_ip(decode_one(LinkType::Ethernet, &frame).0);
    assert_eq!(p.proto, 6);
    assert_eq!(&p.l4[20..], b"ppp");

    let frame = ether(0x8864, &[0x11, 0, 0, 1, 0, 2, 0]);
    let (d, weirds) = decode_one(LinkType::Ethernet, &frame);
    assert!(d.is_none());
    assert_eq!(weirds, vec!["truncated_pppoe_header"]);
}

/// Zeek 8.2: a PPPoE length short of the frame (Ethernet padding after a
/// small packet) or past it is a weird, and only the announced bytes go on.
#[test]
fn pppoe_length_against_the_frame() {
    let ip = ipv4_tcp(b"ppp");
    let session = |length: usize, padding: usize| {
        let mut body = vec![0x11, 0x00, 0x12, 0x34];
        body.extend_from_slice(&(length as u16).to_be_bytes());
        body.extend_from_slice(&0x0021u16.to_be_bytes());
        body.extend_from_slice(&ip);
        body.extend(std::iter::repeat(0xee).take(padding));
        ether(0x8864, &body)
    };
    let padded = session(ip.len() + 2, 6);
    let (d, weirds) = decode_one(LinkType::Ethernet, &padded);
    assert_eq!(weirds, vec!["pppoe_extra_data_after_payload"]);
    assert_eq!(expect_ip(d).l4.len(), 20 + 3);
    let cut = session(ip.len() + 12, 0);
    let (d, weirds) = decode_one(LinkType::Ethernet, &cut);
    assert_eq!(weirds, vec!["pppoe_truncated_payload"]);
    assert_eq!(expect_ip(d).l4.len(), 20 + 3);
}

#[test]
fn linux_cooked_sll_and_sll2() {
    let ip = ipv4_tcp(b"sll");
    let mut sll = vec![0, 0, 0, 1, 0, 6];
    sll.extend_from_slice(&MAC_A);
    sll.extend_from_slice(&[0, 0]);
    sll.extend_from_slice(&0x0800u16.to_be_bytes());
    sll.extend_from_slice(&ip);
    let p = expect_ip(decode_one(LinkType::LinuxSll, &sll).0);
    assert_eq!(p.l2.src_mac, Some(MAC_A));
    assert_eq!(p.l2.dst_mac, None);
    assert_eq!(&p.l4[20..], b"sll");

    let ip6 = ipv6_udp(b"sll2");
    let mut sll2 = Vec::new();
    sll2.extend_from_slice(&0x86ddu16.to_be_bytes());
    sll2.extend_from_slice(&[0, 0, 0, 0, 0, 3, 0, 1, 0, 6]);
    sll2.extend_from_slice(&MAC_B);
    sll2.extend_from_slice(&[0, 0]);
    sll2.extend_from_slice(&ip6);
    let p = expect_ip(decode_one(LinkType::LinuxSll2, &sll2).0);
    assert!(p.is_ipv6());
    assert_eq!(p.l2.src_mac, Some(MAC_B));

    assert_eq!(
        decode_one(LinkType::LinuxSll, &sll[..16]).1,
        vec!["truncated_Linux_SLL_header"]
    );
    assert_eq!(
        decode_one(LinkType::LinuxSll2, &sll2[..20]).1,
        vec!["truncated_Linux_SLL2_header"]
    );
}

#[test]
fn raw_null_loop_and_ppp() {
    let ip4 = ipv4_tcp(b"");
    let ip6 = ipv6_udp(b"");
    for link in [LinkType::Raw, LinkType::Ipv4] {
        assert_eq!(expect_ip(decode_one(link, &ip4).0).proto, 6);
    }
    for link in [LinkType::Raw, LinkType::Ipv6] {
        assert_eq!(expect_ip(decode_one(link, &ip6).0).proto, 17);
    }
    let with = |prefix: &[u8], ip: &[u8]| [prefix, ip].concat();
    // BSD null: host byte order, either way round; AF_INET6 values of several BSDs.
    assert!(
        expect_ip(decode_one(LinkType::Null, &with(&2u32.to_le_bytes(), &ip4)).0)
            .src
            .is_ipv4()
    );
    assert!(
        expect_ip(decode_one(LinkType::Null, &with(&2u32.to_be_bytes(), &ip4)).0)
            .src
            .is_ipv4()
    );
    for af in [24u32, 28, 30] {
        assert!(expect_ip(decode_one(LinkType::Null, &with(&af.to_le_bytes(), &ip6)).0).is_ipv6());
    }
    assert!(decode_one(LinkType::Null, &with(&7u32.to_le_bytes(), &ip4))
        .0
        .is_none());
    assert!(expect_ip(decode_one(LinkType::Loop, &with(&30u32.to_be_bytes(), &ip6)).0).is_ipv6());
    assert_eq!(
        decode_one(LinkType::Null, &[2, 0, 0, 0]).1,
        vec!["null_analyzer_failed"]
    );
    // PPP with and without address/control bytes.
    assert_eq!(
        expect_ip(decode_one(LinkType::Ppp, &with(&[0xff, 0x03, 0x00, 0x21], &ip4)).0).proto,
        6
    );
    assert_eq!(
        expect_ip(decode_one(LinkType::Ppp, &with(&[0x00, 0x57], &ip6)).0).proto,
        17
    );
    assert!(decode_one(LinkType::Ppp, &with(&[0xc0, 0x21], &ip4))
        .0
        .is_none());
}

#[test]
fn unknown_link_type_and_short_ethernet() {
    let (d, w) = decode_one(LinkType::Other(147), &[1, 2, 3]);
    assert!(d.is_none());
    assert_eq!(w, vec!["no_suitable_analyzer_found"]);
    let (d, w) = decode_one(LinkType::Ethernet, &[0u8; 16]);
    assert!(d.is_none());
    assert_eq!(w, vec!["truncated_ethernet_frame"]);
}

#[test]
fn ipv4_options_and_checksums() {
    let mut header = Ipv4Header::new(8, 9, IpNumber::UDP, SRC4, DST4).unwrap();
    header.options = (&[0x94u8, 0x04, 0x00, 0x00][..]).try_into().unwrap(); // router alert
    header.total_len = (header.header_len() + 8) as u16;
    header.header_checksum = header.calc_header_checksum();
    let mut ip = Vec::new();
    header.write(&mut ip).unwrap();
    ip.extend_from_slice(&[0, 1, 0, 2, 0, 8, 0, 0]);
    let p = expect_ip(decode_one(LinkType::Raw, &ip).0);
    assert_eq!(p.hdr_len, 24);
    assert_eq!(p.ip_len, 32);
    assert_eq!(p.l4.len(), 8);

    // Corrupt the checksum: Zeek drops the packet with a weird...
    ip[10] ^= 0xff;
    let (d, w) = decode_one(LinkType::Raw, &ip);
    assert!(d.is_none());
    assert_eq!(w, vec!["bad_IP_checksum"]);
    // ...unless checksums are ignored.
    let mut dec = Decoder::new(DecoderConfig {
        ignore_checksums: true,
        ..Default::default()
    });
    let mut weirds = Vec::new();
    assert!(dec.decode(&raw(LinkType::Raw, &ip), &mut weirds).is_some());
    assert!(weirds.is_empty());
}

#[test]
fn malformed_ipv4_headers() {
    let good = ipv4_tcp(b"abcdef");
    let check = |bytes: &[u8], wire_len: u32, want: &str| {
        let mut weirds = Vec::new();
        let pkt = RawPacket {
            ts: Time(0),
            wire_len,
            link: LinkType::Raw,
            data: bytes,
        };
        assert!(decoder().decode(&pkt, &mut weirds).is_none(), "{}", want);
        assert_eq!(
            weirds.iter().map(|w| w.name).collect::<Vec<_>>(),
            vec![want]
        );
    };
    check(&good[..19], 19, "truncated_IP");
    let mut v5 = good.clone();
    v5[0] = 0x55;
    check(&v5, v5.len() as u32, "unknown_ip_version");
    // The header claims more than was on the wire.
    check(&good[..30], 30, "truncated_IP_len");
    let mut bad_ihl = good.clone();
    bad_ihl[0] = 0x44;
    check(&bad_ihl, bad_ihl.len() as u32, "IPv4_min_header_size");
    let mut zero_len = good.clone();
    zero_len[2] = 0;
    zero_len[3] = 0;
    check(&zero_len, zero_len.len() as u32, "ip_hdr_len_zero");
    let mut big_ihl = good.clone();
    big_ihl[0] = 0x4f; // 60-byte header, but the total length is 46
    check(&big_ihl, big_ihl.len() as u32, "invalid_IP_header_size");
}

/// A zero IPv4 total length (TCP segmentation offload) with checksums ignored: the
/// datagram runs to the end of the capture, but conn.log counts the header's 0, as Zeek.
#[test]
fn zero_total_length_is_the_capture_but_counts_zero() {
    let mut ip = ipv4_tcp(b"abcdef");
    ip[2] = 0;
    ip[3] = 0;
    let mut dec = Decoder::new(DecoderConfig {
        ignore_checksums: true,
        ..Default::default()
    });
    let mut weirds = Vec::new();
    let Some(Decoded::Ip(p)) = dec.decode(&raw(LinkType::Raw, &ip), &mut weirds) else {
        panic!("decoded");
    };
    assert_eq!((p.ip_len, p.counted_len), (ip.len() as u32, 0));
    assert_eq!(weirds.iter().map(|w| w.name).collect::<Vec<_>>(), ["ip_hdr_len_zero"]);
}

#[test]
fn snaplen_cut_packets_are_kept_and_marked_truncated() {
    let ip = ipv4_tcp(&[7u8; 500]);
    let pkt = RawPacket {
        ts: Time(0),
        wire_len: ip.len() as u32,
        link: LinkType::Raw,
        data: &ip[..96],
    };
    let mut weirds = Vec::new();
    let p = expect_ip(decoder().decode(&pkt, &mut weirds));
    assert!(weirds.is_empty());
    assert_eq!(p.ip_len as usize, ip.len());
    assert_eq!(p.l4.len(), 76);
    assert!(p.is_truncated());
    assert_eq!(p.l4_len_claimed(), 520);
}

/// IPv6 header + raw extension headers (each `(type, bytes)`), then `proto` and payload.
fn ipv6_with_exts(exts: &[(u8, Vec<u8>)], proto: u8, payload: &[u8]) -> Vec<u8> {
    let first = exts.first().map(|e| e.0).unwrap_or(proto);
    let ext_len: usize = exts.iter().map(|e| e.1.len()).sum();
    let header = Ipv6Header {
        traffic_class: 0,
        flow_label: Ipv6FlowLabel::try_new(0x12345).unwrap(),
        payload_length: (ext_len + payload.len()) as u16,
        next_header: IpNumber(first),
        hop_limit: 7,
        source: SRC6,
        destination: DST6,
    };
    let mut out = Vec::new();
    header.write(&mut out).unwrap();
    for (i, (_, bytes)) in exts.iter().enumerate() {
        let next = exts.get(i + 1).map(|e| e.0).unwrap_or(proto);
        let mut b = bytes.clone();
        b[0] = next;
        out.extend_from_slice(&b);
    }
    out.extend_from_slice(payload);
    out
}

#[test]
fn ipv6_extension_headers() {
    let hop = vec![0, 0, 1, 4, 0, 0, 0, 0]; // PadN
    let dst_opts = vec![0, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let udp = [0u8, 1, 0, 2, 0, 9, 0, 0, b'!'];
    let ip = ipv6_with_exts(&[(0, hop), (60, dst_opts)], 17, &udp);
    let (d, w) = decode_one(LinkType::Raw, &ip);
    assert!(w.is_empty(), "{:?}", w);
    let p = expect_ip(d);
    assert_eq!(p.proto, 17);
    assert_eq!(p.hdr_len, 40 + 8 + 16);
    assert_eq!(p.ip_len as usize, ip.len());
    assert_eq!(&p.l4[..], &udp);
    assert_eq!(p.flow_label, 0x12345);

    // No next header.
    let no_next = ipv6_with_exts(&[], 59, &[]);
    let (d, w) = decode_one(LinkType::Raw, &no_next);
    assert!(d.is_none());
    assert_eq!(w, vec!["ipv6_no_next"]);
}

#[test]
fn ipv6_routing_header_type0_names_the_final_destination() {
    let final_dst: [u8; 16] = [
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99,
    ];
    let mut rh = vec![0, 2, 0, 1, 0, 0, 0, 0];
    rh.extend_from_slice(&final_dst);
    let ip = ipv6_with_exts(&[(43, rh)], 6, &[0u8; 20]);
    let (d, w) = decode_one(LinkType::Raw, &ip);
    let p = expect_ip(d);
    assert_eq!(p.dst, IpAddr::from(final_dst));
    assert_eq!(w, vec!["routing0_hdr"]);

    let rh2 = vec![0, 0, 4, 0, 0, 0, 0, 0];
    let ip = ipv6_with_exts(&[(43, rh2)], 6, &[0u8; 20]);
    let mut weirds = Vec::new();
    let p = expect_ip(decoder().decode(&raw(LinkType::Raw, &ip), &mut weirds));
    assert_eq!(p.dst, IpAddr::from(DST6));
    assert_eq!(weirds[0].name, "unknown_routing_type");
    assert_eq!(weirds[0].addl, "4");
}

#[test]
fn ipv6_truncated_extension_header_stops_the_chain() {
    let hop = vec![0, 3, 0, 0, 0, 0, 0, 0]; // claims 32 bytes, only 8 present
    let ip = ipv6_with_exts(&[(0, hop)], 6, &[]);
    let (d, _) = decode_one(LinkType::Raw, &ip);
    let p = expect_ip(d);
    assert_eq!(p.hdr_len, 40);
    assert_eq!(p.proto, 0);
}

// ---- fragments ----

fn ipv4_fragment(id: u16, offset: usize, more: bool, proto: IpNumber, chunk: &[u8]) -> Vec<u8> {
    let mut h = Ipv4Header::new(chunk.len() as u16, 64, proto, SRC4, DST4).unwrap();
    h.identification = id;
    h.dont_fragment = false;
    h.more_fragments = more;
    h.fragment_offset = IpFragOffset::try_new((offset / 8) as u16).unwrap();
    h.header_checksum = h.calc_header_checksum();
    let mut out = Vec::new();
    h.write(&mut out).unwrap();
    out.extend_from_slice(chunk);
    out
}

fn ipv6_fragment(id: u32, offset: usize, more: bool, chunk: &[u8]) -> Vec<u8> {
    let header = Ipv6Header {
        traffic_class: 0,
        flow_label: Ipv6FlowLabel::ZERO,
        payload_length: (8 + chunk.len()) as u16,
        next_header: IpNumber::IPV6_FRAGMENTATION_HEADER,
        hop_limit: 9,
        source: SRC6,
        destination: DST6,
    };
    let mut out = Vec::new();
    header.write(&mut out).unwrap();
    // Written by hand: etherparse 0.16 puts the offset and M flag in the
    // wrong bits (its issue #150).
    out.extend_from_slice(&[17, 0]);
    out.extend_from_slice(&((offset as u16 & 0xfff8) | more as u16).to_be_bytes());
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(chunk);
    out
}

fn datagram(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

/// Feeds frames in order; returns the owned l4 of every completed datagram and all weird names.
fn feed(dec: &mut Decoder, frames: &[(Time, Vec<u8>)]) -> (Vec<IpPacketOwned>, Vec<&'static str>) {
    let mut weirds = Vec::new();
    let mut out = Vec::new();
    for (ts, f) in frames {
        let pkt = RawPacket {
            ts: *ts,
            wire_len: f.len() as u32,
            link: LinkType::Raw,
            data: f,
        };
        if let Some(Decoded::Ip(p)) = dec.decode(&pkt, &mut weirds) {
            assert!(
                matches!(p.l4, Cow::Owned(_)),
                "a reassembled datagram is owned"
            );
            out.push(IpPacketOwned {
                proto: p.proto,
                ip_len: p.ip_len,
                hdr_len: p.hdr_len,
                l4: p.l4.into_owned(),
                src: p.src,
                dst: p.dst,
            });
        }
    }
    (out, weirds.iter().map(|w| w.name).collect())
}

#[derive(Debug)]
struct IpPacketOwned {
    proto: u8,
    ip_len: u32,
    hdr_len: u32,
    l4: Vec<u8>,
    src: IpAddr,
    dst: IpAddr,
}

fn t(s: i64) -> Time {
    Time(s * 1_000_000_000)
}

#[test]
fn ipv4_fragments_in_and_out_of_order() {
    let payload = datagram(3000);
    let frags = [
        ipv4_fragment(7, 0, true, IpNumber::UDP, &payload[..1480]),
        ipv4_fragment(7, 1480, true, IpNumber::UDP, &payload[1480..2960]),
        ipv4_fragment(7, 2960, false, IpNumber::UDP, &payload[2960..]),
    ];
    for order in [[0, 1, 2], [2, 0, 1], [1, 2, 0]] {
        let mut dec = decoder();
        let frames: Vec<_> = order.iter().map(|&i| (t(1), frags[i].clone())).collect();
        let (done, weirds) = feed(&mut dec, &frames);
        assert!(weirds.is_empty(), "{:?}", weirds);
        assert_eq!(done.len(), 1, "order {:?}", order);
        let p = &done[0];
        assert_eq!(p.l4, payload);
        assert_eq!(p.proto, 17);
        assert_eq!(p.ip_len, 3020);
        assert_eq!(p.hdr_len, 20);
        assert_eq!(p.src, IpAddr::from(SRC4));
        assert_eq!(dec.fragments_in_flight(), 0);
        assert_eq!(dec.fragment_stats().reassembled, 1);
    }
}

#[test]
fn overlapping_fragments() {
    let payload = datagram(200);
    // Same bytes overlapping: fragment_overlap.
    let mut dec = decoder();
    let (done, weirds) = feed(
        &mut dec,
        &[
            (
                t(1),
                ipv4_fragment(1, 0, true, IpNumber::UDP, &payload[..128]),
            ),
            (
                t(1),
                ipv4_fragment(1, 64, false, IpNumber::UDP, &payload[64..]),
            ),
        ],
    );
    assert_eq!(weirds, vec!["fragment_overlap"]);
    assert_eq!(done[0].l4, payload);

    // Different bytes overlapping: fragment_inconsistency, first data wins.
    let mut forged = payload[64..].to_vec();
    forged[0] ^= 0xff;
    let mut dec = decoder();
    let (done, weirds) = feed(
        &mut dec,
        &[
            (
                t(1),
                ipv4_fragment(2, 0, true, IpNumber::UDP, &payload[..128]),
            ),
            (t(1), ipv4_fragment(2, 64, false, IpNumber::UDP, &forged)),
        ],
    );
    assert_eq!(weirds, vec!["fragment_inconsistency"]);
    assert_eq!(done[0].l4, payload);
}

#[test]
fn fragment_weirds() {
    let payload = datagram(100);
    let mut df = ipv4_fragment(3, 0, true, IpNumber::UDP, &payload[..24]);
    let (mut h, _) = Ipv4Header::from_slice(&df).unwrap();
    h.dont_fragment = true;
    h.header_checksum = h.calc_header_checksum();
    let mut hdr = Vec::new();
    h.write(&mut hdr).unwrap();
    df[..20].copy_from_slice(&hdr);
    let mut dec = decoder();
    let (done, weirds) = feed(
        &mut dec,
        &[
            (t(1), df),
            (
                t(1),
                ipv4_fragment(3, 24, false, IpNumber::UDP, &payload[24..]),
            ),
            // The same id later claims a different end: a new datagram (the
            // first completed), so no inconsistency yet.
        ],
    );
    assert_eq!(done.len(), 1);
    assert_eq!(
        weirds,
        vec!["fragment_with_DF", "excessively_small_fragment"]
    );

    // Two "last" fragments that disagree on the size.
    let mut dec = decoder();
    let (_, weirds) = feed(
        &mut dec,
        &[
            (
                t(1),
                ipv4_fragment(4, 80, false, IpNumber::UDP, &payload[..16]),
            ),
            (
                t(1),
                ipv4_fragment(4, 96, false, IpNumber::UDP, &payload[16..32]),
            ),
        ],
    );
    assert_eq!(weirds, vec!["fragment_size_inconsistency"]);

    // Protocol mismatch between fragments of one datagram.
    let mut dec = decoder();
    let (_, weirds) = feed(
        &mut dec,
        &[
            (
                t(1),
                ipv4_fragment(5, 0, true, IpNumber::UDP, &payload[..64]),
            ),
            (
                t(1),
                ipv4_fragment(5, 64, true, IpNumber::TCP, &payload[..64]),
            ),
        ],
    );
    assert_eq!(weirds, vec!["fragment_protocol_inconsistency"]);
}

#[test]
fn excessively_large_fragment_wraps_the_length_like_zeek() {
    let chunk = datagram(1000);
    let mut dec = decoder();
    let (done, weirds) = feed(
        &mut dec,
        &[
            (t(1), ipv4_fragment(9, 0, true, IpNumber::UDP, &chunk)),
            (t(1), ipv4_fragment(9, 65000, false, IpNumber::UDP, &chunk)),
        ],
    );
    assert!(done.is_empty());
    assert_eq!(weirds, vec!["excessively_large_fragment"]);
    assert_eq!(dec.fragments_in_flight(), 1);
}

#[test]
fn fragments_time_out_in_packet_time() {
    let payload = datagram(200);
    let mut dec = decoder();
    let (done, _) = feed(
        &mut dec,
        &[
            (
                t(100),
                ipv4_fragment(1, 0, true, IpNumber::UDP, &payload[..96]),
            ),
            // 5 minutes later the first fragment is gone...
            (
                t(401),
                ipv4_fragment(1, 96, false, IpNumber::UDP, &payload[96..]),
            ),
        ],
    );
    assert!(done.is_empty());
    assert_eq!(dec.fragment_stats().timed_out, 1);
    // ...and the late fragment starts a datagram of its own.
    assert_eq!(dec.fragments_in_flight(), 1);

    let mut dec = decoder();
    let (done, _) = feed(
        &mut dec,
        &[
            (
                t(100),
                ipv4_fragment(1, 0, true, IpNumber::UDP, &payload[..96]),
            ),
            (
                t(399),
                ipv4_fragment(1, 96, false, IpNumber::UDP, &payload[96..]),
            ),
        ],
    );
    assert_eq!(done.len(), 1);
}

#[test]
fn fragment_limits_bound_memory() {
    let config = DecoderConfig {
        max_datagrams_in_flight: 8,
        max_fragments_per_datagram: 4,
        ..Default::default()
    };
    let mut dec = Decoder::new(config);
    let chunk = datagram(64);
    // 100 datagrams that never complete: at most 8 are held.
    let frames: Vec<_> = (0..100)
        .map(|id| (t(1), ipv4_fragment(id, 0, true, IpNumber::UDP, &chunk)))
        .collect();
    let (done, _) = feed(&mut dec, &frames);
    assert!(done.is_empty());
    assert_eq!(dec.fragments_in_flight(), 8);
    assert_eq!(dec.fragment_stats().evicted, 92);

    // A datagram sent in more pieces than allowed is abandoned.
    let mut dec = Decoder::new(DecoderConfig {
        max_fragments_per_datagram: 4,
        ..Default::default()
    });
    let payload = datagram(8 * 10);
    let frames: Vec<_> = (0..10)
        .map(|i| {
            (
                t(1),
                ipv4_fragment(
                    500,
                    i * 8,
                    i != 9,
                    IpNumber::UDP,
                    &payload[i * 8..i * 8 + 8],
                ),
            )
        })
        .collect();
    let (done, _) = feed(&mut dec, &frames);
    assert!(done.is_empty());
    assert!(dec.fragment_stats().over_limit >= 1);

    // The byte budget over all datagrams.
    let config = DecoderConfig {
        max_fragment_bytes_total: 10_000,
        ..Default::default()
    };
    let mut dec = Decoder::new(config);
    let big = datagram(1480);
    let frames: Vec<_> = (0..50)
        .map(|id| (t(1), ipv4_fragment(id, 0, true, IpNumber::UDP, &big)))
        .collect();
    feed(&mut dec, &frames);
    assert!(dec.fragments_in_flight() <= 6);
}

#[test]
fn ipv6_fragments() {
    let payload = datagram(2000);
    let frags = [
        ipv6_fragment(0xdead, 0, true, &payload[..1232]),
        ipv6_fragment(0xdead, 1232, false, &payload[1232..]),
    ];
    for order in [[0, 1], [1, 0]] {
        let mut dec = decoder();
        let frames: Vec<_> = order.iter().map(|&i| (t(5), frags[i].clone())).collect();
        let (done, weirds) = feed(&mut dec, &frames);
        assert!(weirds.is_empty(), "{:?}", weirds);
        assert_eq!(done.len(), 1);
        let p = &done[0];
        assert_eq!(p.proto, 17);
        assert_eq!(p.hdr_len, 40);
        assert_eq!(p.ip_len, 2040);
        assert_eq!(p.l4, payload);
        assert_eq!(p.dst, IpAddr::from(DST6));
    }
}

#[test]
fn incompletely_captured_fragment() {
    let payload = datagram(400);
    let first = ipv4_fragment(8, 0, true, IpNumber::UDP, &payload[..200]);
    let later = ipv4_fragment(8, 200, false, IpNumber::UDP, &payload[200..]);
    let mut dec = decoder();
    let mut weirds = Vec::new();
    // The first fragment, cut by the snap length, is analysed as it is.
    let cut = RawPacket {
        ts: t(1),
        wire_len: first.len() as u32,
        link: LinkType::Raw,
        data: &first[..100],
    };
    let p = expect_ip(dec.decode(&cut, &mut weirds));
    assert_eq!(p.l4.len(), 80);
    // A later one is dropped.
    let cut = RawPacket {
        ts: t(1),
        wire_len: later.len() as u32,
        link: LinkType::Raw,
        data: &later[..100],
    };
    assert!(dec.decode(&cut, &mut weirds).is_none());
    assert_eq!(
        weirds.iter().map(|w| w.name).collect::<Vec<_>>(),
        vec!["incompletely_captured_fragment"; 2]
    );
}

#[test]
fn garbage_never_panics() {
    let links = [
        LinkType::Ethernet,
        LinkType::Raw,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
        LinkType::Null,
        LinkType::Loop,
        LinkType::Ppp,
        LinkType::Other(9999),
    ];
    let mut seed: u32 = 7;
    let mut next = || {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        (seed >> 16) as u8
    };
    let mut dec = decoder();
    let mut weirds = Vec::new();
    let templates = [
        ether(0x0800, &ipv4_tcp(b"abc")),
        ether(
            0x86dd,
            &ipv6_with_exts(&[(0, vec![0, 0, 1, 4, 0, 0, 0, 0])], 6, &[0; 20]),
        ),
        ether(0x8100, &[0, 1, 0x88, 0x47, 0, 0, 1, 0, 0x45]),
        ipv4_fragment(1, 8, true, IpNumber::UDP, &[0; 16]),
        ipv6_fragment(1, 8, true, &[0; 16]),
    ];
    for round in 0..20_000 {
        let len = (next() as usize) % 120;
        let mut frame: Vec<u8> = if round % 2 == 0 {
            let mut f = templates[round % templates.len()].clone();
            // Flip a few bytes of a valid frame.
            for _ in 0..3 {
                if !f.is_empty() {
                    let at = next() as usize % f.len();
                    f[at] = next();
                }
            }
            f
        } else {
            (0..len).map(|_| next()).collect()
        };
        frame.truncate(len.max(frame.len() / 2));
        let link = links[round % links.len()];
        let wire_len = frame.len() as u32 + (next() as u32 % 3) * 100;
        let pkt = RawPacket {
            ts: Time(round as i64),
            wire_len,
            link,
            data: &frame,
        };
        let _ = dec.decode(&pkt, &mut weirds);
        weirds.clear();
    }
}

/// Reads and decodes every trace of the conformance corpus (when present on
/// this machine): no panic, and every file either reads to its end or
/// fails with an error value. Run with `--nocapture` to see the counts.
#[test]
fn corpus_traces_decode_without_panic() {
    use crate::capture::CaptureReader;
    use std::collections::BTreeMap;
    let root = std::path::Path::new("/work/shared/corpus/traces");
    if !root.is_dir() {
        eprintln!("skipped: {} does not exist", root.display());
        return;
    }
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    let (mut packets, mut ip, mut link, mut dropped) = (0u64, 0u64, 0u64, 0u64);
    let mut weird_counts: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut errors = Vec::new();
    let mut weirds = Vec::new();
    for path in &files {
        let mut reader = match CaptureReader::open(path) {
            Ok(r) => r,
            Err(e) => {
                errors.push(e.to_string());
                continue;
            }
        };
        // As the conformance cases mostly run: with -C.
        let mut dec = Decoder::new(DecoderConfig {
            ignore_checksums: true,
            ..Default::default()
        });
        let (mut file_packets, mut file_ip) = (0u64, 0u64);
        loop {
            match reader.next_packet() {
                Ok(Some(pkt)) => {
                    packets += 1;
                    file_packets += 1;
                    match dec.decode(&pkt, &mut weirds) {
                        Some(Decoded::Ip(_)) => {
                            ip += 1;
                            file_ip += 1;
                        }
                        Some(Decoded::Link { .. }) => link += 1,
                        None => dropped += 1,
                    }
                    for w in weirds.drain(..) {
                        *weird_counts.entry(w.name).or_default() += 1;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    errors.push(e.to_string());
                    break;
                }
            }
        }
        if file_ip * 2 < file_packets {
            eprintln!(
                "mostly not IP: {} ({} of {} packets)",
                path.display(),
                file_ip,
                file_packets
            );
        }
    }
    eprintln!(
        "{} files, {} packets: {} IP, {} link, {} dropped or pending fragments",
        files.len(),
        packets,
        ip,
        link,
        dropped
    );
    eprintln!("weirds: {:?}", weird_counts);
    for e in &errors {
        eprintln!("error: {}", e);
    }
    assert!(packets > 0);
    assert!(ip * 10 > packets * 9, "most corpus packets are IP");
}

#[test]
fn ieee802_11_radiotap_and_nflog() {
    let ip = ipv4_tcp(b"wifi");
    // QoS data frame, FromDS: destination at 4, BSSID at 10, source at 16.
    let mut wifi = vec![0x88, 0x02, 0, 0];
    wifi.extend_from_slice(&MAC_B);
    wifi.extend_from_slice(&[9; 6]);
    wifi.extend_from_slice(&MAC_A);
    wifi.extend_from_slice(&[0, 0]); // sequence control
    wifi.extend_from_slice(&[0, 0]); // QoS control
    wifi.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
    wifi.extend_from_slice(&ip);
    let link = LinkType::from_linktype(105);
    assert!(link.is_supported());
    let p = expect_ip(decode_one(link, &wifi).0);
    assert_eq!(p.l2.src_mac, Some(MAC_A));
    assert_eq!(p.l2.dst_mac, Some(MAC_B));
    assert_eq!(&p.l4[20..], b"wifi");

    let mut radiotap = vec![0, 0, 8, 0, 0, 0, 0, 0];
    radiotap.extend_from_slice(&wifi);
    let p = expect_ip(decode_one(LinkType::from_linktype(127), &radiotap).0);
    assert_eq!(&p.l4[20..], b"wifi");

    // Management frame (beacon): nothing to decode, no weird.
    let mut beacon = wifi.clone();
    beacon[0] = 0x80;
    let (d, w) = decode_one(link, &beacon);
    assert!(d.is_none() && w.is_empty());

    // NFLOG: AF_INET, version 0, resource id; a prefix TLV, then the payload TLV.
    let mut nflog = vec![2, 0, 0, 1];
    nflog.extend_from_slice(&7u16.to_le_bytes());
    nflog.extend_from_slice(&10u16.to_le_bytes());
    nflog.extend_from_slice(&[b'a', b'b', b'c', 0]);
    nflog.extend_from_slice(&((ip.len() + 4) as u16).to_le_bytes());
    nflog.extend_from_slice(&9u16.to_le_bytes());
    nflog.extend_from_slice(&ip);
    let link = LinkType::from_linktype(239);
    assert!(link.is_supported());
    let p = expect_ip(decode_one(link, &nflog).0);
    assert_eq!(&p.l4[20..], b"wifi");
    assert_eq!(
        decode_one(link, &nflog[..12]).1,
        vec!["nflog_no_pcap_payload"]
    );
}

#[test]
fn pbb_vntag_and_snap() {
    let ip = ipv4_tcp(b"inner");
    let mut pbb = vec![0, 0, 0, 1];
    pbb.extend_from_slice(&[0xc0; 6]);
    pbb.extend_from_slice(&[0xc1; 6]);
    pbb.extend_from_slice(&0x0800u16.to_be_bytes());
    pbb.extend_from_slice(&ip);
    let frame = ether(0x88e7, &pbb);
    let p = expect_ip(decode_one(LinkType::Ethernet, &frame).0);
    assert_eq!(p.l2.dst_mac, Some([0xc0; 6]));
    assert_eq!(p.l2.src_mac, Some([0xc1; 6]));

    // VLAN, then VN-Tag, then IPv4.
    let mut body = vec![0x00, 0x05, 0x89, 0x26];
    body.extend_from_slice(&[0x80, 0x01, 0x00, 0x02, 0x08, 0x00]);
    body.extend_from_slice(&ip);
    let frame = ether(0x8100, &body);
    let p = expect_ip(decode_one(LinkType::Ethernet, &frame).0);
    assert_eq!(p.l2.vlan, Some(5));

    // 802.3 length + LLC SNAP (OUI 0) + IPv4.
    let mut snap = vec![0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00];
    snap.extend_from_slice(&ip);
    let frame = ether(snap.len() as u16, &snap);
    let p = expect_ip(decode_one(LinkType::Ethernet, &frame).0);
    assert_eq!(&p.l4[20..], b"inner");
    // Plain LLC (spanning tree): a non-IP frame.
    let stp = [0x42, 0x42, 0x03, 0, 0, 0, 0, 0];
    let frame = ether(stp.len() as u16, &stp);
    assert!(matches!(
        decode_one(LinkType::Ethernet, &frame).0,
        Some(Decoded::Link { ethertype: 8, .. })
    ));
}

#[test]
fn ipv6_home_address_option_names_the_source() {
    let home: [u8; 16] = [0x20, 0x01, 0, 0x78, 0, 1, 0, 0x32, 0, 0, 0, 0, 0, 0, 0, 1];
    // Destination options: PadN (2 bytes of padding), Home Address (type 201).
    let mut opts = vec![0, 2, 1, 2, 0, 0, 201, 16];
    opts.extend_from_slice(&home);
    let ip = ipv6_with_exts(&[(60, opts.clone())], 17, &[0, 1, 0, 2, 0, 8, 0, 0]);
    let (d, w) = decode_one(LinkType::Raw, &ip);
    assert!(w.is_empty(), "{:?}", w);
    assert_eq!(expect_ip(d).src, IpAddr::from(home));

    // A second home address option, and one of the wrong length.
    let mut twice = vec![0, 5];
    twice.extend_from_slice(&opts[6..]);
    twice.extend_from_slice(&opts[6..]);
    twice.extend_from_slice(&[201, 4, 0, 0, 0, 0, 1, 2, 0, 0]);
    let ip = ipv6_with_exts(&[(60, twice)], 17, &[0, 1, 0, 2, 0, 8, 0, 0]);
    let (_, w) = decode_one(LinkType::Raw, &ip);
    assert_eq!(w, vec!["multiple_home_addr_opts", "bad_home_addr_len"]);

    // An option running past its header.
    let ip = ipv6_with_exts(
        &[(60, vec![0, 0, 1, 9, 0, 0, 0, 0])],
        17,
        &[0, 1, 0, 2, 0, 8, 0, 0],
    );
    assert_eq!(
        decode_one(LinkType::Raw, &ip).1,
        vec!["bad_ipv6_dest_opt_len"]
    );
}

#[test]
fn ieee802_11_amsdu_subframes_are_decoded_one_by_one() {
    let ip = ipv4_tcp(b"amsdu");
    // QoS data frame (no DS bits: three addresses), A-MSDU flag in QoS control.
    let mut frame = vec![0x88, 0x00, 0, 0];
    frame.extend_from_slice(&MAC_B);
    frame.extend_from_slice(&MAC_A);
    frame.extend_from_slice(&[9; 6]);
    frame.extend_from_slice(&[0, 0, 0x80, 0]);
    let subframe = |frame: &mut Vec<u8>, llc: &[u8], body: &[u8]| {
        let len = llc.len() + body.len();
        frame.extend_from_slice(&[0; 12]);
        frame.extend_from_slice(&(len as u16).to_be_bytes());
        frame.extend_from_slice(llc);
        frame.extend_from_slice(body);
        // Zeek skips `len % 4` bytes after a subframe, which is not always
        // the padding to a multiple of four (the engine used to pad
        // 14 + len); Zeek's rule decides.
        frame.extend(std::iter::repeat_n(0xee, len % 4));
    };
    const SNAP_IPV4: [u8; 8] = [0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00];
    subframe(&mut frame, &SNAP_IPV4, &ip);
    subframe(&mut frame, &SNAP_IPV4, &ip);
    let (_, weirds) = decode_one(LinkType::from_linktype(105), &frame);
    assert!(weirds.is_empty());

    let mut dec = decoder();
    let mut weirds = Vec::new();
    let raw = raw(LinkType::from_linktype(105), &frame);
    let first = expect_ip(dec.decode(&raw, &mut weirds));
    assert_eq!(first.l2.src_mac, Some(MAC_A));
    let more = dec.take_more_in_frame().expect("a second subframe");
    let second = expect_ip(dec.decode_more(&raw, more, &mut weirds));
    assert_eq!(&second.l4[20..], b"amsdu");
    assert_eq!(second.l2.dst_mac, Some(MAC_B));
    assert!(dec.take_more_in_frame().is_none());

    // A subframe that is not LLC/SNAP ends the frame, as in Zeek.
    let mut bad = frame[..26].to_vec();
    subframe(&mut bad, &[0x42; 8], &ip);
    subframe(&mut bad, &SNAP_IPV4, &ip);
    let (d, weirds) = decode_one(LinkType::from_linktype(105), &bad);
    assert!(d.is_none());
    assert_eq!(weirds, vec!["invalid_802_11_amsdu_inner_packet"]);
}

mod fragment_properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// However a datagram is cut (8-byte aligned pieces), shuffled and
        /// partly duplicated, it reassembles to the original exactly once;
        /// duplicates are reported as overlaps, never as inconsistencies.
        #[test]
        fn any_fragmentation_reassembles(
            len in 9usize..4000,
            piece_units in 1usize..200,
            seed in any::<u64>(),
            duplicates in 0usize..3,
            v6 in any::<bool>(),
        ) {
            let payload = datagram(len);
            // At least two pieces: one would be an unfragmented packet.
            let piece = 8 * (1 + piece_units % ((len - 1) / 8));
            let mut frames = Vec::new();
            let mut offset = 0;
            while offset < len {
                let end = (offset + piece).min(len);
                let more = end < len;
                frames.push(if v6 {
                    ipv6_fragment(77, offset, more, &payload[offset..end])
                } else {
                    ipv4_fragment(77, offset, more, IpNumber::UDP, &payload[offset..end])
                });
                offset = end;
            }
            // Shuffle with a small LCG, then repeat a few pieces (not after
            // completion: those would start a new datagram).
            let mut state = seed | 1;
            let mut next = || {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (state >> 33) as usize
            };
            for i in (1..frames.len()).rev() {
                let j = next() % (i + 1);
                frames.swap(i, j);
            }
            let last = frames.pop().unwrap();
            for _ in 0..duplicates {
                if !frames.is_empty() {
                    let k = next() % frames.len();
                    let copy = frames[k].clone();
                    frames.push(copy);
                }
            }
            frames.push(last);
            let mut dec = decoder();
            let frames: Vec<_> = frames.into_iter().map(|f| (t(1), f)).collect();
            let (done, weirds) = feed(&mut dec, &frames);
            prop_assert_eq!(done.len(), 1);
            prop_assert_eq!(&done[0].l4, &payload);
            prop_assert!(weirds.iter().all(|w| *w == "fragment_overlap" || *w == "excessively_small_fragment"), "{:?}", weirds);
            prop_assert_eq!(dec.fragments_in_flight(), 0);
        }
    }
}
