//! Connection-table throughput: many short TCP flows and one long one,
//! through `Engine::process_ip` (no decoding, no logs written).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use netpac_runtime::analyzer::Registry;
use netpac_runtime::engine::{Config, Engine};
use netpac_runtime::event::Events;
use netpac_runtime::packet::{IpPacket, Layer2};
use netpac_runtime::zeek::Time;
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};

/// A TCP segment (checksums are ignored by the benchmark's config).
fn segment(sport: u16, dport: u16, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(20 + payload.len());
    b.extend_from_slice(&sport.to_be_bytes());
    b.extend_from_slice(&dport.to_be_bytes());
    b.extend_from_slice(&seq.to_be_bytes());
    b.extend_from_slice(&ack.to_be_bytes());
    b.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    b.extend_from_slice(payload);
    b
}

struct Pkt {
    ts: Time,
    src: IpAddr,
    dst: IpAddr,
    l4: Vec<u8>,
}

/// `flows` complete sessions (handshake, request, response, FINs).
fn sessions(flows: u32) -> Vec<Pkt> {
    let mut out = Vec::new();
    let payload = [0x41u8; 512];
    for i in 0..flows {
        let c = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i));
        let s = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let sport = 1024 + (i % 60000) as u16;
        let t = |k: u32| Time(1_000_000_000 * 1_000 + i64::from(i) * 1_000_000 + i64::from(k) * 1_000);
        let (cs, ss) = (1000u32, 9000u32);
        out.push(Pkt { ts: t(0), src: c, dst: s, l4: segment(sport, 80, cs, 0, 0x02, &[]) });
        out.push(Pkt { ts: t(1), src: s, dst: c, l4: segment(80, sport, ss, cs + 1, 0x12, &[]) });
        out.push(Pkt { ts: t(2), src: c, dst: s, l4: segment(sport, 80, cs + 1, ss + 1, 0x18, &payload) });
        out.push(Pkt { ts: t(3), src: s, dst: c, l4: segment(80, sport, ss + 1, cs + 513, 0x18, &payload) });
        out.push(Pkt { ts: t(4), src: c, dst: s, l4: segment(sport, 80, cs + 513, ss + 513, 0x11, &[]) });
        out.push(Pkt { ts: t(5), src: s, dst: c, l4: segment(80, sport, ss + 513, cs + 514, 0x11, &[]) });
    }
    out
}

fn run(pkts: &[Pkt]) -> u64 {
    let config = Config { ignore_checksums: true, ..Config::default() };
    let mut engine = Engine::new(config, Registry::default(), Events::new());
    for p in pkts {
        let ip = IpPacket {
            l2: Layer2::default(),
            src: p.src,
            dst: p.dst,
            proto: 6,
            ttl: 64,
            ip_id: 0,
            dont_fragment: false,
            ip_len: 20 + p.l4.len() as u32,
            counted_len: 20 + p.l4.len() as u32,
            hdr_len: 20,
            flow_label: 0,
            l4: Cow::Borrowed(&p.l4),
            bad_ip_checksum: false,
        analyzer_depth: 0,
        };
        engine.process_ip(p.ts, &ip);
    }
    engine.finish().map(|s| s.connections).unwrap_or(0)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("conn_table");
    for flows in [1_000u32, 20_000] {
        let pkts = sessions(flows);
        g.throughput(Throughput::Elements(pkts.len() as u64));
        g.bench_with_input(BenchmarkId::new("tcp_sessions", flows), &pkts, |b, pkts| b.iter(|| run(pkts)));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
