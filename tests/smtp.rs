//! SMTP and MIME events from sessions built here (snapshots in tests/snapshots/),
//! smtp.log through the engine, and bad input. The event sequences follow
//! SMTP.cc and MIME.cc of Zeek (checked with Zeek 8 on the pcaps of these sessions).

mod common;
mod lines_support;

use lines_support::{orig, resp, run, session, Outcome, Piece};
use netpac_analyzers::smtp::{self, Limits, SmtpAnalyzer};
use netpac_runtime::analyzer::{Analyzer, AnalyzerCx, TestConn};
use netpac_runtime::event::Events;
use netpac_runtime::weird::Weird;
use netpac_runtime::zeek::{Proto, Time};

fn smtp(pieces: &[Piece]) -> Outcome {
    run(Box::new(SmtpAnalyzer::new(Limits::default())), "SMTP", 25, pieces)
}

fn names(o: &Outcome) -> Vec<&str> {
    o.events.iter().map(|e| e["event"].as_str().unwrap()).collect()
}

/// Drives the analyzer with no event subscribed (bad-input tests): weird names only.
fn quiet(a: &mut SmtpAnalyzer, pieces: &[Piece]) -> Vec<&'static str> {
    let conn = TestConn::new(Proto::Tcp, 25, "CQuiet");
    let mut events = Events::new();
    let mut weirds: Vec<Weird> = Vec::new();
    for p in pieces {
        let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, "SMTP");
        match p {
            Piece::Data(is_orig, data) => a.deliver(&mut cx, *is_orig, data),
            Piece::End(is_orig) => a.end_of_data(&mut cx, *is_orig),
        }
    }
    let mut w: Vec<&'static str> = weirds.iter().map(|w| w.name).collect();
    w.dedup();
    w
}

const GREETING: &[u8] = b"220 mx.example.com ESMTP\r\n";

#[test]
fn a_mail_session() {
    insta::assert_json_snapshot!(smtp(&[
        resp(GREETING),
        orig(b"EHLO client.example.com\r\n"),
        resp(b"250-mx.example.com\r\n250-PIPELINING\r\n250 8BITMIME\r\n"),
        orig(b"MAIL FROM:<alice@example.com>\r\n"),
        resp(b"250 ok\r\n"),
        orig(b"RCPT TO:<bob@example.org>\r\n"),
        resp(b"250 ok\r\n"),
        orig(b"DATA\r\n"),
        resp(b"354 go ahead\r\n"),
        orig(b"From: Alice <alice@example.com>\r\nSubject: a folded\r\n\tsubject\r\n\r\nHello\r\n..dot\r\n.\r\n"),
        resp(b"250 queued\r\n"),
        orig(b"QUIT\r\n"),
        resp(b"221 bye\r\n"),
    ]));
}

#[test]
fn nested_multipart_with_base64_and_quoted_printable() {
    insta::assert_json_snapshot!(smtp(&[
        orig(b"MAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDATA\r\n"),
        orig(b"Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\npreamble\r\n"),
        orig(b"--outer\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9 =\r\nsoft\r\n"),
        orig(b"--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n"),
        orig(b"--inner\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8g\r\nd29ybGQ=\r\n--inner--\r\n"),
        orig(b"--outer\r\nContent-Type: message/rfc822\r\n\r\nSubject: inside\r\n\r\nbody\r\n"),
        orig(b"--outer--\r\nepilogue\r\n.\r\n"),
        resp(b"250 ok\r\n"),
    ]));
}

#[test]
fn bdat_chunks_are_raw_bytes_cut_into_lines() {
    insta::assert_json_snapshot!(smtp(&[
        resp(GREETING),
        orig(b"EHLO c\r\n"),
        resp(b"250 CHUNKING\r\n"),
        orig(b"MAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\n"),
        // The chunk starts right after the command, in the same segment; its CRLFs
        // and a line that looks like a command are data.
        orig(b"BDAT 20\r\nSubject: x\r\n\r\nQUIT\r\n"),
        orig(b"BDAT 7 LAST\r\n"),
        orig(b"end\r\n\r\n"),
        resp(b"250 ok\r\n250 ok\r\n250 ok\r\n250 2.0.0 queued\r\n"),
        orig(b"QUIT\r\n"),
    ]));
}

#[test]
fn bad_bdat_arguments_are_weirds_and_stay_lines() {
    let o = smtp(&[
        orig(b"BDAT 12LAST\r\n"),
        orig(b"BDAT 99999999999999999999\r\n"),
        orig(b"BDAT 10000000000000000000\r\n"),
    ]);
    assert_eq!(
        o.weirds,
        [
            "smtp_invalid_bdat_command [BDAT chunk-size not valid] (SMTP)",
            "smtp_invalid_bdat_command [BDAT chunk-size too large] (SMTP)",
            "smtp_huge_bdat_chunk [10000000000000000000] (SMTP)"
        ]
    );
    assert_eq!(names(&o), ["smtp_request"; 3]);
}

#[test]
fn starttls_ends_the_analysis() {
    insta::assert_json_snapshot!(smtp(&[
        resp(GREETING),
        orig(b"EHLO c\r\n"),
        resp(b"250 STARTTLS\r\n"),
        orig(b"STARTTLS\r\n"),
        resp(b"220 2.0.0 Ready to start TLS\r\n"),
        orig(b"\x16\x03\x01\x00\x05hello\r\n"),
        resp(b"\x16\x03\x03 not smtp\r\n"),
    ]));
}

#[test]
fn unexpected_lines_and_bad_reply_codes() {
    insta::assert_json_snapshot!(smtp(&[
        resp(GREETING),
        orig(b"FOO bar\r\n"),
        orig(b"HELO x\r\r\n"),
        resp(b"250-a\r\n251 b\r\n"),
        resp(b"999 out of range\r\n"),
        orig(b"DATA\r\n"),
    ]));
}

#[test]
fn mime_anomalies_are_mime_events() {
    let o = smtp(&[
        orig(b"DATA\r\n"),
        orig(b" leading blank\r\nContent-Type: multipart/mixed\r\nContent-Type: text\r\n\r\n"),
        orig(b".\r\n"),
    ]);
    let details: Vec<&str> = o
        .events
        .iter()
        .filter(|e| e["event"] == "mime_event")
        .map(|e| e["args"]["detail"].as_str().unwrap())
        .collect();
    assert_eq!(
        details,
        [
            "first header line starts with linear whitespace",
            "boundary delimiter is not specified for a multipart entity -- content is treated as type application/octet-stream",
            "media type/subtype not found in content type"
        ]
    );
}

#[test]
fn every_smtp_and_mime_event_is_raised() {
    let o = smtp(&[
        resp(GREETING),
        orig(b"EHLO c\r\nSTARTX\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDATA\r\n"),
        orig(b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx=\r\n--b--\r\n.\r\n"),
        orig(b"STARTTLS\r\n"),
        resp(b"250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n250 ok\r\n220 go\r\n"),
    ]);
    // mime_event needs an anomaly.
    let anomaly = smtp(&[orig(b"DATA\r\n \r\n.\r\n")]);
    let mut seen: Vec<&str> = names(&o);
    seen.extend(names(&anomaly).into_iter().filter(|n| *n == "mime_event"));
    seen.sort_unstable();
    seen.dedup();
    let mut all: Vec<&str> = smtp::EVENT_NAMES.to_vec();
    all.sort_unstable();
    assert_eq!(seen, all);
}

#[test]
fn too_many_invalid_transactions_stop_the_analyzer_after_their_packet() {
    // main.zeek disables the analyzer once more than 25 transactions were invalid
    // (RCPT without MAIL FROM); what the same packet holds is still analysed.
    let mut pieces = vec![orig(b"HELO c\r\n")];
    for i in 0..26 {
        pieces.push(orig(format!("RCPT TO:<x{i}@y.z>\r\n").as_bytes()));
    }
    pieces.push(orig(b"NOOP\r\n"));
    let o = smtp(&pieces);
    let requests: Vec<&str> = o
        .events
        .iter()
        .filter(|e| e["event"] == "smtp_request")
        .map(|e| e["args"]["command"].as_str().unwrap())
        .collect();
    // HELO and the 26 RCPTs; the NOOP after the 26th packet is not seen.
    assert_eq!(requests.len(), 27);
    assert_eq!(requests.last(), Some(&"RCPT"));
    let mut a = SmtpAnalyzer::new(Limits::default());
    quiet(&mut a, &pieces);
    assert!(a.stopped());
}

#[test]
fn a_100_mb_line_is_cut_by_the_line_framer() {
    let mut a = SmtpAnalyzer::new(Limits::default());
    let chunk = vec![b'A'; 1 << 20];
    let mut pieces: Vec<Piece> = (0..100).map(|_| orig(&chunk)).collect();
    pieces.push(orig(b"\r\n"));
    let w = quiet(&mut a, &pieces);
    assert_eq!(w, ["contentline_size_exceeded"]);
    assert_eq!(a.buffered(true), 0);
}

#[test]
fn a_million_pipelined_commands_stay_bounded() {
    let mut a = SmtpAnalyzer::new(Limits::default());
    let lines = b"NOOP\r\n".repeat(1_000_000);
    let w = quiet(&mut a, &[orig(&lines)]);
    assert_eq!(w, ["smtp_excessive_pending_cmds"]);
    assert!(a.pending_commands() <= 1001);
}

#[test]
fn mime_nested_a_thousand_deep_is_bounded() {
    let mut a = SmtpAnalyzer::new(Limits::default());
    let mut body = b"DATA\r\n".to_vec();
    for i in 0..1000 {
        body.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n").as_bytes(),
        );
    }
    let w = quiet(&mut a, &[orig(&body)]);
    assert_eq!(w, ["exceeded_mime_max_depth"]);
    assert_eq!(a.mime_depth(), Limits::default().max_mime_depth as usize + 1);
    let w = quiet(&mut a, &[orig(b".\r\n")]);
    assert!(w.is_empty());
    assert_eq!(a.mime_depth(), 0);
}

/// smtp.log's rows (all columns) from a session through the engine, and conn.log's service.
fn smtp_log(pieces: &[Piece]) -> Vec<Vec<String>> {
    use common::*;
    use netpac_runtime::log::{Format, Logs};
    let frames = session(
        1.0,
        Host::v4("10.0.0.1", 40025),
        Host::v4("10.0.0.2", 25),
        pieces,
    );
    let dir = scratch_dir();
    let mut events = Events::with_logs(Logs::new(&dir, Format::Tsv));
    netpac_analyzers::subscribe_logs(&mut events, &Config::default());
    let mut engine = Engine::new(Config::default(), netpac_analyzers::registry(), events);
    play(&mut engine, &frames);
    engine.finish().unwrap();
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
    let (smtp, conn) = (read("smtp.log"), read("conn.log"));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(conn.lines().any(|l| !l.starts_with('#') && l.split('\t').any(|c| c == "smtp")));
    smtp.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

#[test]
fn smtp_log_through_the_engine() {
    let rows = smtp_log(&[
        resp(GREETING),
        orig(b"HELO client\r\n"),
        resp(b"250 hi\r\n"),
        orig(b"MAIL FROM:<a@b.c>\r\n"),
        resp(b"250 ok\r\n"),
        orig(b"RCPT TO:<d@e.f>\r\nRCPT TO:<g@h.i>\r\n"),
        resp(b"250 ok\r\n250 ok\r\n"),
        orig(b"DATA\r\n"),
        resp(b"354 go\r\n"),
        orig(b"Subject: hi\r\nTo: D <d@e.f>,\r\n G <g@h.i>\r\nReceived: from x ([192.0.2.7]) by y\r\n"),
        orig(b"X-Originating-IP: [198.51.100.1]\r\nUser-Agent: test 1.0\r\n\r\nbody\r\n.\r\n"),
        resp(b"250 queued\r\n"),
        orig(b"MAIL FROM:<x@y.z>\r\n"),
        resp(b"250 ok\r\n"),
        orig(b"QUIT\r\n"),
        resp(b"221 bye\r\n"),
    ]);
    let cols: Vec<Vec<&str>> = rows
        .iter()
        .map(|r| r.iter().map(String::as_str).collect())
        .collect();
    // The transaction answered by `250 queued`, then the one that only sent MAIL FROM.
    assert_eq!(cols.len(), 2);
    assert_eq!(&cols[0][6..10], ["1", "client", "a@b.c", "d@e.f,g@h.i"]);
    assert_eq!(cols[0][12], "D <d@e.f>,G <g@h.i>");
    assert_eq!(cols[0][17], "hi");
    assert_eq!(&cols[0][18..22], ["198.51.100.1", "from x ([192.0.2.7]) by y", "-", "250 queued"]);
    assert_eq!(&cols[0][22..26], ["10.0.0.2,10.0.0.1,192.0.2.7", "test 1.0", "F", "(empty)"]);
    assert_eq!(&cols[1][6..10], ["2", "client", "x@y.z", "-"]);
    assert_eq!(cols[1][21], "221 bye");
}

/// `skip_smtp_data` between packets: the rest of the mail in progress raises no
/// `smtp_data` and reaches no MIME parser; the next mail is analysed again.
#[test]
fn skip_smtp_data_skips_the_rest_of_the_mail() {
    use common::{Config, Harness, Host};
    use netpac_runtime::zeek::{ConnId, Port};
    let (c, s) = (Host::v4("10.0.0.1", 40001), Host::v4("10.0.0.2", 25));
    let frames = session(
        1.0,
        c,
        s,
        &[
            resp(b"220 mx ESMTP\r\n"),
            orig(b"HELO me\r\n"),
            resp(b"250 ok\r\n"),
            orig(b"MAIL FROM:<a@b>\r\n"),
            resp(b"250 ok\r\n"),
            orig(b"RCPT TO:<c@d>\r\n"),
            resp(b"250 ok\r\n"),
            orig(b"DATA\r\n"),
            resp(b"354 go\r\n"),
            orig(b"Subject: one\r\n\r\nfirst line\r\n"),
            orig(b"second line\r\n.\r\n"),
            resp(b"250 queued\r\n"),
            orig(b"MAIL FROM:<a@b>\r\n"),
            resp(b"250 ok\r\n"),
            orig(b"RCPT TO:<c@d>\r\n"),
            resp(b"250 ok\r\n"),
            orig(b"DATA\r\n"),
            resp(b"354 go\r\n"),
            orig(b"Subject: two\r\n\r\nbody\r\n.\r\n"),
            resp(b"250 queued\r\n"),
        ],
    );
    // Up to the segment with the first mail's headers (handshake 3, then 10 pieces).
    let split = 3 + 10;
    let mut h = Harness::new(Config::default(), netpac_analyzers::registry(), Some(vec!["smtp_data"]));
    h.play(&frames[..split]);
    let cid = ConnId {
        orig_h: "10.0.0.1".parse().unwrap(),
        orig_p: Port::new(40001, Proto::Tcp),
        resp_h: "10.0.0.2".parse().unwrap(),
        resp_p: Port::new(25, Proto::Tcp),
    };
    assert!(smtp::skip_smtp_data(&mut h.engine, &cid));
    let other = ConnId { orig_p: Port::new(1, Proto::Tcp), ..cid };
    assert!(!smtp::skip_smtp_data(&mut h.engine, &other));
    h.play(&frames[split..]);
    let out = h.finish();
    let data: Vec<&str> = out.events.iter().map(|e| e["args"]["data"].as_str().unwrap()).collect();
    assert_eq!(data, ["Subject: one", "", "first line", "Subject: two", "", "body"]);
}

/// An SMTP session inside an HTTP CONNECT tunnel: after the proxy's 200 the rest of
/// the connection is detected anew by its payload (Zeek's PIA child analyzer), so
/// the mail is logged and the service is `http,smtp`.
#[test]
fn smtp_inside_an_http_connect_tunnel() {
    use common::*;
    let frames = session(
        1.0,
        Host::v4("10.0.0.1", 40026),
        Host::v4("10.0.0.2", 8080),
        &[
            orig(b"CONNECT mx.example.com:25 HTTP/1.1\r\nHost: mx.example.com:25\r\n\r\n"),
            resp(b"HTTP/1.1 200 Connection established\r\n\r\n"),
            resp(GREETING),
            orig(b"EHLO client.example.com\r\n"),
            resp(b"250 mx.example.com\r\n"),
            orig(b"MAIL FROM:<a@example.com>\r\n"),
            resp(b"250 OK\r\n"),
            orig(b"RCPT TO:<b@example.com>\r\n"),
            resp(b"250 OK\r\n"),
            orig(b"DATA\r\n"),
            resp(b"354 go ahead\r\n"),
            orig(b"Subject: through the proxy\r\n\r\nhi\r\n.\r\n"),
            resp(b"250 Message accepted\r\n"),
            orig(b"QUIT\r\n"),
            resp(b"221 bye\r\n"),
        ],
    );
    let out = run_with(
        &frames,
        Config::default(),
        netpac_analyzers::registry(),
        Some(vec!["smtp_request", "mime_one_header"]),
    );
    assert_eq!(conn_columns(&out, &["service"]), ["http,smtp"]);
    let got: Vec<String> = out
        .events
        .iter()
        .map(|e| {
            let a = &e["args"];
            let what = a.get("command").or(a["h"].get("value")).map(|v| v.to_string());
            format!("{} {}", e["event"].as_str().unwrap(), what.unwrap_or_default())
        })
        .collect();
    assert_eq!(
        got,
        [
            "smtp_request \"EHLO\"",
            "smtp_request \"MAIL\"",
            "smtp_request \"RCPT\"",
            "smtp_request \"DATA\"",
            "mime_one_header \"through the proxy\"",
            "smtp_request \".\"",
            "smtp_request \"QUIT\"",
        ]
    );
}

/// Zeek's `MIME::max_header_bytes` (65536): a folded header that holds that
/// many bytes when one more line comes ends the mail's MIME analysis, with the
/// weird `exceeded_mime_max_header_bytes` and `X` in the history; the header
/// read so far is still submitted. One line fewer is fine. (Zeek 8.2.2 writes
/// the same weird, history and subject for these mails.)
#[test]
fn a_folded_header_past_the_mime_limit_ends_the_mail_analysis() {
    use common::*;
    for (lines, exceeded) in [(32_757usize, false), (32_758, true)] {
        // "Subject: CVE-CANDIDATE" is 22 bytes, each folded line " x" two more.
        let mut mail = b"DATA\r\nSubject: CVE-CANDIDATE\r\n".to_vec();
        mail.extend_from_slice(&b" x\r\n".repeat(lines));
        mail.extend_from_slice(b"\r\nbody\r\n.\r\nQUIT\r\n");
        let mut pieces = vec![resp(GREETING), orig(b"HELO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\n")];
        pieces.extend(mail.chunks(1400).map(orig));
        let frames = session(1.0, Host::v4("10.0.0.1", 40025), Host::v4("10.0.0.2", 25), &pieces);
        let out = run_with(
            &frames,
            Config::default(),
            netpac_analyzers::registry(),
            Some(vec!["conn_weird", "mime_one_header", "mime_end_entity"]),
        );
        let names: Vec<String> = event_names(&out);
        let weird_at = names.iter().position(|n| n == "conn_weird");
        assert_eq!(weird_at.is_some(), exceeded, "{lines}: {names:?}");
        let history = conn_columns(&out, &["history"]);
        assert_eq!(history[0].contains('X'), exceeded, "{lines}: {history:?}");
        if let Some(at) = weird_at {
            // The weird, then the header so far, then the entity's end.
            assert_eq!(&names[at..at + 3], ["conn_weird", "mime_one_header", "mime_end_entity"]);
            let weird = &out.events[at]["args"];
            assert_eq!((weird["name"].as_str(), weird["addl"].as_str()), (Some("exceeded_mime_max_header_bytes"), Some("65536")));
            let value = out.events[at + 1]["args"]["h"]["value"].as_str().unwrap();
            assert_eq!(value.len(), "CVE-CANDIDATE".len() + 2 * 32_757);
        }
    }
}
