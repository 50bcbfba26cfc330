//! HTTP: the stream analyzer (and through it the grammar's line units), fed
//! an arbitrary byte stream cut into request and reply pieces.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netpac_runtime::analyzer::{Analyzer, AnalyzerCx, TestConn};
use netpac_runtime::event::{Events, Recorded, RecordingSink};
use netpac_runtime::zeek::{Proto, Time};

fuzz_target!(|data: &[u8]| {
    let conn = TestConn::new(Proto::Tcp, 80, "Cfuzz");
    let mut events = Events::new();
    events.subscribe(Box::new(RecordingSink {
        into: Recorded::default(),
        filter: None,
    }));
    let mut weirds = Vec::new();
    let mut analyzer = netpac_analyzers::http::HttpAnalyzer::default();
    let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, "HTTP");
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

fn buffers_bounded(a: &netpac_analyzers::http::HttpAnalyzer) {
    assert!(a.buffered() as u64 <= netpac_analyzers::http::Limits::default().max_line);
}
