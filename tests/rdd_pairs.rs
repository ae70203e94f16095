//! Pair RDDs: aggregation by key, joins, partitioners and their propagation.

use std::sync::Arc;

use flint::{HashPartitioner, Partitioner, RangePartitioner, SessionConfig, SessionContext};

fn ctx() -> SessionContext {
    SessionContext::with_config(SessionConfig::new().with_worker_threads(2))
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

#[test]
fn aggregations_by_key() {
    let ctx = ctx();
    let pairs = ctx.parallelize((0..1000).map(|i| (i % 7, i)).collect::<Vec<(i64, i64)>>(), 5);
    let expected: Vec<(i64, i64)> = (0..7).map(|k| (k, (0..1000).filter(|i| i % 7 == k).sum())).collect();
    assert_eq!(sorted(pairs.reduce_by_key(|a, b| a + b).collect().unwrap()), expected);
    assert_eq!(sorted(pairs.fold_by_key(0, |a, b| a + b).collect().unwrap()), expected);
    assert_eq!(
        sorted(
            pairs
                .aggregate_by_key(0i64, |a, v| a + v, |a, b| a + b)
                .collect()
                .unwrap()
        ),
        expected
    );
    assert_eq!(
        sorted(
            pairs
                .combine_by_key(|v| v, |c, v| c + v, |a, b| a + b)
                .collect()
                .unwrap()
        ),
        expected
    );
    let grouped = pairs
        .group_by_key()
        .map_values(|v| v.iter().sum::<i64>())
        .collect()
        .unwrap();
    assert_eq!(sorted(grouped), expected);
    let r = pairs.reduce_by_key_with_partitions(|a, b| a + b, 3);
    assert_eq!(r.num_partitions(), 3);
    assert_eq!(pairs.group_by_key_with_partitions(2).num_partitions(), 2);

    let counts = pairs.count_by_key().unwrap();
    assert_eq!(counts[&0], 143);
    assert_eq!(
        sorted(pairs.keys().distinct().collect().unwrap()),
        (0..7).collect::<Vec<_>>()
    );
    assert_eq!(pairs.values().count().unwrap(), 1000);
}

#[test]
fn reduce_by_key_combines_on_the_map_side() {
    let ctx = ctx();
    let pairs = ctx.parallelize((0..10_000).map(|i| (i % 10, 1u64)).collect::<Vec<_>>(), 4);
    pairs.reduce_by_key(|a, b| a + b).collect().unwrap();
    let m = ctx.last_job_metrics().unwrap();
    // 4 map partitions x 10 keys, not 10,000 records.
    assert_eq!(m.shuffle_records_written(), 40);
    pairs.group_by_key().count().unwrap();
    assert_eq!(ctx.last_job_metrics().unwrap().shuffle_records_written(), 10_000);
}

#[test]
fn joins() {
    let ctx = ctx();
    let a = ctx.parallelize(vec![(1, "a1"), (2, "a2"), (2, "a2b"), (3, "a3")], 2);
    let b = ctx.parallelize(vec![(2, 20), (3, 30), (3, 31), (4, 40)], 3);
    assert_eq!(
        sorted(a.join(&b).collect().unwrap()),
        vec![(2, ("a2", 20)), (2, ("a2b", 20)), (3, ("a3", 30)), (3, ("a3", 31))]
    );
    assert_eq!(
        sorted(a.left_outer_join(&b).collect().unwrap()),
        vec![
            (1, ("a1", None)),
            (2, ("a2", Some(20))),
            (2, ("a2b", Some(20))),
            (3, ("a3", Some(30))),
            (3, ("a3", Some(31)))
        ]
    );
    assert_eq!(
        sorted(a.right_outer_join(&b).collect().unwrap()),
        vec![
            (2, (Some("a2"), 20)),
            (2, (Some("a2b"), 20)),
            (3, (Some("a3"), 30)),
            (3, (Some("a3"), 31)),
            (4, (None, 40))
        ]
    );
    let full = sorted(a.full_outer_join(&b).collect().unwrap());
    assert_eq!(full.first(), Some(&(1, (Some("a1"), None))));
    assert_eq!(full.last(), Some(&(4, (None, Some(40)))));
    assert_eq!(full.len(), 6);
    assert_eq!(sorted(a.subtract_by_key(&b).collect().unwrap()), vec![(1, "a1")]);
    let g = sorted(a.cogroup(&b).collect().unwrap());
    assert_eq!(g[1], (2, (vec!["a2", "a2b"], vec![20])));
    assert_eq!(a.join_with_partitions(&b, 7).num_partitions(), 7);
    assert_eq!(a.cogroup_with_partitions(&b, 5).num_partitions(), 5);
}

#[test]
fn partitioner_propagation() {
    let ctx = ctx();
    let p = HashPartitioner::new(4);
    let parted = ctx
        .parallelize((0..100).map(|i| (i, i)).collect::<Vec<_>>(), 3)
        .partition_by(p.clone());
    let has = |rdd: Option<Arc<dyn Partitioner>>| rdd.is_some_and(|q| q.equivalent(&p));
    assert!(has(parted.partitioner()));
    assert!(has(parted.map_values(|v| v + 1).partitioner()));
    assert!(has(parted.flat_map_values(|v| vec![v]).partitioner()));
    assert!(has(parted.filter(|(k, _)| k % 2 == 0).partitioner()));
    assert!(parted.map(|kv| kv).partitioner().is_none());
    assert!(parted.flat_map(|kv| vec![kv]).partitioner().is_none());
    assert!(parted.keys().partitioner().is_none());
    assert!(has(parted.reduce_by_key(|a, b| a + b).partitioner()));
    assert!(has(parted.group_by_key().partitioner()));
    assert!(has(parted.join(&parted).partitioner()));
    // partition_by with an equivalent partitioner is a no-op.
    assert_eq!(parted.partition_by(HashPartitioner::new(4)).id(), parted.id());
    assert_ne!(parted.partition_by(HashPartitioner::new(5)).id(), parted.id());
    // Every key sits in the partition its partitioner names.
    for (i, part) in parted.glom().collect().unwrap().into_iter().enumerate() {
        assert!(part.iter().all(|(k, _)| p.partition(k) == i));
    }
}

#[test]
fn copartitioned_reduce_and_join_run_no_shuffle() {
    let ctx = ctx();
    let p = HashPartitioner::new(4);
    let left = ctx
        .parallelize((0..1000).map(|i| (i % 50, i)).collect::<Vec<(i32, i32)>>(), 3)
        .partition_by(p.clone())
        .cache();
    let right = ctx
        .parallelize((0..50).map(|i| (i, i * 10)).collect::<Vec<(i32, i32)>>(), 2)
        .partition_by(p.clone())
        .cache();
    left.count().unwrap();
    right.count().unwrap();

    let sums = left.reduce_by_key(|a, b| a + b);
    assert_eq!(sums.count().unwrap(), 50);
    let m = ctx.last_job_metrics().unwrap();
    assert_eq!(m.executed_shuffle_stages(), 0, "{m:?}");
    assert_eq!(m.shuffle_records_written(), 0);

    let joined = left.join(&right);
    assert_eq!(joined.count().unwrap(), 1000);
    let m = ctx.last_job_metrics().unwrap();
    assert_eq!(m.executed_shuffle_stages(), 0, "{m:?}");

    // Without co-partitioning the same join shuffles both sides.
    let fresh_left = ctx.parallelize((0..1000).map(|i| (i % 50, i)).collect::<Vec<(i32, i32)>>(), 3);
    let fresh_right = ctx.parallelize((0..50).map(|i| (i, i * 10)).collect::<Vec<(i32, i32)>>(), 2);
    assert_eq!(fresh_left.join(&fresh_right).count().unwrap(), 1000);
    assert_eq!(ctx.last_job_metrics().unwrap().executed_shuffle_stages(), 2);

    // Co-partitioned but not materialized: only the two partition_by
    // shuffles run, the join itself adds none.
    let l2 = fresh_left.partition_by(p.clone());
    let r2 = fresh_right.partition_by(p);
    assert_eq!(l2.join(&r2).count().unwrap(), 1000);
    assert_eq!(ctx.last_job_metrics().unwrap().shuffle_stages(), 2);
}

#[test]
fn sort_by_key_uses_range_partitions() {
    let ctx = ctx();
    let data: Vec<(i64, i64)> = (0..5000).map(|i| ((i * 7919) % 5000, i)).collect();
    let pairs = ctx.parallelize(data, 5);
    let sorted_rdd = pairs.sort_by_key(true, 4).unwrap();
    let p = sorted_rdd.partitioner().unwrap();
    assert!(p.as_any().downcast_ref::<RangePartitioner<i64>>().is_some());
    let parts = sorted_rdd.glom().collect().unwrap();
    assert_eq!(parts.len(), 4);
    // Range partitions are roughly balanced and in order.
    assert!(
        parts.iter().all(|p| p.len() > 700),
        "{:?}",
        parts.iter().map(Vec::len).collect::<Vec<_>>()
    );
    let keys: Vec<i64> = parts.into_iter().flatten().map(|(k, _)| k).collect();
    assert_eq!(keys, (0..5000).collect::<Vec<_>>());
    let desc: Vec<i64> = pairs.sort_by_key(false, 3).unwrap().keys().collect().unwrap();
    assert_eq!(desc, (0..5000).rev().collect::<Vec<_>>());
}

#[test]
fn lookup_scans_one_partition_when_partitioned() {
    let ctx = ctx();
    let pairs = ctx.parallelize((0..100).map(|i| (i % 10, i)).collect::<Vec<_>>(), 4);
    assert_eq!(
        sorted(pairs.lookup(&3).unwrap()),
        (0..10).map(|i| i * 10 + 3).collect::<Vec<_>>()
    );
    let parted = pairs.partition_by(HashPartitioner::new(8));
    assert_eq!(parted.lookup(&3).unwrap().len(), 10);
    let m = ctx.last_job_metrics().unwrap();
    assert_eq!(m.stages.last().unwrap().tasks_succeeded, 1);
    assert!(parted.lookup(&99).unwrap().is_empty());
}

#[test]
fn custom_partitioner() {
    #[derive(Debug)]
    struct Parity;
    impl Partitioner for Parity {
        fn num_partitions(&self) -> usize {
            2
        }
        fn partition(&self, key: &dyn flint::PartitionKey) -> usize {
            key.as_any().downcast_ref::<i32>().map_or(0, |k| (k % 2) as usize)
        }
        fn equivalent(&self, other: &dyn Partitioner) -> bool {
            other.as_any().is::<Parity>()
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    }
    let ctx = ctx();
    let parts = ctx
        .parallelize((0..10).map(|i| (i, ())).collect::<Vec<(i32, ())>>(), 3)
        .partition_by(Parity)
        .keys()
        .glom()
        .collect()
        .unwrap();
    assert_eq!(parts, vec![vec![0, 2, 4, 6, 8], vec![1, 3, 5, 7, 9]]);
}
