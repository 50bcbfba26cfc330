//! From an IP packet to its connection, per transport: header checks, the
//! key, lookup or creation (with Zeek's role flips and TCP's reuse check),
//! then the transport's session (`tcp_session.rs`, `udp_session.rs`,
//! `icmp_session.rs`).

use super::*;
use super::table::Flip;
use crate::wire::icmp::IcmpPacket;
use crate::wire::udp::UdpPacket;

impl Engine {
    /// Checks that the transport header fits (Zeek's CheckHeaderTrunc).
    pub(super) fn header_fits(&mut self, ts: Time, ip: &IpPacket<'_>, min: usize) -> bool {
        let claimed = ip.l4_len_claimed() as usize;
        if claimed != 0 && claimed < min {
            self.flow_weird(ts, "truncated_header", ip, "IP");
            false
        } else if ip.l4.len() < min {
            self.flow_weird(ts, "internally_truncated_header", ip, "IP");
            false
        } else {
            true
        }
    }

    /// Returns whether the segment reached TCP's analysis (its header is whole).
    pub(super) fn tcp_packet(&mut self, ts: Time, ip: &IpPacket<'_>) -> bool {
        if !self.header_fits(ts, ip, 20) {
            return false;
        }
        let Some(hdr) = TcpHeader::parse(&ip.l4) else {
            return false;
        };
        let src = (ip.src, hdr.sport);
        let dst = (ip.dst, hdr.dport);
        let key = self.key_for(src, dst, 6, false, ip);
        let mut slot = self.table.get(&key).copied();
        if let Some(s) = slot {
            if self.tcp_is_reuse(ts, s, &hdr) {
                let (_cx, conn) = self.cx(ts, s);
                let rec = conn.core.record();
                raise!(&mut self.events, ts, ConnectionReused { c: rec });
                self.remove(s, false);
                slot = None;
            }
        }
        let slot = match slot {
            Some(s) => s,
            None => {
                let flags = hdr.flags;
                let mut flip = false;
                if !flags.syn() || flags.ack() {
                    let likely = |p: u16| self.config.likely_server_tcp.contains(&p);
                    if likely(hdr.sport) {
                        flip = if likely(hdr.dport) {
                            !flags.syn() && hdr.sport < hdr.dport
                        } else {
                            true
                        };
                    }
                }
                // A first packet that is a SYN-ACK the port heuristic left with its
                // sender: Zeek 8.2.2 reports it as the originator's SYN-ACK, then flips
                // the roles before any analyzer is attached (history `^h`).
                let syn_ack_first = !flip && flags.syn() && flags.ack();
                let id = ConnId {
                    orig_h: ip.src,
                    orig_p: Port::new(hdr.sport, Proto::Tcp),
                    resp_h: ip.dst,
                    resp_p: Port::new(hdr.dport, Proto::Tcp),
                };
                let inactivity = self.config.timeouts.udp_inactivity_timeout;
                self.new_conn(
                    ts,
                    key,
                    id,
                    ip,
                    Transport::Tcp(Box::default()),
                    inactivity,
                    if syn_ack_first { Flip::AfterOriginatorSynAck } else { Flip::from(flip) },
                )
            }
        };
        let changes_exceeded = self.check_encapsulation(ts, slot);
        // A bare SYN or SYN-ACK reaches no analyzer; anything else may
        // (payload, a gap an ACK reveals, FIN, RST).
        let handshake_only = hdr.flags.syn() && ip.l4.len() <= hdr.hdr_len;
        if !handshake_only && !self.unsettled.is_empty() {
            self.settle_before_analysis(slot);
        }
        let (mut cx, conn) = self.cx(ts, slot);
        let is_orig = ip.src == conn.core.id.orig_h && hdr.sport == conn.core.id.orig_p.number;
        check_flow_label(&mut conn.core, &mut cx, is_orig, ip.flow_label);
        tcp_deliver(&mut cx, conn, is_orig, &hdr, ip);
        if changes_exceeded {
            self.tunnel_changes_exceeded(ts, slot);
        }
        true
    }

    /// Zeek's TCPSessionAdapter::IsReuse: a new SYN on a finished connection.
    pub(super) fn tcp_is_reuse(&mut self, ts: Time, slot: u32, hdr: &TcpHeader) -> bool {
        if hdr.hdr_len < 20 || !hdr.flags.syn() {
            return false;
        }
        let linger = self.config.timeouts.tcp_connection_linger;
        let (mut cx, conn) = self.cx(ts, slot);
        let core = &mut conn.core;
        let Transport::Tcp(t) = &core.transport else {
            return false;
        };
        let mut conn_orig = t.orig();
        if hdr.flags.ack() {
            if t.orig().state != S::Inactive {
                return false;
            }
            conn_orig = t.resp();
        }
        let weird: Option<&'static str>;
        let is_closed = t.orig().did_close || t.resp().did_close;
        if !is_closed {
            if hdr.seq == conn_orig.start_seq {
                return false;
            }
            if !hdr.flags.ack()
                && conn_orig.state == S::SynAckSent
                && t.resp().state == S::Inactive
                && hdr.seq == t.resp().start_seq
            {
                return false;
            }
            weird = Some(if conn_orig.state == S::SynSent {
                "SYN_seq_jump"
            } else {
                "active_connection_reuse"
            });
        } else if (t.orig().is_active() || t.resp().is_active())
            && t.orig().state != S::Reset
            && t.resp().state != S::Reset
        {
            weird = Some("active_connection_reuse");
        } else if ts.since(core.last_time) < linger
            && t.orig().state != S::Reset
            && t.resp().state != S::Reset
        {
            weird = Some("premature_connection_reuse");
        } else {
            weird = None;
        }
        if let Some(w) = weird {
            conn_weird(core, &mut cx, w, String::new(), "TCP");
        }
        true
    }

    pub(super) fn udp_packet(&mut self, ts: Time, ip: &IpPacket<'_>) {
        if !self.header_fits(ts, ip, 8) {
            return;
        }
        // header_fits checked the length.
        let udp = UdpPacket::new_unchecked(&ip.l4[..]);
        let (sport, dport) = (udp.src_port(), udp.dst_port());
        let key = self.key_for((ip.src, sport), (ip.dst, dport), 17, false, ip);
        let slot = match self.table.get(&key).copied() {
            Some(s) => s,
            None => {
                let likely = |p: u16| self.config.likely_server_udp.contains(&p);
                let flip = likely(sport) && !likely(dport);
                let id = ConnId {
                    orig_h: ip.src,
                    orig_p: Port::new(sport, Proto::Udp),
                    resp_h: ip.dst,
                    resp_p: Port::new(dport, Proto::Udp),
                };
                let inactivity = self.config.timeouts.udp_inactivity_timeout;
                self.new_conn(
                    ts,
                    key,
                    id,
                    ip,
                    Transport::Udp(FlowState::new()),
                    inactivity,
                    Flip::from(flip),
                )
            }
        };
        let changes_exceeded = self.check_encapsulation(ts, slot);
        let (mut cx, conn) = self.cx(ts, slot);
        let is_orig = ip.src == conn.core.id.orig_h && sport == conn.core.id.orig_p.number;
        check_flow_label(&mut conn.core, &mut cx, is_orig, ip.flow_label);
        let delivered = udp_deliver(&mut cx, conn, is_orig, ip);
        let resp_port = conn.core.id.resp_p.number;
        if changes_exceeded {
            self.tunnel_changes_exceeded(ts, slot);
        }
        // UDP hands its payload on to the tunnel analyzers.
        if delivered
            && self.analyzer_depth_allows(ts, ip, 1, "UDP", true)
            && self.config.decapsulate
        {
            let end = (ip.l4_len_claimed() as usize).clamp(8, ip.l4.len());
            self.udp_tunnel(ts, ip, slot, is_orig, resp_port, &ip.l4[8..end]);
        }
    }

    /// Returns whether the message passed ICMP's checks (header, checksum).
    pub(super) fn icmp_packet(&mut self, ts: Time, ip: &IpPacket<'_>) -> bool {
        if !self.header_fits(ts, ip, 8) {
            return false;
        }
        let v6 = ip.proto == 58;
        let icmp = IcmpPacket::new_unchecked(&ip.l4[..]);
        let (itype, icode) = (icmp.msg_type(), icmp.code());
        let (counter, one_way) = icmp_counterpart(v6, itype, icode);
        let key = self.key_for(
            (ip.src, u16::from(itype)),
            (ip.dst, counter),
            ip.proto,
            one_way,
            ip,
        );
        let slot = match self.table.get(&key).copied() {
            Some(s) => s,
            None => {
                let id = ConnId {
                    orig_h: ip.src,
                    orig_p: Port::new(u16::from(itype), Proto::Icmp),
                    resp_h: ip.dst,
                    resp_p: Port::new(counter, Proto::Icmp),
                };
                let inactivity = self.config.timeouts.icmp_inactivity_timeout;
                self.new_conn(
                    ts,
                    key,
                    id,
                    ip,
                    Transport::Icmp(FlowState::new()),
                    inactivity,
                    Flip::No,
                )
            }
        };
        let changes_exceeded = self.check_encapsulation(ts, slot);
        let (mut cx, conn) = self.cx(ts, slot);
        let is_orig =
            ip.src == conn.core.id.orig_h && u16::from(itype) == conn.core.id.orig_p.number;
        check_flow_label(&mut conn.core, &mut cx, is_orig, ip.flow_label);
        let delivered = icmp_deliver(&mut cx, conn, is_orig, ip);
        if changes_exceeded {
            self.tunnel_changes_exceeded(ts, slot);
        }
        delivered
    }

    /// Zeek keeps "connections" for IP protocols it has no analyzer for:
    /// ports 0, `unknown_transport`, only sizes and times.
    pub(super) fn unknown_ip_packet(&mut self, ts: Time, ip: &IpPacket<'_>) {
        let key = self.key_for((ip.src, 0), (ip.dst, 0), ip.proto, false, ip);
        let slot = match self.table.get(&key).copied() {
            Some(s) => s,
            None => {
                let id = ConnId {
                    orig_h: ip.src,
                    orig_p: Port::new(0, Proto::Unknown),
                    resp_h: ip.dst,
                    resp_p: Port::new(0, Proto::Unknown),
                };
                let inactivity = self.config.timeouts.unknown_ip_inactivity_timeout;
                self.new_conn(ts, key, id, ip, Transport::Other, inactivity, Flip::No)
            }
        };
        let changes_exceeded = self.check_encapsulation(ts, slot);
        let (mut cx, conn) = self.cx(ts, slot);
        let is_orig = ip.src == conn.core.id.orig_h;
        check_flow_label(&mut conn.core, &mut cx, is_orig, ip.flow_label);
        conn.core.last_time = ts;
        conn_size(&mut conn.core, &mut cx, is_orig, ip.counted_len);
        if changes_exceeded {
            self.tunnel_changes_exceeded(ts, slot);
        }
    }
}
