//! Hash aggregation over record batches.
//!
//! A [`HashAggregator`] maps the group key of every input row to a dense
//! group index (see `group_values`) and folds the aggregate arguments into
//! per-group accumulators (vectors indexed by group, see `accumulator`).
//! It runs in one of three [`AggregateMode`]s, matching the two sides of a
//! shuffle:
//!
//! - `Partial` (map side): input rows → one row per group holding each
//!   aggregate's *state* columns ([`AggregateSpec::state_fields`]).
//! - `Final` (reduce side): state rows from any number of partial
//!   aggregators, co-partitioned by group key → merged → final values.
//! - `Single`: input rows → final values in one step; used when the input
//!   is already partitioned by group key, and the only mode for `DISTINCT`.
//!
//! Output columns are the group columns, then per aggregate its state
//! columns (`Partial`) or its value (`Final`, `Single`). Without group
//! columns there is exactly one group in *every* mode, even with no input:
//! a partial aggregator emits one all-empty state row (count 0, NULL sums),
//! and a final aggregator that received nothing still emits one row, so
//! `SELECT count(*) FROM empty` is `0` however the data was split.

mod accumulator;
mod avg;
mod count_sum;
mod distinct;
mod group_values;
mod min_max;
mod packed_keys;
mod variance;

use arrow::array::{Array, ArrayRef, BooleanArray, new_empty_array};
use arrow::datatypes::{DataType, Field};

use self::accumulator::{GroupsAccumulator, create_accumulator};
use self::distinct::DistinctAccumulator;
use self::group_values::{GroupValues, new_group_values};
use crate::error::Result;
use crate::functions::AggregateFunction;
use crate::{internal_err, not_supported, plan_err};

/// Which half (or both) of a two-phase aggregation an aggregator runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AggregateMode {
    /// Input rows → per-group partial states.
    Partial,
    /// Partial states → final values.
    Final,
    /// Input rows → final values.
    Single,
}

/// One aggregate call, with its types resolved.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AggregateSpec {
    /// The function.
    pub func: AggregateFunction,
    /// `agg(DISTINCT x)`; only valid in [`AggregateMode::Single`].
    pub distinct: bool,
    /// The argument's type; `None` for `count(*)`.
    pub input_type: Option<DataType>,
    /// The result type, as given by [`AggregateFunction::return_type`].
    pub output_type: DataType,
}

impl AggregateSpec {
    /// A spec whose output type is derived from the function and input.
    ///
    /// ```
    /// use arrow::datatypes::DataType;
    /// use flint::functions::AggregateFunction;
    /// use flint::physical::aggregate::AggregateSpec;
    ///
    /// let avg = AggregateSpec::try_new(AggregateFunction::Avg, false, Some(DataType::Decimal128(15, 2))).unwrap();
    /// assert_eq!(avg.output_type, DataType::Decimal128(19, 6));
    /// assert_eq!(avg.state_fields().len(), 2); // sum, count
    /// ```
    pub fn try_new(func: AggregateFunction, distinct: bool, input_type: Option<DataType>) -> Result<Self> {
        let output_type = func.return_type(input_type.as_ref())?;
        Ok(Self {
            func,
            distinct,
            input_type,
            output_type,
        })
    }

    /// The columns of this aggregate's partial state, in order: `sum` →
    /// `[sum]`; `avg` → `[sum, count]`; `count` → `[count]`; `min`, `max`,
    /// `bool_and`, `bool_or` → `[value]`; variances and standard deviations
    /// → `[count, mean, m2]`.
    pub fn state_fields(&self) -> Vec<Field> {
        use AggregateFunction::*;
        let input = self.input_type.clone().unwrap_or(DataType::Null);
        match self.func {
            Count => vec![Field::new("count", DataType::Int64, false)],
            Sum => vec![Field::new("sum", self.output_type.clone(), true)],
            Avg => vec![
                Field::new("sum", avg::avg_sum_type(&input), true),
                Field::new("count", DataType::Int64, false),
            ],
            Min | Max | BoolAnd | BoolOr => vec![Field::new("value", self.output_type.clone(), true)],
            VarSamp | VarPop | StddevSamp | StddevPop => vec![
                Field::new("count", DataType::Int64, false),
                Field::new("mean", DataType::Float64, false),
                Field::new("m2", DataType::Float64, false),
            ],
        }
    }

    fn validate(&self, mode: AggregateMode) -> Result<()> {
        if self.distinct && mode != AggregateMode::Single {
            not_supported!(
                "{}(DISTINCT ..) in {mode:?} aggregation: DISTINCT aggregates run in a single stage",
                self.func
            );
        }
        if self.input_type.is_none() && (self.func != AggregateFunction::Count || self.distinct) {
            plan_err!("{}() needs an argument", self.func);
        }
        let expected = self.func.return_type(self.input_type.as_ref())?;
        if expected != self.output_type {
            internal_err!(
                "{}({:?}) returns {expected}, but the plan expects {}",
                self.func,
                self.input_type,
                self.output_type
            );
        }
        Ok(())
    }
}

/// Hash aggregation of record batches (see the module docs).
pub struct HashAggregator {
    mode: AggregateMode,
    num_group_cols: usize,
    specs: Vec<AggregateSpec>,
    groups: Box<dyn GroupValues>,
    accumulators: Vec<Box<dyn GroupsAccumulator>>,
    /// Scratch: the group index of each row of the current batch.
    indices: Vec<u32>,
}

impl std::fmt::Debug for HashAggregator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashAggregator")
            .field("mode", &self.mode)
            .field("num_group_cols", &self.num_group_cols)
            .field("specs", &self.specs)
            .field("num_groups", &self.groups.len())
            .finish()
    }
}

impl HashAggregator {
    /// An aggregator grouping by columns of `group_types` and computing
    /// `specs`. Fails for `DISTINCT` outside `Single` mode and for types an
    /// aggregate does not support.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow::array::{ArrayRef, AsArray, Int64Array};
    /// use arrow::datatypes::{DataType, Int64Type};
    /// use flint::functions::AggregateFunction;
    /// use flint::physical::aggregate::{AggregateMode, AggregateSpec, HashAggregator};
    ///
    /// let sum = AggregateSpec::try_new(AggregateFunction::Sum, false, Some(DataType::Int64)).unwrap();
    /// let mut agg = HashAggregator::new(AggregateMode::Single, vec![DataType::Int64], vec![sum]).unwrap();
    /// let keys: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 1]));
    /// let vals: ArrayRef = Arc::new(Int64Array::from(vec![10, 20, 30]));
    /// agg.update(3, &[keys], &[vec![vals]], &[]).unwrap();
    /// let out = agg.finish(1024).unwrap();
    /// assert_eq!(out[0][1].as_primitive::<Int64Type>().values(), &[40, 20]);
    /// ```
    pub fn new(mode: AggregateMode, group_types: Vec<DataType>, specs: Vec<AggregateSpec>) -> Result<Self> {
        let mut accumulators = Vec::with_capacity(specs.len());
        for spec in &specs {
            spec.validate(mode)?;
            let acc = create_accumulator(spec)?;
            accumulators.push(match (&spec.input_type, spec.distinct) {
                (Some(t), true) => Box::new(DistinctAccumulator::new(acc, t)?) as Box<dyn GroupsAccumulator>,
                _ => acc,
            });
        }
        Ok(Self {
            mode,
            num_group_cols: group_types.len(),
            groups: new_group_values(&group_types)?,
            specs,
            accumulators,
            indices: vec![],
        })
    }

    /// The mode this aggregator runs in.
    pub fn mode(&self) -> AggregateMode {
        self.mode
    }

    /// The number of groups so far (always at least 1 without group
    /// columns).
    pub fn num_groups(&self) -> usize {
        self.groups.len()
    }

    /// Folds in a batch of `num_rows` input rows (`Partial` and `Single`):
    /// `groups` are the evaluated group columns, `inputs[i]` the arguments
    /// of aggregate `i` (empty for `count(*)`), `filters[i]` its
    /// `FILTER (WHERE ..)` mask (or `filters` empty when no aggregate has
    /// one).
    ///
    /// `num_rows` is explicit because `count(*)` without group columns has
    /// no column to take it from.
    pub fn update(
        &mut self,
        num_rows: usize,
        groups: &[ArrayRef],
        inputs: &[Vec<ArrayRef>],
        filters: &[Option<BooleanArray>],
    ) -> Result<()> {
        if self.mode == AggregateMode::Final {
            internal_err!("update() on a Final aggregator; use merge()");
        }
        self.check_shape(num_rows, groups, inputs)?;
        if !filters.is_empty() && filters.len() != self.specs.len() {
            internal_err!("{} filters for {} aggregates", filters.len(), self.specs.len());
        }
        if filters.iter().flatten().any(|f| f.len() != num_rows) {
            internal_err!("an aggregate filter does not have {num_rows} rows");
        }
        self.groups.intern(groups, num_rows, &mut self.indices)?;
        let total = self.groups.len();
        for (i, (acc, args)) in self.accumulators.iter_mut().zip(inputs).enumerate() {
            let filter = filters.get(i).and_then(Option::as_ref);
            acc.update(args, &self.indices, total, filter)?;
        }
        Ok(())
    }

    /// Folds in a batch of partial states (`Final`): the group columns then,
    /// per aggregate, its state columns as produced by a `Partial`
    /// aggregator with the same specs.
    pub fn merge(&mut self, groups: &[ArrayRef], states: &[Vec<ArrayRef>]) -> Result<()> {
        if self.mode != AggregateMode::Final {
            internal_err!("merge() on a {:?} aggregator; use update()", self.mode);
        }
        let num_rows = groups
            .iter()
            .chain(states.iter().flatten())
            .map(|a| a.len())
            .next()
            .unwrap_or(0);
        self.check_shape(num_rows, groups, states)?;
        for (spec, state) in self.specs.iter().zip(states) {
            if state.len() != spec.state_fields().len() {
                internal_err!(
                    "{} expects {} state columns, got {}",
                    spec.func,
                    spec.state_fields().len(),
                    state.len()
                );
            }
        }
        self.groups.intern(groups, num_rows, &mut self.indices)?;
        let total = self.groups.len();
        for (acc, state) in self.accumulators.iter_mut().zip(states) {
            acc.merge(state, &self.indices, total)?;
        }
        Ok(())
    }

    fn check_shape(&self, num_rows: usize, groups: &[ArrayRef], per_agg: &[Vec<ArrayRef>]) -> Result<()> {
        if groups.len() != self.num_group_cols {
            internal_err!("{} group columns, expected {}", groups.len(), self.num_group_cols);
        }
        if per_agg.len() != self.specs.len() {
            internal_err!(
                "columns for {} aggregates, expected {}",
                per_agg.len(),
                self.specs.len()
            );
        }
        if groups
            .iter()
            .chain(per_agg.iter().flatten())
            .any(|a| a.len() != num_rows)
        {
            internal_err!("aggregate input columns do not all have {num_rows} rows");
        }
        Ok(())
    }

    /// Approximate bytes held, for reserving from the memory pool.
    pub fn memory_size(&self) -> usize {
        self.groups.size() + self.accumulators.iter().map(|a| a.size()).sum::<usize>() + self.indices.capacity() * 4
    }

    /// The result: batches of at most `batch_size` rows, each a list of
    /// columns (group columns, then per aggregate its state columns in
    /// `Partial` mode or its value otherwise).
    pub fn finish(self, batch_size: usize) -> Result<Vec<Vec<ArrayRef>>> {
        let num_rows = self.groups.len();
        let mut columns = self.groups.emit()?;
        for (mut acc, spec) in self.accumulators.into_iter().zip(&self.specs) {
            // Size the state to every group, including the one group of an
            // ungrouped aggregation that never saw a row.
            match self.mode {
                AggregateMode::Final => {
                    let empty: Vec<ArrayRef> = spec
                        .state_fields()
                        .iter()
                        .map(|f| new_empty_array(f.data_type()))
                        .collect();
                    acc.merge(&empty, &[], num_rows)?;
                }
                _ => {
                    let empty: Vec<ArrayRef> = spec.input_type.iter().map(new_empty_array).collect();
                    acc.update(&empty, &[], num_rows, None)?;
                }
            }
            match self.mode {
                AggregateMode::Partial => columns.extend(acc.state()?),
                AggregateMode::Final | AggregateMode::Single => columns.push(acc.evaluate()?),
            }
        }
        if columns.iter().any(|c| c.len() != num_rows) {
            internal_err!("aggregate output columns do not all have {num_rows} rows");
        }
        let batch_size = batch_size.max(1);
        Ok((0..num_rows)
            .step_by(batch_size)
            .map(|start| {
                let len = batch_size.min(num_rows - start);
                columns.iter().map(|c| c.slice(start, len)).collect()
            })
            .collect())
    }
}

#[cfg(test)]
mod tests;
