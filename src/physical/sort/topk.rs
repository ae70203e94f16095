//! Top-k: the best `k` rows of a stream of batches in bounded memory, for
//! `ORDER BY .. LIMIT k`.

use arrow::array::{Array, ArrayRef, BooleanArray, Scalar, UInt32Array};
use arrow::buffer::BooleanBuffer;
use arrow::compute::kernels::cmp::{gt_eq, lt_eq};
use arrow::compute::{SortOptions, filter, filter_record_batch, take_record_batch};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use arrow::row::{OwnedRow, Rows};
use std::sync::Arc;

use super::{SortKeyEncoder, gather, sorted_positions};
use crate::error::Result;
use crate::internal_err;

/// The best `k` rows of a stream of batches under a sort order, in bounded
/// memory (about `2k` rows plus one input batch): for `ORDER BY .. LIMIT k`.
///
/// Candidates are buffered with their encoded keys; when the buffer holds
/// `2k` rows it is cut back to the best `k`, and the `k`-th best key
/// becomes a threshold that later rows must beat to be buffered at all.
/// Among equal keys the earlier row wins, so the result is a stable top-k.
///
/// Once there is a threshold, a batch is first cut down with a vectorized
/// comparison of its first key column against the threshold's first key:
/// only rows that tie or beat it are encoded and compared whole. On a large
/// input almost every row fails that test, and encoding every row was most
/// of the cost (`ORDER BY price DESC LIMIT 3` over 6M rows).
#[derive(Debug)]
pub struct TopK {
    k: usize,
    encoder: SortKeyEncoder,
    /// Order of the first key column.
    first_order: SortOptions,
    batches: Vec<RecordBatch>,
    /// Encoded keys of all buffered rows, in buffer order.
    keys: Rows,
    /// The `k`-th best key once `k` rows have been seen.
    threshold: Option<OwnedRow>,
    /// The threshold's first key as a one-row array, while the comparison
    /// kernels support its type.
    threshold_first: Option<ArrayRef>,
}

impl TopK {
    /// Keeps the best `k` rows under keys of `types` ordered by `options`.
    pub fn new(k: usize, types: &[DataType], options: &[SortOptions]) -> Result<Self> {
        if types.is_empty() {
            internal_err!("a top-k needs at least one sort key");
        }
        let encoder = SortKeyEncoder::new(types, options)?;
        let keys = encoder.empty_rows();
        Ok(Self {
            k,
            encoder,
            first_order: options[0],
            batches: vec![],
            keys,
            threshold: None,
            threshold_first: None,
        })
    }

    /// Offers a batch and its evaluated sort keys.
    pub fn push(&mut self, batch: &RecordBatch, keys: &[ArrayRef]) -> Result<()> {
        if self.k == 0 || batch.num_rows() == 0 {
            return Ok(());
        }
        if self
            .batches
            .first()
            .is_some_and(|b| b.num_columns() != batch.num_columns())
        {
            internal_err!("top-k batches do not all have the same columns");
        }
        if keys.iter().any(|k| k.len() != batch.num_rows()) {
            internal_err!("top-k keys do not have {} rows", batch.num_rows());
        }
        let mut batch = std::borrow::Cow::Borrowed(batch);
        let mut keys = std::borrow::Cow::Borrowed(keys);
        if let Some(t) = &self.threshold_first {
            match could_beat(&keys[0], t, self.first_order) {
                Some(mask) if mask.true_count() == 0 => return Ok(()),
                Some(mask) if mask.true_count() < batch.num_rows() => {
                    batch = std::borrow::Cow::Owned(filter_record_batch(&batch, &mask)?);
                    keys = std::borrow::Cow::Owned(keys.iter().map(|k| filter(k, &mask)).collect::<Result<_, _>>()?);
                }
                Some(_) => {}
                None => self.threshold_first = None,
            }
        }
        let (batch, keys) = (batch.as_ref(), keys.as_ref());
        let rows = self.encoder.encode(keys)?;
        let keep: Vec<u32> = match &self.threshold {
            None => (0..rows.num_rows() as u32).collect(),
            Some(t) => (0..rows.num_rows())
                .filter(|&i| rows.row(i) < t.row())
                .map(|i| i as u32)
                .collect(),
        };
        if keep.is_empty() {
            return Ok(());
        }
        for &i in &keep {
            self.keys.push(rows.row(i as usize));
        }
        self.batches.push(if keep.len() == batch.num_rows() {
            batch.clone()
        } else {
            take_record_batch(batch, &UInt32Array::from(keep))?
        });
        if self.keys.num_rows() >= self.k.saturating_mul(2) {
            self.compact()?;
        }
        Ok(())
    }

    /// Cuts the buffer back to the best `k` rows, sorted.
    fn compact(&mut self) -> Result<()> {
        let order = sorted_positions(&self.keys, self.k);
        let merged = gather(&self.batches, &order, order.len())?;
        let mut keys = self.encoder.empty_rows();
        for &i in &order {
            keys.push(self.keys.row(i as usize));
        }
        if keys.num_rows() >= self.k {
            let t = keys.row(self.k - 1);
            self.threshold_first = self
                .encoder
                .converter()
                .convert_rows(std::iter::once(t))
                .ok()
                .and_then(|cols| cols.into_iter().next());
            self.threshold = Some(t.owned());
        }
        self.keys = keys;
        self.batches = merged;
        Ok(())
    }

    /// Approximate bytes held, for reserving from the memory pool.
    pub fn memory_size(&self) -> usize {
        self.batches
            .iter()
            .map(RecordBatch::get_array_memory_size)
            .sum::<usize>()
            + self.keys.size()
            + self.encoder.converter.size()
    }

    /// The best `k` rows in order, in batches of at most `batch_size` rows.
    pub fn finish(mut self, batch_size: usize) -> Result<Vec<RecordBatch>> {
        if self.batches.is_empty() {
            return Ok(vec![]);
        }
        let order = sorted_positions(&self.keys, self.k);
        let out = gather(&self.batches, &order, batch_size)?;
        self.batches.clear();
        Ok(out)
    }
}

/// Which rows' `key` sorts before or equal to the one-row `threshold` under
/// `order`, as a mask without NULLs; `None` when the comparison kernels do
/// not support the type. NULLs sort before every value when `nulls_first`,
/// after every value otherwise, and equal to each other.
fn could_beat(key: &ArrayRef, threshold: &ArrayRef, order: SortOptions) -> Option<BooleanArray> {
    let n = key.len();
    let key_nulls = key.logical_nulls();
    if threshold.is_null(0) {
        // Only NULLs come no later than a NULL first; everything does when
        // NULLs come last.
        return Some(match (&key_nulls, order.nulls_first) {
            (Some(nulls), true) => BooleanArray::new(!nulls.inner(), None),
            (None, true) => BooleanArray::new(BooleanBuffer::new_unset(n), None),
            (_, false) => BooleanArray::new(BooleanBuffer::new_set(n), None),
        });
    }
    let t = Scalar::new(Arc::clone(threshold));
    let cmp = if order.descending {
        gt_eq(key, &t)
    } else {
        lt_eq(key, &t)
    }
    .ok()?;
    let values = cmp.values();
    Some(BooleanArray::new(
        match &key_nulls {
            None => values.clone(),
            // A NULL key: before the (non-NULL) threshold iff NULLs come first.
            Some(nulls) if order.nulls_first => values | &!nulls.inner(),
            Some(nulls) => values & nulls.inner(),
        },
        None,
    ))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::sort_batches;
    use super::super::tests::{all_options, ids_of, input, keys_of};
    use super::*;

    #[test]
    fn top_k_equals_full_sort_then_truncate() {
        let (batches, keys) = input(300);
        let types = [DataType::Int64, DataType::Utf8View];
        let id_keys: Vec<Vec<ArrayRef>> = batches.iter().map(|b| vec![Arc::clone(b.column(2))]).collect();
        for o in all_options() {
            let opts = [
                o,
                SortOptions {
                    descending: !o.descending,
                    nulls_first: o.nulls_first,
                },
            ];
            for k in [0, 1, 5, 64, 299, 1000] {
                let mut top = TopK::new(k, &types, &opts).unwrap();
                // A unique key (id) makes the expected rows exact.
                let mut by_id = TopK::new(k, &[DataType::Int64], &[o]).unwrap();
                for (b, keys) in batches.iter().zip(&keys) {
                    for start in (0..b.num_rows()).step_by(37) {
                        let len = 37.min(b.num_rows() - start);
                        let part: Vec<ArrayRef> = keys.iter().map(|c| c.slice(start, len)).collect();
                        top.push(&b.slice(start, len), &part).unwrap();
                        by_id
                            .push(&b.slice(start, len), &[b.column(2).slice(start, len)])
                            .unwrap();
                    }
                    assert!(top.memory_size() > 0 || k == 0);
                }
                let full = sort_batches(&batches, &keys, &opts, Some(k), 50).unwrap();
                let got = top.finish(50).unwrap();
                assert!(got.iter().all(|b| b.num_rows() <= 50));
                assert_eq!(keys_of(&got), keys_of(&full), "k = {k}");
                let full = sort_batches(&batches, &id_keys, &[o], Some(k), 50).unwrap();
                assert_eq!(ids_of(&by_id.finish(7).unwrap()), ids_of(&full), "k = {k}");
            }
        }
    }

    #[test]
    fn could_beat_agrees_with_the_row_order() {
        use arrow::array::Int64Array;
        let key: ArrayRef = Arc::new(Int64Array::from(vec![None, Some(1), Some(2), Some(3)]));
        let all_valid: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3]));
        for o in all_options() {
            let enc = SortKeyEncoder::new(&[DataType::Int64], &[o]).unwrap();
            for t in [None, Some(2)] {
                let t: ArrayRef = Arc::new(Int64Array::from(vec![t]));
                let t_row = enc.encode(&[Arc::clone(&t)]).unwrap();
                for k in [&key, &all_valid] {
                    let rows = enc.encode(&[Arc::clone(k)]).unwrap();
                    let expected: Vec<bool> = (0..k.len()).map(|i| rows.row(i) <= t_row.row(0)).collect();
                    let got = could_beat(k, &t, o).unwrap();
                    assert_eq!(got.null_count(), 0);
                    assert_eq!(
                        got.iter().map(Option::unwrap).collect::<Vec<_>>(),
                        expected,
                        "{o:?} {t:?}"
                    );
                }
            }
        }
    }
}
