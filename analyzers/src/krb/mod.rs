//! Kerberos: `grammars/krb.npac` and `grammars/krb.evt` over the BER elements of
//! `grammars/asn1.npac`; two helpers the bindings call (a principal name as Zeek
//! prints it, a KerberosTime as Zeek reads it) and `kerberos.log` (`log.rs`).

mod generated {
    // The grammar imports `asn1`: its generated module sits beside this one.
    pub(crate) use crate::asn1::generated::asn1;
    include!(concat!(env!("OUT_DIR"), "/npac_krb.rs"));
}
pub use generated::krb::*;
pub mod log;

use netpac_runtime::parse::Pdu as Input;
use netpac_runtime::zeek::{Time, ZString};

/// Zeek's GetStringFromPrincipalName: one name string as it is, two or three
/// joined by "/" (each read as a C string, up to a NUL), any other count
/// "unknown".
pub fn principal_name(pdu: &Input<'_>, p: &PrincipalName<'_>) -> ZString {
    let c_str = |b: &[u8]| -> Vec<u8> { b.iter().copied().take_while(|&x| x != 0).collect() };
    match p.data.as_slice() {
        [one] => pdu.string(one.content),
        parts @ ([_, _] | [_, _, _]) => {
            ZString::from(parts.iter().map(|e| c_str(e.content)).collect::<Vec<_>>().join(&b'/'))
        }
        _ => ZString::from(b"unknown".to_vec()),
    }
}

/// Zeek's GetTimeFromAsn1: "YYYYMMDDHHMMSSZ" (17 characters: the first two are
/// skipped) read digit by digit as `timegm` reads a `struct tm`, so that fields out of
/// range carry over (month 13 is January of the next year), plus `usecs / 100000`
/// seconds, as Zeek divides. The grammar hands over 15 or 17 bytes only.
pub fn krb_time(_pdu: &Input<'_>, t: &[u8], usecs: u64) -> Time {
    let s = if t.len() == 17 { &t[2..] } else { t };
    let d = |i: usize| i64::from(s.get(i).copied().unwrap_or(b'0')) - i64::from(b'0');
    let year = d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3);
    let month0 = d(4) * 10 + d(5) - 1;
    let day = d(6) * 10 + d(7);
    let (hour, min, sec) = (d(8) * 10 + d(9), d(10) * 10 + d(11), d(12) * 10 + d(13));
    // Months carry into years first, then everything is a count of seconds.
    let year = year + month0.div_euclid(12);
    let month = month0.rem_euclid(12) + 1;
    let days = days_from_civil(year, month) + day - 1;
    let secs = days * 86_400 + hour * 3_600 + min * 60 + sec;
    let frac_ns = (usecs as i64).saturating_mul(10_000);
    Time(secs.saturating_mul(1_000_000_000).saturating_add(frac_ns))
}

/// Days from 1970-01-01 to the first of `month` (1-12) of `year` (proleptic Gregorian).
fn days_from_civil(year: i64, month: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &[u8], usecs: u64) -> f64 {
        let pdu = Input::new(s);
        krb_time(&pdu, s, usecs).0 as f64 / 1e9
    }

    #[test]
    fn kerberos_times_as_zeek_reads_them() {
        assert_eq!(t(b"20370913024805Z", 0), 2136422885.0);
        assert_eq!(t(b"19700101000000Z", 0), 0.0);
        assert_eq!(t(b"20240101120000Z", 123456), 1704110401.23456, "usecs / 100000, as Zeek");
        // 17 characters: the first two are skipped.
        assert_eq!(t(b"XX20240101000000Z", 0), 1704067200.0);
        // Digits out of range carry over as timegm normalizes them.
        assert_eq!(t(b"20241301000000Z", 0), 1735689600.0, "month 13 is next January");
        // Past what netpac's nanosecond times hold (the year 2262) the time saturates;
        // Zeek's double would say 253637152839 for this one.
        let pdu = Input::new(b"");
        assert_eq!(krb_time(&pdu, b"99999999999999Z", 0), Time(i64::MAX));
    }
}
