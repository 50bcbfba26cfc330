//! The configuration file (`netpac --config netpac.toml`): the settings Zeek
//! users change with `redef`s (timeouts, limits, local networks), which
//! analyzers run on which ports, and which logs are written where. Keys take
//! Zeek's names where Zeek has one. Every key is optional; an unknown key is
//! an error with its line and column, so a typo never passes silently.
//!
//! ```toml
//! ignore_checksums = true
//! local_nets = ["10.0.0.0/8", "192.168.0.0/16"]   # Site::local_nets
//! max_connections = 500000
//!
//! [timeouts]                     # Zeek's names; seconds, or "5min", "30 secs", "1 hr"
//! tcp_inactivity_timeout = "10min"
//! udp_inactivity_timeout = 30
//!
//! [limits]                       # grammar limits, Zeek's redefs (`--limit`)
//! "Gnutella::max_line_length" = 100
//!
//! [analyzers]
//! disable = ["FTP", "SMTP"]      # Analyzer::disable_analyzer
//! ports = { IDENT = "113", HTTP = "8001,8002/tcp" }   # Analyzer::register_for_ports
//!
//! [logs]
//! dir = "/var/log/netpac"
//! format = "json"                # "tsv" (default), "json" or "parquet"
//! rotate = "1 hr"                # Log::default_rotation_interval
//! disable = ["weird"]            # Log::disable_stream, by path
//!
//! [kafka]                        # every row as JSON, a topic per log
//! brokers = "localhost:9092"
//! topic_prefix = "zeek-"
//! properties = { "security.protocol" = "SSL", "ssl.ca.location" = "/etc/ssl/ca.pem" }
//!
//! [capture]                      # live capture (-i)
//! snaplen = 9216
//! promiscuous = true
//! buffer_mb = 128
//! ```

use netpac_runtime::engine::{Config, Timeouts};
use netpac_runtime::zeek::Interval;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `-C`.
    pub ignore_checksums: Option<bool>,
    /// Zeek's `Site::local_nets`, as CIDRs.
    pub local_nets: Option<Vec<String>>,
    pub max_connections: Option<usize>,
    pub reassembly_memcap: Option<u64>,
    /// Zeek's `Tunnel::max_depth`.
    pub tunnel_max_depth: Option<u8>,
    /// Zeek's `PacketAnalyzer::max_depth`.
    pub packet_analyzer_max_depth: Option<u8>,
    /// The DPD framework's violations before an analyzer is removed.
    pub max_analyzer_violations: Option<u32>,
    /// Zeek's `tcp_max_initial_window`.
    pub tcp_max_initial_window: Option<u64>,
    /// `--threads`: threads in all (one reads and writes, the rest analyse).
    pub threads: Option<u32>,
    #[serde(default)]
    pub timeouts: TimeoutsFile,
    /// Grammar limits by `grammar.name` or Zeek's `Module::name` (`--limit`).
    #[serde(default)]
    pub limits: BTreeMap<String, u64>,
    #[serde(default)]
    pub analyzers: AnalyzersFile,
    #[serde(default)]
    pub logs: LogsFile,
    #[serde(default)]
    pub capture: CaptureFile,
    #[serde(default)]
    pub kafka: KafkaFile,
}

/// Kafka export: every log row as JSON to a topic per log.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaFile {
    /// `--kafka`: `host:port[,host:port...]`.
    pub brokers: Option<String>,
    /// `--kafka-topic-prefix`.
    pub topic_prefix: Option<String>,
    /// Most the producer buffers when the broker is slow or gone.
    pub buffer_mb: Option<u32>,
    /// How long a row may wait for the broker, and the end of the run for
    /// the rows still buffered.
    pub timeout: Option<Seconds>,
    /// librdkafka properties passed through (`"security.protocol" =
    /// "SASL_SSL"`, `"sasl.username"`, `"ssl.ca.location"`, ...).
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
}

/// Zeek's connection timeouts, by their Zeek names.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeoutsFile {
    pub tcp_syn_timeout: Option<Seconds>,
    pub tcp_session_timer: Option<Seconds>,
    pub tcp_connection_linger: Option<Seconds>,
    pub tcp_attempt_delay: Option<Seconds>,
    pub tcp_close_delay: Option<Seconds>,
    pub tcp_partial_close_delay: Option<Seconds>,
    pub tcp_reset_delay: Option<Seconds>,
    pub tcp_inactivity_timeout: Option<Seconds>,
    pub udp_inactivity_timeout: Option<Seconds>,
    pub icmp_inactivity_timeout: Option<Seconds>,
    pub unknown_ip_inactivity_timeout: Option<Seconds>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyzersFile {
    /// Tags of analyzers that never attach.
    #[serde(default)]
    pub disable: Vec<String>,
    /// More responder ports per analyzer tag: `"PORT[/tcp|/udp][,PORT...]"`,
    /// the syntax of `--analyzer-port` after its `=`.
    #[serde(default)]
    pub ports: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsFile {
    /// `-o`.
    pub dir: Option<PathBuf>,
    pub format: Option<LogFormat>,
    /// `--rotate`.
    pub rotate: Option<Seconds>,
    /// Logs not written, by path (`"dns"` for dns.log).
    #[serde(default)]
    pub disable: Vec<String>,
    /// `--base-columns`.
    pub base_columns: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Tsv,
    Json,
    Parquet,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptureFile {
    pub snaplen: Option<u32>,
    pub promiscuous: Option<bool>,
    pub buffer_mb: Option<u32>,
}

/// A span of time: a number of seconds, or a Zeek interval (`"5min"`,
/// `"30 secs"`, `"1.5 hrs"`, `"100 msec"`, `"2 days"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seconds(pub Interval);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Seconds, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Float(f64),
            Text(String),
        }
        let secs = match Raw::deserialize(d)? {
            Raw::Int(n) => n as f64,
            Raw::Float(f) => f,
            Raw::Text(s) => parse_interval(&s).map_err(serde::de::Error::custom)?,
        };
        if !(0.0..=1e9).contains(&secs) {
            return Err(serde::de::Error::custom(format!(
                "{secs} seconds is not a usable time span (0 to 10^9 seconds)"
            )));
        }
        Ok(Seconds(Interval((secs * 1e9).round() as i64)))
    }
}

/// Seconds in a Zeek interval literal: a number and a unit (usec, msec,
/// sec, min, hr, day; plural or not; space optional).
pub fn parse_interval(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = (&t[..split], t[split..].trim());
    let bad = || {
        format!(
            "bad time span {text:?}: expected a number and one of usec, msec, sec, min, hr, day"
        )
    };
    let n: f64 = number.parse().map_err(|_| bad())?;
    let scale = match unit.strip_suffix('s').unwrap_or(unit) {
        "usec" => 1e-6,
        "msec" => 1e-3,
        "sec" | "" => 1.0,
        "min" => 60.0,
        "hr" => 3600.0,
        "day" => 86400.0,
        _ => return Err(bad()),
    };
    Ok(n * scale)
}

impl ConfigFile {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<ConfigFile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        ConfigFile::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<ConfigFile, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())
    }

    /// Sets what the file sets in `config` (the engine's settings); the
    /// command line, applied after, takes precedence.
    pub fn apply(&self, config: &mut Config) -> Result<(), String> {
        if let Some(v) = self.ignore_checksums {
            config.ignore_checksums = v;
        }
        if let Some(nets) = &self.local_nets {
            config.local_nets = nets
                .iter()
                .map(|s| parse_cidr(s))
                .collect::<Result<_, _>>()?;
        }
        if let Some(v) = self.max_connections {
            config.max_connections = v;
        }
        if let Some(v) = self.reassembly_memcap {
            config.reassembly_memcap = v;
        }
        if let Some(v) = self.tunnel_max_depth {
            config.tunnel_max_depth = v;
        }
        if let Some(v) = self.packet_analyzer_max_depth {
            config.packet_analyzer_max_depth = v;
        }
        if let Some(v) = self.max_analyzer_violations {
            config.max_analyzer_violations = v;
        }
        if let Some(v) = self.tcp_max_initial_window {
            config.tcp_max_initial_window = v;
        }
        self.timeouts.apply(&mut config.timeouts);
        Ok(())
    }
}

impl TimeoutsFile {
    fn apply(&self, t: &mut Timeouts) {
        let pairs = [
            (self.tcp_syn_timeout, &mut t.tcp_syn_timeout),
            (self.tcp_session_timer, &mut t.tcp_session_timer),
            (self.tcp_connection_linger, &mut t.tcp_connection_linger),
            (self.tcp_attempt_delay, &mut t.tcp_attempt_delay),
            (self.tcp_close_delay, &mut t.tcp_close_delay),
            (self.tcp_partial_close_delay, &mut t.tcp_partial_close_delay),
            (self.tcp_reset_delay, &mut t.tcp_reset_delay),
            (self.tcp_inactivity_timeout, &mut t.tcp_inactivity_timeout),
            (self.udp_inactivity_timeout, &mut t.udp_inactivity_timeout),
            (self.icmp_inactivity_timeout, &mut t.icmp_inactivity_timeout),
            (
                self.unknown_ip_inactivity_timeout,
                &mut t.unknown_ip_inactivity_timeout,
            ),
        ];
        for (value, slot) in pairs {
            if let Some(Seconds(v)) = value {
                *slot = v;
            }
        }
    }
}

/// A network in CIDR notation (`10.0.0.0/8`; a bare address is a /32 or /128).
pub fn parse_cidr(s: &str) -> Result<(std::net::IpAddr, u8), String> {
    let (addr, len) = s.split_once('/').unwrap_or((s, ""));
    let addr: std::net::IpAddr = addr
        .trim()
        .parse()
        .map_err(|_| format!("bad network {s:?}"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = if len.is_empty() {
        max
    } else {
        len.parse()
            .map_err(|_| format!("bad prefix length in {s:?}"))?
    };
    if len > max {
        return Err(format!("prefix length too long in {s:?}"));
    }
    Ok((addr, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sample the README points to stays a valid file, with Zeek's defaults.
    #[test]
    fn the_shipped_sample_parses_and_keeps_zeeks_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/netpac.toml");
        let file = ConfigFile::load(&path).unwrap();
        let mut config = Config::default();
        file.apply(&mut config).unwrap();
        let default = Config::default();
        assert_eq!(
            format!("{:?}", config.timeouts),
            format!("{:?}", default.timeouts)
        );
        assert_eq!(config.max_connections, default.max_connections);
        assert_eq!(file.analyzers.ports["IDENT"], "113");
        assert_eq!(file.threads, Some(1));
    }

    #[test]
    fn zeek_interval_literals() {
        for (text, secs) in [
            ("5min", 300.0),
            ("30 secs", 30.0),
            ("1.5 hrs", 5400.0),
            ("100 msec", 0.1),
            ("2 days", 172_800.0),
            ("7", 7.0),
        ] {
            assert_eq!(parse_interval(text), Ok(secs), "{text}");
        }
        for bad in ["", "min", "5 fortnights", "-3 sec", "1e3 sec"] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_file_sets_the_engine_and_leaves_the_rest_default() {
        let file = ConfigFile::parse(
            r#"
            ignore_checksums = true
            local_nets = ["10.0.0.0/8", "2001:db8::/32"]
            max_connections = 1000
            [timeouts]
            tcp_inactivity_timeout = "10min"
            udp_inactivity_timeout = 30
            [analyzers]
            disable = ["FTP"]
            ports = { IDENT = "113" }
            [logs]
            format = "json"
            rotate = "1 hr"
            disable = ["weird"]
            "#,
        )
        .unwrap();
        let mut config = Config::default();
        file.apply(&mut config).unwrap();
        assert!(config.ignore_checksums);
        assert_eq!(config.max_connections, 1000);
        assert_eq!(config.local_nets.len(), 2);
        assert_eq!(
            config.timeouts.tcp_inactivity_timeout,
            Interval::from_secs(600)
        );
        assert_eq!(
            config.timeouts.udp_inactivity_timeout,
            Interval::from_secs(30)
        );
        assert_eq!(
            config.timeouts.icmp_inactivity_timeout,
            Interval::from_secs(60)
        );
        assert_eq!(file.analyzers.disable, ["FTP"]);
        assert_eq!(file.analyzers.ports["IDENT"], "113");
        assert_eq!(file.logs.format, Some(LogFormat::Json));
        assert_eq!(file.logs.rotate, Some(Seconds(Interval::from_secs(3600))));
        assert_eq!(file.logs.disable, ["weird"]);
    }

    #[test]
    fn mistakes_name_their_line_and_column() {
        let typo = ConfigFile::parse("max_conections = 5\n").unwrap_err();
        assert!(
            typo.contains("line 1, column 1") && typo.contains("unknown field `max_conections`"),
            "{typo}"
        );
        let bad_span = ConfigFile::parse("[timeouts]\ntcp_inactivity_timeout = \"5 fortnights\"\n")
            .unwrap_err();
        assert!(
            bad_span.contains("line 2") && bad_span.contains("bad time span"),
            "{bad_span}"
        );
        let bad_net = ConfigFile::parse("local_nets = [\"10.0.0.0/33\"]\n")
            .unwrap()
            .apply(&mut Config::default())
            .unwrap_err();
        assert!(bad_net.contains("prefix length too long"), "{bad_net}");
        let wrong_type = ConfigFile::parse("[logs]\nformat = \"xml\"\n").unwrap_err();
        assert!(wrong_type.contains("line 2"), "{wrong_type}");
    }
}
