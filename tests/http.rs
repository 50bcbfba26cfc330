//! HTTP: every http_* event from payloads built here, through the `Analyzer`
//! trait, and end to end through the engine with http.log.

mod common;

use netpac_analyzers::http::HttpAnalyzer;
use netpac_analyzers::http::{unescape_uri, Limits, ENTITY_DATA_DELIVERY_SIZE};
use netpac_runtime::analyzer::{Analyzer, AnalyzerCx, TestConn, Verdict};
use netpac_runtime::event::{Events, Recorded, RecordingSink};
use netpac_runtime::weird::Weird;
use netpac_runtime::zeek::{Proto, Time};
use serde_json::Value;
use std::io::Write;

/// One step of a scripted connection.
enum Step {
    Data(bool, Vec<u8>),
    Gap(bool, u64),
    Eof(bool),
}

fn orig(b: &[u8]) -> Step {
    Step::Data(true, b.to_vec())
}
fn resp(b: &[u8]) -> Step {
    Step::Data(false, b.to_vec())
}

#[derive(Debug, serde::Serialize)]
struct Outcome {
    events: Vec<Value>,
    weirds: Vec<String>,
    verdict: String,
}

struct Run {
    analyzer: HttpAnalyzer,
    filter: Option<Vec<&'static str>>,
}

impl Run {
    fn new() -> Run {
        Run {
            analyzer: HttpAnalyzer::default(),
            filter: None,
        }
    }
    fn only(names: &[&'static str]) -> Run {
        Run {
            analyzer: HttpAnalyzer::default(),
            filter: Some(names.to_vec()),
        }
    }

    /// Plays `steps`, then ends both sides and the connection.
    fn play(&mut self, steps: &[Step]) -> Outcome {
        let conn = TestConn::new(Proto::Tcp, 80, "ChttpTest1");
        let rec = Recorded::default();
        let mut events = Events::new();
        events.subscribe(Box::new(RecordingSink {
            into: rec.clone(),
            filter: self.filter.clone(),
        }));
        let mut weirds: Vec<Weird> = Vec::new();
        let mut verdict = Verdict::Undecided;
        let n = steps.len();
        for i in 0..n + 1 {
            let mut cx = AnalyzerCx {
                ts: Time(1_000_000_000_000_000_000 + i as i64 * 1_000_000),
                conn: &conn,
                events: &mut events,
                weirds: &mut weirds,
                verdict: verdict.clone(),
                tag: "HTTP",
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
            match steps.get(i) {
                Some(Step::Data(o, d)) => self.analyzer.deliver(&mut cx, *o, d),
                Some(Step::Gap(o, len)) => self.analyzer.undelivered(&mut cx, *o, *len),
                Some(Step::Eof(o)) => self.analyzer.end_of_data(&mut cx, *o),
                None => {
                    self.analyzer.end_of_data(&mut cx, true);
                    self.analyzer.end_of_data(&mut cx, false);
                    self.analyzer.done(&mut cx);
                }
            }
            if verdict == Verdict::Undecided || matches!(cx.verdict, Verdict::Violation(_)) {
                verdict = cx.verdict;
            }
        }
        let mut out: Vec<Value> = rec.0.borrow().clone();
        for e in &mut out {
            if let Some(args) = e.get_mut("args").and_then(|a| a.as_object_mut()) {
                if args.contains_key("c") {
                    args.insert("c".into(), Value::String("<conn>".into()));
                }
            }
        }
        Outcome {
            events: out,
            weirds: weirds
                .iter()
                .map(|w| {
                    if w.addl.is_empty() {
                        w.name.to_string()
                    } else {
                        format!("{} ({})", w.name, w.addl)
                    }
                })
                .collect(),
            verdict: format!("{verdict:?}"),
        }
    }
}

fn names(o: &Outcome) -> Vec<String> {
    o.events
        .iter()
        .map(|e| e["event"].as_str().unwrap_or("").to_string())
        .collect()
}

fn of<'a>(o: &'a Outcome, name: &str) -> Vec<&'a Value> {
    o.events
        .iter()
        .filter(|e| e["event"] == name)
        .map(|e| &e["args"])
        .collect()
}

const GET: &[u8] = b"GET /a%20b/index.html?q=1 HTTP/1.1\r\nHost: www.example.com:8080\r\nUser-Agent: netpac-test\r\nAccept: */*\r\n\r\n";
const OK_HTML: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 20\r\n\r\n<html>hello!</html>\n";

#[test]
fn request_and_reply_with_a_body() {
    let o = Run::new().play(&[orig(GET), resp(OK_HTML), Step::Eof(true), Step::Eof(false)]);
    insta::assert_json_snapshot!(o);
}

#[test]
fn request_and_reply_split_at_every_byte() {
    // The same messages cut into one-byte segments give the same events.
    let whole = Run::new().play(&[orig(GET), resp(OK_HTML)]);
    let mut steps: Vec<Step> = GET.iter().map(|b| orig(&[*b])).collect();
    steps.extend(OK_HTML.iter().map(|b| resp(&[*b])));
    let bytewise = Run::new().play(&steps);
    let strip = |o: &Outcome| -> Vec<Value> {
        o.events
            .iter()
            .map(|e| {
                let mut a = e["args"].clone();
                if let Some(stat) = a.get_mut("stat").and_then(|s| s.as_object_mut()) {
                    stat.remove("start");
                }
                serde_json::json!({"event": e["event"], "args": a})
            })
            .collect()
    };
    // Entity data arrives in more pieces; compare the rest and the reassembled body.
    let no_data = |v: Vec<Value>| -> Vec<Value> {
        v.into_iter()
            .filter(|e| e["event"] != "http_entity_data")
            .collect()
    };
    assert_eq!(no_data(strip(&whole)), no_data(strip(&bytewise)));
    let body = |o: &Outcome| -> String {
        of(o, "http_entity_data")
            .iter()
            .map(|a| a["data"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(body(&whole), body(&bytewise));
    assert_eq!(body(&whole), "<html>hello!</html>\\x0a");
}

#[test]
fn chunked_reply_with_trailer() {
    let reply: &[u8] =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n";
    // Cut inside a chunk-size line, inside data and inside the CRLF after data.
    let o = Run::only(&["http_reply", "http_entity_data", "http_message_done"]).play(&[
        orig(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
        resp(&reply[..50]),
        resp(&reply[50..58]),
        resp(&reply[58..66]),
        resp(&reply[66..]),
    ]);
    insta::assert_json_snapshot!(o);
    assert_eq!(of(&o, "http_message_done")[1]["stat"]["body_length"], 12);
}

#[test]
fn pipelined_requests_head_304_and_1xx() {
    let requests: &[u8] = b"HEAD /h HTTP/1.1\r\nHost: h\r\n\r\nGET /cached HTTP/1.1\r\nHost: h\r\n\r\nPOST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\nabcd";
    // HEAD's reply announces a length but has no body; 304 none either; 100 precedes the real reply.
    let replies: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
    let o = Run::only(&["http_request", "http_reply", "http_message_done"])
        .play(&[orig(requests), resp(replies)]);
    insta::assert_json_snapshot!(o);
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn gzip_and_deflate_bodies_are_decoded() {
    let text = b"The quick brown fox jumps over the lazy dog. ".repeat(40);
    let gz = gzip(&text);
    let mut reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        gz.len()
    )
    .into_bytes();
    reply.extend_from_slice(&gz);
    let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    raw.write_all(b"raw deflate body").unwrap();
    let raw = raw.finish().unwrap();
    reply.extend_from_slice(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: {}\r\n\r\n",
            raw.len()
        )
        .as_bytes(),
    );
    reply.extend_from_slice(&raw);
    let (a, b) = reply.split_at(70);
    let o = Run::only(&["http_entity_data", "http_message_done"]).play(&[
        orig(b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"),
        resp(a),
        resp(b),
    ]);
    let data = of(&o, "http_entity_data");
    // 1800 decoded bytes: one full delivery piece and the rest.
    assert_eq!(data[0]["length"], ENTITY_DATA_DELIVERY_SIZE);
    assert_eq!(data[1]["length"], text.len() - ENTITY_DATA_DELIVERY_SIZE);
    assert_eq!(data[2]["data"], "raw deflate body");
    let done = of(&o, "http_message_done");
    assert_eq!(done[2]["stat"]["body_length"], text.len());
    assert_eq!(done[3]["stat"]["body_length"], 16);
    insta::assert_json_snapshot!(done);
}

#[test]
fn gzip_bombs_are_bounded() {
    let zeros = vec![0u8; 4 << 20];
    let gz = gzip(&zeros);
    let mut reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        gz.len()
    )
    .into_bytes();
    reply.extend_from_slice(&gz);
    let mut run = Run::only(&["http_message_done"]);
    run.analyzer = HttpAnalyzer::new(Limits {
        max_decoded: 1 << 20,
        ..Limits::default()
    });
    let o = run.play(&[orig(b"GET / HTTP/1.1\r\n\r\n"), resp(&reply)]);
    assert_eq!(
        of(&o, "http_message_done")[1]["stat"]["body_length"],
        1 << 20
    );
}

#[test]
fn connect_hands_the_connection_to_the_tunnel() {
    let o = Run::only(&[
        "http_request",
        "http_reply",
        "http_header",
        "http_message_done",
    ])
    .play(&[
        orig(b"CONNECT mail.example.com:25 HTTP/1.1\r\nHost: mail.example.com:25\r\n\r\n"),
        resp(b"HTTP/1.1 200 Connection established\r\n\r\n"),
        resp(b"220 mail.example.com ESMTP\r\n"),
        orig(b"EHLO me\r\n"),
    ]);
    insta::assert_json_snapshot!(o);
    assert!(!names(&o)
        .iter()
        .any(|n| n == "http_request" && o.events.len() > 10));
}

#[test]
fn upgrade_raises_http_connection_upgrade_and_stops() {
    let o = Run::only(&["http_reply", "http_connection_upgrade", "http_message_done", "http_request"]).play(&[
        orig(b"GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
        resp(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello"),
        orig(b"\x81\x85\x00\x00\x00\x00hello"),
    ]);
    insta::assert_json_snapshot!(o);
}

#[test]
fn http_09_request_and_raw_reply() {
    let o = Run::new().play(&[
        orig(b"GET /old.html\r\n"),
        resp(b"<html>old</html>\n"),
        Step::Eof(false),
    ]);
    insta::assert_json_snapshot!(o);
}

#[test]
fn malformed_requests_and_replies() {
    // Not HTTP at all: a violation and its weird (raised as conn_weird), nothing else.
    let o = Run::new().play(&[orig(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n")]);
    assert_eq!(o.verdict, "Violation(\"not a http request line\")");
    assert!(
        names(&o)
            .iter()
            .all(|n| n == "http_stats" || n == "conn_weird"),
        "{:?}",
        names(&o)
    );
    // A bad reply line, a bad version and a folded header.
    let o = Run::only(&["http_event", "http_header", "http_reply"]).play(&[
        orig(b"GET / HTTP/1.x\r\nX-Long: a\r\n  b\r\n\r\n"),
        resp(b"SSH-2.0-OpenSSH\r\n"),
    ]);
    insta::assert_json_snapshot!(o);
}

#[test]
fn four_gigabyte_content_length_costs_nothing() {
    let mut run = Run::only(&["http_message_done", "http_header"]);
    let mut steps = vec![
        orig(b"GET /big HTTP/1.1\r\n\r\n"),
        resp(b"HTTP/1.1 200 OK\r\nContent-Length: 4294967296\r\n\r\n"),
    ];
    let block = vec![b'x'; 64 * 1024];
    for _ in 0..16 {
        steps.push(resp(&block));
    }
    // Most of the body is lost: a gap inside the announced length is counted.
    steps.push(Step::Gap(false, 4_294_967_296 - 2 * 16 * 64 * 1024));
    for _ in 0..16 {
        steps.push(resp(&block));
    }
    let o = run.play(&steps);
    assert!(run.analyzer.buffered() as u64 <= Limits::default().max_line);
    let done = of(&o, "http_message_done");
    assert_eq!(done[1]["stat"]["body_length"], 4_294_967_296u64);
    assert_eq!(
        done[1]["stat"]["content_gap_length"],
        4_294_967_296u64 - 2 * 16 * 64 * 1024
    );
    assert_eq!(done[1]["stat"]["finish_msg"], "message ends normally");
    insta::assert_json_snapshot!(o);
}

#[test]
fn endless_headers_and_lines_are_bounded() {
    let mut run = Run::only(&["http_request"]);
    let mut steps = vec![orig(b"GET / HTTP/1.1\r\n")];
    for i in 0..10_000 {
        steps.push(orig(format!("X-Header-{i}: v\r\n").as_bytes()));
    }
    let o = run.play(&steps);
    assert!(
        o.weirds.contains(&"HTTP_too_many_headers".to_string()),
        "{:?}",
        o.weirds
    );
    assert_eq!(o.verdict, "Violation(\"HTTP message exceeds max_headers\")");

    // One line that never ends, 17 MiB in 64 KiB segments: as Zeek's ContentLine, the
    // framing holds at most `max_line` bytes, then cuts the line with a weird.
    let mut run = Run::only(&["http_request"]);
    let steps: Vec<Step> = (0..272).map(|_| orig(&[b'A'; 64 * 1024])).collect();
    let o = run.play(&steps);
    assert!(run.analyzer.buffered() as u64 <= Limits::default().max_line);
    insta::assert_json_snapshot!(o);
}

#[test]
fn skip_http_entity_data_stops_delivery_but_counts() {
    let mut run = Run::only(&["http_entity_data", "http_message_done"]);
    run.analyzer.skip_entity_data(false);
    let o = run.play(&[orig(b"GET / HTTP/1.1\r\n\r\n"), resp(OK_HTML)]);
    assert!(of(&o, "http_entity_data").is_empty());
    assert_eq!(of(&o, "http_message_done")[1]["stat"]["body_length"], 20);
}

#[test]
fn unescape_uri_function() {
    let mut weirds = Vec::new();
    assert_eq!(unescape_uri(b"/a%41%2Fb", |w| weirds.push(w)), b"/aA/b");
    assert_eq!(unescape_uri(b"/%u0041x", |w| weirds.push(w)), b"/Ax");
    assert_eq!(unescape_uri(b"/100%", |w| weirds.push(w)), b"/100%");
    assert_eq!(unescape_uri(b"/%%41", |w| weirds.push(w)), b"/A");
    assert_eq!(unescape_uri(b"/%g1", |w| weirds.push(w)), b"/%g1");
    insta::assert_debug_snapshot!(weirds);
}

#[test]
fn request_body_until_gap_is_interrupted() {
    let o = Run::only(&["http_message_done"]).play(&[
        orig(b"POST /u HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123"),
        Step::Gap(true, 100),
    ]);
    insta::assert_json_snapshot!(o);
}

/// A gap inside a multipart body ends the message even with a Content-Length: Zeek reads
/// such a body by lines, with no length to count the gap against.
#[test]
fn a_gap_in_a_multipart_body_interrupts_the_message() {
    let o = Run::only(&["http_message_done"]).play(&[
        orig(b"POST /u HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000\r\n\r\n--b\r\n"),
        Step::Gap(true, 100),
    ]);
    let stat = &of(&o, "http_message_done")[0]["stat"];
    assert_eq!(stat["interrupted"], true);
    assert_eq!(stat["finish_msg"], "message interrupted by a content gap");
    assert_eq!(stat["content_gap_length"], 0);
}

// ---------------------------------------------------------------- through the engine

use common::*;
use netpac_runtime::engine::{Config, Engine};
use netpac_runtime::log::{Format, Logs};

/// Runs frames through the engine with the registry's analyzers and the http.log writer.
fn engine_run(frames: &[Frame]) -> (Vec<Value>, String) {
    let dir = scratch_dir();
    let rec = Recorded::default();
    let mut events = Events::with_logs(Logs::new(&dir, Format::Tsv));
    events.subscribe(Box::new(RecordingSink {
        into: rec.clone(),
        filter: Some(vec![
            "http_request",
            "http_reply",
            "http_message_done",
            "protocol_confirmation",
        ]),
    }));
    events.subscribe(netpac_analyzers::http::log::HttpLogger::sink(Default::default()));
    let mut engine = Engine::new(Config::default(), netpac_analyzers::registry(), events);
    play(&mut engine, frames);
    engine.finish().unwrap();
    let log = std::fs::read_to_string(dir.join("http.log")).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    let log = log
        .lines()
        .filter(|l| !l.starts_with("#open") && !l.starts_with("#close"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut evs = rec.0.borrow().clone();
    for e in &mut evs {
        e["args"]["c"] = Value::String(
            e["args"]["c"]["id"]["resp_p"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        );
    }
    (evs, log)
}

/// A whole TCP connection: handshake, one request segment (cut in two), the reply, FINs.
fn session(t: f64, client: Host, server: Host, request: &[u8], reply: &[u8]) -> Vec<Frame> {
    let (c0, s0) = (1000u32, 5000u32);
    let cut = request.len() / 2;
    let q = request.len() as u32;
    let r = reply.len() as u32;
    vec![
        tcp(t, client, server, "S", c0, 0, b""),
        tcp(t + 0.01, server, client, "SA", s0, c0 + 1, b""),
        tcp(t + 0.02, client, server, "A", c0 + 1, s0 + 1, b""),
        tcp(
            t + 0.03,
            client,
            server,
            "PA",
            c0 + 1,
            s0 + 1,
            &request[..cut],
        ),
        tcp(
            t + 0.04,
            client,
            server,
            "PA",
            c0 + 1 + cut as u32,
            s0 + 1,
            &request[cut..],
        ),
        tcp(t + 0.05, server, client, "PA", s0 + 1, c0 + 1 + q, reply),
        tcp(t + 0.06, client, server, "FA", c0 + 1 + q, s0 + 1 + r, b""),
        tcp(t + 0.07, server, client, "FA", s0 + 1 + r, c0 + 2 + q, b""),
        tcp(t + 0.08, client, server, "A", c0 + 2 + q, s0 + 2 + r, b""),
    ]
}

#[test]
fn http_through_the_engine_writes_http_log() {
    let client = Host::v4("192.168.1.10", 51000);
    let pipelined: &[u8] = b"GET /one HTTP/1.1\r\nHost: example.com\r\nReferer: http://r/\r\nUser-Agent: ua\r\n\r\nGET /two%20x HTTP/1.1\r\nHost: example.com\r\nAuthorization: Basic dXNlcjpzZWNyZXQ=\r\n\r\nGET /unanswered HTTP/1.1\r\n\r\n";
    let replies: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n<html>hello!</html>\nHTTP/1.1 404 Not Found\r\nContent-Length: 11\r\n\r\nnot found!\n";
    let mut frames = session(1.0, client, Host::v4("192.168.1.1", 80), pipelined, replies);
    // 8080 is one of Zeek's HTTP ports.
    let png = b"HTTP/1.0 200 OK\r\n\r\n\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    frames.extend(session(
        2.0,
        Host::v4("192.168.1.10", 51001),
        Host::v4("192.168.1.1", 8080),
        b"GET /i.png HTTP/1.0\r\n\r\n",
        png,
    ));
    // 31337 is not a registered port: the payload signature finds HTTP there.
    frames.extend(session(
        3.0,
        Host::v4("192.168.1.10", 51002),
        Host::v4("192.168.1.1", 31337),
        b"GET / HTTP/1.1\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\n\r\n",
    ));
    let (events, log) = engine_run(&frames);
    insta::assert_json_snapshot!(events);
    insta::assert_snapshot!(log);
}

#[test]
fn multipart_parts_are_entities() {
    let body: &[u8] = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nline one\r\nline\ntwo\r\n--XyZ\r\nContent-Disposition: form-data; name=\"g\"\r\n\r\nv\r\n--XyZ--\r\n";
    let mut req = format!(
        "POST /up HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=\"XyZ\"\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    let (a, b) = req.split_at(req.len() - 30);
    let o = Run::new().play(&[orig(a), orig(b)]);
    let got: Vec<String> = o
        .events
        .iter()
        .filter(|e| e["args"]["is_orig"] == true)
        .map(|e| {
            let a = &e["args"];
            let detail = a
                .get("name")
                .or(a.get("data"))
                .or(a.get("subty"))
                .map(|v| v.to_string())
                .unwrap_or_default();
            format!("{} {}", e["event"].as_str().unwrap(), detail)
        })
        .collect();
    insta::assert_debug_snapshot!(got);
    // Counted by lines with their CRLF, as Zeek does.
    assert_eq!(
        of(&o, "http_message_done")[0]["stat"]["body_length"],
        body.len()
    );
}

#[test]
fn http_log_bounds_unanswered_requests() {
    // 150 pipelined requests that are never answered: Zeek logs the oldest early
    // (max_pending_requests = 100) and every one appears once.
    let requests: Vec<u8> = (0..150)
        .flat_map(|i| format!("GET /r{i} HTTP/1.1\r\nHost: h\r\n\r\n").into_bytes())
        .collect();
    let frames = session(
        1.0,
        Host::v4("192.168.1.10", 52000),
        Host::v4("192.168.1.1", 80),
        &requests,
        b"",
    );
    let (_, log) = engine_run(&frames);
    let rows: Vec<&str> = log.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(rows.len(), 150);
    let depths: Vec<String> = rows
        .iter()
        .map(|r| r.split('\t').nth(6).unwrap().to_string())
        .collect();
    let expected: Vec<String> = (1..=150).map(|d| d.to_string()).collect();
    assert_eq!(depths, expected);
}

#[test]
fn event_arguments_are_named_and_ordered_as_the_specification() {
    let mut o = Run::new().play(&[orig(GET), resp(OK_HTML)]).events;
    o.extend(
        Run::new()
            .play(&[
                orig(b"GET / HTTP/1.x\r\n\r\n"),
                resp(b"HTTP/1.1 101 S\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n"),
            ])
            .events,
    );
    let mut seen = std::collections::BTreeSet::new();
    for e in &o {
        let name = e["event"].as_str().unwrap();
        let spec = netpac_runtime::event::EventId::by_name(name)
            .unwrap()
            .spec();
        let want: Vec<&str> = spec
            .signature
            .trim_matches(|c| c == '(' || c == ')')
            .split(", ")
            .map(|a| a.split(':').next().unwrap())
            .collect();
        let got: Vec<&str> = e["args"]
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(got, want, "{name}");
        seen.insert(name.to_string());
    }
    // Every event the analyzer can raise was checked.
    let all: std::collections::BTreeSet<String> = netpac_analyzers::http::EVENT_NAMES
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(seen, all);
}

#[test]
fn grammar_limits_reach_the_analyzer() {
    // One `Limits`, generated from grammars/http.npac, is what the analyzer holds.
    let mut l = Limits::default();
    assert!(l.set("max_headers", 3));
    let mut run = Run::only(&["http_header"]);
    run.analyzer = HttpAnalyzer::new(l);
    let o = run.play(&[orig(
        b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n",
    )]);
    assert_eq!(of(&o, "http_header").len(), 3);
    assert_eq!(o.verdict, "Violation(\"HTTP message exceeds max_headers\")");
}

/// Throughput of the stream state machine (run with `--release -- --ignored --nocapture`):
/// a 256 MB body, with nobody and with a consumer taking `http_entity_data`.
#[test]
#[ignore]
fn throughput() {
    struct Count(std::rc::Rc<std::cell::Cell<u64>>);
    impl netpac_runtime::event::EventSink for Count {
        fn wants(&self, id: netpac_runtime::event::EventId) -> bool {
            id.name() == "http_entity_data"
        }
        fn raise(
            &mut self,
            _: Time,
            ev: &dyn netpac_runtime::event::Event,
            _: &mut netpac_runtime::log::Logs,
        ) {
            if let Some(e) = ev
                .as_any()
                .downcast_ref::<netpac_analyzers::http::HttpEntityData>()
            {
                self.0.set(self.0.get() + e.length);
            }
        }
    }
    let block = vec![b'x'; 64 * 1024];
    let total: u64 = 256 << 20;
    let conn = TestConn::new(Proto::Tcp, 80, "ChttpTest1");
    for consume in [false, true] {
        let seen = std::rc::Rc::new(std::cell::Cell::new(0));
        let mut events = Events::new();
        if consume {
            events.subscribe(Box::new(Count(seen.clone())));
        }
        let mut weirds = Vec::new();
        let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, "HTTP");
        let mut a = HttpAnalyzer::default();
        a.deliver(&mut cx, true, b"GET / HTTP/1.1\r\n\r\n");
        a.deliver(
            &mut cx,
            false,
            format!("HTTP/1.1 200 OK\r\nContent-Length: {total}\r\n\r\n").as_bytes(),
        );
        let started = std::time::Instant::now();
        for _ in 0..total / block.len() as u64 {
            a.deliver(&mut cx, false, &block);
        }
        let secs = started.elapsed().as_secs_f64();
        assert_eq!(seen.get(), if consume { total } else { 0 });
        eprintln!(
            "entity data consumed={consume}: {:.0} MB/s",
            total as f64 / 1e6 / secs
        );
    }
}

/// A connection picked up mid-stream (no SYN seen) is not analysed as HTTP,
/// as in Zeek: there is no telling where a message starts.
#[test]
fn partial_connections_are_not_analysed() {
    let client = Host::v4("192.168.7.10", 52000);
    let server = Host::v4("192.168.7.1", 80);
    let request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    let reply = b"HTTP/1.1 304 Not Modified\r\n\r\n";
    let frames = vec![
        tcp(1.0, client, server, "PA", 7001, 9001, request),
        tcp(
            1.1,
            server,
            client,
            "PA",
            9001,
            7001 + request.len() as u32,
            reply,
        ),
    ];
    let out = run_with(
        &frames,
        Config::default(),
        netpac_analyzers::registry(),
        Some(vec!["http_request", "http_reply", "partial_connection"]),
    );
    assert_eq!(event_names(&out), vec!["partial_connection"]);
    assert_eq!(conn_columns(&out, &["service", "history"]), vec!["-\tDd"]);
}

#[test]
fn framing_weirds_of_the_segment_that_stops_the_analyzer_are_reported() {
    // The bad request line ends at a bare CR; the byte after it (same segment) makes
    // the CR a single one, which Zeek's ContentLine reports before HTTP is removed.
    let mut run = Run::only(&["http_request"]);
    let o = run.play(&[orig(b"\x16\x03\x01\x02\x00\rmore\r\n"), orig(b"x\ry\r\n")]);
    insta::assert_json_snapshot!(o);
}

/// A gzip body whose deflate data is corrupt: Zeek's ZIP analyzer reports
/// `inflate_failed` and delivers nothing more; the message still ends normally.
#[test]
fn a_corrupt_gzip_body_reports_inflate_failed() {
    let mut body = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    body.extend_from_slice(&[0xff; 32]);
    let mut reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    reply.extend_from_slice(&body);
    let o = Run::only(&["http_message_done"]).play(&[orig(b"GET / HTTP/1.1\r\n\r\n"), resp(&reply)]);
    assert_eq!(o.weirds, ["inflate_failed"]);
    let done = &of(&o, "http_message_done")[1]["stat"];
    assert_eq!(done["finish_msg"], "message ends normally");
    assert_eq!(done["body_length"], 0);
}

/// Header lines without a colon or without a name are dropped without a word, as
/// Zeek's MIME parser drops a header whose name is empty (checked with Zeek 8.2.2).
#[test]
fn header_lines_without_a_name_are_dropped_quietly() {
    let o = Run::only(&["http_header", "http_event"]).play(&[orig(
        b"GET / HTTP/1.1\r\nHost: x\r\n: novalue\r\nNoColonHere\r\nX: y\r\n\r\n",
    )]);
    let names: Vec<&str> = o.events.iter().map(|e| e["args"]["name"].as_str().unwrap_or("-")).collect();
    assert_eq!(names, ["HOST", "X"]);
    assert!(o.weirds.is_empty(), "{:?}", o.weirds);
}

/// Zeek's ContentLine counts the bytes a Content-Length announces; when a delivery
/// uses them up exactly, a line left open is ended there with a weird. A bad length
/// counts as 0, so the `zz` after these headers is a line of its own (checked with
/// Zeek 8.2.2 on a crafted capture).
#[test]
fn a_line_the_content_length_leaves_open_is_ended() {
    let o = Run::only(&["http_request"]).play(&[orig(
        b"POST /d HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\nzz",
    )]);
    assert_eq!(
        o.weirds,
        ["HTTP_bad_content_length (abc)", "line_terminated_without_CRLF", "bad_HTTP_request"]
    );
}
