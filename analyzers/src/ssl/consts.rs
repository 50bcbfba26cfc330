//! The names Zeek's ssl.log prints for numbers (base/protocols/ssl/consts.zeek:
//! `version_strings`, `cipher_desc`, `ec_curves`, `alert_descriptions`), read
//! once from the table files beside this one (`code<TAB>name`, hex or decimal).

use rustc_hash::FxHashMap;
use std::sync::OnceLock;

fn table(text: &'static str) -> FxHashMap<u64, &'static str> {
    text.lines()
        .filter_map(|line| {
            let (code, name) = line.split_once('\t')?;
            let code = match code.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16).ok()?,
                None => code.parse().ok()?,
            };
            Some((code, name))
        })
        .collect()
}

macro_rules! lookup {
    ($(#[$doc:meta])* $name:ident, $file:literal) => {
        $(#[$doc])*
        pub fn $name(code: u64) -> Option<&'static str> {
            static TABLE: OnceLock<FxHashMap<u64, &'static str>> = OnceLock::new();
            TABLE.get_or_init(|| table(include_str!($file))).get(&code).copied()
        }
    };
}

lookup!(
    /// `SSL::version_strings`.
    version_name, "consts/versions.tsv"
);
lookup!(
    /// `SSL::cipher_desc`.
    cipher_name, "consts/ciphers.tsv"
);
lookup!(
    /// `SSL::ec_curves`.
    curve_name, "consts/curves.tsv"
);
lookup!(
    /// `SSL::alert_descriptions`.
    alert_name, "consts/alert_descriptions.tsv"
);

/// A version as ssl.log prints it: its name, a TLS 1.3 draft (`0x7F17` is
/// `TLSv13-draft23`: Zeek divides by 255 and takes the rest by 127), or `unknown-N`.
pub fn version_string(v: u64) -> String {
    match version_name(v) {
        Some(n) => n.to_string(),
        None if v / 0xFF == 0x7F => format!("TLSv13-draft{}", v % 0x7F),
        None => format!("unknown-{v}"),
    }
}

/// A name from one of the tables, or Zeek's default `unknown-N`.
pub fn name_or_unknown(name: Option<&'static str>, v: u64) -> String {
    match name {
        Some(n) => n.to_string(),
        None => format!("unknown-{v}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_zeek_prints_them() {
        assert_eq!(version_string(0x0303), "TLSv12");
        assert_eq!(version_string(0x7F17), "TLSv13-draft23");
        assert_eq!(version_string(0x7E01), "unknown-32257");
        assert_eq!(cipher_name(0xC02F), Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"));
        assert_eq!(name_or_unknown(cipher_name(0x1234), 0x1234), "unknown-4660");
        assert_eq!(curve_name(23), Some("secp256r1"));
        assert_eq!(curve_name(29), Some("x25519"));
        assert_eq!(alert_name(40), Some("handshake_failure"));
    }
}
