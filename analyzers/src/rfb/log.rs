//! `rfb.log`, as Zeek's base/protocols/rfb/main.zeek writes it: one row per
//! VNC session, written at ServerInit (the end of the handshake) or, for a
//! handshake that stopped early, when the connection ends.

use crate::rfb::{
    RfbAuthenticationResult, RfbAuthenticationType, RfbClientVersion, RfbServerParameters, RfbServerVersion,
    RfbShareFlag,
};
use netpac_runtime::conn::events::ConnectionStateRemove;
use netpac_runtime::event::{EventHandlers, EventSink};
use netpac_runtime::log::{Logs, Schema, Value};
use netpac_runtime::record::Connection;
use netpac_runtime::zeek::Time;
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Zeek's `RFB::Info` columns.
pub static RFB_LOG: Schema = Schema {
    path: "rfb",
    stream: "RFB::LOG",
    columns: &[
        ("ts", "time"),
        ("uid", "string"),
        ("id.orig_h", "addr"),
        ("id.orig_p", "port"),
        ("id.resp_h", "addr"),
        ("id.resp_p", "port"),
        ("client_major_version", "string"),
        ("client_minor_version", "string"),
        ("server_major_version", "string"),
        ("server_minor_version", "string"),
        ("authentication_method", "string"),
        ("auth", "bool"),
        ("share_flag", "bool"),
        ("desktop_name", "string"),
        ("width", "count"),
        ("height", "count"),
    ],
};

/// main.zeek's `friendly_auth_name`: any type it does not know is "RealVNC".
pub fn friendly_auth_name(auth: u64) -> &'static str {
    match auth {
        0 => "Invalid",
        1 => "None",
        2 => "VNC",
        16 => "Tight",
        17 => "Ultra",
        18 => "TLS",
        19 => "VeNCrypt",
        20 => "GTK-VNC SASL",
        21 => "MD5 hash authentication",
        22 => "Colin Dean xvp",
        30 => "Apple Remote Desktop",
        _ => "RealVNC",
    }
}

/// `c$rfb` of one connection.
#[derive(Debug, Clone)]
struct Info {
    ts: Time,
    c: Connection,
    client_major_version: Option<Vec<u8>>,
    client_minor_version: Option<Vec<u8>>,
    server_major_version: Option<Vec<u8>>,
    server_minor_version: Option<Vec<u8>>,
    authentication_method: Option<&'static str>,
    auth: Option<bool>,
    share_flag: Option<bool>,
    desktop_name: Option<Vec<u8>>,
    width: Option<u64>,
    height: Option<u64>,
    /// Written already (later events change nothing).
    done: bool,
}

/// Writes `rfb.log` from the rfb_* events.
#[derive(Default)]
pub struct RfbLogger {
    open: FxHashMap<Arc<str>, Info>,
}

impl RfbLogger {
    /// The `rfb.log` writer as an event consumer.
    pub fn sink() -> Box<dyn EventSink> {
        Box::new(
            EventHandlers::new(RfbLogger::default())
                .on::<RfbClientVersion>(RfbLogger::client_version)
                .on::<RfbServerVersion>(RfbLogger::server_version)
                .on::<RfbAuthenticationType>(RfbLogger::authentication_type)
                .on::<RfbAuthenticationResult>(RfbLogger::authentication_result)
                .on::<RfbShareFlag>(RfbLogger::share_flag)
                .on::<RfbServerParameters>(RfbLogger::server_parameters)
                .on::<ConnectionStateRemove>(RfbLogger::remove),
        )
    }

    /// `set_session`: the record, created by the connection's first version,
    /// security type or ServerInit.
    fn session(&mut self, ts: Time, c: &Connection) -> &mut Info {
        self.open.entry(c.uid.clone()).or_insert_with(|| Info {
            ts,
            c: c.clone(),
            client_major_version: None,
            client_minor_version: None,
            server_major_version: None,
            server_minor_version: None,
            authentication_method: None,
            auth: None,
            share_flag: None,
            desktop_name: None,
            width: None,
            height: None,
            done: false,
        })
    }

    fn client_version(&mut self, ts: Time, e: &RfbClientVersion, _logs: &mut Logs) {
        let info = self.session(ts, &e.c);
        info.client_major_version = Some(e.major_version.as_bytes().to_vec());
        info.client_minor_version = Some(e.minor_version.as_bytes().to_vec());
    }

    fn server_version(&mut self, ts: Time, e: &RfbServerVersion, _logs: &mut Logs) {
        let info = self.session(ts, &e.c);
        info.server_major_version = Some(e.major_version.as_bytes().to_vec());
        info.server_minor_version = Some(e.minor_version.as_bytes().to_vec());
    }

    fn authentication_type(&mut self, ts: Time, e: &RfbAuthenticationType, _logs: &mut Logs) {
        self.session(ts, &e.c).authentication_method = Some(friendly_auth_name(e.authtype));
    }

    fn authentication_result(&mut self, _ts: Time, e: &RfbAuthenticationResult, _logs: &mut Logs) {
        if let Some(info) = self.open.get_mut(&e.c.uid) {
            info.auth = Some(e.result);
        }
    }

    fn share_flag(&mut self, _ts: Time, e: &RfbShareFlag, _logs: &mut Logs) {
        if let Some(info) = self.open.get_mut(&e.c.uid) {
            info.share_flag = Some(e.flag);
        }
    }

    /// ServerInit ends the handshake: the row is written.
    fn server_parameters(&mut self, ts: Time, e: &RfbServerParameters, logs: &mut Logs) {
        let info = self.session(ts, &e.c);
        info.desktop_name = Some(e.name.as_bytes().to_vec());
        info.width = Some(e.width);
        info.height = Some(e.height);
        if !info.done {
            info.done = true;
            write(logs, info);
        }
    }

    /// `finalize_rfb`: a handshake that did not reach ServerInit.
    fn remove(&mut self, _ts: Time, e: &ConnectionStateRemove, logs: &mut Logs) {
        if self.open.is_empty() {
            return;
        }
        if let Some(info) = self.open.remove(&e.c.uid) {
            if !info.done {
                write(logs, &info);
            }
        }
    }
}

fn write(logs: &mut Logs, info: &Info) {
    let s = |v: &Option<Vec<u8>>| Value::opt(v.as_ref(), Value::str);
    let [t, uid, oh, op, rh, rp] = Value::conn_columns(info.ts, &info.c);
    logs.write(
        &RFB_LOG,
        &[
            t, uid, oh, op, rh, rp,
            s(&info.client_major_version),
            s(&info.client_minor_version),
            s(&info.server_major_version),
            s(&info.server_minor_version),
            Value::opt(info.authentication_method, Value::str),
            Value::opt(info.auth, Value::Bool),
            Value::opt(info.share_flag, Value::Bool),
            s(&info.desktop_name),
            Value::opt(info.width, Value::Count),
            Value::opt(info.height, Value::Count),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_security_types_are_realvnc() {
        assert_eq!(friendly_auth_name(2), "VNC");
        assert_eq!(friendly_auth_name(30), "Apple Remote Desktop");
        assert_eq!(friendly_auth_name(5), "RealVNC");
    }
}
