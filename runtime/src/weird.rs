//! Weirds: named anomalies (Zeek's `weird.log`). Producers report them to a
//! [`WeirdSink`]; the engine raises them as `conn_weird`, `flow_weird` and
//! `net_weird`, and [`WeirdLog`] writes `weird.log` from those events.

use crate::conn::events::{ConnWeird, ConnectionStateRemove, FlowWeird, NetWeird};
use crate::event::{EventHandlers, EventSink};
use crate::log::{Logs, Value};
use crate::record::Connection;
use crate::zeek::{ConnId, Time};
use rustc_hash::FxHashMap;
use std::net::IpAddr;

/// Where a weird was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WeirdScope {
    /// Not tied to a flow (malformed frames, unknown link layers).
    Net,
    /// Tied to a pair of addresses but no connection (e.g. fragments).
    Flow { src: IpAddr, dst: IpAddr },
    /// Tied to a connection.
    Conn { id: ConnId, uid: std::sync::Arc<str> },
}

/// One weird, as `weird.log` records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weird {
    pub ts: Time,
    pub name: &'static str,
    pub addl: String,
    pub scope: WeirdScope,
    /// Which component saw it (`weird.log`'s `source`), e.g. "TCP", "DNS".
    pub source: &'static str,
}

/// A place weirds are reported to.
pub trait WeirdSink {
    fn weird(&mut self, w: Weird);
}

impl WeirdSink for Vec<Weird> {
    fn weird(&mut self, w: Weird) {
        self.push(w);
    }
}

/// The `weird.log` writer, as a consumer of `conn_weird`, `flow_weird` and
/// `net_weird`. Zeek's `base/frameworks/notice/weird.zeek` logs a weird once
/// per connection (connection weirds), per address pair (flow weirds) or at
/// all (network weirds); so does this.
#[derive(Default)]
pub struct WeirdLog {
    /// Names already logged per connection uid, forgotten at removal.
    per_conn: FxHashMap<std::sync::Arc<str>, Vec<&'static str>>,
    per_flow: FxHashMap<(IpAddr, IpAddr, String), ()>,
    per_net: FxHashMap<String, ()>,
}

/// Address pairs remembered for flow-weird deduplication before the table
/// starts over (a flood of flow weirds must not grow it without bound).
const MAX_FLOW_KEYS: usize = 100_000;

impl WeirdLog {
    pub fn sink() -> Box<dyn EventSink> {
        Box::new(
            EventHandlers::new(WeirdLog::default())
                .on::<ConnWeird>(WeirdLog::conn)
                .on::<FlowWeird>(WeirdLog::flow)
                .on::<NetWeird>(WeirdLog::net)
                .on::<ConnectionStateRemove>(WeirdLog::remove),
        )
    }

    fn conn(&mut self, ts: Time, e: &ConnWeird, logs: &mut Logs) {
        let seen = self.per_conn.entry(e.c.uid.clone()).or_default();
        if seen.contains(&e.name) {
            return;
        }
        seen.push(e.name);
        logs.write(
            &WEIRD_LOG,
            &conn_weird_row(ts, &e.c, &e.name, e.addl.as_bytes(), e.source),
        );
    }

    fn flow(&mut self, ts: Time, e: &FlowWeird, logs: &mut Logs) {
        if self.per_flow.len() >= MAX_FLOW_KEYS {
            self.per_flow.clear();
        }
        if self
            .per_flow
            .insert((e.src, e.dst, e.name.clone()), ())
            .is_some()
        {
            return;
        }
        // Zeek logs a flow weird's addresses with ports 0.
        let where_ = [
            Value::Unset,
            Value::Addr(e.src),
            Value::Port(0),
            Value::Addr(e.dst),
            Value::Port(0),
        ];
        logs.write(
            &WEIRD_LOG,
            &row(ts, where_, &e.name, e.addl.as_bytes(), e.source),
        );
    }

    fn net(&mut self, ts: Time, e: &NetWeird, logs: &mut Logs) {
        if self.per_net.insert(e.name.clone(), ()).is_some() {
            return;
        }
        let where_ = [
            Value::Unset,
            Value::Unset,
            Value::Unset,
            Value::Unset,
            Value::Unset,
        ];
        logs.write(
            &WEIRD_LOG,
            &row(ts, where_, &e.name, e.addl.as_bytes(), e.source),
        );
    }

    fn remove(&mut self, _ts: Time, e: &ConnectionStateRemove, _logs: &mut Logs) {
        self.per_conn.remove(&e.c.uid);
    }
}

/// The `weird.log` row of a connection weird, for a log writer that reports
/// one itself, as Zeek's scripts call `Reporter::conn_weird`.
pub fn conn_weird_row(
    ts: Time,
    c: &Connection,
    name: &str,
    addl: &[u8],
    source: &str,
) -> Vec<Value> {
    let id = &c.id;
    let where_ = [
        Value::str(c.uid.as_bytes()),
        Value::Addr(id.orig_h),
        Value::Port(id.orig_p.number),
        Value::Addr(id.resp_h),
        Value::Port(id.resp_p.number),
    ];
    row(ts, where_, name, addl, source)
}

/// One `weird.log` row; `where_` is uid and the four `id` columns.
fn row(ts: Time, where_: [Value; 5], name: &str, addl: &[u8], source: &str) -> Vec<Value> {
    let unset_if_empty = |s: &[u8]| {
        if s.is_empty() {
            Value::Unset
        } else {
            Value::str(s)
        }
    };
    let mut row = Vec::with_capacity(WEIRD_LOG.columns.len());
    row.push(Value::Time(ts));
    row.extend(where_);
    row.extend([
        Value::str(name),
        unset_if_empty(addl),
        Value::Bool(false),
        Value::str("zeek"),
        unset_if_empty(source.as_bytes()),
    ]);
    row
}

/// `weird.log` columns.
pub static WEIRD_LOG: crate::log::Schema = crate::log::Schema {
    path: "weird",
    columns: &[
        ("ts", "time"),
        ("uid", "string"),
        ("id.orig_h", "addr"),
        ("id.orig_p", "port"),
        ("id.resp_h", "addr"),
        ("id.resp_p", "port"),
        ("name", "string"),
        ("addl", "string"),
        ("notice", "bool"),
        ("peer", "string"),
        ("source", "string"),
    ],
};
