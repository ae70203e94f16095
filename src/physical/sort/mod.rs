//! Sorting record batches: a full sort ([`sort_batches`]), a bounded top-k
//! ([`TopK`]) for `ORDER BY .. LIMIT k`, and sort-key encoding
//! ([`SortKeyEncoder`]) for a range partitioner.
//!
//! A single sort key is sorted with arrow's `sort_to_indices`; several keys
//! are first encoded in arrow's row format, where each row is a byte string
//! whose bytewise order is the requested order (directions and NULL
//! placement included), so comparing rows is a `memcmp`. The sorted row
//! positions are then gathered from the input batches with `interleave`,
//! one output batch of at most `batch_size` rows at a time, without first
//! concatenating the inputs.

use std::cmp::Ordering;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatchOptions};
use arrow::compute::{SortOptions, concat, interleave, sort_to_indices};
use arrow::datatypes::{DataType, SchemaRef};
use arrow::record_batch::RecordBatch;
use arrow::row::{RowConverter, Rows, SortField};

use crate::error::Result;
use crate::internal_err;

mod topk;
pub use self::topk::TopK;

/// How one sort key orders: direction and NULL placement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct SortKey {
    /// Arrow's `descending` / `nulls_first` flags.
    pub options: SortOptions,
}

impl SortKey {
    /// `ASC`/`DESC` and `NULLS FIRST`/`NULLS LAST`, as in a logical
    /// `SortExpr`.
    pub fn new(asc: bool, nulls_first: bool) -> Self {
        Self {
            options: SortOptions {
                descending: !asc,
                nulls_first,
            },
        }
    }
}

/// Encodes sort keys as byte strings that compare in sort order.
///
/// Rows encoded by the same encoder (or by encoders built from the same
/// types and options) compare with `Ord` (or on [`arrow::row::Row::data`])
/// exactly as the keys sort, which is what a range partitioner needs to
/// place keys between sampled bounds.
///
/// ```
/// use std::sync::Arc;
/// use arrow::array::{ArrayRef, Int64Array};
/// use arrow::compute::SortOptions;
/// use arrow::datatypes::DataType;
/// use flint::physical::sort::SortKeyEncoder;
///
/// let desc = SortOptions { descending: true, nulls_first: false };
/// let enc = SortKeyEncoder::new(&[DataType::Int64], &[desc]).unwrap();
/// let rows = enc.encode(&[Arc::new(Int64Array::from(vec![1, 5])) as ArrayRef]).unwrap();
/// assert!(rows.row(1) < rows.row(0)); // 5 sorts before 1 when descending
/// ```
#[derive(Debug)]
pub struct SortKeyEncoder {
    converter: RowConverter,
}

impl SortKeyEncoder {
    /// An encoder for keys of `types` ordered by `options` (one each).
    pub fn new(types: &[DataType], options: &[SortOptions]) -> Result<Self> {
        if types.len() != options.len() {
            internal_err!("{} sort key types but {} sort options", types.len(), options.len());
        }
        let fields = types
            .iter()
            .zip(options)
            .map(|(t, o)| SortField::new_with_options(t.clone(), *o))
            .collect();
        Ok(Self {
            converter: RowConverter::new(fields)?,
        })
    }

    /// Encodes evaluated key columns (of the encoder's types).
    pub fn encode(&self, columns: &[ArrayRef]) -> Result<Rows> {
        Ok(self.converter.convert_columns(columns)?)
    }

    /// Appends the encoding of `columns` to `rows` (made by this encoder).
    pub fn append(&self, rows: &mut Rows, columns: &[ArrayRef]) -> Result<()> {
        Ok(self.converter.append(rows, columns)?)
    }

    /// An empty set of rows to append to.
    pub fn empty_rows(&self) -> Rows {
        self.converter.empty_rows(0, 0)
    }

    /// The underlying converter (to decode rows back into columns).
    pub fn converter(&self) -> &RowConverter {
        &self.converter
    }
}

/// Encodes `columns` as sort-ordered rows under `options` (one per
/// column); see [`SortKeyEncoder`].
pub fn sort_key_rows(columns: &[ArrayRef], options: &[SortOptions]) -> Result<Rows> {
    let types: Vec<DataType> = columns.iter().map(|c| c.data_type().clone()).collect();
    SortKeyEncoder::new(&types, options)?.encode(columns)
}

/// Sorts all rows of `batches` by their evaluated sort keys (`keys[i]`
/// belongs to `batches[i]`, most significant key first, one option per key)
/// and returns them in batches of at most `batch_size` rows, keeping only
/// the first `fetch` rows when given. Rows with equal keys come out in no
/// particular order.
///
/// ```
/// use std::sync::Arc;
/// use arrow::array::{ArrayRef, AsArray, Int64Array};
/// use arrow::compute::SortOptions;
/// use arrow::datatypes::{DataType, Field, Int64Type, Schema};
/// use arrow::record_batch::RecordBatch;
/// use flint::physical::sort::sort_batches;
///
/// let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
/// let col: ArrayRef = Arc::new(Int64Array::from(vec![3, 1, 2]));
/// let batch = RecordBatch::try_new(schema, vec![col.clone()]).unwrap();
/// let out = sort_batches(&[batch], &[vec![col]], &[SortOptions::default()], Some(2), 1024).unwrap();
/// assert_eq!(out[0].column(0).as_primitive::<Int64Type>().values(), &[1, 2]);
/// ```
pub fn sort_batches(
    batches: &[RecordBatch],
    keys: &[Vec<ArrayRef>],
    options: &[SortOptions],
    fetch: Option<usize>,
    batch_size: usize,
) -> Result<Vec<RecordBatch>> {
    check_keys(batches, keys, options)?;
    let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let limit = fetch.unwrap_or(total).min(total);
    if limit == 0 {
        return Ok(vec![]);
    }
    let order: Vec<u32> = if let [opt] = options {
        let parts: Vec<&dyn Array> = keys.iter().map(|k| k[0].as_ref()).collect();
        let key = concat(&parts)?;
        sort_to_indices(&key, Some(*opt), Some(limit))?.values().to_vec()
    } else {
        let types: Vec<DataType> = keys[0].iter().map(|k| k.data_type().clone()).collect();
        let encoder = SortKeyEncoder::new(&types, options)?;
        let mut rows = encoder.empty_rows();
        for k in keys {
            encoder.append(&mut rows, k)?;
        }
        sorted_positions(&rows, limit)
    };
    gather(batches, &order, batch_size)
}

/// Validates that there is one key list per batch, one option per key and
/// one key row per batch row.
fn check_keys(batches: &[RecordBatch], keys: &[Vec<ArrayRef>], options: &[SortOptions]) -> Result<()> {
    if batches.len() != keys.len() {
        internal_err!("{} batches to sort but sort keys for {}", batches.len(), keys.len());
    }
    if options.is_empty() {
        internal_err!("a sort needs at least one key");
    }
    if let Some(first) = batches.first()
        && batches.iter().any(|b| b.num_columns() != first.num_columns())
    {
        internal_err!("batches to sort do not all have the same columns");
    }
    for (b, k) in batches.iter().zip(keys) {
        if k.len() != options.len() || k.iter().any(|c| c.len() != b.num_rows()) {
            internal_err!(
                "sort keys do not match their batch ({} keys, {} rows)",
                options.len(),
                b.num_rows()
            );
        }
    }
    Ok(())
}

/// The positions of the `limit` smallest rows, in order; ties in position
/// order (a stable sort).
///
/// Each row's first 16 bytes, zero-padded, are kept beside its position as
/// one big-endian `u128`, so most comparisons are one integer compare on
/// contiguous memory; only rows whose prefixes are equal compare their
/// whole encodings. Padding is safe because equal prefixes always fall
/// back to the full comparison.
pub(super) fn sorted_positions(rows: &Rows, limit: usize) -> Vec<u32> {
    let prefix = |i: usize| {
        let data = rows.row(i).data();
        let mut bytes = [0u8; 16];
        let n = data.len().min(16);
        bytes[..n].copy_from_slice(&data[..n]);
        u128::from_be_bytes(bytes)
    };
    let mut keyed: Vec<(u128, u32)> = (0..rows.num_rows()).map(|i| (prefix(i), i as u32)).collect();
    let cmp = |a: &(u128, u32), b: &(u128, u32)| -> Ordering {
        a.0.cmp(&b.0)
            .then_with(|| rows.row(a.1 as usize).cmp(&rows.row(b.1 as usize)))
            .then(a.1.cmp(&b.1))
    };
    if limit < keyed.len() {
        keyed.select_nth_unstable_by(limit, cmp);
        keyed.truncate(limit);
    }
    keyed.sort_unstable_by(cmp);
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// Gathers global row positions (over the concatenation of `batches`) into
/// output batches of at most `batch_size` rows.
pub(super) fn gather(batches: &[RecordBatch], order: &[u32], batch_size: usize) -> Result<Vec<RecordBatch>> {
    let Some(first) = batches.first() else {
        return Ok(vec![]);
    };
    let schema: SchemaRef = first.schema();
    // starts[b] is the global position of batch b's first row.
    let mut starts = Vec::with_capacity(batches.len());
    let mut acc = 0usize;
    for b in batches {
        starts.push(acc);
        acc += b.num_rows();
    }
    let locate = |g: usize| -> (usize, usize) {
        let b = starts.partition_point(|&s| s <= g) - 1;
        (b, g - starts[b])
    };
    let mut out = vec![];
    for chunk in order.chunks(batch_size.max(1)) {
        let pairs: Vec<(usize, usize)> = chunk.iter().map(|&g| locate(g as usize)).collect();
        let mut cols = Vec::with_capacity(schema.fields().len());
        for c in 0..schema.fields().len() {
            let parts: Vec<&dyn Array> = batches.iter().map(|b| b.column(c).as_ref()).collect();
            cols.push(interleave(&parts, &pairs)?);
        }
        let options = RecordBatchOptions::new().with_row_count(Some(chunk.len()));
        out.push(RecordBatch::try_new_with_options(Arc::clone(&schema), cols, &options)?);
    }
    Ok(out)
}

#[cfg(test)]
pub(super) mod tests {
    use arrow::array::{AsArray, Int64Array, StringViewArray};
    use arrow::datatypes::{Field, Int64Type, Schema};

    use super::*;

    pub(super) type Key = (Option<i64>, Option<String>);

    /// Three batches of (a Int64, b Utf8View, id Int64) with NULLs and
    /// duplicate keys; `id` is unique.
    pub(super) fn input(n: usize) -> (Vec<RecordBatch>, Vec<Vec<ArrayRef>>) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("b", DataType::Utf8View, true),
            Field::new("id", DataType::Int64, false),
        ]));
        let mut x: u64 = 42;
        let mut next = move || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) as i64
        };
        let (mut batches, mut keys) = (vec![], vec![]);
        for (part, len) in [n / 2, n / 3, n - n / 2 - n / 3].into_iter().enumerate() {
            let a: ArrayRef = Arc::new(Int64Array::from_iter(
                (0..len).map(|_| Some(next() % 5).filter(|v| *v != 0)),
            ));
            let b: ArrayRef = Arc::new(StringViewArray::from_iter(
                (0..len).map(|_| Some(format!("s{}", next() % 4)).filter(|s| s != "s3")),
            ));
            let start = (part * n) as i64;
            let id: ArrayRef = Arc::new(Int64Array::from_iter_values(start..start + len as i64));
            batches.push(RecordBatch::try_new(Arc::clone(&schema), vec![Arc::clone(&a), Arc::clone(&b), id]).unwrap());
            keys.push(vec![a, b]);
        }
        (batches, keys)
    }

    pub(super) fn keys_of(batches: &[RecordBatch]) -> Vec<Key> {
        let mut out = vec![];
        for b in batches {
            let (a, s) = (b.column(0).as_primitive::<Int64Type>(), b.column(1).as_string_view());
            out.extend(a.iter().zip(s.iter().map(|v| v.map(str::to_string))));
        }
        out
    }

    pub(super) fn ids_of(batches: &[RecordBatch]) -> Vec<i64> {
        batches
            .iter()
            .flat_map(|b| b.column(2).as_primitive::<Int64Type>().values().to_vec())
            .collect()
    }

    fn cmp_opt<T: Ord>(x: &Option<T>, y: &Option<T>, o: SortOptions) -> Ordering {
        match (x, y) {
            (None, None) => Ordering::Equal,
            (None, _) => {
                if o.nulls_first {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (_, None) => {
                if o.nulls_first {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (Some(x), Some(y)) => {
                if o.descending {
                    y.cmp(x)
                } else {
                    x.cmp(y)
                }
            }
        }
    }

    fn reference(keys: &[Vec<ArrayRef>], opts: &[SortOptions]) -> Vec<Key> {
        let mut all = keys_of(&input(0).0);
        for k in keys {
            let a = k[0].as_primitive::<Int64Type>();
            all.extend(
                a.iter()
                    .zip(k[1].as_string_view().iter().map(|v| v.map(str::to_string))),
            );
        }
        all.sort_by(|x, y| {
            let first = cmp_opt(&x.0, &y.0, opts[0]);
            if opts.len() == 1 {
                first
            } else {
                first.then(cmp_opt(&x.1, &y.1, opts[1]))
            }
        });
        all
    }

    pub(super) fn all_options() -> Vec<SortOptions> {
        [(false, false), (false, true), (true, false), (true, true)]
            .map(|(descending, nulls_first)| SortOptions {
                descending,
                nulls_first,
            })
            .to_vec()
    }

    #[test]
    fn multi_key_sort_matches_reference_for_every_option() {
        let (batches, keys) = input(200);
        for o1 in all_options() {
            for o2 in all_options() {
                let out = sort_batches(&batches, &keys, &[o1, o2], None, 64).unwrap();
                assert!(out.iter().all(|b| b.num_rows() <= 64));
                assert_eq!(keys_of(&out), reference(&keys, &[o1, o2]));
            }
        }
    }

    #[test]
    fn single_key_sort_and_fetch() {
        let (batches, keys) = input(100);
        let one: Vec<Vec<ArrayRef>> = keys.iter().map(|k| vec![Arc::clone(&k[0])]).collect();
        for o in all_options() {
            let full: Vec<Option<i64>> = reference(&keys, &[o]).into_iter().map(|k| k.0).collect();
            for fetch in [Some(0), Some(1), Some(7), Some(100), Some(1000), None] {
                let out = sort_batches(&batches, &one, &[o], fetch, 10).unwrap();
                let got: Vec<Option<i64>> = keys_of(&out).into_iter().map(|k| k.0).collect();
                assert_eq!(got, full[..fetch.unwrap_or(100).min(100)]);
            }
        }
        assert!(
            sort_batches(&[], &[], &[SortOptions::default()], None, 10)
                .unwrap()
                .is_empty()
        );
        assert!(sort_batches(&batches, &one, &[SortOptions::default(); 2], None, 10).is_err());
        assert!(sort_batches(&batches, &keys[..1], &[SortOptions::default(); 2], None, 10).is_err());
    }

    #[test]
    fn encoder_orders_rows_like_the_sort() {
        let col: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None, Some(3)]));
        let desc_nulls_first = SortOptions {
            descending: true,
            nulls_first: true,
        };
        let rows = sort_key_rows(std::slice::from_ref(&col), &[desc_nulls_first]).unwrap();
        assert!(rows.row(1) < rows.row(2) && rows.row(2) < rows.row(0));
        let key = SortKey::new(true, false);
        let enc = SortKeyEncoder::new(&[DataType::Int64], &[key.options]).unwrap();
        let rows = enc.encode(&[col]).unwrap();
        assert!(rows.row(0) < rows.row(2) && rows.row(2) < rows.row(1));
        let strings: ArrayRef = Arc::new(StringViewArray::from(vec!["x"]));
        assert!(enc.encode(&[strings]).is_err());
        assert!(SortKeyEncoder::new(&[DataType::Int64], &[]).is_err());
    }

    #[test]
    fn prefix_sort_equals_full_row_comparison() {
        // Keys sharing their first 16 encoded bytes, keys shorter than 16
        // bytes and keys that are prefixes of others.
        let long = "k".repeat(20);
        let strings: Vec<Option<String>> = vec![
            Some(format!("{long}b")),
            Some(format!("{long}a")),
            Some(String::new()),
            None,
            Some("k".into()),
            Some(long.clone()),
            Some(format!("{long}a")),
            Some("k".repeat(16)),
            Some("kk\0".into()),
        ];
        let n = strings.len();
        let s: ArrayRef = Arc::new(StringViewArray::from_iter(strings));
        let x: ArrayRef = Arc::new(Int64Array::from_iter_values((0..n as i64).map(|i| i % 2)));
        for o in all_options() {
            let rows = sort_key_rows(&[Arc::clone(&s), Arc::clone(&x)], &[o, o]).unwrap();
            let mut expected: Vec<u32> = (0..n as u32).collect();
            expected.sort_by(|a, b| rows.row(*a as usize).cmp(&rows.row(*b as usize)).then(a.cmp(b)));
            for limit in [n, 4, 1] {
                assert_eq!(sorted_positions(&rows, limit), expected[..limit], "{o:?} limit {limit}");
            }
        }
    }
}
