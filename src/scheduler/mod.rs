//! The DAG scheduler: jobs → stages → tasks.
//!
//! An action submits a job on an RDD. The scheduler cuts the lineage into
//! stages at shuffle dependencies ([`stages`]), runs the shuffle-map stages
//! whose output is missing (parents first; stages whose output survives from
//! an earlier job are skipped), then the result stage: one task per
//! partition, on the session's `rayon` pool. Narrow dependencies are
//! pipelined inside a task. A task that errors or panics is retried up to
//! `max_task_attempts` times; shuffle output found missing mid-job
//! ([`Error::FetchFailed`]) makes the scheduler recompute it from lineage and
//! resume. Accumulator updates of an attempt apply only when it succeeds.

mod metrics;
mod stages;
mod task;

pub use metrics::{JobListener, JobMetrics, StageKind, StageMetrics};
pub(crate) use task::PendingUpdate;
pub use task::TaskContext;

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use rayon::prelude::*;

use crate::config::SessionConfig;
use crate::error::{Error, Result};
use crate::rdd::{BoxIter, Data, Rdd};
use crate::session::SessionState;

/// The session's scheduler: its task pool, job bookkeeping and listeners.
pub(crate) struct DagScheduler {
    pool: rayon::ThreadPool,
    next_job_id: AtomicUsize,
    next_stage_id: AtomicUsize,
    active_jobs: Mutex<HashMap<usize, Arc<AtomicBool>>>,
    last_metrics: Mutex<Option<JobMetrics>>,
    listeners: RwLock<Vec<Arc<dyn JobListener>>>,
}

impl DagScheduler {
    /// Runs `f` with the task pool as rayon's current pool, so that work it
    /// splits (a broadcast hash table's build) runs on the session's
    /// threads rather than rayon's global ones.
    pub(crate) fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.pool.install(f)
    }

    pub fn new(config: &SessionConfig) -> Result<Self> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(config.worker_threads)
            .stack_size(config.worker_stack_size)
            .thread_name(|i| format!("flint-worker-{i}"))
            .build()
            .map_err(|e| Error::Internal(format!("cannot start the task pool: {e}")))?;
        Ok(Self {
            pool,
            next_job_id: AtomicUsize::new(0),
            next_stage_id: AtomicUsize::new(0),
            active_jobs: Mutex::new(HashMap::new()),
            last_metrics: Mutex::new(None),
            listeners: RwLock::new(Vec::new()),
        })
    }

    pub fn last_job_metrics(&self) -> Option<JobMetrics> {
        self.last_metrics.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn add_listener(&self, l: Arc<dyn JobListener>) {
        self.listeners.write().unwrap_or_else(|p| p.into_inner()).push(l);
    }

    pub fn cancel_all_jobs(&self) {
        for flag in self.active_jobs.lock().unwrap_or_else(|p| p.into_inner()).values() {
            flag.store(true, Ordering::Relaxed);
        }
    }

    fn listeners(&self) -> Vec<Arc<dyn JobListener>> {
        self.listeners.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Runs `func` on the given partitions of `rdd` as one job and returns the
/// per-partition results in the order of `partitions`.
pub(crate) fn run_job<T, R, F>(
    session: &Arc<SessionState>,
    rdd: &Rdd<T>,
    partitions: &[usize],
    action: &str,
    func: F,
) -> Result<Vec<R>>
where
    T: Data,
    R: Send,
    F: Fn(&Arc<TaskContext>, BoxIter<T>) -> Result<R> + Send + Sync,
{
    let sched = &session.scheduler;
    let job_id = sched.next_job_id.fetch_add(1, Ordering::Relaxed);
    let cancel = Arc::new(AtomicBool::new(false));
    sched
        .active_jobs
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(job_id, Arc::clone(&cancel));
    let mut job = Job {
        session,
        job_id,
        cancel,
        listeners: sched.listeners(),
        stage_metrics: Vec::new(),
        resubmits: 0,
    };
    let started = Instant::now();
    let result = job.run(rdd, partitions, action, &func);
    sched
        .active_jobs
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&job_id);
    let metrics = JobMetrics {
        job_id,
        action: action.to_string(),
        stages: std::mem::take(&mut job.stage_metrics),
        resubmits: job.resubmits,
        succeeded: result.is_ok(),
        duration: started.elapsed(),
    };
    for l in &job.listeners {
        l.on_job_end(&metrics);
    }
    *sched.last_metrics.lock().unwrap_or_else(|p| p.into_inner()) = Some(metrics);
    result
}

struct Job<'a> {
    session: &'a Arc<SessionState>,
    job_id: usize,
    cancel: Arc<AtomicBool>,
    listeners: Vec<Arc<dyn JobListener>>,
    stage_metrics: Vec<StageMetrics>,
    resubmits: usize,
}

/// How a stage's batch of tasks ended.
enum StageOutcome<R> {
    Done(Vec<(usize, R)>),
    /// Some tasks found shuffle input missing; the rest finished.
    FetchFailed(Vec<(usize, R)>, Error),
}

impl Job<'_> {
    fn run<T, R, F>(&mut self, rdd: &Rdd<T>, partitions: &[usize], action: &str, func: &F) -> Result<Vec<R>>
    where
        T: Data,
        R: Send,
        F: Fn(&Arc<TaskContext>, BoxIter<T>) -> Result<R> + Send + Sync,
    {
        let sched = &self.session.scheduler;
        for &p in partitions {
            if p >= rdd.num_partitions() {
                return Err(Error::InvalidArgument(format!(
                    "partition {p} does not exist: {rdd:?} has {} partitions",
                    rdd.num_partitions()
                )));
            }
        }
        let graph = stages::build(rdd.base(), || sched.next_stage_id.fetch_add(1, Ordering::Relaxed));
        let result_stage = sched.next_stage_id.fetch_add(1, Ordering::Relaxed);
        for l in &self.listeners {
            l.on_job_start(self.job_id, action, graph.map_stages.len() + 1);
        }
        let mut stage_index: HashMap<usize, usize> = HashMap::new();
        for st in &graph.map_stages {
            let parent = st.dep.parent();
            stage_index.insert(st.stage_id, self.stage_metrics.len());
            self.stage_metrics.push(StageMetrics {
                stage_id: st.stage_id,
                kind: StageKind::ShuffleMap {
                    shuffle_id: st.dep.shuffle_id(),
                },
                name: format!("{} [{}]", parent.meta().name, parent.meta().id),
                num_partitions: parent.num_partitions(),
                skipped: true,
                tasks_succeeded: 0,
                task_attempts: 0,
                failed_attempts: 0,
                shuffle_records_written: 0,
                shuffle_bytes_written: 0,
                duration: Default::default(),
            });
        }
        let result_index = self.stage_metrics.len();
        self.stage_metrics.push(StageMetrics {
            stage_id: result_stage,
            kind: StageKind::Result,
            name: format!("{} [{}]", rdd.name(), rdd.id()),
            num_partitions: rdd.num_partitions(),
            skipped: false,
            tasks_succeeded: 0,
            task_attempts: 0,
            failed_attempts: 0,
            shuffle_records_written: 0,
            shuffle_bytes_written: 0,
            duration: Default::default(),
        });

        let mut results: Vec<Option<R>> = partitions.iter().map(|_| None).collect();
        let position: HashMap<usize, usize> = partitions.iter().enumerate().map(|(i, &p)| (p, i)).collect();
        if position.len() != partitions.len() {
            return Err(Error::Internal(format!("{action}: a partition was requested twice")));
        }
        'resubmit: loop {
            for st in &graph.map_stages {
                let num_maps = st.dep.parent().num_partitions();
                let missing = self.session.shuffle.missing_map_outputs(st.dep.shuffle_id(), num_maps);
                if missing.is_empty() {
                    continue;
                }
                let idx = stage_index[&st.stage_id];
                let dep = Arc::clone(&st.dep);
                let (session, listeners) = (self.session, self.listeners.clone());
                let (job_id, stage_id, shuffle_id) = (self.job_id, st.stage_id, st.dep.shuffle_id());
                let outcome = self.run_tasks(idx, &missing, &|tc, p| {
                    dep.run_map_task(p, tc)?;
                    if !listeners.is_empty() {
                        let records = session.shuffle.stats(shuffle_id, &[p]).records;
                        for l in &listeners {
                            l.on_shuffle_write(job_id, stage_id, p, records);
                        }
                    }
                    Ok(())
                })?;
                let shuffled = self.session.shuffle.stats(st.dep.shuffle_id(), &missing);
                let m = &mut self.stage_metrics[idx];
                m.shuffle_records_written += shuffled.records;
                m.shuffle_bytes_written += shuffled.bytes;
                if let StageOutcome::FetchFailed(_, e) = outcome {
                    self.resubmit(e)?;
                    continue 'resubmit;
                }
            }
            let pending: Vec<usize> = (0..partitions.len())
                .filter(|&i| results[i].is_none())
                .map(|i| partitions[i])
                .collect();
            if pending.is_empty() {
                break;
            }
            let outcome = self.run_tasks(result_index, &pending, &|tc, p| {
                let iter = rdd.iterator(p, tc)?;
                func(tc, tc.guard(iter))
            })?;
            let (done, failed) = match outcome {
                StageOutcome::Done(done) => (done, None),
                StageOutcome::FetchFailed(done, e) => (done, Some(e)),
            };
            for (p, r) in done {
                results[position[&p]] = Some(r);
            }
            match failed {
                Some(e) => self.resubmit(e)?,
                None => break,
            }
        }
        results
            .into_iter()
            .map(|r| r.ok_or_else(|| Error::Internal("a result task produced no result".into())))
            .collect()
    }

    fn resubmit(&mut self, cause: Error) -> Result<()> {
        self.resubmits += 1;
        if self.resubmits > self.session.config.max_stage_resubmits {
            return Err(cause.context(format!(
                "job {} gave up after {} stage resubmissions",
                self.job_id, self.session.config.max_stage_resubmits
            )));
        }
        Ok(())
    }

    /// Runs one task per partition in `items`.
    fn run_tasks<R: Send>(
        &mut self,
        stage_idx: usize,
        items: &[usize],
        body: &(dyn Fn(&Arc<TaskContext>, usize) -> Result<R> + Send + Sync),
    ) -> Result<StageOutcome<R>> {
        let stage_id = self.stage_metrics[stage_idx].stage_id;
        let stage_name = self.stage_metrics[stage_idx].name.clone();
        for l in &self.listeners {
            l.on_stage_start(self.job_id, stage_id, &stage_name, items.len());
        }
        let started = Instant::now();
        let attempts = AtomicUsize::new(0);
        let failures = AtomicUsize::new(0);
        let this = &*self;
        let outcomes: Vec<(usize, Result<R>)> = self.session.scheduler.pool.install(|| {
            items
                .par_iter()
                .map(|&item| {
                    let r = this.run_task(stage_id, &stage_name, item, body, &attempts, &failures);
                    if let Err(e) = &r
                        && !matches!(e, Error::FetchFailed { .. })
                    {
                        // Stop the job's other tasks soon: it is lost.
                        this.cancel.store(true, Ordering::Relaxed);
                    }
                    (item, r)
                })
                .collect()
        });
        let m = &mut self.stage_metrics[stage_idx];
        m.skipped = false;
        m.duration += started.elapsed();
        m.task_attempts += attempts.load(Ordering::Relaxed);
        m.failed_attempts += failures.load(Ordering::Relaxed);
        let mut done = Vec::with_capacity(outcomes.len());
        let mut fetch_failed = None;
        let mut fatal = None;
        for (item, r) in outcomes {
            match r {
                Ok(v) => done.push((item, v)),
                Err(e @ Error::FetchFailed { .. }) => fetch_failed = Some(e),
                Err(e) => {
                    // Prefer the task's own error over the cancellations it caused.
                    if fatal.is_none() || matches!(fatal, Some(Error::Cancelled(_))) {
                        fatal = Some(e);
                    }
                }
            }
        }
        m.tasks_succeeded += done.len();
        if let Some(e) = fatal {
            return Err(e);
        }
        Ok(match fetch_failed {
            Some(e) => StageOutcome::FetchFailed(done, e),
            None => StageOutcome::Done(done),
        })
    }

    /// Runs one task, retrying failed attempts.
    fn run_task<R>(
        &self,
        stage_id: usize,
        stage_name: &str,
        item: usize,
        body: &(dyn Fn(&Arc<TaskContext>, usize) -> Result<R> + Send + Sync),
        attempts: &AtomicUsize,
        failures: &AtomicUsize,
    ) -> Result<R> {
        let config = &self.session.config;
        let mut last_error = None;
        let mut attempts_made = 0;
        for attempt in 0..config.max_task_attempts {
            attempts_made = attempt + 1;
            if self.cancel.load(Ordering::Relaxed) {
                return Err(Error::Cancelled(self.job_id));
            }
            attempts.fetch_add(1, Ordering::Relaxed);
            let tc = TaskContext::new(
                Arc::clone(self.session),
                self.job_id,
                stage_id,
                item,
                attempt,
                Arc::clone(&self.cancel),
            );
            let outcome = TaskContext::enter(&tc, || catch_unwind(AssertUnwindSafe(|| body(&tc, item))));
            let mut result = match outcome {
                Ok(Ok(v)) => match tc.take_failure() {
                    None => Ok(v),
                    Some(e) => Err(e),
                },
                Ok(Err(e)) => Err(tc.take_failure().unwrap_or(e)),
                Err(payload) => Err(Error::Panic(panic_message(payload.as_ref()))),
            };
            if result.is_ok()
                && let Some(f) = &config.fault_injection
                && f.should_fail(stage_id, item, attempt)
            {
                result = Err(Error::InjectedFault {
                    stage_id,
                    partition: item,
                    attempt,
                });
            }
            match result {
                Ok(v) => {
                    tc.commit();
                    for l in &self.listeners {
                        l.on_task_end(self.job_id, stage_id, item, true);
                    }
                    return Ok(v);
                }
                Err(e @ (Error::FetchFailed { .. } | Error::Cancelled(_))) => return Err(e),
                // Evaluation errors on data (division by zero, a bad cast)
                // recur on every attempt: fail at once.
                Err(e @ Error::Execution(_)) => {
                    failures.fetch_add(1, Ordering::Relaxed);
                    last_error = Some(e);
                    break;
                }
                Err(e) => {
                    failures.fetch_add(1, Ordering::Relaxed);
                    last_error = Some(e);
                }
            }
        }
        for l in &self.listeners {
            l.on_task_end(self.job_id, stage_id, item, false);
        }
        Err(Error::JobAborted {
            job_id: self.job_id,
            stage_id,
            stage_name: stage_name.to_string(),
            partition: item,
            attempts: attempts_made,
            source: Box::new(last_error.unwrap_or_else(|| Error::Internal("task never ran".into()))),
        })
    }
}

/// The text of a panic payload (`panic!` with a literal or a format string).
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_string()
    }
}
