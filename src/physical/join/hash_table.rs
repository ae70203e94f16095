//! The build side of a hash join.
//!
//! All build batches are concatenated into one batch so a match is a plain
//! row index. Keys of one or two integer (or date) columns, the common case
//! of joins on surrogate keys, are packed into a `u64` or `u128` per row and
//! kept *in* the hash table's entries, so a probe compares numbers without
//! touching another array; other keys are encoded in arrow's row format
//! (equal bytes iff equal keys) and the entries hold their hash. Either way
//! each key is hashed once. A single integer key whose values span few
//! more slots than there are rows (a surrogate key) is not hashed at all:
//! an array indexed by `key - min` holds each key's first row. The table
//! maps each distinct key to the first row holding it; `next[row]` links
//! to the following row with the same key, so matches are found by walking
//! a chain with no allocation per key.
//! Chains list rows in ascending order. Rows with a NULL in any key column
//! are left out (they can never be equal to anything) unless
//! `null_equals_null`. A large build side of packed keys is split by hash
//! into [`PARTS`] tables built at once on the task pool.

use std::hash::BuildHasher;

use arrow::array::{Array, ArrayRef, AsArray, BooleanBufferBuilder};
use arrow::buffer::{NullBuffer, ScalarBuffer};
use arrow::compute::{cast, concat_batches};
use arrow::datatypes::{DataType, Int64Type, SchemaRef};
use arrow::record_batch::RecordBatch;
use arrow::row::{RowConverter, Rows, SortField};
use foldhash::fast::RandomState;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::internal_err;
use crate::physical::compact::compact_views;

/// End of a chain in `next`.
pub(super) const END: u32 = u32::MAX;

/// Encoded join keys, one per row.
pub(super) enum EncodedKeys {
    /// One integer-like column widened to i64 (an `Int64` column's own
    /// values, not copied).
    One(ScalarBuffer<i64>),
    /// Two integer-like columns, each widened to i64, the first in the
    /// high half (see [`pack`]).
    Two(Vec<u128>),
    /// Any other key types, in arrow's row format.
    Rows(Rows),
}

/// How keys are encoded: fixed by the build side's key types.
enum KeyEncoding {
    Packed(Vec<DataType>),
    Rows(RowConverter),
}

/// Whether a key column can be widened to i64 without loss.
pub(super) fn packable(t: &DataType) -> bool {
    use DataType::*;
    matches!(t, Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | Date32)
}

/// Packs up to two integer-like key columns into one u128 per row. NULL
/// slots get arbitrary values; callers consult the key validity.
pub(super) fn pack(cols: &[ArrayRef]) -> Result<Vec<u128>> {
    match cols {
        [a] => {
            let a = wide(a)?;
            Ok(a.as_primitive::<Int64Type>()
                .values()
                .iter()
                .map(|&v| v as u64 as u128)
                .collect())
        }
        [a, b] => {
            let (a, b) = (wide(a)?, wide(b)?);
            let (a, b) = (
                a.as_primitive::<Int64Type>().values(),
                b.as_primitive::<Int64Type>().values(),
            );
            Ok(a.iter()
                .zip(b.iter())
                .map(|(&x, &y)| ((x as u64 as u128) << 64) | y as u64 as u128)
                .collect())
        }
        _ => internal_err!("packed join keys have one or two columns, got {}", cols.len()),
    }
}

/// An integer-like column as i64.
pub(super) fn wide(c: &ArrayRef) -> Result<ArrayRef> {
    Ok(match c.data_type() {
        DataType::Int64 => ArrayRef::clone(c),
        DataType::Date32 => cast(&cast(c, &DataType::Int32)?, &DataType::Int64)?,
        _ => cast(c, &DataType::Int64)?,
    })
}

/// A dense key range may take up to this many slots per build row ...
const DENSE_SLOTS_PER_ROW: u64 = 4;
/// ... or this many in all, whatever the rows (a table that stays in cache).
const DENSE_MAX_SMALL_SLOTS: u64 = 1 << 16;

/// Distinct key → first build row holding it.
enum KeyIndex {
    /// One packed key column whose values span a range not much wider than
    /// the build side (surrogate keys): `first[key - min]` is the first row
    /// with that key, so a probe is one array read and no hash, and probes
    /// in key order (a fact table clustered by its foreign key) read the
    /// array in order.
    Dense { min: i64, first: Vec<u32>, distinct: usize },
    /// One packed key column, the key itself in the entry, and the set of
    /// keys as bits when their range is small enough (see [`KeyBits`]).
    One(Parts<u64>, Option<KeyBits>),
    /// Two packed key columns, the key itself in the entry.
    Two(Parts<u128>),
    /// Row-format keys: `(hash, first row)`, the key being `rows.row(first)`.
    Rows(HashTable<(u64, u32)>, Rows),
}

impl KeyIndex {
    fn len(&self) -> usize {
        match self {
            KeyIndex::Dense { distinct, .. } => *distinct,
            KeyIndex::One(m, _) => m.len(),
            KeyIndex::Two(m) => m.len(),
            KeyIndex::Rows(m, _) => m.len(),
        }
    }

    fn size(&self) -> usize {
        match self {
            KeyIndex::Dense { first, .. } => first.capacity() * 4,
            KeyIndex::One(m, bits) => m.allocation_size() + bits.as_ref().map_or(0, KeyBits::size),
            KeyIndex::Two(m) => m.allocation_size(),
            KeyIndex::Rows(m, rows) => m.allocation_size() + rows.size(),
        }
    }
}

/// The build side of a hash join: rows, and key → rows.
pub struct JoinHashTable {
    batch: RecordBatch,
    /// `None` when there are no build rows (the key types are then unknown
    /// and nothing can match).
    encoding: Option<KeyEncoding>,
    index: Option<KeyIndex>,
    /// The next row with the same key as row `i`, or `END`.
    next: Vec<u32>,
    /// Whether some key has more than one row (else `next` is all `END`
    /// and a probe never reads it: one random access less per match).
    has_duplicates: bool,
    hasher: RandomState,
    null_equals_null: bool,
    has_null_key: bool,
}

impl std::fmt::Debug for JoinHashTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinHashTable")
            .field("rows", &self.batch.num_rows())
            .field("distinct_keys", &self.index.as_ref().map_or(0, KeyIndex::len))
            .field("null_equals_null", &self.null_equals_null)
            .field("has_null_key", &self.has_null_key)
            .finish()
    }
}

impl JoinHashTable {
    /// Builds the table from the build side's `batches` (all of `schema`)
    /// and their evaluated join keys (`key_columns[i]` belongs to
    /// `batches[i]`; the same key types in every batch).
    pub fn build(
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
        key_columns: Vec<Vec<ArrayRef>>,
        null_equals_null: bool,
    ) -> Result<Self> {
        if batches.len() != key_columns.len() {
            internal_err!("{} build batches but keys for {}", batches.len(), key_columns.len());
        }
        if let Some(b) = batches.iter().find(|b| b.num_columns() != schema.fields().len()) {
            internal_err!(
                "a build batch has {} columns, its schema {}",
                b.num_columns(),
                schema.fields().len()
            );
        }
        // The table is kept for the whole probe: its strings are copied
        // out of the (possibly much larger) batches they came from.
        let batch = compact_views(concat_batches(&schema, &batches)?)?;
        let n = batch.num_rows();
        if n >= END as usize {
            return Err(Error::NotSupported(format!("hash join build side of {n} rows")));
        }
        let mut table = Self {
            batch,
            encoding: None,
            index: None,
            next: vec![],
            has_duplicates: false,
            hasher: RandomState::default(),
            null_equals_null,
            has_null_key: false,
        };
        let Some(first) = key_columns.first() else {
            return Ok(table);
        };
        if first.is_empty() {
            internal_err!("a hash join needs at least one key column");
        }
        let types: Vec<DataType> = first.iter().map(|k| k.data_type().clone()).collect();
        let mut valid = Vec::with_capacity(batches.len());
        for (b, cols) in batches.iter().zip(&key_columns) {
            if cols.iter().any(|c| c.len() != b.num_rows()) {
                internal_err!("build keys do not have {} rows", b.num_rows());
            }
            if cols.iter().map(|c| c.data_type()).ne(types.iter()) {
                internal_err!("build key types differ between batches");
            }
            valid.push((key_validity(cols), b.num_rows()));
        }
        let valid = concat_validity(&valid, n);
        table.has_null_key = valid.as_ref().is_some_and(|v| v.null_count() > 0);
        let skip = |i: usize| !null_equals_null && valid.as_ref().is_some_and(|v| v.is_null(i));
        let hasher = &table.hasher;
        table.next = vec![END; n];
        let next = &mut table.next;
        // Rows go in backwards so that every chain runs in ascending order.
        // A packed NULL is whatever its slot holds, so it would equal that
        // value: keys where NULL must equal NULL (and nothing else) take
        // the row format, which encodes NULL apart.
        let (encoding, index) = if types.len() <= 2 && types.iter().all(packable) && !null_equals_null {
            let mut keys = Vec::with_capacity(n);
            for cols in &key_columns {
                keys.extend(pack(cols)?);
            }
            let dense = if types.len() == 1 {
                dense_index(&keys, &skip, next)
            } else {
                None
            };
            let index = if let Some(dense) = dense {
                dense
            } else if types.len() == 1 {
                let map = Parts::build(n, &skip, next, hasher, |i| keys[i] as u64);
                KeyIndex::One(map, KeyBits::new(&keys, &skip))
            } else {
                KeyIndex::Two(Parts::build(n, &skip, next, hasher, |i| keys[i]))
            };
            (KeyEncoding::Packed(types), index)
        } else {
            let converter = RowConverter::new(types.into_iter().map(SortField::new).collect())?;
            let mut rows = converter.empty_rows(n, 0);
            for cols in &key_columns {
                converter.append(&mut rows, cols)?;
            }
            let mut map: HashTable<(u64, u32)> = HashTable::with_capacity(n);
            for i in (0..n).rev().filter(|&i| !skip(i)) {
                let bytes = rows.row(i).data();
                let hash = hasher.hash_one(bytes);
                let entry = map.entry(
                    hash,
                    |&(h, r)| h == hash && rows.row(r as usize).data() == bytes,
                    |&(h, _)| h,
                );
                push_row(entry, next, i, hash);
            }
            (KeyEncoding::Rows(converter), KeyIndex::Rows(map, rows))
        };
        table.has_duplicates = index.len() < (0..n).filter(|&i| !skip(i)).count();
        table.encoding = Some(encoding);
        table.index = Some(index);
        Ok(table)
    }

    /// Whether keys are looked up by offset ([`KeyIndex::Dense`]).
    #[cfg(test)]
    pub(super) fn is_dense(&self) -> bool {
        matches!(self.index, Some(KeyIndex::Dense { .. }))
    }

    /// Whether single keys are tested against a [`KeyBits`] first.
    #[cfg(test)]
    pub(super) fn has_key_bits(&self) -> bool {
        matches!(self.index, Some(KeyIndex::One(_, Some(_))))
    }

    /// Whether packed keys are split into [`PARTS`] tables.
    #[cfg(test)]
    pub(super) fn is_split(&self) -> bool {
        match &self.index {
            Some(KeyIndex::One(p, _)) => p.mask > 0,
            Some(KeyIndex::Two(p)) => p.mask > 0,
            _ => false,
        }
    }

    /// The concatenated build rows.
    pub fn batch(&self) -> &RecordBatch {
        &self.batch
    }

    /// The number of build rows.
    pub fn num_rows(&self) -> usize {
        self.batch.num_rows()
    }

    /// True when some build row has a NULL in a key column (what makes
    /// `x NOT IN (build)` false or unknown for every `x`).
    pub fn has_null_key(&self) -> bool {
        self.has_null_key
    }

    /// True when NULL keys match each other.
    pub fn null_equals_null(&self) -> bool {
        self.null_equals_null
    }

    /// Approximate bytes held, for reserving from the memory pool.
    pub fn memory_size(&self) -> usize {
        self.batch.get_array_memory_size()
            + self.index.as_ref().map_or(0, KeyIndex::size)
            + match &self.encoding {
                Some(KeyEncoding::Rows(c)) => c.size(),
                _ => 0,
            }
            + self.next.capacity() * 4
    }

    /// Encodes probe keys with the build side's encoding; `None` when the
    /// table is empty. Fails when the key types differ from the build keys.
    pub(super) fn encode(&self, keys: &[ArrayRef]) -> Result<Option<EncodedKeys>> {
        match &self.encoding {
            Some(KeyEncoding::Packed(types)) => {
                if keys.iter().map(|k| k.data_type()).ne(types.iter()) {
                    internal_err!("probe key types differ from the build key types {types:?}");
                }
                Ok(Some(match keys {
                    [one] => EncodedKeys::One(wide(one)?.as_primitive::<Int64Type>().values().clone()),
                    _ => EncodedKeys::Two(pack(keys)?),
                }))
            }
            Some(KeyEncoding::Rows(c)) => Ok(Some(EncodedKeys::Rows(c.convert_columns(keys)?))),
            None => Ok(None),
        }
    }

    /// The first build row whose key equals each probe row of `probe`
    /// (encoded by [`Self::encode`]) into `out`, [`END`] where there is
    /// none; one loop per key encoding. Rows whose key is NULL get
    /// arbitrary answers.
    pub(super) fn find_all(&self, probe: &EncodedKeys, out: &mut Vec<u32>) -> Result<()> {
        out.clear();
        let hasher = &self.hasher;
        match (self.index.as_ref(), probe) {
            (Some(KeyIndex::Dense { min, first, .. }), EncodedKeys::One(p)) => {
                let len = first.len() as u64;
                out.extend(p.iter().map(|&k| {
                    let slot = k.wrapping_sub(*min) as u64;
                    if slot < len { first[slot as usize] } else { END }
                }))
            }
            (Some(KeyIndex::One(map, None)), EncodedKeys::One(p)) => {
                out.extend(p.iter().map(|&k| map.find(hasher.hash_one(k as u64), k as u64)))
            }
            (Some(KeyIndex::One(map, Some(bits))), EncodedKeys::One(p)) => out.extend(p.iter().map(|&k| {
                let key = k as u64;
                if !bits.contains(key) {
                    return END;
                }
                map.find(hasher.hash_one(key), key)
            })),
            (Some(KeyIndex::Two(map)), EncodedKeys::Two(p)) => {
                out.extend(p.iter().map(|&key| map.find(hasher.hash_one(key), key)))
            }
            (Some(KeyIndex::Rows(map, rows)), EncodedKeys::Rows(p)) => out.extend(p.iter().map(|key| {
                let key = key.data();
                let hash = hasher.hash_one(key);
                map.find(hash, |&(h, r)| h == hash && rows.row(r as usize).data() == key)
                    .map_or(END, |e| e.1)
            })),
            (None, EncodedKeys::One(p)) => out.resize(p.len(), END),
            (None, EncodedKeys::Two(p)) => out.resize(p.len(), END),
            (None, EncodedKeys::Rows(p)) => out.resize(p.num_rows(), END),
            (Some(_), _) => internal_err!("probe keys are not encoded as the build keys"),
        }
        Ok(())
    }

    /// The build rows of the chain starting at `first`, ascending.
    #[inline]
    pub(super) fn chain(&self, first: u32) -> impl Iterator<Item = u32> + '_ {
        let step = move |&r: &u32| {
            if !self.has_duplicates {
                return None;
            }
            Some(self.next[r as usize]).filter(|&n| n != END)
        };
        std::iter::successors(Some(first), step)
    }
}

/// The smallest and largest key of the rows `skip` leaves in.
fn key_range(keys: &[u128], skip: &impl Fn(usize) -> bool) -> Option<(i64, i64)> {
    value_range((0..keys.len()).filter(|&i| !skip(i)).map(|i| keys[i] as u64 as i64))
}

/// The smallest and largest of `values`; `None` when there are none.
pub(super) fn value_range(values: impl Iterator<Item = i64>) -> Option<(i64, i64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((v.min(lo), v.max(hi))),
    })
}

/// A key range gets a [`KeyBits`] when it has at most this many values
/// per build row (the bits then take at most 8 bytes per row, less than
/// the hash table's entry) ...
const KEY_BITS_PER_ROW: u64 = 64;
/// ... or at most this many values, whatever the rows (512 KiB).
const KEY_BITS_MAX_SMALL: u64 = 1 << 22;

/// The build keys of one integer column as one bit per value of their
/// range. A table too sparse for [`KeyIndex::Dense`] (the 10K `part`
/// rows a `LIKE` keeps, of 200K keys; a year of `orders`) answers most
/// probes "no match" from a bit in cache, without hashing the key or
/// reading the table.
pub(super) struct KeyBits {
    min: i64,
    /// Bits in the range.
    len: u64,
    words: Vec<u64>,
}

impl std::fmt::Debug for KeyBits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyBits")
            .field("min", &self.min)
            .field("len", &self.len)
            .finish()
    }
}

impl KeyBits {
    /// The bits of the build keys `keys` (packed) but the rows `skip`
    /// leaves out; `None` when their range is too wide.
    fn new(keys: &[u128], skip: &impl Fn(usize) -> bool) -> Option<Self> {
        let (min, max) = key_range(keys, skip)?;
        let rows = (0..keys.len()).filter(|&i| !skip(i)).count() as u64;
        let values = (0..keys.len()).filter(|&i| !skip(i)).map(|i| keys[i] as u64 as i64);
        Self::from_values(min, max, rows, values, KEY_BITS_MAX_SMALL)
    }

    /// The bits of `rows` key values, all within `min..=max`; `None` when
    /// the range has more than [`KEY_BITS_PER_ROW`] values per row and
    /// more than `max_small` in all.
    pub(super) fn from_values(
        min: i64,
        max: i64,
        rows: u64,
        values: impl Iterator<Item = i64>,
        max_small: u64,
    ) -> Option<Self> {
        let len = u64::try_from(max as i128 - min as i128 + 1).ok()?;
        if len > rows.saturating_mul(KEY_BITS_PER_ROW).max(max_small) {
            return None;
        }
        let mut words = vec![0u64; len.div_ceil(64) as usize];
        for v in values {
            let bit = v.wrapping_sub(min) as u64;
            words[(bit / 64) as usize] |= 1 << (bit % 64);
        }
        Some(Self { min, len, words })
    }

    /// Whether `key` (an i64 as u64) is one of the keys.
    #[inline(always)]
    pub(super) fn contains(&self, key: u64) -> bool {
        let bit = (key as i64).wrapping_sub(self.min) as u64;
        bit < self.len && self.words[(bit / 64) as usize] & (1 << (bit % 64)) != 0
    }

    /// Number of distinct keys.
    #[cfg(test)]
    pub(super) fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Bytes held.
    pub(super) fn size(&self) -> usize {
        self.words.len() * 8
    }
}

/// A [`KeyIndex::Dense`] over one packed key column when its values span
/// few enough slots (see [`DENSE_SLOTS_PER_ROW`]), linking duplicates
/// through `next`; `None` otherwise. `skip(i)` leaves row `i` out.
fn dense_index(keys: &[u128], skip: &impl Fn(usize) -> bool, next: &mut [u32]) -> Option<KeyIndex> {
    let value = |i: usize| keys[i] as u64 as i64;
    let (min, max) = key_range(keys, skip)?;
    let span = (max as i128 - min as i128 + 1) as u128;
    let limit = (keys.len() as u64)
        .saturating_mul(DENSE_SLOTS_PER_ROW)
        .max(DENSE_MAX_SMALL_SLOTS);
    if span > u128::from(limit) {
        return None;
    }
    let mut first = vec![END; span as usize];
    let mut distinct = 0;
    // Backwards, so that every chain runs in ascending order.
    for i in (0..keys.len()).rev().filter(|&i| !skip(i)) {
        let slot = &mut first[(value(i) - min) as usize];
        if *slot == END {
            distinct += 1;
        }
        next[i] = *slot;
        *slot = i as u32;
    }
    Some(KeyIndex::Dense { min, first, distinct })
}

/// Build sides of at least this many rows are split into [`PARTS`] tables
/// built at once; below it, one table built in place is faster than the
/// split (SF1 q05 and q09 build 150K to 320K rows, SF10 ten times that).
const PARALLEL_BUILD_ROWS: usize = 1 << 16;
/// Tables of a split build. A row's table is picked by hash bits 40 and
/// up, which hashbrown uses neither for the bucket (the low bits) nor for
/// the tag (the top 7).
const PARTS: usize = 4;
const PART_SHIFT: u32 = 40;

/// Packed keys `K` to their first row, in one hash table or [`PARTS`].
pub(super) struct Parts<K> {
    tables: Vec<HashTable<(K, u32)>>,
    /// `PARTS - 1` when split, else 0.
    mask: usize,
}

impl<K: Copy + Eq + Send + Sync> Parts<K> {
    /// Indexes rows `0..n` but those `skip` leaves out, linking rows of one
    /// key through `next`; keys and hashes come from `key` and `hasher`.
    fn build(
        n: usize,
        skip: &(impl Fn(usize) -> bool + Sync),
        next: &mut [u32],
        hasher: &RandomState,
        key: impl Fn(usize) -> K + Sync,
    ) -> Self
    where
        K: std::hash::Hash,
    {
        if n < PARALLEL_BUILD_ROWS {
            let mut map = HashTable::with_capacity(n);
            for i in (0..n).rev().filter(|&i| !skip(i)) {
                let k = key(i);
                insert(&mut map, next, i, k, hasher.hash_one(k), |h| hasher.hash_one(h));
            }
            return Self {
                tables: vec![map],
                mask: 0,
            };
        }
        // Each part reads every key and keeps its own; the links of rows
        // that repeat a key are written into `next` afterwards.
        let built: Vec<(HashTable<(K, u32)>, Vec<(u32, u32)>)> = (0..PARTS)
            .into_par_iter()
            .map(|part| {
                let mut map = HashTable::with_capacity(n / PARTS + n / (4 * PARTS));
                let mut links = Vec::new();
                for i in (0..n).rev().filter(|&i| !skip(i)) {
                    let k = key(i);
                    let hash = hasher.hash_one(k);
                    if (hash >> PART_SHIFT) as usize & (PARTS - 1) != part {
                        continue;
                    }
                    match map.entry(hash, |&(x, _)| x == k, |&(x, _)| hasher.hash_one(x)) {
                        Entry::Occupied(mut o) => {
                            links.push((i as u32, o.get().1));
                            o.get_mut().1 = i as u32;
                        }
                        Entry::Vacant(v) => {
                            v.insert((k, i as u32));
                        }
                    }
                }
                (map, links)
            })
            .collect();
        let mut tables = Vec::with_capacity(PARTS);
        for (map, links) in built {
            for (row, following) in links {
                next[row as usize] = following;
            }
            tables.push(map);
        }
        Self {
            tables,
            mask: PARTS - 1,
        }
    }

    /// The first row whose key is `key` (hashed to `hash`), or [`END`].
    #[inline(always)]
    fn find(&self, hash: u64, key: K) -> u32 {
        self.tables[(hash >> PART_SHIFT) as usize & self.mask]
            .find(hash, |&(k, _)| k == key)
            .map_or(END, |e| e.1)
    }

    fn len(&self) -> usize {
        self.tables.iter().map(HashTable::len).sum()
    }

    fn allocation_size(&self) -> usize {
        self.tables.iter().map(HashTable::allocation_size).sum()
    }
}

/// Makes row `i` the head of the chain of `key` (a packed key).
#[inline]
fn insert<K: Copy + Eq>(
    map: &mut HashTable<(K, u32)>,
    next: &mut [u32],
    i: usize,
    key: K,
    hash: u64,
    rehash: impl Fn(K) -> u64,
) {
    let entry = map.entry(hash, |&(k, _)| k == key, |&(k, _)| rehash(k));
    push_row(entry, next, i, key);
}

/// Makes row `i` the head of its key's chain, given the key's entry;
/// `value` is what a new entry keeps beside the row (the key or its hash).
#[inline]
fn push_row<V>(entry: Entry<'_, (V, u32)>, next: &mut [u32], i: usize, value: V) {
    match entry {
        Entry::Occupied(mut o) => {
            next[i] = o.get().1;
            o.get_mut().1 = i as u32;
        }
        Entry::Vacant(v) => {
            v.insert((value, i as u32));
        }
    }
}

/// Rows where no key column is NULL (`None`: all of them).
pub(super) fn key_validity(cols: &[ArrayRef]) -> Option<NullBuffer> {
    cols.iter()
        .map(|c| c.logical_nulls())
        .fold(None, |acc, n| NullBuffer::union(acc.as_ref(), n.as_ref()))
}

/// One validity over the concatenated batches (`None`: all valid).
fn concat_validity(parts: &[(Option<NullBuffer>, usize)], n: usize) -> Option<NullBuffer> {
    if parts.iter().all(|(p, _)| p.is_none()) {
        return None;
    }
    let mut builder = BooleanBufferBuilder::new(n);
    for (p, len) in parts {
        match p {
            Some(v) => builder.append_buffer(v.inner()),
            None => builder.append_n(*len, true),
        }
    }
    Some(NullBuffer::new(builder.finish()))
}
