//! `snmp.log`, as Zeek's base/protocols/snmp/main.zeek writes it: one row per
//! connection, written when the connection is removed, counting the variable
//! bindings of each request kind and picking the agent's sysDescr and sysUpTime
//! out of responses.

use crate::snmp::{
    SNMPHeader, SnmpEncryptedPdu, SnmpGetBulkRequest, SnmpGetNextRequest, SnmpGetRequest,
    SnmpInformRequest, SnmpReport, SnmpResponse, SnmpSetRequest, SnmpTrap, SnmpTrapV2,
    SnmpUnknownPdu, SnmpUnknownScopedPdu,
};
use netpac_runtime::conn::events::ConnectionStateRemove;
use netpac_runtime::event::{EventHandlers, EventSink};
use netpac_runtime::log::{Logs, Schema, Value};
use netpac_runtime::record::Connection;
use netpac_runtime::zeek::{Interval, Time};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Zeek's `SNMP::Info` columns.
pub static SNMP_LOG: Schema = Schema {
    path: "snmp",
    stream: "SNMP::LOG",
    columns: &[
        ("ts", "time"),
        ("uid", "string"),
        ("id.orig_h", "addr"),
        ("id.orig_p", "port"),
        ("id.resp_h", "addr"),
        ("id.resp_p", "port"),
        ("duration", "interval"),
        ("version", "string"),
        ("community", "string"),
        ("get_requests", "count"),
        ("get_bulk_requests", "count"),
        ("get_responses", "count"),
        ("set_requests", "count"),
        ("display_string", "string"),
        ("up_since", "time"),
    ],
};

/// sysDescr.0 and sysUpTime.0 (MIB-2's system group).
const SYS_DESCR: &[u8] = b"1.3.6.1.2.1.1.1.0";
const SYS_UP_TIME: &[u8] = b"1.3.6.1.2.1.1.3.0";

/// `c$snmp` of one connection.
#[derive(Debug, Clone)]
struct Info {
    ts: Time,
    c: Connection,
    duration: Interval,
    version: &'static str,
    community: Option<Vec<u8>>,
    get_requests: u64,
    get_bulk_requests: u64,
    get_responses: u64,
    set_requests: u64,
    display_string: Option<Vec<u8>>,
    up_since: Option<Time>,
}

/// Writes `snmp.log` from the SNMP events.
#[derive(Default)]
pub struct SnmpLogger {
    open: FxHashMap<Arc<str>, Info>,
}

/// Zeek's `SNMP::version_map`.
fn version_name(v: u64) -> &'static str {
    match v {
        0 => "1",
        1 => "2c",
        3 => "3",
        _ => "unknown",
    }
}

impl SnmpLogger {
    /// The `snmp.log` writer as an event consumer.
    pub fn sink() -> Box<dyn EventSink> {
        Box::new(
            EventHandlers::new(SnmpLogger::default())
                .on::<SnmpGetRequest>(|s, ts, e, _| s.state(ts, &e.c, &e.header).get_requests += e.pdu.bindings.len() as u64)
                .on::<SnmpGetNextRequest>(|s, ts, e, _| s.state(ts, &e.c, &e.header).get_requests += e.pdu.bindings.len() as u64)
                .on::<SnmpGetBulkRequest>(|s, ts, e, _| {
                    s.state(ts, &e.c, &e.header).get_bulk_requests += e.pdu.bindings.len() as u64
                })
                .on::<SnmpSetRequest>(|s, ts, e, _| s.state(ts, &e.c, &e.header).set_requests += e.pdu.bindings.len() as u64)
                .on::<SnmpResponse>(SnmpLogger::response)
                .on::<SnmpTrap>(|s, ts, e, _| s.touch(ts, &e.c, &e.header))
                .on::<SnmpInformRequest>(|s, ts, e, _| s.touch(ts, &e.c, &e.header))
                .on::<SnmpTrapV2>(|s, ts, e, _| s.touch(ts, &e.c, &e.header))
                .on::<SnmpReport>(|s, ts, e, _| s.touch(ts, &e.c, &e.header))
                .on::<SnmpUnknownPdu>(|s, ts, e, _| s.touch(ts, &e.c, &e.header))
                .on::<SnmpUnknownScopedPdu>(|s, ts, e, _| s.touch(ts, &e.c, &e.header))
                .on::<SnmpEncryptedPdu>(|s, ts, e, _| s.touch(ts, &e.c, &e.header))
                .on::<ConnectionStateRemove>(SnmpLogger::remove),
        )
    }

    /// Zeek's `init_state`: the row of the connection, made at its first SNMP
    /// message; the community is the first one seen (v3: the first non-empty USM
    /// user name); the duration runs to this message.
    fn state(&mut self, ts: Time, c: &Connection, h: &SNMPHeader) -> &mut Info {
        let info = self.open.entry(c.uid.clone()).or_insert_with(|| Info {
            ts,
            c: c.clone(),
            duration: Interval(0),
            version: version_name(h.version),
            community: None,
            get_requests: 0,
            get_bulk_requests: 0,
            get_responses: 0,
            set_requests: 0,
            display_string: None,
            up_since: None,
        });
        if info.community.is_none() {
            info.community = if let Some(v1) = &h.v1 {
                Some(v1.community.as_bytes().to_vec())
            } else if let Some(v2) = &h.v2 {
                Some(v2.community.as_bytes().to_vec())
            } else {
                h.v3
                    .as_ref()
                    .and_then(|v3| v3.user_security_parameters.as_ref())
                    .map(|u| u.UserName.as_bytes())
                    .filter(|n| !n.is_empty())
                    .map(<[u8]>::to_vec)
            };
        }
        info.duration = Interval(ts.0 - info.ts.0);
        info
    }

    /// A message that only starts the row or moves its duration on.
    fn touch(&mut self, ts: Time, c: &Connection, h: &SNMPHeader) {
        self.state(ts, c, h);
    }

    fn response(&mut self, ts: Time, e: &SnmpResponse, _logs: &mut Logs) {
        let info = self.state(ts, &e.c, &e.header);
        info.get_responses += e.pdu.bindings.len() as u64;
        for b in &e.pdu.bindings {
            if b.oid.as_bytes() == SYS_DESCR {
                if let Some(o) = &b.value.octets {
                    info.display_string = Some(o.as_bytes().to_vec());
                }
            } else if b.oid.as_bytes() == SYS_UP_TIME {
                if let Some(ticks) = b.value.unsigned {
                    // Hundredths of a second, as Zeek divides in a double.
                    let up = Time::from_secs_f64(ticks as f64 / 100.0);
                    info.up_since = Some(Time(ts.0 - up.0));
                }
            }
        }
    }

    /// `finalize_snmp`: the row is written when the connection goes away.
    fn remove(&mut self, _ts: Time, e: &ConnectionStateRemove, logs: &mut Logs) {
        if self.open.is_empty() {
            return;
        }
        if let Some(info) = self.open.remove(&e.c.uid) {
            write(logs, &info);
        }
    }
}

fn write(logs: &mut Logs, info: &Info) {
    let s = |v: &Option<Vec<u8>>| Value::opt(v.as_ref(), Value::str);
    let [t, uid, oh, op, rh, rp] = Value::conn_columns(info.ts, &info.c);
    logs.write(
        &SNMP_LOG,
        &[
            t,
            uid,
            oh,
            op,
            rh,
            rp,
            Value::Interval(info.duration),
            Value::str(info.version),
            s(&info.community),
            Value::Count(info.get_requests),
            Value::Count(info.get_bulk_requests),
            Value::Count(info.get_responses),
            Value::Count(info.set_requests),
            s(&info.display_string),
            Value::opt(info.up_since, Value::Time),
        ],
    );
}
