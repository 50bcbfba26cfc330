//! A sharded run (`--threads N`, `Builder::threads`) writes the logs of a
//! single-threaded one, row for row: the same uids, the same rows in the same
//! order, whatever worker analysed each flow. The captures here are built so
//! that flows land on different workers and still depend on each other:
//! an IRC DCC transfer announced on one worker and made on another, FTP data
//! connections, timers expiring connections of several workers at the same
//! packets, weirds that Zeek's weird framework logs once per originator, and
//! connections still open at the end.

mod common;
mod lines_support;

use common::*;
use lines_support::{orig, resp, session, Piece};
use netpac::{Analysis, Format, RawPacket, Time};
use netpac_runtime::packet::LinkType;
use std::path::Path;

/// Every log of a run over `frames` on `threads` threads, each without its
/// `#open`/`#close` lines, by file name.
fn logs(frames: &[Frame], threads: usize) -> Vec<(String, String)> {
    run(threads, |analysis| {
        for f in frames {
            analysis.packet(&RawPacket {
                ts: Time::from_secs_f64(f.ts),
                wire_len: f.data.len() as u32,
                link: LinkType::Ethernet,
                data: &f.data,
            });
        }
    })
}

/// The logs of an analysis on `threads` threads that `feed` gives packets.
fn run(threads: usize, feed: impl FnOnce(&mut Analysis)) -> Vec<(String, String)> {
    let dir = scratch_dir();
    let mut analysis = Analysis::builder()
        .logs(&dir, Format::Tsv)
        .threads(threads)
        .build()
        .unwrap();
    feed(&mut analysis);
    analysis.finish().unwrap();
    read_logs(&dir)
}

fn read_logs(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let body: String = text
                .lines()
                .filter(|l| !l.starts_with("#open") && !l.starts_with("#close"))
                .map(|l| format!("{l}\n"))
                .collect();
            (p.file_name().unwrap().to_string_lossy().into_owned(), body)
        })
        .collect();
    out.sort();
    out
}

fn assert_same_as_one_thread(frames: &[Frame], name: &str) {
    let one = logs(frames, 1);
    assert!(
        one.iter().any(|(f, _)| f == "conn.log"),
        "{name}: the capture makes connections"
    );
    for threads in [2, 3, 4] {
        let many = logs(frames, threads);
        let files = |l: &[(String, String)]| l.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>();
        assert_eq!(
            files(&many),
            files(&one),
            "{name}: the same logs with {threads} threads"
        );
        for ((file, a), (_, b)) in one.iter().zip(&many) {
            assert!(a == b, "{name}: {file} with {threads} threads differs:\n--- 1 thread\n{a}\n--- {threads} threads\n{b}");
        }
    }
}

/// Many hosts, so that every worker gets flows: HTTP sessions, DNS queries
/// (some never answered, so their connections time out at the same packets
/// on several workers), half-open TCP connections, a weird per originator.
fn mix(hosts: u32) -> Vec<Frame> {
    let mut frames = Vec::new();
    for i in 0..hosts {
        let t0 = 1.0 + f64::from(i) * 0.01;
        let client = Host::v4(
            &format!("10.1.{}.{}", i / 200, 1 + i % 200),
            30_000 + i as u16,
        );
        let server = Host::v4(&format!("192.0.2.{}", 1 + i % 50), 80);
        let request = format!("GET /item/{i} HTTP/1.1\r\nHost: example.com\r\n\r\n");
        let reply = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        frames.extend(session(
            t0,
            client,
            server,
            &[orig(request.as_bytes()), resp(reply.as_bytes())],
        ));
        let resolver = Host::v4(&format!("198.51.100.{}", 1 + i % 7), 53);
        let c = Host::v4(
            &format!("10.2.{}.{}", i / 200, 1 + i % 200),
            40_000 + i as u16,
        );
        let query = dns_query(i as u16, &format!("host{i}.example.com"));
        frames.push(udp(t0 + 0.001, c, resolver, &query));
        // A SYN nobody answers: a connection attempt, expired by a timer.
        let s = Host::v4(
            &format!("10.3.{}.{}", i / 200, 1 + i % 200),
            50_000 + i as u16,
        );
        frames.push(tcp(
            t0 + 0.002,
            s,
            Host::v4("203.0.113.9", 22),
            "S",
            1000,
            0,
            b"",
        ));
    }
    // Ninety seconds later: the DNS connections and attempts have expired.
    let late = Host::v4("10.9.9.9", 60_000);
    frames.push(udp(
        95.0,
        late,
        Host::v4("198.51.100.1", 53),
        &dns_query(1, "late.example.com"),
    ));
    frames.sort_by(|a, b| a.ts.total_cmp(&b.ts));
    frames
}

fn dns_query(id: u16, name: &str) -> Vec<u8> {
    let mut q = vec![(id >> 8) as u8, id as u8, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    q
}

/// IRC DCC transfers between clients of one server: each is announced on
/// the sender's control connection and made between the two clients, an
/// address pair of its own (so, often, another worker).
fn dcc(transfers: u32) -> Vec<Frame> {
    let mut frames = Vec::new();
    for i in 0..transfers {
        let t0 = 1.0 + f64::from(i) * 0.05;
        let sender = format!("10.4.0.{}", 1 + i);
        let receiver = format!("10.5.0.{}", 1 + i);
        let number = u32::from(sender.parse::<std::net::Ipv4Addr>().unwrap());
        let port = 5000 + i as u16;
        let offer =
            format!("PRIVMSG bob{i} :\x01DCC SEND notes{i}.txt {number} {port} 1190\x01\r\n");
        let nick = format!("NICK alice{i}\r\n");
        let control: Vec<Piece> = vec![
            orig(nick.as_bytes()),
            orig(b"USER alice 0 * :Alice\r\n"),
            orig(offer.as_bytes()),
        ];
        let control_hosts = [Host::v4(&sender, 40_001), Host::v4("10.0.0.9", 6667)];
        let data_hosts = [Host::v4(&receiver, 40_002), Host::v4(&sender, port)];
        let notes = resp("Just some notes.\n".repeat(70).as_bytes());
        control_then_data(&mut frames, t0, control_hosts, &control, data_hosts, notes);
    }
    frames.sort_by(|a, b| a.ts.total_cmp(&b.ts));
    frames
}

/// A control session at `t0` and the transfer it announces half a second later.
fn control_then_data(
    frames: &mut Vec<Frame>,
    t0: f64,
    [client, server]: [Host; 2],
    control: &[Piece],
    [from, to]: [Host; 2],
    data: Piece,
) {
    frames.extend(session(t0, client, server, control));
    frames.extend(session(t0 + 0.5, from, to, &[data]));
}

/// FTP sessions announcing their data connections with PORT (the server
/// connects back to the client).
fn ftp(sessions: u32) -> Vec<Frame> {
    let mut frames = Vec::new();
    for i in 0..sessions {
        let t0 = 1.0 + f64::from(i) * 0.05;
        let client = format!("10.6.0.{}", 1 + i);
        let server = format!("192.0.2.{}", 100 + i);
        let port = 20_000 + i as u16;
        let port_arg = format!(
            "PORT {},{},{}\r\n",
            client.replace('.', ","),
            port >> 8,
            port & 0xff
        );
        let pieces = vec![
            resp(b"220 ready\r\n"),
            orig(b"USER anonymous\r\n"),
            resp(b"331 password\r\n"),
            orig(b"PASS guest\r\n"),
            resp(b"230 in\r\n"),
            orig(port_arg.as_bytes()),
            resp(b"200 PORT ok\r\n"),
            orig(b"RETR file.txt\r\n"),
            resp(b"150 opening\r\n"),
            resp(b"226 done\r\n"),
        ];
        let control_hosts = [Host::v4(&client, 41_000), Host::v4(&server, 21)];
        let data_hosts = [Host::v4(&server, 20), Host::v4(&client, port)];
        let file = orig(format!("file {i}\n").repeat(50).as_bytes());
        control_then_data(&mut frames, t0, control_hosts, &pieces, data_hosts, file);
    }
    frames.sort_by(|a, b| a.ts.total_cmp(&b.ts));
    frames
}

#[test]
fn a_mix_of_many_hosts_logs_as_one_thread() {
    assert_same_as_one_thread(&mix(300), "mix");
}

/// How many rows of a one-thread run's conn.log have `service`.
fn service_count(frames: &[Frame], service: &str) -> usize {
    let one = logs(frames, 1);
    let conn = &one
        .iter()
        .find(|(f, _)| f == "conn.log")
        .expect("a conn.log")
        .1;
    conn.matches(&format!("\t{service}\t")).count()
}

#[test]
fn dcc_transfers_announced_on_another_worker_are_found() {
    let frames = dcc(24);
    assert_same_as_one_thread(&frames, "dcc");
    assert_eq!(service_count(&frames, "irc-dcc-data"), 24);
}

#[test]
fn ftp_data_connections_log_as_one_thread() {
    let frames = ftp(20);
    assert_same_as_one_thread(&frames, "ftp");
    assert_eq!(service_count(&frames, "ftp-data"), 20);
}

#[test]
fn the_shipped_sample_logs_as_one_thread() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/sample.pcap");
    let sample_logs = |threads| run(threads, |analysis| analysis.read_file(&sample).unwrap());
    let one = sample_logs(1);
    assert!(one.len() > 3);
    assert_eq!(sample_logs(2), one);
    assert_eq!(sample_logs(4), one);
}
