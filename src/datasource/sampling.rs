//! How many rows a scan's filters keep, measured on a sample of the data.
//!
//! Join ordering and build-side choices hinge on how much of a table a
//! filter leaves. A fixed guess per conjunct cannot tell `p_name LIKE
//! '%green%'` (5% of `part`) from `o_orderdate < DATE '1995-03-15'` (half of
//! `orders`), so tables that can read a few thousand rows cheaply evaluate
//! the filters on them and report the fraction that passed. The result is
//! cached per filter list, as the optimizer asks about the same scan many
//! times.

use std::collections::HashMap;
use std::sync::Mutex;

use arrow::array::AsArray;
use arrow::record_batch::RecordBatch;
use datafusion_common::DFSchema;

use crate::logical::{Expr, conjunction};
use crate::physical::expr::create_physical_expr;

/// Rows read from each sampled unit (row group, batch).
pub(crate) const SAMPLE_ROWS: usize = 4096;

/// Units sampled at most, spread over the table.
pub(crate) const SAMPLE_UNITS: usize = 3;

/// The fraction of the rows of `batches` for which all `filters` are true;
/// `None` when there are no rows or the filters cannot be evaluated on
/// them (the caller then falls back to a guess).
///
/// A sample in which no row passes says "rare", not "never": the result is
/// then half a row's worth, so that a plan built on it stays finite.
pub(crate) fn kept_fraction(filters: &[Expr], batches: &[RecordBatch]) -> Option<f64> {
    let schema = DFSchema::try_from(batches.first()?.schema().as_ref().clone()).ok()?;
    let predicate = create_physical_expr(&conjunction(filters.iter().cloned())?, &schema).ok()?;
    let (mut rows, mut kept) = (0usize, 0usize);
    for batch in batches {
        let mask = predicate.evaluate(batch).ok()?.into_array(batch.num_rows()).ok()?;
        kept += mask.as_boolean_opt()?.true_count();
        rows += batch.num_rows();
    }
    (rows > 0).then(|| (kept as f64).max(0.5) / rows as f64)
}

/// Estimates already made, by filter list (and a version of the data, for
/// tables that change).
#[derive(Debug, Default)]
pub(crate) struct SelectivityCache(Mutex<HashMap<(String, u64), Option<f64>>>);

impl SelectivityCache {
    /// The cached estimate for `filters` on data `version`, or `compute`'s.
    pub(crate) fn get_or_insert(
        &self,
        filters: &[Expr],
        version: u64,
        compute: impl FnOnce() -> Option<f64>,
    ) -> Option<f64> {
        let key = (
            filters.iter().map(|f| f.to_string()).collect::<Vec<_>>().join(" AND "),
            version,
        );
        if let Some(&known) = self.0.lock().ok()?.get(&key) {
            return known;
        }
        // Computed without the lock held: two planners asking at once both
        // sample, which is cheaper than making one wait on the other's I/O.
        let value = compute();
        if let Ok(mut cache) = self.0.lock() {
            cache.insert(key, value);
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Int64Array};

    use super::*;
    use crate::logical::{Operator, col, lit};

    fn batch(values: Vec<i64>) -> RecordBatch {
        RecordBatch::try_from_iter([("x", Arc::new(Int64Array::from(values)) as ArrayRef)]).unwrap()
    }

    #[test]
    fn fraction_of_rows_passing_every_filter() {
        let batches = [batch((0..100).collect()), batch((100..200).collect())];
        let filters = [
            col("x").binary(Operator::GtEq, lit(50i64)),
            col("x").binary(Operator::Lt, lit(100i64)),
        ];
        assert_eq!(kept_fraction(&filters, &batches), Some(0.25));
    }

    #[test]
    fn no_row_passing_is_rare_not_never() {
        let filters = [col("x").binary(Operator::Gt, lit(1000i64))];
        assert_eq!(kept_fraction(&filters, &[batch((0..100).collect())]), Some(0.005));
    }

    #[test]
    fn unknown_columns_and_empty_samples_give_no_estimate() {
        let filters = [col("y").binary(Operator::Gt, lit(1i64))];
        assert_eq!(kept_fraction(&filters, &[batch(vec![1, 2])]), None);
        assert_eq!(kept_fraction(&filters, &[]), None);
        let filters = [col("x").binary(Operator::Gt, lit(1i64))];
        assert_eq!(kept_fraction(&filters, &[batch(vec![])]), None);
    }

    #[test]
    fn cache_computes_once_per_filter_list_and_version() {
        let cache = SelectivityCache::default();
        let filters = [col("x").binary(Operator::Gt, lit(1i64))];
        let mut calls = 0;
        for _ in 0..3 {
            cache.get_or_insert(&filters, 1, || {
                calls += 1;
                Some(0.5)
            });
        }
        assert_eq!(calls, 1);
        assert_eq!(cache.get_or_insert(&filters, 2, || Some(0.25)), Some(0.25));
        assert_eq!(cache.get_or_insert(&filters, 1, || None), Some(0.5));
    }
}
