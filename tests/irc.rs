//! IRC events from lines built here (snapshots in tests/snapshots/), Zeek 8's
//! quirks, weirds, STARTTLS, bad input, and irc.log through the engine. The
//! event sequences and irc.log rows were checked against Zeek 8.2.2 (with a
//! handler for every IRC event) on the pcaps of these sessions.

mod common;
mod lines_support;

use common::*;
use lines_support::{orig, resp, run, session, Outcome, Piece};
use netpac_analyzers::irc::{IRCAnalyzer, Limits};
use netpac_runtime::event::Events;
use netpac_runtime::log::{Format, Logs};

fn irc(pieces: &[Piece]) -> Outcome {
    run(
        Box::new(IRCAnalyzer::new(0, Limits::default())),
        "IRC",
        6667,
        pieces,
    )
}

fn names(o: &Outcome) -> Vec<String> {
    o.events
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect()
}

/// A client's registration, channels, messages and a server's replies:
/// every command event and every numeric reply with an event of its own.
fn full_session() -> Vec<Piece> {
    vec![
        orig(b"PASS secret\r\nNICK alice\r\nUSER alice host srv :Alice Liddell here\r\n"),
        resp(b":irc.example 001 alice :Welcome\r\n:irc.example 251 alice :There are 42 users and 3 services on 7 servers\r\n:irc.example 254 alice 12 :channels formed\r\n:irc.example 255 alice :I have 9 clients and 2 servers\r\n:irc.example 266 alice :Current global users: 42  Max: 50\r\n"),
        orig(b"JOIN #a,#b,#c keyA,keyB\r\n"),
        resp(b":alice!a@h JOIN :#a\r\n:irc.example 332 alice #a :the topic: here\r\n:irc.example 353 alice = #a :@alice bob +carol bob\r\n:irc.example 366 alice #a :End of NAMES list\r\n"),
        orig(b"WHO #a o\r\nWHOIS srv bob\r\nprivmsg #a :hello there\r\nNOTICE bob :psst\r\nSQUERY svc :help me\r\n"),
        resp(b":irc.example 352 alice #a ~bob host.b srv bob H :2 Bob Builder\r\n:irc.example 311 alice bob ~b host.b * :Bob  The Builder\r\n:irc.example 313 alice bob :is an IRC operator\r\n:irc.example 319 alice bob :@#a +#b #a\r\n"),
        orig(b"OPER alice pw\r\nMODE #a +o bob\r\nKICK #a carol :go  away now\r\nINVITE bob :#b\r\nTOPIC #a\r\n"),
        resp(b":irc.example 381 alice :You are now an IRC operator\r\n:irc.example 433 * bob :Nickname is already in use\r\n:bob!b@h NICK :robert\r\n:srv ERROR :Closing link\r\n:irc.example PING :irc.example\r\n"),
        orig(b"PRIVMSG bob :\x01DCC SEND file.txt 3232235876 5000 1024\x01\r\nPART #a,#b :bye all\r\nSQUIT hub.example :net split\r\nNJOIN #x :@@creator,@op,+voiced,plain\r\nQUIT :gone\r\n"),
        resp(b":carol!c@h QUIT :Client quit\r\n:irc.example 491 alice :No O-lines\r\n"),
    ]
}

#[test]
fn a_session_with_every_command_and_reply_event() {
    insta::assert_json_snapshot!(irc(&full_session()));
}

#[test]
fn every_irc_event_is_raised() {
    let mut seen = names(&irc(&full_session()));
    seen.extend(names(&irc(&[
        orig(b"STARTTLS\r\n"),
        resp(b":s 670 a :STARTTLS successful, go ahead\r\n"),
    ])));
    seen.sort();
    seen.dedup();
    let mut all: Vec<String> = netpac_analyzers::irc::EVENT_NAMES
        .iter()
        .map(|s| s.to_string())
        .collect();
    all.sort();
    assert_eq!(all.len(), 34);
    assert_eq!(seen, all);
}

/// How Zeek 8.2.2 reads odd but valid lines (each checked against it).
#[test]
fn zeek_8_quirks() {
    insta::assert_json_snapshot!(irc(&[
        orig(b"PART #a\r\nPART #a,#b  :bye now\r\nSQUIT s\r\nSQUIT s  :x\r\nQUIT\r\nKICK #a b c d\r\nWHO :x o\r\nNOTICE a  :b\r\n"),
        orig(b"PRIVMSG a :\x01VERSION\x01\r\nPRIVMSG a :\x01DCC SEND f 1 2 3 4 T\x01\r\nUSER a\r\nuser a b c d e f\r\nJOIN #a,,#b k1,,k2\r\nNICK :x y\r\nWHOIS a\r\n"),
        orig(b"PRIVMSG v :\x01DCC SEND f.txt 123abc 5x 1x0\x01\r\nPRIVMSG v :\x01DCC CHAT chat 3232235876 65535\x01\r\n"),
        resp(b":s 353 a = #c :@a @@b :c\r\n:s 352 a b ~c d e f g :7x h i\r\n:s 251 a There are users 5 users\r\n:s 255 a 7 users, 2 clients 3 services\r\n:s 332 a #c ::t\r\n:s 319 a bob\r\n:s 319 a bob :#x\r\n000 foo\r\n"),
    ]));
}

/// Lines of the wrong shape: IRC.cc's weirds, each keeping its line's event back.
#[test]
fn malformed_lines_are_weirds() {
    let o = irc(&[
        orig(b"NICK a\r\n"),
        resp(b":s 319 a\r\n:s 353 a =\r\n:s 311 a b c d e\r\n:s 313 a b\r\n:s 332 a #c x y\r\n:s 352 a b c d e f g h\r\n:s 266 a b\r\n"),
        orig(b"PRIVMSG x\r\nNOTICE y\r\nSQUERY z\r\nOPER a\r\nKICK a\r\nJOIN\r\nNJOIN a\r\nWHO a b c\r\nWHOIS a b c\r\nINVITE a\r\nMODE\r\n"),
        orig(b"PRIVMSG a :\x01DCC SEND a b c\x01\r\nPRIVMSG v :\x01DCC SEND f.txt 99999999999 5000 10\x01\r\nPRIVMSG v :\x01DCC SEND f.txt 3232235876 70000 10\x01\r\n"),
        orig(b"ab\r\n\r\n  \r\n:pre\r\nABCDEFGHIJKLMNOPQRSTUVWXYZ x\r\n"),
    ]);
    insta::assert_json_snapshot!(o);
}

/// A line with a bad reply number or nothing after its prefix is not IRC.
#[test]
fn lines_that_are_not_irc_violate() {
    let o = irc(&[orig(b"12x foo\r\n")]);
    assert!(o.verdict.contains("invalid reply number"), "{}", o.verdict);
    assert_eq!(o.weirds, ["irc_invalid_reply_number [] (IRC)"]);
    let o = irc(&[orig(b":pre x\r\n")]);
    assert!(o.verdict.contains("line too short"), "{}", o.verdict);
}

#[test]
fn client_lines_confirm_server_lines_do_not() {
    assert_eq!(irc(&[resp(b":s 001 a :hi\r\n")]).verdict, "Undecided");
    assert_eq!(irc(&[orig(b"NICK a\r\n")]).verdict, "Confirmed");
}

/// The 670 reply hands the connection to TLS: irc_starttls, then nothing is IRC.
#[test]
fn starttls_stops_the_analysis() {
    let o = irc(&[
        orig(b"STARTTLS\r\n"),
        resp(b":s 670 a :STARTTLS successful, go ahead\r\n"),
        orig(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03NICK x\r\n"),
        resp(b":s 001 a :not seen\r\n"),
    ]);
    assert_eq!(names(&o), ["irc_starttls"]);
    assert!(o.weirds.is_empty(), "{:?}", o.weirds);
}

/// More than 512 bytes is irc_line_size_exceeded; a 100 MB line is cut by the framer
/// at 1000 bytes per line (contentline_size_exceeded) and never buffered whole.
#[test]
fn over_long_lines_are_bounded() {
    let mut long = vec![b'A'; 600];
    long.extend_from_slice(b"\r\nNICK a\r\n");
    let o = irc(&[orig(&long)]);
    assert_eq!(names(&o), ["irc_nick_message"]);
    assert_eq!(o.weirds, ["irc_line_size_exceeded [] (IRC)"]);

    let chunk = vec![b'x'; 1 << 20];
    let mut pieces: Vec<Piece> = (0..100).map(|_| orig(&chunk)).collect();
    pieces.push(orig(b"\r\nNICK b\r\n"));
    let o = irc(&pieces);
    assert_eq!(names(&o), ["irc_nick_message"]);
    assert!(
        o.weirds
            .contains(&"contentline_size_exceeded [] (CONTENTLINE)".to_string()),
        "{:?}",
        o.weirds
    );
    assert!(o
        .weirds
        .contains(&"irc_line_size_exceeded [] (IRC)".to_string()));
}

/// Over-long commands: a weird each; the 21st on is also irc_too_many_invalid and a violation.
#[test]
fn a_flood_of_invalid_commands_violates() {
    let line = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ x\r\n";
    let o = irc(&(0..20).map(|_| orig(line)).collect::<Vec<_>>());
    assert_eq!(o.weirds.len(), 20);
    assert!(!o.verdict.contains("Violation"), "{}", o.verdict);
    let o = irc(&(0..21).map(|_| orig(line)).collect::<Vec<_>>());
    assert!(o.verdict.contains("too many long lines"), "{}", o.verdict);
    assert!(o
        .weirds
        .contains(&"irc_too_many_invalid [] (IRC)".to_string()));
    // A flood of valid lines: one event each, nothing kept between them.
    let flood: Vec<u8> = b"PRIVMSG #a :hi\r\n".repeat(100_000);
    let o = irc(&[orig(&flood)]);
    assert_eq!(o.events.len(), 100_000);
}

/// Numbers beyond any real value saturate (Zeek's strtoull does too for sizes).
#[test]
fn hostile_numbers() {
    let o = irc(&[
        resp(b":s 251 a :99999999999999999999999 users and 18446744073709551616 services on -3 servers\r\n"),
        resp(b":s 352 a #c u h s n H :99999999999999999999999 real\r\n"),
        orig(b"PRIVMSG v :\x01DCC SEND f 4294967295 65535 99999999999999999999\x01\r\n"),
        orig(b"PRIVMSG v :\x01DCC SEND f 4294967296 65535 1\x01\r\n"),
    ]);
    insta::assert_json_snapshot!(o);
}

/// irc.log (uid left out) and conn.log's service through the engine, on a port
/// of Zeek's IRC::ports and, by signature, on another.
fn through_the_engine(port: u16, pieces: &[Piece]) -> (Vec<String>, String) {
    let (rows, service, _) = through_the_engine_with_weirds(port, pieces);
    (rows, service)
}

/// irc.log rows, conn.log's service and weird.log's rows (from `name` on).
fn through_the_engine_with_weirds(
    port: u16,
    pieces: &[Piece],
) -> (Vec<String>, String, Vec<String>) {
    let frames = session(
        1.0,
        Host::v4("10.0.0.1", 40001),
        Host::v4("10.0.0.2", port),
        pieces,
    );
    let dir = scratch_dir();
    let mut events = Events::with_logs(Logs::new(&dir, Format::Tsv));
    netpac_analyzers::subscribe_logs(&mut events, &Config::default());
    let mut engine = Engine::new(Config::default(), netpac_analyzers::registry(), events);
    play(&mut engine, &frames);
    engine.finish().unwrap();
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
    let (irc, conn, weird) = (read("irc.log"), read("conn.log"), read("weird.log"));
    let _ = std::fs::remove_dir_all(&dir);
    let rows = irc
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
        .collect();
    let service = conn
        .lines()
        .find(|l| !l.starts_with('#'))
        .and_then(|l| l.split('\t').nth(7))
        .unwrap_or("")
        .to_string();
    let weirds = weird
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').skip(6).collect::<Vec<_>>().join("\t"))
        .collect();
    (rows, service, weirds)
}

#[test]
fn irc_log_rows_as_zeek_writes_them() {
    let (rows, service) = through_the_engine(
        6667,
        &[
            orig(b"NICK alice\r\nUSER alice host srv :Alice Liddell here\r\n"),
            resp(b":irc.example 001 alice :Welcome\r\n"),
            orig(b"JOIN #a keyA\r\n"),
            orig(b"PRIVMSG bob :\x01DCC SEND file.txt 3232235876 5000 1024\x01\r\n"),
            orig(b"NICK alice2\r\nJOIN #b\r\n"),
        ],
    );
    insta::assert_snapshot!(rows.join("\n"));
    assert_eq!(service, "irc");
}

#[test]
fn irc_is_found_by_its_signature_on_any_port() {
    let (rows, service) = through_the_engine(
        7000,
        &[
            orig(b"NICK alice\r\nUSER alice host srv :Alice\r\n"),
            resp(b":irc.example 001 alice :Welcome\r\n"),
        ],
    );
    assert_eq!(service, "irc");
    // The rows carry the time of the server's reply, when the signature matched (as in Zeek).
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(
        rows[1].starts_with("1.040000\t") && rows[1].contains("\tNICK\talice\t"),
        "{rows:?}"
    );
}

/// dcc-send.zeek keeps at most 5000 offered transfers: the next offer is a weird
/// (once per connection) and leaves the session's `dcc_*` columns as they were.
#[test]
fn dcc_offers_past_the_limit_are_a_weird() {
    let mut lines = Vec::new();
    for i in 0..5003 {
        lines.extend_from_slice(
            format!(
                "PRIVMSG v :\x01DCC SEND f{i}.txt 3232235876 {} 10\x01\r\n",
                1000 + i % 60000
            )
            .as_bytes(),
        );
    }
    let mut pieces = vec![orig(b"NICK a\r\nUSER a b c :d\r\n")];
    pieces.extend(lines.chunks(60_000).map(orig));
    pieces.push(orig(b"NICK z\r\n"));
    let (rows, _, weirds) = through_the_engine_with_weirds(6667, &pieces);
    assert_eq!(
        weirds,
        ["irc_max_dcc_expected_transfers_exceeded\t-\tF\tzeek\t-"]
    );
    let last = rows.last().unwrap();
    assert!(
        last.contains("\tNICK\tz\t") && last.contains("\tf4999.txt\t10\t"),
        "{last}"
    );
}
