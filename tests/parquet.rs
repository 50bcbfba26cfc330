//! `--parquet`: the logs of the shipped sample as Parquet files, read back by
//! a third-party reader (DuckDB, from PyPI; `./dev test` installs it), with
//! the rows, uids and byte counts of the TSV logs of the same run.

mod common;

use std::path::Path;
use std::process::Command;

fn netpac(out: &Path, extra: &[&str]) {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/sample.pcap");
    let run = Command::new(env!("CARGO_BIN_EXE_netpac"))
        .arg("-r")
        .arg(&sample)
        .arg("-o")
        .arg(out)
        .args(["--no-progress"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

/// Runs `sql` in DuckDB; one line per row, columns joined by `|`.
fn duckdb(sql: &str) -> Vec<String> {
    let script = format!(
        "import duckdb\nfor row in duckdb.sql({sql:?}).fetchall():\n    print('|'.join('' if v is None else str(v) for v in row))\n"
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3 (./dev test installs DuckDB for it)");
    assert!(
        out.status.success(),
        "DuckDB failed on {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn tsv_column(path: &Path, name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let fields: Vec<&str> = text
        .lines()
        .find_map(|l| l.strip_prefix("#fields\t"))
        .unwrap()
        .split('\t')
        .collect();
    let i = fields.iter().position(|f| *f == name).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').nth(i).unwrap().to_string())
        .collect()
}

#[test]
fn parquet_logs_hold_the_rows_of_the_tsv_logs() {
    let dir = common::scratch_dir();
    let (tsv, pq) = (dir.join("tsv"), dir.join("parquet"));
    netpac(&tsv, &[]);
    netpac(&pq, &["--parquet"]);

    let mut logs: Vec<String> = std::fs::read_dir(&tsv)
        .unwrap()
        .filter_map(|e| {
            e.unwrap()
                .file_name()
                .to_str()?
                .strip_suffix(".log")
                .map(str::to_string)
        })
        .collect();
    logs.sort();
    assert!(logs.len() >= 4, "{logs:?}");
    for log in &logs {
        let file = pq.join(format!("{log}.parquet"));
        assert!(file.exists(), "no {}", file.display());
        let uids = tsv_column(
            &tsv.join(format!("{log}.log")),
            if log == "weird" { "name" } else { "uid" },
        );
        let sql = format!(
            "select {} from '{}'",
            if log == "weird" { "name" } else { "uid" },
            file.display()
        );
        assert_eq!(duckdb(&sql), uids, "{log}");
    }

    // Typed columns: numbers sum as numbers, times are timestamps, lists are lists.
    let conn = pq.join("conn.parquet");
    let bytes: u64 = tsv_column(&tsv.join("conn.log"), "orig_bytes")
        .iter()
        .filter_map(|v| v.parse::<u64>().ok())
        .sum();
    let sums = duckdb(&format!(
        "select sum(orig_bytes), typeof(min(ts)), typeof(any_value(tunnel_parents)), typeof(any_value(\"id.resp_p\")) from '{}'",
        conn.display()
    ));
    assert_eq!(
        sums,
        [format!(
            "{bytes}|TIMESTAMP WITH TIME ZONE|VARCHAR[]|USMALLINT"
        )]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
