//! Tunnels: IP-in-IP and GRE (no connection of their own), the UDP tunnels
//! on their ports, Zeek's `Tunnel::max_depth`, and the one path an inner
//! packet takes back into the engine: the decoder, from the link layer the
//! tunnel names (GRE's header is `wire::gre`).

use super::*;
use crate::analyzer::{AnalyzerCx, Decapsulated, Verdict};
use crate::conn::events::TunnelChanged;
use crate::record::EncapsulatingConn;
use crate::udp_tunnels::Confirm;
use crate::udp_tunnels::{Decapsulator, GrammarTunnel, InnerPacket};
use crate::wire::gre::GrePacket;
use crate::wire::ipv4::Ipv4Packet;
use crate::wire::ipv6::Ipv6Packet;

impl Engine {
    /// A tunnel analyzer (VXLAN, Geneve, GTPv1, Teredo, AYIYA) decapsulated
    /// a packet of this UDP connection: it confirms its protocol once, as
    /// Zeek's do, Teredo once each direction sent one. Its analyzer id is
    /// taken now, as it has no other life on the connection.
    pub(super) fn confirm_tunnel(
        &mut self,
        ts: Time,
        slot: u32,
        is_orig: bool,
        tag: &'static str,
        when: Confirm,
    ) {
        let Some(conn) = self
            .slots
            .get_mut(slot as usize)
            .and_then(|s| s.conn.as_mut())
        else {
            return;
        };
        match when {
            Confirm::Never => return,
            Confirm::Now => {}
            Confirm::BothSides => {
                let tunnels = conn.core.tunnels_mut();
                tunnels.sides |= if is_orig { 1 } else { 2 };
                if tunnels.sides != 3 {
                    return;
                }
            }
        }
        if conn.core.service.contains(&crate::zeek::service_name(tag)) {
            return;
        }
        let aid = self.next_aid;
        self.next_aid += 1;
        report_confirmation(&mut conn.core, &mut self.events, ts, tag, aid);
    }

    /// Zeek's check at the top of every tunnel analyzer (IPTunnel, VXLAN,
    /// Geneve, ...): a packet already inside `Tunnel::max_depth`
    /// encapsulations is not decapsulated further. The weird is about the
    /// tunnel's own packet, named as Zeek's session manager names weirds of
    /// encapsulated packets (`_in_tunnel`), sourced by the tunnel analyzer.
    pub(super) fn tunnel_too_deep(
        &mut self,
        ts: Time,
        outer: &IpPacket<'_>,
        source: &'static str,
    ) -> bool {
        let depth = self.tunnel_stack.len();
        if depth < usize::from(self.config.tunnel_max_depth) {
            return false;
        }
        let name = if depth == 0 {
            "exceeded_tunnel_max_depth"
        } else {
            "exceeded_tunnel_max_depth_in_tunnel"
        };
        self.flow_weird(ts, name, outer, source);
        true
    }

    /// Zeek's `PacketAnalyzer::max_depth` past IP: whether the analyzer
    /// `hops` places after `ip`'s IP analyzer may hand the packet on. At
    /// the limit it reports the weird instead: about `ip`'s addresses when
    /// `about_ip` (a transport, GRE), else about no flow and named as
    /// inside the tunnel, as the tunnel analyzers (IPTunnel, Teredo,
    /// VXLAN, ...) have already wrapped the packet when they hand it on.
    pub(super) fn analyzer_depth_allows(
        &mut self,
        ts: Time,
        ip: &IpPacket<'_>,
        hops: u8,
        source: &'static str,
        about_ip: bool,
    ) -> bool {
        let max = self.decoder.config().max_analyzer_depth;
        if max == 0 || ip.analyzer_depth.saturating_add(hops) < max {
            return true;
        }
        let in_tunnel = !about_ip || !self.tunnel_stack.is_empty();
        self.weirds.push(Weird {
            ts,
            name: crate::decode::analyzer_depth_weird(in_tunnel),
            addl: String::new(),
            scope: if about_ip {
                WeirdScope::Flow {
                    src: ip.src,
                    dst: ip.dst,
                }
            } else {
                WeirdScope::Net
            },
            source,
            in_tunnel: false,
        });
        false
    }

    /// Processes a packet found inside the tunnel `parent` (the tunnel
    /// analyzer checked the depth): decoded from its link layer like a
    /// captured frame, every packet of it (an 802.11 A-MSDU holds several).
    /// `depth` packet analyzers came before its own (Zeek counts a
    /// packet's analyzers through its tunnels).
    pub(super) fn inner_packet(
        &mut self,
        ts: Time,
        link: LinkType,
        data: &[u8],
        parent: EncapsulatingConn,
        depth: u8,
    ) {
        let raw = RawPacket {
            ts,
            wire_len: data.len() as u32,
            link,
            data,
        };
        let teredo = parent.tunnel_type == "Tunnel::TEREDO";
        self.tunnel_stack.push(parent);
        let outer_teredo = std::mem::replace(&mut self.decoder.inside_teredo, teredo);
        let outer_depth = self.decoder.set_start_depth(depth);
        self.process_frame(&raw, true);
        self.decoder.set_start_depth(outer_depth);
        self.decoder.inside_teredo = outer_teredo;
        self.tunnel_stack.pop();
    }

    /// Zeek's IPTunnel analyzer, for IP-in-IP and GRE: the depth check; for
    /// IP-in-IP and PPTP (`strict_ip_proto`, 4 or 41) the check that the
    /// payload is exactly one IP packet of that version; then the tunnel,
    /// kept per address pair.
    pub(super) fn ip_tunnel(
        &mut self,
        ts: Time,
        ip: &IpPacket<'_>,
        link: LinkType,
        offset: usize,
        strict_ip_proto: Option<u8>,
        tunnel_type: &'static str,
    ) {
        if self.tunnel_too_deep(ts, ip, "IPTUNNEL") {
            return;
        }
        let end = (ip.l4_len_claimed() as usize)
            .min(ip.l4.len())
            .max(offset.min(ip.l4.len()));
        let Some(inner) = ip.l4.get(offset..end) else {
            return;
        };
        if let Some(name) = strict_ip_proto.and_then(|proto| inner_ip_problem(inner, proto)) {
            self.flow_weird(ts, name, ip, "IPTUNNEL");
            return;
        }
        // IP-in-IP passes IP to Zeek's IPTunnel analyzer, which hands the
        // inner packet on; GRE's IPTunnel starts it over at the root.
        let (hops, source) = if tunnel_type == TUNNEL_GRE {
            (2, "ROOT")
        } else {
            (1, "IPTUNNEL")
        };
        if !self.analyzer_depth_allows(ts, ip, hops, source, false) {
            return;
        }
        let tunnel = self.ip_tunnel_of(ts, ip, tunnel_type);
        self.inner_packet(ts, link, inner, tunnel, ip.analyzer_depth + hops);
    }

    /// The tunnel of an IP packet's address pair. Zeek keeps one per pair,
    /// whichever way and whatever protocol (IP-in-IP or GRE) its packets
    /// take, named by its first packet, and forgets it after
    /// `Tunnel::ip_tunnel_timeout` without a packet (a later one is a new
    /// tunnel, with a new uid).
    fn ip_tunnel_of(
        &mut self,
        ts: Time,
        ip: &IpPacket<'_>,
        tunnel_type: &'static str,
    ) -> EncapsulatingConn {
        let key = (ip.src.min(ip.dst), ip.src.max(ip.dst));
        if let Some((tunnel, last_active)) = self.ip_tunnels.get_mut(&key) {
            if ts.since(*last_active) < IP_TUNNEL_TIMEOUT {
                *last_active = ts;
                return tunnel.clone();
            }
        }
        if self.ip_tunnels.len() >= MAX_IP_TUNNEL_KEYS {
            self.ip_tunnels.clear();
        }
        let mut h = rustc_hash::FxHasher::default();
        (ip.src, ip.dst, ip.proto).hash(&mut h);
        let no_port = Port::new(0, Proto::Unknown);
        let order = self.next_creation_order();
        let tunnel = EncapsulatingConn {
            cid: ConnId {
                orig_h: ip.src,
                orig_p: no_port,
                resp_h: ip.dst,
                resp_p: no_port,
            },
            tunnel_type,
            uid: Some(self.uids.next('C', ts, h.finish(), order).into()),
        };
        self.ip_tunnels.insert(key, (tunnel.clone(), ts));
        tunnel
    }

    /// Zeek's `Connection::CheckEncapsulation`, for a packet of the
    /// connection in `slot`: when it came through other tunnels than the
    /// connection's last packet (or none, or some after none), the
    /// connection takes the new chain, its innermost uid joins
    /// `tunnel_parents`, and `tunnel_changed` is raised. Past
    /// `Tunnel::max_changes_per_connection` changes, Zeek 8.2 reports each
    /// change as a weird after the packet instead (its scripts never see
    /// the new chain): the return value says so (see
    /// [`Engine::tunnel_changes_exceeded`]).
    pub(super) fn check_encapsulation(&mut self, ts: Time, slot: u32) -> bool {
        let Some(conn) = self.slots[slot as usize].conn.as_mut() else {
            return false;
        };
        let core = &mut conn.core;
        let stack = &self.tunnel_stack;
        let same = match core.tunnel_chain() {
            None => stack.is_empty(),
            Some(t) => t.len() == stack.len() && t.iter().zip(stack).all(|(a, b)| a.same_tunnel(b)),
        };
        if same {
            return false;
        }
        let new_chain = (!stack.is_empty()).then(|| stack.as_slice().into());
        if core.tunnels_mut().changes >= TUNNEL_MAX_CHANGES_PER_CONNECTION {
            core.tunnels_mut().chain = new_chain;
            return true;
        }
        // The event's record still has the old chain: Zeek's conn script
        // takes the new one in its handler.
        let wanted = self
            .events
            .wants(<TunnelChanged as crate::event::TypedEvent>::ID);
        let record = wanted.then(|| core.record());
        let tunnels = core.tunnels_mut();
        tunnels.changes += 1;
        tunnels.chain = new_chain;
        // What Zeek's conn script adds in its `tunnel_changed` handler.
        if let Some(uid) = stack.last().and_then(|t| t.uid.as_ref()) {
            if !tunnels.parents.contains(uid) {
                tunnels.parents.push(uid.clone());
            }
        }
        if let Some(c) = record {
            raise!(
                &mut self.events,
                ts,
                TunnelChanged {
                    c,
                    e: stack.clone()
                }
            );
        }
        false
    }

    /// A packet came through yet other tunnels after the connection's last
    /// allowed change: Zeek 8.2's weird (the limit as `addl`), and `X` in
    /// the history (a packet not analysed as it came).
    pub(super) fn tunnel_changes_exceeded(&mut self, ts: Time, slot: u32) {
        if self.slots[slot as usize].conn.is_none() {
            return; // removed by its own packet
        }
        let (mut cx, conn) = self.cx(ts, slot);
        conn_weird(
            &mut conn.core,
            &mut cx,
            "tunnel_max_changes_per_connection_exceeded",
            TUNNEL_MAX_CHANGES_PER_CONNECTION.to_string(),
            "",
        );
        conn.core.check_history(ConnCore::HIST_UNKNOWN_PKT, 'X');
    }

    /// GRE (RFC 2784/2890, and PPTP's enhanced GRE) carrying IP, Ethernet,
    /// ERSPAN or Aruba's 802.11: Zeek's GRE analyzer, then its IPTunnel.
    pub(super) fn gre_packet(&mut self, ts: Time, ip: &IpPacket<'_>) {
        match GrePacket::new_checked(&ip.l4[..]).and_then(|gre| gre.payload()) {
            Ok(_) if !self.analyzer_depth_allows(ts, ip, 1, "GRE", true) => {}
            Ok(inner) => self.ip_tunnel(
                ts,
                ip,
                inner.link,
                inner.offset,
                inner.pptp_ip_proto,
                TUNNEL_GRE,
            ),
            Err(weird) => self.weirds.push(Weird {
                ts,
                name: weird.name(),
                addl: weird.addl(),
                scope: WeirdScope::Flow {
                    src: ip.src,
                    dst: ip.dst,
                },
                source: "GRE",
                in_tunnel: !self.tunnel_stack.is_empty(),
            }),
        }
    }

    /// A payload of the UDP connection in `slot`: the tunnel registered for
    /// its responder port (or recognising it elsewhere) says where the inner
    /// packet starts, which then takes the one decapsulation path.
    pub(super) fn udp_tunnel(
        &mut self,
        ts: Time,
        outer: &IpPacket<'_>,
        slot: u32,
        is_orig: bool,
        resp_port: u16,
        payload: &[u8],
    ) {
        let Some(tunnel) = self.registry.tunnel_for(resp_port, payload).copied() else {
            return;
        };
        if self.tunnel_too_deep(ts, outer, tunnel.tag) {
            return;
        }
        // UDP (checked by the caller), then the tunnel's own analyzer.
        const HOPS: u8 = 2;
        if !self.analyzer_depth_allows(ts, outer, HOPS, tunnel.tag, false) {
            return;
        }
        let (inner, confirm) = match tunnel.decapsulate {
            Decapsulator::Header(read) => match read(payload) {
                Decapsulated::Not => return,
                Decapsulated::Weird {
                    name,
                    addl,
                    confirm,
                } => {
                    self.confirm_tunnel(ts, slot, is_orig, tunnel.tag, confirm);
                    self.weirds.push(Weird {
                        ts,
                        name,
                        addl: addl.to_string(),
                        scope: WeirdScope::Flow {
                            src: outer.src,
                            dst: outer.dst,
                        },
                        source: tunnel.tag,
                        in_tunnel: !self.tunnel_stack.is_empty(),
                    });
                    return;
                }
                Decapsulated::Inner {
                    link,
                    offset,
                    confirm,
                } => {
                    let len = payload.len().saturating_sub(offset);
                    (InnerPacket { link, offset, len }, confirm)
                }
            },
            Decapsulator::Grammar(g) => {
                match self.grammar_tunnel(ts, slot, is_orig, tunnel.tag, &g, payload) {
                    Some(inner) => (inner, Confirm::Never),
                    None => return,
                }
            }
        };
        let Some(inner_bytes) = payload.get(inner.offset..inner.offset + inner.len) else {
            return;
        };
        // As Zeek's tunnel analyzers, before the inner packet's own events.
        self.confirm_tunnel(ts, slot, is_orig, tunnel.tag, confirm);
        let parent = if tunnel.tag == "GRE" {
            // GRE in UDP is Zeek's GRE analyzer, then its IPTunnel:
            // the tunnel is the address pair's, not the UDP connection.
            self.ip_tunnel_of(ts, outer, TUNNEL_GRE)
        } else {
            let Some(outer_conn) = self.slots[slot as usize].conn.as_ref() else {
                return;
            };
            EncapsulatingConn {
                cid: outer_conn.core.id,
                tunnel_type: tunnel_type_of(tunnel.tag),
                uid: Some(outer_conn.core.uid.clone()),
            }
        };
        self.inner_packet(
            ts,
            inner.link,
            inner_bytes,
            parent,
            outer.analyzer_depth + HOPS,
        );
    }

    /// A payload of the UDP connection in `slot` read by a tunnel analyzer
    /// generated from a grammar: its events and weirds are about that
    /// connection, and its verdict confirms the tunnel (once, or once both
    /// directions sent a good payload) or reports a violation, after which a
    /// `&stop_on_violation` tunnel reads nothing more of the connection (Zeek's
    /// Teredo). Returns the inner packet, if the payload carries one.
    fn grammar_tunnel(
        &mut self,
        ts: Time,
        slot: u32,
        is_orig: bool,
        tag: &'static str,
        g: &GrammarTunnel,
        payload: &[u8],
    ) -> Option<InnerPacket> {
        let conn = self.slots.get_mut(slot as usize)?.conn.as_mut()?;
        let violated = conn.core.tunnels.as_ref().is_some_and(|t| t.violated);
        if g.stop_on_violation && violated {
            return None;
        }
        let nested = g.nested_violation.filter(|_| {
            self.tunnel_stack
                .last()
                .is_some_and(|t| t.tunnel_type == tunnel_type_of(tag))
        });
        let (inner, verdict) = match nested {
            Some(why) => (None, Verdict::Violation(why.to_string())),
            None => {
                let mut cx =
                    AnalyzerCx::new(ts, &conn.core, &mut self.events, &mut self.weirds, tag);
                // A service is its analyzer's tag in lower case (no lookup per packet).
                cx.confirmed = conn
                    .core
                    .service
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(tag));
                let inner = (g.run)(&mut cx, is_orig, payload);
                (inner, std::mem::take(&mut cx.verdict))
            }
        };
        match verdict {
            Verdict::Undecided => {}
            // Zeek's packet analyzers confirm nothing once they violated.
            Verdict::Confirmed if violated => {}
            Verdict::Confirmed => self.confirm_tunnel(ts, slot, is_orig, tag, g.confirm),
            Verdict::Violation(reason) => {
                // Zeek reports a connection's first violation only.
                let tunnels = conn.core.tunnels_mut();
                let first = !tunnels.violated;
                tunnels.violated = true;
                if first {
                    let aid = self.next_aid;
                    self.next_aid += 1;
                    session::report_violation(
                        &mut conn.core,
                        &mut self.events,
                        ts,
                        tag,
                        aid,
                        reason,
                    );
                }
                if g.stop_on_violation {
                    return None;
                }
            }
        }
        inner
    }
}

/// Zeek's `Tunnel::Type` of IP-in-IP and of GRE.
pub(super) const TUNNEL_IP: &str = "Tunnel::IP";
pub(super) const TUNNEL_GRE: &str = "Tunnel::GRE";

/// Zeek's `Tunnel::ip_tunnel_timeout`.
const IP_TUNNEL_TIMEOUT: Interval = Interval(24 * 3600 * 1_000_000_000);

/// Zeek's `Tunnel::max_changes_per_connection`.
const TUNNEL_MAX_CHANGES_PER_CONNECTION: u8 = 5;

/// Zeek's `Tunnel::Type` of a UDP tunnel, by its analyzer's tag.
fn tunnel_type_of(tag: &str) -> &'static str {
    match tag {
        "VXLAN" => "Tunnel::VXLAN",
        "GENEVE" => "Tunnel::GENEVE",
        "GTPV1" => "Tunnel::GTPv1",
        "AYIYA" => "Tunnel::AYIYA",
        "TEREDO" => "Tunnel::TEREDO",
        "GRE" => TUNNEL_GRE,
        _ => "Tunnel::NONE",
    }
}

/// Zeek's `IP::ParsePacket` check of a tunnel payload that must be one IP
/// packet of the protocol `proto` announces (4: IPv4, 41: IPv6): the weird
/// when it is not exactly that.
fn inner_ip_problem(data: &[u8], proto: u8) -> Option<&'static str> {
    let claimed = if proto == 41 {
        let Some(ip) = Ipv6Packet::new_checked(data) else {
            return Some("truncated_inner_IP");
        };
        if ip.version() != 6 {
            return Some("invalid_inner_IP_version");
        }
        ip.total_len()
    } else {
        match Ipv4Packet::new_checked(data) {
            Some(ip) if ip.version() == 4 => usize::from(ip.total_len()),
            _ => return Some("invalid_inner_IP_version"),
        }
    };
    match data.len().cmp(&claimed) {
        std::cmp::Ordering::Less => Some("truncated_inner_IP"),
        std::cmp::Ordering::Greater => Some("inner_IP_payload_length_mismatch"),
        std::cmp::Ordering::Equal => None,
    }
}
