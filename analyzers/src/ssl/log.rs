//! `ssl.log`, built from the SSL events as Zeek's base/protocols/ssl/main.zeek
//! builds it: a session per connection, created by its first SSL event (that
//! event's time is the row's `ts`), written once: at `ssl_established`, at a
//! protocol violation of the SSL analyzer, or when the connection is removed.
//!
//! The certificate columns come from the X.509 file analysis of the chains
//! (`x509_certificate`, files.zeek's handlers): the fingerprints of the
//! certificates that parsed, in chain order, and whether the SNI names the
//! server's first certificate.

use crate::ssl::consts::{alert_name, curve_name, name_or_unknown, version_string, cipher_name};
use crate::ssl::{
    SslAlert, SslChangeCipherSpec, SslClientHello, SslEcdhServerParams, SslEstablished,
    SslExtension, SslExtensionApplicationLayerProtocolNegotiation, SslExtensionKeyShare,
    SslExtensionServerName, SslExtensionSupportedVersions, SslHandshakeMessage, SslHeartbeat,
    SslConnectionFlipped, SslPlaintextData, SslServerHello,
};
use crate::x509::{matches_hostname, CertRef, X509Certificate};
use netpac_runtime::conn::events::{ConnectionStateRemove, ProtocolConfirmation, ProtocolViolation};
use netpac_runtime::event::{EventHandlers, EventSink};
use netpac_runtime::log::{Logs, Schema, Value};
use netpac_runtime::record::Connection;
use netpac_runtime::weird::log_conn_weird;
use netpac_runtime::zeek::{ConnId, Time};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Zeek's `SSL::Info` columns in the default log.
pub static SSL_LOG: Schema = Schema {
    path: "ssl",
    stream: "SSL::LOG",
    columns: &[
        ("ts", "time"),
        ("uid", "string"),
        ("id.orig_h", "addr"),
        ("id.orig_p", "port"),
        ("id.resp_h", "addr"),
        ("id.resp_p", "port"),
        ("version", "string"),
        ("cipher", "string"),
        ("curve", "string"),
        ("server_name", "string"),
        ("resumed", "bool"),
        ("last_alert", "string"),
        ("next_protocol", "string"),
        ("established", "bool"),
        ("ssl_history", "string"),
        ("cert_chain_fps", "vector[string]"),
        ("client_cert_chain_fps", "vector[string]"),
        ("sni_matches_cert", "bool"),
    ],
};

/// `SSL::max_ssl_history_length`.
const MAX_HISTORY: usize = 100;
/// RFC 8446's HelloRetryRequest random: such a ServerHello is history `j`.
const HRR_RANDOM: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];

/// `c$ssl`.
struct Session {
    ts: Time,
    uid: Arc<str>,
    id: ConnId,
    version_num: Option<u64>,
    cipher: Option<String>,
    curve: Option<String>,
    server_name: Option<Vec<u8>>,
    resumed: bool,
    last_alert: Option<String>,
    next_protocol: Option<Vec<u8>>,
    established: bool,
    history: String,
    /// The client's session id, padded to 32 bytes (`c$ssl$session_id`), if not all zero.
    client_session_id: Option<Vec<u8>>,
    client_ticket_empty_session_seen: bool,
    client_key_exchange_seen: bool,
    client_psk_seen: bool,
    /// The last ServerHello was a HelloRetryRequest.
    server_hello_was_hrr: bool,
    /// A certificate was seen (files.zeek makes both chains empty vectors then).
    certificates_seen: bool,
    cert_chain_fps: Vec<String>,
    client_cert_chain_fps: Vec<String>,
    /// The server's first certificate, if it parsed (`cert_chain[0]`).
    server_cert: Option<Arc<CertRef>>,
    /// Whether `cert_chain[0]` exists at all (parsed or not).
    server_chain_started: bool,
    logged: bool,
}

/// Writes `ssl.log` from the SSL events.
#[derive(Default)]
pub struct SslLogger {
    conns: FxHashMap<Arc<str>, Session>,
}

impl SslLogger {
    /// The `ssl.log` writer as an event consumer.
    pub fn sink() -> Box<dyn EventSink> {
        Box::new(
            EventHandlers::new(SslLogger::default())
                .on::<ProtocolConfirmation>(SslLogger::confirmation)
                .on::<SslClientHello>(SslLogger::client_hello)
                .on::<SslServerHello>(SslLogger::server_hello)
                .on::<SslExtension>(SslLogger::extension)
                .on::<SslExtensionServerName>(SslLogger::server_name)
                .on::<SslExtensionApplicationLayerProtocolNegotiation>(SslLogger::alpn)
                .on::<SslExtensionSupportedVersions>(SslLogger::supported_versions)
                .on::<SslExtensionKeyShare>(SslLogger::key_share)
                .on::<SslEcdhServerParams>(SslLogger::ecdh_server_params)
                .on::<SslAlert>(SslLogger::alert)
                .on::<SslChangeCipherSpec>(SslLogger::change_cipher_spec)
                .on::<SslConnectionFlipped>(SslLogger::flipped)
                .on::<SslHandshakeMessage>(SslLogger::handshake_message)
                .on::<SslHeartbeat>(SslLogger::heartbeat)
                .on::<SslPlaintextData>(SslLogger::plaintext_data)
                .on::<X509Certificate>(SslLogger::certificate)
                .on::<SslEstablished>(SslLogger::established)
                .on::<ProtocolViolation>(SslLogger::violation)
                .on::<ConnectionStateRemove>(SslLogger::remove),
        )
    }

    /// `set_session`: created by the connection's first SSL event.
    fn session(&mut self, ts: Time, c: &Connection) -> &mut Session {
        self.conns.entry(c.uid.clone()).or_insert_with(|| Session {
            ts,
            uid: c.uid.clone(),
            id: c.id,
            version_num: None,
            cipher: None,
            curve: None,
            server_name: None,
            resumed: false,
            last_alert: None,
            next_protocol: None,
            established: false,
            history: String::new(),
            client_session_id: None,
            client_ticket_empty_session_seen: false,
            client_key_exchange_seen: false,
            client_psk_seen: false,
            server_hello_was_hrr: false,
            certificates_seen: false,
            cert_chain_fps: Vec::new(),
            client_cert_chain_fps: Vec::new(),
            server_cert: None,
            server_chain_started: false,
            logged: false,
        })
    }

    fn confirmation(&mut self, ts: Time, e: &ProtocolConfirmation, _logs: &mut Logs) {
        if is_ssl_or_dtls(&e.atype) {
            self.session(ts, &e.c);
        }
    }

    fn client_hello(&mut self, ts: Time, e: &SslClientHello, logs: &mut Logs) {
        let s = self.session(ts, &e.c);
        // An SSLv2 ClientHello (record version 0) has no handshake message of its own.
        if e.record_version == 0 {
            Self::add_history(s, logs, &e.c, ts, true, 'c');
        }
        let id = e.session_id.as_bytes();
        if id.iter().any(|&b| b != 0) {
            s.client_session_id = Some(id.to_vec());
            // The hello comes after its extensions: a session id means no ticket-only resumption.
            s.client_ticket_empty_session_seen = false;
        }
    }

    fn server_hello(&mut self, ts: Time, e: &SslServerHello, logs: &mut Logs) {
        let s = self.session(ts, &e.c);
        // An SSLv2 ServerHello has no handshake message of its own.
        if e.version == 2 {
            Self::add_history(s, logs, &e.c, ts, false, 's');
        }
        if s.version_num.is_none() {
            s.version_num = Some(e.version);
        }
        s.cipher = Some(name_or_unknown(cipher_name(e.cipher), e.cipher));
        let v = s.version_num.unwrap_or(e.version);
        if let Some(client) = &s.client_session_id {
            // TLS 1.3 servers echo the client's id without resuming.
            if client.as_slice() == e.session_id.as_bytes() && v / 0xFF != 0x7F && v != 0x0304 {
                s.resumed = true;
            }
        }
        s.server_hello_was_hrr = e.server_random.as_bytes() == HRR_RANDOM;
    }

    fn extension(&mut self, ts: Time, e: &SslExtension, _logs: &mut Logs) {
        let s = self.session(ts, &e.c);
        match (e.code, e.is_orig) {
            // An empty SessionTicket extension: resumption by ticket if no key exchange follows.
            (35, true) if !e.val.as_bytes().is_empty() => s.client_ticket_empty_session_seen = true,
            (41, true) => s.client_psk_seen = true,
            (41, false) if s.client_psk_seen => s.resumed = true,
            _ => {}
        }
    }

    fn server_name(&mut self, ts: Time, e: &SslExtensionServerName, logs: &mut Logs) {
        let s = self.session(ts, &e.c);
        if !e.is_orig || e.names.is_empty() {
            return;
        }
        s.server_name = Some(e.names[0].as_bytes().to_vec());
        if e.names.len() > 1 {
            let names: Vec<String> = e
                .names
                .iter()
                .map(|n| String::from_utf8_lossy(n.as_bytes()).into_owned())
                .collect();
            let addl = format!("[{}]", names.join(", "));
            log_conn_weird(logs, ts, &e.c, "SSL_many_server_names", addl.as_bytes(), "");
        }
    }

    fn alpn(&mut self, ts: Time, e: &SslExtensionApplicationLayerProtocolNegotiation, _logs: &mut Logs) {
        let s = self.session(ts, &e.c);
        if !e.is_orig {
            if let Some(p) = e.protocols.first() {
                s.next_protocol = Some(p.as_bytes().to_vec());
            }
        }
    }

    fn supported_versions(&mut self, ts: Time, e: &SslExtensionSupportedVersions, _logs: &mut Logs) {
        let s = self.session(ts, &e.c);
        if let (false, [v]) = (e.is_orig, e.versions.as_slice()) {
            s.version_num = Some(*v);
        }
    }

    fn key_share(&mut self, ts: Time, e: &SslExtensionKeyShare, _logs: &mut Logs) {
        let s = self.session(ts, &e.c);
        if let (false, [c]) = (e.is_orig, e.curves.as_slice()) {
            s.curve = Some(name_or_unknown(curve_name(*c), *c));
        }
    }

    fn ecdh_server_params(&mut self, ts: Time, e: &SslEcdhServerParams, _logs: &mut Logs) {
        let s = self.session(ts, &e.c);
        s.curve = Some(name_or_unknown(curve_name(e.curve), e.curve));
    }

    fn alert(&mut self, ts: Time, e: &SslAlert, logs: &mut Logs) {
        let s = self.session(ts, &e.c);
        s.last_alert = Some(name_or_unknown(alert_name(e.desc), e.desc));
        Self::add_history(s, logs, &e.c, ts, e.is_orig, 'l');
    }

    fn change_cipher_spec(&mut self, ts: Time, e: &SslChangeCipherSpec, logs: &mut Logs) {
        let s = self.session(ts, &e.c);
        if e.is_orig && s.client_ticket_empty_session_seen && !s.client_key_exchange_seen {
            s.resumed = true;
        }
        Self::add_history(s, logs, &e.c, ts, e.is_orig, 'i');
    }

    /// A certificate of a chain that parsed (files.zeek's `file_sniff` and ssl_finishing).
    fn certificate(&mut self, ts: Time, e: &X509Certificate, _logs: &mut Logs) {
        // Certificates other analyzers found (RDP's) are not TLS's.
        if e.f.source != "SSL" {
            return;
        }
        let Some(c) = e.f.conns.first() else {
            return;
        };
        let s = self.session(ts, c);
        s.certificates_seen = true;
        if e.f.is_orig {
            s.client_cert_chain_fps.push(e.cert_ref.fingerprint.clone());
        } else {
            // `cert_chain[0]`: the first certificate of the first chain, if it parsed.
            if !s.server_chain_started && e.f.mime_type == "application/x-x509-user-cert" {
                s.server_cert = Some(e.cert_ref.clone());
            }
            s.server_chain_started = true;
            s.cert_chain_fps.push(e.cert_ref.fingerprint.clone());
        }
    }

    fn handshake_message(&mut self, ts: Time, e: &SslHandshakeMessage, logs: &mut Logs) {
        let s = self.session(ts, &e.c);
        // A Certificate message with certificates: files.zeek's chains exist from
        // the first one on, parsed or not (empty vectors, not unset).
        if e.msg_type == 11 && e.length > 3 {
            s.certificates_seen = true;
            if !e.is_orig {
                s.server_chain_started = true;
            }
        }
        if e.is_orig && e.msg_type == 16 {
            s.client_key_exchange_seen = true;
        }
        let letter = match e.msg_type {
            0 => 'h',
            1 => 'c',
            2 if s.server_hello_was_hrr => 'j',
            2 => 's',
            3 => 'v',
            4 => 't',
            5 => 'e',
            6 => 'j',
            8 => 'o',
            11 => 'x',
            12 => 'k',
            13 => 'r',
            14 => 'n',
            15 => 'y',
            16 => 'g',
            20 => 'f',
            21 => 'w',
            22 => 'u',
            23 => 'a',
            24 => 'p',
            254 => 'm',
            _ => 'z',
        };
        if e.msg_type == 2 {
            s.server_hello_was_hrr = false;
        }
        Self::add_history(s, logs, &e.c, ts, e.is_orig, letter);
    }

    fn heartbeat(&mut self, ts: Time, e: &SslHeartbeat, logs: &mut Logs) {
        let s = self.session(ts, &e.c);
        Self::add_history(s, logs, &e.c, ts, e.is_orig, 'b');
    }

    /// Application data before the handshake ended (TLS 1.2 and older).
    fn plaintext_data(&mut self, ts: Time, e: &SslPlaintextData, logs: &mut Logs) {
        let s = self.session(ts, &e.c);
        if e.content_type == 23 && s.version_num.is_some() && !s.established {
            log_conn_weird(logs, ts, &e.c, "ssl_early_application_data", b"", "");
        }
    }

    fn established(&mut self, ts: Time, e: &SslEstablished, logs: &mut Logs) {
        let s = self.session(ts, &e.c);
        s.established = true;
        Self::finish(s, logs);
    }

    fn violation(&mut self, _ts: Time, e: &ProtocolViolation, logs: &mut Logs) {
        if !is_ssl_or_dtls(&e.atype) {
            return;
        }
        if let Some(s) = self.conns.get_mut(&e.c.uid) {
            Self::finish(s, logs);
        }
    }

    /// The roles swapped: `^`, as it is (no case, no length check).
    fn flipped(&mut self, ts: Time, e: &SslConnectionFlipped, _logs: &mut Logs) {
        self.session(ts, &e.c).history.push('^');
    }

    fn remove(&mut self, _ts: Time, e: &ConnectionStateRemove, logs: &mut Logs) {
        if let Some(mut s) = self.conns.remove(&e.c.uid) {
            Self::finish(&mut s, logs);
        }
    }

    /// `add_to_history`: upper case for the client; at most `max_ssl_history_length` letters.
    fn add_history(s: &mut Session, logs: &mut Logs, c: &Connection, ts: Time, is_orig: bool, letter: char) {
        if s.history.len() >= MAX_HISTORY {
            return;
        }
        s.history.push(if is_orig { letter.to_ascii_uppercase() } else { letter });
        if s.history.len() == MAX_HISTORY {
            log_conn_weird(logs, ts, c, "SSL_max_ssl_history_length_reached", b"", "");
        }
    }

    /// `finish`: the row, once.
    fn finish(s: &mut Session, logs: &mut Logs) {
        if s.logged {
            return;
        }
        s.logged = true;
        let id = &s.id;
        logs.write(
            &SSL_LOG,
            &[
                Value::Time(s.ts),
                Value::str(s.uid.as_bytes()),
                Value::Addr(id.orig_h),
                Value::Port(id.orig_p.number),
                Value::Addr(id.resp_h),
                Value::Port(id.resp_p.number),
                Value::opt(s.version_num, |v| Value::str(version_string(v))),
                Value::opt(s.cipher.as_ref(), Value::str),
                Value::opt(s.curve.as_ref(), Value::str),
                Value::opt(s.server_name.as_ref(), Value::str),
                Value::Bool(s.resumed),
                Value::opt(s.last_alert.as_ref(), Value::str),
                Value::opt(s.next_protocol.as_ref(), Value::str),
                Value::Bool(s.established),
                Value::str(&s.history),
                fps(s.certificates_seen, &s.cert_chain_fps),
                fps(s.certificates_seen, &s.client_cert_chain_fps),
                // Only with a server name and a first server certificate that parsed.
                match (&s.server_name, &s.server_cert) {
                    (Some(name), Some(cert)) => Value::Bool(matches_hostname(cert, name)),
                    _ => Value::Unset,
                },
            ],
        );
    }
}

fn fps(seen: bool, list: &[String]) -> Value {
    if seen {
        Value::Vector(list.iter().map(Value::str).collect())
    } else {
        Value::Unset
    }
}

/// main.zeek's SSL session follows both the SSL and the DTLS analyzer.
fn is_ssl_or_dtls(atype: &str) -> bool {
    atype == "Analyzer::ANALYZER_SSL" || atype == "Analyzer::ANALYZER_DTLS"
}
