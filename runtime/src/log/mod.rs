//! Zeek-format logs: one stream per path (`conn`, `dns`, ...), written as
//! Zeek's tab-separated text or as JSON lines by the same writer.
//!
//! A log is declared by a [`Schema`] (column names and Zeek types); rows are
//! slices of [`Value`]s in column order.

mod capture;
mod parquet;

pub use capture::{Captured, Keyed, RowKey};

use crate::zeek::{escape_bytes, Interval, Time};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The columns of a log.
#[derive(Debug)]
pub struct Schema {
    /// `conn` for `conn.log`.
    pub path: &'static str,
    /// Zeek's stream id (`Conn::LOG`), which the log's own weirds name.
    pub stream: &'static str,
    /// (column name, Zeek type) in order; names use Zeek's dotted form (`id.orig_h`).
    pub columns: &'static [(&'static str, &'static str)],
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Unset,
    Bool(bool),
    Count(u64),
    Int(i64),
    Double(f64),
    Time(Time),
    Interval(Interval),
    /// Bytes, escaped on output.
    Str(Vec<u8>),
    Addr(IpAddr),
    Port(u16),
    /// An enum value, e.g. `tcp`.
    Enum(&'static str),
    Set(Vec<Value>),
    Vector(Vec<Value>),
}

impl Value {
    /// The columns most logs start with: `ts`, `uid` and the connection's id
    /// (`let [ts, uid, oh, op, rh, rp] = Value::conn_columns(ts, c);`).
    pub fn conn_columns(ts: Time, c: &crate::record::Connection) -> [Value; 6] {
        [
            Value::Time(ts),
            Value::str(c.uid.as_bytes()),
            Value::Addr(c.id.orig_h),
            Value::Port(c.id.orig_p.number),
            Value::Addr(c.id.resp_h),
            Value::Port(c.id.resp_p.number),
        ]
    }
    pub fn str(s: impl AsRef<[u8]>) -> Value {
        Value::Str(s.as_ref().to_vec())
    }
    pub fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Value) -> Value {
        v.map(f).unwrap_or(Value::Unset)
    }
}

/// A typed log record: one row of one log. Writers keep their own record
/// types (`DNS::Info`, `Conn::Info`, ...) and turn them into cells here.
pub trait LogRecord {
    /// The log (path and columns) this record is a row of.
    fn schema(&self) -> &'static Schema;
    /// The cells, in the schema's column order.
    fn values(&self) -> Vec<Value>;
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Tsv,
    Json,
    /// Parquet files with typed columns (`parquet.rs`).
    Parquet,
}

impl Format {
    /// The file name extension of a log in this format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Tsv | Format::Json => "log",
            Format::Parquet => "parquet",
        }
    }
}

/// Where a log's rows go.
enum Output {
    /// TSV or JSON lines.
    Text(BufWriter<File>),
    Parquet(Box<parquet::ParquetLog>),
}

struct Stream {
    out: Output,
    schema: &'static Schema,
    /// Network time the file was opened (the name it gets when rotated).
    opened_at: Time,
}

/// Rotation of every log on a fixed interval of network time (Zeek's
/// `Log::default_rotation_interval`).
struct Rotation {
    interval: i64,
    /// When the current files are closed; `None` until the first packet.
    next: Option<Time>,
}

/// All log streams of a run, shared by every log writer (one `#open` time).
/// A stream that fails to write is dropped; the first failure is kept and
/// reported by [`Logs::close`], so the run can end with a message.
pub struct Logs {
    /// `None`: logs are not written (tests and benchmarks without a directory).
    dir: Option<PathBuf>,
    format: Format,
    streams: BTreeMap<&'static str, Stream>,
    failed: BTreeMap<&'static str, io::Error>,
    opened: String,
    /// The row being formatted, reused from row to row.
    line: Vec<u8>,
    rotation: Option<Rotation>,
    /// Network time of the packet being processed (set by `advance`).
    now: Time,
    /// Zeek's weird framework: what reaches `weird.log`, whoever reports the weird.
    pub weirds: crate::weird::WeirdPolicy,
    /// Logs turned off by path (Zeek's `Log::disable_stream`).
    disabled: Vec<String>,
    /// Where every row also goes, as a JSON object (Kafka).
    mirror: Option<Box<dyn RowSink>>,
    mirror_line: Vec<u8>,
    /// A sharded run's worker: rows are kept here, keyed, for the merge.
    captured: Option<Vec<Keyed>>,
    /// The place in the run's output of what is written now.
    key: RowKey,
    /// The time the engine's timers have run to.
    upto: Time,
}

/// A destination for every log row besides the files (a message broker):
/// each row comes as Zeek's JSON object of it, with the log it belongs to.
pub trait RowSink {
    fn row(&mut self, schema: &'static Schema, json: &[u8]);
    /// End of the run: deliver what is pending. An error (rows that could
    /// not be delivered) makes the run fail, as a log that could not be
    /// written does.
    fn close(&mut self) -> io::Result<()>;
}

/// Zeek's per-row logging limits (`Log::default_max_field_string_bytes` and its
/// siblings): a longer string is cut, a bigger set or vector keeps its first
/// elements, and past a row's totals further strings are empty and containers
/// end. Zeek reports each kind of cut with a weird naming the stream.
#[derive(Debug, Clone, Copy)]
struct FieldLimits {
    field_string_bytes: usize,
    field_container_elements: usize,
    total_string_bytes: usize,
    total_container_elements: usize,
}

impl FieldLimits {
    const ZEEK: FieldLimits = FieldLimits {
        field_string_bytes: 4096,
        field_container_elements: 100,
        total_string_bytes: 256_000,
        total_container_elements: 500,
    };

    /// `None` when the row is within the limits (the usual case, nothing copied);
    /// else the cut row and whether strings / containers were cut.
    fn trim(&self, row: &[Value]) -> Option<(Vec<Value>, bool, bool)> {
        let mut strings = 0usize;
        let mut elements = 0usize;
        let within = row.iter().all(|v| self.within(v, &mut strings, &mut elements));
        if within {
            return None;
        }
        let mut cut = Cut::default();
        let out = row.iter().map(|v| self.cut_value(v, &mut cut)).collect();
        Some((out, cut.strings, cut.containers))
    }

    fn within(&self, v: &Value, strings: &mut usize, elements: &mut usize) -> bool {
        match v {
            Value::Str(s) => {
                *strings += s.len();
                s.len() <= self.field_string_bytes && *strings <= self.total_string_bytes
            }
            Value::Set(items) | Value::Vector(items) => {
                *elements += items.len();
                items.len() <= self.field_container_elements
                    && *elements <= self.total_container_elements
                    && items.iter().all(|i| self.within(i, strings, elements))
            }
            _ => true,
        }
    }

    fn cut_value(&self, v: &Value, cut: &mut Cut) -> Value {
        match v {
            Value::Str(s) => {
                let room = self.total_string_bytes.saturating_sub(cut.string_bytes);
                let keep = s.len().min(self.field_string_bytes).min(room);
                if keep < s.len() {
                    cut.strings = true;
                }
                cut.string_bytes += keep;
                Value::Str(s[..keep].to_vec())
            }
            Value::Set(items) | Value::Vector(items) => {
                let room = self.total_container_elements.saturating_sub(cut.elements);
                let keep = items.len().min(self.field_container_elements).min(room);
                if keep < items.len() {
                    cut.containers = true;
                }
                cut.elements += keep;
                let kept = items[..keep].iter().map(|i| self.cut_value(i, cut)).collect();
                match v {
                    Value::Set(_) => Value::Set(kept),
                    _ => Value::Vector(kept),
                }
            }
            other => other.clone(),
        }
    }
}

/// What [`FieldLimits::trim`] has used and cut so far in one row.
#[derive(Default)]
struct Cut {
    string_bytes: usize,
    elements: usize,
    strings: bool,
    containers: bool,
}

const SEP: u8 = b'\t';
const SET_SEP: u8 = b',';
const EMPTY: &str = "(empty)";
const UNSET: &str = "-";

impl Logs {
    pub fn new(dir: impl Into<PathBuf>, format: Format) -> Logs {
        Logs {
            dir: Some(dir.into()),
            format,
            streams: BTreeMap::new(),
            failed: BTreeMap::new(),
            opened: now_stamp(),
            line: Vec::with_capacity(512),
            rotation: None,
            now: Time::ZERO,
            weirds: crate::weird::WeirdPolicy::default(),
            disabled: Vec::new(),
            mirror: None,
            mirror_line: Vec::new(),
            captured: None,
            key: RowKey::default(),
            upto: Time::ZERO,
        }
    }

    /// Logs of a sharded run's worker: nothing is written; rows, weirds and
    /// the events of global sinks are kept with their [`RowKey`]s, for
    /// [`Logs::take_captured`].
    pub fn capturing() -> Logs {
        let mut logs = Logs::disabled();
        logs.captured = Some(Vec::new());
        logs
    }

    /// Whether this is a worker's (see [`Logs::capturing`]).
    pub fn is_capturing(&self) -> bool {
        self.captured.is_some()
    }

    /// What is written from now on belongs at `key` in the run's output.
    #[inline]
    pub fn set_row_key(&mut self, key: RowKey) {
        self.key = key;
    }

    /// The items captured since the last call, in key order.
    pub fn take_captured(&mut self) -> Vec<Keyed> {
        self.captured.as_mut().map(std::mem::take).unwrap_or_default()
    }

    fn capture(&mut self, item: Captured) {
        if let Some(captured) = &mut self.captured {
            captured.push(Keyed {
                key: self.key,
                now: self.now,
                upto: self.upto,
                item,
            });
            self.key.n += 1;
        }
    }

    pub(crate) fn capture_weird(
        &mut self,
        ts: Time,
        at: crate::weird::WeirdAt,
        uid: Option<&str>,
        name: &str,
        addl: &[u8],
        source: &str,
    ) {
        self.capture(Captured::Weird {
            ts,
            at,
            uid: uid.map(str::to_string),
            name: name.to_string(),
            addl: addl.to_vec(),
            source: source.to_string(),
        });
    }

    /// A worker keeps an event for the global sink `sink` (see [`Captured::Event`]).
    pub fn capture_event(&mut self, sink: u16, ts: Time, event: Box<dyn crate::event::Event + Send>) {
        self.capture(Captured::Event { sink, ts, event });
    }

    /// Replays one captured item of a worker: a row is written, a weird
    /// goes to the weird framework, an event to `sinks[sink]`.
    pub fn replay(&mut self, item: Keyed, sinks: &mut [Box<dyn crate::event::EventSink>]) {
        self.advance(item.now, item.upto);
        match item.item {
            Captured::Row { schema, row } => self.write(schema, &row),
            Captured::Weird {
                ts,
                at,
                uid,
                name,
                addl,
                source,
            } => crate::weird::write_weird(self, ts, at, uid.as_deref(), &name, &addl, &source),
            Captured::Event { sink, ts, event } => {
                if let Some(sink) = sinks.get_mut(usize::from(sink)) {
                    sink.raise(ts, &*event, self);
                }
            }
        }
    }

    /// Logs that are not written anywhere.
    pub fn disabled() -> Logs {
        let mut logs = Logs::new(PathBuf::new(), Format::Tsv);
        logs.dir = None;
        logs
    }

    /// Sends every row also to `sink`, as JSON; with [`Logs::disabled`]
    /// rows go there only.
    pub fn mirror_to(&mut self, sink: Box<dyn RowSink>) {
        self.mirror = Some(sink);
    }

    /// Writes nothing more to the log `path` (`"dns"` for dns.log), as
    /// Zeek's `Log::disable_stream` does.
    pub fn disable_stream(&mut self, path: &str) {
        self.disabled.push(path.to_string());
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Appends one row to the schema's log, opening the file on first use.
    /// A failure is kept for [`Logs::close`] and ends that log's stream.
    pub fn write(&mut self, schema: &'static Schema, row: &[Value]) {
        debug_assert_eq!(row.len(), schema.columns.len());
        if self.captured.is_some() {
            return self.capture(Captured::Row {
                schema,
                row: row.to_vec(),
            });
        }
        let to_file = self.dir.is_some() && !self.failed.contains_key(schema.path);
        if !to_file && self.mirror.is_none() {
            return;
        }
        if !self.disabled.is_empty() && self.disabled.iter().any(|p| p == schema.path) {
            return;
        }
        // Zeek 8's limits on what one row may log (rarely reached: checked, then copied).
        let trimmed;
        let row = match FieldLimits::ZEEK.trim(row) {
            None => row,
            Some((t, strings, containers)) => {
                let now = self.now;
                if strings {
                    crate::weird::log_net_weird(self, now, "log_string_field_truncated", schema.stream);
                }
                if containers {
                    crate::weird::log_net_weird(self, now, "log_container_field_truncated", schema.stream);
                }
                trimmed = t;
                &trimmed[..]
            }
        };
        if let Some(mirror) = &mut self.mirror {
            self.mirror_line.clear();
            json_row(&mut self.mirror_line, schema, row);
            mirror.row(schema, &self.mirror_line);
        }
        if !to_file {
            return;
        }
        if let Err(e) = self.try_write(schema, row) {
            self.streams.remove(schema.path);
            self.failed.insert(schema.path, e);
        }
    }

    fn try_write(&mut self, schema: &'static Schema, row: &[Value]) -> io::Result<()> {
        let stream = match self.streams.entry(schema.path) {
            std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => {
                let dir = self.dir.as_ref().expect("checked by write");
                let file = File::create(dir.join(format!("{}.{}", schema.path, self.format.extension())))?;
                let out = match self.format {
                    Format::Parquet => Output::Parquet(Box::new(parquet::ParquetLog::create(file, schema)?)),
                    Format::Tsv | Format::Json => {
                        let mut out = BufWriter::new(file);
                        if self.format == Format::Tsv {
                            write_header(&mut out, schema, &self.opened)?;
                        }
                        Output::Text(out)
                    }
                };
                v.insert(Stream {
                    out,
                    schema,
                    opened_at: self.now,
                })
            }
        };
        let out = match &mut stream.out {
            Output::Parquet(log) => return log.push(row),
            Output::Text(out) => out,
        };
        let line = &mut self.line;
        line.clear();
        match self.format {
            Format::Json => json_row(line, stream.schema, row),
            Format::Tsv | Format::Parquet => tsv_row(line, row),
        }
        line.push(b'\n');
        out.write_all(line)
    }

    /// Appends a typed record to its log.
    pub fn write_record(&mut self, record: &impl LogRecord) {
        self.write(record.schema(), &record.values())
    }

    /// Rotates every log each `interval` of network time, at multiples of it
    /// since midnight UTC (Zeek's rotation with `Log::default_rotation_interval`
    /// and base time 0:00): a file is closed with its footer and renamed
    /// `<path>.<open time>.log` (Zeek's default name, `%Y-%m-%d-%H-%M-%S` of the
    /// network time its first row was written); the next row opens a new one. The files
    /// open at the end keep their plain names (`conn.log`), as Zeek leaves them.
    pub fn rotate_every(&mut self, interval: Interval) {
        if interval.0 > 0 {
            self.rotation = Some(Rotation {
                interval: interval.0,
                next: None,
            });
        }
    }

    /// Network time is `network_time` (the packet being processed) and the
    /// engine's timers have run up to `upto`: rotates if that passed the next
    /// boundary. Files are opened when their first row is written after a
    /// rotation and named after the network time then, as Zeek's are.
    #[inline]
    pub fn advance(&mut self, network_time: Time, upto: Time) {
        self.now = network_time;
        self.upto = upto;
        let Some(r) = &mut self.rotation else {
            return;
        };
        match r.next {
            None => r.next = Some(next_boundary(upto, r.interval)),
            Some(due) if upto >= due => {
                r.next = Some(next_boundary(upto, r.interval));
                self.rotate();
            }
            Some(_) => {}
        }
    }

    /// Closes every open file and renames it after its open time.
    fn rotate(&mut self) {
        for (path, stream) in std::mem::take(&mut self.streams) {
            let opened = stamp(stream.opened_at.0.div_euclid(1_000_000_000));
            if let Err(e) = self.close_stream(path, stream, Some(&opened)) {
                self.failed.entry(path).or_insert(e);
            }
        }
    }

    fn close_stream(&self, path: &str, stream: Stream, rename_to: Option<&str>) -> io::Result<()> {
        match stream.out {
            Output::Text(mut out) => {
                if self.format == Format::Tsv {
                    writeln!(out, "#close\t{}", now_stamp())?;
                }
                out.flush()?;
            }
            Output::Parquet(log) => log.finish()?,
        }
        if let (Some(dir), Some(opened)) = (&self.dir, rename_to) {
            let ext = self.format.extension();
            std::fs::rename(dir.join(format!("{path}.{ext}")), dir.join(format!("{path}.{opened}.{ext}")))?;
        }
        Ok(())
    }

    /// Writes the `#close` footers and flushes every stream; reports the
    /// first failure of the run, naming its log (`writing dns.log: ...`).
    pub fn close(&mut self) -> io::Result<()> {
        for (path, stream) in std::mem::take(&mut self.streams) {
            if let Err(e) = self.close_stream(path, stream, None) {
                self.failed.entry(path).or_insert(e);
            }
        }
        let mirrored = match self.mirror.take() {
            Some(mut m) => m.close(),
            None => Ok(()),
        };
        match std::mem::take(&mut self.failed).into_iter().next() {
            Some((path, e)) => Err(io::Error::new(e.kind(), format!("writing {path}.{}: {e}", self.format.extension()))),
            None => mirrored,
        }
    }
}

/// The first multiple of `interval` nanoseconds since midnight UTC after `now`.
fn next_boundary(now: Time, interval: i64) -> Time {
    const DAY: i64 = 86_400_000_000_000;
    let midnight = now.0 - now.0.rem_euclid(DAY);
    let since = now.0 - midnight;
    Time(midnight + (since / interval + 1) * interval)
}

impl Drop for Logs {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

fn now_stamp() -> String {
    // Zeek writes local wall-clock time as YYYY-MM-DD-HH-MM-SS; UTC keeps runs reproducible.
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    stamp(secs)
}

/// Seconds since the epoch as `YYYY-MM-DD-HH-MM-SS` (UTC).
fn stamp(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}-{:02}-{:02}-{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn write_header(out: &mut impl Write, schema: &Schema, opened: &str) -> io::Result<()> {
    writeln!(out, "#separator \\x09")?;
    writeln!(out, "#set_separator\t,")?;
    writeln!(out, "#empty_field\t{EMPTY}")?;
    writeln!(out, "#unset_field\t{UNSET}")?;
    writeln!(out, "#path\t{}", schema.path)?;
    writeln!(out, "#open\t{opened}")?;
    let names: Vec<&str> = schema.columns.iter().map(|c| c.0).collect();
    writeln!(out, "#fields\t{}", names.join("\t"))?;
    let types: Vec<&str> = schema.columns.iter().map(|c| c.1).collect();
    writeln!(out, "#types\t{}", types.join("\t"))
}

fn tsv_row(line: &mut Vec<u8>, row: &[Value]) {
    for (i, v) in row.iter().enumerate() {
        if i > 0 {
            line.push(SEP);
        }
        match v {
            Value::Unset => line.extend_from_slice(UNSET.as_bytes()),
            Value::Set(items) | Value::Vector(items) if items.is_empty() => {
                line.extend_from_slice(EMPTY.as_bytes())
            }
            Value::Set(items) | Value::Vector(items) => {
                for (j, item) in items.iter().enumerate() {
                    if j > 0 {
                        line.push(SET_SEP);
                    }
                    tsv_cell(line, item, true);
                }
            }
            other => tsv_cell(line, other, false),
        }
    }
}

fn tsv_cell(line: &mut Vec<u8>, v: &Value, in_set: bool) {
    use std::io::Write as _;
    // Numbers and times are the bulk of most rows: written without `fmt`.
    let mut digits = itoa::Buffer::new();
    match v {
        Value::Unset => line.extend_from_slice(UNSET.as_bytes()),
        Value::Bool(b) => line.push(if *b { b'T' } else { b'F' }),
        Value::Count(n) => line.extend_from_slice(digits.format(*n).as_bytes()),
        Value::Int(n) => line.extend_from_slice(digits.format(*n).as_bytes()),
        Value::Double(d) => {
            let _ = write!(line, "{d:.6}");
        }
        Value::Time(t) => crate::zeek::push_fixed6(line, t.0),
        Value::Interval(t) => crate::zeek::push_fixed6(line, t.0),
        // IPv4 addresses are in every row, twice: without `fmt`.
        Value::Addr(std::net::IpAddr::V4(a)) => {
            for (i, o) in a.octets().iter().enumerate() {
                if i > 0 {
                    line.push(b'.');
                }
                line.extend_from_slice(digits.format(*o).as_bytes());
            }
        }
        Value::Addr(a) => {
            let _ = write!(line, "{a}");
        }
        Value::Port(p) => line.extend_from_slice(digits.format(*p).as_bytes()),
        Value::Enum(e) => line.extend_from_slice(e.as_bytes()),
        Value::Str(s) => {
            if s.is_empty() {
                line.extend_from_slice(EMPTY.as_bytes());
            } else if s.as_slice() == UNSET.as_bytes() {
                line.extend_from_slice(b"\\x2d");
            } else {
                escape_tsv(line, s, in_set);
            }
        }
        Value::Set(_) | Value::Vector(_) => tsv_row(line, std::slice::from_ref(v)),
    }
}

/// Zeek's ASCII writer: the separators, control bytes and bytes that are not
/// valid UTF-8 as `\xNN`, a backslash as `\\`; valid UTF-8 text as it is.
fn escape_tsv(line: &mut Vec<u8>, s: &[u8], in_set: bool) {
    // Most values are plain printable ASCII: copied as they are.
    let plain = |b: &u8| (0x20..0x7f).contains(b) && *b != b'\\' && !(in_set && *b == SET_SEP);
    if s.iter().all(plain) {
        line.extend_from_slice(s);
        return;
    }
    for chunk in s.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => line.extend_from_slice(b"\\\\"),
                c if c.is_ascii() => {
                    let b = c as u8;
                    if b == SEP || !(0x20..0x7f).contains(&b) || (in_set && b == SET_SEP) {
                        line.extend_from_slice(format!("\\x{b:02x}").as_bytes());
                    } else {
                        line.push(b);
                    }
                }
                c => {
                    let mut buf = [0u8; 4];
                    line.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        for b in chunk.invalid() {
            line.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        }
    }
}

fn json_value(v: &Value) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    Some(match v {
        Value::Unset => return None,
        Value::Bool(b) => J::Bool(*b),
        Value::Count(n) => J::from(*n),
        Value::Int(n) => J::from(*n),
        Value::Double(d) => J::from(*d),
        Value::Time(t) => J::from((t.as_secs_f64() * 1e6).round() / 1e6),
        Value::Interval(t) => J::from((t.as_secs_f64() * 1e6).round() / 1e6),
        Value::Str(s) => {
            let mut out = String::new();
            match std::str::from_utf8(s) {
                Ok(text) => out.push_str(text),
                Err(_) => escape_bytes(s, &mut out),
            }
            J::String(out)
        }
        Value::Addr(a) => J::String(a.to_string()),
        Value::Port(p) => J::from(*p),
        Value::Enum(e) => J::String((*e).to_string()),
        Value::Set(items) | Value::Vector(items) => {
            J::Array(items.iter().filter_map(json_value).collect())
        }
    })
}

fn json_row(line: &mut Vec<u8>, schema: &Schema, row: &[Value]) {
    let mut obj = serde_json::Map::new();
    for ((name, _), v) in schema.columns.iter().zip(row) {
        if let Some(j) = json_value(v) {
            obj.insert((*name).to_string(), j);
        }
    }
    let _ = serde_json::to_writer(line, &serde_json::Value::Object(obj));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_keeps_utf8_and_doubles_backslashes_as_zeek() {
        let mut line = Vec::new();
        escape_tsv(&mut line, "/printable_\u{1F604}\\x07\x07".as_bytes(), false);
        escape_tsv(&mut line, b"\xf0\x28,", true);
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "/printable_\u{1F604}\\\\x07\\x07\\xf0(\\x2c"
        );
    }

    static TEST: Schema = Schema {
        stream: "Test::LOG",
        path: "test",
        columns: &[
            ("ts", "time"),
            ("name", "string"),
            ("tags", "set[string]"),
            ("n", "count"),
        ],
    };

    #[test]
    fn tsv_rows_escape_and_mark_unset_and_empty() {
        let mut line = Vec::new();
        tsv_row(
            &mut line,
            &[
                Value::Time(Time(1_000_000_500)),
                Value::str("a\tb"),
                Value::Set(vec![]),
                Value::Unset,
            ],
        );
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "1.000001\ta\\x09b\t(empty)\t-"
        );
    }

    #[test]
    fn json_rows_skip_unset_columns() {
        let mut line = Vec::new();
        json_row(
            &mut line,
            &TEST,
            &[
                Value::Time(Time(1_500_000_000)),
                Value::str("x"),
                Value::Set(vec![Value::str("a")]),
                Value::Unset,
            ],
        );
        assert_eq!(
            String::from_utf8(line).unwrap(),
            r#"{"ts":1.5,"name":"x","tags":["a"]}"#
        );
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_000), (2024, 10, 4));
    }

    #[test]
    fn rows_past_zeeks_field_limits_are_cut() {
        let limits = FieldLimits::ZEEK;
        let small = [Value::str("a"), Value::Set(vec![Value::str("x"); 100])];
        assert!(limits.trim(&small).is_none());
        let big = [
            Value::Str(vec![b'a'; 5000]),
            Value::Set(vec![Value::str("x"); 150]),
            Value::Count(7),
        ];
        let (cut, strings, containers) = limits.trim(&big).expect("cut");
        assert!(strings && containers);
        assert_eq!(cut[0], Value::Str(vec![b'a'; 4096]));
        assert_eq!(cut[1], Value::Set(vec![Value::str("x"); 100]));
        assert_eq!(cut[2], Value::Count(7));
        // Past the row's total: later containers are empty.
        let many = vec![Value::Vector(vec![Value::Count(1); 100]); 6];
        let (cut, strings, containers) = limits.trim(&many).expect("cut");
        assert!(!strings && containers);
        assert_eq!(cut[4], Value::Vector(vec![Value::Count(1); 100]));
        assert_eq!(cut[5], Value::Vector(vec![]));
    }
}
