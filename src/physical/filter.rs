//! Filters: rows where every conjunct is true, with the conjuncts
//! evaluated in order and the batch copied when the filter's own timings
//! say that is cheaper than testing dropped rows again. Used by the filter
//! operator and by scans that evaluate their predicates while decoding.

use arrow::array::{Array, BooleanArray};
use arrow::compute::filter_record_batch;
use arrow::record_batch::RecordBatch;

use super::expr::{ColumnarValue, PhysicalExprRef};
use crate::error::{Error, Result};

/// What a filter has measured of its own work, per task: the time per row
/// of each conjunct and of copying a kept row, as moving averages.
#[derive(Default)]
pub(crate) struct FilterCosts {
    /// Nanoseconds per evaluated row, per conjunct (0 until measured).
    conjunct_ns: Vec<f64>,
    /// Nanoseconds per row copied by a filter (0 until measured).
    copy_ns: f64,
}

impl FilterCosts {
    fn update(avg: &mut f64, ns: f64, rows: usize) {
        if rows == 0 {
            return;
        }
        let sample = ns / rows as f64;
        *avg = if *avg == 0.0 { sample } else { 0.8 * *avg + 0.2 * sample };
    }

    /// Whether to copy the `kept` of `rows` rows now rather than evaluate
    /// the conjuncts after `i` on every row: when copying the kept rows
    /// costs less than those conjuncts on the rows that would go. Until
    /// both are measured, a conjunct keeping under a fifth copies.
    fn filter_now(&self, i: usize, kept: usize, rows: usize) -> bool {
        let rest = &self.conjunct_ns[i + 1..];
        if rest.is_empty() {
            return false;
        }
        if self.copy_ns == 0.0 || rest.contains(&0.0) {
            return kept * 5 < rows;
        }
        let rest_ns: f64 = rest.iter().sum();
        kept as f64 * self.copy_ns < (rows - kept) as f64 * rest_ns
    }

    fn filter(&mut self, batch: &RecordBatch, mask: &BooleanArray, kept: usize) -> Result<RecordBatch> {
        let started = std::time::Instant::now();
        let out = filter_record_batch(batch, mask)?;
        Self::update(&mut self.copy_ns, started.elapsed().as_nanos() as f64, kept);
        Ok(out)
    }
}

/// Keeps rows where every conjunct is true. A conjunct that drops rows
/// either filters the batch at once, so the rest run on fewer rows, or only
/// narrows the mask, so the batch is copied once at the end: whichever the
/// filter's own measurements say is cheaper. Copying every column of most
/// rows costs more than a comparison of 4-byte dates on all of them (q06's
/// first date bound keeps 70%, q12's ship modes 28%), less than seven
/// comparisons of 16-byte decimals and strings (q19's ship modes, 28%).
pub(crate) fn filter_conjuncts(
    batch: &RecordBatch,
    conjuncts: &[PhysicalExprRef],
    costs: &mut FilterCosts,
) -> Result<Option<RecordBatch>> {
    costs.conjunct_ns.resize(conjuncts.len(), 0.0);
    let mut current = batch.clone();
    let mut pending: Option<BooleanArray> = None;
    for (i, c) in conjuncts.iter().enumerate() {
        let started = std::time::Instant::now();
        let value = match (c.evaluate(&current), pending.take()) {
            (Ok(v), p) => {
                pending = p;
                v
            }
            // The batch still holds rows an earlier conjunct dropped, and one
            // of them may be what failed (`x <> 0 AND 18 / x > 3`): only an
            // error on the rows kept so far counts.
            (Err(_), Some(p)) => {
                current = filter_record_batch(&current, &p)?;
                c.evaluate(&current)?
            }
            (Err(e), None) => return Err(e),
        };
        FilterCosts::update(
            &mut costs.conjunct_ns[i],
            started.elapsed().as_nanos() as f64,
            current.num_rows(),
        );
        let mask = match value {
            ColumnarValue::Scalar(datafusion_common::ScalarValue::Boolean(Some(true))) => continue,
            ColumnarValue::Scalar(_) => return Ok(None),
            ColumnarValue::Array(a) => match a.as_any().downcast_ref::<BooleanArray>() {
                Some(m) => m.clone(),
                None => return Err(Error::Internal(format!("filter {c} is not boolean"))),
            },
        };
        // NULL is not true: a NULL from either side drops the row.
        let mask = match pending.take() {
            Some(p) => arrow::compute::and(&p, &mask)?,
            None => mask,
        };
        let kept = mask.true_count();
        if kept == 0 {
            return Ok(None);
        }
        if kept < current.num_rows() && costs.filter_now(i, kept, current.num_rows()) {
            current = costs.filter(&current, &mask, kept)?;
        } else {
            pending = Some(mask);
        }
    }
    if let Some(mask) = pending {
        let kept = mask.true_count();
        if kept < current.num_rows() {
            current = costs.filter(&current, &mask, kept)?;
        }
    }
    Ok((current.num_rows() > 0).then_some(current))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Copy the kept rows now when that costs less than the conjuncts left
    /// on the rows that would go; a fifth until both are measured.
    #[test]
    fn filters_copy_early_when_the_rest_costs_more() {
        let costs = FilterCosts {
            conjunct_ns: vec![1.0, 5.0],
            copy_ns: 2.0,
        };
        // 28 rows copied (56 ns) against 72 rows through the rest (360 ns).
        assert!(costs.filter_now(0, 28, 100));
        // Nothing is left after the last conjunct.
        assert!(!costs.filter_now(1, 1, 100));
        let cheap_rest = FilterCosts {
            conjunct_ns: vec![1.0, 0.5],
            copy_ns: 2.0,
        };
        assert!(!cheap_rest.filter_now(0, 28, 100));
        let unmeasured = FilterCosts {
            conjunct_ns: vec![1.0, 0.0],
            copy_ns: 2.0,
        };
        assert!(unmeasured.filter_now(0, 19, 100) && !unmeasured.filter_now(0, 21, 100));
    }
}
