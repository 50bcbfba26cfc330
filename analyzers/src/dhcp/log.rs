//! `dhcp.log`, as Zeek's base/protocols/dhcp/main.zeek writes it: the messages
//! of one transaction id are joined into one row (`DHCP::join_data`, a table
//! with `&create_expire=10secs` whose expire function logs a row once no message
//! came for 5 s or the row is 30 s old), or written early when it has 10 uids or
//! 50 message types; what is left is written at the end.
//!
//! Zeek checks the table for expired rows on its table timer: at the first
//! packet and then every `table_expire_interval` (10 s). The writer keeps that
//! rhythm from the time of the first connection (`new_connection`), so the
//! messages that Zeek joins into one row are joined here too.

use crate::dhcp::{DHCPMsg, DHCPOptions, DhcpMessage};
use netpac_runtime::conn::events::NewConnection;
use netpac_runtime::event::{EventHandlers, EventSink};
use netpac_runtime::log::{LogRecord, Logs, Schema, Value};
use netpac_runtime::zeek::{Interval, Time};
use rustc_hash::FxHashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

/// Zeek's `DHCP::Info` columns.
pub static DHCP_LOG: Schema = Schema {
    path: "dhcp",
    stream: "DHCP::LOG",
    columns: &[
        ("ts", "time"),
        ("uids", "set[string]"),
        ("client_addr", "addr"),
        ("server_addr", "addr"),
        ("mac", "string"),
        ("host_name", "string"),
        ("client_fqdn", "string"),
        ("domain", "string"),
        ("requested_addr", "addr"),
        ("assigned_addr", "addr"),
        ("lease_time", "interval"),
        ("client_message", "string"),
        ("server_message", "string"),
        ("msg_types", "vector[string]"),
        ("duration", "interval"),
    ],
};

const SEC: i64 = 1_000_000_000;
/// `table_expire_interval`.
const TABLE_EXPIRE_INTERVAL: i64 = 10 * SEC;
/// `&create_expire` of `DHCP::join_data`.
const CREATE_EXPIRE: i64 = 10 * SEC;
/// `DHCP::max_txid_watch_time`.
const MAX_TXID_WATCH_TIME: i64 = 30 * SEC;
/// `DHCP::max_uids_per_log_entry`, `DHCP::max_msg_types_per_log_entry`.
const MAX_UIDS: usize = 10;
const MAX_MSG_TYPES: usize = 50;
/// `DHCP::max_tracked_transactions`: at this many open rows the oldest is written
/// to make room (Zeek also reports the net weird `DHCP_max_tracked_transactions_exceeded`,
/// which a log writer here cannot raise yet).
const MAX_TRACKED: usize = 100_000;

/// One row of `dhcp.log` (`DHCP::Info`).
#[derive(Debug, Clone, Default)]
pub struct DhcpInfo {
    pub ts: Time,
    pub uids: Vec<Arc<str>>,
    pub client_addr: Option<IpAddr>,
    pub server_addr: Option<IpAddr>,
    pub mac: Option<Vec<u8>>,
    pub host_name: Option<Vec<u8>>,
    pub client_fqdn: Option<Vec<u8>>,
    pub domain: Option<Vec<u8>>,
    pub requested_addr: Option<IpAddr>,
    pub assigned_addr: Option<IpAddr>,
    pub lease_time: Option<Interval>,
    pub client_message: Option<Vec<u8>>,
    pub server_message: Option<Vec<u8>>,
    pub msg_types: Vec<String>,
    pub duration: Interval,
    client_chaddr: Option<Vec<u8>>,
    last_message_ts: Time,
    /// When the table entry expires (its access time plus the expire interval).
    expire_at: i64,
    /// Insertion order (`join_data_ordered`).
    seq: u64,
}

impl LogRecord for DhcpInfo {
    fn schema(&self) -> &'static Schema {
        &DHCP_LOG
    }

    fn values(&self) -> Vec<Value> {
        let s = |v: &Option<Vec<u8>>| Value::opt(v.as_ref(), Value::str);
        vec![
            Value::Time(self.ts),
            Value::Set(self.uids.iter().map(|u| Value::str(u.as_bytes())).collect()),
            Value::opt(self.client_addr, Value::Addr),
            Value::opt(self.server_addr, Value::Addr),
            s(&self.mac),
            s(&self.host_name),
            s(&self.client_fqdn),
            s(&self.domain),
            Value::opt(self.requested_addr, Value::Addr),
            Value::opt(self.assigned_addr, Value::Addr),
            Value::opt(self.lease_time, Value::Interval),
            s(&self.client_message),
            s(&self.server_message),
            Value::Vector(self.msg_types.iter().map(Value::str).collect()),
            Value::Interval(self.duration),
        ]
    }
}

/// Zeek's `DHCP::message_types`, with its default for other codes.
pub fn message_type_name(t: u64) -> String {
    const NAMES: [&str; 18] = [
        "DISCOVER",
        "OFFER",
        "REQUEST",
        "DECLINE",
        "ACK",
        "NAK",
        "RELEASE",
        "INFORM",
        "FORCERENEW",
        "LEASEQUERY",
        "LEASEUNASSIGNED",
        "LEASEUNKNOWN",
        "LEASEACTIVE",
        "BULKLEASEQUERY",
        "LEASEQUERYDONE",
        "ACTIVELEASEQUERY",
        "LEASEQUERYSTATUS",
        "TLS",
    ];
    match t {
        1..=18 => NAMES[(t - 1) as usize].to_string(),
        _ => format!("unknown-message-type-{t}"),
    }
}

/// `write_log`: without a client identifier or a server's chaddr, the client's chaddr is the MAC.
fn fill_mac(info: &mut DhcpInfo) {
    if info.mac.is_none() && info.client_chaddr.is_some() {
        info.mac = info.client_chaddr.take();
    }
}

/// Writes `dhcp.log` from `dhcp_message`.
#[derive(Default)]
pub struct DhcpLogger {
    join_data: FxHashMap<u64, DhcpInfo>,
    /// Insertion order of the open rows: sequence number → xid.
    order: std::collections::BTreeMap<u64, u64>,
    next_seq: u64,
    /// The next run of Zeek's table expiration (unset before the first packet).
    next_expire: Option<i64>,
}

impl DhcpLogger {
    /// The `dhcp.log` writer as an event consumer.
    pub fn sink() -> Box<dyn EventSink> {
        Box::new(
            EventHandlers::new(DhcpLogger::default())
                .on::<NewConnection>(DhcpLogger::new_connection)
                .on::<DhcpMessage>(DhcpLogger::message)
                .on_finish(DhcpLogger::finish),
        )
    }

    /// Zeek's table timer starts with the first packet; a new connection is the
    /// first thing the engine reports.
    fn new_connection(&mut self, ts: Time, _e: &NewConnection, logs: &mut Logs) {
        self.advance(ts.0, logs);
    }

    /// Runs the table expirations due by `now`.
    fn advance(&mut self, now: i64, logs: &mut Logs) {
        let Some(mut at) = self.next_expire else {
            self.next_expire = Some(now.saturating_add(TABLE_EXPIRE_INTERVAL));
            return;
        };
        while at <= now {
            self.expire(at, false, logs);
            at = at.saturating_add(TABLE_EXPIRE_INTERVAL);
        }
        self.next_expire = Some(at);
    }

    /// One run of the table's expiration at `now` (`join_data_expiration`).
    fn expire(&mut self, now: i64, terminating: bool, logs: &mut Logs) {
        if self.join_data.is_empty() {
            return;
        }
        let mut done: Vec<u64> = Vec::new();
        for (xid, info) in self.join_data.iter_mut() {
            if !terminating && info.expire_at >= now {
                continue;
            }
            if terminating
                || now - info.last_message_ts.0 > 5 * SEC
                || now - info.ts.0 > MAX_TXID_WATCH_TIME
            {
                done.push(*xid);
            } else {
                // The expire function asked for 5 more seconds.
                info.expire_at = now + 5 * SEC;
            }
        }
        // Written in the order the transactions started.
        let mut rows: Vec<DhcpInfo> = done
            .iter()
            .filter_map(|x| self.join_data.remove(x))
            .collect();
        for r in &rows {
            self.order.remove(&r.seq);
        }
        rows.sort_by_key(|r| r.ts.0);
        for mut info in rows {
            fill_mac(&mut info);
            logs.write_record(&info);
        }
    }

    fn message(&mut self, ts: Time, e: &DhcpMessage, logs: &mut Logs) {
        self.advance(ts.0, logs);
        let msg: &DHCPMsg = &e.msg;
        let options: &DHCPOptions = &e.options;
        let id = &e.c.id;
        if !self.join_data.contains_key(&msg.xid) {
            if self.join_data.len() >= MAX_TRACKED {
                if let Some((_, oldest)) = self.order.pop_first() {
                    if let Some(mut info) = self.join_data.remove(&oldest) {
                        fill_mac(&mut info);
                        logs.write_record(&info);
                    }
                }
            }
            let seq = self.next_seq;
            self.next_seq += 1;
            self.order.insert(seq, msg.xid);
            self.join_data.insert(
                msg.xid,
                DhcpInfo {
                    ts,
                    uids: vec![e.c.uid.clone()],
                    expire_at: ts.0 + CREATE_EXPIRE,
                    seq,
                    ..DhcpInfo::default()
                },
            );
        }
        let Some(info) = self.join_data.get_mut(&msg.xid) else {
            return;
        };
        info.duration = Interval(ts.0 - info.ts.0);
        if !info.uids.iter().any(|u| **u == *e.c.uid) {
            info.uids.push(e.c.uid.clone());
        }
        info.msg_types.push(message_type_name(msg.m_type));

        let unspecified = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let is_client = e.is_orig
            && (id.orig_h == unspecified || id.orig_p.number == 68 || id.resp_p.number == 67);
        if let Some(m) = &options.message {
            if is_client {
                info.client_message = Some(m.as_bytes().to_vec());
            } else {
                info.server_message = Some(m.as_bytes().to_vec());
            }
        }
        info.last_message_ts = ts;

        if is_client {
            if id.orig_h != unspecified && id.orig_h != IpAddr::V4(Ipv4Addr::BROADCAST) {
                info.client_addr = Some(id.orig_h);
            }
            if let Some(h) = &options.host_name {
                info.host_name = Some(h.as_bytes().to_vec());
            }
            if let Some(f) = &options.client_fqdn {
                info.client_fqdn = Some(f.domain_name.as_bytes().to_vec());
            }
            match &options.client_id {
                Some(cid) if cid.hwtype == 1 => info.mac = Some(cid.hwaddr.as_bytes().to_vec()),
                _ => info.client_chaddr = Some(msg.chaddr.as_bytes().to_vec()),
            }
            if let Some(a) = options.addr_request {
                info.requested_addr = Some(a);
            }
        } else {
            if msg.yiaddr != unspecified {
                info.server_addr = Some(if e.is_orig { id.orig_h } else { id.resp_h });
            }
            if !msg.chaddr.as_bytes().is_empty() && info.mac.is_none() {
                info.mac = Some(msg.chaddr.as_bytes().to_vec());
            }
            if msg.yiaddr != unspecified {
                info.assigned_addr = Some(msg.yiaddr);
            }
            if info.client_addr.is_none() && info.assigned_addr.is_some() {
                info.client_addr = info.assigned_addr;
            }
            if let Some(d) = &options.domain_name {
                info.domain = Some(d.as_bytes().to_vec());
            }
            if let Some(l) = options.lease {
                info.lease_time = Some(l);
            }
        }

        if info.uids.len() >= MAX_UIDS || info.msg_types.len() >= MAX_MSG_TYPES {
            if let Some(info) = self.join_data.remove(&msg.xid) {
                self.order.remove(&info.seq);
                logs.write_record(&info);
            }
        }
    }

    /// `zeek_done`: every row still joined is written.
    fn finish(&mut self, logs: &mut Logs) -> std::io::Result<()> {
        self.expire(i64::MAX, true, logs);
        Ok(())
    }
}
