//! `syslog.log`, as Zeek's base/protocols/syslog/main.zeek writes it: a row
//! per `syslog_message`, facility and severity by name (`Syslog::facility_codes`,
//! `severity_codes`, `?-N` for others).

use crate::syslog::SyslogMessage;
use netpac_runtime::event::{EventHandlers, EventSink};
use netpac_runtime::log::{Logs, Schema, Value};
use netpac_runtime::zeek::{Proto, Time};

/// Zeek's `Syslog::Info` columns.
pub static SYSLOG_LOG: Schema = Schema {
    path: "syslog",
    stream: "Syslog::LOG",
    columns: &[
        ("ts", "time"),
        ("uid", "string"),
        ("id.orig_h", "addr"),
        ("id.orig_p", "port"),
        ("id.resp_h", "addr"),
        ("id.resp_p", "port"),
        ("proto", "enum"),
        ("facility", "string"),
        ("severity", "string"),
        ("message", "string"),
    ],
};

/// `Syslog::facility_codes`.
pub fn facility_name(code: u64) -> String {
    const NAMES: [&str; 24] = [
        "KERN", "USER", "MAIL", "DAEMON", "AUTH", "SYSLOG", "LPR", "NEWS", "UUCP", "CRON",
        "AUTHPRIV", "FTP", "NTP", "AUDIT", "ALERT", "CLOCK", "LOCAL0", "LOCAL1", "LOCAL2",
        "LOCAL3", "LOCAL4", "LOCAL5", "LOCAL6", "LOCAL7",
    ];
    match code {
        0..=23 => NAMES[code as usize].to_string(),
        999 => "UNSPECIFIED".to_string(),
        _ => format!("?-{code}"),
    }
}

/// `Syslog::severity_codes`.
pub fn severity_name(code: u64) -> String {
    const NAMES: [&str; 8] = [
        "EMERG", "ALERT", "CRIT", "ERR", "WARNING", "NOTICE", "INFO", "DEBUG",
    ];
    match code {
        0..=7 => NAMES[code as usize].to_string(),
        999 => "UNSPECIFIED".to_string(),
        _ => format!("?-{code}"),
    }
}

/// Writes `syslog.log` from `syslog_message`.
#[derive(Default)]
pub struct SyslogLogger;

impl SyslogLogger {
    /// The `syslog.log` writer as an event consumer.
    pub fn sink() -> Box<dyn EventSink> {
        Box::new(EventHandlers::new(SyslogLogger).on::<SyslogMessage>(SyslogLogger::message))
    }

    fn message(&mut self, ts: Time, e: &SyslogMessage, logs: &mut Logs) {
        let id = &e.c.id;
        logs.write(
            &SYSLOG_LOG,
            &[
                Value::Time(ts),
                Value::str(e.c.uid.as_bytes()),
                Value::Addr(id.orig_h),
                Value::Port(id.orig_p.number),
                Value::Addr(id.resp_h),
                Value::Port(id.resp_p.number),
                Value::Enum(match id.resp_p.proto {
                    Proto::Tcp => "tcp",
                    Proto::Udp => "udp",
                    _ => "unknown_transport",
                }),
                Value::str(facility_name(e.facility)),
                Value::str(severity_name(e.severity)),
                Value::str(e.msg.as_bytes()),
            ],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_zeeks_tables() {
        assert_eq!(facility_name(20), "LOCAL4");
        assert_eq!(facility_name(999), "UNSPECIFIED");
        assert_eq!(facility_name(127), "?-127");
        assert_eq!(severity_name(6), "INFO");
        assert_eq!(severity_name(999), "UNSPECIFIED");
    }
}
