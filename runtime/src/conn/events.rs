//! The connection-level events of Zeek's TCP, UDP, ICMP and ConnSize
//! analyzers and the core, with argument names as in the specification.

use crate::define_event;
use crate::record::{
    Connection, EncapsulatingConn, Icmp6Mldv2Mar, Icmp6NdOption, IcmpConn, IcmpContext, SynPacket,
};
use crate::zeek::{Addr, Interval, ZString};

define_event!(NewConnection = NEW_CONNECTION { c: Connection });
define_event!(ConnectionStateRemove = CONNECTION_STATE_REMOVE { c: Connection });
define_event!(ConnectionTimeout = CONNECTION_TIMEOUT { c: Connection });
define_event!(ConnectionReused = CONNECTION_REUSED { c: Connection });
define_event!(
    /// A packet of the connection came through other tunnels than the one
    /// before (`e`: the new chain, outermost first; empty: none).
    TunnelChanged = TUNNEL_CHANGED {
        c: Connection,
        e: Vec<EncapsulatingConn>
    }
);
define_event!(
    /// An IPv6 flow label of one direction changed after its first packet.
    ConnectionFlowLabelChanged = CONNECTION_FLOW_LABEL_CHANGED {
        c: Connection,
        is_orig: bool,
        old_label: u64,
        new_label: u64
    }
);
define_event!(
    ProtocolConfirmation = PROTOCOL_CONFIRMATION {
        c: Connection,
        atype: String,
        aid: u64
    }
);
define_event!(
    ProtocolViolation = PROTOCOL_VIOLATION {
        c: Connection,
        atype: String,
        aid: u64,
        reason: ZString
    }
);
define_event!(
    ConnWeird = CONN_WEIRD {
        name: &'static str,
        c: Connection,
        addl: ZString,
        /// Which analyzer saw it (Zeek 8's `source` argument; weird.log's
        /// column); not an argument in the specification.
        #[serde(skip)]
        source: &'static str
    }
);
define_event!(
    FlowWeird = FLOW_WEIRD {
        name: String,
        src: Addr,
        dst: Addr,
        addl: ZString,
        #[serde(skip)]
        source: &'static str
    }
);
define_event!(
    NetWeird = NET_WEIRD {
        name: String,
        addl: ZString,
        #[serde(skip)]
        source: &'static str
    }
);

define_event!(
    ConnBytesThresholdCrossed = CONN_BYTES_THRESHOLD_CROSSED {
        c: Connection,
        threshold: u64,
        is_orig: bool
    }
);
define_event!(
    ConnPacketsThresholdCrossed = CONN_PACKETS_THRESHOLD_CROSSED {
        c: Connection,
        threshold: u64,
        is_orig: bool
    }
);

define_event!(NewConnectionContents = NEW_CONNECTION_CONTENTS { c: Connection });
define_event!(ConnectionAttempt = CONNECTION_ATTEMPT { c: Connection });
define_event!(ConnectionEstablished = CONNECTION_ESTABLISHED { c: Connection });
define_event!(PartialConnection = PARTIAL_CONNECTION { c: Connection });
define_event!(ConnectionPartialClose = CONNECTION_PARTIAL_CLOSE { c: Connection });
define_event!(ConnectionFinished = CONNECTION_FINISHED { c: Connection });
define_event!(ConnectionHalfFinished = CONNECTION_HALF_FINISHED { c: Connection });
define_event!(ConnectionRejected = CONNECTION_REJECTED { c: Connection });
define_event!(ConnectionReset = CONNECTION_RESET { c: Connection });
define_event!(ConnectionPending = CONNECTION_PENDING { c: Connection });
define_event!(
    ConnectionSynPacket = CONNECTION_SYN_PACKET {
        c: Connection,
        pkt: SynPacket
    }
);
define_event!(ConnectionFirstAck = CONNECTION_FIRST_ACK { c: Connection });
define_event!(
    ConnectionEof = CONNECTION_EOF {
        c: Connection,
        is_orig: bool
    }
);
define_event!(
    TcpPacket = TCP_PACKET {
        c: Connection,
        is_orig: bool,
        flags: String,
        seq: u64,
        ack: u64,
        len: u64,
        payload: ZString
    }
);
define_event!(
    TcpOption = TCP_OPTION {
        c: Connection,
        is_orig: bool,
        opt: u64,
        optlen: u64
    }
);
define_event!(
    TcpContents = TCP_CONTENTS {
        c: Connection,
        is_orig: bool,
        seq: u64,
        contents: ZString
    }
);
define_event!(
    TcpRexmit = TCP_REXMIT {
        c: Connection,
        is_orig: bool,
        seq: u64,
        len: u64,
        data_in_flight: u64,
        window: u64
    }
);
define_event!(
    ContentsFileWriteFailure = CONTENTS_FILE_WRITE_FAILURE {
        c: Connection,
        is_orig: bool,
        msg: ZString
    }
);
define_event!(
    TcpMultipleChecksumErrors = TCP_MULTIPLE_CHECKSUM_ERRORS {
        c: Connection,
        is_orig: bool,
        threshold: u64
    }
);
define_event!(
    TcpMultipleZeroWindows = TCP_MULTIPLE_ZERO_WINDOWS {
        c: Connection,
        is_orig: bool,
        threshold: u64
    }
);
define_event!(
    TcpMultipleRetransmissions = TCP_MULTIPLE_RETRANSMISSIONS {
        c: Connection,
        is_orig: bool,
        threshold: u64
    }
);

define_event!(UdpRequest = UDP_REQUEST { u: Connection });
define_event!(UdpReply = UDP_REPLY { u: Connection });
define_event!(
    UdpContents = UDP_CONTENTS {
        u: Connection,
        is_orig: bool,
        contents: ZString
    }
);
define_event!(
    UdpMultipleChecksumErrors = UDP_MULTIPLE_CHECKSUM_ERRORS {
        u: Connection,
        is_orig: bool,
        threshold: u64
    }
);

define_event!(
    IcmpSent = ICMP_SENT {
        c: Connection,
        icmp: IcmpConn
    }
);
define_event!(
    IcmpSentPayload = ICMP_SENT_PAYLOAD {
        c: Connection,
        icmp: IcmpConn,
        payload: ZString
    }
);
define_event!(
    IcmpEchoRequest = ICMP_ECHO_REQUEST {
        c: Connection,
        icmp: IcmpConn,
        id: u64,
        seq: u64,
        payload: ZString
    }
);
define_event!(
    IcmpEchoReply = ICMP_ECHO_REPLY {
        c: Connection,
        icmp: IcmpConn,
        id: u64,
        seq: u64,
        payload: ZString
    }
);
define_event!(
    IcmpErrorMessage = ICMP_ERROR_MESSAGE {
        c: Connection,
        icmp: IcmpConn,
        code: u64,
        context: IcmpContext
    }
);
define_event!(
    IcmpUnreachable = ICMP_UNREACHABLE {
        c: Connection,
        icmp: IcmpConn,
        code: u64,
        context: IcmpContext
    }
);
define_event!(
    IcmpPacketTooBig = ICMP_PACKET_TOO_BIG {
        c: Connection,
        icmp: IcmpConn,
        code: u64,
        context: IcmpContext
    }
);
define_event!(
    IcmpTimeExceeded = ICMP_TIME_EXCEEDED {
        c: Connection,
        icmp: IcmpConn,
        code: u64,
        context: IcmpContext
    }
);
define_event!(
    IcmpParameterProblem = ICMP_PARAMETER_PROBLEM {
        c: Connection,
        icmp: IcmpConn,
        code: u64,
        context: IcmpContext
    }
);
define_event!(
    /// An MLDv1 Multicast Listener Report (ICMPv6 type 131).
    Icmpv6MldReportV1 = ICMPV6_MLD_REPORT_V1 { c: Connection, group_addr: Addr }
);
define_event!(
    /// An MLDv1 Multicast Listener Done (ICMPv6 type 132).
    Icmpv6MldDoneV1 = ICMPV6_MLD_DONE_V1 { c: Connection, group_addr: Addr }
);
define_event!(
    /// An MLDv2 Multicast Listener Report (ICMPv6 type 143) and the records
    /// of it that are there in full.
    Icmpv6MldReportV2 = ICMPV6_MLD_REPORT_V2 { c: Connection, groups: Vec<Icmp6Mldv2Mar> }
);
define_event!(IcmpRouterSolicitation = ICMP_ROUTER_SOLICITATION { c: Connection, icmp: IcmpConn, options: Vec<Icmp6NdOption> });
define_event!(IcmpRouterAdvertisement = ICMP_ROUTER_ADVERTISEMENT {
    c: Connection,
    icmp: IcmpConn,
    cur_hop_limit: u64,
    managed: bool,
    other: bool,
    home_agent: bool,
    pref: u64,
    proxy: bool,
    rsv: u64,
    router_lifetime: Interval,
    reachable_time: Interval,
    retrans_timer: Interval,
    options: Vec<Icmp6NdOption>,
});
define_event!(IcmpNeighborSolicitation = ICMP_NEIGHBOR_SOLICITATION { c: Connection, icmp: IcmpConn, tgt: Addr, options: Vec<Icmp6NdOption> });
define_event!(IcmpNeighborAdvertisement = ICMP_NEIGHBOR_ADVERTISEMENT {
    c: Connection,
    icmp: IcmpConn,
    router: bool,
    solicited: bool,
    #[serde(rename = "override")]
    override_: bool,
    tgt: Addr,
    options: Vec<Icmp6NdOption>,
});
define_event!(IcmpRedirect = ICMP_REDIRECT { c: Connection, icmp: IcmpConn, tgt: Addr, dest: Addr, options: Vec<Icmp6NdOption> });

/// Every event the engine itself raises (connections, TCP, UDP, ICMP, ConnSize,
/// weirds, analyzer verdicts), for `netpac --list-events`.
pub const ENGINE_EVENTS: &[crate::event::EventId] = &[
    crate::event::ids::CONNECTION_ATTEMPT,
    crate::event::ids::CONNECTION_EOF,
    crate::event::ids::CONNECTION_ESTABLISHED,
    crate::event::ids::CONNECTION_FINISHED,
    crate::event::ids::CONNECTION_FIRST_ACK,
    crate::event::ids::CONNECTION_FLOW_LABEL_CHANGED,
    crate::event::ids::CONNECTION_HALF_FINISHED,
    crate::event::ids::CONNECTION_PARTIAL_CLOSE,
    crate::event::ids::CONNECTION_PENDING,
    crate::event::ids::CONNECTION_REJECTED,
    crate::event::ids::CONNECTION_RESET,
    crate::event::ids::CONNECTION_REUSED,
    crate::event::ids::CONNECTION_STATE_REMOVE,
    crate::event::ids::CONNECTION_SYN_PACKET,
    crate::event::ids::CONNECTION_TIMEOUT,
    crate::event::ids::CONN_BYTES_THRESHOLD_CROSSED,
    crate::event::ids::CONN_PACKETS_THRESHOLD_CROSSED,
    crate::event::ids::CONN_WEIRD,
    crate::event::ids::CONTENTS_FILE_WRITE_FAILURE,
    crate::event::ids::FLOW_WEIRD,
    crate::event::ids::ICMP_ECHO_REPLY,
    crate::event::ids::ICMP_ECHO_REQUEST,
    crate::event::ids::ICMP_ERROR_MESSAGE,
    crate::event::ids::ICMP_NEIGHBOR_ADVERTISEMENT,
    crate::event::ids::ICMP_NEIGHBOR_SOLICITATION,
    crate::event::ids::ICMP_PACKET_TOO_BIG,
    crate::event::ids::ICMP_PARAMETER_PROBLEM,
    crate::event::ids::ICMP_REDIRECT,
    crate::event::ids::ICMP_ROUTER_ADVERTISEMENT,
    crate::event::ids::ICMP_ROUTER_SOLICITATION,
    crate::event::ids::ICMP_SENT,
    crate::event::ids::ICMP_SENT_PAYLOAD,
    crate::event::ids::ICMP_TIME_EXCEEDED,
    crate::event::ids::ICMP_UNREACHABLE,
    crate::event::ids::ICMPV6_MLD_DONE_V1,
    crate::event::ids::ICMPV6_MLD_REPORT_V1,
    crate::event::ids::ICMPV6_MLD_REPORT_V2,
    crate::event::ids::NET_WEIRD,
    crate::event::ids::NEW_CONNECTION,
    crate::event::ids::NEW_CONNECTION_CONTENTS,
    crate::event::ids::PARTIAL_CONNECTION,
    crate::event::ids::PROTOCOL_CONFIRMATION,
    crate::event::ids::PROTOCOL_VIOLATION,
    crate::event::ids::TCP_CONTENTS,
    crate::event::ids::TCP_MULTIPLE_CHECKSUM_ERRORS,
    crate::event::ids::TCP_MULTIPLE_RETRANSMISSIONS,
    crate::event::ids::TCP_MULTIPLE_ZERO_WINDOWS,
    crate::event::ids::TCP_OPTION,
    crate::event::ids::TCP_PACKET,
    crate::event::ids::TCP_REXMIT,
    crate::event::ids::TUNNEL_CHANGED,
    crate::event::ids::UDP_CONTENTS,
    crate::event::ids::UDP_MULTIPLE_CHECKSUM_ERRORS,
    crate::event::ids::UDP_REPLY,
    crate::event::ids::UDP_REQUEST,
];
