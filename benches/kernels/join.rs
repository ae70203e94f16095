//! Inner hash join on int64 keys, build + probe: Flint's `JoinHashTable`
//! and `HashJoinProbe` (output batches with all four columns) against a
//! hand loop with a `hashbrown` map from key to first build row, chains of
//! further rows in a vector, and the matched rows gathered into four
//! `Vec<i64>` columns.
//!
//! Build side: 250K rows with distinct keys (like `orders`); probe side: 1M
//! rows with keys uniform over twice that range, so about half find a
//! partner (like `lineitem` after a selective filter on `orders`).

use std::hint::black_box;
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray};
use arrow::datatypes::Int64Type;
use arrow::record_batch::RecordBatch;
use criterion::{Criterion, Throughput};
use flint::physical::join::{HashJoinProbe, JoinHashTable, JoinType, join_output_schema};

use crate::data::{self, BATCH, Rng};

const BUILD: usize = 250_000;
const PROBE: usize = 1_000_000;
const END: u32 = u32::MAX;

type Map = hashbrown::HashMap<i64, u32, foldhash::fast::RandomState>;

/// Output rows and the sum of the build payloads that matched.
fn flint(build: &[RecordBatch], probe: &[RecordBatch]) -> (usize, i64) {
    let schema = build[0].schema();
    let keys: Vec<Vec<ArrayRef>> = build.iter().map(|b| vec![b.column(0).clone()]).collect();
    let table = JoinHashTable::build(schema.clone(), build.to_vec(), keys, false).expect("build");
    let out_schema = join_output_schema(&probe[0].schema(), &schema, JoinType::Inner).expect("schema");
    let mut prober =
        HashJoinProbe::try_new(Arc::new(table), JoinType::Inner, None, out_schema, false, BATCH).expect("prober");
    let (mut rows, mut sum) = (0, 0i64);
    for b in probe {
        for out in prober.probe(b, &[b.column(0).clone()]).expect("probe") {
            rows += out.num_rows();
            sum += out.column(3).as_primitive::<Int64Type>().values().iter().sum::<i64>();
        }
    }
    (rows, sum)
}

fn hand(build: &[RecordBatch], probe: &[RecordBatch]) -> (usize, i64) {
    let bk: Vec<i64> = build
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().iter().copied())
        .collect();
    let bv: Vec<i64> = build
        .iter()
        .flat_map(|b| b.column(1).as_primitive::<Int64Type>().values().iter().copied())
        .collect();
    let mut map = Map::with_capacity_and_hasher(bk.len(), Default::default());
    let mut next = vec![END; bk.len()];
    for (i, k) in bk.iter().enumerate().rev() {
        if let Some(first) = map.insert(*k, i as u32) {
            next[i] = first;
        }
    }
    let (mut rows, mut sum) = (0, 0i64);
    for b in probe {
        let pk = b.column(0).as_primitive::<Int64Type>().values();
        let pv = b.column(1).as_primitive::<Int64Type>().values();
        let mut out: [Vec<i64>; 4] = Default::default();
        for (k, v) in pk.iter().zip(pv.iter()) {
            let mut r = map.get(k).copied().unwrap_or(END);
            while r != END {
                out[0].push(*k);
                out[1].push(*v);
                out[2].push(bk[r as usize]);
                out[3].push(bv[r as usize]);
                r = next[r as usize];
            }
        }
        rows += out[0].len();
        sum += out[3].iter().sum::<i64>();
        black_box(out);
    }
    (rows, sum)
}

pub fn bench(c: &mut Criterion) {
    // Distinct build keys in random order: a shuffled 0..BUILD spread over
    // 0..2*BUILD.
    let mut rng = Rng::new(7);
    let mut keys: Vec<i64> = (0..BUILD as i64).map(|k| 2 * k).collect();
    for i in (1..keys.len()).rev() {
        keys.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let build = data::key_value(BUILD, |i| keys[i]);
    let probe = data::key_value(PROBE, |_| rng.below(2 * BUILD as u64));

    let want = hand(&build, &probe);
    assert_eq!(
        flint(&build, &probe),
        want,
        "Flint's hash join disagrees with the hand loop"
    );

    let mut g = c.benchmark_group("join/inner_int64/250K_build_1M_probe");
    g.throughput(Throughput::Elements((BUILD + PROBE) as u64));
    g.bench_function("flint_hash_join", |b| b.iter(|| flint(black_box(&build), &probe)));
    g.bench_function("hand_hashbrown_chains", |b| b.iter(|| hand(black_box(&build), &probe)));
    g.finish();
}
