//! The connection table: connection keys, slots (a slot and its generation
//! name a connection for timers), creating a connection with its analyzers
//! and first timers, and the per-packet context (`Cx`) over one of them.

use super::*;

/// A connection's place in the table; `gen` tells a re-used slot from the
/// connection a stale timer was set for.
pub(super) struct Slot {
    pub(super) gen: u32,
    pub(super) conn: Option<Conn>,
}

impl Engine {
    pub(super) fn key_for(
        &self,
        src: (IpAddr, u16),
        dst: (IpAddr, u16),
        proto: u8,
        one_way: bool,
        ip: &IpPacket<'_>,
    ) -> ConnKey {
        let vlans = if self.config.vlan_in_key {
            (ip.l2.vlan, ip.l2.inner_vlan)
        } else {
            (None, None)
        };
        ConnKey::new(src, dst, proto, one_way, vlans)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn new_conn(
        &mut self,
        ts: Time,
        key: ConnKey,
        id: ConnId,
        ip: &IpPacket<'_>,
        transport: Transport,
        inactivity: Interval,
        flip: bool,
    ) -> u32 {
        let mut h = rustc_hash::FxHasher::default();
        key.hash(&mut h);
        let uid = self.uids.next('C', ts, h.finish());
        let mut core = ConnCore::new(id, ip.proto, uid, ts, transport, inactivity);
        core.orig_l2 = ip.l2.src_mac;
        core.resp_l2 = ip.l2.dst_mac;
        core.vlan = ip.l2.vlan;
        core.inner_vlan = ip.l2.inner_vlan;
        core.flow_labels = [ip.flow_label, 0];
        core.tunnel_parents = self.tunnel_stack.last().cloned().into_iter().collect();
        let is_broadcast = matches!(id.resp_h, IpAddr::V4(a) if a.is_broadcast());
        if flip && !is_broadcast {
            core.flip_roles();
        }
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(Slot { gen: 0, conn: None });
                (self.slots.len() - 1) as u32
            }
        };
        let gen = {
            let s = &mut self.slots[slot as usize];
            s.gen = s.gen.wrapping_add(1);
            s.gen
        };
        let proto = core.proto();
        let mut analyzers = Vec::new();
        // Expire timers the analyzers attached by port ask for.
        let mut expire_after = Vec::new();
        if matches!(proto, Proto::Tcp | Proto::Udp) {
            for spec in self.registry.for_port(proto, core.id.resp_p.number) {
                expire_after.extend(spec.expire_after);
                analyzers.push(Attached {
                    tag: spec.tag,
                    aid: self.next_aid,
                    analyzer: (spec.new)(),
                    confirmed: false,
                    violations: 0,
                });
                self.next_aid += 1;
            }
        }
        let dpd = if matches!(proto, Proto::Tcp | Proto::Udp) {
            self.detector.start(proto)
        } else {
            None
        };
        let conn = Conn {
            core,
            analyzers,
            dpd,
            removed: Vec::new(),
            inactivity_epoch: 0,
            analyzer_epoch: 0,
            key,
        };
        self.slots[slot as usize].conn = Some(conn);
        self.table.insert(key, slot);
        self.summary.connections += 1;
        // Timers: inactivity for all, the TCP expire timer for TCP.
        self.timers
            .add(ts.add(inactivity), slot, gen, 0, TimerKind::Inactivity);
        if proto == Proto::Tcp {
            self.timers.add(
                ts.add(self.config.timeouts.tcp_syn_timeout),
                slot,
                gen,
                0,
                TimerKind::TcpExpire,
            );
        }
        for timeout in expire_after {
            self.timers.add_analyzer_expire(ts, slot, gen, timeout);
        }
        let conn = self.slots[slot as usize]
            .conn
            .as_ref()
            .expect("just inserted");
        if proto == Proto::Tcp {
            raise!(
                &mut self.events,
                ts,
                NewConnectionContents {
                    c: conn.core.record()
                }
            );
        }
        raise!(
            &mut self.events,
            ts,
            NewConnection {
                c: conn.core.record()
            }
        );
        slot
    }

    pub(super) fn cx(&mut self, ts: Time, slot: u32) -> (Cx<'_>, &mut Conn) {
        let gen = self.slots[slot as usize].gen;
        let conn = self.slots[slot as usize].conn.as_mut().expect("live slot");
        (
            Cx {
                ts,
                cfg: &self.config,
                events: &mut self.events,
                weirds: &mut self.weirds,
                timers: &mut self.timers,
                scratch: &mut self.scratch,
                detector: &self.detector,
                next_aid: &mut self.next_aid,
                slot,
                gen,
            },
            conn,
        )
    }
}
