//! Property: arbitrary bytes never panic any generated parser, and a parser
//! never claims to consume more than its input.

mod dns_support;

use netpac_analyzers::{arp, dns, http, modbus};
use netpac_runtime::parse::{Cursor, ParseCx};
use netpac_runtime::zeek::Proto;
use proptest::prelude::*;

#[allow(dead_code)]
mod shapes_gen {
    include!(concat!(env!("OUT_DIR"), "/test_grammars/test_grammars.rs"));
}
use shapes_gen::shapes;

macro_rules! check {
    ($unit:ty, $lim:expr, $data:expr $(, $arg:expr)*) => {{
        let data: &[u8] = $data;
        let mut cur = Cursor::new(data);
        let mut cx = ParseCx::new(true, 53);
        let _ = <$unit>::parse(&mut cur, &mut cx, $lim $(, $arg)*);
        prop_assert!(cur.pos() <= data.len());
    }};
}

/// Bytes that look a little like DNS: a plausible header, then noise.
fn dnsish() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<u16>(),
        any::<u16>(),
        0u16..4,
        0u16..6,
        0u16..3,
        0u16..3,
        proptest::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(id, flags, qd, an, ns, ar, body)| {
            let mut v = Vec::new();
            for x in [id, flags, qd, an, ns, ar] {
                v.extend_from_slice(&x.to_be_bytes());
            }
            v.extend_from_slice(&body);
            v
        })
}

/// Bytes that look a little like HTTP: a start line and headers from a small
/// vocabulary (lengths, chunking, codings), then noise.
fn httpish() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(&b"GET / HTTP/1.1\r\n"[..]),
        Just(&b"HTTP/1.1 200 OK\r\n"[..]),
        Just(&b"HTTP/1.1 101 Switching\r\n"[..]),
        Just(&b"CONNECT h:1 HTTP/1.1\r\n"[..]),
        Just(&b"Content-Length: 5\r\n"[..]),
        Just(&b"Content-Length: 18446744073709551615\r\n"[..]),
        Just(&b"Transfer-Encoding: chunked\r\n"[..]),
        Just(&b"Content-Encoding: gzip\r\n"[..]),
        Just(&b"Content-Encoding: deflate\r\n"[..]),
        Just(&b"Upgrade: x\r\nConnection: upgrade\r\n"[..]),
        Just(&b"ffffffffffffffffff\r\n"[..]),
        Just(&b"\r\n"[..]),
        Just(&b" folded\r\n"[..]),
        Just(&b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"[..]),
    ];
    (
        proptest::collection::vec(piece, 0..12),
        proptest::collection::vec(any::<u8>(), 0..100),
    )
        .prop_map(|(ps, noise)| {
            let mut v: Vec<u8> = ps.concat();
            v.extend_from_slice(&noise);
            v
        })
}

mod http_support {
    use netpac_runtime::analyzer::{Analyzer, AnalyzerCx, ConnView};
    use netpac_runtime::event::{Events, Recorded, RecordingSink};
    use netpac_runtime::record::{Connection, Endpoint};
    use netpac_runtime::zeek::{ConnId, Interval, Port, Proto, Time};

    struct Conn(ConnId);
    impl ConnView for Conn {
        fn id(&self) -> ConnId {
            self.0
        }
        fn uid(&self) -> &str {
            "Cfuzz"
        }
        fn record(&self) -> Connection {
            let ep = Endpoint {
                size: 0,
                state: 0,
                num_pkts: None,
                num_bytes_ip: None,
                flow_label: 0,
                l2_addr: None,
            };
            Connection {
                id: self.0,
                orig: ep.clone(),
                resp: ep,
                start_time: Time(0),
                duration: Interval(0),
                service: Default::default(),
                history: Default::default(),
                uid: "Cfuzz".into(),
                vlan: None,
                inner_vlan: None,
                tunnel: None,
                extra: Default::default(),
            }
        }
    }

    /// Feeds the chunks to the HTTP analyzer with every event subscribed.
    pub fn run(chunks: &[(bool, &[u8])]) {
        let conn = Conn(ConnId {
            orig_h: "10.0.0.1".parse().unwrap(),
            orig_p: Port::new(1, Proto::Tcp),
            resp_h: "10.0.0.2".parse().unwrap(),
            resp_p: Port::new(80, Proto::Tcp),
        });
        let mut events = Events::new();
        events.subscribe(Box::new(RecordingSink {
            into: Recorded::default(),
            filter: None,
        }));
        let mut weirds = Vec::new();
        let mut a = netpac_analyzers::http::HttpAnalyzer::default();
        let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, "HTTP");
        for (is_orig, data) in chunks {
            a.deliver(&mut cx, *is_orig, data);
        }
        a.undelivered(&mut cx, false, 10);
        a.end_of_data(&mut cx, true);
        a.end_of_data(&mut cx, false);
        a.done(&mut cx);
        assert!(a.buffered() as u64 <= netpac_analyzers::http::Limits::default().max_line);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn dns_units_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        let all = dns_support::all_sections();
        let def = dns::Limits::default();
        check!(dns::Message, &def, &data);
        check!(dns::Message, &all, &data);
        check!(dns::TcpMessage, &all, &data);
        check!(dns::Header, &def, &data);
        check!(dns::Question, &def, &data);
        check!(dns::RR, &all, &data, 1, false);
        check!(dns::RR, &all, &data, 1, true);
        let _ = dns::TcpMessage::frame_len(&data);
    }

    #[test]
    fn dns_analyzer_never_panics(data in dnsish(), split in 0usize..400) {
        let _ = dns_support::run(Proto::Udp, 53, dns_support::all_sections(), &[(true, data.clone()), (false, data.clone())]);
        let mut framed = (data.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&data);
        let at = split.min(framed.len());
        let _ = dns_support::run(Proto::Tcp, 53, dns_support::all_sections(),
            &[(true, framed[..at].to_vec()), (true, framed[at..].to_vec())]);
    }

    #[test]
    fn modbus_units_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300), is_orig in any::<bool>()) {
        let lim = modbus::Limits::default();
        let mut cur = Cursor::new(&data);
        let mut cx = ParseCx::new(is_orig, 502);
        let _ = modbus::Pdu::parse(&mut cur, &mut cx, &lim);
        prop_assert!(cur.pos() <= data.len());
        check!(modbus::ReadFileRecordResponse, &lim, &data);
        check!(modbus::FileRecordWrite, &lim, &data);
        check!(modbus::ReadFifoQueueResponse, &lim, &data);
        let _ = modbus::Pdu::frame_len(&data);
    }

    #[test]
    fn arp_units_never_panic(data in proptest::collection::vec(any::<u8>(), 0..120)) {
        let lim = arp::Limits::default();
        check!(arp::ArpPacket, &lim, &data);
        check!(arp::ArpHeader, &lim, &data);
    }

    #[test]
    fn http_units_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        let lim = http::Limits::default();
        check!(http::RequestLine, &lim, &data);
        check!(http::StatusLine, &lim, &data);
        check!(http::Header, &lim, &data);
    }

    #[test]
    fn finger_units_and_analyzer_never_panic(data in proptest::collection::vec(any::<u8>(), 0..3000), split in 0usize..3000) {
        use netpac_runtime::analyzer::{Analyzer, AnalyzerCx};
        use netpac_runtime::event::{Events, Recorded, RecordingSink};
        use netpac_runtime::zeek::Time;
        let lim = netpac_analyzers::finger::Limits::default();
        check!(netpac_analyzers::finger::Request, &lim, &data);
        check!(netpac_analyzers::finger::Reply, &lim, &data);
        // The whole analyzer over lines: buffered bytes stay within the line limit.
        let at = split.min(data.len());
        let conn = netpac_runtime::analyzer::TestConn::new(Proto::Tcp, 79, "CFinger");
        let mut events = Events::new();
        events.subscribe(Box::new(RecordingSink { into: Recorded::default(), filter: None }));
        let mut weirds = Vec::new();
        let mut a = netpac_analyzers::finger::FINGERAnalyzer::new(0, lim);
        let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, "FINGER");
        for (is_orig, d) in [(true, &data[..at]), (false, &data[at..]), (true, &data[at..])] {
            a.deliver(&mut cx, is_orig, d);
        }
        a.end_of_data(&mut cx, true);
        a.end_of_data(&mut cx, false);
        prop_assert!(cx.verdict == netpac_runtime::analyzer::Verdict::Undecided);
    }

    #[test]
    fn ftp_units_and_analyzer_never_panic(
        data in proptest::collection::vec(prop_oneof![Just(b'2'), Just(b'-'), Just(b' '), Just(b'\n'), any::<u8>()], 0..3000),
        split in 0usize..3000,
        pending in prop_oneof![Just(0u64), Just(220u64), any::<u64>()],
    ) {
        use netpac_runtime::analyzer::{Analyzer, AnalyzerCx};
        use netpac_runtime::event::{Events, Recorded, RecordingSink};
        use netpac_runtime::zeek::Time;
        let lim = netpac_analyzers::ftp::Limits::default();
        check!(netpac_analyzers::ftp::Request<'_>, &lim, &data, pending, pending);
        check!(netpac_analyzers::ftp::Reply<'_>, &lim, &data, pending, pending);
        // The whole analyzer over lines, with multi-line reply state carried across them.
        let at = split.min(data.len());
        let conn = netpac_runtime::analyzer::TestConn::new(Proto::Tcp, 21, "CFtp");
        let mut events = Events::new();
        events.subscribe(Box::new(RecordingSink { into: Recorded::default(), filter: None }));
        let mut weirds = Vec::new();
        let mut a = netpac_analyzers::ftp::FTPAnalyzer::new(0, lim);
        let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, "FTP");
        for (is_orig, d) in [(false, &data[..at]), (true, &data[at..]), (false, &data[at..])] {
            a.deliver(&mut cx, is_orig, d);
        }
        a.end_of_data(&mut cx, true);
        a.end_of_data(&mut cx, false);
        // A reply in progress is one of the codes a reply line can open (3 digits).
        prop_assert!(a.state.pending == 0 || (100..1000).contains(&a.state.pending));
    }

    #[test]
    fn smtp_units_and_analyzer_never_panic(
        data in proptest::collection::vec(prop_oneof![
            Just(b'\n'), Just(b'.'), Just(b'-'), Just(b' '), Just(b'2'), any::<u8>()
        ], 0..3000),
        split in 0usize..3000,
        script in 0usize..4,
    ) {
        use netpac_runtime::analyzer::{Analyzer, AnalyzerCx};
        use netpac_runtime::event::{Events, Recorded, RecordingSink};
        use netpac_runtime::zeek::Time;
        let lim = netpac_analyzers::smtp::Limits::default();
        check!(netpac_analyzers::smtp::Command<'_>, &lim, &data);
        check!(netpac_analyzers::smtp::Reply<'_>, &lim, &data, 0);
        check!(netpac_analyzers::smtp::Reply<'_>, &lim, &data, 250);
        for mode in 0..4 {
            check!(netpac_analyzers::smtp::ClientLine<'_>, &lim, &data, mode);
        }
        // The analyzer, after a prefix that puts it into DATA, BDAT, AUTH or nothing.
        let prefix: &[u8] = [
            &b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"[..],
            b"BDAT 100\r\n",
            b"AUTH LOGIN\r\n",
            b"",
        ][script];
        let at = split.min(data.len());
        let conn = netpac_runtime::analyzer::TestConn::new(Proto::Tcp, 25, "CSmtp");
        let mut events = Events::new();
        events.subscribe(Box::new(RecordingSink { into: Recorded::default(), filter: None }));
        let mut weirds = Vec::new();
        let mut a = netpac_analyzers::smtp::SmtpAnalyzer::new(lim);
        let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, "SMTP");
        a.deliver(&mut cx, true, prefix);
        a.deliver(&mut cx, false, b"334 go\r\n");
        for (is_orig, d) in [(true, &data[..at]), (false, &data[at..]), (true, &data[at..])] {
            a.deliver(&mut cx, is_orig, d);
        }
        a.undelivered(&mut cx, true, 10);
        a.end_of_data(&mut cx, true);
        a.end_of_data(&mut cx, false);
        a.done(&mut cx);
        prop_assert!(a.pending_commands() <= 1001);
        prop_assert_eq!(a.mime_depth(), 0);
    }

    #[test]
    fn irc_units_and_analyzer_never_panic(
        data in proptest::collection::vec(prop_oneof![Just(b':'), Just(b' '), Just(b'\n'), Just(b'3'), Just(b','), Just(1u8), any::<u8>()], 0..3000),
        split in 0usize..3000,
        invalid in prop_oneof![Just(0u64), Just(20u64), any::<u64>()],
    ) {
        use netpac_runtime::analyzer::{Analyzer, AnalyzerCx};
        use netpac_runtime::event::{Events, Recorded, RecordingSink};
        use netpac_runtime::zeek::Time;
        let lim = netpac_analyzers::irc::Limits::default();
        check!(netpac_analyzers::irc::Line<'_>, &lim, &data, invalid);
        // The whole analyzer with every event subscribed (the bindings' word cuts run).
        let at = split.min(data.len());
        let conn = netpac_runtime::analyzer::TestConn::new(Proto::Tcp, 6667, "CIrc");
        let mut events = Events::new();
        events.subscribe(Box::new(RecordingSink { into: Recorded::default(), filter: None }));
        let mut weirds = Vec::new();
        let mut a = netpac_analyzers::irc::IRCAnalyzer::new(0, lim);
        let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, "IRC");
        for (is_orig, d) in [(true, &data[..at]), (false, &data[at..]), (true, &data[at..])] {
            a.deliver(&mut cx, is_orig, d);
        }
        a.end_of_data(&mut cx, true);
        a.end_of_data(&mut cx, false);
        prop_assert!(a.state.stopped.is_none_or(|tag| tag == "SSL"));
    }

    #[test]
    fn pop3_analyzer_never_panics(
        data in proptest::collection::vec(prop_oneof![Just(b'+'), Just(b'.'), Just(b' '), Just(b'\n'), Just(b'O'), Just(b'K'), any::<u8>()], 0..3000),
        split in 0usize..3000,
    ) {
        use netpac_runtime::analyzer::{Analyzer, AnalyzerCx};
        use netpac_runtime::event::{Events, Recorded, RecordingSink};
        use netpac_runtime::zeek::Time;
        let at = split.min(data.len());
        let conn = netpac_runtime::analyzer::TestConn::new(Proto::Tcp, 110, "CPop3");
        let mut events = Events::new();
        events.subscribe(Box::new(RecordingSink { into: Recorded::default(), filter: None }));
        let mut weirds = Vec::new();
        let mut a = netpac_analyzers::pop3::Pop3Analyzer::new(netpac_analyzers::pop3::Limits::default());
        let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, "POP3");
        for (is_orig, d) in [(false, &data[..at]), (true, &data[at..]), (false, &data[at..]), (true, &data[..at])] {
            a.deliver(&mut cx, is_orig, d);
        }
        a.end_of_data(&mut cx, true);
        a.end_of_data(&mut cx, false);
    }

    #[test]
    fn ssl_analyzer_never_panics(
        // TLS-looking records: a handshake type and version most of the time.
        data in proptest::collection::vec(prop_oneof![Just(0x16u8), Just(0x03), Just(0x01), Just(0x00), Just(0x14), Just(0x17), any::<u8>()], 0..3000),
        split in 0usize..3000,
    ) {
        use netpac_runtime::analyzer::{Analyzer, AnalyzerCx};
        use netpac_runtime::event::{Events, Recorded, RecordingSink};
        use netpac_runtime::zeek::Time;
        let at = split.min(data.len());
        let conn = netpac_runtime::analyzer::TestConn::new(Proto::Tcp, 443, "CSsl");
        let mut events = Events::new();
        events.subscribe(Box::new(RecordingSink { into: Recorded::default(), filter: None }));
        let mut weirds = Vec::new();
        let mut a = netpac_analyzers::ssl::SSLAnalyzer::new(0, netpac_analyzers::ssl::Limits::default());
        let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, "SSL");
        for (is_orig, d) in [(true, &data[..at]), (false, &data[at..]), (true, &data[at..]), (false, &data[..at])] {
            a.deliver(&mut cx, is_orig, d);
        }
    }

    #[test]
    fn dtls_analyzer_never_panics(
        // DTLS-looking datagrams: handshake records of DTLS 1.2 with small fragment fields.
        data in proptest::collection::vec(prop_oneof![Just(0x16u8), Just(0xfe), Just(0xfd), Just(0x00), Just(0x01), Just(0x14), any::<u8>()], 0..3000),
        cuts in proptest::collection::vec(0usize..3000, 0..8),
    ) {
        use netpac_runtime::analyzer::{Analyzer, AnalyzerCx};
        use netpac_runtime::event::{Events, Recorded, RecordingSink};
        use netpac_runtime::zeek::Time;
        let conn = netpac_runtime::analyzer::TestConn::new(Proto::Udp, 443, "CDtls");
        let mut events = Events::new();
        events.subscribe(Box::new(RecordingSink { into: Recorded::default(), filter: None }));
        let mut weirds = Vec::new();
        let mut a = netpac_analyzers::ssl::DTLSAnalyzer::new(0, netpac_analyzers::ssl::Limits::default());
        let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, "DTLS");
        let mut at = 0;
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(data.len())).collect();
        cuts.sort_unstable();
        cuts.push(data.len());
        for (i, c) in cuts.into_iter().enumerate() {
            a.deliver(&mut cx, i % 2 == 0, &data[at..c]);
            at = c;
        }
    }

    #[test]
    fn mysql_analyzer_never_panics(
        // MySQL-looking packets: small lengths, sequence ids, markers and command bytes.
        data in proptest::collection::vec(prop_oneof![Just(0u8), Just(1), Just(3), Just(10), Just(0xfe), Just(0xff), Just(0xfc), any::<u8>()], 0..3000),
        split in 0usize..3000,
    ) {
        use netpac_runtime::analyzer::{Analyzer, AnalyzerCx};
        use netpac_runtime::event::{Events, Recorded, RecordingSink};
        use netpac_runtime::zeek::Time;
        let at = split.min(data.len());
        let conn = netpac_runtime::analyzer::TestConn::new(Proto::Tcp, 3306, "CMysql");
        let mut events = Events::new();
        events.subscribe(Box::new(RecordingSink { into: Recorded::default(), filter: None }));
        let mut weirds = Vec::new();
        let mut a = netpac_analyzers::mysql::MYSQLAnalyzer::new(0, netpac_analyzers::mysql::Limits::default());
        let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, "MYSQL");
        for (is_orig, d) in [(false, &data[..at]), (true, &data[at..]), (false, &data[at..]), (true, &data[..at])] {
            a.deliver(&mut cx, is_orig, d);
        }
    }

    #[test]
    fn rfb_analyzer_never_panics(
        data in proptest::collection::vec(prop_oneof![Just(b'R'), Just(b'F'), Just(b'B'), Just(0u8), Just(1), Just(2), Just(7), any::<u8>()], 0..3000),
        split in 0usize..3000,
    ) {
        use netpac_runtime::analyzer::{Analyzer, AnalyzerCx};
        use netpac_runtime::event::{Events, Recorded, RecordingSink};
        use netpac_runtime::zeek::Time;
        let at = split.min(data.len());
        let conn = netpac_runtime::analyzer::TestConn::new(Proto::Tcp, 5900, "CRFB");
        let mut events = Events::new();
        events.subscribe(Box::new(RecordingSink { into: Recorded::default(), filter: None }));
        let mut weirds = Vec::new();
        let mut a = netpac_analyzers::rfb::RFBAnalyzer::new(0, netpac_analyzers::rfb::Limits::default());
        let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, "RFB");
        for (is_orig, d) in [(false, &data[..at]), (true, &data[at..]), (false, &data[at..]), (true, &data[..at])] {
            a.deliver(&mut cx, is_orig, d);
        }
    }

    /// The BitTorrent tracker: requests and responses framed by parsing, with deep and
    /// broken bencoding likely.
    #[test]
    fn bittorrent_tracker_analyzer_never_panics(
        words in proptest::collection::vec(prop_oneof![
            Just(b"GET /announce HTTP/1.1\r\n".to_vec()), Just(b"HTTP/1.1 200 OK\r\n".to_vec()),
            Just(b"Connection: keep-alive\r\n".to_vec()), Just(b"\r\n".to_vec()), Just(b"d".to_vec()),
            Just(b"l".to_vec()), Just(b"e".to_vec()), Just(b"i-12e".to_vec()), Just(b"5:peers".to_vec()),
            Just(b"6:abcdef".to_vec()), Just(b"99999999999999999999:".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..20)
        ], 0..80),
        split in 0usize..3000,
    ) {
        use netpac_analyzers::bittorrent_tracker::{BITTORRENTTRACKERAnalyzer, Limits};
        let data = words.concat();
        let at = split.min(data.len());
        let mut a = BITTORRENTTRACKERAnalyzer::new(0, Limits::default());
        drive_in_pieces(&mut a, "BITTORRENTTRACKER", 6969, &[(true, &data[..at]), (false, &data[at..]), (false, &data[..at])], 5);
    }

    /// Gnutella: text blocks framed by parsing, then messages kept to 1024 payload
    /// bytes, with what is left raised at the end; the handshake words are likely
    /// so that both phases are reached.
    #[test]
    fn gnutella_analyzer_never_panics(
        words in proptest::collection::vec(prop_oneof![
            Just(b"GNUTELLA/0.6 200 OK\r\n".to_vec()), Just(b"\r\n".to_vec()), Just(b"\r".to_vec()),
            Just(b"\n".to_vec()), Just(b" HTTP/1.".to_vec()), Just(vec![0u8; 23]),
            Just(vec![1, 2, 3, 0xff, 0xff, 0xff, 0x7f]), proptest::collection::vec(any::<u8>(), 0..40)
        ], 0..60),
        split in 0usize..3000,
    ) {
        use netpac_analyzers::gnutella::{GNUTELLAAnalyzer, Limits};
        let data = words.concat();
        let at = split.min(data.len());
        let mut limits = Limits::default();
        limits.set("max_line_length", 64);
        limits.set("max_header_length", 256);
        let mut a = GNUTELLAAnalyzer::new(0, limits);
        let pieces = [(true, &data[..at]), (false, &data[at..]), (true, &data[at..]), (false, &data[..at])];
        drive_in_pieces(&mut a, "GNUTELLA", 6346, &pieces, 7);
    }

    /// Telnet, Rlogin and Rsh: tokens, openings and lines cut anywhere, commands and
    /// subnegotiations of every kind, window-size changes, NULs, each line through the
    /// login dialog; the words that matter are likely.
    #[test]
    fn login_analyzers_never_panic(
        words in proptest::collection::vec(prop_oneof![
            Just(vec![0xff]), Just(vec![0xff, 0xfa]), Just(vec![0xff, 0xf0]), Just(vec![0xff, 0xfb, 38]),
            Just(vec![0xff, 0xfd, 0]), Just(vec![0xff, 0xfa, 39, 0, 0]), Just(vec![0xff, 0xfa, 37, 2, 2]),
            Just(b"\xff\xffss".to_vec()), Just(b"\r".to_vec()), Just(b"\n".to_vec()), Just(vec![0]),
            Just(vec![1, 2, 3]), Just(b"USER".to_vec()), proptest::collection::vec(any::<u8>(), 0..30)
        ], 0..60),
        split in 0usize..2000,
        which in 0usize..3,
    ) {
        let data = words.concat();
        let at = split.min(data.len());
        let pieces = [(true, &data[..at]), (false, &data[at..]), (true, &data[at..]), (false, &data[..at])];
        match which {
            0 => {
                use netpac_analyzers::telnet::{TELNETAnalyzer, Limits};
                drive_in_pieces(&mut TELNETAnalyzer::new(0, Limits::default()), "TELNET", 23, &pieces, 5);
            }
            1 => {
                use netpac_analyzers::rlogin::{RLOGINAnalyzer, Limits};
                drive_in_pieces(&mut RLOGINAnalyzer::new(0, Limits::default()), "RLOGIN", 513, &pieces, 5);
            }
            _ => {
                use netpac_analyzers::rsh::{RSHAnalyzer, Limits};
                drive_in_pieces(&mut RSHAnalyzer::new(0, Limits::default()), "RSH", 514, &pieces, 5);
            }
        }
    }

    #[test]
    fn rdp_analyzer_never_panics(
        data in proptest::collection::vec(prop_oneof![Just(3u8), Just(0), Just(0xe0), Just(0xd0), Just(0xf0), Just(0x7f), Just(0x65), any::<u8>()], 0..3000),
        split in 0usize..3000,
    ) {
        use netpac_runtime::analyzer::{Analyzer, AnalyzerCx};
        use netpac_runtime::event::{Events, Recorded, RecordingSink};
        use netpac_runtime::zeek::Time;
        let at = split.min(data.len());
        let conn = netpac_runtime::analyzer::TestConn::new(Proto::Tcp, 3389, "CRDP");
        let mut events = Events::new();
        events.subscribe(Box::new(RecordingSink { into: Recorded::default(), filter: None }));
        let mut weirds = Vec::new();
        let mut a = netpac_analyzers::rdp::RDPAnalyzer::new(0, netpac_analyzers::rdp::Limits::default());
        let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, "RDP");
        for (is_orig, d) in [(false, &data[..at]), (true, &data[at..]), (false, &data[at..]), (true, &data[..at])] {
            a.deliver(&mut cx, is_orig, d);
        }
    }

    #[test]
    fn socks_analyzer_never_panics(
        data in proptest::collection::vec(prop_oneof![Just(4u8), Just(5), Just(0), Just(1), Just(2), Just(3), Just(0x5a), any::<u8>()], 0..600),
        cuts in proptest::collection::vec(0usize..600, 0..10),
    ) {
        use netpac_runtime::analyzer::{Analyzer, AnalyzerCx};
        use netpac_runtime::event::{Events, Recorded, RecordingSink};
        use netpac_runtime::zeek::Time;
        let conn = netpac_runtime::analyzer::TestConn::new(Proto::Tcp, 1080, "CSocks");
        let mut events = Events::new();
        events.subscribe(Box::new(RecordingSink { into: Recorded::default(), filter: None }));
        let mut weirds = Vec::new();
        let mut a = netpac_analyzers::socks::SOCKSAnalyzer::new(0, netpac_analyzers::socks::Limits::default());
        let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, "SOCKS");
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(data.len())).collect();
        cuts.sort_unstable();
        cuts.push(data.len());
        let mut at = 0;
        for (i, c) in cuts.into_iter().enumerate() {
            a.deliver(&mut cx, i % 2 == 0, &data[at..c]);
            at = c;
        }
    }

    #[test]
    fn websocket_analyzer_never_panics(
        data in proptest::collection::vec(prop_oneof![Just(0x81u8), Just(0x82), Just(0x01), Just(0x80), Just(0x88), Just(0xfe), Just(0x7f), any::<u8>()], 0..3000),
        split in 0usize..3000,
    ) {
        use netpac_runtime::analyzer::{Analyzer, AnalyzerCx};
        use netpac_runtime::event::{Events, Recorded, RecordingSink};
        use netpac_runtime::zeek::Time;
        let at = split.min(data.len());
        let conn = netpac_runtime::analyzer::TestConn::new(Proto::Tcp, 8888, "CWs");
        let mut events = Events::new();
        events.subscribe(Box::new(RecordingSink { into: Recorded::default(), filter: None }));
        let mut weirds = Vec::new();
        let mut a = netpac_analyzers::websocket::WEBSOCKETAnalyzer::new(0, netpac_analyzers::websocket::Limits::default());
        let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, "WEBSOCKET");
        for (is_orig, d) in [(true, &data[..at]), (false, &data[at..]), (true, &data[at..]), (false, &data[..at])] {
            a.deliver(&mut cx, is_orig, d);
        }
    }

    #[test]
    fn ssh_analyzer_never_panics(
        data in proptest::collection::vec(prop_oneof![Just(b'S'), Just(b'\n'), Just(0u8), Just(21u8), Just(20u8), any::<u8>()], 0..3000),
        split in 0usize..3000,
    ) {
        use netpac_runtime::analyzer::{Analyzer, AnalyzerCx};
        use netpac_runtime::event::{Events, Recorded, RecordingSink};
        use netpac_runtime::zeek::Time;
        let at = split.min(data.len());
        let conn = netpac_runtime::analyzer::TestConn::new(Proto::Tcp, 22, "CSsh");
        let mut events = Events::new();
        events.subscribe(Box::new(RecordingSink { into: Recorded::default(), filter: None }));
        let mut weirds = Vec::new();
        let mut a = netpac_analyzers::ssh::SSHAnalyzer::new(0, netpac_analyzers::ssh::Limits::default());
        let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, "SSH");
        a.deliver(&mut cx, true, b"SSH-2.0-client\r\n");
        a.deliver(&mut cx, false, b"SSH-2.0-server\r\n");
        for (is_orig, d) in [(true, &data[..at]), (false, &data[at..]), (true, &data[at..]), (false, &data[..at])] {
            a.deliver(&mut cx, is_orig, d);
        }
        a.end_of_data(&mut cx, true);
        a.end_of_data(&mut cx, false);
    }

    #[test]
    fn http_analyzer_never_panics(data in httpish(), split in 0usize..400, reply in httpish()) {
        let at = split.min(data.len());
        http_support::run(&[(true, &data[..at]), (true, &data[at..]), (false, &reply)]);
    }

    #[test]
    fn shape_units_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        let lim = shapes::Limits::default();
        check!(shapes::LengthPrefixed, &lim, &data);
        check!(shapes::Line, &lim, &data);
        check!(shapes::Records, &lim, &data);
        check!(shapes::Tagged, &lim, &data);
        check!(shapes::PointerMessage, &lim, &data);
    }

    #[test]
    fn sip_analyzer_never_panics(
        // SIP-like lines, cut into datagrams at arbitrary points.
        pieces in proptest::collection::vec(
            proptest::collection::vec(prop_oneof![
                Just(b"INVITE sip:a@b SIP/2.0\r\n".to_vec()),
                Just(b"SIP/2.0 200 OK\r\n".to_vec()),
                Just(b"Content-Length: 5\r\n".to_vec()),
                Just(b"L: -3\r\n".to_vec()),
                Just(b"Via: x;branch=1\r\n".to_vec()),
                Just(b"\r\n".to_vec()),
                Just(b"\r".to_vec()),
                proptest::collection::vec(any::<u8>(), 0..20),
            ], 0..12),
            0..8),
        dirs in proptest::collection::vec(any::<bool>(), 8),
    ) {
        use netpac_runtime::analyzer::{Analyzer, AnalyzerCx};
        use netpac_runtime::event::{Events, Recorded, RecordingSink};
        use netpac_runtime::zeek::Time;
        use netpac_analyzers::sip;
        let mut events = Events::new();
        events.subscribe(Box::new(RecordingSink { into: Recorded::default(), filter: None }));
        let mut weirds = Vec::new();
        let conn = netpac_runtime::analyzer::TestConn::new(Proto::Udp, 5060, "CSip");
        let mut a = sip::SipAnalyzer::new(sip::Limits::default());
        for (i, p) in pieces.iter().enumerate() {
            let datagram = p.concat();
            let lim = sip::Limits::default();
            check!(sip::RequestLine, &lim, &datagram);
            check!(sip::ReplyLine, &lim, &datagram);
            check!(sip::Header, &lim, &datagram);
            let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, "SIP");
            a.deliver(&mut cx, dirs[i % dirs.len()], &datagram);
        }
    }

    #[test]
    fn udp_service_analyzers_never_panic(
        // A DHCP header's worth of noise then option-like bytes, so options get parsed.
        data in proptest::collection::vec(prop_oneof![Just(0x63u8), Just(0x82), Just(0x53), Just(0xff), Just(0), any::<u8>()], 0..600),
        is_orig in any::<bool>(),
    ) {
        use netpac_runtime::analyzer::{Analyzer, AnalyzerCx};
        use netpac_runtime::event::{Events, Recorded, RecordingSink};
        use netpac_runtime::zeek::Time;
        use netpac_analyzers::{dhcp, ntp, radius, snmp, syslog};
        check!(dhcp::Message, &dhcp::Limits::default(), &data);
        check!(snmp::Message, &snmp::Limits::default(), &data);
        check!(netpac_analyzers::asn1::Tlv, &netpac_analyzers::asn1::Limits::default(), &data);
        check!(netpac_analyzers::krb::Pdu, &netpac_analyzers::krb::Limits::default(), &data);
        check!(ntp::Message, &ntp::Limits::default(), &data);
        check!(radius::Pdu, &radius::Limits::default(), &data);
        check!(syslog::Message, &syslog::Limits::default(), &data);
        // With a real DHCP cookie at its place, the options are read.
        let mut dhcp_data = vec![0u8; 236];
        dhcp_data.extend_from_slice(&[0x63, 0x82, 0x53, 0x63]);
        dhcp_data.extend_from_slice(&data);
        // Behind a plausible v2c header, so the PDU and its bindings get parsed.
        let mut snmp_data = vec![0x30, 0x82, 0x02, 0x00, 0x02, 0x01, 0x01, 0x04, 0x01, b'p'];
        snmp_data.extend_from_slice(&data);
        let mut events = Events::new();
        events.subscribe(Box::new(RecordingSink { into: Recorded::default(), filter: None }));
        let mut weirds = Vec::new();
        let conn = netpac_runtime::analyzer::TestConn::new(Proto::Udp, 67, "CUdp");
        let mut analyzers: Vec<(Box<dyn Analyzer>, &'static str, &[u8])> = vec![
            (Box::new(dhcp::DHCPAnalyzer::new(0, dhcp::Limits::default())), "DHCP", &dhcp_data),
            (Box::new(ntp::NTPAnalyzer::new(0, ntp::Limits::default())), "NTP", &data),
            (Box::new(radius::RADIUSAnalyzer::new(0, radius::Limits::default())), "RADIUS", &data),
            (Box::new(syslog::SYSLOGAnalyzer::new(0, syslog::Limits::default())), "SYSLOG", &data),
            (Box::new(snmp::SNMPAnalyzer::new(0, snmp::Limits::default())), "SNMP", &snmp_data),
        ];
        for (a, tag, d) in analyzers.iter_mut() {
            let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, tag);
            a.deliver(&mut cx, is_orig, d);
        }
    }

    #[test]
    fn ident_imap_and_xmpp_analyzers_never_panic(
        data in proptest::collection::vec(prop_oneof![Just(b'<'), Just(b'>'), Just(b':'), Just(b','), Just(b' '), Just(b'\n'), Just(b'*'), Just(b'/'), any::<u8>()], 0..3000),
        split in 0usize..3000,
    ) {
        use netpac_analyzers::{ident, imap, xmpp};
        use netpac_runtime::analyzer::{Analyzer, AnalyzerCx};
        use netpac_runtime::event::{Events, Recorded, RecordingSink};
        use netpac_runtime::zeek::Time;
        let at = split.min(data.len());
        let conn = netpac_runtime::analyzer::TestConn::new(Proto::Tcp, 143, "CText");
        let analyzers: Vec<(&'static str, Box<dyn Analyzer>)> = vec![
            ("IDENT", Box::new(ident::IDENTAnalyzer::new(0, ident::Limits::default()))),
            ("IMAP", Box::new(imap::IMAPAnalyzer::new(0, imap::Limits::default()))),
            ("XMPP", Box::new(xmpp::XMPPAnalyzer::new(0, xmpp::Limits::default()))),
        ];
        for (tag, mut a) in analyzers {
            let mut events = Events::new();
            events.subscribe(Box::new(RecordingSink { into: Recorded::default(), filter: None }));
            let mut weirds = Vec::new();
            let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, tag);
            for (is_orig, d) in [(true, &data[..at]), (false, &data[at..]), (true, &data[at..]), (false, &data[..at])] {
                a.deliver(&mut cx, is_orig, d);
            }
            a.end_of_data(&mut cx, true);
            a.end_of_data(&mut cx, false);
        }
    }

    #[test]
    fn tunnel_analyzers_never_panic(
        // A Teredo, GTPv1 or AYIYA header start, then noise (which may be an IP packet's).
        tunnel in 0usize..3,
        head in prop_oneof![
            Just(vec![0u8, 1, 3, 4]),
            Just(vec![0u8, 0, 0x12, 0x34, 1, 2, 3, 4]),
            Just(vec![0x60u8, 0, 0, 0, 0, 0, 59, 64]),
            Just(vec![0x30u8, 0xff, 0, 20, 0, 0, 0, 1]),
            Just(vec![0x34u8, 0xff, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0x85, 1, 0x10]),
            Just(vec![0x32u8, 16, 0, 20, 0, 0, 0, 1, 0, 1, 0, 0, 2, 0x21, 0x43]),
            Just(vec![0x11u8, 0x52, 0x11, 41, 0, 0, 0, 0]),
            Just(vec![0x45u8, 0, 0, 28]),
        ],
        body in proptest::collection::vec(any::<u8>(), 0..200),
        is_orig in any::<bool>(),
    ) {
        use netpac_runtime::analyzer::{AnalyzerCx, TestConn};
        use netpac_runtime::event::{Events, Recorded, RecordingSink};
        use netpac_runtime::udp_tunnels::Decapsulator;
        use netpac_runtime::zeek::Time;
        let registry = netpac_analyzers::registry();
        let grammar: Vec<_> = registry.tunnels.iter().filter_map(|t| match t.decapsulate {
            Decapsulator::Grammar(g) => Some((t, g)),
            Decapsulator::Header(_) => None,
        }).collect();
        prop_assert_eq!(grammar.len(), 3);
        let (spec, g) = grammar[tunnel];
        let payload = [&head[..], &body[..]].concat();
        if let Some(detect) = spec.detect {
            let _ = detect(&payload);
        }
        let conn = TestConn::new(Proto::Udp, spec.ports[0], "Ctunnel");
        let mut events = Events::new();
        events.subscribe(Box::new(RecordingSink { into: Recorded::default(), filter: None }));
        let mut weirds = Vec::new();
        let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, spec.tag);
        if let Some(inner) = (g.run)(&mut cx, is_orig, &payload) {
            prop_assert!(inner.offset + inner.len <= payload.len());
        }
        let _ = netpac_runtime::pkt_hdr::PktHdr::from_ip(&payload[4.min(payload.len())..]);
    }
}

/// Feeds `pieces` (direction, bytes) to `a`, each cut into deliveries of `size`
/// bytes, with every event subscribed, then ends the connection.
fn drive_in_pieces(a: &mut dyn netpac_runtime::analyzer::Analyzer, tag: &'static str, port: u16, pieces: &[(bool, &[u8])], size: usize) {
    use netpac_runtime::analyzer::AnalyzerCx;
    use netpac_runtime::event::{Events, Recorded, RecordingSink};
    use netpac_runtime::zeek::Time;
    let conn = netpac_runtime::analyzer::TestConn::new(Proto::Tcp, port, "CPIECES");
    let mut events = Events::new();
    events.subscribe(Box::new(RecordingSink { into: Recorded::default(), filter: None }));
    let mut weirds = Vec::new();
    let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, tag);
    for (is_orig, d) in pieces {
        for piece in d.chunks(size) {
            a.deliver(&mut cx, *is_orig, piece);
        }
    }
    a.end_of_data(&mut cx, true);
    a.end_of_data(&mut cx, false);
    a.done(&mut cx);
}
