//! modbus.log: a row per message, an exception response's row with its name
//! (Zeek 8.2.2 writes the same rows for these packets).

mod common;
mod lines_support;

use common::*;
use lines_support::{orig, resp, session};
use netpac_runtime::event::Events;
use netpac_runtime::log::{Format, Logs};

/// An MBAP header (transaction 7, unit 1) and a PDU.
fn adu(pdu: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 7, 0, 0, 0, (pdu.len() + 1) as u8, 1];
    v.extend_from_slice(pdu);
    v
}

#[test]
fn a_request_a_response_and_an_exception() {
    let frames = session(
        1.0,
        Host::v4("10.0.0.1", 40000),
        Host::v4("10.0.0.2", 502),
        &[
            orig(&adu(&[0x03, 0x00, 0x10, 0x00, 0x02])),
            resp(&adu(&[0x03, 0x04, 0x00, 0x01, 0x00, 0x02])),
            orig(&adu(&[0x2B, 0x0E, 0x01, 0x00])),
            resp(&adu(&[0xAB, 0x04])),
        ],
    );
    let dir = scratch_dir();
    let mut events = Events::with_logs(Logs::new(&dir, Format::Tsv));
    events.subscribe(netpac_analyzers::modbus::log::ModbusLogger::sink());
    let mut engine = Engine::new(Config::default(), netpac_analyzers::registry(), events);
    play(&mut engine, &frames);
    engine.finish().unwrap();
    let log = std::fs::read_to_string(dir.join("modbus.log")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let rows: Vec<String> = log
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').skip(6).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        rows,
        [
            "7 1 READ_HOLDING_REGISTERS REQ -",
            "7 1 READ_HOLDING_REGISTERS RESP -",
            "7 1 ENCAP_INTERFACE_TRANSPORT REQ -",
            "7 1 ENCAP_INTERFACE_TRANSPORT_EXCEPTION RESP SLAVE_DEVICE_FAILURE",
        ]
    );
}
