//! Tables: where scans get their data. A [`TableProvider`] knows its schema
//! and size and turns a scan request (columns, filters for pruning, a row
//! limit) into an `Rdd<RecordBatch>`, one partition per file split or row
//! group range. File formats read through `object_store`.
//!
//! - [`parquet`]: Parquet files, pruned by row-group statistics.
//! - [`csv`]: delimited text, with schema inference.
//! - [`json`]: newline-delimited JSON, with schema inference.
//! - [`memory`]: batches held in memory (`CREATE TABLE`, registered batches).
//! - [`rdd`]: an RDD of batches (DataFrames made from RDDs, cached or
//!   repartitioned frames).
//!
//! The file formats share the listing of a path (file, directory or glob) and
//! the reading of line-aligned splits of text files.

pub mod csv;
mod functions;
pub mod json;
mod listing;
pub mod memory;
pub mod parquet;
mod pruning;
pub mod rdd;
mod sampling;
mod split;

pub use self::csv::{CsvOptions, CsvTable};
pub use self::functions::{table_for_path, table_function};
pub use self::json::{JsonOptions, JsonTable};
pub use self::memory::MemTable;
pub use self::parquet::ParquetTable;
pub use self::rdd::RddTable;

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::{RecordBatch, RecordBatchOptions};

use crate::SessionContext;
use crate::error::{Error, Result};
use crate::logical::Expr;
use crate::physical::expr::PhysicalExprRef;
use crate::rdd::{BoxIter, Rdd};
use crate::scheduler::TaskContext;

/// Size estimates a table offers the optimizer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableStatistics {
    /// Number of rows, when known (e.g. from Parquet metadata).
    pub num_rows: Option<u64>,
    /// Bytes the table occupies, when known (file sizes, in-memory size).
    pub total_bytes: Option<u64>,
}

/// Counters a scan fills in while it runs, for `EXPLAIN ANALYZE`.
#[derive(Debug, Default)]
pub struct ScanMetrics {
    /// Parquet row groups (or file splits) considered.
    pub row_groups_total: AtomicU64,
    /// Of those, the ones actually read (not pruned by statistics).
    pub row_groups_read: AtomicU64,
    /// Rows produced.
    pub rows: AtomicU64,
    /// Batches produced.
    pub batches: AtomicU64,
    /// Bytes read from storage.
    pub bytes_read: AtomicU64,
}

impl ScanMetrics {
    /// Adds `n` to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// What a scan should produce.
#[derive(Clone, Debug)]
pub struct ScanRequest {
    /// Indices of the table's columns to read, in output order (`None`: all).
    pub projection: Option<Vec<usize>>,
    /// Predicates over the table's columns (unqualified names) that the
    /// scan may use to skip data; rows failing them may still be returned.
    pub filters: Vec<Expr>,
    /// Conjuncts the scan evaluates itself, returning only the rows for
    /// which all are true. Only for tables whose
    /// [`TableProvider::supports_predicates`] is true.
    pub predicate: Option<ScanPredicate>,
    /// Rows needed at most (a hint).
    pub limit: Option<usize>,
    /// Target rows per output batch.
    pub batch_size: usize,
    /// Partitions the engine would like (a hint).
    pub target_partitions: usize,
    /// Where the scan reports what it did.
    pub metrics: Arc<ScanMetrics>,
}

/// Filter conjuncts a scan evaluates while it reads, so that the other
/// columns are decoded only for the rows that pass (late materialization).
#[derive(Clone, Debug)]
pub struct ScanPredicate {
    /// The table's columns the conjuncts read, ascending.
    pub columns: Vec<usize>,
    /// The conjuncts, in the order they are tested, over a batch of exactly
    /// `columns` in that order; a conjunct sees only rows the earlier ones
    /// kept.
    pub conjuncts: Vec<PhysicalExprRef>,
    /// The conjuncts as the query wrote them, for `EXPLAIN`.
    pub text: Vec<String>,
    /// Set for conjuncts that only spare work (a join's runtime key
    /// filters): the scan reports what they keep and reads plainly once
    /// they keep too much.
    pub judge: Option<Arc<PredicateJudge>>,
}

impl ScanPredicate {
    /// Whether the scan should read as if it had no predicate.
    pub fn is_off(&self) -> bool {
        self.judge.as_ref().is_some_and(|j| j.off.load(Ordering::Relaxed))
    }
}

/// What a scan's optional predicate has kept, over all tasks of the scan.
#[derive(Debug, Default)]
pub struct PredicateJudge {
    seen: AtomicU64,
    kept: AtomicU64,
    off: AtomicBool,
}

/// Rows a scan tests before it judges an optional predicate.
const JUDGE_AFTER_ROWS: u64 = 100_000;

/// An optional predicate keeping more than this share of the rows is
/// switched off for the rest of the scan. It spares only decoding and
/// probing what it drops: on TPC-H, key filters keeping 5% (q09) and 8%
/// (q07) of `lineitem` made the queries 21% and 12% faster, one keeping
/// 20% (q05) 11% slower.
const JUDGE_MAX_KEPT: f64 = 0.15;

impl PredicateJudge {
    /// Counts `kept` of `seen` tested rows.
    pub fn record(&self, seen: usize, kept: usize) {
        let seen = self.seen.fetch_add(seen as u64, Ordering::Relaxed) + seen as u64;
        let kept = self.kept.fetch_add(kept as u64, Ordering::Relaxed) + kept as u64;
        if seen >= JUDGE_AFTER_ROWS && kept as f64 > JUDGE_MAX_KEPT * seen as f64 {
            self.off.store(true, Ordering::Relaxed);
        }
    }
}

/// A table that can be scanned.
pub trait TableProvider: Send + Sync + Debug {
    /// The table's columns.
    fn schema(&self) -> SchemaRef;

    /// A short name of the storage, shown by `EXPLAIN`: `parquet`, `csv`,
    /// `json`, `memory`.
    fn kind(&self) -> &'static str;

    /// Size estimates.
    fn statistics(&self) -> TableStatistics {
        TableStatistics::default()
    }

    /// The table's exact number of rows, when known without reading it
    /// (file metadata); `None` (the default) otherwise. Unlike
    /// [`TableProvider::statistics`], which may be an estimate, this
    /// answers `SELECT count(*)`.
    fn exact_row_count(&self) -> Option<u64> {
        None
    }

    /// The fraction of the table's rows for which every one of `filters`
    /// (over the table's columns, unqualified) is true, as measured on a
    /// sample of the data; `None` (the default) when the table cannot tell
    /// cheaply, and the planner guesses.
    fn filter_selectivity(&self, _filters: &[Expr]) -> Option<f64> {
        None
    }

    /// Whether [`TableProvider::scan`] evaluates [`ScanRequest::predicate`];
    /// `false` (the default) leaves filters to the operator above the scan.
    fn supports_predicates(&self) -> bool {
        false
    }

    /// The relation each column belongs to, for tables standing for the
    /// result of a plan whose columns came from several relations (a cached
    /// join keeps `t.a` and `u.a` apart). `None` (the default): every
    /// column is qualified by the name the table is scanned under. See
    /// [`RddTable::with_relations`] for an example.
    fn column_relations(&self) -> Option<Vec<Option<datafusion_common::TableReference>>> {
        None
    }

    /// The columns (positions in [`TableProvider::schema`]) whose every
    /// value lies in one partition of any scan of the table, however it is
    /// projected, filtered or split: grouping by one of them needs no
    /// shuffle. Empty (the default) when the table cannot tell.
    fn clustered_columns(&self) -> Vec<usize> {
        vec![]
    }

    /// The batches of a scan, as an RDD. Output batches have the projected
    /// schema.
    fn scan(&self, ctx: &SessionContext, request: &ScanRequest) -> Result<Rdd<RecordBatch>>;

    /// Appends batches (`INSERT INTO`); tables that cannot be written say so.
    fn insert(&self, _batches: Vec<RecordBatch>) -> Result<u64> {
        crate::not_supported!("inserting into a {} table", self.kind())
    }
}

/// The format a file path names by its extension (case-insensitive), for
/// `SELECT * FROM 'file.parquet'`: `parquet`, `csv`, `tsv` (CSV with a tab
/// delimiter) or `json` (`.json`, `.ndjson`, `.jsonl`: newline-delimited).
/// Works for globs too; a directory has no format.
///
/// ```
/// use flint::datasource::infer_format;
/// assert_eq!(infer_format("data/lineitem.parquet"), Some("parquet"));
/// assert_eq!(infer_format("logs/*.JSONL"), Some("json"));
/// assert_eq!(infer_format("data/"), None);
/// ```
pub fn infer_format(path: &str) -> Option<&'static str> {
    let name = path.rsplit('/').next()?;
    let (_, ext) = name.rsplit_once('.')?;
    Some(match ext.to_ascii_lowercase().as_str() {
        "parquet" => "parquet",
        "csv" => "csv",
        "tsv" => "tsv",
        "json" | "ndjson" | "jsonl" => "json",
        _ => return None,
    })
}

/// The projected schema and the column indices of a scan, checking the
/// indices against the table.
pub(crate) fn project_schema(schema: &SchemaRef, projection: Option<&Vec<usize>>) -> Result<(SchemaRef, Vec<usize>)> {
    let indices: Vec<usize> = match projection {
        Some(p) => p.clone(),
        None => (0..schema.fields().len()).collect(),
    };
    if let Some(bad) = indices.iter().find(|&&i| i >= schema.fields().len()) {
        return Err(Error::InvalidArgument(format!(
            "scan projection: column {bad} does not exist in a table of {} columns",
            schema.fields().len()
        )));
    }
    Ok((Arc::new(schema.project(&indices)?), indices))
}

/// A batch relabelled with `schema` (same column types, possibly different
/// names, nullability or metadata). Keeps the row count of column-less
/// batches.
pub(crate) fn conform(batch: RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    if batch.schema_ref() == schema {
        return Ok(batch);
    }
    let rows = batch.num_rows();
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    Ok(RecordBatch::try_new_with_options(
        Arc::clone(schema),
        batch.columns().to_vec(),
        &options,
    )?)
}

/// The iterator of one scan partition, around a function producing its
/// batches: relabels them with the scan's `schema`, skips empty ones, stops
/// after `limit` rows, counts rows and batches in `metrics`, stops when the
/// job is cancelled, and turns an error into the task's failure.
pub(crate) fn scan_iter(
    tc: &Arc<TaskContext>,
    schema: SchemaRef,
    limit: Option<usize>,
    metrics: Arc<ScanMetrics>,
    mut next: impl FnMut() -> Result<Option<RecordBatch>> + Send + 'static,
) -> BoxIter<RecordBatch> {
    let tc = Arc::clone(tc);
    let mut remaining = limit.unwrap_or(usize::MAX);
    Box::new(std::iter::from_fn(move || {
        loop {
            if remaining == 0 || tc.has_failed() {
                return None;
            }
            if tc.is_cancelled() {
                tc.fail(Error::Cancelled(tc.job_id()));
                return None;
            }
            let batch = match next().and_then(|b| b.map(|b| conform(b, &schema)).transpose()) {
                Ok(Some(b)) if b.num_rows() == 0 => continue,
                Ok(Some(b)) => b,
                Ok(None) => return None,
                Err(e) => {
                    tc.fail(e);
                    return None;
                }
            };
            let batch = if batch.num_rows() > remaining {
                batch.slice(0, remaining)
            } else {
                batch
            };
            remaining -= batch.num_rows();
            ScanMetrics::add(&metrics.rows, batch.num_rows() as u64);
            ScanMetrics::add(&metrics.batches, 1);
            return Some(batch);
        }
    }))
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Helpers shared by the table tests.
    use super::*;

    /// A scan request with the given projection, filters and limit.
    pub fn request(
        projection: Option<Vec<usize>>,
        filters: Vec<Expr>,
        limit: Option<usize>,
        batch_size: usize,
        target_partitions: usize,
    ) -> ScanRequest {
        ScanRequest {
            projection,
            filters,
            predicate: None,
            limit,
            batch_size,
            target_partitions,
            metrics: Arc::new(ScanMetrics::default()),
        }
    }

    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Runs a scan and returns its batches, one list per partition.
    pub fn run(ctx: &SessionContext, table: &dyn TableProvider, req: &ScanRequest) -> Vec<Vec<RecordBatch>> {
        table.scan(ctx, req).unwrap().collect_partitions().unwrap()
    }

    /// Total rows of some batches.
    pub fn rows(parts: &[Vec<RecordBatch>]) -> usize {
        parts.iter().flatten().map(|b| b.num_rows()).sum()
    }

    /// Writes a Parquet file in row groups of `rows_per_group`.
    pub fn write_parquet(path: &std::path::Path, batch: &RecordBatch, rows_per_group: usize) {
        let props = ::parquet::file::properties::WriterProperties::builder()
            .set_max_row_group_row_count(Some(rows_per_group))
            .build();
        let file = std::fs::File::create(path).unwrap();
        let mut w = ::parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
        w.write(batch).unwrap();
        w.close().unwrap();
    }

    /// `expr BETWEEN low AND high`
    pub fn between(expr: Expr, low: Expr, high: Expr) -> Expr {
        let (expr, low, high) = (Box::new(expr), Box::new(low), Box::new(high));
        Expr::Between {
            expr,
            negated: false,
            low,
            high,
        }
    }

    /// `expr IN (list)`
    pub fn in_list(expr: Expr, list: Vec<Expr>) -> Expr {
        Expr::InList {
            expr: Box::new(expr),
            list,
            negated: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_extension() {
        assert_eq!(infer_format("a.PARQUET"), Some("parquet"));
        assert_eq!(infer_format("/x/y.tsv"), Some("tsv"));
        assert_eq!(infer_format("d.ndjson"), Some("json"));
        assert_eq!(infer_format("x.v1/data"), None);
        assert_eq!(infer_format("a.txt"), None);
    }
}
