//! X.509: the file analyzer TLS hands certificates to (parsed by x509-parser,
//! then named as OpenSSL prints names for Zeek), fed arbitrary bytes as one
//! certificate, with every event subscribed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netpac_analyzers::x509;
use netpac_runtime::analyzer::TestConn;
use netpac_runtime::event::{Events, Recorded, RecordingSink};
use netpac_runtime::files::FileData;
use netpac_runtime::parse::{EmitCx, Pdu};
use netpac_runtime::zeek::{Proto, Time};

fuzz_target!(|data: &[u8]| {
    let conn = TestConn::new(Proto::Tcp, 443, "Cfuzz");
    let mut events = Events::new();
    events.subscribe(Box::new(RecordingSink {
        into: Recorded::default(),
        filter: None,
    }));
    let ecx = EmitCx {
        ts: Time(0),
        conn: &conn,
        pdu: Pdu::new(data),
        pdu_len: data.len(),
        is_orig: false,
        halted: false,
        l2: None,
    };
    (x509::FILE_ANALYZER.analyze)(&mut events, &FileData { ecx: &ecx, is_orig: false, source: "SSL", index: 0, data });
});
