//! Lazy transformations of any RDD. Narrow ones are pipelined into the task
//! of whatever consumes them; `distinct`, `intersection`, `subtract`,
//! `repartition` and `sort_by` shuffle.

use std::hash::Hash;
use std::sync::Arc;

use super::narrow::{CartesianRdd, CoalescedRdd, MapPartitionsRdd, SharedRdd, UnionRdd};
use super::{BoxIter, Data, Rdd};
use crate::error::Result;
use crate::scheduler::{TaskContext, run_job};

/// Stops at the first error and records it as the task's failure; stops
/// too once the job is cancelled, so that an operator that yields many
/// items per input item (a join's fan-out) is not waited for.
struct StopOnError<I> {
    inner: I,
    tc: Arc<TaskContext>,
}

impl<U, I: Iterator<Item = Result<U>>> Iterator for StopOnError<I> {
    type Item = U;
    fn next(&mut self) -> Option<U> {
        if self.tc.is_cancelled() {
            self.tc.fail(crate::Error::Cancelled(self.tc.job_id()));
            return None;
        }
        match self.inner.next()? {
            Ok(v) => Some(v),
            Err(e) => {
                self.tc.fail(e);
                None
            }
        }
    }
}

impl<T: Data> Rdd<T> {
    /// This RDD read by `readers` consumers, each partition computed once
    /// and kept until the last of them has read it (see [`SharedRdd`]);
    /// `bytes` sizes a partition for the memory pool.
    pub(crate) fn share(&self, readers: usize, bytes: fn(&[T]) -> usize) -> Rdd<T> {
        SharedRdd::create(self, readers, bytes)
    }

    /// Applies `f` to every element. Drops the partitioner: keys may change.
    pub fn map<U: Data>(&self, f: impl Fn(T) -> U + Send + Sync + 'static) -> Rdd<U> {
        let f = Arc::new(f);
        MapPartitionsRdd::create(self, "map", false, move |_, iter, _| {
            let f = Arc::clone(&f);
            Ok(Box::new(iter.map(move |x| f(x))) as BoxIter<U>)
        })
    }

    /// Applies `f` to every element and flattens the results.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let words = ctx.parallelize(vec!["a b", "c"], 2).flat_map(|s| s.split(' ').map(String::from).collect::<Vec<_>>());
    /// assert_eq!(words.collect().unwrap(), vec!["a", "b", "c"]);
    /// ```
    pub fn flat_map<U: Data, I>(&self, f: impl Fn(T) -> I + Send + Sync + 'static) -> Rdd<U>
    where
        I: IntoIterator<Item = U> + 'static,
        I::IntoIter: Send + 'static,
    {
        let f = Arc::new(f);
        MapPartitionsRdd::create(self, "flat_map", false, move |_, iter, _| {
            let f = Arc::clone(&f);
            Ok(Box::new(iter.flat_map(move |x| f(x))) as BoxIter<U>)
        })
    }

    /// Keeps the elements for which `f` holds. Keeps the partitioner.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// assert_eq!(ctx.range(0, 10, 1, 3).filter(|x| x % 4 == 0).collect().unwrap(), vec![0, 4, 8]);
    /// ```
    pub fn filter(&self, f: impl Fn(&T) -> bool + Send + Sync + 'static) -> Rdd<T> {
        let f = Arc::new(f);
        MapPartitionsRdd::create(self, "filter", true, move |_, iter, _| {
            let f = Arc::clone(&f);
            Ok(Box::new(iter.filter(move |x| f(x))) as BoxIter<T>)
        })
    }

    /// Transforms each partition as a whole.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let sums = ctx.range(0, 6, 1, 2).map_partitions(|it| std::iter::once(it.sum::<i64>()));
    /// assert_eq!(sums.collect().unwrap(), vec![3, 12]);
    /// ```
    pub fn map_partitions<U: Data, I>(&self, f: impl Fn(BoxIter<T>) -> I + Send + Sync + 'static) -> Rdd<U>
    where
        I: Iterator<Item = U> + Send + 'static,
    {
        MapPartitionsRdd::create(self, "map_partitions", false, move |_, iter, _| {
            Ok(Box::new(f(iter)) as BoxIter<U>)
        })
    }

    /// Transforms each partition, also given its index.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let tagged = ctx.parallelize(vec!['a', 'b'], 2).map_partitions_with_index(|i, it| it.map(move |c| (i, c)));
    /// assert_eq!(tagged.collect().unwrap(), vec![(0, 'a'), (1, 'b')]);
    /// ```
    pub fn map_partitions_with_index<U: Data, I>(
        &self,
        f: impl Fn(usize, BoxIter<T>) -> I + Send + Sync + 'static,
    ) -> Rdd<U>
    where
        I: Iterator<Item = U> + Send + 'static,
    {
        MapPartitionsRdd::create(self, "map_partitions_with_index", false, move |i, iter, _| {
            Ok(Box::new(f(i, iter)) as BoxIter<U>)
        })
    }

    /// Like [`Rdd::map_partitions_with_index`] for fallible code: an error,
    /// returned up front or by an element, fails the task (which is retried,
    /// then fails the job with that error).
    ///
    /// ```
    /// use flint::{Error, SessionContext};
    /// let ctx = SessionContext::new();
    /// let parsed = ctx.parallelize(vec!["1", "x"], 1).try_map_partitions_with_index(|_, it| {
    ///     Ok(it.map(|s| s.parse::<i32>().map_err(|e| Error::InvalidArgument(format!("'{s}': {e}")))))
    /// });
    /// let err = parsed.collect().unwrap_err();
    /// assert!(err.to_string().contains("'x'"));
    /// ```
    pub fn try_map_partitions_with_index<U: Data, I>(
        &self,
        f: impl Fn(usize, BoxIter<T>) -> Result<I> + Send + Sync + 'static,
    ) -> Rdd<U>
    where
        I: Iterator<Item = Result<U>> + Send + 'static,
    {
        MapPartitionsRdd::create(self, "try_map_partitions", false, move |i, iter, tc| {
            let inner = f(i, iter)?;
            Ok(Box::new(StopOnError {
                inner,
                tc: Arc::clone(tc),
            }) as BoxIter<U>)
        })
    }

    /// Each partition as one vector.
    pub fn glom(&self) -> Rdd<Vec<T>> {
        MapPartitionsRdd::create(self, "glom", false, |_, iter, _| {
            Ok(Box::new(std::iter::once(iter.collect::<Vec<T>>())) as BoxIter<Vec<T>>)
        })
    }

    /// Pairs every element with a key computed from it.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let by_len = ctx.parallelize(vec!["ab", "c"], 1).key_by(|s| s.len());
    /// assert_eq!(by_len.collect().unwrap(), vec![(2, "ab"), (1, "c")]);
    /// ```
    pub fn key_by<K: Data>(&self, f: impl Fn(&T) -> K + Send + Sync + 'static) -> Rdd<(K, T)> {
        let f = Arc::new(f);
        MapPartitionsRdd::create(self, "key_by", false, move |_, iter, _| {
            let f = Arc::clone(&f);
            Ok(Box::new(iter.map(move |x| (f(&x), x))) as BoxIter<(K, T)>)
        })
    }

    /// The elements of both RDDs (duplicates kept), partitions of `self`
    /// first.
    pub fn union(&self, other: &Rdd<T>) -> Rdd<T> {
        UnionRdd::create(vec![self.clone(), other.clone()])
    }

    /// Every pair `(a, b)` with `a` from `self` and `b` from `other`.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let a = ctx.parallelize(vec![1, 2], 2);
    /// let b = ctx.parallelize(vec!['x'], 1);
    /// assert_eq!(a.cartesian(&b).collect().unwrap(), vec![(1, 'x'), (2, 'x')]);
    /// ```
    pub fn cartesian<U: Data>(&self, other: &Rdd<U>) -> Rdd<(T, U)> {
        CartesianRdd::create(self, other)
    }

    /// Fewer partitions: without `shuffle`, neighbouring partitions are
    /// merged in place (no data movement, never more partitions); with it,
    /// the data is redistributed evenly into `n` partitions.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let rdd = ctx.range(0, 100, 1, 10);
    /// assert_eq!(rdd.coalesce(3, false).num_partitions(), 3);
    /// assert_eq!(rdd.coalesce(20, false).num_partitions(), 10);
    /// assert_eq!(rdd.coalesce(20, true).num_partitions(), 20);
    /// ```
    pub fn coalesce(&self, n: usize, shuffle: bool) -> Rdd<T> {
        if !shuffle {
            return CoalescedRdd::create(self, n);
        }
        let n = n.max(1);
        self.shuffle(
            "repartition",
            n,
            None,
            move |map_id, iter, _| {
                // Round-robin from a per-partition offset, as Spark does, so
                // that small partitions do not all land in bucket 0.
                let mut buckets: Vec<Vec<T>> = (0..n).map(|_| Vec::new()).collect();
                for (i, x) in iter.enumerate() {
                    buckets[(map_id + i) % n].push(x);
                }
                Ok(buckets)
            },
            |r, outputs, _| {
                let items: Vec<T> = outputs.iter().flat_map(|o| o.buckets[r].iter().cloned()).collect();
                Ok(Box::new(items.into_iter()) as BoxIter<T>)
            },
        )
    }

    /// Redistributes the data evenly into `n` partitions (a shuffle).
    pub fn repartition(&self, n: usize) -> Rdd<T> {
        self.coalesce(n, true)
    }

    /// Each element with its index in the RDD's order. Runs one job to count
    /// the elements of every partition but the last.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let z = ctx.parallelize(vec!['a', 'b', 'c'], 2).zip_with_index().unwrap();
    /// assert_eq!(z.collect().unwrap(), vec![('a', 0), ('b', 1), ('c', 2)]);
    /// ```
    pub fn zip_with_index(&self) -> Result<Rdd<(T, u64)>> {
        let n = self.num_partitions();
        let counted: Vec<usize> = (0..n.saturating_sub(1)).collect();
        let counts = run_job(self.session(), self, &counted, "zip_with_index", |_, iter| {
            Ok(iter.count() as u64)
        })?;
        let mut offsets = Vec::with_capacity(n);
        let mut acc = 0u64;
        for c in counts {
            offsets.push(acc);
            acc += c;
        }
        offsets.push(acc);
        let offsets = Arc::new(offsets);
        Ok(MapPartitionsRdd::create(
            self,
            "zip_with_index",
            false,
            move |i, iter, _| {
                let start = offsets[i];
                Ok(Box::new(iter.zip(start..)) as BoxIter<(T, u64)>)
            },
        ))
    }

    /// Sorts by a key computed from each element, into `num_partitions`
    /// range partitions (`0`: as many as the input has).
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let words = ctx.parallelize(vec!["ccc", "a", "bb"], 2);
    /// let sorted = words.sort_by(|w| w.len(), true, 2).unwrap();
    /// assert_eq!(sorted.collect().unwrap(), vec!["a", "bb", "ccc"]);
    /// ```
    pub fn sort_by<K: Data + Ord + Hash + std::fmt::Debug>(
        &self,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
        ascending: bool,
        num_partitions: usize,
    ) -> Result<Rdd<T>> {
        Ok(self.key_by(key).sort_by_key(ascending, num_partitions)?.values())
    }
}

impl<T: Data + Hash + Eq> Rdd<T> {
    /// The distinct elements (a shuffle).
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let mut d = ctx.parallelize(vec![3, 1, 3, 2, 1], 2).distinct().collect().unwrap();
    /// d.sort();
    /// assert_eq!(d, vec![1, 2, 3]);
    /// ```
    pub fn distinct(&self) -> Rdd<T> {
        self.distinct_with_partitions(self.num_partitions())
    }

    /// [`Rdd::distinct`] into `n` partitions.
    pub fn distinct_with_partitions(&self, n: usize) -> Rdd<T> {
        self.map(|x| (x, ())).reduce_by_key_with_partitions(|a, _| a, n).keys()
    }

    /// The distinct elements present in both RDDs.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let a = ctx.parallelize(vec![1, 2, 3, 3], 2);
    /// let b = ctx.parallelize(vec![3, 4, 1], 2);
    /// let mut i = a.intersection(&b).collect().unwrap();
    /// i.sort();
    /// assert_eq!(i, vec![1, 3]);
    /// ```
    pub fn intersection(&self, other: &Rdd<T>) -> Rdd<T> {
        let n = self.num_partitions().max(other.num_partitions());
        self.intersection_with_partitions(other, n)
    }

    /// [`Rdd::intersection`] into `n` partitions.
    pub fn intersection_with_partitions(&self, other: &Rdd<T>, n: usize) -> Rdd<T> {
        self.map(|x| (x, ()))
            .cogroup_with_partitions(&other.map(|x| (x, ())), n)
            .filter(|(_, (a, b))| !a.is_empty() && !b.is_empty())
            .keys()
    }

    /// The elements of `self` that do not occur in `other` (duplicates of
    /// `self` kept).
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let a = ctx.parallelize(vec![1, 2, 2, 3], 2);
    /// let b = ctx.parallelize(vec![2], 1);
    /// let mut s = a.subtract(&b).collect().unwrap();
    /// s.sort();
    /// assert_eq!(s, vec![1, 3]);
    /// ```
    pub fn subtract(&self, other: &Rdd<T>) -> Rdd<T> {
        self.subtract_with_partitions(other, self.num_partitions())
    }

    /// [`Rdd::subtract`] into `n` partitions.
    pub fn subtract_with_partitions(&self, other: &Rdd<T>, n: usize) -> Rdd<T> {
        self.map(|x| (x, ()))
            .subtract_by_key_with_partitions(&other.map(|x| (x, ())), n)
            .keys()
    }
}
