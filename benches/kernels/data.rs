//! Deterministic inputs for the kernel benchmarks.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;

/// Rows per input batch, as Flint's scans produce them.
pub const BATCH: usize = 8192;

/// SplitMix64: a fast, fixed-seed stream of pseudo-random numbers.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> i64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as i64
    }
}

/// `n` values split into batches of [`BATCH`] under `schema`, one column
/// per generator.
pub fn batches(
    schema: &SchemaRef,
    n: usize,
    mut columns: impl FnMut(usize, usize) -> Vec<ArrayRef>,
) -> Vec<RecordBatch> {
    (0..n)
        .step_by(BATCH)
        .map(|start| {
            let len = BATCH.min(n - start);
            RecordBatch::try_new(Arc::clone(schema), columns(start, len)).expect("a valid batch")
        })
        .collect()
}

/// Columns `k: Int64, v: Int64` with `k` from `key` and `v = row % 1000`.
pub fn key_value(n: usize, mut key: impl FnMut(usize) -> i64) -> Vec<RecordBatch> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Int64, false),
        Field::new("v", DataType::Int64, false),
    ]));
    batches(&schema, n, |start, len| {
        let k: Int64Array = (start..start + len).map(&mut key).collect();
        let v: Int64Array = (start..start + len).map(|i| (i % 1000) as i64).collect();
        vec![Arc::new(k), Arc::new(v)]
    })
}

/// Columns `k: Int64` (uniform in `0..keys`), `v: Int64`, `s: Utf8`
/// (`"customer#" + 9 digits`, like TPC-H names).
pub fn key_value_name(n: usize, keys: u64, seed: u64) -> Vec<RecordBatch> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Int64, false),
        Field::new("v", DataType::Int64, false),
        Field::new("s", DataType::Utf8, false),
    ]));
    let mut rng = Rng::new(seed);
    batches(&schema, n, |start, len| {
        let k: Int64Array = (0..len).map(|_| rng.below(keys)).collect();
        let v: Int64Array = (start..start + len).map(|i| i as i64).collect();
        let s: StringArray = (0..len)
            .map(|_| Some(format!("customer#{:09}", rng.below(1_000_000_000))))
            .collect();
        vec![Arc::new(k), Arc::new(v), Arc::new(s)]
    })
}

/// Total rows of `batches`.
pub fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}
