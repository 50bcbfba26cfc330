//! The IPv4 header (RFC 791) read in place.

use std::net::Ipv4Addr;

/// A view of an IPv4 packet starting at its header.
#[derive(Debug, Clone, Copy)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

mod field {
    pub const VERSION_IHL: usize = 0;
    pub const TOTAL_LEN: usize = 2;
    pub const IDENT: usize = 4;
    pub const FLAGS_FRAG: usize = 6;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const SRC: usize = 12;
    pub const DST: usize = 16;
}

/// The header without options.
pub const MIN_HEADER_LEN: usize = 20;

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    pub fn new_unchecked(buffer: T) -> Ipv4Packet<T> {
        Ipv4Packet { buffer }
    }

    /// A view of `buffer` if it holds the fixed header (the options and the
    /// payload are the caller's to check against `header_len`/`total_len`).
    pub fn new_checked(buffer: T) -> Option<Ipv4Packet<T>> {
        let packet = Ipv4Packet::new_unchecked(buffer);
        packet.check_len().then_some(packet)
    }

    pub fn check_len(&self) -> bool {
        self.buffer.as_ref().len() >= MIN_HEADER_LEN
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    fn be16(&self, at: usize) -> u16 {
        u16::from_be_bytes([self.b()[at], self.b()[at + 1]])
    }

    fn addr(&self, at: usize) -> Ipv4Addr {
        let b = self.b();
        Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3])
    }

    pub fn version(&self) -> u8 {
        self.b()[field::VERSION_IHL] >> 4
    }

    /// Header length in bytes, options included.
    pub fn header_len(&self) -> usize {
        usize::from(self.b()[field::VERSION_IHL] & 0x0f) * 4
    }

    /// The total length field: header and payload.
    pub fn total_len(&self) -> u16 {
        self.be16(field::TOTAL_LEN)
    }

    pub fn ident(&self) -> u16 {
        self.be16(field::IDENT)
    }

    pub fn dont_fragment(&self) -> bool {
        self.be16(field::FLAGS_FRAG) & 0x4000 != 0
    }

    pub fn more_fragments(&self) -> bool {
        self.be16(field::FLAGS_FRAG) & 0x2000 != 0
    }

    /// The fragment offset in bytes.
    pub fn frag_offset(&self) -> usize {
        usize::from(self.be16(field::FLAGS_FRAG) & 0x1fff) * 8
    }

    pub fn ttl(&self) -> u8 {
        self.b()[field::TTL]
    }

    pub fn protocol(&self) -> u8 {
        self.b()[field::PROTOCOL]
    }

    pub fn src_addr(&self) -> Ipv4Addr {
        self.addr(field::SRC)
    }

    pub fn dst_addr(&self) -> Ipv4Addr {
        self.addr(field::DST)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_in_place() {
        let header = [
            0x46, 0, 0, 60, 0x12, 0x34, 0x20, 0x03, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        let ip = Ipv4Packet::new_checked(&header[..]).unwrap();
        assert_eq!((ip.version(), ip.header_len(), ip.total_len()), (4, 24, 60));
        assert_eq!((ip.ident(), ip.ttl(), ip.protocol()), (0x1234, 64, 17));
        assert!(ip.more_fragments() && !ip.dont_fragment());
        assert_eq!(ip.frag_offset(), 24);
        assert_eq!(ip.src_addr(), Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(ip.dst_addr(), Ipv4Addr::new(10, 0, 0, 2));
        assert!(Ipv4Packet::new_checked(&header[..19]).is_none());
    }
}
