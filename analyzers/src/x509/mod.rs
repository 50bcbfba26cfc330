//! X.509 certificates, as Zeek's X509 file analyzer reads the files protocol
//! analyzers hand it (TLS's Certificate messages: `file X509 = ...` in
//! `grammars/ssl.evt`). The DER is parsed by the `x509-parser` crate; this module
//! turns it into Zeek's records (`X509::Certificate`, the SAN and basic
//! constraints extensions), names things as OpenSSL prints them for Zeek
//! (`names.rs`), and raises `x509_certificate` and the extension events.
//! `x509.log` is written from them (`log.rs`).

pub mod log;
mod names;

use netpac_runtime::define_event;
use netpac_runtime::event::Events;
use netpac_runtime::files::{FileAnalyzerSpec, FileData};
use netpac_runtime::raise;
use netpac_runtime::record::Connection;
use netpac_runtime::zeek::{Time, ZString};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::sync::Arc;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate as ParsedCertificate};
use x509_parser::public_key::PublicKey;

/// Zeek's `fa_file`, as far as the X.509 events need it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FaFile {
    /// The file id (`fuid`).
    pub id: String,
    /// The analyzer that found the file (`SSL`).
    pub source: &'static str,
    /// Whether the originator sent it (a client certificate).
    pub is_orig: bool,
    /// The connection it came over (Zeek's `conns` table holds it).
    pub conns: Vec<Connection>,
    /// `application/x-x509-user-cert` for the first certificate of a chain,
    /// `application/x-x509-ca-cert` for the others.
    pub mime_type: &'static str,
}

/// Zeek's `X509::Certificate`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct X509CertificateRecord {
    pub version: u64,
    pub serial: String,
    pub subject: String,
    pub issuer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cn: Option<String>,
    pub not_valid_before: Time,
    pub not_valid_after: Time,
    pub key_alg: String,
    pub sig_alg: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_length: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exponent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curve: Option<&'static str>,
}

/// What Zeek's opaque `cert_ref` lets its BIFs ask later: the DER's SHA-256
/// (`x509_get_certificate_string` + `hash_function`) and the names
/// `x509_check_cert_hostname` matches (SAN DNS names, else the subject's CNs).
#[derive(Debug, Clone, serde::Serialize)]
pub struct CertRef {
    pub fingerprint: String,
    pub san_dns: Option<Vec<String>>,
    pub common_names: Vec<String>,
}

/// Zeek's `X509::SubjectAlternativeName`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SubjectAlternativeName {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns: Option<Vec<ZString>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<Vec<ZString>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<Vec<ZString>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<Vec<IpAddr>>,
    pub other_fields: bool,
}

/// Zeek's `X509::BasicConstraints`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BasicConstraints {
    pub ca: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_len: Option<u64>,
}

define_event!(
    /// Zeek event `x509_certificate` (`cert_ref` is netpac's stand-in for the opaque handle).
    X509Certificate = X509_CERTIFICATE { f: FaFile, cert_ref: Arc<CertRef>, cert: X509CertificateRecord }
);
define_event!(
    /// Zeek event `x509_ext_subject_alternative_name`.
    X509ExtSubjectAlternativeName = X509_EXT_SUBJECT_ALTERNATIVE_NAME { f: FaFile, ext: SubjectAlternativeName }
);
define_event!(
    /// Zeek event `x509_ext_basic_constraints`.
    X509ExtBasicConstraints = X509_EXT_BASIC_CONSTRAINTS { f: FaFile, ext: BasicConstraints }
);

/// The events this module raises.
pub const EVENT_NAMES: &[&str] = &[
    "x509_certificate",
    "x509_ext_basic_constraints",
    "x509_ext_subject_alternative_name",
];

/// The file analyzer for the registry.
pub const FILE_ANALYZER: FileAnalyzerSpec = FileAnalyzerSpec {
    tag: "X509",
    analyze,
};

/// A file id as Zeek's hashed handles look (`F` and 17 base-62 digits), from what
/// identifies the file: its connection, direction, place and content (the DER's digest).
fn file_id(uid: &str, is_orig: bool, index: u64, der_digest: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(uid.as_bytes());
    h.update([u8::from(is_orig)]);
    h.update(index.to_be_bytes());
    h.update(der_digest);
    let digest = h.finalize();
    let mut n = u128::from_be_bytes(digest[..16].try_into().expect("16 bytes"));
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut id = String::from("F");
    for _ in 0..17 {
        id.push(char::from(DIGITS[(n % 62) as usize]));
        n /= 62;
    }
    id
}

/// Lowercase hex of the DER's SHA-256 (Zeek's default `X509::hash_function`).
pub fn fingerprint(der: &[u8]) -> String {
    hex_lower(&Sha256::digest(der))
}

fn hex_lower(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Reads one certificate and raises its events. A certificate that does not parse
/// raises none (Zeek's weird `x509_cert_parse_error` is on the file, which netpac
/// does not log).
fn analyze(events: &mut Events, file: &FileData<'_, '_>) {
    use netpac_runtime::event::ids;
    let wanted = [ids::X509_CERTIFICATE, ids::X509_EXT_SUBJECT_ALTERNATIVE_NAME, ids::X509_EXT_BASIC_CONSTRAINTS];
    if !wanted.iter().any(|&id| events.wants(id)) {
        return;
    }
    let Ok((_, cert)) = ParsedCertificate::from_der(file.data) else {
        return;
    };
    let ecx = file.ecx;
    let conn = ecx.conn.record();
    // One digest of the DER: the fingerprint, and what the file id is made from.
    let digest = Sha256::digest(file.data);
    let f = FaFile {
        id: file_id(&conn.uid, file.is_orig, file.index, &digest),
        source: file.source,
        is_orig: file.is_orig,
        conns: vec![conn],
        mime_type: if file.index == 0 {
            "application/x-x509-user-cert"
        } else {
            "application/x-x509-ca-cert"
        },
    };
    let san = cert.subject_alternative_name().ok().flatten().map(|ext| {
        let mut out = SubjectAlternativeName::default();
        for name in &ext.value.general_names {
            match name {
                GeneralName::DNSName(d) => out.dns.get_or_insert_with(Vec::new).push(ZString::from(d.as_bytes().to_vec())),
                GeneralName::URI(u) => out.uri.get_or_insert_with(Vec::new).push(ZString::from(u.as_bytes().to_vec())),
                GeneralName::RFC822Name(e) => out.email.get_or_insert_with(Vec::new).push(ZString::from(e.as_bytes().to_vec())),
                GeneralName::IPAddress(b) => match b.len() {
                    4 => out.ip.get_or_insert_with(Vec::new).push(IpAddr::from(<[u8; 4]>::try_from(*b).expect("4 bytes"))),
                    16 => out.ip.get_or_insert_with(Vec::new).push(IpAddr::from(<[u8; 16]>::try_from(*b).expect("16 bytes"))),
                    _ => out.other_fields = true,
                },
                _ => out.other_fields = true,
            }
        }
        out
    });
    let common_names = names::common_names(cert.subject());
    let record = certificate_record(&cert, common_names.last().cloned());
    let cert_ref = Arc::new(CertRef {
        fingerprint: hex_lower(&digest),
        san_dns: san.as_ref().map(|s| {
            s.dns
                .iter()
                .flatten()
                .map(|d| String::from_utf8_lossy(d.as_bytes()).into_owned())
                .collect()
        }),
        common_names,
    });
    raise!(events, ecx.ts, X509Certificate { f: f.clone(), cert_ref, cert: record });
    if let Some(ext) = cert.basic_constraints().ok().flatten() {
        raise!(events, ecx.ts, X509ExtBasicConstraints {
            f: f.clone(),
            ext: BasicConstraints {
                ca: ext.value.ca,
                path_len: ext.value.path_len_constraint.map(u64::from),
            }
        });
    }
    if let Some(ext) = san {
        raise!(events, ecx.ts, X509ExtSubjectAlternativeName { f, ext });
    }
}

/// `X509::Certificate` as Zeek's X509.cc fills it (`cn`: the subject's last CN).
fn certificate_record(cert: &ParsedCertificate<'_>, cn: Option<String>) -> X509CertificateRecord {
    let spki = cert.public_key();
    let key_oid = spki.algorithm.algorithm.to_id_string();
    let (key_type, key_length, exponent, curve) = match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => (
            Some("rsa"),
            Some(names::bit_length(rsa.modulus)),
            Some(names::decimal(rsa.exponent)),
            None,
        ),
        Ok(PublicKey::EC(_)) => {
            let curve_oid = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            let curve = curve_oid.as_deref().and_then(names::curve_name);
            (Some("ecdsa"), curve.and_then(names::curve_bits), None, curve)
        }
        Ok(PublicKey::DSA(_)) => (Some("dsa"), None, None, None),
        _ => (None, None, None, None),
    };
    X509CertificateRecord {
        version: u64::from(cert.version().0) + 1,
        serial: names::serial(cert.raw_serial()),
        subject: names::rfc2253(cert.subject()),
        issuer: names::rfc2253(cert.issuer()),
        cn,
        not_valid_before: Time(cert.validity().not_before.timestamp().saturating_mul(1_000_000_000)),
        not_valid_after: Time(cert.validity().not_after.timestamp().saturating_mul(1_000_000_000)),
        key_alg: names::oid_long_name(&key_oid),
        sig_alg: names::oid_long_name(&cert.signature_algorithm.algorithm.to_id_string()),
        key_type,
        key_length,
        exponent,
        curve,
    }
}

/// `x509_check_cert_hostname`: whether `host` is a name the certificate is for.
/// Only the SAN DNS names count when the certificate has a SAN extension, else the
/// subject's last CN; a wildcard stands for one whole leftmost label or its start
/// (`f*.example.com`), needs three labels, and case matters (as observed in Zeek 8.2.2).
pub fn matches_hostname(cert: &CertRef, host: &[u8]) -> bool {
    let candidates: Vec<&str> = match &cert.san_dns {
        Some(dns) => dns.iter().map(String::as_str).collect(),
        None => cert.common_names.last().map(String::as_str).into_iter().collect(),
    };
    candidates.iter().any(|pattern| name_matches(pattern.as_bytes(), host))
}

fn name_matches(pattern: &[u8], host: &[u8]) -> bool {
    if pattern == host {
        return true;
    }
    let Some(star) = pattern.iter().position(|&b| b == b'*') else {
        return false;
    };
    let first_dot = pattern.iter().position(|&b| b == b'.');
    // The wildcard ends the leftmost label, and at least three labels follow it.
    if first_dot != Some(star + 1) || pattern.iter().filter(|&&b| b == b'.').count() < 2 {
        return false;
    }
    let (prefix, rest) = (&pattern[..star], &pattern[star + 1..]);
    let Some(host_dot) = host.iter().position(|&b| b == b'.') else {
        return false;
    };
    let (label, host_rest) = (&host[..host_dot], &host[host_dot..]);
    host_rest == rest && label.starts_with(prefix) && label.len() > prefix.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(san: Option<&[&str]>, cns: &[&str]) -> CertRef {
        CertRef {
            fingerprint: String::new(),
            san_dns: san.map(|s| s.iter().map(|x| x.to_string()).collect()),
            common_names: cns.iter().map(|x| x.to_string()).collect(),
        }
    }

    #[test]
    fn hostnames_match_as_zeek_matches_them() {
        let c = cert(Some(&["*.example.com", "f*.test.org"]), &["ignored.example"]);
        assert!(matches_hostname(&c, b"www.example.com"));
        assert!(!matches_hostname(&c, b"example.com"));
        assert!(!matches_hostname(&c, b"a.b.example.com"));
        assert!(matches_hostname(&c, b"foo.test.org"));
        assert!(!matches_hostname(&c, b"ignored.example"), "a SAN hides the CN");
        assert!(!matches_hostname(&c, b"www.Example.com"), "case matters");
        let no_san = cert(None, &["first.example", "last.example"]);
        assert!(matches_hostname(&no_san, b"last.example"));
        assert!(!matches_hostname(&no_san, b"first.example"));
        assert!(!matches_hostname(&cert(Some(&["*.com"]), &[]), b"x.com"));
    }

    #[test]
    fn file_ids_look_like_zeeks() {
        let id = file_id("CAbc", false, 0, b"digest");
        assert_eq!(id.len(), 18);
        assert!(id.starts_with('F'));
        assert_ne!(id, file_id("CAbc", false, 1, b"digest"));
    }
}
