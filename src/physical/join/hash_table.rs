//! The build side of a hash join.
//!
//! All build batches are concatenated into one batch so a match is a plain
//! row index. Keys of one or two integer (or date) columns, the common case
//! of joins on surrogate keys, are packed into one `u128` per row, hashed
//! and compared as a number; other keys are encoded in arrow's row format
//! (equal bytes iff equal keys). Either way each key is hashed once. The table maps each distinct key to the first row
//! holding it; `next[row]` links to the following row with the same key, so
//! matches are found by walking a chain with no allocation per key. Chains
//! list rows in ascending order. Rows with a NULL in any key column are left
//! out (they can never be equal to anything) unless `null_equals_null`.

use std::hash::BuildHasher;

use arrow::array::{Array, ArrayRef, AsArray, BooleanBufferBuilder};
use arrow::buffer::NullBuffer;
use arrow::compute::{cast, concat_batches};
use arrow::datatypes::{DataType, Int64Type, SchemaRef};
use arrow::record_batch::RecordBatch;
use arrow::row::{RowConverter, Rows, SortField};
use foldhash::fast::RandomState;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

use crate::error::{Error, Result};
use crate::internal_err;

/// End of a chain in `next`.
const END: u32 = u32::MAX;

/// Encoded join keys, one per row.
pub(super) enum EncodedKeys {
    /// One or two integer-like columns, each widened to i64, the first in
    /// the high half (see [`pack`]).
    Packed(Vec<u128>),
    /// Any other key types, in arrow's row format.
    Rows(Rows),
}

/// How keys are encoded: fixed by the build side's key types.
enum KeyEncoding {
    Packed(Vec<DataType>),
    Rows(RowConverter),
}

/// Whether a key column can be widened to i64 without loss.
fn packable(t: &DataType) -> bool {
    use DataType::*;
    matches!(t, Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | Date32)
}

/// Packs up to two integer-like key columns into one u128 per row. NULL
/// slots get arbitrary values; callers consult the key validity.
fn pack(cols: &[ArrayRef]) -> Result<Vec<u128>> {
    let wide = |c: &ArrayRef| -> Result<ArrayRef> {
        Ok(match c.data_type() {
            DataType::Int64 => ArrayRef::clone(c),
            DataType::Date32 => cast(&cast(c, &DataType::Int32)?, &DataType::Int64)?,
            _ => cast(c, &DataType::Int64)?,
        })
    };
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

/// The build side of a hash join: rows, encoded keys and key → rows.
pub struct JoinHashTable {
    batch: RecordBatch,
    /// `None` when there are no build rows (the key types are then unknown
    /// and nothing can match).
    encoding: Option<KeyEncoding>,
    keys: Option<EncodedKeys>,
    /// `(hash, first row)` per distinct key.
    map: HashTable<(u64, u32)>,
    /// The next row with the same key as row `i`, or `END`.
    next: Vec<u32>,
    hasher: RandomState,
    null_equals_null: bool,
    has_null_key: bool,
}

impl std::fmt::Debug for JoinHashTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinHashTable")
            .field("rows", &self.batch.num_rows())
            .field("distinct_keys", &self.map.len())
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
        let batch = concat_batches(&schema, &batches)?;
        let n = batch.num_rows();
        if n >= END as usize {
            return Err(Error::NotSupported(format!("hash join build side of {n} rows")));
        }
        let mut table = Self {
            batch,
            encoding: None,
            keys: None,
            map: HashTable::new(),
            next: vec![],
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
        let (encoding, keys) = if types.len() <= 2 && types.iter().all(packable) {
            let mut keys = Vec::with_capacity(n);
            for cols in &key_columns {
                keys.extend(pack(cols)?);
            }
            (KeyEncoding::Packed(types), EncodedKeys::Packed(keys))
        } else {
            let converter = RowConverter::new(types.into_iter().map(SortField::new).collect())?;
            let mut keys = converter.empty_rows(n, 0);
            for cols in &key_columns {
                converter.append(&mut keys, cols)?;
            }
            (KeyEncoding::Rows(converter), EncodedKeys::Rows(keys))
        };

        table.next = vec![END; n];
        table.map = HashTable::with_capacity(n);
        let skip = |i: usize| !null_equals_null && valid.as_ref().is_some_and(|v| v.is_null(i));
        let Self { map, next, hasher, .. } = &mut table;
        // Insert backwards so that every chain runs in ascending row order.
        match &keys {
            EncodedKeys::Packed(k) => {
                for i in (0..n).rev().filter(|&i| !skip(i)) {
                    let key = k[i];
                    insert(map, next, i, hasher.hash_one(key), |r| k[r as usize] == key);
                }
            }
            EncodedKeys::Rows(k) => {
                for i in (0..n).rev().filter(|&i| !skip(i)) {
                    let bytes = k.row(i).data();
                    insert(map, next, i, hasher.hash_one(bytes), |r| {
                        k.row(r as usize).data() == bytes
                    });
                }
            }
        }
        table.encoding = Some(encoding);
        table.keys = Some(keys);
        Ok(table)
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
            + match &self.keys {
                Some(EncodedKeys::Packed(k)) => k.capacity() * 16,
                Some(EncodedKeys::Rows(r)) => r.size(),
                None => 0,
            }
            + match &self.encoding {
                Some(KeyEncoding::Rows(c)) => c.size(),
                _ => 0,
            }
            + self.map.allocation_size()
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
                Ok(Some(EncodedKeys::Packed(pack(keys)?)))
            }
            Some(KeyEncoding::Rows(c)) => Ok(Some(EncodedKeys::Rows(c.convert_columns(keys)?))),
            None => Ok(None),
        }
    }

    /// The first build row whose key equals probe row `i` of `probe`
    /// (encoded by [`Self::encode`]).
    #[inline]
    pub(super) fn find(&self, probe: &EncodedKeys, i: usize) -> Option<u32> {
        let found = match (self.keys.as_ref()?, probe) {
            (EncodedKeys::Packed(keys), EncodedKeys::Packed(p)) => {
                let key = p[i];
                let hash = self.hasher.hash_one(key);
                self.map.find(hash, |&(h, r)| h == hash && keys[r as usize] == key)
            }
            (EncodedKeys::Rows(keys), EncodedKeys::Rows(p)) => {
                let key = p.row(i);
                let key = key.data();
                let hash = self.hasher.hash_one(key);
                self.map
                    .find(hash, |&(h, r)| h == hash && keys.row(r as usize).data() == key)
            }
            _ => None,
        };
        found.map(|&(_, r)| r)
    }

    /// The build rows of the chain starting at `first`, ascending.
    #[inline]
    pub(super) fn chain(&self, first: u32) -> impl Iterator<Item = u32> + '_ {
        std::iter::successors(Some(first), |&r| Some(self.next[r as usize]).filter(|&n| n != END))
    }
}

/// Makes row `i` the head of its key's chain.
#[inline]
fn insert(map: &mut HashTable<(u64, u32)>, next: &mut [u32], i: usize, hash: u64, eq: impl Fn(u32) -> bool) {
    match map.entry(hash, |&(h, r)| h == hash && eq(r), |&(h, _)| h) {
        Entry::Occupied(mut o) => {
            next[i] = o.get().1;
            o.get_mut().1 = i as u32;
        }
        Entry::Vacant(v) => {
            v.insert((hash, i as u32));
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
