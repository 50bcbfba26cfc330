//! Test helpers: build DNS messages by hand and run the generated DNS
//! analyzer through the `Analyzer` trait on a fake connection.
#![allow(dead_code)]

use netpac_analyzers::dns::{DNSAnalyzer, Limits};
use netpac_runtime::analyzer::{Analyzer, AnalyzerCx, TestConn, Verdict};
use netpac_runtime::event::{Events, Recorded, RecordingSink};
use netpac_runtime::weird::Weird;
use netpac_runtime::zeek::{Proto, Time};
use serde_json::Value;

/// The stand-in connection DNS tests run on (`10.0.0.1` to `10.0.0.2`).
pub fn test_conn(proto: Proto, resp_port: u16) -> TestConn {
    TestConn::new(proto, resp_port, "CdnsTest1")
}

/// What one run produced.
#[derive(Debug, serde::Serialize)]
pub struct Outcome {
    pub events: Vec<Value>,
    pub weirds: Vec<String>,
    pub verdict: String,
    /// The analyzer left a message unanalysed (`X` in the connection's history).
    #[serde(skip)]
    pub partial: bool,
}

/// Feeds `(is_orig, bytes)` chunks to a DNS analyzer (UDP: one datagram each).
pub fn run(proto: Proto, resp_port: u16, limits: Limits, chunks: &[(bool, Vec<u8>)]) -> Outcome {
    let conn = test_conn(proto, resp_port);
    let rec = Recorded::default();
    let mut events = Events::new();
    events.subscribe(Box::new(RecordingSink {
        into: rec.clone(),
        filter: None,
    }));
    let item = if proto == Proto::Tcp { 1 } else { 0 };
    let mut analyzer = DNSAnalyzer::new(item, limits);
    let mut partial = false;
    let mut weirds: Vec<Weird> = Vec::new();
    let mut verdict = Verdict::Undecided;
    for (i, (is_orig, data)) in chunks.iter().enumerate() {
        let mut cx = AnalyzerCx {
            ts: Time(1_000_000_000_000_000_000 + i as i64 * 1_000_000),
            conn: &conn,
            events: &mut events,
            weirds: &mut weirds,
            verdict: verdict.clone(),
            tag: "DNS",
            confirmed: false,
            flip: false,
            detect_anew: false,
            partial: false,
            hand_off: None,
            hand_off_rest: None,
            forwarded: Vec::new(),
            registry: None,
            child_verdicts: Vec::new(),
        };
        analyzer.deliver(&mut cx, *is_orig, data);
        verdict = cx.verdict;
        partial |= cx.partial;
    }
    let mut out: Vec<Value> = rec.0.borrow().clone();
    // The connection record is the fake's; keep snapshots about DNS.
    for e in &mut out {
        if let Some(args) = e.get_mut("args").and_then(|a| a.as_object_mut()) {
            if args.contains_key("c") {
                args.insert("c".into(), Value::String("<conn>".into()));
            }
        }
    }
    Outcome {
        events: out,
        weirds: weirds
            .iter()
            .map(|w| {
                if w.addl.is_empty() {
                    w.name.to_string()
                } else {
                    format!("{} ({})", w.name, w.addl)
                }
            })
            .collect(),
        verdict: format!("{verdict:?}"),
        partial,
    }
}

pub fn udp(chunks: &[(bool, Vec<u8>)]) -> Outcome {
    run(Proto::Udp, 53, Limits::default(), chunks)
}

/// Every section parsed and reported (Zeek with dns_skip_all_auth/addl = F).
pub fn all_sections() -> Limits {
    let mut l = Limits::default();
    assert!(l.set("skip_all_auth", 0));
    assert!(l.set("skip_all_addl", 0));
    l
}

/// A DNS message under construction.
pub struct Msg {
    pub id: u16,
    pub flags: u16,
    pub counts: [u16; 4],
    pub body: Vec<u8>,
}

pub const QR: u16 = 0x8000;
pub const RD: u16 = 0x0100;
pub const RA: u16 = 0x0080;

pub fn name(n: &str) -> Vec<u8> {
    let mut v = Vec::new();
    for label in n.split('.').filter(|l| !l.is_empty()) {
        v.push(label.len() as u8);
        v.extend_from_slice(label.as_bytes());
    }
    v.push(0);
    v
}

/// A compression pointer to `offset`.
pub fn ptr(offset: u16) -> Vec<u8> {
    vec![0xc0 | (offset >> 8) as u8, offset as u8]
}

impl Msg {
    pub fn new(id: u16, flags: u16) -> Msg {
        Msg {
            id,
            flags,
            counts: [0; 4],
            body: Vec::new(),
        }
    }
    /// Offset (from the message start) the next byte will have.
    pub fn offset(&self) -> u16 {
        12 + self.body.len() as u16
    }
    pub fn question(mut self, qname: &[u8], qtype: u16, qclass: u16) -> Msg {
        self.counts[0] += 1;
        self.body.extend_from_slice(qname);
        self.body.extend_from_slice(&qtype.to_be_bytes());
        self.body.extend_from_slice(&qclass.to_be_bytes());
        self
    }
    /// An RR in section 1 (answer), 2 (authority) or 3 (additional).
    pub fn rr(
        mut self,
        section: usize,
        owner: &[u8],
        rtype: u16,
        class: u16,
        ttl: u32,
        rdata: &[u8],
    ) -> Msg {
        self.counts[section] += 1;
        self.body.extend_from_slice(owner);
        self.body.extend_from_slice(&rtype.to_be_bytes());
        self.body.extend_from_slice(&class.to_be_bytes());
        self.body.extend_from_slice(&ttl.to_be_bytes());
        self.body
            .extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        self.body.extend_from_slice(rdata);
        self
    }
    pub fn bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&self.id.to_be_bytes());
        v.extend_from_slice(&self.flags.to_be_bytes());
        for c in self.counts {
            v.extend_from_slice(&c.to_be_bytes());
        }
        v.extend_from_slice(&self.body);
        v
    }
    /// With the 2-byte length prefix of DNS over TCP.
    pub fn tcp_bytes(&self) -> Vec<u8> {
        let b = self.bytes();
        let mut v = (b.len() as u16).to_be_bytes().to_vec();
        v.extend_from_slice(&b);
        v
    }
}

pub fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

pub fn event_names(o: &Outcome) -> Vec<String> {
    o.events
        .iter()
        .map(|e| e["event"].as_str().unwrap_or("").to_string())
        .collect()
}
