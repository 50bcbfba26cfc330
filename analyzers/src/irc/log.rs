//! `irc.log`, built from the IRC events as Zeek's base/protocols/irc scripts
//! build it (main.zeek, dcc-send.zeek): one session record per connection,
//! updated by every IRC event it handles; the client's NICK and USER write a
//! row each, its JOIN a row per channel. A DCC SEND offer fills the `dcc_*`
//! columns of the rows that follow (Zeek writes its own DCC row only when the
//! transfer's file is sniffed, which needs the data connection's file analysis:
//! not built, so no such row is written). The offers wait, as in dcc-send.zeek,
//! in a table bounded by `max_dcc_expected_transfers` (weird
//! `irc_max_dcc_expected_transfers_exceeded`) whose entries expire after 5 minutes.

use crate::irc::{IrcDccMessage, IrcJoinMessage, IrcNickMessage, IrcUserMessage};
use netpac_runtime::conn::events::ConnectionStateRemove;
use netpac_runtime::event::{EventHandlers, EventSink};
use netpac_runtime::log::{Logs, Schema, Value};
use netpac_runtime::record::Connection;
use netpac_runtime::weird::log_conn_weird;
use netpac_runtime::zeek::{ConnId, Interval, Time};
use rustc_hash::FxHashMap;
use std::net::IpAddr;

/// dcc-send.zeek's `IRC::max_dcc_expected_transfers`.
const MAX_DCC_EXPECTED_TRANSFERS: usize = 5000;
/// `dcc_expected_transfers`' `&read_expire`.
const DCC_EXPECTED_EXPIRE: Interval = Interval(300_000_000_000);

/// Zeek's `IRC::Info` columns (main.zeek, dcc-send.zeek, files.zeek).
pub static IRC_LOG: Schema = Schema {
    path: "irc",
    stream: "IRC::LOG",
    columns: &[
        ("ts", "time"),
        ("uid", "string"),
        ("id.orig_h", "addr"),
        ("id.orig_p", "port"),
        ("id.resp_h", "addr"),
        ("id.resp_p", "port"),
        ("nick", "string"),
        ("user", "string"),
        ("command", "string"),
        ("value", "string"),
        ("addl", "string"),
        ("dcc_file_name", "string"),
        ("dcc_file_size", "count"),
        ("dcc_mime_type", "string"),
        ("fuid", "string"),
    ],
};

/// `c$irc`: what the session knows so far; every row is a copy of it.
struct Session {
    ts: Time,
    uid: std::sync::Arc<str>,
    id: ConnId,
    nick: Option<Vec<u8>>,
    user: Option<Vec<u8>>,
    command: Option<&'static str>,
    value: Option<Vec<u8>>,
    addl: Option<Vec<u8>>,
    dcc_file_name: Option<Vec<u8>>,
    dcc_file_size: Option<u64>,
}

impl Session {
    fn write(&self, logs: &mut Logs) {
        let id = &self.id;
        let row = [
            Value::Time(self.ts),
            Value::str(self.uid.as_bytes()),
            Value::Addr(id.orig_h),
            Value::Port(id.orig_p.number),
            Value::Addr(id.resp_h),
            Value::Port(id.resp_p.number),
            Value::opt(self.nick.as_ref(), Value::str),
            Value::opt(self.user.as_ref(), Value::str),
            Value::opt(self.command, Value::str),
            Value::opt(self.value.as_ref(), Value::str),
            Value::opt(self.addl.as_ref(), Value::str),
            Value::opt(self.dcc_file_name.as_ref(), Value::str),
            Value::opt(self.dcc_file_size, Value::Count),
            // The DCC transfer's sniffed type and file id come from file analysis (not built).
            Value::Unset,
            Value::Unset,
        ];
        logs.write(&IRC_LOG, &row);
    }
}

/// Writes `irc.log` from the IRC events it subscribes to.
#[derive(Default)]
pub struct IrcLogger {
    conns: FxHashMap<std::sync::Arc<str>, Session>,
    /// `dcc_expected_transfers`: offered DCC SEND endpoints, when they were offered.
    dcc_expected: FxHashMap<(IpAddr, u16), Time>,
}

impl IrcLogger {
    /// The `irc.log` writer as an event consumer.
    pub fn sink() -> Box<dyn EventSink> {
        Box::new(
            EventHandlers::new(IrcLogger::default())
                .on::<IrcNickMessage>(IrcLogger::nick)
                .on::<IrcUserMessage>(IrcLogger::user)
                .on::<IrcJoinMessage>(IrcLogger::join)
                .on::<IrcDccMessage>(IrcLogger::dcc)
                .on::<ConnectionStateRemove>(IrcLogger::remove),
        )
    }

    /// `set_session`: the session, created on the first IRC event of either
    /// side; its time is the latest event's.
    fn session(&mut self, ts: Time, c: &Connection) -> &mut Session {
        let s = self.conns.entry(c.uid.clone()).or_insert_with(|| Session {
            ts,
            uid: c.uid.clone(),
            id: c.id,
            nick: None,
            user: None,
            command: None,
            value: None,
            addl: None,
            dcc_file_name: None,
            dcc_file_size: None,
        });
        s.ts = ts;
        s
    }

    /// The client's NICK: a row, then the session has that nick.
    fn nick(&mut self, ts: Time, e: &IrcNickMessage, logs: &mut Logs) {
        let s = self.session(ts, &e.c);
        if e.is_orig {
            s.command = Some("NICK");
            s.value = Some(e.newnick.as_bytes().to_vec());
            s.write(logs);
            s.nick = Some(e.newnick.as_bytes().to_vec());
        }
    }

    /// The client's USER: a row (`addl` is "host server real name"), then the session has that user.
    fn user(&mut self, ts: Time, e: &IrcUserMessage, logs: &mut Logs) {
        let s = self.session(ts, &e.c);
        if e.is_orig {
            s.command = Some("USER");
            s.value = Some(e.user.as_bytes().to_vec());
            let mut addl = e.host.as_bytes().to_vec();
            for part in [&e.server, &e.real_name] {
                addl.push(b' ');
                addl.extend_from_slice(part.as_bytes());
            }
            s.addl = Some(addl);
            s.write(logs);
            s.user = Some(e.user.as_bytes().to_vec());
        }
    }

    /// The client's JOIN: a row per channel, with its key if it has one.
    fn join(&mut self, ts: Time, e: &IrcJoinMessage, logs: &mut Logs) {
        let s = self.session(ts, &e.c);
        if !e.is_orig {
            return;
        }
        s.command = Some("JOIN");
        for info in &e.info_list {
            s.value = Some(info.channel.as_bytes().to_vec());
            s.addl = Some(if info.password.as_bytes().is_empty() {
                Vec::new()
            } else {
                let mut a = b" with channel key: '".to_vec();
                a.extend_from_slice(info.password.as_bytes());
                a.push(b'\'');
                a
            });
            s.write(logs);
        }
    }

    /// A DCC SEND offer (from either side) names the file of the rows that follow.
    /// Past `max_dcc_expected_transfers` offers waiting, a new one is only a weird.
    fn dcc(&mut self, ts: Time, e: &IrcDccMessage, logs: &mut Logs) {
        self.session(ts, &e.c);
        if e.dcc_type.as_bytes() != b"SEND" {
            return;
        }
        self.dcc_expected
            .retain(|_, at| ts.0.saturating_sub(at.0) < DCC_EXPECTED_EXPIRE.0);
        let full = self.dcc_expected.len() >= MAX_DCC_EXPECTED_TRANSFERS;
        if full {
            log_conn_weird(logs, ts, &e.c, "irc_max_dcc_expected_transfers_exceeded", b"", "");
            return;
        }
        let s = self.session(ts, &e.c);
        s.dcc_file_name = Some(e.argument.as_bytes().to_vec());
        s.dcc_file_size = Some(e.size);
        let port = u16::try_from(e.dest_port).unwrap_or(u16::MAX);
        self.dcc_expected.insert((e.address, port), ts);
    }

    fn remove(&mut self, _ts: Time, e: &ConnectionStateRemove, _logs: &mut Logs) {
        self.conns.remove(&e.c.uid);
    }
}
