//! The UDP header (RFC 768) read in place.

/// A view of a UDP datagram starting at its header.
#[derive(Debug, Clone, Copy)]
pub struct UdpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

mod field {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const LENGTH: usize = 4;
    pub const CHECKSUM: usize = 6;
}

pub const HEADER_LEN: usize = 8;

impl<T: AsRef<[u8]>> UdpPacket<T> {
    pub fn new_unchecked(buffer: T) -> UdpPacket<T> {
        UdpPacket { buffer }
    }

    /// A view of `buffer` if it holds the header.
    pub fn new_checked(buffer: T) -> Option<UdpPacket<T>> {
        let packet = UdpPacket::new_unchecked(buffer);
        packet.check_len().then_some(packet)
    }

    pub fn check_len(&self) -> bool {
        self.buffer.as_ref().len() >= HEADER_LEN
    }

    fn be16(&self, at: usize) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[at], b[at + 1]])
    }

    pub fn src_port(&self) -> u16 {
        self.be16(field::SRC_PORT)
    }

    pub fn dst_port(&self) -> u16 {
        self.be16(field::DST_PORT)
    }

    /// The length field: header and payload, as the sender claims.
    pub fn length(&self) -> u16 {
        self.be16(field::LENGTH)
    }

    pub fn checksum(&self) -> u16 {
        self.be16(field::CHECKSUM)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_in_place() {
        let udp = UdpPacket::new_checked(&[0x30, 0x39, 0, 53, 0, 12, 0xab, 0xcd][..]).unwrap();
        assert_eq!((udp.src_port(), udp.dst_port()), (12345, 53));
        assert_eq!((udp.length(), udp.checksum()), (12, 0xabcd));
        assert!(UdpPacket::new_checked(&[0u8; 7][..]).is_none());
    }
}
