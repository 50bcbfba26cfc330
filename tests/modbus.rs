//! Modbus/TCP events from ADUs built here, for every Modbus event of the
//! specification (snapshots in tests/snapshots/), plus malformed input.

mod common;
mod dns_support;

use dns_support::test_conn;
use netpac_analyzers::modbus::{self, Limits, MODBUSAnalyzer};
use netpac_runtime::analyzer::{Analyzer, AnalyzerCx, Verdict};
use netpac_runtime::event::{Events, Recorded, RecordingSink};
use netpac_runtime::weird::Weird;
use netpac_runtime::zeek::{Proto, Time};
use serde_json::Value;
use std::collections::BTreeSet;

/// What one connection produced.
#[derive(Debug, serde::Serialize)]
struct Outcome {
    events: Vec<Value>,
    weirds: Vec<String>,
    verdict: String,
}

/// Feeds `(is_orig, bytes)` stream chunks to a Modbus analyzer on port 502.
fn run(chunks: &[(bool, Vec<u8>)]) -> Outcome {
    let conn = test_conn(Proto::Tcp, 502);
    let rec = Recorded::default();
    let mut events = Events::new();
    events.subscribe(Box::new(RecordingSink {
        into: rec.clone(),
        filter: None,
    }));
    let mut analyzer = MODBUSAnalyzer::new(0, Limits::default());
    let mut weirds: Vec<Weird> = Vec::new();
    let mut verdict = Verdict::Undecided;
    for (i, (is_orig, data)) in chunks.iter().enumerate() {
        let mut cx = AnalyzerCx {
            ts: Time(1_000_000_000_000_000_000 + i as i64 * 1_000_000),
            conn: &conn,
            events: &mut events,
            weirds: &mut weirds,
            verdict: verdict.clone(),
            tag: "MODBUS",
            confirmed: false,
            flip: false,
            detect_anew: false,
            partial: false,
            hand_off: None,
            hand_off_rest: None,
            forwarded: Vec::new(),
            registry: None,
            child_verdicts: Vec::new(),
        };
        analyzer.deliver(&mut cx, *is_orig, data);
        verdict = cx.verdict;
    }
    let mut out: Vec<Value> = rec.0.borrow().clone();
    // The connection record is the fake's; keep snapshots about Modbus.
    for e in &mut out {
        if let Some(args) = e.get_mut("args").and_then(|a| a.as_object_mut()) {
            if args.contains_key("c") {
                args.insert("c".into(), Value::String("<conn>".into()));
            }
        }
    }
    Outcome {
        events: out,
        weirds: weirds.iter().map(|w| w.name.to_string()).collect(),
        verdict: format!("{verdict:?}"),
    }
}

/// One ADU: MBAP header (protocol id 0, length = unit id + function code + data), then `data`.
fn adu(tid: u16, uid: u8, fc: u8, data: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&tid.to_be_bytes());
    v.extend_from_slice(&0u16.to_be_bytes());
    v.extend_from_slice(&(data.len() as u16 + 2).to_be_bytes());
    v.push(uid);
    v.push(fc);
    v.extend_from_slice(data);
    v
}

fn be(words: &[u16]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_be_bytes()).collect()
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn req(tid: u16, fc: u8, data: &[u8]) -> (bool, Vec<u8>) {
    (true, adu(tid, 1, fc, data))
}

fn resp(tid: u16, fc: u8, data: &[u8]) -> (bool, Vec<u8>) {
    (false, adu(tid, 1, fc, data))
}

fn event_names(o: &Outcome) -> BTreeSet<String> {
    o.events
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect()
}

fn reads() -> Vec<(bool, Vec<u8>)> {
    vec![
        req(1, 0x01, &be(&[0x0013, 10])),
        // 10 coils in two bytes: 0xCD = 1,0,1,1,0,0,1,1 (LSB first), 0x01 = 1 then 0s.
        resp(1, 0x01, &[2, 0xCD, 0x01]),
        req(2, 0x02, &be(&[0x00C4, 3])),
        resp(2, 0x02, &[1, 0b0000_0101]),
        req(3, 0x03, &be(&[0x006B, 3])),
        resp(3, 0x03, &cat(&[&[6], &be(&[0x022B, 0x0000, 0x0064])])),
        req(4, 0x04, &be(&[0x0008, 1])),
        resp(4, 0x04, &cat(&[&[2], &be(&[0x000A])])),
    ]
}

#[test]
fn read_requests_and_responses() {
    insta::assert_json_snapshot!(run(&reads()));
}

fn writes() -> Vec<(bool, Vec<u8>)> {
    vec![
        req(5, 0x05, &be(&[0x00AC, 0xFF00])),
        resp(5, 0x05, &be(&[0x00AC, 0xFF00])),
        req(6, 0x06, &be(&[0x0001, 0x0003])),
        resp(6, 0x06, &be(&[0x0001, 0x0003])),
        // 10 coils from 0x13: 0xCD 0x01 -> 1,0,1,1,0,0,1,1,1,0.
        req(7, 0x0F, &cat(&[&be(&[0x0013, 10]), &[2, 0xCD, 0x01]])),
        resp(7, 0x0F, &be(&[0x0013, 10])),
        req(
            8,
            0x10,
            &cat(&[&be(&[0x0001, 2]), &[4], &be(&[0x000A, 0x0102])]),
        ),
        resp(8, 0x10, &be(&[0x0001, 2])),
        req(9, 0x16, &be(&[0x0004, 0x00F2, 0x0025])),
        resp(9, 0x16, &be(&[0x0004, 0x00F2, 0x0025])),
    ]
}

#[test]
fn write_requests_and_responses() {
    insta::assert_json_snapshot!(run(&writes()));
}

fn files_and_queues() -> Vec<(bool, Vec<u8>)> {
    // Two sub-requests (reference type 6, file 4 record 1 length 2; file 3 record 9 length 2).
    let read_file_req = cat(&[&[14, 6], &be(&[4, 1, 2]), &[6], &be(&[3, 9, 2])]);
    // Two sub-responses: length 5 (type + 2 words), 5.
    let read_file_resp = cat(&[
        &[12, 5, 6],
        &be(&[0x0DFE, 0x0020]),
        &[5, 6],
        &be(&[0x33CD, 0x0040]),
    ]);
    // One reference with 3 words of data.
    let write_file = cat(&[&[13, 6], &be(&[4, 7, 3, 0x06AF, 0x04BE, 0x100D])]);
    vec![
        req(10, 0x14, &read_file_req),
        resp(10, 0x14, &read_file_resp),
        req(11, 0x15, &write_file),
        resp(11, 0x15, &write_file),
        req(
            12,
            0x17,
            &cat(&[
                &be(&[0x0003, 6, 0x000E, 3]),
                &[6],
                &be(&[0x00FF, 0x00FF, 0x00FF]),
            ]),
        ),
        resp(
            12,
            0x17,
            &cat(&[
                &[12],
                &be(&[0x00FE, 0x0ACD, 0x0001, 0x0003, 0x000D, 0x00FF]),
            ]),
        ),
        req(13, 0x18, &be(&[0x04DE])),
        resp(13, 0x18, &be(&[6, 2, 0x01B8, 0x1284])),
    ]
}

#[test]
fn file_records_read_write_registers_and_fifo() {
    insta::assert_json_snapshot!(run(&files_and_queues()));
}

#[test]
fn exceptions_and_unknown_function_codes() {
    insta::assert_json_snapshot!(run(&[
        req(20, 0x03, &be(&[0x0000, 200])),
        // Illegal data address, for read holding registers.
        resp(20, 0x83, &[0x02]),
        // A code outside Zeek's list still has the exception bit.
        resp(21, 0xAB, &[0x01]),
        // Diagnostics (0x08) and a vendor code are not parsed: modbus_message only.
        req(22, 0x08, &be(&[0x0000, 0xA537])),
        resp(22, 0x08, &be(&[0x0000, 0xA537])),
        req(23, 0x41, b"vendor"),
    ]));
}

#[test]
fn adus_split_and_coalesced_across_segments() {
    // Two requests in one segment, then one response cut in three.
    let two = cat(&[
        &adu(30, 1, 0x03, &be(&[0, 1])),
        &adu(31, 1, 0x06, &be(&[2, 7])),
    ]);
    let r = adu(30, 1, 0x03, &cat(&[&[2], &be(&[0xBEEF])]));
    insta::assert_json_snapshot!(run(&[
        (true, two),
        (false, r[..3].to_vec()),
        (false, r[3..9].to_vec()),
        (false, r[9..].to_vec()),
    ]));
}

#[test]
fn odd_register_byte_count_is_a_violation_after_modbus_message() {
    // Zeek: modbus_message, then a protocol violation and no response event.
    insta::assert_json_snapshot!(run(&[resp(40, 0x03, &[3, 0, 1, 2])]));
}

#[test]
fn invalid_single_coil_value_is_a_violation() {
    insta::assert_json_snapshot!(run(&[req(41, 0x05, &be(&[0x0001, 0x1234]))]));
}

#[test]
fn registers_that_do_not_fill_the_byte_count_are_a_violation() {
    // quantity 3 but only 4 bytes of registers; then quantity 1 with 4 bytes.
    insta::assert_json_snapshot!(run(&[
        req(42, 0x10, &cat(&[&be(&[0, 3]), &[4], &be(&[1, 2])])),
        req(43, 0x10, &cat(&[&be(&[0, 1]), &[4], &be(&[1, 2])])),
    ]));
}

#[test]
fn truncated_pdus() {
    // Each on its own connection, so every violation shows.
    let cases = [
        (
            "read coils request with one byte of its four",
            req(50, 0x01, &[0x00]),
        ),
        (
            "byte count 200 in a 3-byte body",
            resp(50, 0x01, &[200, 0xFF, 0xFF]),
        ),
        (
            "FIFO count far beyond the ADU",
            resp(51, 0x18, &be(&[2, 0xFFFF, 0x0001])),
        ),
        (
            "file record reference with a hostile word count",
            req(52, 0x15, &cat(&[&[9, 6], &be(&[4, 7, 0xFFFF, 0x0001])])),
        ),
        (
            "file record response with length 0",
            resp(53, 0x14, &[2, 0, 6]),
        ),
    ];
    let outcomes: Vec<(&str, Outcome)> = cases
        .into_iter()
        .map(|(what, c)| (what, run(&[c])))
        .collect();
    insta::assert_json_snapshot!(outcomes);
}

#[test]
fn length_shorter_than_the_header_is_a_violation_without_events() {
    // MBAP length 1: the 7-byte ADU ends before the function code. As with
    // Zeek's framing, the length is known once 8 bytes are there (here: the
    // first byte of the next ADU), then the short ADU fails and framing goes on.
    let mut short = adu(60, 1, 0x03, &[]);
    short[4..6].copy_from_slice(&1u16.to_be_bytes());
    short.truncate(7);
    let alone = run(&[(true, short.clone())]);
    assert!(
        alone.events.is_empty() && alone.verdict == "Undecided",
        "{alone:?}"
    );
    let next = adu(61, 1, 0x03, &be(&[0, 1]));
    insta::assert_json_snapshot!(run(&[(true, cat(&[&short, &next]))]));
}

#[test]
fn hostile_coil_quantity_is_bounded_by_the_bytes() {
    // 2000 coils claimed, one byte present: Zeek would read past the data; 8 coils here.
    let o = run(&[req(61, 0x0F, &cat(&[&be(&[0, 2000]), &[1, 0xFF]]))]);
    let coils = &o.events[1]["args"]["coils"];
    assert_eq!(coils.as_array().unwrap().len(), 8, "{o:?}");
    insta::assert_json_snapshot!(o);
}

#[test]
fn every_modbus_event_is_raised() {
    let mut seen = BTreeSet::new();
    for chunks in [
        reads(),
        writes(),
        files_and_queues(),
        vec![resp(1, 0x81, &[1])],
    ] {
        seen.extend(event_names(&run(&chunks)));
    }
    let all: BTreeSet<String> = modbus::EVENT_NAMES.iter().map(|s| s.to_string()).collect();
    assert_eq!(all.len(), 28);
    assert_eq!(seen, all);
}

#[test]
fn modbus_through_the_engine() {
    use common::{conn_columns, event_names, run_with, tcp, Config, Host};
    let c = common::Host::v4("10.1.1.5", 40502);
    let s: Host = Host::v4("10.1.1.9", 502);
    let q = adu(77, 1, 0x03, &be(&[0, 2]));
    let r = adu(77, 1, 0x03, &cat(&[&[4], &be(&[0x1234, 0x5678])]));
    let frames = vec![
        tcp(1.0, c, s, "S", 100, 0, b""),
        tcp(1.1, s, c, "SA", 900, 101, b""),
        tcp(1.2, c, s, "A", 101, 901, b""),
        tcp(1.3, c, s, "PA", 101, 901, &q),
        tcp(1.4, s, c, "PA", 901, 101 + q.len() as u32, &r),
    ];
    let wanted = vec![
        "modbus_message",
        "modbus_read_holding_registers_request",
        "modbus_read_holding_registers_response",
    ];
    let out = run_with(&frames, Config::default(), netpac_analyzers::registry(), Some(wanted));
    assert_eq!(
        event_names(&out),
        [
            "modbus_message",
            "modbus_read_holding_registers_request",
            "modbus_message",
            "modbus_read_holding_registers_response"
        ]
    );
    assert_eq!(
        out.events[3]["args"]["registers"],
        serde_json::json!([0x1234, 0x5678])
    );
    assert_eq!(conn_columns(&out, &["service"]), ["modbus"]);
}
