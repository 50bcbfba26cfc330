//! A detector that raises Zeek notices: FTP brute forcing, as Zeek's
//! `policy/protocols/ftp/detect-bruteforcing.zeek` finds it. A host whose
//! USER or PASS commands get 20 rejections (5xx replies) within a
//! 15-minute measurement interval is reported once per interval in
//! `notice.log`, with Zeek's columns and message.
//!
//! ```sh
//! cargo run --release --example ftp_brute_force -- trace.pcap out/
//! ```

use netpac::analyzers::ftp::{FtpReply, FtpRequest};
use netpac::runtime::conn::events::ConnectionStateRemove;
use netpac::{Analysis, EventHandlers, Format, Interval, Logs, Schema, Time, Value};
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

/// Zeek's `FTP::bruteforce_threshold`.
pub const THRESHOLD: u64 = 20;
/// Zeek's `FTP::bruteforce_measurement_interval`.
pub const INTERVAL: Interval = Interval::from_secs(15 * 60);

/// Zeek's `Notice::Info` columns (`notice.log`).
pub static NOTICE_LOG: Schema = Schema {
    path: "notice",
    stream: "Notice::LOG",
    columns: &[
        ("ts", "time"),
        ("uid", "string"),
        ("id.orig_h", "addr"),
        ("id.orig_p", "port"),
        ("id.resp_h", "addr"),
        ("id.resp_p", "port"),
        ("fuid", "string"),
        ("file_mime_type", "string"),
        ("file_desc", "string"),
        ("proto", "enum"),
        ("note", "enum"),
        ("msg", "string"),
        ("sub", "string"),
        ("src", "addr"),
        ("dst", "addr"),
        ("p", "port"),
        ("n", "count"),
        ("peer_descr", "string"),
        ("actions", "set[enum]"),
        ("email_dest", "set[string]"),
        ("suppress_for", "interval"),
        ("remote_location.country_code", "string"),
        ("remote_location.region", "string"),
        ("remote_location.city", "string"),
        ("remote_location.latitude", "double"),
        ("remote_location.longitude", "double"),
    ],
};

/// Failed logins of one host in the current interval.
#[derive(Default)]
struct Failures {
    first: Option<Time>,
    last: Time,
    count: u64,
    servers: BTreeSet<IpAddr>,
    reported: bool,
}

#[derive(Default)]
pub struct BruteForce {
    /// The last command of each FTP session (what a reply answers).
    last_command: HashMap<Arc<str>, Vec<u8>>,
    interval_start: Option<Time>,
    by_host: HashMap<IpAddr, Failures>,
}

/// The detector as an event subscriber.
pub fn detector() -> EventHandlers<BruteForce> {
    EventHandlers::new(BruteForce::default())
        .on::<FtpRequest>(|s, _ts, e, _logs| {
            s.last_command
                .insert(e.c.uid.clone(), e.command.as_bytes().to_ascii_uppercase());
        })
        .on::<FtpReply>(BruteForce::reply)
        .on::<ConnectionStateRemove>(|s, _ts, e, _logs| {
            s.last_command.remove(&e.c.uid);
        })
}

impl BruteForce {
    fn reply(&mut self, ts: Time, e: &FtpReply, logs: &mut Logs) {
        let answers_login = matches!(
            self.last_command.get(&e.c.uid).map(Vec::as_slice),
            Some(b"USER" | b"PASS")
        );
        if !answers_login || e.code / 100 != 5 {
            return;
        }
        // SumStats' epochs: every host starts again when the interval ends.
        let start = *self.interval_start.get_or_insert(ts);
        if ts.since(start) >= INTERVAL {
            self.interval_start = Some(ts);
            self.by_host.clear();
        }
        let f = self.by_host.entry(e.c.id.orig_h).or_default();
        f.first.get_or_insert(ts);
        f.last = ts;
        f.count += 1;
        f.servers.insert(e.c.id.resp_h);
        if f.count >= THRESHOLD && !f.reported {
            f.reported = true;
            let host = e.c.id.orig_h;
            let message = format!(
                "{host} had {} failed logins on {} FTP server{} in {}",
                f.count,
                f.servers.len(),
                if f.servers.len() > 1 { "s" } else { "" },
                mins_secs(f.last.since(f.first.unwrap_or(ts)))
            );
            notice(logs, ts, "FTP::Bruteforcing", &message, host);
        }
    }
}

/// Zeek's `duration_to_mins_secs`: "3m7s".
fn mins_secs(d: Interval) -> String {
    let secs = d.as_secs_f64() as u64;
    format!("{}m{}s", secs / 60, secs % 60)
}

/// One notice about a host, as Zeek's `NOTICE` logs it (no connection, the
/// default action and suppression of an hour).
fn notice(logs: &mut Logs, ts: Time, note: &'static str, msg: &str, src: IpAddr) {
    let mut row = vec![Value::Unset; NOTICE_LOG.columns.len()];
    row[0] = Value::Time(ts);
    row[10] = Value::Enum(note);
    row[11] = Value::str(msg);
    row[13] = Value::Addr(src);
    row[18] = Value::Set(vec![Value::Enum("Notice::ACTION_LOG")]);
    row[19] = Value::Set(Vec::new());
    row[20] = Value::Interval(Interval::from_secs(3600));
    logs.write(&NOTICE_LOG, &row);
}

#[allow(dead_code)] // tests include this file for `detector`
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(trace), Some(out)) = (args.get(1), args.get(2)) else {
        return Err("usage: ftp_brute_force TRACE.pcap OUT-DIR".into());
    };
    let mut analysis = Analysis::builder()
        .logs(out, Format::Tsv)
        .subscribe(detector())
        .build()?;
    analysis.read_file(trace.as_ref())?;
    analysis.finish()?;
    println!("notices, if any, are in {out}/notice.log");
    Ok(())
}
