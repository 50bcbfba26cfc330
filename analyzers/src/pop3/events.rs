//! The `pop3_*` events (raised by the state machine in `mod.rs`).

use netpac_runtime::define_event;
use netpac_runtime::record::Connection;
use netpac_runtime::zeek::ZString;

define_event!(
    Pop3Request = POP3_REQUEST {
        c: Connection,
        is_orig: bool,
        command: ZString,
        arg: ZString
    }
);
define_event!(
    Pop3Reply = POP3_REPLY {
        c: Connection,
        is_orig: bool,
        cmd: ZString,
        msg: ZString
    }
);
define_event!(
    Pop3Data = POP3_DATA {
        c: Connection,
        is_orig: bool,
        data: ZString
    }
);
define_event!(
    Pop3Unexpected = POP3_UNEXPECTED {
        c: Connection,
        is_orig: bool,
        msg: ZString,
        detail: ZString
    }
);
define_event!(Pop3Starttls = POP3_STARTTLS { c: Connection });
define_event!(
    Pop3LoginSuccess = POP3_LOGIN_SUCCESS {
        c: Connection,
        is_orig: bool,
        user: ZString,
        password: ZString
    }
);
define_event!(
    Pop3LoginFailure = POP3_LOGIN_FAILURE {
        c: Connection,
        is_orig: bool,
        user: ZString,
        password: ZString
    }
);

/// Every event the POP3 analyzer raises.
pub const EVENT_NAMES: &[&str] = &[
    "pop3_request",
    "pop3_reply",
    "pop3_data",
    "pop3_unexpected",
    "pop3_starttls",
    "pop3_login_success",
    "pop3_login_failure",
];
