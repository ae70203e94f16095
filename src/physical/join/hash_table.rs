//! The build side of a hash join.
//!
//! All build batches are concatenated into one batch so a match is a plain
//! row index. Keys are encoded in arrow's row format (equal bytes iff equal
//! keys) and hashed once. The table maps each distinct key to the first row
//! holding it; `next[row]` links to the following row with the same key, so
//! matches are found by walking a chain with no allocation per key. Chains
//! list rows in ascending order. Rows with a NULL in any key column are left
//! out (they can never be equal to anything) unless `null_equals_null`.

use std::hash::BuildHasher;

use arrow::array::{Array, ArrayRef, BooleanBufferBuilder};
use arrow::buffer::NullBuffer;
use arrow::compute::concat_batches;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use arrow::row::{RowConverter, Rows, SortField};
use foldhash::fast::RandomState;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

use crate::error::{Error, Result};
use crate::internal_err;

/// End of a chain in `next`.
const END: u32 = u32::MAX;

/// The build side of a hash join: rows, encoded keys and key → rows.
pub struct JoinHashTable {
    batch: RecordBatch,
    /// `None` when there are no build rows (the key types are then unknown
    /// and nothing can match).
    converter: Option<RowConverter>,
    keys: Option<Rows>,
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
            converter: None,
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
        let converter = RowConverter::new(first.iter().map(|k| SortField::new(k.data_type().clone())).collect())?;
        let mut keys = converter.empty_rows(n, 0);
        let mut valid = Vec::with_capacity(batches.len());
        for (b, cols) in batches.iter().zip(&key_columns) {
            if cols.iter().any(|c| c.len() != b.num_rows()) {
                internal_err!("build keys do not have {} rows", b.num_rows());
            }
            converter.append(&mut keys, cols)?;
            valid.push((key_validity(cols), b.num_rows()));
        }
        let valid = concat_validity(&valid, n);
        table.has_null_key = valid.as_ref().is_some_and(|v| v.null_count() > 0);

        table.next = vec![END; n];
        table.map = HashTable::with_capacity(n);
        let Self { map, next, hasher, .. } = &mut table;
        // Insert backwards so that every chain runs in ascending row order.
        for i in (0..n).rev() {
            if !null_equals_null && valid.as_ref().is_some_and(|v| v.is_null(i)) {
                continue;
            }
            let bytes = keys.row(i).data();
            let hash = hasher.hash_one(bytes);
            let row = i as u32;
            match map.entry(
                hash,
                |&(h, r)| h == hash && keys.row(r as usize).data() == bytes,
                |&(h, _)| h,
            ) {
                Entry::Occupied(mut o) => {
                    next[i] = o.get().1;
                    o.get_mut().1 = row;
                }
                Entry::Vacant(v) => {
                    v.insert((hash, row));
                }
            }
        }
        table.converter = Some(converter);
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
            + self.keys.as_ref().map_or(0, Rows::size)
            + self.converter.as_ref().map_or(0, RowConverter::size)
            + self.map.allocation_size()
            + self.next.capacity() * 4
    }

    /// Encodes probe keys with the build side's encoding; `None` when the
    /// table is empty. Fails when the key types differ from the build keys.
    pub(super) fn encode(&self, keys: &[ArrayRef]) -> Result<Option<Rows>> {
        match &self.converter {
            Some(c) => Ok(Some(c.convert_columns(keys)?)),
            None => Ok(None),
        }
    }

    /// The first build row whose key is `key` (encoded by [`Self::encode`]).
    #[inline]
    pub(super) fn find(&self, key: &[u8]) -> Option<u32> {
        let keys = self.keys.as_ref()?;
        let hash = self.hasher.hash_one(key);
        self.map
            .find(hash, |&(h, r)| h == hash && keys.row(r as usize).data() == key)
            .map(|&(_, r)| r)
    }

    /// The build rows of the chain starting at `first`, ascending.
    #[inline]
    pub(super) fn chain(&self, first: u32) -> impl Iterator<Item = u32> + '_ {
        std::iter::successors(Some(first), |&r| Some(self.next[r as usize]).filter(|&n| n != END))
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
