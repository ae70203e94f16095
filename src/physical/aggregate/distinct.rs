//! `agg(DISTINCT x)` in single-stage aggregation.
//!
//! A wrapper around the plain accumulator: it remembers every (group,
//! value) pair seen so far (the value in arrow's row format, so any type
//! works) and passes only the first occurrence of each pair on to the inner
//! accumulator, as a filter. One hash table serves all groups, which is the
//! same as a hash set per group without a set allocation per group.

use std::hash::BuildHasher;

use arrow::array::{Array, ArrayRef, BooleanArray};
use arrow::buffer::BooleanBuffer;
use arrow::datatypes::DataType;
use arrow::row::{RowConverter, Rows, SortField};
use foldhash::fast::RandomState;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

use super::accumulator::{GroupsAccumulator, for_each_selected, single_arg};
use crate::error::{Error, Result};
use crate::internal_err;

/// Feeds each distinct (group, value) pair once into `inner`.
pub(super) struct DistinctAccumulator {
    inner: Box<dyn GroupsAccumulator>,
    converter: RowConverter,
    /// Value of pair `i` is `values.row(i)`, its group `pair_groups[i]`.
    values: Rows,
    pair_groups: Vec<u32>,
    /// `(hash, pair index)` per distinct pair.
    map: HashTable<(u64, u32)>,
    hasher: RandomState,
}

impl DistinctAccumulator {
    /// Wraps `inner`, an accumulator over values of type `data_type`.
    pub(super) fn new(inner: Box<dyn GroupsAccumulator>, data_type: &DataType) -> Result<Self> {
        let converter = RowConverter::new(vec![SortField::new(data_type.clone())])?;
        let values = converter.empty_rows(0, 0);
        Ok(Self {
            inner,
            converter,
            values,
            pair_groups: vec![],
            map: HashTable::new(),
            hasher: RandomState::default(),
        })
    }
}

impl GroupsAccumulator for DistinctAccumulator {
    fn update(
        &mut self,
        values: &[ArrayRef],
        groups: &[u32],
        total_groups: usize,
        filter: Option<&BooleanArray>,
    ) -> Result<()> {
        let arr = single_arg(values)?;
        let rows = self.converter.convert_columns(std::slice::from_ref(arr))?;
        let mut first = vec![false; groups.len()];
        let Self {
            values: seen,
            pair_groups,
            map,
            hasher,
            ..
        } = self;
        let nulls = arr.logical_nulls();
        for_each_selected(groups.len(), nulls.as_ref(), filter, |i| {
            let group = groups[i];
            let bytes = rows.row(i).data();
            let hash = hasher.hash_one((group, bytes));
            let entry = map.entry(
                hash,
                |&(h, p)| h == hash && pair_groups[p as usize] == group && seen.row(p as usize).data() == bytes,
                |&(h, _)| h,
            );
            if let Entry::Vacant(v) = entry {
                let p = u32::try_from(pair_groups.len())
                    .map_err(|_| Error::NotSupported("more than 2^32 distinct values in one aggregate".into()))?;
                seen.push(rows.row(i));
                pair_groups.push(group);
                v.insert((hash, p));
                first[i] = true;
            }
            Ok(())
        })?;
        let first = BooleanArray::new(BooleanBuffer::from(first), None);
        self.inner.update(values, groups, total_groups, Some(&first))
    }

    fn merge(&mut self, _: &[ArrayRef], _: &[u32], _: usize) -> Result<()> {
        internal_err!("DISTINCT aggregates have no partial state to merge")
    }

    fn state(self: Box<Self>) -> Result<Vec<ArrayRef>> {
        internal_err!("DISTINCT aggregates have no partial state")
    }

    fn evaluate(self: Box<Self>) -> Result<ArrayRef> {
        self.inner.evaluate()
    }

    fn size(&self) -> usize {
        self.inner.size()
            + self.values.size()
            + self.pair_groups.capacity() * 4
            + self.map.allocation_size()
            + self.converter.size()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{AsArray, Int32Array, StringArray};
    use arrow::datatypes::Int64Type;

    use super::*;
    use crate::physical::aggregate::count_sum::{CountAccumulator, new_sum};

    #[test]
    fn count_distinct_per_group_across_batches() {
        let inner = Box::new(CountAccumulator::new(false));
        let mut d = DistinctAccumulator::new(inner, &DataType::Utf8).unwrap();
        let v: ArrayRef = Arc::new(StringArray::from(vec![
            Some("a"),
            Some("a"),
            None,
            Some("b"),
            Some("a"),
        ]));
        d.update(&[Arc::clone(&v)], &[0, 0, 0, 0, 1], 2, None).unwrap();
        d.update(&[v], &[1, 1, 1, 1, 1], 2, None).unwrap();
        let out = Box::new(d).evaluate().unwrap();
        assert_eq!(out.as_primitive::<Int64Type>().values(), &[2, 2]);
    }

    #[test]
    fn sum_distinct_respects_filter() {
        let mut d = DistinctAccumulator::new(new_sum(&DataType::Int64).unwrap(), &DataType::Int32).unwrap();
        let v: ArrayRef = Arc::new(Int32Array::from(vec![1, 1, 2, 3, 3]));
        let f = BooleanArray::from(vec![true, true, true, false, false]);
        d.update(&[v], &[0; 5], 1, Some(&f)).unwrap();
        let out = Box::new(d).evaluate().unwrap();
        assert_eq!(out.as_primitive::<Int64Type>().value(0), 3);
    }
}
