//! Runs every `sql-tests/*.slt` file against Flint, once with 1 and once
//! with 4 shuffle partitions (so plans with and without real exchanges give
//! the same answers).
//!
//! `cargo test --test sqllogictests` runs them; add `-- --complete` to
//! rewrite the expected output of every query from what Flint returns
//! (review the diff!), and `-- <substring>` to run only matching files.

use std::path::{Path, PathBuf};

use arrow::array::{Array, RecordBatch};
use arrow::datatypes::DataType;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use flint::{SessionConfig, SessionContext};
use sqllogictest::{DBOutput, DefaultColumnType};

struct Flint {
    ctx: SessionContext,
}

#[derive(Debug)]
struct TestError(String);

impl std::fmt::Display for TestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TestError {}

fn column_type(t: &DataType) -> DefaultColumnType {
    match t {
        t if t.is_integer() => DefaultColumnType::Integer,
        DataType::Float16 | DataType::Float32 | DataType::Float64 | DataType::Decimal128(..) => {
            DefaultColumnType::FloatingPoint
        }
        _ => DefaultColumnType::Text,
    }
}

fn cell(array: &dyn Array, row: usize) -> Result<String, TestError> {
    if array.is_null(row) {
        return Ok("NULL".to_string());
    }
    let options = FormatOptions::default();
    let f = ArrayFormatter::try_new(array, &options).map_err(|e| TestError(e.to_string()))?;
    let s = f.value(row).to_string();
    Ok(match array.data_type() {
        DataType::Float32 | DataType::Float64 => {
            let v: f64 = s.parse().unwrap_or(f64::NAN);
            // Round away the last digits, which differ with summation order.
            let r = format!("{:.10}", v);
            let r = r.trim_end_matches('0').trim_end_matches('.').to_string();
            if r == "-0" { "0".to_string() } else { r }
        }
        _ if s.is_empty() => "(empty)".to_string(),
        _ => s,
    })
}

impl sqllogictest::DB for Flint {
    type Error = TestError;
    type ColumnType = DefaultColumnType;

    fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, TestError> {
        let df = self.ctx.sql(sql).map_err(|e| TestError(e.to_string()))?;
        let schema = df.schema();
        let batches: Vec<RecordBatch> = df.collect().map_err(|e| TestError(e.to_string()))?;
        let trimmed = sql.trim_start().to_ascii_lowercase();
        let is_query = ["select", "with", "values", "explain", "show", "describe", "("]
            .iter()
            .any(|k| trimmed.starts_with(k))
            || (trimmed.starts_with("insert") && !batches.is_empty());
        if !is_query {
            return Ok(DBOutput::StatementComplete(0));
        }
        let types = schema.fields().iter().map(|f| column_type(f.data_type())).collect();
        let mut rows = Vec::new();
        for b in &batches {
            for r in 0..b.num_rows() {
                rows.push(
                    b.columns()
                        .iter()
                        .map(|c| cell(c.as_ref(), r))
                        .collect::<Result<Vec<_>, _>>()?,
                );
            }
        }
        Ok(DBOutput::Rows { types, rows })
    }
}

fn session(partitions: usize) -> SessionContext {
    let ctx = SessionContext::with_config(SessionConfig::new().with_worker_threads(2));
    ctx.set_setting("flint.shuffle.partitions", &partitions.to_string())
        .expect("flint.shuffle.partitions is a known setting");
    ctx
}

fn slt_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "slt"));
    files.sort();
    files
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let complete = args.iter().any(|a| a == "--complete");
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sql-tests");
    let files: Vec<PathBuf> = slt_files(&dir)
        .into_iter()
        .filter(|f| filters.is_empty() || filters.iter().any(|s| f.to_string_lossy().contains(s.as_str())))
        .collect();
    let (mut passed, mut failed) = (0, 0);
    for file in &files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if complete {
            let mut runner = sqllogictest::Runner::new(|| async { Ok(Flint { ctx: session(4) }) });
            let col_sep = " ";
            let validator = sqllogictest::default_validator;
            let normalizer = sqllogictest::default_normalizer;
            let column_validator = sqllogictest::default_column_validator;
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("a tokio runtime");
            match rt.block_on(runner.update_test_file(file, col_sep, validator, normalizer, column_validator)) {
                Ok(()) => println!("completed {name}"),
                Err(e) => {
                    failed += 1;
                    println!("FAILED to complete {name}: {e}");
                }
            }
            continue;
        }
        for partitions in [1, 4] {
            let mut runner = sqllogictest::Runner::new(move || async move {
                Ok(Flint {
                    ctx: session(partitions),
                })
            });
            match runner.run_file(file) {
                Ok(()) => {
                    passed += 1;
                    println!("ok {name} (partitions={partitions})");
                }
                Err(e) => {
                    failed += 1;
                    println!("FAILED {name} (partitions={partitions}):\n{e}\n");
                }
            }
        }
    }
    println!("sqllogictest: {passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}
