//! Hostile traffic, generated: the inputs of netpac's robustness suite.
//!
//! Each generator yields Ethernet frames with their capture times, cheaply
//! and deterministically, so a run can be repeated at any size: a SYN flood,
//! a reassembly flood (small segments held above holes), a fragment flood
//! (first fragments never completed), a DNS compression bomb, an HTTP
//! pipeline flood (requests never answered), an SMTP command flood and a mail
//! whose MIME entities nest as deep as asked. `hostile/run.sh` writes them as
//! captures and reports what netpac does with them (time, peak memory,
//! the weirds that tell which limits were hit).

use etherparse::PacketBuilder;
use netpac_runtime::zeek::Time;
use std::net::Ipv4Addr;

/// One generated frame: capture time and Ethernet bytes.
pub type Frame = (Time, Vec<u8>);

const CLIENT_MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
const SERVER_MAC: [u8; 6] = [2, 0, 0, 0, 0, 2];
const SERVER: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 1);
const START_SECS: i64 = 1_700_000_000;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `count` SYNs from distinct sources to `port`, none answered.
    SynFlood { port: u16 },
    /// One connection whose client sends `count` one-byte segments, each
    /// above a one-byte hole, acknowledged by the server as they come.
    /// `reverse`: the segments arrive last first, each overlapping the next.
    ReassemblyHoles { reverse: bool },
    /// First fragments of `count` distinct datagrams, never completed.
    FragmentFlood,
    /// DNS replies whose answer names are chains of `count` compression
    /// pointers (each name one label plus a pointer to the previous one).
    DnsCompressionBomb,
    /// One HTTP connection with `count` pipelined requests and no reply.
    HttpPipelineFlood,
    /// `count` connections, each holding 64 full segments (about 90 KB)
    /// above a one-byte hole, acknowledged only up to the hole: buffered
    /// until the connections end, the load a global reassembly limit is for.
    BufferedHoles,
    /// One SMTP connection with a MAIL FROM and `count` pipelined RCPTs, no reply.
    SmtpPipelineFlood,
    /// One SMTP mail whose body nests `count` multipart entities, each inside the last.
    SmtpMimeNesting,
    /// `count` GRE packets, each between its own pair of tunnel endpoints and
    /// carrying its own UDP flow: a tunnel (tunnel.log) and a connection each.
    TunnelFlood,
}

impl Kind {
    pub const NAMES: &'static [&'static str] = &[
        "syn-flood",
        "reassembly-holes",
        "reassembly-holes-reverse",
        "fragment-flood",
        "dns-compression-bomb",
        "http-pipeline-flood",
        "buffered-holes",
        "smtp-pipeline-flood",
        "smtp-mime-nesting",
        "tunnel-flood",
    ];

    pub fn by_name(name: &str) -> Option<Kind> {
        Some(match name {
            "syn-flood" => Kind::SynFlood { port: 80 },
            "reassembly-holes" => Kind::ReassemblyHoles { reverse: false },
            "reassembly-holes-reverse" => Kind::ReassemblyHoles { reverse: true },
            "fragment-flood" => Kind::FragmentFlood,
            "dns-compression-bomb" => Kind::DnsCompressionBomb,
            "http-pipeline-flood" => Kind::HttpPipelineFlood,
            "buffered-holes" => Kind::BufferedHoles,
            "smtp-pipeline-flood" => Kind::SmtpPipelineFlood,
            "smtp-mime-nesting" => Kind::SmtpMimeNesting,
            "tunnel-flood" => Kind::TunnelFlood,
            _ => return None,
        })
    }
}

/// The frames of `kind` at size `count`, spread over `span_secs` of capture time.
pub fn generate(kind: Kind, count: u64, span_secs: f64) -> Box<dyn Iterator<Item = Frame>> {
    let clock = Clock::new(count.max(1), span_secs);
    match kind {
        Kind::SynFlood { port } => Box::new((0..count).map(move |i| syn(clock.at(i), i, port))),
        Kind::ReassemblyHoles { reverse } => Box::new(reassembly_holes(count, reverse, clock)),
        Kind::FragmentFlood => Box::new((0..count).map(move |i| first_fragment(clock.at(i), i))),
        Kind::DnsCompressionBomb => Box::new(dns_bomb(count, clock)),
        Kind::HttpPipelineFlood => Box::new(http_pipeline(count, clock)),
        Kind::BufferedHoles => Box::new(buffered_holes(count, clock)),
        // RCPTs after a MAIL FROM: valid, so Zeek's script does not disable the analyzer.
        Kind::SmtpPipelineFlood => Box::new(client_stream(
            12,
            25,
            std::iter::once(b"MAIL FROM:<a@b.c>\r\n".to_vec())
                .chain((0..count).map(|_| b"RCPT TO:<a@b.c>\r\n".to_vec())),
            clock,
        )),
        Kind::SmtpMimeNesting => Box::new(client_stream(13, 25, mime_nesting(count), clock)),
        Kind::TunnelFlood => Box::new((0..count).map(move |i| gre_tunnel(clock.at(i), i))),
    }
}

/// Capture times for `count` packets spread evenly over a span.
#[derive(Clone, Copy)]
struct Clock {
    step_nanos: i64,
}

impl Clock {
    fn new(count: u64, span_secs: f64) -> Clock {
        let span = (span_secs.max(0.0) * 1e9) as i64;
        Clock {
            step_nanos: (span / i64::try_from(count).unwrap_or(i64::MAX)).max(1),
        }
    }
    fn at(&self, i: u64) -> Time {
        Time(START_SECS * 1_000_000_000 + self.step_nanos.saturating_mul(i as i64))
    }
}

/// A distinct client address and port for flow `i`.
fn client(i: u64) -> (Ipv4Addr, u16) {
    let host = 0x0a00_0000u32 | (i as u32 % 0x00ff_ffff);
    (Ipv4Addr::from(host), 1024 + (i % 60_000) as u16)
}

fn tcp(
    from_client: bool,
    client: (Ipv4Addr, u16),
    port: u16,
    seq: u32,
    ack: Option<u32>,
    syn: bool,
    payload: &[u8],
) -> Vec<u8> {
    let (smac, dmac, src, dst, sport, dport) = if from_client {
        (CLIENT_MAC, SERVER_MAC, client.0, SERVER, client.1, port)
    } else {
        (SERVER_MAC, CLIENT_MAC, SERVER, client.0, port, client.1)
    };
    let mut b = PacketBuilder::ethernet2(smac, dmac)
        .ipv4(src.octets(), dst.octets(), 64)
        .tcp(sport, dport, seq, 65535);
    if syn {
        b = b.syn();
    }
    if let Some(ack) = ack {
        b = b.ack(ack);
    }
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, payload).expect("a TCP frame fits");
    out
}

fn udp(client: (Ipv4Addr, u16), port: u16, from_client: bool, payload: &[u8]) -> Vec<u8> {
    let (smac, dmac, src, dst, sport, dport) = if from_client {
        (CLIENT_MAC, SERVER_MAC, client.0, SERVER, client.1, port)
    } else {
        (SERVER_MAC, CLIENT_MAC, SERVER, client.0, port, client.1)
    };
    let b = PacketBuilder::ethernet2(smac, dmac)
        .ipv4(src.octets(), dst.octets(), 64)
        .udp(sport, dport);
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, payload).expect("a UDP frame fits");
    out
}

/// A GRE packet from tunnel endpoint `i` (its own address) to the server,
/// carrying a UDP datagram of flow `i`.
fn gre_tunnel(ts: Time, i: u64) -> Frame {
    let inner = udp(client(i), 9999, true, b"x");
    let mut gre = vec![0, 0, 0x08, 0x00];
    gre.extend_from_slice(&inner[14..]);
    let endpoint = Ipv4Addr::from(0xac10_0000u32 | (i as u32 % 0x000f_ffff));
    let b = PacketBuilder::ethernet2(CLIENT_MAC, SERVER_MAC).ipv4(
        endpoint.octets(),
        SERVER.octets(),
        64,
    );
    let mut out = Vec::with_capacity(b.size(gre.len()));
    b.write(&mut out, etherparse::IpNumber(47), &gre)
        .expect("a GRE frame fits");
    (ts, out)
}

fn syn(ts: Time, i: u64, port: u16) -> Frame {
    let seq = (i as u32).wrapping_mul(2_654_435_761);
    (ts, tcp(true, client(i), port, seq, None, true, b""))
}

/// Handshake and one acknowledged byte, then one-byte segments at relative
/// sequence 3, 5, 7, ... (every other byte missing), each answered by a
/// duplicate acknowledgement of the first byte: the holes are never filled
/// or acknowledged, so everything above them stays buffered.
fn reassembly_holes(count: u64, reverse: bool, clock: Clock) -> impl Iterator<Item = Frame> {
    let c = client(7);
    let (cs, ss) = (1000u32, 5000u32);
    let opening = [
        tcp(true, c, 80, cs, None, true, b""),
        tcp(false, c, 80, ss, Some(cs + 1), true, b""),
        tcp(true, c, 80, cs + 1, Some(ss + 1), false, b"a"),
        tcp(false, c, 80, ss + 1, Some(cs + 2), false, b""),
    ];
    let segments = (0..count).map(move |k| {
        let i = if reverse { count - 1 - k } else { k };
        let seq = cs + 3 + 2 * i as u32;
        // Reversed, each segment also covers the start of the next one.
        let payload: &[u8] = if reverse { b"xy" } else { b"x" };
        tcp(true, c, 80, seq, Some(ss + 1), false, payload)
    });
    let acks = (0..count).map(move |_| tcp(false, c, 80, ss + 1, Some(cs + 2), false, b""));
    let body = segments.zip(acks).flat_map(|(seg, ack)| [seg, ack]);
    opening
        .into_iter()
        .chain(body)
        .enumerate()
        .map(move |(i, f)| (clock.at(i as u64 / 2), f))
}

/// Segments above the hole per connection of `buffered-holes`.
const HELD_SEGMENTS: u32 = 64;

fn buffered_holes(count: u64, clock: Clock) -> impl Iterator<Item = Frame> {
    const MSS: usize = 1400;
    let body = [b'x'; MSS];
    (0..count).flat_map(move |i| {
        let c = client(i);
        let (cs, ss) = (1000u32, 5000u32);
        let mut frames = vec![
            tcp(true, c, 80, cs, None, true, b""),
            tcp(false, c, 80, ss, Some(cs + 1), true, b""),
            tcp(true, c, 80, cs + 1, Some(ss + 1), false, b"a"),
            tcp(false, c, 80, ss + 1, Some(cs + 2), false, b""),
        ];
        // Byte cs + 2 never comes; everything above it waits for it.
        for k in 0..HELD_SEGMENTS {
            let seq = cs + 3 + k * MSS as u32;
            frames.push(tcp(true, c, 80, seq, Some(ss + 1), false, &body));
            frames.push(tcp(false, c, 80, ss + 1, Some(cs + 2), false, b""));
        }
        frames.into_iter().map(move |f| (clock.at(i), f))
    })
}

/// The first fragment (offset 0, more fragments) of datagram `i`: 512 of
/// its payload bytes, the rest never sent.
fn first_fragment(ts: Time, i: u64) -> Frame {
    let mut frame = udp(client(i), 9999, true, &[0u8; 1024]);
    frame.truncate(14 + 20 + 512);
    let ip = &mut frame[14..34];
    ip[2..4].copy_from_slice(&(20u16 + 512).to_be_bytes()); // total length
    ip[4..6].copy_from_slice(&(i as u16).to_be_bytes()); // identification
    ip[6] = 0x20; // more fragments, offset 0
    ip[7] = 0;
    ip[10..12].copy_from_slice(&[0, 0]);
    let sum = ipv4_checksum(ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    (ts, frame)
}

fn ipv4_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A reply with `depth` answers, each named by one label and a pointer to
/// the previous answer's name: decoding every name naively costs depth².
/// Sent 100 times so the capture has some bulk.
fn dns_bomb(depth: u64, clock: Clock) -> impl Iterator<Item = Frame> {
    let depth = depth.clamp(1, 3000) as u16;
    let mut msg = vec![0x12, 0x34, 0x81, 0x80, 0, 1];
    msg.extend_from_slice(&depth.to_be_bytes()); // ancount
    msg.extend_from_slice(&[0, 0, 0, 0]);
    msg.extend_from_slice(&[1, b'a', 0, 0, 1, 0, 1]); // question "a", A, IN
    let mut prev = 12u16;
    for _ in 0..depth {
        let at = msg.len() as u16;
        msg.extend_from_slice(&[1, b'b', 0xc0 | (prev >> 8) as u8, prev as u8]);
        msg.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1]);
        prev = at;
    }
    let c = client(3);
    (0..100u64).map(move |i| (clock.at(i), udp(c, 53, false, &msg)))
}

/// `count` pipelined GETs on one connection; the server only acknowledges.
fn http_pipeline(count: u64, clock: Clock) -> impl Iterator<Item = Frame> {
    let c = client(11);
    let (cs, ss) = (1000u32, 5000u32);
    let request = b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
    let handshake = [
        tcp(true, c, 80, cs, None, true, b""),
        tcp(false, c, 80, ss, Some(cs + 1), true, b""),
        tcp(true, c, 80, cs + 1, Some(ss + 1), false, b""),
    ];
    let len = request.len() as u32;
    let body = (0..count).flat_map(move |i| {
        let seq = cs + 1 + len * i as u32;
        [
            tcp(true, c, 80, seq, Some(ss + 1), false, request),
            tcp(false, c, 80, ss + 1, Some(seq + len), false, b""),
        ]
    });
    handshake
        .into_iter()
        .chain(body)
        .enumerate()
        .map(move |(i, f)| (clock.at(i as u64), f))
}

/// The segments of a mail whose multipart entities nest `depth` deep, one boundary
/// per level, then the end of data. No boundary is a prefix of another (`--b1_`
/// would otherwise also match `--b10_`'s line and close levels early).
fn mime_nesting(depth: u64) -> impl Iterator<Item = Vec<u8>> {
    let head = [b"HELO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDATA\r\n".to_vec()];
    let levels = (0..depth).map(|i| {
        format!("Content-Type: multipart/mixed; boundary=b{i}_\r\n\r\n--b{i}_\r\n").into_bytes()
    });
    head.into_iter()
        .chain(levels)
        .chain([b"deepest\r\n.\r\nQUIT\r\n".to_vec()])
}

/// One connection to `port` on which the client sends `segments`; the server
/// only acknowledges.
fn client_stream(
    i: u64,
    port: u16,
    segments: impl Iterator<Item = Vec<u8>> + 'static,
    clock: Clock,
) -> impl Iterator<Item = Frame> {
    let c = client(i);
    let (cs, ss) = (1000u32, 5000u32);
    let handshake = [
        tcp(true, c, port, cs, None, true, b""),
        tcp(false, c, port, ss, Some(cs + 1), true, b""),
        tcp(true, c, port, cs + 1, Some(ss + 1), false, b""),
    ];
    let mut seq = cs + 1;
    let body = segments.flat_map(move |data| {
        let at = seq;
        seq = seq.wrapping_add(data.len() as u32);
        [
            tcp(true, c, port, at, Some(ss + 1), false, &data),
            tcp(false, c, port, ss + 1, Some(seq), false, b""),
        ]
    });
    handshake
        .into_iter()
        .chain(body)
        .enumerate()
        .map(move |(i, f)| (clock.at(i as u64), f))
}
