//! POP3: Zeek's POP3 analyzer (src/analyzer/protocol/pop3/POP3.cc) as a state
//! machine over the runtime's line framing. The grammar (`grammars/pop3.*`)
//! attaches it and holds its limits; the state lives here because the
//! language cannot yet keep strings (user, password) or a queue of deferred
//! lines (pipelined commands are processed when the reply before them ends).
//! The messages of RETR/TOP replies go to the shared MIME parser
//! (`analyzers/src/mime/`), as POP3.cc hands them to its `MIME_Mail`.

mod events;
pub mod text;

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_pop3.rs"));
}
pub use events::*;
pub use generated::pop3::{register, Limits};

use crate::mime::MimeMail;
use netpac_runtime::analyzer::{Analyzer, AnalyzerCx, Verdict};
use netpac_runtime::lines::{LineConfig, LineEvent, Lines};
use netpac_runtime::raise;
use netpac_runtime::zeek::ZString;
use std::collections::VecDeque;
use text::{decode_base64, parse_cmd, tokenize, trim_whitespace, COMMANDS};

/// Constructor named by `grammars/pop3.evt`.
pub fn new_analyzer() -> Box<dyn Analyzer> {
    Box::new(Pop3Analyzer::new(Limits::configured()))
}

/// POP3.cc's `masterState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Master {
    Start,
    Authorization,
    Transaction,
    Update,
    Finished,
}

/// POP3.cc's `state`: the command the next reply answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    User,
    Pass,
    Apop,
    Auth,
    AuthLogin,
    AuthPlain,
    AuthCramMd5,
    Stat,
    List,
    Retr,
    Dele,
    Rset,
    Noop,
    Last,
    Quit,
    Top,
    Capa,
    Uidl,
    Stls,
    Xsender,
}

// Command codes (POP3_cmd.def order, `text::COMMANDS`).
const OK: usize = 0;
const ERR: usize = 1;

pub struct Pop3Analyzer {
    limits: Limits,
    lines: Lines,
    master: Master,
    state: State,
    last_state: State,
    guessing: bool,
    waiting_for_auth: bool,
    request_multi_line: bool,
    multi_line: bool,
    tls: bool,
    auth_lines: u64,
    user: Vec<u8>,
    password: Vec<u8>,
    /// POP3.cc's `cmds`: the command being answered first, pipelined ones after it.
    cmds: VecDeque<Vec<u8>>,
    unknown_client_commands: u64,
    /// Stream bytes seen in both directions (Zeek's `c$orig$size + c$resp$size`).
    seen: u64,
    /// Zeek's dpd.zeek disabled the analyzer: it saw a violation early in the connection.
    disabled: bool,
    /// The message of the RETR/TOP reply being read (POP3.cc's `mail`).
    mail: Option<MimeMail>,
}

/// dpd.zeek's `DPD::ignore_violations_after`: a violation within the first this
/// many bytes of a connection disables the analyzer at once (later ones are ignored).
/// The engine keeps an analyzer until several violations; Zeek 8's default scripts
/// drop it at the first, and its later lines (and weirds) never happen.
const IGNORE_VIOLATIONS_AFTER: u64 = 10 * 1024;

fn zs(b: &[u8]) -> ZString {
    ZString::copy_from(b)
}

impl Pop3Analyzer {
    pub fn new(limits: Limits) -> Pop3Analyzer {
        // POP3.cc: ContentLine analyzers with their defaults in both directions.
        let lines = Lines::new(LineConfig::default(), LineConfig::default());
        Pop3Analyzer {
            limits,
            lines,
            master: Master::Start,
            state: State::Start,
            last_state: State::Start,
            guessing: false,
            waiting_for_auth: false,
            request_multi_line: false,
            multi_line: false,
            tls: false,
            auth_lines: 0,
            user: Vec::new(),
            password: Vec::new(),
            cmds: VecDeque::new(),
            unknown_client_commands: 0,
            seen: 0,
            disabled: false,
            mail: None,
        }
    }

    /// Entities open in the message being read (bounded by `max_mime_depth`).
    pub fn mime_depth(&self) -> usize {
        self.mail.as_ref().map_or(0, MimeMail::depth)
    }

    fn credential(&self, b: &[u8]) -> Vec<u8> {
        let max = usize::try_from(self.limits.max_credential).unwrap_or(usize::MAX);
        b[..b.len().min(max)].to_vec()
    }

    fn unexpected(cx: &mut AnalyzerCx<'_>, is_orig: bool, msg: &[u8], detail: &[u8]) {
        raise!(
            cx.events,
            cx.ts,
            Pop3Unexpected {
                c: cx.conn.record(),
                is_orig,
                msg: zs(msg),
                detail: zs(detail)
            }
        );
    }

    fn request_event(cx: &mut AnalyzerCx<'_>, cmd: &str, arg: &[u8]) {
        raise!(
            cx.events,
            cx.ts,
            Pop3Request {
                c: cx.conn.record(),
                is_orig: true,
                command: ZString::from(cmd.to_string()),
                arg: zs(arg)
            }
        );
    }

    fn not_allowed(cx: &mut AnalyzerCx<'_>, cmd: &str, state: &str) {
        let detail = format!("not allowed in other state than '{state}'");
        Self::unexpected(cx, true, cmd.as_bytes(), detail.as_bytes());
    }

    fn login(&self, cx: &mut AnalyzerCx<'_>, success: bool) {
        if self.user.is_empty() {
            return;
        }
        let (user, password) = (zs(&self.user), zs(&self.password));
        if success {
            raise!(
                cx.events,
                cx.ts,
                Pop3LoginSuccess {
                    c: cx.conn.record(),
                    is_orig: false,
                    user,
                    password
                }
            );
        } else {
            raise!(
                cx.events,
                cx.ts,
                Pop3LoginFailure {
                    c: cx.conn.record(),
                    is_orig: false,
                    user,
                    password
                }
            );
        }
    }

    fn line(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool, line: &[u8]) {
        if is_orig {
            self.request(cx, line);
        } else {
            self.reply(cx, line);
        }
    }

    /// `ProcessRequest`: an AUTH exchange's base64 line, or a command for the queue.
    fn request(&mut self, cx: &mut AnalyzerCx<'_>, line: &[u8]) {
        if line.is_empty() {
            return;
        }
        if self.waiting_for_auth {
            self.auth_line(cx, line);
            return;
        }
        self.cmds.push_back(line.to_vec());
        let max = usize::try_from(self.limits.max_pending_commands).unwrap_or(usize::MAX);
        if self.cmds.len() > max {
            // Zeek 8: the oldest pending command is dropped.
            cx.weird("pop3_client_too_many_pending_commands", "");
            self.cmds.pop_front();
        }
        if self.cmds.len() == 1 {
            self.client_cmd(cx);
        }
    }

    /// A line of an AUTH exchange: the user and password, base64-encoded.
    fn auth_line(&mut self, cx: &mut AnalyzerCx<'_>, line: &[u8]) {
        self.auth_lines += 1;
        let Some(decoded) = decode_base64(line) else {
            cx.weird("pop3_bad_base64_encoding", "");
            return;
        };
        match self.state {
            State::AuthLogin => {
                // Line 1: the user, line 2: the password (as C strings).
                let s = decoded.split(|c| *c == 0).next().unwrap_or(&[]);
                if self.auth_lines == 1 {
                    self.user = self.credential(s);
                } else if self.auth_lines == 2 {
                    self.password = self.credential(s);
                }
            }
            State::AuthPlain => {
                // "authorization identity\0authentication identity\0password".
                let mut parts = decoded.splitn(3, |c| *c == 0);
                let (_, user, password) = (parts.next(), parts.next(), parts.next());
                match (user, password) {
                    (Some(u), Some(p)) if !p.is_empty() => {
                        self.user = self.credential(u);
                        let p = p.split(|c| *c == 0).next().unwrap_or(&[]);
                        self.password = self.credential(p);
                    }
                    _ => cx.weird("pop3_malformed_auth_plain", ""),
                }
            }
            State::AuthCramMd5 => {
                // "user password-hash": only the user is kept.
                let s = decoded.split(|c| *c == 0).next().unwrap_or(&[]);
                let end = s
                    .iter()
                    .position(|c| *c == b' ' || *c == b'\t')
                    .unwrap_or(s.len());
                self.user = self.credential(&s[..end]);
                self.password.clear();
            }
            _ => {}
        }
    }

    /// `ProcessClientCmd`: the command at the head of the queue.
    fn client_cmd(&mut self, cx: &mut AnalyzerCx<'_>) {
        let Some(front) = self.cmds.front() else {
            return;
        };
        let s = trim_whitespace(front);
        let (word, message) = tokenize(&s);
        let Some(code) = word.and_then(parse_cmd) else {
            if !self.waiting_for_auth {
                cx.weird(
                    "pop3_client_command_unknown",
                    String::from_utf8_lossy(word.unwrap_or(b"")),
                );
                self.unknown_client_commands += 1;
                if self.unknown_client_commands > self.limits.max_unknown_client_commands {
                    cx.violation("too many unknown client commands");
                }
            }
            return;
        };
        let cmd = COMMANDS[code];
        let message = message.to_vec();
        let in_auth = self.master == Master::Authorization;
        let in_transaction = self.master == Master::Transaction;
        // A transaction command outside the transaction state: perhaps no login was needed.
        let transaction_cmd = |me: &mut Self, cx: &mut AnalyzerCx<'_>, st: State| {
            if in_transaction {
                Self::request_event(cx, cmd, &message);
                me.state = st;
            } else {
                me.guessing = true;
                me.last_state = st;
                Self::not_allowed(cx, cmd, "transaction");
            }
        };
        match cmd {
            "OK" | "ERR" => cx.weird("pop3_client_sending_server_commands", ""),
            "USER" => {
                if in_auth {
                    Self::request_event(cx, cmd, &message);
                    self.state = State::User;
                    self.user = self.credential(&message);
                } else {
                    Self::not_allowed(cx, cmd, "authorization");
                }
            }
            "PASS" => {
                if !in_auth {
                    Self::not_allowed(cx, cmd, "authorization");
                } else if self.state == State::User {
                    Self::request_event(cx, cmd, &message);
                    self.state = State::Pass;
                    self.password = self.credential(&message);
                } else {
                    Self::unexpected(
                        cx,
                        true,
                        cmd.as_bytes(),
                        b"pass must follow the command 'USER'",
                    );
                }
            }
            "APOP" => {
                if in_auth {
                    Self::request_event(cx, cmd, &message);
                    self.state = State::Apop;
                    let end = message
                        .iter()
                        .position(|c| *c == b' ' || *c == b'\t')
                        .unwrap_or(message.len());
                    self.user = self.credential(&message[..end]);
                } else {
                    Self::not_allowed(cx, cmd, "authorization");
                }
            }
            "AUTH" => {
                if !in_auth {
                    Self::unexpected(
                        cx,
                        true,
                        cmd.as_bytes(),
                        b"pass must follow the command 'USER'",
                    );
                } else {
                    Self::request_event(cx, cmd, &message);
                    if message.is_empty() {
                        self.request_multi_line = true;
                        self.state = State::Auth;
                    } else {
                        let has = |m: &[u8], w: &[u8]| m.windows(w.len()).any(|x| x == w);
                        self.state = if has(&message, b"LOGIN") {
                            State::AuthLogin
                        } else if has(&message, b"PLAIN") {
                            State::AuthPlain
                        } else if has(&message, b"CRAM-MD5") {
                            State::AuthCramMd5
                        } else {
                            let mut d = b"unknown AUTH method ".to_vec();
                            d.extend_from_slice(&message);
                            Self::unexpected(cx, true, cmd.as_bytes(), &d);
                            State::Auth
                        };
                        self.waiting_for_auth = true;
                        self.auth_lines = 0;
                    }
                }
            }
            "STAT" => transaction_cmd(self, cx, State::Stat),
            "LIST" | "UIDL" => {
                if message.is_empty() {
                    self.request_multi_line = true;
                }
                let st = if cmd == "LIST" {
                    State::List
                } else {
                    State::Uidl
                };
                transaction_cmd(self, cx, st);
            }
            "RETR" | "TOP" => {
                self.request_multi_line = true;
                let st = if cmd == "RETR" {
                    State::Retr
                } else {
                    State::Top
                };
                transaction_cmd(self, cx, st);
            }
            "DELE" => transaction_cmd(self, cx, State::Dele),
            "RSET" => transaction_cmd(self, cx, State::Rset),
            "NOOP" => transaction_cmd(self, cx, State::Noop),
            "LAST" => transaction_cmd(self, cx, State::Last),
            // POP3.cc answers XSENDER like LAST.
            "XSENDER" => {
                transaction_cmd(self, cx, State::Xsender);
                if in_transaction {
                    self.state = State::Last;
                }
            }
            "QUIT" => {
                if matches!(
                    self.master,
                    Master::Authorization | Master::Transaction | Master::Start
                ) {
                    Self::request_event(cx, cmd, &message);
                    self.state = State::Quit;
                } else {
                    self.guessing = true;
                    self.last_state = State::Last;
                    Self::not_allowed(cx, cmd, "transaction");
                }
            }
            "CAPA" => {
                Self::request_event(cx, cmd, &message);
                self.state = State::Capa;
                self.request_multi_line = true;
            }
            "STLS" => {
                Self::request_event(cx, cmd, &message);
                self.state = State::Stls;
            }
            _ => {}
        }
    }

    /// `FinishClientCmd`: the head command is answered; the next one is processed.
    /// `ProcessData`: a line of the message being read.
    fn process_data(&mut self, cx: &mut AnalyzerCx<'_>, line: &[u8]) {
        if let Some(mail) = self.mail.as_mut() {
            mail.deliver(cx, line, true);
        }
    }

    /// `EndData`: the message ends.
    fn end_data(&mut self, cx: &mut AnalyzerCx<'_>) {
        if let Some(mail) = self.mail.take() {
            mail.done(cx);
        }
    }

    fn finish_client_cmd(&mut self, cx: &mut AnalyzerCx<'_>) {
        if self.cmds.pop_front().is_some() {
            self.client_cmd(cx);
        }
    }

    /// `ProcessReply`.
    fn reply(&mut self, cx: &mut AnalyzerCx<'_>, line: &[u8]) {
        let s = trim_whitespace(line);
        if self.multi_line {
            // A lone `.` ends a multi-line reply.
            if line == b"." {
                self.request_multi_line = false;
                self.multi_line = false;
                self.end_data(cx);
                self.finish_client_cmd(cx);
            } else {
                // The message's lines as they are (no dot-unstuffing, as POP3.cc).
                if matches!(self.state, State::Retr | State::Top) {
                    self.process_data(cx, line);
                }
                raise!(
                    cx.events,
                    cx.ts,
                    Pop3Data {
                        c: cx.conn.record(),
                        is_orig: false,
                        data: zs(&s)
                    }
                );
            }
            return;
        }
        let (word, message) = tokenize(&s);
        let Some(code) = word.and_then(parse_cmd) else {
            if !self.waiting_for_auth {
                let w = String::from_utf8_lossy(word.unwrap_or(b"???")).into_owned();
                cx.violation(format!("unknown server command ({w})"));
                cx.weird("pop3_server_command_unknown", w);
            }
            return;
        };
        let message = message.to_vec();
        match code {
            OK => {
                if self.guessing {
                    self.master = Master::Transaction;
                    self.guessing = false;
                    self.state = self.last_state;
                    Self::unexpected(
                        cx,
                        false,
                        b"OK",
                        b"no auth required -> state changed to 'transaction'",
                    );
                }
                match self.state {
                    State::Start => self.master = Master::Authorization,
                    State::User => {
                        self.master = Master::Authorization;
                        cx.confirm();
                    }
                    State::Pass
                    | State::Apop
                    | State::Noop
                    | State::Last
                    | State::Stat
                    | State::Rset
                    | State::Dele
                    | State::Xsender => {
                        if self.master == Master::Authorization {
                            self.login(cx, true);
                        }
                        self.master = Master::Transaction;
                    }
                    State::Auth | State::AuthPlain | State::AuthCramMd5 | State::AuthLogin => {
                        if self.request_multi_line {
                            self.multi_line = true;
                        }
                        if self.waiting_for_auth {
                            self.master = Master::Transaction;
                        }
                        self.waiting_for_auth = false;
                        self.login(cx, true);
                    }
                    State::Top | State::Retr => {
                        // POP3.cc hands the `+OK` line itself to the new mail first.
                        if self.mail.is_none() {
                            self.mail = Some(MimeMail::new(
                                cx,
                                self.limits.mime_segment_length,
                                self.limits.max_mime_depth,
                            ));
                        }
                        self.process_data(cx, line);
                        if self.request_multi_line {
                            self.multi_line = true;
                        }
                    }
                    State::Capa | State::Uidl | State::List => {
                        if self.state == State::Capa {
                            cx.confirm();
                        }
                        if self.request_multi_line {
                            self.multi_line = true;
                        }
                    }
                    State::Stls => {
                        // The connection continues in TLS: Zeek's SSL analyzer takes it.
                        cx.confirm();
                        self.tls = true;
                        cx.hand_off("SSL");
                        raise!(
                            cx.events,
                            cx.ts,
                            Pop3Starttls {
                                c: cx.conn.record()
                            }
                        );
                        return;
                    }
                    State::Quit => {
                        if matches!(self.master, Master::Authorization | Master::Start) {
                            self.master = Master::Finished;
                        } else if self.master == Master::Transaction {
                            self.master = Master::Update;
                        }
                    }
                }
                raise!(
                    cx.events,
                    cx.ts,
                    Pop3Reply {
                        c: cx.conn.record(),
                        is_orig: false,
                        cmd: ZString::from("OK"),
                        msg: zs(&message)
                    }
                );
                if !self.multi_line {
                    self.finish_client_cmd(cx);
                }
            }
            ERR => {
                self.multi_line = false;
                self.request_multi_line = false;
                self.guessing = false;
                self.waiting_for_auth = false;
                match self.state {
                    State::User
                    | State::Pass
                    | State::Apop
                    | State::Auth
                    | State::AuthLogin
                    | State::AuthPlain
                    | State::AuthCramMd5 => {
                        self.master = Master::Authorization;
                        self.state = State::Start;
                        self.login(cx, false);
                    }
                    State::Noop
                    | State::Last
                    | State::Stat
                    | State::Rset
                    | State::Dele
                    | State::List
                    | State::Retr
                    | State::Uidl
                    | State::Top
                    | State::Xsender => {
                        self.master = Master::Transaction;
                    }
                    State::Quit => {
                        if matches!(
                            self.master,
                            Master::Authorization | Master::Transaction | Master::Start
                        ) {
                            self.master = Master::Finished;
                        }
                    }
                    State::Start | State::Capa | State::Stls => {}
                }
                raise!(
                    cx.events,
                    cx.ts,
                    Pop3Reply {
                        c: cx.conn.record(),
                        is_orig: false,
                        cmd: ZString::from("ERR"),
                        msg: zs(&message)
                    }
                );
                if !self.multi_line {
                    self.finish_client_cmd(cx);
                }
            }
            _ => cx.weird("pop3_server_sending_client_commands", ""),
        }
    }

    fn feed(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool, data: &[u8], end: bool) {
        // Lines are collected first: the framer borrows itself while it calls back.
        let mut out: Vec<(bool, Vec<u8>)> = Vec::new();
        let mut weirds: Vec<&'static str> = Vec::new();
        let mut on = |ev: LineEvent<'_>| match ev {
            LineEvent::Line(l) => out.push((true, l.to_vec())),
            LineEvent::Raw(_) => {}
            LineEvent::Weird(w) => {
                weirds.push(w);
                out.push((false, Vec::new()));
            }
        };
        if end {
            self.lines.end_of_data(is_orig, &mut on);
        } else {
            self.lines.deliver(is_orig, data, &mut on);
        }
        let mut weirds = weirds.into_iter();
        for (is_line, l) in out {
            if self.tls {
                return;
            }
            // A violation disables the analyzer, but Zeek's ContentLine still finishes the
            // segment it was cutting: its weirds come, its lines go nowhere.
            if is_line {
                if !self.disabled {
                    self.line(cx, is_orig, &l);
                }
            } else if let Some(w) = weirds.next() {
                cx.weird_from(netpac_runtime::lines::WEIRD_SOURCE, w, "");
            }
            if matches!(cx.verdict, Verdict::Violation(_)) && self.seen <= IGNORE_VIOLATIONS_AFTER {
                self.disabled = true;
            }
        }
    }
}

impl Analyzer for Pop3Analyzer {
    fn deliver(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool, data: &[u8]) {
        // As Zeek: nothing after STARTTLS, nothing of a connection picked up mid-stream.
        if self.tls || self.disabled || cx.conn.is_partial() {
            return;
        }
        self.seen = self.seen.saturating_add(data.len() as u64);
        self.feed(cx, is_orig, data, false);
    }

    fn end_of_data(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool) {
        if !self.tls && !self.disabled {
            self.feed(cx, is_orig, &[], true);
        }
    }

    /// POP3.cc's `Done`: a message still being read ends.
    fn done(&mut self, cx: &mut AnalyzerCx<'_>) {
        self.end_data(cx);
    }
}
