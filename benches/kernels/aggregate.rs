//! `SELECT k, sum(v) GROUP BY k` on int64 keys in random order: Flint's
//! `HashAggregator` (single phase, as a task runs it), the whole SQL path on
//! a 1-thread session (planning, partial aggregate, exchange, final
//! aggregate), and a hand loop over the raw slices into a `hashbrown` map
//! with foldhash (the hasher Flint's own tables use).

use std::hint::black_box;

use arrow::array::{ArrayRef, AsArray};
use arrow::datatypes::{DataType, Int64Type};
use arrow::record_batch::RecordBatch;
use criterion::{Criterion, Throughput};
use flint::functions::AggregateFunction;
use flint::physical::aggregate::{AggregateMode, AggregateSpec, HashAggregator};
use flint::{SessionConfig, SessionContext};

use crate::data::{self, BATCH, Rng};

/// Input rows per iteration.
const ROWS: usize = 1 << 21;

type Map = hashbrown::HashMap<i64, i64, foldhash::fast::RandomState>;

/// Flint's kernel: group count and the sum of all sums.
fn flint_kernel(batches: &[RecordBatch]) -> (usize, i64) {
    let sum = AggregateSpec::try_new(AggregateFunction::Sum, false, Some(DataType::Int64)).expect("sum(int64)");
    let mut agg = HashAggregator::new(AggregateMode::Single, vec![DataType::Int64], vec![sum]).expect("aggregator");
    for b in batches {
        let (k, v): (ArrayRef, ArrayRef) = (b.column(0).clone(), b.column(1).clone());
        agg.update(b.num_rows(), &[k], &[vec![v]], &[]).expect("update");
    }
    let out = agg.finish(BATCH).expect("finish");
    summarize(out.iter().map(|cols| cols[1].as_primitive::<Int64Type>()))
}

fn flint_sql(ctx: &SessionContext) -> (usize, i64) {
    let out = ctx
        .sql("SELECT k, sum(v) FROM t GROUP BY k")
        .and_then(|df| df.collect())
        .expect("group-by query");
    summarize(out.iter().map(|b| b.column(1).as_primitive::<Int64Type>()))
}

fn summarize<'a>(sums: impl Iterator<Item = &'a arrow::array::Int64Array>) -> (usize, i64) {
    sums.fold((0, 0), |(n, s), a| {
        (
            n + a.len(),
            s.wrapping_add(a.values().iter().fold(0i64, |x, y| x.wrapping_add(*y))),
        )
    })
}

/// The reference: one pass over the raw slices, then the groups out as two
/// vectors (as the kernel emits its result columns).
fn hand(batches: &[RecordBatch]) -> (usize, i64) {
    let mut map = Map::default();
    for b in batches {
        let k = b.column(0).as_primitive::<Int64Type>().values();
        let v = b.column(1).as_primitive::<Int64Type>().values();
        for (k, v) in k.iter().zip(v.iter()) {
            let e = map.entry(*k).or_insert(0);
            *e = e.wrapping_add(*v);
        }
    }
    let (keys, sums): (Vec<i64>, Vec<i64>) = map.into_iter().unzip();
    black_box(&keys);
    (sums.len(), sums.iter().fold(0i64, |x, y| x.wrapping_add(*y)))
}

pub fn bench(c: &mut Criterion) {
    for keys in [1_000u64, 1_000_000] {
        let mut rng = Rng::new(keys);
        let batches = data::key_value(ROWS, |_| rng.below(keys));
        let ctx = SessionContext::with_config(SessionConfig::new().with_worker_threads(1));
        ctx.register_batches("t", batches.clone()).expect("register t");

        let want = hand(&batches);
        assert_eq!(
            flint_kernel(&batches),
            want,
            "HashAggregator disagrees with the hand loop"
        );
        assert_eq!(flint_sql(&ctx), want, "the SQL path disagrees with the hand loop");

        let mut g = c.benchmark_group(format!("aggregate/sum_by_int64/{keys}_keys"));
        g.throughput(Throughput::Elements(ROWS as u64));
        g.bench_function("flint_hash_aggregator", |b| {
            b.iter(|| flint_kernel(black_box(&batches)))
        });
        g.bench_function("flint_sql_1_thread", |b| b.iter(|| flint_sql(&ctx)));
        g.bench_function("hand_hashbrown", |b| b.iter(|| hand(black_box(&batches))));
        g.finish();
    }
}
