//! What the capture reader hands to the decoder, and what the decoder hands
//! to the flow engine. These types are the contract between `capture`,
//! `decode` and `conn`.

use crate::zeek::Time;
use std::borrow::Cow;
use std::net::IpAddr;

/// LINKTYPE_IEEE802_11: 802.11 frames without radio information.
pub const LINKTYPE_IEEE802_11: u32 = 105;
/// LINKTYPE_IEEE802_11_RADIOTAP: 802.11 frames behind a radiotap header.
pub const LINKTYPE_IEEE802_11_RADIOTAP: u32 = 127;
/// LINKTYPE_NFLOG: Linux netfilter log messages carrying packets.
pub const LINKTYPE_NFLOG: u32 = 239;

/// Link-layer header types (libpcap's LINKTYPE_* numbers) netpac decodes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum LinkType {
    /// BSD loopback: 4-byte address family in host byte order (LINKTYPE_NULL = 0).
    Null,
    Ethernet,
    /// OpenBSD loopback: 4-byte address family in network byte order (LINKTYPE_LOOP = 108).
    Loop,
    Raw,
    Ipv4,
    Ipv6,
    LinuxSll,
    LinuxSll2,
    Ppp,
    Other(u32),
}

impl LinkType {
    pub fn from_linktype(n: u32) -> LinkType {
        match n {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            9 => LinkType::Ppp,
            12 | 101 | 14 => LinkType::Raw,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            276 => LinkType::LinuxSll2,
            other => LinkType::Other(other),
        }
    }

    /// The LINKTYPE_* number this link type is written with in a capture
    /// file (raw IP is written as LINKTYPE_RAW, 101).
    pub fn to_linktype(self) -> u32 {
        match self {
            LinkType::Null => 0,
            LinkType::Ethernet => 1,
            LinkType::Ppp => 9,
            LinkType::Raw => 101,
            LinkType::Loop => 108,
            LinkType::LinuxSll => 113,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::LinuxSll2 => 276,
            LinkType::Other(n) => n,
        }
    }

    /// Whether the decoder understands frames of this link type. Callers
    /// check this up front to reject a capture with a clear error.
    pub fn is_supported(self) -> bool {
        match self {
            // IEEE 802.11, 802.11 with radiotap, Linux NFLOG: decoded
            // without a variant of their own.
            LinkType::Other(n) => matches!(
                n,
                LINKTYPE_IEEE802_11 | LINKTYPE_IEEE802_11_RADIOTAP | LINKTYPE_NFLOG
            ),
            _ => true,
        }
    }

    /// A short human-readable name (libpcap's DLT name where there is one).
    pub fn name(self) -> &'static str {
        match self {
            LinkType::Null => "NULL",
            LinkType::Ethernet => "EN10MB",
            LinkType::Ppp => "PPP",
            LinkType::Raw => "RAW",
            LinkType::Loop => "LOOP",
            LinkType::LinuxSll => "LINUX_SLL",
            LinkType::Ipv4 => "IPV4",
            LinkType::Ipv6 => "IPV6",
            LinkType::LinuxSll2 => "LINUX_SLL2",
            LinkType::Other(LINKTYPE_IEEE802_11) => "IEEE802_11",
            LinkType::Other(LINKTYPE_IEEE802_11_RADIOTAP) => "IEEE802_11_RADIO",
            LinkType::Other(LINKTYPE_NFLOG) => "NFLOG",
            LinkType::Other(_) => "unknown",
        }
    }
}

impl std::fmt::Display for LinkType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.to_linktype(), self.name())
    }
}

/// One captured frame, as read from the file.
#[derive(Debug, Clone)]
pub struct RawPacket<'a> {
    pub ts: Time,
    /// Length on the wire (may exceed `data.len()` when the snap length cut it).
    pub wire_len: u32,
    pub link: LinkType,
    pub data: &'a [u8],
}

/// What the link layer told us about a frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Layer2 {
    pub src_mac: Option<[u8; 6]>,
    pub dst_mac: Option<[u8; 6]>,
    /// Outer 802.1Q tag.
    pub vlan: Option<u16>,
    /// Inner tag of QinQ.
    pub inner_vlan: Option<u16>,
}

/// A decoded frame.
#[derive(Debug)]
pub enum Decoded<'a> {
    /// An IP datagram (possibly reassembled from fragments).
    Ip(IpPacket<'a>),
    /// A non-IP frame with its EtherType (ARP is 0x0806).
    Link {
        l2: Layer2,
        ethertype: u16,
        payload: &'a [u8],
    },
}

/// An IP datagram, down to the start of its transport header.
#[derive(Debug)]
pub struct IpPacket<'a> {
    pub l2: Layer2,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// Transport protocol number, after any IPv6 extension headers.
    pub proto: u8,
    pub ttl: u8,
    /// IPv4 identification; for IPv6 the fragment header's identification,
    /// 0 without one (Zeek's `IP_Hdr::ID`).
    pub ip_id: u32,
    /// The IPv4 "don't fragment" bit (false for IPv6 and reassembled packets),
    /// Zeek's `IP_Hdr::DF`.
    pub dont_fragment: bool,
    /// Length of the datagram: what the IP header claims (IPv4 total length;
    /// IPv6 payload length plus 40), or the captured length when an IPv4 header
    /// says 0 (TCP segmentation offload).
    pub ip_len: u32,
    /// What conn.log's `*_ip_bytes` count: the header's claim as it is, 0 included
    /// (Zeek's `IP_Hdr::TotalLen`).
    pub counted_len: u32,
    /// Length of the IP header including IPv6 extension headers.
    pub hdr_len: u32,
    /// IPv6 flow label (0 for IPv4).
    pub flow_label: u32,
    /// The transport header and payload as captured: borrowed from the frame,
    /// or owned when reassembled from fragments. Shorter than
    /// `ip_len - hdr_len` when the capture cut the packet.
    pub l4: Cow<'a, [u8]>,
    /// Whether the IPv4 header checksum was verified bad (only checked when
    /// checksums are not ignored).
    pub bad_ip_checksum: bool,
    /// Packet analyzers the packet passed up to and including IP, through
    /// any tunnels around it (Zeek's `Packet::analyzer_history`, which
    /// `PacketAnalyzer::max_depth` bounds).
    pub analyzer_depth: u8,
}

impl IpPacket<'_> {
    /// Bytes of the transport segment the IP header promises.
    pub fn l4_len_claimed(&self) -> u32 {
        self.ip_len.saturating_sub(self.hdr_len)
    }
    /// Whether the capture holds less than the IP header promises.
    pub fn is_truncated(&self) -> bool {
        (self.l4.len() as u32) < self.l4_len_claimed()
    }
    pub fn is_ipv6(&self) -> bool {
        self.src.is_ipv6()
    }
}
