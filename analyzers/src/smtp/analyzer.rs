//! SMTP's stream state machine, as Zeek's `SMTP_Analyzer`
//! (src/analyzer/protocol/smtp/SMTP.cc) keeps it: commands wait in a bounded
//! queue until replies pair with them, each <command, reply> pair moves the
//! session state, DATA hands message lines to the MIME parser until `.`, BDAT
//! switches the client direction to raw chunks of the announced size, and a
//! 220 answer to STARTTLS ends the analysis (the rest is TLS).
//!
//! The line formats (command, reply) are the grammar's (`grammars/smtp.npac`).

use super::bdat::{parse_bdat_arg, BdatChunks};
use super::events::*;
use super::{ClientLine, Limits, Reply};
use crate::mime::MimeMail;
use netpac_runtime::analyzer::{Analyzer, AnalyzerCx};
use netpac_runtime::lines::{LineConfig, LineEvent, Lines, WEIRD_SOURCE};
use netpac_runtime::parse::{Cursor, ParseCx};
use netpac_runtime::raise;
use netpac_runtime::zeek::ZString;
use std::collections::VecDeque;

/// Zeek's `SMTP_Cmd` (SMTP_cmd.def), in its order: `ParseCmd` matches the words
/// case-insensitively, and `smtp_reply` names the command by the word.
const COMMAND_WORDS: &[&str] = &[
    "EHLO", "HELO", "MAIL", "RCPT", "DATA", "QUIT", "RSET", "VRFY", "EXPN", "HELP", "NOOP",
    "STARTTLS", "X_ANONYMOUSTLS", "CONN_ESTABLISHMENT", "END_OF_DATA", "SEND", "SOML", "SAML",
    "TURN", "BDAT", "ETRN", "AUTH", "AUTH_ANSWER",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Cmd {
    Ehlo = 0,
    Helo,
    Mail,
    Rcpt,
    Data,
    Quit,
    Rset,
    Vrfy,
    Expn,
    Help,
    Noop,
    Starttls,
    XAnonymousTls,
    ConnEstablishment,
    EndOfData,
    Send,
    Soml,
    Saml,
    Turn,
    Bdat,
    Etrn,
    Auth,
    AuthAnswer,
}

impl Cmd {
    const ALL: [Cmd; 23] = [
        Cmd::Ehlo, Cmd::Helo, Cmd::Mail, Cmd::Rcpt, Cmd::Data, Cmd::Quit, Cmd::Rset, Cmd::Vrfy,
        Cmd::Expn, Cmd::Help, Cmd::Noop, Cmd::Starttls, Cmd::XAnonymousTls,
        Cmd::ConnEstablishment, Cmd::EndOfData, Cmd::Send, Cmd::Soml, Cmd::Saml, Cmd::Turn,
        Cmd::Bdat, Cmd::Etrn, Cmd::Auth, Cmd::AuthAnswer,
    ];

    fn word(self) -> &'static str {
        COMMAND_WORDS[self as usize]
    }

    /// `ParseCmd` (with its special case for the dash of X-ANONYMOUSTLS).
    fn parse(word: &[u8]) -> Option<Cmd> {
        if word.eq_ignore_ascii_case(b"X-ANONYMOUSTLS") {
            return Some(Cmd::XAnonymousTls);
        }
        Cmd::ALL
            .into_iter()
            .find(|c| word.eq_ignore_ascii_case(c.word().as_bytes()))
    }
}

/// `smtp_reply`'s name for the command a reply answers (-1 in Zeek: none known).
fn reply_cmd_name(cmd: Option<Cmd>) -> &'static str {
    match cmd {
        Some(Cmd::ConnEstablishment) => ">",
        Some(Cmd::EndOfData) => ".",
        Some(c) => c.word(),
        None => "(UNKNOWN)",
    }
}

/// Zeek's `SMTP_State`; the numbers show in `smtp_unexpected` details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum State {
    Connected = 0,
    Initiated = 1,
    NotAvailable = 2,
    Ready = 3,
    MailOk = 4,
    RcptOk = 5,
    InData = 6,
    AfterData = 7,
    InAuth = 8,
    InTls = 9,
    Quit = 10,
    AfterGap = 11,
    GapRecovery = 12,
    InBdat = 13,
}

/// The SMTP analyzer of one connection.
pub struct SmtpAnalyzer {
    lines: Lines,
    s: Session,
}

/// Everything but the line framer, so that framing can call into it.
struct Session {
    limits: Limits,
    state: State,
    /// After TURN the responder sends the commands.
    orig_is_sender: bool,
    /// SMTP.cc's `skip_data`: `skip_smtp_data` was called during this mail.
    skip_data: bool,
    first_cmd: Option<Cmd>,
    last_replied_cmd: Option<Cmd>,
    /// The code of the multi-line reply in progress, 0 if none.
    pending_reply: u64,
    /// Commands after `first_cmd` not yet answered (bounded by `max_pending_cmds`).
    pending_cmds: VecDeque<Cmd>,
    mail: Option<MimeMail>,
    bdat: Option<BdatChunks>,
    /// Stream offsets of both directions, for the details of content gaps.
    seq: [u64; 2],
    eof: [bool; 2],
    /// main.zeek's mail-transaction validation, mirrored: its script disables the
    /// analyzer after `max_invalid_mail_transactions` invalid transactions.
    trans_mail_from_seen: bool,
    trans_rcpt_to_seen: bool,
    invalid_transactions: u64,
    /// The limit was passed in this delivery: the analyzer stops after it (the
    /// script's `disable_analyzer` takes effect once the packet's events ran).
    disable_pending: bool,
    /// Disabled: nothing more is analysed.
    disabled: bool,
    /// `BDAT 0 LAST`: the mail ends after the next line (Zeek 8.2.2 ends it after
    /// the server's answer to that command, not at the command).
    bdat_end_after_next_line: bool,
}

fn ix(is_orig: bool) -> usize {
    usize::from(!is_orig)
}

impl SmtpAnalyzer {
    pub fn new(limits: Limits) -> SmtpAnalyzer {
        // SMTP.cc: both directions through ContentLine analyzers that report the first NUL.
        let cfg = LineConfig {
            nul_weird: true,
            ..LineConfig::default()
        };
        let mut s = Session {
            limits,
            state: State::Connected,
            orig_is_sender: true,
            skip_data: false,
            first_cmd: Some(Cmd::ConnEstablishment),
            last_replied_cmd: None,
            pending_reply: 0,
            pending_cmds: VecDeque::new(),
            mail: None,
            bdat: None,
            seq: [0; 2],
            eof: [false; 2],
            trans_mail_from_seen: false,
            trans_rcpt_to_seen: false,
            invalid_transactions: 0,
            disable_pending: false,
            disabled: false,
            bdat_end_after_next_line: false,
        };
        // The constructor's UpdateState(CONN_ESTABLISHMENT, 0): only the state moves.
        s.state = State::Initiated;
        SmtpAnalyzer {
            lines: Lines::new(cfg, cfg),
            s,
        }
    }

    /// Whether the analysis stopped for TLS.
    pub fn in_tls(&self) -> bool {
        self.s.state == State::InTls
    }

    /// Whether the analysis stopped (TLS, or disabled after too many invalid transactions).
    pub fn stopped(&self) -> bool {
        self.s.stopped()
    }

    /// Commands waiting for a reply (bounded by `max_pending_cmds`).
    pub fn pending_commands(&self) -> usize {
        self.s.pending_cmds.len() + usize::from(self.s.first_cmd.is_some())
    }

    /// Open MIME entities of the mail in progress (bounded by `max_mime_depth`).
    pub fn mime_depth(&self) -> usize {
        self.s.mail.as_ref().map_or(0, MimeMail::depth)
    }

    /// Bytes the line framer holds for a line that straddles segments.
    pub fn buffered(&self, is_orig: bool) -> usize {
        self.lines.buffered(is_orig)
    }
}

impl SmtpAnalyzer {
    /// Zeek's `skip_smtp_data`: the rest of the mail in progress is not handed
    /// to MIME and raises no `smtp_data` (the next mail is analysed again).
    pub fn skip_data(&mut self) {
        self.s.skip_data = true;
    }
}

impl Analyzer for SmtpAnalyzer {
    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }

    fn deliver(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool, data: &[u8]) {
        if self.s.stopped() {
            return;
        }
        self.s.seq[ix(is_orig)] += data.len() as u64;
        let s = &mut self.s;
        self.lines.deliver_switching(is_orig, data, &mut |ev| match ev {
            LineEvent::Line(line) => {
                if s.state == State::InTls {
                    return 0;
                }
                s.deliver_line(cx, line, is_orig)
            }
            LineEvent::Raw(raw) => {
                s.bdat_data(cx, raw);
                0
            }
            LineEvent::Weird(name) => {
                cx.weird_from(WEIRD_SOURCE, name, String::new());
                0
            }
        });
        if self.s.disable_pending {
            self.s.disable(cx);
        }
    }

    fn undelivered(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool, len: u64) {
        if len == 0 || self.s.stopped() {
            return;
        }
        self.lines.skip_plain(is_orig, len);
        // ContentLine's SetSkipPartial: the line the gap interrupted is dropped.
        self.lines.drop_partial(is_orig);
        // Zeek's relative sequence numbers start at 1 (the SYN takes 0).
        let seq = self.s.seq[ix(is_orig)] + 1;
        self.s.seq[ix(is_orig)] += len;
        self.s.undelivered(cx, is_orig, seq, len);
    }

    fn end_of_data(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool) {
        if !self.s.stopped() {
            let s = &mut self.s;
            self.lines.end_of_data(is_orig, &mut |ev| match ev {
                LineEvent::Line(line) => {
                    if s.state != State::InTls {
                        s.deliver_line(cx, line, is_orig);
                    }
                }
                LineEvent::Raw(raw) => s.bdat_data(cx, raw),
                LineEvent::Weird(name) => cx.weird_from(WEIRD_SOURCE, name, String::new()),
            });
        }
        // ConnectionFinished: once both sides closed, the mail in progress ends.
        self.s.eof[ix(is_orig)] = true;
        if self.s.eof == [true, true] && self.s.mail.is_some() {
            self.s.end_data(cx);
        }
    }

    fn done(&mut self, cx: &mut AnalyzerCx<'_>) {
        if self.s.mail.is_some() {
            self.s.end_data(cx);
        }
    }
}

impl Session {
    fn stopped(&self) -> bool {
        self.state == State::InTls || self.disabled
    }

    /// The script's `disable_analyzer`: the analyzer is removed (`Done`: a mail in
    /// progress ends) and sees nothing more.
    fn disable(&mut self, cx: &mut AnalyzerCx<'_>) {
        self.disable_pending = false;
        self.disabled = true;
        if self.mail.is_some() {
            self.end_data(cx);
        }
    }

    /// main.zeek's `smtp_request` handler, as far as it decides to disable the
    /// analyzer (`mail_transaction_invalid`; the weirds are smtp.log's).
    fn validate_transaction(&mut self, cmd: &[u8], arg: &[u8]) {
        let prefix_ci = |p: &[u8]| arg.len() >= p.len() && arg[..p.len()].eq_ignore_ascii_case(p);
        let mut invalid = false;
        if cmd == b"RCPT" && prefix_ci(b"TO:") {
            self.trans_rcpt_to_seen = true;
            invalid = !self.trans_mail_from_seen;
        } else if cmd == b"MAIL" && prefix_ci(b"FROM:") {
            self.trans_mail_from_seen = true;
            self.trans_rcpt_to_seen = false;
        } else if cmd == b"DATA" || cmd == b"BDAT" {
            invalid = !self.trans_rcpt_to_seen;
            if cmd == b"BDAT" && arg.ends_with(b" LAST") {
                self.trans_mail_from_seen = false;
                self.trans_rcpt_to_seen = false;
            }
        } else if cmd == b"." {
            self.trans_mail_from_seen = false;
            self.trans_rcpt_to_seen = false;
        }
        let max = self.limits.max_invalid_mail_transactions;
        if invalid {
            self.invalid_transactions += 1;
            if max > 0 && self.invalid_transactions > max {
                self.disable_pending = true;
            }
        }
    }

    /// `DeliverStream` of one line: CRs before the end are dropped, then the
    /// line is processed. Returns the bytes that follow raw (a BDAT chunk).
    fn deliver_line(&mut self, cx: &mut AnalyzerCx<'_>, line: &[u8], orig: bool) -> u64 {
        let is_sender = if self.orig_is_sender { orig } else { !orig };
        let mut line = line;
        if line.last() == Some(&b'\r') {
            self.unexpected(cx, is_sender, "more than one <CR> at the end of line", line);
            while let Some((b'\r', rest)) = line.split_last() {
                line = rest;
            }
        }
        if line.iter().any(|&c| c == b'\r' || c == b'\n') {
            self.unexpected(cx, is_sender, "Bare <CR> or <LF> appears in the middle of line", line);
        }
        let ends_bdat = self.bdat_end_after_next_line;
        let plain = if is_sender {
            self.sender_line(cx, line, orig)
        } else {
            self.reply_line(cx, line, orig);
            0
        };
        if ends_bdat && self.bdat_end_after_next_line {
            self.bdat_end_after_next_line = false;
            self.end_bdat(cx);
        }
        plain
    }

    fn sender_line(&mut self, cx: &mut AnalyzerCx<'_>, line: &[u8], orig: bool) -> u64 {
        if self.state == State::AfterGap {
            // Command or message line? Zeek keeps it and waits for a reply.
            return 0;
        }
        // What the line is, by the state: the grammar's ClientLine reads it.
        let mode = match self.state {
            State::InData => 1,
            State::InAuth => 2,
            _ => 0,
        };
        let mut pcx = ParseCx::new(orig, cx.conn.id().resp_p.number);
        let Ok(client) = ClientLine::parse(&mut Cursor::new(line), &mut pcx, &self.limits, mode)
        else {
            return 0;
        };
        let cmd_word: &[u8];
        let arg: &[u8];
        let cmd;
        if let Some(data) = client.data {
            if self.mail.is_none() {
                // Lines after a RST that was ignored.
                self.begin_data(cx, orig, State::InData);
            }
            // `skip_smtp_data`: the rest of this mail is neither parsed nor reported.
            if self.skip_data {
                return 0;
            }
            if let Some(mail) = &mut self.mail {
                mail.deliver(cx, data, true);
            }
            raise!(cx.events, cx.ts, SmtpData {
                c: cx.conn.record(),
                is_orig: orig,
                data: ZString::from(data.to_vec())
            });
            return 0;
        } else if client.end_of_data {
            // Zeek leaves the line as the argument: the request is `.` with argument `.`.
            cmd_word = b".";
            arg = line;
            cmd = Cmd::EndOfData;
            self.new_cmd(cx, cmd);
        } else if let Some(answer) = client.answer {
            // SMTP.cc passes "***" with length 2, and the whole line as the argument.
            cmd_word = b"**";
            arg = answer;
            cmd = Cmd::AuthAnswer;
            self.new_cmd(cx, cmd);
        } else if let Some(c) = &client.cmd {
            cmd_word = c.command;
            arg = c.arg;
            match Cmd::parse(cmd_word) {
                Some(c) => {
                    cmd = c;
                    self.new_cmd(cx, cmd);
                }
                None => {
                    self.unexpected(cx, true, "unknown command", cmd_word);
                    return 0;
                }
            }
        } else {
            return 0;
        }
        if cmd == Cmd::EndOfData {
            // The mail ends (its MIME events) before the `.` request.
            self.update_state(cx, cmd, 0, orig);
        }
        if !cmd_word.is_empty() || !arg.is_empty() {
            self.request_event(cx, cmd_word, arg);
        }
        let mut plain = 0;
        let mut update = cmd != Cmd::EndOfData;
        if cmd == Cmd::Bdat {
            match self.bdat_arg(cx, arg, orig) {
                Some(size) => plain = size,
                None => update = false,
            }
        } else if self.bdat.is_some() {
            // Other commands while BDAT chunks are open: the last chunk never came.
            cx.weird("smtp_missing_bdat_last_chunk", String::new());
            self.end_data(cx);
        }
        if update {
            self.update_state(cx, cmd, 0, orig);
        }
        plain
    }

    fn reply_line(&mut self, cx: &mut AnalyzerCx<'_>, line: &[u8], orig: bool) {
        let mut pcx = ParseCx::new(orig, cx.conn.id().resp_p.number);
        let parsed = Reply::parse(&mut Cursor::new(line), &mut pcx, &self.limits, self.pending_reply);
        let Ok(r) = parsed else {
            return;
        };
        if !r.valid {
            let code = -1;
            self.unexpected(cx, false, "reply code out of range", line);
            cx.violation(format!("reply code {code} out of range"));
            return;
        }
        let code = r.code;
        if r.mismatch {
            self.unexpected(cx, false, "reply code does not match the continuing reply", line);
        }
        if r.new_reply {
            self.new_reply(cx, code, orig);
        }
        self.pending_reply = r.next_pending;
        raise!(cx.events, cx.ts, SmtpReply {
            c: cx.conn.record(),
            is_orig: orig,
            code,
            cmd: ZString::from(reply_cmd_name(self.last_replied_cmd)),
            msg: ZString::from(r.msg.to_vec()),
            cont_resp: self.pending_reply > 0
        });
        // ProcessExtension only ever turns pipelining on, and it starts on: nothing to do.
    }

    /// `NewCmd`: the first unanswered command, or queued behind it.
    fn new_cmd(&mut self, cx: &mut AnalyzerCx<'_>, cmd: Cmd) {
        if self.first_cmd.is_none() {
            self.first_cmd = Some(cmd);
            return;
        }
        let max = usize::try_from(self.limits.max_pending_cmds).unwrap_or(usize::MAX);
        if self.pending_cmds.len() >= max {
            cx.weird("smtp_excessive_pending_cmds", String::new());
            self.pending_cmds.clear();
        }
        self.pending_cmds.push_back(cmd);
    }

    /// `NewReply`: the reply answers the first pending command.
    fn new_reply(&mut self, cx: &mut AnalyzerCx<'_>, code: u64, orig: bool) {
        if self.state == State::AfterGap && code > 0 {
            self.state = State::GapRecovery;
            self.request_event(cx, b"(UNKNOWN)", b"");
        }
        let cmd = self.first_cmd;
        self.last_replied_cmd = cmd;
        self.first_cmd = self.pending_cmds.pop_front();
        match cmd {
            Some(cmd) => self.update_state(cx, cmd, code, orig),
            None => {
                // UpdateState(-1, code): only the gap recovery of the default case applies.
                if self.state == State::GapRecovery && code == 354 {
                    self.begin_data(cx, orig, State::InData);
                }
            }
        }
    }

    fn request_event(&mut self, cx: &mut AnalyzerCx<'_>, cmd: &[u8], arg: &[u8]) {
        cx.confirm();
        let upper = cmd.to_ascii_uppercase();
        self.validate_transaction(&upper, arg);
        raise!(cx.events, cx.ts, SmtpRequest {
            c: cx.conn.record(),
            is_orig: self.orig_is_sender,
            command: ZString::from(upper),
            arg: ZString::from(arg.to_vec())
        });
    }

    fn unexpected(&mut self, cx: &mut AnalyzerCx<'_>, is_sender: bool, msg: &'static str, detail: &[u8]) {
        let is_orig = if self.orig_is_sender { is_sender } else { !is_sender };
        raise!(cx.events, cx.ts, SmtpUnexpected {
            c: cx.conn.record(),
            is_orig,
            msg: ZString::from(msg),
            detail: ZString::from(detail.to_vec())
        });
    }

    fn unexpected_command(&mut self, cx: &mut AnalyzerCx<'_>, cmd: Cmd, code: u64) {
        let detail = format!("{} reply = {} state = {}", cmd.word(), code, self.state as u8);
        self.unexpected(cx, true, "unexpected command", detail.as_bytes());
    }

    fn unexpected_reply(&mut self, cx: &mut AnalyzerCx<'_>, cmd: Cmd, code: u64) {
        let detail = format!("{} state = {}, last command = {}", code, self.state as u8, cmd.word());
        self.unexpected(cx, true, "unexpected reply", detail.as_bytes());
    }

    /// `UpdateState`: a command (`code` 0: not answered yet) or its reply moves the state.
    fn update_state(&mut self, cx: &mut AnalyzerCx<'_>, cmd: Cmd, code: u64, orig: bool) {
        use State as S;
        let st = self.state;
        if st == S::Quit && code == 0 {
            self.unexpected_command(cx, cmd, code);
        }
        match cmd {
            Cmd::ConnEstablishment => match code {
                0 => {
                    if st != S::Connected {
                        self.unexpected_command(cx, cmd, code);
                    }
                    self.state = S::Initiated;
                }
                220 => {}
                421 | 554 => self.state = S::NotAvailable,
                _ => self.unexpected_reply(cx, cmd, code),
            },
            Cmd::Ehlo | Cmd::Helo => match code {
                0 => {
                    if st != S::Initiated {
                        self.unexpected_command(cx, cmd, code);
                    }
                    self.state = S::Ready;
                }
                250 => {}
                421 | 500 | 501 | 504 | 550 => self.state = S::Initiated,
                _ => self.unexpected_reply(cx, cmd, code),
            },
            Cmd::Mail | Cmd::Send | Cmd::Soml | Cmd::Saml => match code {
                0 => {
                    if st != S::Ready {
                        self.unexpected_command(cx, cmd, code);
                    }
                    self.state = S::MailOk;
                }
                250 => {}
                421 | 451 | 452 | 500 | 501 | 503 | 550 | 552 | 553 => {
                    if self.state != S::InData {
                        self.state = S::Ready;
                    }
                }
                _ => self.unexpected_reply(cx, cmd, code),
            },
            Cmd::Rcpt => match code {
                0 => {
                    if st != S::MailOk && st != S::RcptOk {
                        self.unexpected_command(cx, cmd, code);
                    }
                    self.state = S::RcptOk;
                }
                250 | 251 | 421 | 450 | 451 | 452 | 500 | 501 | 503 | 550 | 551 | 552 | 553
                | 554 => {}
                _ => self.unexpected_reply(cx, cmd, code),
            },
            Cmd::Data => match code {
                0 => {
                    if self.state != S::RcptOk {
                        self.unexpected_command(cx, cmd, code);
                    }
                    self.begin_data(cx, orig, S::InData);
                }
                354 => {}
                421 => {
                    if self.state == S::InData {
                        self.end_data(cx);
                    }
                    self.state = S::Quit;
                }
                500 | 501 | 503 | 451 | 554 => {
                    if self.state == S::InData {
                        self.end_data(cx);
                    }
                    self.state = S::Ready;
                }
                _ => {
                    self.unexpected_reply(cx, cmd, code);
                    if self.state == S::InData {
                        self.end_data(cx);
                    }
                    self.state = S::Ready;
                }
            },
            Cmd::Bdat => match code {
                0 => {
                    if st != S::RcptOk {
                        self.unexpected_command(cx, cmd, code);
                    }
                    self.state = S::InBdat;
                }
                // Whatever the server says, the client completes the chunk in flight.
                250 | 421 | 500 | 501 | 503 | 451 | 554 => {}
                _ => self.unexpected_reply(cx, cmd, code),
            },
            Cmd::EndOfData => {
                match code {
                    0 => {
                        if st != S::InData && st != S::InBdat {
                            self.unexpected_command(cx, cmd, code);
                        }
                        self.end_data(cx);
                        self.state = S::AfterData;
                    }
                    250 | 421 | 451 | 452 | 552 | 554 => {}
                    _ => self.unexpected_reply(cx, cmd, code),
                }
                if code > 0 {
                    self.state = S::Ready;
                }
            }
            Cmd::Rset => match code {
                0 => self.state = S::Ready,
                250 => {}
                _ => self.unexpected_reply(cx, cmd, code),
            },
            Cmd::Quit => match code {
                0 => self.state = S::Quit,
                221 => {}
                _ => self.unexpected_reply(cx, cmd, code),
            },
            Cmd::Auth => {
                if st != S::Ready {
                    self.unexpected_command(cx, cmd, code);
                }
                match code {
                    0 => {}
                    334 => self.state = S::InAuth,
                    _ => self.state = S::Initiated,
                }
            }
            Cmd::AuthAnswer => {
                if st != S::InAuth {
                    self.unexpected_command(cx, cmd, code);
                }
                match code {
                    0 => {}
                    334 => self.state = S::InAuth,
                    _ => self.state = S::Initiated,
                }
            }
            Cmd::Turn => {
                if st != S::Ready {
                    self.unexpected_command(cx, cmd, code);
                }
                if code == 250 {
                    self.orig_is_sender = !self.orig_is_sender;
                    self.state = S::Connected;
                }
            }
            Cmd::Starttls | Cmd::XAnonymousTls => {
                if st != S::Ready {
                    self.unexpected_command(cx, cmd, code);
                }
                if code == 220 {
                    // StartTLS: the rest of the connection is TLS (Zeek's SSL analyzer);
                    // the event comes before the smtp_reply of the 220.
                    self.state = S::InTls;
                    raise!(cx.events, cx.ts, SmtpStarttls { c: cx.conn.record() });
                    cx.hand_off("SSL");
                }
            }
            _ => {
                if st == S::GapRecovery && code == 354 {
                    self.begin_data(cx, orig, S::InData);
                }
            }
        }
    }

    /// `ProcessBdatArg`: a valid BDAT opens a chunk of that size (the mail begins
    /// with the first one); returns the chunk size, or `None` for a bad argument.
    fn bdat_arg(&mut self, cx: &mut AnalyzerCx<'_>, arg: &[u8], orig: bool) -> Option<u64> {
        let b = match parse_bdat_arg(arg) {
            Ok(b) => b,
            Err(why) => {
                cx.weird("smtp_invalid_bdat_command", why);
                return None;
            }
        };
        // Zeek's ContentLine counts plain bytes in an int64_t.
        if b.chunk_size > i64::MAX as u64 {
            cx.weird("smtp_huge_bdat_chunk", b.chunk_size.to_string());
            return None;
        }
        if self.bdat.is_none() {
            self.begin_data(cx, orig, State::InBdat);
            self.bdat = Some(BdatChunks::new(self.limits.bdat_max_line_length));
        }
        if let Some(bdat) = &mut self.bdat {
            bdat.next_chunk(b.chunk_size, b.last);
        }
        if b.chunk_size == 0 && b.last {
            self.bdat_end_after_next_line = true;
        }
        Some(b.chunk_size)
    }

    /// Raw bytes of a BDAT chunk: cut into lines for the mail; the last chunk,
    /// once complete, ends the mail.
    fn bdat_data(&mut self, cx: &mut AnalyzerCx<'_>, raw: &[u8]) {
        let (Some(bdat), Some(mail)) = (&mut self.bdat, &mut self.mail) else {
            return;
        };
        let mut weirds = Vec::new();
        bdat.deliver(
            raw,
            &mut |(line, crlf)| mail.deliver(cx, line, crlf),
            &mut |name, addl| weirds.push((name, addl)),
        );
        for (name, addl) in weirds {
            cx.weird_from("SMTP_BDAT", name, addl);
        }
        if bdat.is_last() && bdat.remaining() == 0 {
            self.end_bdat(cx);
        }
    }

    /// The last BDAT chunk is complete: the mail ends, as after the `.` of DATA
    /// (state AFTER_DATA, which `smtp_unexpected` details show).
    fn end_bdat(&mut self, cx: &mut AnalyzerCx<'_>) {
        self.end_data(cx);
        self.state = State::AfterData;
    }

    /// `BeginData`: a new mail (a mail still open ends first, with a weird).
    fn begin_data(&mut self, cx: &mut AnalyzerCx<'_>, _orig: bool, state: State) {
        self.state = state;
        self.skip_data = false;
        if let Some(mail) = self.mail.take() {
            cx.weird("smtp_nested_mail_transaction", String::new());
            mail.done(cx);
        }
        self.mail = Some(MimeMail::new(
            cx,
            self.limits.mime_segment_length,
            self.limits.max_mime_depth,
        ));
    }

    /// `EndData`: the mail ends (BDAT chunks still buffered are delivered first).
    fn end_data(&mut self, cx: &mut AnalyzerCx<'_>) {
        let Some(mut mail) = self.mail.take() else {
            cx.weird("smtp_unmatched_end_of_data", String::new());
            return;
        };
        if let Some(mut bdat) = self.bdat.take() {
            if bdat.remaining() > 0 {
                cx.weird("smtp_bdat_remaining_at_end_data", String::new());
            }
            let mut weirds = Vec::new();
            bdat.done(
                &mut |(line, crlf)| mail.deliver(cx, line, crlf),
                &mut |name, addl| weirds.push((name, addl)),
            );
            for (name, addl) in weirds {
                cx.weird_from("SMTP_BDAT", name, addl);
            }
        }
        mail.done(cx);
    }

    /// `Undelivered`: a content gap ends the mail in progress and the session
    /// state is unknown until the next reply.
    fn undelivered(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool, seq: u64, len: u64) {
        let detail = format!("seq = {seq}, len = {len}");
        self.unexpected(cx, is_orig, "content gap", detail.as_bytes());
        if self.state == State::InData || self.state == State::InBdat {
            self.end_data(cx);
        }
        self.pending_cmds.clear();
        self.first_cmd = None;
        self.last_replied_cmd = None;
        self.state = State::AfterGap;
    }
}
