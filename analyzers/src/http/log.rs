//! `http.log`, built from the HTTP events as Zeek's `base/protocols/http`
//! scripts build it: one row per request/reply pair (`trans_depth` counts the
//! transactions of a connection), written when the reply is done, or at
//! connection end for requests never answered.

use crate::http::{
    sniff_mime, HttpBeginEntity, HttpEndEntity, HttpEntityData, HttpHeader, HttpMessageDone,
    HttpReply, HttpRequest,
};
use netpac_runtime::conn::events::ConnectionStateRemove;
use netpac_runtime::event::{EventHandlers, EventSink};
use netpac_runtime::log::{LogRecord, Logs, Schema, Value};
use netpac_runtime::record::Connection;
use netpac_runtime::record::EncapsulatingConn;
use netpac_runtime::tunnel_log::Tunnels;
use netpac_runtime::zeek::{ConnId, Port, Proto, Time};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The columns of today's Zeek `http.log`.
pub static HTTP_LOG: Schema = Schema {
    path: "http",
    stream: "HTTP::LOG",
    columns: &[
        ("ts", "time"),
        ("uid", "string"),
        ("id.orig_h", "addr"),
        ("id.orig_p", "port"),
        ("id.resp_h", "addr"),
        ("id.resp_p", "port"),
        ("trans_depth", "count"),
        ("method", "string"),
        ("host", "string"),
        ("uri", "string"),
        ("referrer", "string"),
        ("version", "string"),
        ("user_agent", "string"),
        ("origin", "string"),
        ("request_body_len", "count"),
        ("response_body_len", "count"),
        ("status_code", "count"),
        ("status_msg", "string"),
        ("info_code", "count"),
        ("info_msg", "string"),
        ("tags", "set[enum]"),
        ("username", "string"),
        ("password", "string"),
        ("proxied", "set[string]"),
        ("orig_fuids", "vector[string]"),
        ("orig_filenames", "vector[string]"),
        ("orig_mime_types", "vector[string]"),
        ("resp_fuids", "vector[string]"),
        ("resp_filenames", "vector[string]"),
        ("resp_mime_types", "vector[string]"),
    ],
};

/// Headers that show a request went through a proxy (Zeek's `HTTP::proxy_headers`).
const PROXY_HEADERS: &[&[u8]] = &[
    b"FORWARDED",
    b"X-FORWARDED-FOR",
    b"X-FORWARDED-FROM",
    b"CLIENT-IP",
    b"VIA",
    b"XROXY-CONNECTION",
    b"PROXY-CONNECTION",
];

/// Zeek's `HTTP::max_pending_requests`: more unanswered requests are logged early.
const MAX_PENDING_REQUESTS: usize = 100;

/// Zeek's `HTTP::max_files_orig` / `max_files_resp`: files listed per record and direction.
const MAX_FILES: usize = 15;

/// How much of an entity's start is kept for content sniffing.
const SNIFF_BYTES: usize = 512;

/// One transaction (Zeek's `HTTP::Info`).
#[derive(Default, Clone)]
struct Info {
    ts: Time,
    trans_depth: u64,
    method: Option<Vec<u8>>,
    host: Option<Vec<u8>>,
    uri: Option<Vec<u8>>,
    referrer: Option<Vec<u8>>,
    version: Option<Vec<u8>>,
    user_agent: Option<Vec<u8>>,
    origin: Option<Vec<u8>>,
    request_body_len: u64,
    response_body_len: u64,
    status_code: Option<u64>,
    /// First byte of a reply's `Content-Range`, when it parses.
    range_start: Option<u64>,
    status_msg: Option<Vec<u8>>,
    info_code: Option<u64>,
    info_msg: Option<Vec<u8>>,
    username: Option<Vec<u8>>,
    proxied: Option<BTreeSet<Vec<u8>>>,
    orig_fuids: Vec<String>,
    orig_filenames: Vec<Vec<u8>>,
    resp_filenames: Vec<Vec<u8>>,
    orig_mime_types: Vec<&'static str>,
    resp_fuids: Vec<String>,
    resp_mime_types: Vec<&'static str>,
    /// Zeek's `current_entity` is set: between `http_begin_entity` and `http_end_entity`.
    in_entity: bool,
}

/// Zeek's `HTTP::http_methods`: a request with another method is the weird `unknown_HTTP_method`.
const HTTP_METHODS: &[&[u8]] = &[
    b"GET",
    b"POST",
    b"HEAD",
    b"OPTIONS",
    b"PUT",
    b"DELETE",
    b"TRACE",
    b"CONNECT",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"POLL",
    b"REPORT",
    b"SUBSCRIBE",
    b"BMOVE",
    b"SEARCH",
];

/// An entity (file) being received, for its id and MIME type.
#[derive(Default)]
struct Entity {
    /// The file id, once data arrived.
    fuid: Option<String>,
    /// From Content-Disposition (or Content-Type's name), as Zeek's HTTP entity script finds it.
    filename: Option<Vec<u8>>,
    /// The file made it into the record (see [`MAX_FILES`]).
    logged: bool,
    start: Vec<u8>,
}

/// Zeek's `HTTP::State` of one connection.
struct State {
    id: ConnId,
    pending: BTreeMap<u64, Info>,
    current_request: u64,
    current_response: u64,
    /// Transactions created so far (each new record takes the next depth).
    trans_depth: u64,
    entities: [Entity; 2],
    files: u64,
    /// The key of the record `c$http` last pointed to (Zeek's handlers that do not call
    /// `set_state` act on it).
    last: u64,
}

impl State {
    fn new(id: ConnId) -> State {
        State {
            id,
            pending: BTreeMap::new(),
            current_request: 0,
            current_response: 0,
            trans_depth: 0,
            entities: Default::default(),
            files: 0,
            last: 0,
        }
    }

    /// A weird Zeek's http scripts report (`Reporter::conn_weird`), once per connection and name.
    fn weird(
        &mut self,
        logs: &mut Logs,
        ts: Time,
        c: &Connection,
        name: &'static str,
        addl: &[u8],
        source: &str,
    ) {
        netpac_runtime::weird::log_conn_weird(logs, ts, c, name, addl, source);
    }

    /// Zeek's `set_state`: the record the current request or response fills.
    fn info(&mut self, ts: Time, is_orig: bool) -> &mut Info {
        let at = if is_orig {
            self.current_request
        } else {
            self.current_response
        };
        self.last = at;
        let depth = &mut self.trans_depth;
        self.pending.entry(at).or_insert_with(|| {
            *depth += 1;
            Info {
                ts,
                trans_depth: *depth,
                ..Info::default()
            }
        })
    }
}

/// The `http.log` writer: pairs requests with replies per connection.
#[derive(Default)]
pub struct HttpLogger {
    conns: HashMap<std::sync::Arc<str>, State>,
    /// Where a successful CONNECT registers its proxy (`tunnel.log`).
    tunnels: Tunnels,
}

impl HttpLogger {
    /// The `http.log` writer as an event consumer; CONNECT proxies go to
    /// `tunnels`.
    pub fn sink(tunnels: Tunnels) -> Box<dyn EventSink> {
        Box::new(
            EventHandlers::new(HttpLogger {
                conns: HashMap::default(),
                tunnels,
            })
                .on::<HttpRequest>(HttpLogger::request)
                .on::<HttpReply>(HttpLogger::reply)
                .on::<HttpHeader>(HttpLogger::header_event)
                .on::<HttpBeginEntity>(HttpLogger::begin_entity)
                .on::<HttpEntityData>(HttpLogger::entity_data)
                .on::<HttpEndEntity>(HttpLogger::end_entity)
                .on::<HttpMessageDone>(HttpLogger::message_done)
                .on::<ConnectionStateRemove>(HttpLogger::remove),
        )
    }

    fn state(&mut self, c: &Connection) -> &mut State {
        self.conns
            .entry(c.uid.clone())
            .or_insert_with(|| State::new(c.id))
    }

    fn write(logs: &mut Logs, uid: &str, id: &ConnId, info: Info) {
        logs.write_record(&HttpRecord {
            uid,
            id,
            info: &info,
        });
    }

    fn header(info: &mut Info, is_orig: bool, name: &[u8], value: &[u8]) {
        if !is_orig {
            if name == b"CONTENT-RANGE" {
                info.range_start = content_range_start(value);
            }
            return;
        }
        if PROXY_HEADERS.contains(&name) {
            let mut entry = name.to_vec();
            entry.extend_from_slice(b" -> ");
            entry.extend_from_slice(value);
            info.proxied.get_or_insert_with(BTreeSet::new).insert(entry);
            return;
        }
        match name {
            b"REFERER" => info.referrer = Some(value.to_vec()),
            b"HOST" => info.host = Some(value.to_vec()),
            b"USER-AGENT" => info.user_agent = Some(value.to_vec()),
            b"ORIGIN" => info.origin = Some(value.to_vec()),
            b"AUTHORIZATION" | b"PROXY-AUTHORIZATION"
                if value.len() > 6 && value[..6].eq_ignore_ascii_case(b"basic ") =>
            {
                let encoded = value[6..]
                    .iter()
                    .skip_while(|b| **b == b' ' || **b == b'\t');
                let userpass = decode_base64(&encoded.copied().collect::<Vec<u8>>());
                // The password is not logged (Zeek's default_capture_password = F).
                match userpass.iter().position(|&b| b == b':') {
                    Some(colon) => info.username = Some(userpass[..colon].to_vec()),
                    None => {
                        let mut u = b"<problem-decoding> (".to_vec();
                        u.extend_from_slice(value);
                        u.push(b')');
                        info.username = Some(u);
                    }
                }
            }
            _ => {}
        }
    }
}

fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Zeek's `extract_filename_from_content_disposition`: what follows the last
/// `name=` (or `name*=`), without quotes or an RFC 2231 charset prefix, unescaped.
fn filename_of(value: &[u8]) -> Vec<u8> {
    let lower = value.to_ascii_lowercase();
    let mut start = 0;
    let mut i = 0;
    while let Some(p) = lower[i..].windows(4).position(|w| w == b"name") {
        let mut j = i + p + 4;
        while matches!(lower.get(j), Some(b' ' | b'\t')) {
            j += 1;
        }
        if lower.get(j) == Some(&b'*') {
            j += 1;
        }
        if lower.get(j) == Some(&b'=') {
            j += 1;
            while matches!(lower.get(j), Some(b' ' | b'\t')) {
                j += 1;
            }
            start = j;
        }
        i = i + p + 4;
    }
    let mut name = &value[start..];
    if let Some(quoted) = name.strip_prefix(b"\"") {
        name = quoted.split(|&b| b == b'"').next().unwrap_or(b"");
    }
    // charset'language'name
    let token = |b: &u8| b.is_ascii_alphanumeric() || b"!#$%&+-^_`{}~".contains(b);
    let charset = name.iter().take_while(|b| token(b)).count();
    if charset > 0 && name.get(charset) == Some(&b'\'') {
        let lang = name[charset + 1..].iter().take_while(|b| token(b)).count();
        if name.get(charset + 1 + lang) == Some(&b'\'') {
            name = &name[charset + 2 + lang..];
        }
    }
    netpac_analyzers::http::unescape_uri(name, |_| {})
}

/// `bytes F-L/N` → F, when F and L are numbers with F <= L.
fn content_range_start(value: &[u8]) -> Option<u64> {
    let spec = value.strip_prefix(b"bytes")?;
    let spec: Vec<u8> = spec.iter().copied().filter(|b| *b != b' ').collect();
    let range = spec.split(|&b| b == b'/').next()?;
    let mut ends = range.splitn(2, |&b| b == b'-');
    let num = |s: &[u8]| std::str::from_utf8(s).ok()?.parse::<u64>().ok();
    let first = num(ends.next()?)?;
    let last = num(ends.next()?)?;
    (first <= last).then_some(first)
}

/// Base64 as Zeek's decoder reads it: invalid characters are skipped.
fn decode_base64(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in s {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn code_in_range(code: Option<u64>, lo: u64, hi: u64) -> bool {
    code.is_some_and(|c| (lo..=hi).contains(&c))
}

impl HttpLogger {
    fn request(&mut self, ts: Time, e: &HttpRequest, logs: &mut Logs) {
        let st = self
            .conns
            .entry(e.c.uid.clone())
            .or_insert_with(|| State::new(e.c.id));
        // A reply seen before its request: later requests pair with later replies.
        if st.current_request < st.current_response {
            st.weird(logs, ts, &e.c, "HTTP_response_before_request", b"", "");
            st.current_request = st.current_response;
        }
        // Too many unanswered requests: log the oldest ones (Zeek's max_pending_requests),
        // with the weird Zeek's script reports then.
        if st.pending.len() > MAX_PENDING_REQUESTS {
            st.weird(logs, ts, &e.c, "HTTP_excessive_pipelining", b"", "");
            if st.current_response == 0 {
                st.current_response += 1;
            }
            while st.current_response < st.current_request {
                if let Some(info) = st.pending.remove(&st.current_response) {
                    Self::write(logs, &e.c.uid, &st.id, info);
                }
                st.current_response += 1;
            }
        }
        st.current_request += 1;
        let info = st.info(ts, true);
        info.method = Some(e.method.as_bytes().to_vec());
        info.uri = Some(e.unescaped_URI.as_bytes().to_vec());
        let method = e.method.as_bytes();
        if !HTTP_METHODS.contains(&method) {
            st.weird(logs, ts, &e.c, "unknown_HTTP_method", method, "");
        }
    }

    fn reply(&mut self, ts: Time, e: &HttpReply, logs: &mut Logs) {
        let tunnels = self.tunnels.clone();
        let st = self.state(&e.c);
        // After an informational 1xx the real reply fills the same record.
        let advance = match st.pending.get(&st.current_response) {
            None => true,
            Some(info) => info.status_code.is_some() && !code_in_range(info.status_code, 100, 199),
        };
        if advance {
            st.current_response += 1;
        }
        let info = st.info(ts, false);
        info.status_code = Some(e.code);
        info.status_msg = Some(e.reason.as_bytes().to_vec());
        info.version = Some(e.version.as_bytes().to_vec());
        if (100..200).contains(&e.code) {
            info.info_code = Some(e.code);
            info.info_msg = Some(e.reason.as_bytes().to_vec());
        }
        // A proxy's connections come from many ports: one tunnel, port 0.
        if e.code == 200 && info.method.as_deref() == Some(b"CONNECT".as_slice()) {
            let cid = ConnId {
                orig_p: Port::new(0, Proto::Tcp),
                ..e.c.id
            };
            let tunnel = EncapsulatingConn {
                cid,
                tunnel_type: "Tunnel::HTTP",
                uid: None,
            };
            tunnels.register(ts, &tunnel, logs);
        }
    }

    fn header_event(&mut self, ts: Time, e: &HttpHeader, logs: &mut Logs) {
        let st = self.state(&e.c);
        let (name, value) = (e.name.as_bytes(), e.value.as_bytes());
        let info = st.info(ts, e.is_orig);
        Self::header(info, e.is_orig, name, value);
        // The header belongs to a record no entity began on (its own was logged already):
        // Zeek's entities script reports it and looks no further.
        if !info.in_entity {
            st.weird(logs, ts, &e.c, "missing_HTTP_entity", b"", "HTTP");
            return;
        }
        let names_file = (name == b"CONTENT-DISPOSITION" && contains_ci(value, b"filename"))
            || (name == b"CONTENT-TYPE" && contains_ci(value, b"name="));
        if names_file {
            st.entities[usize::from(!e.is_orig)].filename = Some(filename_of(value));
        }
    }

    fn begin_entity(&mut self, ts: Time, e: &HttpBeginEntity, _logs: &mut Logs) {
        let st = self.state(&e.c);
        st.info(ts, e.is_orig).in_entity = true;
        st.entities[usize::from(!e.is_orig)] = Entity::default();
    }

    fn entity_data(&mut self, ts: Time, e: &HttpEntityData, _logs: &mut Logs) {
        let st = self.state(&e.c);
        let side = usize::from(!e.is_orig);
        if st.entities[side].fuid.is_none() {
            st.files += 1;
            // File ids only need to be unique; Zeek's come from its seeded random generator.
            let fuid = format!("F{}{}", &e.c.uid[1.min(e.c.uid.len())..], st.files);
            st.entities[side].fuid = Some(fuid.clone());
            let filename = st.entities[side].filename.clone();
            let info = st.info(ts, e.is_orig);
            let (fuids, names) = if e.is_orig {
                (&mut info.orig_fuids, &mut info.orig_filenames)
            } else {
                (&mut info.resp_fuids, &mut info.resp_filenames)
            };
            // Zeek's max_files_orig / max_files_resp.
            if fuids.len() < MAX_FILES {
                fuids.push(fuid);
                names.extend(filename);
                st.entities[side].logged = true;
            }
        }
        let ent = &mut st.entities[side];
        let room = SNIFF_BYTES.saturating_sub(ent.start.len());
        ent.start
            .extend_from_slice(&e.data.as_bytes()[..room.min(e.data.len())]);
    }

    fn end_entity(&mut self, ts: Time, e: &HttpEndEntity, _logs: &mut Logs) {
        let st = self.state(&e.c);
        // Zeek deletes `current_entity` of whatever record `c$http` is.
        if let Some(info) = st.pending.get_mut(&st.last) {
            info.in_entity = false;
        }
        let ent = std::mem::take(&mut st.entities[usize::from(!e.is_orig)]);
        if ent.logged {
            let info = st.info(ts, e.is_orig);
            // A partial reply (206) is sniffed only when it starts the file; without a
            // usable Content-Range Zeek never finishes the file, so never sniffs it.
            let partial =
                !e.is_orig && info.status_code == Some(206) && info.range_start != Some(0);
            if let Some(mime) = sniff_mime(&ent.start).filter(|_| !partial) {
                if e.is_orig {
                    info.orig_mime_types.push(mime)
                } else {
                    info.resp_mime_types.push(mime)
                }
            }
        }
    }

    fn message_done(&mut self, ts: Time, e: &HttpMessageDone, logs: &mut Logs) {
        let st = self.state(&e.c);
        let info = st.info(ts, e.is_orig);
        if e.is_orig {
            info.request_body_len = e.stat.body_length;
        } else {
            info.response_body_len = e.stat.body_length;
            // The reply is done: log, unless it was informational (the real one follows).
            if !code_in_range(info.status_code, 100, 199) {
                let at = st.current_response;
                let id = st.id;
                if let Some(info) = st.pending.remove(&at) {
                    Self::write(logs, &e.c.uid, &id, info);
                }
            }
        }
    }

    fn remove(&mut self, _ts: Time, e: &ConnectionStateRemove, logs: &mut Logs) {
        if let Some(st) = self.conns.remove(&e.c.uid) {
            for (_, info) in st.pending.into_iter().filter(|(at, _)| *at != 0) {
                Self::write(logs, &e.c.uid, &st.id, info);
            }
        }
    }
}

/// One `http.log` row: a request/reply pair of a connection.
struct HttpRecord<'a> {
    uid: &'a str,
    id: &'a ConnId,
    info: &'a Info,
}

impl LogRecord for HttpRecord<'_> {
    fn schema(&self) -> &'static Schema {
        &HTTP_LOG
    }
    fn values(&self) -> Vec<Value> {
        let (uid, id, info) = (self.uid, self.id, self.info.clone());
        let s = |v: Option<Vec<u8>>| v.map_or(Value::Unset, Value::Str);
        let strs = |v: Vec<String>| {
            if v.is_empty() {
                Value::Unset
            } else {
                Value::Vector(v.into_iter().map(Value::str).collect())
            }
        };
        let names = |v: Vec<Vec<u8>>| {
            if v.is_empty() {
                Value::Unset
            } else {
                Value::Vector(v.into_iter().map(Value::Str).collect())
            }
        };
        let mimes = |v: Vec<&'static str>| {
            if v.is_empty() {
                Value::Unset
            } else {
                Value::Vector(v.into_iter().map(Value::str).collect())
            }
        };
        vec![
            Value::Time(info.ts),
            Value::str(uid),
            Value::Addr(id.orig_h),
            Value::Port(id.orig_p.number),
            Value::Addr(id.resp_h),
            Value::Port(id.resp_p.number),
            Value::Count(info.trans_depth),
            s(info.method),
            s(info.host),
            s(info.uri),
            s(info.referrer),
            s(info.version),
            s(info.user_agent),
            s(info.origin),
            Value::Count(info.request_body_len),
            Value::Count(info.response_body_len),
            Value::opt(info.status_code, Value::Count),
            s(info.status_msg),
            Value::opt(info.info_code, Value::Count),
            s(info.info_msg),
            Value::Set(Vec::new()),
            s(info.username),
            Value::Unset,
            Value::opt(info.proxied, |p| {
                Value::Set(p.into_iter().map(Value::Str).collect())
            }),
            strs(info.orig_fuids),
            names(info.orig_filenames),
            mimes(info.orig_mime_types),
            strs(info.resp_fuids),
            names(info.resp_filenames),
            mimes(info.resp_mime_types),
        ]
    }
}
