//! Shared by the stream targets: the input is a sequence of pieces, each one
//! control byte (top bit: responder; low 7 bits: length) then that many
//! bytes, delivered in order, then both ends and the analyzer's end.

use netpac_runtime::analyzer::{Analyzer, AnalyzerCx, TestConn};
use netpac_runtime::event::{Events, Recorded, RecordingSink};
use netpac_runtime::zeek::{Proto, Time};

/// Drives `analyzer` (attached to TCP `port` under `tag`) with every event subscribed.
pub fn drive(analyzer: &mut dyn Analyzer, tag: &'static str, port: u16, data: &[u8]) {
    let conn = TestConn::new(Proto::Tcp, port, "Cfuzz");
    let mut events = Events::new();
    events.subscribe(Box::new(RecordingSink {
        into: Recorded::default(),
        filter: None,
    }));
    let mut weirds = Vec::new();
    let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, tag);
    let mut rest = data;
    while let Some((&ctl, tail)) = rest.split_first() {
        let len = usize::from(ctl & 0x7f).min(tail.len());
        analyzer.deliver(&mut cx, ctl & 0x80 == 0, &tail[..len]);
        rest = &tail[len..];
    }
    analyzer.end_of_data(&mut cx, true);
    analyzer.end_of_data(&mut cx, false);
    analyzer.done(&mut cx);
}
