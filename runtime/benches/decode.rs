//! Capture reading and packet decoding throughput.
//!
//! `decode/*`: one frame through the decoder (no allocation expected).
//! `capture/read_and_decode`: a pcap written by our own writer, read and
//! decoded end to end (MB/s of file).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use etherparse::PacketBuilder;
use netpac_runtime::capture::{CaptureReader, CaptureWriter};
use netpac_runtime::decode::{Decoder, DecoderConfig};
use netpac_runtime::packet::{Decoded, LinkType, RawPacket};
use netpac_runtime::zeek::Time;
use std::hint::black_box;

fn tcp_v4(payload_len: usize) -> Vec<u8> {
    let b = PacketBuilder::ethernet2([1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1])
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(40000, 443, 1, 65535)
        .ack(1);
    let mut out = Vec::new();
    b.write(&mut out, &vec![0x42; payload_len]).unwrap();
    out
}

fn udp_v6_vlan() -> Vec<u8> {
    let b = PacketBuilder::ethernet2([1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1])
        .single_vlan(etherparse::VlanId::try_new(7).unwrap())
        .ipv6(
            [0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            [0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
            64,
        )
        .udp(5353, 53);
    let mut out = Vec::new();
    b.write(&mut out, &[0u8; 60]).unwrap();
    out
}

fn bench_decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    for (name, frame) in [
        ("ipv4_tcp_1400", tcp_v4(1400)),
        ("vlan_ipv6_udp", udp_v6_vlan()),
    ] {
        let mut decoder = Decoder::new(DecoderConfig::default());
        let mut weirds = Vec::new();
        group.throughput(Throughput::Elements(1));
        group.bench_function(name, |b| {
            b.iter(|| {
                let raw = RawPacket {
                    ts: Time(1),
                    wire_len: frame.len() as u32,
                    link: LinkType::Ethernet,
                    data: black_box(&frame),
                };
                let decoded = decoder.decode(&raw, &mut weirds);
                black_box(matches!(decoded, Some(Decoded::Ip(_))))
            })
        });
    }
    group.finish();
}

fn bench_capture(c: &mut Criterion) {
    let path = std::env::temp_dir().join(format!("netpac-bench-{}.pcap", std::process::id()));
    let mut writer = CaptureWriter::create(&path, LinkType::Ethernet).unwrap();
    let frames = [tcp_v4(1400), tcp_v4(0), udp_v6_vlan(), tcp_v4(600)];
    for i in 0..50_000i64 {
        writer
            .write(
                Time(1_000_000_000 + i * 1000),
                &frames[i as usize % frames.len()],
            )
            .unwrap();
    }
    writer.finish().unwrap();
    let file_len = std::fs::metadata(&path).unwrap().len();

    let mut group = c.benchmark_group("capture");
    group.throughput(Throughput::Bytes(file_len));
    group.sample_size(20);
    group.bench_function("read_and_decode", |b| {
        b.iter_batched(
            || Decoder::new(DecoderConfig::default()),
            |mut decoder| {
                let mut reader = CaptureReader::open(&path).unwrap();
                let mut weirds = Vec::new();
                let mut ip = 0u64;
                while let Some(pkt) = reader.next_packet().unwrap() {
                    if let Some(Decoded::Ip(_)) = decoder.decode(&pkt, &mut weirds) {
                        ip += 1;
                    }
                }
                assert_eq!(ip, 50_000);
                ip
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
    let _ = std::fs::remove_file(&path);
}

/// With NETPAC_BENCH_PCAP=FILE, also read and decode that capture (e.g. one
/// made by the shared make-bench-pcap tool).
fn bench_external_capture(c: &mut Criterion) {
    let Some(path) = std::env::var_os("NETPAC_BENCH_PCAP") else {
        return;
    };
    let path = std::path::PathBuf::from(path);
    let file_len = std::fs::metadata(&path).unwrap().len();
    let mut group = c.benchmark_group("capture");
    group.throughput(Throughput::Bytes(file_len));
    group.sample_size(10);
    group.bench_function("external_file", |b| {
        b.iter(|| {
            let mut decoder = Decoder::new(DecoderConfig {
                ignore_checksums: true,
                ..Default::default()
            });
            let mut reader = CaptureReader::open(&path).unwrap();
            let mut weirds = Vec::new();
            let mut packets = 0u64;
            while let Some(pkt) = reader.next_packet().unwrap() {
                black_box(decoder.decode(&pkt, &mut weirds));
                weirds.clear();
                packets += 1;
            }
            packets
        })
    });
    group.finish();
}

criterion_group!(benches, bench_decode, bench_capture, bench_external_capture);
criterion_main!(benches);
