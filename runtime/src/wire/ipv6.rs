//! The IPv6 header (RFC 8200) read in place, and its extension headers
//! walked as Zeek's `IPv6_Hdr_Chain` walks them.

use std::net::Ipv6Addr;

/// A view of an IPv6 packet starting at its header.
#[derive(Debug, Clone, Copy)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

mod field {
    pub const VERSION_FLOW: usize = 0;
    pub const PAYLOAD_LEN: usize = 4;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC: usize = 8;
    pub const DST: usize = 24;
}

pub const HEADER_LEN: usize = 40;

/// Extension header types.
pub mod ext {
    pub const HOP_BY_HOP: u8 = 0;
    pub const ROUTING: u8 = 43;
    pub const FRAGMENT: u8 = 44;
    pub const AUTH: u8 = 51;
    pub const NO_NEXT: u8 = 59;
    pub const DEST_OPTS: u8 = 60;
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    pub fn new_unchecked(buffer: T) -> Ipv6Packet<T> {
        Ipv6Packet { buffer }
    }

    /// A view of `buffer` if it holds the fixed header.
    pub fn new_checked(buffer: T) -> Option<Ipv6Packet<T>> {
        let packet = Ipv6Packet::new_unchecked(buffer);
        packet.check_len().then_some(packet)
    }

    pub fn check_len(&self) -> bool {
        self.buffer.as_ref().len() >= HEADER_LEN
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    fn addr(&self, at: usize) -> Ipv6Addr {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.b()[at..at + 16]);
        Ipv6Addr::from(a)
    }

    pub fn version(&self) -> u8 {
        self.b()[field::VERSION_FLOW] >> 4
    }

    pub fn flow_label(&self) -> u32 {
        let b = &self.b()[field::VERSION_FLOW..];
        u32::from_be_bytes([0, b[1] & 0x0f, b[2], b[3]])
    }

    pub fn payload_len(&self) -> u16 {
        let b = self.b();
        u16::from_be_bytes([b[field::PAYLOAD_LEN], b[field::PAYLOAD_LEN + 1]])
    }

    /// Header and payload, as the payload length says.
    pub fn total_len(&self) -> usize {
        usize::from(self.payload_len()) + HEADER_LEN
    }

    pub fn next_header(&self) -> u8 {
        self.b()[field::NEXT_HEADER]
    }

    pub fn hop_limit(&self) -> u8 {
        self.b()[field::HOP_LIMIT]
    }

    pub fn src_addr(&self) -> Ipv6Addr {
        self.addr(field::SRC)
    }

    pub fn dst_addr(&self) -> Ipv6Addr {
        self.addr(field::DST)
    }
}

/// One extension header, all of its bytes.
#[derive(Debug, Clone, Copy)]
pub struct ExtHeader<'a> {
    pub kind: u8,
    pub bytes: &'a [u8],
}

impl ExtHeader<'_> {
    pub fn next_header(&self) -> u8 {
        self.bytes[0]
    }

    /// A fragment header's offset in bytes, more-fragments flag and
    /// identification.
    pub fn fragment(&self) -> Option<(usize, bool, u32)> {
        if self.kind != ext::FRAGMENT {
            return None;
        }
        let b = self.bytes;
        let offset_flags = u16::from_be_bytes([b[2], b[3]]);
        let ident = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
        Some((
            usize::from(offset_flags & 0xfff8),
            offset_flags & 1 != 0,
            ident,
        ))
    }
}

/// The length of the extension header `kind` starting `b`, when it is one
/// and its length can be read.
fn ext_header_len(kind: u8, b: &[u8]) -> Option<usize> {
    match kind {
        ext::HOP_BY_HOP | ext::ROUTING | ext::DEST_OPTS => Some((usize::from(*b.get(1)?) + 1) * 8),
        // AH counts 4-byte units beyond the first two; a zero count cannot
        // hold the mandatory fields and ends the walk.
        ext::AUTH => match *b.get(1)? {
            0 => None,
            units => Some((usize::from(units) + 2) * 4),
        },
        ext::FRAGMENT => Some(8),
        _ => None,
    }
}

/// Walks the extension headers of `data` from `offset`, the first of type
/// `next`: hop-by-hop options, routing, destination options, AH, and a
/// fragment header, after which the walk ends (what follows belongs to the
/// reassembled datagram). A header that does not fit in `data` ends the walk
/// where it starts.
#[derive(Debug, Clone)]
pub struct ExtHeaders<'a> {
    data: &'a [u8],
    offset: usize,
    next: u8,
    after_fragment: bool,
}

impl<'a> ExtHeaders<'a> {
    pub fn new(data: &'a [u8], offset: usize, next: u8) -> ExtHeaders<'a> {
        ExtHeaders {
            data,
            offset,
            next,
            after_fragment: false,
        }
    }

    /// Where the walk stands: past the headers handed out so far.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The header type after the headers handed out so far.
    pub fn next_header(&self) -> u8 {
        self.next
    }

    /// Whether the walk stopped at an extension header that does not fit.
    pub fn stopped_short(&self) -> bool {
        !self.after_fragment
            && matches!(
                self.next,
                ext::HOP_BY_HOP | ext::ROUTING | ext::DEST_OPTS | ext::AUTH | ext::FRAGMENT
            )
    }
}

impl<'a> Iterator for ExtHeaders<'a> {
    type Item = ExtHeader<'a>;

    fn next(&mut self) -> Option<ExtHeader<'a>> {
        if self.after_fragment {
            return None;
        }
        let rest = self.data.get(self.offset..)?;
        let len = ext_header_len(self.next, rest)?;
        let bytes = rest.get(..len)?;
        let header = ExtHeader {
            kind: self.next,
            bytes,
        };
        self.after_fragment = header.kind == ext::FRAGMENT;
        self.next = header.next_header();
        self.offset += len;
        Some(header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(next: u8, exts: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0x01, 0x23, 0x45, 0, exts.len() as u8, next, 64];
        p.extend_from_slice(&[0x20; 16]);
        p.extend_from_slice(&[0x30; 16]);
        p.extend_from_slice(exts);
        p
    }

    #[test]
    fn fixed_header_fields() {
        let p = packet(17, &[]);
        let ip = Ipv6Packet::new_checked(&p[..]).unwrap();
        assert_eq!((ip.version(), ip.flow_label()), (6, 0x12345));
        assert_eq!(
            (ip.next_header(), ip.hop_limit(), ip.total_len()),
            (17, 64, 40)
        );
        assert_eq!(ip.src_addr().octets(), [0x20; 16]);
        assert!(Ipv6Packet::new_checked(&p[..39]).is_none());
    }

    #[test]
    fn extension_headers_are_walked_up_to_a_fragment_header() {
        // Hop-by-hop (8 bytes) -> AH (12 bytes) -> fragment -> "routing".
        let mut exts = vec![51, 0, 1, 4, 0, 0, 0, 0];
        exts.extend_from_slice(&[44, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        exts.extend_from_slice(&[43, 0, 0x00, 0x09, 0, 0, 0, 7]);
        let p = packet(0, &exts);
        let mut walk = ExtHeaders::new(&p, HEADER_LEN, 0);
        let kinds: Vec<u8> = walk.by_ref().map(|h| h.kind).collect();
        assert_eq!(kinds, [0, 51, 44]);
        assert_eq!((walk.offset(), walk.next_header()), (68, 43));
        assert!(!walk.stopped_short());
        let frag = ExtHeaders::new(&p, HEADER_LEN, 0).last().unwrap();
        assert_eq!(frag.fragment(), Some((8, true, 7)));
    }

    #[test]
    fn a_header_that_does_not_fit_ends_the_walk_where_it_starts() {
        let p = packet(60, &[17, 1, 0, 0]);
        let mut walk = ExtHeaders::new(&p, HEADER_LEN, 60);
        assert!(walk.next().is_none());
        assert_eq!((walk.offset(), walk.next_header()), (40, 60));
        assert!(walk.stopped_short());
    }
}
