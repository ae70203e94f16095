//! Group keys of fixed-width columns, packed into a few machine words.
//!
//! Integer, date, boolean and decimal keys, and strings short enough to sit
//! inline in a string view (12 bytes or fewer), each take one or two `u64`
//! words. A row's key is then a `[u64; W]` that is hashed and compared as a
//! whole, with no per-row encoding into bytes as in the row format.
//!
//! Narrower keys hash and compare faster, so the layout is as small as the
//! data allows:
//! - Strings start in one word (length and up to 4 bytes, the low half of a
//!   view); the first batch with a longer one moves every group to a layout
//!   with two words per string (same group indices). The first string
//!   longer than 12 bytes moves them to the row format.
//! - NULL is a value no real key has when every column leaves one spare:
//!   integers of 32 bits or fewer, dates and booleans use the low 32 bits
//!   of their word, strings never have a length of `u32::MAX`. Only keys
//!   with a 64-bit integer or a decimal column take one more word, with a
//!   NULL bit per column.

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

/// How a key column is packed.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Slot {
    /// 32 bits or fewer, zero-extended: NULL sets bit 32.
    Small,
    /// Every bit of one word (64-bit integers) or two (decimals) is a value.
    Full(usize),
    /// A string or binary view in one word (up to 4 bytes) or two (up to
    /// 12): NULL is the length `u32::MAX`.
    View(usize),
}

impl Slot {
    fn of(t: &DataType, narrow: bool) -> Option<Self> {
        use DataType::*;
        Some(match t {
            Int8 | Int16 | Int32 | UInt8 | UInt16 | UInt32 | Date32 | Boolean => Slot::Small,
            Int64 | UInt64 | Date64 => Slot::Full(1),
            Decimal128(..) => Slot::Full(2),
            Utf8View | BinaryView => Slot::View(if narrow { 1 } else { 2 }),
            _ => return None,
        })
    }

    fn words(self) -> usize {
        match self {
            Slot::Small => 1,
            Slot::Full(n) | Slot::View(n) => n,
        }
    }
}

/// The NULL marker of a [`Slot::Small`] word.
const SMALL_NULL: u64 = 1 << 32;
/// The NULL marker of a [`Slot::View`]'s first word (its length field).
const VIEW_NULL: u64 = u32::MAX as u64;

/// The packed group-index store for keys of `types`, or `None` when some
/// type cannot be packed or the key would take more than 8 words (wider
/// keys hash and compare no faster than the row format's bytes).
pub(super) fn new_packed(types: &[DataType]) -> Option<Result<Box<dyn GroupValues>>> {
    let narrow = types.iter().any(|t| matches!(Slot::of(t, true), Some(Slot::View(_))));
    packed_with(types, narrow)
}

/// [`new_packed`] with strings in one word (`narrow`) or two.
fn packed_with(types: &[DataType], narrow: bool) -> Option<Result<Box<dyn GroupValues>>> {
    let slots = types.iter().map(|t| Slot::of(t, narrow)).collect::<Option<Vec<_>>>()?;
    let null_word = slots.iter().any(|s| matches!(s, Slot::Full(_)));
    let mut offsets = Vec::with_capacity(types.len());
    let mut w = 0;
    for s in &slots {
        offsets.push(w);
        w += s.words();
    }
    let total = w + usize::from(null_word);
    let layout = Layout {
        types: types.to_vec(),
        slots,
        offsets,
        narrow,
        null_word,
    };
    macro_rules! packed {
        ($($n:literal)*) => {
            match total {
                $($n => Box::new(PackedGroupValues::<$n>::new(layout)) as Box<dyn GroupValues>,)*
                _ => return None,
            }
        };
    }
    Some(Ok(packed!(1 2 3 4 5 6 7 8)))
}

/// Where each key column sits in the words.
struct Layout {
    types: Vec<DataType>,
    slots: Vec<Slot>,
    /// The first word of each key column.
    offsets: Vec<usize>,
    /// Strings take one word (see [`Slot::View`]).
    narrow: bool,
    /// The last word holds a NULL bit per column.
    null_word: bool,
}

/// Group keys as `[u64; W]` (see the module docs).
struct PackedGroupValues<const W: usize> {
    layout: Layout,
    /// The key of group `g`.
    keys: Vec<[u64; W]>,
    /// `(hash, group)` per group.
    map: HashTable<(u64, u32)>,
    /// Per-table seed of [`hash_key`].
    seed: u64,
    /// The batch's keys, reused between batches.
    scratch: Vec<[u64; W]>,
    /// Set once a key did not fit: every group lives here from then on.
    wider: Option<Box<dyn GroupValues>>,
}

impl<const W: usize> PackedGroupValues<W> {
    fn new(layout: Layout) -> Self {
        Self {
            layout,
            keys: vec![],
            map: HashTable::new(),
            seed: RandomState::default().hash_one(W),
            scratch: vec![],
            wider: None,
        }
    }

    /// Packs the key columns into `self.scratch`; false when a string is
    /// too long for this layout.
    fn pack(&mut self, cols: &[ArrayRef], num_rows: usize) -> Result<bool> {
        let layout = &self.layout;
        if cols.len() != layout.types.len() {
            internal_err!("{} group columns, expected {}", cols.len(), layout.types.len());
        }
        let out = &mut self.scratch;
        out.clear();
        out.resize(num_rows, [0; W]);
        for (c, (col, t)) in cols.iter().zip(&layout.types).enumerate() {
            if col.data_type() != t || col.len() != num_rows {
                internal_err!(
                    "group column {c} is {} of {} rows, expected {t} of {num_rows}",
                    col.data_type(),
                    col.len()
                );
            }
            let (w, slot) = (layout.offsets[c], layout.slots[c]);
            if !pack_column(col, w, slot, out) {
                return Ok(false);
            }
            if let Some(nulls) = col.logical_nulls().filter(|n| n.null_count() > 0) {
                for i in nulls.inner().iter().enumerate().filter(|(_, v)| !v).map(|(i, _)| i) {
                    // NULL slots hold arbitrary values: clear them so that
                    // all NULLs are one key.
                    let key = &mut out[i];
                    key[w..w + slot.words()].fill(0);
                    if layout.null_word {
                        key[W - 1] |= 1 << c;
                    } else {
                        key[w] = match slot {
                            Slot::Small => SMALL_NULL,
                            _ => VIEW_NULL,
                        };
                    }
                }
            }
        }
        Ok(true)
    }

    /// The packed keys back as columns, in group order.
    fn unpack(&self) -> Result<Vec<ArrayRef>> {
        let layout = &self.layout;
        layout
            .types
            .iter()
            .enumerate()
            .map(|(c, t)| {
                let (w, slot) = (layout.offsets[c], layout.slots[c]);
                let is_valid = |k: &[u64; W]| match slot {
                    _ if layout.null_word => k[W - 1] & (1 << c) == 0,
                    Slot::Small => k[w] & SMALL_NULL == 0,
                    _ => k[w] & VIEW_NULL != VIEW_NULL,
                };
                let nulls = NullBuffer::from_iter(self.keys.iter().map(is_valid));
                let nulls = (nulls.null_count() > 0).then_some(nulls);
                unpack_column(t, slot, &self.keys, w, nulls)
            })
            .collect()
    }

    /// Moves every group to a wider layout: two words per string when this
    /// one is narrow, else the row format.
    fn widen(&mut self) -> Result<&mut Box<dyn GroupValues>> {
        let types = &self.layout.types;
        let mut wider = match self.layout.narrow.then(|| packed_with(types, false)).flatten() {
            Some(packed) => packed?,
            None => Box::new(RowGroupValues::new(types)?),
        };
        let mut groups = Vec::new();
        wider.intern(&self.unpack()?, self.keys.len(), &mut groups)?;
        if groups.iter().enumerate().any(|(i, &g)| g as usize != i) {
            internal_err!("packed group keys were not distinct");
        }
        self.keys = vec![];
        self.map = HashTable::new();
        Ok(self.wider.insert(wider))
    }
}

impl<const W: usize> GroupValues for PackedGroupValues<W> {
    fn intern(&mut self, cols: &[ArrayRef], num_rows: usize, groups: &mut Vec<u32>) -> Result<()> {
        if let Some(wider) = &mut self.wider {
            return wider.intern(cols, num_rows, groups);
        }
        if !self.pack(cols, num_rows)? {
            return self.widen()?.intern(cols, num_rows, groups);
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
        let mut i = 0;
        while i < scratch.len() {
            // With few groups (q01 has 4), rows take them in no order the
            // branch predictor could learn: a row is compared with every
            // group without branching, and only a new key goes on to the
            // hash table.
            if keys.len() <= SCAN_GROUPS {
                let found = scan_groups(keys, &scratch[i]);
                if found != u32::MAX {
                    groups.push(found);
                    i += 1;
                    continue;
                }
            }
            // Sorted or clustered input repeats keys in runs: a row equal to
            // the one before takes its group without hashing.
            let key = &scratch[i];
            if let (Some(&g), Some(p)) = (groups.last(), i.checked_sub(1).map(|p| &scratch[p]))
                && same_key(p, key)
            {
                groups.push(g);
                i += 1;
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
            i += 1;
        }
        Ok(())
    }

    fn len(&self) -> usize {
        match &self.wider {
            Some(wider) => wider.len(),
            None => self.keys.len(),
        }
    }

    fn size(&self) -> usize {
        self.wider.as_ref().map_or(0, |r| r.size())
            + (self.keys.capacity() + self.scratch.capacity()) * W * 8
            + self.map.allocation_size()
    }

    fn emit(self: Box<Self>) -> Result<Vec<ArrayRef>> {
        match self.wider {
            Some(wider) => wider.emit(),
            None => self.unpack(),
        }
    }
}

/// Up to this many groups, a row is compared with each of them (see
/// [`scan_groups`]) before the hash table is tried.
const SCAN_GROUPS: usize = 8;

/// The index of the group whose key is `key` among at most
/// [`SCAN_GROUPS`] keys, or `u32::MAX`; every key is compared, so the only
/// branch is the loop's.
#[inline(always)]
fn scan_groups<const W: usize>(keys: &[[u64; W]], key: &[u64; W]) -> u32 {
    keys.iter().enumerate().fold(
        u32::MAX,
        |found, (g, k)| if same_key(k, key) { g as u32 } else { found },
    )
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

/// Writes column `col` into its words (from `w`) of every key; false when
/// a string is longer than `slot` holds.
fn pack_column<const W: usize>(col: &ArrayRef, w: usize, slot: Slot, out: &mut [[u64; W]]) -> bool {
    macro_rules! ints {
        ($t:ty, $unsigned:ty) => {{
            for (k, &v) in out.iter_mut().zip(col.as_primitive::<$t>().values()) {
                k[w] = u64::from(v as $unsigned);
            }
        }};
    }
    match col.data_type() {
        DataType::Int8 => ints!(Int8Type, u8),
        DataType::Int16 => ints!(Int16Type, u16),
        DataType::Int32 => ints!(Int32Type, u32),
        DataType::UInt8 => ints!(UInt8Type, u8),
        DataType::UInt16 => ints!(UInt16Type, u16),
        DataType::UInt32 => ints!(UInt32Type, u32),
        DataType::Date32 => ints!(Date32Type, u32),
        DataType::Int64 => ints!(Int64Type, u64),
        DataType::UInt64 => ints!(UInt64Type, u64),
        DataType::Date64 => ints!(Date64Type, u64),
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
        DataType::Utf8View => return pack_views(col.as_string_view().views(), col.nulls(), w, slot, out),
        DataType::BinaryView => return pack_views(col.as_binary_view().views(), col.nulls(), w, slot, out),
        _ => return false,
    }
    true
}

/// Packs inline views (length and bytes, the unused bytes cleared) into
/// one word or two; false when a valid one is longer than that holds.
fn pack_views<const W: usize>(
    views: &[u128],
    nulls: Option<&NullBuffer>,
    w: usize,
    slot: Slot,
    out: &mut [[u64; W]],
) -> bool {
    let limit = if slot == Slot::View(1) { 4 } else { 12 };
    let mut longest = 0u32;
    for (i, (k, &v)) in out.iter_mut().zip(views).enumerate() {
        let len = v as u32;
        if len > limit && nulls.is_none_or(|n| n.is_valid(i)) {
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
        if limit == 12 {
            k[w + 1] = (v >> 64) as u64;
        }
    }
    longest == 0
}

/// Column `w` of `keys` as an array of type `t`.
fn unpack_column<const W: usize>(
    t: &DataType,
    slot: Slot,
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
    // A NULL view's marker is not a valid view: NULL slots read as "".
    let view = |k: &[u64; W]| match slot {
        _ if k[w] & VIEW_NULL == VIEW_NULL => 0,
        Slot::View(1) => u128::from(k[w]),
        _ => wide(k),
    };
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
        DataType::Boolean => Arc::new(BooleanArray::new(keys.iter().map(|k| k[w] & 1 != 0).collect(), nulls)),
        DataType::Decimal128(..) => {
            let values: ScalarBuffer<i128> = keys.iter().map(|k| wide(k) as i128).collect();
            Arc::new(Decimal128Array::new(values, nulls).with_data_type(t.clone()))
        }
        DataType::Utf8View => {
            let views: ScalarBuffer<u128> = keys.iter().map(view).collect();
            Arc::new(StringViewArray::try_new(views, vec![], nulls)?)
        }
        DataType::BinaryView => {
            let views: ScalarBuffer<u128> = keys.iter().map(view).collect();
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

    /// Keys of short strings and small integers have no NULL word: NULL is
    /// a marker no value has, distinct from "" and 0.
    #[test]
    fn nulls_without_a_null_word_stay_apart_from_empty_and_zero() {
        let types = [DataType::Utf8View, DataType::Int32, DataType::Boolean];
        let mut gv = new_packed(&types).unwrap().unwrap();
        let s = strings(vec![Some(""), None, Some(""), None, Some("ab")]);
        let n: ArrayRef = Arc::new(arrow::array::Int32Array::from(vec![
            Some(0),
            Some(0),
            None,
            Some(-1),
            None,
        ]));
        let b: ArrayRef = Arc::new(BooleanArray::from(vec![
            Some(false),
            Some(false),
            None,
            Some(true),
            None,
        ]));
        let cols = [s, n, b];
        assert_eq!(intern(gv.as_mut(), &cols), vec![0, 1, 2, 3, 4]);
        assert_eq!(intern(gv.as_mut(), &cols), vec![0, 1, 2, 3, 4]);
        let keys = gv.emit().unwrap();
        for (k, c) in keys.iter().zip(&cols) {
            assert_eq!(k.as_ref(), c.as_ref());
        }
    }

    /// Strings start in one word; a longer one moves the groups to two
    /// words per string, keeping their indices and NULLs.
    #[test]
    fn a_string_over_four_bytes_widens_the_key() {
        let types = [DataType::Utf8View, DataType::Utf8View];
        let mut gv = new_packed(&types).unwrap().unwrap();
        let first = [
            strings(vec![Some("A"), None, Some("AIR")]),
            strings(vec![Some("F"), Some("O"), None]),
        ];
        assert_eq!(intern(gv.as_mut(), &first), vec![0, 1, 2]);
        let second = [
            strings(vec![Some("AIR"), Some("REG AIR"), Some("A"), None]),
            strings(vec![None, Some("O"), Some("F"), Some("O")]),
        ];
        assert_eq!(intern(gv.as_mut(), &second), vec![2, 3, 0, 1]);
        assert_eq!(gv.len(), 4);
        let keys = gv.emit().unwrap();
        fn col(k: &ArrayRef) -> Vec<Option<&str>> {
            k.as_string_view().iter().collect()
        }
        assert_eq!(col(&keys[0]), vec![Some("A"), None, Some("AIR"), Some("REG AIR")]);
        assert_eq!(col(&keys[1]), vec![Some("F"), Some("O"), None, Some("O")]);
    }

    #[test]
    fn wide_or_unsupported_keys_are_not_packed() {
        assert!(new_packed(&[DataType::Utf8]).is_none());
        assert!(new_packed(&vec![DataType::Decimal128(10, 0); 4]).is_none());
        assert!(new_packed(&vec![DataType::Int64; 7]).is_some());
    }
}
