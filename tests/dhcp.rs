//! DHCP: `dhcp_message` (with `DHCP::Msg` and every `DHCP::Options` field) from
//! datagrams built here, through the engine; `dhcp.log`'s joining of a
//! transaction; and malformed messages as Zeek 8.2.2 reads them (no End option:
//! the options up to the end; bad cookie, truncation: violations).

mod common;

use common::*;
use netpac_runtime::engine::Config;
use netpac_runtime::event::Events;
use netpac_runtime::log::{Format, Logs};
use serde_json::Value;

const MAC: [u8; 6] = [0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42];

/// A BOOTP header (`op`, `xid`, `yiaddr`), the cookie and `options` (End added by the caller).
fn message(op: u8, xid: u32, ciaddr: [u8; 4], yiaddr: [u8; 4], options: &[u8]) -> Vec<u8> {
    let mut v = vec![op, 1, 6, 0];
    v.extend_from_slice(&xid.to_be_bytes());
    v.extend_from_slice(&3u16.to_be_bytes()); // secs
    v.extend_from_slice(&0x8000u16.to_be_bytes()); // flags: broadcast
    v.extend_from_slice(&ciaddr);
    v.extend_from_slice(&yiaddr);
    v.extend_from_slice(&[192, 168, 0, 1]); // siaddr
    v.extend_from_slice(&[0, 0, 0, 0]); // giaddr
    let mut chaddr = [0u8; 16];
    chaddr[..6].copy_from_slice(&MAC);
    v.extend_from_slice(&chaddr);
    let mut sname = [0u8; 64];
    sname[..6].copy_from_slice(b"server");
    v.extend_from_slice(&sname);
    let mut file = [0u8; 128];
    file[..8].copy_from_slice(b"pxelinux");
    v.extend_from_slice(&file);
    v.extend_from_slice(&0x6382_5363u32.to_be_bytes());
    v.extend_from_slice(options);
    v
}

fn opt(code: u8, value: &[u8]) -> Vec<u8> {
    let mut v = vec![code, value.len() as u8];
    v.extend_from_slice(value);
    v
}

fn client() -> Host {
    Host::v4("0.0.0.0", 68)
}

fn broadcast() -> Host {
    Host::v4("255.255.255.255", 67)
}

/// DISCOVER, OFFER, REQUEST, ACK of transaction 0x3903f326, the server broadcasting.
fn exchange() -> Vec<Frame> {
    let xid = 0x3903_f326;
    let discover = [
        opt(53, &[1]),
        opt(61, &[1, 0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42]),
        opt(50, &[0, 0, 0, 0]),
        opt(55, &[1, 3, 6, 42]),
        opt(12, b"laptop"),
        opt(60, b"MSFT 5.0"),
        opt(
            81,
            &[0, 0, 0, b'l', b'a', b'p', b't', b'o', b'p', b'.', b'x'],
        ),
        opt(57, &1500u16.to_be_bytes()),
        opt(77, b"class"),
        opt(116, &[1]),
        vec![0, 0], // Pad
        vec![255],
    ]
    .concat();
    let offer = [
        opt(53, &[2]),
        opt(1, &[255, 255, 255, 0]),
        opt(2, &(-3600i32).to_be_bytes()),
        opt(3, &[192, 168, 0, 1]),
        opt(4, &[192, 168, 0, 2]),
        opt(5, &[192, 168, 0, 3]),
        opt(6, &[192, 168, 0, 1, 8, 8, 8, 8]),
        opt(15, b"example.com\0\0"),
        opt(19, &[0]),
        opt(28, &[192, 168, 0, 255]),
        opt(42, &[192, 168, 0, 4]),
        opt(43, b"\x01\x02vendor"),
        opt(44, &[192, 168, 0, 5]),
        opt(51, &3600u32.to_be_bytes()),
        opt(54, &[192, 168, 0, 1]),
        opt(58, &1800u32.to_be_bytes()),
        opt(59, &3150u32.to_be_bytes()),
        opt(82, &[1, 3, b'a', b'b', b'c', 2, 1, b'z']),
        opt(252, b"http://wpad/wpad.dat\n"),
        opt(77, b"ignored-unknown-position"),
        vec![255],
        vec![0, 0, 0], // after End: ignored
    ]
    .concat();
    let request = [
        opt(53, &[3]),
        opt(50, &[192, 168, 0, 10]),
        opt(54, &[192, 168, 0, 1]),
        vec![255],
    ]
    .concat();
    let ack = [
        opt(53, &[5]),
        opt(51, &7200u32.to_be_bytes()),
        opt(56, b"welcome"),
        // A later option replaces an earlier one of the same code.
        opt(51, &86400u32.to_be_bytes()),
        vec![255],
    ]
    .concat();
    vec![
        udp(
            1.0,
            client(),
            broadcast(),
            &message(1, xid, [0; 4], [0; 4], &discover),
        ),
        udp(
            1.1,
            Host::v4("192.168.0.1", 67),
            Host::v4("255.255.255.255", 68),
            &message(2, xid, [0; 4], [192, 168, 0, 10], &offer),
        ),
        udp(
            1.2,
            client(),
            broadcast(),
            &message(1, xid, [0; 4], [0; 4], &request),
        ),
        udp(
            1.3,
            Host::v4("192.168.0.1", 67),
            Host::v4("255.255.255.255", 68),
            &message(2, xid, [0; 4], [192, 168, 0, 10], &ack),
        ),
    ]
}

/// The DHCP events (and violations) of a run; connection records shortened.
fn dhcp_events(frames: &[Frame]) -> Vec<Value> {
    analyzer_events(frames, vec!["dhcp_message", "protocol_violation", "protocol_confirmation"])
}

#[test]
fn every_option_zeek_reads() {
    insta::assert_json_snapshot!(dhcp_events(&exchange()));
}

/// `dhcp.log` of `frames`, without the header.
fn dhcp_log(frames: &[Frame]) -> Vec<String> {
    let dir = scratch_dir();
    let mut events = Events::with_logs(Logs::new(&dir, Format::Tsv));
    events.subscribe(netpac_analyzers::dhcp::log::DhcpLogger::sink());
    let mut engine = Engine::new(Config::default(), netpac_analyzers::registry(), events);
    play(&mut engine, frames);
    engine.finish().unwrap();
    let log = std::fs::read_to_string(dir.join("dhcp.log")).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    log.lines()
        .filter(|l| !l.starts_with('#'))
        // uids are random
        .map(|l| {
            let mut cols: Vec<&str> = l.split('\t').collect();
            cols[1] = "<uids>";
            cols.join(" ")
        })
        .collect()
}

#[test]
fn an_exchange_is_one_row() {
    assert_eq!(
        dhcp_log(&exchange()),
        ["1.000000 <uids> 192.168.0.10 192.168.0.1 00:0b:82:01:fc:42 laptop laptop.x example.com 192.168.0.10 192.168.0.10 86400.000000 - welcome DISCOVER,OFFER,REQUEST,ACK 0.300000"]
    );
}

#[test]
fn transactions_expire_on_zeeks_table_timer() {
    // The same xid again after 20 s of silence: the first row has expired.
    let mut frames = exchange();
    let inform = message(
        1,
        0x3903_f326,
        [192, 168, 0, 10],
        [0; 4],
        &[opt(53, &[8]), vec![255]].concat(),
    );
    frames.push(udp(
        25.0,
        Host::v4("192.168.0.10", 68),
        Host::v4("192.168.0.1", 67),
        &inform,
    ));
    let rows = dhcp_log(&frames);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows[1].starts_with("25.000000 <uids> 192.168.0.10 - 00:0b:82:01:fc:42 "),
        "{rows:?}"
    );
    assert!(rows[1].ends_with(" INFORM 0.000000"), "{rows:?}");
}

#[test]
fn ten_uids_write_a_row_early() {
    // INFORMs of one xid from ten clients: the tenth uid writes the row.
    let frames: Vec<Frame> = (0..11)
        .map(|i| {
            let m = message(
                1,
                7,
                [10, 0, 0, i],
                [0; 4],
                &[opt(53, &[8]), vec![255]].concat(),
            );
            udp(
                1.0 + f64::from(i) * 0.01,
                Host::v4(&format!("10.0.0.{i}"), 68),
                Host::v4("10.0.0.254", 67),
                &m,
            )
        })
        .collect();
    let rows = dhcp_log(&frames);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows[0].contains(" INFORM,INFORM,INFORM,INFORM,INFORM,INFORM,INFORM,INFORM,INFORM,INFORM ")
    );
}

#[test]
fn malformed_messages_as_zeek_reads_them() {
    let no_end = message(1, 1, [0; 4], [0; 4], &opt(53, &[1]));
    let mut bad_cookie = message(1, 2, [0; 4], [0; 4], &[opt(53, &[1]), vec![255]].concat());
    bad_cookie[236] = 0;
    let truncated = message(1, 3, [0; 4], [0; 4], &[]);
    let short = vec![1u8, 1, 6];
    let overlong_option = message(1, 4, [0; 4], [0; 4], &[53, 200, 1]);
    let client_id_of_length_0 = message(
        1,
        5,
        [0; 4],
        [0; 4],
        &[opt(53, &[1]), vec![61, 0], vec![255]].concat(),
    );
    let frames: Vec<Frame> = [
        no_end,
        bad_cookie,
        truncated,
        short,
        overlong_option,
        client_id_of_length_0,
    ]
    .iter()
    .enumerate()
    .map(|(i, m)| {
        udp(
            1.0 + i as f64,
            Host::v4("10.0.0.1", 1000 + i as u16),
            Host::v4("10.0.0.2", 67),
            m,
        )
    })
    .collect();
    insta::assert_json_snapshot!(dhcp_events(&frames));
}
