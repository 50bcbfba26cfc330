//! QUIC: datagrams through one analyzer with its SSL child, every event
//! subscribed. Random bytes almost never decrypt, so half the inputs are
//! protected first: an input whose first byte is odd is the plaintext of a
//! client Initial (then, after a 0xff byte, of the server's), protected
//! with the keys the fixed DCID gives, so the frames, the CRYPTO stream put in
//! order and the SSL child all see fuzzed bytes. Otherwise the input is cut
//! into raw datagrams at each 0xff byte (first byte: the direction).
#![no_main]

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::quic;
use netpac_runtime::analyzer::{AnalyzerCx, NoConnection, Registry};
use netpac_runtime::event::{Events, Recorded, RecordingSink};
use netpac_runtime::zeek::Time;
use std::sync::OnceLock;

const DCID: &[u8] = &[0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];

fn registry() -> &'static Registry {
    static REG: OnceLock<Registry> = OnceLock::new();
    REG.get_or_init(netpac_analyzers::registry)
}

/// A protected v1 Initial carrying `plaintext` (at least 20 bytes: padded).
fn initial(plaintext: &[u8], from_client: bool) -> Vec<u8> {
    let mut plain = plaintext.to_vec();
    plain.resize(plain.len().max(20), 0);
    plain.truncate(9000);
    let mut h = vec![0xc1];
    h.extend(1u32.to_be_bytes());
    h.push(DCID.len() as u8);
    h.extend(DCID);
    h.push(0);
    h.push(0);
    h.extend(((2 + plain.len() + 16) as u16 | 0x4000).to_be_bytes());
    quic::crypto::encrypt_initial(1, DCID, &h, 0, 2, &plain, from_client)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut datagrams: Vec<(bool, Vec<u8>)> = Vec::new();
    let mut pieces = rest.split(|&b| b == 0xff);
    if mode % 2 == 1 {
        let client = pieces.next().unwrap_or_default();
        let server: Vec<u8> = pieces.flat_map(|p| p.iter().copied()).collect();
        datagrams.push((true, initial(client, true)));
        datagrams.push((false, initial(&server, false)));
    } else {
        for p in pieces {
            if let Some((&dir, d)) = p.split_first() {
                datagrams.push((dir % 2 == 0, d.to_vec()));
            }
        }
    }
    let mut analyzer = quic::QUICAnalyzer::new(0, quic::Limits::default());
    let mut events = Events::new();
    events.subscribe(Box::new(RecordingSink { into: Recorded::default(), filter: None }));
    let mut weirds = Vec::new();
    for (is_orig, d) in &datagrams {
        let mut cx = AnalyzerCx::new(Time::ZERO, &NoConnection, &mut events, &mut weirds, "QUIC");
        cx.registry = Some(registry());
        netpac_runtime::analyzer::Analyzer::deliver(&mut analyzer, &mut cx, *is_orig, d);
    }
});
