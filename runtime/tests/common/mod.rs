//! Shared helpers for netpac's integration tests: build packets in code and
//! run them through an [`Engine`], getting back `conn.log` and the events.
//!
//! ```ignore
//! mod common;
//! use common::*;
//! let c = Host::v4("10.0.0.1", 40000); let s = Host::v4("10.0.0.2", 80);
//! let pkts = vec![
//!     tcp(1.0, c, s, "S", 100, 0, b""),
//!     tcp(1.1, s, c, "SA", 900, 101, b""),
//! ];
//! let out = run(&pkts, Config::default());          // or run_with(...)
//! insta::assert_snapshot!(out.conn_log);             // rows only, no #open/#close
//! insta::assert_json_snapshot!(out.events);          // every event, as JSON values
//! ```
//!
//! - [`Host`]: an address and port (`Host::v4`, `Host::v6`).
//! - [`tcp`] (flags as letters: `S`, `A`, `F`, `R`, `P`, `U`), [`udp`],
//!   [`icmp4`], [`icmp6`], [`raw_ip4`]: Ethernet frames, checksums correct.
//! - [`tcp_opts`]: a segment with raw TCP option bytes.
//! - [`Frame`] modifiers: `.vlan(id)`, `.bad_l4_checksum()`, [`fragment4`].
//! - [`run`] / [`run_with`]: engine with a given [`Config`], analyzer
//!   [`Registry`] and event filter (`None`: record every event);
//!   [`Harness`] when the test acts on the engine between packets.
//! - `NETPAC_TEST_PCAPS=DIR` writes every run's packets as `DIR/<test>.pcap`
//!   to compare with Zeek.
#![allow(dead_code)]

pub use netpac_runtime::analyzer::Registry;
use netpac_runtime::capture::CaptureWriter;
pub use netpac_runtime::engine::{Config, Engine};
use netpac_runtime::event::{Events, Recorded, RecordingSink};
use netpac_runtime::log::{Format, Logs};
use netpac_runtime::packet::{LinkType, RawPacket};
use netpac_runtime::zeek::Time;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

/// One endpoint: address and port.
#[derive(Debug, Clone, Copy)]
pub struct Host {
    pub addr: IpAddr,
    pub port: u16,
    pub mac: [u8; 6],
}

impl Host {
    pub fn v4(addr: &str, port: u16) -> Host {
        let addr: IpAddr = addr.parse().expect("IPv4 address");
        Host {
            addr,
            port,
            mac: mac_for(addr),
        }
    }
    pub fn v6(addr: &str, port: u16) -> Host {
        let addr: IpAddr = addr.parse().expect("IPv6 address");
        Host {
            addr,
            port,
            mac: mac_for(addr),
        }
    }
    pub fn port(self, port: u16) -> Host {
        Host { port, ..self }
    }
}

fn mac_for(addr: IpAddr) -> [u8; 6] {
    let b = match addr {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets()[12..].to_vec(),
    };
    [0x02, 0x00, b[0], b[1], b[2], b[3]]
}

/// A captured Ethernet frame and its time.
#[derive(Debug, Clone)]
pub struct Frame {
    pub ts: f64,
    pub data: Vec<u8>,
}

impl Frame {
    /// Inserts an 802.1Q tag (call twice for QinQ: the first call is the inner tag).
    pub fn vlan(mut self, id: u16) -> Frame {
        let tag = [0x81, 0x00, (id >> 8) as u8 & 0x0f, id as u8];
        let mut out = self.data[..12].to_vec();
        out.extend_from_slice(&tag);
        out.extend_from_slice(&self.data[12..]);
        self.data = out;
        self
    }
    /// Sets the IPv4 identification (untagged IPv4 frames), re-computing the
    /// header checksum.
    pub fn ip_id(mut self, id: u16) -> Frame {
        let ihl = usize::from(self.data[14] & 0x0f) * 4;
        let hdr = &mut self.data[14..14 + ihl];
        hdr[4..6].copy_from_slice(&id.to_be_bytes());
        hdr[10] = 0;
        hdr[11] = 0;
        let sum = !fold(ones(hdr, 0));
        hdr[10..12].copy_from_slice(&sum.to_be_bytes());
        self
    }
    /// Corrupts the TCP/UDP/ICMP checksum (IPv4 without VLAN tags).
    pub fn bad_l4_checksum(mut self) -> Frame {
        let ihl = usize::from(self.data[14] & 0x0f) * 4;
        let proto = self.data[14 + 9];
        let off = 14
            + ihl
            + match proto {
                6 => 16,
                17 => 6,
                _ => 2,
            };
        self.data[off] ^= 0x5a;
        self
    }
}

fn eth_ip(src: Host, dst: Host) -> etherparse::PacketBuilderStep<etherparse::IpHeaders> {
    let b = etherparse::PacketBuilder::ethernet2(src.mac, dst.mac);
    match (src.addr, dst.addr) {
        (IpAddr::V4(s), IpAddr::V4(d)) => b.ipv4(s.octets(), d.octets(), 64),
        (IpAddr::V6(s), IpAddr::V6(d)) => b.ipv6(s.octets(), d.octets(), 64),
        _ => panic!("mixed address families"),
    }
}

/// A TCP segment. `flags` letters: S(YN) A(CK) F(IN) R(ST) P(SH) U(RG).
pub fn tcp(
    ts: f64,
    src: Host,
    dst: Host,
    flags: &str,
    seq: u32,
    ack: u32,
    payload: &[u8],
) -> Frame {
    tcp_win(ts, src, dst, flags, seq, ack, 65535, payload)
}

/// A TCP segment with an explicit window.
#[allow(clippy::too_many_arguments)]
pub fn tcp_win(
    ts: f64,
    src: Host,
    dst: Host,
    flags: &str,
    seq: u32,
    ack: u32,
    window: u16,
    payload: &[u8],
) -> Frame {
    tcp_opts(ts, src, dst, flags, seq, ack, window, &[], payload)
}

/// A TCP segment with an explicit window and raw option bytes (padded to a
/// multiple of four with end-of-list bytes).
#[allow(clippy::too_many_arguments)]
pub fn tcp_opts(
    ts: f64,
    src: Host,
    dst: Host,
    flags: &str,
    seq: u32,
    ack: u32,
    window: u16,
    options: &[u8],
    payload: &[u8],
) -> Frame {
    let mut b = eth_ip(src, dst).tcp(src.port, dst.port, seq, window);
    for f in flags.chars() {
        b = match f {
            'S' => b.syn(),
            'A' => b.ack(ack),
            'F' => b.fin(),
            'R' => b.rst(),
            'P' => b.psh(),
            'U' => b.urg(0),
            other => panic!("unknown TCP flag {other}"),
        };
    }
    if !options.is_empty() {
        let mut padded = options.to_vec();
        padded.resize(options.len().div_ceil(4) * 4, 0);
        b = b.options_raw(&padded).expect("TCP options fit");
    }
    let mut data = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut data, payload).expect("build TCP packet");
    Frame { ts, data }
}

/// A UDP datagram.
pub fn udp(ts: f64, src: Host, dst: Host, payload: &[u8]) -> Frame {
    let b = eth_ip(src, dst).udp(src.port, dst.port);
    let mut data = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut data, payload).expect("build UDP packet");
    Frame { ts, data }
}

/// An ICMPv4 message: type, code, the 4 header bytes after the checksum, body.
pub fn icmp4(
    ts: f64,
    src: Host,
    dst: Host,
    itype: u8,
    code: u8,
    rest: [u8; 4],
    body: &[u8],
) -> Frame {
    let mut msg = vec![itype, code, 0, 0];
    msg.extend_from_slice(&rest);
    msg.extend_from_slice(body);
    let sum = !fold(ones(&msg, 0));
    msg[2..4].copy_from_slice(&sum.to_be_bytes());
    raw_ip4(ts, src, dst, 1, &msg)
}

/// An ICMPv6 message (checksum over the pseudo header).
pub fn icmp6(
    ts: f64,
    src: Host,
    dst: Host,
    itype: u8,
    code: u8,
    rest: [u8; 4],
    body: &[u8],
) -> Frame {
    let (IpAddr::V6(s), IpAddr::V6(d)) = (src.addr, dst.addr) else {
        panic!("icmp6 needs IPv6 hosts")
    };
    let mut msg = vec![itype, code, 0, 0];
    msg.extend_from_slice(&rest);
    msg.extend_from_slice(body);
    let mut sum = ones(&s.octets(), 0);
    sum = ones(&d.octets(), sum);
    sum += msg.len() as u32 + 58;
    let sum = !fold(ones(&msg, sum));
    msg[2..4].copy_from_slice(&sum.to_be_bytes());
    let mut data = Vec::new();
    data.extend_from_slice(&dst.mac);
    data.extend_from_slice(&src.mac);
    data.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0]);
    data.extend_from_slice(&(msg.len() as u16).to_be_bytes());
    data.extend_from_slice(&[58, 255]);
    data.extend_from_slice(&s.octets());
    data.extend_from_slice(&d.octets());
    data.extend_from_slice(&msg);
    Frame { ts, data }
}

/// An IPv4 datagram carrying `payload` as protocol `proto`.
pub fn raw_ip4(ts: f64, src: Host, dst: Host, proto: u8, payload: &[u8]) -> Frame {
    let (IpAddr::V4(s), IpAddr::V4(d)) = (src.addr, dst.addr) else {
        panic!("raw_ip4 needs IPv4 hosts")
    };
    let mut data = Vec::new();
    data.extend_from_slice(&dst.mac);
    data.extend_from_slice(&src.mac);
    data.extend_from_slice(&[0x08, 0x00]);
    let total = (20 + payload.len()) as u16;
    let mut hdr = vec![0x45, 0];
    hdr.extend_from_slice(&total.to_be_bytes());
    hdr.extend_from_slice(&[0x12, 0x34, 0, 0, 64, proto, 0, 0]);
    hdr.extend_from_slice(&s.octets());
    hdr.extend_from_slice(&d.octets());
    let sum = !fold(ones(&hdr, 0));
    hdr[10..12].copy_from_slice(&sum.to_be_bytes());
    data.extend_from_slice(&hdr);
    data.extend_from_slice(payload);
    Frame { ts, data }
}

/// Splits an untagged IPv4 frame into fragments carrying at most
/// `chunk` (a multiple of 8) payload bytes each.
pub fn fragment4(frame: &Frame, chunk: usize) -> Vec<Frame> {
    assert_eq!(chunk % 8, 0, "fragment payloads are multiples of 8 bytes");
    let eth = &frame.data[..14];
    let ihl = usize::from(frame.data[14] & 0x0f) * 4;
    let ip_hdr = &frame.data[14..14 + ihl];
    let payload = &frame.data[14 + ihl..];
    let mut out = Vec::new();
    let mut off = 0;
    while off < payload.len() {
        let end = (off + chunk).min(payload.len());
        let more = end < payload.len();
        let mut hdr = ip_hdr.to_vec();
        hdr[2..4].copy_from_slice(&((ihl + end - off) as u16).to_be_bytes());
        let fo = (off / 8) as u16 | if more { 0x2000 } else { 0 };
        hdr[6..8].copy_from_slice(&fo.to_be_bytes());
        hdr[10] = 0;
        hdr[11] = 0;
        let sum = !fold(ones(&hdr, 0));
        hdr[10..12].copy_from_slice(&sum.to_be_bytes());
        let mut data = eth.to_vec();
        data.extend_from_slice(&hdr);
        data.extend_from_slice(&payload[off..end]);
        out.push(Frame { ts: frame.ts, data });
        off = end;
    }
    out
}

fn ones(data: &[u8], mut sum: u32) -> u32 {
    for c in data.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from(c[0]) << 8
        };
        sum += u32::from(w);
    }
    sum
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// What a run produced.
#[derive(Debug)]
pub struct Output {
    /// conn.log's `#fields` line and rows (no `#open`/`#close` stamps).
    pub conn_log: String,
    /// weird.log rows, same treatment (empty when none).
    pub weird_log: String,
    /// Every recorded event: `{"ts", "event", "args"}`.
    pub events: Vec<serde_json::Value>,
    /// Every other log written (`http.log`, ...) by file name, same treatment.
    pub logs: std::collections::BTreeMap<String, String>,
}

/// Runs `frames` through an engine with `config` and no protocol analyzers,
/// recording every event.
pub fn run(frames: &[Frame], config: Config) -> Output {
    run_with(frames, config, Registry::default(), None)
}

/// Runs `frames` with the given analyzers; `events`: names to record
/// (`None`: all).
pub fn run_with(
    frames: &[Frame],
    config: Config,
    registry: Registry,
    events: Option<Vec<&'static str>>,
) -> Output {
    let mut h = Harness::new(config, registry, events);
    h.play(frames);
    h.finish()
}

/// An engine recording events into memory and logs into a scratch
/// directory, for tests that act on the engine between packets (thresholds,
/// contents files).
pub struct Harness {
    pub engine: Engine,
    pub dir: std::path::PathBuf,
    recorded: Recorded,
    played: Vec<Frame>,
}

impl Harness {
    pub fn new(config: Config, registry: Registry, events: Option<Vec<&'static str>>) -> Harness {
        Harness::with_sinks(config, registry, events, Vec::new())
    }

    /// As [`Harness::new`], with more event consumers (log writers such as http.log's).
    pub fn with_sinks(
        config: Config,
        registry: Registry,
        events: Option<Vec<&'static str>>,
        sinks: Vec<Box<dyn netpac_runtime::event::EventSink>>,
    ) -> Harness {
        let dir = scratch_dir();
        let recorded = Recorded::default();
        let mut ev = Events::with_logs(Logs::new(&dir, Format::Tsv));
        ev.subscribe(Box::new(RecordingSink {
            into: recorded.clone(),
            filter: events,
        }));
        netpac_runtime::engine::subscribe_logs(&mut ev, &config);
        for sink in sinks {
            ev.subscribe(sink);
        }
        let engine = Engine::new(config, registry, ev);
        Harness {
            engine,
            dir,
            recorded,
            played: Vec::new(),
        }
    }

    /// Feeds `frames` to the engine.
    pub fn play(&mut self, frames: &[Frame]) {
        play(&mut self.engine, frames);
        self.played.extend_from_slice(frames);
    }

    /// Finishes the run, reads the logs and removes the scratch directory.
    pub fn finish(self) -> Output {
        let Harness {
            engine,
            dir,
            recorded,
            played,
        } = self;
        dump_pcap(&played);
        engine.finish().expect("finish");
        let read = |name: &str| -> String {
            let text = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
            text.lines()
                .filter(|l| {
                    !l.starts_with("#open")
                        && !l.starts_with("#close")
                        && (!l.starts_with('#') || l.starts_with("#fields"))
                })
                .map(|l| format!("{l}\n"))
                .collect()
        };
        let mut logs = std::collections::BTreeMap::new();
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".log") && name != "conn.log" && name != "weird.log" {
                let text = read(&name);
                logs.insert(name, text);
            }
        }
        let out = Output {
            conn_log: read("conn.log"),
            weird_log: read("weird.log"),
            events: recorded.0.borrow().clone(),
            logs,
        };
        let _ = std::fs::remove_dir_all(&dir);
        out
    }
}

/// With `NETPAC_TEST_PCAPS=DIR` set, writes each run's frames to
/// `DIR/<test name>.pcap`, so the same packets can be given to Zeek and the
/// events compared (`zeek -b -r DIR/x.pcap misc/dump-events`).
fn dump_pcap(frames: &[Frame]) {
    let Some(dir) = std::env::var_os("NETPAC_TEST_PCAPS") else {
        return;
    };
    let thread = std::thread::current();
    let name = thread.name().unwrap_or("run").replace("::", "-");
    let path = std::path::Path::new(&dir).join(format!("{name}.pcap"));
    let mut w = CaptureWriter::create(&path, LinkType::Ethernet).expect("create pcap");
    for f in frames {
        w.write(Time::from_secs_f64(f.ts), &f.data)
            .expect("write pcap");
    }
    w.finish().expect("close pcap");
}

/// A fresh, empty directory for one run's logs (unique per process and call).
pub fn scratch_dir() -> std::path::PathBuf {
    static RUN: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "netpac-test-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Feeds `frames` to `engine` as Ethernet packets, in order.
pub fn play(engine: &mut Engine, frames: &[Frame]) {
    for f in frames {
        engine.packet(&RawPacket {
            ts: Time::from_secs_f64(f.ts),
            wire_len: f.data.len() as u32,
            link: LinkType::Ethernet,
            data: &f.data,
        });
    }
}

/// The names of the events, in order (compact for snapshots).
pub fn event_names(out: &Output) -> Vec<String> {
    out.events
        .iter()
        .map(|e| e["event"].as_str().unwrap_or("?").to_string())
        .collect()
}

/// Selected columns of conn.log rows, tab-separated (for focused asserts).
pub fn conn_columns(out: &Output, cols: &[&str]) -> Vec<String> {
    let mut lines = out.conn_log.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let names: Vec<&str> = header.trim_start_matches("#fields\t").split('\t').collect();
    let idx: Vec<usize> = cols
        .iter()
        .map(|c| {
            names
                .iter()
                .position(|n| n == c)
                .unwrap_or_else(|| panic!("no column {c}"))
        })
        .collect();
    lines
        .map(|l| {
            let v: Vec<&str> = l.split('\t').collect();
            idx.iter()
                .map(|&i| v.get(i).copied().unwrap_or("?"))
                .collect::<Vec<_>>()
                .join("\t")
        })
        .collect()
}

/// A raw Ethernet II frame: `payload` after the given EtherType (no padding added).
pub fn ethernet(
    ts: f64,
    src_mac: [u8; 6],
    dst_mac: [u8; 6],
    ethertype: u16,
    payload: &[u8],
) -> Frame {
    let mut data = Vec::with_capacity(14 + payload.len());
    data.extend_from_slice(&dst_mac);
    data.extend_from_slice(&src_mac);
    data.extend_from_slice(&ethertype.to_be_bytes());
    data.extend_from_slice(payload);
    Frame { ts, data }
}
