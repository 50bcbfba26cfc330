//! ARP events end to end: Ethernet frames built here → engine → the
//! generated ARP link-layer analyzer (every ARP event, and malformed packets).

mod common;

use common::*;
use netpac_analyzers::arp;
use std::collections::BTreeSet;

const BROADCAST: [u8; 6] = [0xff; 6];
const MAC_A: [u8; 6] = [0x00, 0x1b, 0x21, 0x3a, 0x4f, 0xC0];
const MAC_B: [u8; 6] = [0xAC, 0xde, 0x48, 0x00, 0x11, 0x22];
const IP_A: [u8; 4] = [192, 168, 1, 10];
const IP_B: [u8; 4] = [192, 168, 1, 1];

/// An ARP packet with free header fields; `addrs` follows the 8-byte header.
fn arp_raw(hrd: u16, pro: u16, hln: u8, pln: u8, op: u16, addrs: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&hrd.to_be_bytes());
    v.extend_from_slice(&pro.to_be_bytes());
    v.push(hln);
    v.push(pln);
    v.extend_from_slice(&op.to_be_bytes());
    v.extend_from_slice(addrs);
    v
}

/// An Ethernet/IPv4 ARP packet.
fn arp(op: u16, sha: [u8; 6], spa: [u8; 4], tha: [u8; 6], tpa: [u8; 4]) -> Vec<u8> {
    arp_raw(1, 0x0800, 6, 4, op, &[&sha[..], &spa, &tha, &tpa].concat())
}

/// Pads to Ethernet's minimum of 60 bytes, as senders do.
fn padded(mut frame: Frame) -> Frame {
    frame.data.resize(frame.data.len().max(60), 0);
    frame
}

fn arp_frame(ts: f64, src: [u8; 6], dst: [u8; 6], payload: &[u8]) -> Frame {
    padded(ethernet(ts, src, dst, 0x0806, payload))
}

fn run_arp(frames: &[Frame]) -> Output {
    run_with(frames, Config::default(), netpac_analyzers::registry(), None)
}

/// Events and weird.log rows of a run (ARP has no connection, so no conn.log).
fn summary(out: &Output) -> serde_json::Value {
    serde_json::json!({
        "events": out.events,
        "weirds": out.weird_log.lines().filter(|l| !l.starts_with('#')).map(|l| {
            // ts uid id.orig_h id.orig_p id.resp_h id.resp_p name addl notice peer source
            l.split('\t').skip(6).take(2).collect::<Vec<_>>().join(" ")
        }).collect::<Vec<_>>(),
    })
}

fn request_and_reply() -> Vec<Frame> {
    vec![
        arp_frame(1.0, MAC_A, BROADCAST, &arp(1, MAC_A, IP_A, [0; 6], IP_B)),
        arp_frame(1.1, MAC_B, MAC_A, &arp(2, MAC_B, IP_B, MAC_A, IP_A)),
    ]
}

#[test]
fn request_and_reply_carry_ethernet_and_arp_addresses() {
    let out = run_arp(&request_and_reply());
    insta::assert_json_snapshot!(summary(&out));
}

#[test]
fn vlan_tagged_request() {
    let f = arp_frame(1.0, MAC_A, BROADCAST, &arp(1, MAC_A, IP_A, [0; 6], IP_B)).vlan(42);
    assert_eq!(event_names(&run_arp(&[f])), vec!["arp_request"]);
}

#[test]
fn bad_arp_explanations() {
    let frames = vec![
        // Hardware type 6 (IEEE 802).
        arp_frame(
            1.0,
            MAC_A,
            BROADCAST,
            &arp_raw(
                6,
                0x0800,
                6,
                4,
                1,
                &[&MAC_A[..], &IP_A, &[0; 6], &IP_B].concat(),
            ),
        ),
        // Ethernet with an 8-byte hardware address.
        arp_frame(
            1.1,
            MAC_A,
            BROADCAST,
            &arp_raw(1, 0x0800, 8, 4, 1, &[0x11; 24]),
        ),
        // IPv6 protocol addresses.
        arp_frame(
            1.2,
            MAC_A,
            BROADCAST,
            &arp_raw(1, 0x86dd, 6, 16, 1, &[0x22; 44]),
        ),
        // IPv4 with a 6-byte protocol address.
        arp_frame(
            1.3,
            MAC_A,
            BROADCAST,
            &arp_raw(1, 0x0800, 6, 6, 1, &[0x33; 24]),
        ),
        // Sender hardware address differs from the Ethernet source.
        arp_frame(1.4, MAC_A, BROADCAST, &arp(1, MAC_B, IP_A, [0; 6], IP_B)),
        // RARP request (on the RARP EtherType), and an undefined opcode.
        padded(ethernet(
            1.5,
            MAC_A,
            BROADCAST,
            0x8035,
            &arp(3, MAC_A, [0; 4], MAC_A, [0; 4]),
        )),
        arp_frame(1.6, MAC_A, BROADCAST, &arp(7, MAC_A, IP_A, [0; 6], IP_B)),
    ];
    insta::assert_json_snapshot!(summary(&run_arp(&frames)));
}

#[test]
fn truncated_packets_are_weirds_without_events() {
    let full = arp(1, MAC_A, IP_A, [0; 6], IP_B);
    let frames = vec![
        // Header cut (unpadded frames: a truncated capture).
        ethernet(1.0, MAC_A, BROADCAST, 0x0806, &full[..5]),
        // Addresses cut.
        ethernet(1.1, MAC_A, BROADCAST, 0x0806, &full[..20]),
        // Hostile lengths: 2 * 255 + 2 * 255 address bytes promised in a padded frame.
        arp_frame(
            1.2,
            MAC_A,
            BROADCAST,
            &arp_raw(1, 0x0800, 255, 255, 1, &[0; 20]),
        ),
    ];
    let out = run_arp(&frames);
    // Zeek reports these as network weirds (net_weird), with no ARP event.
    assert_eq!(event_names(&out), vec!["net_weird"; 3]);
    insta::assert_json_snapshot!(summary(&out));
}

#[test]
fn short_lengths_read_addresses_at_zeeks_offsets() {
    // hln 2, pln 1: Zeek reads 6- and 4-byte addresses at 8, 8+hln, ... (overlapping).
    let p = arp_raw(1, 0x0800, 2, 1, 1, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    let out = run_arp(&[ethernet(1.0, MAC_A, BROADCAST, 0x0806, &p)]);
    insta::assert_json_snapshot!(summary(&out));
}

#[test]
fn every_arp_event_is_raised() {
    let mut frames = request_and_reply();
    frames.push(arp_frame(
        2.0,
        MAC_A,
        BROADCAST,
        &arp(7, MAC_A, IP_A, [0; 6], IP_B),
    ));
    let seen: BTreeSet<String> = event_names(&run_arp(&frames)).into_iter().collect();
    let all: BTreeSet<String> = arp::EVENT_NAMES.iter().map(|s| s.to_string()).collect();
    assert_eq!(all.len(), 3);
    assert_eq!(seen, all);
}
