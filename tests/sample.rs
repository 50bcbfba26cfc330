//! The sample capture shipped in `samples/sample.pcap` (what `./dev sample`
//! analyses) is written by this test's code, never captured elsewhere.
//!
//! `NETPAC_UPDATE_SAMPLE=1 cargo test --test sample` rewrites it; otherwise
//! the test fails when the committed file and the code disagree.

mod common;
mod dns_support;

use common::*;
use dns_support::{name, Msg, QR, RA, RD};
use netpac_runtime::capture::CaptureWriter;
use netpac_runtime::packet::LinkType;
use netpac_runtime::zeek::Time;
use std::path::Path;

/// When the sample starts (2023-11-14 22:13:20 UTC).
const T0: f64 = 1_700_000_000.0;

/// A few minutes of a small office network: name lookups, a web page, a
/// refused connection, a ping and an IPv6 datagram.
fn sample_frames() -> Vec<Frame> {
    let client = Host::v4("192.168.1.10", 52100);
    let resolver = Host::v4("192.168.1.1", 53);
    let web = Host::v4("93.184.216.34", 80);
    let mut frames = Vec::new();

    // DNS over UDP: an A lookup and its answer.
    let query = Msg::new(0x1a2b, RD).question(&name("www.example.com"), 1, 1);
    let reply = Msg::new(0x1a2b, QR | RD | RA)
        .question(&name("www.example.com"), 1, 1)
        .rr(1, &[0xc0, 12], 1, 1, 3600, &[93, 184, 216, 34]);
    frames.push(udp(T0 + 0.000_1, client, resolver, &query.bytes()));
    frames.push(udp(T0 + 0.012_4, resolver, client, &reply.bytes()));

    // An HTTP exchange over a clean TCP session.
    let request = b"GET / HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: netpac-sample/1.0\r\nAccept: */*\r\n\r\n";
    let body = b"<html><head><title>Example</title></head><body>hello</body></html>\n";
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut resp = response.into_bytes();
    resp.extend_from_slice(body);
    let c = client.port(52101);
    let (cs, ss) = (1000u32, 70000u32);
    let t = T0 + 0.02;
    frames.push(tcp(t, c, web, "S", cs, 0, b""));
    frames.push(tcp(t + 0.030, web, c, "SA", ss, cs + 1, b""));
    frames.push(tcp(t + 0.031, c, web, "A", cs + 1, ss + 1, b""));
    frames.push(tcp(t + 0.032, c, web, "PA", cs + 1, ss + 1, request));
    let ca = cs + 1 + request.len() as u32;
    frames.push(tcp(t + 0.065, web, c, "A", ss + 1, ca, b""));
    frames.push(tcp(t + 0.070, web, c, "PA", ss + 1, ca, &resp));
    let sa = ss + 1 + resp.len() as u32;
    frames.push(tcp(t + 0.071, c, web, "A", ca, sa, b""));
    frames.push(tcp(t + 0.100, c, web, "FA", ca, sa, b""));
    frames.push(tcp(t + 0.130, web, c, "FA", sa, ca + 1, b""));
    frames.push(tcp(t + 0.131, c, web, "A", ca + 1, sa + 1, b""));

    // A connection attempt the server refuses.
    let ssh = Host::v4("192.168.1.20", 22);
    let c2 = client.port(52102);
    frames.push(tcp(T0 + 1.5, c2, ssh, "S", 5000, 0, b""));
    frames.push(tcp(T0 + 1.500_4, ssh, c2, "RA", 0, 5001, b""));

    // A ping and its echo.
    let gw = Host::v4("192.168.1.1", 0);
    let echo = [0u8; 32];
    frames.push(icmp4(
        T0 + 2.0,
        client.port(0),
        gw,
        8,
        0,
        [0x12, 0x34, 0, 1],
        &echo,
    ));
    frames.push(icmp4(
        T0 + 2.000_9,
        gw,
        client.port(0),
        0,
        0,
        [0x12, 0x34, 0, 1],
        &echo,
    ));

    // IPv6: a datagram nobody answers.
    let a6 = Host::v6("2001:db8::10", 50000);
    let b6 = Host::v6("2001:db8::20", 514);
    frames.push(udp(
        T0 + 3.0,
        a6,
        b6,
        b"<13>netpac sample syslog line",
    ));
    frames
}

fn write_pcap(path: &Path, frames: &[Frame]) {
    let mut w = CaptureWriter::create(path, LinkType::Ethernet).expect("create sample");
    for f in frames {
        w.write(Time::from_secs_f64(f.ts), &f.data)
            .expect("write frame");
    }
    w.finish().expect("finish sample");
}

#[test]
fn shipped_sample_is_what_this_code_writes() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/sample.pcap");
    let fresh = std::env::temp_dir().join(format!("netpac-sample-{}.pcap", std::process::id()));
    write_pcap(&fresh, &sample_frames());
    if std::env::var_os("NETPAC_UPDATE_SAMPLE").is_some() {
        std::fs::copy(&fresh, &committed).expect("update samples/sample.pcap");
    }
    let want = std::fs::read(&fresh).expect("fresh sample");
    let _ = std::fs::remove_file(&fresh);
    let have = std::fs::read(&committed)
        .expect("samples/sample.pcap exists (NETPAC_UPDATE_SAMPLE=1 writes it)");
    assert!(
        have == want,
        "samples/sample.pcap differs from tests/sample.rs; rerun with NETPAC_UPDATE_SAMPLE=1"
    );
}

#[test]
fn sample_makes_the_connections_it_describes() {
    let out = run_with(
        &sample_frames(),
        Config::default(),
        netpac_analyzers::registry(),
        Some(vec![]),
    );
    insta::assert_snapshot!(conn_columns(
        &out,
        &[
            "id.orig_h",
            "id.resp_h",
            "id.resp_p",
            "proto",
            "service",
            "conn_state",
            "history"
        ]
    )
    .join("\n"));
}
