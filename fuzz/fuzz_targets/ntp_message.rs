//! NTP: the input is one datagram (from the originator if its first byte is
//! even), delivered to the generated analyzer with every event subscribed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::ntp;
use netpac_runtime::analyzer::{Analyzer, AnalyzerCx, NoConnection};
use netpac_runtime::event::{Events, Recorded, RecordingSink};
use netpac_runtime::zeek::Time;

fuzz_target!(|data: &[u8]| {
    let Some((&dir, datagram)) = data.split_first() else {
        return;
    };
    let mut events = Events::new();
    events.subscribe(Box::new(RecordingSink {
        into: Recorded::default(),
        filter: None,
    }));
    let mut weirds = Vec::new();
    let mut analyzer = ntp::NTPAnalyzer::new(0, ntp::Limits::default());
    let mut cx = AnalyzerCx::new(Time::ZERO, &NoConnection, &mut events, &mut weirds, "NTP");
    analyzer.deliver(&mut cx, dir % 2 == 0, datagram);
});
