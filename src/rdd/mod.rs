//! Resilient distributed datasets, as in Spark.
//!
//! An RDD is five things: a number of partitions, a function that computes
//! one partition, its dependencies on parent RDDs, an optional partitioner
//! (how its keys are spread over partitions) and, here unused, preferred
//! locations. Dependencies are *narrow* (each partition needs a bounded set
//! of parent partitions, computed in the same task) or *shuffle* (each
//! partition needs a piece of every parent partition). Transformations are
//! lazy: they only build lineage. An action hands the lineage to the
//! scheduler, which cuts it into stages at shuffle dependencies.
//!
//! [`Rdd<T>`] is the typed handle users hold. The scheduler never sees `T`:
//! it walks the object-safe [`RddBase`] lineage and runs tasks as closures.

mod accumulator;
mod actions;
mod broadcast;
mod cogroup;
mod debug;
mod narrow;
mod pair;
mod partitioner;
mod sample;
mod save;
mod shuffled;
mod sources;
mod transform;

pub use accumulator::{Accumulator, AccumulatorValue};
pub use broadcast::Broadcast;
pub use partitioner::{HashPartitioner, PartitionKey, Partitioner, RangePartitioner};

pub use shuffled::{ShuffleMapOutput, ShuffledRdd};

pub(crate) use sources::GeneratorRdd;

use std::mem::ManuallyDrop;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use crate::SessionContext;
use crate::error::Result;
use crate::scheduler::TaskContext;
use crate::session::SessionState;

/// Element types an RDD can hold: cloneable, shareable between threads.
pub trait Data: Clone + Send + Sync + 'static {}
impl<T: Clone + Send + Sync + 'static> Data for T {}

/// The iterator a partition is computed into.
pub type BoxIter<T> = Box<dyn Iterator<Item = T> + Send>;

/// How a persisted RDD keeps its partitions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StorageLevel {
    /// Deserialized values in memory; evicted partitions are recomputed.
    MemoryOnly,
}

/// State every RDD node has: identity, the operation that made it, its
/// session, and its storage level.
pub(crate) struct RddMeta {
    pub id: usize,
    pub name: String,
    pub session: Arc<SessionState>,
    storage: Mutex<Option<StorageLevel>>,
}

impl Drop for RddMeta {
    /// Cached partitions of an RDD nobody can reach any more are freed.
    fn drop(&mut self) {
        if self.storage_level().is_some() {
            self.session.cache.remove_rdd(self.id);
        }
    }
}

impl RddMeta {
    pub fn new(session: &Arc<SessionState>, name: impl Into<String>) -> Self {
        Self {
            id: session.next_rdd_id.fetch_add(1, Ordering::Relaxed),
            name: name.into(),
            session: Arc::clone(session),
            storage: Mutex::new(None),
        }
    }

    pub fn storage_level(&self) -> Option<StorageLevel> {
        *self.storage.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A dependency of an RDD on a parent.
#[derive(Clone)]
pub(crate) enum Dependency {
    /// Each partition needs a bounded set of parent partitions (one-to-one,
    /// a range for `union`, a group for `coalesce`): computed in the same task.
    Narrow(Arc<dyn RddBase>),
    /// Each partition needs a bucket from every parent partition: a stage
    /// boundary.
    Shuffle(Arc<dyn ShuffleDependencyBase>),
}

/// The untyped view of an RDD that the scheduler walks.
pub(crate) trait RddBase: Send + Sync + 'static {
    fn meta(&self) -> &RddMeta;
    fn num_partitions(&self) -> usize;
    fn dependencies(&self) -> Vec<Dependency>;
    fn partitioner(&self) -> Option<Arc<dyn Partitioner>> {
        None
    }
}

/// The typed compute function of an RDD node.
pub(crate) trait RddCompute<T>: RddBase {
    /// Computes partition `split`. Fails fast for errors known up front;
    /// errors found while iterating are reported through
    /// [`TaskContext::fail`], which ends the iterator.
    fn compute(&self, split: usize, tc: &Arc<TaskContext>) -> Result<BoxIter<T>>;
}

/// The untyped view of a shuffle dependency: enough for the scheduler to run
/// its map stage.
pub(crate) trait ShuffleDependencyBase: Send + Sync + 'static {
    fn shuffle_id(&self) -> usize;
    /// The map-side RDD.
    fn parent(&self) -> Arc<dyn RddBase>;
    /// Computes map partition `map_id` and stores its buckets in the shuffle
    /// store.
    fn run_map_task(&self, map_id: usize, tc: &Arc<TaskContext>) -> Result<()>;
}

/// A typed, immutable, partitioned collection computed lazily from its
/// lineage.
///
/// ```
/// use flint::SessionContext;
/// let ctx = SessionContext::new();
/// let squares = ctx.parallelize((1..=4).collect::<Vec<i32>>(), 2).map(|x| x * x);
/// assert_eq!(squares.collect().unwrap(), vec![1, 4, 9, 16]);
/// ```
pub struct Rdd<T> {
    pub(crate) node: ManuallyDrop<Arc<dyn RddCompute<T>>>,
}

impl<T> Clone for Rdd<T> {
    fn clone(&self) -> Self {
        Self {
            node: ManuallyDrop::new(Arc::clone(&self.node)),
        }
    }
}

thread_local! {
    /// Lineage nodes waiting to be dropped; `None` while no drop is running.
    static DROP_QUEUE: std::cell::RefCell<Option<Vec<Arc<dyn RddBase>>>> =
        const { std::cell::RefCell::new(None) };
}

impl<T> Drop for Rdd<T> {
    /// Dropping the last handle of a long lineage would recurse once per
    /// RDD and overflow the stack; instead, the outermost drop takes nodes
    /// off a queue one at a time, and nested drops only add to it.
    fn drop(&mut self) {
        // SAFETY: `node` is never used again; this is the only place that
        // takes it out of the `ManuallyDrop`.
        let node = unsafe { ManuallyDrop::take(&mut self.node) };
        if Arc::strong_count(&node) != 1 {
            return;
        }
        let node: Arc<dyn RddBase> = node;
        let outermost = DROP_QUEUE.with(|q| {
            let mut q = q.borrow_mut();
            match q.as_mut() {
                Some(queue) => {
                    queue.push(node);
                    false
                }
                None => {
                    *q = Some(vec![node]);
                    true
                }
            }
        });
        if !outermost {
            return;
        }
        // Dropping a node drops its parents' handles, which queue them.
        while let Some(next) = DROP_QUEUE.with(|q| q.borrow_mut().as_mut().and_then(Vec::pop)) {
            drop(next);
        }
        DROP_QUEUE.with(|q| *q.borrow_mut() = None);
    }
}

impl<T: 'static> std::fmt::Debug for Rdd<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Rdd[{}] {} ({} partitions)",
            self.id(),
            self.node.meta().name,
            self.node.num_partitions()
        )
    }
}

impl<T: 'static> Rdd<T> {
    /// The RDD's unique id within its session.
    pub fn id(&self) -> usize {
        self.node.meta().id
    }

    /// The operation that created this RDD, e.g. `map` or `reduce_by_key`.
    pub fn name(&self) -> &str {
        &self.node.meta().name
    }

    /// Number of partitions.
    pub fn num_partitions(&self) -> usize {
        self.node.num_partitions()
    }

    /// How keys are spread over partitions, if known.
    ///
    /// ```
    /// use flint::{HashPartitioner, SessionContext};
    /// let ctx = SessionContext::new();
    /// let pairs = ctx.parallelize(vec![(1, 'a'), (2, 'b')], 2);
    /// assert!(pairs.partitioner().is_none());
    /// let parted = pairs.partition_by(HashPartitioner::new(3));
    /// assert_eq!(parted.partitioner().unwrap().num_partitions(), 3);
    /// ```
    pub fn partitioner(&self) -> Option<Arc<dyn Partitioner>> {
        self.node.partitioner()
    }

    /// The session this RDD belongs to.
    pub fn context(&self) -> SessionContext {
        SessionContext::from_state(Arc::clone(&self.node.meta().session))
    }

    pub(crate) fn session(&self) -> &Arc<SessionState> {
        &self.node.meta().session
    }

    pub(crate) fn base(&self) -> Arc<dyn RddBase>
    where
        T: 'static,
    {
        Arc::clone(&*self.node) as Arc<dyn RddBase>
    }

    /// Keeps this RDD's partitions in memory once computed, so later jobs
    /// reuse them instead of recomputing the lineage.
    ///
    /// ```
    /// use flint::{SessionContext, StorageLevel};
    /// let ctx = SessionContext::new();
    /// let rdd = ctx.range(0, 10, 1, 2).persist(StorageLevel::MemoryOnly);
    /// assert_eq!(rdd.count().unwrap(), 10);
    /// assert_eq!(ctx.cache().cached_partitions(rdd.id()), 2);
    /// ```
    pub fn persist(self, level: StorageLevel) -> Self {
        *self.node.meta().storage.lock().unwrap_or_else(|p| p.into_inner()) = Some(level);
        self
    }

    /// Same as `persist(StorageLevel::MemoryOnly)`.
    pub fn cache(self) -> Self {
        self.persist(StorageLevel::MemoryOnly)
    }

    /// Stops caching this RDD and drops its cached partitions.
    pub fn unpersist(self) -> Self {
        *self.node.meta().storage.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.session().cache.remove_rdd(self.id());
        self
    }

    /// The storage level set by [`Rdd::persist`], if any.
    pub fn storage_level(&self) -> Option<StorageLevel> {
        self.node.meta().storage_level()
    }
}

impl<T: Data> Rdd<T> {
    pub(crate) fn from_node(node: impl RddCompute<T> + 'static) -> Self {
        Self {
            node: ManuallyDrop::new(Arc::new(node)),
        }
    }

    /// Computes partition `split`, going through the cache when the RDD is
    /// persisted (Spark's `RDD.iterator`).
    pub(crate) fn iterator(&self, split: usize, tc: &Arc<TaskContext>) -> Result<BoxIter<T>> {
        if self.storage_level().is_none() {
            return self.node.compute(split, tc);
        }
        let cache = &self.session().cache;
        if let Some(block) = cache.get::<Vec<T>>(self.id(), split)? {
            return Ok(Box::new(SharedVecIter::new(block)));
        }
        let values: Vec<T> = self.node.compute(split, tc)?.collect();
        if tc.has_failed() {
            // The partition is incomplete; never cache a partial result.
            return Ok(Box::new(values.into_iter()));
        }
        let block = Arc::new(values);
        cache.put(self.id(), split, Arc::clone(&block))?;
        Ok(Box::new(SharedVecIter::new(block)))
    }
}

/// Iterates over a shared vector by cloning its elements.
pub(crate) struct SharedVecIter<T> {
    data: Arc<Vec<T>>,
    pos: usize,
    end: usize,
}

impl<T> SharedVecIter<T> {
    pub fn new(data: Arc<Vec<T>>) -> Self {
        let end = data.len();
        Self { data, pos: 0, end }
    }

    pub fn range(data: Arc<Vec<T>>, start: usize, end: usize) -> Self {
        Self { data, pos: start, end }
    }
}

impl<T: Clone> Iterator for SharedVecIter<T> {
    type Item = T;
    #[inline]
    fn next(&mut self) -> Option<T> {
        if self.pos < self.end {
            let v = self.data[self.pos].clone();
            self.pos += 1;
            Some(v)
        } else {
            None
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end - self.pos;
        (n, Some(n))
    }
}
