//! The per-group accumulator interface and the helpers its implementations
//! share.
//!
//! An accumulator keeps the state of one aggregate for *every* group in
//! plain vectors indexed by group (`Vec<i64>` counts, `Vec<i128>` decimal
//! sums, ...). The aggregator hands it a batch as a column of values plus
//! one group index per row, and the accumulator folds them in with one tight
//! loop: no per-row dispatch, no `ScalarValue`, no allocation.

use arrow::array::{Array, ArrayRef, BooleanArray, BooleanBufferBuilder};
use arrow::buffer::{BooleanBuffer, NullBuffer};
use arrow::compute::cast;
use arrow::datatypes::DataType;

use super::AggregateSpec;
use crate::error::Result;
use crate::functions::AggregateFunction;
use crate::internal_err;

/// The state of one aggregate over all groups.
pub(super) trait GroupsAccumulator: Send {
    /// Folds input rows in: row `i` of `values` belongs to group
    /// `groups[i]`. Rows failing `filter` (false or NULL) are skipped.
    /// `total_groups` is the number of groups known so far (all indices are
    /// below it). `values` is empty for `count(*)`.
    fn update(
        &mut self,
        values: &[ArrayRef],
        groups: &[u32],
        total_groups: usize,
        filter: Option<&BooleanArray>,
    ) -> Result<()>;

    /// Folds partial states in (columns as in [`AggregateSpec::state_fields`]).
    fn merge(&mut self, states: &[ArrayRef], groups: &[u32], total_groups: usize) -> Result<()>;

    /// The partial state of every group, one column per state field.
    fn state(self: Box<Self>) -> Result<Vec<ArrayRef>>;

    /// The final value of every group.
    fn evaluate(self: Box<Self>) -> Result<ArrayRef>;

    /// Approximate heap bytes held.
    fn size(&self) -> usize;
}

/// Creates the accumulator for `spec` (without DISTINCT handling).
pub(super) fn create_accumulator(spec: &AggregateSpec) -> Result<Box<dyn GroupsAccumulator>> {
    use AggregateFunction::*;
    let input = spec.input_type.clone().unwrap_or(DataType::Null);
    match spec.func {
        Count => Ok(Box::new(super::count_sum::CountAccumulator::new(
            spec.input_type.is_none(),
        ))),
        Sum => super::count_sum::new_sum(&spec.output_type),
        Avg => super::avg::new_avg(&input, &spec.output_type),
        Min => super::min_max::new_min_max(&spec.output_type, true),
        Max => super::min_max::new_min_max(&spec.output_type, false),
        BoolAnd => Ok(Box::new(super::min_max::BoolAccumulator::new(true))),
        BoolOr => Ok(Box::new(super::min_max::BoolAccumulator::new(false))),
        VarSamp | VarPop | StddevSamp | StddevPop => Ok(Box::new(super::variance::VarianceAccumulator::new(spec.func))),
    }
}

/// Calls `f(row)` for every row below `len` that is valid in `nulls` and
/// passes `filter` (a NULL filter value counts as false), stopping at the
/// first error.
#[inline]
pub(super) fn for_each_selected(
    len: usize,
    nulls: Option<&NullBuffer>,
    filter: Option<&BooleanArray>,
    f: impl FnMut(usize) -> Result<()>,
) -> Result<()> {
    let filter_bits: Option<BooleanBuffer> = filter.map(|flt| match flt.nulls() {
        Some(n) => flt.values() & n.inner(),
        None => flt.values().clone(),
    });
    let nulls = nulls.filter(|n| n.null_count() > 0);
    match (nulls, filter_bits) {
        (None, None) => (0..len).try_for_each(f),
        (Some(n), None) => n.valid_indices().try_for_each(f),
        (None, Some(bits)) => bits.set_indices().try_for_each(f),
        (Some(n), Some(bits)) => (n.inner() & &bits).set_indices().try_for_each(f),
    }
}

/// `array` as `target`: as it is when the physical layout already matches
/// (including a decimal of another precision but the same scale), cast
/// otherwise.
pub(super) fn coerce(array: &ArrayRef, target: &DataType) -> Result<ArrayRef> {
    match (array.data_type(), target) {
        (a, b) if a == b => Ok(ArrayRef::clone(array)),
        (DataType::Decimal128(_, s1), DataType::Decimal128(_, s2)) if s1 == s2 => Ok(ArrayRef::clone(array)),
        _ => Ok(cast(array, target)?),
    }
}

/// The single argument of a one-argument aggregate.
pub(super) fn single_arg(values: &[ArrayRef]) -> Result<&ArrayRef> {
    match values {
        [v] => Ok(v),
        _ => internal_err!("aggregate expects one argument, got {}", values.len()),
    }
}

/// The `n`-th state column.
pub(super) fn state_col(states: &[ArrayRef], n: usize) -> Result<&ArrayRef> {
    match states.get(n) {
        Some(s) => Ok(s),
        None => internal_err!(
            "aggregate state has {} columns, expected at least {}",
            states.len(),
            n + 1
        ),
    }
}

/// A per-group "has a value" bitmap that becomes the validity of the
/// output.
#[derive(Debug)]
pub(super) struct SeenBitmap(BooleanBufferBuilder);

impl SeenBitmap {
    pub(super) fn new() -> Self {
        Self(BooleanBufferBuilder::new(0))
    }

    #[inline]
    pub(super) fn resize(&mut self, groups: usize) {
        if self.0.len() < groups {
            self.0.resize(groups);
        }
    }

    #[inline]
    pub(super) fn get(&self, group: usize) -> bool {
        self.0.get_bit(group)
    }

    #[inline]
    pub(super) fn set(&mut self, group: usize) {
        self.0.set_bit(group, true)
    }

    pub(super) fn size(&self) -> usize {
        self.0.capacity() / 8
    }

    /// The bitmap as a validity buffer (`None` when every group has a value).
    pub(super) fn finish(mut self) -> Option<NullBuffer> {
        let n = NullBuffer::new(self.0.finish());
        (n.null_count() > 0).then_some(n)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::Int32Array;

    use super::*;

    fn selected(len: usize, nulls: Option<&NullBuffer>, filter: Option<&BooleanArray>) -> Vec<usize> {
        let mut out = vec![];
        for_each_selected(len, nulls, filter, |i| {
            out.push(i);
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn selection_combines_validity_and_filter() {
        let nulls = NullBuffer::from(vec![true, false, true, true]);
        let filter = BooleanArray::from(vec![Some(true), Some(true), None, Some(true)]);
        assert_eq!(selected(4, None, None), vec![0, 1, 2, 3]);
        assert_eq!(selected(4, Some(&nulls), None), vec![0, 2, 3]);
        assert_eq!(selected(4, None, Some(&filter)), vec![0, 1, 3]);
        assert_eq!(selected(4, Some(&nulls), Some(&filter)), vec![0, 3]);
    }

    #[test]
    fn coerce_keeps_same_scale_decimals() {
        let a: ArrayRef = Arc::new(
            arrow::array::Decimal128Array::from(vec![1, 2])
                .with_precision_and_scale(10, 2)
                .unwrap(),
        );
        let c = coerce(&a, &DataType::Decimal128(20, 2)).unwrap();
        assert!(Arc::ptr_eq(&a, &c));
        let i: ArrayRef = Arc::new(Int32Array::from(vec![1]));
        assert_eq!(coerce(&i, &DataType::Int64).unwrap().data_type(), &DataType::Int64);
    }

    #[test]
    fn seen_bitmap_becomes_validity() {
        let mut s = SeenBitmap::new();
        s.resize(3);
        s.set(1);
        assert!(s.get(1) && !s.get(0));
        let n = s.finish().unwrap();
        assert_eq!(n.null_count(), 2);
        let mut all = SeenBitmap::new();
        all.resize(1);
        all.set(0);
        assert!(all.finish().is_none());
    }
}
