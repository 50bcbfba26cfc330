//! `ntp.log`, as Zeek's base/protocols/ntp/main.zeek writes it: a row per
//! message of modes 0-5 (standard messages fill the columns; mode 0 leaves
//! them unset); control (6) and mode 7 messages are not logged.

use crate::ntp::NtpMessage;
use netpac_runtime::event::{EventHandlers, EventSink};
use netpac_runtime::log::{Logs, Schema, Value};
use netpac_runtime::zeek::Time;

/// Zeek's `NTP::Info` columns.
pub static NTP_LOG: Schema = Schema {
    path: "ntp",
    stream: "NTP::LOG",
    columns: &[
        ("ts", "time"),
        ("uid", "string"),
        ("id.orig_h", "addr"),
        ("id.orig_p", "port"),
        ("id.resp_h", "addr"),
        ("id.resp_p", "port"),
        ("version", "count"),
        ("mode", "count"),
        ("stratum", "count"),
        ("poll", "interval"),
        ("precision", "interval"),
        ("root_delay", "interval"),
        ("root_disp", "interval"),
        ("ref_id", "string"),
        ("ref_time", "time"),
        ("org_time", "time"),
        ("rec_time", "time"),
        ("xmt_time", "time"),
        ("num_exts", "count"),
    ],
};

/// Writes `ntp.log` from `ntp_message`.
#[derive(Default)]
pub struct NtpLogger;

impl NtpLogger {
    /// The `ntp.log` writer as an event consumer.
    pub fn sink() -> Box<dyn EventSink> {
        Box::new(EventHandlers::new(NtpLogger).on::<NtpMessage>(NtpLogger::message))
    }

    fn message(&mut self, ts: Time, e: &NtpMessage, logs: &mut Logs) {
        let msg = &e.msg;
        if msg.mode > 5 {
            return;
        }
        let id = &e.c.id;
        let mut row = vec![
            Value::Time(ts),
            Value::str(e.c.uid.as_bytes()),
            Value::Addr(id.orig_h),
            Value::Port(id.orig_p.number),
            Value::Addr(id.resp_h),
            Value::Port(id.resp_p.number),
            Value::Count(msg.version),
            Value::Count(msg.mode),
        ];
        match &msg.std_msg {
            Some(s) => {
                let ref_id = if let Some(k) = &s.kiss_code {
                    Value::str(k.as_bytes())
                } else if let Some(r) = &s.ref_id {
                    Value::str(r.as_bytes())
                } else if let Some(a) = &s.ref_addr {
                    Value::str(a.to_string())
                } else {
                    Value::Unset
                };
                row.extend([
                    Value::Count(s.stratum),
                    Value::Interval(s.poll),
                    Value::Interval(s.precision),
                    Value::Interval(s.root_delay),
                    Value::Interval(s.root_disp),
                    ref_id,
                    Value::Time(s.ref_time),
                    Value::Time(s.org_time),
                    Value::Time(s.rec_time),
                    Value::Time(s.xmt_time),
                    Value::Count(s.num_exts),
                ]);
            }
            None => {
                row.extend(std::iter::repeat_n(Value::Unset, 10));
                row.push(Value::Count(0));
            }
        }
        logs.write(&NTP_LOG, &row);
    }
}
