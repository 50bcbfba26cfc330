//! Zeek's script-level value types, as netpac represents them in events and logs.
//!
//! Serialization (serde) follows the `--events` JSON contract: `time` and
//! `interval` are seconds as floats, `port` is `"80/tcp"`, `addr` is its
//! textual form, `string` is Zeek-escaped text (bytes need not be UTF-8).

use bytes::Bytes;
use serde::{Serialize, Serializer};
use std::fmt;
use std::net::IpAddr;

/// A point in time: nanoseconds since the Unix epoch (Zeek's `time`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub i64);

/// A span of time in nanoseconds (Zeek's `interval`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval(pub i64);

impl Time {
    pub const ZERO: Time = Time(0);
    pub fn from_secs_f64(s: f64) -> Time {
        Time((s * 1e9).round() as i64)
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    /// A time computed as a double (Zeek's value), to the nearest nanosecond: the
    /// whole seconds and the fraction are converted apart, so a time near 2^31 s
    /// keeps the precision `from_secs_f64` loses in `s * 1e9`.
    pub fn from_secs_f64_exact(s: f64) -> Time {
        Time(secs_f64_to_nanos(s))
    }
    /// The wall clock (Zeek's `current_time()`); the epoch if the clock is before it.
    pub fn from_wall_clock() -> Time {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Time(i64::try_from(since.as_nanos()).unwrap_or(i64::MAX))
    }
    /// `self - earlier`, never negative (captures are not always in order).
    pub fn since(self, earlier: Time) -> Interval {
        Interval(self.0.saturating_sub(earlier.0).max(0))
    }
    pub fn add(self, i: Interval) -> Time {
        Time(self.0.saturating_add(i.0))
    }
}

impl Interval {
    pub const fn from_secs(s: i64) -> Interval {
        Interval(s * 1_000_000_000)
    }
    pub const fn from_millis(ms: i64) -> Interval {
        Interval(ms * 1_000_000)
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    /// An interval computed as a double, to the nearest nanosecond (saturating).
    pub fn from_secs_f64(s: f64) -> Interval {
        Interval(secs_f64_to_nanos(s))
    }
}

/// Seconds as a double → nanoseconds, whole seconds and fraction apart; NaN is 0,
/// out-of-range values saturate.
fn secs_f64_to_nanos(s: f64) -> i64 {
    if !s.is_finite() {
        return if s.is_nan() { 0 } else if s > 0.0 { i64::MAX } else { i64::MIN };
    }
    let whole = s.floor();
    let frac = s - whole;
    let secs = whole as i64; // saturates
    secs.saturating_mul(1_000_000_000)
        .saturating_add((frac * 1e9).round() as i64)
}

/// Zeek prints times and intervals with exactly six decimals in its logs.
fn fmt_fixed6(f: &mut fmt::Formatter<'_>, nanos: i64) -> fmt::Result {
    let mut out = Vec::with_capacity(24);
    push_fixed6(&mut out, nanos);
    f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
}

/// Appends `nanos` as seconds with six decimals, rounded to microseconds the
/// way Zeek's `%.6f` of a double does (the log writers' hot path: no `fmt`).
pub fn push_fixed6(out: &mut Vec<u8>, nanos: i64) {
    let micros = (nanos as f64 / 1e3).round() as i64;
    if micros < 0 {
        out.push(b'-');
    }
    let m = micros.unsigned_abs();
    out.extend_from_slice(itoa::Buffer::new().format(m / 1_000_000).as_bytes());
    let mut frac = itoa::Buffer::new();
    let frac = frac.format(m % 1_000_000).as_bytes();
    out.push(b'.');
    out.extend_from_slice(&b"000000"[frac.len()..]);
    out.extend_from_slice(frac);
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_fixed6(f, self.0)
    }
}
impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_fixed6(f, self.0)
    }
}
impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(round6(self.as_secs_f64()))
    }
}
impl Serialize for Interval {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(round6(self.as_secs_f64()))
    }
}
fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Transport protocol of a port or connection (Zeek's `transport_proto`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
    Unknown,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
            Proto::Unknown => "unknown_transport",
        }
    }
}

/// A port number with its transport protocol (Zeek's `port`, e.g. `53/udp`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Port {
    pub number: u16,
    pub proto: Proto,
}

impl Port {
    pub const fn new(number: u16, proto: Proto) -> Port {
        Port { number, proto }
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Zeek names the transport `unknown_transport` but prints its ports `0/unknown`.
        let proto = match self.proto {
            Proto::Unknown => "unknown",
            p => p.as_str(),
        };
        write!(f, "{}/{}", self.number, proto)
    }
}
impl Serialize for Port {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A MAC address, printed as Zeek prints one (`aa:bb:cc:dd:ee:ff`) only when
/// written: every `connection` record carries two, so they stay six bytes.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct MacAddr(pub [u8; 6]);

/// A MAC address as text, without `fmt` (conn.log writes two per row).
pub struct MacText([u8; 17]);

impl MacText {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("hex digits and colons")
    }
}

impl MacAddr {
    pub fn text(&self) -> MacText {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut t = [b':'; 17];
        for (i, b) in self.0.iter().enumerate() {
            t[3 * i] = HEX[usize::from(b >> 4)];
            t[3 * i + 1] = HEX[usize::from(b & 0xf)];
        }
        MacText(t)
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text().as_str())
    }
}

impl Serialize for MacAddr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Zeek's `string_set` from a vector of strings: each string once, in the order
/// first seen (Zeek's sets have no order; this one is deterministic).
pub fn string_set(mut v: Vec<ZString>) -> Vec<ZString> {
    let mut seen = std::collections::HashSet::with_capacity(v.len());
    v.retain(|s| seen.insert(s.clone()));
    v
}

/// A Zeek set of other values (records) from a vector: each value once, in the
/// order first seen. Quadratic: the vectors come from one PDU's fields.
pub fn set_of<T: PartialEq>(v: Vec<T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(v.len());
    for x in v {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

/// Zeek's `string`: arbitrary bytes. Shares the packet buffer where it can.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ZString(pub Bytes);

impl ZString {
    pub fn new(b: impl Into<Bytes>) -> ZString {
        ZString(b.into())
    }
    pub fn copy_from(b: &[u8]) -> ZString {
        ZString(Bytes::copy_from_slice(b))
    }
    pub fn from_static(s: &'static str) -> ZString {
        ZString(Bytes::from_static(s.as_bytes()))
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&'static str> for ZString {
    fn from(s: &'static str) -> Self {
        ZString::from_static(s)
    }
}
impl From<String> for ZString {
    fn from(s: String) -> Self {
        ZString(Bytes::from(s.into_bytes()))
    }
}
impl From<Vec<u8>> for ZString {
    fn from(v: Vec<u8>) -> Self {
        ZString(Bytes::from(v))
    }
}

/// Escapes bytes as Zeek does when it prints a string: printable ASCII as is,
/// everything else as `\xNN`.
pub fn escape_bytes(b: &[u8], out: &mut String) {
    use std::fmt::Write;
    for &c in b {
        if (0x20..0x7f).contains(&c) && c != b'\\' {
            out.push(c as char);
        } else if c == b'\\' {
            out.push_str("\\\\");
        } else {
            let _ = write!(out, "\\x{:02x}", c);
        }
    }
}

impl fmt::Display for ZString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(self.0.len());
        escape_bytes(&self.0, &mut s);
        f.write_str(&s)
    }
}
impl fmt::Debug for ZString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self)
    }
}
impl Serialize for ZString {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Zeek's `addr`.
pub type Addr = IpAddr;

/// The 4-tuple that names a connection (Zeek's `conn_id`), originator first.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ConnId {
    pub orig_h: Addr,
    pub orig_p: Port,
    pub resp_h: Addr,
    pub resp_p: Port,
}

impl ConnId {
    /// The same tuple seen from the other side.
    pub fn flipped(&self) -> ConnId {
        ConnId {
            orig_h: self.resp_h,
            orig_p: self.resp_p,
            resp_h: self.orig_h,
            resp_p: self.orig_p,
        }
    }
}

#[cfg(test)]
mod double_tests {
    use super::*;

    #[test]
    fn doubles_to_nanoseconds() {
        assert_eq!(Time::from_secs_f64_exact(1559246556.073681).to_string(), "1559246556.073681");
        assert_eq!(Interval::from_secs_f64(2f64.powi(-20)).0, 954);
        assert_eq!(Interval::from_secs_f64(-0.5).0, -500_000_000);
        assert_eq!(Interval::from_secs_f64(f64::NAN).0, 0);
        assert_eq!(Interval::from_secs_f64(1e30).0, i64::MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_with_six_decimals() {
        assert_eq!(
            Time(1_254_722_767_492_060_123).to_string(),
            "1254722767.492060"
        );
        assert_eq!(Interval(1_500).to_string(), "0.000002");
        assert_eq!(Interval(0).to_string(), "0.000000");
    }

    #[test]
    fn strings_escape_like_zeek() {
        assert_eq!(
            ZString::copy_from(b"a\x00b\\\xff").to_string(),
            "a\\x00b\\\\\\xff"
        );
    }

    #[test]
    fn ports_name_their_protocol() {
        assert_eq!(Port::new(53, Proto::Udp).to_string(), "53/udp");
    }
}

/// The `service` name of an analyzer tag: the tag in lower case (`FTP_DATA` is
/// `ftp_data`), made once per tag and shared from then on, so that recording a
/// confirmed service allocates nothing per connection. Tags are a fixed set.
pub fn service_name(tag: &'static str) -> &'static str {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    if !tag.bytes().any(|b| b.is_ascii_uppercase()) {
        return tag;
    }
    static NAMES: OnceLock<Mutex<HashMap<&'static str, &'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    names
        .entry(tag)
        .or_insert_with(|| Box::leak(tag.to_ascii_lowercase().into_boxed_str()))
}

/// An address from its network-order bytes: 4 are IPv4, 16 IPv6; any other
/// length is `0.0.0.0` (a grammar's `ip(b)`).
pub fn ip_from_bytes(b: &[u8]) -> std::net::IpAddr {
    if let Ok(v6) = <[u8; 16]>::try_from(b) {
        return std::net::IpAddr::from(v6);
    }
    match <[u8; 4]>::try_from(b) {
        Ok(v4) => std::net::IpAddr::from(v4),
        Err(_) => std::net::IpAddr::from([0u8; 4]),
    }
}

#[cfg(test)]
mod ip_tests {
    use super::*;

    #[test]
    fn addresses_from_four_or_sixteen_bytes() {
        assert_eq!(ip_from_bytes(&[192, 168, 0, 1]).to_string(), "192.168.0.1");
        let mut v6 = [0u8; 16];
        v6[0] = 0x20;
        v6[1] = 0x01;
        v6[15] = 1;
        assert_eq!(ip_from_bytes(&v6).to_string(), "2001::1");
        assert_eq!(ip_from_bytes(&[1, 2, 3]).to_string(), "0.0.0.0");
    }
}
