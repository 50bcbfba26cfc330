//! ftp.log: rows built from FTP events the way Zeek's ftp scripts build them
//! (pending commands, reply pairing, URLs under the working directory, data
//! channels, hidden passwords), from sessions built here; the rows are what
//! Zeek 8.2.2 writes for the same packets.

mod common;
mod lines_support;

use common::*;
use lines_support::{orig, resp, session, Piece};
use netpac_runtime::event::Events;
use netpac_runtime::log::{Format, Logs};

/// ftp.log's `#fields` line and rows (uid left out), and weird.log's names.
fn ftp_log(pieces: &[Piece]) -> (String, Vec<String>) {
    let frames = session(
        1.0,
        Host::v4("10.0.0.1", 40003),
        Host::v4("10.0.0.2", 21),
        pieces,
    );
    let dir = scratch_dir();
    let mut events = Events::with_logs(Logs::new(&dir, Format::Tsv));
    events.subscribe(netpac_analyzers::ftp::log::FtpLogger::sink());
    let mut engine = Engine::new(Config::default(), netpac_analyzers::registry(), events);
    play(&mut engine, &frames);
    engine.finish().unwrap();
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
    let (ftp, weird) = (read("ftp.log"), read("weird.log"));
    let _ = std::fs::remove_dir_all(&dir);
    let rows = ftp
        .lines()
        .filter(|l| !l.starts_with('#') || l.starts_with("#fields"))
        .map(|l| {
            let uid_col = if l.starts_with("#fields") { 2 } else { 1 };
            l.split('\t')
                .enumerate()
                .filter(|(i, _)| *i != uid_col)
                .map(|(_, c)| c)
                .collect::<Vec<_>>()
                .join("\t")
        })
        .collect::<Vec<_>>()
        .join("\n");
    let weirds = weird
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split('\t').nth(6).map(str::to_string))
        .collect();
    (rows, weirds)
}

#[test]
fn a_passive_download_under_a_changed_directory() {
    let (log, weirds) = ftp_log(&[
        resp(b"220-Welcome\r\n220 ready\r\n"),
        orig(b"USER anonymous\r\n"),
        resp(b"331 send your email address\r\n"),
        orig(b"PASS me@example.com\r\n"),
        resp(b"230 ok\r\n"),
        orig(b"CWD pub/data\r\n"),
        resp(b"250 CWD command successful\r\n"),
        orig(b"PASV\r\n"),
        resp(b"227 Entering Passive Mode (10,0,0,2,195,149).\r\n"),
        orig(b"RETR ../robots.txt\r\n"),
        resp(b"150 Opening BINARY mode data connection for robots.txt (77 bytes)\r\n"),
        resp(b"226 Transfer complete.\r\n"),
        orig(b"QUIT\r\n"),
        resp(b"221 bye\r\n"),
    ]);
    assert!(weirds.is_empty(), "{weirds:?}");
    insta::assert_snapshot!(log);
}

#[test]
fn active_mode_eprt_epsv_and_a_hidden_password() {
    let (log, _) = ftp_log(&[
        resp(b"220 ready\r\n"),
        orig(b"USER joe\r\n"),
        resp(b"331 password\r\n"),
        orig(b"PASS secret\r\n"),
        resp(b"230 ok\r\n"),
        orig(b"PORT 10,0,0,1,4,1\r\n"),
        resp(b"200 PORT command successful\r\n"),
        orig(b"STOR /up/file.bin\r\n"),
        resp(b"150 ok\r\n226 done\r\n"),
        orig(b"EPSV\r\n"),
        resp(b"229 Entering Extended Passive Mode (|||6446|)\r\n"),
        orig(b"EPRT |1|10.0.0.1|5282|\r\n"),
        resp(b"200 EPRT ok\r\n"),
    ]);
    insta::assert_snapshot!(log);
}

#[test]
fn too_many_pending_commands_are_dropped_with_a_weird() {
    // 30 commands without replies: 20 wait (the greeting's `<init>` among them),
    // the rest are dropped; weird.log shows the weird once (as Zeek 8.2.2 on this session).
    let cmds = b"DELE x\r\n".repeat(30);
    let (log, weirds) = ftp_log(&[orig(&cmds)]);
    assert_eq!(weirds, ["FTP_too_many_pending_commands"]);
    // Every pending DELE is written at the end, without a reply.
    assert_eq!(log.lines().filter(|l| l.contains("\tDELE\t")).count(), 19);
}

#[test]
fn a_million_pipelined_commands_keep_twenty_pending() {
    let cmds = b"RETR f\r\n".repeat(1_000_000);
    let segments: Vec<Piece> = cmds.chunks(1400).map(orig).collect();
    let (log, weirds) = ftp_log(&segments);
    assert_eq!(weirds, ["FTP_too_many_pending_commands"]);
    assert_eq!(log.lines().filter(|l| l.contains("\tRETR\t")).count(), 19);
}

#[test]
fn replies_without_commands_log_nothing() {
    let (log, weirds) = ftp_log(&[resp(b"220 hi\r\n500 what\r\n421 bye\r\n")]);
    assert_eq!(log, "");
    assert!(weirds.is_empty());
}

/// A login that fails and quits logs no command Zeek 8.2.2 would keep, but
/// today's Zeek writes one row for such a session (its last command and
/// reply) so that brute-force attempts are visible (zeek/zeek#5570); a
/// session that never sent USER stays out of the log.
#[test]
fn a_login_only_session_is_one_row_and_a_greeting_only_one_none() {
    let (log, _) = ftp_log(&[
        resp(b"220 ready\r\n"),
        orig(b"USER bro\r\n"),
        resp(b"331 Password required for bro.\r\n"),
        orig(b"PASS 1\r\n"),
        resp(b"530 Login incorrect.\r\n"),
        orig(b"QUIT\r\n"),
        resp(b"221 Goodbye.\r\n"),
    ]);
    let rows: Vec<&str> = log.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{log}");
    let cols: Vec<&str> = rows[0].split('\t').collect();
    // ts, id (4), user, password, command, arg, mime_type, file_size, reply_code, reply_msg
    assert_eq!(
        &cols[5..14],
        &["bro", "<hidden>", "QUIT", "-", "-", "-", "221", "Goodbye.", "-"]
    );
    let (log, _) = ftp_log(&[
        resp(b"220 ready\r\n"),
        orig(b"SYST\r\n"),
        resp(b"215 UNIX\r\n"),
    ]);
    assert_eq!(log.lines().count(), 0, "{log}");
}
