//! The `netpac` command: read a capture, analyse it, write Zeek logs.

use clap::{CommandFactory, FromArgMatches, Parser};
use netpac::config_file::{parse_cidr, ConfigFile, LogFormat};
use netpac::kafka::{KafkaOptions, KafkaSink};
use netpac::stats::{self, StatsLog};
use netpac::{Analysis, Builder, CaptureError, Config, Format, Interval, LiveOptions, Next, Proto, Source, Time};
use netpac_runtime::capture::CaptureWriter;
use netpac_runtime::conn::ConnColumns;
use netpac_runtime::event::JsonLinesSink;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use signal_hook::consts::{SIGINT, SIGTERM};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

// glibc's allocator spends a tenth of a run in malloc and free (the records
// built per event, log rows), and more when rows made on a worker thread are
// freed on the writing one; mimalloc's thread-local heaps cost less for both.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Zeek-compatible protocol analysis of packet captures.
#[derive(Parser, Debug)]
#[command(name = "netpac", version, about)]
struct Args {
    /// Capture file to read (pcap or pcapng, optionally gzip-compressed).
    #[arg(short = 'r', value_name = "FILE", required_unless_present_any = ["list_events", "interface"], conflicts_with = "interface")]
    read: Option<PathBuf>,
    /// Network interface to capture from until SIGINT or SIGTERM (needs the
    /// right to capture: root, or CAP_NET_RAW on Linux).
    #[arg(short = 'i', value_name = "IFACE")]
    interface: Option<String>,
    /// Live capture: most bytes kept of each frame (Zeek's snaplen).
    #[arg(short = 's', long = "snaplen", value_name = "BYTES", default_value_t = LiveOptions::default().snaplen, requires = "interface")]
    snaplen: u32,
    /// Live capture: do not put the interface into promiscuous mode.
    #[arg(short = 'p', long = "no-promisc", requires = "interface")]
    no_promisc: bool,
    /// Live capture: size of the kernel's capture buffer in MiB (Zeek's Pcap::bufsize).
    #[arg(long = "buffer-mb", value_name = "MIB", default_value_t = LiveOptions::default().buffer_bytes >> 20, value_parser = clap::value_parser!(u32).range(1..4096), requires = "interface")]
    buffer_mb: u32,
    /// Also write every analysed packet (after -f) to FILE, as pcap.
    #[arg(short = 'w', value_name = "FILE")]
    write: Option<PathBuf>,
    /// Ignore checksums (analyse packets whose checksums are wrong).
    #[arg(short = 'C')]
    ignore_checksums: bool,
    /// BPF filter applied to every packet before anything else.
    #[arg(short = 'f', value_name = "FILTER")]
    filter: Option<String>,
    /// Directory the logs are written to.
    #[arg(short = 'o', value_name = "DIR", default_value = ".")]
    out_dir: PathBuf,
    /// Write logs as JSON lines instead of Zeek's tab-separated format.
    #[arg(long, conflicts_with = "parquet")]
    json: bool,
    /// Write logs as Parquet files (<log>.parquet) with typed columns.
    #[arg(long)]
    parquet: bool,
    /// Write every raised event as a JSON line to FILE (`-` for stdout).
    #[arg(long, value_name = "FILE|-")]
    events: Option<String>,
    /// Print the names of all events netpac can raise and exit.
    #[arg(long)]
    list_events: bool,
    /// Networks counted as local for conn.log's local_orig/local_resp
    /// (comma-separated CIDRs; default: private address space, as Zeek).
    #[arg(long, value_name = "CIDR,...", value_delimiter = ',')]
    local_nets: Option<Vec<String>>,
    /// Write only Zeek's base conn.log columns, without the columns of
    /// Zeek's conn policy scripts (vlan, inner_vlan, orig_l2_addr,
    /// resp_l2_addr, speculative_service, community_id).
    #[arg(long)]
    base_columns: bool,
    /// Never draw a progress bar.
    #[arg(long)]
    no_progress: bool,
    /// Threads in all: one reads and writes the logs, N-1 analyse the flows
    /// (sharded by address pair), with logs row for row those of one thread
    /// (flows that cross tunnels differently excepted). Default 1.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    threads: Option<u32>,
    /// Most connections kept at once; at the limit the oldest idle one is
    /// evicted (logged, with the weird connection_evicted_at_limit). 0: no limit.
    #[arg(long, value_name = "N", default_value_t = Config::default().max_connections)]
    max_connections: usize,
    /// Most memory all TCP reassembly may hold out of order (its bytes and 64
    /// per buffered segment); a direction
    /// that would pass it stops being reassembled (weird
    /// reassembly_memcap_reached). 0: no limit.
    #[arg(long, value_name = "BYTES", default_value_t = Config::default().reassembly_memcap)]
    reassembly_memcap: u64,
    /// Rotate every log each SECONDS of network time, at multiples of it since
    /// midnight UTC: the file is closed and renamed <path>.<open time>.log
    /// (Zeek's Log::default_rotation_interval and file names); the files open
    /// at the end keep their plain names.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u32).range(1..))]
    rotate: Option<u32>,
    /// Attach an analyzer to more responder ports, as Zeek's
    /// Analyzer::register_for_ports does: TAG=PORT[/tcp|/udp][,PORT...], e.g.
    /// IDENT=113 (Zeek registers no port for Ident) or HTTP=8888. Repeatable.
    #[arg(long = "analyzer-port", value_name = "TAG=PORTS")]
    analyzer_ports: Vec<String>,
    /// Change a grammar's limit, as a Zeek script's redef does: GRAMMAR.NAME=VALUE
    /// (or Zeek's Module::name), e.g. gnutella.max_line_length=100; booleans 0 or 1.
    /// Repeatable.
    #[arg(long = "limit", value_name = "NAME=VALUE")]
    limits: Vec<String>,
    /// Turn analyzers off, as Zeek's Analyzer::disable_analyzer does: no port,
    /// signature or expected connection attaches them (TAG[,TAG...], e.g. FTP,SMTP).
    /// Repeatable.
    #[arg(long = "disable-analyzer", value_name = "TAGS", value_delimiter = ',')]
    disable_analyzers: Vec<String>,
    /// Also send every log row as JSON to these Kafka brokers
    /// (host:port[,host:port...]), a topic per log.
    #[arg(long = "kafka", value_name = "BROKERS")]
    kafka: Option<String>,
    /// Kafka topics are PREFIX followed by the log's path (conn, dns, ...).
    #[arg(long = "kafka-topic-prefix", value_name = "PREFIX", requires = "kafka")]
    kafka_topic_prefix: Option<String>,
    /// A librdkafka property for the Kafka producer (TLS, SASL, client.id...),
    /// after the configuration file's. Repeatable.
    #[arg(long = "kafka-property", value_name = "KEY=VALUE", requires = "kafka")]
    kafka_properties: Vec<String>,
    /// Settings from a TOML file (timeouts, limits, local nets, analyzers,
    /// logs; see the README); options given here take precedence, and lists
    /// (--disable-analyzer, --analyzer-port) add to the file's.
    #[arg(long = "config", value_name = "FILE")]
    config: Option<PathBuf>,
    /// The configuration file's contents (empty without --config).
    #[arg(skip)]
    file: ConfigFile,
    /// Log rotation, from --rotate or the configuration file.
    #[arg(skip)]
    rotate_every: Option<Interval>,
}

impl Args {
    /// Reads --config and fills in what the command line did not give.
    fn merge_config_file(&mut self, matches: &clap::ArgMatches) -> Result<(), String> {
        self.rotate_every = self.rotate.map(|secs| Interval::from_secs(i64::from(secs)));
        let Some(path) = &self.config else {
            return Ok(());
        };
        let file = ConfigFile::load(path)?;
        let given = |id: &str| matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
        if !given("ignore_checksums") {
            self.ignore_checksums = file.ignore_checksums.unwrap_or(false);
        }
        if self.local_nets.is_none() {
            self.local_nets = file.local_nets.clone();
        }
        if !given("max_connections") {
            self.max_connections = file.max_connections.unwrap_or(self.max_connections);
        }
        if !given("threads") {
            self.threads = self.threads.or(file.threads);
        }
        if !given("reassembly_memcap") {
            self.reassembly_memcap = file.reassembly_memcap.unwrap_or(self.reassembly_memcap);
        }
        if !given("out_dir") {
            if let Some(dir) = &file.logs.dir {
                self.out_dir = dir.clone();
            }
        }
        if !given("json") && !given("parquet") {
            self.json = file.logs.format == Some(LogFormat::Json);
            self.parquet = file.logs.format == Some(LogFormat::Parquet);
        }
        if !given("base_columns") {
            self.base_columns = file.logs.base_columns.unwrap_or(false);
        }
        if self.rotate_every.is_none() {
            self.rotate_every = file.logs.rotate.map(|s| s.0);
        }
        if !given("snaplen") {
            self.snaplen = file.capture.snaplen.unwrap_or(self.snaplen);
        }
        if !given("no_promisc") {
            self.no_promisc = file.capture.promiscuous == Some(false);
        }
        if !given("buffer_mb") {
            self.buffer_mb = file.capture.buffer_mb.unwrap_or(self.buffer_mb);
        }
        let mut limits: Vec<String> = file.limits.iter().map(|(k, v)| format!("{k}={v}")).collect();
        limits.append(&mut self.limits);
        self.limits = limits;
        let mut disable = file.analyzers.disable.clone();
        disable.append(&mut self.disable_analyzers);
        self.disable_analyzers = disable;
        let mut ports: Vec<String> = file.analyzers.ports.iter().map(|(tag, ports)| format!("{tag}={ports}")).collect();
        ports.append(&mut self.analyzer_ports);
        self.analyzer_ports = ports;
        if self.kafka.is_none() {
            self.kafka = file.kafka.brokers.clone();
        }
        if self.kafka_topic_prefix.is_none() {
            self.kafka_topic_prefix = file.kafka.topic_prefix.clone();
        }
        self.file = file;
        Ok(())
    }
}

fn main() -> ExitCode {
    let matches = Args::command().get_matches();
    let mut args = Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if let Err(msg) = args.merge_config_file(&matches) {
        eprintln!("netpac: error: {msg}");
        return ExitCode::FAILURE;
    }
    if args.list_events {
        let mut out = std::io::stdout().lock();
        for name in netpac_analyzers::event_names() {
            let _ = writeln!(out, "{name}");
        }
        return ExitCode::SUCCESS;
    }
    match run(&args) {
        Ok(outcome) => outcome,
        Err(msg) => {
            eprintln!("netpac: error: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// `--analyzer-port TAG=PORT[/proto][,PORT...]` (TCP unless `/udp`).
fn register_ports(mut builder: Builder, spec: &str) -> Result<Builder, String> {
    let bad = || format!("bad --analyzer-port {spec:?}: expected TAG=PORT[/tcp|/udp][,PORT...]");
    let (tag, ports) = spec.split_once('=').ok_or_else(bad)?;
    for port in ports.split(',') {
        let (number, proto) = match port.trim().split_once('/') {
            None => (port.trim(), Proto::Tcp),
            Some((n, "tcp")) => (n, Proto::Tcp),
            Some((n, "udp")) => (n, Proto::Udp),
            Some(_) => return Err(bad()),
        };
        let number: u16 = number.parse().map_err(|_| bad())?;
        builder = builder
            .analyzer_port(tag.trim(), proto, number)
            .map_err(|e| format!("--analyzer-port {spec:?}: {e}"))?;
    }
    Ok(builder)
}

fn run(args: &Args) -> Result<ExitCode, String> {
    // SIGINT/SIGTERM stop reading; the engine is then finished as at the end of
    // the input, so every open connection is logged and every log closed (as
    // Zeek does at shutdown). A second signal is left to its default action.
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        signal_hook::flag::register_conditional_default(signal, Arc::clone(&stop))
            .and_then(|_| signal_hook::flag::register(signal, Arc::clone(&stop)))
            .map_err(|e| format!("cannot handle signal {signal}: {e}"))?;
    }

    let mut source = match (&args.read, &args.interface) {
        (Some(path), _) => Source::file(path),
        (None, Some(interface)) => Source::live(
            interface,
            &LiveOptions {
                snaplen: args.snaplen,
                promiscuous: !args.no_promisc,
                filter: args.filter.clone(),
                buffer_bytes: args.buffer_mb << 20,
            },
        ),
        (None, None) => unreachable!("clap requires -r or -i"),
    }
    .map_err(|e| e.to_string())?;
    if let Some(interface) = &args.interface {
        // Tests and scripts wait for this line before sending traffic.
        eprintln!(
            "netpac: listening on {interface}, link type {:?}, snapshot length {} bytes",
            source.link_type(),
            args.snaplen
        );
    }
    let filter = source.user_space_filter(args.filter.as_deref()).map_err(|e| e.to_string())?;
    let mut dump = match &args.write {
        Some(path) => Some(CaptureWriter::create(path, source.link_type()).map_err(|e| e.to_string())?),
        None => None,
    };

    // The file's engine settings first; those the command line has were
    // merged into `args` and are set after.
    let mut config = Config::default();
    args.file.apply(&mut config).map_err(|e| format!("{}: {e}", args.config.as_ref().map_or(String::new(), |p| p.display().to_string())))?;
    config.ignore_checksums = args.ignore_checksums;
    config.max_connections = args.max_connections;
    config.reassembly_memcap = args.reassembly_memcap;
    if !args.base_columns {
        config.conn_columns = ConnColumns { vlan: true, l2_addrs: true, speculative_service: true, community_id: true };
    }
    if let Some(nets) = &args.local_nets {
        config.local_nets = nets.iter().map(|s| parse_cidr(s).map_err(|e| format!("--local-nets: {e}"))).collect::<Result<_, _>>()?;
    }

    let format = match (args.json, args.parquet) {
        (true, _) => Format::Json,
        (_, true) => Format::Parquet,
        _ => Format::Tsv,
    };
    let mut builder = Analysis::builder().logs(&args.out_dir, format);
    if let Some(interval) = args.rotate_every {
        builder = builder.rotate_logs(interval);
    }
    for path in &args.file.logs.disable {
        builder = builder.disable_log(path);
    }
    match args.events.as_deref() {
        None => {}
        Some("-") => builder = builder.subscribe(JsonLinesSink::new(std::io::BufWriter::new(std::io::stdout()))),
        Some(file) => {
            let f = std::fs::File::create(file).map_err(|e| format!("cannot create {file}: {e}"))?;
            builder = builder.subscribe(JsonLinesSink::new(std::io::BufWriter::new(f)));
        }
    }
    for tag in &args.disable_analyzers {
        builder = builder.disable_analyzer(tag).map_err(|e| format!("--disable-analyzer: {e}"))?;
    }
    for spec in &args.analyzer_ports {
        builder = register_ports(builder, spec)?;
    }
    for spec in &args.limits {
        let bad = || format!("bad --limit {spec:?}: expected GRAMMAR.NAME=VALUE, e.g. gnutella.max_line_length=100");
        let (key, value) = spec.split_once('=').ok_or_else(bad)?;
        let value: u64 = value.trim().parse().map_err(|_| bad())?;
        builder = builder.limit(key.trim(), value).map_err(|e| format!("--limit: {e}"))?;
    }
    if let Some(brokers) = &args.kafka {
        let defaults = KafkaOptions::default();
        let options = KafkaOptions {
            topic_prefix: args.kafka_topic_prefix.clone().unwrap_or_default(),
            buffer_mb: args.file.kafka.buffer_mb.unwrap_or(defaults.buffer_mb),
            timeout: args.file.kafka.timeout.map_or(defaults.timeout, |s| std::time::Duration::from_nanos(s.0 .0.max(0) as u64)),
            properties: args
                .file
                .kafka
                .properties
                .iter()
                .map(|(k, v)| Ok((k.clone(), v.clone())))
                .chain(args.kafka_properties.iter().map(|p| {
                    p.split_once('=')
                        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                        .ok_or_else(|| format!("bad --kafka-property {p:?}: expected KEY=VALUE"))
                }))
                .collect::<Result<_, String>>()?,
        };
        builder = builder.mirror_logs(Box::new(KafkaSink::connect(brokers, options)?));
    }
    // One thread unless asked: a reading thread beside one worker is 7%
    // faster on ordinary traffic but slower, and twice the memory, on floods
    // (every row crosses threads), and more workers wait for each other.
    let threads = args.threads.map_or(1, |n| n as usize);
    let mut engine = builder.config(config).threads(threads).build().map_err(|e| e.to_string())?;

    let progress = source.progress().filter(|_| !args.no_progress && std::io::stderr().is_terminal()).map(|(_, len)| {
        let bar = indicatif::ProgressBar::new(len);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });

    let started = Instant::now();
    let mut read_error: Option<CaptureError> = None;
    let mut seen: u64 = 0;
    let mut stopped = false;
    // After a stop request a live capture is read on while packets are
    // waiting in the kernel's buffer (for at most this long): what the
    // interface already captured is analysed, not dropped.
    let mut draining_until: Option<Instant> = None;
    // Live captures write stats.log (with libpcap's drop counts), as a
    // zeekctl-run Zeek does.
    let mut stats_log = source
        .is_live()
        .then(|| StatsLog::new(stats::REPORT_INTERVAL, Time::from_wall_clock()));
    let mut network_time = Time::ZERO;
    loop {
        if !stopped && stop.load(Ordering::Relaxed) {
            stopped = true;
            if !source.is_live() {
                break;
            }
            draining_until = Some(Instant::now() + std::time::Duration::from_secs(1));
        }
        if draining_until.is_some_and(|t| Instant::now() >= t) {
            break;
        }
        match source.next_packet() {
            Ok(Next::Packet(raw)) => {
                seen += 1;
                network_time = network_time.max(raw.ts);
                if filter.as_ref().is_none_or(|f| f.matches(raw.data, raw.wire_len)) {
                    if let Some(w) = &mut dump {
                        if let Err(e) = w.write_truncated(raw.ts, raw.data, raw.wire_len) {
                            eprintln!("netpac: {e}; no more packets are written there");
                            dump = None;
                        }
                    }
                    engine.packet(&raw);
                }
                if seen.is_multiple_of(4096) {
                    if let (Some(bar), Some((done, _))) = (&progress, source.progress()) {
                        bar.set_position(done);
                    }
                }
            }
            // A quiet link: network time follows the wall clock, as in Zeek.
            Ok(Next::Idle) if draining_until.is_some() => break,
            Ok(Next::Idle) => {
                network_time = network_time.max(Time::from_wall_clock());
                engine.advance_time(network_time);
            }
            Ok(Next::End) => break,
            Err(e) => {
                // Keep what was analysed so far: finish the engine, then report.
                read_error = Some(e);
                break;
            }
        }
        if let Some(stats_log) = &mut stats_log {
            stats_log.tick(network_time, &mut engine, || source.live_stats().and_then(Result::ok));
        }
    }
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let live_stats = source.live_stats();
    if let Some(stats_log) = &mut stats_log {
        let counts = live_stats.as_ref().and_then(|r| r.as_ref().ok()).copied();
        stats_log.finish(network_time, &mut engine, counts);
    }
    if let Some(w) = dump {
        if let Err(e) = w.finish() {
            eprintln!("netpac: {e}");
        }
    }
    let summary = engine.finish().map_err(|e| format!("writing logs to {}: {e}", args.out_dir.display()))?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "netpac: {} packets, {:.1} MB, {} connections in {:.2} s ({:.1} MB/s, {:.0} packets/s)",
        summary.packets,
        summary.bytes as f64 / 1e6,
        summary.connections,
        secs,
        summary.bytes as f64 / 1e6 / secs.max(1e-9),
        summary.packets as f64 / secs.max(1e-9),
    );
    match live_stats {
        Some(Ok(stats)) => eprintln!(
            "netpac: {}: {} packets received by the filter, {} dropped by the kernel, {} dropped by the interface",
            args.interface.as_deref().unwrap_or_default(),
            stats.received,
            stats.dropped,
            stats.interface_dropped
        ),
        Some(Err(e)) => eprintln!("netpac: no packet counts: {e}"),
        None => {}
    }
    if summary.reassembly_memcap_hits > 0 {
        eprintln!(
            "netpac: reassembly stopped in {} directions at the reassembly memory limit",
            summary.reassembly_memcap_hits
        );
    }
    if summary.evicted > 0 {
        eprintln!("netpac: {} connections evicted at --max-connections {}", summary.evicted, args.max_connections);
    }
    match read_error {
        Some(e) => {
            eprintln!("netpac: error: {e} (the packets before it were analysed)");
            Ok(ExitCode::from(2))
        }
        // A signal is how a live capture ends: a clean stop.
        None if stopped && args.interface.is_some() => Ok(ExitCode::SUCCESS),
        None if stopped => {
            eprintln!("netpac: stopped by a signal after {seen} packets; logs are complete up to there");
            Ok(ExitCode::from(130))
        }
        None => Ok(ExitCode::SUCCESS),
    }
}
