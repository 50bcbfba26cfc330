//! MySQL (grammars/mysql.*): packets whose meaning the connection's state
//! decides (the greeting, the login, then commands and the answers each command
//! announces), the events and mysql.log, from sessions these tests build. The
//! expected behaviour is Zeek 8.2.2's MySQL analyzer and base/protocols/mysql.

mod common;
mod lines_support;
mod tls_support;

use common::{Frame, Host};
use lines_support::{orig, resp, run, session, Outcome, Piece, log_rows};
use netpac_analyzers::mysql::{Limits, MYSQLAnalyzer};

// ---- a small MySQL writer ----------------------------------------------------------

/// A packet: 3-byte little-endian length, sequence id, payload.
fn pkt(seq: u8, payload: &[u8]) -> Vec<u8> {
    let n = payload.len() as u32;
    let mut p = n.to_le_bytes()[..3].to_vec();
    p.push(seq);
    p.extend(payload);
    p
}

fn nul(s: &[u8]) -> Vec<u8> {
    [s, b"\0"].concat()
}

/// A length-encoded string.
fn lenenc(s: &[u8]) -> Vec<u8> {
    assert!(s.len() < 0xfb);
    [&[s.len() as u8][..], s].concat()
}

const PLUGIN_AUTH: u32 = 0x80000;
const PROTOCOL_41: u32 = 0x200;
const SSL: u32 = 0x800;
const DEPRECATE_EOF: u32 = 0x100_0000;
const QUERY_ATTRIBUTES: u32 = 0x800_0000;

/// The v10 greeting, with the capabilities `caps`.
fn greeting(caps: u32) -> Vec<u8> {
    let mut g = vec![10u8];
    g.extend(nul(b"8.0.36"));
    g.extend(7u32.to_le_bytes());
    g.extend(b"abcdefgh");
    g.push(0);
    g.extend((caps as u16).to_le_bytes());
    g.push(0xff);
    g.extend(2u16.to_le_bytes());
    g.extend(((caps >> 16) as u16).to_le_bytes());
    g.push(21);
    g.extend([0; 10]);
    g.extend(b"ijklmnopqrst\0");
    g.extend(nul(b"caching_sha2_password"));
    g
}

/// The client's v10 handshake response.
fn login(caps: u32, user: &[u8]) -> Vec<u8> {
    let mut r = caps.to_le_bytes().to_vec();
    r.extend(16_777_216u32.to_le_bytes());
    r.push(0xff);
    r.extend([0; 23]);
    if caps & SSL != 0 {
        return r;
    }
    r.extend(nul(user));
    r.extend(lenenc(b"scrambled-password"));
    if caps & PLUGIN_AUTH != 0 {
        r.extend(nul(b"caching_sha2_password"));
    }
    r
}

fn ok(rows: u8) -> Vec<u8> {
    vec![0, rows, 0, 2, 0, 0, 0]
}

fn err(code: u16, msg: &[u8]) -> Vec<u8> {
    [&[0xff][..], &code.to_le_bytes(), b"#42000", msg].concat()
}

fn eof() -> Vec<u8> {
    vec![0xfe, 0, 0, 2, 0]
}

fn column(name: &[u8]) -> Vec<u8> {
    let mut c = [lenenc(b"def"), lenenc(b"db"), lenenc(b"t"), lenenc(b"t"), lenenc(name), lenenc(name)].concat();
    c.push(0x0c);
    c.extend(33u16.to_le_bytes());
    c.extend(255u32.to_le_bytes());
    c.push(0xfd);
    c.extend(0u16.to_le_bytes());
    c.push(0);
    c.extend([0, 0]);
    c
}

fn query(sql: &[u8]) -> Vec<u8> {
    [&[3u8][..], sql].concat()
}

/// The login with an auth switch, a SELECT with two rows (legacy EOFs), an
/// INSERT, a failing query, statistics (answered by text) and QUIT.
fn legacy_session() -> Vec<Piece> {
    vec![
        resp(&pkt(0, &greeting(PROTOCOL_41 | PLUGIN_AUTH | 0xf7ff))),
        orig(&pkt(1, &login(PROTOCOL_41 | PLUGIN_AUTH | 0x8000, b"alice"))),
        resp(&pkt(2, &[&[0xfe][..], &nul(b"mysql_native_password"), b"0123456789abcdefghij\0"].concat())),
        orig(&pkt(3, b"twenty-bytes-of-hash")),
        resp(&pkt(4, &ok(0))),
        orig(&pkt(0, &query(b"SELECT a, b FROM t"))),
        resp(&[
            pkt(1, &[2]),
            pkt(2, &column(b"a")),
            pkt(3, &column(b"b")),
            pkt(4, &eof()),
            pkt(5, &[lenenc(b"1"), lenenc(b"one")].concat()),
            pkt(6, &[lenenc(b"2"), vec![0xfb]].concat()),
            pkt(7, &eof()),
        ]
        .concat()),
        orig(&pkt(0, &query(b"INSERT INTO t VALUES (3, 'three')"))),
        resp(&pkt(1, &ok(1))),
        orig(&pkt(0, &query(b"SELEC oops"))),
        resp(&pkt(1, &err(1064, b"You have an error in your SQL syntax"))),
        orig(&pkt(0, &[9])),
        resp(&pkt(1, b"Uptime: 100  Threads: 2")),
        orig(&pkt(0, &[1])),
    ]
}

fn mysql_events(pieces: &[Piece]) -> Outcome {
    run(Box::new(MYSQLAnalyzer::new(0, Limits::default())), "MYSQL", 3306, pieces)
}

fn names(o: &Outcome) -> Vec<String> {
    o.events.iter().map(|e| e["event"].as_str().unwrap().to_string()).collect()
}

fn logs(frames: &[Frame]) -> (String, String) {
    let (rows, services) = log_rows(
        frames,
        vec![netpac_analyzers::mysql::log::MysqlLogger::sink(), netpac_analyzers::ssl::log::SslLogger::sink()],
    );
    let row = |log: &str| rows.get(log).cloned().unwrap_or_default();
    (format!("{}\n--\n{}", row("mysql.log"), row("ssl.log")), services.join(","))
}

#[test]
fn legacy_session_events() {
    let o = mysql_events(&legacy_session());
    assert_eq!(o.verdict, "Confirmed");
    insta::assert_json_snapshot!(o);
    let n = names(&o);
    assert_eq!(n.iter().filter(|e| *e == "mysql_result_row").count(), 2);
    // The EOF between the columns and the rows is intermediate; the last one is not.
    let eofs: Vec<bool> = o
        .events
        .iter()
        .filter(|e| e["event"] == "mysql_eof")
        .map(|e| e["args"]["is_intermediate"].as_bool().unwrap())
        .collect();
    assert_eq!(eofs, vec![true, false]);
}

#[test]
fn mysql_log_rows() {
    let frames = session(1.0, Host::v4("10.0.0.1", 40000), Host::v4("10.0.0.2", 3306), &legacy_session());
    let (rows, service) = logs(&frames);
    insta::assert_snapshot!(rows);
    assert_eq!(service, "mysql");
}

#[test]
fn deprecate_eof_query_attributes_and_change_user() {
    let caps = PROTOCOL_41 | PLUGIN_AUTH | DEPRECATE_EOF | QUERY_ATTRIBUTES;
    // Two attributes: an integer (type 8) and a NULL string; then the query.
    let mut attrs = vec![2u8, 1, 0b10, 1];
    attrs.extend([8, 0]);
    attrs.extend(lenenc(b"n1"));
    attrs.extend([0xfe, 0]);
    attrs.extend(lenenc(b"n2"));
    attrs.extend(42u64.to_le_bytes());
    let mut change_user = vec![0x11u8];
    change_user.extend(nul(b"bob"));
    change_user.push(4);
    change_user.extend(b"auth");
    change_user.extend(nul(b"db"));
    change_user.extend(33u16.to_le_bytes());
    change_user.extend(nul(b"mysql_native_password"));
    let pieces = vec![
        resp(&pkt(0, &greeting(0xffff_ffff))),
        orig(&pkt(1, &login(caps, b"carol"))),
        resp(&pkt(2, &ok(0))),
        orig(&pkt(0, &[&[3u8][..], &attrs, b"SELECT 1"].concat())),
        resp(&[pkt(1, &[1]), pkt(2, &column(b"1")), pkt(3, &lenenc(b"1")), pkt(4, &[0xfe, 0, 0, 2, 0, 0, 0])].concat()),
        orig(&pkt(0, &[0, 0, b'S', b'E', b'L'].iter().skip(2).fold(vec![3u8, 0, 1], |mut v, b| {
            v.push(*b);
            v
        }))),
        resp(&pkt(1, &ok(0))),
        orig(&pkt(0, &change_user)),
        resp(&pkt(1, &ok(0))),
    ];
    let o = mysql_events(&pieces);
    assert_eq!(o.verdict, "Confirmed");
    let args: Vec<String> = o
        .events
        .iter()
        .filter(|e| e["event"] == "mysql_command_request")
        .map(|e| e["args"]["arg"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(args[0], "SELECT 1", "the attribute values are not the query");
    assert_eq!(args[1], "SEL");
    let n = names(&o);
    assert!(n.contains(&"mysql_change_user".to_string()), "{n:?}");
    // With CLIENT_DEPRECATE_EOF a result ends with OK, not EOF.
    assert!(!n.contains(&"mysql_eof".to_string()), "{n:?}");
    let frames = session(1.0, Host::v4("10.0.0.1", 40001), Host::v4("10.0.0.2", 3306), &pieces);
    let (rows, _) = logs(&frames);
    assert!(rows.contains("query SELECT 1 T 0 -"), "{rows}");
    assert!(rows.contains("change_user bob T 0 -"), "{rows}");
}

#[test]
fn an_ssl_request_hands_the_connection_to_tls() {
    let hello = tls_support::record(
        22,
        0x0301,
        &tls_support::client_hello(&[], &[0x009c], &[tls_support::sni(b"db.example")]),
    );
    let pieces = vec![
        resp(&pkt(0, &greeting(PROTOCOL_41 | PLUGIN_AUTH | SSL | 0xf7ff))),
        orig(&pkt(1, &login(PROTOCOL_41 | SSL | PLUGIN_AUTH, b""))),
        orig(&hello),
    ];
    let o = mysql_events(&pieces);
    assert!(names(&o).contains(&"mysql_ssl_request".to_string()));
    assert!(!names(&o).contains(&"mysql_handshake".to_string()));
    let frames = session(1.0, Host::v4("10.0.0.1", 40002), Host::v4("10.0.0.2", 3306), &pieces);
    let (rows, service) = logs(&frames);
    assert_eq!(service, "mysql,ssl");
    // No mysql.log row; an ssl.log row with the client's server name.
    assert!(rows.starts_with("\n--\n"), "{rows}");
    assert!(rows.contains("db.example"), "{rows}");
}

#[test]
fn hostile_packets_are_violations() {
    for bad in [
        // A greeting whose auth data length is neither 0 nor at least 21.
        vec![resp(&pkt(0, &{
            let mut g = greeting(PLUGIN_AUTH);
            let at = g.iter().position(|&b| b == 21).unwrap();
            g[at] = 10;
            g
        }))],
        // A client speaking before any greeting.
        vec![orig(&pkt(0, &login(PROTOCOL_41, b"mallory")))],
        // A row claiming more columns than it has.
        vec![
            resp(&pkt(0, &greeting(PROTOCOL_41))),
            orig(&pkt(1, &login(PROTOCOL_41, b"x"))),
            resp(&pkt(2, &ok(0))),
            orig(&pkt(0, &query(b"SELECT"))),
            resp(&[pkt(1, &[3]), pkt(2, &column(b"a")), pkt(3, &column(b"b")), pkt(4, &column(b"c")), pkt(5, &eof()), pkt(6, &lenenc(b"1"))].concat()),
        ],
        // An unknown server packet in the connection phase.
        vec![resp(&pkt(0, &greeting(PROTOCOL_41))), orig(&pkt(1, &login(PROTOCOL_41, b"x"))), resp(&pkt(2, &[0x42]))],
    ] {
        let o = mysql_events(&bad);
        assert!(o.verdict.starts_with("Violation"), "{}", o.verdict);
    }
    // A packet announcing 16 MiB is bounded by max_pdu: a violation once 10 MiB are held.
    let mut huge = vec![0xff, 0xff, 0xff, 0];
    huge.resize(10_485_800, b'a');
    let o = mysql_events(&[resp(&pkt(0, &greeting(PROTOCOL_41))), orig(&pkt(1, &login(PROTOCOL_41, b"x"))), resp(&pkt(2, &ok(0))), orig(&huge)]);
    assert!(o.verdict.starts_with("Violation"), "{}", o.verdict);
}

#[test]
fn every_mysql_event_is_raised_by_some_test_traffic() {
    let mut seen = names(&mysql_events(&legacy_session()));
    let ssl_request = vec![
        resp(&pkt(0, &greeting(PROTOCOL_41 | PLUGIN_AUTH | SSL))),
        orig(&pkt(1, &login(PROTOCOL_41 | SSL, b""))),
    ];
    seen.extend(names(&mysql_events(&ssl_request)));
    let change_user = vec![
        resp(&pkt(0, &greeting(PROTOCOL_41))),
        orig(&pkt(1, &login(PROTOCOL_41, b"x"))),
        resp(&pkt(2, &ok(0))),
        orig(&pkt(0, &[&[0x11u8][..], &nul(b"bob"), &[0], &nul(b"db"), &[33, 0]].concat())),
    ];
    seen.extend(names(&mysql_events(&change_user)));
    let missing: Vec<&&str> = netpac_analyzers::mysql::EVENT_NAMES.iter().filter(|e| !seen.iter().any(|s| s == **e)).collect();
    assert!(missing.is_empty(), "no test raises {missing:?}");
}
