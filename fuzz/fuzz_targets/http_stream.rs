//! HTTP: the stream analyzer (and through it the grammar's line units), fed
//! an arbitrary byte stream cut into request and reply pieces.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netpac_runtime::analyzer::{Analyzer, AnalyzerCx, ConnView, Verdict};
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
            service: vec![],
            history: String::new(),
            uid: "Cfuzz".into(),
            vlan: None,
            inner_vlan: None,
        }
    }
}

fuzz_target!(|data: &[u8]| {
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
    let mut analyzer = netpac::http::HttpAnalyzer::default();
    let mut cx = AnalyzerCx {
        ts: Time(0),
        conn: &conn,
        events: &mut events,
        weirds: &mut weirds,
        verdict: Verdict::Undecided,
        tag: "HTTP",
    };
    // Each piece: one control byte (direction, length), then that many bytes.
    let mut rest = data;
    while let Some((&ctl, tail)) = rest.split_first() {
        let len = usize::from(ctl & 0x7f).min(tail.len());
        analyzer.deliver(&mut cx, ctl & 0x80 == 0, &tail[..len]);
        rest = &tail[len..];
        buffers_bounded(&analyzer);
    }
    analyzer.end_of_data(&mut cx, true);
    analyzer.end_of_data(&mut cx, false);
    analyzer.done(&mut cx);
});

fn buffers_bounded(a: &netpac::http::HttpAnalyzer) {
    assert!(a.buffered() <= netpac_analyzers::http::Limits::default().max_line);
}
