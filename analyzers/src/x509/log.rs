//! `x509.log`, as Zeek's base/files/x509/main.zeek writes it: a row per
//! certificate once its extensions are read, unless the same certificate in the
//! same role (`host_cert`, `client_cert`) was logged within
//! `X509::relog_known_certificates_after` (a day).

use super::{X509Certificate, X509ExtBasicConstraints, X509ExtSubjectAlternativeName};
use netpac_runtime::event::{EventHandlers, EventSink};
use netpac_runtime::log::{Logs, Schema, Value};
use netpac_runtime::zeek::{Interval, Time};
use rustc_hash::FxHashMap;

/// Zeek's `X509::Info` columns.
pub static X509_LOG: Schema = Schema {
    path: "x509",
    stream: "X509::LOG",
    columns: &[
        ("ts", "time"),
        ("fingerprint", "string"),
        ("certificate.version", "count"),
        ("certificate.serial", "string"),
        ("certificate.subject", "string"),
        ("certificate.issuer", "string"),
        ("certificate.not_valid_before", "time"),
        ("certificate.not_valid_after", "time"),
        ("certificate.key_alg", "string"),
        ("certificate.sig_alg", "string"),
        ("certificate.key_type", "string"),
        ("certificate.key_length", "count"),
        ("certificate.exponent", "string"),
        ("certificate.curve", "string"),
        ("san.dns", "vector[string]"),
        ("san.uri", "vector[string]"),
        ("san.email", "vector[string]"),
        ("san.ip", "vector[addr]"),
        ("basic_constraints.ca", "bool"),
        ("basic_constraints.path_len", "count"),
        ("host_cert", "bool"),
        ("client_cert", "bool"),
    ],
};

/// `X509::relog_known_certificates_after`.
const RELOG_AFTER: Interval = Interval(86_400_000_000_000);
/// `X509::known_log_certs_maximum_size`.
const MAX_KNOWN: usize = 1_000_000;

/// A row waiting for the extensions of its certificate.
struct Pending {
    id: String,
    values: Vec<Value>,
    key: (String, bool, bool),
    ts: Time,
}

/// Writes `x509.log`.
#[derive(Default)]
pub struct X509Logger {
    pending: Option<Pending>,
    /// `known_log_certs`: (fingerprint, host_cert, client_cert) → when logged.
    known: FxHashMap<(String, bool, bool), Time>,
}

fn strings(v: &Option<Vec<netpac_runtime::zeek::ZString>>) -> Value {
    match v {
        Some(v) => Value::Vector(v.iter().map(|s| Value::str(s.as_bytes())).collect()),
        None => Value::Unset,
    }
}

impl X509Logger {
    /// The `x509.log` writer as an event consumer.
    pub fn sink() -> Box<dyn EventSink> {
        Box::new(
            EventHandlers::new(X509Logger::default())
                .on::<X509Certificate>(X509Logger::certificate)
                .on::<X509ExtBasicConstraints>(X509Logger::basic_constraints)
                .on::<X509ExtSubjectAlternativeName>(X509Logger::san)
                .on_finish(|l, logs| {
                    l.flush(logs);
                    Ok(())
                }),
        )
    }

    fn certificate(&mut self, ts: Time, e: &X509Certificate, logs: &mut Logs) {
        // A certificate's extension events come right after it: the one before is complete.
        self.flush(logs);
        let c = &e.cert;
        let host_cert = e.f.mime_type == "application/x-x509-user-cert";
        let client_cert = e.f.is_orig;
        let values = vec![
            Value::Time(ts),
            Value::str(&e.cert_ref.fingerprint),
            Value::Count(c.version),
            Value::str(&c.serial),
            Value::str(&c.subject),
            Value::str(&c.issuer),
            Value::Time(c.not_valid_before),
            Value::Time(c.not_valid_after),
            Value::str(&c.key_alg),
            Value::str(&c.sig_alg),
            Value::opt(c.key_type, Value::str),
            Value::opt(c.key_length, Value::Count),
            Value::opt(c.exponent.as_ref(), Value::str),
            Value::opt(c.curve, Value::str),
            Value::Unset,
            Value::Unset,
            Value::Unset,
            Value::Unset,
            Value::Unset,
            Value::Unset,
            Value::Bool(host_cert),
            Value::Bool(client_cert),
        ];
        self.pending = Some(Pending {
            id: e.f.id.clone(),
            values,
            key: (e.cert_ref.fingerprint.clone(), host_cert, client_cert),
            ts,
        });
    }

    fn basic_constraints(&mut self, _ts: Time, e: &X509ExtBasicConstraints, _logs: &mut Logs) {
        if let Some(p) = self.pending.as_mut().filter(|p| p.id == e.f.id) {
            p.values[18] = Value::Bool(e.ext.ca);
            p.values[19] = Value::opt(e.ext.path_len, Value::Count);
        }
    }

    fn san(&mut self, _ts: Time, e: &X509ExtSubjectAlternativeName, _logs: &mut Logs) {
        if let Some(p) = self.pending.as_mut().filter(|p| p.id == e.f.id) {
            p.values[14] = strings(&e.ext.dns);
            p.values[15] = strings(&e.ext.uri);
            p.values[16] = strings(&e.ext.email);
            p.values[17] = match &e.ext.ip {
                Some(ips) => Value::Vector(ips.iter().map(|a| Value::Addr(*a)).collect()),
                None => Value::Unset,
            };
        }
    }

    /// Writes the waiting row unless its certificate was logged in that role lately.
    fn flush(&mut self, logs: &mut Logs) {
        let Some(p) = self.pending.take() else {
            return;
        };
        if let Some(&when) = self.known.get(&p.key) {
            if p.ts.since(when) < RELOG_AFTER {
                return;
            }
        }
        if self.known.len() < MAX_KNOWN {
            self.known.insert(p.key, p.ts);
        }
        logs.write(&X509_LOG, &p.values);
    }
}
