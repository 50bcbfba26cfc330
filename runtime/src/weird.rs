//! Weirds: named anomalies (Zeek's `weird.log`). Producers report them to a
//! [`WeirdSink`]; the engine raises them as `conn_weird`, `flow_weird` and
//! `net_weird`, and [`WeirdLog`] writes `weird.log` from those events.

use crate::conn::events::{ConnWeird, FlowWeird, NetWeird};
use crate::event::{EventHandlers, EventSink};
use crate::log::{Logs, Value};
use crate::record::Connection;
use crate::zeek::{ConnId, Time};
use rustc_hash::FxHashMap;
use std::net::IpAddr;

/// Where a weird was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WeirdScope {
    /// Not tied to a flow (malformed frames, unknown link layers).
    Net,
    /// Tied to a pair of addresses but no connection (e.g. fragments).
    Flow { src: IpAddr, dst: IpAddr },
    /// Tied to a connection.
    Conn { id: ConnId, uid: std::sync::Arc<str> },
}

/// One weird, as `weird.log` records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weird {
    pub ts: Time,
    pub name: &'static str,
    pub addl: String,
    pub scope: WeirdScope,
    /// Which component saw it (`weird.log`'s `source`), e.g. "TCP", "DNS".
    pub source: &'static str,
    /// A packet-level weird about a packet found inside a tunnel: Zeek's
    /// session manager writes its name with `_in_tunnel`.
    pub in_tunnel: bool,
}

impl Weird {
    /// The name as weird.log writes it.
    pub fn logged_name(&self) -> std::borrow::Cow<'static, str> {
        if self.in_tunnel && !self.name.ends_with("_in_tunnel") {
            std::borrow::Cow::Owned(format!("{}_in_tunnel", self.name))
        } else {
            std::borrow::Cow::Borrowed(self.name)
        }
    }
}

/// A place weirds are reported to.
pub trait WeirdSink {
    fn weird(&mut self, w: Weird);
}

impl WeirdSink for Vec<Weird> {
    fn weird(&mut self, w: Weird) {
        self.push(w);
    }
}

/// What Zeek's `base/frameworks/notice/weird.zeek` does with a weird of that
/// name (`Weird::actions`): names it does not list are logged every time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Ignore,
    Log,
    LogPerConn,
    LogPerOrig,
    /// Logged (with `notice` T) the first time per originator; Zeek also raises a notice.
    NoticePerOrig,
}

/// `Weird::actions` for the names it does not leave at `ACTION_LOG`.
pub fn action(name: &str) -> Action {
    match name {
        "unsolicited_SYN_response" | "FIN_after_reset" | "spontaneous_FIN" | "spontaneous_RST" => {
            Action::Ignore
        }
        "FTP_max_command_length_exceeded"
        | "FTP_too_many_pending_commands"
        | "FTP_user_too_long"
        | "FTP_reply_msg_too_long"
        | "FTP_arg_too_long"
        | "FTP_password_too_long"
        | "simultaneous_open"
        | "smtp_mail_transaction_invalid"
        | "smtp_excessive_invalid_mail_transactions"
        | "smb_tree_connect_andx_response_without_tree" => Action::LogPerConn,
        "bad_ICMP_checksum"
        | "bad_RPC"
        | "bad_TCP_checksum"
        | "bad_UDP_checksum"
        | "bad_IP_checksum"
        | "connection_originator_SYN_ack"
        | "DNS_label_forward_compress_offset"
        | "DNS_label_len_gt_name_len"
        | "DNS_label_len_gt_pkt"
        | "DNS_label_too_long"
        | "excess_RPC"
        | "originator_RPC_reply"
        | "partial_RPC"
        | "responder_RPC_call"
        | "SYN_with_data"
        | "UDP_datagram_length_mismatch"
        | "excessively_small_fragment"
        | "fragment_inconsistency"
        | "fragment_overlap"
        | "fragment_size_inconsistency"
        | "SSH_max_packet_length_exceeded"
        | "SSH_max_string_length_exceeded" => Action::LogPerOrig,
        "FIN_storm" | "successful_RPC_reply_to_invalid_request" | "SYN_after_partial" => {
            Action::NoticePerOrig
        }
        _ => Action::Log,
    }
}

/// Where a weird happened, as `weird.zeek` identifies it for deduplication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WeirdAt {
    /// A connection weird: `id_string(c$id)`, the addresses and ports without the
    /// protocol, so a later connection on the same ports is the same place.
    Conn {
        orig_h: IpAddr,
        orig_p: u16,
        resp_h: IpAddr,
        resp_p: u16,
    },
    /// A flow weird: `flow_id_string(src, dst)`.
    Flow { src: IpAddr, dst: IpAddr },
    /// A network weird: no identifier.
    Net,
}

impl WeirdAt {
    fn of(id: &ConnId) -> WeirdAt {
        WeirdAt::Conn {
            orig_h: id.orig_h,
            orig_p: id.orig_p.number,
            resp_h: id.resp_h,
            resp_p: id.resp_p.number,
        }
    }

    /// The originator (`w$id$orig_h`), for the once-per-originator actions.
    fn orig(&self) -> Option<IpAddr> {
        match *self {
            WeirdAt::Conn { orig_h, .. } => Some(orig_h),
            WeirdAt::Flow { src, .. } => Some(src),
            WeirdAt::Net => None,
        }
    }
}

/// The deduplication keys of `weird.zeek`'s sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    At(WeirdAt),
    Orig(Option<IpAddr>),
}

/// `weird_ignore`: a name and place logged in the last 10 minutes are not logged again.
const IGNORE_REPEATS_FOR: i64 = 600_000_000_000;
/// `did_log` / `did_notice` (the once-per-connection and per-originator actions): one day.
const LIMITED_FOR: i64 = 86_400_000_000_000;
/// Entries kept in each set before expired ones are swept out (and, if none are,
/// the set starts over): a flood of distinct weirds must not grow them without bound.
const MAX_KEYS: usize = 100_000;

/// A set whose entries expire a fixed time after they were added (`&create_expire`),
/// by weird name first: a lookup borrows the name, only a new name is copied.
#[derive(Debug, Default)]
struct ExpiringSet {
    added: FxHashMap<Box<str>, FxHashMap<Key, Time>>,
    len: usize,
}

impl ExpiringSet {
    fn contains(&self, now: Time, name: &str, key: Key, ttl: i64) -> bool {
        self.added
            .get(name)
            .and_then(|keys| keys.get(&key))
            .is_some_and(|&t| now.0.saturating_sub(t.0) < ttl)
    }

    fn insert(&mut self, now: Time, name: &str, key: Key, ttl: i64) {
        if self.len >= MAX_KEYS {
            let fresh = |t: &mut Time| now.0.saturating_sub(t.0) < ttl;
            self.added.values_mut().for_each(|keys| keys.retain(|_, t| fresh(t)));
            self.added.retain(|_, keys| !keys.is_empty());
            self.len = self.added.values().map(|keys| keys.len()).sum();
            if self.len >= MAX_KEYS {
                self.added.clear();
                self.len = 0;
            }
        }
        let keys = match self.added.get_mut(name) {
            Some(keys) => keys,
            None => self.added.entry(Box::from(name)).or_default(),
        };
        if keys.insert(key, now).is_none() {
            self.len += 1;
        }
    }
}

/// Zeek's weird framework (`base/frameworks/notice/weird.zeek`, `do_weird`): which
/// weirds reach `weird.log`. One policy for every writer of `weird.log` (the core's
/// weirds and those the protocol scripts report), kept with the logs.
#[derive(Debug, Default)]
pub struct WeirdPolicy {
    weird_ignore: ExpiringSet,
    did_log: ExpiringSet,
    did_notice: ExpiringSet,
}

impl WeirdPolicy {
    /// Whether a weird is logged now, and then its `notice` column.
    pub fn admit(&mut self, now: Time, name: &str, at: WeirdAt) -> Option<bool> {
        let action = action(name);
        let place = Key::At(at);
        if action == Action::Ignore
            || self
                .weird_ignore
                .contains(now, name, place, IGNORE_REPEATS_FOR)
        {
            return None;
        }
        let mut notice = false;
        match action {
            Action::LogPerConn | Action::LogPerOrig => {
                let key = if action == Action::LogPerOrig {
                    Key::Orig(at.orig())
                } else {
                    place
                };
                if self.did_log.contains(now, name, key, LIMITED_FOR) {
                    return None;
                }
                self.did_log.insert(now, name, key, LIMITED_FOR);
            }
            Action::NoticePerOrig => {
                let key = Key::Orig(at.orig());
                if self.did_notice.contains(now, name, key, LIMITED_FOR) {
                    return None;
                }
                self.did_notice.insert(now, name, key, LIMITED_FOR);
                notice = true;
            }
            Action::Ignore | Action::Log => {}
        }
        // `weird_do_not_ignore_repeats`: checksum errors are logged each time.
        if !matches!(
            name,
            "bad_IP_checksum" | "bad_TCP_checksum" | "bad_UDP_checksum" | "bad_ICMP_checksum"
        ) {
            self.weird_ignore
                .insert(now, name, place, IGNORE_REPEATS_FOR);
        }
        Some(notice)
    }
}

/// Writes a connection weird to `weird.log` if Zeek's weird framework would
/// (a protocol script's `Reporter::conn_weird` goes through `do_weird` too).
pub fn log_conn_weird(
    logs: &mut Logs,
    ts: Time,
    c: &Connection,
    name: &str,
    addl: &[u8],
    source: &str,
) {
    write_weird(logs, ts, WeirdAt::of(&c.id), Some(&c.uid), name, addl, source);
}

/// Writes a network weird (no connection or flow) to `weird.log` if Zeek's weird
/// framework would: the log writer's own weirds (`log_string_field_truncated`).
pub fn log_net_weird(logs: &mut Logs, ts: Time, name: &str, addl: &str) {
    write_weird(logs, ts, WeirdAt::Net, None, name, addl.as_bytes(), "");
}

/// The weird framework's decision, then the row: a connection's uid and id, a
/// flow's addresses with ports 0 (as Zeek logs them), or nothing for the network.
pub(crate) fn write_weird(
    logs: &mut Logs,
    ts: Time,
    at: WeirdAt,
    uid: Option<&str>,
    name: &str,
    addl: &[u8],
    source: &str,
) {
    if logs.is_capturing() {
        // The weird framework remembers across connections: the merge decides.
        return logs.capture_weird(ts, at, uid, name, addl, source);
    }
    let Some(notice) = logs.weirds.admit(ts, name, at) else {
        return;
    };
    let uid = uid.map_or(Value::Unset, Value::str);
    let where_ = match at {
        WeirdAt::Conn {
            orig_h,
            orig_p,
            resp_h,
            resp_p,
        } => [
            uid,
            Value::Addr(orig_h),
            Value::Port(orig_p),
            Value::Addr(resp_h),
            Value::Port(resp_p),
        ],
        WeirdAt::Flow { src, dst } => [
            uid,
            Value::Addr(src),
            Value::Port(0),
            Value::Addr(dst),
            Value::Port(0),
        ],
        WeirdAt::Net => [uid, Value::Unset, Value::Unset, Value::Unset, Value::Unset],
    };
    logs.write(&WEIRD_LOG, &row(ts, where_, name, addl, notice, source));
}

/// The `weird.log` writer, as a consumer of `conn_weird`, `flow_weird` and
/// `net_weird`, with Zeek's weird framework deciding what is logged.
#[derive(Default)]
pub struct WeirdLog;

impl WeirdLog {
    pub fn sink() -> Box<dyn EventSink> {
        Box::new(
            EventHandlers::new(WeirdLog)
                .on::<ConnWeird>(WeirdLog::conn)
                .on::<FlowWeird>(WeirdLog::flow)
                .on::<NetWeird>(WeirdLog::net),
        )
    }

    fn conn(&mut self, ts: Time, e: &ConnWeird, logs: &mut Logs) {
        log_conn_weird(logs, ts, &e.c, e.name, e.addl.as_bytes(), e.source);
    }

    fn flow(&mut self, ts: Time, e: &FlowWeird, logs: &mut Logs) {
        let at = WeirdAt::Flow {
            src: e.src,
            dst: e.dst,
        };
        write_weird(logs, ts, at, None, &e.name, e.addl.as_bytes(), e.source);
    }

    fn net(&mut self, ts: Time, e: &NetWeird, logs: &mut Logs) {
        write_weird(logs, ts, WeirdAt::Net, None, &e.name, e.addl.as_bytes(), e.source);
    }
}

/// One `weird.log` row; `where_` is uid and the four `id` columns.
fn row(
    ts: Time,
    where_: [Value; 5],
    name: &str,
    addl: &[u8],
    notice: bool,
    source: &str,
) -> Vec<Value> {
    let unset_if_empty = |s: &[u8]| {
        if s.is_empty() {
            Value::Unset
        } else {
            Value::str(s)
        }
    };
    let mut row = Vec::with_capacity(WEIRD_LOG.columns.len());
    row.push(Value::Time(ts));
    row.extend(where_);
    row.extend([
        Value::str(name),
        unset_if_empty(addl),
        Value::Bool(notice),
        Value::str("zeek"),
        unset_if_empty(source.as_bytes()),
    ]);
    row
}

/// `weird.log` columns.
pub static WEIRD_LOG: crate::log::Schema = crate::log::Schema {
    path: "weird",
    stream: "Weird::LOG",
    columns: &[
        ("ts", "time"),
        ("uid", "string"),
        ("id.orig_h", "addr"),
        ("id.orig_p", "port"),
        ("id.resp_h", "addr"),
        ("id.resp_p", "port"),
        ("name", "string"),
        ("addl", "string"),
        ("notice", "bool"),
        ("peer", "string"),
        ("source", "string"),
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    fn at(orig_p: u16) -> WeirdAt {
        WeirdAt::Conn {
            orig_h: "10.0.0.1".parse().unwrap(),
            orig_p,
            resp_h: "10.0.0.2".parse().unwrap(),
            resp_p: 80,
        }
    }

    const MIN: i64 = 60_000_000_000;

    #[test]
    fn zeek_ignores_some_names_and_repeats_at_one_place_for_ten_minutes() {
        let mut p = WeirdPolicy::default();
        assert_eq!(p.admit(Time(0), "spontaneous_FIN", at(1)), None);
        assert_eq!(p.admit(Time(0), "data_before_established", at(1)), Some(false));
        // A later connection on the same ports is the same place (`id_string`).
        assert_eq!(p.admit(Time(9 * MIN), "data_before_established", at(1)), None);
        assert_eq!(p.admit(Time(9 * MIN), "data_before_established", at(2)), Some(false));
        assert_eq!(p.admit(Time(11 * MIN), "data_before_established", at(1)), Some(false));
        // Checksum errors are logged every time.
        assert_eq!(p.admit(Time(0), "bad_TCP_checksum", at(1)), Some(false));
        let flow = WeirdAt::Flow {
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.3".parse().unwrap(),
        };
        assert_eq!(p.admit(Time(0), "bad_IP_checksum", flow), Some(false));
        assert_eq!(p.admit(Time(1), "bad_IP_checksum", flow), None, "once per originator");
    }

    #[test]
    fn per_originator_and_notice_actions() {
        let mut p = WeirdPolicy::default();
        assert_eq!(p.admit(Time(0), "SYN_with_data", at(1)), Some(false));
        // Another connection of the same originator, past the ten minutes: still once a day.
        assert_eq!(p.admit(Time(20 * MIN), "SYN_with_data", at(2)), None);
        assert_eq!(p.admit(Time(0), "SYN_after_partial", at(1)), Some(true));
        assert_eq!(p.admit(Time(20 * MIN), "SYN_after_partial", at(3)), None);
        assert_eq!(p.admit(Time(0), "FTP_arg_too_long", at(1)), Some(false));
        assert_eq!(p.admit(Time(20 * MIN), "FTP_arg_too_long", at(1)), None);
        assert_eq!(p.admit(Time(20 * MIN), "FTP_arg_too_long", at(4)), Some(false));
    }

    #[test]
    fn a_flood_of_distinct_weirds_keeps_the_sets_bounded() {
        let mut p = WeirdPolicy::default();
        for port in 0..=u16::MAX {
            p.admit(Time(0), "data_before_established", at(port));
            p.admit(Time(0), "data_before_established", at(port).flip_ports());
        }
        assert!(p.weird_ignore.len <= MAX_KEYS);
        assert!(p.weird_ignore.added.values().map(|k| k.len()).sum::<usize>() <= MAX_KEYS);
    }

    impl WeirdAt {
        fn flip_ports(self) -> WeirdAt {
            match self {
                WeirdAt::Conn { orig_h, orig_p, resp_h, .. } => WeirdAt::Conn {
                    orig_h,
                    orig_p: 80,
                    resp_h,
                    resp_p: orig_p,
                },
                other => other,
            }
        }
    }
}
