//! The GRE header (RFC 2784/2890, and PPTP's enhanced GRE, RFC 2637) read in
//! place, and what Zeek's GRE packet analyzer (`GRE.cc`) makes of it: where
//! the payload starts, which link layer it begins with, or the weird that
//! stops it. Used for GRE over IP and GRE in UDP (RFC 8086).

use crate::packet::{LinkType, LINKTYPE_IEEE802_11};

/// A GRE packet: the header and what follows it.
#[derive(Debug, Clone, Copy)]
pub struct GrePacket<T: AsRef<[u8]>> {
    buffer: T,
}

mod field {
    pub const FLAGS_VERSION: usize = 0;
    pub const PROTOCOL_TYPE: usize = 2;
    /// Flags, version and protocol type.
    pub const FIXED_LEN: usize = 4;
}

mod flag {
    pub const CHECKSUM: u16 = 0x8000;
    pub const ROUTING: u16 = 0x4000;
    pub const KEY: u16 = 0x2000;
    pub const SEQUENCE: u16 = 0x1000;
    /// PPTP's acknowledgement number.
    pub const ACK: u16 = 0x0080;
    /// Bits Zeek expects to be zero.
    pub const RESERVED: u16 = 0x0078;
}

/// Protocol types Zeek's GRE analyzer treats itself.
mod proto {
    pub const TRANSPARENT_ETHERNET: u16 = 0x6558;
    pub const ERSPAN_I_II: u16 = 0x88be;
    pub const ERSPAN_III: u16 = 0x22eb;
    pub const PPP: u16 = 0x880b;
}

/// Why Zeek's GRE analyzer stops; each is a weird of that name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GreWeird {
    Truncated,
    UnknownVersion(u16),
    /// Enhanced GRE (version 1) must carry PPP.
    EgreProtocolType(u16),
    /// RFC 1701's routing fields, deprecated and not followed.
    Routing,
    UnknownFlags,
    /// PPTP carrying something other than IPv4 or IPv6.
    NonIpInEncap,
}

impl GreWeird {
    pub fn name(self) -> &'static str {
        match self {
            GreWeird::Truncated => "truncated_GRE",
            GreWeird::UnknownVersion(_) => "unknown_gre_version",
            GreWeird::EgreProtocolType(_) => "egre_protocol_type",
            GreWeird::Routing => "gre_routing",
            GreWeird::UnknownFlags => "unknown_gre_flags",
            GreWeird::NonIpInEncap => "non_ip_packet_in_encap",
        }
    }

    /// The weird's `addl`, as Zeek formats it.
    pub fn addl(self) -> String {
        match self {
            GreWeird::UnknownVersion(v) => format!("version={v}"),
            GreWeird::EgreProtocolType(p) => format!("proto={p}"),
            _ => String::new(),
        }
    }
}

/// Where a GRE payload starts and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrePayload {
    /// The link layer the payload begins with. Zeek hands any protocol type
    /// it does not know to its IP tunnel analyzer as raw IP.
    pub link: LinkType,
    /// Offset of the payload from the start of the GRE header.
    pub offset: usize,
    /// For PPTP (version 1): the IP protocol (4 or 41) the PPP header
    /// announces, whose packet Zeek then requires to be exactly the payload.
    pub pptp_ip_proto: Option<u8>,
}

/// Aruba access points tunnel 802.11 frames under these protocol types
/// (Zeek's ranges, kept as Zeek writes them).
fn is_aruba(p: u16) -> bool {
    (p & 0x8200 == 0x8200 && p & 0x0f == 0)
        || (p & 0x8300 == 0x8300 && p & 0x0f == 0 && p <= 0x8370)
        || p == 0x9000
}

impl<T: AsRef<[u8]>> GrePacket<T> {
    pub fn new_unchecked(buffer: T) -> GrePacket<T> {
        GrePacket { buffer }
    }

    /// A view of `buffer`, which must hold at least the fixed header.
    pub fn new_checked(buffer: T) -> Result<GrePacket<T>, GreWeird> {
        let packet = GrePacket::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    pub fn check_len(&self) -> Result<(), GreWeird> {
        if self.buffer.as_ref().len() < field::FIXED_LEN {
            Err(GreWeird::Truncated)
        } else {
            Ok(())
        }
    }

    fn be16(&self, at: usize) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[at], b[at + 1]])
    }

    pub fn flags_version(&self) -> u16 {
        self.be16(field::FLAGS_VERSION)
    }

    pub fn version(&self) -> u16 {
        self.flags_version() & 0x0007
    }

    pub fn protocol_type(&self) -> u16 {
        self.be16(field::PROTOCOL_TYPE)
    }

    /// The fixed header and the optional checksum, key, sequence and
    /// acknowledgement words (the routing bit adds nothing: it is refused).
    pub fn header_len(&self) -> usize {
        let flags = self.flags_version();
        let optional = [flag::CHECKSUM, flag::KEY, flag::SEQUENCE, flag::ACK]
            .iter()
            .filter(|&&bit| flags & bit != 0)
            .count();
        field::FIXED_LEN + 4 * optional
    }

    /// Zeek's GRE analyzer, in its order of checks.
    pub fn payload(&self) -> Result<GrePayload, GreWeird> {
        let b = self.buffer.as_ref();
        let len = b.len();
        let flags = self.flags_version();
        let protocol = self.protocol_type();
        let version = self.version();
        let gre_len = self.header_len();
        // PPTP's PPP header: address, control and protocol.
        let pptp_len = if version == 1 { 4 } else { 0 };
        let mut eth_len = 0;
        let mut erspan_len = 0;
        let mut link = LinkType::Raw;
        match version {
            0 => match protocol {
                proto::TRANSPARENT_ETHERNET => {
                    if len <= gre_len + 14 {
                        return Err(GreWeird::Truncated);
                    }
                    eth_len = 14;
                    link = LinkType::Ethernet;
                }
                proto::ERSPAN_I_II => {
                    if len <= gre_len + 14 {
                        return Err(GreWeird::Truncated);
                    }
                    eth_len = 14;
                    link = LinkType::Ethernet;
                    // Type II has a sequence number and an 8-byte header; type I neither.
                    if flags & flag::SEQUENCE != 0 {
                        erspan_len = 8;
                        if len < gre_len + eth_len + erspan_len {
                            return Err(GreWeird::Truncated);
                        }
                    }
                }
                proto::ERSPAN_III => {
                    if len <= gre_len + 14 + 12 {
                        return Err(GreWeird::Truncated);
                    }
                    erspan_len = 12;
                    eth_len = 14;
                    link = LinkType::Ethernet;
                    // The last header byte flags an 8-byte platform sub-header.
                    if b[gre_len + erspan_len - 1] & 0x01 != 0 {
                        if len <= gre_len + erspan_len + 8 + eth_len {
                            return Err(GreWeird::Truncated);
                        }
                        erspan_len += 8;
                    }
                }
                p if is_aruba(p) => {
                    if len <= gre_len {
                        return Err(GreWeird::Truncated);
                    }
                    link = LinkType::Other(LINKTYPE_IEEE802_11);
                }
                _ => {}
            },
            1 => {
                if protocol != proto::PPP {
                    return Err(GreWeird::EgreProtocolType(protocol));
                }
            }
            v => return Err(GreWeird::UnknownVersion(v)),
        }
        if flags & flag::ROUTING != 0 {
            return Err(GreWeird::Routing);
        }
        if flags & flag::RESERVED != 0 {
            return Err(GreWeird::UnknownFlags);
        }
        if len < gre_len + pptp_len + eth_len + erspan_len {
            return Err(GreWeird::Truncated);
        }
        let mut pptp_ip_proto = None;
        if version == 1 {
            pptp_ip_proto = match self.be16(gre_len + 2) {
                0x0021 => Some(4),
                0x0057 => Some(41),
                _ => return Err(GreWeird::NonIpInEncap),
            };
        }
        Ok(GrePayload {
            link,
            offset: gre_len + pptp_len + erspan_len,
            pptp_ip_proto,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(b: &[u8]) -> Result<GrePayload, GreWeird> {
        GrePacket::new_checked(b)?.payload()
    }

    fn at(link: LinkType, offset: usize) -> Result<GrePayload, GreWeird> {
        Ok(GrePayload {
            link,
            offset,
            pptp_ip_proto: None,
        })
    }

    #[test]
    fn headers_name_their_payload() {
        let mut ip = vec![0, 0, 0x08, 0];
        ip.extend_from_slice(&[0x45; 20]);
        assert_eq!(payload(&ip), at(LinkType::Raw, 4));
        // A key, then bridged Ethernet.
        let mut eth = vec![0x20, 0, 0x65, 0x58, 0, 0, 0, 1];
        eth.extend_from_slice(&[0; 20]);
        assert_eq!(payload(&eth), at(LinkType::Ethernet, 8));
        // ERSPAN type II: sequence number, then an 8-byte ERSPAN header.
        let mut erspan = vec![0x10, 0, 0x88, 0xbe, 0, 0, 0, 1];
        erspan.extend_from_slice(&[0; 30]);
        assert_eq!(payload(&erspan), at(LinkType::Ethernet, 16));
        // Aruba's 802.11, over all of Zeek's ranges.
        for p in [0x8200u16, 0x8370, 0x9000] {
            let mut aruba = vec![0, 0];
            aruba.extend_from_slice(&p.to_be_bytes());
            aruba.push(0x08);
            let link = LinkType::Other(LINKTYPE_IEEE802_11);
            assert_eq!(payload(&aruba), at(link, 4), "{p:#x}");
        }
        // A protocol type Zeek has no analyzer for goes on as raw IP.
        assert_eq!(payload(&[0, 0, 0x12, 0x34, 0]), at(LinkType::Raw, 4));
    }

    #[test]
    fn pptp_names_the_inner_ip_version() {
        // Key (payload length, call id), sequence number, PPP header for IPv6.
        let pptp = [
            0x30, 0x01, 0x88, 0x0b, 0, 4, 0, 1, 0, 0, 0, 9, 0xff, 0x03, 0x00, 0x57,
        ];
        let got = payload(&pptp).unwrap();
        assert_eq!((got.offset, got.pptp_ip_proto), (16, Some(41)));
        let mut not_ip = pptp;
        not_ip[15] = 0x23; // neither IPv4 (0x21) nor IPv6 (0x57)
        assert_eq!(payload(&not_ip), Err(GreWeird::NonIpInEncap));
    }

    #[test]
    fn broken_headers_are_zeeks_weirds() {
        assert_eq!(payload(&[0, 0]), Err(GreWeird::Truncated));
        let weird = |b: &[u8]| payload(b).unwrap_err();
        assert_eq!(weird(&[0, 3, 8, 0, 0]).name(), "unknown_gre_version");
        assert_eq!(weird(&[0, 3, 8, 0, 0]).addl(), "version=3");
        assert_eq!(weird(&[0x40, 0, 8, 0, 0]).name(), "gre_routing");
        assert_eq!(weird(&[0, 0x08, 8, 0, 0]).name(), "unknown_gre_flags");
        // Enhanced GRE must carry PPP; before the engine named it unknown_gre_protocol.
        let egre = weird(&[0, 1, 8, 0, 0, 0, 0, 0]);
        assert_eq!(
            (egre.name(), egre.addl()),
            ("egre_protocol_type", "proto=2048".into())
        );
        // Bridged Ethernet needs more than an Ethernet header after GRE's.
        assert_eq!(weird(&[0, 0, 0x65, 0x58, 0, 0]), GreWeird::Truncated);
    }
}
