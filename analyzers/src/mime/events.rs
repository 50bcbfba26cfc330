//! The `mime_*` events: Zeek's MIME analyzer raises them for mail bodies (SMTP).

use netpac_runtime::define_event;
use netpac_runtime::record::Connection;
use netpac_runtime::zeek::ZString;
use std::collections::BTreeMap;

pub use crate::http::MimeHeaderRec;

define_event!(MimeBeginEntity = MIME_BEGIN_ENTITY { c: Connection });
define_event!(MimeEndEntity = MIME_END_ENTITY { c: Connection });
define_event!(
    /// `h.name` is the header's name in upper case.
    MimeOneHeader = MIME_ONE_HEADER { c: Connection, h: MimeHeaderRec }
);
define_event!(
    /// `hlist` is Zeek's `mime_header_list`: a table indexed from 1.
    MimeAllHeaders = MIME_ALL_HEADERS { c: Connection, hlist: BTreeMap<u64, MimeHeaderRec> }
);
define_event!(MimeSegmentData = MIME_SEGMENT_DATA { c: Connection, length: u64, data: ZString });
define_event!(MimeEntityData = MIME_ENTITY_DATA { c: Connection, length: u64, data: ZString });
define_event!(MimeAllData = MIME_ALL_DATA { c: Connection, length: u64, data: ZString });
define_event!(
    /// `event_type` is "illegal format" or "illegal encoding".
    MimeEvent = MIME_EVENT { c: Connection, event_type: ZString, detail: ZString }
);
define_event!(
    /// `hash_value` is the 16 raw bytes of the MD5 of the decoded content.
    MimeContentHash = MIME_CONTENT_HASH { c: Connection, content_len: u64, hash_value: ZString }
);

/// The events of the MIME parser.
pub const EVENT_NAMES: &[&str] = &[
    "mime_begin_entity",
    "mime_end_entity",
    "mime_one_header",
    "mime_all_headers",
    "mime_segment_data",
    "mime_entity_data",
    "mime_all_data",
    "mime_event",
    "mime_content_hash",
];
