//! How keys are spread over partitions.
//!
//! An RDD that knows its partitioner lets later operations skip a shuffle:
//! `reduce_by_key`, `group_by_key`, `join` and `cogroup` on inputs already
//! partitioned by an *equivalent* partitioner run locally in each partition.

use std::any::Any;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

use super::{Data, Rdd};
use crate::error::Result;

/// A key as partitioners see it: hashable, and downcastable to its concrete
/// type for partitioners that compare keys.
pub trait PartitionKey: Any {
    /// A hash that is the same for equal keys in every task of the session.
    fn partition_hash(&self) -> u64;
    /// The key as `Any`, for partitioners that need its concrete type.
    fn as_any(&self) -> &dyn Any;
}

/// Seed of the partitioning hash; distinct from the seeds of in-partition
/// hash tables so that keys of one partition do not cluster in them.
const PARTITION_SEED: u64 = 0x5eed_f11e_7000_0001;

impl<K: Hash + Any> PartitionKey for K {
    fn partition_hash(&self) -> u64 {
        foldhash::fast::FixedState::with_seed(PARTITION_SEED).hash_one(self)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Maps keys to partition ids in `0..num_partitions()`.
///
/// ```
/// use flint::{HashPartitioner, Partitioner};
/// let p = HashPartitioner::new(4);
/// let part = p.partition(&"some key");
/// assert!(part < 4);
/// assert_eq!(part, p.partition(&"some key"));
/// assert!(p.equivalent(&HashPartitioner::new(4)));
/// ```
pub trait Partitioner: Send + Sync + std::fmt::Debug + 'static {
    /// Number of partitions keys are spread over.
    fn num_partitions(&self) -> usize;
    /// The partition of `key`.
    fn partition(&self, key: &dyn PartitionKey) -> usize;
    /// True when both partitioners put every key in the same partition, so
    /// data partitioned by one is partitioned by the other.
    fn equivalent(&self, other: &dyn Partitioner) -> bool;
    /// The partitioner as `Any`, for `equivalent`.
    fn as_any(&self) -> &dyn Any;
}

/// Partitions keys by hash (Spark's `HashPartitioner`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashPartitioner {
    partitions: usize,
}

impl HashPartitioner {
    /// Spreads keys over `partitions` partitions (at least 1).
    pub fn new(partitions: usize) -> Self {
        Self {
            partitions: partitions.max(1),
        }
    }
}

impl Partitioner for HashPartitioner {
    fn num_partitions(&self) -> usize {
        self.partitions
    }
    fn partition(&self, key: &dyn PartitionKey) -> usize {
        // Multiply-shift maps the hash onto 0..n without a division.
        ((key.partition_hash() as u128 * self.partitions as u128) >> 64) as usize
    }
    fn equivalent(&self, other: &dyn Partitioner) -> bool {
        other.as_any().downcast_ref::<Self>().is_some_and(|o| o == self)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Partitions ordered keys into contiguous ranges (Spark's
/// `RangePartitioner`), with bounds taken from a sample of the RDD's keys.
///
/// ```
/// use flint::{Partitioner, RangePartitioner, SessionContext};
/// let ctx = SessionContext::new();
/// let pairs = ctx.parallelize((0..1000).map(|i| (i, ())).collect::<Vec<_>>(), 4);
/// let p = RangePartitioner::new(4, &pairs).unwrap();
/// assert_eq!(p.num_partitions(), 4);
/// assert!(p.partition(&10) <= p.partition(&500));
/// assert!(p.partition(&500) <= p.partition(&990));
/// ```
#[derive(Clone, Debug)]
pub struct RangePartitioner<K> {
    bounds: Arc<Vec<K>>,
    ascending: bool,
}

/// Keys sampled per requested partition, as Spark's default of 20.
const SAMPLES_PER_PARTITION: usize = 20;

impl<K: Data + Ord + std::fmt::Debug> RangePartitioner<K> {
    /// Samples the keys of `rdd` (one job) and picks `partitions - 1` bounds
    /// that split the sample evenly, for ascending order.
    pub fn new<V: Data>(partitions: usize, rdd: &Rdd<(K, V)>) -> Result<Self> {
        Self::with_order(partitions, rdd, true)
    }

    /// Like [`RangePartitioner::new`]; with `ascending == false` partition 0
    /// holds the largest keys.
    pub fn with_order<V: Data>(partitions: usize, rdd: &Rdd<(K, V)>, ascending: bool) -> Result<Self> {
        let partitions = partitions.max(1);
        if partitions == 1 {
            return Ok(Self::from_bounds(Vec::new(), ascending));
        }
        let sample_total = (SAMPLES_PER_PARTITION * partitions).min(1_000_000);
        let per_partition = (3 * sample_total).div_ceil(rdd.num_partitions().max(1));
        // Reservoir-sample each partition, remembering its size so that
        // each sampled key can be weighted by the share of data it stands for.
        let samples = rdd.map(|(k, _)| k).sample_partitions(per_partition)?;
        let mut weighted: Vec<(K, f64)> = Vec::new();
        for (count, keys) in samples {
            if keys.is_empty() {
                continue;
            }
            let weight = count as f64 / keys.len() as f64;
            weighted.extend(keys.into_iter().map(|k| (k, weight)));
        }
        weighted.sort_by(|a, b| a.0.cmp(&b.0));
        let total: f64 = weighted.iter().map(|(_, w)| w).sum();
        let step = total / partitions as f64;
        let mut bounds: Vec<K> = Vec::with_capacity(partitions - 1);
        let mut cumulative = 0.0;
        let mut target = step;
        for (k, w) in weighted {
            cumulative += w;
            if cumulative >= target && bounds.len() < partitions - 1 && bounds.last().is_none_or(|b| *b < k) {
                bounds.push(k);
                target += step;
            }
        }
        Ok(Self::from_bounds(bounds, ascending))
    }

    /// A range partitioner with explicit, sorted upper bounds: partition `i`
    /// holds keys `<= bounds[i]` (and `> bounds[i-1]`).
    pub fn from_bounds(bounds: Vec<K>, ascending: bool) -> Self {
        Self {
            bounds: Arc::new(bounds),
            ascending,
        }
    }

    /// The partition bounds.
    pub fn bounds(&self) -> &[K] {
        &self.bounds
    }

    fn partition_of(&self, key: &K) -> usize {
        let i = self.bounds.partition_point(|b| b < key);
        if self.ascending { i } else { self.bounds.len() - i }
    }
}

impl<K: Data + Ord + std::fmt::Debug> Partitioner for RangePartitioner<K> {
    fn num_partitions(&self) -> usize {
        self.bounds.len() + 1
    }
    fn partition(&self, key: &dyn PartitionKey) -> usize {
        match key.as_any().downcast_ref::<K>() {
            Some(k) => self.partition_of(k),
            // A key of another type can only come from a programming error
            // upstream; send it to the first partition rather than panic.
            None => 0,
        }
    }
    fn equivalent(&self, other: &dyn Partitioner) -> bool {
        other
            .as_any()
            .downcast_ref::<Self>()
            .is_some_and(|o| o.ascending == self.ascending && o.bounds == self.bounds)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_partitions_spread() {
        let p = HashPartitioner::new(8);
        let mut counts = [0; 8];
        for k in 0..8000u64 {
            counts[p.partition(&k)] += 1;
        }
        assert!(counts.iter().all(|&c| c > 800 && c < 1200), "{counts:?}");
    }

    #[test]
    fn range_partitions_by_bounds() {
        let p = RangePartitioner::from_bounds(vec![10, 20], true);
        assert_eq!(p.partition(&5), 0);
        assert_eq!(p.partition(&10), 0);
        assert_eq!(p.partition(&11), 1);
        assert_eq!(p.partition(&25), 2);
        let d = RangePartitioner::from_bounds(vec![10, 20], false);
        assert_eq!(d.partition(&25), 0);
        assert_eq!(d.partition(&5), 2);
        assert!(!p.equivalent(&d));
        assert!(p.equivalent(&RangePartitioner::from_bounds(vec![10, 20], true)));
        assert!(!p.equivalent(&HashPartitioner::new(3)));
    }
}
