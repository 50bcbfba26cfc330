//! `rdp.log`, as Zeek's base/protocols/rdp/main.zeek writes it: one row per
//! connection, written at a protocol violation, once the connection's RDP
//! events are more than `rdp_check_interval` (10 s) past its first, or when the
//! connection ends; only a row with a cookie, a keyboard layout or a result is
//! written.

use crate::rdp::consts;
use crate::rdp::{
    RdpBeginEncryption, RdpClientCoreData, RdpClientNetworkData, RdpConnectRequest, RdpGccServerCreateResponse,
    RdpNegotiationFailure, RdpNegotiationResponse, RdpServerCertificate, RdpServerSecurity,
};
use crate::x509::X509Certificate;
use netpac_runtime::conn::events::{ConnectionStateRemove, ProtocolConfirmation, ProtocolViolation};
use netpac_runtime::event::{EventHandlers, EventSink};
use netpac_runtime::log::{Logs, Schema, Value};
use netpac_runtime::record::Connection;
use netpac_runtime::zeek::Time;
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Zeek's `RDP::Info` columns.
pub static RDP_LOG: Schema = Schema {
    path: "rdp",
    stream: "RDP::LOG",
    columns: &[
        ("ts", "time"),
        ("uid", "string"),
        ("id.orig_h", "addr"),
        ("id.orig_p", "port"),
        ("id.resp_h", "addr"),
        ("id.resp_p", "port"),
        ("cookie", "string"),
        ("result", "string"),
        ("security_protocol", "string"),
        ("client_channels", "vector[string]"),
        ("keyboard_layout", "string"),
        ("client_build", "string"),
        ("client_name", "string"),
        ("client_dig_product_id", "string"),
        ("desktop_width", "count"),
        ("desktop_height", "count"),
        ("requested_color_depth", "string"),
        ("cert_type", "string"),
        ("cert_count", "count"),
        ("cert_permanent", "bool"),
        ("encryption_level", "string"),
        ("encryption_method", "string"),
    ],
};

/// main.zeek's `rdp_check_interval`.
const CHECK_INTERVAL_NS: i64 = 10_000_000_000;

/// `c$rdp` of one connection.
#[derive(Debug, Clone, Default)]
struct Info {
    ts: Time,
    c: Option<Connection>,
    cookie: Option<Vec<u8>>,
    result: Option<String>,
    security_protocol: Option<String>,
    client_channels: Option<Vec<Vec<u8>>>,
    keyboard_layout: Option<String>,
    client_build: Option<String>,
    client_name: Option<Vec<u8>>,
    client_dig_product_id: Option<Vec<u8>>,
    desktop_width: Option<u64>,
    desktop_height: Option<u64>,
    requested_color_depth: Option<String>,
    cert_type: Option<String>,
    cert_count: u64,
    cert_permanent: Option<bool>,
    encryption_level: Option<String>,
    encryption_method: Option<String>,
    /// `write_log` ran (a row is attempted once).
    done: bool,
}

/// Writes `rdp.log` from the rdp_* events.
#[derive(Default)]
pub struct RdpLogger {
    open: FxHashMap<Arc<str>, Info>,
}

impl RdpLogger {
    /// The `rdp.log` writer as an event consumer.
    pub fn sink() -> Box<dyn EventSink> {
        Box::new(
            EventHandlers::new(RdpLogger::default())
                .on::<RdpConnectRequest>(|s, ts, e, logs| {
                    s.with(ts, &e.c, logs, |i| i.cookie = Some(e.cookie.as_bytes().to_vec()))
                })
                .on::<RdpNegotiationResponse>(|s, ts, e, logs| {
                    s.with(ts, &e.c, logs, |i| i.security_protocol = Some(consts::security_protocol(e.security_protocol)))
                })
                .on::<RdpNegotiationFailure>(|s, ts, e, logs| {
                    s.with(ts, &e.c, logs, |i| i.result = Some(consts::failure_code(e.failure_code)))
                })
                .on::<RdpClientCoreData>(|s, ts, e, logs| {
                    let d = &e.data;
                    s.with(ts, &e.c, logs, |i| {
                        i.keyboard_layout = Some(consts::keyboard_layout(d.keyboard_layout));
                        i.client_build = Some(consts::build(d.client_build));
                        i.client_name = Some(d.client_name.as_bytes().to_vec());
                        i.client_dig_product_id = Some(d.dig_product_id.as_bytes().to_vec());
                        i.desktop_width = Some(d.desktop_width);
                        i.desktop_height = Some(d.desktop_height);
                        i.requested_color_depth = Some(if d.ec_flags.want_32bpp_session {
                            "32bit".to_string()
                        } else {
                            consts::high_color_depth(d.high_color_depth)
                        });
                    })
                })
                .on::<RdpClientNetworkData>(|s, ts, e, logs| {
                    s.with(ts, &e.c, logs, |i| {
                        // The names without their NUL padding.
                        let names = e.channels.iter().map(|ch| {
                            let n = ch.name.as_bytes();
                            let end = n.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
                            n[..end].to_vec()
                        });
                        i.client_channels = Some(names.collect());
                    })
                })
                .on::<RdpGccServerCreateResponse>(|s, ts, e, logs| {
                    s.with(ts, &e.c, logs, |i| i.result = Some(consts::result(e.result)))
                })
                .on::<RdpServerSecurity>(|s, ts, e, logs| {
                    s.with(ts, &e.c, logs, |i| {
                        i.encryption_method = Some(consts::encryption_method(e.encryption_method));
                        i.encryption_level = Some(consts::encryption_level(e.encryption_level));
                    })
                })
                .on::<RdpServerCertificate>(|s, ts, e, logs| {
                    s.with(ts, &e.c, logs, |i| {
                        let t = consts::cert_type(e.cert_type);
                        if t == "RSA" {
                            i.cert_count += 1;
                        }
                        i.cert_type = Some(t);
                        i.cert_permanent = Some(e.permanently_issued);
                    })
                })
                .on::<RdpBeginEncryption>(|s, ts, e, logs| {
                    s.with(ts, &e.c, logs, |i| {
                        if i.result.is_none() {
                            i.result = Some("encrypted".to_string());
                        }
                        i.security_protocol = Some(consts::security_protocol(e.security_protocol));
                    })
                })
                .on::<X509Certificate>(RdpLogger::certificate)
                .on::<ProtocolConfirmation>(RdpLogger::confirmation)
                .on::<ProtocolViolation>(RdpLogger::violation)
                .on::<ConnectionStateRemove>(RdpLogger::remove),
        )
    }

    /// `set_session`, the handler's change, then `check_record` once more than
    /// the check interval passed since the record began.
    fn with(&mut self, ts: Time, c: &Connection, logs: &mut Logs, change: impl FnOnce(&mut Info)) {
        let info = self.session(ts, c);
        if info.done {
            return;
        }
        change(info);
        if ts.0 - info.ts.0 > CHECK_INTERVAL_NS {
            write_log(logs, info);
        }
    }

    fn session(&mut self, ts: Time, c: &Connection) -> &mut Info {
        self.open.entry(c.uid.clone()).or_insert_with(|| Info {
            ts,
            c: Some(c.clone()),
            ..Info::default()
        })
    }

    /// An X.509 certificate of the server's security data counts.
    fn certificate(&mut self, _ts: Time, e: &X509Certificate, _logs: &mut Logs) {
        if e.f.source != "RDP" {
            return;
        }
        if let Some(info) = e.f.conns.first().and_then(|c| self.open.get_mut(&c.uid)) {
            info.cert_count += 1;
        }
    }

    fn confirmation(&mut self, ts: Time, e: &ProtocolConfirmation, _logs: &mut Logs) {
        if e.atype == "Analyzer::ANALYZER_RDP" {
            self.session(ts, &e.c);
        }
    }

    /// A violation writes the row at once.
    fn violation(&mut self, _ts: Time, e: &ProtocolViolation, logs: &mut Logs) {
        if e.atype != "Analyzer::ANALYZER_RDP" {
            return;
        }
        if let Some(info) = self.open.get_mut(&e.c.uid) {
            write_log(logs, info);
        }
    }

    /// `finalize_rdp`.
    fn remove(&mut self, _ts: Time, e: &ConnectionStateRemove, logs: &mut Logs) {
        if self.open.is_empty() {
            return;
        }
        if let Some(mut info) = self.open.remove(&e.c.uid) {
            write_log(logs, &mut info);
        }
    }
}

/// `write_log`: once, and only with a cookie, a keyboard layout or a result.
fn write_log(logs: &mut Logs, info: &mut Info) {
    if info.done {
        return;
    }
    info.done = true;
    if info.cookie.is_none() && info.keyboard_layout.is_none() && info.result.is_none() {
        return;
    }
    let Some(c) = &info.c else {
        return;
    };
    let [t, uid, oh, op, rh, rp] = Value::conn_columns(info.ts, c);
    let s = |v: &Option<String>| Value::opt(v.as_ref(), Value::str);
    let b = |v: &Option<Vec<u8>>| Value::opt(v.as_ref(), Value::str);
    logs.write(
        &RDP_LOG,
        &[
            t, uid, oh, op, rh, rp,
            b(&info.cookie),
            s(&info.result),
            s(&info.security_protocol),
            Value::opt(info.client_channels.as_ref(), |v| Value::Vector(v.iter().map(Value::str).collect())),
            s(&info.keyboard_layout),
            s(&info.client_build),
            b(&info.client_name),
            b(&info.client_dig_product_id),
            Value::opt(info.desktop_width, Value::Count),
            Value::opt(info.desktop_height, Value::Count),
            s(&info.requested_color_depth),
            s(&info.cert_type),
            Value::Count(info.cert_count),
            Value::opt(info.cert_permanent, Value::Bool),
            s(&info.encryption_level),
            s(&info.encryption_method),
        ],
    );
}
