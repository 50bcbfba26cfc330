//! `kerberos.log`, as Zeek's base/protocols/krb/main.zeek writes it: one row per
//! connection's exchange, written at the reply or error that ends it (or when the
//! connection goes away), with Zeek's names for error codes and ciphers.

use crate::krb::{
    KrbApRequest, KrbAsRequest, KrbAsResponse, KrbError, KrbTgsRequest, KrbTgsResponse, KRBKDCRequest,
    KRBKDCResponse,
};
use crate::x509::X509Certificate;
use netpac_runtime::conn::events::ConnectionStateRemove;
use netpac_runtime::event::{EventHandlers, EventSink};
use netpac_runtime::log::{Logs, Schema, Value};
use netpac_runtime::record::Connection;
use netpac_runtime::zeek::Time;
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Zeek's `KRB::Info` columns (with base/protocols/krb/files.zeek's certificate columns).
pub static KERBEROS_LOG: Schema = Schema {
    path: "kerberos",
    stream: "KRB::LOG",
    columns: &[
        ("ts", "time"),
        ("uid", "string"),
        ("id.orig_h", "addr"),
        ("id.orig_p", "port"),
        ("id.resp_h", "addr"),
        ("id.resp_p", "port"),
        ("request_type", "string"),
        ("client", "string"),
        ("service", "string"),
        ("success", "bool"),
        ("error_msg", "string"),
        ("from", "time"),
        ("till", "time"),
        ("cipher", "string"),
        ("forwardable", "bool"),
        ("renewable", "bool"),
        ("client_cert_subject", "string"),
        ("client_cert_fuid", "string"),
        ("server_cert_subject", "string"),
        ("server_cert_fuid", "string"),
    ],
};

/// Errors Zeek's `KRB::ignored_errors` drops, row and all.
const IGNORED_ERRORS: [&[u8]; 2] = [b"NEEDED_PREAUTH", b"Need to use PA-ENC-TIMESTAMP/PA-PK-AS-REQ"];

/// `c$krb` of one connection.
#[derive(Debug, Clone)]
struct Info {
    ts: Time,
    c: Connection,
    request_type: Option<&'static str>,
    client: Option<Vec<u8>>,
    service: Option<Vec<u8>>,
    success: Option<bool>,
    error_msg: Option<Vec<u8>>,
    from: Option<Time>,
    till: Option<Time>,
    cipher: Option<String>,
    forwardable: Option<bool>,
    renewable: Option<bool>,
    /// PKINIT certificates' subjects (files.zeek's `fill_in_subjects`).
    client_cert_subject: Option<String>,
    client_cert_fuid: Option<String>,
    server_cert_subject: Option<String>,
    server_cert_fuid: Option<String>,
    logged: bool,
}

/// Writes `kerberos.log` from the KRB events.
#[derive(Default)]
pub struct KrbLogger {
    open: FxHashMap<Arc<str>, Info>,
}

impl KrbLogger {
    /// The `kerberos.log` writer as an event consumer.
    pub fn sink() -> Box<dyn EventSink> {
        Box::new(
            EventHandlers::new(KrbLogger::default())
                .on::<KrbAsRequest>(|s, ts, e, _| s.request(ts, &e.c, "AS", &e.msg))
                .on::<KrbTgsRequest>(|s, ts, e, _| s.request(ts, &e.c, "TGS", &e.msg))
                .on::<KrbAsResponse>(|s, ts, e, logs| s.response(ts, &e.c, &e.msg, logs))
                .on::<KrbTgsResponse>(|s, ts, e, logs| s.response(ts, &e.c, &e.msg, logs))
                .on::<KrbApRequest>(|s, ts, e, _| {
                    s.session(ts, &e.c);
                })
                .on::<KrbError>(KrbLogger::error)
                .on::<X509Certificate>(KrbLogger::certificate)
                .on::<ConnectionStateRemove>(KrbLogger::remove),
        )
    }

    /// Zeek's `set_session`: the row of the connection, made at its first message;
    /// `None` once it was written (later messages change nothing).
    fn session(&mut self, ts: Time, c: &Connection) -> Option<&mut Info> {
        let info = self.open.entry(c.uid.clone()).or_insert_with(|| Info {
            ts,
            c: c.clone(),
            request_type: None,
            client: None,
            service: None,
            success: None,
            error_msg: None,
            from: None,
            till: None,
            cipher: None,
            forwardable: None,
            renewable: None,
            client_cert_subject: None,
            client_cert_fuid: None,
            server_cert_subject: None,
            server_cert_fuid: None,
            logged: false,
        });
        (!info.logged).then_some(info)
    }

    fn request(&mut self, ts: Time, c: &Connection, kind: &'static str, m: &KRBKDCRequest) {
        let Some(info) = self.session(ts, c) else { return };
        info.request_type = Some(kind);
        if kind == "AS" {
            let name = m.client_name.as_ref().map(|n| n.as_bytes()).unwrap_or_default();
            let realm = m.service_realm.as_ref().map(|n| n.as_bytes()).unwrap_or_default();
            info.client = Some([name, b"/", realm].concat());
        }
        if let Some(s) = &m.service_name {
            info.service = Some(s.as_bytes().to_vec());
        }
        if m.from.is_some() {
            info.from = m.from;
        }
        if m.till.is_some() {
            info.till = m.till;
        }
        if let Some(o) = &m.kdc_options {
            info.forwardable = Some(o.forwardable);
            info.renewable = Some(o.renewable);
        }
    }

    fn response(&mut self, ts: Time, c: &Connection, m: &KRBKDCResponse, logs: &mut Logs) {
        let Some(info) = self.session(ts, c) else { return };
        if info.client.is_none() {
            let realm = m.client_realm.as_ref().map(|n| n.as_bytes()).unwrap_or_default();
            info.client = Some([m.client_name.as_bytes(), b"/", realm].concat());
        }
        info.service = Some(m.ticket.service_name.as_bytes().to_vec());
        info.cipher = Some(cipher_name(m.ticket.cipher));
        info.success = Some(true);
        write(logs, info);
    }

    fn error(&mut self, ts: Time, e: &KrbError, logs: &mut Logs) {
        let m = &e.msg;
        let Some(info) = self.session(ts, &e.c) else { return };
        if m.error_text.as_ref().is_some_and(|t| IGNORED_ERRORS.contains(&t.as_bytes())) {
            self.open.remove(&e.c.uid);
            return;
        }
        if info.client.is_none() && (m.client_name.is_some() || m.client_realm.is_some()) {
            let mut client = Vec::new();
            if let Some(n) = &m.client_name {
                client.extend_from_slice(n.as_bytes());
                client.push(b'/');
            }
            if let Some(r) = &m.client_realm {
                client.extend_from_slice(r.as_bytes());
            }
            info.client = Some(client);
        }
        if let Some(s) = &m.service_name {
            info.service = Some(s.as_bytes().to_vec());
        }
        info.success = Some(false);
        info.error_msg = match &m.error_text {
            Some(t) => Some(t.as_bytes().to_vec()),
            None => error_name(m.error_code).map(|n| n.as_bytes().to_vec()),
        };
        write(logs, info);
    }

    /// A PKINIT certificate (files.zeek's `file_over_new_connection`): the client's
    /// from a request, the KDC's from a reply.
    fn certificate(&mut self, ts: Time, e: &X509Certificate, _logs: &mut Logs) {
        if e.f.source != "KRB" {
            return;
        }
        let Some(c) = e.f.conns.first() else { return };
        let Some(info) = self.session(ts, c) else { return };
        let (subject, fuid) = (Some(e.cert.subject.clone()), Some(e.f.id.clone()));
        if e.f.is_orig {
            (info.client_cert_subject, info.client_cert_fuid) = (subject, fuid);
        } else {
            (info.server_cert_subject, info.server_cert_fuid) = (subject, fuid);
        }
    }

    /// `finalize_krb`: a row not written yet is written when the connection goes away.
    fn remove(&mut self, _ts: Time, e: &ConnectionStateRemove, logs: &mut Logs) {
        if self.open.is_empty() {
            return;
        }
        if let Some(mut info) = self.open.remove(&e.c.uid) {
            if !info.logged {
                write(logs, &mut info);
            }
        }
    }
}

fn write(logs: &mut Logs, info: &mut Info) {
    info.logged = true;
    let s = |v: &Option<Vec<u8>>| Value::opt(v.as_ref(), Value::str);
    let [t, uid, oh, op, rh, rp] = Value::conn_columns(info.ts, &info.c);
    logs.write(
        &KERBEROS_LOG,
        &[
            t,
            uid,
            oh,
            op,
            rh,
            rp,
            Value::opt(info.request_type, Value::str),
            s(&info.client),
            s(&info.service),
            Value::opt(info.success, Value::Bool),
            s(&info.error_msg),
            Value::opt(info.from, Value::Time),
            Value::opt(info.till, Value::Time),
            Value::opt(info.cipher.as_deref(), Value::str),
            Value::opt(info.forwardable, Value::Bool),
            Value::opt(info.renewable, Value::Bool),
            Value::opt(info.client_cert_subject.as_deref(), Value::str),
            Value::opt(info.client_cert_fuid.as_deref(), Value::str),
            Value::opt(info.server_cert_subject.as_deref(), Value::str),
            Value::opt(info.server_cert_fuid.as_deref(), Value::str),
        ],
    );
}

/// Zeek's `KRB::cipher_name`, with its default `unknown-N`.
fn cipher_name(n: u64) -> String {
    let name = match n {
        1 => "des-cbc-crc",
        2 => "des-cbc-md4",
        3 => "des-cbc-md5",
        5 => "des3-cbc-md5",
        7 => "des3-cbc-sha1",
        9 => "dsaWithSHA1-CmsOID",
        10 => "md5WithRSAEncryption-CmsOID",
        11 => "sha1WithRSAEncryption-CmsOID",
        12 => "rc2CBC-EnvOID",
        13 => "rsaEncryption-EnvOID",
        14 => "rsaES-OAEP-ENV-OID",
        15 => "des-ede3-cbc-Env-OID",
        16 => "des3-cbc-sha1-kd",
        17 => "aes128-cts-hmac-sha1-96",
        18 => "aes256-cts-hmac-sha1-96",
        23 => "rc4-hmac",
        24 => "rc4-hmac-exp",
        25 => "camellia128-cts-cmac",
        26 => "camellia256-cts-cmac",
        65 => "subkey-keymaterial",
        _ => return format!("unknown-{n}"),
    };
    name.to_string()
}

/// Zeek's `KRB::error_msg` (RFC 4120's error codes); `None` for codes it does not
/// list (Zeek checks membership, so its default is never used).
fn error_name(code: u64) -> Option<&'static str> {
    const NAMES: [&str; 77] = [
        "KDC_ERR_NONE", "KDC_ERR_NAME_EXP", "KDC_ERR_SERVICE_EXP", "KDC_ERR_BAD_PVNO",
        "KDC_ERR_C_OLD_MAST_KVNO", "KDC_ERR_S_OLD_MAST_KVNO", "KDC_ERR_C_PRINCIPAL_UNKNOWN",
        "KDC_ERR_S_PRINCIPAL_UNKNOWN", "KDC_ERR_PRINCIPAL_NOT_UNIQUE", "KDC_ERR_NULL_KEY",
        "KDC_ERR_CANNOT_POSTDATE", "KDC_ERR_NEVER_VALID", "KDC_ERR_POLICY", "KDC_ERR_BADOPTION",
        "KDC_ERR_ETYPE_NOSUPP", "KDC_ERR_SUMTYPE_NOSUPP", "KDC_ERR_PADATA_TYPE_NOSUPP",
        "KDC_ERR_TRTYPE_NOSUPP", "KDC_ERR_CLIENT_REVOKED", "KDC_ERR_SERVICE_REVOKED",
        "KDC_ERR_TGT_REVOKED", "KDC_ERR_CLIENT_NOTYET", "KDC_ERR_SERVICE_NOTYET", "KDC_ERR_KEY_EXPIRED",
        "KDC_ERR_PREAUTH_FAILED", "KDC_ERR_PREAUTH_REQUIRED", "KDC_ERR_SERVER_NOMATCH",
        "KDC_ERR_MUST_USE_USER2USER", "KDC_ERR_PATH_NOT_ACCEPTED", "KDC_ERR_SVC_UNAVAILABLE", "",
        "KRB_AP_ERR_BAD_INTEGRITY", "KRB_AP_ERR_TKT_EXPIRED", "KRB_AP_ERR_TKT_NYV", "KRB_AP_ERR_REPEAT",
        "KRB_AP_ERR_NOT_US", "KRB_AP_ERR_BADMATCH", "KRB_AP_ERR_SKEW", "KRB_AP_ERR_BADADDR",
        "KRB_AP_ERR_BADVERSION", "KRB_AP_ERR_MSG_TYPE", "KRB_AP_ERR_MODIFIED", "KRB_AP_ERR_BADORDER", "",
        "KRB_AP_ERR_BADKEYVER", "KRB_AP_ERR_NOKEY", "KRB_AP_ERR_MUT_FAIL", "KRB_AP_ERR_BADDIRECTION",
        "KRB_AP_ERR_METHOD", "KRB_AP_ERR_BADSEQ", "KRB_AP_ERR_INAPP_CKSUM", "KRB_AP_PATH_NOT_ACCEPTED",
        "KRB_ERR_RESPONSE_TOO_BIG", "", "", "", "", "", "", "", "KRB_ERR_GENERIC", "KRB_ERR_FIELD_TOOLONG",
        "KDC_ERROR_CLIENT_NOT_TRUSTED", "KDC_ERROR_KDC_NOT_TRUSTED", "KDC_ERROR_INVALID_SIG",
        "KDC_ERR_KEY_TOO_WEAK", "KDC_ERR_CERTIFICATE_MISMATCH", "KRB_AP_ERR_NO_TGT", "KDC_ERR_WRONG_REALM",
        "KRB_AP_ERR_USER_TO_USER_REQUIRED", "KDC_ERR_CANT_VERIFY_CERTIFICATE",
        "KDC_ERR_INVALID_CERTIFICATE", "KDC_ERR_REVOKED_CERTIFICATE", "KDC_ERR_REVOCATION_STATUS_UNKNOWN",
        "KDC_ERR_REVOCATION_STATUS_UNAVAILABLE", "KDC_ERR_CLIENT_NAME_MISMATCH", "KDC_ERR_KDC_NAME_MISMATCH",
    ];
    NAMES.get(usize::try_from(code).ok()?).copied().filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeek_names_for_codes_and_ciphers() {
        assert_eq!(error_name(6), Some("KDC_ERR_C_PRINCIPAL_UNKNOWN"));
        assert_eq!(error_name(25), Some("KDC_ERR_PREAUTH_REQUIRED"));
        assert_eq!(error_name(30), None);
        assert_eq!(error_name(60), Some("KRB_ERR_GENERIC"));
        assert_eq!(error_name(76), Some("KDC_ERR_KDC_NAME_MISMATCH"));
        assert_eq!(error_name(77), None);
        assert_eq!(cipher_name(18), "aes256-cts-hmac-sha1-96");
        assert_eq!(cipher_name(99), "unknown-99");
    }
}
