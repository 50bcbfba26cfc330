//! DNS over TCP: the framer plus `TcpMessage`, fed in two arbitrary pieces.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::dns;
use netpac_runtime::framer::Framer;
use netpac_runtime::parse::{Cursor, ParseCx};

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let split = data[0] as usize % data.len();
    let lim = dns::Limits::default();
    let mut framer = Framer::new(dns::MAX_PDU);
    for piece in [&data[1..split.max(1)], &data[split.max(1)..]] {
        let _ = framer.deliver(piece, dns::TcpMessage::frame_len, &mut |pdu| {
            let mut cur = Cursor::new(pdu);
            let mut cx = ParseCx::new(false, 53);
            let _ = dns::TcpMessage::parse(&mut cur, &mut cx, &lim);
            assert!(cur.pos() <= pdu.len());
        });
        assert!(framer.buffered() <= dns::MAX_PDU);
    }
});
