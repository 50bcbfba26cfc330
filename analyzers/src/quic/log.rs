//! `quic.log`, as Zeek's base/protocols/quic/main.zeek writes it: a row per
//! QUIC handshake, its `history` a letter per packet kind and per TLS hello
//! (upper case from the client), written when a Retry, an unhandled version
//! or a CONNECTION_CLOSE ends it, or when the connection ends.

use crate::quic::{
    QUICConnectionCloseFrame, QUICDiscardedPacket, QUICHandshakePacket, QUICInitialPacket, QUICRetryPacket,
    QUICShortHeaderPacketThresholdCrossed, QUICUnhandledVersion, QUICZeroRttPacket,
};
use crate::ssl::{SslClientHello, SslExtensionApplicationLayerProtocolNegotiation, SslExtensionServerName, SslServerHello};
use netpac_runtime::conn::events::ConnectionStateRemove;
use netpac_runtime::event::{EventHandlers, EventSink};
use netpac_runtime::log::{Logs, Schema, Value};
use netpac_runtime::record::Connection;
use netpac_runtime::weird::log_conn_weird;
use netpac_runtime::zeek::{Time, ZString};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Zeek's `QUIC::Info` columns.
pub static QUIC_LOG: Schema = Schema {
    path: "quic",
    stream: "QUIC::LOG",
    columns: &[
        ("ts", "time"),
        ("uid", "string"),
        ("id.orig_h", "addr"),
        ("id.orig_p", "port"),
        ("id.resp_h", "addr"),
        ("id.resp_p", "port"),
        ("version", "string"),
        ("client_initial_dcid", "string"),
        ("client_scid", "string"),
        ("server_scid", "string"),
        ("server_name", "string"),
        ("client_protocol", "string"),
        ("history", "string"),
    ],
};

/// `QUIC::max_history_length`.
pub const MAX_HISTORY: usize = 100;

/// consts.zeek's `version_strings` (with its "draft-30" for 0xff00001f).
pub fn version_string(v: u64) -> String {
    match v {
        1 => "1".into(),
        0x6b33_43cf => "quicv2".into(),
        0xff00_001f => "draft-30".into(),
        0xff00_0016..=0xff00_0022 => format!("draft-{}", v - 0xff00_0000),
        0xface_b001 | 0xface_b002 | 0xface_b00e | 0xface_b011 | 0xface_b012 | 0xface_b013 => {
            format!("mvfst ({v:x})")
        }
        _ => format!("unknown-{v:x}"),
    }
}

/// `c$quic` of one connection.
#[derive(Debug, Clone)]
struct Info {
    ts: Time,
    c: Connection,
    version: String,
    client_initial_dcid: Option<String>,
    client_scid: Option<String>,
    server_scid: Option<String>,
    server_name: Option<Vec<u8>>,
    client_protocol: Option<Vec<u8>>,
    history: String,
}

/// Writes `quic.log` from the QUIC::* events and the SSL child's hellos.
#[derive(Default)]
pub struct QuicLogger {
    open: FxHashMap<Arc<str>, Info>,
}

fn hex(b: &ZString) -> String {
    b.as_bytes().iter().map(|x| format!("{x:02x}")).collect()
}

impl QuicLogger {
    /// The `quic.log` writer as an event consumer.
    pub fn sink() -> Box<dyn EventSink> {
        Box::new(
            EventHandlers::new(QuicLogger::default())
                .on::<QUICInitialPacket>(|l, ts, e, logs| l.packet(ts, &e.c, e.is_orig, e.version, &e.dcid, &e.scid, 'I', logs))
                .on::<QUICHandshakePacket>(|l, ts, e, logs| l.packet(ts, &e.c, e.is_orig, e.version, &e.dcid, &e.scid, 'H', logs))
                .on::<QUICZeroRttPacket>(|l, ts, e, logs| l.packet(ts, &e.c, e.is_orig, e.version, &e.dcid, &e.scid, 'Z', logs))
                .on::<QUICRetryPacket>(|l, ts, e, logs| l.ending(ts, &e.c, e.is_orig, e.version, &e.dcid, &e.scid, 'R', logs))
                .on::<QUICUnhandledVersion>(|l, ts, e, logs| {
                    l.ending(ts, &e.c, e.is_orig, e.version, &e.dcid, &e.scid, 'U', logs)
                })
                .on::<QUICConnectionCloseFrame>(QuicLogger::close)
                .on::<QUICDiscardedPacket>(QuicLogger::discarded)
                .on::<QUICShortHeaderPacketThresholdCrossed>(QuicLogger::short_header)
                .on::<SslClientHello>(|l, ts, e, logs| l.hello(ts, &e.c, true, logs))
                .on::<SslServerHello>(|l, ts, e, logs| l.hello(ts, &e.c, false, logs))
                .on::<SslExtensionServerName>(QuicLogger::server_name)
                .on::<SslExtensionApplicationLayerProtocolNegotiation>(QuicLogger::alpn)
                .on::<ConnectionStateRemove>(QuicLogger::remove),
        )
    }

    /// `set_session`: the record made by the first packet event; the client's first
    /// DCID and each side's latest SCID, in lower-case hex.
    #[allow(clippy::too_many_arguments)]
    fn set_session(&mut self, ts: Time, c: &Connection, is_orig: bool, version: u64, dcid: &ZString, scid: &ZString) -> &mut Info {
        let info = self.open.entry(c.uid.clone()).or_insert_with(|| Info {
            ts,
            c: c.clone(),
            version: version_string(version),
            client_initial_dcid: None,
            client_scid: None,
            server_scid: None,
            server_name: None,
            client_protocol: None,
            history: String::new(),
        });
        if is_orig && !dcid.as_bytes().is_empty() && info.client_initial_dcid.is_none() {
            info.client_initial_dcid = Some(hex(dcid));
        }
        if is_orig {
            info.client_scid = Some(hex(scid));
        } else {
            info.server_scid = Some(hex(scid));
        }
        info
    }

    #[allow(clippy::too_many_arguments)]
    fn packet(&mut self, ts: Time, c: &Connection, is_orig: bool, version: u64, dcid: &ZString, scid: &ZString, letter: char, logs: &mut Logs) {
        let info = self.set_session(ts, c, is_orig, version, dcid, scid);
        add_history(info, logs, ts, is_orig, letter);
    }

    /// A Retry or an unhandled version: the row is written and the next packet starts a new one.
    #[allow(clippy::too_many_arguments)]
    fn ending(&mut self, ts: Time, c: &Connection, is_orig: bool, version: u64, dcid: &ZString, scid: &ZString, letter: char, logs: &mut Logs) {
        if !self.open.contains_key(&c.uid) {
            self.set_session(ts, c, is_orig, version, dcid, scid);
        }
        if let Some(mut info) = self.open.remove(&c.uid) {
            add_history(&mut info, logs, ts, is_orig, letter);
            write(logs, &info);
        }
    }

    fn close(&mut self, ts: Time, e: &QUICConnectionCloseFrame, logs: &mut Logs) {
        if let Some(mut info) = self.open.remove(&e.c.uid) {
            add_history(&mut info, logs, ts, e.is_orig, 'C');
            write(logs, &info);
        }
    }

    fn discarded(&mut self, ts: Time, e: &QUICDiscardedPacket, logs: &mut Logs) {
        match self.open.get_mut(&e.c.uid) {
            Some(info) => add_history(info, logs, ts, e.is_orig, 'X'),
            None => log_conn_weird(logs, ts, &e.c, "QUIC_spurious_discarded_packet", b"", ""),
        }
    }

    fn short_header(&mut self, ts: Time, e: &QUICShortHeaderPacketThresholdCrossed, logs: &mut Logs) {
        match self.open.get_mut(&e.c.uid) {
            Some(info) => add_history(info, logs, ts, e.is_orig, 'O'),
            None => {
                let addl = e.threshold.to_string();
                log_conn_weird(logs, ts, &e.c, "QUIC_spurious_short_header_packet_threshold_crossed", addl.as_bytes(), "")
            }
        }
    }

    /// The SSL child's ClientHello is `S`, its ServerHello `s`, whichever side sent them.
    fn hello(&mut self, ts: Time, c: &Connection, client: bool, logs: &mut Logs) {
        if let Some(info) = self.open.get_mut(&c.uid) {
            add_history(info, logs, ts, client, 'S');
        }
    }

    fn server_name(&mut self, _ts: Time, e: &SslExtensionServerName, _logs: &mut Logs) {
        if let (true, Some(info), Some(name)) = (e.is_orig, self.open.get_mut(&e.c.uid), e.names.first()) {
            info.server_name = Some(name.as_bytes().to_vec());
        }
    }

    fn alpn(&mut self, ts: Time, e: &SslExtensionApplicationLayerProtocolNegotiation, logs: &mut Logs) {
        let Some(info) = self.open.get_mut(&e.c.uid) else {
            return;
        };
        if !e.is_orig {
            return;
        }
        if let Some(p) = e.protocols.first() {
            info.client_protocol = Some(p.as_bytes().to_vec());
        }
        if e.protocols.len() > 1 {
            let names: Vec<String> = e.protocols.iter().map(|p| String::from_utf8_lossy(p.as_bytes()).into_owned()).collect();
            let addl = format!("[{}]", names.join(", "));
            log_conn_weird(logs, ts, &e.c, "QUIC_many_protocols", addl.as_bytes(), "");
        }
    }

    /// `finalize_quic`: the row not yet written.
    fn remove(&mut self, _ts: Time, e: &ConnectionStateRemove, logs: &mut Logs) {
        if self.open.is_empty() {
            return;
        }
        if let Some(info) = self.open.remove(&e.c.uid) {
            write(logs, &info);
        }
    }
}

/// `add_to_history`: upper case from the originator; at most `MAX_HISTORY`
/// letters, with a weird when the last one is added.
fn add_history(info: &mut Info, logs: &mut Logs, ts: Time, is_orig: bool, letter: char) {
    if info.history.len() >= MAX_HISTORY {
        return;
    }
    info.history.push(if is_orig { letter.to_ascii_uppercase() } else { letter.to_ascii_lowercase() });
    if info.history.len() == MAX_HISTORY {
        log_conn_weird(logs, ts, &info.c, "QUIC_max_history_length_reached", b"", "");
    }
}

fn write(logs: &mut Logs, info: &Info) {
    let s = |v: &Option<Vec<u8>>| Value::opt(v.as_ref(), Value::str);
    let [t, uid, oh, op, rh, rp] = Value::conn_columns(info.ts, &info.c);
    logs.write(
        &QUIC_LOG,
        &[
            t, uid, oh, op, rh, rp,
            Value::str(&info.version),
            Value::opt(info.client_initial_dcid.as_ref(), Value::str),
            Value::opt(info.client_scid.as_ref(), Value::str),
            Value::opt(info.server_scid.as_ref(), Value::str),
            s(&info.server_name),
            s(&info.client_protocol),
            Value::str(&info.history),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_print_as_zeek_prints_them() {
        assert_eq!(version_string(1), "1");
        assert_eq!(version_string(0x6b33_43cf), "quicv2");
        assert_eq!(version_string(0xff00_001d), "draft-29");
        assert_eq!(version_string(0xff00_001f), "draft-30");
        assert_eq!(version_string(0xff00_0022), "draft-34");
        assert_eq!(version_string(0xface_b002), "mvfst (faceb002)");
        assert_eq!(version_string(0x1001_0000), "unknown-10010000");
        assert_eq!(version_string(0), "unknown-0");
    }
}
