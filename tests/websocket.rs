//! WebSocket (grammars/websocket.*): HTTP's upgrade hands the connection over,
//! frames are read with their masks, and the unmasked payload of text and binary
//! messages is a stream of its own whose protocol payload detection finds
//! (`forward`); websocket.log. The expected behaviour is Zeek 8.2.2's.

mod common;
mod lines_support;

use common::{Config, Frame, Harness, Host};
use lines_support::{orig, resp, session, Piece};

/// A frame: FIN and opcode, the length (7/16-bit), the key if masked, the payload masked.
fn frame(fin: bool, opcode: u8, key: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![(u8::from(fin) << 7) | opcode];
    let mask = if key.is_some() { 0x80 } else { 0 };
    if payload.len() < 126 {
        f.push(mask | payload.len() as u8);
    } else {
        f.push(mask | 126);
        f.extend((payload.len() as u16).to_be_bytes());
    }
    match key {
        Some(k) => {
            f.extend(k);
            f.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
        }
        None => f.extend(payload),
    }
    f
}

const KEY: [u8; 4] = [0x12, 0x34, 0x56, 0x78];

/// The upgrade, then SSH's version lines through the tunnel, the client's split
/// over two fragments with a ping between messages, and a close.
fn ssh_over_websocket() -> Vec<Piece> {
    vec![
        orig(b"GET /v1/events HTTP/1.1\r\nHost: localhost:8888\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v1, v2\r\nSec-WebSocket-Version: 13\r\n\r\n"),
        resp(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: v1\r\n\r\n"),
        orig(&[frame(false, 2, Some(KEY), b"SSH-2.0-Open"), frame(true, 0, Some(KEY), b"SSH_9.6\r\n")].concat()),
        orig(&frame(true, 9, Some(KEY), b"ping")),
        resp(&frame(true, 2, None, b"SSH-2.0-OpenSSH_9.2\r\n")),
        orig(&frame(true, 8, Some(KEY), &[&[0x03u8, 0xe8][..], b"bye"].concat())),
    ]
}

fn run(frames: &[Frame]) -> (Vec<serde_json::Value>, String, String) {
    let mut h = Harness::with_sinks(
        Config::default(),
        netpac_analyzers::registry(),
        Some(vec![
            "websocket_frame",
            "websocket_frame_data",
            "websocket_close",
            "websocket_message",
            "ssh_client_version",
            "ssh_server_version",
        ]),
        vec![netpac_analyzers::websocket::log::WebSocketLogger::sink()],
    );
    h.play(frames);
    let out = h.finish();
    let rows = out
        .logs
        .get("websocket.log")
        .map(|l| l.lines().filter(|l| !l.starts_with('#')).map(|l| l.split('\t').skip(6).collect::<Vec<_>>().join(" ")).collect::<Vec<_>>().join("\n"))
        .unwrap_or_default();
    let service = out.conn_log.lines().filter(|l| !l.starts_with('#')).map(|l| l.split('\t').nth(7).unwrap().to_string()).collect::<Vec<_>>().join(" ");
    let events = out
        .events
        .into_iter()
        .map(|mut e| {
            if let Some(a) = e["args"].as_object_mut() {
                a.remove("c");
            }
            e
        })
        .collect();
    (events, rows, service)
}

#[test]
fn ssh_through_a_websocket_tunnel() {
    let frames = session(1.0, Host::v4("127.0.0.1", 39992), Host::v4("127.0.0.1", 8888), &ssh_over_websocket());
    let (events, rows, service) = run(&frames);
    insta::assert_json_snapshot!(events);
    let names: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert!(names.contains(&"ssh_client_version") && names.contains(&"ssh_server_version"), "{names:?}");
    let client = events.iter().find(|e| e["event"] == "ssh_client_version").unwrap();
    assert_eq!(client["args"]["version"], "SSH-2.0-OpenSSH_9.6");
    let close = events.iter().find(|e| e["event"] == "websocket_close").unwrap();
    assert_eq!((close["args"]["status"].as_u64(), close["args"]["reason"].as_str()), (Some(1000), Some("bye")));
    assert_eq!(rows, "localhost:8888 /v1/events - v1 v1,v2 - -");
    // SSH confirms only at NEWKEYS, which this session does not reach (as in Zeek).
    assert_eq!(service, "http,websocket");
}

#[test]
fn a_control_frame_inside_a_fragmented_message_is_a_violation() {
    let mut pieces = ssh_over_websocket();
    pieces.truncate(2);
    pieces.push(orig(&[frame(false, 1, Some(KEY), b"a"), frame(true, 9, Some(KEY), b"p")].concat()));
    let frames = session(1.0, Host::v4("127.0.0.1", 39993), Host::v4("127.0.0.1", 8888), &pieces);
    let (_, _, service) = run(&frames);
    assert!(!service.contains("websocket"), "{service}");
}

/// The server's first frame in the segment of its 101 reply: Zeek's
/// `protocol_data_with_HTTP_upgrade_reply` (its byte count as addl), and the
/// frame still reaches the WebSocket analyzer, as in the corpus's
/// `websocket/reply-ping-coalesced.pcap`.
#[test]
fn a_frame_coalesced_with_the_upgrade_reply_is_analysed() {
    let mut pieces = ssh_over_websocket();
    pieces.truncate(1);
    let reply = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    pieces.push(resp(&[&reply[..], &frame(true, 9, None, b"Zeek")].concat()));
    let frames = session(1.0, Host::v4("127.0.0.1", 39994), Host::v4("127.0.0.1", 8888), &pieces);
    let mut h = Harness::with_sinks(
        Config::default(),
        netpac_analyzers::registry(),
        Some(vec!["websocket_frame"]),
        vec![],
    );
    h.play(&frames);
    let out = h.finish();
    let weirds: Vec<String> = out
        .weird_log
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').skip(6).take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(weirds, ["protocol_data_with_HTTP_upgrade_reply 6"]);
    let pings: Vec<_> = out.events.iter().filter(|e| e["args"]["opcode"] == 9).collect();
    assert_eq!(pings.len(), 1, "{:?}", out.events);
    assert_eq!(pings[0]["args"]["is_orig"], false);
}
