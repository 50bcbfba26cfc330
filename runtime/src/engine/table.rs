//! The connection table: connection keys, slots (a slot and its generation
//! name a connection for timers), creating a connection with its analyzers
//! and first timers, and the per-packet context (`Cx`) over one of them.

use super::*;

/// A connection's place in the table; `gen` tells a re-used slot from the
/// connection a stale timer was set for.
pub(super) struct Slot {
    pub(super) gen: u32,
    /// Boxed: the slot vector grows by doubling, and a SYN flood of a million
    /// connections would otherwise copy (and keep spare) whole connections.
    pub(super) conn: Option<Box<Conn>>,
}

/// Whether a new connection's roles are swapped at creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flip {
    No,
    /// The port heuristic says the first packet's sender is the server.
    Yes,
    /// The first packet is a SYN-ACK the heuristic left with its sender: Zeek 8.2.2
    /// reports it (`connection_originator_SYN_ack`) with the roles as they were,
    /// then swaps them before any analyzer is attached (history `^h`).
    AfterOriginatorSynAck,
}

impl From<bool> for Flip {
    fn from(flip: bool) -> Flip {
        if flip {
            Flip::Yes
        } else {
            Flip::No
        }
    }
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
        flip: Flip,
    ) -> u32 {
        let mut h = rustc_hash::FxHasher::default();
        key.hash(&mut h);
        let order = self.next_creation_order();
        let uid = self.uids.next('C', ts, h.finish(), order);
        let mut core = ConnCore::new(id, ip.proto, uid, ts, transport, inactivity);
        core.orig_l2 = ip.l2.src_mac;
        core.resp_l2 = ip.l2.dst_mac;
        core.vlan = ip.l2.vlan;
        core.inner_vlan = ip.l2.inner_vlan;
        core.flow_labels = [ip.flow_label, 0];
        if let Some(innermost) = self.tunnel_stack.last() {
            core.tunnels = Some(Box::new(conn::ConnTunnels {
                chain: Some(self.tunnel_stack.as_slice().into()),
                parents: innermost.uid.iter().cloned().collect(),
                ..Default::default()
            }));
        }
        let is_broadcast = matches!(id.resp_h, IpAddr::V4(a) if a.is_broadcast());
        if flip == Flip::AfterOriginatorSynAck {
            // Reported with the roles as they were, then swapped.
            session::report_conn_weird(
                &mut core,
                &mut self.events,
                &mut self.weirds,
                ts,
                "connection_originator_SYN_ack",
                String::new(),
                "TCP",
            );
        }
        if flip != Flip::No && !is_broadcast {
            core.flip_roles();
        }
        if self.config.max_connections > 0 && self.table.len() >= self.config.max_connections {
            self.evict_one(ts);
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
        let syn_first = ip.l4.get(13).is_some_and(|flags| flags & 0x12 == 0x02);
        let expectable = proto == Proto::Udp || (proto == Proto::Tcp && syn_first);
        let mut analyzers = Vec::new();
        // Expire timers the analyzers attached by port ask for.
        let mut expire_after = Vec::new();
        if matches!(proto, Proto::Tcp | Proto::Udp) {
            // An expected connection gets the analyzers announced for it and
            // not those of its port (Zeek's BuildInitialAnalyzerTree).
            // Analyzers announce TCP connections only (FTP's and IRC's data
            // connections), and only one whose first packet is a SYN is taken
            // for announced: it started after the announcement. (Zeek also
            // matches one seen from its middle; a sharded run could then not
            // know without waiting for every other worker.)
            let expected = if self.expected.is_empty() || !expectable {
                Vec::new()
            } else {
                let id = core.id;
                self.expected
                    .lookup(ts, self.index, id.orig_h, id.resp_h, id.resp_p.number, proto)
            };
            for applied in &expected {
                if let Some(service) = applied.service {
                    if !core.service.contains(&service) {
                        core.service.push(service);
                    }
                }
            }
            let by_port = expected
                .is_empty()
                .then(|| self.registry.for_port(proto, core.id.resp_p.number));
            let by_expectation = expected
                .iter()
                .filter_map(|a| self.registry.by_tag(proto, a.analyzer));
            // Exactly as many as attach: a push into an empty vector reserves
            // four, which every connection of a SYN flood would keep.
            let count = if expected.is_empty() {
                self.registry.for_port(proto, core.id.resp_p.number).count()
            } else {
                expected.len()
            };
            analyzers.reserve_exact(count);
            for spec in by_port.into_iter().flatten().chain(by_expectation) {
                expire_after.extend(spec.expire_after);
                analyzers.push(Attached::new(spec.tag, self.next_aid, spec.new));
                self.next_aid += 1;
            }
        }
        let dpd = if matches!(proto, Proto::Tcp | Proto::Udp) && self.detector.has_signatures(proto) {
            Detection::NotStarted
        } else {
            Detection::Done
        };
        let conn = Conn {
            core,
            analyzers,
            dpd,
            removed: Vec::new(),
            inner: None,
            inactivity_epoch: 0,
            analyzer_epoch: 0,
            key,
            order,
            // Another worker may have announced this one.
            unsettled: self.shards.is_some() && proto == Proto::Tcp && expectable,
        };
        if conn.unsettled {
            self.unsettled.push((slot, gen));
        }
        self.slots[slot as usize].conn = Some(Box::new(conn));
        self.table.insert(key, slot);
        self.creation_order.push_back((slot, gen));
        self.summary.connections += 1;
        if let Some(i) = proto_index(key.ip_proto) {
            self.created_by_proto[i] += 1;
        }
        // Timers: inactivity for all, the TCP expire timer for TCP.
        self.timers.new_connection(slot, order);
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
        self.drop_timers_of_removed_connections();
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
                registry: &self.registry,
                next_aid: &mut self.next_aid,
                reassembly_buffered: &mut self.reassembly_buffered,
                summary: &mut self.summary,
                slot,
                gen,
            },
            conn,
        )
    }

    /// At the connection limit: removes one connection, the oldest among
    /// those idle for a second or more if one is found within a few tries
    /// (a flood's connections are all young: then simply the oldest), so
    /// that eviction costs O(1) per new connection.
    fn evict_one(&mut self, ts: Time) {
        // Few: in a flood every connection is recent, and each try is a cache miss.
        const TRIES: usize = 8;
        let idle = Interval::from_secs(1);
        let mut oldest_live = None;
        for _ in 0..TRIES {
            let Some((slot, gen)) = self.creation_order.pop_front() else {
                break;
            };
            let s = &self.slots[slot as usize];
            let Some(conn) = s.conn.as_ref().filter(|_| s.gen == gen) else {
                continue; // removed already
            };
            if conn.core.last_time.add(idle) <= ts {
                oldest_live = Some(slot);
                break;
            }
            // Recently active: a second chance at the back of the line.
            self.creation_order.push_back((slot, gen));
            oldest_live.get_or_insert(slot);
        }
        // Entries of removed connections pile up; drop them now and then.
        if self.creation_order.len() > 2 * self.table.len() + 1024 {
            let slots = &self.slots;
            self.creation_order.retain(|&(slot, gen)| {
                slots[slot as usize].gen == gen && slots[slot as usize].conn.is_some()
            });
        }
        let Some(slot) = oldest_live else { return };
        self.summary.evicted += 1;
        let (mut cx, conn) = self.cx(ts, slot);
        conn_weird(
            &mut conn.core,
            &mut cx,
            "connection_evicted_at_limit",
            String::new(),
            "netpac",
        );
        self.remove(slot, false);
    }

    /// Timers of removed connections are skipped when they fire, but in a
    /// flood they would pile up for minutes (inactivity timeouts): once they
    /// outnumber the live connections' by far, they are dropped in one pass
    /// (amortized O(1) per connection).
    fn drop_timers_of_removed_connections(&mut self) {
        if self.timers.heap.len() <= 8 * self.table.len() + 65_536 {
            return;
        }
        let slots = &self.slots;
        self.timers.heap.retain(|t| {
            slots
                .get(t.0.slot as usize)
                .is_some_and(|s| s.gen == t.0.gen && s.conn.is_some())
        });
    }
}
