//! `websocket.log`, as Zeek's base/protocols/websocket/main.zeek writes it: one
//! row per upgrade, written when HTTP hands the connection to WebSocket, from the
//! request's host, URI and user agent and the `Sec-WebSocket-*` headers of both
//! sides; the handshake's consistency checks are weirds (source `WebSocket`).

use crate::http::events::{HttpConnectionUpgrade, HttpHeader, HttpRequest};
use base64::Engine;
use netpac_runtime::conn::events::ConnectionStateRemove;
use netpac_runtime::event::{EventHandlers, EventSink};
use netpac_runtime::log::{Logs, Schema, Value};
use netpac_runtime::record::Connection;
use netpac_runtime::weird::log_conn_weird;
use netpac_runtime::zeek::Time;
use rustc_hash::FxHashMap;
use sha1::Digest;
use std::sync::Arc;

/// Zeek's `WebSocket::Info` columns.
pub static WEBSOCKET_LOG: Schema = Schema {
    path: "websocket",
    stream: "WebSocket::LOG",
    columns: &[
        ("ts", "time"),
        ("uid", "string"),
        ("id.orig_h", "addr"),
        ("id.orig_p", "port"),
        ("id.resp_h", "addr"),
        ("id.resp_p", "port"),
        ("host", "string"),
        ("uri", "string"),
        ("user_agent", "string"),
        ("subprotocol", "string"),
        ("client_protocols", "vector[string]"),
        ("server_extensions", "vector[string]"),
        ("client_extensions", "vector[string]"),
    ],
};

/// RFC 6455's GUID the server's accept hashes with the client's key.
const HANDSHAKE_GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// What one connection's handshake said so far.
#[derive(Debug, Default)]
struct Handshake {
    /// The current request's host, URI and user agent (HTTP's `c$http`).
    host: Option<Vec<u8>>,
    uri: Option<Vec<u8>>,
    user_agent: Option<Vec<u8>>,
    /// `c$websocket`: created by the first `Sec-WebSocket-*` header.
    ws: Option<Info>,
}

#[derive(Debug, Default)]
struct Info {
    subprotocol: Option<Vec<u8>>,
    client_protocols: Option<Vec<Vec<u8>>>,
    server_extensions: Option<Vec<Vec<u8>>>,
    client_extensions: Option<Vec<Vec<u8>>>,
    client_key: Option<Vec<u8>>,
    server_accept: Option<Vec<u8>>,
}

/// Writes `websocket.log` from HTTP's headers and upgrade.
#[derive(Default)]
pub struct WebSocketLogger {
    open: FxHashMap<Arc<str>, Handshake>,
}

/// `split_string(value, / *, */)`.
fn split_list(v: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    v.split(|&b| b == b',').map(|p| {
        let start = p.iter().position(|&b| b != b' ').unwrap_or(p.len());
        let end = p.iter().rposition(|&b| b != b' ').map_or(start, |e| e + 1);
        p[start..end.max(start)].to_vec()
    })
}

impl WebSocketLogger {
    /// The `websocket.log` writer as an event consumer.
    pub fn sink() -> Box<dyn EventSink> {
        Box::new(
            EventHandlers::new(WebSocketLogger::default())
                .on::<HttpRequest>(WebSocketLogger::request)
                .on::<HttpHeader>(WebSocketLogger::header)
                .on::<HttpConnectionUpgrade>(WebSocketLogger::upgrade)
                .on::<ConnectionStateRemove>(|s, _ts, e, _logs| {
                    s.open.remove(&e.c.uid);
                }),
        )
    }

    /// A new request starts a new handshake (`http_request` deletes `c$websocket`).
    fn request(&mut self, _ts: Time, e: &HttpRequest, _logs: &mut Logs) {
        let h = self.open.entry(e.c.uid.clone()).or_default();
        h.ws = None;
        h.host = None;
        h.user_agent = None;
        h.uri = Some(e.original_URI.as_bytes().to_vec());
    }

    fn header(&mut self, ts: Time, e: &HttpHeader, logs: &mut Logs) {
        let name = e.name.as_bytes();
        let value = e.value.as_bytes();
        if e.is_orig && name.eq_ignore_ascii_case(b"host") {
            self.open.entry(e.c.uid.clone()).or_default().host = Some(value.to_vec());
            return;
        }
        if e.is_orig && name.eq_ignore_ascii_case(b"user-agent") {
            self.open.entry(e.c.uid.clone()).or_default().user_agent = Some(value.to_vec());
            return;
        }
        let Some(field) = name.get(..14).filter(|p| p.eq_ignore_ascii_case(b"sec-websocket-")).map(|_| &name[14..]) else {
            return;
        };
        let h = self.open.entry(e.c.uid.clone()).or_default();
        let ws = h.ws.get_or_insert_with(Info::default);
        let weird = |logs: &mut Logs, name: &str| log_conn_weird(logs, ts, &e.c, name, b"", "WebSocket");
        match (e.is_orig, field.to_ascii_uppercase().as_slice()) {
            (true, b"PROTOCOL") => ws.client_protocols.get_or_insert_with(Vec::new).extend(split_list(value)),
            (true, b"EXTENSIONS") => ws.client_extensions.get_or_insert_with(Vec::new).extend(split_list(value)),
            (true, b"KEY") => {
                if ws.client_key.is_some() {
                    weird(logs, "websocket_multiple_key_headers");
                }
                ws.client_key = Some(value.to_vec());
            }
            (false, b"PROTOCOL") => {
                if ws.subprotocol.is_some() {
                    weird(logs, "websocket_multiple_protocol_headers");
                }
                ws.subprotocol = Some(value.to_vec());
            }
            (false, b"EXTENSIONS") => ws.server_extensions.get_or_insert_with(Vec::new).extend(split_list(value)),
            (false, b"ACCEPT") => {
                if ws.server_accept.is_some() {
                    weird(logs, "websocket_multiple_accept_headers");
                }
                ws.server_accept = Some(value.to_vec());
            }
            _ => {}
        }
    }

    /// `websocket_established`: the handshake's checks, then the row.
    fn upgrade(&mut self, ts: Time, e: &HttpConnectionUpgrade, logs: &mut Logs) {
        if !e.protocol.as_bytes().eq_ignore_ascii_case(b"websocket") {
            return;
        }
        let h = self.open.entry(e.c.uid.clone()).or_default();
        let c = &e.c;
        if h.ws.is_none() {
            log_conn_weird(logs, ts, c, "websocket_established_unexpected", b"", "WebSocket");
        }
        let ws = h.ws.take().unwrap_or_default();
        match (&ws.client_key, &ws.server_accept) {
            (None, _) => log_conn_weird(logs, ts, c, "websocket_missing_key_header", b"", "WebSocket"),
            (_, None) => log_conn_weird(logs, ts, c, "websocket_missing_accept_header", b"", "WebSocket"),
            (Some(key), Some(accept)) => {
                let expected = base64::engine::general_purpose::STANDARD
                    .encode(sha1::Sha1::new().chain_update(key).chain_update(HANDSHAKE_GUID).finalize());
                if accept.as_slice() != expected.as_bytes() {
                    let addl = [b"expected=".as_slice(), expected.as_bytes(), b", found=", accept].concat();
                    log_conn_weird(logs, ts, c, "websocket_wrong_accept_header", &addl, "WebSocket");
                }
            }
        }
        write(logs, ts, c, h, &ws);
    }
}

fn write(logs: &mut Logs, ts: Time, c: &Connection, h: &Handshake, ws: &Info) {
    let b = |v: &Option<Vec<u8>>| Value::opt(v.as_ref(), Value::str);
    let list = |v: &Option<Vec<Vec<u8>>>| Value::opt(v.as_ref(), |l| Value::Vector(l.iter().map(Value::str).collect()));
    let [t, uid, oh, op, rh, rp] = Value::conn_columns(ts, c);
    logs.write(
        &WEBSOCKET_LOG,
        &[
            t, uid, oh, op, rh, rp,
            b(&h.host),
            b(&h.uri),
            b(&h.user_agent),
            b(&ws.subprotocol),
            list(&ws.client_protocols),
            list(&ws.server_extensions),
            list(&ws.client_extensions),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_on_commas_only() {
        let v: Vec<Vec<u8>> = split_list(b"x; y=1,  z").collect();
        assert_eq!(v, vec![b"x; y=1".to_vec(), b"z".to_vec()]);
    }
}
