//! Exchanges: how a partition's batches are split into buckets for a
//! shuffle. Hash exchanges hash the row-encoded keys (so both sides of a
//! join agree for equal keys of equal types); range exchanges compare the
//! row-encoded sort keys (which order bytewise as the sort does) against
//! sampled bounds.

use std::hash::BuildHasher;
use std::sync::Arc;

use arrow::array::{ArrayRef, UInt32Array};
use arrow::compute::take_record_batch;
use arrow::record_batch::RecordBatch;
use arrow::row::{RowConverter, SortField};

use super::compact::compact_views;
use super::expr::PhysicalExprRef;
use super::plan::SortKey;
use crate::error::Result;

/// Seed of the exchange hash; distinct from hash tables' seeds so that the
/// rows of one partition do not cluster in their buckets.
const EXCHANGE_SEED: u64 = 0x0e8c_4a7e_5eed_0002;

/// Evaluates expressions over a batch into arrays.
pub fn evaluate(exprs: &[PhysicalExprRef], batch: &RecordBatch) -> Result<Vec<ArrayRef>> {
    exprs
        .iter()
        .map(|e| e.evaluate(batch)?.into_array(batch.num_rows()))
        .collect()
}

/// Splits `batch` into `parts` by the assignment `part_of[row]`.
fn split(batch: &RecordBatch, part_of: &[u32], parts: usize, buckets: &mut [Vec<RecordBatch>]) -> Result<()> {
    let mut indices: Vec<Vec<u32>> = vec![Vec::new(); parts];
    for (row, &p) in part_of.iter().enumerate() {
        indices[p as usize].push(row as u32);
    }
    for (p, idx) in indices.into_iter().enumerate() {
        if idx.is_empty() {
            continue;
        }
        // The bucket outlives this batch: it must not keep its strings alive.
        let piece = if idx.len() == batch.num_rows() {
            batch.clone()
        } else {
            take_record_batch(batch, &UInt32Array::from(idx))?
        };
        buckets[p].push(compact_views(piece)?);
    }
    Ok(())
}

/// Hash-partitions batches on `keys` into `n` buckets.
pub struct HashSplitter {
    keys: Vec<PhysicalExprRef>,
    n: usize,
    converter: Option<RowConverter>,
}

impl HashSplitter {
    /// A splitter into `n` buckets.
    pub fn new(keys: Vec<PhysicalExprRef>, n: usize) -> Self {
        Self {
            keys,
            n: n.max(1),
            converter: None,
        }
    }

    /// Adds `batch`'s rows to their buckets.
    pub fn split(&mut self, batch: &RecordBatch, buckets: &mut [Vec<RecordBatch>]) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        if self.n == 1 {
            buckets[0].push(batch.clone());
            return Ok(());
        }
        let cols = evaluate(&self.keys, batch)?;
        if self.converter.is_none() {
            let fields = cols.iter().map(|c| SortField::new(c.data_type().clone())).collect();
            self.converter = Some(RowConverter::new(fields)?);
        }
        let Some(conv) = self.converter.as_ref() else {
            return Ok(());
        };
        let rows = conv.convert_columns(&cols)?;
        let state = foldhash::fast::FixedState::with_seed(EXCHANGE_SEED);
        let n = self.n as u128;
        let part_of: Vec<u32> = rows
            .iter()
            .map(|r| ((state.hash_one(r.as_ref()) as u128 * n) >> 64) as u32)
            .collect();
        split(batch, &part_of, self.n, buckets)
    }
}

/// Encodes sort keys in Arrow's row format, which compares bytewise in
/// sort order.
pub fn sort_rows(
    keys: &[SortKey],
    batch: &RecordBatch,
    converter: &mut Option<RowConverter>,
) -> Result<arrow::row::Rows> {
    let cols = keys
        .iter()
        .map(|k| k.expr.evaluate(batch)?.into_array(batch.num_rows()))
        .collect::<Result<Vec<_>>>()?;
    if converter.is_none() {
        let fields = cols
            .iter()
            .zip(keys)
            .map(|(c, k)| SortField::new_with_options(c.data_type().clone(), k.options))
            .collect();
        *converter = Some(RowConverter::new(fields)?);
    }
    match converter.as_ref() {
        Some(c) => Ok(c.convert_columns(&cols)?),
        None => Err(crate::Error::Internal("row converter missing".into())),
    }
}

/// Range-partitions batches by comparing encoded sort keys with bounds:
/// bucket `i` gets rows `<= bounds[i]` and `> bounds[i-1]`.
pub struct RangeSplitter {
    keys: Vec<SortKey>,
    bounds: Arc<Vec<Vec<u8>>>,
    converter: Option<RowConverter>,
}

impl RangeSplitter {
    /// A splitter into `bounds.len() + 1` buckets.
    pub fn new(keys: Vec<SortKey>, bounds: Arc<Vec<Vec<u8>>>) -> Self {
        Self {
            keys,
            bounds,
            converter: None,
        }
    }

    /// Adds `batch`'s rows to their buckets.
    pub fn split(&mut self, batch: &RecordBatch, buckets: &mut [Vec<RecordBatch>]) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let rows = sort_rows(&self.keys, batch, &mut self.converter)?;
        let part_of: Vec<u32> = rows
            .iter()
            .map(|r| self.bounds.partition_point(|b| b.as_slice() < r.as_ref()) as u32)
            .collect();
        split(batch, &part_of, self.bounds.len() + 1, buckets)
    }
}
