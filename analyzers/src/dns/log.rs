//! `dns.log`, built from the DNS events as Zeek's `base/protocols/dns`
//! scripts build it: one row per query/reply pair, paired by transaction id
//! in arrival order; unmatched queries and replies are written when their
//! connection goes away.

use crate::dns::*;
use netpac_runtime::conn::events::ConnectionStateRemove;
use netpac_runtime::event::{EventHandlers, EventSink};
use netpac_runtime::log::{LogRecord, Logs, Schema, Value};
use netpac_runtime::record::Connection;
use netpac_runtime::zeek::{Interval, Time};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;

/// Today's Zeek `DNS::Info` columns.
pub static DNS_LOG: Schema = Schema {
    path: "dns",
    stream: "DNS::LOG",
    columns: &[
        ("ts", "time"),
        ("uid", "string"),
        ("id.orig_h", "addr"),
        ("id.orig_p", "port"),
        ("id.resp_h", "addr"),
        ("id.resp_p", "port"),
        ("proto", "enum"),
        ("trans_id", "count"),
        ("rtt", "interval"),
        ("query", "string"),
        ("qclass", "count"),
        ("qclass_name", "string"),
        ("qtype", "count"),
        ("qtype_name", "string"),
        ("rcode", "count"),
        ("rcode_name", "string"),
        ("AA", "bool"),
        ("TC", "bool"),
        ("RD", "bool"),
        ("RA", "bool"),
        ("Z", "count"),
        ("answers", "vector[string]"),
        ("TTLs", "vector[interval]"),
        ("rejected", "bool"),
        ("opcode", "count"),
        ("opcode_name", "string"),
    ],
};

/// Zeek's `DNS::max_pending_msgs` and `DNS::max_pending_query_ids`: past
/// these, unmatched messages are written out rather than kept.
const MAX_PENDING_MSGS: usize = 50;
const MAX_PENDING_QUERY_IDS: usize = 50;

/// One `dns.log` row in the making (Zeek's `DNS::Info`).
#[derive(Debug, Clone)]
struct Info {
    ts: Time,
    conn: ConnKeyCols,
    trans_id: u64,
    rtt: Option<Interval>,
    query: Option<Vec<u8>>,
    qclass: Option<u64>,
    qtype: Option<u64>,
    qtype_name: Option<String>,
    rcode: Option<u64>,
    aa: bool,
    tc: bool,
    rd: bool,
    ra: bool,
    z: u64,
    answers: Vec<Vec<u8>>,
    ttls: Vec<Interval>,
    rejected: bool,
    opcode: u64,
    /// The message came from NetBIOS name service (`dns_msg$is_netbios`): its opcodes have names of their own.
    netbios: bool,
    saw_query: bool,
    saw_reply: bool,
    /// Written at its message's end, never paired (mDNS with id 0).
    unpaired: bool,
}

/// The connection columns every row repeats.
#[derive(Debug, Clone)]
struct ConnKeyCols {
    uid: std::sync::Arc<str>,
    id: netpac_runtime::zeek::ConnId,
}

/// Rows waiting for their other half, by transaction id (slots into `State::rows`).
type Pending = FxHashMap<u64, VecDeque<usize>>;

/// What Zeek keeps per connection (`DNS::State` plus `c$dns`). Zeek's
/// records are shared references: the row being filled (`current`) may also
/// sit in a pending queue, so both hold a slot of `rows`.
#[derive(Default)]
struct State {
    rows: Vec<Option<Info>>,
    free: Vec<usize>,
    current: Option<usize>,
    pending_query: Option<usize>,
    pending_queries: Pending,
    pending_replies: Pending,
    /// Insertion order of the pending tables' ids (Zeek flushes tables in that order).
    query_ids: Vec<u64>,
    reply_ids: Vec<u64>,
}

impl State {
    fn alloc(&mut self, info: Info) -> usize {
        match self.free.pop() {
            Some(i) => {
                self.rows[i] = Some(info);
                i
            }
            None => {
                self.rows.push(Some(info));
                self.rows.len() - 1
            }
        }
    }
    fn take(&mut self, slot: usize) -> Option<Info> {
        let info = self.rows.get_mut(slot)?.take();
        if info.is_some() {
            self.free.push(slot);
        }
        info
    }
    fn current(&mut self) -> Option<&mut Info> {
        let slot = self.current?;
        self.rows.get_mut(slot)?.as_mut()
    }
}

/// Writes `dns.log` from the DNS events it subscribes to.
#[derive(Default)]
pub struct DnsLogger {
    conns: FxHashMap<std::sync::Arc<str>, State>,
}

impl DnsLogger {
    /// The `dns.log` writer as an event consumer.
    pub fn sink() -> Box<dyn EventSink> {
        let handlers = EventHandlers::new(DnsLogger::default())
            .on::<DnsMessage>(|log, ts, e, logs| log.set_session(ts, &e.c, &e.msg, logs))
            .on::<DnsRequest>(|log, _, e, _| {
                if tracked(&e.msg) {
                    log.request(e)
                }
            })
            .on::<DnsRejected>(|log, _, e, _| {
                if let Some(info) = log.current(&e.c) {
                    info.rejected = true;
                }
            })
            .on::<DnsEnd>(|log, _, e, logs| log.end(&e.c, &e.msg, logs))
            .on::<ConnectionStateRemove>(|log, _, e, logs| log.remove(&e.c, logs));
        Box::new(with_replies(handlers))
    }

    fn request(&mut self, e: &DnsRequest) {
        let resp_p = e.c.id.resp_p;
        let Some(info) = self.current(&e.c) else {
            return;
        };
        info.rd = e.msg.RD;
        info.tc = e.msg.TC;
        info.qclass = Some(e.qclass);
        info.qtype = Some(e.qtype);
        info.z = e.msg.Z;
        let netbios = resp_p.number == 137 && resp_p.proto == netpac_runtime::zeek::Proto::Udp;
        info.qtype_name = Some(if netbios && e.qtype == 33 {
            "NBSTAT".into()
        } else {
            qtype_name(e.qtype)
        });
        info.query = Some(if netbios {
            decode_netbios_name(e.query.as_bytes())
        } else {
            e.query.as_bytes().to_vec()
        });
    }

    fn current(&mut self, c: &Connection) -> Option<&mut Info> {
        self.conns.get_mut(&c.uid)?.current()
    }

    /// Zeek's `DNS::set_session`: find or make the row this message belongs to.
    fn set_session(&mut self, ts: Time, c: &Connection, msg: &DnsMsg, logs: &mut Logs) {
        if !tracked(msg) {
            return;
        }
        let is_query = !msg.QR;
        let mut flushed = Vec::new();
        let st = self.conns.entry(c.uid.clone()).or_default();
        // mDNS messages with id 0 (RFC 6762 18.1) answer nobody in particular:
        // each one is a row of its own.
        let unpaired = msg.id == 0
            && c.id.resp_p.number == 5353
            && c.id.resp_p.proto == netpac_runtime::zeek::Proto::Udp;
        let slot = if unpaired {
            let mut info = Info::new(ts, c, msg.id);
            info.unpaired = true;
            st.alloc(info)
        } else if is_query {
            if let Some(i) = pop(&mut st.pending_replies, &mut st.reply_ids, msg.id) {
                i
            } else {
                let slot = st.alloc(Info::new(ts, c, msg.id));
                if st.pending_query.is_none() {
                    st.pending_query = Some(slot);
                } else {
                    enqueue(
                        &mut st.pending_queries,
                        &mut st.query_ids,
                        msg.id,
                        slot,
                        &mut flushed,
                    );
                }
                slot
            }
        } else if let Some(q) = st
            .pending_query
            .filter(|&q| st.rows[q].as_ref().is_some_and(|i| i.trans_id == msg.id))
        {
            // Keep the fast path filled, preferring a query with the same id.
            st.pending_query =
                pop(&mut st.pending_queries, &mut st.query_ids, msg.id).or_else(|| {
                    let first = st.query_ids.first().copied()?;
                    pop(&mut st.pending_queries, &mut st.query_ids, first)
                });
            q
        } else if let Some(i) = pop(&mut st.pending_queries, &mut st.query_ids, msg.id) {
            i
        } else {
            let slot = st.alloc(Info::new(ts, c, msg.id));
            enqueue(
                &mut st.pending_replies,
                &mut st.reply_ids,
                msg.id,
                slot,
                &mut flushed,
            );
            slot
        };
        st.current = Some(slot);
        let flushed: Vec<Info> = flushed.into_iter().filter_map(|s| st.take(s)).collect();
        if let Some(info) = st.current() {
            info.opcode = msg.opcode;
            info.netbios = msg.is_netbios;
            if !is_query {
                info.rcode = Some(msg.rcode);
                if msg.rcode != 0 && msg.num_queries == 0 {
                    info.rejected = true;
                }
            }
        }
        for f in flushed {
            logs.write_record(&f);
        }
    }

    /// Zeek's `DNS::do_reply`: an answer-section record adds to the row.
    fn reply(
        &mut self,
        ts: Time,
        c: &Connection,
        msg: &DnsMsg,
        ans: &DnsAnswer,
        text: Option<Vec<u8>>,
    ) {
        if !msg.QR || ans.answer_type != 1 || !tracked(msg) {
            return; // answers inside a request, or outside the answer section
        }
        let Some(info) = self.current(c) else { return };
        if info.query.is_none() {
            info.query = Some(ans.query.as_bytes().to_vec());
        }
        info.aa = msg.AA;
        info.ra = msg.RA;
        if info.rtt.is_none() {
            let rtt = ts.since(info.ts);
            // A zero rtt means only the reply was seen.
            info.rtt = (rtt.0 != 0).then_some(rtt);
        }
        if let Some(text) = text.filter(|t| !t.is_empty()) {
            info.answers.push(text);
            info.ttls.push(ans.TTL);
        }
    }

    fn end(&mut self, c: &Connection, msg: &DnsMsg, logs: &mut Logs) {
        let Some(st) = self.conns.get_mut(&c.uid) else {
            return;
        };
        let Some(info) = st.current() else { return };
        if msg.QR {
            info.saw_reply = true;
        } else {
            info.saw_query = true;
        }
        if info.unpaired || (info.saw_query && info.saw_reply) {
            let slot = st.current.take().expect("current is set");
            if let Some(info) = st.take(slot) {
                logs.write_record(&info);
            }
        }
    }

    fn remove(&mut self, c: &Connection, logs: &mut Logs) {
        let Some(mut st) = self.conns.remove(&c.uid) else {
            return;
        };
        let mut slots: Vec<usize> = st.pending_query.take().into_iter().collect();
        for id in std::mem::take(&mut st.query_ids) {
            slots.extend(st.pending_queries.remove(&id).into_iter().flatten());
        }
        for id in std::mem::take(&mut st.reply_ids) {
            slots.extend(st.pending_replies.remove(&id).into_iter().flatten());
        }
        for slot in slots {
            if let Some(info) = st.take(slot) {
                logs.write_record(&info);
            }
        }
    }
}

fn pop(p: &mut Pending, order: &mut Vec<u64>, id: u64) -> Option<usize> {
    let q = p.get_mut(&id)?;
    let slot = q.pop_front();
    if q.is_empty() {
        p.remove(&id);
        order.retain(|&x| x != id);
    }
    slot
}

/// Queues a row; past Zeek's limits the queued rows are given up on (returned in `flushed`).
fn enqueue(p: &mut Pending, order: &mut Vec<u64>, id: u64, slot: usize, flushed: &mut Vec<usize>) {
    if !p.contains_key(&id) {
        if p.len() > MAX_PENDING_QUERY_IDS {
            for id in order.drain(..) {
                flushed.extend(p.remove(&id).into_iter().flatten());
            }
        }
        order.push(id);
    } else if p[&id].len() > MAX_PENDING_MSGS {
        flushed.extend(p.remove(&id).into_iter().flatten());
    }
    p.entry(id).or_default().push_back(slot);
}

impl Info {
    fn new(ts: Time, c: &Connection, trans_id: u64) -> Info {
        Info {
            ts,
            conn: ConnKeyCols {
                uid: c.uid.clone(),
                id: c.id,
            },
            trans_id,
            rtt: None,
            query: None,
            qclass: None,
            qtype: None,
            qtype_name: None,
            rcode: None,
            aa: false,
            tc: false,
            rd: false,
            ra: false,
            z: 0,
            answers: Vec::new(),
            ttls: Vec::new(),
            rejected: false,
            opcode: 0,
            netbios: false,
            saw_query: false,
            saw_reply: false,
            unpaired: false,
        }
    }
}

impl LogRecord for Info {
    fn schema(&self) -> &'static Schema {
        &DNS_LOG
    }
    fn values(&self) -> Vec<Value> {
        let i = self;
        let id = &i.conn.id;
        vec![
            Value::Time(i.ts),
            Value::str(i.conn.uid.as_bytes()),
            Value::Addr(id.orig_h),
            Value::Port(id.orig_p.number),
            Value::Addr(id.resp_h),
            Value::Port(id.resp_p.number),
            Value::Enum(id.resp_p.proto.as_str()),
            Value::Count(i.trans_id),
            Value::opt(i.rtt, Value::Interval),
            Value::opt(i.query.as_ref(), Value::str),
            Value::opt(i.qclass, Value::Count),
            Value::opt(i.qclass, |c| Value::str(class_name(c))),
            Value::opt(i.qtype, Value::Count),
            Value::opt(i.qtype_name.as_ref(), Value::str),
            Value::opt(i.rcode, Value::Count),
            Value::opt(i.rcode, |r| Value::str(rcode_name(r))),
            Value::Bool(i.aa),
            Value::Bool(i.tc),
            Value::Bool(i.rd),
            Value::Bool(i.ra),
            Value::Count(i.z),
            if i.answers.is_empty() {
                Value::Unset
            } else {
                Value::Vector(i.answers.iter().map(Value::str).collect())
            },
            if i.ttls.is_empty() {
                Value::Unset
            } else {
                Value::Vector(i.ttls.iter().copied().map(Value::Interval).collect())
            },
            Value::Bool(i.rejected),
            Value::Count(i.opcode),
            Value::str(if i.netbios {
                netbios_opcode_name(i.opcode)
            } else {
                opcode_name(i.opcode)
            }),
        ]
    }
}

/// The reply events and the text Zeek's scripts log for each (`None`: an
/// empty answer, which updates the row but adds nothing to `answers`).
fn with_replies(handlers: EventHandlers<DnsLogger>) -> EventHandlers<DnsLogger> {
    macro_rules! replies {
        ($handlers:expr, $($ty:ty => |$e:ident| $text:expr),* $(,)?) => {
            $handlers$(.on::<$ty>(|log, ts, $e, _| log.reply(ts, &$e.c, &$e.msg, &$e.ans, $text)))*
        };
    }
    replies! {
        handlers,
        DnsAReply => |e| Some(e.a.to_string().into_bytes()),
        DnsAAAAReply => |e| Some(e.a.to_string().into_bytes()),
        DnsA6Reply => |e| Some(e.a.to_string().into_bytes()),
        DnsNSReply => |e| Some(e.name.as_bytes().to_vec()),
        DnsCNAMEReply => |e| Some(e.name.as_bytes().to_vec()),
        DnsPTRReply => |e| Some(e.name.as_bytes().to_vec()),
        DnsMXReply => |e| Some(e.name.as_bytes().to_vec()),
        DnsSOAReply => |e| Some(e.soa.mname.as_bytes().to_vec()),
        DnsWKSReply => |_e| None,
        DnsSRVReply => |e| Some(e.target.as_bytes().to_vec()),
        DnsUnknownReply => |e| Some(format!("<unknown type={}>", e.ans.qtype).into_bytes()),
        DnsTXTReply => |e| Some(txt_text("TXT", &e.strs)),
        DnsRRSIG => |e| Some({
            let signer = if e.rrsig.signer_name.is_empty() { b"<Root>".to_vec() } else { e.rrsig.signer_name.as_bytes().to_vec() };
            let mut s = format!("RRSIG {} ", e.rrsig.type_covered).into_bytes();
            s.extend_from_slice(&signer);
            s
        }),
        DnsDNSKEY => |e| Some(format!("DNSKEY {}", e.dnskey.algorithm).into_bytes()),
        DnsNSEC => |e| Some({
            let mut s = b"NSEC ".to_vec();
            s.extend_from_slice(e.ans.query.as_bytes());
            s.push(b' ');
            s.extend_from_slice(e.next_name.as_bytes());
            s
        }),
        DnsNSEC3 => |_e| Some(b"NSEC3".to_vec()),
        DnsDS => |e| Some(format!("DS {} {}", e.ds.algorithm, e.ds.digest_type).into_bytes()),
        // The types today's Zeek adds (its `dns_SPF_reply` ... handlers in main.zeek).
        DnsSPFReply => |e| Some(txt_text("SPF", &e.strs)),
        DnsNAPTRReply => |e| Some(naptr_text(&e.naptr)),
        DnsLOC => |e| Some(format!("LOC:  {} {} {}", e.loc.size, e.loc.horiz_pre, e.loc.vert_pre).into_bytes()),
        DnsSSHFP => |e| Some({
            let mut s = b"SSHFP: ".to_vec();
            for b in e.fingerprint.as_bytes() {
                s.extend_from_slice(format!("{b:02x}").as_bytes());
            }
            s
        }),
        DnsNSEC3PARAM => |_e| Some(b"NSEC3PARAM".to_vec()),
        DnsBINDS => |_e| Some(b"BIND9 signing signal".to_vec()),
    }
}

/// `NAPTR <order> <preference> <flags> <service> <regexp and/or replacement>`.
fn naptr_text(n: &DnsNaptrRr) -> Vec<u8> {
    let mut out = format!("NAPTR {} {} ", n.order, n.preference).into_bytes();
    out.extend_from_slice(n.flags.as_bytes());
    out.push(b' ');
    out.extend_from_slice(n.service.as_bytes());
    out.push(b' ');
    out.extend_from_slice(n.regexp.as_bytes());
    if !n.replacement.as_bytes().is_empty() {
        if !n.regexp.as_bytes().is_empty() {
            out.push(b' ');
        }
        out.extend_from_slice(n.replacement.as_bytes());
    }
    out
}

/// `TXT <len> <string>` per string, space-separated.
fn txt_text(kind: &str, strs: &[netpac_runtime::zeek::ZString]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, s) in strs.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(format!("{kind} {} ", s.len()).as_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    out
}

/// NetBIOS first-level encoding (RFC 1001 14.1): two letters `A`..`P` per
/// byte; the 16th byte is the name type and trailing spaces are padding.
/// A name that is not so encoded is kept as it is.
fn decode_netbios_name(s: &[u8]) -> Vec<u8> {
    let letter = |b: &u8| (b'A'..=b'P').contains(&b.to_ascii_uppercase());
    if s.is_empty() || !s.len().is_multiple_of(2) || s.len() > 32 || !s.iter().all(letter) {
        return s.to_vec();
    }
    let mut out: Vec<u8> = s
        .chunks(2)
        .map(|p| ((p[0].to_ascii_uppercase() - b'A') << 4) | (p[1].to_ascii_uppercase() - b'A'))
        .collect();
    if out.len() == 16 {
        out.truncate(15);
    }
    while matches!(out.last(), Some(b' ') | Some(0)) {
        out.pop();
    }
    out
}

fn qtype_name(t: u64) -> String {
    let name = match t {
        1 => "A",
        2 => "NS",
        3 => "MD",
        4 => "MF",
        5 => "CNAME",
        6 => "SOA",
        7 => "MB",
        8 => "MG",
        9 => "MR",
        10 => "NULL",
        11 => "WKS",
        12 => "PTR",
        13 => "HINFO",
        14 => "MINFO",
        15 => "MX",
        16 => "TXT",
        17 => "RP",
        18 => "AFSDB",
        19 => "X25",
        20 => "ISDN",
        21 => "RT",
        22 => "NSAP",
        23 => "NSAP-PTR",
        24 => "SIG",
        25 => "KEY",
        26 => "PX",
        27 => "GPOS",
        28 => "AAAA",
        29 => "LOC",
        30 => "NXT",
        31 => "EID",
        32 => "NIMLOC",
        33 => "SRV",
        34 => "ATMA",
        35 => "NAPTR",
        36 => "KX",
        37 => "CERT",
        38 => "A6",
        39 => "DNAME",
        40 => "SINK",
        41 => "OPT",
        42 => "APL",
        43 => "DS",
        44 => "SSHFP",
        45 => "IPSECKEY",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        49 => "DHCID",
        50 => "NSEC3",
        51 => "NSEC3PARAM",
        52 => "TLSA",
        53 => "SMIMEA",
        55 => "HIP",
        56 => "NINFO",
        57 => "RKEY",
        58 => "TALINK",
        59 => "CDS",
        60 => "CDNSKEY",
        61 => "OPENPGPKEY",
        62 => "CSYNC",
        63 => "ZONEMD",
        64 => "SVCB",
        65 => "HTTPS",
        99 => "SPF",
        100 => "UINFO",
        101 => "UID",
        102 => "GID",
        103 => "UNSPEC",
        104 => "NID",
        105 => "L32",
        106 => "L64",
        107 => "LP",
        108 => "EUI48",
        109 => "EUI64",
        249 => "TKEY",
        250 => "TSIG",
        251 => "IXFR",
        252 => "AXFR",
        253 => "MAILB",
        254 => "MAILA",
        255 => "*",
        256 => "URI",
        257 => "CAA",
        32768 => "TA",
        32769 => "DLV",
        65281 => "WINS",
        65282 => "WINS-R",
        65422 => "XPF",
        65521 => "INTEGRITY",
        _ => return format!("query-{t}"),
    };
    name.to_string()
}

fn class_name(c: u64) -> String {
    match c {
        1 => "C_INTERNET".into(),
        2 => "C_CSNET".into(),
        3 => "C_CHAOS".into(),
        4 => "C_HESIOD".into(),
        254 => "C_NONE".into(),
        255 => "C_ANY".into(),
        _ => format!("qclass-{c}"),
    }
}

fn rcode_name(r: u64) -> String {
    let name = match r {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSet",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        11..=15 => return format!("unassigned-{r}"),
        16 => "BADVERS",
        17 => "BADKEY",
        18 => "BADTIME",
        19 => "BADMODE",
        20 => "BADNAME",
        21 => "BADALG",
        22 => "BADTRUNC",
        23 => "BADCOOKIE",
        3842 => "BADSIG",
        _ => return format!("rcode-{r}"),
    };
    name.to_string()
}

/// Zeek's DNS script tracks queries, dynamic updates and notifies only
/// (NetBIOS name service messages of its other opcodes raise events but no row).
fn tracked(msg: &DnsMsg) -> bool {
    matches!(msg.opcode, 0 | 4 | 5)
}

/// `DNS::netbios_opcodes` (base/protocols/dns/consts.zeek).
fn netbios_opcode_name(o: u64) -> String {
    let name = match o {
        0 => "netbios-query",
        5 => "netbios-registration",
        6 => "netbios-release",
        7 => "netbios-wack",
        8 => "netbios-refresh",
        _ => return format!("netbios-opcode-{o}"),
    };
    name.to_string()
}

fn opcode_name(o: u64) -> String {
    let name = match o {
        0 => "query",
        1 => "iquery",
        2 => "server-status",
        4 => "notify",
        5 => "dynamic-update",
        6 => "dso",
        _ => return format!("opcode-{o}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netbios_names_decode_and_drop_padding_and_type() {
        // "FRED" padded with spaces, type 0x00.
        let enc = b"EGFCEFEECACACACACACACACACACACAAA";
        assert_eq!(decode_netbios_name(enc), b"FRED");
        assert_eq!(decode_netbios_name(b"not-netbios"), b"not-netbios");
    }

    #[test]
    fn names_of_codes_fall_back_as_zeek_does() {
        assert_eq!(qtype_name(28), "AAAA");
        assert_eq!(qtype_name(4242), "query-4242");
        assert_eq!(class_name(9), "qclass-9");
        assert_eq!(rcode_name(12), "unassigned-12");
        assert_eq!(opcode_name(3), "opcode-3");
        assert_eq!(netbios_opcode_name(5), "netbios-registration");
        assert_eq!(netbios_opcode_name(3), "netbios-opcode-3");
    }
}
