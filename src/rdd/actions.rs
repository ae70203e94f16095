//! Actions: each runs one job (or, for `take`, a few small ones) and brings
//! a result back to the driver.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::Hash;

use super::{BoxIter, Data, Rdd};
use crate::error::Result;
use crate::scheduler::run_job;

/// `take` first scans one partition, then grows the number scanned by this
/// factor while it has too few elements (Spark's `limitScaleUpFactor`).
const TAKE_SCALE_UP: usize = 4;

impl<T: Data> Rdd<T> {
    fn all_partitions(&self) -> Vec<usize> {
        (0..self.num_partitions()).collect()
    }

    /// Runs `f` on every partition as one job, returning one result per
    /// partition.
    pub(crate) fn run_per_partition<R: Send>(
        &self,
        action: &str,
        f: impl Fn(BoxIter<T>) -> Result<R> + Send + Sync,
    ) -> Result<Vec<R>> {
        run_job(self.session(), self, &self.all_partitions(), action, |_, iter| f(iter))
    }

    /// All elements, in partition order.
    pub fn collect(&self) -> Result<Vec<T>> {
        let parts = self.run_per_partition("collect", |iter| Ok(iter.collect::<Vec<T>>()))?;
        Ok(parts.into_iter().flatten().collect())
    }

    /// The elements of each partition, one vector per partition.
    pub fn collect_partitions(&self) -> Result<Vec<Vec<T>>> {
        self.run_per_partition("collect_partitions", |iter| Ok(iter.collect::<Vec<T>>()))
    }

    /// Number of elements.
    pub fn count(&self) -> Result<u64> {
        Ok(self
            .run_per_partition("count", |iter| Ok(iter.count() as u64))?
            .into_iter()
            .sum())
    }

    /// The first element, if any.
    pub fn first(&self) -> Result<Option<T>> {
        Ok(self.take(1)?.into_iter().next())
    }

    /// The first `n` elements, scanning as few partitions as it can.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// assert_eq!(ctx.range(0, 100, 1, 10).take(3).unwrap(), vec![0, 1, 2]);
    /// ```
    pub fn take(&self, n: usize) -> Result<Vec<T>> {
        let mut out: Vec<T> = Vec::with_capacity(n.min(1024));
        let total = self.num_partitions();
        let mut scanned = 0;
        while out.len() < n && scanned < total {
            let batch = if scanned == 0 {
                1
            } else if out.is_empty() {
                scanned * TAKE_SCALE_UP
            } else {
                // Estimate the partitions still needed from the rate so far.
                let needed = ((n - out.len()) * scanned).div_ceil(out.len());
                needed.clamp(1, scanned * TAKE_SCALE_UP)
            };
            let parts: Vec<usize> = (scanned..(scanned + batch).min(total)).collect();
            let left = n - out.len();
            let got = run_job(self.session(), self, &parts, "take", move |_, iter| {
                Ok(iter.take(left).collect::<Vec<T>>())
            })?;
            for part in got {
                let room = n - out.len();
                out.extend(part.into_iter().take(room));
            }
            scanned += parts.len();
        }
        Ok(out)
    }

    /// Combines all elements with an associative, commutative function;
    /// `None` for an empty RDD.
    pub fn reduce(&self, f: impl Fn(T, T) -> T + Send + Sync) -> Result<Option<T>> {
        let parts = self.run_per_partition("reduce", |iter| Ok(iter.reduce(&f)))?;
        Ok(parts.into_iter().flatten().reduce(&f))
    }

    /// Folds each partition from `zero`, then folds the partition results
    /// from `zero` again (as Spark's `fold`).
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// assert_eq!(ctx.range(1, 5, 1, 2).fold(0, |a, b| a + b).unwrap(), 10);
    /// ```
    pub fn fold(&self, zero: T, f: impl Fn(T, T) -> T + Send + Sync) -> Result<T> {
        let z = zero.clone();
        let parts = self.run_per_partition("fold", |iter| Ok(iter.fold(z.clone(), &f)))?;
        Ok(parts.into_iter().fold(zero, &f))
    }

    /// Aggregates each partition into a `U` with `seq_op` from `zero`, then
    /// merges the partition results with `comb_op`.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let (sum, n) = ctx
    ///     .range(1, 5, 1, 2)
    ///     .aggregate((0, 0), |(s, n), x| (s + x, n + 1), |(s1, n1), (s2, n2)| (s1 + s2, n1 + n2))
    ///     .unwrap();
    /// assert_eq!((sum, n), (10, 4));
    /// ```
    pub fn aggregate<U: Data>(
        &self,
        zero: U,
        seq_op: impl Fn(U, T) -> U + Send + Sync,
        comb_op: impl Fn(U, U) -> U + Send + Sync,
    ) -> Result<U> {
        let z = zero.clone();
        let parts = self.run_per_partition("aggregate", |iter| Ok(iter.fold(z.clone(), &seq_op)))?;
        Ok(parts.into_iter().fold(zero, comb_op))
    }

    /// Runs `f` on every element (for its side effects).
    pub fn foreach(&self, f: impl Fn(T) + Send + Sync) -> Result<()> {
        self.run_per_partition("foreach", |iter| {
            iter.for_each(&f);
            Ok(())
        })?;
        Ok(())
    }

    /// Runs `f` on every partition's iterator.
    pub fn foreach_partition(&self, f: impl Fn(BoxIter<T>) + Send + Sync) -> Result<()> {
        self.run_per_partition("foreach_partition", |iter| {
            f(iter);
            Ok(())
        })?;
        Ok(())
    }
}

impl<T: Data + Ord> Rdd<T> {
    /// The `n` largest elements, largest first.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// assert_eq!(ctx.parallelize(vec![5, 1, 9, 3], 2).top(2).unwrap(), vec![9, 5]);
    /// ```
    pub fn top(&self, n: usize) -> Result<Vec<T>> {
        let parts = self.run_per_partition("top", |iter| {
            let mut heap: BinaryHeap<Reverse<T>> = BinaryHeap::with_capacity(n + 1);
            for x in iter {
                heap.push(Reverse(x));
                if heap.len() > n {
                    heap.pop();
                }
            }
            Ok(heap.into_iter().map(|Reverse(x)| x).collect::<Vec<T>>())
        })?;
        let mut all: Vec<T> = parts.into_iter().flatten().collect();
        all.sort_by(|a, b| b.cmp(a));
        all.truncate(n);
        Ok(all)
    }

    /// The `n` smallest elements, smallest first.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// assert_eq!(ctx.parallelize(vec![5, 1, 9, 3], 2).take_ordered(3).unwrap(), vec![1, 3, 5]);
    /// ```
    pub fn take_ordered(&self, n: usize) -> Result<Vec<T>> {
        let parts = self.run_per_partition("take_ordered", |iter| {
            let mut heap: BinaryHeap<T> = BinaryHeap::with_capacity(n + 1);
            for x in iter {
                heap.push(x);
                if heap.len() > n {
                    heap.pop();
                }
            }
            Ok(heap.into_vec())
        })?;
        let mut all: Vec<T> = parts.into_iter().flatten().collect();
        all.sort();
        all.truncate(n);
        Ok(all)
    }
}

impl<T: Data + Hash + Eq> Rdd<T> {
    /// How often each distinct element occurs.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let counts = ctx.parallelize(vec!['a', 'b', 'a'], 2).count_by_value().unwrap();
    /// assert_eq!(counts[&'a'], 2);
    /// ```
    pub fn count_by_value(&self) -> Result<HashMap<T, u64>> {
        self.map(|x| (x, 1u64)).count_by_key()
    }
}
