//! Live capture (`-i`): netpac listens on the loopback interface while this
//! test makes a TCP session, a DNS exchange and an HTTP request, is stopped
//! with SIGTERM, and must have written the logs that a file of the same
//! packets gives (the packets it wrote with `-w`).
//!
//! Capturing needs the right to (root, or CAP_NET_RAW), as CI has.
#![cfg(target_os = "linux")]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A loopback address of the test's own, so that the filter sees nothing else.
const HOST: &str = "127.0.0.77";

/// A client sends "hello", the server answers "world", both close.
fn tcp_session() {
    let listener = TcpListener::bind((HOST, 7777)).expect("bind tcp");
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 5];
        s.read_exact(&mut buf).unwrap();
        s.write_all(b"world").unwrap();
    });
    let mut c = TcpStream::connect((HOST, 7777)).unwrap();
    c.write_all(b"hello").unwrap();
    let mut buf = [0u8; 5];
    c.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"world");
    server.join().unwrap();
    let _ = c.read(&mut buf);
}

/// A query for live.netpac.test and an answer with one A record.
fn dns_exchange() {
    let server = UdpSocket::bind((HOST, 53)).expect("bind udp 53");
    let client = UdpSocket::bind(("127.0.0.1", 0)).unwrap();
    let mut query = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in ["live", "netpac", "test"] {
        query.push(label.len() as u8);
        query.extend_from_slice(label.as_bytes());
    }
    query.extend_from_slice(&[0, 0, 1, 0, 1]);
    client.send_to(&query, (HOST, 53)).unwrap();
    let mut buf = [0u8; 512];
    let (n, from) = server.recv_from(&mut buf).unwrap();
    let mut answer = buf[..n].to_vec();
    answer[2] = 0x81;
    answer[3] = 0x80;
    answer[7] = 1;
    answer.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7]);
    server.send_to(&answer, from).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    client.recv_from(&mut buf).unwrap();
}

/// GET /live answered with a five-byte body, then the server closes.
fn http_request() {
    let listener = TcpListener::bind((HOST, 80)).expect("bind tcp 80");
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 512];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "request ended early");
            request.extend_from_slice(&buf[..n]);
        }
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
            .unwrap();
    });
    let mut c = TcpStream::connect((HOST, 80)).unwrap();
    c.write_all(b"GET /live HTTP/1.1\r\nHost: netpac.test\r\nUser-Agent: netpac-test\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = Vec::new();
    c.read_to_end(&mut response).unwrap();
    assert!(response.ends_with(b"hello"));
    server.join().unwrap();
}

/// The rows of every log in `dir` (without the `#open`/`#close` lines, which
/// carry wall-clock times), by file name.
fn log_rows(dir: &Path) -> Vec<(String, Vec<String>)> {
    let mut logs: Vec<(String, Vec<String>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let rows = text
                .lines()
                .filter(|l| !l.starts_with("#open") && !l.starts_with("#close"))
                .map(str::to_string)
                .collect();
            (p.file_name().unwrap().to_string_lossy().into_owned(), rows)
        })
        .collect();
    logs.sort();
    logs
}

fn data_rows<'a>(logs: &'a [(String, Vec<String>)], name: &str) -> Vec<&'a str> {
    logs.iter()
        .find(|(n, _)| n == name)
        .map(|(_, rows)| {
            rows.iter()
                .map(String::as_str)
                .filter(|r| !r.starts_with('#'))
                .collect()
        })
        .unwrap_or_else(|| panic!("no {name} in {logs:?}"))
}

#[test]
fn live_capture_on_loopback_logs_what_a_file_of_the_same_packets_logs() {
    let dir = common::scratch_dir();
    let (live_dir, file_dir, capture) =
        (dir.join("live"), dir.join("file"), dir.join("capture.pcap"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_netpac"))
        .args([
            "-i",
            "lo",
            "-C",
            "-f",
            &format!("host {HOST}"),
            "--no-progress",
        ])
        .arg("-w")
        .arg(&capture)
        .arg("-o")
        .arg(&live_dir)
        .stderr(Stdio::piped())
        .spawn()
        .expect("run netpac");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    assert!(
        first.contains("listening on lo"),
        "netpac could not capture on lo (this test needs root or CAP_NET_RAW): {first}"
    );
    let rest = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).unwrap();
        s
    });

    tcp_session();
    dns_exchange();
    http_request();
    // The packets are in the kernel's buffer; netpac reads on until it is
    // empty after the signal, so no pause is needed for correctness.
    assert!(Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let status = child.wait().unwrap();
    let stderr = rest.join().unwrap();
    assert!(
        status.success(),
        "a signal is a live capture's clean end: {status:?} {stderr}"
    );
    assert!(
        stderr.contains("packets received by the filter"),
        "{stderr}"
    );

    let replay = Command::new(env!("CARGO_BIN_EXE_netpac"))
        .arg("-r")
        .arg(&capture)
        .args(["-C", "--no-progress", "-o"])
        .arg(&file_dir)
        .output()
        .unwrap();
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );

    let mut live = log_rows(&live_dir);
    // stats.log is the live capture's own (one row at the end of this short run).
    let stats_at = live
        .iter()
        .position(|(n, _)| n == "stats.log")
        .expect("stats.log");
    let stats = live.remove(stats_at).1;
    assert_eq!(
        live,
        log_rows(&file_dir),
        "live logs differ from the logs of the same packets read from a file"
    );
    let fields: Vec<&str> = stats
        .iter()
        .find_map(|l| l.strip_prefix("#fields\t"))
        .unwrap()
        .split('\t')
        .collect();
    let rows: Vec<Vec<&str>> = stats
        .iter()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(rows.len(), 1, "{stats:#?}");
    let col = |name: &str| rows[0][fields.iter().position(|f| *f == name).unwrap()].to_string();
    // The counts of the summary lines: "N packets, ..." and "lo: N packets received by the filter, D dropped by the kernel".
    let number_before = |marker: &str| -> String {
        let at = stderr
            .find(marker)
            .unwrap_or_else(|| panic!("{marker} in {stderr}"));
        let digits: String = stderr[..at]
            .chars()
            .rev()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.chars().rev().collect()
    };
    assert_eq!(col("pkts_proc"), number_before(" packets, "), "{stderr}");
    assert_eq!(
        col("pkts_link"),
        number_before(" packets received by the filter"),
        "{stderr}"
    );
    assert_eq!(
        col("pkts_dropped"),
        number_before(" dropped by the kernel"),
        "{stderr}"
    );
    assert_eq!(
        (col("tcp_conns"), col("udp_conns"), col("icmp_conns")),
        ("2".into(), "1".into(), "0".into())
    );
    assert_eq!(col("peer"), "netpac");

    let conn = data_rows(&live, "conn.log");
    let row = |port: &str, proto: &str| {
        conn.iter()
            .map(|r| r.split('\t').collect::<Vec<_>>())
            .find(|f| f[4] == HOST && f[5] == port && f[6] == proto)
            .unwrap_or_else(|| panic!("no {proto} connection to port {port} in {conn:#?}"))
    };
    // service, conn_state, history
    let tcp = row("7777", "tcp");
    assert_eq!((tcp[7], tcp[11]), ("-", "SF"), "{tcp:?}");
    assert_eq!(row("53", "udp")[7], "dns");
    let http = row("80", "tcp");
    assert_eq!((http[7], http[11]), ("http", "SF"), "{http:?}");
    assert_eq!(conn.len(), 3, "{conn:#?}");

    let dns = data_rows(&live, "dns.log");
    assert!(
        dns.len() == 1 && dns[0].contains("live.netpac.test") && dns[0].contains("192.0.2.7"),
        "{dns:#?}"
    );
    let http = data_rows(&live, "http.log");
    assert!(
        http.len() == 1 && http[0].contains("\tGET\tnetpac.test\t/live\t"),
        "{http:#?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
