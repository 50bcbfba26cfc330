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
