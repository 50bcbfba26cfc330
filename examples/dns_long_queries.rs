//! A log of one's own: DNS queries long enough to carry data out (DNS
//! tunnelling writes its payload into query names). Every query whose name
//! is longer than [`MAX_NAME`] characters, or has a label longer than
//! [`MAX_LABEL`], becomes a row of `dns_long_queries.log`, beside Zeek's logs.
//!
//! ```sh
//! cargo run --release --example dns_long_queries -- trace.pcap out/
//! ```

use netpac::analyzers::dns::DnsRequest;
use netpac::{Analysis, EventHandlers, Format, Logs, Schema, Time, Value};

/// Longest query name that is not reported (tunnels use most of the 253).
pub const MAX_NAME: usize = 100;
/// Longest label that is not reported (hostnames rarely come near 63).
pub const MAX_LABEL: usize = 40;

pub static LONG_QUERIES_LOG: Schema = Schema {
    path: "dns_long_queries",
    stream: "DNSLongQueries::LOG",
    columns: &[
        ("ts", "time"),
        ("uid", "string"),
        ("id.orig_h", "addr"),
        ("id.orig_p", "port"),
        ("id.resp_h", "addr"),
        ("id.resp_p", "port"),
        ("query", "string"),
        ("qtype", "count"),
        ("length", "count"),
        ("longest_label", "count"),
    ],
};

/// The log's writer as an event subscriber (it keeps no state).
pub fn detector() -> EventHandlers<()> {
    EventHandlers::new(()).on::<DnsRequest>(request)
}

fn request(_: &mut (), ts: Time, e: &DnsRequest, logs: &mut Logs) {
    let query = e.query.as_bytes();
    let longest_label = query
        .split(|&b| b == b'.')
        .map(<[u8]>::len)
        .max()
        .unwrap_or(0);
    if query.len() <= MAX_NAME && longest_label <= MAX_LABEL {
        return;
    }
    let [ts, uid, orig_h, orig_p, resp_h, resp_p] = Value::conn_columns(ts, &e.c);
    logs.write(
        &LONG_QUERIES_LOG,
        &[
            ts,
            uid,
            orig_h,
            orig_p,
            resp_h,
            resp_p,
            Value::str(query),
            Value::Count(e.qtype),
            Value::Count(query.len() as u64),
            Value::Count(longest_label as u64),
        ],
    );
}

#[allow(dead_code)] // tests include this file for `detector`
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(trace), Some(out)) = (args.get(1), args.get(2)) else {
        return Err("usage: dns_long_queries TRACE.pcap OUT-DIR".into());
    };
    let mut analysis = Analysis::builder()
        .logs(out, Format::Tsv)
        .subscribe(detector())
        .build()?;
    analysis.read_file(trace.as_ref())?;
    analysis.finish()?;
    println!("long queries, if any, are in {out}/dns_long_queries.log");
    Ok(())
}
