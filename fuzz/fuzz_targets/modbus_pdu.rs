//! Modbus/TCP: the input is split in two at its first byte's value and fed as
//! originator and responder stream data to the generated analyzer, with every
//! event subscribed (so every binding and record is built).
#![no_main]

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::modbus;
use netpac_runtime::analyzer::{Analyzer, AnalyzerCx, NoConnection};
use netpac_runtime::event::{Events, Recorded, RecordingSink};
use netpac_runtime::zeek::Time;

fuzz_target!(|data: &[u8]| {
    let Some((&cut, rest)) = data.split_first() else {
        return;
    };
    let (orig, resp) = rest.split_at(usize::from(cut).min(rest.len()));
    let mut events = Events::new();
    events.subscribe(Box::new(RecordingSink {
        into: Recorded::default(),
        filter: None,
    }));
    let mut weirds = Vec::new();
    let mut analyzer = modbus::MODBUSAnalyzer::new(0, modbus::Limits::default());
    for (is_orig, chunk) in [(true, orig), (false, resp)] {
        let mut cx = AnalyzerCx::new(
            Time::ZERO,
            &NoConnection,
            &mut events,
            &mut weirds,
            "MODBUS",
        );
        analyzer.deliver(&mut cx, is_orig, chunk);
    }
});
