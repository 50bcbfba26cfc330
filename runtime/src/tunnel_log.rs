//! `tunnel.log`: Zeek's tunnel framework (`base/frameworks/tunnels`).
//!
//! A tunnel is logged when a connection first comes through it
//! (`Tunnel::DISCOVER`, from `new_connection` and `tunnel_changed`), again
//! when the connection that carries it closes (`Tunnel::CLOSE`: UDP tunnels;
//! IP tunnels have none) or when no new connection used it for
//! [`EXPIRATION_INTERVAL`] (`Tunnel::EXPIRE`). Protocol logs register the
//! proxies they see (SOCKS, HTTP CONNECT) through the shared [`Tunnels`]
//! handle, as Zeek's scripts call `Tunnel::register`.

use crate::conn::events::{ConnectionStateRemove, NewConnection, TunnelChanged};
use crate::event::{EventHandlers, EventSink};
use crate::log::{LogRecord, Logs, Schema, Value};
use crate::record::EncapsulatingConn;
use crate::zeek::{ConnId, Interval, Time};
use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

/// Zeek's `Tunnel::expiration_interval`.
pub const EXPIRATION_INTERVAL: Interval = Interval(3600 * 1_000_000_000);

/// How often expiration is checked (Zeek's `table_expire_interval`), so
/// that tunnels expiring one after the other cost one scan per interval.
const EXPIRE_CHECK_INTERVAL: Interval = Interval(10 * 1_000_000_000);

/// Tunnels tracked at once (Zeek's table is unbounded): past this, the
/// least recently used tenth is expired early, so a flood of tunnels (every
/// SOCKS destination is one) can neither grow memory without end nor make
/// each registration scan the table.
const MAX_ACTIVE: usize = 100_000;

static SCHEMA: Schema = Schema {
    path: "tunnel",
    stream: "Tunnel::LOG",
    columns: &[
        ("ts", "time"),
        ("uid", "string"),
        ("id.orig_h", "addr"),
        ("id.orig_p", "port"),
        ("id.resp_h", "addr"),
        ("id.resp_p", "port"),
        ("tunnel_type", "enum"),
        ("action", "enum"),
    ],
};

/// The active tunnels (Zeek's `Tunnel::active`), shared by the log writer
/// and the protocol logs that register proxies. Cloning shares it.
#[derive(Clone, Default)]
pub struct Tunnels(Rc<RefCell<Active>>);

#[derive(Default)]
struct Active {
    by_id: FxHashMap<ConnId, Entry>,
    /// No entry expires before this (a lower bound, so that most
    /// registrations skip the scan).
    next_expiry: Option<Time>,
}

struct Entry {
    uid: Option<Arc<str>>,
    tunnel_type: &'static str,
    /// Last registration (Zeek's `&read_expire` access time).
    last_use: Time,
    /// The uid of the connection whose end closes the tunnel (Zeek's
    /// removal hook, registered when the tunnel's connection exists).
    closes_with: Option<Arc<str>>,
}

struct Row<'a> {
    ts: Time,
    id: &'a ConnId,
    entry: &'a Entry,
    action: &'static str,
}

impl LogRecord for Row<'_> {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }
    fn values(&self) -> Vec<Value> {
        vec![
            Value::Time(self.ts),
            Value::opt(self.entry.uid.as_ref(), |u| Value::str(u.as_bytes())),
            Value::Addr(self.id.orig_h),
            Value::Port(self.id.orig_p.number),
            Value::Addr(self.id.resp_h),
            Value::Port(self.id.resp_p.number),
            Value::Enum(self.entry.tunnel_type),
            Value::Enum(self.action),
        ]
    }
}

impl Tunnels {
    pub fn new() -> Tunnels {
        Tunnels::default()
    }

    /// The `tunnel.log` writer: registers the tunnels of new connections and
    /// of changed encapsulations, and closes a tunnel with its connection.
    pub fn sink(&self) -> Box<dyn EventSink> {
        Box::new(
            EventHandlers::new(self.clone())
                .on::<NewConnection>(|t, ts, e, logs| {
                    for tunnel in e.c.tunnel.iter().flat_map(|chain| chain.iter()) {
                        t.register(ts, tunnel, logs);
                    }
                })
                .on::<TunnelChanged>(|t, ts, e, logs| {
                    for tunnel in &e.e {
                        t.register(ts, tunnel, logs);
                    }
                })
                .on::<ConnectionStateRemove>(|t, ts, e, logs| {
                    t.connection_removed(ts, &e.c.id, &e.c.uid, logs)
                }),
        )
    }

    /// Zeek's `Tunnel::register`: logs the tunnel the first time it is seen
    /// (or again after it expired) and marks it used now.
    pub fn register(&self, ts: Time, tunnel: &EncapsulatingConn, logs: &mut Logs) {
        let mut active = self.0.borrow_mut();
        active.expire(ts, logs);
        if let Some(entry) = active.by_id.get_mut(&tunnel.cid) {
            entry.last_use = ts;
            return;
        }
        if active.by_id.len() >= MAX_ACTIVE {
            active.expire_least_recently_used(ts, logs);
        }
        // Tunnels with a connection of their own (UDP tunnels) close with it;
        // IP tunnels and proxies have none.
        let has_connection = tunnel.cid.orig_p.number != 0 || tunnel.cid.resp_p.number != 0;
        let entry = Entry {
            uid: tunnel.uid.clone(),
            tunnel_type: tunnel.tunnel_type,
            last_use: ts,
            closes_with: tunnel.uid.clone().filter(|_| has_connection),
        };
        logs.write_record(&Row {
            ts,
            id: &tunnel.cid,
            entry: &entry,
            action: "Tunnel::DISCOVER",
        });
        let expiry = ts.add(EXPIRATION_INTERVAL);
        active.next_expiry = Some(active.next_expiry.map_or(expiry, |t| t.min(expiry)));
        active.by_id.insert(tunnel.cid, entry);
    }

    /// Zeek's `finalize_tunnel` removal hook: the connection that carried a
    /// tunnel ended, and the tunnel with it.
    fn connection_removed(&self, ts: Time, id: &ConnId, uid: &Arc<str>, logs: &mut Logs) {
        let mut active = self.0.borrow_mut();
        active.expire(ts, logs);
        let closes = active
            .by_id
            .get(id)
            .is_some_and(|e| e.closes_with.as_ref() == Some(uid));
        if closes {
            if let Some(entry) = active.by_id.remove(id) {
                logs.write_record(&Row {
                    ts,
                    id,
                    entry: &entry,
                    action: "Tunnel::CLOSE",
                });
            }
        }
    }
}

impl Active {
    /// Expires the tunnels no connection used for [`EXPIRATION_INTERVAL`]
    /// (Zeek's `&read_expire` with `Tunnel::expire`), logged at `now`.
    fn expire(&mut self, now: Time, logs: &mut Logs) {
        if self.next_expiry.is_none_or(|t| now < t) {
            return;
        }
        let mut expired: Vec<ConnId> = self
            .by_id
            .iter()
            .filter(|(_, e)| e.last_use.add(EXPIRATION_INTERVAL) <= now)
            .map(|(id, _)| *id)
            .collect();
        // In the order they were last used, so that the rows do not follow
        // the hash map's order.
        expired.sort_by_key(|id| self.by_id[id].last_use);
        for id in expired {
            if let Some(entry) = self.by_id.remove(&id) {
                Self::write_expired(now, &id, &entry, logs);
            }
        }
        let next_check = now.add(EXPIRE_CHECK_INTERVAL);
        self.next_expiry = self
            .by_id
            .values()
            .map(|e| e.last_use.add(EXPIRATION_INTERVAL).max(next_check))
            .min();
    }

    fn expire_least_recently_used(&mut self, now: Time, logs: &mut Logs) {
        let mut by_age: Vec<(Time, ConnId)> =
            self.by_id.iter().map(|(id, e)| (e.last_use, *id)).collect();
        let count = (by_age.len() / 10).max(1);
        by_age.select_nth_unstable_by_key(count - 1, |(t, _)| *t);
        by_age.truncate(count);
        by_age.sort_unstable_by_key(|(t, _)| *t);
        for (_, id) in by_age {
            if let Some(entry) = self.by_id.remove(&id) {
                Self::write_expired(now, &id, &entry, logs);
            }
        }
    }

    fn write_expired(now: Time, id: &ConnId, entry: &Entry, logs: &mut Logs) {
        logs.write_record(&Row {
            ts: now,
            id,
            entry,
            action: "Tunnel::EXPIRE",
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zeek::{Port, Proto};

    fn proxy(n: u32) -> EncapsulatingConn {
        let host = |a: u32| std::net::IpAddr::V4(a.into());
        EncapsulatingConn {
            cid: ConnId {
                orig_h: host(0x0a00_0001),
                orig_p: Port::new(0, Proto::Tcp),
                resp_h: host(0x0b00_0000 + n),
                resp_p: Port::new(1080, Proto::Tcp),
            },
            tunnel_type: "Tunnel::SOCKS",
            uid: None,
        }
    }

    /// A flood of proxy destinations (each one a tunnel) keeps the table
    /// bounded: the least recently used tenth is expired at the bound.
    #[test]
    fn a_flood_of_tunnels_stays_bounded() {
        let tunnels = Tunnels::new();
        let mut logs = Logs::disabled();
        let n = MAX_ACTIVE as u32 + 10;
        for i in 0..n {
            tunnels.register(Time(i64::from(i)), &proxy(i), &mut logs);
        }
        let active = tunnels.0.borrow();
        assert!(active.by_id.len() <= MAX_ACTIVE);
        assert!(active.by_id.len() > MAX_ACTIVE * 8 / 10);
        // The oldest went first; the newest are all there.
        assert!(!active.by_id.contains_key(&proxy(0).cid));
        assert!(active.by_id.contains_key(&proxy(n - 1).cid));
    }
}
