//! The `netpac` command as a user runs it: listing events, analysing a
//! capture, and clear errors with the documented exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn netpac(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netpac"))
        .args(args)
        .arg("--no-progress")
        .output()
        .expect("run netpac")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netpac-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/sample.pcap")
}

#[test]
fn list_events_names_only_specified_events_and_includes_the_engines() {
    let out = netpac(&["--list-events"]);
    assert!(out.status.success());
    let listed: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    for name in &listed {
        assert!(
            netpac_runtime::event::EventId::by_name(name).is_some(),
            "{name} is not in the specification"
        );
    }
    for must in [
        "new_connection",
        "connection_established",
        "tcp_packet",
        "udp_request",
        "icmp_echo_request",
        "dns_request",
        "dns_end",
    ] {
        assert!(
            listed.iter().any(|n| n == must),
            "{must} missing from --list-events"
        );
    }
    let mut unique = listed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), listed.len(), "names listed twice");
}

#[test]
fn sample_run_writes_logs_and_events() {
    let dir = scratch("sample");
    let events = dir.join("events.jsonl");
    let out = netpac(&[
        "-r",
        sample().to_str().unwrap(),
        "-o",
        dir.to_str().unwrap(),
        "--events",
        events.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("17 packets") && stderr.contains("5 connections"),
        "summary: {stderr}"
    );
    let conn = std::fs::read_to_string(dir.join("conn.log")).unwrap();
    assert!(conn.starts_with("#separator \\x09\n"));
    assert!(conn.lines().last().unwrap().starts_with("#close\t"));
    assert_eq!(conn.lines().filter(|l| !l.starts_with('#')).count(), 5);
    let lines = std::fs::read_to_string(&events).unwrap();
    let first: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert_eq!(first["event"], "new_connection");
    assert!(first["args"]["c"]["id"]["orig_h"].is_string());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn json_logs_are_one_object_per_row() {
    let dir = scratch("json");
    let out = netpac(&[
        "-r",
        sample().to_str().unwrap(),
        "-o",
        dir.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success());
    let conn = std::fs::read_to_string(dir.join("conn.log")).unwrap();
    let rows: Vec<serde_json::Value> = conn
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0]["proto"], "udp");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_and_garbage_files_are_errors_not_panics() {
    let dir = scratch("bad");
    let out = netpac(&[
        "-r",
        dir.join("nope.pcap").to_str().unwrap(),
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("netpac: error:"));

    let garbage = dir.join("garbage.pcap");
    std::fs::write(&garbage, b"this is not a capture file at all, just text\n").unwrap();
    let out = netpac(&["-r", garbage.to_str().unwrap(), "-o", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn truncated_capture_keeps_what_was_read_and_exits_2() {
    let dir = scratch("trunc");
    let whole = std::fs::read(sample()).unwrap();
    let cut = dir.join("cut.pcap");
    // Cut inside the last record: every earlier packet must still be analysed.
    std::fs::write(&cut, &whole[..whole.len() - 10]).unwrap();
    let out = netpac(&["-r", cut.to_str().unwrap(), "-o", dir.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let conn = std::fs::read_to_string(dir.join("conn.log")).unwrap();
    assert_eq!(
        conn.lines().filter(|l| !l.starts_with('#')).count(),
        4,
        "{conn}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bpf_filter_selects_packets() {
    let dir = scratch("bpf");
    let out = netpac(&[
        "-r",
        sample().to_str().unwrap(),
        "-o",
        dir.to_str().unwrap(),
        "-f",
        "tcp port 80",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let conn = std::fs::read_to_string(dir.join("conn.log")).unwrap();
    let rows: Vec<&str> = conn.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].contains("\t80\ttcp\t"));
    let out = netpac(&[
        "-r",
        sample().to_str().unwrap(),
        "-o",
        dir.to_str().unwrap(),
        "-f",
        "this is (not bpf",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_log_that_cannot_be_written_fails_the_run_and_the_other_logs_are_kept() {
    let dir = scratch("unwritable-log");
    // http.log cannot be created: a directory stands where the file would go.
    std::fs::create_dir_all(dir.join("http.log")).unwrap();
    let out = netpac(&[
        "-r",
        sample().to_str().unwrap(),
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("writing http.log"), "{err}");
    let conn = std::fs::read_to_string(dir.join("conn.log")).unwrap();
    assert!(conn.contains("#close"), "conn.log is complete: {conn}");
}

#[test]
fn an_events_file_that_cannot_be_written_fails_the_run() {
    if !std::path::Path::new("/dev/full").exists() {
        return;
    }
    let dir = scratch("events-dev-full");
    let out = netpac(&[
        "-r",
        sample().to_str().unwrap(),
        "-o",
        dir.to_str().unwrap(),
        "--events",
        "/dev/full",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("writing events"));
}

/// Offsets where each record of a classic pcap starts (after the 24-byte header).
fn pcap_records(data: &[u8]) -> Vec<usize> {
    let mut at = 24;
    let mut starts = Vec::new();
    while at + 16 <= data.len() {
        starts.push(at);
        let incl = u32::from_le_bytes(data[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + incl;
    }
    starts
}

/// SIGTERM while reading (here: a capture arriving through a FIFO) ends the
/// run as the end of input would: open connections logged, logs closed.
#[cfg(unix)]
#[test]
fn a_termination_signal_flushes_and_closes_the_logs() {
    use std::io::Write as _;
    let dir = scratch("signal");
    let fifo = dir.join("capture.pcap");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let data = std::fs::read(sample()).unwrap();
    let last = *pcap_records(&data).last().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_netpac"))
        .args(["-r", fifo.to_str().unwrap(), "-o", dir.to_str().unwrap(), "--no-progress"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run netpac");
    // Opening blocks until netpac opens the FIFO, after its signal handlers are set.
    let mut w = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    w.write_all(&data[..last]).unwrap();
    w.flush().unwrap();
    // Let it analyse what it has and wait for the last record, then stop it.
    std::thread::sleep(std::time::Duration::from_millis(800));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    w.write_all(&data[last..]).unwrap();
    drop(w);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("stopped by a signal"), "{stderr}");
    let conn = std::fs::read_to_string(dir.join("conn.log")).unwrap();
    assert!(conn.lines().any(|l| l.starts_with("#close")), "{conn}");
    assert!(conn.lines().filter(|l| !l.starts_with('#')).count() >= 1, "{conn}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn analyzer_ports_are_checked_before_reading() {
    let dir = scratch("analyzer-port");
    let out_dir = dir.to_str().unwrap();
    let sample = sample();
    let sample = sample.to_str().unwrap();
    let ok = netpac(&["-r", sample, "-o", out_dir, "--analyzer-port", "IDENT=113", "--analyzer-port", "http=8001/tcp,8002"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    for (spec, says) in [
        ("NOPE=113", "no tcp analyzer `NOPE`"),
        ("IDENT=113/udp", "no udp analyzer `IDENT`"),
        ("IDENT=70000", "bad --analyzer-port"),
        ("IDENT", "bad --analyzer-port"),
    ] {
        let out = netpac(&["-r", sample, "-o", out_dir, "--analyzer-port", spec]);
        assert_eq!(out.status.code(), Some(1), "{spec}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{spec}: {err}");
    }
}

#[test]
fn disabled_analyzers_attach_nowhere() {
    let dir = scratch("disable-analyzer");
    let out_dir = dir.to_str().unwrap();
    let sample = sample();
    let sample = sample.to_str().unwrap();
    // The sample has an HTTP and a DNS connection: with both off, neither log is
    // written and conn.log names no service.
    let out = netpac(&["-r", sample, "-o", out_dir, "--disable-analyzer", "http,DNS"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!dir.join("http.log").exists() && !dir.join("dns.log").exists());
    let conn = std::fs::read_to_string(dir.join("conn.log")).unwrap();
    let services: Vec<&str> = conn
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').nth(7).unwrap_or(""))
        .collect();
    assert_eq!(services.len(), 5);
    assert!(!services.iter().any(|s| s.contains("http") || s.contains("dns")), "{services:?}");
    let out = netpac(&["-r", sample, "-o", out_dir, "--disable-analyzer", "NOPE"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no analyzer `NOPE`"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_interface_is_a_clear_error() {
    let out = netpac(&["-i", "netpac-no-such0", "-o", scratch("no-iface").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot capture on netpac-no-such0"), "{err}");
    // Reading a file and an interface at once is refused before anything runs.
    let both = netpac(&["-i", "lo", "-r", sample().to_str().unwrap()]);
    assert_eq!(both.status.code(), Some(2), "{}", String::from_utf8_lossy(&both.stderr));
}

/// `-w` writes the packets analysed (those the filter passes) as pcap.
#[test]
fn write_keeps_the_packets_the_filter_passes() {
    let dir = scratch("write");
    let copy = dir.join("copy.pcap");
    let out = netpac(&["-r", sample().to_str().unwrap(), "-f", "udp", "-w", copy.to_str().unwrap(), "-o", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let again = dir.join("again");
    let out = netpac(&["-r", copy.to_str().unwrap(), "-o", again.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows = |d: &std::path::Path| -> Vec<String> {
        std::fs::read_to_string(d.join("conn.log"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_string)
            .collect()
    };
    let filtered = rows(&dir);
    assert!(!filtered.is_empty() && filtered.iter().all(|r| r.contains("\tudp\t")), "{filtered:#?}");
    assert_eq!(filtered, rows(&again));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--config`: the file's settings apply, the command line's win, and a
/// typo is an error naming its line.
#[test]
fn a_config_file_sets_what_the_command_line_does_not() {
    let dir = scratch("config");
    let file = dir.join("netpac.toml");
    let out_dir = dir.join("from-file");
    std::fs::write(
        &file,
        format!(
            "[logs]\ndir = {:?}\nformat = \"json\"\ndisable = [\"weird\"]\n[timeouts]\nudp_inactivity_timeout = \"30 secs\"\n",
            out_dir.to_str().unwrap()
        ),
    )
    .unwrap();
    let sample = sample();
    let out = netpac(&["-r", sample.to_str().unwrap(), "--config", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let conn = std::fs::read_to_string(out_dir.join("conn.log")).unwrap();
    assert!(conn.starts_with('{'), "JSON from the file: {conn}");
    assert!(!out_dir.join("weird.log").exists(), "weird.log is disabled by the file");
    // The command line's -o and --json... are taken over the file's.
    let cli_dir = dir.join("from-cli");
    let out = netpac(&["-r", sample.to_str().unwrap(), "--config", file.to_str().unwrap(), "-o", cli_dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(cli_dir.join("conn.log").exists());

    std::fs::write(&file, "[logs]\nformat = \"json\"\nrotat = 60\n").unwrap();
    let out = netpac(&["-r", sample.to_str().unwrap(), "--config", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("netpac.toml") && err.contains("line 3") && err.contains("unknown field `rotat`"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
