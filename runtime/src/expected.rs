//! Expected connections (Zeek's `Analyzer::schedule_analyzer`): a protocol
//! announces a connection that will come (FTP's data channel after `PORT` or a
//! `227` reply, IRC's DCC) and which analyzer it gets. When a connection to
//! that responder address and port starts before the expectation expires, it
//! gets the announced analyzer instead of the ones its port would give it
//! (the payload detection still runs), and the announced `service`.
//!
//! Grammars announce them with `expect` (see docs/grammar-language.md); the
//! generated code hands each one to [`crate::event::Events::schedule`], and the
//! engine moves them into its [`ExpectedConns`] before a new connection looks.

use crate::zeek::{Proto, Time};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv6Addr};

/// An address and a port a protocol named in its payload (Zeek's `ftp_port`
/// record without `valid`: an extern fn returns `None` for text that names none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub h: IpAddr,
    pub p: u16,
}

/// One announced connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// The originator; `None` for any (Zeek's unspecified address).
    pub orig_h: Option<IpAddr>,
    pub resp_h: IpAddr,
    pub resp_p: u16,
    pub proto: Proto,
    /// The analyzer's tag without prefix (`FTP_DATA`).
    pub analyzer: &'static str,
    /// What `conn.log`'s `service` gains when the analyzer is applied (Zeek's
    /// ftp scripts add `ftp-data` in `scheduled_analyzer_applied`).
    pub service: Option<&'static str>,
    pub expires: Time,
}

/// What a new connection gets from the expectations it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub analyzer: &'static str,
    pub service: Option<&'static str>,
}

/// The most expectations kept at once. Zeek keeps every one until it expires;
/// a control connection sending PORT commands in a loop would grow that
/// without bound, so past this the oldest are dropped first.
pub const MAX_EXPECTED: usize = 65_536;

type Key = (IpAddr, IpAddr, u16, Proto);

/// The expectations not yet expired, by (originator or any, responder, port,
/// transport), oldest first.
#[derive(Debug, Default)]
pub struct ExpectedConns {
    /// (sequence, capture index of the announcing packet, expectation).
    by_key: FxHashMap<Key, Vec<(u64, u64, Expectation)>>,
    order: VecDeque<(u64, Key)>,
    next_seq: u64,
    /// Expectations dropped because the table was full.
    pub dropped: u64,
}

const ANY: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

impl ExpectedConns {
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Adds one announced by the packet at capture index `announced`
    /// (Zeek expires the old ones whenever one is scheduled).
    pub fn add(&mut self, e: Expectation, now: Time, announced: u64) {
        self.expire(now);
        if self.order.len() >= MAX_EXPECTED {
            self.pop_oldest();
            self.dropped += 1;
        }
        let key = (e.orig_h.unwrap_or(ANY), e.resp_h, e.resp_p, e.proto);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.by_key.entry(key).or_default().push((seq, announced, e));
        self.order.push_back((seq, key));
    }

    /// The analyzers a new connection gets: those expected from its
    /// originator and those expected from anyone, each once. Expectations stay
    /// until they expire (a second connection to the same port gets them too).
    pub fn lookup(
        &mut self,
        now: Time,
        announced_before: u64,
        orig_h: IpAddr,
        resp_h: IpAddr,
        resp_p: u16,
        proto: Proto,
    ) -> Vec<Applied> {
        self.expire(now);
        let mut out: Vec<Applied> = Vec::new();
        if self.by_key.is_empty() {
            return out;
        }
        for orig in [orig_h, ANY] {
            let Some(list) = self.by_key.get(&(orig, resp_h, resp_p, proto)) else {
                continue;
            };
            for (_, announced, e) in list {
                if *announced < announced_before
                    && e.expires > now
                    && !out.iter().any(|a| a.analyzer == e.analyzer)
                {
                    out.push(Applied {
                        analyzer: e.analyzer,
                        service: e.service,
                    });
                }
            }
        }
        out
    }

    /// Drops the expectations at the front that have expired. Ones with a
    /// longer timeout than a later one may shield it for a while; `lookup`
    /// checks the time of each.
    fn expire(&mut self, now: Time) {
        while let Some(&(seq, key)) = self.order.front() {
            let expired = self
                .by_key
                .get(&key)
                .and_then(|l| l.iter().find(|(s, _, _)| *s == seq))
                .is_none_or(|(_, _, e)| e.expires <= now);
            if !expired {
                break;
            }
            self.pop_oldest();
        }
    }

    fn pop_oldest(&mut self) {
        let Some((seq, key)) = self.order.pop_front() else {
            return;
        };
        if let Some(list) = self.by_key.get_mut(&key) {
            list.retain(|(s, _, _)| *s != seq);
            if list.is_empty() {
                self.by_key.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zeek::Interval;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn data(orig: Option<&str>, port: u16, expires: Time) -> Expectation {
        Expectation {
            orig_h: orig.map(ip),
            resp_h: ip("10.0.0.2"),
            resp_p: port,
            proto: Proto::Tcp,
            analyzer: "FTP_DATA",
            service: Some("ftp-data"),
            expires,
        }
    }

    #[test]
    fn matches_by_originator_or_any_until_expiry() {
        let t0 = Time::from_secs_f64(100.0);
        let later = t0.add(Interval::from_secs(300));
        let mut x = ExpectedConns::default();
        x.add(data(Some("10.0.0.1"), 2000, later), t0, 5);
        x.add(data(None, 3000, later), t0, 5);
        let hit = |x: &mut ExpectedConns, orig: &str, port: u16, now: Time| {
            x.lookup(now, 6, ip(orig), ip("10.0.0.2"), port, Proto::Tcp).len()
        };
        assert_eq!(
            x.lookup(t0, 5, ip("10.0.0.1"), ip("10.0.0.2"), 2000, Proto::Tcp).len(),
            0,
            "a connection the announcing packet itself created"
        );
        assert_eq!(hit(&mut x, "10.0.0.1", 2000, t0), 1);
        assert_eq!(hit(&mut x, "10.0.0.9", 2000, t0), 0, "another originator");
        assert_eq!(hit(&mut x, "10.0.0.9", 3000, t0), 1, "any originator");
        assert_eq!(hit(&mut x, "10.0.0.1", 2000, t0), 1, "kept after use");
        assert_eq!(hit(&mut x, "10.0.0.1", 2000, later), 0, "expired");
        assert!(x.is_empty());
    }

    #[test]
    fn a_flood_keeps_the_newest() {
        let t0 = Time::from_secs_f64(1.0);
        let later = t0.add(Interval::from_secs(300));
        let mut x = ExpectedConns::default();
        for i in 0..(MAX_EXPECTED + 10) {
            x.add(data(None, (i % 65_536) as u16, later), t0, i as u64);
        }
        assert_eq!(x.len(), MAX_EXPECTED);
        assert_eq!(x.dropped, 10);
        let newest = ((MAX_EXPECTED + 9) % 65_536) as u16;
        let at = u64::MAX;
        assert_eq!(x.lookup(t0, at, ip("1.1.1.1"), ip("10.0.0.2"), newest, Proto::Tcp).len(), 1);
    }
}
