//! The per-group accumulator interface and the helpers its implementations
//! share.
//!
//! An accumulator keeps the state of one aggregate for *every* group in
//! plain vectors indexed by group (`Vec<i64>` counts, `Vec<i128>` decimal
//! sums, ...). The aggregator hands it a batch as a column of values plus
//! one group index per row, and the accumulator folds them in with one tight
//! loop: no per-row dispatch, no `ScalarValue`, no allocation.

use arrow::array::{Array, ArrayRef, BooleanArray};
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
/// passes `filter` (see [`selection`]), stopping at the first error.
#[inline]
pub(super) fn for_each_selected(
    len: usize,
    nulls: Option<&NullBuffer>,
    filter: Option<&BooleanArray>,
    f: impl FnMut(usize) -> Result<()>,
) -> Result<()> {
    match selection(nulls, filter) {
        None => (0..len).try_for_each(f),
        Some(bits) => bits.set_indices().try_for_each(f),
    }
}

/// The rows that are valid in `nulls` and pass `filter` (a NULL filter
/// value counts as false); `None` when that is every row, so callers can
/// run a dense loop.
pub(super) fn selection(nulls: Option<&NullBuffer>, filter: Option<&BooleanArray>) -> Option<BooleanBuffer> {
    let filter_bits: Option<BooleanBuffer> = filter.map(|flt| match flt.nulls() {
        Some(n) => flt.values() & n.inner(),
        None => flt.values().clone(),
    });
    let nulls = nulls.filter(|n| n.null_count() > 0);
    match (nulls, filter_bits) {
        (None, None) => None,
        (Some(n), None) => Some(n.inner().clone()),
        (None, Some(bits)) => Some(bits),
        (Some(n), Some(bits)) => Some(n.inner() & &bits),
    }
}

/// Addition that reports overflow instead of failing, so that a loop over a
/// batch tests once at its end rather than branching on every row.
pub(super) trait SumNative: Copy + Default {
    /// `self + other` (wrapped) and whether it overflowed.
    fn add_flag(self, other: Self) -> (Self, bool);
}

macro_rules! sum_native_int {
    ($($t:ty),*) => {$(
        impl SumNative for $t {
            #[inline(always)]
            fn add_flag(self, other: Self) -> (Self, bool) {
                self.overflowing_add(other)
            }
        }
    )*};
}
sum_native_int!(i64, u64, i128);

impl SumNative for f64 {
    #[inline(always)]
    fn add_flag(self, other: Self) -> (Self, bool) {
        (self + other, false)
    }
}

/// Adds `vals[i]` into `sums[groups[i]]` for the rows of `sel` (every row
/// when `None`); true if an addition overflowed. With one group, every row
/// is in it and the loop is a plain running sum.
#[inline]
pub(super) fn sum_into<N: SumNative>(sums: &mut [N], groups: &[u32], vals: &[N], sel: Option<&BooleanBuffer>) -> bool {
    let mut overflow = false;
    match (sel, sums) {
        (None, [acc]) => {
            let mut total = *acc;
            for &v in vals {
                let (s, o) = total.add_flag(v);
                total = s;
                overflow |= o;
            }
            *acc = total;
        }
        (None, sums) if sums.len() <= LANE_GROUPS => overflow = sum_lanes(sums, groups, vals),
        (None, sums) => {
            for (&g, &v) in groups.iter().zip(vals) {
                let slot = &mut sums[g as usize];
                let (s, o) = slot.add_flag(v);
                *slot = s;
                overflow |= o;
            }
        }
        (Some(bits), sums) => {
            for i in bits.set_indices() {
                let slot = &mut sums[groups[i] as usize];
                let (s, o) = slot.add_flag(vals[i]);
                *slot = s;
                overflow |= o;
            }
        }
    }
    overflow
}

/// Groups at most this many are summed in [`LANES`] interleaved copies.
const LANE_GROUPS: usize = 16;

/// Copies of the sums for few groups: with few groups, consecutive rows
/// mostly add into the same slot, and each addition waits for the store of
/// the one before; rows `i`, `i + 1`, ... going to different copies overlap.
const LANES: usize = 4;

/// [`sum_into`] for at most [`LANE_GROUPS`] groups and every row.
#[inline]
fn sum_lanes<N: SumNative>(sums: &mut [N], groups: &[u32], vals: &[N]) -> bool {
    let mut lanes = [[N::default(); LANE_GROUPS]; LANES];
    let mut overflow = false;
    let (gs, vs) = (groups.chunks_exact(LANES), vals.chunks_exact(LANES));
    let (g_rest, v_rest) = (gs.remainder(), vs.remainder());
    for (g, v) in gs.zip(vs) {
        for k in 0..LANES {
            let slot = &mut lanes[k][g[k] as usize % LANE_GROUPS];
            let (s, o) = slot.add_flag(v[k]);
            *slot = s;
            overflow |= o;
        }
    }
    for (&g, &v) in g_rest.iter().zip(v_rest) {
        let slot = &mut lanes[0][g as usize % LANE_GROUPS];
        let (s, o) = slot.add_flag(v);
        *slot = s;
        overflow |= o;
    }
    for (g, sum) in sums.iter_mut().enumerate() {
        for lane in &lanes {
            let (s, o) = sum.add_flag(lane[g]);
            *sum = s;
            overflow |= o;
        }
    }
    overflow
}

/// Adds one to `counts[groups[i]]` for the rows of `sel` (every row when
/// `None`).
#[inline]
pub(super) fn count_into(counts: &mut [i64], groups: &[u32], sel: Option<&BooleanBuffer>) {
    match (sel, counts) {
        (None, [c]) => *c += groups.len() as i64,
        (Some(bits), [c]) => *c += bits.count_set_bits() as i64,
        (None, counts) if counts.len() <= LANE_GROUPS => {
            let mut lanes = [[0i64; LANE_GROUPS]; LANES];
            let chunks = groups.chunks_exact(LANES);
            for &g in chunks.remainder() {
                lanes[0][g as usize % LANE_GROUPS] += 1;
            }
            for g in chunks {
                for k in 0..LANES {
                    lanes[k][g[k] as usize % LANE_GROUPS] += 1;
                }
            }
            for (g, c) in counts.iter_mut().enumerate() {
                *c += lanes.iter().map(|l| l[g]).sum::<i64>();
            }
        }
        (None, counts) => groups.iter().for_each(|&g| counts[g as usize] += 1),
        (Some(bits), counts) => bits.set_indices().for_each(|i| counts[groups[i] as usize] += 1),
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

/// Per group, whether it has a value; becomes the validity of the output.
///
/// While every batch folded in had all its rows selected (no NULL input,
/// no filter), every group is known to have a value and nothing is stored
/// per row: the common case of `sum(x)` over a non-NULL column costs
/// nothing here. The first sparser batch switches to one flag per group.
#[derive(Debug)]
pub(super) struct SeenBitmap {
    /// One flag per group; empty while `dense`.
    flags: Vec<bool>,
    /// Every group below `groups` has a value (and `flags` is unused).
    dense: bool,
    /// The number of groups.
    groups: usize,
}

impl SeenBitmap {
    pub(super) fn new() -> Self {
        Self {
            flags: vec![],
            dense: true,
            groups: 0,
        }
    }

    /// Makes room for `groups` groups; new ones have no value yet.
    #[inline]
    pub(super) fn resize(&mut self, groups: usize) {
        if groups <= self.groups {
            return;
        }
        if self.dense {
            // The new groups have no value until a row marks them.
            self.flags = vec![true; self.groups];
            self.dense = false;
        }
        self.flags.resize(groups, false);
        self.groups = groups;
    }

    #[inline]
    pub(super) fn get(&self, group: usize) -> bool {
        if self.dense {
            group < self.groups
        } else {
            self.flags.get(group).copied().unwrap_or(false)
        }
    }

    #[inline]
    pub(super) fn set(&mut self, group: usize) {
        if self.dense && group < self.groups {
            return;
        }
        self.resize(group + 1);
        self.flags[group] = true;
    }

    /// Marks the group of every row of `sel` (every row when `None`) of a
    /// batch whose rows fall into `total_groups` groups.
    #[inline]
    pub(super) fn mark(&mut self, groups: &[u32], total_groups: usize, sel: Option<&BooleanBuffer>) {
        match sel {
            // Each group is made by a row of some batch (but for the one
            // group of an aggregate without keys, which exists before any
            // row); if every row of every batch counted, and this batch has
            // rows, each group has a value.
            None if self.dense => {
                if !groups.is_empty() {
                    self.groups = self.groups.max(total_groups);
                }
            }
            None => {
                self.resize(total_groups);
                groups.iter().for_each(|&g| self.flags[g as usize] = true);
            }
            Some(bits) => {
                self.resize(total_groups);
                bits.set_indices().for_each(|i| self.flags[groups[i] as usize] = true);
            }
        }
    }

    pub(super) fn size(&self) -> usize {
        self.flags.capacity()
    }

    /// The flags of groups `0..len` as a validity buffer (`None` when every
    /// one has a value).
    pub(super) fn finish(mut self, len: usize) -> Option<NullBuffer> {
        if self.dense && len <= self.groups {
            return None;
        }
        self.resize(len);
        self.flags.truncate(len);
        let n = NullBuffer::from(self.flags);
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

    /// Few and many groups, row counts around the lane width, and an
    /// overflow in one lane only.
    #[test]
    fn sums_and_counts_over_few_groups_match_a_plain_loop() {
        for (n_groups, rows) in [(1, 7), (3, 0), (3, 5), (4, 1003), (16, 64), (17, 100)] {
            let groups: Vec<u32> = (0..rows).map(|i| ((i * 7 + i / 3) % n_groups) as u32).collect();
            let vals: Vec<i128> = (0..rows).map(|i| (i as i128 - 40) * 1_000_003).collect();
            let (mut sums, mut counts) = (vec![5i128; n_groups], vec![1i64; n_groups]);
            assert!(!sum_into(&mut sums, &groups, &vals, None));
            count_into(&mut counts, &groups, None);
            let (mut want_sums, mut want_counts) = (vec![5i128; n_groups], vec![1i64; n_groups]);
            for (&g, &v) in groups.iter().zip(&vals) {
                want_sums[g as usize] += v;
                want_counts[g as usize] += 1;
            }
            assert_eq!(
                (sums, counts),
                (want_sums, want_counts),
                "{n_groups} groups, {rows} rows"
            );
        }
        let mut sums = vec![0i64, 0];
        assert!(sum_into(&mut sums, &[0, 1, 1, 0, 1], &[1, i64::MAX, 0, 1, 1], None));
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
        let n = s.finish(3).unwrap();
        assert_eq!(n.null_count(), 2);
        let mut all = SeenBitmap::new();
        all.resize(1);
        all.set(0);
        assert!(all.finish(1).is_none());
    }

    #[test]
    fn seen_bitmap_stays_dense_until_a_row_is_skipped() {
        let mut s = SeenBitmap::new();
        s.mark(&[0, 1, 1], 2, None);
        s.mark(&[2, 0], 3, None);
        assert!(s.size() == 0 && s.get(2) && !s.get(3));
        // Group 3 is made by a row that is skipped; group 4 by one that counts.
        let keep = BooleanBuffer::from(vec![false, true, true]);
        s.mark(&[3, 4, 1], 5, Some(&keep));
        assert!(s.get(0) && s.get(2) && !s.get(3) && s.get(4));
        let n = s.finish(6).unwrap();
        assert_eq!(
            (0..6).map(|i| n.is_valid(i)).collect::<Vec<_>>(),
            vec![true, true, true, false, true, false]
        );
        // Groups that no batch reached have no value.
        let mut d = SeenBitmap::new();
        d.mark(&[], 1, None);
        assert!(d.finish(1).is_some());
        let mut d = SeenBitmap::new();
        d.mark(&[0], 1, None);
        assert!(d.finish(1).is_none());
        assert_eq!(SeenBitmap::new().finish(1).unwrap().null_count(), 1);
    }
}
