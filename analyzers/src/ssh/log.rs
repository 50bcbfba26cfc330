//! `ssh.log`, built from the SSH events as Zeek's base/protocols/ssh/main.zeek
//! builds it: a session per connection from its first version line; the
//! algorithms both sides agree on (the first of the client's list the server also
//! lists); the host key's fingerprint; the login guess. A row is written at a
//! successful login, else when the connection is removed.

use crate::ssh::{
    SshAuthAttempted, SshCapabilities, SshClientVersion, SshServerVersion, Ssh2ServerHostKey,
};
use base64::Engine as _;
use netpac_runtime::conn::events::ConnectionStateRemove;
use netpac_runtime::event::{EventHandlers, EventSink};
use netpac_runtime::log::{Logs, Schema, Value};
use netpac_runtime::record::Connection;
use netpac_runtime::weird::log_conn_weird;
use netpac_runtime::zeek::{ConnId, Time, ZString};
use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::sync::Arc;

/// Zeek's `SSH::Info` columns in the default log.
pub static SSH_LOG: Schema = Schema {
    path: "ssh",
    stream: "SSH::LOG",
    columns: &[
        ("ts", "time"),
        ("uid", "string"),
        ("id.orig_h", "addr"),
        ("id.orig_p", "port"),
        ("id.resp_h", "addr"),
        ("id.resp_p", "port"),
        ("version", "count"),
        ("auth_success", "bool"),
        ("auth_attempts", "count"),
        ("direction", "enum"),
        ("client", "string"),
        ("server", "string"),
        ("cipher_alg", "string"),
        ("mac_alg", "string"),
        ("compression_alg", "string"),
        ("kex_alg", "string"),
        ("host_key_alg", "string"),
        ("host_key_fingerprint", "string"),
    ],
};

/// `SSH::compression_algorithms`: with these, Zeek makes no login guess.
const COMPRESSION: [&[u8]; 2] = [b"zlib", b"zlib@openssh.com"];

/// `c$ssh`.
#[derive(Default)]
struct Session {
    ts: Time,
    uid: Option<Arc<str>>,
    id: Option<ConnId>,
    client: Option<Vec<u8>>,
    server: Option<Vec<u8>>,
    /// The first KEXINIT's lists and whether it was the server's.
    first_capabilities: Option<(bool, Lists)>,
    cipher_alg: Option<String>,
    mac_alg: Option<String>,
    compression_alg: Option<String>,
    kex_alg: Option<String>,
    host_key_alg: Option<String>,
    host_key_fingerprint: Option<String>,
    auth_success: Option<bool>,
    auth_attempts: u64,
    logged: bool,
}

/// One side's name-lists.
#[derive(Clone, Default)]
struct Lists {
    kex: Vec<Vec<u8>>,
    host_key: Vec<Vec<u8>>,
    enc: (Vec<Vec<u8>>, Vec<Vec<u8>>),
    mac: (Vec<Vec<u8>>, Vec<Vec<u8>>),
    comp: (Vec<Vec<u8>>, Vec<Vec<u8>>),
}

fn strings(v: &[ZString]) -> Vec<Vec<u8>> {
    v.iter().map(|s| s.as_bytes().to_vec()).collect()
}

/// `find_alg`: the first client entry the server lists too.
fn find_alg(client: &[Vec<u8>], server: &[Vec<u8>]) -> String {
    client
        .iter()
        .find(|c| server.contains(c))
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .unwrap_or_else(|| "Algorithm negotiation failed".to_string())
}

/// `find_bidirectional_alg`: one name when both directions agree on it.
fn find_bidirectional(client: &(Vec<Vec<u8>>, Vec<Vec<u8>>), server: &(Vec<Vec<u8>>, Vec<Vec<u8>>)) -> String {
    let c2s = find_alg(&client.0, &server.0);
    let s2c = find_alg(&client.1, &server.1);
    if c2s == s2c {
        c2s
    } else {
        format!("To server: {c2s}, to client: {s2c}")
    }
}

/// Zeek's `ssh_server_host_key_fingerprint`: "SHA256:" and the base64 of the first
/// 24 bytes of the key blob's SHA-256 (32 characters, as Zeek 8 prints it).
pub fn host_key_fingerprint(key: &[u8]) -> String {
    let digest = Sha256::digest(key);
    format!("SHA256:{}", base64::engine::general_purpose::STANDARD_NO_PAD.encode(&digest[..24]))
}

/// `Site::is_local_addr` with Zeek's defaults: no `local_nets`, private address
/// space local.
fn is_local(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(v) => {
            let o = v.octets();
            v.is_private()
                || v.is_loopback()
                || v.is_link_local()
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || o[0] == 0
        }
        IpAddr::V6(v) => {
            let s = v.segments();
            v.is_loopback() || (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

/// main.zeek's `set_version`: the protocol version from both version strings.
fn version(s: &Session, logs: &mut Logs, ts: Time, c: &Connection) -> Option<u64> {
    let (client, server) = (s.client.as_ref()?, s.server.as_ref()?);
    if client.is_empty() || server.is_empty() {
        return None;
    }
    if client.len() <= 4 || server.len() <= 4 {
        log_conn_weird(logs, ts, c, "SSH_cannot_determine_version", format_pair(server, client).as_bytes(), "");
        return None;
    }
    let one_99 = |v: &[u8]| v.len() > 7 && v[6] == b'9' && v[7] == b'9';
    match (client[4], server[4]) {
        (b'1', b'2') | (b'2', b'1') => {
            let ok = if client[4] == b'1' { one_99(client) } else { one_99(server) };
            if ok {
                Some(2)
            } else {
                log_conn_weird(logs, ts, c, "SSH_version_mismatch", format_pair(server, client).as_bytes(), "");
                None
            }
        }
        (b'1', b'1') => Some(if one_99(server) && one_99(client) { 2 } else { 1 }),
        (b'2', b'2') => Some(2),
        _ => None,
    }
}

fn format_pair(server: &[u8], client: &[u8]) -> String {
    format!("{} vs {}", String::from_utf8_lossy(server), String::from_utf8_lossy(client))
}

/// Writes `ssh.log` from the SSH events.
#[derive(Default)]
pub struct SshLogger {
    conns: FxHashMap<Arc<str>, Session>,
}

impl SshLogger {
    /// The `ssh.log` writer as an event consumer.
    pub fn sink() -> Box<dyn EventSink> {
        Box::new(
            EventHandlers::new(SshLogger::default())
                .on::<SshClientVersion>(SshLogger::client_version)
                .on::<SshServerVersion>(SshLogger::server_version)
                .on::<SshCapabilities>(SshLogger::capabilities)
                .on::<Ssh2ServerHostKey>(SshLogger::host_key)
                .on::<SshAuthAttempted>(SshLogger::auth_attempted)
                .on::<ConnectionStateRemove>(SshLogger::remove),
        )
    }

    fn session(&mut self, ts: Time, c: &Connection) -> &mut Session {
        let s = self.conns.entry(c.uid.clone()).or_default();
        if s.uid.is_none() {
            s.ts = ts;
            s.uid = Some(c.uid.clone());
            s.id = Some(c.id);
        }
        s
    }

    fn client_version(&mut self, ts: Time, e: &SshClientVersion, _logs: &mut Logs) {
        self.session(ts, &e.c).client = Some(e.version.as_bytes().to_vec());
    }

    fn server_version(&mut self, ts: Time, e: &SshServerVersion, _logs: &mut Logs) {
        self.session(ts, &e.c).server = Some(e.version.as_bytes().to_vec());
    }

    /// The first KEXINIT is kept; the other side's decides the algorithms.
    fn capabilities(&mut self, ts: Time, e: &SshCapabilities, _logs: &mut Logs) {
        let s = self.session(ts, &e.c);
        let cap = &e.capabilities;
        let lists = Lists {
            kex: strings(&cap.kex_algorithms),
            host_key: strings(&cap.server_host_key_algorithms),
            enc: (strings(&cap.encryption_algorithms.client_to_server), strings(&cap.encryption_algorithms.server_to_client)),
            mac: (strings(&cap.mac_algorithms.client_to_server), strings(&cap.mac_algorithms.server_to_client)),
            comp: (strings(&cap.compression_algorithms.client_to_server), strings(&cap.compression_algorithms.server_to_client)),
        };
        match s.first_capabilities.take() {
            Some((first_is_server, first)) if first_is_server != cap.is_server => {
                let (client, server) = if cap.is_server { (&first, &lists) } else { (&lists, &first) };
                s.cipher_alg = Some(find_bidirectional(&client.enc, &server.enc));
                s.mac_alg = Some(find_bidirectional(&client.mac, &server.mac));
                s.compression_alg = Some(find_bidirectional(&client.comp, &server.comp));
                s.kex_alg = Some(find_alg(&client.kex, &server.kex));
                s.host_key_alg = Some(find_alg(&client.host_key, &server.host_key));
                s.first_capabilities = Some((first_is_server, first));
            }
            Some(kept) => s.first_capabilities = Some(kept),
            None => s.first_capabilities = Some((cap.is_server, lists)),
        }
    }

    fn host_key(&mut self, ts: Time, e: &Ssh2ServerHostKey, _logs: &mut Logs) {
        self.session(ts, &e.c).host_key_fingerprint = Some(host_key_fingerprint(e.key.as_bytes()));
    }

    fn auth_attempted(&mut self, ts: Time, e: &SshAuthAttempted, logs: &mut Logs) {
        let s = self.session(ts, &e.c);
        if s.auth_success == Some(true) {
            return;
        }
        let compressed = s
            .compression_alg
            .as_deref()
            .is_some_and(|a| COMPRESSION.contains(&a.as_bytes()));
        if compressed {
            // No guess with compression; a success still writes the row.
            if e.authenticated {
                Self::finish(s, logs, &e.c, ts);
            }
            return;
        }
        s.auth_success = Some(e.authenticated);
        s.auth_attempts += 1;
        if e.authenticated {
            Self::finish(s, logs, &e.c, ts);
        }
    }

    fn remove(&mut self, ts: Time, e: &ConnectionStateRemove, logs: &mut Logs) {
        if let Some(mut s) = self.conns.remove(&e.c.uid) {
            Self::finish(&mut s, logs, &e.c, ts);
        }
    }

    fn finish(s: &mut Session, logs: &mut Logs, c: &Connection, ts: Time) {
        if s.logged {
            return;
        }
        s.logged = true;
        let (Some(uid), Some(id)) = (&s.uid, &s.id) else {
            return;
        };
        let direction = match (is_local(id.orig_h), is_local(id.resp_h)) {
            (true, false) => Value::Enum("OUTBOUND"),
            (false, true) => Value::Enum("INBOUND"),
            _ => Value::Unset,
        };
        let version = version(s, logs, ts, c);
        logs.write(
            &SSH_LOG,
            &[
                Value::Time(s.ts),
                Value::str(uid.as_bytes()),
                Value::Addr(id.orig_h),
                Value::Port(id.orig_p.number),
                Value::Addr(id.resp_h),
                Value::Port(id.resp_p.number),
                Value::opt(version, Value::Count),
                Value::opt(s.auth_success, Value::Bool),
                Value::Count(s.auth_attempts),
                direction,
                Value::opt(s.client.as_ref(), Value::str),
                Value::opt(s.server.as_ref(), Value::str),
                Value::opt(s.cipher_alg.as_ref(), Value::str),
                Value::opt(s.mac_alg.as_ref(), Value::str),
                Value::opt(s.compression_alg.as_ref(), Value::str),
                Value::opt(s.kex_alg.as_ref(), Value::str),
                Value::opt(s.host_key_alg.as_ref(), Value::str),
                Value::opt(s.host_key_fingerprint.as_ref(), Value::str),
            ],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithms_as_main_zeek_picks_them() {
        let l = |v: &[&str]| v.iter().map(|s| s.as_bytes().to_vec()).collect::<Vec<_>>();
        assert_eq!(find_alg(&l(&["a", "b"]), &l(&["b", "a"])), "a");
        assert_eq!(find_alg(&l(&["a"]), &l(&["b"])), "Algorithm negotiation failed");
        let c = (l(&["x", "y"]), l(&["y"]));
        let s = (l(&["x"]), l(&["y"]));
        assert_eq!(find_bidirectional(&c, &s), "To server: x, to client: y");
    }

    #[test]
    fn fingerprints_are_zeeks_truncated_sha256() {
        let fp = host_key_fingerprint(b"key");
        assert!(fp.starts_with("SHA256:"));
        assert_eq!(fp.len(), 7 + 32);
    }
}
