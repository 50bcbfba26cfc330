use super::*;

fn qp(line: &[u8]) -> (Vec<u8>, Vec<String>) {
    let mut out = Vec::new();
    let bad = decode_quoted_printable(line, &mut out);
    (out, bad)
}

#[test]
fn quoted_printable_hex_soft_breaks_and_blanks() {
    assert_eq!(qp(b"caf=C3=A9  ").0, b"caf\xc3\xa9\r\n");
    assert_eq!(qp(b"soft=").0, b"soft");
    assert_eq!(qp(b"a=\t").0, b"a");
}

#[test]
fn quoted_printable_anomalies_keep_the_bytes() {
    let (out, bad) = qp(b"x=ZZ\x01");
    assert_eq!(out, b"x=ZZ\x01\r\n");
    assert_eq!(
        bad,
        vec![
            "= is not followed by two hexadecimal digits in quoted-printable encoding".to_string(),
            "control characters in quoted-printable encoding: 1".to_string()
        ]
    );
}

#[test]
fn boundary_delimiters() {
    assert_eq!(delimiter(Some(b"b1"), b"--b1"), Delimiter::Boundary);
    assert_eq!(delimiter(Some(b"b1"), b"--b1  "), Delimiter::Boundary);
    assert_eq!(delimiter(Some(b"b1"), b"--b1--"), Delimiter::Closing);
    assert_eq!(delimiter(Some(b"b1"), b"--b2"), Delimiter::None);
    assert_eq!(delimiter(None, b"--b1"), Delimiter::None);
}
