//! The tunnels written as grammars (Teredo, GTPv1, AYIYA): one UDP payload
//! through a tunnel's generated function, every event subscribed (so Zeek's
//! `pkt_hdr` of what it carries is built), and through its detection. The
//! input: one byte (tunnel: low bits; direction: bit 7), then the payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netpac_runtime::analyzer::{AnalyzerCx, TestConn};
use netpac_runtime::event::{Events, Recorded, RecordingSink};
use netpac_runtime::udp_tunnels::Decapsulator;
use netpac_runtime::zeek::{Proto, Time};

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, payload)) = data.split_first() else {
        return;
    };
    let registry = netpac_analyzers::registry();
    let grammar: Vec<_> = registry
        .tunnels
        .iter()
        .filter_map(|t| match t.decapsulate {
            Decapsulator::Grammar(g) => Some((t, g)),
            Decapsulator::Header(_) => None,
        })
        .collect();
    let (spec, tunnel) = grammar[usize::from(ctl & 0x7f) % grammar.len()];
    if let Some(detect) = spec.detect {
        let _ = detect(payload);
    }
    let conn = TestConn::new(
        Proto::Udp,
        spec.ports.first().copied().unwrap_or(3544),
        "Cfuzz",
    );
    let mut events = Events::new();
    events.subscribe(Box::new(RecordingSink {
        into: Recorded::default(),
        filter: None,
    }));
    let mut weirds = Vec::new();
    let mut cx = AnalyzerCx::new(Time(0), &conn, &mut events, &mut weirds, spec.tag);
    if let Some(inner) = (tunnel.run)(&mut cx, ctl & 0x80 == 0, payload) {
        assert!(inner.offset + inner.len <= payload.len());
    }
});
