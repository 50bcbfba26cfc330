//! The grammar AST. Every node keeps its [`Span`] for diagnostics.

use crate::diag::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Big,
    Little,
}

/// Everything one grammar file (or a `.npac` + `.evt` pair) declares.
#[derive(Debug, Default, Clone)]
pub struct Module {
    pub name: String,
    pub name_span: Span,
    pub byteorder: Option<Order>,
    pub imports: Vec<(String, Span)>,
    pub limits: Vec<Limit>,
    pub enums: Vec<EnumDecl>,
    pub extern_units: Vec<ExternUnit>,
    pub extern_fns: Vec<ExternFn>,
    pub units: Vec<Unit>,
    pub analyzers: Vec<AnalyzerDecl>,
    pub records: Vec<RecordDecl>,
    pub events: Vec<EventDecl>,
    pub expects: Vec<ExpectDecl>,
    /// `file X509 = ... on ...;`: files handed to file analyzers.
    pub file_handoffs: Vec<FileDecl>,
    /// Source files the module came from (indices into the file table).
    pub files: Vec<u32>,
}

#[derive(Debug, Clone)]
pub enum LimitValue {
    Int(u64),
    Bool(bool),
}

#[derive(Debug, Clone)]
pub struct Limit {
    pub name: String,
    pub value: LimitValue,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct EnumDecl {
    pub name: String,
    pub base: String,
    pub base_span: Span,
    pub items: Vec<(String, u64, Span)>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub ty: String,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct ExternUnit {
    pub name: String,
    pub params: Vec<Param>,
    pub path: String,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct ExternFn {
    pub name: String,
    pub params: Vec<Param>,
    pub ret: String,
    pub ret_span: Span,
    pub path: String,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Unit {
    pub name: String,
    pub params: Vec<Param>,
    pub attrs: Vec<Attr>,
    pub body: UnitBody,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum UnitBody {
    Fields(Vec<Field>),
    Switch(Switch),
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub kind: FieldKind,
    pub attrs: Vec<Attr>,
    pub cond: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum FieldKind {
    Let {
        ty: Option<(String, Span)>,
        expr: Expr,
    },
    Typed(TypeSpec),
}

#[derive(Debug, Clone)]
pub enum TypeSpec {
    Simple {
        name: String,
        name_span: Span,
        args: Vec<Expr>,
        array: Option<Option<Expr>>,
    },
    Bits {
        width: u8,
        members: Vec<BitMember>,
    },
    Switch(Switch),
    Skip {
        to: bool,
        expr: Expr,
    },
}

#[derive(Debug, Clone)]
pub struct BitMember {
    pub name: String,
    pub lo: u8,
    pub hi: u8,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Switch {
    pub scrutinee: Expr,
    pub arms: Vec<Arm>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Arm {
    /// `None` for the default arm `_`.
    pub pats: Option<Vec<Expr>>,
    /// `None` for the empty arm `()`.
    pub body: Option<ArmField>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct ArmField {
    pub name: String,
    pub ty: TypeSpec,
    pub attrs: Vec<Attr>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Attr {
    pub name: String,
    /// `&name = value`
    pub value: Option<Expr>,
    /// `&name(args)`
    pub args: Vec<AttrArg>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct AttrArg {
    pub name: Option<String>,
    pub expr: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
    /// `ethertype 0x0806 => Unit;`: a link-layer analyzer (no connection); `ports` holds EtherTypes.
    Link,
}

#[derive(Debug, Clone)]
pub struct AnalyzerDecl {
    pub name: String,
    pub items: Vec<AnalyzerItem>,
    /// `signature tcp orig /re/, resp /re/;`: payload detection (at most one per transport).
    pub signatures: Vec<SignatureDecl>,
    /// `flip on m: Unit where cond;`: roles swap when the originator's first PDU satisfies `cond`.
    pub flips: Vec<FlipDecl>,
    /// `expire udp after 10s;`: the analyzer's expire timer (at most one per transport).
    pub expires: Vec<ExpireDecl>,
    /// `confirm never;`: parsed PDUs do not confirm the protocol.
    pub confirm_never: bool,
    /// `confirm on Unit;`: only PDUs of these units confirm it.
    pub confirm_on: Vec<(String, Span)>,
    /// `state name: u64 = init;`: variables of the connection.
    pub states: Vec<StateDecl>,
    /// `on r: Unit set name = expr;`: how PDUs change them.
    pub sets: Vec<SetDecl>,
    /// `on c: Unit raw = expr;`: after a line of `Unit`, that many bytes of its
    /// direction are raw (`var` is unused: `("raw", span)`).
    pub raws: Vec<SetDecl>,
    /// `sink handshake: Handshake(args);`: streams fed by `on r: Unit feed handshake = ...;`.
    pub sinks: Vec<SinkDecl>,
    /// `on p: Unit decapsulate ip = expr;` (tunnel analyzers; `var` is the inner packet's
    /// first header: `ip` or `ethernet`).
    pub decaps: Vec<SetDecl>,
    /// `at end => Ending(state, ...);`: a PDU of that unit when the connection ends.
    pub ends: Vec<EndDecl>,
    /// `weird "name", ... from "SOURCE";`: the component those weirds come from
    /// (weird.log's `source`; default the analyzer's tag).
    pub weird_sources: Vec<(String, String, Span)>,
    pub span: Span,
}

/// `at end => Unit(state, ...);`: when the connection ends, the unit is parsed from
/// no input with the state as its arguments, and its events raised.
#[derive(Debug, Clone)]
pub struct EndDecl {
    /// `at eof` (a direction ends) rather than `at end` (the connection does).
    pub eof: bool,
    pub unit: (String, Span),
    pub args: Vec<(String, Span)>,
    pub span: Span,
}

/// `sink name: Unit(state, ...);`: per direction, the bytes PDUs feed to it are
/// one stream, framed into PDUs of `Unit` by its unit-level `&size`.
#[derive(Debug, Clone)]
pub struct SinkDecl {
    pub name: String,
    pub unit: (String, Span),
    /// State variables passed as the unit's arguments.
    pub args: Vec<(String, Span)>,
    pub attrs: Vec<Attr>,
    pub span: Span,
}

/// `state pending: u64 = 0;`: a variable each connection of the analyzer keeps.
#[derive(Debug, Clone)]
pub struct StateDecl {
    pub name: String,
    pub ty: (String, Span),
    pub init: u64,
    /// `state q: queue(N) &attrs;`: a FIFO of at most N values (then `ty` is `queue`, `init` 0).
    pub queue: Option<(u64, Vec<Attr>)>,
    /// `state tag: bytes(N);`: at most N bytes (then `ty` is `bytes`, `init` 0).
    pub bytes: Option<u64>,
    pub span: Span,
}

/// What an `on r: Unit ...` item does to a state variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOp {
    /// `set x = e`
    Set,
    /// `append x = e`: the bytes go after what a bytes state holds (up to its size).
    Append,
    /// `push q = e`
    Push,
    /// `pop q`
    Pop,
    /// `stop` / `handoff TAG` (`var` is `("", span)` / the tag): no more parsing.
    Stop,
    /// `confirm on r: Unit where cond;` (`var` is unused): the PDU confirms the protocol.
    Confirm,
    /// `feed sink = bytes`: the bytes go to the sink's stream of the PDU's direction.
    Feed,
    /// `close sink`: the sink of the PDU's direction takes nothing more.
    Close,
    /// `forward = bytes`: the bytes go to the stream inside the connection (`var` empty);
    /// `forward TAG = bytes`: to the child analyzer `TAG` (`var` is the tag).
    Forward,
    /// `reset sink` / `reset TAG`: the sink starts anew (both directions) / the child analyzer is closed.
    Reset,
}

/// `on r: Reply set pending = r.next_pending;`
#[derive(Debug, Clone)]
pub struct SetDecl {
    pub binder: String,
    pub unit: (String, Span),
    pub var: (String, Span),
    pub value: Expr,
    /// `set`, `push` or `pop` (`pop` has no value: `value` is `0`).
    pub op: SetOp,
    /// `where cond`.
    pub cond: Option<Expr>,
    /// `on h: Handshake, e: h.body.x.list set ...`: binders after the PDU's (sets only).
    pub binders: Vec<Named>,
    /// `feed s = data pieces(message = .., offset = .., length = .., header = ..)`.
    pub pieces: Option<PiecesDecl>,
    /// `feed s = data at offset`: where the bytes belong in the sink's stream.
    pub at: Option<Expr>,
    /// `feed .. after events`: the feed runs after the PDU's events.
    pub after_events: bool,
    pub span: Span,
}

/// The named arguments of a `pieces(...)` feed, as written.
#[derive(Debug, Clone)]
pub struct PiecesDecl {
    pub args: Vec<Named>,
    pub span: Span,
}

/// A connection the analyzer is attached to by port ends after this many
/// seconds without traffic (Zeek's DNS analyzer and `dns_session_timeout`).
#[derive(Debug, Clone)]
pub struct ExpireDecl {
    pub transport: Transport,
    pub secs: u32,
    pub span: Span,
}

/// `=> lines(orig: Request, resp: Reply) &attrs`: line framing with a unit per direction.
#[derive(Debug, Clone)]
pub struct LinesDecl {
    /// The unit of the originator's lines, and its span.
    pub orig: Option<(String, Span)>,
    pub resp: Option<(String, Span)>,
    /// State variables passed as the units' arguments (`resp: Reply(pending)`), per direction.
    pub orig_args: Vec<(String, Span)>,
    pub resp_args: Vec<(String, Span)>,
    /// `orig raw: Chunk`: the unit of each direction's raw bytes, and its state arguments.
    pub orig_raw: Option<(String, Span)>,
    pub resp_raw: Option<(String, Span)>,
    pub orig_raw_args: Vec<(String, Span)>,
    pub resp_raw_args: Vec<(String, Span)>,
    pub span: Span,
}

/// The originator's first PDU says it is really the responder (a DNS reply
/// seen before its query, say): the connection's roles are swapped.
#[derive(Debug, Clone)]
pub struct FlipDecl {
    pub binder: String,
    pub unit: String,
    pub unit_span: Span,
    pub cond: Expr,
    pub span: Span,
}

/// A dynamic-protocol-detection signature: anchored patterns per direction.
#[derive(Debug, Clone)]
pub struct SignatureDecl {
    pub transport: Transport,
    /// Pattern source (between the slashes, `\/` unescaped) and its span.
    pub orig: Option<(String, Span)>,
    pub resp: Option<(String, Span)>,
    /// `orig /a/ or resp /b/`: either side's match attaches (Zeek's separate client and
    /// server signatures); with `,` every pattern given must match.
    pub either: bool,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct AnalyzerItem {
    pub transport: Transport,
    pub ports: Vec<u16>,
    pub unit: String,
    pub unit_span: Span,
    /// `=> Unit.field`: events bind to this unit-typed field of the PDU.
    pub bind_field: Option<(String, Span)>,
    /// `=> Unit(state, ...)`: state variables passed as the PDU unit's arguments.
    pub args: Vec<(String, Span)>,
    /// `=> extern path`: a Rust constructor `fn() -> Box<dyn Analyzer>` replaces the generated analyzer.
    pub extern_ctor: Option<String>,
    /// `=> lines(...)`: line framing (then `unit` is empty).
    pub lines: Option<LinesDecl>,
    /// `=> tunnel Unit`: a tunnel analyzer, each payload one PDU of `unit`.
    pub tunnel: bool,
    /// Attributes after the target (`&skip_empty`, ...; only `lines` items take them).
    pub attrs: Vec<Attr>,
    pub span: Span,
}

/// `name: expr` (record fields, event arguments, binders).
#[derive(Debug, Clone)]
pub struct Named {
    pub name: String,
    pub expr: Expr,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct RecordDecl {
    pub name: String,
    pub params: Vec<Param>,
    pub fields: Vec<Named>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum Trigger {
    /// `on error(Unit)`: the PDU failed to parse.
    Error(String, Span),
    /// `on m: Unit, x: m.path, ...`
    Binders(Vec<Named>),
    /// `never`: declared (listed, typed) but never raised.
    Never,
}

#[derive(Debug, Clone)]
pub struct EventDecl {
    pub name: String,
    pub name_span: Span,
    pub args: Vec<Named>,
    pub trigger: Trigger,
    pub done: bool,
    pub cond: Option<Expr>,
    pub span: Span,
}

/// `expect ANALYZER tcp from ORIG to ENDPOINT for Ns service "..." on r: Unit where cond;`
#[derive(Debug, Clone)]
pub struct ExpectDecl {
    pub analyzer: String,
    pub analyzer_span: Span,
    pub transport: Transport,
    /// `None`: from any originator.
    pub from: Option<Expr>,
    pub to: Expr,
    pub secs: u32,
    pub service: Option<String>,
    pub binders: Vec<Named>,
    pub cond: Option<Expr>,
    pub span: Span,
}

/// `file X509 = c.der on h: Handshake, c: ...;`: bytes of a PDU that are a whole
/// file, for the file analyzer `analyzer`.
#[derive(Debug, Clone)]
pub struct FileDecl {
    pub analyzer: String,
    pub analyzer_span: Span,
    /// `file X509(is_orig = cond) = ...`: the file's direction (default: the PDU's).
    pub is_orig: Option<Expr>,
    pub data: Expr,
    pub binders: Vec<Named>,
    pub cond: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    BitOr,
    BitXor,
    BitAnd,
    Shl,
    Shr,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Not,
    Neg,
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Int(u64),
    Bool(bool),
    Str(String),
    Bytes(Vec<u8>),
    /// A name, or `Enum::CONST`.
    Path(String),
    /// `$$` (stored as "$") or `$name`.
    Dollar(String),
    Member(Box<Expr>, String),
    /// `a[i]`: an element of an array.
    Index(Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Unary(UnOp, Box<Expr>),
    ListComp {
        /// `[k => v for x in path]`: a table of the values grouped by key.
        key: Option<Box<Expr>>,
        elem: Box<Expr>,
        /// `for i, x in ...`: the element's position (from 0).
        index: Option<String>,
        var: String,
        src: Box<Expr>,
        /// `[x.v for x in path where x.ok]`: only the elements for which it holds.
        filter: Option<Box<Expr>>,
    },
}

impl Expr {
    /// Whether `f` holds for this expression or any expression inside it.
    pub fn mentions(&self, f: &dyn Fn(&ExprKind) -> bool) -> bool {
        if f(&self.kind) {
            return true;
        }
        match &self.kind {
            ExprKind::Member(e, _) | ExprKind::Unary(_, e) => e.mentions(f),
            ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => a.mentions(f) || b.mentions(f),
            ExprKind::Call(_, args) => args.iter().any(|a| a.mentions(f)),
            ExprKind::ListComp { key, elem, src, filter, .. } => {
                key.as_ref().is_some_and(|k| k.mentions(f))
                    || elem.mentions(f)
                    || src.mentions(f)
                    || filter.as_ref().is_some_and(|w| w.mentions(f))
            }
            _ => false,
        }
    }

    /// Source-like text, for messages and binding keys.
    pub fn text(&self) -> String {
        match &self.kind {
            ExprKind::Int(v) => v.to_string(),
            ExprKind::Bool(b) => b.to_string(),
            ExprKind::Str(s) => format!("{s:?}"),
            ExprKind::Bytes(b) => format!("b{:?}", String::from_utf8_lossy(b)),
            ExprKind::Path(p) => p.clone(),
            ExprKind::Dollar(d) if d == "$" => "$$".into(),
            ExprKind::Dollar(d) => format!("${d}"),
            ExprKind::Member(e, m) => format!("{}.{m}", e.text()),
            ExprKind::Index(e, i) => format!("{}[{}]", e.text(), i.text()),
            ExprKind::Call(f, a) => format!(
                "{f}({})",
                a.iter().map(|e| e.text()).collect::<Vec<_>>().join(", ")
            ),
            ExprKind::Binary(op, a, b) => format!("({} {:?} {})", a.text(), op, b.text()),
            ExprKind::Unary(op, a) => format!("{op:?}({})", a.text()),
            ExprKind::ListComp {
                key,
                elem,
                index,
                var,
                src,
                filter,
            } => {
                let i = index.as_ref().map(|i| format!("{i}, ")).unwrap_or_default();
                let k = key.as_ref().map(|k| format!("{} => ", k.text())).unwrap_or_default();
                let w = filter.as_ref().map(|w| format!(" where {}", w.text())).unwrap_or_default();
                format!("[{k}{} for {i}{var} in {}{w}]", elem.text(), src.text())
            }
        }
    }
}
