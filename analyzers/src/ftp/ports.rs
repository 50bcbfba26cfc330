//! Zeek's FTP address/port BIFs (`parse_ftp_port`, `parse_eftp_port`,
//! `parse_ftp_pasv`, `parse_ftp_epsv` in ftp/functions.bif), which its ftp
//! scripts call on PORT/EPRT arguments and 227/229 reply messages.

use netpac_runtime::expected::Endpoint;
use netpac_runtime::parse::Pdu;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Zeek's `ftp_port` record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FtpPort {
    pub h: IpAddr,
    pub p: u16,
    pub valid: bool,
}

impl FtpPort {
    fn invalid(h: IpAddr) -> FtpPort {
        FtpPort {
            h,
            p: 0,
            valid: false,
        }
    }
}

/// sscanf's `%d`: blanks, an optional sign, digits; the number and the rest.
fn scan_int(s: &[u8]) -> Option<(i64, &[u8])> {
    let s = &s[s.iter().take_while(|c| c.is_ascii_whitespace()).count()..];
    let (neg, s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 {
        return None;
    }
    let v = saturating_i64(&s[..n]);
    Some((if neg { -v } else { v }, &s[n..]))
}

fn saturating_i64(digits: &[u8]) -> i64 {
    i64::try_from(netpac_runtime::text::ascii_dec(digits)).unwrap_or(i64::MAX)
}

/// `h1,h2,h3,h4,p1,p2` (PORT's argument): `parse_ftp_port`.
pub fn parse_ftp_port(s: &[u8]) -> FtpPort {
    let zero = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    if s.len() < 11 {
        return FtpPort::invalid(zero);
    }
    let mut v = [0i64; 6];
    let mut rest = s;
    for (i, slot) in v.iter_mut().enumerate() {
        if i > 0 {
            match rest.split_first() {
                Some((b',', r)) => rest = r,
                _ => return FtpPort::invalid(zero),
            }
        }
        match scan_int(rest) {
            Some((x, r)) => {
                *slot = x;
                rest = r;
            }
            None => return FtpPort::invalid(zero),
        }
    }
    let good = v.iter().all(|b| (0..=255).contains(b));
    // Zeek combines the numbers as they are (out-of-range bytes make it invalid anyway).
    let byte = |x: i64| (x & 0xff) as u8;
    let h = Ipv4Addr::new(byte(v[0]), byte(v[1]), byte(v[2]), byte(v[3]));
    let port = ((v[4] & 0xff) << 8) | (v[5] & 0xff);
    FtpPort {
        h: IpAddr::V4(h),
        p: if good { port as u16 } else { 0 },
        valid: good,
    }
}

/// A 227 reply: the numbers after `(`, else after `PORT `, else from the
/// digits before the first comma (`parse_ftp_pasv`).
pub fn parse_ftp_pasv(s: &[u8]) -> FtpPort {
    let find = |needle: &[u8]| s.windows(needle.len()).position(|w| w == needle);
    if let Some(i) = s.iter().position(|&c| c == b'(') {
        return parse_ftp_port(&s[i + 1..]);
    }
    if let Some(i) = find(b"PORT") {
        return parse_ftp_port(s.get(i + 5..).unwrap_or(b""));
    }
    if let Some(i) = s.iter().position(|&c| c == b',') {
        let start = s[..i]
            .iter()
            .rposition(|c| !c.is_ascii_digit())
            .map_or(0, |j| j + 1);
        return parse_ftp_port(&s[start..]);
    }
    parse_ftp_port(b"")
}

/// `strtol` in base 10: blanks, sign, digits; the value and the rest (0 and
/// the input unchanged without digits).
fn strtol(s: &[u8]) -> (i64, &[u8]) {
    match scan_int(s) {
        Some(x) => x,
        None => (0, s),
    }
}

/// `<d>proto<d>addr<d>port<d>` (EPRT's argument, the inside of a 229
/// reply's parentheses): `parse_eftp_port`. The address may be empty (`::`).
pub fn parse_eftp_port(s: &[u8]) -> FtpPort {
    let mut addr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
    let line = &s[s.iter().take_while(|&&c| c == b' ' || c == b'\t').count()..];
    let Some((&delim, mut line)) = line.split_first() else {
        return FtpPort::invalid(addr);
    };
    let mut good = true;
    let (_proto, next) = strtol(line);
    if next.first() != Some(&delim) {
        good = false;
    }
    line = next.get(1..).unwrap_or(b"");
    if line.first().is_some_and(|&c| c != delim) {
        let end = line.iter().position(|&c| c == delim);
        if end.is_none() {
            good = false;
        }
        let text = &line[..end.unwrap_or(line.len())];
        match std::str::from_utf8(text)
            .ok()
            .and_then(|t| t.parse::<IpAddr>().ok())
        {
            Some(a) => addr = a,
            None => good = false,
        }
        line = &line[end.unwrap_or(line.len())..];
    }
    line = line.get(1..).unwrap_or(b"");
    let (port, next) = strtol(line);
    if next.first() != Some(&delim) {
        good = false;
    }
    let port = match u16::try_from(port) {
        Ok(p) => p,
        Err(_) => {
            good = false;
            0
        }
    };
    FtpPort {
        h: addr,
        p: port,
        valid: good,
    }
}

/// A 229 reply: what follows `(` (`parse_ftp_epsv`).
pub fn parse_ftp_epsv(s: &[u8]) -> FtpPort {
    match s.iter().position(|&c| c == b'(') {
        Some(i) => parse_eftp_port(&s[i + 1..]),
        None => FtpPort::invalid(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
    }
}

/// The data channel endpoints the grammar's `expect` items read (`grammars/ftp.evt`):
/// what a `PORT`/`EPRT` argument or a `227`/`229` reply names, if valid.
fn endpoint(p: FtpPort) -> Option<Endpoint> {
    p.valid.then_some(Endpoint { h: p.h, p: p.p })
}

/// Zeek's `fmt_ftp_port(a, p)`: `h1,h2,h3,h4,p1,p2` for an IPv4 address, as a
/// PORT command writes it; empty for IPv6 (Zeek reports the conversion error).
pub fn fmt_ftp_port(a: IpAddr, p: u16) -> String {
    match a {
        IpAddr::V4(v4) => {
            let [h1, h2, h3, h4] = v4.octets();
            format!("{h1},{h2},{h3},{h4},{},{}", p >> 8, p & 0xff)
        }
        IpAddr::V6(_) => String::new(),
    }
}

/// `PORT h1,h2,h3,h4,p1,p2`.
pub fn port_endpoint(_pdu: &Pdu<'_>, arg: &[u8]) -> Option<Endpoint> {
    endpoint(parse_ftp_port(arg))
}

/// `EPRT |proto|addr|port|`.
pub fn eprt_endpoint(_pdu: &Pdu<'_>, arg: &[u8]) -> Option<Endpoint> {
    endpoint(parse_eftp_port(arg))
}

/// A `227` reply: `Entering Passive Mode (h1,h2,h3,h4,p1,p2)`.
pub fn pasv_endpoint(_pdu: &Pdu<'_>, msg: &[u8]) -> Option<Endpoint> {
    endpoint(parse_ftp_pasv(msg))
}

/// A `229` reply: `(|||port|)`; without an address the data connection goes to
/// the server (main.zeek: `data$h == [::]` becomes the control connection's responder).
pub fn epsv_endpoint(_pdu: &Pdu<'_>, msg: &[u8], server: IpAddr) -> Option<Endpoint> {
    let mut p = parse_ftp_epsv(msg);
    if p.h == IpAddr::V6(Ipv6Addr::UNSPECIFIED) {
        p.h = server;
    }
    endpoint(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn fmt_ftp_port_writes_what_parse_ftp_port_reads() {
        assert_eq!(fmt_ftp_port(v4("141.142.220.235"), 33582), "141,142,220,235,131,46");
        let p = parse_ftp_port(fmt_ftp_port(v4("10.0.0.1"), 1025).as_bytes());
        assert_eq!((p.h, p.p, p.valid), (v4("10.0.0.1"), 1025, true));
        assert_eq!(fmt_ftp_port(v4("::1"), 21), "");
    }

    #[test]
    fn port_and_pasv() {
        let p = parse_ftp_port(b"141,142,220,235,131,46");
        assert_eq!((p.h, p.p, p.valid), (v4("141.142.220.235"), 33582, true));
        assert!(!parse_ftp_port(b"1,2,3,4,5").valid);
        assert!(!parse_ftp_port(b"1,2,3,4,5,256").valid);
        assert!(!parse_ftp_port(b"short").valid);
        let p = parse_ftp_pasv(b"Entering Passive Mode (199,233,217,249,221,90)");
        assert_eq!((p.h, p.p, p.valid), (v4("199.233.217.249"), 56666, true));
        let p = parse_ftp_pasv(b"Entering Passive Mode 10,0,0,1,4,1");
        assert_eq!((p.h, p.p, p.valid), (v4("10.0.0.1"), 1025, true));
        assert!(!parse_ftp_pasv(b"no numbers at all").valid);
    }

    #[test]
    fn eprt_and_epsv() {
        let p = parse_eftp_port(b"|2|2001:db8::1|6446|");
        assert_eq!(
            (p.h, p.p, p.valid),
            ("2001:db8::1".parse().unwrap(), 6446, true)
        );
        let p = parse_ftp_epsv(b"Entering Extended Passive Mode (|||6446|)");
        assert_eq!(
            (p.h, p.p, p.valid),
            (IpAddr::V6(Ipv6Addr::UNSPECIFIED), 6446, true)
        );
        assert!(!parse_eftp_port(b"|1|not-an-address|21|").valid);
        assert!(!parse_eftp_port(b"|1|10.0.0.1|70000|").valid);
        assert!(!parse_eftp_port(b"").valid);
        assert!(!parse_ftp_epsv(b"no parenthesis").valid);
    }
}
