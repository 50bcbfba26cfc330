//! `smtp.log`, built from the SMTP and MIME events as Zeek's
//! base/protocols/smtp/main.zeek builds it: one row per mail transaction,
//! written when the server answers the end of data (`.` or the last BDAT), when
//! the next MAIL FROM starts before that answer, or at connection end; header
//! columns come from the top-level entity's `mime_one_header`s.

use super::addrs::{
    extract_email_addrs, extract_first_email_addr, extract_ip_addresses,
    find_address_in_smtp_header, split_mime_email_addresses,
};
use super::events::{SmtpReply, SmtpRequest, SmtpStarttls};
use super::Limits;
use crate::mime::events::{MimeBeginEntity, MimeOneHeader};
use netpac_runtime::conn::events::{ConnectionStateRemove, ProtocolConfirmation};
use netpac_runtime::event::{EventHandlers, EventSink};
use netpac_runtime::log::{Logs, Schema, Value};
use netpac_runtime::record::Connection;
use netpac_runtime::weird::log_conn_weird;
use netpac_runtime::zeek::{ConnId, Time};
use rustc_hash::{FxHashMap, FxHashSet};
use std::net::IpAddr;

/// Zeek's `SMTP::Info` columns (with `fuids` of base/protocols/smtp/files.zeek).
pub static SMTP_LOG: Schema = Schema {
    path: "smtp",
    stream: "SMTP::LOG",
    columns: &[
        ("ts", "time"),
        ("uid", "string"),
        ("id.orig_h", "addr"),
        ("id.orig_p", "port"),
        ("id.resp_h", "addr"),
        ("id.resp_p", "port"),
        ("trans_depth", "count"),
        ("helo", "string"),
        ("mailfrom", "string"),
        ("rcptto", "set[string]"),
        ("date", "string"),
        ("from", "string"),
        ("to", "set[string]"),
        ("cc", "set[string]"),
        ("reply_to", "string"),
        ("msg_id", "string"),
        ("in_reply_to", "string"),
        ("subject", "string"),
        ("x_originating_ip", "addr"),
        ("first_received", "string"),
        ("second_received", "string"),
        ("last_reply", "string"),
        ("path", "vector[addr]"),
        ("user_agent", "string"),
        ("tls", "bool"),
        ("fuids", "vector[string]"),
    ],
};

/// A `set[string]` column: insertion order for output, a hash for membership
/// (thousands of recipients must not cost a scan each).
#[derive(Default)]
struct StringSet {
    items: Vec<Vec<u8>>,
    seen: FxHashSet<Vec<u8>>,
}

impl StringSet {
    fn len(&self) -> usize {
        self.items.len()
    }

    fn insert(&mut self, v: Vec<u8>) {
        if self.seen.insert(v.clone()) {
            self.items.push(v);
        }
    }
}

/// `c$smtp`: the transaction being logged.
#[derive(Default)]
struct Info {
    ts: Time,
    trans_depth: u64,
    helo: Option<Vec<u8>>,
    mailfrom: Option<Vec<u8>>,
    rcptto: Option<StringSet>,
    date: Option<Vec<u8>>,
    from: Option<Vec<u8>>,
    to: Option<StringSet>,
    cc: Option<StringSet>,
    reply_to: Option<Vec<u8>>,
    msg_id: Option<Vec<u8>>,
    in_reply_to: Option<Vec<u8>>,
    subject: Option<Vec<u8>>,
    x_originating_ip: Option<IpAddr>,
    first_received: Option<Vec<u8>>,
    second_received: Option<Vec<u8>>,
    last_reply: Option<Vec<u8>>,
    path: Vec<IpAddr>,
    user_agent: Option<Vec<u8>>,
    tls: bool,
    process_received_from: bool,
    has_client_activity: bool,
    process_smtp_headers: bool,
    entity_count: u64,
}

/// `c$smtp_state` and `c$smtp` of one connection.
struct Session {
    uid: std::sync::Arc<str>,
    id: ConnId,
    helo: Option<Vec<u8>>,
    messages_transferred: u64,
    trans_mail_from_seen: bool,
    trans_rcpt_to_seen: bool,
    invalid_transactions: u64,
    bdat_last_observed: bool,
    info: Info,
}

impl Session {
    fn new(ts: Time, c: &Connection) -> Session {
        let mut s = Session {
            uid: c.uid.clone(),
            id: c.id,
            helo: None,
            messages_transferred: 0,
            trans_mail_from_seen: false,
            trans_rcpt_to_seen: false,
            invalid_transactions: 0,
            bdat_last_observed: false,
            info: Info::default(),
        };
        s.info = s.new_info(ts);
        s
    }

    /// `new_smtp_log`.
    fn new_info(&self, ts: Time) -> Info {
        Info {
            ts,
            trans_depth: self.messages_transferred + 1,
            helo: self.helo.clone(),
            // The path always ends with the hosts of this connection.
            path: vec![self.id.resp_h, self.id.orig_h],
            process_received_from: true,
            process_smtp_headers: true,
            ..Info::default()
        }
    }

    /// `Reporter::conn_weird(name, c, addl, source)`, through Zeek's weird framework.
    fn weird(&mut self, ts: Time, c: &Connection, name: &'static str, addl: &str, source: &str, logs: &mut Logs) {
        log_conn_weird(logs, ts, c, name, addl.as_bytes(), source);
    }

    /// `mail_transaction_invalid`; the analyzer disables itself at the same count.
    fn mail_transaction_invalid(&mut self, ts: Time, c: &Connection, addl: &str, max: u64, logs: &mut Logs) {
        self.weird(ts, c, "smtp_mail_transaction_invalid", addl, "SMTP", logs);
        self.invalid_transactions += 1;
        if max > 0 && self.invalid_transactions > max {
            let addl = format!("{} > {}", self.invalid_transactions, max);
            self.weird(ts, c, "smtp_excessive_invalid_mail_transactions", &addl, "SMTP", logs);
        }
    }

    /// `smtp_message`: the row, if the client did something, and a fresh transaction.
    fn message(&mut self, ts: Time, logs: &mut Logs) {
        if self.info.has_client_activity {
            self.write(logs);
            self.info = self.new_info(ts);
        }
    }

    fn write(&self, logs: &mut Logs) {
        let i = &self.info;
        let s = |v: &Option<Vec<u8>>| Value::opt(v.as_ref(), Value::str);
        let set = |v: &Option<StringSet>| {
            Value::opt(v.as_ref(), |v| Value::Set(v.items.iter().map(Value::str).collect()))
        };
        let id = &self.id;
        let row = [
            Value::Time(i.ts),
            Value::str(self.uid.as_bytes()),
            Value::Addr(id.orig_h),
            Value::Port(id.orig_p.number),
            Value::Addr(id.resp_h),
            Value::Port(id.resp_p.number),
            Value::Count(i.trans_depth),
            s(&i.helo),
            s(&i.mailfrom),
            set(&i.rcptto),
            s(&i.date),
            s(&i.from),
            set(&i.to),
            set(&i.cc),
            s(&i.reply_to),
            s(&i.msg_id),
            s(&i.in_reply_to),
            s(&i.subject),
            Value::opt(i.x_originating_ip, Value::Addr),
            s(&i.first_received),
            s(&i.second_received),
            s(&i.last_reply),
            Value::Vector(i.path.iter().map(|a| Value::Addr(*a)).collect()),
            s(&i.user_agent),
            Value::Bool(i.tls),
            // Files are not analysed: no file ids.
            Value::Vector(Vec::new()),
        ];
        logs.write(&SMTP_LOG, &row);
    }
}

/// Writes `smtp.log` from the events it subscribes to.
#[derive(Default)]
pub struct SmtpLogger {
    conns: FxHashMap<std::sync::Arc<str>, Session>,
    limits: Limits,
}

impl SmtpLogger {
    /// The `smtp.log` writer as an event consumer.
    pub fn sink() -> Box<dyn EventSink> {
        Box::new(
            EventHandlers::new(SmtpLogger::default())
                .on::<ProtocolConfirmation>(SmtpLogger::confirmation)
                .on::<SmtpRequest>(SmtpLogger::request)
                .on::<SmtpReply>(SmtpLogger::reply)
                .on::<MimeOneHeader>(SmtpLogger::header)
                .on::<MimeBeginEntity>(SmtpLogger::begin_entity)
                .on::<SmtpStarttls>(SmtpLogger::starttls)
                .on::<ConnectionStateRemove>(SmtpLogger::remove),
        )
    }

    /// `set_smtp_session`.
    fn session(&mut self, ts: Time, c: &Connection) -> &mut Session {
        self.conns
            .entry(c.uid.clone())
            .or_insert_with(|| Session::new(ts, c))
    }

    fn confirmation(&mut self, ts: Time, e: &ProtocolConfirmation, _logs: &mut Logs) {
        if e.atype == "Analyzer::ANALYZER_SMTP" {
            self.session(ts, &e.c);
        }
    }

    fn request(&mut self, ts: Time, e: &SmtpRequest, logs: &mut Logs) {
        let max_rcptto = self.limits.max_rcptto_addresses as usize;
        let max_invalid = self.limits.max_invalid_mail_transactions;
        let c = &e.c;
        let s = self.session(ts, c);
        let cmd = e.command.as_bytes();
        let arg = e.arg.as_bytes();
        let prefix_ci = |p: &[u8]| arg.len() >= p.len() && arg[..p.len()].eq_ignore_ascii_case(p);
        if cmd == b"HELO" || cmd == b"EHLO" {
            s.helo = Some(arg.to_vec());
            s.info.helo = Some(arg.to_vec());
        } else if cmd == b"RCPT" && prefix_ci(b"TO:") {
            let rcptto = s.info.rcptto.get_or_insert_with(StringSet::default);
            let mut too_many = false;
            for a in extract_email_addrs(arg) {
                if max_rcptto > 0 && rcptto.len() >= max_rcptto {
                    too_many = true;
                    break;
                }
                rcptto.insert(strip_orcpt(&a));
            }
            if too_many {
                s.weird(ts, c, "smtp_too_many_rcptto_addresses", "", "", logs);
            }
            s.info.has_client_activity = true;
            s.trans_rcpt_to_seen = true;
            if !s.trans_mail_from_seen {
                s.mail_transaction_invalid(ts, c, "rcpt to missing mail from", max_invalid, logs);
            }
        } else if cmd == b"MAIL" && prefix_ci(b"FROM:") {
            // The last message, in case the server's answer was not seen.
            s.message(ts, logs);
            if let Some(from) = extract_first_email_addr(arg) {
                s.info.mailfrom = Some(from);
            }
            s.info.has_client_activity = true;
            s.trans_mail_from_seen = true;
            s.trans_rcpt_to_seen = false;
        } else if cmd == b"DATA" || cmd == b"BDAT" {
            if !s.trans_rcpt_to_seen {
                s.mail_transaction_invalid(ts, c, "data missing rcpt to", max_invalid, logs);
            }
            if cmd == b"BDAT" && arg.ends_with(b" LAST") {
                s.trans_mail_from_seen = false;
                s.trans_rcpt_to_seen = false;
                s.bdat_last_observed = true;
            }
        } else if cmd == b"." {
            s.trans_mail_from_seen = false;
            s.trans_rcpt_to_seen = false;
        }
    }

    fn reply(&mut self, ts: Time, e: &SmtpReply, logs: &mut Logs) {
        let s = self.session(ts, &e.c);
        let mut last = e.code.to_string().into_bytes();
        last.push(b' ');
        last.extend_from_slice(e.msg.as_bytes());
        s.info.last_reply = Some(last);
        // The handler at priority -5: the answer to the end of a message.
        let cmd = e.cmd.as_bytes();
        if cmd == b"." || (!e.cont_resp && cmd == b"BDAT" && s.bdat_last_observed) {
            s.messages_transferred += 1;
            s.bdat_last_observed = false;
            s.message(ts, logs);
            s.info = s.new_info(ts);
        }
    }

    fn header(&mut self, ts: Time, e: &MimeOneHeader, logs: &mut Logs) {
        let (max_to, max_cc, max_path) = (
            self.limits.max_to_addresses as usize,
            self.limits.max_cc_addresses as usize,
            self.limits.max_path_length as usize,
        );
        let c = &e.c;
        let Some(s) = self.conns.get_mut(&c.uid) else {
            return;
        };
        if !s.info.process_smtp_headers {
            return;
        }
        let name = e.h.name.as_bytes();
        let value = e.h.value.as_bytes();
        let i = &mut s.info;
        let mut weird = None;
        match name {
            b"MESSAGE-ID" => i.msg_id = Some(value.to_vec()),
            b"RECEIVED" => {
                i.second_received = i.first_received.take();
                i.first_received = Some(value.to_vec());
            }
            b"IN-REPLY-TO" => i.in_reply_to = Some(value.to_vec()),
            b"SUBJECT" => i.subject = Some(value.to_vec()),
            b"FROM" => i.from = Some(value.to_vec()),
            b"REPLY-TO" => i.reply_to = Some(value.to_vec()),
            b"DATE" => i.date = Some(value.to_vec()),
            b"TO" | b"CC" => {
                let (set, max, name) = if name == b"TO" {
                    (i.to.get_or_insert_with(StringSet::default), max_to, "smtp_too_many_to_addresses")
                } else {
                    (i.cc.get_or_insert_with(StringSet::default), max_cc, "smtp_too_many_cc_addresses")
                };
                for a in split_mime_email_addresses(value) {
                    if max > 0 && set.len() >= max {
                        weird = Some(name);
                        break;
                    }
                    set.insert(a);
                }
            }
            b"X-ORIGINATING-IP" => {
                if let Some(a) = extract_ip_addresses(value, false).first() {
                    i.x_originating_ip = Some(*a);
                }
            }
            b"X-MAILER" | b"USER-AGENT" | b"X-USER-AGENT" => i.user_agent = Some(value.to_vec()),
            _ => {}
        }
        // The handler at priority 3: the path of "Received: from" hosts.
        if name == b"RECEIVED" && i.process_received_from {
            if let Some(ip) = find_address_in_smtp_header(value) {
                // mail_path_capture = ALL_HOSTS: every address matches.
                if i.path.last() != Some(&ip) {
                    if max_path > 0 && i.path.len() >= max_path {
                        weird = Some("smtp_max_path_length_exceeded");
                    } else {
                        i.path.push(ip);
                    }
                }
            }
        }
        if let Some(name) = weird {
            s.weird(ts, c, name, "", "", logs);
        }
    }

    /// Headers of parts (any entity after the first) are not the mail's.
    fn begin_entity(&mut self, _ts: Time, e: &MimeBeginEntity, _logs: &mut Logs) {
        if let Some(s) = self.conns.get_mut(&e.c.uid) {
            s.info.entity_count += 1;
            if s.info.entity_count > 1 {
                s.info.process_smtp_headers = false;
            }
        }
    }

    fn starttls(&mut self, _ts: Time, e: &SmtpStarttls, _logs: &mut Logs) {
        if let Some(s) = self.conns.get_mut(&e.c.uid) {
            s.info.tls = true;
            s.info.has_client_activity = true;
        }
    }

    /// `finalize_smtp`: what the client did since the last row.
    fn remove(&mut self, ts: Time, e: &ConnectionStateRemove, logs: &mut Logs) {
        if let Some(mut s) = self.conns.remove(&e.c.uid) {
            s.message(ts, logs);
        }
    }
}

/// `gsub(addr, /ORCPT=rfc822;?/, "")`.
fn strip_orcpt(a: &[u8]) -> Vec<u8> {
    let pat = b"ORCPT=rfc822";
    let mut out = Vec::with_capacity(a.len());
    let mut i = 0;
    while i < a.len() {
        if a[i..].starts_with(pat) {
            i += pat.len();
            if a.get(i) == Some(&b';') {
                i += 1;
            }
        } else {
            out.push(a[i]);
            i += 1;
        }
    }
    out
}
