//! `sip.log`, built from the SIP events as Zeek's base/protocols/sip/main.zeek
//! builds it.
//!
//! The script keeps a table of pending `SIP::Info` records per connection,
//! indexed by `current_request` / `current_response`. Requests and replies
//! usually share index 0: the request's record is the one the reply fills,
//! and the row is written at the end of the reply (`sip_end_entity` from the
//! responder's flow), after which a final reply (not 1xx) drops the record.
//! A header whose index has no record moves that index on (so headers
//! without a start line open records of their own); a reply to nothing, or a
//! 2xx to BYE, writes every other pending record and forgets the state. What
//! is still pending when the connection ends is written then.

use crate::sip::{SipEndEntity, SipHeader, SipReply, SipRequest};
use netpac_runtime::conn::events::ConnectionStateRemove;
use netpac_runtime::event::{EventHandlers, EventSink};
use netpac_runtime::log::{Logs, Schema, Value};
use netpac_runtime::record::Connection;
use netpac_runtime::weird::log_conn_weird;
use netpac_runtime::zeek::{ConnId, Time};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

/// Zeek's `SIP::Info` columns.
pub static SIP_LOG: Schema = Schema {
    path: "sip",
    stream: "SIP::LOG",
    columns: &[
        ("ts", "time"),
        ("uid", "string"),
        ("id.orig_h", "addr"),
        ("id.orig_p", "port"),
        ("id.resp_h", "addr"),
        ("id.resp_p", "port"),
        ("trans_depth", "count"),
        ("method", "string"),
        ("uri", "string"),
        ("date", "string"),
        ("request_from", "string"),
        ("request_to", "string"),
        ("response_from", "string"),
        ("response_to", "string"),
        ("reply_to", "string"),
        ("call_id", "string"),
        ("seq", "string"),
        ("subject", "string"),
        ("request_path", "vector[string]"),
        ("response_path", "vector[string]"),
        ("user_agent", "string"),
        ("status_code", "count"),
        ("status_msg", "string"),
        ("warning", "string"),
        ("request_body_len", "count"),
        ("response_body_len", "count"),
        ("content_type", "string"),
    ],
};

/// `SIP::sip_methods`: a request with another method is the weird `unknown_SIP_method`.
pub const SIP_METHODS: &[&[u8]] = &[
    b"REGISTER",
    b"INVITE",
    b"ACK",
    b"CANCEL",
    b"BYE",
    b"OPTIONS",
    b"NOTIFY",
    b"SUBSCRIBE",
];

/// `SIP::max_request_path_length` and `max_response_path_length`: Via headers
/// past this many in a record are not added (weird
/// `sip_max_request_path_length_exceeded` / `sip_max_response_path_length_exceeded`).
pub const MAX_PATH_LENGTH: usize = 100;

/// One `SIP::Info`.
#[derive(Debug, Clone, Default)]
struct Info {
    ts: Time,
    uid: String,
    id: Option<ConnId>,
    trans_depth: u64,
    method: Option<Vec<u8>>,
    uri: Option<Vec<u8>>,
    date: Option<Vec<u8>>,
    request_from: Option<Vec<u8>>,
    request_to: Option<Vec<u8>>,
    response_from: Option<Vec<u8>>,
    response_to: Option<Vec<u8>>,
    reply_to: Option<Vec<u8>>,
    call_id: Option<Vec<u8>>,
    seq: Option<Vec<u8>>,
    subject: Option<Vec<u8>>,
    request_path: Vec<Vec<u8>>,
    response_path: Vec<Vec<u8>>,
    user_agent: Option<Vec<u8>>,
    status_code: Option<u64>,
    status_msg: Option<Vec<u8>>,
    warning: Option<Vec<u8>>,
    request_body_len: Option<u64>,
    response_body_len: Option<u64>,
    content_type: Option<Vec<u8>>,
}

impl Info {
    fn row(&self) -> Vec<Value> {
        let s = |v: &Option<Vec<u8>>| Value::opt(v.as_ref(), Value::str);
        let c = |v: Option<u64>| Value::opt(v, Value::Count);
        let path = |p: &Vec<Vec<u8>>| Value::Vector(p.iter().map(Value::str).collect());
        let (orig_h, orig_p, resp_h, resp_p) = match &self.id {
            Some(id) => (
                Value::Addr(id.orig_h),
                Value::Port(id.orig_p.number),
                Value::Addr(id.resp_h),
                Value::Port(id.resp_p.number),
            ),
            None => (Value::Unset, Value::Unset, Value::Unset, Value::Unset),
        };
        vec![
            Value::Time(self.ts),
            Value::str(self.uid.as_bytes()),
            orig_h,
            orig_p,
            resp_h,
            resp_p,
            Value::Count(self.trans_depth),
            s(&self.method),
            s(&self.uri),
            s(&self.date),
            s(&self.request_from),
            s(&self.request_to),
            s(&self.response_from),
            s(&self.response_to),
            s(&self.reply_to),
            s(&self.call_id),
            s(&self.seq),
            s(&self.subject),
            path(&self.request_path),
            path(&self.response_path),
            s(&self.user_agent),
            c(self.status_code),
            s(&self.status_msg),
            s(&self.warning),
            c(self.request_body_len),
            c(self.response_body_len),
            s(&self.content_type),
        ]
    }
}

/// `SIP::State`: the pending records, and where requests and responses are.
#[derive(Debug, Default)]
struct State {
    pending: BTreeMap<u64, Info>,
    current_request: u64,
    current_response: u64,
}

/// What the scripts keep on one connection.
#[derive(Debug, Default)]
struct ConnState {
    /// `c$sip_state` (absent until the first SIP event, and again after a flush).
    state: Option<State>,
}

impl ConnState {
    fn state(&mut self) -> &mut State {
        self.state.get_or_insert_with(State::default)
    }

    /// `set_state`: `c$sip` becomes the record at the current request or
    /// response index, made if missing.
    fn set_state(&mut self, ts: Time, c: &Connection, is_request: bool) -> &mut Info {
        let st = self.state();
        let at = if is_request {
            st.current_request
        } else {
            st.current_response
        };
        let depth = st.current_request;
        st.pending.entry(at).or_insert_with(|| Info {
            ts,
            uid: c.uid.to_string(),
            id: Some(c.id),
            trans_depth: depth,
            ..Info::default()
        });
        self.state
            .as_mut()
            .and_then(|st| st.pending.get_mut(&at))
            .expect("the record was just made")
    }

    /// `Reporter::conn_weird`, through Zeek's weird framework.
    fn weird(&mut self, ts: Time, c: &Connection, name: &'static str, addl: &[u8], logs: &mut Logs) {
        log_conn_weird(logs, ts, c, name, addl, "");
    }
}

/// Writes `sip.log` from the SIP events.
#[derive(Default)]
pub struct SipLogger {
    conns: FxHashMap<std::sync::Arc<str>, ConnState>,
}

impl SipLogger {
    /// The `sip.log` writer as an event consumer.
    pub fn sink() -> Box<dyn EventSink> {
        Box::new(
            EventHandlers::new(SipLogger::default())
                .on::<SipRequest>(SipLogger::request)
                .on::<SipReply>(SipLogger::reply)
                .on::<SipHeader>(SipLogger::header)
                .on::<SipEndEntity>(SipLogger::end_entity)
                .on::<ConnectionStateRemove>(SipLogger::remove),
        )
    }

    fn conn(&mut self, c: &Connection) -> &mut ConnState {
        self.conns.entry(c.uid.clone()).or_default()
    }

    fn request(&mut self, ts: Time, e: &SipRequest, logs: &mut Logs) {
        let cs = self.conn(&e.c);
        let info = cs.set_state(ts, &e.c, true);
        info.method = Some(e.method.as_bytes().to_vec());
        info.uri = Some(e.original_URI.as_bytes().to_vec());
        if !SIP_METHODS.contains(&e.method.as_bytes()) {
            cs.weird(ts, &e.c, "unknown_SIP_method", e.method.as_bytes(), logs);
        }
    }

    fn reply(&mut self, ts: Time, e: &SipReply, _logs: &mut Logs) {
        let info = self.conn(&e.c).set_state(ts, &e.c, false);
        // main.zeek moves `current_response` on here only when the code is
        // both below 100 and at least 200: never.
        info.status_code = Some(e.code);
        info.status_msg = Some(e.reason.as_bytes().to_vec());
    }

    fn header(&mut self, ts: Time, e: &SipHeader, logs: &mut Logs) {
        let cs = self.conn(&e.c);
        let is_request = e.is_orig;
        {
            let st = cs.state();
            let cur = if is_request {
                &mut st.current_request
            } else {
                &mut st.current_response
            };
            if !st.pending.contains_key(cur) {
                *cur += 1;
            }
        }
        let value = e.value.as_bytes();
        let name = e.name.as_bytes();
        let info = cs.set_state(ts, &e.c, is_request);
        let mut weird = None;
        if is_request {
            match name {
                b"CALL-ID" => info.call_id = Some(value.to_vec()),
                b"CONTENT-LENGTH" | b"L" => info.request_body_len = Some(to_count(value)),
                b"CSEQ" => info.seq = Some(value.to_vec()),
                b"DATE" => info.date = Some(value.to_vec()),
                b"FROM" | b"F" => info.request_from = Some(before_param(value, b"tag=").to_vec()),
                b"REPLY-TO" => info.reply_to = Some(value.to_vec()),
                b"SUBJECT" | b"S" => info.subject = Some(value.to_vec()),
                b"TO" | b"T" => info.request_to = Some(value.to_vec()),
                b"USER-AGENT" => info.user_agent = Some(value.to_vec()),
                b"VIA" | b"V" => {
                    if info.request_path.len() >= MAX_PATH_LENGTH {
                        weird = Some("sip_max_request_path_length_exceeded");
                    } else {
                        info.request_path.push(before_param(value, b"branch").to_vec());
                    }
                }
                _ => {}
            }
        } else {
            match name {
                b"CONTENT-LENGTH" | b"L" => info.response_body_len = Some(to_count(value)),
                b"CONTENT-TYPE" | b"C" => info.content_type = Some(value.to_vec()),
                b"WARNING" => info.warning = Some(value.to_vec()),
                b"FROM" | b"F" => info.response_from = Some(before_param(value, b"tag=").to_vec()),
                b"TO" | b"T" => info.response_to = Some(value.to_vec()),
                b"VIA" | b"V" => {
                    if info.response_path.len() >= MAX_PATH_LENGTH {
                        weird = Some("sip_max_response_path_length_exceeded");
                    } else {
                        info.response_path.push(before_param(value, b"branch").to_vec());
                    }
                }
                _ => {}
            }
        }
        if let Some(name) = weird {
            cs.weird(ts, &e.c, name, b"", logs);
        }
        // `pending[current] = c$sip`: the record set_state chose, where it is.
    }

    fn end_entity(&mut self, ts: Time, e: &SipEndEntity, logs: &mut Logs) {
        let cs = self.conn(&e.c);
        let info = cs.set_state(ts, &e.c, e.is_orig).clone();
        if e.is_orig {
            return;
        }
        // The reply is done: its record is logged.
        logs.write(&SIP_LOG, &info.row());
        // Zeek stops this handler at a status code that is not set.
        let Some(code) = info.status_code else {
            return;
        };
        if !(100..200).contains(&code) {
            let st = cs.state();
            let at = st.current_response;
            st.pending.remove(&at);
        }
        let bye_done = info.method.as_deref() == Some(b"BYE") && (200..300).contains(&code);
        if info.method.is_none() || bye_done {
            // flush_pending: every pending record but index 0; then the state is gone.
            if let Some(st) = cs.state.take() {
                for (at, info) in &st.pending {
                    if *at != 0 {
                        logs.write(&SIP_LOG, &info.row());
                    }
                }
            }
        }
    }

    /// `finalize_sip`: what is still pending is written when the connection goes.
    fn remove(&mut self, _ts: Time, e: &ConnectionStateRemove, logs: &mut Logs) {
        let Some(cs) = self.conns.remove(&e.c.uid) else {
            return;
        };
        if let Some(st) = cs.state {
            for info in st.pending.values() {
                logs.write(&SIP_LOG, &info.row());
            }
        }
    }
}

/// `split_string1(value, /;[ ]?NAME/)[0]`: the value up to its first `;NAME`
/// or `; NAME`.
fn before_param<'v>(value: &'v [u8], name: &[u8]) -> &'v [u8] {
    for (i, &c) in value.iter().enumerate() {
        if c != b';' {
            continue;
        }
        let rest = &value[i + 1..];
        if rest.starts_with(name) || (rest.first() == Some(&b' ') && rest[1..].starts_with(name)) {
            return &value[..i];
        }
    }
    value
}

/// Zeek's `to_count`: C's `strtoull` (leading white space, a sign that
/// negates modulo 2^64, saturating at 2^64-1) of a string that holds only the
/// number and trailing white space; anything else is an error and 0.
pub fn to_count(v: &[u8]) -> u64 {
    let space = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let (mut i, neg) = crate::sip::analyzer::c_number_start(v);
    let start = i;
    let mut n: u64 = 0;
    let mut overflow = false;
    while let Some(d) = v.get(i).filter(|c| c.is_ascii_digit()) {
        match n.checked_mul(10).and_then(|n| n.checked_add(u64::from(d - b'0'))) {
            Some(m) => n = m,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start {
        return 0;
    }
    while i < v.len() && space(v[i]) {
        i += 1;
    }
    if i != v.len() {
        return 0;
    }
    if overflow {
        u64::MAX
    } else if neg {
        n.wrapping_neg()
    } else {
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_count_as_zeek() {
        assert_eq!(to_count(b"10 "), 10);
        assert_eq!(to_count(b"abc"), 0);
        assert_eq!(to_count(b"-1"), u64::MAX);
        assert_eq!(to_count(b"+5"), 5);
        assert_eq!(to_count(b"99999999999999999999"), u64::MAX);
        assert_eq!(to_count(b" 7"), 7);
        assert_eq!(to_count(b"0x10"), 0);
        assert_eq!(to_count(b""), 0);
        assert_eq!(to_count(b"12abc"), 0);
        assert_eq!(to_count(b"1\t"), 1);
    }

    #[test]
    fn tag_and_branch_parameters_are_cut() {
        assert_eq!(before_param(b"Alice <sip:a@b>;tag=1", b"tag="), b"Alice <sip:a@b>");
        assert_eq!(before_param(b"A; tag=1;x", b"tag="), b"A");
        assert_eq!(before_param(b"A;x=1;tag", b"tag="), b"A;x=1;tag");
        assert_eq!(before_param(b"SIP/2.0/UDP h;branch=z9", b"branch"), b"SIP/2.0/UDP h");
    }
}
