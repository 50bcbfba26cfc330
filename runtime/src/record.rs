//! Zeek's `connection` record and its parts, as events carry them.
//! Built on demand (only when an event that carries it is subscribed).

use crate::zeek::{ConnId, Interval, MacAddr, Time, ZString};
use serde::Serialize;

/// One side of a connection (Zeek's `endpoint`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Endpoint {
    /// Bytes sent (for TCP, from sequence numbers).
    pub size: u64,
    /// TCP_* / UDP_* endpoint state constant, as Zeek numbers them.
    pub state: u64,
    pub num_pkts: Option<u64>,
    pub num_bytes_ip: Option<u64>,
    pub flow_label: u64,
    pub l2_addr: Option<MacAddr>,
}

/// A connection's services: one fits in place, as big as an empty `Vec` (a second
/// spills to the heap).
pub type Services = smallvec::SmallVec<[&'static str; 1]>;

/// Zeek's `connection` record.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Connection {
    pub id: ConnId,
    pub orig: Endpoint,
    pub resp: Endpoint,
    pub start_time: Time,
    pub duration: Interval,
    /// Confirmed analyzers, lower-case (`set[string]`); static names held in
    /// place, so that a record built for an event allocates nothing for them.
    pub service: Services,
    pub history: compact_str::CompactString,
    /// Shared with the connection: records are built per event.
    pub uid: std::sync::Arc<str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vlan: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inner_vlan: Option<i64>,
    /// The tunnels the connection's latest packet came through, outermost
    /// first (Zeek's `tunnel`, unset when it came through none); shared, as
    /// records are built per event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<Encapsulation>,
    /// What `conn.log` needs beyond Zeek's record; not an event argument.
    #[serde(skip)]
    pub extra: ConnExtra,
}

/// The parts of `conn.log` that Zeek's scripts gather from elsewhere (the
/// IP protocol, `content_gap` sums, the tunnel stack, late DPD matches);
/// the engine hands them over with the record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnExtra {
    pub ip_proto: u8,
    pub missed_bytes: u64,
    /// Uids of the innermost tunnel of each encapsulation the connection was
    /// seen through (Zeek's `tunnel_parents`, gathered at `new_connection`
    /// and each `tunnel_changed`).
    pub tunnel_parents: Vec<std::sync::Arc<str>>,
    /// Analyzers whose signature matched too late to attach them.
    pub speculative_service: Vec<String>,
}

/// One tunnel of an encapsulation chain (Zeek's `EncapsulatingConn`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EncapsulatingConn {
    /// The tunnel's endpoints; an IP tunnel (IP-in-IP, GRE) has ports 0.
    pub cid: ConnId,
    /// Zeek's `Tunnel::Type`, e.g. `Tunnel::TEREDO`.
    pub tunnel_type: &'static str,
    /// The tunnel's uid: its UDP connection's, or one per address pair for
    /// an IP tunnel; unset for proxies (SOCKS, HTTP CONNECT), whose many
    /// connections make one tunnel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<std::sync::Arc<str>>,
}

impl EncapsulatingConn {
    /// The same tunnel, as Zeek's session code compares encapsulations:
    /// same type and uid (which stand for the endpoints).
    pub fn same_tunnel(&self, other: &EncapsulatingConn) -> bool {
        self.tunnel_type == other.tunnel_type && self.uid == other.uid
    }
}

/// Zeek's `EncapsulatingConnVector`, outermost tunnel first.
pub type Encapsulation = std::sync::Arc<[EncapsulatingConn]>;

/// Zeek's `icmp_conn`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IcmpConn {
    pub orig_h: std::net::IpAddr,
    pub resp_h: std::net::IpAddr,
    pub itype: u64,
    pub icode: u64,
    pub len: u64,
    pub hlim: u64,
    pub v6: bool,
}

/// Zeek's `icmp_context`: the packet an ICMP error quotes.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IcmpContext {
    pub id: ConnId,
    pub len: u64,
    pub proto: u64,
    pub frag_offset: u64,
    pub bad_hdr_len: bool,
    pub bad_checksum: bool,
    #[serde(rename = "MF")]
    pub mf: bool,
    #[serde(rename = "DF")]
    pub df: bool,
}

/// Zeek's `SYN_packet`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SynPacket {
    pub is_orig: bool,
    #[serde(rename = "DF")]
    pub df: bool,
    pub ttl: u64,
    pub size: u64,
    pub win_size: u64,
    pub win_scale: i64,
    #[serde(rename = "MSS")]
    pub mss: u64,
    #[serde(rename = "SACK_OK")]
    pub sack_ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tsval: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tsecr: Option<u64>,
}

/// Zeek's `icmp6_mldv2_mar`: one multicast address record of an MLDv2
/// report (RFC 3810 §5.2.4).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Icmp6Mldv2Mar {
    /// Zeek's `icmp6_mldv2_group_type` (`MLDV2_MODE_IS_INCLUDE`, ...),
    /// `<unknown N>` outside 1..6 as Zeek prints an unknown enum value.
    pub group_type: String,
    /// In bytes (the wire's count of 32-bit words, times 4).
    pub aux_data_len: u64,
    pub num_sources: u64,
    pub multicast_addr: std::net::IpAddr,
    pub sources: Vec<std::net::IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aux_data: Option<ZString>,
}

/// Zeek's `icmp6_nd_option`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Icmp6NdOption {
    pub otype: u64,
    pub len: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_address: Option<ZString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<ZString>,
}
