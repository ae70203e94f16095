//! The scheduler: stages, shuffle reuse, caching, retries, fault injection,
//! deep lineage, failures and cancellation.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flint::{Error, FaultInjection, JobListener, SessionConfig, SessionContext, StageKind};

fn ctx() -> SessionContext {
    SessionContext::with_config(SessionConfig::new().with_worker_threads(2))
}

#[test]
fn stages_are_cut_at_shuffles_and_reused() {
    let ctx = ctx();
    let counts = ctx
        .parallelize((0..100).map(|i| (i % 5, 1)).collect::<Vec<_>>(), 4)
        .reduce_by_key(|a, b| a + b)
        .map(|(k, v)| (v, k))
        .group_by_key();
    assert_eq!(counts.count().unwrap(), 1);
    let m = ctx.last_job_metrics().unwrap();
    assert_eq!(m.stages.len(), 3);
    assert_eq!(m.shuffle_stages(), 2);
    assert_eq!(m.skipped_stages(), 0);
    assert_eq!(m.stages[0].num_partitions, 4);
    assert!(matches!(m.stages[2].kind, StageKind::Result));
    assert!(m.succeeded);

    // A second action on the same lineage reuses both shuffles' output.
    let mut out = counts.collect().unwrap();
    out[0].1.sort();
    assert_eq!(out, vec![(20, vec![0, 1, 2, 3, 4])]);
    let m = ctx.last_job_metrics().unwrap();
    assert_eq!(m.skipped_stages(), 2);
    assert_eq!(m.executed_shuffle_stages(), 0);
}

#[test]
fn cache_computes_each_partition_once() {
    let ctx = ctx();
    let computed = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&computed);
    let rdd = ctx
        .range(0, 1000, 1, 4)
        .map(move |x| {
            c.fetch_add(1, Ordering::Relaxed);
            x * 2
        })
        .cache();
    assert_eq!(rdd.count().unwrap(), 1000);
    assert_eq!(rdd.map(|x| x + 1).reduce(|a, b| a + b).unwrap(), Some(999_000 + 1000));
    assert_eq!(rdd.filter(|x| x % 4 == 0).count().unwrap(), 500);
    assert_eq!(computed.load(Ordering::Relaxed), 1000);
    assert_eq!(ctx.cache().cached_partitions(rdd.id()), 4);

    // An evicted partition is recomputed from lineage, and only that one.
    assert!(ctx.cache().evict(rdd.id(), 2));
    assert_eq!(rdd.count().unwrap(), 1000);
    assert_eq!(computed.load(Ordering::Relaxed), 1250);

    // After unpersist every action recomputes.
    let rdd = rdd.unpersist();
    assert_eq!(ctx.cache().cached_partitions(rdd.id()), 0);
    rdd.count().unwrap();
    rdd.count().unwrap();
    assert_eq!(computed.load(Ordering::Relaxed), 3250);
}

#[test]
fn lost_shuffle_output_is_recomputed_from_lineage() {
    let ctx = ctx();
    let computed = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&computed);
    let sums = ctx
        .parallelize((0..400).collect::<Vec<i64>>(), 4)
        .map(move |x| {
            c.fetch_add(1, Ordering::Relaxed);
            (x % 3, x)
        })
        .reduce_by_key(|a, b| a + b);
    let expected = {
        let mut v = sums.collect().unwrap();
        v.sort();
        v
    };
    assert_eq!(computed.load(Ordering::Relaxed), 400);
    let shuffle_id = *ctx.shuffle_store().shuffle_ids().last().unwrap();
    assert!(ctx.shuffle_store().remove_map_output(shuffle_id, 1));
    let mut again = sums.collect().unwrap();
    again.sort();
    assert_eq!(again, expected);
    // Only the lost map partition (100 elements) was recomputed.
    assert_eq!(computed.load(Ordering::Relaxed), 500);
    let m = ctx.last_job_metrics().unwrap();
    assert_eq!(m.stages[0].tasks_succeeded, 1);
}

#[test]
fn shuffle_output_lost_mid_job_is_refetched() {
    // A reducer that finds its input missing (here: removed by the first
    // reduce task itself) makes the scheduler recompute the map output and
    // retry, without counting it as a task failure.
    let ctx = ctx();
    let pairs = ctx.parallelize((0..100).map(|i| (i % 4, 1)).collect::<Vec<_>>(), 2);
    let sums = pairs.reduce_by_key_with_partitions(|a, b| a + b, 2);
    let store_ctx = ctx.clone();
    let removed = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&removed);
    let out = sums
        .map_partitions_with_index(move |i, it| {
            let v: Vec<_> = it.collect();
            if i == 0 && r.fetch_add(1, Ordering::SeqCst) == 0 {
                let sid = *store_ctx.shuffle_store().shuffle_ids().last().unwrap();
                store_ctx.shuffle_store().remove_map_output(sid, 0);
            }
            v.into_iter()
        })
        .collect()
        .unwrap();
    assert_eq!(out.iter().map(|(_, v)| v).sum::<i32>(), 100);
}

#[test]
fn fault_injection_gives_identical_results_and_exactly_once_accumulators() {
    fn run(faults: Option<FaultInjection>) -> (Vec<(i64, i64)>, i64, i64, usize) {
        let mut config = SessionConfig::new().with_worker_threads(2);
        if let Some(f) = faults {
            config = config.with_fault_injection(f);
        }
        let ctx = SessionContext::with_config(config);
        let in_action = ctx.long_accumulator("in action");
        let records = ctx.long_accumulator("records");
        let (a, r) = (in_action.clone(), records.clone());
        let sums = ctx
            .parallelize((0..10_000i64).collect(), 8)
            .map(|x| (x % 13, x))
            .reduce_by_key_with_partitions(|a, b| a + b, 5);
        let mut out = sums
            .map(move |kv| {
                r.add(1);
                kv
            })
            .collect()
            .unwrap();
        sums.foreach(move |(_, v)| a.add(v)).unwrap();
        out.sort();
        let attempts = ctx.last_job_metrics().unwrap().failed_attempts();
        (out, in_action.value(), records.value(), attempts)
    }
    let clean = run(None);
    // Every task's first two attempts fail, after doing their work.
    let faulty = run(Some(FaultInjection::new(2)));
    assert_eq!(clean.0, faulty.0);
    assert_eq!(clean.1, faulty.1);
    assert_eq!(clean.1, (0..10_000).sum::<i64>());
    assert_eq!(faulty.2, 13, "accumulator in a result task counted once per record");
    assert_eq!(clean.3, 0);
    assert_eq!(faulty.3, 2 * 5);
    // Only some partitions fail.
    let partial = run(Some(FaultInjection::new(1).partitions([0, 3])));
    assert_eq!(partial.0, clean.0);
    assert_eq!(partial.1, clean.1);
    assert_eq!(partial.2, 13);
}

#[test]
fn a_task_failing_every_attempt_aborts_the_job_with_a_clear_error() {
    let ctx = SessionContext::with_config(
        SessionConfig::new()
            .with_worker_threads(2)
            .with_fault_injection(FaultInjection::new(100).partitions([2])),
    );
    let err = ctx.range(0, 100, 1, 4).count().unwrap_err();
    match &err {
        Error::JobAborted {
            partition, attempts, ..
        } => {
            assert_eq!(*partition, 2);
            assert_eq!(*attempts, 4);
        }
        other => panic!("unexpected error {other}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("partition 2") && text.contains("stage") && text.contains("job"),
        "{text}"
    );
    assert_eq!(ctx.last_job_metrics().unwrap().failed_attempts(), 4);
}

#[test]
fn a_panic_in_user_code_fails_the_job_and_the_session_survives() {
    let ctx = ctx();
    let err = ctx
        .range(0, 100, 1, 4)
        .map(|x| if x == 77 { panic!("bad record {x}") } else { x })
        .count()
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("bad record 77"), "{text}");
    assert!(text.contains("partition 3"), "{text}");
    assert!(matches!(err.root_cause(), Error::Panic(_)));
    assert!(!ctx.last_job_metrics().unwrap().succeeded);
    // The same session runs the next job normally.
    assert_eq!(ctx.range(0, 100, 1, 4).count().unwrap(), 100);
}

#[test]
fn errors_inside_iterators_fail_the_task() {
    let ctx = SessionContext::with_config(SessionConfig::new().with_worker_threads(2).with_max_task_attempts(2));
    let parsed = ctx
        .parallelize(vec!["1", "2", "three", "4"], 2)
        .try_map_partitions_with_index(|_, it| {
            Ok(it.map(|s| {
                s.parse::<i64>()
                    .map_err(|e| Error::InvalidArgument(format!("not a number: '{s}' ({e})")))
            }))
        });
    let err = parsed.collect().unwrap_err();
    assert!(err.to_string().contains("not a number: 'three'"), "{err}");
    // A failed attempt never caches its partial partition; the good
    // partition 0 is cached.
    let cached = parsed.cache();
    assert!(cached.count().is_err());
    assert_eq!(ctx.cache().cached_partitions(cached.id()), 1);
}

#[test]
fn ten_thousand_deep_lineage_runs() {
    let ctx = ctx();
    let mut rdd = ctx.range(0, 100, 1, 2);
    for _ in 0..10_000 {
        rdd = rdd.map(|x| x + 1);
    }
    assert_eq!(rdd.reduce(|a, b| a + b).unwrap(), Some(4950 + 100 * 10_000));
    assert_eq!(rdd.to_debug_string().lines().count(), 10_001);
    // And through a shuffle at the bottom of the chain.
    let mut pairs = ctx.range(0, 10, 1, 2).map(|x| (x % 2, x)).reduce_by_key(|a, b| a + b);
    for _ in 0..5_000 {
        pairs = pairs.map_values(|v| v + 1);
    }
    let mut out = pairs.collect().unwrap();
    out.sort();
    assert_eq!(out, vec![(0, 20 + 5_000), (1, 25 + 5_000)]);
}

#[test]
fn debug_string_shows_shuffle_boundaries_and_cache() {
    let ctx = ctx();
    let words = ctx.parallelize(vec!["a", "b", "a"], 2).map(|w| (w, 1)).cache();
    let joined = words.reduce_by_key(|a, b| a + b).join(&words);
    let text = joined.to_debug_string();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("(2) flat_map_values"), "{text}");
    assert!(text.contains(" |  (2) reduce_by_key"), "{text}");
    assert!(text.contains(" +-(2) map ["), "{text}");
    assert!(text.contains("map [") && text.contains("CachedPartitions"), "{text}");
    // Shuffle parents are indented one level deeper than their child.
    let depth = |needle: &str| {
        let l = lines.iter().find(|l| l.contains(needle)).unwrap();
        l.len() - l.trim_start().len()
    };
    assert!(depth("parallelize") > depth("reduce_by_key"), "{text}");
}

#[test]
fn metrics_and_listener_events() {
    #[derive(Default)]
    struct Recorder(Mutex<Vec<String>>);
    impl JobListener for Recorder {
        fn on_job_start(&self, job_id: usize, action: &str, stages: usize) {
            self.0.lock().unwrap().push(format!("job {job_id} {action} {stages}"));
        }
        fn on_stage_start(&self, _: usize, stage: usize, _: &str, tasks: usize) {
            self.0.lock().unwrap().push(format!("stage {stage} {tasks}"));
        }
        fn on_task_end(&self, _: usize, _: usize, _: usize, ok: bool) {
            self.0.lock().unwrap().push(format!("task {ok}"));
        }
        fn on_job_end(&self, m: &flint::JobMetrics) {
            self.0.lock().unwrap().push(format!("end {}", m.succeeded));
        }
    }
    let ctx = ctx();
    let rec = Arc::new(Recorder::default());
    ctx.add_job_listener(rec.clone());
    ctx.parallelize(vec![(1, 1), (2, 2)], 2)
        .reduce_by_key_with_partitions(|a, b| a + b, 3)
        .count()
        .unwrap();
    let events = rec.0.lock().unwrap().clone();
    assert!(events[0].ends_with("count 2"), "{events:?}");
    assert_eq!(events.iter().filter(|e| *e == "task true").count(), 5);
    assert_eq!(events.last().unwrap(), "end true");
    let m = ctx.last_job_metrics().unwrap();
    assert_eq!(m.stages[0].shuffle_records_written, 2);
    assert!(m.stages[0].shuffle_bytes_written > 0);
    assert_eq!(m.task_attempts(), 5);
    assert_eq!(m.action, "count");
}

#[test]
fn cancelling_stops_a_running_job() {
    let ctx = SessionContext::with_config(SessionConfig::new().with_worker_threads(2));
    let canceller = ctx.clone();
    let handle = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        canceller.cancel_all_jobs();
    });
    let started = Instant::now();
    let err = ctx
        .range(0, i64::MAX, 1, 4)
        .map(|x| x.wrapping_mul(31))
        .count()
        .unwrap_err();
    handle.join().unwrap();
    assert!(matches!(err.root_cause(), Error::Cancelled(_)), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(ctx.range(0, 10, 1, 2).count().unwrap(), 10);
}

#[test]
fn sessions_share_nothing() {
    let a = ctx();
    let b = ctx();
    let sums = a.parallelize(vec![(1, 1)], 1).reduce_by_key(|x, y| x + y);
    sums.count().unwrap();
    assert!(!a.shuffle_store().shuffle_ids().is_empty());
    assert!(b.shuffle_store().shuffle_ids().is_empty());
    assert!(b.last_job_metrics().is_none());
}

#[test]
fn dropping_an_rdd_frees_its_shuffle_output_and_cache() {
    let ctx = ctx();
    let sums = ctx
        .parallelize((0..1000).map(|i| (i % 7, i)).collect::<Vec<_>>(), 4)
        .reduce_by_key(|x, y| x + y)
        .cache();
    sums.count().unwrap();
    let id = sums.id();
    assert_eq!(ctx.shuffle_store().shuffle_ids().len(), 1);
    assert_eq!(ctx.cache().cached_partitions(id), 4);
    assert!(ctx.memory_pool().used() > 0);
    drop(sums);
    assert!(ctx.shuffle_store().shuffle_ids().is_empty());
    assert_eq!(ctx.cache().cached_partitions(id), 0);
    assert_eq!(ctx.memory_pool().used(), 0);
}

#[test]
fn memory_limit_fails_jobs_that_exceed_it() {
    let ctx = SessionContext::with_config(SessionConfig::new().with_worker_threads(2).with_memory_limit(1024));
    let err = ctx
        .parallelize((0..10_000u64).map(|i| (i, i)).collect::<Vec<_>>(), 2)
        .group_by_key()
        .count()
        .unwrap_err();
    assert!(err.to_string().contains("memory limit"), "{err}");
}
