//! `radius.log`, as Zeek's base/protocols/radius/main.zeek writes it: one row
//! per connection's authentication, written when an Access-Accept or -Reject
//! gives the result, or at the connection's end with result `unknown`.

use crate::radius::RadiusMessage;
use netpac_runtime::conn::events::ConnectionStateRemove;
use netpac_runtime::event::{EventHandlers, EventSink};
use netpac_runtime::log::{Logs, Schema, Value};
use netpac_runtime::record::Connection;
use netpac_runtime::zeek::{Interval, Time, ZString};
use rustc_hash::FxHashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

/// Zeek's `RADIUS::Info` columns.
pub static RADIUS_LOG: Schema = Schema {
    path: "radius",
    stream: "RADIUS::LOG",
    columns: &[
        ("ts", "time"),
        ("uid", "string"),
        ("id.orig_h", "addr"),
        ("id.orig_p", "port"),
        ("id.resp_h", "addr"),
        ("id.resp_p", "port"),
        ("username", "string"),
        ("mac", "string"),
        ("framed_addr", "addr"),
        ("tunnel_client", "string"),
        ("connect_info", "string"),
        ("reply_msg", "string"),
        ("result", "string"),
        ("ttl", "interval"),
    ],
};

/// `c$radius` of one connection.
#[derive(Debug, Clone)]
struct Info {
    ts: Time,
    c: Connection,
    username: Option<Vec<u8>>,
    mac: Option<Vec<u8>>,
    framed_addr: Option<IpAddr>,
    tunnel_client: Option<Vec<u8>>,
    connect_info: Option<Vec<u8>>,
    reply_msg: Option<Vec<u8>>,
}

/// Zeek's `normalize_mac`: the hex digits of `a`, lower case, as six or eight
/// colon-separated octets; "" for any other count of digits.
pub fn normalize_mac(a: &[u8]) -> Vec<u8> {
    let hex: Vec<u8> = a
        .iter()
        .filter(|b| b.is_ascii_hexdigit())
        .map(|b| b.to_ascii_lowercase())
        .collect();
    if hex.len() != 12 && hex.len() != 16 {
        return Vec::new();
    }
    hex.chunks(2).collect::<Vec<_>>().join(&b':')
}

/// Zeek's `raw_bytes_to_v4_addr`: the first four bytes as an address, 0.0.0.0
/// when there are fewer.
fn raw_bytes_to_v4_addr(b: &[u8]) -> IpAddr {
    match b.get(..4) {
        Some(x) => IpAddr::V4(Ipv4Addr::new(x[0], x[1], x[2], x[3])),
        None => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    }
}

/// Writes `radius.log` from `radius_message`.
#[derive(Default)]
pub struct RadiusLogger {
    open: FxHashMap<Arc<str>, Info>,
}

impl RadiusLogger {
    /// The `radius.log` writer as an event consumer.
    pub fn sink() -> Box<dyn EventSink> {
        Box::new(
            EventHandlers::new(RadiusLogger::default())
                .on::<RadiusMessage>(RadiusLogger::message)
                .on::<ConnectionStateRemove>(RadiusLogger::remove),
        )
    }

    fn message(&mut self, ts: Time, e: &RadiusMessage, logs: &mut Logs) {
        let info = self.open.entry(e.c.uid.clone()).or_insert_with(|| Info {
            ts,
            c: e.c.clone(),
            username: None,
            mac: None,
            framed_addr: None,
            tunnel_client: None,
            connect_info: None,
            reply_msg: None,
        });
        let first = |code: u64| -> Option<&ZString> {
            e.result
                .attributes
                .as_ref()
                .and_then(|a| a.get(&code))
                .and_then(|v| v.first())
        };
        let mut result = None;
        match e.result.code {
            1 => {
                if info.username.is_none() {
                    info.username = first(1).map(|v| v.as_bytes().to_vec());
                }
                if info.mac.is_none() {
                    info.mac = first(31).map(|v| normalize_mac(v.as_bytes()));
                }
                if info.tunnel_client.is_none() {
                    info.tunnel_client = first(66).map(|v| v.as_bytes().to_vec());
                }
                if info.connect_info.is_none() {
                    info.connect_info = first(77).map(|v| v.as_bytes().to_vec());
                }
            }
            11 => {
                if info.framed_addr.is_none() {
                    info.framed_addr = first(8).map(|v| raw_bytes_to_v4_addr(v.as_bytes()));
                }
                if info.reply_msg.is_none() {
                    info.reply_msg = first(18).map(|v| v.as_bytes().to_vec());
                }
            }
            2 => result = Some("success"),
            3 => result = Some("failed"),
            _ => {}
        }
        if let Some(r) = result {
            if let Some(info) = self.open.remove(&e.c.uid) {
                let ttl = Interval(ts.0 - info.ts.0);
                write(logs, &info, r, (ttl.0 != 0).then_some(ttl));
            }
        }
    }

    /// `finalize_radius`: a connection that ends without a result.
    fn remove(&mut self, _ts: Time, e: &ConnectionStateRemove, logs: &mut Logs) {
        if self.open.is_empty() {
            return;
        }
        if let Some(info) = self.open.remove(&e.c.uid) {
            write(logs, &info, "unknown", None);
        }
    }
}

fn write(logs: &mut Logs, info: &Info, result: &str, ttl: Option<Interval>) {
    let id = &info.c.id;
    let s = |v: &Option<Vec<u8>>| Value::opt(v.as_ref(), Value::str);
    logs.write(
        &RADIUS_LOG,
        &[
            Value::Time(info.ts),
            Value::str(info.c.uid.as_bytes()),
            Value::Addr(id.orig_h),
            Value::Port(id.orig_p.number),
            Value::Addr(id.resp_h),
            Value::Port(id.resp_p.number),
            s(&info.username),
            s(&info.mac),
            Value::opt(info.framed_addr, Value::Addr),
            s(&info.tunnel_client),
            s(&info.connect_info),
            s(&info.reply_msg),
            Value::str(result),
            Value::opt(ttl, Value::Interval),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_as_zeek_normalizes_them() {
        assert_eq!(normalize_mac(b"00-0B-82-01-FC-42"), b"00:0b:82:01:fc:42");
        assert_eq!(
            normalize_mac(b"000b8201fc42aabb"),
            b"00:0b:82:01:fc:42:aa:bb"
        );
        assert_eq!(normalize_mac(b"00:0b"), b"");
    }
}
