//! How Zeek's X509 analyzer prints what it reads, which is how OpenSSL prints it:
//! distinguished names in RFC 2253 form (`X509_NAME_print_ex` with
//! `XN_FLAG_RFC2253`: the last RDN first, `,` between RDNs, OpenSSL's short
//! attribute names), OIDs by OpenSSL's long names, serials in upper-case hex.

use std::fmt::Write as _;
use x509_parser::x509::X509Name;

/// OpenSSL's short names of the attribute types found in names.
fn attribute_short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.13" => "description",
        "2.5.4.15" => "businessCategory",
        "2.5.4.17" => "postalCode",
        "2.5.4.42" => "GN",
        "2.5.4.43" => "initials",
        "2.5.4.44" => "generationQualifier",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "2.5.4.97" => "organizationIdentifier",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.3.6.1.4.1.311.60.2.1.1" => "jurisdictionL",
        "1.3.6.1.4.1.311.60.2.1.2" => "jurisdictionST",
        "1.3.6.1.4.1.311.60.2.1.3" => "jurisdictionC",
        _ => return None,
    })
}

/// OpenSSL's long names of key and signature algorithms (`OBJ_nid2ln`); other
/// OIDs in dotted form, as OpenSSL prints an unknown object.
pub fn oid_long_name(oid: &str) -> String {
    let name = match oid {
        "1.2.840.113549.1.1.1" => "rsaEncryption",
        "1.2.840.113549.1.1.2" => "md2WithRSAEncryption",
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption",
        "1.2.840.10045.2.1" => "id-ecPublicKey",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.1" => "ecdsa-with-SHA224",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.2.840.10040.4.1" => "dsaEncryption",
        "1.2.840.10040.4.3" => "dsaWithSHA1",
        "2.16.840.1.101.3.4.3.1" => "dsa_with_SHA224",
        "2.16.840.1.101.3.4.3.2" => "dsa_with_SHA256",
        "1.3.101.110" => "X25519",
        "1.3.101.111" => "X448",
        "1.3.101.112" => "ED25519",
        "1.3.101.113" => "ED448",
        _ => return oid.to_string(),
    };
    name.to_string()
}

/// OpenSSL's short names of named curves.
pub fn curve_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "1.2.840.10045.3.1.1" => "prime192v1",
        "1.2.840.10045.3.1.7" => "prime256v1",
        "1.3.132.0.33" => "secp224r1",
        "1.3.132.0.34" => "secp384r1",
        "1.3.132.0.35" => "secp521r1",
        "1.3.132.0.10" => "secp256k1",
        "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1",
        "1.3.36.3.3.2.8.1.1.11" => "brainpoolP384r1",
        "1.3.36.3.3.2.8.1.1.13" => "brainpoolP512r1",
        _ => return None,
    })
}

/// The key length OpenSSL gives an EC key: its curve's size in bits.
pub fn curve_bits(curve: &str) -> Option<u64> {
    Some(match curve {
        "prime192v1" => 192,
        "secp224r1" => 224,
        "prime256v1" | "secp256k1" | "brainpoolP256r1" => 256,
        "secp384r1" | "brainpoolP384r1" => 384,
        "brainpoolP512r1" => 512,
        "secp521r1" => 521,
        _ => return None,
    })
}

/// Bits of a big-endian unsigned integer (an RSA modulus).
pub fn bit_length(n: &[u8]) -> u64 {
    let n = strip_zeros(n);
    match n.first() {
        Some(&b) => (n.len() as u64 - 1) * 8 + u64::from(8 - b.leading_zeros()),
        None => 0,
    }
}

/// A big-endian unsigned integer in decimal (an RSA exponent, usually 65537).
pub fn decimal(n: &[u8]) -> String {
    let n = strip_zeros(n);
    if n.len() <= 16 {
        let mut v: u128 = 0;
        for &b in n {
            v = (v << 8) | u128::from(b);
        }
        return v.to_string();
    }
    // Longer than any real exponent: long division by 10.
    let mut digits = Vec::new();
    let mut num: Vec<u8> = n.to_vec();
    while !num.is_empty() {
        let mut rem = 0u32;
        let mut next = Vec::with_capacity(num.len());
        for &b in &num {
            let cur = rem * 256 + u32::from(b);
            let q = (cur / 10) as u8;
            rem = cur % 10;
            if !next.is_empty() || q != 0 {
                next.push(q);
            }
        }
        digits.push(b'0' + rem as u8);
        num = next;
    }
    digits.reverse();
    String::from_utf8(digits).expect("digits")
}

fn strip_zeros(n: &[u8]) -> &[u8] {
    let start = n.iter().position(|&b| b != 0).unwrap_or(n.len());
    &n[start..]
}

/// A serial number as OpenSSL's `i2a_ASN1_INTEGER` prints it: upper-case hex of
/// its bytes, without the sign byte DER adds; a negative one (its first bit set)
/// as `-` and its magnitude.
pub fn serial(raw: &[u8]) -> String {
    let mut s = String::with_capacity(raw.len() * 2 + 1);
    let magnitude: Vec<u8> = if raw.first().is_some_and(|&b| b & 0x80 != 0) {
        s.push('-');
        // Two's complement: invert and add one.
        let mut m: Vec<u8> = raw.iter().map(|b| !b).collect();
        for b in m.iter_mut().rev() {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                break;
            }
        }
        let start = m.iter().position(|&b| b != 0).unwrap_or(m.len().saturating_sub(1));
        m[start..].to_vec()
    } else if raw.len() > 1 && raw[0] == 0 {
        raw[1..].to_vec()
    } else {
        raw.to_vec()
    };
    for b in magnitude {
        let _ = write!(s, "{b:02X}");
    }
    s
}

/// The values of the name's CN attributes, in order.
pub fn common_names(name: &X509Name<'_>) -> Vec<String> {
    name.iter_common_name()
        .filter_map(|a| {
            let v = a.attr_value();
            string_value(v.header.tag().0, v.data)
        })
        .collect()
}

/// A name in RFC 2253 form, as `X509_NAME_print_ex(.., XN_FLAG_RFC2253)` prints it.
pub fn rfc2253(name: &X509Name<'_>) -> String {
    let mut out = String::new();
    let rdns: Vec<_> = name.iter().collect();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, attr) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            let oid = attr.attr_type().to_id_string();
            match attribute_short_name(&oid) {
                Some(short) => out.push_str(short),
                None => out.push_str(&oid),
            }
            out.push('=');
            let value = attr.attr_value();
            match string_value(value.header.tag().0, value.data) {
                Some(v) => escape_into(&mut out, v.as_bytes()),
                // Not a string type: OpenSSL dumps the value as `#` and hex.
                None => {
                    out.push('#');
                    for b in value.data.iter() {
                        let _ = write!(out, "{b:02X}");
                    }
                }
            }
        }
    }
    out
}

/// The text of a string-typed value, as OpenSSL converts it to UTF-8 (whatever
/// characters the type formally allows: `*` in a PrintableString is common).
fn string_value(tag: u32, data: &[u8]) -> Option<String> {
    match tag {
        // UTF8String, NumericString, PrintableString, T61String, IA5String, VisibleString.
        12 | 18 | 19 | 20 | 22 | 26 => Some(match std::str::from_utf8(data) {
            Ok(s) => s.to_string(),
            // Latin-1 for the byte strings that are not UTF-8 (T61).
            Err(_) => data.iter().map(|&b| char::from(b)).collect(),
        }),
        // BMPString: UTF-16BE.
        30 => {
            let units: Vec<u16> = data.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            Some(String::from_utf16_lossy(&units))
        }
        // UniversalString: UTF-32BE.
        28 => Some(
            data.chunks_exact(4)
                .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])).unwrap_or('\u{fffd}'))
                .collect(),
        ),
        _ => None,
    }
}

/// RFC 2253 escaping with OpenSSL's `ESC_2253 | ESC_CTRL | ESC_MSB`: the
/// special characters with a backslash, a leading `#` or space and a trailing
/// space too, control characters and bytes past ASCII as `\XX`.
fn escape_into(out: &mut String, v: &[u8]) {
    for (i, &b) in v.iter().enumerate() {
        let first = i == 0;
        let last = i + 1 == v.len();
        match b {
            b',' | b'+' | b'"' | b'\\' | b'<' | b'>' | b';' => {
                out.push('\\');
                out.push(char::from(b));
            }
            b'#' if first => out.push_str("\\#"),
            b' ' if first || last => out.push_str("\\ "),
            0..=0x1f | 0x7f..=0xff => {
                let _ = write!(out, "\\{b:02X}");
            }
            _ => out.push(char::from(b)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_openssl_prints_them() {
        assert_eq!(bit_length(&[0x00, 0xc0, 0, 0]), 24);
        assert_eq!(bit_length(&[0x01, 0]), 9);
        assert_eq!(decimal(&[0x01, 0x00, 0x01]), "65537");
        let mut two_128 = vec![1u8];
        two_128.extend([0u8; 16]);
        assert_eq!(decimal(&two_128), "340282366920938463463374607431768211456");
        assert_eq!(serial(&[0x00, 0xf2, 0x8e]), "F28E");
        assert_eq!(serial(&[0x6a]), "6A");
        // Negative, as Zeek 8.2.2 printed a certificate with serial byte 0x81.
        assert_eq!(serial(&[0x81]), "-7F");
    }

    #[test]
    fn values_are_escaped_as_rfc_2253_says() {
        let mut s = String::new();
        escape_into(&mut s, b"#Acme, Inc. ");
        assert_eq!(s, "\\#Acme\\, Inc.\\ ");
        let mut s = String::new();
        escape_into(&mut s, "Zürich".as_bytes());
        assert_eq!(s, "Z\\C3\\BCrich");
    }
}
