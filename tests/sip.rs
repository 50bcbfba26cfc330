//! SIP: the six `sip_*` events from datagrams built here (a whole call,
//! messages split across datagrams and sharing one, compact and odd headers,
//! junk before a request, keep-alives, malformed lines), through the engine;
//! `sip.log` with its pairing of replies to requests; the Via path limit's
//! weirds; and bad input (garbage, truncation, huge headers, a negative
//! length) ending in protocol violations, never a panic.
//!
//! The events and logs were compared with Zeek 8.2.2 on the same packets
//! (`NETPAC_TEST_PCAPS=DIR cargo test --test sip`, then
//! `zeek -C -r DIR/<test>.pcap base/protocols/sip misc/dump-events`).

mod common;

use common::*;
use netpac_runtime::engine::Config;
use netpac_runtime::event::Events;
use netpac_runtime::log::{Format, Logs};
use serde_json::Value;

fn client() -> Host {
    Host::v4("192.168.1.10", 5062)
}

fn server() -> Host {
    Host::v4("192.168.1.20", 5060)
}

/// A request with the usual headers, `via` Via headers and the given body.
fn request(method: &str, via: usize, content_length: Option<&str>, body: &str) -> Vec<u8> {
    let mut m = format!("{method} sip:bob@biloxi.example SIP/2.0\r\n");
    for i in 0..via {
        m += &format!("Via: SIP/2.0/UDP pc{i}.atlanta.example;branch=z9hG4bK{i}\r\n");
    }
    m += "Max-Forwards: 70\r\n\
          From: Alice <sip:alice@atlanta.example>;tag=1928301774\r\n\
          To: Bob <sip:bob@biloxi.example>\r\n\
          Call-ID: a84b4c76e66710@pc33.atlanta.example\r\n\
          CSeq: 314159 INVITE\r\n\
          User-Agent: softphone/1.0\r\n";
    if let Some(cl) = content_length {
        m += &format!("Content-Length: {cl}\r\n");
    }
    m += "\r\n";
    m += body;
    m.into_bytes()
}

/// A reply with `via` Via headers and no body.
fn reply(code: u16, reason: &str, via: usize) -> Vec<u8> {
    let mut m = format!("SIP/2.0 {code} {reason}\r\n");
    for i in 0..via {
        m += &format!("Via: SIP/2.0/UDP pc{i}.atlanta.example;branch=z9hG4bK{i}\r\n");
    }
    m += "From: Alice <sip:alice@atlanta.example>;tag=1928301774\r\n\
          To: Bob <sip:bob@biloxi.example>;tag=a6c85cf\r\n\
          Call-ID: a84b4c76e66710@pc33.atlanta.example\r\n\
          CSeq: 314159 INVITE\r\n\
          Warning: 399 biloxi.example \"Noisy\"\r\n\
          Content-Type: application/sdp\r\n\
          Content-Length: 0\r\n\r\n";
    m.into_bytes()
}

/// Datagrams of one connection, a hundredth of a second apart.
fn conversation(start: f64, client: Host, msgs: &[(bool, Vec<u8>)]) -> Vec<Frame> {
    msgs.iter()
        .enumerate()
        .map(|(i, (from_client, m))| {
            let ts = start + i as f64 * 0.01;
            if *from_client {
                udp(ts, client, server(), m)
            } else {
                udp(ts, server(), client, m)
            }
        })
        .collect()
}

/// A call: INVITE with a body, 100, 180, 200, ACK, BYE, 200.
fn call() -> Vec<Frame> {
    conversation(
        1.0,
        client(),
        &[
            (true, request("INVITE", 2, Some("4"), "v=0\n")),
            (false, reply(100, "Trying", 2)),
            (false, reply(180, "Ringing", 2)),
            (false, reply(200, "OK", 2)),
            (true, request("ACK", 1, Some("0"), "")),
            (true, request("BYE", 1, Some("0"), "")),
            (false, reply(200, "OK", 1)),
        ],
    )
}

/// Messages that span datagrams or share one, keep-alives, compact headers,
/// junk before a request.
fn framing() -> Vec<Frame> {
    let split = request("OPTIONS", 1, Some("10"), "0123");
    let compact = b"REGISTER sip:registrar.example SIP/2.0\r\n\
        v: SIP/2.0/UDP host.example;branch=z9hG4bKx\r\n\
        f: <sip:carol@example>;tag=77\r\n\
        t: <sip:carol@example>\r\n\
        i: reg-1\r\n\
        L: 2\r\n\r\nok"
        .to_vec();
    let compact_reply = b"SIP/2.0 200 OK\r\n\
        v: SIP/2.0/UDP host.example;branch=z9hG4bKx\r\n\
        t: <sip:carol@example>;tag=88\r\n\
        c: text/plain\r\n\
        l: 0\r\n\r\n"
        .to_vec();
    let mut two = request("OPTIONS", 1, Some("0"), "");
    two.extend_from_slice(&request("NOTIFY", 1, Some("0"), ""));
    conversation(
        10.0,
        client().port(5063),
        &[
            // A message in three datagrams: the body's end comes last.
            (true, split[..40].to_vec()),
            (true, split[40..].to_vec()),
            (true, b"456789".to_vec()),
            (false, reply(200, "OK", 1)),
            // A keep-alive (ignored), then two requests in one datagram.
            (true, b"\r\n".to_vec()),
            (true, two),
            (false, reply(200, "OK", 1)),
            (false, reply(200, "OK", 1)),
            // Compact headers; binpac takes the body length from `L` only.
            (true, compact),
            (false, compact_reply),
            // Blanks before the method: the weird sip_junk_before_request.
            (true, [b"  ".as_slice(), &request("INFO", 1, Some("0"), "")].concat()),
            (false, reply(200, "OK", 1)),
        ],
    )
}

/// Lines that do not parse: each is a protocol violation, and the rest of its
/// datagram is dropped.
fn malformed() -> Vec<Frame> {
    let no_colon = [
        b"MESSAGE sip:x SIP/2.0\r\n".as_slice(),
        b"Call-ID: c\r\nNoColonHere\r\nContent-Length: 0\r\n\r\n",
    ]
    .concat();
    conversation(
        20.0,
        client().port(5064),
        &[
            (true, b"\x00\x01\x02 garbage \xff\r\n\r\n".to_vec()),
            (true, b"INVITE sip:x HTTP/1.1\r\n\r\n".to_vec()),
            (true, no_colon),
            (false, b"SIP/2.0 20 OK\r\n\r\n".to_vec()),
            (true, request("INFO", 1, Some("-1"), "")),
        ],
    )
}

fn sip_events(frames: &[Frame]) -> Vec<Value> {
    analyzer_events(
        frames,
        vec![
            "sip_request",
            "sip_reply",
            "sip_header",
            "sip_all_headers",
            "sip_begin_entity",
            "sip_end_entity",
            "protocol_confirmation",
            "protocol_violation",
            "conn_weird",
        ],
    )
}

#[test]
fn a_call() {
    insta::assert_json_snapshot!(sip_events(&call()));
}

#[test]
fn framing_across_and_within_datagrams() {
    insta::assert_json_snapshot!(sip_events(&framing()));
}

#[test]
fn malformed_lines_are_violations() {
    insta::assert_json_snapshot!(sip_events(&malformed()));
}

/// The logs a run writes, each row's columns after `skip` joined by spaces.
fn log_rows(frames: &[Frame], log: &str, skip: usize) -> Vec<String> {
    let dir = scratch_dir();
    let mut events = Events::with_logs(Logs::new(&dir, Format::Tsv));
    netpac_analyzers::subscribe_logs(&mut events, &Config::default());
    let mut engine = Engine::new(Config::default(), netpac_analyzers::registry(), events);
    play(&mut engine, frames);
    engine.finish().unwrap();
    let text = std::fs::read_to_string(dir.join(format!("{log}.log"))).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').skip(skip).collect::<Vec<_>>().join(" "))
        .collect()
}

/// `sip.log` of a call and of the framing cases: a row per reply (1xx too),
/// each carrying its request's columns (checked against Zeek 8.2.2's rows
/// for the same packets).
#[test]
fn sip_log_pairs_replies_with_requests() {
    let mut frames = call();
    frames.extend(framing());
    insta::assert_snapshot!(log_rows(&frames, "sip", 0).join("\n"));
}

/// More Via headers than `SIP::max_request_path_length` (100) in a request
/// and its reply: the path stops at 100, with one weird per direction.
#[test]
fn long_paths_stop_at_the_limit_with_weirds() {
    let frames = conversation(
        30.0,
        client().port(5065),
        &[
            (true, request("OPTIONS", 105, Some("0"), "")),
            (false, reply(200, "OK", 103)),
        ],
    );
    let sip = log_rows(&frames, "sip", 0);
    assert_eq!(sip.len(), 1);
    let cols: Vec<&str> = sip[0].split(' ').collect();
    let path_len = |prefix: &str| sip[0].matches(prefix).count();
    assert_eq!(path_len("SIP/2.0/UDP pc"), 200, "{cols:?}");
    assert_eq!(
        log_rows(&frames, "weird", 6),
        [
            "sip_max_request_path_length_exceeded - F zeek -",
            "sip_max_response_path_length_exceeded - F zeek -",
        ]
    );
}

/// Bad input never panics and ends in violations: a header line of 60 KB,
/// a message cut short, bytes that are not SIP, and a body announced far
/// longer than what comes.
#[test]
fn hostile_input_is_survived() {
    let huge = request("INVITE", 1, Some("0"), "")
        .into_iter()
        .take(30)
        .chain(b"\r\nX-Big: ".iter().copied())
        .chain(std::iter::repeat_n(b'a', 60_000))
        .chain(b"\r\n\r\n".iter().copied())
        .collect::<Vec<u8>>();
    let mut msgs = vec![(true, huge)];
    let cut = request("INVITE", 1, Some("0"), "");
    msgs.push((true, cut[..cut.len() / 2].to_vec()));
    msgs.push((true, (0..=255u8).collect()));
    msgs.push((true, request("INVITE", 1, Some("99999999"), "x")));
    for _ in 0..20 {
        msgs.push((true, vec![b'y'; 1400]));
    }
    msgs.push((false, reply(200, "OK", 1)));
    let events = sip_events(&conversation(40.0, client().port(5066), &msgs));
    let count = |name: &str| events.iter().filter(|e| e["event"] == name).count();
    assert!(count("sip_header") >= 1);
    assert_eq!(count("sip_reply"), 1);
}
