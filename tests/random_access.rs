//! A field read where it lies (`&at = offset` from the `&origin`), before or after
//! the cursor (tests/grammars/shapes.npac's `PointerMessage`): DNS-style names
//! whose last label points back at a name earlier in the message.

#[allow(dead_code)]
mod grammars {
    include!(concat!(env!("OUT_DIR"), "/test_grammars/test_grammars.rs"));
}

use grammars::shapes::{Limits, PeekFramed, PointerMessage, PointerName};
use netpac_runtime::framer::FrameLen;
use netpac_runtime::parse::{Cursor, ParseCx};

fn parse(bytes: &[u8]) -> Result<Vec<String>, String> {
    let mut cur = Cursor::new(bytes);
    let mut pcx = ParseCx::new(true, 53);
    let m = PointerMessage::parse(&mut cur, &mut pcx, &Limits::default()).map_err(|e| e.to_string())?;
    Ok(m.names.iter().map(spelled).collect())
}

/// A name's labels, then those of the name its pointer names.
fn spelled(n: &PointerName<'_>) -> String {
    let mut out: Vec<String> = n
        .labels
        .iter()
        .filter(|l| !l.is_pointer && !l.text.is_empty())
        .map(|l| String::from_utf8_lossy(l.text).into_owned())
        .collect();
    if let Some(t) = &n.target {
        out.push(spelled(t));
    }
    out.join(".")
}

#[test]
fn a_pointer_reads_the_name_earlier_in_the_message() {
    let mut m = vec![2];
    m.extend(b"\x07example\x03com\x00");
    m.extend(b"\x03www\xc0\x01");
    assert_eq!(parse(&m).unwrap(), vec!["example.com", "www.example.com"]);
}

#[test]
fn a_pointer_may_point_forward_and_the_cursor_stays() {
    // The first name points at the second; the second is still read after the first.
    let mut m = vec![2];
    m.extend(b"\x01a\xc0\x05");
    m.extend(b"\x01b\x00");
    assert_eq!(parse(&m).unwrap(), vec!["a.b", "b"]);
}

#[test]
fn pointer_loops_and_offsets_outside_the_message_fail_without_panicking() {
    // A name that points at itself nests until the nesting limit.
    let looped = [1, 0xc0, 0x01];
    assert!(parse(&looped).is_err());
    // Past the end of the message.
    let outside = [1, 0xc0, 0x40];
    assert!(parse(&outside).is_err());
}

/// In a unit-level `&size`, a peek counts from the unit's start even when leading
/// fields were read to tell the length.
#[test]
fn a_frame_length_peeks_from_the_units_start() {
    assert_eq!(PeekFramed::frame_len(&[9, 0, 5, 1, 2]), FrameLen::Pdu(8));
    assert!(matches!(PeekFramed::frame_len(&[9, 0]), FrameLen::Need(_)));
}
