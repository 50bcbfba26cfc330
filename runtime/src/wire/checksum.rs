//! The Internet checksum (RFC 1071): one ones'-complement sum for IPv4
//! headers, ICMP, and TCP/UDP/ICMPv6 with their pseudo header.

/// Ones-complement sum over `data` added to `sum` (not folded).
pub fn ones_sum(data: &[u8], mut sum: u32) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum = sum.wrapping_add(u32::from(u16::from_be_bytes([c[0], c[1]])));
        if sum > 0xffff_0000 {
            sum = (sum & 0xffff) + (sum >> 16);
        }
    }
    if let [last] = chunks.remainder() {
        sum = sum.wrapping_add(u32::from(*last) << 8);
    }
    sum
}

/// Folds the carries of a ones'-complement sum into 16 bits.
pub fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// Pseudo-header sum for TCP/UDP/ICMPv6 checksums.
pub fn pseudo_header_sum(src: std::net::IpAddr, dst: std::net::IpAddr, proto: u8, len: u32) -> u32 {
    let mut sum = 0u32;
    match (src, dst) {
        (std::net::IpAddr::V4(s), std::net::IpAddr::V4(d)) => {
            sum = ones_sum(&s.octets(), sum);
            sum = ones_sum(&d.octets(), sum);
        }
        (s, d) => {
            let s = match s {
                std::net::IpAddr::V6(s) => s,
                std::net::IpAddr::V4(s) => s.to_ipv6_mapped(),
            };
            let d = match d {
                std::net::IpAddr::V6(d) => d,
                std::net::IpAddr::V4(d) => d.to_ipv6_mapped(),
            };
            sum = ones_sum(&s.octets(), sum);
            sum = ones_sum(&d.octets(), sum);
        }
    }
    sum = sum.wrapping_add(u32::from(proto));
    sum = sum.wrapping_add(len >> 16).wrapping_add(len & 0xffff);
    sum
}

/// Whether a transport checksum over `segment` (with pseudo header) verifies.
pub fn transport_checksum_ok(
    src: std::net::IpAddr,
    dst: std::net::IpAddr,
    proto: u8,
    segment: &[u8],
) -> bool {
    let sum = ones_sum(
        segment,
        pseudo_header_sum(src, dst, proto, segment.len() as u32),
    );
    fold(sum) == 0xffff
}

/// Whether a header that carries its own checksum (IPv4, ICMPv4) verifies.
pub fn header_checksum_ok(header: &[u8]) -> bool {
    fold(ones_sum(header, 0)) == 0xffff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_roundtrip() {
        let src = "10.0.0.1".parse().unwrap();
        let dst = "10.0.0.2".parse().unwrap();
        let mut seg = vec![
            0x30, 0x39, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0x20, 0x00, 0, 0, 0, 0,
            b'x',
        ];
        let sum = !fold(ones_sum(
            &seg,
            pseudo_header_sum(src, dst, 6, seg.len() as u32),
        ));
        seg[16..18].copy_from_slice(&sum.to_be_bytes());
        assert!(transport_checksum_ok(src, dst, 6, &seg));
        seg[20] = b'y';
        assert!(!transport_checksum_ok(src, dst, 6, &seg));
    }
}
