//! ARP: the first 12 bytes are the Ethernet destination and source, the rest
//! the ARP payload, fed to the generated link-layer analyzer with every event
//! subscribed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::arp;
use netpac_runtime::analyzer::LinkAnalyzer;
use netpac_runtime::event::{Events, Recorded, RecordingSink};
use netpac_runtime::packet::Layer2;
use netpac_runtime::zeek::Time;

fuzz_target!(|data: &[u8]| {
    if data.len() < 12 {
        return;
    }
    let mac = |b: &[u8]| -> [u8; 6] { [b[0], b[1], b[2], b[3], b[4], b[5]] };
    let l2 = Layer2 {
        dst_mac: Some(mac(&data[0..6])),
        src_mac: Some(mac(&data[6..12])),
        ..Layer2::default()
    };
    let mut events = Events::new();
    events.subscribe(Box::new(RecordingSink {
        into: Recorded::default(),
        filter: None,
    }));
    let mut weirds = Vec::new();
    let mut analyzer = arp::ARPLinkAnalyzer::new(0, arp::Limits::default());
    analyzer.deliver(Time::ZERO, &l2, &data[12..], &mut events, &mut weirds);
});
