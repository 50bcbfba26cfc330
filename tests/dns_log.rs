//! dns.log: rows built from DNS events the way Zeek's DNS scripts build them.

mod common;
mod dns_support;

use common::*;
use dns_support::{name, Msg, QR, RA, RD};
use netpac_runtime::event::Events;
use netpac_runtime::log::{Format, Logs};

/// Runs `frames` with the real registry and the dns.log writer; returns
/// dns.log's `#fields` line and rows.
fn dns_log(frames: &[Frame]) -> String {
    let dir = scratch_dir();
    let mut events = Events::with_logs(Logs::new(&dir, Format::Tsv));
    events.subscribe(netpac_analyzers::dns::log::DnsLogger::sink());
    let mut engine = Engine::new(Config::default(), netpac_analyzers::registry(), events);
    play(&mut engine, frames);
    engine.finish().unwrap();
    let text = std::fs::read_to_string(dir.join("dns.log")).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    text.lines()
        .filter(|l| !l.starts_with('#') || l.starts_with("#fields"))
        // uids are random-looking; the rest is what the test is about.
        .map(|l| {
            let uid_col = if l.starts_with("#fields") { 2 } else { 1 };
            l.split('\t')
                .enumerate()
                .filter(|(i, _)| *i != uid_col)
                .map(|(_, c)| c)
                .collect::<Vec<_>>()
                .join("\t")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn queries_pair_with_replies_and_the_unmatched_are_written_at_the_end() {
    let c = Host::v4("192.168.5.10", 40001);
    let s = Host::v4("192.168.5.1", 53);
    let q1 = Msg::new(1, RD).question(&name("a.example"), 1, 1);
    let r1 = Msg::new(1, QR | RD | RA)
        .question(&name("a.example"), 1, 1)
        .rr(1, &[0xc0, 12], 1, 1, 300, &[192, 0, 2, 1])
        .rr(1, &[0xc0, 12], 1, 1, 300, &[192, 0, 2, 2]);
    // A query nobody answers, on its own port.
    let q2 = Msg::new(2, RD).question(&name("silent.example"), 28, 1);
    // A reply without a query (its query was not captured).
    let r3 = Msg::new(3, QR | RA)
        .question(&name("late.example"), 1, 1)
        .rr(1, &[0xc0, 12], 1, 1, 60, &[198, 51, 100, 3]);
    // NXDOMAIN with no records, and a rejected reply (no question, REFUSED).
    let q4 = Msg::new(4, RD).question(&name("nope.example"), 1, 1);
    let r4 = Msg::new(4, QR | RD | RA | 3).question(&name("nope.example"), 1, 1);
    let q5 = Msg::new(5, RD).question(&name("refused.example"), 1, 1);
    let r5 = Msg::new(5, QR | 5);
    let frames = vec![
        udp(10.0, c, s, &q1.bytes()),
        udp(10.020, s, c, &r1.bytes()),
        udp(11.0, c.port(40002), s, &q2.bytes()),
        udp(12.0, s, c.port(40003), &r3.bytes()),
        udp(13.0, c.port(40004), s, &q4.bytes()),
        udp(13.5, s, c.port(40004), &r4.bytes()),
        udp(14.0, c.port(40005), s, &q5.bytes()),
        udp(14.1, s, c.port(40005), &r5.bytes()),
    ];
    insta::assert_snapshot!(dns_log(&frames));
}

#[test]
fn replies_pair_in_order_when_ids_repeat_over_tcp() {
    let c = Host::v4("10.9.0.2", 50500);
    let s = Host::v4("10.9.0.53", 53);
    let qa = Msg::new(7, RD)
        .question(&name("first.example"), 1, 1)
        .tcp_bytes();
    let qb = Msg::new(7, RD)
        .question(&name("second.example"), 1, 1)
        .tcp_bytes();
    let ra = Msg::new(7, QR | RD | RA)
        .question(&name("first.example"), 1, 1)
        .rr(1, &[0xc0, 12], 1, 1, 5, &[10, 0, 0, 1])
        .tcp_bytes();
    let rb = Msg::new(7, QR | RD | RA)
        .question(&name("second.example"), 1, 1)
        .rr(1, &[0xc0, 12], 1, 1, 5, &[10, 0, 0, 2])
        .tcp_bytes();
    let mut both_q = qa.clone();
    both_q.extend_from_slice(&qb);
    let mut both_r = ra.clone();
    both_r.extend_from_slice(&rb);
    let frames = vec![
        tcp(1.0, c, s, "S", 100, 0, b""),
        tcp(1.01, s, c, "SA", 900, 101, b""),
        tcp(1.02, c, s, "A", 101, 901, b""),
        tcp(1.03, c, s, "PA", 101, 901, &both_q),
        tcp(1.05, s, c, "PA", 901, 101 + both_q.len() as u32, &both_r),
        tcp(
            1.06,
            c,
            s,
            "FA",
            101 + both_q.len() as u32,
            901 + both_r.len() as u32,
            b"",
        ),
        tcp(
            1.07,
            s,
            c,
            "FA",
            901 + both_r.len() as u32,
            102 + both_q.len() as u32,
            b"",
        ),
    ];
    insta::assert_snapshot!(dns_log(&frames));
}

#[test]
fn mdns_messages_with_id_zero_are_rows_of_their_own() {
    let a = Host::v4("192.168.0.2", 5353);
    let group = Host::v4("224.0.0.251", 5353);
    let q = Msg::new(0, 0).question(&name("printer.local"), 1, 1);
    let r = Msg::new(0, QR | 0x0400).rr(1, &name("other.local"), 1, 1, 120, &[192, 168, 0, 2]);
    let frames = vec![
        udp(1.0, a, group, &q.bytes()),
        udp(1.2, a, group, &r.bytes()),
    ];
    insta::assert_snapshot!(dns_log(&frames));
}
