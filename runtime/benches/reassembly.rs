//! TCP reassembler throughput: in-order segments (the zero-copy path) and
//! segments arriving in swapped pairs (buffered, then drained).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netpac_runtime::conn::reassembly::{Limits, Piece, Reassembler};

const SEG: usize = 1460;
const SEGMENTS: usize = 4096;

fn in_order(data: &[u8]) -> u64 {
    let mut r = Reassembler::new();
    let mut out: Vec<Piece> = Vec::new();
    let mut delivered = 0u64;
    for (i, chunk) in data.chunks(SEG).enumerate() {
        let seq = 1 + (i * SEG) as u64;
        let _ = r.data_sent(seq, chunk, 0, false, &Limits::default(), &mut out);
        delivered += out.len() as u64;
        out.clear();
        r.trim_to(seq + chunk.len() as u64, false, &mut out);
        out.clear();
    }
    delivered
}

fn swapped_pairs(data: &[u8]) -> u64 {
    let mut r = Reassembler::new();
    let mut out: Vec<Piece> = Vec::new();
    let mut delivered = 0u64;
    let chunks: Vec<&[u8]> = data.chunks(SEG).collect();
    for pair in (0..chunks.len()).step_by(2) {
        for i in [pair + 1, pair] {
            if let Some(chunk) = chunks.get(i) {
                let _ = r.data_sent(1 + (i * SEG) as u64, chunk, 0, false, &Limits::default(), &mut out);
                delivered += out.len() as u64;
                out.clear();
            }
        }
        r.trim_to(1 + ((pair + 2).min(chunks.len()) * SEG) as u64, false, &mut out);
        out.clear();
    }
    delivered
}

/// `n` one-byte segments, each above a one-byte hole, in the order given,
/// then one acknowledgement of everything: the shape of a reassembly flood
/// (many small out-of-order segments held above holes).
fn above_holes(order: impl Iterator<Item = u64>) -> u64 {
    let mut r = Reassembler::new();
    let mut out: Vec<Piece> = Vec::new();
    let limits = Limits::default();
    let mut upper = 0;
    for i in order {
        let seq = 2 + 2 * i;
        upper = upper.max(seq + 1);
        let _ = r.data_sent(seq, b"x", 0, false, &limits, &mut out);
    }
    r.trim_to(upper, false, &mut out);
    out.len() as u64
}

fn bench(c: &mut Criterion) {
    let data: Vec<u8> = (0..SEG * SEGMENTS).map(|i| i as u8).collect();
    let mut g = c.benchmark_group("reassembly");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("in_order", |b| b.iter(|| in_order(&data)));
    g.bench_function("swapped_pairs", |b| b.iter(|| swapped_pairs(&data)));
    g.finish();
    // Per-segment cost must not grow with the segments already held.
    let mut g = c.benchmark_group("reassembly_above_holes");
    g.sample_size(10);
    for n in [50_000u64, 200_000, 1_000_000] {
        g.throughput(Throughput::Elements(n));
        g.bench_function(format!("forward/{n}"), |b| b.iter(|| above_holes(0..n)));
        g.bench_function(format!("reverse/{n}"), |b| b.iter(|| above_holes((0..n).rev())));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
