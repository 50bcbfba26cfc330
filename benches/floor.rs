//! The floor a flow analyzer cannot go below on a capture: read every frame
//! (with netpac's own capture reader), slice it with etherparse and count
//! packets per 5-tuple in a hash map. `bench/compare.sh` times netpac against
//! it; `cargo bench --bench floor -- CAPTURE` runs it alone.

use netpac::{Next, Source};
use rustc_hash::FxHashMap;
use std::net::IpAddr;
use std::time::Instant;

type FiveTuple = (IpAddr, IpAddr, u16, u16, u8);

fn main() {
    // `cargo bench` passes `--bench`; the capture is the one other argument.
    let Some(path) = std::env::args().skip(1).find(|a| !a.starts_with("--")) else {
        eprintln!("usage: cargo bench --bench floor -- CAPTURE");
        return;
    };
    let started = Instant::now();
    let mut source = match Source::file(path.as_ref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("floor: {e}");
            std::process::exit(2);
        }
    };
    let mut flows: FxHashMap<FiveTuple, u64> = FxHashMap::default();
    let (mut packets, mut bytes) = (0u64, 0u64);
    while let Ok(Next::Packet(raw)) = source.next_packet() {
        packets += 1;
        bytes += u64::from(raw.wire_len);
        let Ok(sliced) = etherparse::SlicedPacket::from_ethernet(raw.data) else {
            continue;
        };
        let (src, dst, proto) = match &sliced.net {
            Some(etherparse::NetSlice::Ipv4(ip)) => (
                IpAddr::from(ip.header().source_addr()),
                IpAddr::from(ip.header().destination_addr()),
                ip.header().protocol().0,
            ),
            Some(etherparse::NetSlice::Ipv6(ip)) => (
                IpAddr::from(ip.header().source_addr()),
                IpAddr::from(ip.header().destination_addr()),
                ip.header().next_header().0,
            ),
            _ => continue,
        };
        let (sport, dport) = match &sliced.transport {
            Some(etherparse::TransportSlice::Tcp(t)) => (t.source_port(), t.destination_port()),
            Some(etherparse::TransportSlice::Udp(u)) => (u.source_port(), u.destination_port()),
            _ => (0, 0),
        };
        *flows.entry((src, dst, sport, dport, proto)).or_default() += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "floor: {packets} packets, {:.1} MB, {} 5-tuples in {secs:.2} s ({:.0} packets/s)",
        bytes as f64 / 1e6,
        flows.len(),
        packets as f64 / secs.max(1e-9)
    );
}
