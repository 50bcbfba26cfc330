//! The robustness suite at sizes CI can afford: every hostile capture runs
//! through the whole engine with every analyzer and log, ends with closed
//! logs, and is handled the way Zeek handles it (the sizes of the issue are
//! a benchmark: `hostile/run.sh large`).

use netpac_hostile::{generate, Kind};
use netpac_runtime::engine::{Config, Engine};
use netpac_runtime::event::Events;
use netpac_runtime::log::{Format, Logs};
use netpac_runtime::packet::{LinkType, RawPacket};
use std::path::PathBuf;

struct Run {
    dir: PathBuf,
}

impl Run {
    fn new(kind: Kind, count: u64, span: f64) -> Run {
        Run::with(kind, count, span, Config::default())
    }

    fn with(kind: Kind, count: u64, span: f64, config: Config) -> Run {
        let dir = std::env::temp_dir().join(format!(
            "netpac-hostile-{}-{:?}-{count}",
            std::process::id(),
            kind
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let config = Config {
            ignore_checksums: true,
            ..config
        };
        let mut events = Events::with_logs(Logs::new(&dir, Format::Tsv));
        netpac_analyzers::subscribe_logs(&mut events, &config);
        let mut engine = Engine::new(config, netpac_analyzers::registry(), events);
        for (ts, frame) in generate(kind, count, span) {
            engine.packet(&RawPacket {
                ts,
                link: LinkType::Ethernet,
                data: &frame,
                wire_len: frame.len() as u32,
            });
        }
        engine.finish().expect("logs written");
        Run { dir }
    }

    /// The rows of `log` (empty if it was not written), after checking it was closed.
    fn rows(&self, log: &str) -> Vec<Vec<String>> {
        let Ok(text) = std::fs::read_to_string(self.dir.join(format!("{log}.log"))) else {
            return Vec::new();
        };
        assert!(
            text.lines().last().unwrap().starts_with("#close"),
            "{log}.log not closed"
        );
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect()
    }

    fn weirds(&self) -> Vec<String> {
        self.rows("weird")
            .into_iter()
            .map(|r| r[6].clone())
            .collect()
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn syn_flood_is_one_unanswered_attempt_per_source() {
    let run = Run::new(Kind::SynFlood { port: 80 }, 5_000, 1.0);
    let conns = run.rows("conn");
    assert_eq!(conns.len(), 5_000);
    assert!(conns.iter().all(|r| r[11] == "S0" && r[15] == "S"));
}

#[test]
fn at_the_connection_limit_a_syn_flood_evicts_and_still_logs_every_attempt() {
    let config = Config {
        max_connections: 1_000,
        ..Config::default()
    };
    let run = Run::with(Kind::SynFlood { port: 80 }, 5_000, 1.0, config);
    assert_eq!(run.rows("conn").len(), 5_000);
    let evicted = run
        .weirds()
        .iter()
        .filter(|w| *w == "connection_evicted_at_limit")
        .count();
    assert_eq!(evicted, 4_000);
}

#[test]
fn segments_held_above_holes_end_with_their_connection() {
    for reverse in [false, true] {
        let run = Run::new(Kind::ReassemblyHoles { reverse }, 20_000, 1.0);
        let conns = run.rows("conn");
        assert_eq!(conns.len(), 1);
        // One acknowledged byte; the rest was never acknowledged, so nothing missed.
        assert_eq!(conns[0][14], "0", "missed_bytes in {:?}", conns[0]);
    }
}

#[test]
fn a_fragment_flood_leaves_no_connection_behind() {
    let run = Run::new(Kind::FragmentFlood, 20_000, 1.0);
    // No datagram completes, so no UDP connection exists.
    assert!(run.rows("conn").is_empty());
}

#[test]
fn a_compression_chain_is_cut_at_the_pointer_limit() {
    let run = Run::new(Kind::DnsCompressionBomb, 3_000, 1.0);
    assert_eq!(run.rows("conn").len(), 1);
    assert!(!run.weirds().is_empty());
}

#[test]
fn unanswered_pipelined_requests_are_bounded_and_logged() {
    let run = Run::new(Kind::HttpPipelineFlood, 5_000, 1.0);
    assert_eq!(run.rows("conn").len(), 1);
    assert!(run
        .weirds()
        .iter()
        .any(|w| w == "HTTP_too_many_pending_requests"));
    assert_eq!(run.rows("http").len(), 5_000);
}

#[test]
fn the_reassembly_memcap_stops_the_directions_that_would_pass_it() {
    // 100 connections each hold 64 segments of 1400 bytes above a hole, which
    // count 1,464 bytes each (64 per block): 93,696 per connection. 1 MB fits
    // 10 of them; each later one gives up at its 11th segment or earlier.
    let config = Config {
        reassembly_memcap: 1_000_000,
        ..Config::default()
    };
    let run = Run::with(Kind::BufferedHoles, 100, 1.0, config);
    assert_eq!(run.rows("conn").len(), 100);
    let hits = run
        .weirds()
        .iter()
        .filter(|w| *w == "reassembly_memcap_reached")
        .count();
    assert_eq!(hits, 90);
    // Without the limit every connection keeps its data until it ends.
    let run = Run::new(Kind::BufferedHoles, 100, 1.0);
    assert!(!run.weirds().iter().any(|w| w == "reassembly_memcap_reached"));
}

#[test]
fn unanswered_smtp_commands_are_bounded() {
    let run = Run::new(Kind::SmtpPipelineFlood, 5_000, 1.0);
    assert_eq!(run.rows("conn").len(), 1);
    assert!(run.weirds().iter().any(|w| w == "smtp_excessive_pending_cmds"));
    // One transaction, logged at the end.
    assert_eq!(run.rows("smtp").len(), 1);
}

#[test]
fn mime_nested_past_the_limit_is_not_opened() {
    let run = Run::new(Kind::SmtpMimeNesting, 1_000, 1.0);
    assert!(run.weirds().iter().any(|w| w == "exceeded_mime_max_depth"));
    assert_eq!(run.rows("smtp").len(), 1);
}

/// Every tunnel is logged once, the tables that name them stay bounded, and
/// the logs are closed.
#[test]
fn tunnel_flood_logs_each_tunnel_once() {
    let run = Run::new(Kind::TunnelFlood, 5_000, 1.0);
    let tunnels = run.rows("tunnel");
    assert_eq!(tunnels.len(), 5_000);
    assert!(tunnels.iter().all(|r| r[6] == "Tunnel::GRE" && r[7] == "Tunnel::DISCOVER"));
    assert_eq!(run.rows("conn").len(), 5_000);
}
