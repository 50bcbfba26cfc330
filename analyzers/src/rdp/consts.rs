//! The names Zeek's rdp.log prints for numbers (base/protocols/rdp/consts.zeek);
//! an unknown number prints as Zeek's `&default` does (`client_build-%d`, ...).

use rustc_hash::FxHashMap;
use std::sync::OnceLock;

/// `RDP::builds`.
pub fn build(b: u64) -> String {
    let name = match b {
        419 => "RDP 4.0",
        2195 | 2221 => "RDP 5.0",
        2600 => "RDP 5.1",
        3790 => "RDP 5.2",
        6000 => "RDP 6.0",
        6001 => "RDP 6.1",
        6002 => "RDP 6.2",
        7600 => "RDP 7.0",
        7601 => "RDP 7.1",
        9200 => "RDP 8.0",
        9600 => "RDP 8.1",
        25189 | 25282 => "RDP 8.0 (Mac)",
        _ => return format!("client_build-{b}"),
    };
    name.to_string()
}

/// `RDP::security_protocols`.
pub fn security_protocol(p: u64) -> String {
    match p {
        0 => "RDP".into(),
        1 => "SSL".into(),
        2 => "HYBRID".into(),
        8 => "HYBRID_EX".into(),
        _ => format!("security_protocol-{p}"),
    }
}

/// `RDP::failure_codes`.
pub fn failure_code(c: u64) -> String {
    match c {
        1 => "SSL_REQUIRED_BY_SERVER".into(),
        2 => "SSL_NOT_ALLOWED_BY_SERVER".into(),
        3 => "SSL_CERT_NOT_ON_SERVER".into(),
        4 => "INCONSISTENT_FLAGS".into(),
        5 => "HYBRID_REQUIRED_BY_SERVER".into(),
        6 => "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER".into(),
        _ => format!("failure_code-{c}"),
    }
}

/// `RDP::cert_types`.
pub fn cert_type(t: u64) -> String {
    match t {
        1 => "RSA".into(),
        2 => "X.509".into(),
        _ => format!("cert_type-{t}"),
    }
}

/// `RDP::encryption_methods`; FIPS is keyed on decimal 10 there, so 0x10 prints
/// as `encryption_method-16`, as in Zeek.
pub fn encryption_method(m: u64) -> String {
    match m {
        0 => "None".into(),
        1 => "40bit".into(),
        2 => "128bit".into(),
        8 => "56bit".into(),
        10 => "FIPS".into(),
        _ => format!("encryption_method-{m}"),
    }
}

/// `RDP::encryption_levels`.
pub fn encryption_level(l: u64) -> String {
    match l {
        0 => "None".into(),
        1 => "Low".into(),
        2 => "Client compatible".into(),
        3 => "High".into(),
        4 => "FIPS".into(),
        _ => format!("encryption_level-{l}"),
    }
}

/// `RDP::high_color_depths`.
pub fn high_color_depth(d: u64) -> String {
    match d {
        4 | 8 | 15 | 16 | 24 => format!("{d}bit"),
        _ => format!("high_color_depth-{d}"),
    }
}

/// `RDP::results` (of the GCC Create Response).
pub fn result(r: u64) -> String {
    match r {
        0 => "Success".into(),
        1 => "User rejected".into(),
        2 => "Resources not available".into(),
        3 => "Rejected for symmetry breaking".into(),
        4 => "Locked conference".into(),
        _ => format!("result-{r}"),
    }
}

/// `RDP::languages`, from `consts/languages.tsv` (`code<TAB>name`; `\x09` is a tab).
pub fn language(code: u64) -> Option<&'static str> {
    static TABLE: OnceLock<FxHashMap<u64, String>> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            include_str!("consts/languages.tsv")
                .lines()
                .filter_map(|line| {
                    let (code, name) = line.split_once('\t')?;
                    Some((code.parse().ok()?, name.replace("\\x09", "\t")))
                })
                .collect()
        })
        .get(&code)
        .map(String::as_str)
}

/// main.zeek's keyboard layout: the language, else the language of the low 16
/// bits as a best guess, else `keyboard-<n>`.
pub fn keyboard_layout(layout: u64) -> String {
    if let Some(name) = language(layout) {
        return name.to_string();
    }
    match language(layout & 0xffff) {
        Some(name) => format!("{name} (Best Guess for {layout})"),
        None => format!("keyboard-{layout}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyboard_layouts_as_main_zeek_names_them() {
        assert_eq!(keyboard_layout(1033), "English - United States");
        assert_eq!(keyboard_layout(263198), "Thai (Best Guess for 263198)");
        assert_eq!(keyboard_layout(0x1234_0409), "English - United States (Best Guess for 305398793)");
        assert_eq!(keyboard_layout(0x1234_5678), "keyboard-305419896");
        assert_eq!(language(3179), Some("Quecha - Peru\tCB"));
        assert_eq!(language(66568), Some("Uyghur"));
    }

    #[test]
    fn unknown_numbers_print_as_zeek_defaults() {
        assert_eq!(build(9600), "RDP 8.1");
        assert_eq!(build(1), "client_build-1");
        assert_eq!(encryption_method(0x10), "encryption_method-16");
        assert_eq!(high_color_depth(16), "16bit");
        assert_eq!(security_protocol(3), "security_protocol-3");
    }
}
