//! The session: the entry point that owns the scheduler, the shuffle store,
//! the cache and the memory pool. Nothing in Flint is process-wide; two
//! sessions in one process share nothing.

use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, OnceLock};

use crate::config::SessionConfig;
use crate::error::{Error, Result};
use crate::memory::MemoryPool;
use crate::rdd::{Accumulator, AccumulatorValue, Broadcast};
use crate::scheduler::{DagScheduler, JobListener, JobMetrics};
use crate::shuffle::{BlockCache, ShuffleStore};

/// State shared by a session and every RDD it created.
pub(crate) struct SessionState {
    pub config: SessionConfig,
    pub catalog: crate::catalog::Catalog,
    /// User-defined scalar functions by lower-case name.
    pub udfs: std::sync::RwLock<std::collections::HashMap<String, Arc<crate::functions::ScalarUdf>>>,
    pub settings: std::sync::RwLock<crate::config::SqlSettings>,
    pub scheduler: DagScheduler,
    pub shuffle: ShuffleStore,
    pub cache: BlockCache,
    pub memory: Arc<MemoryPool>,
    pub next_rdd_id: AtomicUsize,
    pub next_shuffle_id: AtomicUsize,
    pub next_shared_id: AtomicUsize,
    runtime: OnceLock<tokio::runtime::Runtime>,
}

impl SessionState {
    /// Runs an async I/O future (object_store) to completion from
    /// synchronous code. The runtime is created on first use. Called from
    /// inside someone else's async runtime (Flint used from async code), the
    /// future runs on a helper thread, because blocking a runtime's thread
    /// on another runtime panics.
    pub fn block_on<F>(&self, fut: F) -> Result<F::Output>
    where
        F: std::future::Future + Send,
        F::Output: Send,
    {
        let rt = match self.runtime.get() {
            Some(rt) => rt,
            None => {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("flint-io")
                    .enable_all()
                    .build()
                    .map_err(|e| Error::Internal(format!("cannot start the I/O runtime: {e}")))?;
                self.runtime.get_or_init(|| rt)
            }
        };
        if tokio::runtime::Handle::try_current().is_err() {
            return Ok(rt.block_on(fut));
        }
        std::thread::scope(|s| {
            s.spawn(|| rt.block_on(fut))
                .join()
                .map_err(|_| Error::Internal("the I/O thread panicked".into()))
        })
    }
}

impl Drop for SessionState {
    fn drop(&mut self) {
        // Dropping a runtime inside another async context panics; shutting it
        // down in the background never does.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// The entry point to Flint: creates RDDs, shared variables and (later)
/// DataFrames, and runs their jobs.
///
/// ```
/// use flint::SessionContext;
/// let ctx = SessionContext::new();
/// let total: i64 = ctx.range(1, 101, 1, 4).reduce(|a, b| a + b).unwrap().unwrap();
/// assert_eq!(total, 5050);
/// ```
#[derive(Clone)]
pub struct SessionContext {
    pub(crate) state: Arc<SessionState>,
}

impl std::fmt::Debug for SessionContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionContext")
            .field("config", &self.state.config)
            .finish_non_exhaustive()
    }
}

impl Default for SessionContext {
    fn default() -> Self {
        Self::new()
    }
}

impl SessionContext {
    /// A session with the default configuration (one worker per core).
    pub fn new() -> Self {
        Self::with_config(SessionConfig::new())
    }

    /// A session with the given configuration.
    ///
    /// # Panics
    /// If the operating system refuses to start the worker threads.
    pub fn with_config(config: SessionConfig) -> Self {
        match Self::try_with_config(config) {
            Ok(ctx) => ctx,
            Err(e) => panic!("cannot create a Flint session: {e}"),
        }
    }

    /// Like [`SessionContext::with_config`], but returns an error instead of
    /// panicking when the worker threads cannot be started.
    pub fn try_with_config(config: SessionConfig) -> Result<Self> {
        let memory = MemoryPool::new(config.memory_limit);
        let state = SessionState {
            catalog: Default::default(),
            udfs: Default::default(),
            settings: std::sync::RwLock::new(crate::config::SqlSettings::new(config.worker_threads)),
            scheduler: DagScheduler::new(&config)?,
            shuffle: ShuffleStore::new(Arc::clone(&memory)),
            cache: BlockCache::new(Arc::clone(&memory)),
            memory,
            config,
            next_rdd_id: AtomicUsize::new(0),
            next_shuffle_id: AtomicUsize::new(0),
            next_shared_id: AtomicUsize::new(0),
            runtime: OnceLock::new(),
        };
        Ok(Self { state: Arc::new(state) })
    }

    pub(crate) fn from_state(state: Arc<SessionState>) -> Self {
        Self { state }
    }

    /// The session's configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.state.config
    }

    /// Partitions used when an operation is not told how many to make.
    pub fn default_parallelism(&self) -> usize {
        self.state.config.default_parallelism
    }

    /// Metrics of the most recent job that ended on this session.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let pairs = ctx.parallelize(vec![("a", 1), ("b", 2), ("a", 3)], 2);
    /// pairs.reduce_by_key(|x, y| x + y).collect().unwrap();
    /// let m = ctx.last_job_metrics().unwrap();
    /// assert_eq!(m.shuffle_stages(), 1);
    /// ```
    pub fn last_job_metrics(&self) -> Option<JobMetrics> {
        self.state.scheduler.last_job_metrics()
    }

    /// Registers a listener for job, stage and task events.
    pub fn add_job_listener(&self, listener: Arc<dyn JobListener>) {
        self.state.scheduler.add_listener(listener);
    }

    /// Asks every running job of this session to stop; their tasks notice
    /// between records and the jobs fail with [`Error::Cancelled`].
    pub fn cancel_all_jobs(&self) {
        self.state.scheduler.cancel_all_jobs();
    }

    /// The session's shuffle store (e.g. to simulate lost map output).
    pub fn shuffle_store(&self) -> &ShuffleStore {
        &self.state.shuffle
    }

    /// The session's cache of persisted partitions.
    pub fn cache(&self) -> &BlockCache {
        &self.state.cache
    }

    /// The session's memory pool.
    pub fn memory_pool(&self) -> &Arc<MemoryPool> {
        &self.state.memory
    }

    /// Shares a read-only value with all tasks; one copy, however many tasks
    /// read it.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let lookup = ctx.broadcast(vec![10, 20, 30]);
    /// let out = ctx
    ///     .parallelize(vec![0usize, 2], 2)
    ///     .map(move |i| lookup.value()[i])
    ///     .collect()
    ///     .unwrap();
    /// assert_eq!(out, vec![10, 30]);
    /// ```
    pub fn broadcast<T: Send + Sync + 'static>(&self, value: T) -> Broadcast<T> {
        Broadcast::new(self.next_shared_id(), value)
    }

    /// A generic accumulator starting at `zero`.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let longest = ctx.accumulator("longest", 0usize);
    /// let acc = longest.clone();
    /// ctx.parallelize(vec!["a", "abc", "ab"], 3).foreach(move |s| acc.add(s.len())).unwrap();
    /// assert_eq!(longest.value(), 6);
    /// ```
    pub fn accumulator<A: AccumulatorValue>(&self, name: &str, zero: A) -> Accumulator<A> {
        Accumulator::new(self.next_shared_id(), name, zero)
    }

    /// An accumulator summing `i64`s.
    pub fn long_accumulator(&self, name: &str) -> Accumulator<i64> {
        self.accumulator(name, 0i64)
    }

    /// An accumulator summing `f64`s.
    pub fn double_accumulator(&self, name: &str) -> Accumulator<f64> {
        self.accumulator(name, 0f64)
    }

    /// An accumulator collecting values into a list.
    pub fn collection_accumulator<T: Send + 'static>(&self, name: &str) -> Accumulator<Vec<T>> {
        self.accumulator(name, Vec::new())
    }

    fn next_shared_id(&self) -> usize {
        self.state
            .next_shared_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}
