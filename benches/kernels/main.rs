//! Criterion micro-benchmarks of Flint's kernels, each beside the simplest
//! hand-written loop that computes the same thing on one thread, to show
//! how far each kernel is from what the machine can do:
//!
//! - [`aggregate`]: `sum(v) GROUP BY k` on int64 keys, ~1K and ~1M groups
//!   (`HashAggregator`, the whole SQL path on 1 thread, a `hashbrown` map).
//! - [`join`]: hash join build + probe on int64 keys (`JoinHashTable` +
//!   `HashJoinProbe`, a `hashbrown` map with row chains).
//! - [`exchange`]: hash and range partitioning of batches into 8 buckets
//!   (`HashSplitter`, `RangeSplitter`, a scatter loop).
//! - [`sort`]: sorting by an int64 key, and by int64 + string keys
//!   (`sort_batches`, `sort_unstable`).
//! - [`parquet_scan`]: a range filter that row-group pruning can use (SQL on
//!   1 thread, a raw `parquet` reader loop with and without pruning).
//!
//! Every benchmark checks once, untimed, that Flint and the hand loop agree.
//! Inputs are built before timing; sizes keep the whole suite to a few
//! minutes (10 samples, 3 s of measurement each):
//!
//! ```text
//! cargo bench --bench kernels                  # everything
//! cargo bench --bench kernels -- aggregate     # one group (a regex on the names)
//! cargo bench --bench kernels -- --list
//! ```
//!
//! Criterion prints time per iteration and throughput in rows (elements)
//! per second; compare the `flint_*` line of a group with its `hand_*` line.

mod aggregate;
mod data;
mod exchange;
mod join;
mod parquet_scan;
mod sort;

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = kernels;
    config = config();
    targets = aggregate::bench, join::bench, exchange::bench, sort::bench, parquet_scan::bench
}
criterion_main!(kernels);
