//! netpac as a library: run the engine on packets from any source and
//! subscribe to typed events, the role Zeek scripts play.
//!
//! An [`Analysis`] is the engine with every analyzer netpac has and,
//! optionally, Zeek's logs; what you subscribe receives the typed events of
//! the specification (one Rust type per event, e.g.
//! [`analyzers::ftp::FtpReply`] for `ftp_reply`) and may write logs of its
//! own through the [`Logs`] each handler is given.
//!
//! ```no_run
//! use netpac::{Analysis, EventHandlers, Format, Logs, Time};
//! use netpac::analyzers::dns::DnsRequest;
//!
//! // Count DNS queries per originator.
//! #[derive(Default)]
//! struct Queries(std::collections::HashMap<std::net::IpAddr, u64>);
//!
//! fn on_request(q: &mut Queries, _ts: Time, e: &DnsRequest, _logs: &mut Logs) {
//!     *q.0.entry(e.c.id.orig_h).or_default() += 1;
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut analysis = Analysis::builder()
//!     .logs("out", Format::Tsv) // conn.log, dns.log, ... as Zeek writes them
//!     .subscribe(EventHandlers::new(Queries::default()).on::<DnsRequest>(on_request))
//!     .build()?;
//! analysis.read_file("trace.pcap".as_ref())?;
//! let summary = analysis.finish()?;
//! println!("{} packets", summary.packets);
//! # Ok(()) }
//! ```
//!
//! Packets from elsewhere (a ring buffer, a socket, a test) go in through
//! [`Analysis::packet`] as [`RawPacket`]s; [`Source`] reads files and
//! interfaces. `examples/` has a detector that writes Zeek notices and one
//! with a log of its own.
#![forbid(unsafe_code)]

pub mod config_file;
pub mod kafka;
mod sharded;
mod source;
pub mod stats;

pub use netpac_analyzers as analyzers;
pub use netpac_runtime as runtime;
pub use netpac_runtime::capture::{CaptureError, LiveOptions};
pub use netpac_runtime::engine::{Config, Summary};
pub use netpac_runtime::event::{Event, EventHandlers, EventSink, TypedEvent};
pub use netpac_runtime::log::{Format, Logs, RowSink, Schema, Value};
pub use netpac_runtime::packet::RawPacket;
pub use netpac_runtime::zeek::{Interval, Proto, Time};
pub use source::{Next, Source};

use netpac_runtime::analyzer::Registry;
use netpac_runtime::engine::Engine;
use netpac_runtime::event::Events;
use std::path::PathBuf;

/// A running analysis: feed it packets, then [`finish`](Analysis::finish) it.
pub struct Analysis {
    engine: Run,
}

/// One engine, or several behind a merge ([`Builder::threads`]).
enum Run {
    Single(Box<Engine>),
    Sharded(Box<sharded::Sharded>),
}

/// How an [`Analysis`] is set up; [`Analysis::builder`] starts one.
pub struct Builder {
    config: Config,
    registry: Registry,
    logs: Option<(PathBuf, Format)>,
    zeek_logs: bool,
    rotate: Option<Interval>,
    disabled_logs: Vec<String>,
    mirror: Option<Box<dyn RowSink>>,
    sinks: Vec<Box<dyn EventSink>>,
    threads: usize,
    /// Ports given with [`Builder::analyzer_port`]: likely server ports too.
    server_ports: Vec<(Proto, u16)>,
}

impl Analysis {
    /// Every analyzer, Zeek's defaults, no logs written until
    /// [`Builder::logs`] says where.
    pub fn builder() -> Builder {
        Builder {
            config: Config::default(),
            registry: netpac_analyzers::registry(),
            logs: None,
            zeek_logs: true,
            rotate: None,
            disabled_logs: Vec::new(),
            mirror: None,
            server_ports: Vec::new(),
            sinks: Vec::new(),
            threads: 1,
        }
    }

    /// Analyses one captured frame. Frames should come in capture order;
    /// bad input is reported (weirds, violations), never a panic.
    pub fn packet(&mut self, raw: &RawPacket<'_>) {
        match &mut self.engine {
            Run::Single(engine) => engine.packet(raw),
            Run::Sharded(run) => run.packet(raw),
        }
    }

    /// Moves network time on without a packet (a quiet live link): timers
    /// fire, idle connections are logged.
    pub fn advance_time(&mut self, now: Time) {
        match &mut self.engine {
            Run::Single(engine) => engine.advance_time(now),
            Run::Sharded(run) => run.advance_time(now),
        }
    }

    /// Analyses every packet of a pcap or pcapng file (plain or gzip).
    pub fn read_file(&mut self, path: &std::path::Path) -> Result<(), CaptureError> {
        let mut source = Source::file(path)?;
        while let Next::Packet(raw) = source.next_packet()? {
            self.packet(&raw);
        }
        Ok(())
    }

    /// The engine's counters (what `stats.log` reports); with several
    /// threads, as the workers last reported them.
    pub fn stats(&self) -> netpac_runtime::engine::EngineStats {
        match &self.engine {
            Run::Single(engine) => engine.stats(),
            Run::Sharded(run) => run.stats(),
        }
    }

    /// The run's logs, to write rows of one's own outside an event handler.
    pub fn logs_mut(&mut self) -> &mut Logs {
        match &mut self.engine {
            Run::Single(engine) => engine.logs_mut(),
            Run::Sharded(run) => run.logs_mut(),
        }
    }

    /// Connections tracked now (with several threads, as last reported).
    pub fn active_connections(&self) -> usize {
        match &self.engine {
            Run::Single(engine) => engine.active_connections(),
            Run::Sharded(run) => run.stats().active.iter().sum::<u64>() as usize,
        }
    }

    /// Ends the analysis: open connections are logged, every subscriber's
    /// `finish` runs and the logs are closed. An error is output that could
    /// not be written.
    pub fn finish(self) -> std::io::Result<Summary> {
        match self.engine {
            Run::Single(engine) => engine.finish(),
            Run::Sharded(run) => run.finish(),
        }
    }
}

impl Builder {
    /// Timeouts, limits, local networks and the other settings Zeek keeps
    /// in `redef`s.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Writes logs into `dir` (created if missing): Zeek's logs, unless
    /// [`without_zeek_logs`](Builder::without_zeek_logs), and those of the
    /// subscribers.
    pub fn logs(mut self, dir: impl Into<PathBuf>, format: Format) -> Self {
        self.logs = Some((dir.into(), format));
        self
    }

    /// Only the subscribers' own logs: none of Zeek's.
    pub fn without_zeek_logs(mut self) -> Self {
        self.zeek_logs = false;
        self
    }

    /// Rotates every log each `interval` of network time (Zeek's
    /// `Log::default_rotation_interval` and file names).
    pub fn rotate_logs(mut self, interval: Interval) -> Self {
        self.rotate = Some(interval);
        self
    }

    /// Sends every log row also to `sink` as JSON (e.g. [`kafka::KafkaSink`]);
    /// without [`logs`](Builder::logs), rows go there only.
    pub fn mirror_logs(mut self, sink: Box<dyn RowSink>) -> Self {
        self.mirror = Some(sink);
        self
    }

    /// Writes nothing to the log `path` (`"dns"` for dns.log), as Zeek's
    /// `Log::disable_stream` does.
    pub fn disable_log(mut self, path: &str) -> Self {
        self.disabled_logs.push(path.to_string());
        self
    }

    /// Receives the events `sink` wants, after Zeek's log writers.
    pub fn subscribe(mut self, sink: impl EventSink + 'static) -> Self {
        self.sinks.push(Box::new(sink));
        self
    }

    /// Like [`subscribe`](Builder::subscribe), for a sink already boxed.
    pub fn subscribe_boxed(mut self, sink: Box<dyn EventSink>) -> Self {
        self.sinks.push(sink);
        self
    }

    /// Turns an analyzer off, as Zeek's `Analyzer::disable_analyzer` does
    /// (`"FTP"`); an unknown tag is an error.
    pub fn disable_analyzer(mut self, tag: &str) -> Result<Self, String> {
        self.registry.disable(tag)?;
        Ok(self)
    }

    /// Changes a grammar's limit, as a Zeek script's `redef` does
    /// (`"gnutella.max_line_length"` or `"Gnutella::max_line_length"`; booleans 0 or
    /// 1); an unknown grammar or limit is an error. Limits are process-wide: they
    /// hold for every analysis made afterwards in this process.
    pub fn limit(self, key: &str, value: u64) -> Result<Self, String> {
        self.registry.set_limit(key, value)?;
        Ok(self)
    }

    /// Attaches an analyzer to one more responder port, as Zeek's
    /// `Analyzer::register_for_ports` does; the port becomes a likely server
    /// port as well (a connection seen first from it is flipped), as there.
    pub fn analyzer_port(mut self, tag: &str, proto: Proto, port: u16) -> Result<Self, String> {
        self.registry.register_port(tag, proto, port)?;
        self.server_ports.push((proto, port));
        Ok(self)
    }

    /// Analyses on `threads` threads in all (1, the default: on the
    /// caller's). With more, the caller's thread hands the packets out and
    /// writes the logs, and `threads - 1` workers analyse the flows, sharded
    /// by address pair; the logs are row for row those of one thread.
    /// Subscribers still run on the caller's thread, seeing every event in
    /// order.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The analysis; an error if the log directory cannot be created.
    pub fn build(mut self) -> std::io::Result<Analysis> {
        for (proto, port) in std::mem::take(&mut self.server_ports) {
            let likely = match proto {
                Proto::Udp => &mut self.config.likely_server_udp,
                _ => &mut self.config.likely_server_tcp,
            };
            if !likely.contains(&port) {
                likely.push(port);
            }
        }
        let mut logs = match &self.logs {
            Some((dir, format)) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    std::io::Error::new(e.kind(), format!("cannot create {}: {e}", dir.display()))
                })?;
                Logs::new(dir.clone(), *format)
            }
            None => Logs::disabled(),
        };
        if let Some(interval) = self.rotate {
            logs.rotate_every(interval);
        }
        for path in &self.disabled_logs {
            logs.disable_stream(path);
        }
        if let Some(mirror) = self.mirror {
            logs.mirror_to(mirror);
        }
        if self.threads > 1 {
            let setup = sharded::WorkerSetup {
                config: self.config,
                registry: self.registry,
                zeek_logs: self.zeek_logs,
            };
            let run = sharded::Sharded::start(self.threads - 1, setup, logs, self.sinks);
            return Ok(Analysis {
                engine: Run::Sharded(Box::new(run)),
            });
        }
        let mut events = Events::with_logs(logs);
        if self.zeek_logs {
            netpac_analyzers::subscribe_logs(&mut events, &self.config);
        }
        for sink in self.sinks {
            events.subscribe(sink);
        }
        Ok(Analysis {
            engine: Run::Single(Box::new(Engine::new(self.config, self.registry, events))),
        })
    }
}
