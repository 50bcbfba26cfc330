//! The engine: decoded packets in, connections, events and logs out.
//!
//! This file keeps the packet path, the connection table and Zeek's timers
//! (inactivity, connection attempts, close and reset linger), and writes
//! `conn.log` and `weird.log` when connections end. Each transport has its
//! session of its own, as free functions over the connection context (`Cx`):
//! `tcp_session.rs` (state machine, reassembly, delivery, close),
//! `udp_session.rs`, `icmp_session.rs`; `session.rs` holds what they share
//! (driving and detecting analyzers, verdicts, sizes, history), and
//! `tunnel.rs` the tunnel payloads unwrapped here, `timers.rs` the timer heap.

use crate::analyzer::{AnalyzerCx, ConnView, Registry, Verdict};
use crate::conn::events::*;
use crate::conn::reassembly::{Limits, Overflow, Piece};
use crate::conn::tcp::{self, hist, EndpointState as S, Flags, TcpConn, TcpEndpoint, TcpHeader};
use crate::conn::{self, Attached, Conn, ConnCore, ConnKey, FlowState, Transport, UidGenerator};
use crate::dpd::Detector;
use crate::event::Events;
use crate::log::Logs;
use crate::packet::{IpPacket, LinkType, RawPacket};
use crate::raise;
use crate::record::{Icmp6NdOption, IcmpConn, IcmpContext, SynPacket};
use crate::weird::{Weird, WeirdScope};
use crate::zeek::{ConnId, Interval, Port, Proto, Time, ZString};
use rustc_hash::FxHashMap;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

mod bifs;
mod icmp_session;
mod session;
mod tcp_session;
#[cfg(test)]
mod tests;
mod timers;
mod tunnel;
mod udp_session;

pub use bifs::{ContentsDirection, ContentsFile};
pub use icmp_session::icmp_counterpart;
use icmp_session::*;
use session::*;
use tcp_session::*;
use timers::*;
use tunnel::*;
use udp_session::*;

/// Zeek's connection timeouts (`scripts/base/init-bare.zeek` defaults).
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub tcp_syn_timeout: Interval,
    pub tcp_session_timer: Interval,
    pub tcp_connection_linger: Interval,
    pub tcp_attempt_delay: Interval,
    pub tcp_close_delay: Interval,
    pub tcp_partial_close_delay: Interval,
    pub tcp_reset_delay: Interval,
    pub tcp_inactivity_timeout: Interval,
    pub udp_inactivity_timeout: Interval,
    pub icmp_inactivity_timeout: Interval,
    pub unknown_ip_inactivity_timeout: Interval,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            tcp_syn_timeout: Interval::from_secs(5),
            tcp_session_timer: Interval::from_secs(6),
            tcp_connection_linger: Interval::from_secs(5),
            tcp_attempt_delay: Interval::from_secs(5),
            tcp_close_delay: Interval::from_secs(5),
            tcp_partial_close_delay: Interval::from_secs(3),
            tcp_reset_delay: Interval::from_secs(5),
            tcp_inactivity_timeout: Interval::from_secs(300),
            udp_inactivity_timeout: Interval::from_secs(60),
            icmp_inactivity_timeout: Interval::from_secs(60),
            unknown_ip_inactivity_timeout: Interval::from_secs(60),
        }
    }
}

/// Ports Zeek's default scripts register as `likely_server_ports`; a first
/// packet *from* one of these flips the connection's direction.
pub const LIKELY_SERVER_TCP: &[u16] = &[
    21, 22, 25, 53, 80, 81, 88, 110, 135, 139, 143, 389, 443, 445, 502, 563, 585, 587, 614, 631,
    636, 989, 990, 992, 993, 995, 1080, 1883, 2811, 3128, 3268, 3306, 3389, 5222, 5223, 5269, 5432,
    6379, 6667, 8000, 8080, 8888, 20000,
];
pub const LIKELY_SERVER_UDP: &[u16] = &[
    53, 67, 88, 123, 137, 161, 162, 389, 443, 514, 1812, 2123, 2152, 3544, 4789, 5060, 5072, 5353,
    5355, 6081, 20000,
];

/// Engine settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// `-C`: analyse packets with bad checksums as if they were fine.
    pub ignore_checksums: bool,
    /// Networks counted as local for `local_orig`/`local_resp` (empty: unset columns).
    pub local_nets: Vec<(IpAddr, u8)>,
    /// Optional `conn.log` columns (Zeek's conn policy scripts); none by default.
    pub conn_columns: conn::ConnColumns,
    pub timeouts: Timeouts,
    /// Whether VLAN ids are part of the connection key.
    pub vlan_in_key: bool,
    /// Zeek's `tcp_content_deliver_all_orig/resp` (raise `tcp_contents`).
    pub tcp_content_deliver_all_orig: bool,
    pub tcp_content_deliver_all_resp: bool,
    /// Zeek's `udp_content_deliver_all_orig/resp` (raise `udp_contents`).
    pub udp_content_deliver_all_orig: bool,
    pub udp_content_deliver_all_resp: bool,
    pub likely_server_tcp: Vec<u16>,
    pub likely_server_udp: Vec<u16>,
    pub reassembly: Limits,
    /// Zeek's `tcp_max_initial_window`.
    pub tcp_max_initial_window: u64,
    /// Seed of the uid generator.
    pub uid_seed: u64,
    /// Write `conn.log` (and `weird.log`).
    pub write_conn_log: bool,
    pub write_weird_log: bool,
    /// Zeek's `Tunnel::max_depth`: how many encapsulations are decapsulated.
    pub tunnel_max_depth: u8,
    /// Decapsulate tunnels (IP-in-IP, GRE, AYIYA, Teredo, VXLAN, Geneve, GTPv1-U).
    pub decapsulate: bool,
    /// Protocol violations after which an analyzer is removed from its
    /// connection (Zeek DPD framework's `max_violations`, 5); 0 keeps it whatever it reports.
    pub max_analyzer_violations: u32,
    /// Zeek's TCPSTATS analyzer (`tcp_rexmit`): off by default, as in Zeek's
    /// `Analyzer::disabled_analyzers`.
    pub tcp_stats: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            ignore_checksums: false,
            local_nets: conn::private_address_space(),
            conn_columns: conn::ConnColumns::default(),
            timeouts: Timeouts::default(),
            vlan_in_key: false,
            tcp_content_deliver_all_orig: false,
            tcp_content_deliver_all_resp: false,
            udp_content_deliver_all_orig: false,
            udp_content_deliver_all_resp: false,
            likely_server_tcp: LIKELY_SERVER_TCP.to_vec(),
            likely_server_udp: LIKELY_SERVER_UDP.to_vec(),
            reassembly: Limits::default(),
            tcp_max_initial_window: 16_384,
            uid_seed: 0x6e65_7470_6163,
            write_conn_log: true,
            write_weird_log: true,
            tunnel_max_depth: 2,
            decapsulate: true,
            tcp_stats: false,
            max_analyzer_violations: 5,
        }
    }
}

/// Address pairs remembered (flow-weird deduplication, IP tunnel uids)
/// before the table is forgotten, to bound memory.
const MAX_FLOW_WEIRD_KEYS: usize = 100_000;

/// Totals of a run.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub packets: u64,
    pub bytes: u64,
    pub connections: u64,
    pub weirds: u64,
}

struct Slot {
    gen: u32,
    conn: Option<Conn>,
}

/// What one packet handler needs besides the connection.
struct Cx<'a> {
    ts: Time,
    cfg: &'a Config,
    events: &'a mut Events,
    weirds: &'a mut Vec<Weird>,
    timers: &'a mut Timers,
    scratch: &'a mut Vec<Piece>,
    detector: &'a Detector,
    next_aid: &'a mut u64,
    slot: u32,
    gen: u32,
}

/// The flow engine.
pub struct Engine {
    config: Config,
    registry: Registry,
    detector: Detector,
    events: Events,
    logs: Logs,
    table: FxHashMap<ConnKey, u32>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    timers: Timers,
    uids: UidGenerator,
    weirds: Vec<Weird>,
    /// Weird names already logged per live connection uid.
    weird_seen: FxHashMap<String, Vec<&'static str>>,
    weird_counts: FxHashMap<&'static str, u64>,
    flow_weirds_seen: FxHashMap<(IpAddr, IpAddr, &'static str), ()>,
    scratch: Vec<Piece>,
    summary: Summary,
    now: Time,
    next_aid: u64,
    log_error: Option<std::io::Error>,
    decoder: crate::decode::Decoder,
    link_analyzers: Vec<(u16, &'static str, Box<dyn crate::analyzer::LinkAnalyzer>)>,
    /// Uids of the tunnels the packet being processed arrived through.
    tunnel_stack: Vec<String>,
    /// Uids of IP-level tunnels (IP-in-IP, GRE), which have no connection.
    ip_tunnel_uids: FxHashMap<(IpAddr, IpAddr, u8), String>,
}

impl Engine {
    pub fn new(config: Config, registry: Registry, events: Events, logs: Logs) -> Engine {
        let uids = UidGenerator::new(config.uid_seed);
        let decoder = crate::decode::Decoder::new(crate::decode::DecoderConfig {
            ignore_checksums: config.ignore_checksums,
            ..Default::default()
        });
        let link_analyzers = registry
            .link_analyzers
            .iter()
            .map(|s| (s.ethertype, s.tag, (s.new)()))
            .collect();
        // Signatures come from grammars, whose patterns codegen already checked.
        let detector = Detector::new(&registry.analyzers)
            .unwrap_or_else(|e| panic!("analyzer {}: bad signature: {}", e.tag, e.error));
        Engine {
            config,
            registry,
            detector,
            events,
            logs,
            table: FxHashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            timers: Timers::default(),
            uids,
            weirds: Vec::new(),
            weird_seen: FxHashMap::default(),
            weird_counts: FxHashMap::default(),
            flow_weirds_seen: FxHashMap::default(),
            scratch: Vec::new(),
            summary: Summary::default(),
            now: Time::ZERO,
            next_aid: 1,
            log_error: None,
            decoder,
            link_analyzers,
            tunnel_stack: Vec::new(),
            ip_tunnel_uids: FxHashMap::default(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Number of connections currently tracked.
    pub fn active_connections(&self) -> usize {
        self.table.len()
    }

    /// Decodes and processes one captured frame. Never panics on bad input.
    pub fn packet(&mut self, raw: &RawPacket<'_>) {
        self.summary.packets += 1;
        self.summary.bytes += u64::from(raw.wire_len);
        let mut weirds = std::mem::take(&mut self.weirds);
        let decoded = self.decoder.decode(raw, &mut weirds);
        self.weirds = weirds;
        match decoded {
            Some(crate::packet::Decoded::Ip(ip)) => self.process_ip_inner(raw.ts, &ip),
            Some(crate::packet::Decoded::Link {
                l2,
                ethertype,
                payload,
            }) => {
                self.advance(raw.ts);
                for (et, _tag, a) in &mut self.link_analyzers {
                    if *et == ethertype {
                        a.deliver(raw.ts, &l2, payload, &mut self.events, &mut self.weirds);
                    }
                }
            }
            None => self.advance(raw.ts),
        }
        self.flush_weirds();
    }

    /// Processes one decoded IP datagram seen at `ts` (entry point for tests
    /// and for callers with their own decoder).
    pub fn process_ip(&mut self, ts: Time, ip: &IpPacket<'_>) {
        self.summary.packets += 1;
        self.summary.bytes += u64::from(ip.ip_len) + 14;
        self.process_ip_inner(ts, ip);
        self.flush_weirds();
    }

    fn process_ip_inner(&mut self, ts: Time, ip: &IpPacket<'_>) {
        self.advance(ts);

        if ip.bad_ip_checksum && !self.config.ignore_checksums {
            self.flow_weird(ts, "bad_IP_checksum", ip);
            return;
        }
        match ip.proto {
            6 => self.tcp_packet(ts, ip),
            17 => self.udp_packet(ts, ip),
            1 | 58 => self.icmp_packet(ts, ip),
            4 | 41 if self.config.decapsulate => self.ip_tunnel(ts, ip, LinkType::Raw, 0),
            47 if self.config.decapsulate => self.gre_packet(ts, ip),
            _ => self.unknown_ip_packet(ts, ip),
        }
    }

    fn flow_weird(&mut self, ts: Time, name: &'static str, ip: &IpPacket<'_>) {
        self.weirds.push(Weird {
            ts,
            name,
            addl: String::new(),
            scope: WeirdScope::Flow {
                src: ip.src,
                dst: ip.dst,
            },
            source: "IP",
        });
    }

    /// Checks that the transport header fits (Zeek's CheckHeaderTrunc).
    fn header_fits(&mut self, ts: Time, ip: &IpPacket<'_>, min: usize) -> bool {
        let claimed = ip.l4_len_claimed() as usize;
        if claimed != 0 && claimed < min {
            self.flow_weird(ts, "truncated_header", ip);
            false
        } else if ip.l4.len() < min {
            self.flow_weird(ts, "internally_truncated_header", ip);
            false
        } else {
            true
        }
    }

    fn key_for(
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

    // ----- the connection table -------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    fn new_conn(
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
            let kind = TimerKind::AnalyzerExpire(timeout);
            self.timers.add(ts.add(timeout), slot, gen, 0, kind);
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

    /// Removes a connection: analyzers finish, `connection_state_remove`
    /// is raised and its `conn.log` row written.
    fn remove(&mut self, slot: u32, terminating: bool) {
        // Log what this connection's packets reported before it goes.
        self.flush_weirds();
        let Some(mut conn) = self.slots[slot as usize].conn.take() else {
            return;
        };
        self.weird_seen.remove(&conn.core.uid);
        let ts = self.now;
        if let Transport::Tcp(t) = &conn.core.transport {
            if terminating && t.is_active && !t.both_closed() {
                raise!(
                    &mut self.events,
                    ts,
                    ConnectionPending {
                        c: conn.core.record()
                    }
                );
            }
        }
        {
            let Conn {
                core, analyzers, ..
            } = &mut conn;
            for a in analyzers.iter_mut() {
                let mut cx = AnalyzerCx {
                    ts,
                    conn: &*core,
                    events: &mut self.events,
                    weirds: &mut self.weirds,
                    verdict: Verdict::Undecided,
                    tag: a.tag,
                    flip: false,
                };
                a.analyzer.done(&mut cx);
                apply_verdict(
                    core,
                    a,
                    cx.verdict,
                    &mut self.events,
                    ts,
                    self.config.max_analyzer_violations,
                );
            }
        }
        raise!(
            &mut self.events,
            ts,
            ConnectionStateRemove {
                c: conn.core.record()
            }
        );
        if self.config.write_conn_log {
            let record = conn::ConnRecord {
                conn: &conn.core,
                local_nets: &self.config.local_nets,
                columns: self.config.conn_columns,
            };
            if let Err(e) = self.logs.write_record(&record) {
                self.log_error.get_or_insert(e);
            }
        }
        if self.table.get(&conn.key) == Some(&slot) {
            self.table.remove(&conn.key);
        }
        self.free.push(slot);
    }

    /// Runs every timer due at or before `ts`.
    fn advance(&mut self, ts: Time) {
        if ts > self.now {
            self.now = ts;
        }
        while let Some(Reverse(t)) = self.timers.heap.peek().copied() {
            if t.at > self.now {
                break;
            }
            self.timers.heap.pop();
            self.fire(t);
        }
    }

    /// Runs one timer. Like Zeek's timers, handlers see the current network
    /// time (not the time they were due), so a jump in time cannot make a
    /// rescheduling timer loop.
    fn fire(&mut self, t: Timer) {
        let slot = t.slot as usize;
        if self
            .slots
            .get(slot)
            .is_none_or(|s| s.gen != t.gen || s.conn.is_none())
        {
            return;
        }
        let now = self.now;
        let to = self.config.timeouts;
        let conn = self.slots[slot].conn.as_mut().expect("checked");
        match t.kind {
            TimerKind::Inactivity => {
                if t.epoch != conn.inactivity_epoch {
                    return;
                }
                let due = conn.core.last_time.add(conn.core.inactivity_timeout);
                if due <= now {
                    raise!(
                        &mut self.events,
                        now,
                        ConnectionTimeout {
                            c: conn.core.record()
                        }
                    );
                    self.remove(t.slot, false);
                } else {
                    self.timers
                        .add(due, t.slot, t.gen, t.epoch, TimerKind::Inactivity);
                }
            }
            TimerKind::AnalyzerExpire(timeout) => {
                // Zeek allows a second of slack so that a request and its
                // reply do not re-arm the timer.
                if now.since(conn.core.last_time).0 >= timeout.0 - 1_000_000_000 {
                    raise!(
                        &mut self.events,
                        now,
                        ConnectionTimeout {
                            c: conn.core.record()
                        }
                    );
                    self.remove(t.slot, false);
                } else {
                    let at = now.add(timeout);
                    self.timers.add(at, t.slot, t.gen, t.epoch, t.kind);
                }
            }
            _ => {
                if t.epoch != conn.analyzer_epoch {
                    return;
                }
                let Transport::Tcp(tc) = &mut conn.core.transport else {
                    return;
                };
                match t.kind {
                    TimerKind::TcpExpire => {
                        if !tc.is_active {
                            return;
                        }
                        if conn.core.last_time.add(to.tcp_connection_linger) < now {
                            let (o, r) = (tc.orig(), tc.resp());
                            let timed_out = if o.did_close || r.did_close {
                                (o.did_close && r.did_close)
                                    || o.state == S::Reset
                                    || r.state == S::Reset
                                    || o.state == S::Inactive
                                    || r.state == S::Inactive
                            } else {
                                false
                            };
                            let never_active = r.state == S::Inactive && o.state == S::Inactive;
                            if timed_out || never_active {
                                if timed_out {
                                    tc.is_active = false;
                                }
                                raise!(
                                    &mut self.events,
                                    now,
                                    ConnectionTimeout {
                                        c: conn.core.record()
                                    }
                                );
                                self.remove(t.slot, false);
                                return;
                            }
                        }
                        self.timers.add(
                            now.add(to.tcp_session_timer),
                            t.slot,
                            t.gen,
                            t.epoch,
                            TimerKind::TcpExpire,
                        );
                    }
                    TimerKind::TcpAttempt => {
                        if !tc.is_active {
                            return;
                        }
                        if matches!(tc.orig().state, S::SynSent | S::SynAckSent)
                            && tc.resp().state == S::Inactive
                        {
                            tc.is_active = false;
                            raise!(
                                &mut self.events,
                                now,
                                ConnectionAttempt {
                                    c: conn.core.record()
                                }
                            );
                            self.remove(t.slot, false);
                        }
                    }
                    TimerKind::TcpPartialClose => {
                        if !tc.is_active {
                            return;
                        }
                        let (o, r) = (tc.orig(), tc.resp());
                        if o.state != S::Inactive
                            && r.state != S::Inactive
                            && (!o.did_close || !r.did_close)
                        {
                            if o.state == S::Reset || r.state == S::Reset {
                                return;
                            }
                            raise!(
                                &mut self.events,
                                now,
                                ConnectionPartialClose {
                                    c: conn.core.record()
                                }
                            );
                            self.remove(t.slot, false);
                        }
                    }
                    TimerKind::TcpReset => {
                        if !tc.is_active {
                            return;
                        }
                        if !tc.both_closed() {
                            tc.is_active = false;
                            raise!(
                                &mut self.events,
                                now,
                                ConnectionReset {
                                    c: conn.core.record()
                                }
                            );
                        }
                        self.remove(t.slot, false);
                    }
                    TimerKind::ConnDelete => self.remove(t.slot, false),
                    TimerKind::Inactivity | TimerKind::AnalyzerExpire(_) => {}
                }
            }
        }
    }

    fn cx(&mut self, ts: Time, slot: u32) -> (Cx<'_>, &mut Conn) {
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

    // ----- TCP ------------------------------------------------------------------

    fn tcp_packet(&mut self, ts: Time, ip: &IpPacket<'_>) {
        if !self.header_fits(ts, ip, 20) {
            return;
        }
        let Some(hdr) = TcpHeader::parse(&ip.l4) else {
            return;
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
                    flip,
                )
            }
        };
        let (mut cx, conn) = self.cx(ts, slot);
        let is_orig = ip.src == conn.core.id.orig_h && hdr.sport == conn.core.id.orig_p.number;
        check_flow_label(&mut conn.core, &mut cx, is_orig, ip.flow_label);
        tcp_deliver(&mut cx, conn, is_orig, &hdr, ip);
    }

    /// Zeek's TCPSessionAdapter::IsReuse: a new SYN on a finished connection.
    fn tcp_is_reuse(&mut self, ts: Time, slot: u32, hdr: &TcpHeader) -> bool {
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

    // ----- UDP ------------------------------------------------------------------

    fn udp_packet(&mut self, ts: Time, ip: &IpPacket<'_>) {
        if !self.header_fits(ts, ip, 8) {
            return;
        }
        let b = &ip.l4;
        let sport = u16::from_be_bytes([b[0], b[1]]);
        let dport = u16::from_be_bytes([b[2], b[3]]);
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
                    flip,
                )
            }
        };
        let (mut cx, conn) = self.cx(ts, slot);
        let is_orig = ip.src == conn.core.id.orig_h && sport == conn.core.id.orig_p.number;
        check_flow_label(&mut conn.core, &mut cx, is_orig, ip.flow_label);
        let delivered = udp_deliver(&mut cx, conn, is_orig, ip);
        let uid = conn.core.uid.clone();
        if delivered && self.config.decapsulate {
            let end = (ip.l4_len_claimed() as usize).clamp(8, ip.l4.len());
            if let Some(tunnel) = self.udp_tunnel(ts, ip, (sport, dport), &ip.l4[8..end], uid) {
                self.confirm_tunnel(ts, slot, tunnel);
            }
        }
    }

    // ----- tunnels ----------------------------------------------------------------

    /// A tunnel analyzer (GTPv1, Teredo, AYIYA, Geneve) decapsulated a packet
    /// of this UDP connection: it confirms its protocol once, as Zeek's do.
    fn confirm_tunnel(&mut self, ts: Time, slot: u32, tunnel: &'static str) {
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
    fn inner_packet(&mut self, ts: Time, link: LinkType, data: &[u8], parent: String) {
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
    fn ip_tunnel(&mut self, ts: Time, ip: &IpPacket<'_>, link: LinkType, offset: usize) {
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
    fn gre_packet(&mut self, ts: Time, ip: &IpPacket<'_>) {
        match gre_payload(&ip.l4) {
            Ok((link, off)) => self.ip_tunnel(ts, ip, link, off),
            Err(name) => self.flow_weird(ts, name, ip),
        }
    }

    /// UDP-based tunnels on their well-known ports.
    fn udp_tunnel(
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

    // ----- ICMP -----------------------------------------------------------------

    fn icmp_packet(&mut self, ts: Time, ip: &IpPacket<'_>) {
        if !self.header_fits(ts, ip, 8) {
            return;
        }
        let v6 = ip.proto == 58;
        let (itype, icode) = (ip.l4[0], ip.l4[1]);
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
                    false,
                )
            }
        };
        let (mut cx, conn) = self.cx(ts, slot);
        let is_orig =
            ip.src == conn.core.id.orig_h && u16::from(itype) == conn.core.id.orig_p.number;
        check_flow_label(&mut conn.core, &mut cx, is_orig, ip.flow_label);
        icmp_deliver(&mut cx, conn, is_orig, ip);
    }

    // ----- other IP protocols ---------------------------------------------------

    /// Zeek keeps "connections" for IP protocols it has no analyzer for:
    /// ports 0, `unknown_transport`, only sizes and times.
    fn unknown_ip_packet(&mut self, ts: Time, ip: &IpPacket<'_>) {
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
                self.new_conn(ts, key, id, ip, Transport::Other, inactivity, false)
            }
        };
        let (mut cx, conn) = self.cx(ts, slot);
        let is_orig = ip.src == conn.core.id.orig_h;
        check_flow_label(&mut conn.core, &mut cx, is_orig, ip.flow_label);
        conn.core.last_time = ts;
        conn_size(&mut conn.core, &mut cx, is_orig, ip.ip_len);
    }

    // ----- weirds, functions, end ------------------------------------------------

    fn flush_weirds(&mut self) {
        if self.weirds.is_empty() {
            return;
        }
        let weirds = std::mem::take(&mut self.weirds);
        for w in weirds {
            self.summary.weirds += 1;
            match &w.scope {
                WeirdScope::Net => raise!(
                    &mut self.events,
                    w.ts,
                    NetWeird {
                        name: w.name.to_string(),
                        addl: ZString::from(w.addl.clone())
                    }
                ),
                WeirdScope::Flow { src, dst } => raise!(
                    &mut self.events,
                    w.ts,
                    FlowWeird {
                        name: w.name.to_string(),
                        src: *src,
                        dst: *dst,
                        addl: ZString::from(w.addl.clone())
                    }
                ),
                WeirdScope::Conn { .. } => {} // conn_weird is raised where the weird happens
            }
            if !self.config.write_weird_log {
                continue;
            }
            // Zeek logs a weird once per connection (connection weirds), per
            // address pair (flow weirds) or at all (network weirds).
            let logged = match &w.scope {
                WeirdScope::Conn { uid, .. } => {
                    let seen = self.weird_seen.entry(uid.clone()).or_default();
                    let first = !seen.contains(&w.name);
                    if first {
                        seen.push(w.name);
                    }
                    first
                }
                WeirdScope::Flow { src, dst } => {
                    if self.flow_weirds_seen.len() >= MAX_FLOW_WEIRD_KEYS {
                        self.flow_weirds_seen.clear();
                    }
                    self.flow_weirds_seen
                        .insert((*src, *dst, w.name), ())
                        .is_none()
                }
                WeirdScope::Net => {
                    let n = self.weird_counts.entry(w.name).or_insert(0);
                    *n += 1;
                    *n == 1
                }
            };
            if !logged {
                continue;
            }
            if let Err(e) = self.logs.write_record(&w) {
                self.log_error.get_or_insert(e);
            }
        }
    }

    /// End of input: every remaining connection is removed (Zeek's drain at
    /// termination), logs are closed and event sinks flushed.
    pub fn finish(mut self) -> std::io::Result<Summary> {
        let mut live: Vec<u32> = self.table.values().copied().collect();
        // Zeek drains in table order; sort by start time for stable output.
        live.sort_by_key(|&s| {
            let c = self.slots[s as usize]
                .conn
                .as_ref()
                .map(|c| (c.core.start_time, c.core.uid.clone()));
            c.unwrap_or_default()
        });
        for slot in live {
            self.remove(slot, true);
        }
        self.flush_weirds();
        let sinks = self.events.finish();
        if let Some(e) = self.log_error.take() {
            return Err(e);
        }
        self.logs.close()?;
        sinks?;
        Ok(self.summary.clone())
    }
}
