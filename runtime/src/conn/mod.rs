//! Connections: the per-flow state the engine keeps for TCP, UDP and ICMP,
//! Zeek's history and `conn_state` rules, and `conn.log`.

pub mod events;
pub mod reassembly;
pub mod tcp;
pub mod tcp_stats;

use crate::analyzer::{Analyzer, ConnView};
use crate::log::{LogRecord, Schema, Value};
use crate::record::{Connection, Endpoint};
use crate::zeek::{ConnId, Interval, Proto, Time};
use std::net::IpAddr;

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
    pub uid: String,
    pub start_time: Time,
    pub last_time: Time,
    pub history: String,
    hist_seen: u32,
    pub service: Vec<String>,
    /// Analyzers whose signature matched too late to attach them (see `dpd`).
    pub speculative_service: Vec<String>,
    pub missed_bytes: u64,
    pub orig_l2: Option<[u8; 6]>,
    pub resp_l2: Option<[u8; 6]>,
    pub vlan: Option<u16>,
    pub inner_vlan: Option<u16>,
    pub flow_labels: [u32; 2],
    /// Uids of the tunnels this connection was seen through.
    pub tunnel_parents: Vec<String>,
    pub size: [SizeCounter; 2],
    pub transport: Transport,
    pub inactivity_timeout: Interval,
    /// Whether a weird was already reported (some weirds are reported once).
    pub did_weird: bool,
}

/// An analyzer attached to a connection.
pub struct Attached {
    pub tag: &'static str,
    pub aid: u64,
    pub analyzer: Box<dyn Analyzer>,
    pub confirmed: bool,
    /// Protocol violations reported so far.
    pub violations: u32,
}

/// A connection: its state plus its analyzers.
pub struct Conn {
    pub core: ConnCore,
    pub analyzers: Vec<Attached>,
    /// Payload detection while the connection is young (`None` once decided).
    pub dpd: Option<Box<crate::dpd::Dpd>>,
    /// Tags of analyzers that were attached and removed (not attached again).
    pub removed: Vec<&'static str>,
    /// Bumped to cancel the pending inactivity timer.
    pub inactivity_epoch: u32,
    /// Bumped to cancel the TCP analyzer's pending timers.
    pub analyzer_epoch: u32,
    /// Hash of the key, for uids.
    pub key: ConnKey,
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
            uid,
            start_time: ts,
            last_time: ts,
            history: String::new(),
            hist_seen: 0,
            service: Vec::new(),
            speculative_service: Vec::new(),
            missed_bytes: 0,
            orig_l2: None,
            resp_l2: None,
            vlan: None,
            inner_vlan: None,
            flow_labels: [0, 0],
            tunnel_parents: Vec::new(),
            size: [SizeCounter::default(); 2],
            transport,
            inactivity_timeout,
            did_weird: false,
        }
    }

    pub fn proto(&self) -> Proto {
        self.id.resp_p.proto
    }

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

    /// Zeek's `conn_state` (scripts/base/protocols/conn/main.zeek).
    pub fn conn_state(&self) -> &'static str {
        let (osize, os) = self.endpoint_size_state(true);
        let (rsize, rs) = self.endpoint_size_state(false);
        match self.proto() {
            Proto::Tcp => {
                use EndpointState as S;
                let os = S::from_u64(os);
                let rs = S::from_u64(rs);
                let o_inactive = matches!(os, S::Inactive | S::Partial);
                let r_inactive = matches!(rs, S::Inactive | S::Partial);
                if rs == S::Reset {
                    if os == S::SynSent
                        || os == S::SynAckSent
                        || (os == S::Reset && osize == 0 && rsize == 0)
                    {
                        "REJ"
                    } else if o_inactive {
                        "RSTRH"
                    } else {
                        "RSTR"
                    }
                } else if os == S::Reset {
                    if r_inactive {
                        if history_is_rstos0(&self.history) {
                            "RSTOS0"
                        } else {
                            "OTH"
                        }
                    } else {
                        "RSTO"
                    }
                } else if rs == S::Closed && os == S::Closed {
                    "SF"
                } else if os == S::Closed {
                    if r_inactive {
                        "SH"
                    } else {
                        "S2"
                    }
                } else if rs == S::Closed {
                    if o_inactive {
                        "SHR"
                    } else {
                        "S3"
                    }
                } else if os == S::SynSent && rs == S::Inactive {
                    "S0"
                } else if os == S::Established && rs == S::Established {
                    "S1"
                } else {
                    "OTH"
                }
            }
            Proto::Udp => match (os == 1, rs == 1) {
                (true, true) => "SF",
                (true, false) => "S0",
                (false, true) => "SHR",
                (false, false) => "OTH",
            },
            _ => "OTH",
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
            l2_addr: l2.map(|m| mac_string(&m)),
        }
    }
}

/// `/^?S[^HAFGIQ]*R.*/`: the originator's SYN followed by its own RST, with
/// nothing from the responder in between.
fn history_is_rstos0(h: &str) -> bool {
    let rest = h.strip_prefix('^').unwrap_or(h);
    let Some(rest) = rest.strip_prefix('S') else {
        return false;
    };
    for c in rest.chars() {
        if c == 'R' {
            return true;
        }
        if "HAFGIQ".contains(c) {
            return false;
        }
    }
    false
}

pub fn mac_string(m: &[u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
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
#[derive(Debug)]
pub struct UidGenerator {
    state: u64,
}

impl UidGenerator {
    pub fn new(seed: u64) -> UidGenerator {
        UidGenerator { state: seed }
    }

    pub fn next(&mut self, prefix: char, ts: Time, key_hash: u64) -> String {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut a = splitmix(self.state ^ key_hash);
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

/// The optional column groups of `conn.log`, each one a Zeek policy script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConnColumns {
    /// `policy/protocols/conn/vlan-logging`: `vlan`, `inner_vlan`.
    pub vlan: bool,
    /// `policy/protocols/conn/mac-logging`: `orig_l2_addr`, `resp_l2_addr`.
    pub l2_addrs: bool,
    /// `policy/protocols/conn/speculative-service`: `speculative_service`.
    pub speculative_service: bool,
    /// `policy/protocols/conn/community-id-logging`: `community_id`.
    pub community_id: bool,
}

/// `conn.log` columns (today's Zeek, with `ip_proto`).
const CONN_COLUMNS_BASE: &[(&str, &str)] = &[
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("proto", "enum"),
    ("service", "string"),
    ("duration", "interval"),
    ("orig_bytes", "count"),
    ("resp_bytes", "count"),
    ("conn_state", "string"),
    ("local_orig", "bool"),
    ("local_resp", "bool"),
    ("missed_bytes", "count"),
    ("history", "string"),
    ("orig_pkts", "count"),
    ("orig_ip_bytes", "count"),
    ("resp_pkts", "count"),
    ("resp_ip_bytes", "count"),
    ("tunnel_parents", "set[string]"),
    ("ip_proto", "count"),
];

/// The `conn.log` schema with the given optional columns (built once per combination).
pub fn conn_log_schema(cols: ConnColumns) -> &'static Schema {
    static SCHEMAS: [std::sync::OnceLock<Schema>; 16] = [const { std::sync::OnceLock::new() }; 16];
    let i = usize::from(cols.vlan)
        | usize::from(cols.l2_addrs) << 1
        | usize::from(cols.speculative_service) << 2
        | usize::from(cols.community_id) << 3;
    SCHEMAS[i].get_or_init(|| {
        let mut columns = CONN_COLUMNS_BASE.to_vec();
        if cols.vlan {
            columns.extend([("vlan", "int"), ("inner_vlan", "int")]);
        }
        if cols.l2_addrs {
            columns.extend([("orig_l2_addr", "string"), ("resp_l2_addr", "string")]);
        }
        if cols.speculative_service {
            columns.push(("speculative_service", "string"));
        }
        if cols.community_id {
            columns.push(("community_id", "string"));
        }
        Schema {
            path: "conn",
            columns: Vec::leak(columns),
        }
    })
}

/// One `conn.log` row: a connection as Zeek's `set_conn` sees it at removal.
pub struct ConnRecord<'a> {
    pub conn: &'a ConnCore,
    pub local_nets: &'a [(IpAddr, u8)],
    pub columns: ConnColumns,
}

impl LogRecord for ConnRecord<'_> {
    fn schema(&self) -> &'static Schema {
        conn_log_schema(self.columns)
    }
    fn values(&self) -> Vec<Value> {
        conn_log_row(self.conn, self.local_nets, self.columns)
    }
}

fn conn_log_row(c: &ConnCore, local_nets: &[(IpAddr, u8)], cols: ConnColumns) -> Vec<Value> {
    let duration = c.duration();
    let has_duration = duration.0 > 0;
    let (osize, _) = c.endpoint_size_state(true);
    let (rsize, _) = c.endpoint_size_state(false);
    let service = if c.service.is_empty() {
        Value::Unset
    } else {
        Value::str(c.service.join(","))
    };
    let local = !local_nets.is_empty();
    let mut row = vec![
        Value::Time(c.start_time),
        Value::str(&c.uid),
        Value::Addr(c.id.orig_h),
        Value::Port(c.id.orig_p.number),
        Value::Addr(c.id.resp_h),
        Value::Port(c.id.resp_p.number),
        Value::Enum(c.proto().as_str()),
        service,
        if has_duration {
            Value::Interval(duration)
        } else {
            Value::Unset
        },
        if has_duration {
            Value::Count(osize)
        } else {
            Value::Unset
        },
        if has_duration {
            Value::Count(rsize)
        } else {
            Value::Unset
        },
        Value::str(c.conn_state()),
        if local {
            Value::Bool(in_nets(c.id.orig_h, local_nets))
        } else {
            Value::Unset
        },
        if local {
            Value::Bool(in_nets(c.id.resp_h, local_nets))
        } else {
            Value::Unset
        },
        Value::Count(c.missed_bytes),
        if c.history.is_empty() {
            Value::Unset
        } else {
            Value::str(&c.history)
        },
        Value::Count(c.size[0].pkts),
        Value::Count(c.size[0].ip_bytes),
        Value::Count(c.size[1].pkts),
        Value::Count(c.size[1].ip_bytes),
        if c.tunnel_parents.is_empty() {
            Value::Unset
        } else {
            Value::Set(c.tunnel_parents.iter().map(Value::str).collect())
        },
        Value::Count(u64::from(c.ip_proto)),
    ];
    if cols.vlan {
        row.push(Value::opt(c.vlan, |v| Value::Int(i64::from(v))));
        row.push(Value::opt(c.inner_vlan, |v| Value::Int(i64::from(v))));
    }
    if cols.l2_addrs {
        row.push(Value::opt(c.orig_l2, |m| Value::str(mac_string(&m))));
        row.push(Value::opt(c.resp_l2, |m| Value::str(mac_string(&m))));
    }
    if cols.speculative_service {
        row.push(if c.speculative_service.is_empty() {
            Value::Unset
        } else {
            Value::str(c.speculative_service.join(","))
        });
    }
    if cols.community_id {
        row.push(Value::str(community_id(&c.id, c.ip_proto, 0)));
    }
    row
}

/// The Community ID (v1) of a flow: a hash of its 5-tuple that other tools
/// compute alike, `1:` + base64(SHA-1(seed, addresses, proto, ports)), the
/// endpoints ordered so both directions give the same id.
pub fn community_id(id: &crate::zeek::ConnId, ip_proto: u8, seed: u16) -> String {
    use base64::Engine as _;
    use sha1::Digest as _;
    let octets = |a: IpAddr| match a {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    let (mut a, mut ap) = (octets(id.orig_h), id.orig_p.number);
    let (mut b, mut bp) = (octets(id.resp_h), id.resp_p.number);
    if (&a, ap) > (&b, bp) {
        std::mem::swap(&mut a, &mut b);
        std::mem::swap(&mut ap, &mut bp);
    }
    let mut h = sha1::Sha1::new();
    h.update(seed.to_be_bytes());
    h.update(&a);
    h.update(&b);
    h.update([ip_proto, 0]);
    if matches!(ip_proto, 1 | 6 | 17 | 58 | 132) {
        h.update(ap.to_be_bytes());
        h.update(bp.to_be_bytes());
    }
    format!(
        "1:{}",
        base64::engine::general_purpose::STANDARD.encode(h.finalize())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rstos0_pattern() {
        assert!(history_is_rstos0("SR"));
        assert!(history_is_rstos0("^SsR"));
        // The pattern is case-sensitive: a responder's `h` does not count.
        assert!(history_is_rstos0("ShR"));
        assert!(!history_is_rstos0("SHR"));
        assert!(!history_is_rstos0("SAR"));
        assert!(!history_is_rstos0("DR"));
        assert!(!history_is_rstos0("S"));
    }

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
        let mut a = UidGenerator::new(1);
        let mut b = UidGenerator::new(1);
        let x = a.next('C', Time(5), 7);
        assert_eq!(x, b.next('C', Time(5), 7));
        assert_eq!(x.len(), 18);
        assert!(x.starts_with('C'));
        assert_ne!(x, a.next('C', Time(5), 7));
    }
}

#[cfg(test)]
mod community_id_tests {
    use super::community_id;
    use crate::zeek::{ConnId, Port, Proto};

    fn id(a: &str, ap: u16, b: &str, bp: u16, proto: Proto) -> ConnId {
        ConnId {
            orig_h: a.parse().unwrap(),
            orig_p: Port { number: ap, proto },
            resp_h: b.parse().unwrap(),
            resp_p: Port { number: bp, proto },
        }
    }

    #[test]
    fn matches_the_published_test_vector_and_ignores_direction() {
        // The Community ID specification's TCP example (seed 0).
        let fwd = id("128.232.110.120", 34855, "66.35.250.204", 80, Proto::Tcp);
        assert_eq!(community_id(&fwd, 6, 0), "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
        assert_eq!(
            community_id(&fwd.flipped(), 6, 0),
            "1:LQU9qZlK+B5F3KDmev6m5PMibrg="
        );
    }
}
