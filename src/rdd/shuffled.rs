//! The shuffle: a map side that splits each parent partition into buckets,
//! and an RDD whose partition `r` is built from bucket `r` of every map
//! output.
//!
//! Both sides are functions, so pair RDDs (hash tables of `(K, V)`), range
//! sorts and the SQL engine's exchanges of Arrow batches all use the same
//! node.

use std::marker::PhantomData;
use std::sync::Arc;

use super::{BoxIter, Data, Dependency, Partitioner, Rdd, RddBase, RddCompute, RddMeta, ShuffleDependencyBase};
use crate::error::Result;
use crate::scheduler::TaskContext;
use crate::shuffle::{Block, MapOutput};

type WriteFn<T, B> = dyn Fn(usize, BoxIter<T>, &Arc<TaskContext>) -> Result<Vec<B>> + Send + Sync;
type ReadFn<B, U> = dyn Fn(usize, Vec<Arc<MapOutput<B>>>, &Arc<TaskContext>) -> Result<BoxIter<U>> + Send + Sync;

/// The map side of a shuffle: a parent RDD and how to bucket a partition.
pub(crate) struct ShuffleDependency<T, B> {
    shuffle_id: usize,
    session: Arc<crate::session::SessionState>,
    parent: Rdd<T>,
    num_reduce: usize,
    write: Arc<WriteFn<T, B>>,
}

impl<T, B> Drop for ShuffleDependency<T, B> {
    /// The shuffle's output lives as long as some RDD can read it (Spark's
    /// context cleaner does the same when a shuffle is garbage collected).
    fn drop(&mut self) {
        self.session.shuffle.remove_shuffle(self.shuffle_id);
    }
}

impl<T: Data, B: Block> ShuffleDependencyBase for ShuffleDependency<T, B> {
    fn shuffle_id(&self) -> usize {
        self.shuffle_id
    }
    fn parent(&self) -> Arc<dyn RddBase> {
        self.parent.base()
    }
    fn run_map_task(&self, map_id: usize, tc: &Arc<TaskContext>) -> Result<()> {
        let input = tc.guard(self.parent.iterator(map_id, tc)?);
        let buckets = (self.write)(map_id, input, tc)?;
        if tc.has_failed() {
            // The input ended early because of an error; store nothing.
            return Ok(());
        }
        if buckets.len() != self.num_reduce {
            return Err(crate::Error::Internal(format!(
                "shuffle {} map {map_id} wrote {} buckets, expected {}",
                self.shuffle_id,
                buckets.len(),
                self.num_reduce
            )));
        }
        let store = &tc.session.shuffle;
        let (output, stats) = store.new_output(buckets)?;
        store.put(self.shuffle_id, map_id, self.parent.num_partitions(), output, stats);
        Ok(())
    }
}

/// An RDD computed from the buckets a shuffle's map tasks wrote.
pub struct ShuffledRdd<B, U> {
    meta: RddMeta,
    dep: Arc<dyn ShuffleDependencyBase>,
    shuffle_id: usize,
    num_maps: usize,
    num_reduce: usize,
    read: Arc<ReadFn<B, U>>,
    partitioner: Option<Arc<dyn Partitioner>>,
    _block: PhantomData<fn() -> B>,
}

/// The map outputs a reduce task gets: bucket `r` of output `m` is
/// `outputs[m].buckets[r]`.
pub type ShuffleMapOutput<B> = Vec<Arc<MapOutput<B>>>;

impl<T: Data> Rdd<T> {
    /// Shuffles this RDD into `num_reduce` partitions: `write` splits a map
    /// partition into one bucket per reduce partition, `read` builds reduce
    /// partition `r` from the map outputs. `partitioner`, if given, is what
    /// the result is known to be partitioned by.
    pub(crate) fn shuffle<B: Block, U: Data>(
        &self,
        name: &str,
        num_reduce: usize,
        partitioner: Option<Arc<dyn Partitioner>>,
        write: impl Fn(usize, BoxIter<T>, &Arc<TaskContext>) -> Result<Vec<B>> + Send + Sync + 'static,
        read: impl Fn(usize, ShuffleMapOutput<B>, &Arc<TaskContext>) -> Result<BoxIter<U>> + Send + Sync + 'static,
    ) -> Rdd<U> {
        let session = self.session();
        let shuffle_id = session
            .next_shuffle_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dep = ShuffleDependency {
            shuffle_id,
            session: Arc::clone(session),
            parent: self.clone(),
            num_reduce,
            write: Arc::new(write),
        };
        Rdd::from_node(ShuffledRdd {
            meta: RddMeta::new(session, name),
            dep: Arc::new(dep),
            shuffle_id,
            num_maps: self.num_partitions(),
            num_reduce,
            read: Arc::new(read),
            partitioner,
            _block: PhantomData,
        })
    }
}

impl<B: Block, U: Data> RddBase for ShuffledRdd<B, U> {
    fn meta(&self) -> &RddMeta {
        &self.meta
    }
    fn num_partitions(&self) -> usize {
        self.num_reduce
    }
    fn dependencies(&self) -> Vec<Dependency> {
        vec![Dependency::Shuffle(Arc::clone(&self.dep))]
    }
    fn partitioner(&self) -> Option<Arc<dyn Partitioner>> {
        self.partitioner.clone()
    }
}

impl<B: Block, U: Data> RddCompute<U> for ShuffledRdd<B, U> {
    fn compute(&self, split: usize, tc: &Arc<TaskContext>) -> Result<BoxIter<U>> {
        let outputs = tc.session.shuffle.fetch::<B>(self.shuffle_id, self.num_maps)?;
        // A bucket freed after its last planned read is gone: this is a
        // read nobody counted. Its map outputs are dropped, so that the
        // scheduler writes them again from lineage, as for lost ones.
        let taken: Vec<usize> = (0..outputs.len())
            .filter(|&m| outputs[m].buckets.get(split).is_some_and(|b| b.is_taken()))
            .collect();
        if let Some(&map_id) = taken.first() {
            for &m in &taken {
                tc.session.shuffle.remove_map_output(self.shuffle_id, m);
            }
            return Err(crate::Error::FetchFailed {
                shuffle_id: self.shuffle_id,
                map_id,
            });
        }
        (self.read)(split, outputs, tc)
    }
}
