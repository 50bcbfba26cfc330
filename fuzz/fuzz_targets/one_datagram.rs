//! Shared by the datagram targets: the input is one datagram, from the
//! originator if its first byte is even, delivered to the analyzer with every
//! event subscribed (so every record field is built).

use netpac_runtime::analyzer::{Analyzer, AnalyzerCx, NoConnection};
use netpac_runtime::event::{Events, Recorded, RecordingSink};
use netpac_runtime::zeek::Time;

/// Delivers `data` (direction byte, then the datagram) to `analyzer` under `tag`.
pub fn drive(analyzer: &mut dyn Analyzer, tag: &'static str, data: &[u8]) {
    let Some((&dir, datagram)) = data.split_first() else {
        return;
    };
    let mut events = Events::new();
    events.subscribe(Box::new(RecordingSink {
        into: Recorded::default(),
        filter: None,
    }));
    let mut weirds = Vec::new();
    let mut cx = AnalyzerCx::new(Time::ZERO, &NoConnection, &mut events, &mut weirds, tag);
    analyzer.deliver(&mut cx, dir % 2 == 0, datagram);
}
