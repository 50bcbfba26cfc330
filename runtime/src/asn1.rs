//! The two ASN.1 BER decoders a grammar cannot say with fields: an integer of
//! any width and an OBJECT IDENTIFIER as dotted text. The grammar builtins
//! `be_uint(b)` and `oid(b)` call them; `grammars/asn1.npac` reads the
//! tag-length-value structure itself.

/// The big-endian unsigned value of `b`, as Zeek's `binary_to_int64`: 0 when
/// `b` is longer than 8 bytes (Zeek reports `asn_binary_to_int64_shift_too_large`
/// there; the grammar checks the width and raises that weird itself).
pub fn be_uint(b: &[u8]) -> u64 {
    if b.len() > 8 {
        return 0;
    }
    b.iter().fold(0u64, |v, &x| (v << 8) | u64::from(x))
}

/// Subidentifiers longer than this many bytes do not fit 64 bits: Zeek's
/// `asn_oid_subidentifier_too_long`.
pub const MAX_SUBIDENTIFIER_BYTES: usize = 10;

/// The OBJECT IDENTIFIER whose BER content is `b` in dotted form (`1.3.6.1`),
/// as Zeek's `asn1_oid_to_val` prints it: the first subidentifier splits into
/// `x / 40` and `x % 40` (also past 80, where X.690 would start arc 2); empty when `b` is empty, ends inside a
/// subidentifier, or has a subidentifier too long for 64 bits.
pub fn oid_string(b: &[u8]) -> String {
    use std::fmt::Write;
    if b.is_empty() || b[b.len() - 1] & 0x80 != 0 {
        return String::new();
    }
    let mut out = String::with_capacity(b.len() * 3);
    let mut value = 0u64;
    let mut width = 0usize;
    let mut first = true;
    for &x in b {
        value = (value << 7) | u64::from(x & 0x7f);
        width += 1;
        if x & 0x80 != 0 {
            continue;
        }
        if width > MAX_SUBIDENTIFIER_BYTES {
            return String::new();
        }
        if first {
            let _ = write!(out, "{}.{}", value / 40, value % 40);
            first = false;
        } else {
            let _ = write!(out, ".{value}");
        }
        value = 0;
        width = 0;
    }
    out
}

/// The width in bytes of the longest subidentifier of an OID's content (0 when
/// empty); past [`MAX_SUBIDENTIFIER_BYTES`] Zeek reports a weird.
pub fn longest_subidentifier(b: &[u8]) -> u64 {
    let (mut longest, mut width) = (0u64, 0u64);
    for &x in b {
        width += 1;
        if x & 0x80 == 0 {
            longest = longest.max(width);
            width = 0;
        }
    }
    longest
}

/// How many bytes of `b` a base-128 number takes (X.690's multi-byte tag numbers and
/// OID subidentifiers): up to and including the first byte without its high bit; 0
/// when every byte has it (the number does not end in `b`).
pub fn base128_len(b: &[u8]) -> u64 {
    b.iter().position(|&x| x & 0x80 == 0).map_or(0, |i| i as u64 + 1)
}

/// The base-128 number `b` starts with (7 bits per byte, high bit: more follow),
/// keeping the low 64 bits of a longer one.
pub fn base128(b: &[u8]) -> u64 {
    let n = base128_len(b) as usize;
    b[..n].iter().fold(0u64, |v, &x| (v << 7) | u64::from(x & 0x7f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_of_any_width_up_to_eight_bytes() {
        assert_eq!(be_uint(&[]), 0);
        assert_eq!(be_uint(&[0x01, 0x00]), 256);
        assert_eq!(be_uint(&[0xff]), 255, "no sign extension, as Zeek");
        assert_eq!(be_uint(&[0xff; 8]), u64::MAX);
        assert_eq!(be_uint(&[1; 9]), 0, "wider than 64 bits");
    }

    #[test]
    fn base128_numbers() {
        assert_eq!((base128_len(&[0x05, 0xff]), base128(&[0x05, 0xff])), (1, 5));
        assert_eq!((base128_len(&[0x86, 0x48, 0x01]), base128(&[0x86, 0x48, 0x01])), (2, 840));
        assert_eq!(base128_len(&[0x81, 0x82]), 0, "no end");
        assert_eq!(base128(&[0x81, 0x82]), 0);
        assert_eq!(base128_len(&[]), 0);
    }

    #[test]
    fn oids_print_as_zeek_prints_them() {
        assert_eq!(oid_string(&[0x2b, 6, 1, 2, 1, 1, 1, 0]), "1.3.6.1.2.1.1.1.0");
        assert_eq!(oid_string(&[0x2b, 0x86, 0x48]), "1.3.840");
        // Zeek splits the first value by 40 whatever its size (X.690 would say 2.999).
        assert_eq!(oid_string(&[0x88, 0x37, 3]), "26.39.3");
        assert_eq!(oid_string(&[]), "");
        assert_eq!(oid_string(&[0x2b, 0x86]), "", "ends inside a subidentifier");
        let mut long = vec![0x2b];
        long.extend([0x80; 10]);
        long.push(0);
        assert_eq!(oid_string(&long), "");
        assert_eq!(longest_subidentifier(&long), 11);
        let mut ten = vec![0x2b, 0x81];
        ten.extend([0x80; 8]);
        ten.push(1);
        assert_eq!(longest_subidentifier(&ten), 10);
        assert_eq!(oid_string(&ten), format!("1.3.{}", (1u64 << 63) + 1));
    }
}
