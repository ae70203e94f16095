//! Partitioning batches into 8 buckets for a shuffle, on an int64 key, with
//! an int64 and a string column carried along: Flint's `HashSplitter` and
//! `RangeSplitter` (row-encode the key, hash it or binary-search the
//! bounds, `take` each bucket's rows) against a hand loop that hashes (or
//! binary-searches) the raw `i64` and scatters the values into per-bucket
//! vectors.

use std::hash::BuildHasher;
use std::hint::black_box;
use std::sync::Arc;

use arrow::array::{Array, AsArray, Int64Array, RecordBatch};
use arrow::compute::SortOptions;
use arrow::datatypes::{DataType, Field, Int64Type, Schema};
use criterion::{Criterion, Throughput};
use flint::physical::exchange::{HashSplitter, RangeSplitter, sort_rows};
use flint::physical::expr::{ColumnExpr, PhysicalExprRef};
use flint::physical::plan::SortKey;

use crate::data;

const ROWS: usize = 1_000_000;
const BUCKETS: usize = 8;
const KEY_RANGE: u64 = 1 << 32;

fn key() -> PhysicalExprRef {
    Arc::new(ColumnExpr::new("k", 0, DataType::Int64))
}

/// Rows per bucket, and the sum of `v` over all buckets.
fn tally(buckets: &[Vec<RecordBatch>]) -> (Vec<usize>, i64) {
    let sizes = buckets.iter().map(|b| data::rows(b)).collect();
    let sum = buckets
        .iter()
        .flatten()
        .map(|b| b.column(1).as_primitive::<Int64Type>().values().iter().sum::<i64>())
        .sum();
    (sizes, sum)
}

fn flint_hash(batches: &[RecordBatch]) -> Vec<Vec<RecordBatch>> {
    let mut splitter = HashSplitter::new(vec![key()], BUCKETS);
    let mut buckets = vec![Vec::new(); BUCKETS];
    for b in batches {
        splitter.split(b, &mut buckets).expect("hash split");
    }
    buckets
}

fn flint_range(batches: &[RecordBatch], bounds: &Arc<Vec<Vec<u8>>>) -> Vec<Vec<RecordBatch>> {
    let keys = vec![SortKey {
        expr: key(),
        options: SortOptions::default(),
    }];
    let mut splitter = RangeSplitter::new(keys, Arc::clone(bounds));
    let mut buckets = vec![Vec::new(); BUCKETS];
    for b in batches {
        splitter.split(b, &mut buckets).expect("range split");
    }
    buckets
}

/// One bucket of the hand loops: the three columns as plain vectors.
#[derive(Default)]
struct Bucket {
    k: Vec<i64>,
    v: Vec<i64>,
    offsets: Vec<usize>,
    bytes: Vec<u8>,
}

/// Scatters every row into the bucket `bucket_of(key)` picks.
fn hand(batches: &[RecordBatch], bucket_of: impl Fn(i64) -> usize) -> (Vec<usize>, i64) {
    let mut buckets: Vec<Bucket> = (0..BUCKETS).map(|_| Bucket::default()).collect();
    for b in batches {
        let k = b.column(0).as_primitive::<Int64Type>().values();
        let v = b.column(1).as_primitive::<Int64Type>().values();
        let s = b.column(2).as_string::<i32>();
        for i in 0..b.num_rows() {
            let out = &mut buckets[bucket_of(k[i])];
            out.k.push(k[i]);
            out.v.push(v[i]);
            out.bytes.extend_from_slice(s.value(i).as_bytes());
            out.offsets.push(out.bytes.len());
        }
    }
    let sizes = buckets.iter().map(|b| b.k.len()).collect();
    let sum = buckets.iter().map(|b| b.v.iter().sum::<i64>()).sum();
    black_box(buckets);
    (sizes, sum)
}

pub fn bench(c: &mut Criterion) {
    let batches = data::key_value_name(ROWS, KEY_RANGE, 11);
    let state = foldhash::fast::FixedState::with_seed(0x5eed);
    let hash_bucket = |k: i64| ((state.hash_one(k) as u128 * BUCKETS as u128) >> 64) as usize;

    // Bounds at the 1/8 quantiles of the key range, row-encoded for Flint.
    let raw_bounds: Vec<i64> = (1..BUCKETS as i64)
        .map(|i| i * (KEY_RANGE / BUCKETS as u64) as i64)
        .collect();
    let bounds_batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("k", DataType::Int64, false)])),
        vec![Arc::new(Int64Array::from(raw_bounds.clone()))],
    )
    .expect("bounds batch");
    let keys = [SortKey {
        expr: key(),
        options: SortOptions::default(),
    }];
    let encoded = sort_rows(&keys, &bounds_batch, &mut None).expect("encoding the bounds");
    let bounds = Arc::new(encoded.iter().map(|r| r.as_ref().to_vec()).collect::<Vec<_>>());
    let range_bucket = |k: i64| raw_bounds.partition_point(|b| *b < k);

    let (hand_sizes, hand_sum) = hand(&batches, hash_bucket);
    let (sizes, sum) = tally(&flint_hash(&batches));
    assert_eq!(
        (sizes.iter().sum::<usize>(), sum),
        (hand_sizes.iter().sum::<usize>(), hand_sum),
        "hash exchange lost rows"
    );
    assert_eq!(
        tally(&flint_range(&batches, &bounds)),
        hand(&batches, range_bucket),
        "Flint's range exchange disagrees with the hand loop"
    );
    assert!(batches.iter().all(|b| b.column(2).null_count() == 0));

    let mut g = c.benchmark_group("exchange/int64_key_8_buckets/1M_rows");
    g.throughput(Throughput::Elements(ROWS as u64));
    g.bench_function("flint_hash_splitter", |b| b.iter(|| flint_hash(black_box(&batches))));
    g.bench_function("hand_hash_scatter", |b| {
        b.iter(|| hand(black_box(&batches), hash_bucket))
    });
    g.bench_function("flint_range_splitter", |b| {
        b.iter(|| flint_range(black_box(&batches), &bounds))
    });
    g.bench_function("hand_range_scatter", |b| {
        b.iter(|| hand(black_box(&batches), range_bucket))
    });
    g.finish();
}
