//! The engine: decoded packets in, connections, events and logs out.
//!
//! This file keeps the engine's state, the packet entry points, and writes
//! `conn.log` and `weird.log` when connections end. The rest, by seam:
//! `transport.rs` (from a packet to its connection, per transport),
//! `table.rs` (the connection table: keys, slots, creating a connection),
//! `timers.rs` (Zeek's timers: inactivity, connection attempts, close and
//! reset linger, analyzers' expire timers), `tunnel.rs` (decapsulation).
//! Each transport has its session of its own, as free functions over the
//! connection context (`Cx`): `tcp_session.rs` (state machine, reassembly,
//! delivery, close), `udp_session.rs`, `icmp_session.rs`; `session.rs` holds
//! what they share (driving and detecting analyzers, verdicts, sizes, history).

use crate::analyzer::{AnalyzerCx, ConnView, Registry, Verdict};
use crate::conn::events::*;
use crate::conn::reassembly::{Limits, Overflow, Piece};
use crate::conn::tcp::{self, hist, EndpointState as S, Flags, TcpConn, TcpEndpoint, TcpHeader};
use crate::conn::{self, Attached, Conn, ConnCore, ConnKey, Detection, FlowState, Transport, UidGenerator};
use crate::dpd::Detector;
use crate::event::Events;
use crate::packet::{IpPacket, LinkType, RawPacket};
use crate::raise;
use crate::record::{EncapsulatingConn, Icmp6Mldv2Mar, Icmp6NdOption, IcmpConn, IcmpContext, SynPacket};
use crate::weird::{Weird, WeirdScope};
use crate::wire::checksum;
use crate::zeek::{ConnId, Interval, Port, Proto, Time, ZString};
use rustc_hash::FxHashMap;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

mod bifs;
mod icmp_session;
mod session;
mod table;
mod tcp_session;
#[cfg(test)]
mod tests;
mod timers;
mod transport;
mod tunnel;
#[cfg(test)]
mod tunnel_tests;
mod udp_session;

pub use bifs::{ContentsDirection, ContentsFile};
pub use icmp_session::icmp_counterpart;
use icmp_session::*;
use session::*;
use table::Slot;
use tcp_session::*;
use timers::*;
use tunnel::TUNNEL_IP;
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

/// Ports Zeek's default scripts register as `likely_server_ports` (the set a
/// Zeek 8.2.2 without Spicy prints); a first packet *from* one of these flips
/// the connection's direction.
pub const LIKELY_SERVER_TCP: &[u16] = &[
    21, 22, 25, 53, 79, 80, 81, 88, 135, 139, 143, 443, 445, 465, 502, 563, 585, 587, 614, 631, 636,
    989, 990, 992, 993, 995, 1080, 1434, 1883, 2811, 3128, 3306, 3389, 5222, 5223, 5269, 6666, 6667,
    6668, 6669, 8000, 8080, 8888, 20000,
];
pub const LIKELY_SERVER_UDP: &[u16] = &[
    53, 67, 88, 123, 137, 161, 162, 443, 514, 1812, 2123, 2152, 3389, 3544, 4011, 4754, 4789, 5060,
    5072, 5353, 5355, 6081, 20000,
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
    /// Zeek's `Tunnel::max_depth`: a tunnel is not decapsulated when its
    /// packet already sits in this many encapsulations (Zeek 8's default 4).
    pub tunnel_max_depth: u8,
    /// Zeek's `PacketAnalyzer::max_depth`: the most packet analyzers one
    /// packet passes, through its tunnels too (Zeek's default 25; 0: no limit).
    pub packet_analyzer_max_depth: u8,
    /// Decapsulate tunnels (IP-in-IP, GRE, AYIYA, Teredo, VXLAN, Geneve, GTPv1-U).
    pub decapsulate: bool,
    /// Protocol violations after which an analyzer is removed from its
    /// connection (Zeek DPD framework's `max_violations`, 5); 0 keeps it whatever it reports.
    pub max_analyzer_violations: u32,
    /// Zeek's TCPSTATS analyzer (`tcp_rexmit`): off by default, as in Zeek's
    /// `Analyzer::disabled_analyzers`.
    pub tcp_stats: bool,
    /// Most connections kept at once (0: no limit). At the limit a new
    /// connection first evicts an old one, preferring one idle for a second
    /// or more: it is logged as if it had timed out, with the weird
    /// `connection_evicted_at_limit`. Zeek has no such limit; a sensor needs
    /// one against floods (a half-open TCP connection costs about 1.2 KB).
    pub max_connections: usize,
    /// Most memory all TCP reassemblers together hold out of order (their bytes
    /// and 64 bytes per buffered block; 0: no limit). A direction whose data would pass it stops being reassembled
    /// (what it buffered is dropped, later data is a gap), with the weird
    /// `reassembly_memcap_reached`; the per-connection limit is
    /// `reassembly.max_buffered`. Zeek has no global limit (zeek/zeek#575).
    pub reassembly_memcap: u64,
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
            tunnel_max_depth: 4,
            packet_analyzer_max_depth: 25,
            decapsulate: true,
            tcp_stats: false,
            max_analyzer_violations: 5,
            max_connections: 1_000_000,
            // A quarter of a 4 GB sensor.
            reassembly_memcap: 1 << 30,
        }
    }
}

/// IP-tunnel address pairs remembered (for their uids) before the table is
/// forgotten, to bound memory.
const MAX_IP_TUNNEL_KEYS: usize = 100_000;

/// Subscribes the logs the engine's own events feed: `conn.log` (from
/// `connection_state_remove`), `weird.log` (from the weird events) and
/// `tunnel.log`, whose table of active tunnels is returned for the
/// protocol logs that register proxies (SOCKS, HTTP CONNECT).
pub fn subscribe_logs(events: &mut Events, config: &Config) -> crate::tunnel_log::Tunnels {
    let (sinks, tunnels) = log_sinks(config);
    for s in sinks {
        events.subscribe(s.sink);
    }
    tunnels
}

/// The sinks of [`subscribe_logs`], in order, each placed for a sharded run.
pub fn log_sinks(config: &Config) -> (Vec<crate::event::PlacedSink>, crate::tunnel_log::Tunnels) {
    use crate::event::PlacedSink;
    let tunnels = crate::tunnel_log::Tunnels::new();
    let sinks = vec![
        PlacedSink::per_worker(conn::ConnLog::sink(config.local_nets.clone(), config.conn_columns)),
        PlacedSink::global(crate::weird::WeirdLog::sink()),
        PlacedSink::per_worker(tunnels.sink()),
    ];
    (sinks, tunnels)
}

/// Totals of a run.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub packets: u64,
    pub bytes: u64,
    pub connections: u64,
    pub weirds: u64,
    /// Connections evicted at `Config::max_connections`.
    pub evicted: u64,
    /// Directions whose reassembly stopped at `Config::reassembly_memcap`.
    pub reassembly_memcap_hits: u64,
}

/// Counters of a running engine, for `stats.log` (Zeek's `get_conn_stats`,
/// `get_timer_stats`, `get_reassembler_stats`, `get_event_stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineStats {
    pub packets: u64,
    pub bytes: u64,
    /// Connections tracked now: TCP, UDP, ICMP.
    pub active: [u64; 3],
    /// Connections since the start: TCP, UDP, ICMP.
    pub total: [u64; 3],
    pub events_dispatched: u64,
    pub timers_scheduled: u64,
    /// Timers in the queue (including those of connections already gone,
    /// which are dropped when due).
    pub timers_queued: u64,
    /// Bytes TCP reassembly holds out of order.
    pub reassembly_bytes: u64,
    /// Bytes of incomplete IP fragments held.
    pub fragment_bytes: u64,
}

/// TCP, UDP, ICMP (v4 and v6) as indexes of [`EngineStats`]' arrays.
fn proto_index(ip_proto: u8) -> Option<usize> {
    match ip_proto {
        6 => Some(0),
        17 => Some(1),
        1 | 58 => Some(2),
        _ => None,
    }
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
    /// The analyzers a hand-off (STARTTLS) may attach.
    registry: &'a Registry,
    next_aid: &'a mut u64,
    /// Bytes all reassemblers buffer, and the run's totals.
    reassembly_buffered: &'a mut u64,
    summary: &'a mut Summary,
    slot: u32,
    gen: u32,
}

/// The flow engine.
pub struct Engine {
    config: Config,
    registry: Registry,
    detector: Detector,
    events: Events,
    table: FxHashMap<ConnKey, u32>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    timers: Timers,
    uids: UidGenerator,
    /// Network and flow weirds reported since the last flush (connection
    /// weirds are raised where they happen).
    weirds: Vec<Weird>,
    scratch: Vec<Piece>,
    summary: Summary,
    now: Time,
    next_aid: u64,
    decoder: crate::decode::Decoder,
    link_analyzers: Vec<(u16, &'static str, Box<dyn crate::analyzer::LinkAnalyzer>)>,
    /// The tunnels the packet being processed arrived through, outermost first.
    tunnel_stack: Vec<EncapsulatingConn>,
    /// IP-level tunnels (IP-in-IP, GRE), which have no connection, by
    /// address pair (lower address first): each keeps the uid and endpoints
    /// of its first packet, and when it last carried one.
    ip_tunnels: FxHashMap<(IpAddr, IpAddr), (EncapsulatingConn, Time)>,
    /// Live connections (slot, generation) oldest first, for eviction at the
    /// connection limit; entries of removed connections are skipped lazily.
    creation_order: std::collections::VecDeque<(u32, u32)>,
    /// Connections analyzers announced (`expect`), for the next ones to start.
    expected: crate::expected::ExpectedConns,
    /// Bytes all TCP reassemblers buffer (bounded by `Config::reassembly_memcap`).
    reassembly_buffered: u64,
    /// Connections created, by [`proto_index`].
    created_by_proto: [u64; 3],
    /// The capture index of the packet being processed (or of the last one),
    /// counted over the whole capture, and the next one when the engine
    /// numbers packets itself.
    index: u64,
    next_index: u64,
    /// Whether the packet at `index` is being analysed (after its timers ran).
    in_packet: bool,
    /// Connections the packet at `index` created so far.
    created_in_packet: u8,
    /// The other shards of a sharded run, for expected connections.
    shards: Option<Box<dyn ShardLink>>,
    /// TCP connections of a sharded run created before every other worker
    /// had reached them, (slot, generation): see [`Conn::unsettled`].
    unsettled: Vec<(u32, u32)>,
}

/// What one worker of a sharded run shares with the others: the
/// connections analyzers announce (FTP's data connections, IRC's DCC
/// transfers), which may arrive at another worker.
pub trait ShardLink {
    /// Announces `e`, scheduled while analysing the packet at `index`.
    fn publish(&mut self, index: u64, e: &crate::expected::Expectation);
    /// The expectations other workers announced before `index` (with the
    /// index that announced each), once every worker has passed it: those a
    /// single-threaded run would have known at that packet. Blocks until then.
    fn collect(&mut self, index: u64) -> Vec<(u64, crate::expected::Expectation)>;
    /// Whether every other worker has passed `index` (`collect` would not block).
    fn passed(&self, index: u64) -> bool;
}

impl Engine {
    /// An engine raising its events to `events`, whose sinks write the logs
    /// (see [`subscribe_logs`] for conn.log and weird.log).
    pub fn new(config: Config, registry: Registry, mut events: Events) -> Engine {
        let uids = UidGenerator::new(config.uid_seed);
        events.set_file_analyzers(registry.file_analyzers.clone());
        let decoder = crate::decode::Decoder::new(crate::decode::DecoderConfig {
            ignore_checksums: config.ignore_checksums,
            max_analyzer_depth: config.packet_analyzer_max_depth,
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
            table: FxHashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            timers: Timers::default(),
            uids,
            weirds: Vec::new(),
            scratch: Vec::new(),
            summary: Summary::default(),
            now: Time::ZERO,
            next_aid: 1,
            decoder,
            link_analyzers,
            tunnel_stack: Vec::new(),
            expected: Default::default(),
            reassembly_buffered: 0,
            created_by_proto: [0; 3],
            ip_tunnels: FxHashMap::default(),
            creation_order: std::collections::VecDeque::new(),
            index: 0,
            next_index: 0,
            in_packet: false,
            created_in_packet: 0,
            shards: None,
            unsettled: Vec::new(),
        }
    }

    /// Makes this engine one worker of a sharded run: it is given every
    /// packet's index and time ([`Engine::packet_at`] for its own packets,
    /// [`Engine::tick`] for the others') and learns through `link` the
    /// connections the others' analyzers announce.
    pub fn join_shards(&mut self, link: Box<dyn ShardLink>) {
        self.shards = Some(link);
    }

    /// A worker-independent name of the next connection the current packet
    /// creates: its capture index and its place among that packet's new
    /// connections (a tunnelled packet may create several).
    fn next_creation_order(&mut self) -> u64 {
        let k = self.created_in_packet;
        self.created_in_packet = k.saturating_add(1);
        self.index << 8 | u64::from(k)
    }

    /// Runs the timers due by the packet at capture index `index`, seen at
    /// `ts`: the first step of every packet, and all a worker of a sharded
    /// run does for another worker's packet.
    fn begin(&mut self, index: u64, ts: Time) {
        self.index = index;
        self.next_index = index + 1;
        self.in_packet = false;
        self.created_in_packet = 0;
        self.advance(ts);
        self.flush_weirds();
        self.in_packet = true;
        self.events.logs_mut().set_row_key(crate::log::RowKey::packet(index));
    }

    /// What every packet ends with: its weirds raised, the connections its
    /// analyzers announced remembered (and shared with other shards).
    fn end(&mut self) {
        self.flush_weirds();
        let now = self.now;
        for e in self.events.take_scheduled() {
            if let Some(shards) = &mut self.shards {
                shards.publish(self.index, &e);
            }
            self.expected.add(e, now, self.index);
        }
        self.in_packet = false;
    }

    /// A sharded run's worker, between batches: settles the connections
    /// every other worker has got past (so that few are left to wait for).
    pub fn settle_ready(&mut self) {
        if !self.unsettled.is_empty() {
            self.settle_all(false);
        }
    }

    /// A sharded run's worker: the packet at capture index `index` went to
    /// another worker; its time still moves this one's clock (timers fire
    /// when they would in a single-threaded run).
    pub fn tick(&mut self, index: u64, ts: Time) {
        self.begin(index, ts);
        self.end();
    }

    /// Settles the expected analyzers of the TCP connection in `slot` (see
    /// [`Conn::unsettled`]): takes what the other workers announced before
    /// it was created, waiting for them if `block`, and if any of that
    /// applies, attaches what creating it would have attached. Returns
    /// whether it is settled.
    fn settle(&mut self, slot: u32, block: bool) -> bool {
        let Some(conn) = self.slots[slot as usize].conn.as_ref() else {
            return true;
        };
        if !conn.unsettled {
            return true;
        }
        let created = conn.order >> 8;
        let Some(shards) = &mut self.shards else {
            return true;
        };
        if !block && !shards.passed(created) {
            return false;
        }
        for (announced, e) in shards.collect(created) {
            let now = self.now;
            self.expected.add(e, now, announced);
        }
        let conn = self.slots[slot as usize].conn.as_mut().expect("checked");
        conn.unsettled = false;
        let id = conn.core.id;
        let applied = self
            .expected
            .lookup(conn.core.start_time, created, id.orig_h, id.resp_h, id.resp_p.number, Proto::Tcp);
        if applied.iter().all(|a| conn.analyzers.iter().any(|x| x.tag == a.analyzer)) {
            return true;
        }
        // Another worker announced it: what creation would have done, before
        // any analyzer saw anything.
        conn.analyzers.clear();
        for a in &applied {
            if let Some(service) = a.service {
                if !conn.core.service.contains(&service) {
                    conn.core.service.push(service);
                }
            }
            if let Some(spec) = self.registry.by_tag(Proto::Tcp, a.analyzer) {
                conn.analyzers.push(Attached::new(spec.tag, self.next_aid, spec.new));
                self.next_aid += 1;
            }
        }
        true
    }

    /// Settles the connections that can be without waiting (all when `block`).
    fn settle_all(&mut self, block: bool) {
        let mut unsettled = std::mem::take(&mut self.unsettled);
        unsettled.retain(|&(slot, gen)| {
            self.slots[slot as usize].gen == gen && !self.settle(slot, block)
        });
        self.unsettled = unsettled;
    }

    /// Before a connection's analyzers see anything (its first payload, FIN,
    /// RST, or its removal), its expected analyzers must be settled.
    fn settle_before_analysis(&mut self, slot: u32) {
        if self.shards.is_some() {
            self.settle(slot, true);
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The counters `stats.log` reports.
    pub fn stats(&self) -> EngineStats {
        let mut active = [0u64; 3];
        for key in self.table.keys() {
            if let Some(i) = proto_index(key.ip_proto) {
                active[i] += 1;
            }
        }
        EngineStats {
            packets: self.summary.packets,
            bytes: self.summary.bytes,
            active,
            total: self.created_by_proto,
            events_dispatched: self.events.dispatched(),
            timers_scheduled: self.timers.seq,
            timers_queued: self.timers.heap.len() as u64,
            reassembly_bytes: self.reassembly_buffered,
            fragment_bytes: self.decoder.fragment_bytes() as u64,
        }
    }

    /// The logs the engine's sinks write (to add rows of one's own, as
    /// `stats.log` does).
    pub fn logs_mut(&mut self) -> &mut crate::log::Logs {
        self.events.logs_mut()
    }

    /// Number of connections currently tracked.
    pub fn active_connections(&self) -> usize {
        self.table.len()
    }

    /// Decodes and processes one captured frame. Never panics on bad input.
    pub fn packet(&mut self, raw: &RawPacket<'_>) {
        self.packet_at(self.next_index, raw);
    }

    /// [`Engine::packet`] for the frame at capture index `index` (counted
    /// from 0 over every packet of the capture, whichever worker of a
    /// sharded run analyses it).
    pub fn packet_at(&mut self, index: u64, raw: &RawPacket<'_>) {
        self.begin(index, raw.ts);
        self.summary.packets += 1;
        self.summary.bytes += u64::from(raw.wire_len);
        self.process_frame(raw, false);
        self.end();
    }

    /// Every packet of a frame (one, or the subframes of an 802.11 A-MSDU),
    /// captured or found in a tunnel. Non-IP frames go to the link analyzers
    /// when captured; inside tunnels they are not analysed.
    fn process_frame(&mut self, raw: &RawPacket<'_>, in_tunnel: bool) {
        let mut weirds = std::mem::take(&mut self.weirds);
        let first_new = weirds.len();
        let mut decoded = self.decoder.decode(raw, &mut weirds);
        if in_tunnel {
            for w in &mut weirds[first_new..] {
                w.in_tunnel = true;
            }
        }
        self.weirds = weirds;
        loop {
            // Taken before processing: a tunnel in this packet decodes with
            // the same decoder.
            let more = self.decoder.take_more_in_frame();
            match decoded {
                Some(crate::packet::Decoded::Ip(ip)) => self.process_ip_inner(raw.ts, &ip),
                Some(crate::packet::Decoded::Link {
                    l2,
                    ethertype,
                    payload,
                }) if !in_tunnel => {
                    self.advance(raw.ts);
                    for (et, _tag, a) in &mut self.link_analyzers {
                        if *et == ethertype {
                            a.deliver(raw.ts, &l2, payload, &mut self.events, &mut self.weirds);
                        }
                    }
                }
                _ => self.advance(raw.ts),
            }
            let Some(more) = more else {
                return;
            };
            let mut weirds = std::mem::take(&mut self.weirds);
            let first_new = weirds.len();
            decoded = self.decoder.decode_more(raw, more, &mut weirds);
            if in_tunnel {
                for w in &mut weirds[first_new..] {
                    w.in_tunnel = true;
                }
            }
            self.weirds = weirds;
        }
    }

    /// Processes one decoded IP datagram seen at `ts` (entry point for tests
    /// and for callers with their own decoder).
    pub fn process_ip(&mut self, ts: Time, ip: &IpPacket<'_>) {
        self.begin(self.next_index, ts);
        self.summary.packets += 1;
        self.summary.bytes += u64::from(ip.ip_len) + 14;
        self.process_ip_inner(ts, ip);
        self.end();
    }

    fn process_ip_inner(&mut self, ts: Time, ip: &IpPacket<'_>) {
        self.advance(ts);

        if ip.bad_ip_checksum && !self.config.ignore_checksums {
            self.flow_weird(ts, "bad_IP_checksum", ip, "IP");
            return;
        }
        match ip.proto {
            // TCP and ICMP hand every packet on (to nothing, here), which
            // Zeek's `PacketAnalyzer::max_depth` counts.
            6 => {
                if self.tcp_packet(ts, ip) {
                    self.analyzer_depth_allows(ts, ip, 1, "TCP", true);
                }
            }
            17 => self.udp_packet(ts, ip),
            1 | 58 => {
                if self.icmp_packet(ts, ip) {
                    self.analyzer_depth_allows(ts, ip, 1, "ICMP", true);
                }
            }
            4 | 41 if self.config.decapsulate => {
                self.ip_tunnel(ts, ip, LinkType::Raw, 0, Some(ip.proto), TUNNEL_IP)
            }
            47 if self.config.decapsulate => self.gre_packet(ts, ip),
            _ => self.unknown_ip_packet(ts, ip),
        }
    }

    /// A weird about `ip`'s address pair (no connection), reported by `source`.
    fn flow_weird(
        &mut self,
        ts: Time,
        name: &'static str,
        ip: &IpPacket<'_>,
        source: &'static str,
    ) {
        self.weirds.push(Weird {
            ts,
            name,
            addl: String::new(),
            scope: WeirdScope::Flow {
                src: ip.src,
                dst: ip.dst,
            },
            source,
            in_tunnel: !self.tunnel_stack.is_empty(),
        });
    }

    /// Removes a connection: analyzers finish, `connection_state_remove`
    /// is raised and its `conn.log` row written.
    fn remove(&mut self, slot: u32, terminating: bool) {
        self.settle_before_analysis(slot);
        // Log what this connection's packets reported before it goes.
        self.flush_weirds();
        let Some(mut conn) = self.slots[slot as usize].conn.take() else {
            return;
        };
        let ts = self.now;
        if let Transport::Tcp(t) = &conn.core.transport {
            let held: u64 = t.eps.iter().map(|e| e.reasm().memory()).sum();
            self.reassembly_buffered = self.reassembly_buffered.saturating_sub(held);
        }
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
                core, analyzers, inner, ..
            } = &mut *conn;
            let inner = inner.as_deref_mut().map(|l| l.analyzers.iter_mut());
            for a in analyzers.iter_mut().chain(inner.into_iter().flatten()) {
                let mut cx = AnalyzerCx::new(ts, &*core, &mut self.events, &mut self.weirds, a.tag);
                a.analyzer().done(&mut cx);
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
        if self.table.get(&conn.key) == Some(&slot) {
            self.table.remove(&conn.key);
        }
        self.free.push(slot);
    }

    // ----- weirds, functions, end ------------------------------------------------

    /// Raises the network and flow weirds reported since the last flush
    /// (connection weirds were raised as `conn_weird` where they happened).
    fn flush_weirds(&mut self) {
        if self.weirds.is_empty() {
            return;
        }
        // Drained, not taken: the vector keeps its capacity for the next packet.
        let mut weirds = std::mem::take(&mut self.weirds);
        for w in weirds.drain(..) {
            self.summary.weirds += 1;
            match &w.scope {
                WeirdScope::Net => raise!(
                    &mut self.events,
                    w.ts,
                    NetWeird {
                        name: w.logged_name().into_owned(),
                        addl: ZString::from(w.addl),
                        source: w.source
                    }
                ),
                WeirdScope::Flow { src, dst } => raise!(
                    &mut self.events,
                    w.ts,
                    FlowWeird {
                        name: w.logged_name().into_owned(),
                        src: *src,
                        dst: *dst,
                        addl: ZString::from(w.addl),
                        source: w.source
                    }
                ),
                WeirdScope::Conn { .. } => {}
            }
        }
        self.weirds = weirds;
    }

    /// Moves network time on to `now` without a packet, as Zeek does while a
    /// live source is quiet (its timer manager then follows the wall clock):
    /// idle connections time out and logs rotate even when nothing arrives.
    /// Time never goes back.
    pub fn advance_time(&mut self, now: Time) {
        if now > self.now {
            // A tick of its own in the capture's numbering, as a sharded
            // run's reader gives it.
            self.tick(self.next_index, now);
        }
    }

    /// End of input: every remaining connection is removed (Zeek's drain at
    /// termination), logs are closed and event sinks flushed.
    pub fn finish(mut self) -> std::io::Result<Summary> {
        self.drain();
        self.events.finish()?;
        Ok(self.summary.clone())
    }

    /// [`Engine::finish`] for a sharded run's worker: also what its logs
    /// captured since the last [`Engine::take_captured`].
    pub fn finish_worker(mut self) -> (std::io::Result<Summary>, Vec<crate::log::Keyed>) {
        self.drain();
        let finished = self.events.finish();
        let captured = self.events.logs_mut().take_captured();
        (finished.map(|_| self.summary.clone()), captured)
    }

    /// A sharded run's worker: what its logs captured so far.
    pub fn take_captured(&mut self) -> Vec<crate::log::Keyed> {
        self.events.logs_mut().take_captured()
    }

    /// Network time: the latest packet's.
    pub fn network_time(&self) -> Time {
        self.now
    }

    /// Every remaining connection is removed, as at the end of input.
    fn drain(&mut self) {
        let mut live: Vec<(Time, u64, u32)> = self
            .table
            .values()
            .filter_map(|&s| {
                let c = self.slots[s as usize].conn.as_ref()?;
                Some((c.core.start_time, c.order, s))
            })
            .collect();
        // Zeek drains in table order; by start time (then creation) here,
        // which a sharded run's merge reproduces.
        live.sort_unstable();
        self.in_packet = false;
        for (start, order, slot) in live {
            self.events.logs_mut().set_row_key(crate::log::RowKey::drain(start, order));
            self.remove(slot, true);
            self.flush_weirds();
        }
        self.events.logs_mut().set_row_key(crate::log::RowKey::FINISH);
    }
}
