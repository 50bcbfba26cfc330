//! Connections: the per-flow state the engine keeps for TCP, UDP and ICMP,
//! Zeek's history and `conn_state` rules, and `conn.log`.

pub mod contents;
pub mod events;
pub mod log;
pub mod reassembly;
pub mod tcp;
pub mod tcp_stats;

use crate::analyzer::{Analyzer, ConnView};
use crate::record::{ConnExtra, Connection, Endpoint};
use crate::zeek::{ConnId, Interval, MacAddr, Proto, Time};
use std::net::IpAddr;

pub use log::{community_id, conn_log_schema, ConnColumns, ConnLog, ConnRecord};
pub use tcp::{EndpointState, TcpConn};

/// The table key of a connection: its 5-tuple, normalized so that both
/// directions find the same entry (except one-way ICMP messages, which Zeek
/// keys as seen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnKey {
    pub a: (IpAddr, u16),
    pub b: (IpAddr, u16),
    pub ip_proto: u8,
    /// VLAN ids, only when configured to be part of the key.
    pub vlans: (Option<u16>, Option<u16>),
}

impl ConnKey {
    pub fn new(
        src: (IpAddr, u16),
        dst: (IpAddr, u16),
        ip_proto: u8,
        one_way: bool,
        vlans: (Option<u16>, Option<u16>),
    ) -> ConnKey {
        if one_way || src <= dst {
            ConnKey {
                a: src,
                b: dst,
                ip_proto,
                vlans,
            }
        } else {
            ConnKey {
                a: dst,
                b: src,
                ip_proto,
                vlans,
            }
        }
    }
}

/// UDP/ICMP "endpoint" bookkeeping: bytes sent, or `None` when silent.
#[derive(Debug, Default, Clone)]
pub struct FlowState {
    pub orig_len: Option<u64>,
    pub resp_len: Option<u64>,
    /// Checksum error counters and thresholds (scaled history `C`/`c`).
    pub chk: [(u32, u32); 2],
}

impl FlowState {
    pub fn new() -> FlowState {
        FlowState {
            orig_len: None,
            resp_len: None,
            chk: [(0, 1), (0, 1)],
        }
    }
    pub fn add_len(&mut self, is_orig: bool, len: u64) {
        let slot = if is_orig {
            &mut self.orig_len
        } else {
            &mut self.resp_len
        };
        *slot = Some(slot.unwrap_or(0) + len);
    }
}

/// Transport-specific state.
#[derive(Debug)]
pub enum Transport {
    Tcp(Box<TcpConn>),
    Udp(FlowState),
    Icmp(FlowState),
    /// An IP protocol without an analyzer (only sizes and times are kept).
    Other,
}

/// ConnSize counters for one direction.
#[derive(Debug, Default, Clone, Copy)]
pub struct SizeCounter {
    pub pkts: u64,
    pub ip_bytes: u64,
    pub bytes_threshold: u64,
    pub pkts_threshold: u64,
}

/// Everything about a connection except its attached analyzers, so
/// analyzers can be driven mutably while they see this immutably.
#[derive(Debug)]
pub struct ConnCore {
    pub id: ConnId,
    pub ip_proto: u8,
    pub uid: std::sync::Arc<str>,
    pub start_time: Time,
    pub last_time: Time,
    /// Inline up to 24 letters (a real history is a handful), so that records
    /// built per event copy it without allocating.
    pub history: compact_str::CompactString,
    hist_seen: u32,
    pub service: crate::record::Services,
    /// Analyzers whose signature matched too late to attach them (see `dpd`).
    pub speculative_service: Vec<String>,
    pub missed_bytes: u64,
    pub orig_l2: Option<[u8; 6]>,
    pub resp_l2: Option<[u8; 6]>,
    pub vlan: Option<u16>,
    pub inner_vlan: Option<u16>,
    pub flow_labels: [u32; 2],
    /// Tunnels it came through or carries; boxed, as most connections have
    /// none.
    pub tunnels: Option<Box<ConnTunnels>>,
    pub size: [SizeCounter; 2],
    pub transport: Transport,
    pub inactivity_timeout: Interval,
    /// Whether a weird was already reported (some weirds are reported once).
    pub did_weird: bool,
}

/// A connection's tunnels.
#[derive(Debug, Default)]
pub struct ConnTunnels {
    /// The tunnels its latest packet came through (Zeek's `c$tunnel`).
    pub chain: Option<crate::record::Encapsulation>,
    /// Innermost tunnel uids of every encapsulation seen (`tunnel_parents`).
    pub parents: Vec<std::sync::Arc<str>>,
    /// Encapsulation changes seen (Zeek's `tunnel_changes`).
    pub changes: u8,
    /// Directions that sent a good tunnel packet (bit 0 originator, bit 1
    /// responder), for tunnels confirmed by both (Teredo).
    pub sides: u8,
    /// A tunnel analyzer reported a violation: it reports no other and
    /// confirms nothing more, and one with `&stop_on_violation` (Teredo)
    /// reads none of the connection's later payloads.
    pub violated: bool,
}

/// An analyzer attached to a connection. It is built when it is first
/// used, so a connection that never carries data (a flood of SYNs to a
/// well-known port) does not pay for its analyzers' state.
pub struct Attached {
    pub tag: &'static str,
    pub aid: u64,
    analyzer: Option<Box<dyn Analyzer>>,
    new: fn() -> Box<dyn Analyzer>,
    pub confirmed: bool,
    /// Protocol violations reported so far.
    pub violations: u32,
}

impl Attached {
    pub fn new(tag: &'static str, aid: u64, new: fn() -> Box<dyn Analyzer>) -> Attached {
        Attached {
            tag,
            aid,
            analyzer: None,
            new,
            confirmed: false,
            violations: 0,
        }
    }

    /// The analyzer, built on first use.
    pub fn analyzer(&mut self) -> &mut dyn Analyzer {
        self.analyzer.get_or_insert_with(self.new).as_mut()
    }
}

/// A connection: its state plus its analyzers.
/// Where payload detection stands on a connection. Its state is built on the
/// first payload, so a connection that never carries any (a SYN flood) does
/// not pay for it.
pub enum Detection {
    /// Signatures may match; nothing arrived yet.
    NotStarted,
    Running(Box<crate::dpd::Dpd>),
    /// Decided, or no signature for this transport.
    Done,
}

/// The analyzers of a stream inside the connection and their detection.
pub struct Layer {
    pub analyzers: Vec<Attached>,
    pub dpd: Detection,
    pub removed: Vec<&'static str>,
}

pub struct Conn {
    pub core: ConnCore,
    pub analyzers: Vec<Attached>,
    /// Payload detection while the connection is young.
    pub dpd: Detection,
    /// Tags of analyzers that were attached and removed (not attached again).
    pub removed: Vec<&'static str>,
    /// The stream an analyzer's payload makes (`AnalyzerCx::forward`: WebSocket's
    /// messages), with analyzers of its own found by payload detection.
    pub inner: Option<Box<Layer>>,
    /// Bumped to cancel the pending inactivity timer.
    pub inactivity_epoch: u32,
    /// Bumped to cancel the TCP analyzer's pending timers.
    pub analyzer_epoch: u32,
    /// Hash of the key, for uids.
    pub key: ConnKey,
    /// Where the connection was created in the capture (see
    /// `Engine::creation_order`): orders its timers and its place in the
    /// end-of-run drain the same way however the run is sharded.
    pub order: u64,
    /// A sharded run's TCP connection whose expected analyzers are not
    /// settled yet: other workers may have announced it before it was
    /// created. The engine settles it before its analyzers see anything
    /// (waiting for the others only if they have not got that far).
    pub unsettled: bool,
}

impl ConnCore {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: ConnId,
        ip_proto: u8,
        uid: String,
        ts: Time,
        transport: Transport,
        inactivity_timeout: Interval,
    ) -> ConnCore {
        ConnCore {
            id,
            ip_proto,
            uid: uid.into(),
            start_time: ts,
            last_time: ts,
            history: compact_str::CompactString::default(),
            hist_seen: 0,
            service: Default::default(),
            speculative_service: Vec::new(),
            missed_bytes: 0,
            orig_l2: None,
            resp_l2: None,
            vlan: None,
            inner_vlan: None,
            flow_labels: [0, 0],
            tunnels: None,
            size: [SizeCounter::default(); 2],
            transport,
            inactivity_timeout,
            did_weird: false,
        }
    }

    pub fn proto(&self) -> Proto {
        self.id.resp_p.proto
    }

    /// The tunnels its latest packet came through.
    pub fn tunnel_chain(&self) -> Option<&crate::record::Encapsulation> {
        self.tunnels.as_ref().and_then(|t| t.chain.as_ref())
    }

    /// Its tunnel state, made on first use.
    pub fn tunnels_mut(&mut self) -> &mut ConnTunnels {
        self.tunnels.get_or_insert_with(Default::default)
    }

    /// `X` in the history: a packet the connection's analyzers did not get
    /// as it came (Zeek's `HIST_UNKNOWN_PKT`), recorded once.
    pub const HIST_UNKNOWN_PKT: u32 = 1 << 30;

    pub fn add_history(&mut self, code: char) {
        self.history.push(code);
    }

    /// Records `code` the first time `mask` is seen; returns whether it had
    /// been seen before (Zeek's Connection::CheckHistory).
    pub fn check_history(&mut self, mask: u32, code: char) -> bool {
        if self.hist_seen & mask == 0 {
            self.hist_seen |= mask;
            self.add_history(code);
            false
        } else {
            true
        }
    }

    /// Logarithmic history letters: recorded at the 1st, 10th, 100th...
    /// occurrence. Returns true when recorded.
    pub fn scaled_history(&mut self, code: char, counter: &mut u32, threshold: &mut u32) -> bool {
        *counter += 1;
        if *counter == *threshold {
            self.add_history(code);
            match threshold.checked_mul(10) {
                Some(t) => *threshold = t,
                None => *counter = 0,
            }
            true
        } else {
            false
        }
    }

    /// Zeek's FlipRoles when an analyzer calls it on a UDP or ICMP connection, after the
    /// packet was counted: the addresses, ports, link-layer addresses and flow labels
    /// swap, but Zeek's UDP adapter (`request_len`/`reply_len`) and the packet and byte
    /// counters stay with the side they were counted for (Zeek 8.2.2's conn.log of an
    /// NTP reply seen first: history `D^`, both packets on the originator). TCP flips
    /// everything, as Zeek's TCP analyzer swaps its endpoints.
    pub fn flip_roles_by_analyzer(&mut self) {
        match self.transport {
            Transport::Tcp(_) => self.flip_roles(),
            _ => {
                self.id = self.id.flipped();
                std::mem::swap(&mut self.orig_l2, &mut self.resp_l2);
                self.flow_labels.swap(0, 1);
                self.add_history('^');
            }
        }
    }

    /// Swaps originator and responder (Zeek's FlipRoles), recording `^`.
    pub fn flip_roles(&mut self) {
        self.id = self.id.flipped();
        std::mem::swap(&mut self.orig_l2, &mut self.resp_l2);
        self.flow_labels.swap(0, 1);
        self.size.swap(0, 1);
        match &mut self.transport {
            Transport::Tcp(t) => t.flip(),
            Transport::Udp(f) | Transport::Icmp(f) => {
                std::mem::swap(&mut f.orig_len, &mut f.resp_len);
                f.chk.swap(0, 1);
            }
            Transport::Other => {}
        }
        self.add_history('^');
    }

    /// Zeek's `conn_state`, from the connection record as conn.log sees it.
    pub fn conn_state(&self) -> &'static str {
        log::conn_state(&self.record())
    }

    pub fn duration(&self) -> Interval {
        self.last_time.since(self.start_time)
    }

    /// Endpoint size and state as the `connection` record carries them.
    pub fn endpoint_size_state(&self, is_orig: bool) -> (u64, u64) {
        match &self.transport {
            Transport::Tcp(t) => {
                let (e, p) = if is_orig {
                    (t.orig(), t.resp())
                } else {
                    (t.resp(), t.orig())
                };
                (e.size(p), e.state as u64)
            }
            Transport::Udp(f) | Transport::Icmp(f) => {
                let len = if is_orig { f.orig_len } else { f.resp_len };
                match len {
                    Some(n) => (n, 1),
                    None => (0, 0),
                }
            }
            Transport::Other => (0, 0),
        }
    }

    fn endpoint(&self, is_orig: bool) -> Endpoint {
        let (size, state) = self.endpoint_size_state(is_orig);
        let counter = &self.size[if is_orig { 0 } else { 1 }];
        let l2 = if is_orig { self.orig_l2 } else { self.resp_l2 };
        Endpoint {
            size,
            state,
            num_pkts: Some(counter.pkts),
            num_bytes_ip: Some(counter.ip_bytes),
            flow_label: self.flow_labels[if is_orig { 0 } else { 1 }] as u64,
            l2_addr: l2.map(MacAddr),
        }
    }
}

impl ConnView for ConnCore {
    fn id(&self) -> ConnId {
        self.id
    }
    fn is_partial(&self) -> bool {
        matches!(&self.transport, Transport::Tcp(t) if t.is_partial)
    }
    fn uid(&self) -> &str {
        &self.uid
    }
    fn uid_shared(&self) -> std::sync::Arc<str> {
        self.uid.clone()
    }
    fn record(&self) -> Connection {
        Connection {
            id: self.id,
            orig: self.endpoint(true),
            resp: self.endpoint(false),
            start_time: self.start_time,
            duration: self.duration(),
            service: self.service.clone(),
            history: self.history.clone(),
            uid: self.uid.clone(),
            vlan: self.vlan.map(i64::from),
            inner_vlan: self.inner_vlan.map(i64::from),
            tunnel: self.tunnel_chain().cloned(),
            extra: ConnExtra {
                ip_proto: self.ip_proto,
                missed_bytes: self.missed_bytes,
                tunnel_parents: self
                    .tunnels
                    .as_ref()
                    .map(|t| t.parents.clone())
                    .unwrap_or_default(),
                speculative_service: self.speculative_service.clone(),
            },
        }
    }
}

/// Networks Zeek counts as private (`Site::private_address_space`), which
/// are also its default `Site::local_nets`.
pub fn private_address_space() -> Vec<(IpAddr, u8)> {
    const NETS: &[&str] = &[
        "0.0.0.0/8",
        "2002::/24",
        "10.0.0.0/8",
        "2002:a00::/24",
        "100.64.0.0/10",
        "2002:6440::/26",
        "127.0.0.0/8",
        "2002:7f00::/24",
        "169.254.0.0/16",
        "2002:a9fe::/32",
        "172.16.0.0/12",
        "2002:ac10::/28",
        "192.0.0.0/24",
        "2002:c000::/40",
        "192.0.2.0/24",
        "2002:c000:200::/40",
        "192.168.0.0/16",
        "2002:c0a8::/32",
        "198.18.0.0/15",
        "2002:c612::/31",
        "198.51.100.0/24",
        "2002:c633:6400::/40",
        "203.0.113.0/24",
        "2002:cb00:7100::/40",
        "224.0.0.0/24",
        "2002:e000::/40",
        "239.0.0.0/8",
        "2002:ef00::/24",
        "240.0.0.0/4",
        "2002:f000::/20",
        "255.255.255.255/32",
        "2002:ffff:ffff::/48",
        "::/128",
        "::1/128",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:2::/48",
        "2001:db8::/32",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
    ];
    NETS.iter()
        .filter_map(|s| {
            let (a, l) = s.split_once('/')?;
            Some((a.parse().ok()?, l.parse().ok()?))
        })
        .collect()
}

/// Whether `addr` lies in one of `nets`.
pub fn in_nets(addr: IpAddr, nets: &[(IpAddr, u8)]) -> bool {
    nets.iter().any(|&(net, len)| match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let len = u32::from(len.min(32));
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let len = u32::from(len.min(128));
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    })
}

/// Zeek-style connection uids: `C` + base62, deterministic for the input.
///
/// A uid is a function of the seed, the connection's key, its first
/// timestamp and its place in the capture ([`creation order`](crate::engine::Engine)),
/// not of how many uids came before it: a worker of a sharded run, which
/// sees only its share of the connections, gives each the uid a
/// single-threaded run gives it.
#[derive(Debug)]
pub struct UidGenerator {
    seed: u64,
}

impl UidGenerator {
    pub fn new(seed: u64) -> UidGenerator {
        UidGenerator { seed }
    }

    pub fn next(&self, prefix: char, ts: Time, key_hash: u64, order: u64) -> String {
        let mut a = splitmix(self.seed ^ key_hash ^ splitmix(order.wrapping_add(0x9e37_79b9_7f4a_7c15)));
        let mut b = splitmix(a ^ ts.0 as u64);
        let mut s = String::with_capacity(18);
        s.push(prefix);
        const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        for i in 0..17 {
            let word = if i < 9 { &mut a } else { &mut b };
            s.push(DIGITS[(*word % 62) as usize] as char);
            *word /= 62;
        }
        s
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_nets_match_prefixes() {
        let nets = private_address_space();
        assert!(in_nets("192.168.1.1".parse().unwrap(), &nets));
        assert!(in_nets("fe80::1".parse().unwrap(), &nets));
        assert!(!in_nets("8.8.8.8".parse().unwrap(), &nets));
        assert!(!in_nets("2607:f8b0::1".parse().unwrap(), &nets));
    }

    #[test]
    fn uids_are_deterministic_and_zeek_shaped() {
        let a = UidGenerator::new(1);
        let b = UidGenerator::new(1);
        let x = a.next('C', Time(5), 7, 1 << 8);
        assert_eq!(x, b.next('C', Time(5), 7, 1 << 8));
        assert_eq!(x.len(), 18);
        assert!(x.starts_with('C'));
        // The same key at the same time, created by another packet.
        assert_ne!(x, a.next('C', Time(5), 7, 2 << 8));
    }
}
