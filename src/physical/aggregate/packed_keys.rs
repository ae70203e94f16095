//! Group keys of fixed-width columns, packed into a few machine words.
//!
//! Integer, date, boolean and decimal keys, and strings short enough to sit
//! inline in a string view (12 bytes or fewer), each take one or two `u64`
//! words; one more word holds a NULL bit per column. A row's key is then a
//! `[u64; W]` that is hashed and compared as a whole, with no per-row
//! encoding into bytes as in the row format. The first batch with a longer
//! string hands every group over to the row format (same group indices) and
//! the rest of the input goes there.

use std::hash::BuildHasher;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BinaryViewArray, BooleanArray, Decimal128Array, PrimitiveArray, StringViewArray,
};
use arrow::buffer::{NullBuffer, ScalarBuffer};
use arrow::datatypes::*;
use foldhash::fast::RandomState;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

use super::group_values::{GroupValues, RowGroupValues, next_group};
use crate::error::Result;
use crate::internal_err;

/// Words taken by a key column of type `t`, if it can be packed.
fn words(t: &DataType) -> Option<usize> {
    use DataType::*;
    match t {
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 | Date32 | Date64 | Boolean => Some(1),
        Decimal128(..) | Utf8View | BinaryView => Some(2),
        _ => None,
    }
}

/// The packed group-index store for keys of `types`, or `None` when some
/// type cannot be packed or the key would take more than 8 words (wider
/// keys hash and compare no faster than the row format's bytes).
pub(super) fn new_packed(types: &[DataType]) -> Option<Result<Box<dyn GroupValues>>> {
    let mut offsets = Vec::with_capacity(types.len());
    let mut w = 0;
    for t in types {
        offsets.push(w);
        w += words(t)?;
    }
    // The NULL bits take the last word.
    let total = w + 1;
    macro_rules! packed {
        ($($n:literal)*) => {
            match total {
                $($n => Box::new(PackedGroupValues::<$n>::new(types, offsets)) as Box<dyn GroupValues>,)*
                _ => return None,
            }
        };
    }
    Some(Ok(packed!(2 3 4 5 6 7 8)))
}

/// Group keys as `[u64; W]` (see the module docs).
struct PackedGroupValues<const W: usize> {
    types: Vec<DataType>,
    /// The first word of each key column.
    offsets: Vec<usize>,
    /// The key of group `g`.
    keys: Vec<[u64; W]>,
    /// `(hash, group)` per group.
    map: HashTable<(u64, u32)>,
    /// Per-table seed of [`hash_key`].
    seed: u64,
    /// The batch's keys, reused between batches.
    scratch: Vec<[u64; W]>,
    /// Set once a key did not fit: every group lives here from then on.
    rows: Option<RowGroupValues>,
}

impl<const W: usize> PackedGroupValues<W> {
    fn new(types: &[DataType], offsets: Vec<usize>) -> Self {
        Self {
            types: types.to_vec(),
            offsets,
            keys: vec![],
            map: HashTable::new(),
            seed: RandomState::default().hash_one(W),
            scratch: vec![],
            rows: None,
        }
    }

    /// Packs the key columns into `self.scratch`; false when a string is
    /// too long to pack.
    fn pack(&mut self, cols: &[ArrayRef], num_rows: usize) -> Result<bool> {
        if cols.len() != self.types.len() {
            internal_err!("{} group columns, expected {}", cols.len(), self.types.len());
        }
        let out = &mut self.scratch;
        out.clear();
        out.resize(num_rows, [0; W]);
        for (c, (col, t)) in cols.iter().zip(&self.types).enumerate() {
            if col.data_type() != t || col.len() != num_rows {
                internal_err!(
                    "group column {c} is {} of {} rows, expected {t} of {num_rows}",
                    col.data_type(),
                    col.len()
                );
            }
            let w = self.offsets[c];
            if !pack_column(col, w, out) {
                return Ok(false);
            }
            if let Some(nulls) = col.logical_nulls().filter(|n| n.null_count() > 0) {
                for i in nulls.inner().iter().enumerate().filter(|(_, v)| !v).map(|(i, _)| i) {
                    // NULL slots hold arbitrary values: clear them so that
                    // all NULLs are one key.
                    let key = &mut out[i];
                    key[w] = 0;
                    if words(t) == Some(2) {
                        key[w + 1] = 0;
                    }
                    key[W - 1] |= 1 << c;
                }
            }
        }
        Ok(true)
    }

    /// The packed keys back as columns, in group order.
    fn unpack(&self) -> Result<Vec<ArrayRef>> {
        self.types
            .iter()
            .enumerate()
            .map(|(c, t)| {
                let w = self.offsets[c];
                let nulls = NullBuffer::from_iter(self.keys.iter().map(|k| k[W - 1] & (1 << c) == 0));
                let nulls = (nulls.null_count() > 0).then_some(nulls);
                unpack_column(t, &self.keys, w, nulls)
            })
            .collect()
    }

    /// Moves every group to the row format.
    fn spill_to_rows(&mut self) -> Result<&mut RowGroupValues> {
        let mut rows = RowGroupValues::new(&self.types)?;
        let mut groups = Vec::new();
        rows.intern(&self.unpack()?, self.keys.len(), &mut groups)?;
        if groups.iter().enumerate().any(|(i, &g)| g as usize != i) {
            internal_err!("packed group keys were not distinct");
        }
        self.keys = vec![];
        self.map = HashTable::new();
        Ok(self.rows.insert(rows))
    }
}

impl<const W: usize> GroupValues for PackedGroupValues<W> {
    fn intern(&mut self, cols: &[ArrayRef], num_rows: usize, groups: &mut Vec<u32>) -> Result<()> {
        if let Some(rows) = &mut self.rows {
            return rows.intern(cols, num_rows, groups);
        }
        if !self.pack(cols, num_rows)? {
            return self.spill_to_rows()?.intern(cols, num_rows, groups);
        }
        groups.clear();
        groups.reserve(num_rows);
        let Self {
            keys,
            map,
            seed,
            scratch,
            ..
        } = self;
        // Sorted or clustered input repeats keys in runs (q01's flags
        // follow the ship dates of an order's lines): a row equal to the
        // previous one takes its group without hashing.
        let mut previous: Option<(&[u64; W], u32)> = None;
        for key in scratch.iter() {
            if let Some((p, g)) = previous
                && same_key(p, key)
            {
                groups.push(g);
                continue;
            }
            let hash = hash_key(*seed, key);
            let entry = map.entry(
                hash,
                |&(h, g)| h == hash && same_key(&keys[g as usize], key),
                |&(h, _)| h,
            );
            let group = match entry {
                Entry::Occupied(o) => o.get().1,
                Entry::Vacant(v) => {
                    let g = next_group(keys.len())?;
                    keys.push(*key);
                    v.insert((hash, g));
                    g
                }
            };
            groups.push(group);
            previous = Some((key, group));
        }
        Ok(())
    }

    fn len(&self) -> usize {
        match &self.rows {
            Some(rows) => rows.len(),
            None => self.keys.len(),
        }
    }

    fn size(&self) -> usize {
        self.rows.as_ref().map_or(0, |r| r.size())
            + (self.keys.capacity() + self.scratch.capacity()) * W * 8
            + self.map.allocation_size()
    }

    fn emit(self: Box<Self>) -> Result<Vec<ArrayRef>> {
        match self.rows {
            Some(rows) => Box::new(rows).emit(),
            None => self.unpack(),
        }
    }
}

/// Hashes a key a word at a time. `Hash` for arrays feeds the words to
/// the hasher as a byte slice behind a length prefix, which took more time
/// than the probe it serves (q01 groups 6M rows into 4 groups).
#[inline(always)]
fn hash_key<const W: usize>(seed: u64, key: &[u64; W]) -> u64 {
    // Multiply-fold rounds as foldhash does for integers: each word is
    // mixed into all 64 bits, high ones included (hashbrown's tag).
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    key.iter().fold(seed, |h, &w| {
        let p = u128::from(h ^ w) * u128::from(K);
        (p as u64) ^ ((p >> 64) as u64)
    })
}

/// `a == b` without a call: `==` on arrays of more than a few words
/// becomes `memcmp`, which cost more than the hash probe around it.
#[inline(always)]
fn same_key<const W: usize>(a: &[u64; W], b: &[u64; W]) -> bool {
    a.iter().zip(b).fold(0, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// Writes column `col` into word `w` (and `w + 1`) of every key; false when
/// a string is longer than a view can hold inline.
fn pack_column<const W: usize>(col: &ArrayRef, w: usize, out: &mut [[u64; W]]) -> bool {
    macro_rules! ints {
        ($t:ty) => {{
            for (k, &v) in out.iter_mut().zip(col.as_primitive::<$t>().values()) {
                k[w] = v as i64 as u64;
            }
        }};
    }
    match col.data_type() {
        DataType::Int8 => ints!(Int8Type),
        DataType::Int16 => ints!(Int16Type),
        DataType::Int32 => ints!(Int32Type),
        DataType::Int64 => ints!(Int64Type),
        DataType::UInt8 => ints!(UInt8Type),
        DataType::UInt16 => ints!(UInt16Type),
        DataType::UInt32 => ints!(UInt32Type),
        DataType::UInt64 => ints!(UInt64Type),
        DataType::Date32 => ints!(Date32Type),
        DataType::Date64 => ints!(Date64Type),
        DataType::Boolean => {
            for (k, v) in out.iter_mut().zip(col.as_boolean().values().iter()) {
                k[w] = u64::from(v);
            }
        }
        DataType::Decimal128(..) => {
            for (k, &v) in out.iter_mut().zip(col.as_primitive::<Decimal128Type>().values()) {
                k[w] = v as u64;
                k[w + 1] = (v >> 64) as u64;
            }
        }
        DataType::Utf8View => return pack_views(col.as_string_view().views(), col.nulls(), w, out),
        DataType::BinaryView => return pack_views(col.as_binary_view().views(), col.nulls(), w, out),
        _ => return false,
    }
    true
}

/// Packs inline views (length and bytes, the unused bytes cleared); false
/// when a valid one is longer than 12 bytes.
fn pack_views<const W: usize>(views: &[u128], nulls: Option<&NullBuffer>, w: usize, out: &mut [[u64; W]]) -> bool {
    let mut longest = 0u32;
    for (i, (k, &v)) in out.iter_mut().zip(views).enumerate() {
        let len = v as u32;
        if len > 12 && nulls.is_none_or(|n| n.is_valid(i)) {
            longest = longest.max(len);
        }
        // Bytes past the length are not part of the value.
        let keep = if len >= 12 {
            u128::MAX
        } else {
            (1u128 << (32 + 8 * len)) - 1
        };
        let v = v & keep;
        k[w] = v as u64;
        k[w + 1] = (v >> 64) as u64;
    }
    longest == 0
}

/// Column `w` of `keys` as an array of type `t`.
fn unpack_column<const W: usize>(
    t: &DataType,
    keys: &[[u64; W]],
    w: usize,
    nulls: Option<NullBuffer>,
) -> Result<ArrayRef> {
    macro_rules! ints {
        ($t:ty, $native:ty) => {{
            let values: ScalarBuffer<$native> = keys.iter().map(|k| k[w] as i64 as $native).collect();
            Arc::new(PrimitiveArray::<$t>::new(values, nulls)) as ArrayRef
        }};
    }
    let wide = |k: &[u64; W]| u128::from(k[w]) | (u128::from(k[w + 1]) << 64);
    Ok(match t {
        DataType::Int8 => ints!(Int8Type, i8),
        DataType::Int16 => ints!(Int16Type, i16),
        DataType::Int32 => ints!(Int32Type, i32),
        DataType::Int64 => ints!(Int64Type, i64),
        DataType::UInt8 => ints!(UInt8Type, u8),
        DataType::UInt16 => ints!(UInt16Type, u16),
        DataType::UInt32 => ints!(UInt32Type, u32),
        DataType::UInt64 => ints!(UInt64Type, u64),
        DataType::Date32 => ints!(Date32Type, i32),
        DataType::Date64 => ints!(Date64Type, i64),
        DataType::Boolean => Arc::new(BooleanArray::new(keys.iter().map(|k| k[w] != 0).collect(), nulls)),
        DataType::Decimal128(..) => {
            let values: ScalarBuffer<i128> = keys.iter().map(|k| wide(k) as i128).collect();
            Arc::new(Decimal128Array::new(values, nulls).with_data_type(t.clone()))
        }
        DataType::Utf8View => {
            let views: ScalarBuffer<u128> = keys.iter().map(wide).collect();
            Arc::new(StringViewArray::try_new(views, vec![], nulls)?)
        }
        DataType::BinaryView => {
            let views: ScalarBuffer<u128> = keys.iter().map(wide).collect();
            Arc::new(BinaryViewArray::try_new(views, vec![], nulls)?)
        }
        other => internal_err!("group keys of type {other} are not packed"),
    })
}

#[cfg(test)]
mod tests {
    use arrow::array::{Date32Array, Int64Array, StringViewArray};

    use super::*;

    fn intern(gv: &mut dyn GroupValues, cols: &[ArrayRef]) -> Vec<u32> {
        let mut g = vec![];
        let n = cols.first().map_or(0, |c| c.len());
        gv.intern(cols, n, &mut g).unwrap();
        g
    }

    fn strings(v: Vec<Option<&str>>) -> ArrayRef {
        Arc::new(StringViewArray::from(v))
    }

    #[test]
    fn short_strings_dates_and_decimals_round_trip() {
        let types = [
            DataType::Utf8View,
            DataType::Date32,
            DataType::Decimal128(20, 2),
            DataType::Boolean,
        ];
        let mut gv = new_packed(&types).unwrap().unwrap();
        let s = strings(vec![Some("A"), Some("A"), None, Some("twelve bytes"), Some("A")]);
        let d: ArrayRef = Arc::new(Date32Array::from(vec![Some(1), Some(1), Some(2), None, Some(1)]));
        let m: ArrayRef = Arc::new(
            Decimal128Array::from(vec![Some(-5), Some(-5), Some(i128::MAX), Some(0), Some(7)])
                .with_precision_and_scale(20, 2)
                .unwrap(),
        );
        let b: ArrayRef = Arc::new(BooleanArray::from(vec![true, true, false, true, true]));
        let cols = [s, d, m, b];
        assert_eq!(intern(gv.as_mut(), &cols), vec![0, 0, 1, 2, 3]);
        let keys = gv.emit().unwrap();
        for (k, c) in keys.iter().zip(&cols) {
            let expected = arrow::compute::take(c, &arrow::array::UInt32Array::from(vec![0, 2, 3, 4]), None).unwrap();
            assert_eq!(k.as_ref(), expected.as_ref());
        }
    }

    #[test]
    fn null_slots_with_garbage_are_one_key() {
        // Two NULL strings whose views differ (one slot still holds "x").
        let views = StringViewArray::from(vec![Some("x"), Some("y")]);
        let (views, buffers, _) = views.into_parts();
        let nulls = NullBuffer::from(vec![false, false]);
        let s: ArrayRef = Arc::new(StringViewArray::try_new(views, buffers, Some(nulls)).unwrap());
        let mut gv = new_packed(&[DataType::Utf8View]).unwrap().unwrap();
        assert_eq!(intern(gv.as_mut(), &[s]), vec![0, 0]);
    }

    #[test]
    fn a_long_string_moves_every_group_to_the_row_format() {
        let types = [DataType::Utf8View, DataType::Int64];
        let mut gv = new_packed(&types).unwrap().unwrap();
        let n: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 1]));
        assert_eq!(
            intern(gv.as_mut(), &[strings(vec![Some("a"), Some("b"), Some("a")]), n]),
            vec![0, 1, 0]
        );
        let n: ArrayRef = Arc::new(Int64Array::from(vec![2, 1, 3]));
        let long = strings(vec![Some("b"), Some("a string longer than twelve"), Some("a")]);
        assert_eq!(intern(gv.as_mut(), &[long, n]), vec![1, 2, 3]);
        let n: ArrayRef = Arc::new(Int64Array::from(vec![1]));
        assert_eq!(intern(gv.as_mut(), &[strings(vec![Some("a")]), n]), vec![0]);
        assert_eq!(gv.len(), 4);
        let keys = gv.emit().unwrap();
        let s = keys[0].as_string_view();
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            vec![Some("a"), Some("b"), Some("a string longer than twelve"), Some("a")]
        );
    }

    #[test]
    fn wide_or_unsupported_keys_are_not_packed() {
        assert!(new_packed(&[DataType::Utf8]).is_none());
        assert!(new_packed(&vec![DataType::Decimal128(10, 0); 4]).is_none());
        assert!(new_packed(&vec![DataType::Int64; 7]).is_some());
    }
}
