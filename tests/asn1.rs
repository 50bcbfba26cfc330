//! X.690 in `grammars/asn1.npac` (`Tlv`): tag numbers in several bytes, long and
//! indefinite lengths, constructed elements read as what they hold, and what
//! hostile BER does to it (lengths of 2^64, nesting 10,000 deep, an indefinite
//! length that never ends): an error, never a panic or a runaway.

use netpac_analyzers::asn1::{Limits, Tlv, TlvBody};
use netpac_runtime::parse::{Cursor, ParseCx, ParseError};

fn parse(b: &[u8]) -> Result<(Tlv<'_>, usize), ParseError> {
    let mut cur = Cursor::new(b);
    let mut cx = ParseCx::new(true, 0);
    let t = Tlv::parse(&mut cur, &mut cx, &Limits::default())?;
    Ok((t, cur.pos()))
}

/// The tree as text: `[class number]` then the content or the children.
fn show(t: &Tlv<'_>) -> String {
    let head = format!("[{} {}]", t.id.class, t.id.number);
    match &t.body {
        TlvBody::Content(c) => format!("{head}{c:02x?}"),
        TlvBody::Elements(e) | TlvBody::UntilEoc(e) => {
            format!("{head}{{{}}}", e.iter().map(show).collect::<Vec<_>>().join(" "))
        }
    }
}

#[test]
fn tags_lengths_and_nesting() {
    // [APPLICATION 1000] (multi-byte number), long length, two children.
    let input = [0x7f, 0x87, 0x68, 0x81, 0x06, 0x02, 0x01, 0x05, 0x04, 0x01, 0x61];
    let (t, used) = parse(&input).unwrap();
    assert_eq!(used, input.len());
    assert!(t.id.constructed);
    assert_eq!(show(&t), "[1 1000]{[0 2][05] [0 4][61]}");

    // An indefinite SEQUENCE holding an indefinite [0], each ended by 00 00.
    let input = [0x30, 0x80, 0xa0, 0x80, 0x02, 0x01, 0x07, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0xff];
    let (t, used) = parse(&input).unwrap();
    assert_eq!(used, input.len() - 1, "stops after its end-of-contents");
    assert_eq!(show(&t), "[0 16]{[2 0]{[0 2][07] [0 0][]} [0 4][] [0 0][]}");
}

#[test]
fn hostile_ber_is_an_error() {
    // A length of 2^64 - 1, and one of nine bytes.
    assert!(parse(&[0x04, 0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]).is_err());
    assert!(parse(&[0x04, 0x89, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]).is_err());
    // A tag number that never ends.
    assert!(parse(&[0x1f, 0x81, 0x82]).is_err());
    // An indefinite length that never ends.
    assert!(parse(&[0x30, 0x80, 0x02, 0x01, 0x05]).is_err());
    // 10,000 nested indefinite SEQUENCEs: the depth limit, not the stack, stops it.
    let mut deep = Vec::new();
    for _ in 0..10_000 {
        deep.extend([0x30, 0x80]);
    }
    deep.extend(std::iter::repeat_n([0u8, 0], 10_000).flatten());
    assert!(parse(&deep).is_err());
}
