//! `stats.log`, as Zeek's `policy/misc/stats` writes it (the script a
//! zeekctl-run Zeek loads): a row `report_interval` (5 minutes) of network
//! time after the start, one each interval after the last, and one at the
//! end, each with what happened since the row before. (Reading a file,
//! Zeek's network time starts at 0, so its first row comes with the first
//! packet; [`StatsLog::new`] with [`Time::ZERO`] does the same.) netpac writes it
//! for live captures, where its packet drop counts (libpcap's) are what an
//! operator watches.
//!
//! Columns netpac has no counterpart for stay unset: `pkts_filtered`
//! (libpcap does not report it), `files`, `active_files`,
//! `reassem_file_size` and `reassem_unknown_size`. `dns_requests` and
//! `active_dns_requests` count Zeek's own name lookups, which netpac never
//! makes: 0.

use crate::{Analysis, Interval, Schema, Time, Value};
use netpac_runtime::capture::LiveStats;
use netpac_runtime::engine::EngineStats;

/// Zeek's `Stats::Info` columns.
pub static STATS_LOG: Schema = Schema {
    path: "stats",
    stream: "Stats::LOG",
    columns: &[
        ("ts", "time"),
        ("peer", "string"),
        ("mem", "count"),
        ("pkts_proc", "count"),
        ("bytes_recv", "count"),
        ("pkts_dropped", "count"),
        ("pkts_link", "count"),
        ("pkt_lag", "interval"),
        ("pkts_filtered", "count"),
        ("events_proc", "count"),
        ("events_queued", "count"),
        ("active_tcp_conns", "count"),
        ("active_udp_conns", "count"),
        ("active_icmp_conns", "count"),
        ("tcp_conns", "count"),
        ("udp_conns", "count"),
        ("icmp_conns", "count"),
        ("timers", "count"),
        ("active_timers", "count"),
        ("files", "count"),
        ("active_files", "count"),
        ("dns_requests", "count"),
        ("active_dns_requests", "count"),
        ("reassem_tcp_size", "count"),
        ("reassem_file_size", "count"),
        ("reassem_frag_size", "count"),
        ("reassem_unknown_size", "count"),
    ],
};

/// Zeek's `Stats::report_interval`.
pub const REPORT_INTERVAL: Interval = Interval::from_secs(300);

/// When the next row is due and the counts of the last one.
pub struct StatsLog {
    interval: Interval,
    /// When the next row is due (at or after).
    next: Option<Time>,
    last: EngineStats,
    last_live: LiveStats,
}

impl StatsLog {
    /// Rows every `interval`, the first one interval after `start`.
    pub fn new(interval: Interval, start: Time) -> StatsLog {
        StatsLog {
            interval,
            next: Some(start.add(interval)),
            last: EngineStats::default(),
            last_live: LiveStats::default(),
        }
    }

    /// After each packet (and while a live link is quiet): writes a row if
    /// one is due at network time `now`. `live` is asked only then.
    pub fn tick(
        &mut self,
        now: Time,
        analysis: &mut Analysis,
        live: impl FnOnce() -> Option<LiveStats>,
    ) {
        if now == Time::ZERO || self.next.is_some_and(|due| now < due) {
            return;
        }
        self.write(now, analysis, live());
        self.next = Some(now.add(self.interval));
    }

    /// The last row, at the end of the run (Zeek writes it while terminating).
    pub fn finish(&mut self, now: Time, analysis: &mut Analysis, live: Option<LiveStats>) {
        // A live capture stopped before anything moved time on: its clock.
        let now = if now == Time::ZERO {
            Time::from_wall_clock()
        } else {
            now
        };
        self.write(now, analysis, live);
    }

    fn write(&mut self, now: Time, analysis: &mut Analysis, live: Option<LiveStats>) {
        let s = analysis.stats();
        let last = std::mem::replace(&mut self.last, s);
        let delta = |a: u64, b: u64| Value::Count(a.saturating_sub(b));
        let count = Value::Count;
        let (dropped, link, lag) = match live {
            Some(l) => {
                let last_live = std::mem::replace(&mut self.last_live, l);
                (
                    delta(l.dropped, last_live.dropped),
                    delta(l.received, last_live.received),
                    Value::Interval(Time::from_wall_clock().since(now)),
                )
            }
            None => (Value::Unset, Value::Unset, Value::Unset),
        };
        let row = [
            Value::Time(now),
            Value::str("netpac"),
            resident_mib().map_or(Value::Unset, count),
            delta(s.packets, last.packets),
            delta(s.bytes, last.bytes),
            dropped,
            link,
            lag,
            Value::Unset,
            delta(s.events_dispatched, last.events_dispatched),
            delta(s.events_dispatched, last.events_dispatched),
            count(s.active[0]),
            count(s.active[1]),
            count(s.active[2]),
            delta(s.total[0], last.total[0]),
            delta(s.total[1], last.total[1]),
            delta(s.total[2], last.total[2]),
            delta(s.timers_scheduled, last.timers_scheduled),
            count(s.timers_queued),
            Value::Unset,
            Value::Unset,
            count(0),
            count(0),
            count(s.reassembly_bytes),
            Value::Unset,
            count(s.fragment_bytes),
            Value::Unset,
        ];
        analysis.logs_mut().write(&STATS_LOG, &row);
    }
}

/// The process's resident memory in MiB (Zeek's `mem`), where the system
/// tells it (Linux's /proc).
fn resident_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024)
}
