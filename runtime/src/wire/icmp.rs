//! The ICMP and ICMPv6 header (RFC 792, RFC 4443) read in place: type,
//! code, checksum, and the 4-byte rest of header (echo identifier and
//! sequence number).

/// A view of an ICMP or ICMPv6 message starting at its header.
#[derive(Debug, Clone, Copy)]
pub struct IcmpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

mod field {
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: usize = 2;
    pub const ECHO_IDENT: usize = 4;
    pub const ECHO_SEQ: usize = 6;
}

pub const HEADER_LEN: usize = 8;

impl<T: AsRef<[u8]>> IcmpPacket<T> {
    pub fn new_unchecked(buffer: T) -> IcmpPacket<T> {
        IcmpPacket { buffer }
    }

    /// A view of `buffer` if it holds the header.
    pub fn new_checked(buffer: T) -> Option<IcmpPacket<T>> {
        let packet = IcmpPacket::new_unchecked(buffer);
        packet.check_len().then_some(packet)
    }

    pub fn check_len(&self) -> bool {
        self.buffer.as_ref().len() >= HEADER_LEN
    }

    fn be16(&self, at: usize) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[at], b[at + 1]])
    }

    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    pub fn checksum(&self) -> u16 {
        self.be16(field::CHECKSUM)
    }

    pub fn echo_ident(&self) -> u16 {
        self.be16(field::ECHO_IDENT)
    }

    pub fn echo_seq_no(&self) -> u16 {
        self.be16(field::ECHO_SEQ)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_in_place() {
        let echo = IcmpPacket::new_checked(&[8, 0, 0xf7, 0xfd, 0, 1, 0, 2][..]).unwrap();
        assert_eq!(
            (echo.msg_type(), echo.code(), echo.checksum()),
            (8, 0, 0xf7fd)
        );
        assert_eq!((echo.echo_ident(), echo.echo_seq_no()), (1, 2));
        assert!(IcmpPacket::new_checked(&[0u8; 7][..]).is_none());
    }
}
