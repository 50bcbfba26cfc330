//! Evasive HTTP: the anomalies Zeek's HTTP analyzer, its MIME base and its
//! http scripts report (weird.log), and the body lengths (http.log) when the
//! framing headers disagree. Every session here was run through Zeek 8.2.2
//! (`NETPAC_TEST_PCAPS=DIR cargo test --test http_evasion`, then
//! `zeek -C -r DIR/<test>.pcap`); the snapshots hold the rows both write.

mod common;

use common::*;

/// A whole TCP connection: handshake, the segments in order (`true`: from the
/// client), FINs.
fn exchange(t: f64, client: Host, server: Host, segments: &[(bool, &[u8])]) -> Vec<Frame> {
    let (mut c, mut s) = (1000u32, 5000u32);
    let mut frames = vec![
        tcp(t, client, server, "S", c, 0, b""),
        tcp(t + 0.01, server, client, "SA", s, c + 1, b""),
        tcp(t + 0.02, client, server, "A", c + 1, s + 1, b""),
    ];
    c += 1;
    s += 1;
    let mut at = t + 0.03;
    for (from_client, data) in segments {
        if *from_client {
            frames.push(tcp(at, client, server, "PA", c, s, data));
            c += data.len() as u32;
        } else {
            frames.push(tcp(at, server, client, "PA", s, c, data));
            s += data.len() as u32;
        }
        at += 0.01;
    }
    frames.push(tcp(at, client, server, "FA", c, s, b""));
    frames.push(tcp(at + 0.01, server, client, "FA", s, c + 1, b""));
    frames.push(tcp(at + 0.02, client, server, "A", c + 1, s + 1, b""));
    frames
}

/// The client's segments, then the server's.
fn session(
    t: f64,
    client: Host,
    server: Host,
    requests: &[&[u8]],
    replies: &[&[u8]],
) -> Vec<Frame> {
    let segments: Vec<(bool, &[u8])> = requests
        .iter()
        .map(|r| (true, *r))
        .chain(replies.iter().map(|r| (false, *r)))
        .collect();
    exchange(t, client, server, &segments)
}

/// weird.log and http.log rows (`#fields` included) of one run.
fn logs(frames: &[Frame]) -> String {
    let mut h = Harness::with_sinks(
        Config::default(),
        netpac_analyzers::registry(),
        Some(vec![]),
        vec![netpac_analyzers::http::log::HttpLogger::sink(Default::default())],
    );
    h.play(frames);
    let out = h.finish();
    let http = out.logs.get("http.log").cloned().unwrap_or_default();
    format!("{}\n{}", out.weird_log, http)
}

/// One connection's client segments and server segments.
type Case<'a> = (Vec<&'a [u8]>, Vec<&'a [u8]>);
/// The same, borrowed.
type CaseRef<'a> = (&'a [&'a [u8]], &'a [&'a [u8]]);

/// Each case on a connection of its own (client ports 40000 up).
fn cases(list: &[CaseRef<'_>]) -> Vec<Frame> {
    let server = Host::v4("10.0.0.80", 80);
    let mut frames = Vec::new();
    for (i, (req, rep)) in list.iter().enumerate() {
        let client = Host::v4("10.0.0.1", 40000 + i as u16);
        frames.extend(session(1.0 + i as f64, client, server, req, rep));
    }
    frames
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

fn post(content_length: &str, body: &str) -> Vec<u8> {
    format!("POST /z HTTP/1.1\r\nContent-Length: {content_length}\r\n\r\n{body}").into_bytes()
}

#[test]
fn content_length_as_zeek_reads_it() {
    // The first MIME token's leading digits: leading zeros are a weird of their own,
    // trailing junk is ignored, a sign makes it bad (the body is then none).
    let list = [
        post("0005", "hello"),
        post("00", ""),
        post("12abc", ""),
        post("-5", ""),
        post("+5", ""),
        post(" 5 , 5", "hello"),
        post("\"5\"", "hello"),
        post("0000000000000000000000000005", "hello"),
    ];
    let list: Vec<Case> = list
        .iter()
        .map(|r| (vec![r.as_slice()], vec![OK]))
        .collect();
    insta::assert_snapshot!(logs(&cases(&borrow(&list))));
}

/// `cases` wants slices of slices; this lends them from owned lists.
fn borrow<'a>(list: &'a [Case<'a>]) -> Vec<CaseRef<'a>> {
    list.iter()
        .map(|(a, b)| (a.as_slice(), b.as_slice()))
        .collect()
}

#[test]
fn transfer_encoding_against_content_length() {
    // Request smuggling: Content-Length says 65, the chunked body holds 57. Zeek reads
    // the chunks (HTTP/1.1 only) whenever the first MIME token of Transfer-Encoding is
    // `chunked`, in either header order, quoted, folded or with parameters.
    let body = "39\r\n012345678901234567890123456789012345678901234567890123456\r\n0\r\n\r\n";
    let mk = |te: &str, version: &str| -> Vec<u8> {
        format!("POST /s HTTP/{version}\r\nHost: x\r\nContent-Length: 65\r\n{te}\r\n\r\n{body}")
            .into_bytes()
    };
    let variants = [
        mk("Transfer-Encoding: chunked", "1.0"),
        mk("Transfer-Encoding : chunked", "1.1"),
        mk("Transfer-Encoding: Chunked", "1.1"),
        mk("Transfer-Encoding:\tchunked", "1.1"),
        mk("Transfer-Encoding: chunked, identity", "1.1"),
        mk("Transfer-Encoding: identity, chunked", "1.1"),
        mk("Transfer-Encoding: xchunked", "1.1"),
        mk(
            "Transfer-Encoding: identity\r\nTransfer-Encoding: chunked",
            "1.1",
        ),
        mk("Transfer-Encoding: \"chunked\"", "1.1"),
        mk("Transfer-Encoding:\r\n chunked", "1.1"),
        mk("Transfer-Encoding: chunked;q=1", "1.1"),
        mk("Transfer-encoding: chunked\r\nContent-Length: 10", "1.1"),
    ];
    let mut list: Vec<Case> = variants
        .iter()
        .map(|r| (vec![r.as_slice()], vec![OK]))
        .collect();
    // Cut after the last header line, before the empty line.
    let whole = &variants[2];
    let cut = whole.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 2;
    list.push((vec![&whole[..cut], &whole[cut..]], vec![OK]));
    insta::assert_snapshot!(logs(&cases(&borrow(&list))));
}

#[test]
fn lines_ended_by_a_bare_cr() {
    // Zeek's ContentLine ends a line at a CR alone too (weird once per connection); a
    // CR ending one segment and an LF starting the next are one CRLF.
    let list: Vec<Case> = vec![
        (
            vec![b"GET /cr HTTP/1.1\rHost: x\r\r"],
            vec![b"HTTP/1.1 200 OK\rContent-Length: 2\r\rok"],
        ),
        (
            vec![b"GET /split HTTP/1.1\r", b"\nHost: x\r\n\r", b"\n"],
            vec![b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r", b"\nok"],
        ),
        (
            vec![b"GET /split-bare HTTP/1.1\r", b"Host: x\r\n\r\n"],
            vec![OK],
        ),
        (
            vec![b"GET /lf HTTP/1.1\nHost: x\n\n"],
            vec![b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok"],
        ),
    ];
    insta::assert_snapshot!(logs(&cases(&borrow(&list))));
}

#[test]
fn unknown_methods_and_bad_requests() {
    // Methods outside HTTP::http_methods are reported by Zeek's script; a request
    // line that does not parse is bad_HTTP_request (and a violation).
    let list: Vec<Case> = vec![
        (vec![b"FOO /m HTTP/1.1\r\nHost: x\r\n\r\n"], vec![OK]),
        (vec![b"get /m HTTP/1.1\r\nHost: x\r\n\r\n"], vec![OK]),
        (vec![b"SEARCH /m HTTP/1.1\r\nHost: x\r\n\r\n"], vec![OK]),
        (vec![b"G@T /m HTTP/1.1\r\nHost: x\r\n\r\n"], vec![OK]),
        (vec![b"\x01\x02 garbage\r\n\r\n"], vec![OK]),
    ];
    insta::assert_snapshot!(logs(&cases(&borrow(&list))));
}

#[test]
fn headers_after_their_transaction_was_logged() {
    // The request's last header line has no line end: it is parsed at the client's FIN,
    // after the reply was logged, into a record no entity began on (missing_HTTP_entity).
    // A reply before any request is HTTP_response_before_request once the request comes.
    let server = Host::v4("10.0.0.80", 80);
    let mut frames = session(
        1.0,
        Host::v4("10.0.0.1", 40000),
        server,
        &[b"GET /h HTTP/1.1\r\nHost: x"],
        &[OK],
    );
    frames.extend(exchange(
        2.0,
        Host::v4("10.0.0.1", 40001),
        server,
        &[
            (false, OK),
            (true, b"GET /late HTTP/1.1\r\nHost: x\r\n\r\n"),
            (false, OK),
        ],
    ));
    insta::assert_snapshot!(logs(&frames));
}

#[test]
fn excessive_pipelining_logs_the_oldest_requests() {
    // More than HTTP::max_pending_requests (100) unanswered: Zeek's script logs them early.
    let requests: Vec<u8> = (0..105)
        .flat_map(|i| format!("GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes())
        .collect();
    let out = logs(&cases(&[(&[&requests], &[OK, OK])]));
    let (weird, http) = out.split_once("\n\n").unwrap_or((&out, ""));
    insta::assert_snapshot!(weird);
    // Every request has its row: 105 and the header line.
    assert_eq!(http.lines().count(), 106);
}

#[test]
fn multipart_bodies_end_at_their_close_delimiter() {
    // Whatever the framing headers say: a Content-Length past the end, chunked
    // (ignored with a weird), none. A Transfer-Encoding inside a part is a weird.
    let list: Vec<Case> = vec![
        (
            vec![b"POST /mp HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=AB\r\nContent-Length: 70\r\n\r\n--AB\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n--AB--\r\n"],
            vec![OK],
        ),
        (
            vec![b"POST /mp HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=AB\r\nTransfer-Encoding: chunked\r\n\r\n--AB\r\n\r\nxyz\r\n--AB--\r\n"],
            vec![OK],
        ),
        (
            vec![b"POST /mp HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=AB\r\n\r\n--AB\r\n\r\nxyz\r\n--AB--\r\n"],
            vec![OK],
        ),
        (
            vec![b"POST /mp HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=AB\r\nContent-Length: 40\r\n\r\n--AB\r\nContent-Length: 3\r\n\r\nxyz\r\n--AB--\r\n"],
            vec![OK],
        ),
    ];
    insta::assert_snapshot!(logs(&cases(&borrow(&list))));
}

#[test]
fn http_09_request_after_a_versioned_one() {
    // "T / HTTP" has no version: Zeek sets 0.9 (HTTP_version_mismatch after 1.0) before it
    // rejects an HTTP/0.9 request without a GET-like method; on a connection that is not
    // keep-alive the line is trailing crud, not a violation.
    let list: Vec<Case> = vec![(
        vec![b"GET / HTTP/1.0\r\nHost: x\r\n\r\n", b"T / HTTP\r\n\r\n"],
        vec![b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"],
    )];
    insta::assert_snapshot!(logs(&cases(&borrow(&list))));
}

#[test]
fn http_is_found_on_any_port_by_either_side() {
    // Zeek's two DPD signatures match independently: a method the client signature does
    // not list answered by a status line, a lower-case status line, a request unanswered.
    let client = Host::v4("10.0.0.1", 41000);
    let mut frames = session(
        1.0,
        client,
        Host::v4("10.0.0.80", 4711),
        &[b"QUERY /users HTTP/1.1\r\nHost: example.com\r\n\r\n"],
        &[OK],
    );
    frames.extend(session(
        2.0,
        client.port(41001),
        Host::v4("10.0.0.80", 1234),
        &[b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"],
        &[b"http/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"],
    ));
    frames.extend(session(
        3.0,
        client.port(41002),
        Host::v4("10.0.0.80", 4712),
        &[b"GET /alone HTTP/1.1\r\nHost: x\r\n\r\n"],
        &[],
    ));
    insta::assert_snapshot!(logs(&frames));
}

#[test]
fn multipart_parts_that_switch_to_plain_delivery() {
    // A part's Content-Length, or a content coding or `Connection: close` without
    // one, turns Zeek's line framing off for the body: what follows arrives as
    // the segments bring it. A segment that then reaches a part still in its
    // headers is `http_no_crlf_in_header_list`; one starting with the delimiter
    // is a boundary, whatever follows it in the segment.
    let close = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n";
    let plain = b"HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n";
    let part = |body: &str| format!("--B\r\nContent-Type: text/plain\r\n\r\n{body}\r\n").into_bytes();
    let (hello, world) = (part("hello"), part("world"));
    let sized = |len: usize, body: &str| {
        format!("--B\r\nContent-Length: {len}\r\n\r\n{body}\r\n--B\r\nContent-Type: text/plain\r\n\r\nworld\r\n--B--\r\n")
            .into_bytes()
    };
    let (exact, long, empty, short) = (sized(5, "hello"), sized(50, "hello"), sized(0, "hello"), sized(2, "hello"));
    let gzip_part = b"--B\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\n\r\nhello\r\n";
    let get: &[u8] = b"GET /m HTTP/1.1\r\nHost: x\r\n\r\n";
    let end: &[u8] = b"--B--\r\n";
    let all_in_one = [&close[..], &hello, &world, end].concat();
    let list: Vec<Case> = vec![
        // Closing connection: the part headers come in a segment of their own.
        (vec![get], vec![close, &hello, b"--B\r\n", b"Content-Type: text/plain\r\n\r\nworld\r\n", end]),
        // Each part in a segment that starts with the delimiter.
        (vec![get], vec![close, &hello, &world, end]),
        // All in one segment: the first part takes the rest of the body.
        (vec![get], vec![&all_in_one]),
        // Part lengths: exact, past the close delimiter, zero, short.
        (vec![get], vec![plain, &exact]),
        (vec![get], vec![plain, &long]),
        (vec![get], vec![plain, &empty]),
        (vec![get], vec![plain, &short]),
        // A gzip part whose bytes are not gzip.
        (vec![get], vec![plain, gzip_part, &world, end]),
    ];
    insta::assert_snapshot!(logs(&cases(&borrow(&list))));
}
