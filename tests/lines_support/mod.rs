//! Driving a line-framed analyzer (`lines(...)` in its grammar) directly, and
//! building whole TCP sessions of it for the engine (and for Zeek, with
//! `NETPAC_TEST_PCAPS`).
#![allow(dead_code)]

use crate::common::{tcp, Config, Frame, Harness, Host};
use netpac_runtime::analyzer::{Analyzer, AnalyzerCx, TestConn, Verdict};
use netpac_runtime::event::{Events, Recorded, RecordingSink};
use netpac_runtime::weird::Weird;
use netpac_runtime::zeek::{Proto, Time};
use serde_json::Value;

/// What one connection produced.
#[derive(Debug, serde::Serialize)]
pub struct Outcome {
    pub events: Vec<Value>,
    /// `name [addl] (source)`.
    pub weirds: Vec<String>,
    pub verdict: String,
}

/// A piece of one direction: stream bytes, or its end (FIN).
pub enum Piece {
    Data(bool, Vec<u8>),
    End(bool),
}

pub fn orig(b: &[u8]) -> Piece {
    Piece::Data(true, b.to_vec())
}

pub fn resp(b: &[u8]) -> Piece {
    Piece::Data(false, b.to_vec())
}

/// Feeds `pieces` to `analyzer` on a test connection to `port`; events with the
/// connection record replaced by `<conn>` (the stand-in connection's).
pub fn run(analyzer: Box<dyn Analyzer>, tag: &'static str, port: u16, pieces: &[Piece]) -> Outcome {
    run_on(Proto::Tcp, analyzer, tag, port, pieces)
}

/// [`run`] over `proto`: over UDP each piece is one datagram.
pub fn run_on(
    proto: Proto,
    mut analyzer: Box<dyn Analyzer>,
    tag: &'static str,
    port: u16,
    pieces: &[Piece],
) -> Outcome {
    let conn = TestConn::new(proto, port, "CLines");
    let rec = Recorded::default();
    let mut events = Events::new();
    events.subscribe(Box::new(RecordingSink {
        into: rec.clone(),
        filter: None,
    }));
    let mut weirds: Vec<Weird> = Vec::new();
    let mut verdict = Verdict::Undecided;
    for (i, p) in pieces.iter().enumerate() {
        let mut cx = AnalyzerCx {
            ts: Time(1_000_000_000_000_000_000 + i as i64 * 1_000_000),
            conn: &conn,
            events: &mut events,
            weirds: &mut weirds,
            verdict: verdict.clone(),
            tag,
            confirmed: verdict == Verdict::Confirmed,
            flip: false,
            detect_anew: false,
            partial: false,
            hand_off: None,
            hand_off_rest: None,
            forwarded: Vec::new(),
            registry: None,
            child_verdicts: Vec::new(),
        };
        match p {
            Piece::Data(is_orig, data) => analyzer.deliver(&mut cx, *is_orig, data),
            Piece::End(is_orig) => analyzer.end_of_data(&mut cx, *is_orig),
        }
        verdict = cx.verdict;
    }
    let mut out: Vec<Value> = rec.0.borrow().clone();
    for e in &mut out {
        if let Some(args) = e.get_mut("args").and_then(|a| a.as_object_mut()) {
            if args.contains_key("c") {
                args.insert("c".into(), Value::String("<conn>".into()));
            }
        }
    }
    // conn_weird duplicates the weirds listed below.
    out.retain(|e| e["event"] != "conn_weird");
    Outcome {
        events: out,
        weirds: weirds
            .iter()
            .map(|w| format!("{} [{}] ({})", w.name, w.addl, w.source))
            .collect(),
        verdict: format!("{verdict:?}"),
    }
}

/// A whole TCP session: handshake, `pieces` in order (each one segment), FINs from both sides.
pub fn session(t0: f64, client: Host, server: Host, pieces: &[Piece]) -> Vec<Frame> {
    let (mut cs, mut ss) = (1000u32, 5000u32);
    let mut t = t0;
    let mut out = vec![tcp(t, client, server, "S", cs, 0, b"")];
    cs += 1;
    out.push(tcp(t + 0.01, server, client, "SA", ss, cs, b""));
    ss += 1;
    out.push(tcp(t + 0.02, client, server, "A", cs, ss, b""));
    t += 0.03;
    for p in pieces {
        let Piece::Data(is_orig, data) = p else {
            continue;
        };
        if *is_orig {
            out.push(tcp(t, client, server, "PA", cs, ss, data));
            cs += data.len() as u32;
        } else {
            out.push(tcp(t, server, client, "PA", ss, cs, data));
            ss += data.len() as u32;
        }
        t += 0.01;
    }
    out.push(tcp(t, client, server, "FA", cs, ss, b""));
    cs += 1;
    out.push(tcp(t + 0.01, server, client, "FA", ss, cs, b""));
    ss += 1;
    out.push(tcp(t + 0.02, client, server, "A", cs, ss, b""));
    out
}

/// `frames` run through the engine with every analyzer and the log writers
/// `sinks`: each log's rows (the columns after the connection id, joined by
/// spaces), and conn.log's `service` of each connection.
pub fn log_rows(
    frames: &[Frame],
    sinks: Vec<Box<dyn netpac_runtime::event::EventSink>>,
) -> (std::collections::BTreeMap<String, String>, Vec<String>) {
    let mut h = Harness::with_sinks(
        Config::default(),
        netpac_analyzers::registry(),
        Some(vec![]),
        sinks,
    );
    h.play(frames);
    let out = h.finish();
    let rows = out
        .logs
        .iter()
        .map(|(name, log)| {
            let rows: Vec<String> = log
                .lines()
                .filter(|l| !l.starts_with('#'))
                .map(|l| l.split('\t').skip(6).collect::<Vec<_>>().join(" "))
                .collect();
            (name.clone(), rows.join("\n"))
        })
        .collect();
    let services = out
        .conn_log
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').nth(7).unwrap_or("").to_string())
        .collect();
    (rows, services)
}

/// `frames` run with every analyzer and `tag` attached to TCP `port` as well (as
/// `--analyzer-port` does, where Zeek needs a script): the events `keep` selects,
/// one line each (name and arguments, the connection left out), and conn.log's
/// `columns` of each connection.
pub fn events_with_port(
    frames: &[Frame],
    tag: &str,
    port: u16,
    keep: impl Fn(&str, &Value) -> bool,
    columns: &[&str],
) -> (Vec<String>, Vec<String>) {
    let mut registry = netpac_analyzers::registry();
    registry.register_port(tag, Proto::Tcp, port).unwrap();
    // As `Analyzer::register_for_ports`, the port is a likely server port too.
    let mut config = Config::default();
    config.likely_server_tcp.push(port);
    let out = crate::common::run_with(frames, config, registry, None);
    let lines = out
        .events
        .iter()
        .filter(|e| keep(e["event"].as_str().unwrap_or(""), &e["args"]))
        .map(|e| {
            let mut args = e["args"].as_object().cloned().unwrap_or_default();
            args.remove("c");
            format!("{} {}", e["event"].as_str().unwrap_or(""), Value::Object(args))
        })
        .collect();
    (lines, crate::common::conn_columns(&out, columns))
}
