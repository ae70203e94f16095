//! RDD nodes with only narrow dependencies: computed inside the task of
//! their child, with no data movement between partitions.

use std::sync::Arc;

use super::{BoxIter, Data, Dependency, Partitioner, Rdd, RddBase, RddCompute, RddMeta};
use crate::error::Result;
use crate::scheduler::TaskContext;

pub(crate) type PartitionFn<T, U> = dyn Fn(usize, BoxIter<T>, &Arc<TaskContext>) -> Result<BoxIter<U>> + Send + Sync;

/// Applies a function to each partition of its parent (map, filter, ...).
pub(crate) struct MapPartitionsRdd<T, U> {
    meta: RddMeta,
    parent: Rdd<T>,
    f: Arc<PartitionFn<T, U>>,
    partitioner: Option<Arc<dyn Partitioner>>,
}

impl<T: Data, U: Data> MapPartitionsRdd<T, U> {
    /// `preserves_partitioning` keeps the parent's partitioner (keys are
    /// unchanged, as for `filter` or `map_values`).
    pub fn create(
        parent: &Rdd<T>,
        name: &str,
        preserves_partitioning: bool,
        f: impl Fn(usize, BoxIter<T>, &Arc<TaskContext>) -> Result<BoxIter<U>> + Send + Sync + 'static,
    ) -> Rdd<U> {
        Rdd::from_node(Self {
            meta: RddMeta::new(parent.session(), name),
            parent: parent.clone(),
            f: Arc::new(f),
            partitioner: if preserves_partitioning {
                parent.partitioner()
            } else {
                None
            },
        })
    }
}

impl<T: Data, U: Data> RddBase for MapPartitionsRdd<T, U> {
    fn meta(&self) -> &RddMeta {
        &self.meta
    }
    fn num_partitions(&self) -> usize {
        self.parent.num_partitions()
    }
    fn dependencies(&self) -> Vec<Dependency> {
        vec![Dependency::Narrow(self.parent.base())]
    }
    fn partitioner(&self) -> Option<Arc<dyn Partitioner>> {
        self.partitioner.clone()
    }
}

impl<T: Data, U: Data> RddCompute<U> for MapPartitionsRdd<T, U> {
    fn compute(&self, split: usize, tc: &Arc<TaskContext>) -> Result<BoxIter<U>> {
        let input = self.parent.iterator(split, tc)?;
        (self.f)(split, input, tc)
    }
}

/// The partitions of several RDDs, one after another.
pub(crate) struct UnionRdd<T> {
    meta: RddMeta,
    parents: Vec<Rdd<T>>,
}

impl<T: Data> UnionRdd<T> {
    pub fn create(parents: Vec<Rdd<T>>) -> Rdd<T> {
        Rdd::from_node(Self {
            meta: RddMeta::new(parents[0].session(), "union"),
            parents,
        })
    }

    fn locate(&self, mut split: usize) -> Option<(&Rdd<T>, usize)> {
        for p in &self.parents {
            if split < p.num_partitions() {
                return Some((p, split));
            }
            split -= p.num_partitions();
        }
        None
    }
}

impl<T: Data> RddBase for UnionRdd<T> {
    fn meta(&self) -> &RddMeta {
        &self.meta
    }
    fn num_partitions(&self) -> usize {
        self.parents.iter().map(|p| p.num_partitions()).sum()
    }
    fn dependencies(&self) -> Vec<Dependency> {
        self.parents.iter().map(|p| Dependency::Narrow(p.base())).collect()
    }
}

impl<T: Data> RddCompute<T> for UnionRdd<T> {
    fn compute(&self, split: usize, tc: &Arc<TaskContext>) -> Result<BoxIter<T>> {
        match self.locate(split) {
            Some((rdd, s)) => rdd.iterator(s, tc),
            None => Err(crate::Error::Internal(format!("union has no partition {split}"))),
        }
    }
}

/// Merges groups of parent partitions into fewer partitions, without a
/// shuffle.
pub(crate) struct CoalescedRdd<T> {
    meta: RddMeta,
    parent: Rdd<T>,
    groups: Vec<Vec<usize>>,
}

impl<T: Data> CoalescedRdd<T> {
    pub fn create(parent: &Rdd<T>, n: usize) -> Rdd<T> {
        let total = parent.num_partitions();
        let n = n.clamp(1, total.max(1));
        let groups = (0..n).map(|i| (i * total / n..(i + 1) * total / n).collect()).collect();
        Rdd::from_node(Self {
            meta: RddMeta::new(parent.session(), "coalesce"),
            parent: parent.clone(),
            groups,
        })
    }
}

impl<T: Data> RddBase for CoalescedRdd<T> {
    fn meta(&self) -> &RddMeta {
        &self.meta
    }
    fn num_partitions(&self) -> usize {
        self.groups.len()
    }
    fn dependencies(&self) -> Vec<Dependency> {
        vec![Dependency::Narrow(self.parent.base())]
    }
}

impl<T: Data> RddCompute<T> for CoalescedRdd<T> {
    fn compute(&self, split: usize, tc: &Arc<TaskContext>) -> Result<BoxIter<T>> {
        let iters = self.groups[split]
            .iter()
            .map(|&p| self.parent.iterator(p, tc))
            .collect::<Result<Vec<_>>>()?;
        Ok(Box::new(iters.into_iter().flatten()))
    }
}

/// Every pair of an element of one RDD with an element of another.
pub(crate) struct CartesianRdd<T, U> {
    meta: RddMeta,
    left: Rdd<T>,
    right: Rdd<U>,
}

impl<T: Data, U: Data> CartesianRdd<T, U> {
    pub fn create(left: &Rdd<T>, right: &Rdd<U>) -> Rdd<(T, U)> {
        Rdd::from_node(Self {
            meta: RddMeta::new(left.session(), "cartesian"),
            left: left.clone(),
            right: right.clone(),
        })
    }
}

impl<T: Data, U: Data> RddBase for CartesianRdd<T, U> {
    fn meta(&self) -> &RddMeta {
        &self.meta
    }
    fn num_partitions(&self) -> usize {
        self.left.num_partitions() * self.right.num_partitions()
    }
    fn dependencies(&self) -> Vec<Dependency> {
        vec![
            Dependency::Narrow(self.left.base()),
            Dependency::Narrow(self.right.base()),
        ]
    }
}

impl<T: Data, U: Data> RddCompute<(T, U)> for CartesianRdd<T, U> {
    fn compute(&self, split: usize, tc: &Arc<TaskContext>) -> Result<BoxIter<(T, U)>> {
        let nr = self.right.num_partitions();
        let right: Arc<Vec<U>> = Arc::new(self.right.iterator(split % nr, tc)?.collect());
        let left = self.left.iterator(split / nr, tc)?;
        Ok(Box::new(left.flat_map(move |x| {
            let right = Arc::clone(&right);
            (0..right.len()).map(move |i| (x.clone(), right[i].clone()))
        })))
    }
}

type ZipFn<A, B, U> = dyn Fn(usize, BoxIter<A>, BoxIter<B>, &Arc<TaskContext>) -> Result<BoxIter<U>> + Send + Sync;

/// Partition `i` of two RDDs with the same number of partitions, combined
/// in one task (Spark's `zipPartitions`).
pub(crate) struct ZippedPartitionsRdd<A, B, U> {
    meta: RddMeta,
    left: Rdd<A>,
    right: Rdd<B>,
    f: Arc<ZipFn<A, B, U>>,
}

impl<A: Data, B: Data, U: Data> RddBase for ZippedPartitionsRdd<A, B, U> {
    fn meta(&self) -> &RddMeta {
        &self.meta
    }
    fn num_partitions(&self) -> usize {
        self.left.num_partitions()
    }
    fn dependencies(&self) -> Vec<Dependency> {
        vec![
            Dependency::Narrow(self.left.base()),
            Dependency::Narrow(self.right.base()),
        ]
    }
}

impl<A: Data, B: Data, U: Data> RddCompute<U> for ZippedPartitionsRdd<A, B, U> {
    fn compute(&self, split: usize, tc: &Arc<TaskContext>) -> Result<BoxIter<U>> {
        let l = self.left.iterator(split, tc)?;
        let r = self.right.iterator(split, tc)?;
        (self.f)(split, l, r, tc)
    }
}

impl<A: Data> Rdd<A> {
    /// Combines partition `i` of `self` with partition `i` of `other` in one
    /// task; both must have the same number of partitions.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let a = ctx.parallelize(vec![1, 2, 3, 4], 2);
    /// let b = ctx.parallelize(vec![10, 20, 30, 40], 2);
    /// let sums = a.zip_partitions(&b, |x, y| x.zip(y).map(|(p, q)| p + q)).unwrap();
    /// assert_eq!(sums.collect().unwrap(), vec![11, 22, 33, 44]);
    /// ```
    pub fn zip_partitions<B: Data, U: Data, I>(
        &self,
        other: &Rdd<B>,
        f: impl Fn(BoxIter<A>, BoxIter<B>) -> I + Send + Sync + 'static,
    ) -> Result<Rdd<U>>
    where
        I: Iterator<Item = U> + Send + 'static,
    {
        self.try_zip_partitions(other, move |_, a, b, _| Ok(Box::new(f(a, b)) as BoxIter<U>))
    }

    pub(crate) fn try_zip_partitions<B: Data, U: Data>(
        &self,
        other: &Rdd<B>,
        f: impl Fn(usize, BoxIter<A>, BoxIter<B>, &Arc<TaskContext>) -> Result<BoxIter<U>> + Send + Sync + 'static,
    ) -> Result<Rdd<U>> {
        if self.num_partitions() != other.num_partitions() {
            return Err(crate::Error::InvalidArgument(format!(
                "zip_partitions needs equal partition counts, got {} and {}",
                self.num_partitions(),
                other.num_partitions()
            )));
        }
        Ok(Rdd::from_node(ZippedPartitionsRdd {
            meta: RddMeta::new(self.session(), "zip_partitions"),
            left: self.clone(),
            right: other.clone(),
            f: Arc::new(f),
        }))
    }
}

/// Computes each partition of its parent once for a known number of
/// readers and keeps it in memory only until the last of them has read it:
/// a subplan that a query uses twice (TPC-H q21 filters `lineitem` the
/// same way for two joins) runs once. A partition is computed again when a
/// reader comes after it was released (a retried task) or when the memory
/// pool cannot hold it.
pub(crate) struct SharedRdd<T> {
    meta: RddMeta,
    parent: Rdd<T>,
    readers: usize,
    bytes: fn(&[T]) -> usize,
    slots: Vec<std::sync::Mutex<SharedSlot<T>>>,
}

struct SharedSlot<T> {
    block: Option<(Arc<Vec<T>>, crate::memory::Reservation)>,
    reads: usize,
}

impl<T: Data> SharedRdd<T> {
    /// `parent` shared by `readers` readers; `bytes` sizes a partition for
    /// the memory pool.
    pub fn create(parent: &Rdd<T>, readers: usize, bytes: fn(&[T]) -> usize) -> Rdd<T> {
        let slots = (0..parent.num_partitions())
            .map(|_| std::sync::Mutex::new(SharedSlot { block: None, reads: 0 }))
            .collect();
        Rdd::from_node(Self {
            meta: RddMeta::new(parent.session(), "shared"),
            parent: parent.clone(),
            readers,
            bytes,
            slots,
        })
    }
}

impl<T: Data> RddBase for SharedRdd<T> {
    fn meta(&self) -> &RddMeta {
        &self.meta
    }
    fn num_partitions(&self) -> usize {
        self.parent.num_partitions()
    }
    fn dependencies(&self) -> Vec<Dependency> {
        vec![Dependency::Narrow(self.parent.base())]
    }
    fn partitioner(&self) -> Option<Arc<dyn Partitioner>> {
        self.parent.partitioner()
    }
}

impl<T: Data + Clone> RddCompute<T> for SharedRdd<T> {
    fn compute(&self, split: usize, tc: &Arc<TaskContext>) -> Result<BoxIter<T>> {
        let Some(slot) = self.slots.get(split) else {
            return self.parent.iterator(split, tc);
        };
        // Held while computing, so a second reader of the same partition
        // waits for it rather than computing it too.
        let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        slot.reads += 1;
        let last = slot.reads >= self.readers;
        if let Some((block, _)) = &slot.block {
            let block = Arc::clone(block);
            if last {
                slot.block = None;
            }
            return Ok(Box::new(super::SharedVecIter::new(block)));
        }
        let values: Vec<T> = self.parent.iterator(split, tc)?.collect();
        let block = Arc::new(values);
        if !last && !tc.has_failed() {
            let bytes = (self.bytes)(&block);
            if let Ok(held) = self.parent.session().memory.reserve("shared subplan", bytes) {
                slot.block = Some((Arc::clone(&block), held));
            }
        }
        Ok(Box::new(super::SharedVecIter::new(block)))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::SessionContext;

    #[test]
    fn a_shared_partition_is_computed_once_then_released() {
        let ctx = SessionContext::new();
        let computed = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&computed);
        let rdd = ctx
            .parallelize((0..10).collect::<Vec<i64>>(), 2)
            .map(move |x| {
                seen.fetch_add(1, Ordering::Relaxed);
                x
            })
            .share(2, |v| v.len() * 8);
        assert_eq!(rdd.collect().unwrap(), (0..10).collect::<Vec<_>>());
        assert_eq!(computed.load(Ordering::Relaxed), 10);
        assert_eq!(ctx.state.memory.used(), 80);
        // The second reader gets the kept partitions, and then they go ...
        assert_eq!(rdd.collect().unwrap(), (0..10).collect::<Vec<_>>());
        assert_eq!(computed.load(Ordering::Relaxed), 10);
        assert_eq!(ctx.state.memory.used(), 0);
        // ... so a third reader computes them again, and keeps nothing.
        assert_eq!(rdd.collect().unwrap(), (0..10).collect::<Vec<_>>());
        assert_eq!(computed.load(Ordering::Relaxed), 20);
        assert_eq!(ctx.state.memory.used(), 0);
    }
}
