//! Logs as Parquet files (`--parquet`): one file per log, typed columns, for
//! DuckDB, Spark and other data-lake readers. No Zeek writer does this.
//!
//! Zeek's types map to Arrow's: `time` is a UTC timestamp in microseconds
//! (Zeek's precision), `interval` and `double` are seconds as float64,
//! `count` uint64, `int` int64, `port` uint16, `bool` boolean; `addr`,
//! `string`, `enum` and the rest are UTF-8 strings (bytes that are not UTF-8
//! escaped as `\xNN`, as in Zeek's JSON); `set[T]` and `vector[T]` are lists.
//! An unset column is null. Each field keeps its Zeek type in its metadata
//! (`zeek_type`), and the file its log path and stream (`zeek_path`,
//! `zeek_stream`).

use super::{Schema, Value};
use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::types::{Float64Type, UInt64Type};
use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, ListArray, RecordBatch, StringArray,
    TimestampMicrosecondArray, UInt16Array, UInt64Array,
};
use arrow_schema::{DataType, Field, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::sync::Arc;

/// Rows gathered before they are handed to the Parquet writer as a batch.
const BATCH_ROWS: usize = 8192;
/// Rows per row group: bounds what the writer holds in memory per log.
const ROW_GROUP_ROWS: usize = 65_536;

/// The column type a Zeek type is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Count,
    Int,
    Seconds,
    Time,
    Port,
    Text,
}

impl Kind {
    fn of(zeek_type: &str) -> Kind {
        match zeek_type {
            "bool" => Kind::Bool,
            "count" => Kind::Count,
            "int" => Kind::Int,
            "double" | "interval" => Kind::Seconds,
            "time" => Kind::Time,
            "port" => Kind::Port,
            _ => Kind::Text,
        }
    }

    fn data_type(self) -> DataType {
        match self {
            Kind::Bool => DataType::Boolean,
            Kind::Count => DataType::UInt64,
            Kind::Int => DataType::Int64,
            Kind::Seconds => DataType::Float64,
            Kind::Time => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            Kind::Port => DataType::UInt16,
            Kind::Text => DataType::Utf8,
        }
    }
}

/// A column: its kind, and whether it is a list of that kind.
#[derive(Debug, Clone, Copy)]
struct Column {
    kind: Kind,
    list: bool,
}

impl Column {
    fn of(zeek_type: &str) -> Column {
        let element = zeek_type
            .strip_prefix("set[")
            .or_else(|| zeek_type.strip_prefix("vector["))
            .and_then(|t| t.strip_suffix(']'));
        match element {
            Some(t) => Column {
                kind: Kind::of(t),
                list: true,
            },
            None => Column {
                kind: Kind::of(zeek_type),
                list: false,
            },
        }
    }
}

/// One open Parquet log.
pub(super) struct ParquetLog {
    writer: ArrowWriter<File>,
    schema: Arc<arrow_schema::Schema>,
    columns: Vec<Column>,
    rows: Vec<Vec<Value>>,
}

impl ParquetLog {
    pub(super) fn create(file: File, log: &Schema) -> io::Result<ParquetLog> {
        let columns: Vec<Column> = log.columns.iter().map(|(_, t)| Column::of(t)).collect();
        let fields: Vec<Field> = log
            .columns
            .iter()
            .zip(&columns)
            .map(|((name, zeek_type), c)| {
                let data_type = if c.list {
                    DataType::List(Arc::new(Field::new("item", c.kind.data_type(), true)))
                } else {
                    c.kind.data_type()
                };
                Field::new(*name, data_type, true).with_metadata(HashMap::from([(
                    "zeek_type".to_string(),
                    zeek_type.to_string(),
                )]))
            })
            .collect();
        let schema = Arc::new(arrow_schema::Schema::new_with_metadata(
            fields,
            HashMap::from([
                ("zeek_path".to_string(), log.path.to_string()),
                ("zeek_stream".to_string(), log.stream.to_string()),
            ]),
        ));
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .build();
        let writer =
            ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(io::Error::other)?;
        Ok(ParquetLog {
            writer,
            schema,
            columns,
            rows: Vec::new(),
        })
    }

    pub(super) fn push(&mut self, row: &[Value]) -> io::Result<()> {
        self.rows.push(row.to_vec());
        if self.rows.len() >= BATCH_ROWS {
            self.flush_rows()?;
        }
        Ok(())
    }

    fn flush_rows(&mut self) -> io::Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                column_array(
                    *c,
                    self.rows.iter().map(|r| r.get(i).unwrap_or(&Value::Unset)),
                )
            })
            .collect();
        self.rows.clear();
        let batch = RecordBatch::try_new(self.schema.clone(), arrays).map_err(io::Error::other)?;
        self.writer.write(&batch).map_err(io::Error::other)
    }

    /// Writes what is gathered and the file's footer.
    pub(super) fn finish(mut self) -> io::Result<()> {
        self.flush_rows()?;
        self.writer.close().map_err(io::Error::other)?;
        Ok(())
    }
}

/// One column of a batch from its cells; a cell of another type than the
/// column's (a writer's mistake) is null rather than a failed file.
fn column_array<'a>(c: Column, cells: impl Iterator<Item = &'a Value>) -> ArrayRef {
    if c.list {
        return list_array(c.kind, cells);
    }
    match c.kind {
        Kind::Bool => Arc::new(cells.map(bool_of).collect::<BooleanArray>()),
        Kind::Count => Arc::new(cells.map(count_of).collect::<UInt64Array>()),
        Kind::Int => Arc::new(
            cells
                .map(|v| match v {
                    Value::Int(n) => Some(*n),
                    Value::Count(n) => i64::try_from(*n).ok(),
                    _ => None,
                })
                .collect::<Int64Array>(),
        ),
        Kind::Seconds => Arc::new(cells.map(seconds_of).collect::<Float64Array>()),
        Kind::Time => Arc::new(
            cells
                .map(|v| match v {
                    Value::Time(t) => Some(t.0.div_euclid(1000)),
                    _ => None,
                })
                .collect::<TimestampMicrosecondArray>()
                .with_timezone("UTC"),
        ),
        Kind::Port => Arc::new(
            cells
                .map(|v| match v {
                    Value::Port(p) => Some(*p),
                    _ => None,
                })
                .collect::<UInt16Array>(),
        ),
        Kind::Text => Arc::new(cells.map(text_of).collect::<StringArray>()),
    }
}

fn list_array<'a>(kind: Kind, cells: impl Iterator<Item = &'a Value>) -> ArrayRef {
    let items = |v: &'a Value| match v {
        Value::Set(items) | Value::Vector(items) => Some(items.as_slice()),
        _ => None,
    };
    match kind {
        Kind::Count => Arc::new(ListArray::from_iter_primitive::<UInt64Type, _, _>(
            cells.map(|v| items(v).map(|xs| xs.iter().map(count_of).collect::<Vec<_>>())),
        )),
        Kind::Seconds => Arc::new(ListArray::from_iter_primitive::<Float64Type, _, _>(
            cells.map(|v| items(v).map(|xs| xs.iter().map(seconds_of).collect::<Vec<_>>())),
        )),
        // Every container type netpac's logs have is of text or the two
        // above; any other element type is written as its text.
        _ => {
            let mut b = ListBuilder::new(StringBuilder::new());
            for v in cells {
                match items(v) {
                    Some(xs) => {
                        for x in xs {
                            b.values().append_option(text_of(x));
                        }
                        b.append(true);
                    }
                    None => b.append(false),
                }
            }
            Arc::new(b.finish())
        }
    }
}

fn bool_of(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        _ => None,
    }
}

fn count_of(v: &Value) -> Option<u64> {
    match v {
        Value::Count(n) => Some(*n),
        _ => None,
    }
}

fn seconds_of(v: &Value) -> Option<f64> {
    match v {
        Value::Double(d) => Some(*d),
        Value::Interval(i) => Some(i.as_secs_f64()),
        _ => None,
    }
}

/// A cell as text, as Zeek's JSON writer renders it.
fn text_of(v: &Value) -> Option<String> {
    Some(match v {
        Value::Unset | Value::Set(_) | Value::Vector(_) => return None,
        Value::Str(s) => match std::str::from_utf8(s) {
            Ok(text) => text.to_string(),
            Err(_) => {
                let mut out = String::new();
                crate::zeek::escape_bytes(s, &mut out);
                out
            }
        },
        Value::Addr(a) => a.to_string(),
        Value::Enum(e) => (*e).to_string(),
        Value::Port(p) => p.to_string(),
        Value::Bool(b) => (if *b { "T" } else { "F" }).to_string(),
        Value::Count(n) => n.to_string(),
        Value::Int(n) => n.to_string(),
        Value::Double(d) => d.to_string(),
        Value::Time(t) => format!("{:.6}", t.as_secs_f64()),
        Value::Interval(i) => format!("{:.6}", i.as_secs_f64()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zeek::{Interval, Time};
    use parquet::file::reader::{FileReader, SerializedFileReader};

    static TEST: Schema = Schema {
        stream: "Test::LOG",
        path: "test",
        columns: &[
            ("ts", "time"),
            ("id.orig_h", "addr"),
            ("id.orig_p", "port"),
            ("n", "count"),
            ("rtt", "interval"),
            ("ok", "bool"),
            ("name", "string"),
            ("tags", "set[string]"),
            ("rtts", "vector[interval]"),
        ],
    };

    #[test]
    fn rows_keep_their_types_and_nulls() {
        let path =
            std::env::temp_dir().join(format!("netpac-parquet-{}.parquet", std::process::id()));
        let mut log = ParquetLog::create(File::create(&path).unwrap(), &TEST).unwrap();
        let rows = 20_000; // more than one batch
        for i in 0..rows {
            log.push(&[
                Value::Time(Time(1_500_000_000_123_456_789 + i as i64)),
                Value::Addr("10.0.0.1".parse().unwrap()),
                Value::Port(53),
                if i % 2 == 0 {
                    Value::Count(i as u64)
                } else {
                    Value::Unset
                },
                Value::Interval(Interval(1_500_000)),
                Value::Bool(true),
                Value::Str(b"caf\xc3\xa9 \xff".to_vec()),
                Value::Set(vec![Value::str("a"), Value::str("b")]),
                Value::Vector(vec![]),
            ])
            .unwrap();
        }
        log.finish().unwrap();

        let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        assert_eq!(reader.metadata().file_metadata().num_rows(), rows as i64);
        let first = reader.get_row_iter(None).unwrap().next().unwrap().unwrap();
        let text = first.to_string();
        for expected in [
            "ts: 2017-07-14 02:40:00.123456 +00:00",
            "id.orig_h: \"10.0.0.1\"",
            "id.orig_p: 53",
            "n: 0",
            "rtt: 0.0015",
            "ok: true",
            r#"name: "caf\xc3\xa9 \xff""#,
            "tags: [\"a\", \"b\"]",
            "rtts: []",
        ] {
            assert!(text.contains(expected), "{expected} not in {text}");
        }
        let second = reader.get_row_iter(None).unwrap().nth(1).unwrap().unwrap();
        assert!(second.to_string().contains("n: null"), "{second}");
        let _ = std::fs::remove_file(&path);
    }
}
