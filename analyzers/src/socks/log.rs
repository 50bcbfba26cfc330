//! `socks.log`, as Zeek's base/protocols/socks/main.zeek writes it: one row per
//! connection, written when it ends and only while SOCKS is among its services
//! (confirmed by a reply and not failed since).

use crate::socks::{SOCKSAddress, SocksLoginUserpassReply, SocksLoginUserpassRequest, SocksReply, SocksRequest};
use netpac_runtime::conn::events::ConnectionStateRemove;
use netpac_runtime::event::{EventHandlers, EventSink};
use netpac_runtime::log::{Logs, Schema, Value};
use netpac_runtime::record::Connection;
use netpac_runtime::record::EncapsulatingConn;
use netpac_runtime::tunnel_log::Tunnels;
use netpac_runtime::zeek::{ConnId, Port, Proto, Time};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Zeek's `SOCKS::Info` columns.
pub static SOCKS_LOG: Schema = Schema {
    path: "socks",
    stream: "SOCKS::LOG",
    columns: &[
        ("ts", "time"),
        ("uid", "string"),
        ("id.orig_h", "addr"),
        ("id.orig_p", "port"),
        ("id.resp_h", "addr"),
        ("id.resp_p", "port"),
        ("version", "count"),
        ("user", "string"),
        ("password", "string"),
        ("status", "string"),
        ("request.host", "addr"),
        ("request.name", "string"),
        ("request_p", "port"),
        ("bound.host", "addr"),
        ("bound.name", "string"),
        ("bound_p", "port"),
    ],
};

/// consts.zeek's `v4_status`.
pub fn v4_status(code: u64) -> String {
    match code {
        0x5a => "succeeded".into(),
        0x5b => "general SOCKS server failure".into(),
        0x5c => "request failed because client is not running identd".into(),
        0x5d => "request failed because client's identd could not confirm the user ID string in the request".into(),
        _ => format!("unknown-{code}"),
    }
}

/// consts.zeek's `v5_status`.
pub fn v5_status(code: u64) -> String {
    match code {
        0 => "succeeded".into(),
        1 => "general SOCKS server failure".into(),
        2 => "connection not allowed by ruleset".into(),
        3 => "Network unreachable".into(),
        4 => "Host unreachable".into(),
        5 => "Connection refused".into(),
        6 => "TTL expired".into(),
        7 => "Command not supported".into(),
        8 => "Address type not supported".into(),
        _ => format!("unknown-{code}"),
    }
}

/// `c$socks` of one connection.
#[derive(Debug, Clone)]
struct Info {
    ts: Time,
    c: Connection,
    version: u64,
    user: Option<Vec<u8>>,
    status: Option<String>,
    request: Option<SOCKSAddress>,
    request_p: Option<u16>,
    bound: Option<SOCKSAddress>,
    bound_p: Option<u16>,
}

/// Writes `socks.log` from the socks_* events. Passwords are not logged
/// (Zeek's `SOCKS::default_capture_password` is off).
pub struct SocksLogger {
    open: FxHashMap<Arc<str>, Info>,
    tunnels: Tunnels,
}

impl SocksLogger {
    /// The `socks.log` writer as an event consumer.
    /// Each request registers its proxy in `tunnels` (`tunnel.log`).
    pub fn sink(tunnels: Tunnels) -> Box<dyn EventSink> {
        Box::new(
            EventHandlers::new(SocksLogger {
                open: FxHashMap::default(),
                tunnels,
            })
            .on::<SocksRequest>(|s, ts, e, logs| {
                let i = s.session(ts, &e.c, e.version);
                i.request = Some(e.sa.clone());
                i.request_p = Some(e.p.number);
                // A proxy's connections come from many ports: one tunnel, port 0.
                let tunnel = EncapsulatingConn {
                    cid: ConnId {
                        orig_p: Port::new(0, Proto::Tcp),
                        ..e.c.id
                    },
                    tunnel_type: "Tunnel::SOCKS",
                    uid: None,
                };
                s.tunnels.register(ts, &tunnel, logs);
            })
                .on::<SocksReply>(|s, ts, e, _| {
                    let i = s.session(ts, &e.c, e.version);
                    i.status = Some(if e.version == 5 { v5_status(e.reply) } else { v4_status(e.reply) });
                    i.bound = Some(e.sa.clone());
                    i.bound_p = Some(e.p.number);
                })
                .on::<SocksLoginUserpassRequest>(|s, ts, e, _| {
                    s.session(ts, &e.c, 5).user = Some(e.user.as_bytes().to_vec());
                })
                .on::<SocksLoginUserpassReply>(|s, ts, e, _| {
                    s.session(ts, &e.c, 5).status = Some(v5_status(e.code));
                })
                .on::<ConnectionStateRemove>(SocksLogger::remove),
        )
    }

    /// `set_session`: created by the connection's first SOCKS event.
    fn session(&mut self, ts: Time, c: &Connection, version: u64) -> &mut Info {
        self.open.entry(c.uid.clone()).or_insert_with(|| Info {
            ts,
            c: c.clone(),
            version,
            user: None,
            status: None,
            request: None,
            request_p: None,
            bound: None,
            bound_p: None,
        })
    }

    /// `finalize_socks`: written only while SOCKS is a service of the connection.
    fn remove(&mut self, _ts: Time, e: &ConnectionStateRemove, logs: &mut Logs) {
        if self.open.is_empty() {
            return;
        }
        let Some(info) = self.open.remove(&e.c.uid) else {
            return;
        };
        if !e.c.service.iter().any(|s| s.eq_ignore_ascii_case("socks")) {
            return;
        }
        let addr = |a: &Option<SOCKSAddress>| Value::opt(a.as_ref().and_then(|a| a.host), Value::Addr);
        let name = |a: &Option<SOCKSAddress>| Value::opt(a.as_ref().and_then(|a| a.name.as_ref()), |n| Value::str(n.as_bytes()));
        let [t, uid, oh, op, rh, rp] = Value::conn_columns(info.ts, &info.c);
        logs.write(
            &SOCKS_LOG,
            &[
                t, uid, oh, op, rh, rp,
                Value::Count(info.version),
                Value::opt(info.user.as_ref(), Value::str),
                Value::Unset,
                Value::opt(info.status.as_ref(), Value::str),
                addr(&info.request),
                name(&info.request),
                Value::opt(info.request_p, Value::Port),
                addr(&info.bound),
                name(&info.bound),
                Value::opt(info.bound_p, Value::Port),
            ],
        );
    }
}
