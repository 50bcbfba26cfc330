//! DNS over UDP: one datagram = one `Message`, parsed with every section
//! enabled, then every event binding run (names decompressed, records built).
#![no_main]

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::dns;
use netpac_runtime::parse::{Cursor, ParseCx};

fuzz_target!(|data: &[u8]| {
    let mut lim = dns::Limits::default();
    lim.set("skip_all_auth", 0);
    lim.set("skip_all_addl", 0);
    let mut cur = Cursor::new(data);
    let mut cx = ParseCx::new(true, 53);
    if let Ok(msg) = dns::Message::parse(&mut cur, &mut cx, &lim) {
        assert!(cur.pos() <= data.len());
        // Decode every name the events would (bounded work on hostile pointers).
        for q in &msg.question {
            let _ = q.qname.to_zstring();
        }
        for r in msg
            .answer
            .iter()
            .chain(msg.authority.iter().flatten())
            .chain(msg.additional.iter().flatten())
        {
            let _ = r.name.to_zstring();
        }
    }
});
