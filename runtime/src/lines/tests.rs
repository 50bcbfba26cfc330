//! The line framer against Zeek's ContentLine rules.

use super::*;

/// Frames `chunks` of the originator; returns lines (as text), raw pieces and weirds, in order.
fn frame_with(cfg: LineConfig, chunks: &[&[u8]], eof: bool) -> Vec<String> {
    let mut lines = Lines::new(cfg, LineConfig::default());
    let mut out = Vec::new();
    let mut on = |e: LineEvent<'_>| {
        out.push(match e {
            LineEvent::Line(l) => format!("line {:?}", String::from_utf8_lossy(l)),
            LineEvent::Raw(r) => format!("raw {:?}", String::from_utf8_lossy(r)),
            LineEvent::Weird(w) => format!("weird {w}"),
        })
    };
    for c in chunks {
        lines.deliver(true, c, &mut on);
    }
    if eof {
        lines.end_of_data(true, &mut on);
    }
    out
}

fn frame(chunks: &[&[u8]]) -> Vec<String> {
    frame_with(LineConfig::default(), chunks, false)
}

#[test]
fn crlf_and_bare_lf_end_lines() {
    assert_eq!(
        frame(&[b"one\r\ntwo\nthree\r\n"]),
        ["line \"one\"", "line \"two\"", "line \"three\""]
    );
}

#[test]
fn lines_split_across_chunks_are_joined() {
    assert_eq!(
        frame(&[b"ab", b"cd", b"e\r\nf", b"g\n"]),
        ["line \"abcde\"", "line \"fg\""]
    );
}

#[test]
fn crlf_split_between_chunks_is_one_terminator() {
    assert_eq!(
        frame(&[b"one\r", b"\ntwo\r", b"\n"]),
        ["line \"one\"", "line \"two\""]
    );
}

#[test]
fn empty_lines_are_lines() {
    assert_eq!(
        frame(&[b"\r\n\n\r\nx\n"]),
        ["line \"\"", "line \"\"", "line \"\"", "line \"x\""]
    );
}

#[test]
fn a_bare_cr_ends_a_line_and_is_reported_once() {
    assert_eq!(
        frame(&[b"a\rb\rc\n"]),
        [
            "line \"a\"",
            "weird line_terminated_with_single_CR",
            "line \"b\"",
            "line \"c\""
        ]
    );
}

#[test]
fn a_bare_cr_is_data_when_cr_is_no_end_of_line() {
    let cfg = LineConfig {
        cr_is_eol: false,
        ..LineConfig::default()
    };
    assert_eq!(
        frame_with(cfg, &[b"a\rb\r", b"\nc\n"], false),
        [
            "weird line_terminated_with_single_CR",
            "line \"a\\rb\"",
            "line \"c\""
        ]
    );
}

#[test]
fn a_bare_lf_is_data_when_lf_is_no_end_of_line() {
    let cfg = LineConfig {
        lf_is_eol: false,
        ..LineConfig::default()
    };
    assert_eq!(
        frame_with(cfg, &[b"a\nb\r\n"], false),
        ["weird line_terminated_with_single_LF", "line \"a\\nb\""]
    );
}

#[test]
fn over_long_lines_are_cut_and_the_next_byte_dropped() {
    let cfg = LineConfig {
        max_line: 4,
        ..LineConfig::default()
    };
    // "abcd" fills the line; "e" is dropped as Zeek's EMIT_LINE consumes it.
    assert_eq!(
        frame_with(cfg, &[b"abcdefg\n"], false),
        [
            "weird contentline_size_exceeded",
            "line \"abcd\"",
            "line \"fg\""
        ]
    );
    // Across chunks the buffer never exceeds the limit.
    let mut lines = Lines::new(cfg, cfg);
    let mut n = 0;
    for _ in 0..100 {
        lines.deliver(true, b"xyzxyzxyz", &mut |_| n += 1);
        assert!(lines.buffered(true) <= 4);
    }
    assert!(n > 100);
}

#[test]
fn a_terminator_right_at_the_limit_ends_the_cut_line() {
    let cfg = LineConfig {
        max_line: 3,
        ..LineConfig::default()
    };
    assert_eq!(
        frame_with(cfg, &[b"abc\r", b"\nd\n"], false),
        [
            "weird contentline_size_exceeded",
            "line \"abc\"",
            "line \"d\""
        ]
    );
}

#[test]
fn nuls_are_data_unless_flagged() {
    assert_eq!(frame(&[b"a\0b\n"]), ["line \"a\\0b\""]);
    let cfg = LineConfig {
        nul_weird: true,
        ..LineConfig::default()
    };
    // The first NUL is reported and dropped; later ones are data (as Zeek's finger test shows).
    assert_eq!(
        frame_with(cfg, &[b"a\0b", b"\0c\n"], false),
        ["weird NUL_in_line", "line \"ab\\0c\""]
    );
}

#[test]
fn a_partial_line_is_delivered_at_the_end() {
    assert_eq!(
        frame_with(LineConfig::default(), &[b"a\nrest"], true),
        ["line \"a\"", "line \"rest\""]
    );
    assert_eq!(
        frame_with(LineConfig::default(), &[b"a\n"], true),
        ["line \"a\""]
    );
}

#[test]
fn plain_delivery_switches_to_raw_bytes_and_back() {
    let mut lines = Lines::new(LineConfig::default(), LineConfig::default());
    let mut out = Vec::new();
    let mut on = |e: LineEvent<'_>| out.push(format!("{e:?}"));
    lines.deliver(true, b"HEAD\r\n", &mut on);
    lines.set_plain(true, 5);
    lines.deliver(true, b"12\r", &mut on);
    lines.deliver(true, b"\n4", &mut on);
    lines.deliver(true, b"5NEXT\n", &mut on);
    assert_eq!(
        out,
        [
            "Line([72, 69, 65, 68])",
            "Raw([49, 50, 13])",
            "Raw([10, 52])",
            "Line([53, 78, 69, 88, 84])"
        ]
    );
}

#[test]
fn a_raw_consumer_may_leave_plain_delivery_early() {
    // The consumer takes "ab" of a raw piece and hands back the rest, which is framed as
    // lines again (with the bytes after the piece), in stream order.
    let mut lines = Lines::new(LineConfig::default(), LineConfig::default());
    let mut out = Vec::new();
    lines.deliver_switching(true, b"GO\r\nabX\nY\n", &mut |e| {
        out.push(format!("{e:?}"));
        match e {
            LineEvent::Line(b"GO") => u64::MAX,
            LineEvent::Raw(r) => r.len() as u64 - 2,
            _ => 0,
        }
    });
    assert_eq!(
        out,
        [
            "Line([71, 79])",
            "Raw([97, 98, 88, 10, 89, 10])",
            "Line([88])",
            "Line([89])"
        ]
    );
    assert_eq!(lines.plain_remaining(true), 0);
}

#[test]
fn lines_inside_a_chunk_are_not_copied() {
    let data = b"first\nsecond\n".to_vec();
    let mut lines = Lines::new(LineConfig::default(), LineConfig::default());
    let base = data.as_ptr() as usize;
    let mut in_place = 0;
    lines.deliver(true, &data, &mut |e| {
        if let LineEvent::Line(l) = e {
            let p = l.as_ptr() as usize;
            assert!(p >= base && p < base + data.len());
            in_place += 1;
        }
    });
    assert_eq!(in_place, 2);
    assert_eq!(lines.buffered(true), 0);
}

#[test]
fn directions_are_framed_apart_and_flags_are_per_connection() {
    let mut lines = Lines::new(LineConfig::default(), LineConfig::default());
    let mut out = Vec::new();
    let mut on = |e: LineEvent<'_>| out.push(format!("{e:?}"));
    lines.deliver(true, b"o", &mut on);
    lines.deliver(false, b"r\r", &mut on);
    lines.deliver(false, b"x\n", &mut on);
    lines.deliver(true, b"\ra\n", &mut on);
    assert_eq!(
        out,
        [
            "Line([114])",
            "Weird(\"line_terminated_with_single_CR\")",
            "Line([120])",
            "Line([111])",
            "Line([97])"
        ]
    );
}

#[test]
fn a_delimiter_ends_pieces_and_crlf_and_nul_are_data() {
    let cfg = LineConfig {
        delimiter: Some(b'>'),
        ..LineConfig::default()
    };
    assert_eq!(
        frame_with(cfg, &[b"<a x='1'>\r\n<b", b"/><c\0>tail"], true),
        [
            "line \"<a x='1'\"",
            "line \"\\r\\n<b/\"",
            "line \"<c\\0\"",
            "line \"tail\""
        ]
    );
}

#[test]
fn a_delimited_piece_is_cut_at_the_limit() {
    let cfg = LineConfig {
        delimiter: Some(b'>'),
        max_line: 4,
        ..LineConfig::default()
    };
    assert_eq!(
        frame_with(cfg, &[b"abcdef>", b"gh>"], false),
        [
            "weird contentline_size_exceeded",
            "line \"abcd\"",
            "line \"ef\"",
            "line \"gh\""
        ]
    );
}
