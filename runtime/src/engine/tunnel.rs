//! Tunnels: IP-in-IP and GRE (no connection of their own), the UDP tunnels
//! on their ports, and the one path an inner packet takes back into the
//! engine (with Zeek's `Tunnel::max_depth`). Also the payload shapes the
//! engine unwraps itself: 802.11 data frames (GRE's header is
//! `wire::gre`).

use super::*;
use crate::analyzer::Decapsulated;
use crate::packet::LINKTYPE_IEEE802_11;
use crate::wire::gre::gre_payload;

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
        let service = tag.to_ascii_lowercase();
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
        self.weirds.push(Weird {
            ts,
            name,
            addl: String::new(),
            scope: WeirdScope::Flow {
                src: outer.src,
                dst: outer.dst,
            },
            source,
        });
        true
    }

    /// Processes a packet found inside a tunnel whose uid is `parent` (the
    /// tunnel analyzer checked the depth).
    pub(super) fn inner_packet(&mut self, ts: Time, link: LinkType, data: &[u8], parent: String) {
        if link == LinkType::Other(LINKTYPE_IEEE802_11) {
            for ip in ieee80211_ip_payloads(data) {
                self.inner_packet(ts, LinkType::Raw, ip, parent.clone());
            }
            return;
        }
        let raw = RawPacket {
            ts,
            wire_len: data.len() as u32,
            link,
            data,
        };
        let mut weirds = std::mem::take(&mut self.weirds);
        let decoded = self.decoder.decode(&raw, &mut weirds);
        self.weirds = weirds;
        if let Some(crate::packet::Decoded::Ip(inner)) = decoded {
            self.tunnel_stack.push(parent);
            self.process_ip_inner(ts, &inner);
            self.tunnel_stack.pop();
        }
    }

    /// Zeek's IPTunnel analyzer, for IP-in-IP and GRE: the depth check, the
    /// payload check of IP-in-IP, then the tunnel's uid, kept per address pair.
    pub(super) fn ip_tunnel(&mut self, ts: Time, ip: &IpPacket<'_>, link: LinkType, offset: usize) {
        if self.tunnel_too_deep(ts, ip, "IPTUNNEL") {
            return;
        }
        let end = (ip.l4_len_claimed() as usize)
            .min(ip.l4.len())
            .max(offset.min(ip.l4.len()));
        let Some(inner) = ip.l4.get(offset..end) else {
            return;
        };
        if matches!(ip.proto, 4 | 41) {
            if let Some(name) = crate::decode::ip_in_ip_problem(inner, ip.proto) {
                self.weirds.push(Weird {
                    ts,
                    name,
                    addl: String::new(),
                    scope: WeirdScope::Flow {
                        src: ip.src,
                        dst: ip.dst,
                    },
                    source: "IPTUNNEL",
                });
                return;
            }
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

    /// GRE (RFC 2784/2890, and PPTP's enhanced GRE) carrying IP, Ethernet or ERSPAN.
    pub(super) fn gre_packet(&mut self, ts: Time, ip: &IpPacket<'_>) {
        match gre_payload(&ip.l4) {
            Ok((link, off)) => self.ip_tunnel(ts, ip, link, off),
            Err(name) => self.flow_weird(ts, name, ip),
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
            Decapsulated::Weird(name) => self.weirds.push(Weird {
                ts,
                name,
                addl: String::new(),
                scope: WeirdScope::Flow {
                    src: outer.src,
                    dst: outer.dst,
                },
                source: tunnel.tag,
            }),
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
                let uid = outer_conn.core.uid.clone();
                self.inner_packet(ts, link, inner, uid);
                if confirm {
                    self.confirm_tunnel(ts, slot, tunnel.tag);
                }
            }
        }
    }
}

/// The IP packets in an unprotected 802.11 data frame (LLC/SNAP, and the
/// subframes of an A-MSDU): (ethertype, packet).
pub(super) fn ieee80211_ip_payloads(b: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    if b.len() < 24 {
        return out;
    }
    let (fc0, fc1) = (b[0], b[1]);
    let frame_type = (fc0 >> 2) & 0x3;
    let subtype = fc0 >> 4;
    if frame_type != 2 || fc1 & 0x40 != 0 {
        return out; // not data, or encrypted
    }
    let mut hl = 24;
    if fc1 & 0x03 == 0x03 {
        hl += 6;
    }
    let mut amsdu = false;
    if subtype & 0x08 != 0 {
        amsdu = b.get(hl).is_some_and(|q| q & 0x80 != 0);
        hl += 2;
        if fc1 & 0x80 != 0 {
            hl += 4;
        }
    }
    let snap = |p: &[u8]| -> Option<(u16, usize)> {
        (p.len() >= 8 && p[..6] == [0xaa, 0xaa, 0x03, 0, 0, 0])
            .then(|| (u16::from_be_bytes([p[6], p[7]]), 8))
    };
    let Some(mut rest) = b.get(hl..) else {
        return out;
    };
    if !amsdu {
        if let Some((et, n)) = snap(rest) {
            if matches!(et, 0x0800 | 0x86dd) {
                out.push(&rest[n..]);
            }
        }
        return out;
    }
    // A-MSDU: DA, SA, length, then LLC/SNAP + payload, padded to 4 bytes.
    while rest.len() >= 14 {
        let len = usize::from(u16::from_be_bytes([rest[12], rest[13]]));
        let Some(sub) = rest.get(14..14 + len) else {
            break;
        };
        if let Some((et, n)) = snap(sub) {
            if matches!(et, 0x0800 | 0x86dd) {
                out.push(&sub[n..]);
            }
        }
        let step = (14 + len).div_ceil(4) * 4;
        rest = rest.get(step..).unwrap_or(&[]);
    }
    out
}
