//! The engine: decoded packets in, connections, events and logs out.
//!
//! It keeps the connection table, advances Zeek's timers with packet time
//! (inactivity, connection attempts, close and reset linger), runs the TCP
//! state machine and reassembly, UDP and ICMP, drives the protocol
//! analyzers, and writes `conn.log` and `weird.log` when connections end.

use crate::analyzer::{AnalyzerCx, ConnView, Registry, Verdict};
use crate::dpd::Detector;
use crate::conn::events::*;
use crate::conn::reassembly::{Limits, Overflow, Piece};
use crate::conn::tcp::{self, hist, EndpointState as S, Flags, TcpConn, TcpEndpoint, TcpHeader};
use crate::conn::{self, Attached, Conn, ConnCore, ConnKey, FlowState, Transport, UidGenerator};
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
    /// Zeek's `dns_session_timeout`: a UDP connection with the DNS analyzer
    /// attached ends after this long without traffic.
    pub dns_session_timeout: Interval,
    /// Protocol violations after which an analyzer is removed from its
    /// connection (Zeek DPD framework's `max_violations`, 5); 0 keeps it whatever it reports.
    pub max_analyzer_violations: u32,
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
            dns_session_timeout: Interval::from_secs(10),
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum TimerKind {
    Inactivity,
    TcpExpire,
    TcpAttempt,
    TcpPartialClose,
    TcpReset,
    ConnDelete,
    /// The DNS analyzer's session timer (UDP only).
    DnsExpire,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Timer {
    at: Time,
    seq: u64,
    slot: u32,
    gen: u32,
    epoch: u32,
    kind: TimerKind,
}

#[derive(Default)]
struct Timers {
    heap: BinaryHeap<Reverse<Timer>>,
    seq: u64,
}

impl Timers {
    fn add(&mut self, at: Time, slot: u32, gen: u32, epoch: u32, kind: TimerKind) {
        self.seq += 1;
        self.heap.push(Reverse(Timer {
            at,
            seq: self.seq,
            slot,
            gen,
            epoch,
            kind,
        }));
    }
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
        if matches!(proto, Proto::Tcp | Proto::Udp) {
            for spec in self.registry.for_port(proto, core.id.resp_p.number) {
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
        let has_dns =
            proto == Proto::Udp && analyzers.iter().any(|a| a.tag.eq_ignore_ascii_case("DNS"));
        let dpd = if matches!(proto, Proto::Tcp | Proto::Udp) { self.detector.start(proto) } else { None };
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
        if has_dns {
            let at = ts.add(self.config.dns_session_timeout);
            self.timers.add(at, slot, gen, 0, TimerKind::DnsExpire);
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
                apply_verdict(core, a, cx.verdict, &mut self.events, ts, self.config.max_analyzer_violations);
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
            TimerKind::DnsExpire => {
                // Zeek allows a second of slack before expiring the session.
                let timeout = self.config.dns_session_timeout;
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
                    self.timers
                        .add(at, t.slot, t.gen, t.epoch, TimerKind::DnsExpire);
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
                    TimerKind::Inactivity | TimerKind::DnsExpire => {}
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
        let Some(conn) = self.slots.get_mut(slot as usize).and_then(|s| s.conn.as_mut()) else { return };
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

    fn find(&self, cid: &ConnId) -> Option<&Conn> {
        self.table.values().copied().find_map(|s| {
            let c = self.slots[s as usize].conn.as_ref()?;
            (c.core.id == *cid).then_some(c)
        })
    }

    fn find_mut(&mut self, cid: &ConnId) -> Option<&mut Conn> {
        let proto = match cid.resp_p.proto {
            Proto::Tcp => 6,
            Proto::Udp => 17,
            _ => {
                return self
                    .find(cid)
                    .map(|c| c.key)
                    .and_then(|k| self.table.get(&k).copied())
                    .and_then(|s| self.slots[s as usize].conn.as_mut())
            }
        };
        let key = ConnKey::new(
            (cid.orig_h, cid.orig_p.number),
            (cid.resp_h, cid.resp_p.number),
            proto,
            false,
            (None, None),
        );
        let slot = match self.table.get(&key) {
            Some(s) => *s,
            None => self
                .find(cid)
                .map(|c| c.key)
                .and_then(|k| self.table.get(&k).copied())?,
        };
        self.slots[slot as usize]
            .conn
            .as_mut()
            .filter(|c| c.core.id == *cid)
    }

    /// `get_orig_seq`: the originator's highest sequence number, 0 if unknown.
    pub fn get_orig_seq(&mut self, cid: &ConnId) -> u64 {
        self.seq_of(cid, true)
    }
    /// `get_resp_seq`.
    pub fn get_resp_seq(&mut self, cid: &ConnId) -> u64 {
        self.seq_of(cid, false)
    }
    fn seq_of(&mut self, cid: &ConnId, orig: bool) -> u64 {
        match self.find_mut(cid).map(|c| &c.core.transport) {
            Some(Transport::Tcp(t)) => {
                let e = if orig { t.orig() } else { t.resp() };
                TcpEndpoint::full_seq(e.last_seq, e.seq_wraps)
            }
            _ => 0,
        }
    }
    /// `set_current_conn_bytes_threshold`; false if the connection is unknown.
    pub fn set_current_conn_bytes_threshold(
        &mut self,
        cid: &ConnId,
        threshold: u64,
        is_orig: bool,
    ) -> bool {
        match self.find_mut(cid) {
            Some(c) => {
                c.core.size[if is_orig { 0 } else { 1 }].bytes_threshold = threshold;
                true
            }
            None => false,
        }
    }
    pub fn set_current_conn_packets_threshold(
        &mut self,
        cid: &ConnId,
        threshold: u64,
        is_orig: bool,
    ) -> bool {
        match self.find_mut(cid) {
            Some(c) => {
                c.core.size[if is_orig { 0 } else { 1 }].pkts_threshold = threshold;
                true
            }
            None => false,
        }
    }
    pub fn get_current_conn_bytes_threshold(&mut self, cid: &ConnId, is_orig: bool) -> u64 {
        self.find_mut(cid).map_or(0, |c| {
            c.core.size[if is_orig { 0 } else { 1 }].bytes_threshold
        })
    }
    pub fn get_current_conn_packets_threshold(&mut self, cid: &ConnId, is_orig: bool) -> u64 {
        self.find_mut(cid).map_or(0, |c| {
            c.core.size[if is_orig { 0 } else { 1 }].pkts_threshold
        })
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
        self.events.finish();
        if let Some(e) = self.log_error.take() {
            return Err(e);
        }
        self.logs.close()?;
        Ok(self.summary.clone())
    }
}

/// libpcap's number for raw 802.11 frames.
const LINKTYPE_IEEE802_11: u32 = 105;

/// The IP packets in an unprotected 802.11 data frame (LLC/SNAP, and the
/// subframes of an A-MSDU): (ethertype, packet).
fn ieee80211_ip_payloads(b: &[u8]) -> Vec<&[u8]> {
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
fn looks_like_teredo(payload: &[u8]) -> bool {
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
fn gre_payload(b: &[u8]) -> Result<(LinkType, usize), &'static str> {
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

// ----- helpers shared by the protocol handlers -------------------------------------

fn conn_weird(
    core: &mut ConnCore,
    cx: &mut Cx<'_>,
    name: &'static str,
    addl: String,
    source: &'static str,
) {
    core.did_weird = true;
    raise!(
        cx.events,
        cx.ts,
        ConnWeird {
            name: name.to_string(),
            c: core.record(),
            addl: ZString::from(addl.clone())
        }
    );
    cx.weirds.push(Weird {
        ts: cx.ts,
        name,
        addl,
        scope: WeirdScope::Conn {
            id: core.id,
            uid: core.uid.clone(),
        },
        source,
    });
}

fn check_flow_label(core: &mut ConnCore, cx: &mut Cx<'_>, is_orig: bool, label: u32) {
    if !core.id.orig_h.is_ipv6() {
        return;
    }
    let i = if is_orig { 0 } else { 1 };
    let old = core.flow_labels[i];
    if old != label {
        // Zeek only complains once both sides were seen with a label.
        if old != 0 || core.size[i].pkts > 0 {
            conn_weird(
                core,
                cx,
                "changed_flow_label",
                format!("{old} != {label}"),
                "IP",
            );
        }
        core.flow_labels[i] = label;
    }
}

fn apply_verdict(
    core: &mut ConnCore,
    a: &mut Attached,
    verdict: Verdict,
    events: &mut Events,
    ts: Time,
    max_violations: u32,
) -> bool {
    match verdict {
        Verdict::Undecided => true,
        Verdict::Confirmed => {
            if !a.confirmed {
                a.confirmed = true;
                let svc = a.tag.to_ascii_lowercase();
                if !core.service.contains(&svc) {
                    core.service.push(svc);
                }
                raise!(
                    events,
                    ts,
                    ProtocolConfirmation {
                        c: core.record(),
                        atype: format!("Analyzer::ANALYZER_{}", a.tag),
                        aid: a.aid
                    }
                );
            }
            true
        }
        Verdict::Violation(reason) => {
            // Zeek marks a connection whose analyzer hit a violation with `X`.
            core.check_history(1 << 30, 'X');
            raise!(
                events,
                ts,
                ProtocolViolation {
                    c: core.record(),
                    atype: format!("Analyzer::ANALYZER_{}", a.tag),
                    aid: a.aid,
                    reason: ZString::from(reason)
                }
            );
            a.violations += 1;
            max_violations == 0 || a.violations < max_violations
        }
    }
}

/// What to hand to analyzers.
enum Feed<'d> {
    Data(&'d [u8]),
    Gap(u64),
    Eof,
}

fn drive(conn: &mut Conn, cx: &mut Cx<'_>, is_orig: bool, feed: Feed<'_>) {
    detect(conn, cx, is_orig, &feed);
    let Conn {
        core, analyzers, removed, ..
    } = conn;
    let mut i = 0;
    while i < analyzers.len() {
        let a = &mut analyzers[i];
        let mut acx = AnalyzerCx {
            ts: cx.ts,
            conn: &*core,
            events: cx.events,
            weirds: cx.weirds,
            verdict: Verdict::Undecided,
            tag: a.tag,
            flip: false,
        };
        match feed {
            Feed::Data(d) => a.analyzer.deliver(&mut acx, is_orig, d),
            Feed::Gap(n) => a.analyzer.undelivered(&mut acx, is_orig, n),
            Feed::Eof => a.analyzer.end_of_data(&mut acx, is_orig),
        }
        let (verdict, flip) = (acx.verdict, acx.flip);
        if flip {
            core.flip_roles();
        }
        if apply_verdict(core, a, verdict, cx.events, cx.ts, cx.cfg.max_analyzer_violations) {
            i += 1;
        } else {
            let mut gone = analyzers.remove(i);
            removed.push(gone.tag);
            let mut acx = AnalyzerCx {
                ts: cx.ts,
                conn: &*core,
                events: cx.events,
                weirds: cx.weirds,
                verdict: Verdict::Undecided,
                tag: gone.tag,
                flip: false,
            };
            gone.analyzer.done(&mut acx);
        }
    }
}

/// Payload detection: attaches analyzers whose signature this delivery
/// completes, replaying the bytes they missed, before `drive` hands it on.
fn detect(conn: &mut Conn, cx: &mut Cx<'_>, is_orig: bool, feed: &Feed<'_>) {
    let Some(st) = conn.dpd.as_mut() else { return };
    let found = match feed {
        Feed::Data(d) => {
            let (analyzers, removed) = (&conn.analyzers, &conn.removed);
            let attached = |tag: &str| analyzers.iter().any(|a| a.tag == tag) || removed.contains(&tag);
            cx.detector.data(st, is_orig, d, attached)
        }
        Feed::Gap(_) => {
            cx.detector.gap(st, is_orig);
            crate::dpd::Found::default()
        }
        Feed::Eof => crate::dpd::Found::default(),
    };
    if st.finished() {
        conn.dpd = None;
    }
    for tag in found.late {
        let svc = tag.to_ascii_lowercase();
        if !conn.core.speculative_service.contains(&svc) {
            conn.core.speculative_service.push(svc);
        }
    }
    for spec in found.attach {
        let mut a = Attached { tag: spec.tag, aid: *cx.next_aid, analyzer: (spec.new)(), confirmed: false, violations: 0 };
        *cx.next_aid += 1;
        let mut keep = true;
        for (orig, bytes) in &found.replay {
            let mut acx = AnalyzerCx {
                ts: cx.ts,
                conn: &conn.core,
                events: cx.events,
                weirds: cx.weirds,
                verdict: Verdict::Undecided,
                tag: a.tag,
                flip: false,
            };
            a.analyzer.deliver(&mut acx, *orig, bytes);
            let (verdict, flip) = (acx.verdict, acx.flip);
            if flip {
                conn.core.flip_roles();
            }
            if !apply_verdict(&mut conn.core, &mut a, verdict, cx.events, cx.ts, cx.cfg.max_analyzer_violations) {
                keep = false;
                break;
            }
        }
        if keep {
            conn.analyzers.push(a);
        } else {
            conn.removed.push(a.tag);
        }
    }
}

fn conn_size(core: &mut ConnCore, cx: &mut Cx<'_>, is_orig: bool, ip_len: u32) {
    let i = if is_orig { 0 } else { 1 };
    let s = &mut core.size[i];
    s.pkts += 1;
    s.ip_bytes += u64::from(ip_len);
    let (pkts, bytes, bt, pt) = (s.pkts, s.ip_bytes, s.bytes_threshold, s.pkts_threshold);
    if bt != 0 && bytes >= bt {
        core.size[i].bytes_threshold = 0;
        raise!(
            cx.events,
            cx.ts,
            ConnBytesThresholdCrossed {
                c: core.record(),
                threshold: bt,
                is_orig
            }
        );
    }
    if pt != 0 && pkts >= pt {
        core.size[i].pkts_threshold = 0;
        raise!(
            cx.events,
            cx.ts,
            ConnPacketsThresholdCrossed {
                c: core.record(),
                threshold: pt,
                is_orig
            }
        );
    }
}

fn tcp_of(core: &mut ConnCore) -> &mut TcpConn {
    match &mut core.transport {
        Transport::Tcp(t) => t,
        _ => unreachable!("TCP handler on a non-TCP connection"),
    }
}

fn tcp_ref(core: &ConnCore) -> &TcpConn {
    match &core.transport {
        Transport::Tcp(t) => t,
        _ => unreachable!("TCP handler on a non-TCP connection"),
    }
}

/// Zeek's scaled history entry plus its threshold event.
fn scaled(core: &mut ConnCore, cx: &mut Cx<'_>, e: usize, which: u8) {
    let t = tcp_of(core);
    let is_orig = t.eps[e].is_orig;
    let (mut cnt, mut thr, upper) = {
        let ep = &t.eps[e];
        match which {
            b'c' => (ep.chk.0, ep.chk.1, 'C'),
            b't' => (ep.rxmt.0, ep.rxmt.1, 'T'),
            b'w' => (ep.win0.0, ep.win0.1, 'W'),
            _ => (ep.gap.0, ep.gap.1, 'G'),
        }
    };
    let before = thr;
    let code = if is_orig {
        upper
    } else {
        upper.to_ascii_lowercase()
    };
    let hit = core.scaled_history(code, &mut cnt, &mut thr);
    let ep = &mut tcp_of(core).eps[e];
    match which {
        b'c' => ep.chk = (cnt, thr),
        b't' => ep.rxmt = (cnt, thr),
        b'w' => ep.win0 = (cnt, thr),
        _ => ep.gap = (cnt, thr),
    }
    if hit && before > 1 {
        let threshold = u64::from(before);
        match which {
            b'c' => raise!(
                cx.events,
                cx.ts,
                TcpMultipleChecksumErrors {
                    c: core.record(),
                    is_orig,
                    threshold
                }
            ),
            b't' => raise!(
                cx.events,
                cx.ts,
                TcpMultipleRetransmissions {
                    c: core.record(),
                    is_orig,
                    threshold
                }
            ),
            b'w' => raise!(
                cx.events,
                cx.ts,
                TcpMultipleZeroWindows {
                    c: core.record(),
                    is_orig,
                    threshold
                }
            ),
            _ => {}
        }
    }
}

fn check_hist(core: &mut ConnCore, e: usize, mask: u32, code: char) -> bool {
    let is_orig = tcp_of(core).eps[e].is_orig;
    let (mask, code) = if is_orig {
        (mask, code)
    } else {
        (mask << 16, code.to_ascii_lowercase())
    };
    core.check_history(mask, code)
}

fn add_hist(core: &mut ConnCore, e: usize, code: char) {
    let is_orig = tcp_of(core).eps[e].is_orig;
    core.add_history(if is_orig {
        code
    } else {
        code.to_ascii_lowercase()
    });
}

fn set_state(core: &mut ConnCore, cx: &mut Cx<'_>, conn_epochs: &mut u32, e: usize, new: S) {
    let t = tcp_of(core);
    let old = t.eps[e].state;
    if new == old {
        return;
    }
    let peer_state = t.eps[1 - e].state;
    t.eps[e].prev_state = old;
    t.eps[e].state = new;
    if !new.is_handshake() && old.is_handshake() && peer_state.is_handshake() {
        // The handshake is over: TCP's own inactivity timeout applies now.
        let to = cx.cfg.timeouts.tcp_inactivity_timeout;
        if core.inactivity_timeout != to {
            core.inactivity_timeout = to;
            *conn_epochs += 1;
            cx.timers.add(
                core.last_time.add(to),
                cx.slot,
                cx.gen,
                *conn_epochs,
                TimerKind::Inactivity,
            );
        }
    }
}

fn add_analyzer_timer(conn: &Conn, cx: &mut Cx<'_>, at: Time, kind: TimerKind) {
    cx.timers
        .add(at, cx.slot, cx.gen, conn.analyzer_epoch, kind);
}

fn relative_seq(ep: &TcpEndpoint, cur: u32, last: u32, mut wraps: u32) -> (u64, bool) {
    let delta = tcp::seq_delta(cur, last);
    if delta < 0 {
        if wraps > 0 && cur > last {
            wraps -= 1;
        }
    } else if delta > 0 && cur < last {
        wraps += 1;
    }
    if wraps == 0 {
        let d = tcp::seq_delta(cur, ep.start_seq);
        return (i64::from(d) as u64, d < 0);
    }
    (ep.relative(cur, wraps), false)
}

const TOO_LARGE_SEQ_DELTA: i32 = 1_048_576;

/// One TCP segment (Zeek's TCPAnalyzer::DeliverPacket and
/// TCPSessionAdapter::Process).
fn tcp_deliver(
    cx: &mut Cx<'_>,
    conn: &mut Conn,
    is_orig: bool,
    hdr: &TcpHeader,
    ip: &IpPacket<'_>,
) {
    let claimed = ip.l4_len_claimed() as usize;
    let remaining = ip.l4.len();
    let len_total = if claimed == 0 { remaining } else { claimed };
    if hdr.hdr_len < 20 {
        conn_weird(
            &mut conn.core,
            cx,
            "bad_TCP_header_len",
            String::new(),
            "TCP",
        );
        return;
    }
    if hdr.hdr_len > len_total || hdr.hdr_len > remaining {
        conn_weird(&mut conn.core, cx, "truncated_header", String::new(), "TCP");
        return;
    }
    let len = len_total - hdr.hdr_len; // payload length the IP header promises
    let payload = &ip.l4[hdr.hdr_len..];
    let caplen = payload.len();
    let e = tcp_ref(&conn.core).idx(is_orig);
    let p = 1 - e;

    if !cx.cfg.ignore_checksums
        && remaining >= len_total
        && !tcp::transport_checksum_ok(ip.src, ip.dst, 6, &ip.l4[..len_total])
    {
        conn_weird(&mut conn.core, cx, "bad_TCP_checksum", String::new(), "TCP");
        scaled(&mut conn.core, cx, e, b'c');
        return;
    }

    let flags = hdr.flags;
    let base_seq = hdr.seq;
    let ack_seq = hdr.ack;
    {
        let t = tcp_of(&mut conn.core);
        // SetPartialStatus
        if is_orig {
            if t.first_packet_seen & 1 == 0 {
                t.is_partial = !flags.syn() || flags.ack();
            }
        } else if t.first_packet_seen & 2 == 0 && !t.is_partial {
            t.is_partial = !flags.syn();
        }
    }
    let mut seg_len = len as i64;
    if flags.syn() {
        seg_len += 1;
    }
    if flags.fin() {
        seg_len += 1;
    }
    if flags.rst() {
        seg_len -= len as i64;
    }
    let seq_one_past = base_seq.wrapping_add(seg_len as u32);

    // init_endpoint
    {
        let t = tcp_of(&mut conn.core);
        let size_nonzero = t.eps[e].size(&t.eps[p]) > 0;
        let ep = &mut t.eps[e];
        let mut weirds: [Option<&'static str>; 2] = [None, None];
        match ep.state {
            S::Inactive => {
                if flags.syn() {
                    ep.init_seqs(base_seq, base_seq, seq_one_past);
                } else {
                    let s = base_seq.wrapping_sub(1);
                    ep.init_seqs(s, s, base_seq);
                }
                ep.last_time = cx.ts;
            }
            S::SynSent | S::SynAckSent => {
                if flags.syn() && base_seq != ep.start_seq {
                    weirds[0] = Some("SYN_seq_jump");
                    ep.init_seqs(base_seq, base_seq, seq_one_past);
                }
            }
            S::Established | S::Partial => {
                if flags.syn() {
                    if size_nonzero {
                        weirds[0] = Some("SYN_inside_connection");
                    }
                    if base_seq != ep.start_seq {
                        weirds[1] = Some("SYN_seq_jump");
                    }
                    ep.init_seqs(base_seq, base_seq, seq_one_past);
                }
            }
            S::Reset => {
                if flags.syn() && ep.prev_state == S::Inactive {
                    ep.init_seqs(base_seq, base_seq, seq_one_past);
                }
            }
            S::Closed => {}
        }
        for w in weirds.into_iter().flatten() {
            conn_weird(&mut conn.core, cx, w, String::new(), "TCP");
        }
    }

    let (rel_seq, seq_underflow) = {
        let ep = &tcp_ref(&conn.core).eps[e];
        relative_seq(ep, base_seq, ep.last_seq, ep.seq_wraps)
    };
    if seq_underflow && !flags.rst() {
        conn_weird(
            &mut conn.core,
            cx,
            "TCP_seq_underflow_or_misorder",
            String::new(),
            "TCP",
        );
    }

    // update_history
    let bits = u8::from(flags.syn()) + u8::from(flags.fin()) + u8::from(flags.rst());
    if bits > 1 {
        if flags.fin() && flags.rst() {
            check_hist(&mut conn.core, e, hist::FIN_RST, 'I');
        } else {
            check_hist(&mut conn.core, e, hist::MULTI_FLAG, 'Q');
        }
    } else if bits == 1 {
        if flags.syn() {
            let code = if flags.ack() { 'H' } else { 'S' };
            if check_hist(&mut conn.core, e, hist::SYN, code)
                && rel_seq != tcp_ref(&conn.core).eps[e].hist_last_syn
            {
                add_hist(&mut conn.core, e, code);
            }
            tcp_of(&mut conn.core).eps[e].hist_last_syn = rel_seq;
        }
        if flags.fin() {
            let end = rel_seq.wrapping_add(len as u64);
            if check_hist(&mut conn.core, e, hist::FIN, 'F')
                && end != tcp_ref(&conn.core).eps[e].hist_last_fin
            {
                add_hist(&mut conn.core, e, 'F');
            }
            tcp_of(&mut conn.core).eps[e].hist_last_fin = end;
        }
        if flags.rst() {
            if check_hist(&mut conn.core, e, hist::RST, 'R')
                && rel_seq != tcp_ref(&conn.core).eps[e].hist_last_rst
            {
                add_hist(&mut conn.core, e, 'R');
            }
            tcp_of(&mut conn.core).eps[e].hist_last_rst = rel_seq;
        }
    } else if len > 0 {
        check_hist(&mut conn.core, e, hist::DATA, 'D');
    } else if flags.ack() {
        check_hist(&mut conn.core, e, hist::ACK, 'A');
    }

    // update_window
    {
        let t = tcp_ref(&conn.core);
        let ep = &t.eps[e];
        let scale = ep.window_scale.min(14);
        let window = u32::from(hdr.window) << scale;
        let zero =
            window == 0 && !flags.rst() && t.eps[p].state != S::Closed && ep.state != S::Reset;
        let mut recision = false;
        let mut accept = false;
        if !flags.syn()
            && !flags.fin()
            && !flags.rst()
            && ep.state != S::Closed
            && ep.state != S::Reset
            && tcp::seq_delta(base_seq, ep.window_seq) >= 0
            && tcp::seq_delta(ack_seq, ep.window_ack_seq) >= 0
        {
            let new_edge = ack_seq.wrapping_add(window);
            let old_edge = ep.window_ack_seq.wrapping_add(ep.window);
            let advance = tcp::seq_delta(new_edge, old_edge);
            if advance < 0 && (-(advance as i64)) >= (1i64 << scale) {
                recision = true;
            }
            accept = true;
        }
        if zero {
            scaled(&mut conn.core, cx, e, b'w');
        }
        if recision {
            conn_weird(&mut conn.core, cx, "window_recision", String::new(), "TCP");
        }
        if accept {
            let ep = &mut tcp_of(&mut conn.core).eps[e];
            ep.window = window;
            ep.window_ack_seq = ack_seq;
            ep.window_seq = base_seq;
        }
    }

    if !tcp_ref(&conn.core).both_closed() {
        conn.core.last_time = cx.ts;
    }

    let options = &ip.l4[20..hdr.hdr_len];
    if flags.syn() {
        if flags.rst() {
            conn_weird(&mut conn.core, cx, "TCP_christmas", String::new(), "TCP");
        }
        if flags.urg() {
            conn_weird(&mut conn.core, cx, "baroque_SYN", String::new(), "TCP");
        }
        if len > 0 {
            conn_weird(&mut conn.core, cx, "SYN_with_data", String::new(), "TCP");
        }
        let o = tcp::syn_options(options);
        // init_window
        {
            let t = tcp_of(&mut conn.core);
            if o.win_scale < 0 {
                t.eps[e].window_scale = 0;
                if flags.ack() {
                    t.eps[p].window_scale = 0;
                }
            } else {
                let scale = o.win_scale.min(14) as u32;
                t.eps[e].window_scale = scale;
                t.eps[e].window_seq = base_seq;
                t.eps[e].window_ack_seq = ack_seq;
                t.eps[p].window_seq = ack_seq;
                t.eps[p].window_ack_seq = base_seq;
            }
        }
        if o.win_scale > 14 && !conn.core.did_weird {
            conn_weird(
                &mut conn.core,
                cx,
                "TCP_scale_range",
                o.win_scale.to_string(),
                "TCP",
            );
        }
        raise!(
            cx.events,
            cx.ts,
            ConnectionSynPacket {
                c: conn.core.record(),
                pkt: SynPacket {
                    is_orig,
                    df: false,
                    ttl: u64::from(ip.ttl),
                    size: u64::from(ip.ip_len),
                    win_size: u64::from(hdr.window),
                    win_scale: o.win_scale,
                    mss: o.mss,
                    sack_ok: o.sack_ok,
                    tsval: o.tsval,
                    tsecr: o.tsecr,
                },
            }
        );
    }
    if flags.fin() {
        let ep = &mut tcp_of(&mut conn.core).eps[e];
        ep.fin_cnt += 1;
        ep.fin_seq = rel_seq.wrapping_add(seg_len as u64);
    }
    if flags.rst() {
        tcp_of(&mut conn.core).eps[e].rst_cnt += 1;
    }

    let mut rel_ack: u64 = 0;
    if flags.ack() {
        let t = tcp_ref(&conn.core);
        if is_orig && !t.seen_first_ack && matches!(t.eps[e].state, S::Established | S::SynSent) {
            tcp_of(&mut conn.core).seen_first_ack = true;
            raise!(
                cx.events,
                cx.ts,
                ConnectionFirstAck {
                    c: conn.core.record()
                }
            );
        }
        let t = tcp_ref(&conn.core);
        if t.eps[p].state == S::Inactive {
            rel_ack = 1;
            if !flags.syn()
                && !flags.fin()
                && !flags.rst()
                && matches!(t.eps[e].state, S::SynSent | S::SynAckSent | S::Established)
                && !conn.core.did_weird
            {
                conn_weird(
                    &mut conn.core,
                    cx,
                    "possible_split_routing",
                    String::new(),
                    "TCP",
                );
            }
            let s = ack_seq.wrapping_sub(1);
            tcp_of(&mut conn.core).eps[p].init_seqs(s, s, s);
        } else {
            let pe = &t.eps[p];
            let (ra, underflow) = relative_seq(pe, ack_seq, pe.ack_seq, pe.ack_wraps);
            if underflow {
                rel_ack = 0;
                conn_weird(
                    &mut conn.core,
                    cx,
                    "TCP_ack_underflow_or_misorder",
                    String::new(),
                    "TCP",
                );
            } else {
                rel_ack = ra;
                if !flags.rst() {
                    let pe = &mut tcp_of(&mut conn.core).eps[p];
                    let delta = tcp::seq_delta(ack_seq, pe.ack_seq);
                    if !(ack_seq == 0 && delta > TOO_LARGE_SEQ_DELTA) && delta > 0 {
                        pe.update_ack_seq(ack_seq);
                    }
                }
            }
        }
    }

    // update_last_seq
    let delta_last = {
        let ep = &mut tcp_of(&mut conn.core).eps[e];
        let delta = tcp::seq_delta(seq_one_past, ep.last_seq);
        let mut rexmit = false;
        if (flags.syn() || flags.rst())
            && !(-TOO_LARGE_SEQ_DELTA..=TOO_LARGE_SEQ_DELTA).contains(&delta)
        {
        } else if flags.fin() && ep.last_seq == ep.start_seq.wrapping_add(1) {
            ep.update_last_seq(seq_one_past);
        } else if ep.state == S::Reset {
        } else if delta > 0 {
            ep.update_last_seq(seq_one_past);
        } else if len > 0 {
            rexmit = true;
        }
        ep.last_time = cx.ts;
        if rexmit {
            scaled(&mut conn.core, cx, e, b't');
            let t = tcp_ref(&conn.core);
            let ep = &t.eps[e];
            let in_flight = ep
                .relative(ep.last_seq, ep.seq_wraps)
                .saturating_sub(ep.relative(ep.ack_seq, ep.ack_wraps));
            let window = u64::from(t.eps[p].window);
            raise!(
                cx.events,
                cx.ts,
                TcpRexmit {
                    c: conn.core.record(),
                    is_orig,
                    seq: rel_seq,
                    len: len as u64,
                    data_in_flight: in_flight,
                    window
                }
            );
        }
        delta
    };

    let (do_close, gen_event) = tcp_state_machine(
        cx, conn, e, is_orig, base_seq, ack_seq, len, delta_last, flags,
    );

    if flags.ack() {
        ack_received(cx, conn, p, rel_ack);
    }

    raise!(
        cx.events,
        cx.ts,
        TcpPacket {
            c: conn.core.record(),
            is_orig,
            flags: flags.as_string(),
            seq: rel_seq,
            ack: if flags.ack() { rel_ack } else { 0 },
            len: len as u64,
            payload: ZString::copy_from(&payload[..caplen.min(len)]),
        }
    );
    if hdr.hdr_len > 20 && cx.events.wants(<TcpOption as crate::event::TypedEvent>::ID) {
        for (opt, optlen) in tcp::option_list(options) {
            raise!(
                cx.events,
                cx.ts,
                TcpOption {
                    c: conn.core.record(),
                    is_orig,
                    opt: u64::from(opt),
                    optlen: u64::from(optlen)
                }
            );
        }
    }
    {
        let t = tcp_of(&mut conn.core);
        t.first_packet_seen |= if is_orig { 1 } else { 2 };
    }

    let rel_data_seq = if flags.syn() {
        rel_seq.wrapping_add(1)
    } else {
        rel_seq
    };
    if len > 0 && !flags.rst() && !seq_underflow {
        if caplen >= len {
            data_sent(cx, conn, e, rel_data_seq, &payload[..len]);
        } else {
            conn_weird(
                &mut conn.core,
                cx,
                "truncated_tcp_payload",
                String::new(),
                "TCP",
            );
        }
    }
    check_eof(cx, conn, e);
    if do_close {
        connection_closed(cx, conn, e, gen_event);
    }
    conn_size(&mut conn.core, cx, is_orig, ip.ip_len);
}

#[allow(clippy::too_many_arguments)]
fn tcp_state_machine(
    cx: &mut Cx<'_>,
    conn: &mut Conn,
    e: usize,
    is_orig: bool,
    base_seq: u32,
    ack_seq: u32,
    len: usize,
    delta_last: i32,
    flags: Flags,
) -> (bool, bool) {
    let p = 1 - e;
    let mut do_close = false;
    let mut gen_event = false;
    let state = |conn: &Conn, i: usize| tcp_ref(&conn.core).eps[i].state;
    let mut epoch = conn.inactivity_epoch;
    macro_rules! weird {
        ($n:expr) => {
            conn_weird(&mut conn.core, cx, $n, String::new(), "TCP")
        };
    }
    macro_rules! set {
        ($i:expr, $s:expr) => {
            set_state(&mut conn.core, cx, &mut epoch, $i, $s)
        };
    }
    match state(conn, e) {
        S::Inactive => {
            if flags.syn() {
                if is_orig {
                    if flags.ack() {
                        weird!("connection_originator_SYN_ack");
                        set!(e, S::SynAckSent);
                    } else {
                        set!(e, S::SynSent);
                    }
                    let at = cx.ts.add(cx.cfg.timeouts.tcp_attempt_delay);
                    add_analyzer_timer(conn, cx, at, TimerKind::TcpAttempt);
                } else {
                    if flags.ack() {
                        let pe = &tcp_ref(&conn.core).eps[p];
                        if pe.state != S::Inactive && pe.state != S::Partial {
                            let between = tcp::seq_delta(ack_seq, pe.start_seq) >= 0
                                && tcp::seq_delta(pe.last_seq, ack_seq) >= 0;
                            if !between {
                                weird!("bad_SYN_ack");
                            }
                        }
                    } else if state(conn, p) == S::SynAckSent
                        && base_seq == tcp_ref(&conn.core).eps[e].start_seq
                    {
                        // SYN and SYN-ACK seen in reverse order: flip and establish.
                        tcp_of(&mut conn.core).is_partial = false;
                        conn.core.flip_roles();
                        set!(p, S::Established);
                        tcp_of(&mut conn.core).first_packet_seen |= 1;
                    } else {
                        weird!("simultaneous_open");
                    }
                    if state(conn, p) == S::SynSent {
                        set!(p, S::Established);
                    } else if state(conn, p) == S::Inactive {
                        weird!("unsolicited_SYN_response");
                    }
                    set!(e, S::Established);
                    if state(conn, p) != S::Partial {
                        raise!(
                            cx.events,
                            cx.ts,
                            ConnectionEstablished {
                                c: conn.core.record()
                            }
                        );
                    }
                }
            }
            if flags.fin() {
                set!(e, S::Closed);
                do_close = true;
                gen_event = true;
                if state(conn, p) != S::Partial && !flags.syn() {
                    weird!("spontaneous_FIN");
                }
            }
            if flags.rst() {
                set!(e, S::Reset);
                let ps = state(conn, p);
                let is_reject = if is_orig {
                    ps == S::Established
                } else {
                    matches!(ps, S::SynSent | S::SynAckSent)
                };
                do_close = true;
                gen_event = !is_reject;
                if is_reject {
                    raise!(
                        cx.events,
                        cx.ts,
                        ConnectionRejected {
                            c: conn.core.record()
                        }
                    );
                } else if ps == S::Inactive {
                    weird!("spontaneous_RST");
                }
            }
            if state(conn, e) == S::Inactive {
                let orig_state = tcp_ref(&conn.core).orig().state;
                if !is_orig && len == 0 && orig_state == S::SynSent {
                    // An ack of the SYN before the SYN-ACK: not a partial connection.
                } else if flags.ack() && state(conn, p) == S::Established {
                    set!(e, S::Established);
                    tcp_of(&mut conn.core).is_partial = false;
                    tcp_of(&mut conn.core).first_packet_seen |= if is_orig { 1 } else { 2 };
                } else {
                    set!(e, S::Partial);
                    if state(conn, p) == S::Partial {
                        raise!(
                            cx.events,
                            cx.ts,
                            PartialConnection {
                                c: conn.core.record()
                            }
                        );
                    }
                }
            }
        }
        S::SynSent | S::SynAckSent => {
            let es = state(conn, e);
            if flags.syn() {
                if is_orig {
                    if flags.ack() && !flags.fin() && !flags.rst() && es != S::SynAckSent {
                        weird!("repeated_SYN_with_ack");
                    }
                } else if !flags.ack() && es != S::SynSent {
                    weird!("repeated_SYN_reply_wo_ack");
                }
            }
            if flags.fin() {
                if matches!(state(conn, p), S::Inactive | S::SynSent) {
                    weird!("inappropriate_FIN");
                }
                set!(e, S::Closed);
                do_close = true;
                gen_event = true;
            }
            if flags.rst() {
                set!(e, S::Reset);
                connection_reset(cx, conn);
                do_close = true;
            } else if len > 0 {
                weird!("data_before_established");
            }
        }
        S::Established | S::Partial => {
            if flags.syn()
                && state(conn, e) == S::Partial
                && state(conn, p) == S::Inactive
                && !flags.ack()
            {
                weird!("SYN_after_partial");
                set!(e, S::SynSent);
            }
            if flags.fin() && !flags.rst() {
                set!(e, S::Closed);
                let pe = &tcp_ref(&conn.core).eps[p];
                if pe.state == S::Reset && pe.prev_state == S::Closed {
                    set!(p, S::Closed);
                }
                do_close = true;
                gen_event = true;
            }
            if flags.rst() {
                set!(e, S::Reset);
                do_close = true;
                let pe = &tcp_ref(&conn.core).eps[p];
                if pe.state != S::Reset || pe.prev_state != S::Established {
                    connection_reset(cx, conn);
                }
            }
        }
        S::Closed => {
            if flags.syn() {
                weird!("SYN_after_close");
            }
            if flags.fin() && delta_last > 0 {
                weird!("FIN_advanced_last_seq");
            }
            if flags.rst() && state(conn, p) != S::Closed {
                set!(e, S::Reset);
                if !tcp_ref(&conn.core).eps[e].did_close {
                    do_close = true;
                }
                let at = cx.ts.add(cx.cfg.timeouts.tcp_reset_delay);
                add_analyzer_timer(conn, cx, at, TimerKind::TcpReset);
            }
        }
        S::Reset => {
            if flags.syn() {
                weird!("SYN_after_reset");
            }
            if flags.fin() {
                weird!("FIN_after_reset");
            }
            if len > 0 && !flags.rst() {
                weird!("data_after_reset");
            }
        }
    }
    conn.inactivity_epoch = epoch;
    (do_close, gen_event)
}

fn connection_reset(cx: &mut Cx<'_>, conn: &mut Conn) {
    raise!(
        cx.events,
        cx.ts,
        ConnectionReset {
            c: conn.core.record()
        }
    );
    tcp_of(&mut conn.core).is_active = false;
}

fn is_clean(ep: &TcpEndpoint) -> bool {
    ep.state == S::Established || (ep.state == S::Closed && ep.prev_state == S::Established)
}

/// Delivers reassembled pieces of endpoint `e`'s stream to the analyzers.
fn deliver_pieces(cx: &mut Cx<'_>, conn: &mut Conn, e: usize, payload: &[u8]) {
    if cx.scratch.is_empty() {
        return;
    }
    let pieces = std::mem::take(cx.scratch);
    let is_orig = tcp_ref(&conn.core).eps[e].is_orig;
    let contents = if is_orig {
        cx.cfg.tcp_content_deliver_all_orig
    } else {
        cx.cfg.tcp_content_deliver_all_resp
    };
    for piece in &pieces {
        match piece {
            Piece::Packet { seq, start, end } => {
                let data = &payload[*start..*end];
                if contents {
                    raise!(
                        cx.events,
                        cx.ts,
                        TcpContents {
                            c: conn.core.record(),
                            is_orig,
                            seq: *seq,
                            contents: ZString::copy_from(data)
                        }
                    );
                }
                drive(conn, cx, is_orig, Feed::Data(data));
            }
            Piece::Buffered { seq, data } => {
                if contents {
                    raise!(
                        cx.events,
                        cx.ts,
                        TcpContents {
                            c: conn.core.record(),
                            is_orig,
                            seq: *seq,
                            contents: ZString::copy_from(data)
                        }
                    );
                }
                drive(conn, cx, is_orig, Feed::Data(data));
            }
            Piece::Gap { len, .. } => {
                let t = tcp_ref(&conn.core);
                if is_clean(&t.eps[e]) && is_clean(&t.eps[1 - e]) {
                    scaled(&mut conn.core, cx, e, b'g');
                    conn.core.missed_bytes += len;
                }
                drive(conn, cx, is_orig, Feed::Gap(*len));
            }
        }
    }
    let mut pieces = pieces;
    pieces.clear();
    *cx.scratch = pieces;
}

fn data_sent(cx: &mut Cx<'_>, conn: &mut Conn, e: usize, seq: u64, data: &[u8]) {
    let limits = cx.cfg.reassembly;
    let max_window = cx.cfg.tcp_max_initial_window;
    let result = {
        let t = tcp_of(&mut conn.core);
        let ep = &mut t.eps[e];
        let acked = ep.relative(ep.ack_seq, ep.ack_wraps);
        let no_acks = ep.no_data_acked();
        ep.reasm
            .data_sent(seq, data, acked, no_acks, &limits, cx.scratch)
    };
    deliver_pieces(cx, conn, e, data);
    match result {
        Err(Overflow::AboveHoleWithoutAcks) => conn_weird(
            &mut conn.core,
            cx,
            "above_hole_data_without_any_acks",
            String::new(),
            "TCP",
        ),
        Err(Overflow::ExcessiveData) => conn_weird(
            &mut conn.core,
            cx,
            "excessive_data_without_further_acks",
            String::new(),
            "TCP",
        ),
        Ok(_) => {}
    }
    let inconsistent = {
        let t = tcp_of(&mut conn.core);
        let (a, b) = t.eps.split_at_mut(1);
        let (ep, peer) = if e == 0 {
            (&mut a[0], &b[0])
        } else {
            (&mut b[0], &a[0])
        };
        if ep.no_data_acked() && max_window > 0 && ep.size(peer) > max_window {
            ep.reasm.trim_delivered();
        }
        std::mem::take(&mut ep.reasm.inconsistent)
    };
    if inconsistent {
        conn_weird(
            &mut conn.core,
            cx,
            "rexmit_inconsistency",
            String::new(),
            "TCP",
        );
    }
}

fn ack_received(cx: &mut Cx<'_>, conn: &mut Conn, e: usize, rel_ack: u64) {
    {
        let t = tcp_of(&mut conn.core);
        let partial = t.is_partial;
        let ep = &mut t.eps[e];
        let mut seq = rel_ack;
        if ep.fin_cnt > 0 && seq >= ep.fin_seq {
            seq = ep.fin_seq.wrapping_sub(1);
        }
        ep.reasm.trim_to(seq, partial, cx.scratch);
    }
    deliver_pieces(cx, conn, e, &[]);
    check_eof(cx, conn, e);
}

fn data_pending(conn: &Conn, e: usize) -> bool {
    let t = tcp_ref(&conn.core);
    t.eps[e].data_pending(&t.eps[1 - e])
}

fn check_eof(cx: &mut Cx<'_>, conn: &mut Conn, e: usize) {
    let ep = &tcp_ref(&conn.core).eps[e];
    if ep.reasm.did_eof
        || !(ep.fin_cnt > 0 || ep.state == S::Closed || ep.state == S::Reset)
        || data_pending(conn, e)
    {
        return;
    }
    tcp_of(&mut conn.core).eps[e].reasm.did_eof = true;
    let is_orig = tcp_ref(&conn.core).eps[e].is_orig;
    raise!(
        cx.events,
        cx.ts,
        ConnectionEof {
            c: conn.core.record(),
            is_orig
        }
    );
    drive(conn, cx, is_orig, Feed::Eof);
    if tcp_ref(&conn.core).close_deferred {
        if data_pending(conn, e) && tcp_ref(&conn.core).both_closed() {
            conn_weird(
                &mut conn.core,
                cx,
                "pending_data_when_closed",
                String::new(),
                "TCP",
            );
        }
        let gen = tcp_ref(&conn.core).deferred_gen_event;
        connection_closed(cx, conn, e, gen);
        tcp_of(&mut conn.core).close_deferred = false;
    }
}

fn connection_closed(cx: &mut Cx<'_>, conn: &mut Conn, e: usize, mut gen_event: bool) {
    let p = 1 - e;
    if data_pending(conn, e) {
        let t = tcp_of(&mut conn.core);
        t.close_deferred = true;
        if !t.deferred_gen_event {
            t.deferred_gen_event = gen_event;
        }
        return;
    }
    let t = tcp_of(&mut conn.core);
    t.close_deferred = false;
    if t.eps[e].did_close {
        return;
    }
    t.eps[e].did_close = true;
    let (ep, pe) = (&t.eps[e], &t.eps[p]);
    let close_complete = ep.state == S::Reset || pe.did_close || pe.state == S::Inactive;
    if close_complete {
        if ep.prev_state != S::Inactive || pe.state != S::Inactive {
            let half = pe.state == S::Inactive;
            if t.deferred_gen_event {
                gen_event = true;
                t.deferred_gen_event = false;
            }
            if gen_event {
                t.is_active = false;
                if half {
                    raise!(
                        cx.events,
                        cx.ts,
                        ConnectionHalfFinished {
                            c: conn.core.record()
                        }
                    );
                } else {
                    raise!(
                        cx.events,
                        cx.ts,
                        ConnectionFinished {
                            c: conn.core.record()
                        }
                    );
                }
            }
        }
        conn.analyzer_epoch += 1;
        let at = conn.core.last_time.add(cx.cfg.timeouts.tcp_close_delay);
        add_analyzer_timer(conn, cx, at, TimerKind::ConnDelete);
    } else if ep.prev_state == S::Inactive {
        if cx
            .events
            .wants(<ConnectionPartialClose as crate::event::TypedEvent>::ID)
        {
            let at = conn
                .core
                .last_time
                .add(cx.cfg.timeouts.tcp_partial_close_delay);
            add_analyzer_timer(conn, cx, at, TimerKind::TcpPartialClose);
        }
    } else {
        let at = conn.core.last_time.add(cx.cfg.timeouts.tcp_session_timer);
        add_analyzer_timer(conn, cx, at, TimerKind::TcpExpire);
    }
}

// ----- UDP ---------------------------------------------------------------------------

/// Returns whether the datagram passed the checks (its payload may be a tunnel).
fn udp_deliver(cx: &mut Cx<'_>, conn: &mut Conn, is_orig: bool, ip: &IpPacket<'_>) -> bool {
    let claimed = ip.l4_len_claimed() as usize;
    let remaining = ip.l4.len();
    let len = if claimed == 0 { remaining } else { claimed };
    let b = &ip.l4;
    let chksum = u16::from_be_bytes([b[6], b[7]]);
    if !cx.cfg.ignore_checksums && remaining >= len {
        let bad = if ip.is_ipv6() {
            !tcp::transport_checksum_ok(ip.src, ip.dst, 17, &b[..len])
        } else {
            chksum != 0 && !tcp::transport_checksum_ok(ip.src, ip.dst, 17, &b[..len])
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
    let ulen = usize::from(u16::from_be_bytes([b[4], b[5]]));
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
    conn_size(&mut conn.core, cx, is_orig, ip.ip_len);
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

// ----- ICMP --------------------------------------------------------------------------

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

fn icmp_deliver(cx: &mut Cx<'_>, conn: &mut Conn, is_orig: bool, ip: &IpPacket<'_>) {
    let claimed = ip.l4_len_claimed() as usize;
    let remaining = ip.l4.len();
    let len = if claimed == 0 { remaining } else { claimed };
    let v6 = ip.proto == 58;
    let b = &ip.l4;
    if !cx.cfg.ignore_checksums && remaining >= len {
        let ok = if v6 {
            tcp::transport_checksum_ok(ip.src, ip.dst, 58, &b[..len])
        } else {
            tcp::fold(tcp::ones_sum(&b[..len], 0)) == 0xffff
        };
        if !ok {
            conn_weird(
                &mut conn.core,
                cx,
                "bad_ICMP_checksum",
                String::new(),
                "ICMP",
            );
            return;
        }
    }
    conn.core.last_time = cx.ts;
    let body_len = len.saturating_sub(8);
    if let Transport::Icmp(f) = &mut conn.core.transport {
        f.add_len(is_orig, body_len as u64);
    }
    if remaining >= len {
        conn_size(&mut conn.core, cx, is_orig, ip.ip_len);
    }
    let (itype, icode) = (b[0], b[1]);
    let body = &b[8..len.min(remaining).max(8)];
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
    let echo_id = u64::from(u16::from_be_bytes([b[4], b[5]]));
    let echo_seq = u64::from(u16::from_be_bytes([b[6], b[7]]));
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
        return;
    }
    let nd = |off: usize| nd_options(body.get(off..).unwrap_or(&[]));
    let addr_at = |off: usize| -> IpAddr {
        body.get(off..off + 16)
            .and_then(|s| <[u8; 16]>::try_from(s).ok())
            .map(IpAddr::from)
            .unwrap_or(IpAddr::from([0u8; 16]))
    };
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
}

fn transport_of(proto: u8) -> (Proto, u64) {
    match proto {
        6 => (Proto::Tcp, 1),
        17 => (Proto::Udp, 2),
        1 | 58 => (Proto::Icmp, 3),
        _ => (Proto::Unknown, 0),
    }
}

fn context_ports(v6: bool, proto: u8, l4: &[u8]) -> (u16, u16) {
    match proto {
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

fn empty_context() -> IcmpContext {
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
fn context4(data: &[u8]) -> IcmpContext {
    if data.len() < 20 {
        return empty_context();
    }
    let hl = usize::from(data[0] & 0x0f) * 4;
    let bad_hdr_len = hl > data.len();
    let bad_checksum = !bad_hdr_len && tcp::fold(tcp::ones_sum(&data[..hl], 0)) != 0xffff;
    let total = u64::from(u16::from_be_bytes([data[2], data[3]]));
    let frag = u16::from_be_bytes([data[6], data[7]]);
    let proto_num = data[9];
    let src = IpAddr::from([data[12], data[13], data[14], data[15]]);
    let dst = IpAddr::from([data[16], data[17], data[18], data[19]]);
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
        frag_offset: u64::from(frag & 0x1fff) * 8,
        bad_hdr_len: bad,
        bad_checksum,
        mf: frag & 0x2000 != 0,
        df: frag & 0x4000 != 0,
    }
}

/// The IPv6 packet an ICMPv6 error quotes.
fn context6(data: &[u8]) -> IcmpContext {
    if data.len() < 40 {
        return empty_context();
    }
    let src = IpAddr::from(<[u8; 16]>::try_from(&data[8..24]).unwrap_or([0; 16]));
    let dst = IpAddr::from(<[u8; 16]>::try_from(&data[24..40]).unwrap_or([0; 16]));
    let total = u64::from(u16::from_be_bytes([data[4], data[5]])) + 40;
    let mut next = data[6];
    let mut off = 40usize;
    let (mut frag_offset, mut mf) = (0u64, false);
    // Walk the extension headers to the transport header.
    loop {
        match next {
            0 | 43 | 60 if data.len() >= off + 2 => {
                let hl = (usize::from(data[off + 1]) + 1) * 8;
                next = data[off];
                off += hl;
            }
            44 if data.len() >= off + 8 => {
                let fo = u16::from_be_bytes([data[off + 2], data[off + 3]]);
                frag_offset = u64::from(fo & 0xfff8);
                mf = fo & 1 != 0;
                next = data[off];
                off += 8;
            }
            _ => break,
        }
    }
    let (mut proto, mut pnum, mut sp, mut dp, mut bad) = (Proto::Unknown, 0, 0, 0, false);
    if data.len() >= off + 4 {
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

/// Neighbor-discovery options (RFC 4861 §4.6).
fn nd_options(mut data: &[u8]) -> Vec<Icmp6NdOption> {
    let mut out = Vec::new();
    while data.len() >= 2 {
        let otype = data[0];
        let olen = usize::from(data[1]) * 8;
        if olen == 0 || olen > data.len() {
            break;
        }
        let body = &data[2..olen];
        let mut opt = Icmp6NdOption {
            otype: u64::from(otype),
            len: u64::from(data[1]),
            link_address: None,
            prefix: None,
            redirect: None,
            mtu: None,
            payload: None,
        };
        match otype {
            1 | 2 => opt.link_address = Some(ZString::copy_from(body)),
            3 if body.len() >= 30 => {
                let flags = body[1];
                let word =
                    |o: usize| u32::from_be_bytes([body[o], body[o + 1], body[o + 2], body[o + 3]]);
                let prefix = IpAddr::from(<[u8; 16]>::try_from(&body[14..30]).unwrap_or([0; 16]));
                opt.prefix = Some(serde_json::json!({
                    "prefix_len": body[0],
                    "L_flag": flags & 0x80 != 0,
                    "A_flag": flags & 0x40 != 0,
                    "valid_lifetime": word(2),
                    "preferred_lifetime": word(6),
                    "prefix": prefix.to_string(),
                }));
            }
            4 => {
                opt.redirect = Some(serde_json::Value::String(
                    ZString::copy_from(body.get(6..).unwrap_or(&[])).to_string(),
                ))
            }
            5 if body.len() >= 6 => {
                opt.mtu = Some(u64::from(u32::from_be_bytes([
                    body[2], body[3], body[4], body[5],
                ])))
            }
            _ => opt.payload = Some(ZString::copy_from(body)),
        }
        out.push(opt);
        data = &data[olen..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Layer2;
    use std::borrow::Cow;

    const C: [u8; 4] = [10, 0, 0, 1];
    const S: [u8; 4] = [10, 0, 0, 2];

    fn engine() -> Engine {
        let config = Config {
            ignore_checksums: true,
            write_conn_log: false,
            write_weird_log: false,
            ..Config::default()
        };
        let dir = std::env::temp_dir().join("netpac-engine-unit");
        Engine::new(
            config,
            Registry::default(),
            Events::new(),
            Logs::new(dir, crate::log::Format::Tsv),
        )
    }

    /// Feeds one TCP segment; `from_client` picks the direction.
    fn seg(
        e: &mut Engine,
        t: f64,
        from_client: bool,
        flags: u8,
        seq: u32,
        ack: u32,
        payload: &[u8],
    ) {
        let (src, dst, sport, dport) = if from_client {
            (C, S, 40000u16, 80u16)
        } else {
            (S, C, 80, 40000)
        };
        let mut l4 = Vec::new();
        l4.extend_from_slice(&sport.to_be_bytes());
        l4.extend_from_slice(&dport.to_be_bytes());
        l4.extend_from_slice(&seq.to_be_bytes());
        l4.extend_from_slice(&ack.to_be_bytes());
        l4.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        l4.extend_from_slice(payload);
        let ip = IpPacket {
            l2: Layer2::default(),
            src: IpAddr::from(src),
            dst: IpAddr::from(dst),
            proto: 6,
            ttl: 64,
            ip_len: 20 + l4.len() as u32,
            hdr_len: 20,
            flow_label: 0,
            l4: Cow::Owned(l4),
            bad_ip_checksum: false,
        };
        e.process_ip(Time::from_secs_f64(t), &ip);
    }

    fn states(e: &Engine) -> (S, S, String) {
        let slot = *e.table.values().next().expect("one connection");
        let conn = e.slots[slot as usize].conn.as_ref().expect("live");
        let t = tcp_ref(&conn.core);
        (t.orig().state, t.resp().state, conn.core.history.clone())
    }

    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    const FIN: u8 = 0x01;
    const RST: u8 = 0x04;

    #[test]
    fn handshake_moves_both_endpoints_to_established() {
        let mut e = engine();
        seg(&mut e, 1.0, true, SYN, 100, 0, b"");
        assert_eq!(states(&e).0, S::SynSent);
        assert_eq!(states(&e).1, S::Inactive);
        seg(&mut e, 1.1, false, SYN | ACK, 500, 101, b"");
        assert_eq!(
            (states(&e).0, states(&e).1),
            (S::Established, S::Established)
        );
        seg(&mut e, 1.2, true, ACK, 101, 501, b"");
        assert_eq!(states(&e).2, "ShA");
    }

    #[test]
    fn fin_exchange_closes_and_schedules_removal() {
        let mut e = engine();
        seg(&mut e, 1.0, true, SYN, 100, 0, b"");
        seg(&mut e, 1.1, false, SYN | ACK, 500, 101, b"");
        seg(&mut e, 1.2, true, FIN | ACK, 101, 501, b"");
        assert_eq!(states(&e).0, S::Closed);
        seg(&mut e, 1.3, false, FIN | ACK, 501, 102, b"");
        assert_eq!((states(&e).0, states(&e).1), (S::Closed, S::Closed));
        assert_eq!(e.active_connections(), 1);
        // The close delay passes with the next packet's time.
        seg(&mut e, 7.0, true, ACK, 102, 502, b"");
        let slot = *e.table.values().next().expect("a new partial connection");
        assert_eq!(
            e.slots[slot as usize]
                .conn
                .as_ref()
                .map(|c| c.core.history.as_str()),
            Some("A")
        );
    }

    #[test]
    fn responder_rst_to_syn_is_a_reject() {
        let mut e = engine();
        seg(&mut e, 1.0, true, SYN, 100, 0, b"");
        seg(&mut e, 1.1, false, RST | ACK, 0, 101, b"");
        let slot = *e.table.values().next().expect("conn");
        let conn = e.slots[slot as usize].conn.as_ref().expect("live");
        assert_eq!(conn.core.conn_state(), "REJ");
        assert!(tcp_ref(&conn.core).resp().did_close);
    }

    #[test]
    fn repeated_syn_is_one_letter_new_sequence_is_a_new_attempt() {
        let mut e = engine();
        seg(&mut e, 1.0, true, SYN, 100, 0, b"");
        seg(&mut e, 1.5, true, SYN, 100, 0, b"");
        assert_eq!(states(&e).2, "S");
        assert_eq!(e.summary.connections, 1);
        // A SYN with another sequence number is a new attempt (Zeek's IsReuse).
        seg(&mut e, 2.0, true, SYN, 900, 0, b"");
        assert_eq!(e.summary.connections, 2);
        assert_eq!(states(&e).2, "S");
    }

    #[test]
    fn zero_windows_are_recorded() {
        let mut e = engine();
        seg(&mut e, 1.0, true, SYN, 100, 0, b"");
        seg(&mut e, 1.1, false, SYN | ACK, 500, 101, b"");
        // window 0 from the responder
        let mut l4 = Vec::new();
        l4.extend_from_slice(&80u16.to_be_bytes());
        l4.extend_from_slice(&40000u16.to_be_bytes());
        l4.extend_from_slice(&501u32.to_be_bytes());
        l4.extend_from_slice(&101u32.to_be_bytes());
        l4.extend_from_slice(&[0x50, ACK, 0, 0, 0, 0, 0, 0]);
        let ip = IpPacket {
            l2: Layer2::default(),
            src: IpAddr::from(S),
            dst: IpAddr::from(C),
            proto: 6,
            ttl: 64,
            ip_len: 40,
            hdr_len: 20,
            flow_label: 0,
            l4: Cow::Owned(l4),
            bad_ip_checksum: false,
        };
        e.process_ip(Time::from_secs_f64(1.2), &ip);
        assert_eq!(states(&e).2, "Shaw");
    }

    #[test]
    fn a_huge_jump_in_time_does_not_spin_timers() {
        let mut e = engine();
        seg(&mut e, 1.0, true, SYN, 100, 0, b"");
        seg(&mut e, 1.1, false, SYN | ACK, 500, 101, b"");
        seg(&mut e, 1.2, true, ACK, 101, 501, b"");
        let started = std::time::Instant::now();
        seg(&mut e, 1.0e9, true, ACK, 101, 501, b"");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert_eq!(e.summary.connections, 2);
    }

    #[test]
    fn counterparts_pair_icmp_requests_and_replies() {
        assert_eq!(icmp_counterpart(false, 8, 0), (0, false));
        assert_eq!(icmp_counterpart(false, 3, 1), (1, true));
        assert_eq!(icmp_counterpart(true, 135, 0), (136, false));
    }

    #[test]
    fn aruba_amsdu_subframes_yield_their_ip_packets() {
        let ip1 = [
            0x45u8, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
        ];
        let mut frame = vec![0x88, 0x02, 0, 0];
        frame.extend_from_slice(&[0u8; 18]); // three addresses
        frame.extend_from_slice(&[0, 0]); // sequence control
        frame.extend_from_slice(&[0x80, 0]); // QoS control: A-MSDU present
        for _ in 0..2 {
            let mut sub = vec![0u8; 12];
            sub.extend_from_slice(&28u16.to_be_bytes());
            sub.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
            sub.extend_from_slice(&ip1);
            sub.resize(44, 0); // padded to a multiple of 4
            frame.extend_from_slice(&sub);
        }
        let got = ieee80211_ip_payloads(&frame);
        assert_eq!(got.len(), 2);
        assert_eq!(&got[0][..20], &ip1[..]);
    }

    #[test]
    fn gre_headers_parse() {
        assert_eq!(gre_payload(&[0, 0, 0x08, 0]), Ok((LinkType::Raw, 4)));
        assert_eq!(
            gre_payload(&[0x20, 0, 0x65, 0x58, 0, 0, 0, 1]),
            Ok((LinkType::Ethernet, 8))
        );
        assert_eq!(
            gre_payload(&[0x10, 0, 0x88, 0xbe, 0, 0, 0, 1]),
            Ok((LinkType::Ethernet, 16))
        );
        assert_eq!(gre_payload(&[0, 0]), Err("truncated_GRE"));
    }
}
