//! BER (ASN.1) encoders for the tests of the BER protocols (SNMP, Kerberos):
//! definite lengths in their shortest form, as real encoders write them.
#![allow(dead_code)]

/// An element: tag, length (short or long form), content.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let n = content.len();
    let mut v = vec![tag];
    if n < 0x80 {
        v.push(n as u8);
    } else if n < 0x100 {
        v.extend([0x81, n as u8]);
    } else {
        v.push(0x82);
        v.extend((n as u16).to_be_bytes());
    }
    v.extend_from_slice(content);
    v
}

/// An INTEGER in its shortest two's complement form.
pub fn int(v: i64) -> Vec<u8> {
    let b = v.to_be_bytes();
    let mut i = 0;
    while i < 7 && ((b[i] == 0 && b[i + 1] & 0x80 == 0) || (b[i] == 0xff && b[i + 1] & 0x80 != 0)) {
        i += 1;
    }
    tlv(0x02, &b[i..])
}

pub fn octets(s: &[u8]) -> Vec<u8> {
    tlv(0x04, s)
}

/// An OBJECT IDENTIFIER from its dotted form.
pub fn oid(dotted: &str) -> Vec<u8> {
    let p: Vec<u64> = dotted.split('.').map(|x| x.parse().unwrap()).collect();
    let mut content = Vec::new();
    for v in std::iter::once(p[0] * 40 + p[1]).chain(p[2..].iter().copied()) {
        let mut groups = vec![(v & 0x7f) as u8];
        let mut rest = v >> 7;
        while rest > 0 {
            groups.push(0x80 | (rest & 0x7f) as u8);
            rest >>= 7;
        }
        groups.reverse();
        content.extend(groups);
    }
    tlv(0x06, &content)
}

pub const NULL: &[u8] = &[0x05, 0x00];

/// A SEQUENCE of the parts.
pub fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// A context tag [n] around an element.
pub fn ctx(n: u8, inner: Vec<u8>) -> Vec<u8> {
    tlv(0xa0 + n, &inner)
}

/// An application tag [APPLICATION n] around an element.
pub fn app(n: u8, inner: Vec<u8>) -> Vec<u8> {
    tlv(0x60 + n, &inner)
}

/// A GeneralString.
pub fn gstr(s: &[u8]) -> Vec<u8> {
    tlv(0x1b, s)
}

/// A GeneralizedTime.
pub fn gtime(s: &[u8]) -> Vec<u8> {
    tlv(0x18, s)
}

/// A BIT STRING of whole bytes (no unused bits).
pub fn bits(b: &[u8]) -> Vec<u8> {
    tlv(0x03, &[&[0u8][..], b].concat())
}
