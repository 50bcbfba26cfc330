//! RFB (VNC, grammars/rfb.*): each direction's messages framed by the handshake
//! state (`&size` reading the analyzer's state), the events and rfb.log, from
//! sessions these tests build. The expected behaviour is Zeek 8.2.2's RFB analyzer.

mod common;
mod lines_support;

use common::{Frame, Host};
use lines_support::{orig, resp, run, session, Outcome, Piece, log_rows};
use netpac_analyzers::rfb::{Limits, RFBAnalyzer};

fn server_init(name: &[u8]) -> Vec<u8> {
    let mut m = 1024u16.to_be_bytes().to_vec();
    m.extend(768u16.to_be_bytes());
    m.extend([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]);
    m.extend((name.len() as u32).to_be_bytes());
    m.extend(name);
    m
}

/// 3.8 with VNC authentication; the client's messages after ServerInit come
/// several to a segment, the ServerInit split over two.
fn vnc38() -> Vec<Piece> {
    let init = server_init(b"desk");
    vec![
        resp(b"RFB 003.008\n"),
        orig(b"RFB 003.008\n"),
        resp(&[2, 2, 16]),
        orig(&[2]),
        resp(&[0x11; 16]),
        orig(&[0x22; 16]),
        resp(&[0, 0, 0, 0]),
        orig(&[1]),
        resp(&init[..10]),
        resp(&init[10..]),
        orig(&[&[2u8, 0, 0, 2][..], &[0, 0, 0, 0], &[0, 0, 0, 1], &[3, 0, 0, 0, 0, 0, 4, 0, 3, 0]].concat()),
    ]
}

/// 3.3: the server decides (None), then the init messages.
fn none33() -> Vec<Piece> {
    vec![
        resp(b"RFB 003.003\n"),
        orig(b"RFB 003.003\n"),
        resp(&[0, 0, 0, 1]),
        orig(&[0]),
        resp(&server_init(b"")),
    ]
}

fn rfb_events(pieces: &[Piece]) -> Outcome {
    run(Box::new(RFBAnalyzer::new(0, Limits::default())), "RFB", 5900, pieces)
}

fn names(o: &Outcome) -> Vec<String> {
    o.events.iter().map(|e| e["event"].as_str().unwrap().to_string()).collect()
}

fn rfb_log(frames: &[Frame]) -> (String, String) {
    let (rows, services) = log_rows(frames, vec![netpac_analyzers::rfb::log::RfbLogger::sink()]);
    (rows.get("rfb.log").cloned().unwrap_or_default(), services.join(","))
}

#[test]
fn vnc_handshake_events() {
    let o = rfb_events(&vnc38());
    assert_eq!(o.verdict, "Confirmed");
    insta::assert_json_snapshot!(o);
    let n: Vec<String> = names(&o).into_iter().filter(|e| e != "rfb_event").collect();
    assert_eq!(
        n,
        [
            "rfb_server_version",
            "rfb_client_version",
            "rfb_authentication_type",
            "rfb_auth_result",
            "rfb_authentication_result",
            "rfb_share_flag",
            "rfb_server_parameters",
        ]
    );
}

#[test]
fn rfb_log_rows_on_any_port() {
    // No port of its own: both sides opening with "RFB" attach the analyzer.
    let mut frames = session(1.0, Host::v4("10.0.0.1", 40025), Host::v4("10.0.0.2", 5900), &vnc38());
    frames.extend(session(2.0, Host::v4("10.0.0.1", 40026), Host::v4("10.0.0.2", 12345), &none33()));
    let (rows, service) = rfb_log(&frames);
    assert_eq!(rows, "003 008 003 008 VNC T T desk 1024 768\n003 003 003 003 None - F (empty) 1024 768");
    assert_eq!(service, "rfb,rfb");
}

#[test]
fn a_failed_login_is_logged_when_the_connection_ends() {
    let pieces = vec![
        resp(b"RFB 003.008\n"),
        orig(b"RFB 003.008\n"),
        resp(&[1, 2]),
        orig(&[2]),
        resp(&[0x11; 16]),
        orig(&[0x22; 16]),
        resp(&[&[0u8, 0, 0, 1][..], &[0, 0, 0, 6], b"denied"].concat()),
    ];
    let frames = session(1.0, Host::v4("10.0.0.1", 40027), Host::v4("10.0.0.2", 5900), &pieces);
    let (rows, _) = rfb_log(&frames);
    assert_eq!(rows, "003 008 003 008 VNC F - - - -");
}

#[test]
fn apple_remote_desktop_reads_its_key_exchange() {
    let key = 128usize;
    let mut challenge = vec![0, 2];
    challenge.extend((key as u16).to_be_bytes());
    challenge.extend(vec![0x33; 2 * key]);
    let pieces = vec![
        resp(b"RFB 003.889\n"),
        orig(b"RFB 003.889\n"),
        resp(&[2, 0x1e, 0x23]),
        orig(&[0x1e]),
        resp(&challenge),
        orig(&vec![0x44; 2 * key]),
        resp(&[0, 0, 0, 0]),
        orig(&[0xc1]),
        resp(&server_init(b"Mac")),
    ];
    let o = rfb_events(&pieces);
    assert_eq!(o.verdict, "Confirmed");
    let frames = session(1.0, Host::v4("10.0.0.1", 40028), Host::v4("10.0.0.2", 5900), &pieces);
    let (rows, _) = rfb_log(&frames);
    assert_eq!(rows, "003 889 003 889 Apple Remote Desktop T T Mac 1024 768");
}

#[test]
fn every_rfb_event_is_raised_by_some_test_traffic() {
    let seen = names(&rfb_events(&vnc38()));
    let missing: Vec<&&str> = netpac_analyzers::rfb::EVENT_NAMES.iter().filter(|e| !seen.iter().any(|s| s == **e)).collect();
    assert!(missing.is_empty(), "no test raises {missing:?}");
}

#[test]
fn out_of_turn_and_hostile_messages_are_violations() {
    for bad in [
        // The server talks before the client's version.
        vec![resp(b"RFB 003.008\nX")],
        // A 3.3 client talks before the server's security type.
        vec![resp(b"RFB 003.003\n"), orig(b"RFB 003.003\n"), orig(&[9])],
        // Not a version line.
        vec![resp(b"RFBX003.008\n")],
        // A ServerInit name of 16 MiB.
        vec![resp(b"RFB 003.003\n"), orig(b"RFB 003.003\n"), resp(&[0, 0, 0, 1]), orig(&[1]), resp(&{
            let mut m = server_init(b"");
            m[20..24].copy_from_slice(&0x0100_0000u32.to_be_bytes());
            m
        })],
    ] {
        let o = rfb_events(&bad);
        assert!(o.verdict.starts_with("Violation"), "{} {:?}", o.verdict, names(&o));
    }
}
