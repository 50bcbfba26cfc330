//! Recursive units (`tests/recursive/filter.npac`): the generated Rust is a
//! golden fixture (`tests/recursive/npac_filter.rs`, like prost-build's), and
//! that fixture is compiled into this test and run, so the boxed types are
//! known to compile, parse nested input and bind events through the boxes.
//!
//! After a generator change: `NETPAC_BLESS=1 cargo test -p netpac-codegen --test recursive_units`.

use netpac_codegen::diag::SourceFile;
use std::collections::HashMap;
use std::path::Path;

mod generated {
    include!("recursive/npac_filter.rs");
}
use generated::filter::{Chain, Filter, FilterBody, Limits};
use netpac_runtime::event::{Events, Recorded, RecordingSink};
use netpac_runtime::parse::{Cursor, EmitCx, InvalidKind, ParseCx, ParseError, Pdu};

fn generate() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/recursive");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut events = HashMap::new();
    netpac_codegen::parse_event_table(
        &std::fs::read_to_string(root.join("grammars/zeek/events.tsv")).unwrap(),
        &mut events,
    );
    let files: Vec<SourceFile> = ["filter.npac", "filter.evt"]
        .iter()
        .map(|f| SourceFile {
            name: format!("tests/recursive/{f}"),
            text: std::fs::read_to_string(dir.join(f)).unwrap(),
        })
        .collect();
    let out = netpac_codegen::compile_sources(&files, &events).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.len(), 1);
    out[0].code.clone()
}

#[test]
fn generated_code_matches_the_compiled_fixture() {
    let code = generate();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/recursive/npac_filter.rs");
    if std::env::var_os("NETPAC_BLESS").is_some() {
        std::fs::write(&fixture, &code).unwrap();
    }
    let want = std::fs::read_to_string(&fixture).unwrap();
    assert!(
        code == want,
        "the generated code changed; review it and rerun with NETPAC_BLESS=1"
    );
    // Only the edges that close a cycle are boxed; arrays are not.
    assert!(code.contains("Not(::std::boxed::Box<Filter<'a>>)"));
    assert!(code.contains("And(::std::vec::Vec<Filter<'a>>)"));
    assert!(code.contains("pub rest: ::std::boxed::Box<Chain>"));
    assert!(code.contains("pub link: ::std::option::Option<Link>"));
}

fn parse_filter(data: &[u8]) -> Result<Filter<'_>, ParseError> {
    let mut cx = ParseCx::new(true, 0);
    Filter::parse(&mut Cursor::new(data), &mut cx, &Limits::default())
}

#[test]
fn nested_filters_parse_through_the_box() {
    // not(and(present "cn", present "ou"))
    let data = [
        0xa2, 0x0a, 0xa0, 0x08, 0x87, 0x02, b'c', b'n', 0x87, 0x02, b'o', b'u',
    ];
    let f = parse_filter(&data).unwrap();
    let FilterBody::Not(inner) = &f.body else {
        panic!("{f:?}")
    };
    let FilterBody::And(parts) = &inner.body else {
        panic!("{inner:?}")
    };
    let names: Vec<&[u8]> = parts
        .iter()
        .map(|p| match &p.body {
            FilterBody::Present(n) => *n,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(names, [&b"cn"[..], &b"ou"[..]]);
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    // 100 nested `not`s, then one `present`: deeper than the runtime's MAX_DEPTH (64).
    let depth = 100;
    let mut data = Vec::new();
    for i in 0..depth {
        let inner_len = 2 * (depth - i - 1) + 3;
        data.extend([0xa2, u8::try_from(inner_len).unwrap()]);
    }
    data.extend([0x87, 0x01, b'x']);
    let e = parse_filter(&data).unwrap_err();
    assert!(
        matches!(
            e,
            ParseError::Invalid {
                kind: InvalidKind::Limit("depth"),
                ..
            }
        ),
        "{e:?}"
    );
    // Within the limit the same shape parses.
    let mut shallow = Vec::new();
    for i in 0..10 {
        shallow.extend([0xa2, (2 * (10 - i - 1) + 3) as u8]);
    }
    shallow.extend([0x87, 0x01, b'x']);
    assert!(parse_filter(&shallow).is_ok());
}

#[test]
fn events_bind_through_boxed_fields_and_arms() {
    let rec = Recorded::default();
    let mut events = Events::new();
    events.subscribe(Box::new(RecordingSink {
        into: rec.clone(),
        filter: None,
    }));
    let lim = Limits::default();
    let emit = |data: &[u8], events: &mut Events, bind: &dyn Fn(&mut Events, &EmitCx<'_>)| {
        let ecx = EmitCx {
            ts: netpac_runtime::zeek::Time(0),
            conn: &netpac_runtime::analyzer::NoConnection,
            pdu: Pdu::new(data),
            pdu_len: data.len(),
            is_orig: true,
            halted: false,
            l2: None,
        };
        bind(events, &ecx);
    };

    let not_present = [0xa2, 0x04, 0x87, 0x02, b'c', b'n'];
    let f = parse_filter(&not_present).unwrap();
    emit(&not_present, &mut events, &|ev, ecx| {
        generated::filter::bind_filter(&f, ev, ecx, &lim)
    });

    // Chain 7 -> Chain 8 -> end.
    let chain = [1, 7, 1, 8, 0];
    let mut cx = ParseCx::new(true, 0);
    let c = Chain::parse(&mut Cursor::new(&chain), &mut cx, &lim).unwrap();
    emit(&chain, &mut events, &|ev, ecx| {
        generated::filter::bind_chain(&c, ev, ecx, &lim)
    });

    let got: Vec<serde_json::Value> = rec
        .0
        .borrow()
        .iter()
        .map(|e| serde_json::json!([e["event"], e["args"]]))
        .collect();
    assert_eq!(
        got,
        [
            serde_json::json!(["stp_remove_pair", {"e1": 2, "e2": 4}]),
            serde_json::json!(["stp_remove_endp", {"e": 8}]),
        ]
    );
}
