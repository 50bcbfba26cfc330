//! The helpers of Zeek's scripts that smtp.log uses: e-mail addresses in
//! command arguments and headers (base/utils/email.zeek) and IP addresses in
//! headers (base/utils/addrs.zeek).

use regex::bytes::Regex;
use std::net::IpAddr;
use std::sync::OnceLock;

fn email_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // extract_email_addrs_*: /(^|[<,:[:blank:]])[^<,:[:blank:]@]+"@"[^>,;[:blank:]]+([>,;[:blank:]]|$)/
    RE.get_or_init(|| {
        Regex::new(r"(?-u)(^|[<,:\t ])[^<,:\t @]+@[^>,;\t ]+([>,;\t ]|$)").expect("valid regex")
    })
}

/// `extract_email_addrs_vec`: the addresses in order, delimiters removed.
pub fn extract_email_addrs(s: &[u8]) -> Vec<Vec<u8>> {
    email_re()
        .find_iter(s)
        .map(|m| {
            m.as_bytes()
                .iter()
                .copied()
                .filter(|c| !b"<>,:; \t".contains(c))
                .collect()
        })
        .collect()
}

/// `extract_first_email_addr`.
pub fn extract_first_email_addr(s: &[u8]) -> Option<Vec<u8>> {
    extract_email_addrs(s).into_iter().next()
}

/// `split_mime_email_addresses`: `("...")?[^,]+@[^,]+` parts, stripped.
pub fn split_mime_email_addresses(s: &[u8]) -> Vec<Vec<u8>> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r#"(?-u)("[^"]*")?[^,]+@[^,]+"#).expect("valid regex"));
    re.find_iter(s).map(|m| strip(m.as_bytes()).to_vec()).collect()
}

/// Zeek's `strip`: leading and trailing whitespace removed.
fn strip(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(s.len());
    let end = s.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(start, |i| i + 1);
    &s[start..end]
}

fn ip_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // ip_addr_regex, simplified: dotted quads and runs of hex/colons/dots that
    // hold a "::" or seven colons; each candidate is checked by parsing it.
    RE.get_or_init(|| {
        Regex::new(r"(?-u)[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*|[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}")
            .expect("valid regex")
    })
}

/// `extract_ip_addresses(input, check_wrapping)`: valid addresses in order;
/// with `check_wrapping` only those enclosed in matching spaces, brackets,
/// braces or parentheses (or making up the whole input).
pub fn extract_ip_addresses(input: &[u8], check_wrapping: bool) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for m in ip_re().find_iter(input) {
        let Some(ip) = std::str::from_utf8(m.as_bytes())
            .ok()
            .and_then(|s| s.parse::<IpAddr>().ok())
        else {
            continue;
        };
        if check_wrapping {
            let before = input[..m.start()].last().copied();
            let after = input.get(m.end()).copied();
            let wrapped = matches!(
                (before, after),
                (None, None)
                    | (Some(b'['), Some(b']'))
                    | (Some(b'('), Some(b')'))
                    | (Some(b'{'), Some(b'}'))
                    | (Some(b' '), Some(b' '))
            );
            if !wrapped {
                continue;
            }
        }
        out.push(ip);
    }
    out
}

/// main.zeek's `find_address_in_smtp_header`: the second wrapped address if
/// there are several, else the first.
pub fn find_address_in_smtp_header(header: &[u8]) -> Option<IpAddr> {
    let ips = extract_ip_addresses(header, true);
    ips.get(1).or(ips.first()).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_in_commands() {
        assert_eq!(
            extract_first_email_addr(b"FROM:<gurpartap@patriots.in> SIZE=12"),
            Some(b"gurpartap@patriots.in".to_vec())
        );
        assert_eq!(
            extract_email_addrs(b"TO:<a@b.c> ORCPT=rfc822;x@y.z"),
            vec![b"a@b.c".to_vec(), b"ORCPT=rfc822x@y.z".to_vec()]
        );
    }

    #[test]
    fn mime_addresses() {
        assert_eq!(
            split_mime_email_addresses(b"\"Doe, J\" <j@d.e>, k@l.m"),
            vec![b"\"Doe, J\" <j@d.e>".to_vec(), b"k@l.m".to_vec()]
        );
    }

    #[test]
    fn received_addresses() {
        let h = b"from mail.example.com ([10.0.0.1]) by mx (1.2.3.4) with ESMTP";
        assert_eq!(
            find_address_in_smtp_header(h),
            Some("1.2.3.4".parse().unwrap())
        );
        assert_eq!(extract_ip_addresses(b"x 10.1.2.3 y", true).len(), 1);
        assert_eq!(extract_ip_addresses(b"x10.1.2.3y", true).len(), 0);
        assert_eq!(extract_ip_addresses(b"client 2001:db8::1", false).len(), 1);
    }
}
