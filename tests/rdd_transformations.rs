//! Transformations and actions of plain RDDs.

use flint::{SessionConfig, SessionContext};

fn ctx() -> SessionContext {
    SessionContext::with_config(SessionConfig::new().with_worker_threads(2))
}

#[test]
fn parallelize_splits_evenly() {
    let ctx = ctx();
    let rdd = ctx.parallelize((0..100).collect::<Vec<i32>>(), 4);
    assert_eq!(rdd.num_partitions(), 4);
    let parts = rdd.glom().collect().unwrap();
    assert_eq!(parts.iter().map(Vec::len).collect::<Vec<_>>(), vec![25; 4]);
    assert_eq!(parts[1][0], 25);
    assert_eq!(ctx.parallelize_default(vec![1, 2, 3]).num_partitions(), 2);
    // More slices than elements gives empty partitions, not an error.
    assert_eq!(
        ctx.parallelize(vec![1], 3).glom().collect().unwrap(),
        vec![vec![], vec![], vec![1]]
    );
}

#[test]
fn narrow_transformations() {
    let ctx = ctx();
    let rdd = ctx.range(0, 10, 1, 3);
    assert_eq!(
        rdd.map(|x| x * 2).collect().unwrap(),
        (0..10).map(|x| x * 2).collect::<Vec<_>>()
    );
    assert_eq!(rdd.filter(|x| x % 3 == 0).collect().unwrap(), vec![0, 3, 6, 9]);
    assert_eq!(rdd.flat_map(|x| vec![x; (x % 2) as usize]).count().unwrap(), 5);
    let idx = rdd
        .map_partitions_with_index(|i, it| it.map(move |x| (i, x)))
        .filter(|(_, x)| *x == 9)
        .collect()
        .unwrap();
    assert_eq!(idx, vec![(2, 9)]);
    assert_eq!(
        rdd.map_partitions(|it| std::iter::once(it.count())).collect().unwrap(),
        vec![3, 3, 4]
    );
    assert_eq!(rdd.key_by(|x| x % 2).filter(|(k, _)| *k == 1).count().unwrap(), 5);
}

#[test]
fn set_operations() {
    let ctx = ctx();
    let a = ctx.parallelize(vec![1, 2, 2, 3, 4], 2);
    let b = ctx.parallelize(vec![3, 4, 4, 5], 3);
    let u = a.union(&b);
    assert_eq!(u.num_partitions(), 5);
    assert_eq!(u.count().unwrap(), 9);
    let mut d = u.distinct().collect().unwrap();
    d.sort();
    assert_eq!(d, vec![1, 2, 3, 4, 5]);
    let mut i = a.intersection(&b).collect().unwrap();
    i.sort();
    assert_eq!(i, vec![3, 4]);
    let mut s = a.subtract(&b).collect().unwrap();
    s.sort();
    assert_eq!(s, vec![1, 2, 2]);
    let c = a.cartesian(&b);
    assert_eq!(c.num_partitions(), 6);
    assert_eq!(c.count().unwrap(), 20);
}

#[test]
fn zip_coalesce_repartition_sort() {
    let ctx = ctx();
    let rdd = ctx.range(0, 1000, 1, 7);
    let z = rdd.zip_with_index().unwrap().collect().unwrap();
    assert!(z.iter().all(|(x, i)| *x as u64 == *i));

    let c = rdd.coalesce(3, false);
    assert_eq!(c.num_partitions(), 3);
    assert_eq!(c.collect().unwrap(), (0..1000).collect::<Vec<_>>());

    let r = rdd.repartition(4);
    assert_eq!(r.num_partitions(), 4);
    let sizes: Vec<usize> = r.glom().collect().unwrap().iter().map(Vec::len).collect();
    assert!(sizes.iter().all(|&s| s == 250), "{sizes:?}");
    let mut all = r.collect().unwrap();
    all.sort();
    assert_eq!(all, (0..1000).collect::<Vec<_>>());

    let sorted = rdd.sort_by(|x| -(x % 100) * 1000 - x, true, 3).unwrap();
    let out = sorted.collect().unwrap();
    let mut expected: Vec<i64> = (0..1000).collect();
    expected.sort_by_key(|x| -(x % 100) * 1000 - x);
    assert_eq!(out, expected);
}

#[test]
fn sample_is_reproducible() {
    let ctx = ctx();
    let rdd = ctx.range(0, 10_000, 1, 4);
    let a = rdd.sample(false, 0.25, 3).collect().unwrap();
    let b = rdd.sample(false, 0.25, 3).collect().unwrap();
    assert_eq!(a, b);
    assert!((2000..3000).contains(&a.len()), "{}", a.len());
    assert_ne!(a, rdd.sample(false, 0.25, 4).collect().unwrap());
    assert_eq!(rdd.sample(false, 0.0, 1).count().unwrap(), 0);
    assert_eq!(rdd.sample(false, 1.0, 1).count().unwrap(), 10_000);
}

#[test]
fn actions() {
    let ctx = ctx();
    let rdd = ctx.parallelize(vec![5, 3, 9, 1, 7, 2], 3);
    assert_eq!(rdd.count().unwrap(), 6);
    assert_eq!(rdd.first().unwrap(), Some(5));
    assert_eq!(rdd.take(4).unwrap(), vec![5, 3, 9, 1]);
    assert_eq!(rdd.take(100).unwrap().len(), 6);
    assert_eq!(rdd.top(2).unwrap(), vec![9, 7]);
    assert_eq!(rdd.take_ordered(2).unwrap(), vec![1, 2]);
    assert_eq!(rdd.reduce(|a, b| a.max(b)).unwrap(), Some(9));
    assert_eq!(rdd.fold(0, |a, b| a + b).unwrap(), 27);
    // fold applies zero once per partition and once more on the driver.
    assert_eq!(rdd.fold(1, |a, b| a + b).unwrap(), 27 + 4);
    assert_eq!(rdd.aggregate(0usize, |n, _| n + 1, |a, b| a + b).unwrap(), 6);
    let counts = ctx.parallelize(vec!['a', 'b', 'a'], 2).count_by_value().unwrap();
    assert_eq!((counts[&'a'], counts[&'b']), (2, 1));

    let empty = ctx.parallelize(Vec::<i32>::new(), 2);
    assert_eq!(empty.first().unwrap(), None);
    assert_eq!(empty.reduce(|a, b| a + b).unwrap(), None);
    assert!(empty.top(3).unwrap().is_empty());
}

#[test]
fn take_scans_only_needed_partitions() {
    let ctx = ctx();
    let rdd = ctx.range(0, 1000, 1, 10);
    assert_eq!(rdd.take(5).unwrap(), vec![0, 1, 2, 3, 4]);
    let m = ctx.last_job_metrics().unwrap();
    assert_eq!(m.stages.last().unwrap().tasks_succeeded, 1);
    // Sparse data: take keeps scanning more partitions until it has enough.
    let sparse = rdd.filter(|x| *x >= 950);
    assert_eq!(sparse.take(3).unwrap(), vec![950, 951, 952]);
}

#[test]
fn foreach_and_foreach_partition() {
    let ctx = ctx();
    let seen = ctx.long_accumulator("seen");
    let parts = ctx.long_accumulator("partitions");
    let (s, p) = (seen.clone(), parts.clone());
    let rdd = ctx.range(0, 100, 1, 4);
    rdd.foreach(move |x| s.add(x)).unwrap();
    rdd.foreach_partition(move |_| p.add(1)).unwrap();
    assert_eq!(seen.value(), 4950);
    assert_eq!(parts.value(), 4);
}

#[test]
fn shared_variables() {
    let ctx = ctx();
    let table = ctx.broadcast(vec!["zero", "one", "two"]);
    let t = table.clone();
    let names = ctx
        .parallelize(vec![2usize, 0], 2)
        .map(move |i| t.value()[i].to_string())
        .collect()
        .unwrap();
    assert_eq!(names, vec!["two", "zero"]);

    let d = ctx.double_accumulator("d");
    let c = ctx.collection_accumulator::<i64>("c");
    let (d2, c2) = (d.clone(), c.clone());
    ctx.range(0, 10, 1, 3)
        .foreach(move |x| {
            d2.add(x as f64 / 2.0);
            if x % 5 == 0 {
                c2.add(x);
            }
        })
        .unwrap();
    assert_eq!(d.value(), 22.5);
    let mut got = c.value();
    got.sort();
    assert_eq!(got, vec![0, 5]);
}

#[test]
fn reading_an_accumulator_in_a_task_fails_the_job() {
    let ctx = SessionContext::with_config(SessionConfig::new().with_worker_threads(2).with_max_task_attempts(1));
    let acc = ctx.long_accumulator("secret");
    let a = acc.clone();
    let err = ctx.range(0, 2, 1, 1).map(move |x| x + a.value()).collect().unwrap_err();
    assert!(err.to_string().contains("only be read on the driver"), "{err}");
}
