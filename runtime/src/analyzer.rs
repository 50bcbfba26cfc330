//! The interface between the flow engine and protocol analyzers (generated
//! from grammars or written in `analyzers/`).
//!
//! An analyzer is attached to one connection. The engine hands it stream data
//! in order (TCP, after reassembly) or one datagram at a time (UDP), reports
//! gaps, and tells it when a side has finished. Through [`AnalyzerCx`] the
//! analyzer raises events, reports weirds and confirms or rejects the protocol.

use crate::conn::events::ConnWeird;
use crate::event::Events;
use crate::packet::Layer2;
use crate::record::Connection;
pub use crate::udp_tunnels::{Decapsulated, TunnelSpec};
use crate::weird::{Weird, WeirdScope};
use crate::zeek::{ConnId, Interval, Proto, Time};

/// A read-only view of the connection an analyzer runs on.
pub trait ConnView {
    fn id(&self) -> ConnId;
    fn uid(&self) -> &str;
    /// The uid as the connection shares it (no copy for a real connection).
    fn uid_shared(&self) -> std::sync::Arc<str> {
        std::sync::Arc::from(self.uid())
    }
    /// The full `connection` record (allocates: call only to build an event).
    fn record(&self) -> Connection;
    /// A TCP connection whose start (SYN) was not seen.
    fn is_partial(&self) -> bool {
        false
    }
}

/// A connection seen with its roles swapped: what events of the delivery
/// that asked for [`AnalyzerCx::flip_roles`] carry (the engine flips the
/// connection itself right after).
pub struct FlippedConn<'a>(pub &'a dyn ConnView);

impl ConnView for FlippedConn<'_> {
    fn id(&self) -> ConnId {
        self.0.id().flipped()
    }
    fn uid(&self) -> &str {
        self.0.uid()
    }
    fn uid_shared(&self) -> std::sync::Arc<str> {
        self.0.uid_shared()
    }
    fn record(&self) -> Connection {
        let mut c = self.0.record();
        c.id = c.id.flipped();
        std::mem::swap(&mut c.orig, &mut c.resp);
        c
    }
    fn is_partial(&self) -> bool {
        self.0.is_partial()
    }
}

/// What an analyzer decided about its protocol while handling some input.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Verdict {
    #[default]
    Undecided,
    /// The traffic is this protocol (`protocol_confirmation`, `service`).
    Confirmed,
    /// The traffic is not (or no longer) parseable; the analyzer is removed.
    Violation(String),
}

/// Everything an analyzer may touch while it handles input.
pub struct AnalyzerCx<'a> {
    /// Time of the packet being delivered.
    pub ts: Time,
    pub conn: &'a dyn ConnView,
    pub events: &'a mut Events,
    pub weirds: &'a mut Vec<Weird>,
    /// Set by [`AnalyzerCx::confirm`] / [`AnalyzerCx::violation`]; read by the engine.
    pub verdict: Verdict,
    /// The analyzer's tag, for weird sources.
    pub tag: &'static str,
    /// The analyzer had confirmed its protocol on this connection before this
    /// call (set by the engine; a grammar reads it as `$confirmed`).
    pub confirmed: bool,
    /// Set by [`AnalyzerCx::flip_roles`]; the engine swaps the roles after the delivery.
    pub flip: bool,
    /// Set by [`AnalyzerCx::detect_anew`]; the engine restarts payload detection after the delivery.
    pub detect_anew: bool,
    /// Set by [`AnalyzerCx::analysis_partial`]; the engine marks the history after the delivery.
    pub partial: bool,
    /// Set by [`AnalyzerCx::hand_off`]; the engine attaches that analyzer after the delivery.
    pub hand_off: Option<&'static str>,
    /// Bytes of this delivery the handed-off analyzer gets at once (see
    /// [`AnalyzerCx::hand_off_rest`]), and their direction.
    pub hand_off_rest: Option<(bool, Vec<u8>)>,
    /// Bytes handed on by [`AnalyzerCx::forward`], per direction, in order.
    pub forwarded: Vec<(bool, Vec<u8>)>,
    /// The analyzers there are, for an analyzer that makes children of its own
    /// ([`Children`]); the engine sets it.
    pub registry: Option<&'a Registry>,
    /// What the analyzer's children decided, for the engine to apply after the
    /// analyzer's own verdict (a child's confirmation adds its service).
    pub child_verdicts: Vec<(&'static str, Verdict)>,
}

impl<'a> AnalyzerCx<'a> {
    /// A context with nothing decided yet, for one call into an analyzer.
    pub fn new(
        ts: Time,
        conn: &'a dyn ConnView,
        events: &'a mut Events,
        weirds: &'a mut Vec<Weird>,
        tag: &'static str,
    ) -> AnalyzerCx<'a> {
        AnalyzerCx {
            ts,
            conn,
            events,
            weirds,
            verdict: Verdict::Undecided,
            confirmed: false,
            tag,
            flip: false,
            detect_anew: false,
            partial: false,
            hand_off: None,
            hand_off_rest: None,
            forwarded: Vec::new(),
            registry: None,
            child_verdicts: Vec::new(),
        }
    }
}

impl AnalyzerCx<'_> {
    pub fn confirm(&mut self) {
        if self.verdict == Verdict::Undecided {
            self.verdict = Verdict::Confirmed;
        }
    }
    /// The originator is really the responder (its first message was a
    /// reply): the connection's roles are swapped after this delivery.
    pub fn flip_roles(&mut self) {
        self.flip = true;
    }
    /// The analyzer hit one of its limits and leaves part of the connection
    /// unanalysed: the history gets Zeek's `X` ("connection analysis partial").
    pub fn analysis_partial(&mut self) {
        self.partial = true;
    }
    /// The rest of the connection carries another protocol, found anew by its
    /// payload as at a connection's start (Zeek's PIA child analyzer after an HTTP
    /// CONNECT); the analyzer itself stays attached and parses nothing more.
    pub fn detect_anew(&mut self) {
        self.detect_anew = true;
    }
    /// The rest of the stream belongs to the analyzer `tag` (STARTTLS: `SSL`), which
    /// the engine attaches after this delivery, as Zeek's analyzers add an SSL child;
    /// the analyzer itself stays attached and should parse nothing more.
    pub fn hand_off(&mut self, tag: &'static str) {
        self.hand_off = Some(tag);
    }
    /// The rest of the current delivery already belongs to the analyzer
    /// [`AnalyzerCx::hand_off`] names (an HTTP upgrade reply and the new
    /// protocol's first bytes in one segment): it gets them right after it is
    /// attached, before the next delivery.
    pub fn hand_off_rest(&mut self, is_orig: bool, bytes: &[u8]) {
        self.hand_off_rest = Some((is_orig, bytes.to_vec()));
    }
    /// Hands bytes of the analyzer's own payload on to a stream inside the
    /// connection, whose protocol is found by its payload as at a connection's
    /// start (Zeek's PIA child under WebSocket): the engine delivers them after
    /// this delivery, per direction, in order.
    pub fn forward(&mut self, is_orig: bool, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        match self.forwarded.last_mut() {
            Some((o, b)) if *o == is_orig => b.extend_from_slice(bytes),
            _ => self.forwarded.push((is_orig, bytes.to_vec())),
        }
    }
    pub fn violation(&mut self, reason: impl Into<String>) {
        self.verdict = Verdict::Violation(reason.into());
    }
    /// Reports a weird on this connection: raised as `conn_weird` (which
    /// weird.log consumes) and counted by the engine.
    pub fn weird(&mut self, name: &'static str, addl: impl Into<String>) {
        self.weird_from(self.tag, name, addl);
    }
    /// Reports a weird of no connection (`net_weird`; weird.log without uid),
    /// as Zeek's ASN.1 decoders report theirs.
    pub fn net_weird(&mut self, name: &'static str, addl: impl Into<String>) {
        self.weirds.push(Weird {
            ts: self.ts,
            name,
            addl: addl.into(),
            scope: WeirdScope::Net,
            source: "",
            in_tunnel: false,
        });
    }
    /// Reports a weird of a component inside the analyzer (`source` in
    /// weird.log), such as the line framer's `CONTENTLINE`.
    pub fn weird_from(
        &mut self,
        source: &'static str,
        name: &'static str,
        addl: impl Into<String>,
    ) {
        let addl = addl.into();
        crate::raise!(
            self.events,
            self.ts,
            ConnWeird {
                name,
                c: self.conn.record(),
                addl: crate::zeek::ZString::from(addl.clone()),
                source
            }
        );
        self.weirds.push(Weird {
            ts: self.ts,
            name,
            addl,
            scope: WeirdScope::Conn {
                id: self.conn.id(),
                uid: self.conn.uid_shared(),
            },
            source,
            in_tunnel: false,
        });
    }
}

/// Child analyzers an analyzer keeps and feeds a stream of its own, as it
/// goes: Zeek's `protocol_data_in` to an SSL child, which QUIC hands the TLS
/// handshake of its Initial packets (a grammar's `forward SSL = ...`). A child
/// is the stream (TCP) analyzer of its tag, made at its first bytes; its events
/// come in order with the parent's. What it decides goes to the engine through
/// [`AnalyzerCx::child_verdicts`]; a child that violates its protocol is dropped.
#[derive(Default)]
pub struct Children {
    kids: Vec<Child>,
}

struct Child {
    tag: &'static str,
    analyzer: Box<dyn Analyzer>,
    confirmed: bool,
}

impl std::fmt::Debug for Children {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.kids.iter().map(|k| k.tag)).finish()
    }
}

impl Children {
    /// Hands `data` of direction `is_orig` to the child `tag`, made first if needed:
    /// the stream analyzer of that tag, else its datagram analyzer, which reads each
    /// hand-over as one datagram (Zeek's GSSAPI feeds KRB with `DeliverPacket`).
    /// Nothing happens when there is no analyzer of that tag.
    pub fn deliver(&mut self, cx: &mut AnalyzerCx<'_>, tag: &'static str, is_orig: bool, data: &[u8]) {
        let i = match self.kids.iter().position(|k| k.tag == tag) {
            Some(i) => i,
            None => {
                let spec = cx.registry.and_then(|r| r.by_tag(Proto::Tcp, tag).or_else(|| r.by_tag(Proto::Udp, tag)));
                let Some(spec) = spec else {
                    return;
                };
                self.kids.push(Child { tag: spec.tag, analyzer: (spec.new)(), confirmed: false });
                self.kids.len() - 1
            }
        };
        let kid = &mut self.kids[i];
        let mut ccx = AnalyzerCx::new(cx.ts, cx.conn, cx.events, cx.weirds, kid.tag);
        ccx.registry = cx.registry;
        kid.analyzer.deliver(&mut ccx, is_orig, data);
        match ccx.verdict {
            Verdict::Confirmed if !kid.confirmed => {
                kid.confirmed = true;
                cx.child_verdicts.push((kid.tag, Verdict::Confirmed));
            }
            Verdict::Violation(why) => {
                cx.child_verdicts.push((kid.tag, Verdict::Violation(why)));
                self.close(cx, tag);
            }
            _ => {}
        }
    }

    /// Ends the child `tag`: it finishes what it holds; the next delivery makes a new one.
    pub fn close(&mut self, cx: &mut AnalyzerCx<'_>, tag: &str) {
        if let Some(i) = self.kids.iter().position(|k| k.tag == tag) {
            let mut kid = self.kids.remove(i);
            let mut ccx = AnalyzerCx::new(cx.ts, cx.conn, cx.events, cx.weirds, kid.tag);
            kid.analyzer.done(&mut ccx);
        }
    }

    /// A direction of the parent's input ended: so did the children's.
    pub fn end_of_data(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool) {
        for kid in &mut self.kids {
            let mut ccx = AnalyzerCx::new(cx.ts, cx.conn, cx.events, cx.weirds, kid.tag);
            kid.analyzer.end_of_data(&mut ccx, is_orig);
        }
    }

    /// The connection is gone.
    pub fn done(&mut self, cx: &mut AnalyzerCx<'_>) {
        for mut kid in self.kids.drain(..) {
            let mut ccx = AnalyzerCx::new(cx.ts, cx.conn, cx.events, cx.weirds, kid.tag);
            kid.analyzer.done(&mut ccx);
        }
    }
}

/// A protocol analyzer attached to one connection.
pub trait Analyzer {
    /// In-order stream bytes (TCP) or one whole datagram (UDP).
    fn deliver(&mut self, cx: &mut AnalyzerCx<'_>, is_orig: bool, data: &[u8]);
    /// `len` bytes of one direction were lost (a gap in the TCP stream).
    fn undelivered(&mut self, _cx: &mut AnalyzerCx<'_>, _is_orig: bool, _len: u64) {}
    /// One direction closed (FIN/RST) or the connection is being flushed.
    fn end_of_data(&mut self, _cx: &mut AnalyzerCx<'_>, _is_orig: bool) {}
    /// The connection is gone; raise whatever is still pending.
    fn done(&mut self, _cx: &mut AnalyzerCx<'_>) {}
    /// The analyzer as `Any`, for the functions of its protocol that change it
    /// from outside the packet path (SMTP's `skip_smtp_data`); `None` for most.
    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        None
    }
}

/// How to make an analyzer and where it attaches by port.
#[derive(Clone, Copy)]
pub struct AnalyzerSpec {
    /// Zeek's tag without the prefix: "DNS" names `Analyzer::ANALYZER_DNS`.
    pub tag: &'static str,
    pub proto: Proto,
    /// Well-known responder ports.
    pub ports: &'static [u16],
    pub new: fn() -> Box<dyn Analyzer>,
    /// Payload patterns that attach the analyzer on any port (see [`crate::dpd`]).
    pub signature: Option<Signature>,
    /// The analyzer's expire timer (Zeek's DNS analyzer arms one with
    /// `dns_session_timeout`): a connection the analyzer is attached to, by
    /// port or by payload, ends (`connection_timeout`) once this long has
    /// passed without traffic, with Zeek's one second of slack.
    pub expire_after: Option<Interval>,
}

/// The "connection" of a link-layer PDU, which has none. Generated link
/// analyzers pass it where bindings expect a [`ConnView`]; the grammar checker
/// rejects `$conn` (and other connection builtins) in their events, so its
/// values are never reported.
pub struct NoConnection;

impl ConnView for NoConnection {
    fn id(&self) -> ConnId {
        let unspecified = std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);
        ConnId {
            orig_h: unspecified,
            orig_p: crate::zeek::Port::new(0, Proto::Unknown),
            resp_h: unspecified,
            resp_p: crate::zeek::Port::new(0, Proto::Unknown),
        }
    }
    fn uid(&self) -> &str {
        ""
    }
    fn record(&self) -> Connection {
        let ep = crate::record::Endpoint {
            size: 0,
            state: 0,
            num_pkts: None,
            num_bytes_ip: None,
            flow_label: 0,
            l2_addr: None,
        };
        Connection {
            id: self.id(),
            orig: ep.clone(),
            resp: ep,
            start_time: Time::ZERO,
            duration: crate::zeek::Interval(0),
            service: Default::default(),
            history: Default::default(),
            uid: "".into(),
            vlan: None,
            inner_vlan: None,
            tunnel: None,
            extra: Default::default(),
        }
    }
}

/// An analyzer of non-IP frames (ARP), keyed by EtherType.
pub trait LinkAnalyzer {
    fn deliver(
        &mut self,
        ts: Time,
        l2: &Layer2,
        payload: &[u8],
        events: &mut Events,
        weirds: &mut Vec<Weird>,
    );
}

/// How to make a link-layer analyzer.
#[derive(Clone, Copy)]
pub struct LinkAnalyzerSpec {
    pub tag: &'static str,
    pub ethertype: u16,
    pub new: fn() -> Box<dyn LinkAnalyzer>,
}

/// Every analyzer netpac knows.
#[derive(Clone)]
pub struct Registry {
    pub analyzers: Vec<AnalyzerSpec>,
    pub link_analyzers: Vec<LinkAnalyzerSpec>,
    pub tunnels: Vec<TunnelSpec>,
    /// Ports given at run time (`--analyzer-port`, Zeek's
    /// `Analyzer::register_for_ports`), by index into `analyzers`.
    pub extra_ports: Vec<(usize, u16)>,
    /// File analyzers (X.509), which protocol analyzers hand files to.
    pub file_analyzers: Vec<crate::files::FileAnalyzerSpec>,
    /// Each grammar's limits by name (`limits { ... }`), which
    /// [`Registry::set_limit`] changes at run time.
    pub limits: Vec<(&'static str, &'static [&'static str])>,
}

/// No protocol analyzers, and the runtime's own UDP tunnels
/// ([`crate::udp_tunnels::builtin`]), which Zeek builds in too.
impl Default for Registry {
    fn default() -> Registry {
        Registry {
            analyzers: Vec::new(),
            link_analyzers: Vec::new(),
            tunnels: crate::udp_tunnels::builtin(),
            extra_ports: Vec::new(),
            file_analyzers: Vec::new(),
            limits: Vec::new(),
        }
    }
}

impl Registry {
    /// A file analyzer (`X509`) for the files protocol analyzers hand over.
    pub fn add_file_analyzer(&mut self, spec: crate::files::FileAnalyzerSpec) -> &mut Self {
        self.file_analyzers.push(spec);
        self
    }
    pub fn add(&mut self, spec: AnalyzerSpec) -> &mut Self {
        self.analyzers.push(spec);
        self
    }
    /// A tunnel in UDP; it replaces a built-in one of the same tag.
    /// Declares the limits grammar `module` has.
    pub fn add_limits(&mut self, module: &'static str, names: &'static [&'static str]) -> &mut Self {
        if !names.is_empty() {
            self.limits.push((module, names));
        }
        self
    }
    /// Changes a grammar's limit for every analyzer made from now on, in this
    /// process (Zeek's `redef Gnutella::max_line_length = 100`): `key` is
    /// `gnutella.max_line_length` or `Gnutella::max_line_length`; booleans are 0 or 1.
    pub fn set_limit(&self, key: &str, value: u64) -> Result<(), String> {
        let (module, name) =
            crate::limits::split_key(key).ok_or_else(|| format!("`{key}`: a limit is named grammar.name, e.g. gnutella.max_line_length"))?;
        let Some((m, names)) = self.limits.iter().find(|(m, _)| *m == module) else {
            let known: Vec<&str> = self.limits.iter().map(|(m, _)| *m).collect();
            return Err(format!("`{key}`: no grammar `{module}` has limits (those that do: {})", known.join(", ")));
        };
        if !names.contains(&name) {
            return Err(format!("`{key}`: `{m}` has no limit `{name}` (it has {})", names.join(", ")));
        }
        crate::limits::set(m, name, value);
        Ok(())
    }
    pub fn add_tunnel(&mut self, spec: TunnelSpec) -> &mut Self {
        self.tunnels.retain(|t| t.tag != spec.tag);
        self.tunnels.push(spec);
        self
    }
    pub fn add_link(&mut self, spec: LinkAnalyzerSpec) -> &mut Self {
        self.link_analyzers.push(spec);
        self
    }
    /// The UDP tunnel for a responder port, else the first whose detection
    /// accepts the payload.
    pub fn tunnel_for(&self, resp_port: u16, payload: &[u8]) -> Option<&TunnelSpec> {
        let by_port = self.tunnels.iter().find(|t| t.ports.contains(&resp_port));
        by_port.or_else(|| {
            self.tunnels
                .iter()
                .find(|t| t.detect.is_some_and(|looks_like| looks_like(payload)))
        })
    }
    /// The analyzer of a transport with this tag (an expected connection's).
    pub fn by_tag(&self, proto: Proto, tag: &str) -> Option<&AnalyzerSpec> {
        self.analyzers
            .iter()
            .find(|a| a.proto == proto && a.tag == tag)
    }
    /// Attaches the analyzer `tag` of `proto` to a responder port besides its
    /// own (Zeek's `Analyzer::register_for_ports`): how analyzers that Zeek
    /// registers for no port (Ident) are put on one. Unknown tags are an error.
    pub fn register_port(&mut self, tag: &str, proto: Proto, port: u16) -> Result<(), String> {
        let Some(i) = self
            .analyzers
            .iter()
            .position(|a| a.proto == proto && a.tag.eq_ignore_ascii_case(tag))
        else {
            let known: Vec<&str> = self
                .analyzers
                .iter()
                .filter(|a| a.proto == proto)
                .map(|a| a.tag)
                .collect();
            return Err(format!(
                "no {} analyzer `{tag}` (known: {})",
                proto.as_str(),
                known.join(", ")
            ));
        };
        if !self.analyzers[i].ports.contains(&port) && !self.extra_ports.contains(&(i, port)) {
            self.extra_ports.push((i, port));
        }
        Ok(())
    }
    /// Turns the analyzers with this tag off (any transport, the link layer and
    /// the tunnels too), as Zeek's `Analyzer::disable_analyzer`: no port,
    /// signature or expected connection attaches them, and a disabled tunnel
    /// decapsulates nothing. Unknown tags are an error.
    pub fn disable(&mut self, tag: &str) -> Result<(), String> {
        let off = |t: &str| t.eq_ignore_ascii_case(tag);
        let found = self.analyzers.iter().any(|a| off(a.tag))
            || self.link_analyzers.iter().any(|a| off(a.tag))
            || self.tunnels.iter().any(|t| off(t.tag));
        if !found {
            let mut known: Vec<&str> = self.analyzers.iter().map(|a| a.tag).collect();
            known.extend(self.link_analyzers.iter().map(|a| a.tag));
            known.extend(self.tunnels.iter().map(|t| t.tag));
            known.sort_unstable();
            known.dedup();
            return Err(format!("no analyzer `{tag}` (known: {})", known.join(", ")));
        }
        // Ports given at run time follow their analyzer to its new index.
        let mut index = Vec::with_capacity(self.analyzers.len());
        let mut kept = 0;
        for a in &self.analyzers {
            index.push((!off(a.tag)).then(|| {
                kept += 1;
                kept - 1
            }));
        }
        self.extra_ports = self
            .extra_ports
            .iter()
            .filter_map(|&(i, p)| index[i].map(|j| (j, p)))
            .collect();
        self.analyzers.retain(|a| !off(a.tag));
        self.link_analyzers.retain(|a| !off(a.tag));
        self.tunnels.retain(|t| !off(t.tag));
        Ok(())
    }
    /// Analyzers registered for a responder port.
    pub fn for_port(&self, proto: Proto, port: u16) -> impl Iterator<Item = &AnalyzerSpec> {
        self.analyzers.iter().enumerate().filter_map(move |(i, a)| {
            let registered = a.ports.contains(&port) || self.extra_ports.contains(&(i, port));
            (a.proto == proto && registered).then_some(a)
        })
    }
}

/// A stand-in connection for driving an analyzer directly (unit and snapshot
/// tests, fuzz targets): fixed addresses, the given transport and responder
/// port, a fixed uid and start time.
#[derive(Debug, Clone)]
pub struct TestConn {
    pub id: ConnId,
    pub uid: &'static str,
}

impl TestConn {
    /// `10.0.0.1:33000` to `10.0.0.2:resp_port`.
    pub fn new(proto: Proto, resp_port: u16, uid: &'static str) -> TestConn {
        TestConn {
            id: ConnId {
                orig_h: std::net::Ipv4Addr::new(10, 0, 0, 1).into(),
                orig_p: crate::zeek::Port::new(33000, proto),
                resp_h: std::net::Ipv4Addr::new(10, 0, 0, 2).into(),
                resp_p: crate::zeek::Port::new(resp_port, proto),
            },
            uid,
        }
    }
}

impl ConnView for TestConn {
    fn id(&self) -> ConnId {
        self.id
    }
    fn uid(&self) -> &str {
        self.uid
    }
    fn record(&self) -> Connection {
        let ep = crate::record::Endpoint {
            size: 0,
            state: 0,
            num_pkts: None,
            num_bytes_ip: None,
            flow_label: 0,
            l2_addr: None,
        };
        Connection {
            id: self.id,
            orig: ep.clone(),
            resp: ep,
            start_time: Time(1_000_000_000_000_000_000),
            duration: crate::zeek::Interval(0),
            service: Default::default(),
            history: Default::default(),
            uid: self.uid.into(),
            vlan: None,
            inner_vlan: None,
            tunnel: None,
            extra: Default::default(),
        }
    }
}

/// What must match for an analyzer to be attached. Patterns are regular
/// expressions (Rust `regex` syntax, bytes mode), anchored at the start.
#[derive(Debug, Clone, Copy)]
pub struct Signature {
    pub orig: Option<&'static str>,
    pub resp: Option<&'static str>,
    /// Either direction's match attaches the analyzer (Zeek's separate client and
    /// server signatures, as HTTP's); otherwise every pattern given must match.
    pub either: bool,
}
