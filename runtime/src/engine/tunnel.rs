//! Tunnels: IP-in-IP and GRE (no connection of their own), the UDP tunnels
//! on their ports, and the one path an inner packet takes back into the
//! engine (with Zeek's `Tunnel::max_depth`). Also the payload shapes the
//! engine unwraps itself: 802.11 data frames, GRE, Teredo's shape.

use super::*;

impl Engine {
    /// A tunnel analyzer (GTPv1, Teredo, AYIYA, Geneve) decapsulated a packet
    /// of this UDP connection: it confirms its protocol once, as Zeek's do.
    pub(super) fn confirm_tunnel(&mut self, ts: Time, slot: u32, tunnel: &'static str) {
        let Some(conn) = self
            .slots
            .get_mut(slot as usize)
            .and_then(|s| s.conn.as_mut())
        else {
            return;
        };
        if conn.core.service.iter().any(|s| s == tunnel) {
            return;
        }
        conn.core.service.push(tunnel.to_string());
        let aid = self.next_aid;
        self.next_aid += 1;
        raise!(
            &mut self.events,
            ts,
            ProtocolConfirmation {
                c: conn.core.record(),
                atype: format!("Analyzer::ANALYZER_{}", tunnel.to_ascii_uppercase()),
                aid
            }
        );
    }

    /// Processes a packet found inside a tunnel whose uid is `parent`.
    pub(super) fn inner_packet(&mut self, ts: Time, link: LinkType, data: &[u8], parent: String) {
        if link == LinkType::Other(LINKTYPE_IEEE802_11) {
            for ip in ieee80211_ip_payloads(data) {
                self.inner_packet(ts, LinkType::Raw, ip, parent.clone());
            }
            return;
        }
        if self.tunnel_stack.len() > usize::from(self.config.tunnel_max_depth) {
            self.weirds.push(Weird {
                ts,
                name: "exceeded_tunnel_max_depth",
                addl: String::new(),
                scope: WeirdScope::Net,
                source: "TUNNEL",
            });
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

    /// IP-in-IP: the payload is the inner datagram.
    pub(super) fn ip_tunnel(&mut self, ts: Time, ip: &IpPacket<'_>, link: LinkType, offset: usize) {
        let key = (ip.src, ip.dst, ip.proto);
        if self.ip_tunnel_uids.len() >= MAX_FLOW_WEIRD_KEYS {
            self.ip_tunnel_uids.clear();
        }
        let uid = match self.ip_tunnel_uids.get(&key) {
            Some(u) => u.clone(),
            None => {
                let mut h = rustc_hash::FxHasher::default();
                key.hash(&mut h);
                let u = self.uids.next('C', ts, h.finish());
                self.ip_tunnel_uids.insert(key, u.clone());
                u
            }
        };
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
        self.inner_packet(ts, link, inner, uid);
    }

    /// GRE (RFC 2784/2890, and PPTP's enhanced GRE) carrying IP, Ethernet or ERSPAN.
    pub(super) fn gre_packet(&mut self, ts: Time, ip: &IpPacket<'_>) {
        match gre_payload(&ip.l4) {
            Ok((link, off)) => self.ip_tunnel(ts, ip, link, off),
            Err(name) => self.flow_weird(ts, name, ip),
        }
    }

    /// UDP-based tunnels on their well-known ports.
    pub(super) fn udp_tunnel(
        &mut self,
        ts: Time,
        outer: &IpPacket<'_>,
        (sport, dport): (u16, u16),
        payload: &[u8],
        uid: String,
    ) -> Option<&'static str> {
        // The tunnel whose analyzer confirmed (Zeek names it in the outer connection's service).
        let mut found = None;
        let on = |p: u16| sport == p || dport == p;
        if on(4754) {
            // GRE-in-UDP (RFC 8086).
            if let Ok((link, off)) = gre_payload(payload) {
                if let Some(inner) = payload.get(off..) {
                    self.inner_packet(ts, link, inner, uid);
                }
            }
        } else if on(4789) {
            // VXLAN: 8-byte header with the I flag, then Ethernet.
            if payload.len() > 8 && payload[0] & 0x08 != 0 {
                self.inner_packet(ts, LinkType::Ethernet, &payload[8..], uid);
            }
        } else if on(6081) {
            // Geneve: 8 bytes + options, protocol type says what follows.
            if payload.len() >= 8 {
                let hl = 8 + usize::from(payload[0] & 0x3f) * 4;
                let proto = u16::from_be_bytes([payload[2], payload[3]]);
                if payload.len() <= hl {
                    self.weirds.push(Weird {
                        ts,
                        name: "geneve_empty_packet",
                        addl: String::new(),
                        scope: WeirdScope::Flow {
                            src: outer.src,
                            dst: outer.dst,
                        },
                        source: "GENEVE",
                    });
                } else if let Some(inner) = payload.get(hl..) {
                    found = Some("geneve");
                    match proto {
                        0x6558 => self.inner_packet(ts, LinkType::Ethernet, inner, uid),
                        0x0800 | 0x86dd => self.inner_packet(ts, LinkType::Raw, inner, uid),
                        _ => return None,
                    }
                }
            }
        } else if on(2152) {
            // GTPv1-U G-PDU.
            if payload.len() >= 8
                && payload[0] >> 5 == 1
                && payload[0] & 0x10 != 0
                && payload[1] == 0xff
            {
                let mut off = 8;
                if payload[0] & 0x07 != 0 {
                    off = 12;
                    let mut next = payload.get(11).copied().unwrap_or(0);
                    while next != 0 && payload[0] & 0x04 != 0 {
                        let &units = payload.get(off)?;
                        if units == 0 {
                            return None;
                        }
                        let len = usize::from(units) * 4;
                        next = payload.get(off + len - 1).copied().unwrap_or(0);
                        off += len;
                    }
                }
                if let Some(inner) = payload.get(off..) {
                    if matches!(inner.first().map(|v| v >> 4), Some(4) | Some(6)) {
                        self.inner_packet(ts, LinkType::Raw, inner, uid);
                        found = Some("gtpv1");
                    }
                }
            }
        } else if on(5072) {
            // AYIYA: identity and signature lengths in the header.
            if payload.len() >= 8 {
                let id_len = 1usize << (payload[0] >> 4);
                let sig_len = usize::from(payload[1] >> 4) * 4;
                let opcode = payload[2] & 0x0f;
                let next = payload[3];
                let hl = 8 + id_len + sig_len;
                if opcode == 1 && matches!(next, 4 | 41) {
                    if let Some(inner) = payload.get(hl..) {
                        self.inner_packet(ts, LinkType::Raw, inner, uid);
                        found = Some("ayiya");
                    }
                }
            }
        } else if on(3544) || looks_like_teredo(payload) {
            // Teredo: optional authentication and origin-indication headers, then IPv6.
            let mut p = payload;
            if p.len() >= 4 && p[0] == 0 && p[1] == 1 {
                let (id_len, au_len) = (usize::from(p[2]), usize::from(p[3]));
                let skip = 4 + id_len + au_len + 9;
                let rest = p.get(skip..)?;
                p = rest;
            }
            if p.len() >= 8 && p[0] == 0 && p[1] == 0 {
                p = &p[8..];
            }
            if p.len() >= 40 && p[0] >> 4 == 6 {
                let plen = usize::from(u16::from_be_bytes([p[4], p[5]]));
                if plen + 40 == p.len() {
                    self.inner_packet(ts, LinkType::Raw, p, uid);
                    found = Some("teredo");
                }
            }
        }
        found
    }
}

/// libpcap's number for raw 802.11 frames.
pub(super) const LINKTYPE_IEEE802_11: u32 = 105;

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

/// Zeek finds Teredo on other ports by signature: an IPv6 packet (possibly
/// after Teredo's own headers) to or from the Teredo prefix 2001:0::/32.
pub(super) fn looks_like_teredo(payload: &[u8]) -> bool {
    let mut p = payload;
    if p.len() >= 8 && p[0] == 0 && p[1] == 0 {
        p = &p[8..];
    }
    if p.len() < 40 || p[0] >> 4 != 6 {
        return false;
    }
    let plen = usize::from(u16::from_be_bytes([p[4], p[5]]));
    let teredo = |a: &[u8]| a[..4] == [0x20, 0x01, 0x00, 0x00];
    plen + 40 == p.len() && (teredo(&p[8..24]) || teredo(&p[24..40]))
}

/// Parses a GRE header: what follows it and where, or the weird to report.
pub(super) fn gre_payload(b: &[u8]) -> Result<(LinkType, usize), &'static str> {
    if b.len() < 4 {
        return Err("truncated_GRE");
    }
    let flags = u16::from_be_bytes([b[0], b[1]]);
    let version = flags & 0x7;
    let proto = u16::from_be_bytes([b[2], b[3]]);
    let mut off = 4;
    match version {
        0 => {
            if flags & 0x4000 != 0 {
                return Err("gre_routing");
            }
            for bit in [0x8000, 0x2000, 0x1000] {
                if flags & bit != 0 {
                    off += 4;
                }
            }
        }
        1 => {
            off += 4; // payload length and call id
            for bit in [0x1000, 0x0080] {
                if flags & bit != 0 {
                    off += 4;
                }
            }
        }
        _ => return Err("unknown_gre_version"),
    }
    if off > b.len() {
        return Err("truncated_GRE");
    }
    match proto {
        0x0800 | 0x86dd => Ok((LinkType::Raw, off)),
        0x6558 => Ok((LinkType::Ethernet, off)),
        // Aruba access points tunnel raw 802.11 frames.
        0x8200..=0x8299 => Ok((LinkType::Other(LINKTYPE_IEEE802_11), off)),
        // ERSPAN type II (sequence number present) has an 8-byte header; type I none.
        0x88be => Ok((
            LinkType::Ethernet,
            off + if flags & 0x1000 != 0 { 8 } else { 0 },
        )),
        // ERSPAN type III: 12 bytes, plus an 8-byte platform subheader when flagged.
        0x22eb => {
            let sub = b
                .get(off + 11)
                .map_or(0, |f| if f & 0x01 != 0 { 8 } else { 0 });
            Ok((LinkType::Ethernet, off + 12 + sub))
        }
        0x880b if version == 1 => {
            let mut o = off;
            if b.get(o..o + 2) == Some(&[0xff, 0x03][..]) {
                o += 2;
            }
            match b.get(o..o + 2).map(|x| u16::from_be_bytes([x[0], x[1]])) {
                Some(0x0021) | Some(0x0057) => Ok((LinkType::Raw, o + 2)),
                _ => Err("unknown_gre_protocol"),
            }
        }
        _ => Err("unknown_gre_protocol"),
    }
}
