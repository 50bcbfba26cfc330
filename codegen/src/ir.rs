//! The checked, typed intermediate representation: what the check pass
//! (`check/`) builds and the emitter (`emit/`) lowers to Rust.
//!
//! Every name here is resolved, every expression has its type and every
//! attribute is a typed value; a grammar that reaches the IR is valid, so the
//! emitter has no diagnostics of its own.

// IR nodes are built once per grammar item, so variant sizes do not matter.
#![allow(clippy::large_enum_variant)]

use crate::ast::{BinOp, Order, Transport};
use crate::ident::inner_type_name;
use crate::types::{Ty, ZTy};
use std::collections::{HashMap, HashSet};

/// Every checked module, and what the emitter needs to spell their types.
#[derive(Debug)]
pub struct Program {
    pub types: TypeTable,
    pub modules: Vec<Module>,
}

/// Facts about named types that `Ty` does not carry.
#[derive(Debug, Default)]
pub struct TypeTable {
    /// Module names by index (types of another module are `super::<name>::T`).
    pub module_names: Vec<String>,
    /// Types (module, Rust type name) that borrow the input (`<'a>`).
    pub borrowing: HashSet<(usize, String)>,
    /// Rust paths of extern units, by (module, grammar name).
    pub extern_paths: HashMap<(usize, String), String>,
}

impl TypeTable {
    /// Whether values of `ty` borrow the input (need a lifetime).
    pub fn needs_lt(&self, ty: &Ty) -> bool {
        match ty {
            Ty::Bytes | Ty::Extern(..) => true,
            Ty::Unit(m, n) | Ty::Union(m, n) => self.borrowing.contains(&(*m, n.clone())),
            Ty::Switch(m, u, f) => self.borrowing.contains(&(*m, inner_type_name(u, f))),
            Ty::Array(t) | Ty::Option(t) => self.needs_lt(t),
            _ => false,
        }
    }
}

/// One grammar module, checked.
#[derive(Debug)]
pub struct Module {
    pub index: usize,
    pub name: String,
    /// Source files the module came from (indices into the file table).
    pub files: Vec<u32>,
    pub imports: Vec<String>,
    pub enums: Vec<Enum>,
    pub limits: Vec<Limit>,
    pub units: Vec<Unit>,
    pub records: Vec<Record>,
    pub events: Vec<EventStruct>,
    pub bindings: Vec<UnitBindings>,
    pub analyzers: Vec<Analyzer>,
    /// `limits { max_pdu = N; }`, else 16 MiB.
    pub max_pdu: usize,
    /// The grammar declares `limits { max_line }` (line framing reads it from `Limits`).
    pub grammar_max_line: bool,
}

// ------------------------------------------------------------------ types

#[derive(Debug)]
pub struct Enum {
    pub name: String,
    /// Width of the base integer (8, 16, 24, 32, 64).
    pub bits: u8,
    pub items: Vec<(String, u64)>,
}

#[derive(Debug)]
pub struct Limit {
    pub name: String,
    pub value: LimitValue,
}

#[derive(Debug, Clone, Copy)]
pub enum LimitValue {
    Int(u64),
    Bool(bool),
}

#[derive(Debug)]
pub struct Unit {
    pub name: String,
    /// `module.Unit`, the unit's place in parse errors.
    pub at: String,
    pub borrows: bool,
    pub params: Vec<(String, Ty)>,
    /// `&origin`: offsets count from the unit's start.
    pub origin: bool,
    /// Unit `&size`: the stream framer's `frame_len`.
    pub frame: Option<Frame>,
    pub body: UnitBody,
}

#[derive(Debug)]
pub enum UnitBody {
    Fields(Vec<Field>),
    /// `unit X = switch (...) { ... }`: the unit is the enum of its arms.
    Switch {
        ty: SwitchType,
        parse: SwitchParse,
    },
}

/// The Rust local (and struct field) a field is bound to.
#[derive(Debug, Clone)]
pub enum Local {
    Named(String),
    /// `_`: parsed, not kept (the field's position in the unit).
    Anon(usize),
}

#[derive(Debug)]
pub enum Field {
    /// `let x: T = e;`
    Let {
        local: Local,
        ty: Ty,
        value: LetValue,
    },
    /// `_: skip n;` / `_: skip to n;`
    Skip {
        to: bool,
        at: String,
        n: Expr,
        /// `_: skip n if (cond);`
        cond: Option<Expr>,
    },
    Parsed(ParsedField),
}

#[derive(Debug)]
pub enum LetValue {
    Bool(Expr),
    U64(Expr),
    /// `let x: bytes = ...`: a slice of the input (or a literal).
    Bytes(Expr),
    /// An integer narrowed to the declared type (fails as `Arithmetic`).
    Narrowed {
        value: Expr,
        at: String,
    },
}

#[derive(Debug)]
pub struct ParsedField {
    pub local: Local,
    /// The stored type (`Option` applied); `None` for `_`.
    pub stored: Option<Ty>,
    /// A type the field declares inline (switch enum, bit field struct).
    pub inline_type: Option<InlineType>,
    pub value: FieldParse,
    pub presence: Presence,
    /// The field closes a cycle of units: stored as `Box<T>`.
    pub boxed: bool,
}

/// Whether a field is always there.
#[derive(Debug)]
pub enum Presence {
    Always,
    /// `if (cond)`.
    If(Expr),
    /// `&recover`: a failed field is absent and parsing halts.
    Recover {
        ty: Ty,
    },
}

#[derive(Debug)]
pub enum InlineType {
    Switch(SwitchType),
    Bits(BitsType),
}

/// The enum of a switch's arms.
#[derive(Debug)]
pub struct SwitchType {
    pub name: String,
    pub borrows: bool,
    pub variants: Vec<Variant>,
    pub has_empty: bool,
}

#[derive(Debug)]
pub struct Variant {
    /// CamelCase arm name.
    pub name: String,
    pub ty: Ty,
    pub boxed: bool,
}

#[derive(Debug)]
pub struct BitsType {
    pub name: String,
    pub width: u8,
    pub members: Vec<(String, u8, u8)>,
}

/// `frame_len` of a unit with `&size` over its leading fixed-size fields.
#[derive(Debug)]
pub struct Frame {
    pub reads: Vec<FrameRead>,
    /// Bytes the reads take.
    pub prefix: usize,
    /// The unit name (the `at` of arithmetic errors in `frame_len`).
    pub at: String,
    pub size: Expr,
    /// The size reads the unit's parameters or `$is_orig`/`$resp_port` (framing by
    /// the connection's state and direction): `frame_len_in(prefix, cx, params...)`.
    pub contextual: bool,
}

#[derive(Debug)]
pub struct FrameRead {
    pub name: String,
    pub at: String,
    pub int: IntRead,
    /// The field is an enum of this type (module, name).
    pub enum_ty: Option<(usize, String)>,
}

#[derive(Debug, Clone, Copy)]
pub struct IntRead {
    pub bits: u8,
    pub signed: bool,
    pub order: Order,
}

// ------------------------------------------------------------------ fields

/// How one field (or switch arm) is parsed, with its attributes applied.
#[derive(Debug)]
pub struct FieldParse {
    /// `module.Unit.field`, the field's place in parse errors.
    pub at: String,
    pub window: Option<Window>,
    pub parse: Parse,
    pub requires: Option<Requires>,
    /// `&weird("name", addl)`.
    /// `&weird("name", addl)`: the addl an integer or bytes.
    pub weird: Option<(String, Option<Expr>)>,
    /// What leftover bytes of an exact window do.
    pub trailing: Trailing,
    /// `&on_error(weird = "name")` or `&on_error(skip = "name", addl = e)`.
    pub on_error: Option<OnError>,
    /// `&at = offset`: parsed at that offset from the `&origin` (before or after the
    /// cursor, within the window); the cursor does not move.
    pub placed: Option<Expr>,
}

/// A window the field parses in (`&size`, `&prefix`, `&max_size`).
#[derive(Debug)]
pub enum Window {
    Exact(Expr),
    Prefix(IntRead),
    Max(Expr),
}

#[derive(Debug, Clone)]
pub enum Trailing {
    Error,
    Weird(String),
    Ignore,
}

/// `&requires(cond, action = "name")` checks on the parsed value.
#[derive(Debug)]
pub struct Requires {
    /// The condition, what its failure does, and the weird's `addl` (`addl = e`).
    pub checks: Vec<(Expr, Action, Option<Expr>)>,
}

#[derive(Debug)]
pub enum Action {
    Weird(String),
    /// `net_weird = "name"`: a weird of no connection (Zeek's `reporter->Weird(name, addl)`,
    /// as its ASN.1 decoders report), and parsing goes on.
    NetWeird(String),
    Violation(String),
    Error(String),
    Halt(String),
    /// `ignore = "why"`: the PDU fails with no weird and no violation (a line the protocol drops).
    Ignore(String),
    /// `report = "why"`: a protocol violation, and parsing goes on (Zeek's analyzers
    /// call AnalyzerViolation and keep reading: SSL's unknown handshake types).
    Report(String),
    /// `skip = "name"`: weird `name`, and the PDU is dropped unanalysed (no events,
    /// no violation, `X` in the connection's history), as Zeek's DNS analyzer drops
    /// a message of an opcode it does not know.
    Skip(String),
}

#[derive(Debug)]
pub enum Parse {
    Int(IntRead),
    /// `bytes &until(b"..")`, with `&or_eod`.
    BytesUntil {
        delimiter: Vec<u8>,
        or_eod: bool,
    },
    /// Bytes to the end of the window.
    BytesRest,
    /// `bytes &while_in(set)` (`inside`) / `&while_not_in(set)`: the longest run of bytes (not) in `set`.
    BytesWhile {
        set: Vec<u8>,
        inside: bool,
    },
    Ipv4,
    Ipv6,
    Enum {
        module: usize,
        name: String,
        int: IntRead,
    },
    Unit {
        module: usize,
        name: String,
        args: Vec<ParamArg>,
    },
    Extern {
        path: String,
        args: Vec<ParamArg>,
    },
    Bits {
        type_name: String,
        int: IntRead,
    },
    Switch(SwitchParse),
    Array(Box<ArrayParse>),
    /// Only in fields that failed to check (never reaches the emitter).
    Invalid,
}

/// An argument converted to a unit parameter's type.
#[derive(Debug)]
pub enum ParamArg {
    Bool(Expr),
    Bytes(Expr),
    Int {
        value: Expr,
        ty: Ty,
    },
    Enum {
        value: Expr,
        module: usize,
        name: String,
        base: Ty,
    },
}

#[derive(Debug)]
pub struct ArrayParse {
    pub elem: Parse,
    pub end: ArrayEnd,
    pub partial: Option<Partial>,
    pub or_eod: bool,
    /// The grammar declares `limits { max_elements }`.
    pub grammar_max_elements: bool,
}

#[derive(Debug)]
pub enum ArrayEnd {
    Count(Expr),
    /// `&until(cond)` / `&until_incl(cond)` on the element `$$`.
    Until {
        cond: Expr,
        inclusive: bool,
    },
    /// To the end of the window.
    Eod,
}

/// `&partial`: a bad element halts the PDU and keeps what parsed.
#[derive(Debug)]
pub enum Partial {
    Halt,
    Weird(String),
}

#[derive(Debug)]
pub struct SwitchParse {
    pub enum_name: String,
    /// The scrutinee, an integer.
    pub scrutinee: Expr,
    pub arms: Vec<SwitchArm>,
}

#[derive(Debug)]
pub struct SwitchArm {
    /// `None`: the default arm `_`.
    pub values: Option<Vec<u64>>,
    pub body: ArmBody,
}

#[derive(Debug)]
pub enum ArmBody {
    Empty,
    Variant {
        name: String,
        value: FieldParse,
        boxed: bool,
    },
}

// ------------------------------------------------------------------ expressions

/// A checked expression and its type.
#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: ExprTy,
}

/// The type of an expression.
#[derive(Debug, Clone)]
pub enum ExprTy {
    Int,
    Bool,
    Zeek(ZTy),
    /// A grammar value; `true` if the Rust expression is a reference.
    Node(Ty, bool),
    /// A bytes literal.
    BytesLit,
    /// Only in expressions that failed to check (never reaches the emitter).
    Unknown,
}

/// Where a variable lives in the generated code.
#[derive(Debug, Clone, PartialEq)]
pub enum VarRef {
    /// A field, parameter or binder: its own name.
    Named(String),
    /// The value just parsed (`$$` and the field's name in `&requires`).
    Value,
    /// The array element in `&until`.
    Element,
    /// The PDU of a `flip` condition.
    Pdu,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Int(u64),
    Bool(bool),
    Bytes(Vec<u8>),
    /// A constant Zeek string.
    Str(String),
    Var(VarRef),
    Limit(String),
    Builtin(Builtin),
    Field(Box<Expr>, String),
    BitMember(Box<Expr>, String),
    Not(Box<Expr>),
    /// `&&` / `||` on booleans.
    Logic(BinOp, Box<Expr>, Box<Expr>),
    Compare(BinOp, CompareAs, Box<Expr>, Box<Expr>),
    /// `| & ^` on integers.
    BitOp(BinOp, Box<Expr>, Box<Expr>),
    /// `+ - * / % << >>` on integers (checked while parsing, saturating in bindings).
    Arith(BinOp, Box<Expr>, Box<Expr>),
    Len(Box<Expr>),
    Count(Box<Expr>),
    Seconds(Box<Expr>),
    /// `pow2(n)`: an interval of 2^n seconds, `n` a signed exponent (NTP's poll and precision).
    Pow2(Box<ZValue>),
    /// `fixed(i, f, bits)`: the fixed-point number `i + f / 2^bits` (both signed or
    /// unsigned as parsed) as an interval; `fixed_time(i, f, bits, epoch)` the time
    /// `epoch` seconds before it (NTP counts from 1900), all-zero fields giving time 0.
    Fixed {
        int: Box<ZValue>,
        frac: Box<ZValue>,
        bits: u64,
        epoch: Option<u64>,
    },
    Time(Box<Expr>, Option<Box<Expr>>),
    Mac(Box<Expr>),
    Bits(Box<Expr>, Option<Box<Expr>>),
    Format(String, Vec<FormatArg>),
    String(Box<ZValue>),
    Record(String, Vec<Expr>),
    ExternFn(String, Vec<ExternArg>),
    /// An extern fn declared `-> bytes`: `Result<Vec<u8>, String>`, only the whole value of a
    /// `feed` or `forward` (an error is a protocol violation and the update is skipped).
    ExternBytes(String, Vec<ExternArg>),
    ListComp {
        iter: BinderIter,
        /// `for i, x in ...`: the element's position, as a u64.
        index: Option<String>,
        var: String,
        elem: Box<ZValue>,
        /// `where cond`: only the elements for which it holds (positions count them all).
        filter: Option<Box<Expr>>,
    },
    /// `[k => e for x in path]`: with integer keys the values grouped by key, in
    /// order (Zeek's `table[count] of vector of T`); with string keys one value per
    /// key, the last one winning (`table[string] of T`).
    TableComp {
        iter: BinderIter,
        var: String,
        key: Box<ZValue>,
        elem: Box<ZValue>,
        filter: Option<Box<Expr>>,
        grouped: bool,
    },
    /// `nonempty(list)`: unset when the list or table is empty.
    NonEmpty(Box<Expr>),
    /// `first([e for x in path])` / `last(...)`: the value for the first / last selected
    /// element; unset (`None`) when nothing is selected, or `default` when given.
    Pick {
        last: bool,
        iter: BinderIter,
        /// `for i, x in ...`: the element's position among those the path selects.
        index: Option<String>,
        var: String,
        elem: Box<ZValue>,
        default: Option<Box<ZValue>>,
        filter: Option<Box<Expr>>,
    },
    /// `first([b for x in path], b"")` / `last(...)` over bytes with a bytes default: the
    /// bytes themselves (a slice), not a Zeek string.
    /// `join([e for x in path])`: the texts (bytes or strings) one after the other, a string.
    Join {
        iter: BinderIter,
        var: String,
        elem: Box<Expr>,
        filter: Option<Box<Expr>>,
    },
    PickBytes {
        last: bool,
        iter: BinderIter,
        var: String,
        elem: Box<Expr>,
        default: Box<Expr>,
        filter: Option<Box<Expr>>,
    },
    /// `looking_at(b"..")` / `looking_at_ci(b"..")`: the input at the cursor starts with the
    /// literal (ASCII case-insensitively); nothing is consumed.
    LookingAt {
        lit: Vec<u8>,
        ci: bool,
        /// `looking_at(b"..", n)`: compare `n` bytes past the cursor.
        at: Option<Box<Expr>>,
    },
    /// `peek_dec(n)`: the next `n` bytes as an ASCII decimal number, 0 unless all are
    /// digits; nothing is consumed.
    PeekDec(Box<Expr>),
    /// `peek_uint(offset, width)`: the `width` bytes (1 to 8) `offset` bytes past the
    /// cursor as a big-endian number (`peek_uint_le`: little-endian, the bool), 0
    /// unless they are there; nothing is consumed.
    PeekUint(Box<Expr>, u8, bool),
    /// `dec(b)`: the ASCII decimal number `b` starts with (saturating; 0 without digits).
    Dec(Box<Expr>),
    /// `be_uint(b)`: `b` as a big-endian unsigned number, 0 past 8 bytes (BER integers and
    /// long-form lengths, as Zeek's `binary_to_int64`).
    BeUint(Box<Expr>),
    /// `le_uint(b)`: `b` as a little-endian number (0 past 8 bytes).
    LeUint(Box<Expr>),
    /// `oid_longest(b)`: the width in bytes of the longest subidentifier of an OID's content.
    OidLongest(Box<Expr>),
    /// `base128(b)` / `base128_len(b)` (the bool): the base-128 number `b` starts with / how
    /// many bytes it takes (0: it does not end in `b`): X.690's multi-byte tag numbers.
    Base128(Box<Expr>, bool),
    /// `oid(b)` (bindings): an OBJECT IDENTIFIER's content in dotted form, as Zeek prints it.
    Oid(Box<Expr>),
    /// `int(n)` (bindings): the 64 bits of `n` as Zeek's `int` (two's complement); the
    /// bool: `n` is a signed field, converted as it is.
    ToInt(Box<ZValue>, bool),
    /// `a[i]` while parsing: element `i` of an array parsed before (out of range: `Arithmetic`).
    Index(Box<Expr>, Box<Expr>),
    /// `upper(b)`: `b` as a Zeek string, ASCII letters uppercased.
    Upper(Box<Expr>),
    /// `without(b, set)`: `b` without the bytes in `set` (a string).
    Without(Box<Expr>, Vec<u8>),
    /// `seven_bit(b, on)`: with `on`, every byte of `b` but 0xFF cut to 7 bits (a string).
    SevenBit(Box<Expr>, Box<Expr>),
    /// `concat(a, b)` (bindings): the two byte strings one after the other, as a Zeek string.
    Concat(Box<Expr>, Box<Expr>),
    /// `trim(b)`: `b` without leading and trailing spaces and tabs.
    Trim(Box<Expr>),
    /// A text builtin over bytes (`word`, `before`, `drop_prefix`, ...; runtime `text.rs`).
    Text(TextFn, Vec<TextArg>),
    /// `choose(c, a, b)`: `a` when `c` holds, else `b` (both bytes or both integers).
    Choose(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `ipv4(n)`: the IPv4 address whose 32 bits are the low bits of `n` (IRC DCC hosts).
    Ipv4(Box<Expr>),
    /// `unmask(data, key)` (bindings): `data` XORed with the repeated `key` (WebSocket).
    Unmask(Box<Expr>, Box<Expr>),
    /// `ip(b)` (bindings): 4 bytes as an IPv4 address, 16 as IPv6 (network order;
    /// `0.0.0.0` for any other length).
    IpBytes(Box<Expr>),
    /// `pkt_hdr(b)` (bindings): Zeek's `pkt_hdr` of the IP packet `b` starts
    /// (`netpac_runtime::pkt_hdr::PktHdr`).
    PktHdr(Box<Expr>),
    /// `ip_proto(b)` (bindings): the protocol of the IP packet's payload, after
    /// IPv6's extension headers (Zeek's `NextProto`).
    IpProto(Box<Expr>),
    /// `tcp_port(n)` / `udp_port(n)`: Zeek's `port` (0 when `n` is past 65535).
    Port(Box<Expr>, Transport),
    /// `endpoint(addr, n)`: an address and port for `expect ... to` (none when `n` is past 65535).
    Endpoint(Box<ZValue>, Box<Expr>),
    /// Stands for an expression that failed to check.
    Invalid,
}

/// The text builtins that call one function of `netpac_runtime::text`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TextFn {
    EqCi,
    Word,
    Words,
    SkipWords,
    JoinWords,
    Before,
    BeforeLast,
    After,
    Contains,
    StartsWith,
    Lstrip,
    DropPrefix,
    DropSuffix,
    Digits,
    DecBefore,
    Head,
    Tail,
    FirstCommon,
}

/// An argument of a text builtin.
#[derive(Debug, Clone)]
pub enum TextArg {
    Bytes(Expr),
    /// A one-byte separator literal (`b" "`).
    Sep(u8),
    /// A bytes literal.
    Lit(Vec<u8>),
    Int(Expr),
}

/// What a comparison compares.
#[derive(Debug, Clone, Copy)]
pub enum CompareAs {
    Bytes,
    Bool,
    Int,
}

/// How a `format` argument is printed.
#[derive(Debug, Clone)]
pub enum FormatArg {
    Str(Expr),
    Bytes(Expr),
    Int(Expr),
}

/// An argument of an extern fn, converted to its parameter type.
#[derive(Debug, Clone)]
pub enum ExternArg {
    Count(Expr),
    /// An address (`$orig_h`, `$resp_h`, an `ipv4` field).
    Addr(ZValue),
    Bool(Expr),
    Bytes(Expr),
    /// A unit passed by reference.
    Node(Expr),
}

/// The `$name` builtins.
#[derive(Debug, Clone, Copy)]
pub enum Builtin {
    Offset,
    /// `$span`: the bytes read since the unit's start (`&origin`) or the PDU's.
    Span,
    /// `$index`: the position of the array element being parsed (in its arguments).
    ArrayIndex,
    /// `$pdu` while parsing: the whole PDU (a line of a line protocol).
    ParsePdu,
    /// `$rest`: the input from the cursor to the end of the window, not consumed.
    Rest,
    Remaining,
    Eod,
    ParseIsOrig,
    ParseRespPort,
    /// `$confirmed`: the analyzer had confirmed its protocol before this PDU.
    ParseConfirmed,
    /// `$partial`: the connection's start (its SYN) was not seen.
    ParsePartial,
    L2Src,
    L2Dst,
    Conn,
    EventIsOrig,
    Halted,
    PduLen,
    Pdu,
    EventRespPort,
    Ts,
    /// `$orig_h`, `$resp_h`: the connection's addresses.
    OrigH,
    RespH,
}

/// An expression converted to a Zeek value.
#[derive(Debug, Clone)]
pub struct ZValue {
    pub expr: Expr,
    pub conv: ZConv,
}

/// How a value becomes a Zeek value (decided by the check pass).
#[derive(Debug, Clone)]
pub enum ZConv {
    Same,
    /// An integer or enum node to `count`.
    NodeToCount,
    /// A computed integer to `int`.
    CountToInt,
    /// An integer node to `int`.
    NodeToInt,
    /// A boolean node, dereferenced.
    Deref,
    StrFromLit,
    StrFromBytes,
    Addr,
    /// An array, element by element.
    Vec(Box<ZConv>),
    /// A vector to a set: duplicates dropped (strings hashed, records compared).
    Set {
        strings: bool,
    },
}

/// The values a binder path selects: arrays flattened, absent fields and
/// other switch arms skipped.
#[derive(Debug, Clone)]
pub enum BinderIter {
    Chain(Box<BinderIter>, Box<BinderIter>),
    /// `split(b, b",")` in a list comprehension: the words of `b` (byte slices).
    Split(Box<Expr>, u8),
    /// `chunks(b, n)` in a list comprehension: `b` cut into pieces of `n` bytes, a
    /// shorter last piece left out (byte slices).
    Chunks(Box<Expr>, u64),
    Path {
        root: VarRef,
        root_is_ref: bool,
        steps: Vec<Step>,
    },
}

#[derive(Debug, Clone)]
pub enum Step {
    Flatten,
    Field {
        name: String,
        optional: bool,
        boxed: bool,
    },
    Arm {
        module: usize,
        enum_name: String,
        variant: String,
        boxed: bool,
    },
}

// ------------------------------------------------------------------ bindings

/// A Zeek record and its constructor.
#[derive(Debug)]
pub struct Record {
    pub name: String,
    pub params: Vec<(String, Ty)>,
    pub fields: Vec<(String, ZTy, ZValue)>,
}

/// An event's struct (one per event name).
#[derive(Debug)]
pub struct EventStruct {
    pub name: String,
    pub fields: Vec<(String, ZTy)>,
}

/// The events bound to one unit (`bind_<unit>` / `bind_error_<unit>`).
#[derive(Debug)]
pub struct UnitBindings {
    pub unit: String,
    pub borrows: bool,
    /// Trees of binders, one per root binder (`m: Message`).
    pub roots: Vec<(String, Vec<BindItem>)>,
    /// `on error(Unit)` events.
    pub errors: Vec<Raise>,
}

#[derive(Debug)]
pub enum BindItem {
    Raise(Raise),
    Loop(BindLoop),
    Expect(Expect),
    File(FileHandoff),
}

/// `file X509 = bytes on ...;`: the bytes go to the file analyzer, whether or not
/// anything subscribes (its own events decide what is built).
#[derive(Debug)]
pub struct FileHandoff {
    pub analyzer: String,
    /// The file's direction, when it is not the PDU's.
    pub is_orig: Option<Expr>,
    /// A bytes expression.
    pub data: Expr,
    pub cond: Option<Expr>,
}

/// Announcing a connection (`expect`): raised whether or not anything subscribes.
#[derive(Debug)]
pub struct Expect {
    pub analyzer: String,
    pub udp: bool,
    /// The originator's address; `None` for any.
    pub from: Option<ZValue>,
    /// An `endpoint` expression (`Option<Endpoint>`).
    pub to: Expr,
    pub secs: u32,
    pub service: Option<String>,
    pub cond: Option<Expr>,
}

/// `for var in iter { items }`, run only if one of `wants` is subscribed, or
/// always when a file is handed over below it.
#[derive(Debug)]
pub struct BindLoop {
    pub var: String,
    pub iter: BinderIter,
    pub items: Vec<BindItem>,
    pub wants: Vec<String>,
    pub always: bool,
}

/// Raising one event (`None` args: the event is not in the table).
#[derive(Debug)]
pub struct Raise {
    pub event: String,
    pub args: Vec<(String, ZValue)>,
    pub cond: Option<Expr>,
}

// The analyzers (attachment, state, tunnels): `ir/analyzers.rs`.

mod analyzers;
pub use analyzers::*;

/// `&on_error(...)`: what a field that cannot be parsed does.
#[derive(Debug)]
pub struct OnError {
    /// The weird reported.
    pub weird: String,
    /// `skip = ..`: the connection's history gains `X` too (analysis partial).
    pub skip: bool,
    /// The weird's `addl` (an integer or bytes).
    pub addl: Option<Expr>,
    /// The type the field parses to.
    pub ty: Option<Ty>,
}
