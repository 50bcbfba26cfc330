//! The TCP header (RFC 9293) read in place.

/// A view of a TCP segment starting at its header.
#[derive(Debug, Clone, Copy)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

mod field {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const SEQ: usize = 4;
    pub const ACK: usize = 8;
    pub const DATA_OFFSET: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WINDOW: usize = 14;
    pub const CHECKSUM: usize = 16;
}

/// The header without options.
pub const MIN_HEADER_LEN: usize = 20;

impl<T: AsRef<[u8]>> TcpPacket<T> {
    pub fn new_unchecked(buffer: T) -> TcpPacket<T> {
        TcpPacket { buffer }
    }

    /// A view of `buffer` if it holds the fixed header.
    pub fn new_checked(buffer: T) -> Option<TcpPacket<T>> {
        let packet = TcpPacket::new_unchecked(buffer);
        packet.check_len().then_some(packet)
    }

    pub fn check_len(&self) -> bool {
        self.buffer.as_ref().len() >= MIN_HEADER_LEN
    }

    fn be16(&self, at: usize) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[at], b[at + 1]])
    }

    fn be32(&self, at: usize) -> u32 {
        let b = self.buffer.as_ref();
        u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    pub fn src_port(&self) -> u16 {
        self.be16(field::SRC_PORT)
    }

    pub fn dst_port(&self) -> u16 {
        self.be16(field::DST_PORT)
    }

    pub fn seq_number(&self) -> u32 {
        self.be32(field::SEQ)
    }

    pub fn ack_number(&self) -> u32 {
        self.be32(field::ACK)
    }

    /// Header length in bytes, options included (as claimed: it may exceed
    /// the segment).
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::DATA_OFFSET] >> 4) * 4
    }

    /// The eight flag bits (CWR to FIN).
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[field::FLAGS]
    }

    pub fn window_len(&self) -> u16 {
        self.be16(field::WINDOW)
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
        let header = [
            0x30, 0x39, 0, 80, 0, 0, 0, 100, 0, 0, 1, 0, 0x60, 0x12, 0xff, 0xfe, 0xab, 0xcd, 0, 0,
        ];
        let tcp = TcpPacket::new_checked(&header[..]).unwrap();
        assert_eq!((tcp.src_port(), tcp.dst_port()), (12345, 80));
        assert_eq!((tcp.seq_number(), tcp.ack_number()), (100, 256));
        assert_eq!((tcp.header_len(), tcp.flags()), (24, 0x12));
        assert_eq!((tcp.window_len(), tcp.checksum()), (0xfffe, 0xabcd));
        assert!(TcpPacket::new_checked(&header[..19]).is_none());
    }
}
