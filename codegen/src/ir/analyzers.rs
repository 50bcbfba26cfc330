//! The analyzers of a grammar: how each attaches (ports, lines, tunnels,
//! EtherTypes), the state it keeps and what its PDUs do to it.

use super::{BinderIter, Expr};
use crate::ast::Transport;

#[derive(Debug)]
pub struct Analyzer {
    pub name: String,
    /// The analyzer has `ethertype` items (a link analyzer is generated).
    pub has_link: bool,
    pub link_items: Vec<LinkItem>,
    /// The analyzer has `udp`/`tcp` items.
    pub has_transport: bool,
    pub items: Vec<TransportItem>,
    /// Every transport item is `extern` (no analyzer struct is generated).
    pub all_extern: bool,
    /// Some item frames lines (`=> lines(...)`): the analyzer holds a line framer.
    pub has_lines: bool,
    /// Parsed PDUs confirm the protocol (no `confirm never;`).
    pub confirm: bool,
    /// `confirm on Unit;`: only PDUs of these units confirm (empty: every unit).
    pub confirm_on: Vec<String>,
    /// `state name: u64 = init;`: the connection's variables, in declaration order.
    pub states: Vec<StateVar>,
    /// `on r: Unit set name = expr;`, in declaration order.
    pub sets: Vec<StateSet>,
    /// `on c: Unit raw = expr;`: bytes of raw delivery after a line of `Unit`.
    pub raws: Vec<RawSet>,
    /// Some `on r: Unit stop|handoff ..;`: the state holds `stopped` and the
    /// analyzer parses nothing once it is set.
    pub stops: bool,
    /// `sink name: Unit(args);`: streams of their own, fed by `on r: U feed name = ..;`.
    pub sinks: Vec<Sink>,
    /// `udp port N => tunnel Unit;`: a tunnel analyzer (no connection analyzer is generated).
    pub tunnel: Option<Tunnel>,
    /// `at end => Unit(args);`: a PDU of `Unit` when the connection ends.
    pub end: Option<EndUnit>,
    /// `at eof => Unit(args);`: a PDU of `Unit` when a direction ends (FIN).
    pub eof: Option<EndUnit>,
    /// `weird "name" from "SOURCE";`: (name, source) pairs for weird.log's `source`.
    pub weird_sources: Vec<(String, String)>,
}

/// `at end => Unit(args);`: parsed from no input when the connection ends (Zeek's
/// `Done()`), its arguments state variables.
#[derive(Debug)]
pub struct EndUnit {
    pub unit: String,
    pub args: Vec<String>,
}

/// A tunnel analyzer (`udp port 3544 => tunnel Packet &attrs;` and its
/// `decapsulate` items): each payload of the outer UDP connection is one PDU
/// of `bind.unit`, whose events are about that connection; the first
/// `decapsulate` that selects bytes names the inner packet.
#[derive(Debug)]
pub struct Tunnel {
    pub index: usize,
    /// The unit of a payload.
    pub unit: String,
    pub bind: BindTarget,
    pub ports: Vec<u16>,
    /// `&detect(Probe)`: a payload on any other port is this tunnel's when it parses as `Probe`.
    pub detect: Option<String>,
    /// `&delay_confirmation`: the protocol is confirmed once both directions sent a confirming payload.
    pub delay_confirmation: bool,
    /// `&stop_on_violation`: after a violation no later payload of the connection is read.
    pub stop_on_violation: bool,
    /// `&not_nested(violation = "..")`: a payload inside this same tunnel is this violation.
    pub nested_violation: Option<String>,
    /// Parsed PDUs confirm (no `confirm never;`), those for which `confirm_when` holds if given.
    pub confirm: bool,
    pub confirm_when: Option<Expr>,
    pub decaps: Vec<Decap>,
}

/// `on p: Unit, x: p.path decapsulate ip = bytes where cond;`.
#[derive(Debug)]
pub struct Decap {
    /// The inner packet is an Ethernet frame (`ethernet`), else IP (`ip`).
    pub ethernet: bool,
    pub binders: Vec<(String, BinderIter)>,
    pub value: Expr,
    pub cond: Option<Expr>,
}

impl Analyzer {
    /// Whether the analyzer keeps a state struct (variables, updates, stops, sinks).
    pub fn keeps_state(&self) -> bool {
        !self.states.is_empty() || !self.sets.is_empty() || self.stops || !self.sinks.is_empty() || self.end.is_some() || self.eof.is_some()
    }
}

/// A stream of its own per direction, fed with bytes by PDUs (`feed`) and framed
/// into PDUs of `unit` (its unit-level `&size`), as a TCP stream is.
#[derive(Debug)]
pub struct Sink {
    pub name: String,
    pub unit: String,
    /// State variables passed as the unit's arguments.
    pub args: Vec<String>,
    /// `&per_feed`: each feed is one whole PDU, unframed (a decrypted payload).
    pub per_feed: bool,
    /// Some feed places its bytes by offset (`at`): the stream is put together in order.
    pub by_offset: bool,
    /// The unit has no unit-level `&size`: a PDU ends where its parse ends (the
    /// framer parses what is at hand until it parses).
    pub self_framed: bool,
    /// `&keep(n)`: a longer PDU is parsed from its first `n` bytes, once all of it passed.
    pub keep: Option<u64>,
    /// `&leftover(Unit)`: the bytes of a PDU under way when the connection ends are
    /// one PDU of this unit (per direction, the originator's first).
    pub leftover: Option<String>,
    /// `&eof(b"\n")`: when a direction ends with a PDU under way in its sink, these
    /// bytes are fed to it (Zeek's ContentLine analyzers end a line cut short so).
    pub eof: Option<Vec<u8>>,
    /// `&join_gaps`: a content gap leaves a PDU under way as it is (what follows is
    /// appended), instead of giving the direction up.
    pub join_gaps: bool,
}

/// After a line of `unit` parses, the next `value` bytes of its direction are
/// raw: PDUs of the direction's raw unit (`lines(orig raw: Chunk)`).
#[derive(Debug)]
pub struct RawSet {
    pub unit: String,
    pub value: Expr,
}

/// A variable of the connection (`state pending: u64 = 0;`).
#[derive(Debug)]
pub struct StateVar {
    pub name: String,
    pub init: u64,
    /// `queue(N)`: a FIFO of at most `cap` values; when full, a push clears it
    /// first (SMTP.cc's pending commands), reporting `overflow_weird` if named.
    pub queue: Option<QueueSpec>,
    /// `bytes(N)`: at most `N` bytes (`netpac_runtime::text::ShortBytes<N>`); longer values are cut.
    pub bytes: Option<u64>,
}

#[derive(Debug)]
pub struct QueueSpec {
    pub cap: u64,
    pub overflow_weird: Option<String>,
}

/// After a PDU of `unit` parses, `var` takes `value` (a binding expression over the PDU).
#[derive(Debug)]
pub struct StateSet {
    pub unit: String,
    pub var: String,
    /// An integer, or bytes for a `bytes(N)` variable.
    pub value: Expr,
    /// `set`, `push`, `pop`, `feed` (`var` names the sink, `value` is bytes).
    pub op: crate::ast::SetOp,
    /// `where cond`: the update only happens when it holds.
    pub cond: Option<Expr>,
    /// `on h: Unit, e: h.path set ...`: the update runs for each selection of these binders.
    pub binders: Vec<(String, BinderIter)>,
    /// `feed s = data pieces(...)`: the bytes are a piece of a message put together by offset.
    pub pieces: Option<Pieces>,
    /// `feed s = data at offset`: where the bytes belong in the sink's stream.
    pub at: Option<Expr>,
    /// `feed .. after events`: after the PDU's events instead of before.
    pub after_events: bool,
}

/// A `pieces(...)` feed: each piece goes to `offset` of the message `message`
/// (`length` bytes); once all its bytes came, `header` and the message go to the sink.
#[derive(Debug)]
pub struct Pieces {
    pub message: Expr,
    pub offset: Expr,
    pub length: Expr,
    pub header: Option<Expr>,
}

#[derive(Debug)]
pub struct LinkItem {
    pub index: usize,
    pub unit: String,
    pub bind: BindTarget,
    pub ethertypes: Vec<u16>,
}

/// What the events bind to: the PDU, or one unit-typed field of it.
#[derive(Debug)]
pub struct BindTarget {
    pub unit: String,
    pub field: Option<String>,
}

#[derive(Debug)]
pub struct TransportItem {
    pub index: usize,
    pub transport: Transport,
    pub ports: Vec<u16>,
    pub signature: Option<Signature>,
    /// `expire udp after 10s;`: seconds without traffic after which a
    /// connection this item attached to ends (Zeek's `dns_session_timeout`).
    pub expire_after_secs: Option<u32>,
    pub kind: TransportKind,
}

#[derive(Debug)]
pub enum TransportKind {
    /// `=> extern path`: a Rust constructor.
    Extern(String),
    Generated {
        unit: String,
        /// State variables passed as the PDU unit's arguments (`=> Record(encrypted)`).
        args: Vec<String>,
        bind: BindTarget,
        /// The PDU unit has `&size` (so a bound field starts after its frame prefix).
        framed: bool,
        /// `flip on pdu: Unit where cond;`.
        flip: Option<Expr>,
        /// `&skip_partial`: connections whose start was not seen are not parsed.
        skip_partial: bool,
        /// `&stop_after_gap`: after a content gap in either direction nothing more is parsed.
        stop_after_gap: bool,
        /// `&split`: a datagram holds several PDUs back to back, each framed by the unit's `&size`
        /// or, without one, taking what its fields read.
        split: bool,
        /// `&per_delivery` (tcp): each in-order delivery of the stream is one PDU, unframed
        /// (binpac's `datagram` flows over TCP: SOCKS).
        per_delivery: bool,
        /// `&stop_on_violation` (udp): after a protocol violation nothing more of the connection
        /// is parsed (Spicy analyzers: QUIC).
        stop_on_violation: bool,
    },
    /// `=> lines(orig: A, resp: B)`: each line is one PDU of its direction's unit.
    Lines(LinesItem),
}

/// Line framing (`runtime::lines`) and the unit of each direction.
#[derive(Debug)]
pub struct LinesItem {
    pub orig: Option<BindTarget>,
    pub resp: Option<BindTarget>,
    /// State variables passed as each direction's unit arguments.
    pub orig_args: Vec<String>,
    pub resp_args: Vec<String>,
    /// `orig raw: Chunk`: the unit of each direction's raw bytes and its state arguments.
    pub orig_raw: Option<BindTarget>,
    pub resp_raw: Option<BindTarget>,
    pub orig_raw_args: Vec<String>,
    pub resp_raw_args: Vec<String>,
    /// `&skip_empty`: empty lines are not PDUs.
    pub skip_empty: bool,
    /// `&nul_weird(orig, resp)`: the first NUL of those directions is a weird (index 0: orig).
    pub nul_weird: [bool; 2],
    /// `&eol(...)`: which bare terminators end a line (CRLF always does).
    pub cr_is_eol: bool,
    pub lf_is_eol: bool,
    /// `&delimiter(b">")`: pieces end at that byte instead of at line ends.
    pub delimiter: Option<u8>,
    /// `&skip_partial`: connections whose start was not seen are not parsed.
    pub skip_partial: bool,
    /// `&weird_source("NVT")`: the source the framing's weirds name (default `CONTENTLINE`).
    pub weird_source: Option<String>,
    /// `&stop_after_gap`: after a content gap in either direction nothing more is parsed.
    pub stop_after_gap: bool,
}

/// DPD patterns (orig, resp).
#[derive(Debug)]
pub struct Signature {
    pub orig: Option<String>,
    pub resp: Option<String>,
    /// Either side's match is enough.
    pub either: bool,
}
