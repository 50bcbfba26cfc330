//! The Internet checksum (RFC 1071): one ones'-complement sum for IPv4
//! headers, ICMP, and TCP/UDP/ICMPv6 with their pseudo header.

/// Ones-complement sum over `data` added to `sum` (not folded).
///
/// Every TCP and UDP payload passes through here, so the sum runs over 64-bit
/// big-endian words with an end-around carry (RFC 1071 section 2: the sum of
/// wider words folds to the same 16-bit sum) instead of one 16-bit word and
/// one branch at a time.
pub fn ones_sum(data: &[u8], sum: u32) -> u32 {
    let mut acc = u64::from(sum);
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let (s, carry) = acc.overflowing_add(u64::from_be_bytes(w.try_into().expect("8 bytes")));
        acc = s + u64::from(carry);
    }
    let mut pairs = words.remainder().chunks_exact(2);
    for p in &mut pairs {
        acc += u64::from(u16::from_be_bytes([p[0], p[1]]));
    }
    if let [last] = pairs.remainder() {
        acc += u64::from(*last) << 8;
    }
    // Fold to at most 17 bits, so that callers may add small terms (the
    // pseudo header's protocol and length) without overflowing.
    acc = (acc & 0xffff_ffff) + (acc >> 32);
    acc = (acc & 0xffff_ffff) + (acc >> 32);
    acc = (acc & 0xffff) + (acc >> 16);
    ((acc & 0xffff) + (acc >> 16)) as u32
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

    /// The 16-bit-at-a-time sum of RFC 1071, to check the wide one against.
    fn reference_sum(data: &[u8], init: u32) -> u16 {
        let mut sum = u64::from(init);
        for c in data.chunks(2) {
            let hi = u64::from(c[0]) << 8;
            sum += hi | c.get(1).copied().map_or(0, u64::from);
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        sum as u16
    }

    #[test]
    fn wide_sum_matches_the_16_bit_sum() {
        let mut x: u32 = 0x1234_5678;
        let mut data = Vec::new();
        for len in 0..300usize {
            data.clear();
            for _ in 0..len {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                data.push((x >> 24) as u8);
            }
            for init in [0, 1, 0xffff, 0x1_fffe, 0xffff_ffff] {
                assert_eq!(fold(ones_sum(&data, init)), reference_sum(&data, init), "len {len} init {init:#x}");
            }
        }
        let ones = vec![0xff; 70_000];
        assert_eq!(fold(ones_sum(&ones, 0xffff_ffff)), reference_sum(&ones, 0xffff_ffff));
    }
}
