//! Weirds: named anomalies (Zeek's `weird.log`). Producers report them to a
//! [`WeirdSink`]; the engine turns them into events and log rows.

use crate::zeek::{ConnId, Time};
use std::net::IpAddr;

/// Where a weird was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WeirdScope {
    /// Not tied to a flow (malformed frames, unknown link layers).
    Net,
    /// Tied to a pair of addresses but no connection (e.g. fragments).
    Flow { src: IpAddr, dst: IpAddr },
    /// Tied to a connection.
    Conn { id: ConnId, uid: String },
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

/// A weird is a `weird.log` row.
impl crate::log::LogRecord for Weird {
    fn schema(&self) -> &'static crate::log::Schema {
        &WEIRD_LOG
    }
    fn values(&self) -> Vec<crate::log::Value> {
        use crate::log::Value;
        let (uid, oh, op, rh, rp) = match &self.scope {
            WeirdScope::Conn { id, uid } => (
                Value::str(uid),
                Value::Addr(id.orig_h),
                Value::Port(id.orig_p.number),
                Value::Addr(id.resp_h),
                Value::Port(id.resp_p.number),
            ),
            // Zeek logs a flow weird's addresses with ports 0.
            WeirdScope::Flow { src, dst } => (
                Value::Unset,
                Value::Addr(*src),
                Value::Port(0),
                Value::Addr(*dst),
                Value::Port(0),
            ),
            WeirdScope::Net => (
                Value::Unset,
                Value::Unset,
                Value::Unset,
                Value::Unset,
                Value::Unset,
            ),
        };
        let unset_if_empty = |s: &str| {
            if s.is_empty() {
                Value::Unset
            } else {
                Value::str(s)
            }
        };
        vec![
            Value::Time(self.ts),
            uid,
            oh,
            op,
            rh,
            rp,
            Value::str(self.name),
            unset_if_empty(&self.addl),
            Value::Bool(false),
            Value::str("zeek"),
            unset_if_empty(self.source),
        ]
    }
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
