//! Group keys → dense group indices.
//!
//! Every distinct key gets the next index (0, 1, 2, ...), which the
//! accumulators use to index their state vectors. Keys are hashed once per
//! row. The general case encodes the key columns with arrow's row format
//! (one byte string per row, equal iff the keys are equal, NULL equal to
//! NULL) and keeps the group keys in one `Rows` buffer; a single integer or
//! date key takes a fast path keyed by the native value, and other
//! fixed-width keys are packed into machine words (`packed_keys`). With no key
//! columns there is exactly one group.

use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, PrimitiveArray};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{ArrowPrimitiveType, DataType, Date32Type, Int32Type, Int64Type};
use arrow::row::{RowConverter, Rows, SortField};
use foldhash::fast::RandomState;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

use crate::error::{Error, Result};
use crate::internal_err;

/// Assigns group indices to keys.
pub(super) trait GroupValues: Send {
    /// Clears `groups` and pushes the group index of each of the `num_rows`
    /// rows of `cols`, creating groups for unseen keys.
    fn intern(&mut self, cols: &[ArrayRef], num_rows: usize, groups: &mut Vec<u32>) -> Result<()>;
    /// The number of groups so far.
    fn len(&self) -> usize;
    /// Approximate heap bytes held.
    fn size(&self) -> usize;
    /// The key columns of all groups, in group-index order.
    fn emit(self: Box<Self>) -> Result<Vec<ArrayRef>>;
}

/// The group-index store for keys of the given types.
pub(super) fn new_group_values(types: &[DataType]) -> Result<Box<dyn GroupValues>> {
    Ok(match types {
        [] => Box::new(SingleGroup),
        [DataType::Int64] => Box::new(PrimitiveGroupValues::<Int64Type>::new(DataType::Int64)),
        [DataType::Int32] => Box::new(PrimitiveGroupValues::<Int32Type>::new(DataType::Int32)),
        [DataType::Date32] => Box::new(PrimitiveGroupValues::<Date32Type>::new(DataType::Date32)),
        _ => match super::packed_keys::new_packed(types) {
            Some(packed) => packed?,
            None => Box::new(RowGroupValues::new(types)?),
        },
    })
}

#[inline]
pub(super) fn next_group(len: usize) -> Result<u32> {
    u32::try_from(len).map_err(|_| Error::NotSupported("more than 2^32 groups in one aggregation".into()))
}

/// No key columns: every row is in group 0, which exists even before any
/// input (so `SELECT count(*) FROM empty` has its one row).
struct SingleGroup;

impl GroupValues for SingleGroup {
    fn intern(&mut self, _: &[ArrayRef], num_rows: usize, groups: &mut Vec<u32>) -> Result<()> {
        groups.clear();
        groups.resize(num_rows, 0);
        Ok(())
    }

    fn len(&self) -> usize {
        1
    }

    fn size(&self) -> usize {
        0
    }

    fn emit(self: Box<Self>) -> Result<Vec<ArrayRef>> {
        Ok(vec![])
    }
}

/// Any key columns, through the row format.
pub(super) struct RowGroupValues {
    converter: RowConverter,
    /// The key of group `g` is `keys.row(g)`.
    keys: Rows,
    /// `(hash, group)` per group.
    map: HashTable<(u64, u32)>,
    hasher: RandomState,
}

impl RowGroupValues {
    pub(super) fn new(types: &[DataType]) -> Result<Self> {
        let converter = RowConverter::new(types.iter().cloned().map(SortField::new).collect())?;
        let keys = converter.empty_rows(0, 0);
        Ok(Self {
            converter,
            keys,
            map: HashTable::new(),
            hasher: RandomState::default(),
        })
    }
}

impl GroupValues for RowGroupValues {
    fn intern(&mut self, cols: &[ArrayRef], num_rows: usize, groups: &mut Vec<u32>) -> Result<()> {
        let rows = self.converter.convert_columns(cols)?;
        if rows.num_rows() != num_rows {
            internal_err!("group keys have {} rows, expected {num_rows}", rows.num_rows());
        }
        groups.clear();
        groups.reserve(num_rows);
        let Self { keys, map, hasher, .. } = self;
        for row in rows.iter() {
            let bytes = row.data();
            let hash = hasher.hash_one(bytes);
            let entry = map.entry(
                hash,
                |&(h, g)| h == hash && keys.row(g as usize).data() == bytes,
                |&(h, _)| h,
            );
            let group = match entry {
                Entry::Occupied(o) => o.get().1,
                Entry::Vacant(v) => {
                    let g = next_group(keys.num_rows())?;
                    keys.push(row);
                    v.insert((hash, g));
                    g
                }
            };
            groups.push(group);
        }
        Ok(())
    }

    fn len(&self) -> usize {
        self.keys.num_rows()
    }

    fn size(&self) -> usize {
        self.keys.size() + self.map.allocation_size() + self.converter.size()
    }

    fn emit(self: Box<Self>) -> Result<Vec<ArrayRef>> {
        Ok(self.converter.convert_rows(&self.keys)?)
    }
}

/// One integer-like key column, keyed by its native value; NULL is its own
/// group.
struct PrimitiveGroupValues<T: ArrowPrimitiveType> {
    data_type: DataType,
    values: Vec<T::Native>,
    null_group: Option<u32>,
    /// `(key, group)` per non-NULL group: the key in the entry spares a
    /// probe a second cache miss into `values` (q18 groups 6M rows by
    /// 1.5M order keys).
    map: HashTable<(T::Native, u32)>,
    hasher: RandomState,
    /// Set while the keys seen stay dense (see [`DenseGroups`]); `map` is
    /// empty until then.
    dense: Option<DenseGroups>,
}

/// Groups of integer keys that fill a small share of their range, indexed
/// directly by `key - base`: no hashing, and keys that come sorted or
/// clustered (q18's order keys, q17's part keys) touch the slots in order.
#[derive(Default)]
struct DenseGroups {
    base: i64,
    /// The group of each key from `base` on, or [`NO_GROUP`].
    slots: Vec<u32>,
}

const NO_GROUP: u32 = u32::MAX;
/// The range of keys may be this many times the number of groups (and
/// the batch's rows) before the keys move to the hash table; a slot takes
/// 4 bytes where a hash entry takes about 20.
const DENSE_SLOTS_PER_GROUP: i128 = 8;
/// Or this many slots (256 KiB), whatever the number of groups.
const DENSE_MIN_SLOTS: i128 = 1 << 16;

/// An integer group key as `i64`.
trait DenseKey: Copy {
    fn key(self) -> i64;
}

impl DenseKey for i32 {
    #[inline(always)]
    fn key(self) -> i64 {
        i64::from(self)
    }
}

impl DenseKey for i64 {
    #[inline(always)]
    fn key(self) -> i64 {
        self
    }
}

impl<T: ArrowPrimitiveType> PrimitiveGroupValues<T>
where
    T::Native: Hash + Eq + DenseKey,
{
    fn new(data_type: DataType) -> Self {
        Self {
            data_type,
            values: vec![],
            null_group: None,
            map: HashTable::new(),
            hasher: RandomState::default(),
            dense: Some(DenseGroups::default()),
        }
    }

    /// Interns a batch through the dense slots; false (with every group
    /// moved to the hash table, nothing of this batch interned) when its
    /// keys would spread the range too thin.
    fn intern_dense(
        &mut self,
        arr: &PrimitiveArray<T>,
        nulls: Option<&NullBuffer>,
        groups: &mut Vec<u32>,
    ) -> Result<bool> {
        let Some(dense) = &mut self.dense else {
            return Ok(false);
        };
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for (i, v) in arr.values().iter().enumerate() {
            if nulls.is_none_or(|n| n.is_valid(i)) {
                lo = lo.min(v.key());
                hi = hi.max(v.key());
            }
        }
        if lo <= hi {
            let (old_lo, old_len) = (i128::from(dense.base), dense.slots.len() as i128);
            let (mut new_lo, new_hi) = if old_len == 0 {
                (i128::from(lo), i128::from(hi))
            } else {
                (old_lo.min(i128::from(lo)), (old_lo + old_len - 1).max(i128::from(hi)))
            };
            let limit = DENSE_MIN_SLOTS.max(DENSE_SLOTS_PER_GROUP * (self.values.len() + arr.len()) as i128);
            if new_hi - new_lo + 1 > limit {
                self.leave_dense();
                return Ok(false);
            }
            if old_len > 0 && new_lo < old_lo {
                // Room below as well, so that keys coming in descending
                // order do not copy the slots on every batch.
                new_lo = (new_lo - old_len).max(new_hi + 1 - limit).max(i128::from(i64::MIN));
                let mut slots = vec![NO_GROUP; (new_hi - new_lo + 1) as usize];
                let at = (old_lo - new_lo) as usize;
                slots[at..at + dense.slots.len()].copy_from_slice(&dense.slots);
                dense.slots = slots;
                dense.base = new_lo as i64;
            } else {
                dense.base = new_lo as i64;
                dense.slots.resize((new_hi - new_lo + 1) as usize, NO_GROUP);
            }
        }
        let (values, null_group) = (&mut self.values, &mut self.null_group);
        for (i, &v) in arr.values().iter().enumerate() {
            if nulls.is_some_and(|n| n.is_null(i)) {
                groups.push(null_group_index(values, null_group)?);
                continue;
            }
            let slot = &mut dense.slots[(v.key() - dense.base) as usize];
            if *slot == NO_GROUP {
                *slot = next_group(values.len())?;
                values.push(v);
            }
            groups.push(*slot);
        }
        Ok(true)
    }

    /// Leaves the dense slots for the hash table, for good.
    fn leave_dense(&mut self) {
        self.dense = None;
        let Self {
            values,
            null_group,
            map,
            hasher,
            ..
        } = self;
        map.reserve(values.len(), |&(k, _)| hasher.hash_one(k));
        for (g, &v) in values.iter().enumerate() {
            if *null_group != Some(g as u32) {
                map.insert_unique(hasher.hash_one(v), (v, g as u32), |&(k, _)| hasher.hash_one(k));
            }
        }
    }
}

/// The NULL key's group, made on first use.
fn null_group_index<N: Default>(values: &mut Vec<N>, null_group: &mut Option<u32>) -> Result<u32> {
    Ok(match *null_group {
        Some(g) => g,
        None => {
            let g = next_group(values.len())?;
            values.push(N::default());
            *null_group = Some(g);
            g
        }
    })
}

impl<T> GroupValues for PrimitiveGroupValues<T>
where
    T: ArrowPrimitiveType,
    T::Native: Hash + Eq + DenseKey,
{
    fn intern(&mut self, cols: &[ArrayRef], num_rows: usize, groups: &mut Vec<u32>) -> Result<()> {
        let [col] = cols else {
            internal_err!("expected one group column, got {}", cols.len());
        };
        let Some(arr) = col
            .as_primitive_opt::<T>()
            .filter(|_| col.data_type() == &self.data_type)
        else {
            internal_err!(
                "group column of type {} expected, got {}",
                self.data_type,
                col.data_type()
            );
        };
        if arr.len() != num_rows {
            internal_err!("group keys have {} rows, expected {num_rows}", arr.len());
        }
        groups.clear();
        groups.reserve(num_rows);
        let nulls = arr.nulls().filter(|n| n.null_count() > 0);
        if self.intern_dense(arr, nulls, groups)? {
            return Ok(());
        }
        let Self {
            values,
            null_group,
            map,
            hasher,
            ..
        } = self;
        // Keys often come in runs (lineitem by l_orderkey): a row with the
        // previous row's key skips the hash table.
        let mut last: Option<(T::Native, u32)> = None;
        for (i, &v) in arr.values().iter().enumerate() {
            if nulls.is_some_and(|n| n.is_null(i)) {
                groups.push(null_group_index(values, null_group)?);
                continue;
            }
            if let Some((lv, lg)) = last
                && lv == v
            {
                groups.push(lg);
                continue;
            }
            let hash = hasher.hash_one(v);
            let entry = map.entry(hash, |&(k, _)| k == v, |&(k, _)| hasher.hash_one(k));
            let group = match entry {
                Entry::Occupied(o) => o.get().1,
                Entry::Vacant(e) => {
                    let g = next_group(values.len())?;
                    values.push(v);
                    e.insert((v, g));
                    g
                }
            };
            last = Some((v, group));
            groups.push(group);
        }
        Ok(())
    }

    fn len(&self) -> usize {
        self.values.len()
    }

    fn size(&self) -> usize {
        self.values.capacity() * std::mem::size_of::<T::Native>()
            + self.map.allocation_size()
            + self.dense.as_ref().map_or(0, |d| d.slots.capacity() * 4)
    }

    fn emit(self: Box<Self>) -> Result<Vec<ArrayRef>> {
        let nulls = self.null_group.map(|g| {
            let g = g as usize;
            NullBuffer::from_iter((0..self.values.len()).map(|i| i != g))
        });
        let arr = PrimitiveArray::<T>::new(self.values.into(), nulls).with_data_type(self.data_type);
        Ok(vec![Arc::new(arr)])
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, Int64Array, StringArray, StringViewArray};

    use super::*;

    fn intern(gv: &mut dyn GroupValues, cols: &[ArrayRef]) -> Vec<u32> {
        let mut g = vec![];
        let n = cols.first().map_or(0, |c| c.len());
        gv.intern(cols, n, &mut g).unwrap();
        g
    }

    #[test]
    fn primitive_keys_with_null_group() {
        for dt in [DataType::Int64, DataType::Int32, DataType::Date32] {
            let mut gv = new_group_values(std::slice::from_ref(&dt)).unwrap();
            let a = arrow::compute::cast(
                &(Arc::new(Int64Array::from(vec![Some(5), None, Some(5), Some(7)])) as ArrayRef),
                &dt,
            )
            .unwrap();
            assert_eq!(intern(gv.as_mut(), &[Arc::clone(&a)]), vec![0, 1, 0, 2]);
            assert_eq!(intern(gv.as_mut(), &[a.slice(1, 3)]), vec![1, 0, 2]);
            let keys = gv.emit().unwrap();
            assert_eq!(keys[0].data_type(), &dt);
            let keys = arrow::compute::cast(&keys[0], &DataType::Int64).unwrap();
            let keys = keys.as_primitive::<Int64Type>();
            assert_eq!(keys.iter().collect::<Vec<_>>(), vec![Some(5), None, Some(7)]);
        }
    }

    /// Keys that grow downwards and upwards stay in the dense slots; a key
    /// far away moves every group to the hash table, keeping its index.
    #[test]
    fn dense_keys_then_a_distant_one() {
        let mut gv = PrimitiveGroupValues::<Int64Type>::new(DataType::Int64);
        let batch = |v: Vec<Option<i64>>| -> ArrayRef { Arc::new(Int64Array::from(v)) };
        assert_eq!(
            intern(&mut gv, &[batch(vec![Some(100), Some(101), None, Some(100)])]),
            vec![0, 1, 2, 0]
        );
        assert_eq!(
            intern(&mut gv, &[batch(vec![Some(-50), Some(101), Some(5000), None])]),
            vec![3, 1, 4, 2]
        );
        assert_eq!(intern(&mut gv, &[batch(vec![None])]), vec![2]);
        assert!(gv.dense.is_some());
        assert_eq!(
            intern(&mut gv, &[batch(vec![Some(i64::MAX), Some(-50), Some(i64::MIN)])]),
            vec![5, 3, 6]
        );
        assert!(gv.dense.is_none());
        assert_eq!(
            intern(&mut gv, &[batch(vec![Some(5000), Some(100), None, Some(7)])]),
            vec![4, 0, 2, 7]
        );
        let keys = Box::new(gv).emit().unwrap();
        let keys = keys[0].as_primitive::<Int64Type>();
        assert_eq!(
            keys.iter().collect::<Vec<_>>(),
            vec![
                Some(100),
                Some(101),
                None,
                Some(-50),
                Some(5000),
                Some(i64::MAX),
                Some(i64::MIN),
                Some(7)
            ]
        );
    }

    #[test]
    fn runs_of_a_key_and_null_slots_inside_them() {
        let mut gv = new_group_values(&[DataType::Int64]).unwrap();
        // The NULL slot holds the run's value underneath.
        let nulls = NullBuffer::from(vec![true, false, true, true, true, true, true]);
        let a: ArrayRef = Arc::new(Int64Array::new(vec![5, 5, 5, 5, 7, 7, 5].into(), Some(nulls)));
        assert_eq!(intern(gv.as_mut(), &[Arc::clone(&a)]), vec![0, 1, 0, 0, 2, 2, 0]);
        assert_eq!(intern(gv.as_mut(), &[a.slice(4, 3)]), vec![2, 2, 0]);
        assert_eq!(gv.len(), 3);
    }

    #[test]
    fn multi_column_keys_with_views_and_nulls() {
        let types = [DataType::Utf8View, DataType::Int64];
        let mut gv = new_group_values(&types).unwrap();
        let s: ArrayRef = Arc::new(StringViewArray::from(vec![
            Some("a"),
            None,
            Some("a"),
            None,
            Some("a long string that is not inlined"),
        ]));
        let n: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None, Some(1), None, Some(1)]));
        assert_eq!(intern(gv.as_mut(), &[s, n]), vec![0, 1, 0, 1, 2]);
        assert_eq!(gv.len(), 3);
        assert!(gv.size() > 0);
        let keys = gv.emit().unwrap();
        assert_eq!(keys[0].data_type(), &DataType::Utf8View);
        let s = keys[0].as_string_view();
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            vec![Some("a"), None, Some("a long string that is not inlined")]
        );
        assert!(keys[1].is_null(1));
    }

    #[test]
    fn single_group_and_type_errors() {
        let mut gv = new_group_values(&[]).unwrap();
        let mut g = vec![];
        gv.intern(&[], 3, &mut g).unwrap();
        assert_eq!(g, vec![0, 0, 0]);
        assert_eq!(gv.len(), 1);

        let mut gv = new_group_values(&[DataType::Int64]).unwrap();
        let wrong: ArrayRef = Arc::new(StringArray::from(vec!["x"]));
        assert!(gv.intern(&[Arc::clone(&wrong)], 1, &mut g).is_err());
        let mut gv = new_group_values(&[DataType::Int64, DataType::Utf8]).unwrap();
        assert!(gv.intern(&[Arc::clone(&wrong), wrong], 1, &mut g).is_err());
    }
}
