//! The `http_*` events (Zeek's HTTP analyzer raises them all from its stream state).

use netpac_runtime::define_event;
use netpac_runtime::record::Connection;
use netpac_runtime::zeek::{Time, ZString};
use serde::Serialize;
use std::collections::BTreeMap;

/// Zeek's `mime_header_rec`.
#[derive(Debug, Clone, Serialize)]
pub struct MimeHeaderRec {
    pub name: ZString,
    pub value: ZString,
}

/// Zeek's `http_message_stat`.
#[derive(Debug, Clone, Serialize)]
pub struct HttpMessageStat {
    pub start: Time,
    pub interrupted: bool,
    pub finish_msg: ZString,
    pub body_length: u64,
    pub content_gap_length: u64,
    pub header_length: u64,
}

/// Zeek's `http_stats_rec`.
#[derive(Debug, Clone, Serialize)]
pub struct HttpStatsRec {
    pub num_requests: u64,
    pub num_replies: u64,
    pub request_version: f64,
    pub reply_version: f64,
}

define_event!(
    #[allow(non_snake_case)]
    HttpRequest = HTTP_REQUEST {
        c: Connection,
        method: ZString,
        original_URI: ZString,
        unescaped_URI: ZString,
        version: ZString
    }
);
define_event!(
    HttpReply = HTTP_REPLY {
        c: Connection,
        version: ZString,
        code: u64,
        reason: ZString
    }
);
define_event!(
    HttpHeader = HTTP_HEADER {
        c: Connection,
        is_orig: bool,
        name: ZString,
        value: ZString
    }
);
define_event!(
    /// `hlist` is Zeek's `mime_header_list`: a table indexed from 1.
    HttpAllHeaders = HTTP_ALL_HEADERS { c: Connection, is_orig: bool, hlist: BTreeMap<u64, MimeHeaderRec> }
);
define_event!(
    HttpBeginEntity = HTTP_BEGIN_ENTITY {
        c: Connection,
        is_orig: bool
    }
);
define_event!(
    HttpEndEntity = HTTP_END_ENTITY {
        c: Connection,
        is_orig: bool
    }
);
define_event!(
    HttpEntityData = HTTP_ENTITY_DATA {
        c: Connection,
        is_orig: bool,
        length: u64,
        data: ZString
    }
);
define_event!(
    HttpContentType = HTTP_CONTENT_TYPE {
        c: Connection,
        is_orig: bool,
        ty: ZString,
        subty: ZString
    }
);
define_event!(
    HttpMessageDone = HTTP_MESSAGE_DONE {
        c: Connection,
        is_orig: bool,
        stat: HttpMessageStat
    }
);
define_event!(
    HttpEvent = HTTP_EVENT {
        c: Connection,
        event_type: ZString,
        detail: ZString
    }
);
define_event!(
    HttpStats = HTTP_STATS {
        c: Connection,
        stats: HttpStatsRec
    }
);
define_event!(
    HttpConnectionUpgrade = HTTP_CONNECTION_UPGRADE {
        c: Connection,
        protocol: ZString
    }
);

/// The events this analyzer raises.
pub const EVENT_NAMES: &[&str] = &[
    "http_request",
    "http_reply",
    "http_header",
    "http_all_headers",
    "http_begin_entity",
    "http_end_entity",
    "http_entity_data",
    "http_content_type",
    "http_message_done",
    "http_event",
    "http_stats",
    "http_connection_upgrade",
];
