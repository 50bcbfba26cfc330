//! Tunnels carried in UDP, as Zeek runs them: packet analyzers registered
//! under UDP by responder port (`PacketAnalyzer::register_for_ports`, ports
//! from each one's `*_ports` set), Teredo also by the shape of any UDP payload
//! (`register_protocol_detection`). Each reads its header and says where
//! the inner packet starts; the engine takes it from there (one
//! decapsulation path, one depth limit).
//!
//! Tunnels with events of their own (Teredo, GTPv1, AYIYA) are grammars
//! (`udp port 3544 => tunnel Packet;` in `grammars/teredo.npac`): their
//! generated code is a [`Decapsulator::Grammar`]. The plain encapsulations
//! below ([`builtin`], what [`Registry::default`](crate::analyzer::Registry)
//! holds) only read a header.

use crate::packet::LinkType;
use crate::wire::gre::GrePacket;

/// What a tunnel found in one UDP payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decapsulated {
    /// Not this tunnel's traffic (or nothing it carries further).
    Not,
    /// The header is broken, or carries nothing: a weird of this name about
    /// the outer packet, source the tunnel's tag; `confirm`: the header was
    /// good enough for the tunnel to confirm its protocol first.
    Weird {
        name: &'static str,
        addl: &'static str,
        confirm: Confirm,
    },
    /// The inner packet starts at `offset` and begins with `link`'s header;
    /// `confirm`: when the tunnel confirms its protocol (`service`).
    Inner {
        link: crate::packet::LinkType,
        offset: usize,
        confirm: Confirm,
    },
}

/// When a tunnel confirms its protocol on the outer connection, as Zeek's
/// tunnel analyzers do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// A plain encapsulation: no service.
    Never,
    /// At its first good packet.
    Now,
    /// Once both directions sent a good packet (Zeek's
    /// `Tunnel::delay_teredo_confirmation`).
    BothSides,
}

/// A tunnel carried in UDP (Zeek's packet analyzers under UDP: VXLAN,
/// Geneve, GTPv1, AYIYA, Teredo; the built-in ones below). It has no state
/// of its own: it reads its header and hands the inner packet back to the
/// engine, which decapsulates every tunnel the same way.
#[derive(Clone, Copy)]
pub struct TunnelSpec {
    /// Zeek's tag without the prefix: "GTPV1" names `Analyzer::ANALYZER_GTPV1`.
    pub tag: &'static str,
    /// Responder ports (after Zeek's likely-server-port flip).
    pub ports: &'static [u16],
    /// Whether a payload on any other port is this tunnel's (Zeek's
    /// `register_protocol_detection`), tried when no port matched.
    pub detect: Option<fn(&[u8]) -> bool>,
    pub decapsulate: Decapsulator,
}

/// How a tunnel reads a payload.
#[derive(Clone, Copy)]
pub enum Decapsulator {
    /// A header reader without events (VXLAN, Geneve, GRE in UDP).
    Header(fn(&[u8]) -> Decapsulated),
    /// A tunnel analyzer generated from a grammar.
    Grammar(GrammarTunnel),
}

/// A tunnel analyzer generated from a grammar (`=> tunnel Unit`): `run`
/// parses one payload of the outer connection, raises its events and weirds
/// through the context (whose `conn` is the outer connection), says through
/// its verdict whether the payload confirms or violates the protocol, and
/// returns the inner packet, if the payload carries one.
#[derive(Clone, Copy)]
pub struct GrammarTunnel {
    pub run: fn(&mut crate::analyzer::AnalyzerCx<'_>, bool, &[u8]) -> Option<InnerPacket>,
    /// When a confirming payload confirms the protocol (`Now`, or `BothSides`
    /// with `&delay_confirmation`).
    pub confirm: Confirm,
    /// `&stop_on_violation`: after a violation the outer connection's payloads
    /// are no longer read by this tunnel (Zeek's Teredo).
    pub stop_on_violation: bool,
    /// `&not_nested(violation = "..")`: a payload already inside this
    /// tunnel is not read, but reported as this violation (Zeek's GTP-in-GTP).
    pub nested_violation: Option<&'static str>,
}

/// Where a tunnel's inner packet is in its payload, and its first header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InnerPacket {
    pub link: LinkType,
    pub offset: usize,
    pub len: usize,
}

/// VXLAN, Geneve and GRE-in-UDP with Zeek's ports.
pub fn builtin() -> Vec<TunnelSpec> {
    vec![
        TunnelSpec {
            tag: "GRE",
            ports: &[4754],
            detect: None,
            decapsulate: Decapsulator::Header(gre_in_udp),
        },
        TunnelSpec {
            tag: "VXLAN",
            ports: &[4789],
            detect: None,
            decapsulate: Decapsulator::Header(vxlan),
        },
        TunnelSpec {
            tag: "GENEVE",
            ports: &[6081],
            detect: None,
            decapsulate: Decapsulator::Header(geneve),
        },
    ]
}

/// GRE in UDP (RFC 8086), read by the GRE analyzer as over IP (its weirds
/// too); a plain encapsulation, it confirms no service.
fn gre_in_udp(payload: &[u8]) -> Decapsulated {
    match GrePacket::new_checked(payload).and_then(|gre| gre.payload()) {
        Ok(inner) => Decapsulated::Inner {
            link: inner.link,
            offset: inner.offset,
            confirm: Confirm::Never,
        },
        Err(weird) => weird_only(weird.name()),
    }
}

/// A broken header's weird, before anything is confirmed.
fn weird_only(name: &'static str) -> Decapsulated {
    Decapsulated::Weird {
        name,
        addl: "",
        confirm: Confirm::Never,
    }
}

/// VXLAN: an 8-byte header with the I flag, then Ethernet; a good header
/// confirms it, even with nothing after it (`vxlan_empty_packet`).
fn vxlan(payload: &[u8]) -> Decapsulated {
    if payload.len() < 8 || payload[0] & 0x08 == 0 {
        return Decapsulated::Not;
    }
    if payload.len() == 8 {
        return Decapsulated::Weird {
            name: "vxlan_empty_packet",
            addl: "",
            confirm: Confirm::Now,
        };
    }
    Decapsulated::Inner {
        link: LinkType::Ethernet,
        offset: 8,
        confirm: Confirm::Now,
    }
}

/// Geneve: 8 bytes plus options; the protocol type says what follows.
/// Version 0 only (`geneve_invalid_version`, its number as `addl`); a good
/// header confirms Geneve even with nothing after it.
fn geneve(payload: &[u8]) -> Decapsulated {
    if payload.len() < 8 {
        return Decapsulated::Not;
    }
    let version = payload[0] >> 6;
    if version != 0 {
        return Decapsulated::Weird {
            name: "geneve_invalid_version",
            addl: ["0", "1", "2", "3"][usize::from(version)],
            confirm: Confirm::Never,
        };
    }
    let header_len = 8 + usize::from(payload[0] & 0x3f) * 4;
    if payload.len() < header_len {
        return Decapsulated::Not;
    }
    if payload.len() == header_len {
        return Decapsulated::Weird {
            name: "geneve_empty_packet",
            addl: "",
            confirm: Confirm::Now,
        };
    }
    let link = match u16::from_be_bytes([payload[2], payload[3]]) {
        0x6558 => LinkType::Ethernet,
        0x0800 | 0x86dd => LinkType::Raw,
        _ => return Decapsulated::Not,
    };
    Decapsulated::Inner {
        link,
        offset: header_len,
        confirm: Confirm::Now,
    }
}

