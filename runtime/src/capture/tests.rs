use super::*;
use crate::packet::LinkType;
use crate::zeek::Time;
use etherparse::PacketBuilder;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A scratch directory removed at the end of the test.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("netpac-capture-{}-{}", name, std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tcp_frame(src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let builder = PacketBuilder::ethernet2([1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12])
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(src_port, dst_port, 1000, 65535)
        .syn();
    let mut out = Vec::with_capacity(builder.size(payload.len()));
    builder.write(&mut out, payload).unwrap();
    out
}

fn udp_frame(src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let builder = PacketBuilder::ethernet2([1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12])
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .udp(src_port, dst_port);
    let mut out = Vec::with_capacity(builder.size(payload.len()));
    builder.write(&mut out, payload).unwrap();
    out
}

/// Reads every packet, returning (ts, wire_len, link, data) and the final error.
#[allow(clippy::type_complexity)]
fn read_all(path: &Path) -> (Vec<(Time, u32, LinkType, Vec<u8>)>, Option<CaptureError>) {
    let mut reader = CaptureReader::open(path).unwrap();
    let mut out = Vec::new();
    loop {
        match reader.next_packet() {
            Ok(Some(p)) => out.push((p.ts, p.wire_len, p.link, p.data.to_vec())),
            Ok(None) => return (out, None),
            Err(e) => {
                // Errors are sticky-final: nothing more comes after them.
                assert!(matches!(reader.next_packet(), Ok(None)));
                return (out, Some(e));
            }
        }
    }
}

fn write_pcap(path: &Path, frames: &[(Time, Vec<u8>)], nanos: bool) {
    let mut w = CaptureWriter::create_with_resolution(path, LinkType::Ethernet, nanos).unwrap();
    for (ts, f) in frames {
        w.write(*ts, f).unwrap();
    }
    w.finish().unwrap();
}

#[test]
fn pcap_round_trip_microseconds() {
    let dir = TempDir::new("rt-us");
    let path = dir.path("a.pcap");
    let frames = vec![
        (Time(1_254_722_767_492_060_000), tcp_frame(1234, 80, b"")),
        (
            Time(1_254_722_768_000_001_000),
            udp_frame(53, 5353, b"hello"),
        ),
    ];
    write_pcap(&path, &frames, false);
    let mut reader = CaptureReader::open(&path).unwrap();
    assert_eq!(reader.link_type(), LinkType::Ethernet);
    assert_eq!(
        reader.file_len(),
        Some(std::fs::metadata(&path).unwrap().len())
    );
    let mut n = 0;
    while let Some(p) = reader.next_packet().unwrap() {
        assert_eq!(p.ts, frames[n].0);
        assert_eq!(p.data, &frames[n].1[..]);
        assert_eq!(p.wire_len as usize, frames[n].1.len());
        assert_eq!(p.link, LinkType::Ethernet);
        n += 1;
    }
    assert_eq!(n, 2);
    assert_eq!(reader.packets_read(), 2);
    assert_eq!(Some(reader.bytes_read()), reader.file_len());
}

#[test]
fn pcap_round_trip_nanoseconds_and_snaplen_cut() {
    let dir = TempDir::new("rt-ns");
    let path = dir.path("a.pcap");
    let frame = tcp_frame(1, 2, &[0x55; 100]);
    let mut w = CaptureWriter::create_with_resolution(&path, LinkType::Raw, true).unwrap();
    w.write(Time(1_000_000_000_123_456_789), &frame).unwrap();
    w.write_truncated(
        Time(1_000_000_001_000_000_001),
        &frame[..60],
        frame.len() as u32,
    )
    .unwrap();
    w.finish().unwrap();
    let (pkts, err) = read_all(&path);
    assert!(err.is_none());
    assert_eq!(pkts.len(), 2);
    assert_eq!(pkts[0].0, Time(1_000_000_000_123_456_789));
    assert_eq!(pkts[0].2, LinkType::Raw);
    assert_eq!(pkts[1].0, Time(1_000_000_001_000_000_001));
    assert_eq!(pkts[1].1 as usize, frame.len());
    assert_eq!(pkts[1].3.len(), 60);
}

#[test]
fn microsecond_writer_drops_sub_microsecond_digits() {
    let dir = TempDir::new("us-trunc");
    let path = dir.path("a.pcap");
    write_pcap(&path, &[(Time(5_000_000_999), vec![0u8; 20])], false);
    let (pkts, _) = read_all(&path);
    assert_eq!(pkts[0].0, Time(5_000_000_000));
}

/// Builds a big-endian microsecond pcap by hand.
fn big_endian_pcap(frames: &[(u32, u32, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xA1B2C3D4u32.to_be_bytes());
    out.extend_from_slice(&2u16.to_be_bytes());
    out.extend_from_slice(&4u16.to_be_bytes());
    out.extend_from_slice(&0i32.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&65535u32.to_be_bytes());
    out.extend_from_slice(&1u32.to_be_bytes());
    for (sec, usec, data) in frames {
        out.extend_from_slice(&sec.to_be_bytes());
        out.extend_from_slice(&usec.to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(data);
    }
    out
}

#[test]
fn big_endian_pcap_is_read() {
    let dir = TempDir::new("be");
    let path = dir.path("be.pcap");
    let frame = udp_frame(1, 2, b"x");
    std::fs::write(
        &path,
        big_endian_pcap(&[(100, 250_000, &frame), (101, 7, &frame)]),
    )
    .unwrap();
    let (pkts, err) = read_all(&path);
    assert!(err.is_none(), "{:?}", err);
    assert_eq!(pkts.len(), 2);
    assert_eq!(pkts[0].0, Time(100_250_000_000));
    assert_eq!(pkts[1].0, Time(101_000_007_000));
    assert_eq!(pkts[1].3, frame);
}

#[test]
fn gzip_compressed_pcap_is_detected_by_magic() {
    let dir = TempDir::new("gz");
    let plain = dir.path("a.pcap");
    let frames: Vec<_> = (0..50)
        .map(|i| {
            (
                Time(1_000_000_000 * (i + 1)),
                udp_frame(1000 + i as u16, 53, &[i as u8; 40]),
            )
        })
        .collect();
    write_pcap(&plain, &frames, false);
    // No .gz suffix: detection must not depend on the name.
    let gz = dir.path("compressed.pcap");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&std::fs::read(&plain).unwrap()).unwrap();
    let compressed = enc.finish().unwrap();
    std::fs::write(&gz, &compressed).unwrap();
    let (pkts, err) = read_all(&gz);
    assert!(err.is_none());
    assert_eq!(pkts.len(), 50);
    for (p, f) in pkts.iter().zip(&frames) {
        assert_eq!(p.0, f.0);
        assert_eq!(p.3, f.1);
    }
    // A gzip stream cut short: complete packets first, then "truncated".
    let cut = dir.path("cut.pcap.gz");
    std::fs::write(&cut, &compressed[..compressed.len() * 2 / 3]).unwrap();
    let (pkts, err) = read_all(&cut);
    assert!(!pkts.is_empty() && pkts.len() < 50);
    for (p, f) in pkts.iter().zip(&frames) {
        assert_eq!(p.3, f.1);
    }
    assert!(
        matches!(err, Some(CaptureError::Truncated { .. })),
        "{:?}",
        err
    );
}

#[test]
fn truncated_pcap_returns_complete_packets_then_error() {
    let dir = TempDir::new("trunc");
    let path = dir.path("a.pcap");
    let frames: Vec<_> = (0..3)
        .map(|i| (Time(i * 1_000_000_000), tcp_frame(1, 2, b"abc")))
        .collect();
    write_pcap(&path, &frames, false);
    let bytes = std::fs::read(&path).unwrap();
    // Cut inside the last packet's data, then inside its record header.
    for cut in [bytes.len() - 5, bytes.len() - frames[2].1.len() - 8] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let (pkts, err) = read_all(&path);
        assert_eq!(pkts.len(), 2);
        let err = err.expect("truncation must be reported");
        assert!(matches!(
            err,
            CaptureError::Truncated {
                packets_read: 2,
                ..
            }
        ));
        let msg = err.to_string();
        assert!(
            msg.contains("truncated") && msg.contains("a.pcap"),
            "{}",
            msg
        );
    }
    // Cut inside the file header.
    std::fs::write(&path, &bytes[..10]).unwrap();
    assert!(matches!(
        CaptureReader::open(&path),
        Err(CaptureError::Truncated { .. })
    ));
}

#[test]
fn garbage_and_empty_files_are_not_captures() {
    let dir = TempDir::new("garbage");
    let path = dir.path("g.bin");
    let mut seed: u32 = 0x1234_5678;
    let garbage: Vec<u8> = (0..5000)
        .map(|_| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) as u8
        })
        .collect();
    std::fs::write(&path, &garbage).unwrap();
    let err = CaptureReader::open(&path).unwrap_err();
    assert!(matches!(err, CaptureError::NotACapture { .. }));
    assert!(err.to_string().contains("g.bin"), "{}", err);
    std::fs::write(&path, b"").unwrap();
    let err = CaptureReader::open(&path).unwrap_err();
    assert!(err.to_string().contains("empty"), "{}", err);
    std::fs::write(&path, b"GET / HTTP/1.1\r\n\r\n").unwrap();
    assert!(matches!(
        CaptureReader::open(&path),
        Err(CaptureError::NotACapture { .. })
    ));
    // Valid gzip of garbage.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&garbage).unwrap();
    std::fs::write(&path, enc.finish().unwrap()).unwrap();
    assert!(matches!(
        CaptureReader::open(&path),
        Err(CaptureError::NotACapture { .. })
    ));
    // Gzip magic followed by garbage: a read error, not a panic.
    let mut bad_gz = vec![0x1f, 0x8b];
    bad_gz.extend_from_slice(&garbage[..100]);
    std::fs::write(&path, &bad_gz).unwrap();
    assert!(CaptureReader::open(&path).is_err());
}

#[test]
fn garbage_after_a_valid_header_never_panics() {
    let dir = TempDir::new("garbage-body");
    let path = dir.path("g.pcap");
    let header = big_endian_pcap(&[]);
    let mut seed: u32 = 99;
    for round in 0..50 {
        let mut bytes = header.clone();
        for _ in 0..(round * 37 % 500) {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            bytes.push((seed >> 16) as u8);
        }
        std::fs::write(&path, &bytes).unwrap();
        let _ = read_all(&path);
    }
}

#[test]
fn hostile_record_length_does_not_allocate() {
    let dir = TempDir::new("hostile");
    let path = dir.path("h.pcap");
    let mut bytes = big_endian_pcap(&[(1, 0, &[0u8; 60])]);
    // A record claiming 4 GB.
    bytes.extend_from_slice(&2u32.to_be_bytes());
    bytes.extend_from_slice(&0u32.to_be_bytes());
    bytes.extend_from_slice(&u32::MAX.to_be_bytes());
    bytes.extend_from_slice(&u32::MAX.to_be_bytes());
    bytes.extend_from_slice(&[0u8; 100]);
    std::fs::write(&path, &bytes).unwrap();
    let (pkts, err) = read_all(&path);
    assert_eq!(pkts.len(), 1);
    let err = err.unwrap();
    assert!(matches!(err, CaptureError::Malformed { .. }), "{:?}", err);
    assert!(err.to_string().contains("4294967311"), "{}", err);

    // The same in pcapng: a block claiming ~4 GB.
    let mut ng = shb_le();
    ng.extend(idb_le(1, None));
    ng.extend_from_slice(&6u32.to_le_bytes());
    ng.extend_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    ng.extend_from_slice(&[0u8; 64]);
    std::fs::write(&path, &ng).unwrap();
    let (pkts, err) = read_all(&path);
    assert!(pkts.is_empty());
    assert!(
        matches!(err, Some(CaptureError::Malformed { .. })),
        "{:?}",
        err
    );
}

#[test]
fn missing_file_names_the_path() {
    let err = CaptureReader::open(Path::new("/nonexistent/dir/trace.pcap")).unwrap_err();
    assert!(matches!(err, CaptureError::Open { .. }));
    assert!(
        err.to_string().contains("/nonexistent/dir/trace.pcap"),
        "{}",
        err
    );
    let dir = TempDir::new("dir");
    assert!(matches!(
        CaptureReader::open(&dir.0),
        Err(CaptureError::Open { .. })
    ));
}

#[test]
fn unknown_link_type_names_its_number() {
    let dir = TempDir::new("lt");
    let path = dir.path("a.pcap");
    let mut bytes = big_endian_pcap(&[]);
    bytes[20..24].copy_from_slice(&147u32.to_be_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let err = CaptureReader::open(&path).unwrap_err();
    assert!(matches!(
        err,
        CaptureError::UnknownLinkType { linktype: 147, .. }
    ));
    assert!(err.to_string().contains("147"), "{}", err);
}

// ---- pcapng, built by hand (little endian) ----

fn block_le(block_type: u32, body: &[u8]) -> Vec<u8> {
    let mut body = body.to_vec();
    while !body.len().is_multiple_of(4) {
        body.push(0);
    }
    let total = (body.len() + 12) as u32;
    let mut out = Vec::new();
    out.extend_from_slice(&block_type.to_le_bytes());
    out.extend_from_slice(&total.to_le_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(&total.to_le_bytes());
    out
}

fn shb_le() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&0x1A2B3C4Du32.to_le_bytes());
    body.extend_from_slice(&1u16.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&(-1i64).to_le_bytes());
    block_le(0x0A0D0D0A, &body)
}

fn idb_le(linktype: u16, tsresol: Option<u8>) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&linktype.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&0u32.to_le_bytes());
    if let Some(r) = tsresol {
        body.extend_from_slice(&9u16.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&[r, 0, 0, 0]);
        body.extend_from_slice(&[0, 0, 0, 0]); // opt_endofopt
    }
    block_le(1, &body)
}

fn epb_le(iface: u32, ts_units: u64, data: &[u8], orig_len: u32) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&iface.to_le_bytes());
    body.extend_from_slice(&((ts_units >> 32) as u32).to_le_bytes());
    body.extend_from_slice(&(ts_units as u32).to_le_bytes());
    body.extend_from_slice(&(data.len() as u32).to_le_bytes());
    body.extend_from_slice(&orig_len.to_le_bytes());
    body.extend_from_slice(data);
    block_le(6, &body)
}

#[test]
fn pcapng_interfaces_with_own_link_types_and_resolutions() {
    let dir = TempDir::new("ng");
    let path = dir.path("a.pcapng");
    let eth = tcp_frame(5, 6, b"payload");
    let raw = eth[14..].to_vec();
    let mut bytes = shb_le();
    bytes.extend(idb_le(1, Some(9))); // Ethernet, nanoseconds
    bytes.extend(block_le(0x0000_0BAD, b"custom block to skip"));
    bytes.extend(idb_le(101, None)); // raw IP, default microseconds
    bytes.extend(idb_le(1, Some(0x80 | 20))); // Ethernet, 2^-20 s
    bytes.extend(epb_le(0, 1_500_000_000_123_456_789, &eth, eth.len() as u32));
    bytes.extend(epb_le(1, 1_500_000_001_654_321, &raw, 1500));
    bytes.extend(epb_le(2, (7u64 << 20) + (1 << 19), &eth, eth.len() as u32));
    std::fs::write(&path, &bytes).unwrap();

    let reader = CaptureReader::open(&path).unwrap();
    assert_eq!(reader.link_type(), LinkType::Ethernet);
    let (pkts, err) = read_all(&path);
    assert!(err.is_none(), "{:?}", err);
    assert_eq!(pkts.len(), 3);
    assert_eq!(pkts[0].0, Time(1_500_000_000_123_456_789));
    assert_eq!(pkts[0].2, LinkType::Ethernet);
    assert_eq!(pkts[0].3, eth);
    assert_eq!(pkts[1].0, Time(1_500_000_001_654_321_000));
    assert_eq!(pkts[1].2, LinkType::Raw);
    assert_eq!(pkts[1].1, 1500);
    assert_eq!(pkts[1].3, raw);
    assert_eq!(pkts[2].0, Time(7_500_000_000));
}

#[test]
fn pcapng_gzip_and_truncation() {
    let dir = TempDir::new("ng-gz");
    let path = dir.path("a.pcapng.gz");
    let eth = udp_frame(5, 6, b"x");
    let mut bytes = shb_le();
    bytes.extend(idb_le(1, Some(6)));
    for i in 0..4 {
        bytes.extend(epb_le(0, 1_000_000 * i, &eth, eth.len() as u32));
    }
    let cut = bytes.len() - 6;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&bytes).unwrap();
    std::fs::write(&path, enc.finish().unwrap()).unwrap();
    let (pkts, err) = read_all(&path);
    assert!(err.is_none());
    assert_eq!(pkts.len(), 4);
    assert_eq!(pkts[3].0, Time(3_000_000_000));

    std::fs::write(&path, &bytes[..cut]).unwrap();
    let (pkts, err) = read_all(&path);
    assert_eq!(pkts.len(), 3);
    assert!(matches!(
        err,
        Some(CaptureError::Truncated {
            packets_read: 3,
            ..
        })
    ));
}

#[test]
fn pcapng_packet_for_undescribed_interface_is_an_error() {
    let dir = TempDir::new("ng-iface");
    let path = dir.path("a.pcapng");
    let mut bytes = shb_le();
    bytes.extend(idb_le(1, None));
    bytes.extend(epb_le(3, 0, &[0u8; 20], 20));
    std::fs::write(&path, &bytes).unwrap();
    let (pkts, err) = read_all(&path);
    assert!(pkts.is_empty());
    let err = err.unwrap();
    assert!(err.to_string().contains("interface 3"), "{}", err);
}

#[test]
fn pcapng_unknown_first_link_type() {
    let dir = TempDir::new("ng-lt");
    let path = dir.path("a.pcapng");
    let mut bytes = shb_le();
    bytes.extend(idb_le(147, None));
    std::fs::write(&path, &bytes).unwrap();
    assert!(matches!(
        CaptureReader::open(&path),
        Err(CaptureError::UnknownLinkType { linktype: 147, .. })
    ));
}

// ---- BPF ----

#[test]
fn bpf_filter_matches_like_libpcap() {
    let tcp80 = tcp_frame(40000, 80, b"GET /");
    let tcp22 = tcp_frame(40000, 22, b"SSH-");
    let udp53 = udp_frame(5353, 53, b"q");
    let cases: &[(&str, [bool; 3])] = &[
        ("tcp port 80", [true, false, false]),
        ("tcp", [true, true, false]),
        ("udp and dst port 53", [false, false, true]),
        ("host 10.0.0.2 and not port 22", [true, false, true]),
        ("ip[9] == 17", [false, false, true]),
        ("tcp[tcpflags] & tcp-syn != 0", [true, true, false]),
    ];
    for (expr, expected) in cases {
        let filter = BpfFilter::compile(expr, LinkType::Ethernet, 65535).unwrap();
        assert_eq!(filter.expr(), *expr);
        let dead = pcap::Capture::dead(pcap::Linktype(1)).unwrap();
        let libpcap = dead.compile(expr, true).unwrap();
        for (frame, want) in [&tcp80, &tcp22, &udp53].into_iter().zip(expected) {
            assert_eq!(
                filter.matches(frame, frame.len() as u32),
                *want,
                "{} on frame",
                expr
            );
            assert_eq!(
                libpcap.filter(frame),
                *want,
                "libpcap disagrees on {}",
                expr
            );
        }
    }
}

#[test]
fn bpf_length_filters_use_the_wire_length() {
    let frame = tcp_frame(1, 2, b"");
    let filter = BpfFilter::compile("greater 1000", LinkType::Ethernet, 65535).unwrap();
    assert!(!filter.matches(&frame, frame.len() as u32));
    assert!(filter.matches(&frame, 1500));
    // tcpdump's accept value is the snap length, capped by the capture's.
    let small = BpfFilter::compile("tcp", LinkType::Ethernet, 96).unwrap();
    assert_eq!(small.accept_len(&frame, frame.len() as u32), 96);
    assert_eq!(small.accept_len(&udp_frame(1, 2, b""), 42), 0);
}

#[test]
fn bpf_on_raw_ip_and_short_frames() {
    let frame = tcp_frame(1, 80, b"");
    let filter = BpfFilter::compile("tcp port 80", LinkType::Raw, 0).unwrap();
    assert!(filter.matches(&frame[14..], (frame.len() - 14) as u32));
    assert!(!filter.matches(&frame[14..30], 100));
    assert!(!filter.matches(&[], 0));
}

#[test]
fn bad_filter_names_the_filter() {
    let err = BpfFilter::compile("tcp prot 80", LinkType::Ethernet, 65535).unwrap_err();
    assert!(matches!(err, CaptureError::BadFilter { .. }));
    assert!(err.to_string().contains("tcp prot 80"), "{}", err);
}

#[test]
fn gzip_capture_through_a_pipe() {
    let dir = TempDir::new("fifo");
    let plain = dir.path("a.pcap");
    let frames: Vec<_> = (0..10)
        .map(|i| (Time(i * 1_000_000_000), udp_frame(1, 2, b"pipe")))
        .collect();
    write_pcap(&plain, &frames, false);
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&std::fs::read(&plain).unwrap()).unwrap();
    let compressed = enc.finish().unwrap();
    let fifo = dir.path("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !matches!(made, Ok(s) if s.success()) {
        eprintln!("skipped: mkfifo unavailable");
        return;
    }
    let writer_path = fifo.clone();
    let writer = std::thread::spawn(move || std::fs::write(writer_path, compressed).unwrap());
    let mut reader = CaptureReader::open(&fifo).unwrap();
    assert_eq!(reader.file_len(), None);
    let mut n = 0;
    while let Some(p) = reader.next_packet().unwrap() {
        assert_eq!(p.data, &frames[n].1[..]);
        n += 1;
    }
    assert_eq!(n, 10);
    writer.join().unwrap();
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        /// A pcap cut at any byte yields exactly the records that end before
        /// the cut, then a truncation error unless the cut falls between
        /// records.
        #[test]
        fn any_cut_returns_the_complete_records_first(
            sizes in proptest::collection::vec(0usize..3000, 1..20),
            cut_fraction in 0.0f64..1.0,
            gzip in any::<bool>(),
        ) {
            let dir = TempDir::new(&format!("prop-{}", sizes.len() * 7919 + (cut_fraction * 1e6) as usize));
            let path = dir.path("a.pcap");
            let frames: Vec<(Time, Vec<u8>)> = sizes
                .iter()
                .enumerate()
                .map(|(i, &n)| (Time(i as i64 * 1_000_000_000), (0..n).map(|b| (b * 31 + i) as u8).collect()))
                .collect();
            write_pcap(&path, &frames, true);
            let bytes = std::fs::read(&path).unwrap();
            // Record boundaries: the 24-byte file header, then 16 + len each.
            let mut ends = Vec::new();
            let mut at = 24;
            for (_, f) in &frames {
                at += 16 + f.len();
                ends.push(at);
            }
            let cut = 24 + ((bytes.len() - 24) as f64 * cut_fraction) as usize;
            let mut data = bytes[..cut].to_vec();
            if gzip {
                let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                enc.write_all(&data).unwrap();
                data = enc.finish().unwrap();
            }
            std::fs::write(&path, &data).unwrap();
            let complete = ends.iter().filter(|&&e| e <= cut).count();
            let (pkts, err) = read_all(&path);
            prop_assert_eq!(pkts.len(), complete);
            for (p, f) in pkts.iter().zip(&frames) {
                prop_assert_eq!(p.0, f.0);
                prop_assert_eq!(&p.3, &f.1);
            }
            let on_boundary = cut == 24 || ends.contains(&cut);
            prop_assert_eq!(err.is_none(), on_boundary, "{:?}", err);
        }
    }
}

/// An option of `code` holding `value`, padded to four bytes.
fn option_le(code: u16, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&code.to_le_bytes());
    out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    out.extend_from_slice(value);
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
    out
}

#[test]
fn pcapng_options_that_are_not_utf8_do_not_lose_packets() {
    let dir = TempDir::new("ng-utf8");
    let path = dir.path("a.pcapng");
    let eth = tcp_frame(5, 6, b"payload");
    // An interface name and a packet comment in Latin-1, then a resolution.
    let mut idb = Vec::new();
    idb.extend_from_slice(&1u16.to_le_bytes());
    idb.extend_from_slice(&0u16.to_le_bytes());
    idb.extend_from_slice(&0u32.to_le_bytes());
    idb.extend(option_le(2, b"eth\xe9"));
    idb.extend(option_le(9, &[9]));
    idb.extend(option_le(0, b""));
    let mut epb = epb_le(0, 1_000_000_000_000_000_007, &eth, eth.len() as u32);
    // Re-frame the packet block with a comment option after its data.
    let body_len = epb.len() - 12;
    let mut body = epb[8..8 + body_len].to_vec();
    body.extend(option_le(1, b"caf\xe9"));
    body.extend(option_le(0, b""));
    epb = block_le(6, &body);
    let mut bytes = shb_le();
    bytes.extend(block_le(1, &idb));
    bytes.extend(epb);
    std::fs::write(&path, &bytes).unwrap();
    let (pkts, err) = read_all(&path);
    assert!(err.is_none(), "{:?}", err);
    assert_eq!(pkts.len(), 1);
    assert_eq!(pkts[0].0, Time(1_000_000_000_000_000_007));
    assert_eq!(pkts[0].3, eth);
}

#[test]
fn pcap_link_type_with_fcs_bits_is_its_link_type() {
    let dir = TempDir::new("fcs");
    let path = dir.path("a.pcap");
    let eth = tcp_frame(5, 6, b"payload");
    let mut bytes = big_endian_pcap(&[(1, 0, &eth)]);
    // LINKTYPE_ETHERNET with the F bit and an FCS length of 4 (pcap spec).
    bytes[20..24].copy_from_slice(&((1u32 << 26) | (2 << 28) | 1).to_be_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let (pkts, err) = read_all(&path);
    assert!(err.is_none(), "{:?}", err);
    assert_eq!(pkts[0].2, LinkType::Ethernet);
}

#[test]
fn a_record_of_exactly_the_largest_size_is_read() {
    let dir = TempDir::new("max-record");
    let path = dir.path("a.pcap");
    let big = vec![0u8; MAX_RECORD_LEN];
    let bytes = big_endian_pcap(&[(1, 0, &big), (2, 0, &[0u8; 60])]);
    std::fs::write(&path, &bytes).unwrap();
    let (pkts, err) = read_all(&path);
    assert!(err.is_none(), "{:?}", err);
    assert_eq!(pkts.len(), 2);
    assert_eq!(pkts[0].3.len(), MAX_RECORD_LEN);
}
