//! Operations on RDDs of key-value pairs: aggregation by key, partitioning,
//! sorting by key and lookups.
//!
//! Aggregations combine values on the map side before the shuffle (except
//! `group_by_key`, where combining would not shrink anything) and skip the
//! shuffle altogether when the input is already partitioned by an equivalent
//! partitioner.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use hashbrown::hash_map::Entry;

use super::narrow::MapPartitionsRdd;
use super::{BoxIter, Data, HashPartitioner, Partitioner, RangePartitioner, Rdd};
use crate::error::Result;
use crate::scheduler::run_job;

/// Key types of pair RDDs.
pub trait Key: Data + Hash + Eq {}
impl<K: Data + Hash + Eq> Key for K {}

/// The hash table used for per-partition aggregation.
pub(crate) type AggTable<K, C> = hashbrown::HashMap<K, C, foldhash::fast::RandomState>;

/// Anything usable where a partitioner is expected: a concrete partitioner
/// or a shared `Arc<dyn Partitioner>` (as returned by [`Rdd::partitioner`]).
pub trait IntoPartitioner {
    /// Converts into a shared partitioner.
    fn into_partitioner(self) -> Arc<dyn Partitioner>;
}

impl<P: Partitioner> IntoPartitioner for P {
    fn into_partitioner(self) -> Arc<dyn Partitioner> {
        Arc::new(self)
    }
}

impl IntoPartitioner for Arc<dyn Partitioner> {
    fn into_partitioner(self) -> Arc<dyn Partitioner> {
        self
    }
}

/// Spark's `defaultPartitioner`: the partitioner with the most partitions
/// among the inputs that have one, else hash partitioning into as many
/// partitions as the largest input has.
pub(crate) fn default_partitioner(inputs: &[(Option<Arc<dyn Partitioner>>, usize)]) -> Arc<dyn Partitioner> {
    inputs
        .iter()
        .filter_map(|(p, _)| p.clone())
        .max_by_key(|p| p.num_partitions())
        .unwrap_or_else(|| {
            let n = inputs.iter().map(|(_, n)| *n).max().unwrap_or(1);
            Arc::new(HashPartitioner::new(n))
        })
}

fn combine_values<K: Key, V, C>(
    iter: impl Iterator<Item = (K, V)>,
    create: &impl Fn(V) -> C,
    merge_value: &impl Fn(C, V) -> C,
) -> impl Iterator<Item = (K, C)> + Send + 'static
where
    C: Send + 'static,
{
    // Combiners sit in an `Option` so that merging can move the old value
    // out and the new one in place, without rehashing or cloning.
    let mut table: AggTable<K, Option<C>> = AggTable::default();
    for (k, v) in iter {
        match table.entry(k) {
            Entry::Occupied(o) => {
                let slot = o.into_mut();
                *slot = slot.take().map(|c| merge_value(c, v));
            }
            Entry::Vacant(e) => {
                e.insert(Some(create(v)));
            }
        }
    }
    table.into_iter().filter_map(|(k, c)| c.map(|c| (k, c)))
}

/// Merges combiners from map outputs into one table, cloning a key only
/// when it is new.
fn merge_combiners_into<K: Key, C: Clone>(
    table: &mut AggTable<K, Option<C>>,
    pairs: &[(K, C)],
    merge: &impl Fn(C, C) -> C,
) {
    for (k, c) in pairs {
        match table.get_mut(k) {
            Some(slot) => *slot = slot.take().map(|acc| merge(acc, c.clone())),
            None => {
                table.insert(k.clone(), Some(c.clone()));
            }
        }
    }
}

/// Splits an iterator of pairs into one bucket per partition.
pub(crate) fn bucket_pairs<K: Key, V>(
    iter: impl Iterator<Item = (K, V)>,
    partitioner: &dyn Partitioner,
) -> Vec<Vec<(K, V)>> {
    let n = partitioner.num_partitions();
    // The upper bound is exact for the combined tables fed in here.
    let (lo, hi) = iter.size_hint();
    let per_bucket = hi.unwrap_or(lo) / n.max(1);
    let mut buckets: Vec<Vec<(K, V)>> = (0..n).map(|_| Vec::with_capacity(per_bucket)).collect();
    if n == 1 {
        buckets[0].extend(iter);
        return buckets;
    }
    for (k, v) in iter {
        let p = partitioner.partition(&k);
        buckets[p].push((k, v));
    }
    buckets
}

impl<K: Key, V: Data> Rdd<(K, V)> {
    /// The general aggregation by key: `create` turns a key's first value
    /// into a combiner, `merge_value` folds further values in, and
    /// `merge_combiners` merges combiners from different partitions.
    /// With `map_side_combine`, values are combined before the shuffle.
    pub fn combine_by_key_with<C: Data>(
        &self,
        create: impl Fn(V) -> C + Send + Sync + 'static,
        merge_value: impl Fn(C, V) -> C + Send + Sync + 'static,
        merge_combiners: impl Fn(C, C) -> C + Send + Sync + 'static,
        partitioner: impl IntoPartitioner,
        map_side_combine: bool,
    ) -> Rdd<(K, C)> {
        self.combine_named(
            "combine_by_key",
            create,
            merge_value,
            merge_combiners,
            partitioner,
            map_side_combine,
        )
    }

    fn combine_named<C: Data>(
        &self,
        name: &str,
        create: impl Fn(V) -> C + Send + Sync + 'static,
        merge_value: impl Fn(C, V) -> C + Send + Sync + 'static,
        merge_combiners: impl Fn(C, C) -> C + Send + Sync + 'static,
        partitioner: impl IntoPartitioner,
        map_side_combine: bool,
    ) -> Rdd<(K, C)> {
        let partitioner = partitioner.into_partitioner();
        if self.partitioner().is_some_and(|p| p.equivalent(partitioner.as_ref())) {
            // Already partitioned by key: aggregate each partition locally.
            return MapPartitionsRdd::create(self, name, true, move |_, iter, _| {
                let table = combine_values(iter, &create, &merge_value);
                Ok(Box::new(table.into_iter()) as BoxIter<(K, C)>)
            });
        }
        let create = Arc::new(create);
        let merge_value = Arc::new(merge_value);
        let write_part = Arc::clone(&partitioner);
        let (c2, mv2) = (Arc::clone(&create), Arc::clone(&merge_value));
        if map_side_combine {
            self.shuffle(
                name,
                partitioner.num_partitions(),
                Some(partitioner),
                move |_, iter, _| {
                    let table = combine_values(iter, &*c2, &*mv2);
                    Ok(bucket_pairs(table.into_iter(), write_part.as_ref()))
                },
                move |r, outputs, _| {
                    let mut table: AggTable<K, Option<C>> = AggTable::default();
                    for out in &outputs {
                        merge_combiners_into(&mut table, &out.buckets[r], &merge_combiners);
                    }
                    let merged = table.into_iter().filter_map(|(k, c)| c.map(|c| (k, c)));
                    Ok(Box::new(merged) as BoxIter<(K, C)>)
                },
            )
        } else {
            self.shuffle(
                name,
                partitioner.num_partitions(),
                Some(partitioner),
                move |_, iter, _| Ok(bucket_pairs(iter, write_part.as_ref())),
                move |r, outputs, _| {
                    let pairs = outputs
                        .iter()
                        .flat_map(|o| o.buckets[r].iter().cloned())
                        .collect::<Vec<_>>();
                    let table = combine_values(pairs.into_iter(), &*create, &*merge_value);
                    Ok(Box::new(table.into_iter()) as BoxIter<(K, C)>)
                },
            )
        }
    }

    /// [`Rdd::combine_by_key_with`] with map-side combining and the default
    /// partitioner.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let scores = ctx.parallelize(vec![("a", 1.0), ("b", 4.0), ("a", 3.0)], 2);
    /// let mut avg: Vec<(&str, f64)> = scores
    ///     .combine_by_key(|v| (v, 1), |(s, n), v| (s + v, n + 1), |(s1, n1), (s2, n2)| (s1 + s2, n1 + n2))
    ///     .map_values(|(s, n)| s / n as f64)
    ///     .collect()
    ///     .unwrap();
    /// avg.sort_by(|x, y| x.0.cmp(y.0));
    /// assert_eq!(avg, vec![("a", 2.0), ("b", 4.0)]);
    /// ```
    pub fn combine_by_key<C: Data>(
        &self,
        create: impl Fn(V) -> C + Send + Sync + 'static,
        merge_value: impl Fn(C, V) -> C + Send + Sync + 'static,
        merge_combiners: impl Fn(C, C) -> C + Send + Sync + 'static,
    ) -> Rdd<(K, C)> {
        let p = self.own_default_partitioner();
        self.combine_named("combine_by_key", create, merge_value, merge_combiners, p, true)
    }

    /// [`Rdd::combine_by_key`] into `n` hash partitions.
    pub fn combine_by_key_with_partitions<C: Data>(
        &self,
        create: impl Fn(V) -> C + Send + Sync + 'static,
        merge_value: impl Fn(C, V) -> C + Send + Sync + 'static,
        merge_combiners: impl Fn(C, C) -> C + Send + Sync + 'static,
        n: usize,
    ) -> Rdd<(K, C)> {
        let p = HashPartitioner::new(n);
        self.combine_named("combine_by_key", create, merge_value, merge_combiners, p, true)
    }

    fn own_default_partitioner(&self) -> Arc<dyn Partitioner> {
        default_partitioner(&[(self.partitioner(), self.num_partitions())])
    }

    /// Merges the values of each key with an associative function, combining
    /// on the map side first.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let words = ctx.parallelize(vec![("x", 1), ("y", 1), ("x", 1)], 2);
    /// let mut counts = words.reduce_by_key(|a, b| a + b).collect().unwrap();
    /// counts.sort();
    /// assert_eq!(counts, vec![("x", 2), ("y", 1)]);
    /// ```
    pub fn reduce_by_key(&self, f: impl Fn(V, V) -> V + Send + Sync + 'static) -> Rdd<(K, V)> {
        let p = self.own_default_partitioner();
        self.reduce_by_key_with_partitioner(f, p)
    }

    /// [`Rdd::reduce_by_key`] into `n` hash partitions.
    pub fn reduce_by_key_with_partitions(
        &self,
        f: impl Fn(V, V) -> V + Send + Sync + 'static,
        n: usize,
    ) -> Rdd<(K, V)> {
        self.reduce_by_key_with_partitioner(f, HashPartitioner::new(n))
    }

    /// [`Rdd::reduce_by_key`] with an explicit partitioner.
    pub fn reduce_by_key_with_partitioner(
        &self,
        f: impl Fn(V, V) -> V + Send + Sync + 'static,
        partitioner: impl IntoPartitioner,
    ) -> Rdd<(K, V)> {
        let f = Arc::new(f);
        let f2 = Arc::clone(&f);
        self.combine_named(
            "reduce_by_key",
            |v| v,
            move |a, b| f(a, b),
            move |a, b| f2(a, b),
            partitioner,
            true,
        )
    }

    /// Like [`Rdd::reduce_by_key`] but starts each key's fold from `zero`.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let pairs = ctx.parallelize(vec![(1, 2), (1, 5), (2, 1)], 2);
    /// let mut m = pairs.fold_by_key(0, |a, b| a.max(b)).collect().unwrap();
    /// m.sort();
    /// assert_eq!(m, vec![(1, 5), (2, 1)]);
    /// ```
    pub fn fold_by_key(&self, zero: V, f: impl Fn(V, V) -> V + Send + Sync + 'static) -> Rdd<(K, V)> {
        let p = self.own_default_partitioner();
        self.fold_by_key_with_partitioner(zero, f, p)
    }

    /// [`Rdd::fold_by_key`] into `n` hash partitions.
    pub fn fold_by_key_with_partitions(
        &self,
        zero: V,
        f: impl Fn(V, V) -> V + Send + Sync + 'static,
        n: usize,
    ) -> Rdd<(K, V)> {
        self.fold_by_key_with_partitioner(zero, f, HashPartitioner::new(n))
    }

    /// [`Rdd::fold_by_key`] with an explicit partitioner.
    pub fn fold_by_key_with_partitioner(
        &self,
        zero: V,
        f: impl Fn(V, V) -> V + Send + Sync + 'static,
        partitioner: impl IntoPartitioner,
    ) -> Rdd<(K, V)> {
        let f = Arc::new(f);
        let (f2, f3) = (Arc::clone(&f), Arc::clone(&f));
        self.combine_named(
            "fold_by_key",
            move |v| f(zero.clone(), v),
            move |a, b| f2(a, b),
            move |a, b| f3(a, b),
            partitioner,
            true,
        )
    }

    /// Aggregates each key's values into a `U` with `seq_op` per partition
    /// (starting from `zero`) and `comb_op` across partitions.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let pairs = ctx.parallelize(vec![("a", 3), ("a", 5), ("b", 1)], 2);
    /// let mut sets = pairs
    ///     .aggregate_by_key(Vec::new(), |mut acc, v| { acc.push(v); acc }, |mut a, b| { a.extend(b); a })
    ///     .map_values(|mut v| { v.sort(); v })
    ///     .collect()
    ///     .unwrap();
    /// sets.sort();
    /// assert_eq!(sets, vec![("a", vec![3, 5]), ("b", vec![1])]);
    /// ```
    pub fn aggregate_by_key<U: Data>(
        &self,
        zero: U,
        seq_op: impl Fn(U, V) -> U + Send + Sync + 'static,
        comb_op: impl Fn(U, U) -> U + Send + Sync + 'static,
    ) -> Rdd<(K, U)> {
        let p = self.own_default_partitioner();
        self.aggregate_by_key_with_partitioner(zero, seq_op, comb_op, p)
    }

    /// [`Rdd::aggregate_by_key`] into `n` hash partitions.
    pub fn aggregate_by_key_with_partitions<U: Data>(
        &self,
        zero: U,
        seq_op: impl Fn(U, V) -> U + Send + Sync + 'static,
        comb_op: impl Fn(U, U) -> U + Send + Sync + 'static,
        n: usize,
    ) -> Rdd<(K, U)> {
        self.aggregate_by_key_with_partitioner(zero, seq_op, comb_op, HashPartitioner::new(n))
    }

    /// [`Rdd::aggregate_by_key`] with an explicit partitioner.
    pub fn aggregate_by_key_with_partitioner<U: Data>(
        &self,
        zero: U,
        seq_op: impl Fn(U, V) -> U + Send + Sync + 'static,
        comb_op: impl Fn(U, U) -> U + Send + Sync + 'static,
        partitioner: impl IntoPartitioner,
    ) -> Rdd<(K, U)> {
        let seq = Arc::new(seq_op);
        let seq2 = Arc::clone(&seq);
        self.combine_named(
            "aggregate_by_key",
            move |v| seq(zero.clone(), v),
            move |u, v| seq2(u, v),
            comb_op,
            partitioner,
            true,
        )
    }

    /// Groups the values of each key. No map-side combine: it would not
    /// shrink the data.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let pairs = ctx.parallelize(vec![(1, 'a'), (2, 'b'), (1, 'c')], 3);
    /// let mut g = pairs.group_by_key().map_values(|mut v| { v.sort(); v }).collect().unwrap();
    /// g.sort();
    /// assert_eq!(g, vec![(1, vec!['a', 'c']), (2, vec!['b'])]);
    /// ```
    pub fn group_by_key(&self) -> Rdd<(K, Vec<V>)> {
        let p = self.own_default_partitioner();
        self.group_by_key_with_partitioner(p)
    }

    /// [`Rdd::group_by_key`] into `n` hash partitions.
    pub fn group_by_key_with_partitions(&self, n: usize) -> Rdd<(K, Vec<V>)> {
        self.group_by_key_with_partitioner(HashPartitioner::new(n))
    }

    /// [`Rdd::group_by_key`] with an explicit partitioner.
    pub fn group_by_key_with_partitioner(&self, partitioner: impl IntoPartitioner) -> Rdd<(K, Vec<V>)> {
        self.combine_named(
            "group_by_key",
            |v| vec![v],
            |mut c, v| {
                c.push(v);
                c
            },
            |mut a, mut b| {
                a.append(&mut b);
                a
            },
            partitioner,
            false,
        )
    }

    /// Redistributes the pairs so that `partitioner` decides each key's
    /// partition; a no-op when the RDD is already partitioned that way.
    ///
    /// ```
    /// use flint::{HashPartitioner, Partitioner, SessionContext};
    /// let ctx = SessionContext::new();
    /// let p = HashPartitioner::new(3);
    /// let parted = ctx.parallelize((0..30).map(|i| (i, i)).collect(), 2).partition_by(p.clone());
    /// for (part, items) in parted.glom().collect().unwrap().into_iter().enumerate() {
    ///     assert!(items.iter().all(|(k, _)| p.partition(k) == part));
    /// }
    /// ```
    pub fn partition_by(&self, partitioner: impl IntoPartitioner) -> Rdd<(K, V)> {
        let partitioner = partitioner.into_partitioner();
        if self.partitioner().is_some_and(|p| p.equivalent(partitioner.as_ref())) {
            return self.clone();
        }
        let write_part = Arc::clone(&partitioner);
        self.shuffle(
            "partition_by",
            partitioner.num_partitions(),
            Some(partitioner),
            move |_, iter, _| Ok(bucket_pairs(iter, write_part.as_ref())),
            |r, outputs, _| {
                let pairs: Vec<(K, V)> = outputs.iter().flat_map(|o| o.buckets[r].iter().cloned()).collect();
                Ok(Box::new(pairs.into_iter()) as BoxIter<(K, V)>)
            },
        )
    }

    /// Applies `f` to each value, keeping keys and so the partitioner.
    ///
    /// ```
    /// use flint::{HashPartitioner, SessionContext};
    /// let ctx = SessionContext::new();
    /// let parted = ctx.parallelize(vec![(1, 2)], 1).partition_by(HashPartitioner::new(2));
    /// let doubled = parted.map_values(|v| v * 2);
    /// assert!(doubled.partitioner().is_some());
    /// assert_eq!(doubled.collect().unwrap(), vec![(1, 4)]);
    /// ```
    pub fn map_values<W: Data>(&self, f: impl Fn(V) -> W + Send + Sync + 'static) -> Rdd<(K, W)> {
        let f = Arc::new(f);
        MapPartitionsRdd::create(self, "map_values", true, move |_, iter, _| {
            let f = Arc::clone(&f);
            Ok(Box::new(iter.map(move |(k, v)| (k, f(v)))) as BoxIter<(K, W)>)
        })
    }

    /// Applies `f` to each value and emits one pair per output, keeping the
    /// partitioner.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let pairs = ctx.parallelize(vec![("a", 2)], 1);
    /// assert_eq!(pairs.flat_map_values(|n| 0..n).collect().unwrap(), vec![("a", 0), ("a", 1)]);
    /// ```
    pub fn flat_map_values<W: Data, I>(&self, f: impl Fn(V) -> I + Send + Sync + 'static) -> Rdd<(K, W)>
    where
        I: IntoIterator<Item = W> + 'static,
        I::IntoIter: Send + 'static,
    {
        let f = Arc::new(f);
        MapPartitionsRdd::create(self, "flat_map_values", true, move |_, iter, _| {
            let f = Arc::clone(&f);
            Ok(Box::new(iter.flat_map(move |(k, v)| f(v).into_iter().map(move |w| (k.clone(), w)))) as BoxIter<(K, W)>)
        })
    }

    /// The keys.
    pub fn keys(&self) -> Rdd<K> {
        MapPartitionsRdd::create(self, "keys", false, |_, iter, _| {
            Ok(Box::new(iter.map(|(k, _)| k)) as BoxIter<K>)
        })
    }

    /// The values.
    pub fn values(&self) -> Rdd<V> {
        MapPartitionsRdd::create(self, "values", false, |_, iter, _| {
            Ok(Box::new(iter.map(|(_, v)| v)) as BoxIter<V>)
        })
    }

    /// Number of pairs per key (an action).
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let counts = ctx.parallelize(vec![("a", 1), ("b", 1), ("a", 9)], 2).count_by_key().unwrap();
    /// assert_eq!(counts[&"a"], 2);
    /// ```
    pub fn count_by_key(&self) -> Result<HashMap<K, u64>> {
        self.map_values(|_| 1u64).reduce_by_key(|a, b| a + b).collect_as_map()
    }

    /// Collects the pairs into a map; for repeated keys one value wins.
    pub fn collect_as_map(&self) -> Result<HashMap<K, V>> {
        Ok(self.collect()?.into_iter().collect())
    }

    /// Sorts by key into `num_partitions` range partitions (`0`: as many as
    /// the input has). Samples the keys first (one job) to pick bounds.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let pairs = ctx.parallelize(vec![(3, 'c'), (1, 'a'), (2, 'b')], 2);
    /// let sorted = pairs.sort_by_key(false, 2).unwrap().collect().unwrap();
    /// assert_eq!(sorted, vec![(3, 'c'), (2, 'b'), (1, 'a')]);
    /// ```
    pub fn sort_by_key(&self, ascending: bool, num_partitions: usize) -> Result<Rdd<(K, V)>>
    where
        K: Ord + std::fmt::Debug,
    {
        let n = if num_partitions == 0 {
            self.num_partitions()
        } else {
            num_partitions
        };
        let partitioner = Arc::new(RangePartitioner::with_order(n, self, ascending)?);
        let write_part = Arc::clone(&partitioner);
        Ok(self.shuffle(
            "sort_by_key",
            n,
            Some(partitioner as Arc<dyn Partitioner>),
            move |_, iter, _| Ok(bucket_pairs(iter, write_part.as_ref())),
            move |r, outputs, _| {
                let mut pairs: Vec<(K, V)> = outputs.iter().flat_map(|o| o.buckets[r].iter().cloned()).collect();
                if ascending {
                    pairs.sort_by(|a, b| a.0.cmp(&b.0));
                } else {
                    pairs.sort_by(|a, b| b.0.cmp(&a.0));
                }
                Ok(Box::new(pairs.into_iter()) as BoxIter<(K, V)>)
            },
        ))
    }

    /// All values of `key` (an action). With a known partitioner only the
    /// key's partition is scanned.
    ///
    /// ```
    /// use flint::{HashPartitioner, SessionContext};
    /// let ctx = SessionContext::new();
    /// let pairs = ctx.parallelize(vec![(1, 'a'), (2, 'b'), (1, 'c')], 2).partition_by(HashPartitioner::new(4));
    /// let mut v = pairs.lookup(&1).unwrap();
    /// v.sort();
    /// assert_eq!(v, vec!['a', 'c']);
    /// ```
    pub fn lookup(&self, key: &K) -> Result<Vec<V>> {
        let wanted = key.clone();
        let pick = move |_: &_, iter: BoxIter<(K, V)>| {
            Ok(iter.filter(|(k, _)| *k == wanted).map(|(_, v)| v).collect::<Vec<V>>())
        };
        let partitions: Vec<usize> = match self.partitioner() {
            Some(p) => vec![p.partition(key)],
            None => (0..self.num_partitions()).collect(),
        };
        Ok(run_job(self.session(), self, &partitions, "lookup", pick)?
            .into_iter()
            .flatten()
            .collect())
    }
}
