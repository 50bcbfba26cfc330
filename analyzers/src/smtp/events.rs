//! The `smtp_*` events (Zeek's SMTP analyzer raises them from its stream state).

use netpac_runtime::define_event;
use netpac_runtime::record::Connection;
use netpac_runtime::zeek::ZString;

define_event!(
    /// `command` is upper-cased; `is_orig` is whether the client is the originator.
    SmtpRequest = SMTP_REQUEST { c: Connection, is_orig: bool, command: ZString, arg: ZString }
);
define_event!(
    /// `cmd` is the command the reply answers (`>` for the greeting, `.` for the end of data).
    SmtpReply = SMTP_REPLY {
        c: Connection,
        is_orig: bool,
        code: u64,
        cmd: ZString,
        msg: ZString,
        cont_resp: bool
    }
);
define_event!(SmtpData = SMTP_DATA { c: Connection, is_orig: bool, data: ZString });
define_event!(
    SmtpUnexpected = SMTP_UNEXPECTED { c: Connection, is_orig: bool, msg: ZString, detail: ZString }
);
define_event!(SmtpStarttls = SMTP_STARTTLS { c: Connection });
