//! Tunnels: IP-in-IP and GRE (no connection of their own), the UDP tunnels
//! on their ports, Zeek's `Tunnel::max_depth`, and the one path an inner
//! packet takes back into the engine: the decoder, from the link layer the
//! tunnel names (GRE's header is `wire::gre`).

use super::*;
use crate::analyzer::Decapsulated;
use crate::wire::gre::GrePacket;
use crate::wire::ipv4::Ipv4Packet;
use crate::wire::ipv6::Ipv6Packet;

impl Engine {
    /// A tunnel analyzer (GTPv1, Teredo, AYIYA, Geneve) decapsulated a packet
    /// of this UDP connection: it confirms its protocol once, as Zeek's do.
    /// Its analyzer id is taken now, as it has no other life on the connection.
    pub(super) fn confirm_tunnel(&mut self, ts: Time, slot: u32, tag: &'static str) {
        let Some(conn) = self
            .slots
            .get_mut(slot as usize)
            .and_then(|s| s.conn.as_mut())
        else {
            return;
        };
        let service = crate::zeek::service_name(tag);
        if conn.core.service.contains(&service) {
            return;
        }
        conn.core.service.push(service);
        let aid = self.next_aid;
        self.next_aid += 1;
        raise!(
            &mut self.events,
            ts,
            ProtocolConfirmation {
                c: conn.core.record(),
                atype: format!("Analyzer::ANALYZER_{tag}"),
                aid
            }
        );
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

    /// Processes a packet found inside a tunnel whose uid is `parent` (the
    /// tunnel analyzer checked the depth): decoded from its link layer like
    /// a captured frame, every packet of it (an 802.11 A-MSDU holds several).
    pub(super) fn inner_packet(&mut self, ts: Time, link: LinkType, data: &[u8], parent: String) {
        let raw = RawPacket {
            ts,
            wire_len: data.len() as u32,
            link,
            data,
        };
        self.tunnel_stack.push(parent);
        self.process_frame(&raw, true);
        self.tunnel_stack.pop();
    }

    /// Zeek's IPTunnel analyzer, for IP-in-IP and GRE: the depth check; for
    /// IP-in-IP and PPTP (`strict_ip_proto`, 4 or 41) the check that the
    /// payload is exactly one IP packet of that version; then the tunnel's
    /// uid, kept per address pair.
    pub(super) fn ip_tunnel(
        &mut self,
        ts: Time,
        ip: &IpPacket<'_>,
        link: LinkType,
        offset: usize,
        strict_ip_proto: Option<u8>,
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
        // Zeek keeps one tunnel per address pair, whichever way and whatever
        // protocol (IP-in-IP or GRE) its packets take.
        let key = (ip.src.min(ip.dst), ip.src.max(ip.dst));
        if self.ip_tunnel_uids.len() >= MAX_IP_TUNNEL_KEYS {
            self.ip_tunnel_uids.clear();
        }
        let uid = match self.ip_tunnel_uids.get(&key) {
            Some(u) => u.clone(),
            None => {
                let mut h = rustc_hash::FxHasher::default();
                (ip.src, ip.dst, ip.proto).hash(&mut h);
                let u = self.uids.next('C', ts, h.finish());
                self.ip_tunnel_uids.insert(key, u.clone());
                u
            }
        };
        self.inner_packet(ts, link, inner, uid);
    }

    /// GRE (RFC 2784/2890, and PPTP's enhanced GRE) carrying IP, Ethernet,
    /// ERSPAN or Aruba's 802.11: Zeek's GRE analyzer, then its IPTunnel.
    pub(super) fn gre_packet(&mut self, ts: Time, ip: &IpPacket<'_>) {
        match GrePacket::new_checked(&ip.l4[..]).and_then(|gre| gre.payload()) {
            Ok(inner) => self.ip_tunnel(ts, ip, inner.link, inner.offset, inner.pptp_ip_proto),
            Err(weird) => self.weirds.push(Weird {
                ts,
                name: weird.name(),
                addl: weird.addl(),
                scope: WeirdScope::Flow {
                    src: ip.src,
                    dst: ip.dst,
                },
                source: "GRE",
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
        resp_port: u16,
        payload: &[u8],
    ) {
        let Some(tunnel) = self.registry.tunnel_for(resp_port, payload).copied() else {
            return;
        };
        if self.tunnel_too_deep(ts, outer, tunnel.tag) {
            return;
        }
        match (tunnel.decapsulate)(payload) {
            Decapsulated::Not => {}
            Decapsulated::Weird(name) => self.flow_weird(ts, name, outer, tunnel.tag),
            Decapsulated::Inner {
                link,
                offset,
                confirm,
            } => {
                let Some(inner) = payload.get(offset..) else {
                    return;
                };
                let Some(outer_conn) = self.slots[slot as usize].conn.as_ref() else {
                    return;
                };
                let uid = outer_conn.core.uid.to_string();
                self.inner_packet(ts, link, inner, uid);
                if confirm {
                    self.confirm_tunnel(ts, slot, tunnel.tag);
                }
            }
        }
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
