//! Property: arbitrary bytes never panic any generated parser, and a parser
//! never claims to consume more than its input.

mod dns_support;

use netpac::proto::{arp, dns, modbus};
use netpac_runtime::parse::{Cursor, ParseCx};
use netpac_runtime::zeek::Proto;
use proptest::prelude::*;

#[allow(dead_code)]
mod shapes_gen {
    include!(concat!(env!("OUT_DIR"), "/test_grammars/test_grammars.rs"));
}
use shapes_gen::shapes;

macro_rules! check {
    ($unit:ty, $lim:expr, $data:expr $(, $arg:expr)*) => {{
        let data: &[u8] = $data;
        let mut cur = Cursor::new(data);
        let mut cx = ParseCx::new(true, 53);
        let _ = <$unit>::parse(&mut cur, &mut cx, $lim $(, $arg)*);
        prop_assert!(cur.pos() <= data.len());
    }};
}

/// Bytes that look a little like DNS: a plausible header, then noise.
fn dnsish() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<u16>(),
        any::<u16>(),
        0u16..4,
        0u16..6,
        0u16..3,
        0u16..3,
        proptest::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(id, flags, qd, an, ns, ar, body)| {
            let mut v = Vec::new();
            for x in [id, flags, qd, an, ns, ar] {
                v.extend_from_slice(&x.to_be_bytes());
            }
            v.extend_from_slice(&body);
            v
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn dns_units_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        let all = dns_support::all_sections();
        let def = dns::Limits::default();
        check!(dns::Message, &def, &data);
        check!(dns::Message, &all, &data);
        check!(dns::TcpMessage, &all, &data);
        check!(dns::Header, &def, &data);
        check!(dns::Question, &def, &data);
        check!(dns::RR, &all, &data, 1);
        let _ = dns::TcpMessage::frame_len(&data);
    }

    #[test]
    fn dns_analyzer_never_panics(data in dnsish(), split in 0usize..400) {
        let _ = dns_support::run(Proto::Udp, 53, dns_support::all_sections(), &[(true, data.clone()), (false, data.clone())]);
        let mut framed = (data.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&data);
        let at = split.min(framed.len());
        let _ = dns_support::run(Proto::Tcp, 53, dns_support::all_sections(),
            &[(true, framed[..at].to_vec()), (true, framed[at..].to_vec())]);
    }

    #[test]
    fn modbus_units_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300), is_orig in any::<bool>()) {
        let lim = modbus::Limits::default();
        let mut cur = Cursor::new(&data);
        let mut cx = ParseCx::new(is_orig, 502);
        let _ = modbus::Pdu::parse(&mut cur, &mut cx, &lim);
        prop_assert!(cur.pos() <= data.len());
        check!(modbus::ReadFileRecordResponse, &lim, &data);
        check!(modbus::FileRecordWrite, &lim, &data);
        check!(modbus::ReadFifoQueueResponse, &lim, &data);
        let _ = modbus::Pdu::frame_len(&data);
    }

    #[test]
    fn arp_units_never_panic(data in proptest::collection::vec(any::<u8>(), 0..120)) {
        let lim = arp::Limits::default();
        check!(arp::ArpPacket, &lim, &data);
        check!(arp::ArpHeader, &lim, &data);
    }

    #[test]
    fn shape_units_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        let lim = shapes::Limits::default();
        check!(shapes::LengthPrefixed, &lim, &data);
        check!(shapes::Line, &lim, &data);
        check!(shapes::Records, &lim, &data);
        check!(shapes::Tagged, &lim, &data);
    }
}
