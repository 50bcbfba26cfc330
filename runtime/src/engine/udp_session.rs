//! The UDP session: length and checksum checks, delivery to analyzers.

use super::*;
use crate::wire::udp::UdpPacket;

pub(super) fn udp_deliver(
    cx: &mut Cx<'_>,
    conn: &mut Conn,
    is_orig: bool,
    ip: &IpPacket<'_>,
) -> bool {
    let claimed = ip.l4_len_claimed() as usize;
    let remaining = ip.l4.len();
    let len = if claimed == 0 { remaining } else { claimed };
    let b = &ip.l4;
    // The transport checked that the header is there.
    let udp = UdpPacket::new_unchecked(&b[..]);
    let chksum = udp.checksum();
    if !cx.cfg.ignore_checksums && remaining >= len {
        let bad = if ip.is_ipv6() {
            !checksum::transport_checksum_ok(ip.src, ip.dst, 17, &b[..len])
        } else {
            chksum != 0 && !checksum::transport_checksum_ok(ip.src, ip.dst, 17, &b[..len])
        };
        if bad {
            conn_weird(&mut conn.core, cx, "bad_UDP_checksum", String::new(), "UDP");
            let Transport::Udp(f) = &mut conn.core.transport else {
                return false;
            };
            let i = if is_orig { 0 } else { 1 };
            let (mut cnt, mut thr) = f.chk[i];
            let before = thr;
            let hit = conn
                .core
                .scaled_history(if is_orig { 'C' } else { 'c' }, &mut cnt, &mut thr);
            if let Transport::Udp(f) = &mut conn.core.transport {
                f.chk[i] = (cnt, thr);
            }
            if hit && before > 1 {
                raise!(
                    cx.events,
                    cx.ts,
                    UdpMultipleChecksumErrors {
                        u: conn.core.record(),
                        is_orig,
                        threshold: u64::from(before)
                    }
                );
            }
            return false;
        }
    }
    let ulen = usize::from(udp.length());
    if ulen != len {
        conn_weird(
            &mut conn.core,
            cx,
            "UDP_datagram_length_mismatch",
            format!("{ulen} != {len}"),
            "UDP",
        );
    }
    conn.core.last_time = cx.ts;
    conn_size(&mut conn.core, cx, is_orig, ip.counted_len);
    let data = &b[8..len.min(remaining).max(8)];
    let deliver_contents = if is_orig {
        cx.cfg.udp_content_deliver_all_orig
    } else {
        cx.cfg.udp_content_deliver_all_resp
    };
    if deliver_contents {
        raise!(
            cx.events,
            cx.ts,
            UdpContents {
                u: conn.core.record(),
                is_orig,
                contents: ZString::copy_from(data)
            }
        );
    }
    let body_len = ulen.saturating_sub(8) as u64;
    if is_orig {
        conn.core.check_history(0x1, 'D');
    } else {
        conn.core.check_history(0x2, 'd');
    }
    if let Transport::Udp(f) = &mut conn.core.transport {
        f.add_len(is_orig, body_len);
    }
    if is_orig {
        raise!(
            cx.events,
            cx.ts,
            UdpRequest {
                u: conn.core.record()
            }
        );
    } else {
        raise!(
            cx.events,
            cx.ts,
            UdpReply {
                u: conn.core.record()
            }
        );
    }
    drive(conn, cx, is_orig, Feed::Data(data));
    true
}
