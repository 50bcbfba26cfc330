//! `ftp.log`, built from `ftp_request` and `ftp_reply` as Zeek's
//! base/protocols/ftp/main.zeek builds it: commands wait in a bounded table
//! until a reply pairs with them; a row per logged command (`logged_commands`)
//! once its reply came and the next command arrives, or at connection end.

use crate::ftp::commands::{best_pending, CmdArg};
use crate::ftp::paths::{build_path_compressed, extract_path, last_count};
use crate::ftp::ports::{parse_eftp_port, parse_ftp_epsv, parse_ftp_pasv, parse_ftp_port};
use crate::file::FileTransferred;
use crate::ftp::{FtpReply, FtpRequest};
use netpac_runtime::conn::events::ConnectionStateRemove;
use netpac_runtime::event::{EventHandlers, EventSink};
use netpac_runtime::log::{Logs, Schema, Value};
use netpac_runtime::record::Connection;
use netpac_runtime::weird::log_conn_weird;
use netpac_runtime::zeek::{ConnId, Time};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Zeek's `FTP::Info` columns.
pub static FTP_LOG: Schema = Schema {
    path: "ftp",
    stream: "FTP::LOG",
    columns: &[
        ("ts", "time"),
        ("uid", "string"),
        ("id.orig_h", "addr"),
        ("id.orig_p", "port"),
        ("id.resp_h", "addr"),
        ("id.resp_p", "port"),
        ("user", "string"),
        ("password", "string"),
        ("command", "string"),
        ("arg", "string"),
        ("mime_type", "string"),
        ("file_size", "count"),
        ("reply_code", "count"),
        ("reply_msg", "string"),
        ("data_channel.passive", "bool"),
        ("data_channel.orig_h", "addr"),
        ("data_channel.resp_h", "addr"),
        ("data_channel.resp_p", "port"),
        ("fuid", "string"),
    ],
};

/// Zeek's `FTP::max_pending_commands`: commands past it are dropped with a weird.
const MAX_PENDING_COMMANDS: usize = 20;
/// `FTP::max_user_length`, `max_password_length`, `max_arg_length`, `max_reply_msg_length`.
const MAX_USER_LENGTH: usize = 128;
const MAX_PASSWORD_LENGTH: usize = 128;
const MAX_ARG_LENGTH: usize = 4096;
const MAX_REPLY_MSG_LENGTH: usize = 4096;

/// The commands whose rows are written (`FTP::logged_commands`).
const LOGGED_COMMANDS: &[&[u8]] = &[
    b"APPE", b"DELE", b"RETR", b"STOR", b"STOU", b"ACCT", b"PORT", b"PASV", b"EPRT", b"EPSV",
];
/// Commands whose argument is logged as a URL (`file_cmds`).
const FILE_COMMANDS: &[&[u8]] = &[
    b"APPE", b"CWD", b"DELE", b"MKD", b"RETR", b"RMD", b"RNFR", b"RNTO", b"STOR", b"STOU", b"REST",
    b"SIZE", b"MDTM",
];
/// Users whose password is logged (`FTP::guest_ids`).
const GUEST_IDS: &[&[u8]] = &[b"anonymous", b"ftp", b"ftpuser", b"guest"];

/// Zeek's `FTP::ExpectedDataChannel`.
#[derive(Debug, Clone, Copy)]
struct DataChannel {
    passive: bool,
    orig_h: IpAddr,
    resp_h: IpAddr,
    resp_p: u16,
}

/// `c$ftp`: the session of one control connection.
struct Session {
    uid: std::sync::Arc<str>,
    id: ConnId,
    user: Vec<u8>,
    password: Option<Vec<u8>>,
    file_size: Option<u64>,
    reply_code: Option<u64>,
    reply_msg: Option<Vec<u8>>,
    data_channel: Option<DataChannel>,
    /// The type of the file on the data connection (`file_transferred`).
    mime_type: Option<Vec<u8>>,
    cwd: Vec<u8>,
    cmdarg: Option<CmdArg>,
    /// `pending_commands`, by sequence number (bounded by `MAX_PENDING_COMMANDS`).
    pending: BTreeMap<u64, CmdArg>,
    command_seq: u64,
    /// A USER command was seen (`user` is no longer Zeek's `<unknown>` default).
    user_seen: bool,
    /// A row was written for this session (Zeek's `logged_command_seen`).
    logged_command_seen: bool,
}

impl Session {
    /// `set_ftp_session`: a new session waits for the server's greeting (`<init>`).
    fn new(ts: Time, c: &Connection) -> Session {
        let mut s = Session {
            uid: c.uid.clone(),
            id: c.id,
            user: b"<unknown>".to_vec(),
            password: None,
            file_size: None,
            reply_code: None,
            reply_msg: None,
            data_channel: None,
            mime_type: None,
            cwd: b".".to_vec(),
            cmdarg: None,
            pending: BTreeMap::new(),
            command_seq: 0,
            user_seen: false,
            logged_command_seen: false,
        };
        s.add_pending(ts, b"<init>", b"");
        s
    }

    fn add_pending(&mut self, ts: Time, cmd: &[u8], arg: &[u8]) {
        self.command_seq += 1;
        let seq = self.command_seq;
        self.pending.insert(
            seq,
            CmdArg {
                ts,
                cmd: cmd.to_vec(),
                arg: arg.to_vec(),
                seq,
                cwd_consumed: false,
            },
        );
    }

    /// `remove_pending_cmd` of the current command: whether it was still pending.
    fn remove_current(&mut self) -> bool {
        let Some(seq) = self.cmdarg.as_ref().map(|c| c.seq) else {
            return false;
        };
        self.pending.remove(&seq).is_some()
    }

    /// `Reporter::conn_weird(name, c, addl, "FTP")`, through Zeek's weird framework.
    fn weird(&mut self, ts: Time, c: &Connection, name: &'static str, addl: &str, logs: &mut Logs) {
        log_conn_weird(logs, ts, c, name, addl.as_bytes(), "FTP");
    }

    fn hide_password(&self) -> bool {
        !GUEST_IDS.iter().any(|g| g.eq_ignore_ascii_case(&self.user))
    }

    /// `ftp_message`: the row of the current command (if it is a logged one);
    /// the per-transfer columns are cleared afterwards.
    fn message(&mut self, ts: Time, c: &Connection, logs: &mut Logs) {
        self.write_message(ts, c, logs, false);
    }

    /// `ftp_message`, or with `always` the row of a session that logged
    /// nothing else (a login-only session: today's Zeek writes it at the end,
    /// `FTP::report_unlogged_sessions`).
    fn write_message(&mut self, ts: Time, c: &Connection, logs: &mut Logs, always: bool) {
        // Taken out while the row borrows it (no copy of the command per row).
        let Some(cmd) = self.cmdarg.take() else {
            return;
        };
        self.write_row(ts, c, logs, always, &cmd);
        self.cmdarg = Some(cmd);
        self.mime_type = None;
        self.file_size = None;
        self.data_channel = None;
    }

    fn write_row(&mut self, ts: Time, c: &Connection, logs: &mut Logs, always: bool, cmd: &CmdArg) {
        let url;
        let mut arg: &[u8] = if FILE_COMMANDS.contains(&&cmd.cmd[..]) {
            url = self.url(&cmd.arg);
            &url
        } else {
            &cmd.arg
        };
        if arg.len() > MAX_ARG_LENGTH {
            let len = arg.len().to_string();
            self.weird(ts, c, "FTP_arg_too_long", &len, logs);
            arg = &arg[..MAX_ARG_LENGTH];
        }
        if let Some(m) = &mut self.reply_msg {
            if m.len() > MAX_REPLY_MSG_LENGTH {
                let len = m.len().to_string();
                m.truncate(MAX_REPLY_MSG_LENGTH);
                self.weird(ts, c, "FTP_reply_msg_too_long", &len, logs);
            }
        }
        let hidden = self.hide_password();
        if cmd.cmd == b"PASS" && hidden {
            arg = b"<hidden>";
        }
        if always || LOGGED_COMMANDS.contains(&&cmd.cmd[..]) {
            self.logged_command_seen = true;
            let password = match &self.password {
                Some(_) if hidden => Some(&b"<hidden>"[..]),
                p => p.as_deref(),
            };
            let dc = self.data_channel;
            let id = &self.id;
            let row = [
                Value::Time(cmd.ts),
                Value::str(self.uid.as_bytes()),
                Value::Addr(id.orig_h),
                Value::Port(id.orig_p.number),
                Value::Addr(id.resp_h),
                Value::Port(id.resp_p.number),
                Value::str(&self.user),
                Value::opt(password, Value::str),
                Value::str(&cmd.cmd),
                if arg.is_empty() {
                    Value::Unset
                } else {
                    Value::str(arg)
                },
                Value::opt(self.mime_type.as_ref(), Value::str),
                Value::opt(self.file_size, Value::Count),
                Value::opt(self.reply_code, Value::Count),
                Value::opt(self.reply_msg.as_ref(), Value::str),
                Value::opt(dc, |d| Value::Bool(d.passive)),
                Value::opt(dc, |d| Value::Addr(d.orig_h)),
                Value::opt(dc, |d| Value::Addr(d.resp_h)),
                Value::opt(dc, |d| Value::Port(d.resp_p)),
                // fuid comes from file analysis (not built).
                Value::Unset,
            ];
            logs.write(&FTP_LOG, &row);
        }
    }

    /// `build_url_ftp`: `ftp://<server><path under cwd>`.
    fn url(&self, arg: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let path = build_path_compressed(&self.cwd, arg);
        let mut out = Vec::with_capacity(48 + path.len());
        out.extend_from_slice(b"ftp://");
        // Writing into a Vec cannot fail.
        let _ = match self.id.resp_h {
            IpAddr::V4(a) => write!(out, "{a}"),
            IpAddr::V6(a) => write!(out, "[{a}]"),
        };
        if path.first() != Some(&b'/') {
            out.push(b'/');
        }
        out.extend_from_slice(&path);
        out
    }
}

/// Writes `ftp.log` from the FTP events it subscribes to.
#[derive(Default)]
pub struct FtpLogger {
    conns: FxHashMap<std::sync::Arc<str>, Session>,
    /// `ftp_data_expected`: the control session (uid) of each announced data
    /// channel, by its responder address and port. Entries leave with the data
    /// connection or their session; at most `MAX_EXPECTED_DATA` are kept.
    data_expected: FxHashMap<(IpAddr, u16), std::sync::Arc<str>>,
}

/// How many announced data channels `ftp_data_expected` keeps (Zeek expires
/// them after 5 minutes; a flood of PORT commands must not grow it for that long).
const MAX_EXPECTED_DATA: usize = 65_536;

impl FtpLogger {
    /// The `ftp.log` writer as an event consumer.
    pub fn sink() -> Box<dyn EventSink> {
        Box::new(
            EventHandlers::new(FtpLogger::default())
                .on::<FtpRequest>(FtpLogger::request)
                .on::<FtpReply>(FtpLogger::reply)
                .on::<ConnectionStateRemove>(FtpLogger::remove)
                .on::<FileTransferred>(FtpLogger::file_transferred),
        )
    }

    fn session(&mut self, ts: Time, c: &Connection) -> &mut Session {
        self.conns
            .entry(c.uid.clone())
            .or_insert_with(|| Session::new(ts, c))
    }

    /// main.zeek's `ftp_request`.
    fn request(&mut self, ts: Time, e: &FtpRequest, logs: &mut Logs) {
        let c = &e.c;
        let (command, arg) = (e.command.as_bytes(), e.arg.as_bytes());
        // The previous command is written once a new one comes (if it was answered).
        if let Some(s) = self.conns.get_mut(&c.uid) {
            if s.cmdarg.is_some() && s.reply_code.is_some() && s.remove_current() {
                s.message(ts, c, logs);
            }
        }
        let s = self.session(ts, c);
        if s.pending.len() < MAX_PENDING_COMMANDS {
            s.add_pending(ts, command, arg);
        } else {
            let n = s.pending.len().to_string();
            s.weird(ts, c, "FTP_too_many_pending_commands", &n, logs);
        }
        let clip = |s: &mut Session, name: &'static str, max: usize, logs: &mut Logs| {
            let mut a = arg.to_vec();
            if a.len() > max {
                s.weird(ts, c, name, &a.len().to_string(), logs);
                a.truncate(max);
            }
            a
        };
        match command {
            b"USER" => {
                s.user = clip(s, "FTP_user_too_long", MAX_USER_LENGTH, logs);
                s.user_seen = true;
            }
            b"PASS" => {
                s.password = Some(clip(s, "FTP_password_too_long", MAX_PASSWORD_LENGTH, logs))
            }
            b"PORT" | b"EPRT" => {
                let p = if command == b"PORT" {
                    parse_ftp_port(arg)
                } else {
                    parse_eftp_port(arg)
                };
                if p.valid {
                    // The server connects to the client's address and port.
                    let dc = DataChannel {
                        passive: false,
                        orig_h: s.id.resp_h,
                        resp_h: p.h,
                        resp_p: p.p,
                    };
                    s.data_channel = Some(dc);
                    let uid = s.uid.clone();
                    self.expect_data(&uid, &dc);
                }
            }
            _ => {}
        }
    }

    /// main.zeek's `ftp_reply`.
    fn reply(&mut self, ts: Time, e: &FtpReply, logs: &mut Logs) {
        if let Some((uid, dc)) = self.pair_reply(ts, e, logs) {
            self.expect_data(&uid, &dc);
        }
    }

    /// Pairs a reply with its command; the data channel it announces, if any.
    fn pair_reply(
        &mut self,
        ts: Time,
        e: &FtpReply,
        logs: &mut Logs,
    ) -> Option<(std::sync::Arc<str>, DataChannel)> {
        let c = &e.c;
        let mut announced = None;
        let (code, msg) = (e.code, e.msg.as_bytes());
        let s = self.session(ts, c);
        // Lines inside a multi-line reply pair with nothing, unless they look like a
        // reply of their own (servers that never close a `230-` reply).
        if e.cont_resp && code == 0 && s.reply_code.is_some() && !looks_like_reply(msg) {
            return None;
        }
        let cmd = best_pending(s.pending.values(), code, msg).cloned()?;
        s.cmdarg = Some(cmd);
        s.reply_code = Some(code);
        s.reply_msg = Some(msg.to_vec());
        if e.cont_resp {
            return None;
        }
        let cmd = s.cmdarg.as_mut()?;
        if (code == 150 && cmd.cmd == b"RETR") || (code == 213 && cmd.cmd == b"SIZE") {
            s.file_size = Some(last_count(msg));
        } else if (code == 227 || code == 229) && (cmd.cmd == b"PASV" || cmd.cmd == b"EPSV") {
            let mut p = if code == 227 {
                parse_ftp_pasv(msg)
            } else {
                parse_ftp_epsv(msg)
            };
            if p.valid {
                if code == 229 && p.h == IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED) {
                    p.h = s.id.resp_h;
                }
                let dc = DataChannel {
                    passive: true,
                    orig_h: s.id.orig_h,
                    resp_h: p.h,
                    resp_p: p.p,
                };
                s.data_channel = Some(dc);
                announced = Some((s.uid.clone(), dc));
            }
        }
        // The working directory, from the first reply that confirms a move.
        let moves = matches!(
            (&cmd.cmd[..], code),
            (b"CWD", 250) | (b"CDUP", 200) | (b"CDUP", 250) | (b"PWD", 257) | (b"XPWD", 257)
        );
        if moves && !cmd.cwd_consumed {
            cmd.cwd_consumed = true;
            let (name, arg) = (cmd.cmd.clone(), cmd.arg.clone());
            // The pending entry shares the record in Zeek.
            if let Some(p) = s.pending.get_mut(&cmd.seq) {
                p.cwd_consumed = true;
            }
            s.cwd = match &name[..] {
                b"CWD" => build_path_compressed(&s.cwd, &arg),
                b"CDUP" => build_path_compressed(&s.cwd, b"/.."),
                _ => extract_path(msg),
            };
        }
        // With several commands queued, this pair is written now.
        if s.pending.len() > 1 {
            s.remove_current();
            s.message(ts, c, logs);
        }
        announced
    }

    /// main.zeek's `file_transferred`: the data connection's type goes to the
    /// session that announced it, up to the first `;`.
    fn file_transferred(&mut self, _ts: Time, e: &FileTransferred, _logs: &mut Logs) {
        let key = (e.c.id.resp_h, e.c.id.resp_p.number);
        let Some(uid) = self.data_expected.get(&key) else {
            return;
        };
        if let Some(s) = self.conns.get_mut(uid) {
            let mime = e.mime_type.as_bytes();
            let end = mime.iter().position(|&b| b == b';').unwrap_or(mime.len());
            s.mime_type = Some(mime[..end].to_vec());
        }
    }

    /// An announced data channel, remembered for `file_transferred`.
    fn expect_data(&mut self, uid: &std::sync::Arc<str>, dc: &DataChannel) {
        if self.data_expected.len() >= MAX_EXPECTED_DATA {
            self.data_expected.clear();
        }
        self.data_expected.insert((dc.resp_h, dc.resp_p), uid.clone());
    }

    /// `finalize_ftp`: every command still pending is written at the end.
    /// (`finalize_ftp_data`: a data connection's channel is forgotten.)
    fn remove(&mut self, ts: Time, e: &ConnectionStateRemove, logs: &mut Logs) {
        if e.c.service.contains(&"ftp-data") {
            self.data_expected.remove(&(e.c.id.resp_h, e.c.id.resp_p.number));
        }
        let Some(mut s) = self.conns.remove(&e.c.uid) else {
            return;
        };
        self.data_expected.retain(|_, uid| *uid != s.uid);
        for cmd in std::mem::take(&mut s.pending).into_values() {
            s.cmdarg = Some(cmd);
            s.message(ts, &e.c, logs);
        }
        // A session of only USER/PASS/QUIT (a brute-force attempt) is still
        // visible: one row for its last command (zeek/zeek#5570).
        if s.user_seen && !s.logged_command_seen {
            s.write_message(ts, &e.c, logs, true);
        }
    }
}

/// `/^[1-9][0-9]{2} [[:print:]]{10}.*/`: a line inside a multi-line reply that
/// reads like a reply of its own.
fn looks_like_reply(msg: &[u8]) -> bool {
    msg.len() >= 14
        && (b'1'..=b'9').contains(&msg[0])
        && msg[1..3].iter().all(u8::is_ascii_digit)
        && msg[3] == b' '
        && msg[4..14].iter().all(|c| (0x20..0x7f).contains(c))
}
