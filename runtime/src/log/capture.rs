//! Rows held back instead of written: what a worker of a sharded run
//! produces, each with the key of its place in a single-threaded run's
//! output, for the merge that writes them in that order.
//!
//! A single-threaded run writes rows as it goes: for each packet, first
//! what the timers due by then write (in timer order), then what the packet
//! itself causes; at the end, what each connection still open writes as it
//! is drained (by start time), then what the sinks write as they finish.
//! [`RowKey`] names those places independently of which worker wrote the
//! row, so merging the workers' rows by key gives the single-threaded order.

use super::{Schema, Value};
use crate::event::Event;
use crate::weird::WeirdAt;
use crate::zeek::Time;

/// Where a row falls in a single-threaded run's output (compared field by
/// field; `n` counts rows within one place).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct RowKey {
    /// Capture index of the packet (`u64::MAX`: after the last).
    pub index: u64,
    /// 0: a timer due by this packet; 1: the packet itself; 2: a
    /// connection drained at the end; 3: the sinks' end of run.
    pub phase: u8,
    /// A timer's due time, or a drained connection's start.
    pub at: i64,
    /// The connection's creation order (a timer's, a drained one's).
    pub conn: u64,
    /// A timer's place among its connection's.
    pub seq: u16,
    /// The row's place among those of the same place.
    pub n: u32,
}

impl RowKey {
    /// What a timer due at `at` writes when the packet at `index` fires it.
    pub fn timer(index: u64, at: Time, conn: u64, seq: u16) -> RowKey {
        RowKey {
            index,
            phase: 0,
            at: at.0,
            conn,
            seq,
            n: 0,
        }
    }

    /// What the packet at `index` writes.
    pub fn packet(index: u64) -> RowKey {
        RowKey {
            index,
            phase: 1,
            ..RowKey::default()
        }
    }

    /// What a connection drained at the end of the run writes.
    pub fn drain(start: Time, conn: u64) -> RowKey {
        RowKey {
            index: u64::MAX,
            phase: 2,
            at: start.0,
            conn,
            seq: 0,
            n: 0,
        }
    }

    /// What the sinks write when the run ends.
    pub const FINISH: RowKey = RowKey {
        index: u64::MAX,
        phase: 3,
        at: 0,
        conn: 0,
        seq: 0,
        n: 0,
    };
}

/// One thing a worker's sinks did that the merge replays.
pub enum Captured {
    /// A row for `schema`'s log.
    Row {
        schema: &'static Schema,
        row: Vec<Value>,
    },
    /// A weird for `weird.log`, which Zeek's weird framework admits or not
    /// (its memory spans connections, so the merge decides, in order).
    Weird {
        ts: Time,
        at: WeirdAt,
        uid: Option<String>,
        name: String,
        addl: Vec<u8>,
        source: String,
    },
    /// An event for the global sink `sink` (one whose state spans
    /// connections: the merge runs it).
    Event {
        sink: u16,
        ts: Time,
        event: Box<dyn Event + Send>,
    },
}

/// A captured item with its key and the network time it was made at (the
/// merge moves its logs' clock there first: rotation, Zeek's limits' weirds).
pub struct Keyed {
    pub key: RowKey,
    /// Network time, and the time the timers had run to (rotation).
    pub now: Time,
    pub upto: Time,
    pub item: Captured,
}

impl std::fmt::Debug for Keyed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match &self.item {
            Captured::Row { schema, .. } => schema.path.to_string(),
            Captured::Weird { name, .. } => format!("weird {name}"),
            Captured::Event { event, .. } => format!("event {:?}", event.id()),
        };
        write!(f, "{:?} {what}", self.key)
    }
}
