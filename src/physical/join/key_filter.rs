//! A runtime filter for partitioned joins: the set of the build side's
//! keys, built once the build side is known and applied to the probe side
//! before it is shuffled, so that probe rows which cannot find a partner are
//! dropped before they are hashed, moved and probed (TPC-H q21 shuffles
//! 6M lineitem rows to meet 75K). Only for joins that never output a probe
//! row without a partner (inner, right, semi, right anti).
//!
//! One integer key whose values span a small enough range is kept exactly,
//! as one bit per value ([`KeyBits`]); other keys as the set of their
//! hashes. Equal keys of the same types always hash alike, so no matching
//! row is dropped; a hash collision only lets a row through. A filter that
//! passes nearly everything stops itself (see [`KeyFilterIter`]).

use std::collections::HashSet;
use std::hash::BuildHasher;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use arrow::buffer::BooleanBuffer;
use arrow::compute::filter_record_batch;
use arrow::datatypes::{DataType, Int64Type};
use arrow::record_batch::RecordBatch;
use arrow::row::{RowConverter, SortField};
use foldhash::fast::FixedState;

use super::hash_table::{KeyBits, key_validity, pack, packable, value_range, wide};
use crate::error::Result;
use crate::internal_err;
use crate::physical::exchange::evaluate;
use crate::physical::expr::{ColumnarValue, PhysicalExpr, PhysicalExprRef};

/// Seed of the key hashes (any fixed value: both sides use the same).
const SEED: u64 = 0x6b65_795f_6669_6c74;

/// Rows a probe task sees before it judges whether the filter pays.
const JUDGE_AFTER_ROWS: usize = 100_000;

/// A filter that keeps more than this fraction of the rows it has seen is
/// switched off for the rest of the task.
const KEEPS_TOO_MUCH: f64 = 0.8;

/// Key ranges up to this many values get bits whatever the number of build
/// rows (8 MiB, once per join): a probe side of millions of rows then reads
/// a bit per row instead of hashing it (q21's 75K order keys, spread over
/// 6M, filter 6M lineitem rows).
const BITS_MAX_SMALL: u64 = 1 << 26;

/// The non-NULL keys of one build batch, as [`build_keys`] collects them.
#[derive(Clone, Debug)]
pub enum BuildKeys {
    /// One integer-like key column, widened to i64.
    Values(Vec<i64>),
    /// Hashes of keys of other types.
    Hashes(Vec<u64>),
}

impl BuildKeys {
    /// Number of keys (rows).
    pub fn len(&self) -> usize {
        match self {
            BuildKeys::Values(v) => v.len(),
            BuildKeys::Hashes(h) => h.len(),
        }
    }
}

/// The build side's keys (see the module docs).
#[derive(Debug)]
pub struct KeyFilter {
    set: KeySet,
}

#[derive(Debug)]
enum KeySet {
    Bits(KeyBits),
    Hashes(HashSet<u64, FixedState>),
}

impl KeyFilter {
    /// A filter holding the keys of every build batch (all from
    /// [`build_keys`] of keys of the same types).
    pub fn new(parts: Vec<BuildKeys>) -> Self {
        let values: Vec<&Vec<i64>> = parts
            .iter()
            .filter_map(|p| match p {
                BuildKeys::Values(v) => Some(v),
                BuildKeys::Hashes(_) => None,
            })
            .collect();
        if values.len() == parts.len() {
            let all = || values.iter().flat_map(|v| v.iter().copied());
            let rows = values.iter().map(|v| v.len() as u64).sum();
            if let Some(bits) =
                value_range(all()).and_then(|(min, max)| KeyBits::from_values(min, max, rows, all(), BITS_MAX_SMALL))
            {
                return Self {
                    set: KeySet::Bits(bits),
                };
            }
        }
        let state = FixedState::with_seed(SEED);
        let mut set = HashSet::with_hasher(FixedState::with_seed(SEED));
        for p in parts {
            match p {
                // As `for_each_hash` hashes one packed column.
                BuildKeys::Values(v) => set.extend(v.into_iter().map(|k| state.hash_one(k as u64 as u128))),
                BuildKeys::Hashes(h) => set.extend(h),
            }
        }
        Self {
            set: KeySet::Hashes(set),
        }
    }

    /// Number of distinct keys (of key hashes, when hashed).
    #[cfg(test)]
    fn len(&self) -> usize {
        match &self.set {
            KeySet::Bits(b) => b.count(),
            KeySet::Hashes(h) => h.len(),
        }
    }

    /// Which rows of `keys` may find a partner: their key is not NULL and
    /// is in the set.
    pub fn mask(&self, keys: &[ArrayRef]) -> Result<BooleanArray> {
        let n = keys.first().map_or(0, |k| k.len());
        let hashes = match &self.set {
            KeySet::Bits(bits) => {
                let [one] = keys else {
                    internal_err!("a one-column key filter got {} key columns", keys.len());
                };
                let wide = wide(one)?;
                let values = wide.as_primitive::<Int64Type>().values();
                let found = BooleanBuffer::collect_bool(n, |i| bits.contains(values[i] as u64));
                return Ok(match one.logical_nulls() {
                    Some(valid) => BooleanArray::new(&found & valid.inner(), None),
                    None => BooleanArray::new(found, None),
                });
            }
            KeySet::Hashes(h) => h,
        };
        let mut keep = vec![false; n];
        for_each_hash(keys, |i, h| keep[i] = hashes.contains(&h))?;
        Ok(BooleanArray::from(keep))
    }
}

/// The non-NULL keys of one batch's evaluated key columns, for
/// [`KeyFilter::new`].
pub fn build_keys(keys: &[ArrayRef]) -> Result<BuildKeys> {
    if let [one] = keys
        && packable(one.data_type())
    {
        let wide = wide(one)?;
        let values = wide.as_primitive::<Int64Type>();
        return Ok(BuildKeys::Values(match one.logical_nulls() {
            Some(valid) => values
                .values()
                .iter()
                .zip(valid.iter())
                .filter(|(_, ok)| *ok)
                .map(|(&v, _)| v)
                .collect(),
            None => values.values().to_vec(),
        }));
    }
    let mut out = Vec::with_capacity(keys.first().map_or(0, |k| k.len()));
    for_each_hash(keys, |_, h| out.push(h))?;
    Ok(BuildKeys::Hashes(out))
}

/// Calls `f(row, hash)` for every row whose key has no NULL: one or two
/// integer columns packed as the join hash table packs them, other keys
/// through arrow's row format.
fn for_each_hash(keys: &[ArrayRef], mut f: impl FnMut(usize, u64)) -> Result<()> {
    let state = FixedState::with_seed(SEED);
    let valid = key_validity(keys);
    let is_valid = |i: usize| valid.as_ref().is_none_or(|v| v.is_valid(i));
    if !(1..=2).contains(&keys.len()) || !keys.iter().all(|k| packable(k.data_type())) {
        return hash_rows(keys, &state, is_valid, f);
    }
    for (i, k) in pack(keys)?.into_iter().enumerate() {
        if is_valid(i) {
            f(i, state.hash_one(k));
        }
    }
    Ok(())
}

/// Hashes keys of any types through arrow's row format.
fn hash_rows(
    keys: &[ArrayRef],
    state: &FixedState,
    is_valid: impl Fn(usize) -> bool,
    mut f: impl FnMut(usize, u64),
) -> Result<()> {
    let fields = keys.iter().map(|k| SortField::new(k.data_type().clone())).collect();
    let rows = RowConverter::new(fields)?.convert_columns(keys)?;
    for (i, row) in rows.iter().enumerate() {
        if is_valid(i) {
            f(i, state.hash_one(row.as_ref()));
        }
    }
    Ok(())
}

/// A join's key filter as a conjunct a scan evaluates (late
/// materialization): true where the probe key may find a partner.
#[derive(Debug)]
pub struct KeyFilterExpr {
    filter: Arc<KeyFilter>,
    /// The probe keys over the scan's tested columns.
    keys: Vec<PhysicalExprRef>,
}

impl KeyFilterExpr {
    /// The filter on `keys`.
    pub fn new(filter: Arc<KeyFilter>, keys: Vec<PhysicalExprRef>) -> Self {
        Self { filter, keys }
    }
}

impl std::fmt::Display for KeyFilterExpr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<String> = self.keys.iter().map(|k| k.to_string()).collect();
        write!(f, "({}) IN join keys", keys.join(", "))
    }
}

impl PhysicalExpr for KeyFilterExpr {
    fn data_type(&self) -> &DataType {
        &DataType::Boolean
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Array(Arc::new(
            self.filter.mask(&evaluate(&self.keys, batch)?)?,
        )))
    }
}

/// Filters probe batches by a [`KeyFilter`], and stops filtering when,
/// after [`JUDGE_AFTER_ROWS`] rows, it keeps most of them anyway.
pub struct KeyFilterIter<I> {
    input: I,
    filter: Option<Arc<KeyFilter>>,
    keys: Vec<PhysicalExprRef>,
    seen: usize,
    kept: usize,
}

impl<I> KeyFilterIter<I> {
    /// Filters `input` on the probe keys `keys`.
    pub fn new(input: I, filter: Arc<KeyFilter>, keys: Vec<PhysicalExprRef>) -> Self {
        Self {
            input,
            filter: Some(filter),
            keys,
            seen: 0,
            kept: 0,
        }
    }

    fn apply(&mut self, batch: RecordBatch) -> Result<RecordBatch> {
        let Some(filter) = &self.filter else {
            return Ok(batch);
        };
        let mask = filter.mask(&evaluate(&self.keys, &batch)?)?;
        self.seen += batch.num_rows();
        self.kept += mask.true_count();
        if self.seen >= JUDGE_AFTER_ROWS && self.kept as f64 > KEEPS_TOO_MUCH * self.seen as f64 {
            self.filter = None;
        }
        Ok(filter_record_batch(&batch, &mask)?)
    }
}

impl<I: Iterator<Item = RecordBatch>> Iterator for KeyFilterIter<I> {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Result<RecordBatch>> {
        loop {
            let batch = self.input.next()?;
            match self.apply(batch) {
                Ok(b) if b.num_rows() == 0 => continue,
                other => return Some(other),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{Int32Array, Int64Array, StringViewArray};
    use arrow::datatypes::DataType;

    use super::*;

    fn filter_of(keys: &[ArrayRef]) -> KeyFilter {
        KeyFilter::new(vec![build_keys(keys).unwrap()])
    }

    #[test]
    fn keeps_rows_whose_key_the_build_side_has() {
        let build: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), Some(3), None, Some(3)]));
        let f = filter_of(&[build]);
        assert_eq!(f.len(), 2);
        let probe: ArrayRef = Arc::new(Int64Array::from(vec![Some(3), Some(2), None, Some(1)]));
        let mask = f.mask(&[probe]).unwrap();
        assert_eq!(mask, BooleanArray::from(vec![true, false, false, true]));
    }

    #[test]
    fn integer_keys_too_far_apart_for_bits_are_hashed_alike() {
        let build: ArrayRef = Arc::new(Int64Array::from(vec![Some(-5), Some(i64::MAX / 2), None]));
        let f = filter_of(&[build]);
        assert!(matches!(f.set, KeySet::Hashes(_)));
        assert_eq!(f.len(), 2);
        let probe: ArrayRef = Arc::new(Int64Array::from(vec![Some(i64::MAX / 2), Some(-5), Some(0), None]));
        assert_eq!(
            f.mask(&[probe]).unwrap(),
            BooleanArray::from(vec![true, true, false, false])
        );
        // Narrower integer keys are widened the same way on both sides.
        let build: ArrayRef = Arc::new(Int32Array::from(vec![7, -1]));
        let f = filter_of(&[build]);
        assert!(matches!(f.set, KeySet::Bits(_)));
        let probe: ArrayRef = Arc::new(Int32Array::from(vec![Some(-1), None, Some(8), Some(7)]));
        assert_eq!(
            f.mask(&[probe]).unwrap(),
            BooleanArray::from(vec![true, false, false, true])
        );
    }

    #[test]
    fn multi_column_and_string_keys_hash_by_value() {
        let s = |v: Vec<&str>| Arc::new(StringViewArray::from(v)) as ArrayRef;
        let i = |v: Vec<i32>| Arc::new(Int32Array::from(v)) as ArrayRef;
        let f = filter_of(&[s(vec!["a", "a long string that is not inlined"]), i(vec![1, 2])]);
        let mask = f
            .mask(&[s(vec!["a long string that is not inlined", "a", "a"]), i(vec![2, 2, 1])])
            .unwrap();
        assert_eq!(mask, BooleanArray::from(vec![true, false, true]));
    }

    #[test]
    fn a_filter_judges_itself_after_enough_rows() {
        use arrow::datatypes::{Field, Schema};

        use crate::physical::expr::ColumnExpr;
        let schema = Arc::new(Schema::new(vec![Field::new("k", DataType::Int64, false)]));
        let batch = |range: std::ops::Range<i64>| {
            RecordBatch::try_new(Arc::clone(&schema), vec![Arc::new(Int64Array::from_iter_values(range))]).unwrap()
        };
        let keys: Vec<PhysicalExprRef> = vec![Arc::new(ColumnExpr::new("k", 0, DataType::Int64))];
        let run = |build: Vec<i64>, input: Vec<RecordBatch>| -> usize {
            let f = Arc::new(filter_of(&[Arc::new(Int64Array::from(build)) as ArrayRef]));
            KeyFilterIter::new(input.into_iter(), f, keys.clone())
                .map(|b| b.unwrap().num_rows())
                .sum()
        };
        // Half of the rows pass: the filter stays on for every batch.
        let evens = (0..400_000).step_by(2).collect();
        assert_eq!(
            run(
                evens,
                vec![batch(0..60_000), batch(60_000..120_000), batch(120_000..180_000)]
            ),
            90_000
        );
        // Everything passes for 120K rows: the third batch is not filtered.
        let all = (0..120_000).collect();
        assert_eq!(
            run(
                all,
                vec![batch(0..60_000), batch(60_000..120_000), batch(500_000..560_000)]
            ),
            180_000
        );
    }
}
