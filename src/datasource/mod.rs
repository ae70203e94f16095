//! Tables: where scans get their data. A [`TableProvider`] knows its schema
//! and size and turns a scan request (columns, filters for pruning, a row
//! limit) into an `Rdd<RecordBatch>`, one partition per file split or row
//! group range. File formats read through `object_store`.

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::SessionContext;
use crate::error::Result;
use crate::logical::Expr;
use crate::rdd::Rdd;

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
    /// Rows needed at most (a hint).
    pub limit: Option<usize>,
    /// Target rows per output batch.
    pub batch_size: usize,
    /// Partitions the engine would like (a hint).
    pub target_partitions: usize,
    /// Where the scan reports what it did.
    pub metrics: Arc<ScanMetrics>,
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

    /// The batches of a scan, as an RDD. Output batches have the projected
    /// schema.
    fn scan(&self, ctx: &SessionContext, request: &ScanRequest) -> Result<Rdd<RecordBatch>>;

    /// Appends batches (`INSERT INTO`); tables that cannot be written say so.
    fn insert(&self, _batches: Vec<RecordBatch>) -> Result<u64> {
        crate::not_supported!("inserting into a {} table", self.kind())
    }
}
