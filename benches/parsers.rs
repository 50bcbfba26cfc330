//! Throughput of generated parsers on 100 MB of input, for four shapes
//! (grammar: tests/grammars/shapes.npac). Each input is a sequence of
//! PDU-sized messages (64 KiB, lines of 1 KiB) parsed back to back, the way
//! an analyzer sees them.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netpac_runtime::parse::{Cursor, ParseCx};
use std::hint::black_box;

#[allow(dead_code)]
mod shapes_gen {
    include!(concat!(env!("OUT_DIR"), "/test_grammars/test_grammars.rs"));
}
use shapes_gen::shapes;

const TOTAL: usize = 100 * 1024 * 1024;
const FRAME: usize = 64 * 1024;

fn length_prefixed() -> Vec<u8> {
    let mut v = Vec::with_capacity(TOTAL + TOTAL / FRAME * 8);
    while v.len() < TOTAL {
        v.extend_from_slice(&(FRAME as u64).to_be_bytes());
        v.extend((0..FRAME).map(|i| i as u8));
    }
    v
}

fn lines() -> Vec<u8> {
    let mut v = Vec::with_capacity(TOTAL + 1024);
    while v.len() < TOTAL {
        v.extend((0..1022).map(|i| b'a' + (i % 26) as u8));
        v.extend_from_slice(b"\r\n");
    }
    v
}

fn records(tagged: bool) -> Vec<u8> {
    let mut v = Vec::with_capacity(TOTAL + TOTAL / FRAME * 4);
    while v.len() < TOTAL {
        v.extend_from_slice(&(FRAME as u32).to_be_bytes());
        v.extend((0..FRAME).map(|i| if tagged { (i % 7) as u8 } else { i as u8 }));
    }
    v
}

macro_rules! parse_all {
    ($unit:ty, $data:expr) => {{
        let data: &[u8] = $data;
        let lim = shapes::Limits::default();
        let mut cur = Cursor::new(data);
        let mut n = 0usize;
        while !cur.is_empty() {
            let mut cx = ParseCx::new(true, 0);
            match <$unit>::parse(&mut cur, &mut cx, &lim) {
                Ok(v) => {
                    black_box(&v);
                    n += 1;
                }
                Err(e) => panic!("{e}"),
            }
        }
        n
    }};
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("shapes_100MB");
    g.sample_size(10);
    g.measurement_time(std::time::Duration::from_secs(8));
    let input = length_prefixed();
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.bench_function("u64_length_then_bytes", |b| {
        b.iter(|| parse_all!(shapes::LengthPrefixed, &input))
    });
    let input = lines();
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.bench_function("bytes_until_crlf", |b| {
        b.iter(|| parse_all!(shapes::Line, &input))
    });
    let input = records(false);
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.bench_function("one_byte_records_fill_length", |b| {
        b.iter(|| parse_all!(shapes::Records, &input))
    });
    let input = records(true);
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.bench_function("one_byte_records_with_switch", |b| {
        b.iter(|| parse_all!(shapes::Tagged, &input))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
