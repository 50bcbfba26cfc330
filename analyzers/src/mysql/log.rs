//! `mysql.log`, as Zeek's base/protocols/mysql/main.zeek writes it: one row per
//! command (and one for the login), completed by the server's OK, ERR or final
//! EOF; a command nothing answered is written when the next one comes or when
//! the connection ends, `quit` at once.

use crate::mysql::{MysqlChangeUser, MysqlCommandRequest, MysqlEof, MysqlError, MysqlHandshake, MysqlOk};
use netpac_runtime::conn::events::ConnectionStateRemove;
use netpac_runtime::event::{EventHandlers, EventSink};
use netpac_runtime::log::{Logs, Schema, Value};
use netpac_runtime::record::Connection;
use netpac_runtime::zeek::Time;
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Zeek's `MySQL::Info` columns.
pub static MYSQL_LOG: Schema = Schema {
    path: "mysql",
    stream: "MySQL::LOG",
    columns: &[
        ("ts", "time"),
        ("uid", "string"),
        ("id.orig_h", "addr"),
        ("id.orig_p", "port"),
        ("id.resp_h", "addr"),
        ("id.resp_p", "port"),
        ("cmd", "string"),
        ("arg", "string"),
        ("success", "bool"),
        ("rows", "count"),
        ("response", "string"),
    ],
};

/// `MySQL::commands` (consts.zeek); others are `unknown-<n>`.
const COMMANDS: [&str; 32] = [
    "sleep", "quit", "init_db", "query", "field_list", "create_db", "drop_db", "refresh",
    "shutdown", "statistics", "process_info", "connect", "process_kill", "debug", "ping", "time",
    "delayed_insert", "change_user", "binlog_dump", "table_dump", "connect_out", "register_slave",
    "stmt_prepare", "stmt_execute", "stmt_send_long_data", "stmt_close", "stmt_reset", "set_option",
    "stmt_fetch", "daemon", "binlog_dump_gtid", "reset_connection",
];

fn command_name(command: u64) -> String {
    usize::try_from(command)
        .ok()
        .and_then(|i| COMMANDS.get(i))
        .map_or_else(|| format!("unknown-{command}"), |n| n.to_string())
}

/// `c$mysql`: the row under way of one connection.
#[derive(Debug, Clone)]
struct Info {
    ts: Time,
    c: Connection,
    cmd: String,
    arg: Vec<u8>,
    success: Option<bool>,
    rows: Option<u64>,
    response: Option<Vec<u8>>,
}

/// Writes `mysql.log` from the mysql_* events.
#[derive(Default)]
pub struct MysqlLogger {
    open: FxHashMap<Arc<str>, Info>,
}

impl MysqlLogger {
    /// The `mysql.log` writer as an event consumer.
    pub fn sink() -> Box<dyn EventSink> {
        Box::new(
            EventHandlers::new(MysqlLogger::default())
                .on::<MysqlHandshake>(MysqlLogger::handshake)
                .on::<MysqlCommandRequest>(MysqlLogger::command_request)
                .on::<MysqlChangeUser>(MysqlLogger::change_user)
                .on::<MysqlError>(MysqlLogger::error)
                .on::<MysqlOk>(MysqlLogger::ok)
                .on::<MysqlEof>(MysqlLogger::eof)
                .on::<ConnectionStateRemove>(MysqlLogger::remove),
        )
    }

    /// The login: a row unless one is under way (a second handshake changes nothing).
    fn handshake(&mut self, ts: Time, e: &MysqlHandshake, _logs: &mut Logs) {
        self.open.entry(e.c.uid.clone()).or_insert_with(|| Info {
            ts,
            c: e.c.clone(),
            cmd: "login".to_string(),
            arg: e.username.as_bytes().to_vec(),
            success: None,
            rows: None,
            response: None,
        });
    }

    /// A command writes the row before it (nothing answered it) and starts its own;
    /// `quit` gets no answer and is written at once. One trailing NUL of the
    /// argument is dropped.
    fn command_request(&mut self, ts: Time, e: &MysqlCommandRequest, logs: &mut Logs) {
        if let Some(before) = self.open.remove(&e.c.uid) {
            write(logs, &before);
        }
        let arg = e.arg.as_bytes();
        let info = Info {
            ts,
            c: e.c.clone(),
            cmd: command_name(e.command),
            arg: arg.strip_suffix(b"\0").unwrap_or(arg).to_vec(),
            success: None,
            rows: None,
            response: None,
        };
        if info.cmd == "quit" {
            write(logs, &info);
        } else {
            self.open.insert(e.c.uid.clone(), info);
        }
    }

    /// change_user's row names the new user.
    fn change_user(&mut self, _ts: Time, e: &MysqlChangeUser, _logs: &mut Logs) {
        if let Some(info) = self.open.get_mut(&e.c.uid) {
            info.arg = e.username.as_bytes().to_vec();
        }
    }

    fn error(&mut self, _ts: Time, e: &MysqlError, logs: &mut Logs) {
        if let Some(mut info) = self.open.remove(&e.c.uid) {
            info.success = Some(false);
            info.response = Some(e.msg.as_bytes().to_vec());
            write(logs, &info);
        }
    }

    fn ok(&mut self, _ts: Time, e: &MysqlOk, logs: &mut Logs) {
        if let Some(mut info) = self.open.remove(&e.c.uid) {
            info.success = Some(true);
            info.rows = Some(e.affected_rows);
            write(logs, &info);
        }
    }

    /// The EOF that ends a result: success with no row count of its own.
    fn eof(&mut self, _ts: Time, e: &MysqlEof, logs: &mut Logs) {
        if e.is_intermediate {
            return;
        }
        if let Some(mut info) = self.open.remove(&e.c.uid) {
            info.success.get_or_insert(true);
            info.rows.get_or_insert(0);
            write(logs, &info);
        }
    }

    /// `finalize_mysql`: the row under way when the connection ends.
    fn remove(&mut self, _ts: Time, e: &ConnectionStateRemove, logs: &mut Logs) {
        if self.open.is_empty() {
            return;
        }
        if let Some(info) = self.open.remove(&e.c.uid) {
            write(logs, &info);
        }
    }
}

fn write(logs: &mut Logs, info: &Info) {
    let [t, uid, oh, op, rh, rp] = Value::conn_columns(info.ts, &info.c);
    logs.write(
        &MYSQL_LOG,
        &[
            t, uid, oh, op, rh, rp,
            Value::str(&info.cmd),
            Value::str(&info.arg),
            Value::opt(info.success, Value::Bool),
            Value::opt(info.rows, Value::Count),
            Value::opt(info.response.as_ref(), Value::str),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_names_as_consts_zeek_has_them() {
        assert_eq!(command_name(3), "query");
        assert_eq!(command_name(31), "reset_connection");
        assert_eq!(command_name(32), "unknown-32");
        assert_eq!(command_name(u64::MAX), format!("unknown-{}", u64::MAX));
    }
}
