//! Sorting 1M rows (int64, int64, string) into new batches: by the int64
//! key alone (Flint sorts a single key column with arrow's
//! `sort_to_indices`), and by the int64 key then the string (Flint encodes
//! both in arrow's row format and sorts the rows). The hand loops sort
//! `(key, row)` or `(key, &str, row)` tuples with `sort_unstable` and gather
//! the three columns.

use std::hint::black_box;
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Int64Array, RecordBatch, StringArray};
use arrow::compute::SortOptions;
use arrow::datatypes::Int64Type;
use criterion::{Criterion, Throughput};
use flint::physical::sort::sort_batches;

use crate::data::{self, BATCH};

const ROWS: usize = 1_000_000;
/// Few enough distinct keys that the string key decides many ties.
const KEYS: u64 = 100_000;

fn flint(batches: &[RecordBatch], key_columns: usize) -> Vec<RecordBatch> {
    let keys: Vec<Vec<ArrayRef>> = batches
        .iter()
        .map(|b| [0, 2][..key_columns].iter().map(|&i| b.column(i).clone()).collect())
        .collect();
    let options = vec![SortOptions::default(); key_columns];
    sort_batches(batches, &keys, &options, None, BATCH).expect("sort")
}

/// The sorted `(k, s)` pairs of the output (for checking).
fn pairs(batches: &[RecordBatch]) -> Vec<(i64, String)> {
    batches
        .iter()
        .flat_map(|b| {
            let k = b.column(0).as_primitive::<Int64Type>();
            let s = b.column(2).as_string::<i32>();
            (0..b.num_rows()).map(move |i| (k.value(i), s.value(i).to_string()))
        })
        .collect()
}

/// Gathers the rows in `order` ((batch, row) positions) into batches.
fn gather(batches: &[RecordBatch], order: &[(u32, u32)]) -> Vec<RecordBatch> {
    let schema = batches[0].schema();
    let ks: Vec<&[i64]> = batches
        .iter()
        .map(|b| b.column(0).as_primitive::<Int64Type>().values().as_ref())
        .collect();
    let vs: Vec<&[i64]> = batches
        .iter()
        .map(|b| b.column(1).as_primitive::<Int64Type>().values().as_ref())
        .collect();
    let ss: Vec<&StringArray> = batches.iter().map(|b| b.column(2).as_string::<i32>()).collect();
    order
        .chunks(BATCH)
        .map(|chunk| {
            let k: Int64Array = chunk.iter().map(|&(b, r)| ks[b as usize][r as usize]).collect();
            let v: Int64Array = chunk.iter().map(|&(b, r)| vs[b as usize][r as usize]).collect();
            let s: StringArray = chunk
                .iter()
                .map(|&(b, r)| Some(ss[b as usize].value(r as usize)))
                .collect();
            RecordBatch::try_new(schema.clone(), vec![Arc::new(k), Arc::new(v), Arc::new(s)]).expect("sorted batch")
        })
        .collect()
}

fn hand_int64(batches: &[RecordBatch]) -> Vec<RecordBatch> {
    let mut keyed: Vec<(i64, u32, u32)> = Vec::with_capacity(data::rows(batches));
    for (bi, b) in batches.iter().enumerate() {
        let k = b.column(0).as_primitive::<Int64Type>().values();
        keyed.extend(k.iter().enumerate().map(|(r, k)| (*k, bi as u32, r as u32)));
    }
    keyed.sort_unstable_by_key(|t| t.0);
    let order: Vec<(u32, u32)> = keyed.iter().map(|t| (t.1, t.2)).collect();
    gather(batches, &order)
}

fn hand_int64_string(batches: &[RecordBatch]) -> Vec<RecordBatch> {
    let mut keyed: Vec<(i64, &str, u32, u32)> = Vec::with_capacity(data::rows(batches));
    for (bi, b) in batches.iter().enumerate() {
        let k = b.column(0).as_primitive::<Int64Type>().values();
        let s = b.column(2).as_string::<i32>();
        keyed.extend((0..b.num_rows()).map(|r| (k[r], s.value(r), bi as u32, r as u32)));
    }
    keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    let order: Vec<(u32, u32)> = keyed.iter().map(|t| (t.2, t.3)).collect();
    gather(batches, &order)
}

pub fn bench(c: &mut Criterion) {
    let batches = data::key_value_name(ROWS, KEYS, 13);
    let keys_only = |b: &[RecordBatch]| pairs(b).into_iter().map(|p| p.0).collect::<Vec<_>>();
    assert_eq!(keys_only(&flint(&batches, 1)), keys_only(&hand_int64(&batches)));
    assert_eq!(pairs(&flint(&batches, 2)), pairs(&hand_int64_string(&batches)));

    let mut g = c.benchmark_group("sort/1M_rows");
    g.throughput(Throughput::Elements(ROWS as u64));
    g.bench_function("int64_key/flint_sort_batches", |b| {
        b.iter(|| flint(black_box(&batches), 1))
    });
    g.bench_function("int64_key/hand_sort_unstable", |b| {
        b.iter(|| hand_int64(black_box(&batches)))
    });
    g.bench_function("int64_string_keys/flint_sort_batches", |b| {
        b.iter(|| flint(black_box(&batches), 2))
    });
    g.bench_function("int64_string_keys/hand_sort_unstable", |b| {
        b.iter(|| hand_int64_string(black_box(&batches)))
    });
    g.finish();
}
