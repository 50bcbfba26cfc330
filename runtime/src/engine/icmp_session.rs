//! ICMP and ICMPv6: counterparts, quoted contexts, neighbour discovery, the icmp_* events.

use super::*;
use crate::wire::icmp::IcmpPacket;
use crate::wire::ipv4::Ipv4Packet;
use crate::wire::ipv6::{self, ExtHeaders, Ipv6Packet};

/// Zeek's ICMP4_counterpart / ICMP6_counterpart: the reply type of a
/// request/reply pair, or the code for one-way messages.
pub fn icmp_counterpart(v6: bool, itype: u8, icode: u8) -> (u16, bool) {
    let pair = if v6 {
        match itype {
            128 => Some(129),
            129 => Some(128),
            133 => Some(134),
            134 => Some(133),
            135 => Some(136),
            136 => Some(135),
            130 => Some(131),
            131 => Some(130),
            139 => Some(140),
            140 => Some(139),
            144 => Some(145),
            145 => Some(144),
            _ => None,
        }
    } else {
        match itype {
            8 => Some(0),
            0 => Some(8),
            13 => Some(14),
            14 => Some(13),
            15 => Some(16),
            16 => Some(15),
            10 => Some(9),
            9 => Some(10),
            17 => Some(18),
            18 => Some(17),
            _ => None,
        }
    };
    match pair {
        Some(t) => (t, false),
        None => (u16::from(icode), true),
    }
}

/// Returns false when the checksum is bad (the message is not analysed).
pub(super) fn icmp_deliver(
    cx: &mut Cx<'_>,
    conn: &mut Conn,
    is_orig: bool,
    ip: &IpPacket<'_>,
) -> bool {
    let claimed = ip.l4_len_claimed() as usize;
    let remaining = ip.l4.len();
    let len = if claimed == 0 { remaining } else { claimed };
    let v6 = ip.proto == 58;
    let b = &ip.l4;
    if !cx.cfg.ignore_checksums && remaining >= len {
        let ok = if v6 {
            checksum::transport_checksum_ok(ip.src, ip.dst, 58, &b[..len])
        } else {
            checksum::header_checksum_ok(&b[..len])
        };
        if !ok {
            conn_weird(
                &mut conn.core,
                cx,
                "bad_ICMP_checksum",
                String::new(),
                "ICMP",
            );
            return false;
        }
    }
    conn.core.last_time = cx.ts;
    let body_len = len.saturating_sub(8);
    if let Transport::Icmp(f) = &mut conn.core.transport {
        f.add_len(is_orig, body_len as u64);
    }
    if remaining >= len {
        conn_size(&mut conn.core, cx, is_orig, ip.counted_len);
    }
    // The transport checked that the header is there.
    let icmp = IcmpPacket::new_unchecked(&b[..]);
    let (itype, icode) = (icmp.msg_type(), icmp.code());
    let body = &b[8..len.min(remaining).max(8)];
    if v6
        && matches!(
            itype,
            MLD_LISTENER_REPORT | MLD_LISTENER_DONE | MLDV2_LISTENER_REPORT
        )
    {
        mld(cx, conn, itype, &b[..8], body);
        return true;
    }
    let info = || IcmpConn {
        orig_h: ip.src,
        resp_h: ip.dst,
        itype: u64::from(itype),
        icode: u64::from(icode),
        len: body_len as u64,
        hlim: u64::from(ip.ttl),
        v6,
    };
    let ev = &mut *cx.events;
    let ts = cx.ts;
    let c = &conn.core;
    let echo_id = u64::from(icmp.echo_ident());
    let echo_seq = u64::from(icmp.echo_seq_no());
    let sent = |ev: &mut Events| {
        raise!(
            ev,
            ts,
            IcmpSent {
                c: c.record(),
                icmp: info()
            }
        );
        raise!(
            ev,
            ts,
            IcmpSentPayload {
                c: c.record(),
                icmp: info(),
                payload: ZString::copy_from(body)
            }
        );
    };
    if !v6 {
        match itype {
            8 => raise!(
                ev,
                ts,
                IcmpEchoRequest {
                    c: c.record(),
                    icmp: info(),
                    id: echo_id,
                    seq: echo_seq,
                    payload: ZString::copy_from(body)
                }
            ),
            0 => raise!(
                ev,
                ts,
                IcmpEchoReply {
                    c: c.record(),
                    icmp: info(),
                    id: echo_id,
                    seq: echo_seq,
                    payload: ZString::copy_from(body)
                }
            ),
            3 => raise!(
                ev,
                ts,
                IcmpUnreachable {
                    c: c.record(),
                    icmp: info(),
                    code: u64::from(icode),
                    context: context4(body)
                }
            ),
            11 => raise!(
                ev,
                ts,
                IcmpTimeExceeded {
                    c: c.record(),
                    icmp: info(),
                    code: u64::from(icode),
                    context: context4(body)
                }
            ),
            _ => sent(ev),
        }
        return true;
    }
    // Zeek reports malformed options only while building an event's list.
    let nd_weird = std::cell::Cell::new(None);
    let nd = |off: usize| {
        let (options, weird) = nd_options(body.get(off..).unwrap_or(&[]));
        nd_weird.set(weird);
        options
    };
    let addr_at = |off: usize| ipv6_at(body, off);
    match itype {
        128 => raise!(
            ev,
            ts,
            IcmpEchoRequest {
                c: c.record(),
                icmp: info(),
                id: echo_id,
                seq: echo_seq,
                payload: ZString::copy_from(body)
            }
        ),
        129 => raise!(
            ev,
            ts,
            IcmpEchoReply {
                c: c.record(),
                icmp: info(),
                id: echo_id,
                seq: echo_seq,
                payload: ZString::copy_from(body)
            }
        ),
        1 => raise!(
            ev,
            ts,
            IcmpUnreachable {
                c: c.record(),
                icmp: info(),
                code: u64::from(icode),
                context: context6(body)
            }
        ),
        2 => raise!(
            ev,
            ts,
            IcmpPacketTooBig {
                c: c.record(),
                icmp: info(),
                code: u64::from(icode),
                context: context6(body)
            }
        ),
        3 => raise!(
            ev,
            ts,
            IcmpTimeExceeded {
                c: c.record(),
                icmp: info(),
                code: u64::from(icode),
                context: context6(body)
            }
        ),
        4 => raise!(
            ev,
            ts,
            IcmpParameterProblem {
                c: c.record(),
                icmp: info(),
                code: u64::from(icode),
                context: context6(body)
            }
        ),
        133 => raise!(
            ev,
            ts,
            IcmpRouterSolicitation {
                c: c.record(),
                icmp: info(),
                options: nd(0)
            }
        ),
        134 => {
            let flags = b[5];
            let word = |o: usize| {
                body.get(o..o + 4)
                    .map_or(0, |s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
            };
            raise!(
                ev,
                ts,
                IcmpRouterAdvertisement {
                    c: c.record(),
                    icmp: info(),
                    cur_hop_limit: u64::from(b[4]),
                    managed: flags & 0x80 != 0,
                    other: flags & 0x40 != 0,
                    home_agent: flags & 0x20 != 0,
                    pref: u64::from((flags & 0x18) >> 3),
                    proxy: flags & 0x04 != 0,
                    rsv: u64::from(flags & 0x03),
                    router_lifetime: Interval::from_secs(i64::from(u16::from_be_bytes([
                        b[6], b[7]
                    ]))),
                    reachable_time: Interval::from_millis(i64::from(word(0))),
                    retrans_timer: Interval::from_millis(i64::from(word(4))),
                    options: nd(8),
                }
            );
        }
        135 => raise!(
            ev,
            ts,
            IcmpNeighborSolicitation {
                c: c.record(),
                icmp: info(),
                tgt: addr_at(0),
                options: nd(16)
            }
        ),
        136 => {
            let flags = b[4];
            raise!(
                ev,
                ts,
                IcmpNeighborAdvertisement {
                    c: c.record(),
                    icmp: info(),
                    router: flags & 0x80 != 0,
                    solicited: flags & 0x40 != 0,
                    override_: flags & 0x20 != 0,
                    tgt: addr_at(0),
                    options: nd(16),
                }
            );
        }
        137 => raise!(
            ev,
            ts,
            IcmpRedirect {
                c: c.record(),
                icmp: info(),
                tgt: addr_at(0),
                dest: addr_at(16),
                options: nd(32)
            }
        ),
        t if t < 128 => raise!(
            ev,
            ts,
            IcmpErrorMessage {
                c: c.record(),
                icmp: info(),
                code: u64::from(icode),
                context: context6(body)
            }
        ),
        _ => sent(ev),
    }
    if let Some(name) = nd_weird.get() {
        conn_weird(&mut conn.core, cx, name, String::new(), "ICMP");
    }
    true
}

/// The IPv6 address at `at` in `bytes`, `::` where there is none.
fn ipv6_at(bytes: &[u8], at: usize) -> IpAddr {
    bytes
        .get(at..at + 16)
        .and_then(|s| <[u8; 16]>::try_from(s).ok())
        .map_or(IpAddr::from([0u8; 16]), IpAddr::from)
}

/// ICMPv6 types Zeek's ICMP analyzer decodes as MLD (RFC 2710, RFC 3810).
const MLD_LISTENER_REPORT: u8 = 131;
const MLD_LISTENER_DONE: u8 = 132;
const MLDV2_LISTENER_REPORT: u8 = 143;

/// An MLD message (`header`: its 8 ICMPv6 header bytes; `body`: what
/// follows, as captured). Zeek checks the lengths whether or not anyone
/// handles the events: a v1 message without its multicast address, a v2
/// report shorter than 20 bytes per record it announces, or a record cut
/// short (the records before it are still reported).
fn mld(cx: &mut Cx<'_>, conn: &mut Conn, itype: u8, header: &[u8], body: &[u8]) {
    let addr_at = |at: usize| ipv6_at(body, at);
    let ts = cx.ts;
    if itype != MLDV2_LISTENER_REPORT {
        if body.len() < 16 {
            conn_weird(
                &mut conn.core,
                cx,
                "truncated_ICMPv6_MLDv1",
                String::new(),
                "ICMP",
            );
            return;
        }
        let c = &conn.core;
        if itype == MLD_LISTENER_REPORT {
            raise!(
                cx.events,
                ts,
                Icmpv6MldReportV1 {
                    c: c.record(),
                    group_addr: addr_at(0)
                }
            );
        } else {
            raise!(
                cx.events,
                ts,
                Icmpv6MldDoneV1 {
                    c: c.record(),
                    group_addr: addr_at(0)
                }
            );
        }
        return;
    }
    let records = usize::from(u16::from_be_bytes([header[6], header[7]]));
    if body.len() < records * 20 {
        conn_weird(
            &mut conn.core,
            cx,
            "truncated_ICMPv6_MLDv2",
            String::new(),
            "ICMP",
        );
        return;
    }
    let mut groups = Vec::new();
    let mut rest = body;
    let mut truncated = false;
    for _ in 0..records {
        if rest.is_empty() {
            break;
        }
        let Some(fixed) = rest.get(..4) else {
            truncated = true;
            break;
        };
        let aux_len = usize::from(fixed[1]) * 4;
        let sources = usize::from(u16::from_be_bytes([fixed[2], fixed[3]]));
        let need = 4 + 16 + sources * 16 + aux_len;
        let Some(record) = rest.get(..need) else {
            truncated = true;
            break;
        };
        let addr = |at: usize| ipv6_at(record, at);
        groups.push(Icmp6Mldv2Mar {
            group_type: mldv2_group_type(fixed[0]),
            aux_data_len: aux_len as u64,
            num_sources: sources as u64,
            multicast_addr: addr(4),
            sources: (0..sources).map(|i| addr(20 + i * 16)).collect(),
            aux_data: (aux_len > 0).then(|| ZString::copy_from(&record[need - aux_len..])),
        });
        rest = &rest[need..];
    }
    if truncated {
        conn_weird(
            &mut conn.core,
            cx,
            "truncated_ICMPv6_MLDv2_record",
            String::new(),
            "ICMP",
        );
    }
    let c = &conn.core;
    raise!(
        cx.events,
        ts,
        Icmpv6MldReportV2 {
            c: c.record(),
            groups
        }
    );
}

/// Zeek's `icmp6_mldv2_group_type` names.
fn mldv2_group_type(t: u8) -> String {
    match t {
        1 => "MLDV2_MODE_IS_INCLUDE".into(),
        2 => "MLDV2_MODE_IS_EXCLUDE".into(),
        3 => "MLDV2_CHANGE_TO_INCLUDE_MODE".into(),
        4 => "MLDV2_CHANGE_TO_EXCLUDE_MODE".into(),
        5 => "MLDV2_ALLOW_NEW_SOURCES".into(),
        6 => "MLDV2_BLOCK_OLD_SOURCES".into(),
        other => format!("<unknown {other}>"),
    }
}

pub(super) fn transport_of(proto: u8) -> (Proto, u64) {
    match proto {
        6 => (Proto::Tcp, 1),
        17 => (Proto::Udp, 2),
        1 | 58 => (Proto::Icmp, 3),
        _ => (Proto::Unknown, 0),
    }
}

pub(super) fn context_ports(v6: bool, proto: u8, l4: &[u8]) -> (u16, u16) {
    match proto {
        // Both transports start with the two ports, all a quote needs.
        6 | 17 if l4.len() >= 4 => (
            u16::from_be_bytes([l4[0], l4[1]]),
            u16::from_be_bytes([l4[2], l4[3]]),
        ),
        1 | 58 if l4.len() >= 2 => {
            let (c, _) = icmp_counterpart(v6, l4[0], l4[1]);
            (u16::from(l4[0]), c)
        }
        _ => (0, 0),
    }
}

pub(super) fn empty_context() -> IcmpContext {
    let unspecified = IpAddr::from([0u8, 0, 0, 0]);
    IcmpContext {
        id: ConnId {
            orig_h: unspecified,
            orig_p: Port::new(0, Proto::Unknown),
            resp_h: unspecified,
            resp_p: Port::new(0, Proto::Unknown),
        },
        len: 0,
        proto: 0,
        frag_offset: 0,
        bad_hdr_len: true,
        bad_checksum: false,
        mf: false,
        df: false,
    }
}

/// The IPv4 packet an ICMP error quotes.
pub(super) fn context4(data: &[u8]) -> IcmpContext {
    let Some(ip) = Ipv4Packet::new_checked(data) else {
        return empty_context();
    };
    let hl = ip.header_len();
    let bad_hdr_len = hl > data.len();
    let bad_checksum = !bad_hdr_len && !checksum::header_checksum_ok(&data[..hl]);
    let total = u64::from(ip.total_len());
    let proto_num = ip.protocol();
    let src = IpAddr::V4(ip.src_addr());
    let dst = IpAddr::V4(ip.dst_addr());
    let (mut proto, mut pnum) = (Proto::Unknown, 0);
    let (mut sp, mut dp) = (0, 0);
    let mut bad = bad_hdr_len;
    if !bad_hdr_len && data.len() >= hl + 4 {
        (proto, pnum) = transport_of(proto_num);
        (sp, dp) = context_ports(false, proto_num, &data[hl..]);
    } else {
        bad = true;
    }
    IcmpContext {
        id: ConnId {
            orig_h: src,
            orig_p: Port::new(sp, proto),
            resp_h: dst,
            resp_p: Port::new(dp, proto),
        },
        len: total,
        proto: pnum,
        frag_offset: ip.frag_offset() as u64,
        bad_hdr_len: bad,
        bad_checksum,
        mf: ip.more_fragments(),
        df: ip.dont_fragment(),
    }
}

/// The IPv6 packet an ICMPv6 error quotes.
pub(super) fn context6(data: &[u8]) -> IcmpContext {
    let Some(ip) = Ipv6Packet::new_checked(data) else {
        return empty_context();
    };
    let src = IpAddr::V6(ip.src_addr());
    let dst = IpAddr::V6(ip.dst_addr());
    let total = ip.total_len() as u64;
    // The extension headers to the transport header, walked as for any
    // packet (Zeek builds the quoted packet's header chain the same way).
    let mut walk = ExtHeaders::new(data, ipv6::HEADER_LEN, ip.next_header());
    let (mut frag_offset, mut mf) = (0u64, false);
    for header in walk.by_ref() {
        if let Some((offset, more, _)) = header.fragment() {
            (frag_offset, mf) = (offset as u64, more);
        }
    }
    let (next, off) = (walk.next_header(), walk.offset());
    let (mut proto, mut pnum, mut sp, mut dp, mut bad) = (Proto::Unknown, 0, 0, 0, false);
    if !walk.stopped_short() && data.len() >= off + 4 {
        (proto, pnum) = transport_of(next);
        (sp, dp) = context_ports(true, next, &data[off..]);
    } else {
        bad = true;
    }
    IcmpContext {
        id: ConnId {
            orig_h: src,
            orig_p: Port::new(sp, proto),
            resp_h: dst,
            resp_p: Port::new(dp, proto),
        },
        len: total,
        proto: pnum,
        frag_offset,
        bad_hdr_len: bad,
        bad_checksum: false,
        mf,
        df: false,
    }
}

/// Neighbor-discovery options (RFC 4861 §4.6), read as Zeek's ICMP
/// analyzer reads them: an option cut short by the capture is kept, its
/// known fields unset and what there is of it as `payload`; a trailing
/// byte, or an option of length 0, ends the list with a weird.
pub(super) fn nd_options(mut data: &[u8]) -> (Vec<Icmp6NdOption>, Option<&'static str>) {
    let mut out = Vec::new();
    while !data.is_empty() {
        let [otype, units, rest @ ..] = data else {
            return (out, Some("truncated_ICMPv6_ND_options"));
        };
        if *units == 0 {
            return (out, Some("zero_length_ICMPv6_ND_option"));
        }
        // The option's bytes after type and length, and what was captured.
        let len = usize::from(*units) * 8 - 2;
        let whole = rest.get(..len);
        let mut opt = Icmp6NdOption {
            otype: u64::from(*otype),
            len: u64::from(*units),
            link_address: None,
            prefix: None,
            redirect: None,
            mtu: None,
            payload: None,
        };
        match (*otype, whole) {
            (1 | 2, Some(body)) => opt.link_address = Some(ZString::copy_from(body)),
            (3, _) if rest.len() >= 30 => {
                let word =
                    |o: usize| u32::from_be_bytes([rest[o], rest[o + 1], rest[o + 2], rest[o + 3]]);
                let prefix = IpAddr::from(<[u8; 16]>::try_from(&rest[14..30]).unwrap_or([0; 16]));
                opt.prefix = Some(serde_json::json!({
                    "prefix_len": rest[0],
                    "L_flag": rest[1] & 0x80 != 0,
                    "A_flag": rest[1] & 0x40 != 0,
                    "valid_lifetime": word(2),
                    "preferred_lifetime": word(6),
                    "prefix": prefix.to_string(),
                }));
            }
            (4, Some(body)) => {
                opt.redirect = Some(serde_json::Value::String(
                    ZString::copy_from(body.get(6..).unwrap_or(&[])).to_string(),
                ))
            }
            (5, _) if rest.len() >= 6 => {
                opt.mtu = Some(u64::from(u32::from_be_bytes([
                    rest[2], rest[3], rest[4], rest[5],
                ])))
            }
            _ => opt.payload = Some(ZString::copy_from(&rest[..len.min(rest.len())])),
        }
        out.push(opt);
        data = rest.get(len..).unwrap_or(&[]);
    }
    (out, None)
}
