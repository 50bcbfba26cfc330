//! `conn.log`: one row per connection, written when the engine raises
//! `connection_state_remove`, as Zeek's `base/protocols/conn` script does.
//! The row is built from the event's `connection` record alone.

use super::{in_nets, EndpointState};
use crate::conn::events::ConnectionStateRemove;
use crate::event::{EventHandlers, EventSink};
use crate::log::{LogRecord, Logs, Schema, Value};
use crate::record::Connection;
use crate::zeek::{Proto, Time};
use std::net::IpAddr;

/// The `conn.log` writer, as an event consumer.
pub struct ConnLog {
    local_nets: Vec<(IpAddr, u8)>,
    columns: ConnColumns,
}

impl ConnLog {
    /// `local_nets` fill `local_orig`/`local_resp` (unset when empty, as in
    /// Zeek without `Site::local_nets`); `columns` picks the policy columns.
    pub fn sink(local_nets: Vec<(IpAddr, u8)>, columns: ConnColumns) -> Box<dyn EventSink> {
        Box::new(
            EventHandlers::new(ConnLog {
                local_nets,
                columns,
            })
            .on::<ConnectionStateRemove>(ConnLog::remove),
        )
    }

    fn remove(&mut self, _ts: Time, e: &ConnectionStateRemove, logs: &mut Logs) {
        logs.write_record(&ConnRecord {
            conn: &e.c,
            local_nets: &self.local_nets,
            columns: self.columns,
        });
    }
}

/// Zeek's `conn_state` (scripts/base/protocols/conn/main.zeek), from the
/// endpoints' sizes and states and the history.
pub fn conn_state(c: &Connection) -> &'static str {
    let (osize, os) = (c.orig.size, c.orig.state);
    let (rsize, rs) = (c.resp.size, c.resp.state);
    match c.id.resp_p.proto {
        Proto::Tcp => {
            use EndpointState as S;
            let os = S::from_u64(os);
            let rs = S::from_u64(rs);
            let o_inactive = matches!(os, S::Inactive | S::Partial);
            let r_inactive = matches!(rs, S::Inactive | S::Partial);
            if rs == S::Reset {
                if os == S::SynSent
                    || os == S::SynAckSent
                    || (os == S::Reset && osize == 0 && rsize == 0)
                {
                    "REJ"
                } else if o_inactive {
                    "RSTRH"
                } else {
                    "RSTR"
                }
            } else if os == S::Reset {
                if r_inactive {
                    if history_is_rstos0(&c.history) {
                        "RSTOS0"
                    } else {
                        "OTH"
                    }
                } else {
                    "RSTO"
                }
            } else if rs == S::Closed && os == S::Closed {
                "SF"
            } else if os == S::Closed {
                if r_inactive {
                    "SH"
                } else {
                    "S2"
                }
            } else if rs == S::Closed {
                if o_inactive {
                    "SHR"
                } else {
                    "S3"
                }
            } else if os == S::SynSent && rs == S::Inactive {
                "S0"
            } else if os == S::Established && rs == S::Established {
                "S1"
            } else {
                "OTH"
            }
        }
        Proto::Udp => match (os == 1, rs == 1) {
            (true, true) => "SF",
            (true, false) => "S0",
            (false, true) => "SHR",
            (false, false) => "OTH",
        },
        _ => "OTH",
    }
}

/// `/^?S[^HAFGIQ]*R.*/`: the originator's SYN followed by its own RST, with
/// nothing from the responder in between.
fn history_is_rstos0(h: &str) -> bool {
    let rest = h.strip_prefix('^').unwrap_or(h);
    let Some(rest) = rest.strip_prefix('S') else {
        return false;
    };
    for c in rest.chars() {
        if c == 'R' {
            return true;
        }
        if "HAFGIQ".contains(c) {
            return false;
        }
    }
    false
}

/// The optional column groups of `conn.log`, each one a Zeek policy script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConnColumns {
    /// `policy/protocols/conn/vlan-logging`: `vlan`, `inner_vlan`.
    pub vlan: bool,
    /// `policy/protocols/conn/mac-logging`: `orig_l2_addr`, `resp_l2_addr`.
    pub l2_addrs: bool,
    /// `policy/protocols/conn/speculative-service`: `speculative_service`.
    pub speculative_service: bool,
    /// `policy/protocols/conn/community-id-logging`: `community_id`.
    pub community_id: bool,
}

/// `conn.log` columns (today's Zeek, with `ip_proto`).
const CONN_COLUMNS_BASE: &[(&str, &str)] = &[
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("proto", "enum"),
    ("service", "string"),
    ("duration", "interval"),
    ("orig_bytes", "count"),
    ("resp_bytes", "count"),
    ("conn_state", "string"),
    ("local_orig", "bool"),
    ("local_resp", "bool"),
    ("missed_bytes", "count"),
    ("history", "string"),
    ("orig_pkts", "count"),
    ("orig_ip_bytes", "count"),
    ("resp_pkts", "count"),
    ("resp_ip_bytes", "count"),
    ("tunnel_parents", "set[string]"),
    ("ip_proto", "count"),
];

/// The `conn.log` schema with the given optional columns (built once per combination).
pub fn conn_log_schema(cols: ConnColumns) -> &'static Schema {
    static SCHEMAS: [std::sync::OnceLock<Schema>; 16] = [const { std::sync::OnceLock::new() }; 16];
    let i = usize::from(cols.vlan)
        | usize::from(cols.l2_addrs) << 1
        | usize::from(cols.speculative_service) << 2
        | usize::from(cols.community_id) << 3;
    SCHEMAS[i].get_or_init(|| {
        let mut columns = CONN_COLUMNS_BASE.to_vec();
        if cols.vlan {
            columns.extend([("vlan", "int"), ("inner_vlan", "int")]);
        }
        if cols.l2_addrs {
            columns.extend([("orig_l2_addr", "string"), ("resp_l2_addr", "string")]);
        }
        if cols.speculative_service {
            columns.push(("speculative_service", "string"));
        }
        if cols.community_id {
            columns.push(("community_id", "string"));
        }
        Schema {
            path: "conn",
            stream: "Conn::LOG",
            columns: Vec::leak(columns),
        }
    })
}

/// One `conn.log` row: a connection as Zeek's `set_conn` sees it at removal.
pub struct ConnRecord<'a> {
    pub conn: &'a Connection,
    pub local_nets: &'a [(IpAddr, u8)],
    pub columns: ConnColumns,
}

impl LogRecord for ConnRecord<'_> {
    fn schema(&self) -> &'static Schema {
        conn_log_schema(self.columns)
    }
    fn values(&self) -> Vec<Value> {
        conn_log_row(self.conn, self.local_nets, self.columns)
    }
}

fn conn_log_row(c: &Connection, local_nets: &[(IpAddr, u8)], cols: ConnColumns) -> Vec<Value> {
    let duration = c.duration;
    let has_duration = duration.0 > 0;
    let (osize, rsize) = (c.orig.size, c.resp.size);
    let service = if c.service.is_empty() {
        Value::Unset
    } else {
        Value::str(c.service.join(","))
    };
    let local = !local_nets.is_empty();
    let mut row = vec![
        Value::Time(c.start_time),
        Value::str(c.uid.as_bytes()),
        Value::Addr(c.id.orig_h),
        Value::Port(c.id.orig_p.number),
        Value::Addr(c.id.resp_h),
        Value::Port(c.id.resp_p.number),
        Value::Enum(c.id.resp_p.proto.as_str()),
        service,
        if has_duration {
            Value::Interval(duration)
        } else {
            Value::Unset
        },
        if has_duration {
            Value::Count(osize)
        } else {
            Value::Unset
        },
        if has_duration {
            Value::Count(rsize)
        } else {
            Value::Unset
        },
        Value::str(conn_state(c)),
        if local {
            Value::Bool(in_nets(c.id.orig_h, local_nets))
        } else {
            Value::Unset
        },
        if local {
            Value::Bool(in_nets(c.id.resp_h, local_nets))
        } else {
            Value::Unset
        },
        Value::Count(c.extra.missed_bytes),
        if c.history.is_empty() {
            Value::Unset
        } else {
            Value::str(&c.history)
        },
        Value::Count(c.orig.num_pkts.unwrap_or(0)),
        Value::Count(c.orig.num_bytes_ip.unwrap_or(0)),
        Value::Count(c.resp.num_pkts.unwrap_or(0)),
        Value::Count(c.resp.num_bytes_ip.unwrap_or(0)),
        if c.extra.tunnel_parents.is_empty() {
            Value::Unset
        } else {
            Value::Set(c.extra.tunnel_parents.iter().map(|u| Value::str(u.as_bytes())).collect())
        },
        Value::Count(u64::from(c.extra.ip_proto)),
    ];
    if cols.vlan {
        row.push(Value::opt(c.vlan, Value::Int));
        row.push(Value::opt(c.inner_vlan, Value::Int));
    }
    if cols.l2_addrs {
        row.push(Value::opt(c.orig.l2_addr, |m| Value::str(m.text().as_str())));
        row.push(Value::opt(c.resp.l2_addr, |m| Value::str(m.text().as_str())));
    }
    if cols.speculative_service {
        row.push(if c.extra.speculative_service.is_empty() {
            Value::Unset
        } else {
            Value::str(c.extra.speculative_service.join(","))
        });
    }
    if cols.community_id {
        row.push(Value::str(community_id(&c.id, c.extra.ip_proto, 0)));
    }
    row
}

/// The Community ID (v1) of a flow: a hash of its 5-tuple that other tools
/// compute alike, `1:` + base64(SHA-1(seed, addresses, proto, ports)), the
/// endpoints ordered so both directions give the same id.
pub fn community_id(id: &crate::zeek::ConnId, ip_proto: u8, seed: u16) -> String {
    use base64::Engine as _;
    use sha1::Digest as _;
    let octets = |a: IpAddr| match a {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    let (mut a, mut ap) = (octets(id.orig_h), id.orig_p.number);
    let (mut b, mut bp) = (octets(id.resp_h), id.resp_p.number);
    if (&a, ap) > (&b, bp) {
        std::mem::swap(&mut a, &mut b);
        std::mem::swap(&mut ap, &mut bp);
    }
    let mut h = sha1::Sha1::new();
    h.update(seed.to_be_bytes());
    h.update(&a);
    h.update(&b);
    h.update([ip_proto, 0]);
    if matches!(ip_proto, 1 | 6 | 17 | 58 | 132) {
        h.update(ap.to_be_bytes());
        h.update(bp.to_be_bytes());
    }
    format!(
        "1:{}",
        base64::engine::general_purpose::STANDARD.encode(h.finalize())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rstos0_pattern() {
        assert!(history_is_rstos0("SR"));
        assert!(history_is_rstos0("^SsR"));
        // The pattern is case-sensitive: a responder's `h` does not count.
        assert!(history_is_rstos0("ShR"));
        assert!(!history_is_rstos0("SHR"));
        assert!(!history_is_rstos0("SAR"));
        assert!(!history_is_rstos0("DR"));
        assert!(!history_is_rstos0("S"));
    }
}

#[cfg(test)]
mod community_id_tests {
    use super::community_id;
    use crate::zeek::{ConnId, Port, Proto};

    fn id(a: &str, ap: u16, b: &str, bp: u16, proto: Proto) -> ConnId {
        ConnId {
            orig_h: a.parse().unwrap(),
            orig_p: Port { number: ap, proto },
            resp_h: b.parse().unwrap(),
            resp_p: Port { number: bp, proto },
        }
    }

    #[test]
    fn matches_the_published_test_vector_and_ignores_direction() {
        // The Community ID specification's TCP example (seed 0).
        let fwd = id("128.232.110.120", 34855, "66.35.250.204", 80, Proto::Tcp);
        assert_eq!(community_id(&fwd, 6, 0), "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
        assert_eq!(
            community_id(&fwd.flipped(), 6, 0),
            "1:LQU9qZlK+B5F3KDmev6m5PMibrg="
        );
    }
}
