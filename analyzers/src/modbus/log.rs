//! `modbus.log`, as Zeek's base/protocols/modbus/main.zeek writes it: a row per
//! Modbus message from `modbus_message`, except exception responses, whose row
//! `modbus_exception` writes with the exception's name.

use crate::modbus::{ModbusException, ModbusHeaders, ModbusMessage};
use netpac_runtime::event::{EventHandlers, EventSink};
use netpac_runtime::log::{Logs, Schema, Value};
use netpac_runtime::record::Connection;
use netpac_runtime::zeek::Time;

/// Zeek's `Modbus::Info` columns.
pub static MODBUS_LOG: Schema = Schema {
    path: "modbus",
    stream: "Modbus::LOG",
    columns: &[
        ("ts", "time"),
        ("uid", "string"),
        ("id.orig_h", "addr"),
        ("id.orig_p", "port"),
        ("id.resp_h", "addr"),
        ("id.resp_p", "port"),
        ("tid", "count"),
        ("unit", "count"),
        ("func", "string"),
        ("pdu_type", "string"),
        ("exception", "string"),
    ],
};

/// Writes `modbus.log` from the Modbus events.
#[derive(Default)]
pub struct ModbusLogger {
    /// Whether the last message came from the originator (`c$modbus$pdu_type`);
    /// an exception is raised right after its message.
    last_is_orig: bool,
}

impl ModbusLogger {
    /// The `modbus.log` writer as an event consumer.
    pub fn sink() -> Box<dyn EventSink> {
        Box::new(
            EventHandlers::new(ModbusLogger::default())
                .on::<ModbusMessage>(ModbusLogger::message)
                .on::<ModbusException>(ModbusLogger::exception),
        )
    }

    fn message(&mut self, ts: Time, e: &ModbusMessage, logs: &mut Logs) {
        self.last_is_orig = e.is_orig;
        // Exceptions are written by `modbus_exception`, with their name.
        if e.headers.function_code < 0x80 {
            write(logs, ts, &e.c, &e.headers, e.is_orig, None);
        }
    }

    fn exception(&mut self, ts: Time, e: &ModbusException, logs: &mut Logs) {
        let name = exception_name(e.code);
        write(logs, ts, &e.c, &e.headers, self.last_is_orig, Some(&name));
    }
}

fn write(logs: &mut Logs, ts: Time, c: &Connection, h: &ModbusHeaders, is_orig: bool, exception: Option<&str>) {
    let id = &c.id;
    logs.write(
        &MODBUS_LOG,
        &[
            Value::Time(ts),
            Value::str(c.uid.as_bytes()),
            Value::Addr(id.orig_h),
            Value::Port(id.orig_p.number),
            Value::Addr(id.resp_h),
            Value::Port(id.resp_p.number),
            Value::Count(h.tid),
            Value::Count(h.uid),
            Value::str(function_name(h.function_code)),
            Value::str(if is_orig { "REQ" } else { "RESP" }),
            Value::opt(exception, Value::str),
        ],
    );
}

/// consts.zeek's `function_codes`.
fn known_function(code: u64) -> Option<&'static str> {
    Some(match code {
        0x01 => "READ_COILS",
        0x02 => "READ_DISCRETE_INPUTS",
        0x03 => "READ_HOLDING_REGISTERS",
        0x04 => "READ_INPUT_REGISTERS",
        0x05 => "WRITE_SINGLE_COIL",
        0x06 => "WRITE_SINGLE_REGISTER",
        0x07 => "READ_EXCEPTION_STATUS",
        0x08 => "DIAGNOSTICS",
        0x0B => "GET_COMM_EVENT_COUNTER",
        0x0C => "GET_COMM_EVENT_LOG",
        0x0F => "WRITE_MULTIPLE_COILS",
        0x10 => "WRITE_MULTIPLE_REGISTERS",
        0x11 => "REPORT_SLAVE_ID",
        0x14 => "READ_FILE_RECORD",
        0x15 => "WRITE_FILE_RECORD",
        0x16 => "MASK_WRITE_REGISTER",
        0x17 => "READ_WRITE_MULTIPLE_REGISTERS",
        0x18 => "READ_FIFO_QUEUE",
        0x2B => "ENCAP_INTERFACE_TRANSPORT",
        0x5B => "OBJECT_MESSAGING",
        0x09 => "PROGRAM_484",
        0x0A => "POLL_484",
        0x0D => "PROGRAM_584_984",
        0x0E => "POLL_584_984",
        0x12 => "PROGRAM_884_U84",
        0x13 => "RESET_COMM_LINK_884_U84",
        0x28 => "PROGRAM_CONCEPT",
        0x29 => "MULTIPLE_FUNCTION_CODES",
        0x5A => "PROGRAM_UNITY",
        0x7D => "FIRMWARE_REPLACEMENT",
        0x7E => "PROGRAM_584_984_2",
        0x7F => "REPORT_LOCAL_ADDRESS",
        _ => return None,
    })
}

/// main.zeek's `build_func`: the code's name, or its name without the
/// exception bit followed by `_EXCEPTION`, or `unknown-N`.
pub fn function_name(code: u64) -> String {
    let masked = code & !0x80;
    match (known_function(code), known_function(masked)) {
        (Some(name), _) => name.to_string(),
        (None, Some(name)) if code & 0x80 != 0 => format!("{name}_EXCEPTION"),
        _ => format!("unknown-{code}"),
    }
}

/// consts.zeek's `exception_codes`.
pub fn exception_name(code: u64) -> String {
    match code {
        0x01 => "ILLEGAL_FUNCTION",
        0x02 => "ILLEGAL_DATA_ADDRESS",
        0x03 => "ILLEGAL_DATA_VALUE",
        0x04 => "SLAVE_DEVICE_FAILURE",
        0x05 => "ACKNOWLEDGE",
        0x06 => "SLAVE_DEVICE_BUSY",
        0x08 => "MEMORY_PARITY_ERROR",
        0x0A => "GATEWAY_PATH_UNAVAILABLE",
        0x0B => "GATEWAY_TARGET_DEVICE_FAILED_TO_RESPOND",
        _ => return format!("unknown-{code}"),
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_zeek_builds_them() {
        assert_eq!(function_name(0x03), "READ_HOLDING_REGISTERS");
        assert_eq!(function_name(0x83), "READ_HOLDING_REGISTERS_EXCEPTION");
        assert_eq!(function_name(0xAB), "ENCAP_INTERFACE_TRANSPORT_EXCEPTION");
        assert_eq!(function_name(0x64), "unknown-100");
        assert_eq!(function_name(0xE4), "unknown-228");
        assert_eq!(exception_name(4), "SLAVE_DEVICE_FAILURE");
        assert_eq!(exception_name(7), "unknown-7");
    }
}
