//! Cogroup and the joins built on it.
//!
//! Both inputs are brought to the same partitioner (an input already
//! partitioned that way is used as is; the other is shuffled), then each
//! output partition groups the values of both inputs per key, reading the
//! two input partitions of the same index in one task. So a join of
//! co-partitioned inputs runs without any shuffle.

use std::sync::Arc;

use super::pair::{AggTable, IntoPartitioner, Key, default_partitioner};
use super::{BoxIter, Data, Dependency, HashPartitioner, Partitioner, Rdd, RddBase, RddCompute, RddMeta};
use crate::error::Result;
use crate::scheduler::TaskContext;

type Grouped<V, W> = (Vec<V>, Vec<W>);

struct CoGroupedRdd<K, V, W> {
    meta: RddMeta,
    left: Rdd<(K, V)>,
    right: Rdd<(K, W)>,
    partitioner: Arc<dyn Partitioner>,
}

impl<K: Key, V: Data, W: Data> RddBase for CoGroupedRdd<K, V, W> {
    fn meta(&self) -> &RddMeta {
        &self.meta
    }
    fn num_partitions(&self) -> usize {
        self.partitioner.num_partitions()
    }
    fn dependencies(&self) -> Vec<Dependency> {
        vec![
            Dependency::Narrow(self.left.base()),
            Dependency::Narrow(self.right.base()),
        ]
    }
    fn partitioner(&self) -> Option<Arc<dyn Partitioner>> {
        Some(Arc::clone(&self.partitioner))
    }
}

impl<K: Key, V: Data, W: Data> RddCompute<(K, Grouped<V, W>)> for CoGroupedRdd<K, V, W> {
    fn compute(&self, split: usize, tc: &Arc<TaskContext>) -> Result<BoxIter<(K, Grouped<V, W>)>> {
        let mut table: AggTable<K, Grouped<V, W>> = AggTable::default();
        for (k, v) in self.left.iterator(split, tc)? {
            table.entry(k).or_default().0.push(v);
        }
        for (k, w) in self.right.iterator(split, tc)? {
            table.entry(k).or_default().1.push(w);
        }
        Ok(Box::new(table.into_iter()))
    }
}

impl<K: Key, V: Data> Rdd<(K, V)> {
    /// For each key of either input, the values it has in each.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let a = ctx.parallelize(vec![(1, 'x'), (2, 'y')], 2);
    /// let b = ctx.parallelize(vec![(1, 10), (1, 11)], 1);
    /// let mut g = a.cogroup(&b).collect().unwrap();
    /// g.sort();
    /// assert_eq!(g, vec![(1, (vec!['x'], vec![10, 11])), (2, (vec!['y'], vec![]))]);
    /// ```
    pub fn cogroup<W: Data>(&self, other: &Rdd<(K, W)>) -> Rdd<(K, (Vec<V>, Vec<W>))> {
        let p = default_partitioner(&[
            (self.partitioner(), self.num_partitions()),
            (other.partitioner(), other.num_partitions()),
        ]);
        self.cogroup_with_partitioner(other, p)
    }

    /// [`Rdd::cogroup`] into `n` hash partitions.
    pub fn cogroup_with_partitions<W: Data>(&self, other: &Rdd<(K, W)>, n: usize) -> Rdd<(K, (Vec<V>, Vec<W>))> {
        self.cogroup_with_partitioner(other, HashPartitioner::new(n))
    }

    /// [`Rdd::cogroup`] with an explicit partitioner.
    pub fn cogroup_with_partitioner<W: Data>(
        &self,
        other: &Rdd<(K, W)>,
        partitioner: impl IntoPartitioner,
    ) -> Rdd<(K, (Vec<V>, Vec<W>))> {
        let partitioner = partitioner.into_partitioner();
        Rdd::from_node(CoGroupedRdd {
            meta: RddMeta::new(self.session(), "cogroup"),
            left: self.partition_by(Arc::clone(&partitioner)),
            right: other.partition_by(Arc::clone(&partitioner)),
            partitioner,
        })
    }

    /// Pairs of values for keys present in both inputs (inner join).
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let a = ctx.parallelize(vec![(1, "a"), (2, "b")], 2);
    /// let b = ctx.parallelize(vec![(2, 20), (3, 30)], 2);
    /// assert_eq!(a.join(&b).collect().unwrap(), vec![(2, ("b", 20))]);
    /// ```
    pub fn join<W: Data>(&self, other: &Rdd<(K, W)>) -> Rdd<(K, (V, W))> {
        join_groups(self.cogroup(other))
    }

    /// [`Rdd::join`] into `n` hash partitions.
    pub fn join_with_partitions<W: Data>(&self, other: &Rdd<(K, W)>, n: usize) -> Rdd<(K, (V, W))> {
        join_groups(self.cogroup_with_partitions(other, n))
    }

    /// [`Rdd::join`] with an explicit partitioner.
    pub fn join_with_partitioner<W: Data>(&self, other: &Rdd<(K, W)>, p: impl IntoPartitioner) -> Rdd<(K, (V, W))> {
        join_groups(self.cogroup_with_partitioner(other, p))
    }

    /// Every pair of this input, with the other's matching values or `None`.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let a = ctx.parallelize(vec![(1, "a"), (2, "b")], 2);
    /// let b = ctx.parallelize(vec![(2, 20)], 1);
    /// let mut j = a.left_outer_join(&b).collect().unwrap();
    /// j.sort();
    /// assert_eq!(j, vec![(1, ("a", None)), (2, ("b", Some(20)))]);
    /// ```
    pub fn left_outer_join<W: Data>(&self, other: &Rdd<(K, W)>) -> Rdd<(K, (V, Option<W>))> {
        left_groups(self.cogroup(other))
    }

    /// [`Rdd::left_outer_join`] with an explicit partitioner.
    pub fn left_outer_join_with_partitioner<W: Data>(
        &self,
        other: &Rdd<(K, W)>,
        p: impl IntoPartitioner,
    ) -> Rdd<(K, (V, Option<W>))> {
        left_groups(self.cogroup_with_partitioner(other, p))
    }

    /// [`Rdd::left_outer_join`] into `n` hash partitions.
    pub fn left_outer_join_with_partitions<W: Data>(&self, other: &Rdd<(K, W)>, n: usize) -> Rdd<(K, (V, Option<W>))> {
        left_groups(self.cogroup_with_partitions(other, n))
    }

    /// Every pair of the other input, with this input's matching values or
    /// `None`.
    pub fn right_outer_join<W: Data>(&self, other: &Rdd<(K, W)>) -> Rdd<(K, (Option<V>, W))> {
        right_groups(self.cogroup(other))
    }

    /// [`Rdd::right_outer_join`] with an explicit partitioner.
    pub fn right_outer_join_with_partitioner<W: Data>(
        &self,
        other: &Rdd<(K, W)>,
        p: impl IntoPartitioner,
    ) -> Rdd<(K, (Option<V>, W))> {
        right_groups(self.cogroup_with_partitioner(other, p))
    }

    /// [`Rdd::right_outer_join`] into `n` hash partitions.
    pub fn right_outer_join_with_partitions<W: Data>(&self, other: &Rdd<(K, W)>, n: usize) -> Rdd<(K, (Option<V>, W))> {
        right_groups(self.cogroup_with_partitions(other, n))
    }

    /// Every key of either input, with the values of each side or `None`.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let a = ctx.parallelize(vec![(1, 'a')], 1);
    /// let b = ctx.parallelize(vec![(2, 'b')], 1);
    /// let mut j = a.full_outer_join(&b).collect().unwrap();
    /// j.sort();
    /// assert_eq!(j, vec![(1, (Some('a'), None)), (2, (None, Some('b')))]);
    /// ```
    pub fn full_outer_join<W: Data>(&self, other: &Rdd<(K, W)>) -> Rdd<(K, (Option<V>, Option<W>))> {
        full_groups(self.cogroup(other))
    }

    /// [`Rdd::full_outer_join`] with an explicit partitioner.
    pub fn full_outer_join_with_partitioner<W: Data>(
        &self,
        other: &Rdd<(K, W)>,
        p: impl IntoPartitioner,
    ) -> Rdd<(K, (Option<V>, Option<W>))> {
        full_groups(self.cogroup_with_partitioner(other, p))
    }

    /// [`Rdd::full_outer_join`] into `n` hash partitions.
    pub fn full_outer_join_with_partitions<W: Data>(
        &self,
        other: &Rdd<(K, W)>,
        n: usize,
    ) -> Rdd<(K, (Option<V>, Option<W>))> {
        full_groups(self.cogroup_with_partitions(other, n))
    }

    /// The pairs whose key does not occur in `other`.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let a = ctx.parallelize(vec![(1, 'a'), (2, 'b')], 2);
    /// let b = ctx.parallelize(vec![(2, ())], 1);
    /// assert_eq!(a.subtract_by_key(&b).collect().unwrap(), vec![(1, 'a')]);
    /// ```
    pub fn subtract_by_key<W: Data>(&self, other: &Rdd<(K, W)>) -> Rdd<(K, V)> {
        subtract_groups(self.cogroup(other))
    }

    /// [`Rdd::subtract_by_key`] with an explicit partitioner.
    pub fn subtract_by_key_with_partitioner<W: Data>(
        &self,
        other: &Rdd<(K, W)>,
        p: impl IntoPartitioner,
    ) -> Rdd<(K, V)> {
        subtract_groups(self.cogroup_with_partitioner(other, p))
    }

    /// [`Rdd::subtract_by_key`] into `n` hash partitions.
    pub fn subtract_by_key_with_partitions<W: Data>(&self, other: &Rdd<(K, W)>, n: usize) -> Rdd<(K, V)> {
        subtract_groups(self.cogroup_with_partitions(other, n))
    }
}

fn join_groups<K: Key, V: Data, W: Data>(g: Rdd<(K, (Vec<V>, Vec<W>))>) -> Rdd<(K, (V, W))> {
    g.flat_map_values(|(vs, ws)| {
        vs.into_iter()
            .flat_map(|v| ws.iter().map(move |w| (v.clone(), w.clone())).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    })
}

fn left_groups<K: Key, V: Data, W: Data>(g: Rdd<(K, (Vec<V>, Vec<W>))>) -> Rdd<(K, (V, Option<W>))> {
    g.flat_map_values(|(vs, ws)| {
        let mut out = Vec::new();
        for v in vs {
            if ws.is_empty() {
                out.push((v, None));
            } else {
                out.extend(ws.iter().map(|w| (v.clone(), Some(w.clone()))));
            }
        }
        out
    })
}

fn right_groups<K: Key, V: Data, W: Data>(g: Rdd<(K, (Vec<V>, Vec<W>))>) -> Rdd<(K, (Option<V>, W))> {
    g.flat_map_values(|(vs, ws)| {
        let mut out = Vec::new();
        for w in ws {
            if vs.is_empty() {
                out.push((None, w));
            } else {
                out.extend(vs.iter().map(|v| (Some(v.clone()), w.clone())));
            }
        }
        out
    })
}

fn full_groups<K: Key, V: Data, W: Data>(g: Rdd<(K, (Vec<V>, Vec<W>))>) -> Rdd<(K, (Option<V>, Option<W>))> {
    g.flat_map_values(|(vs, ws)| {
        let mut out = Vec::new();
        match (vs.is_empty(), ws.is_empty()) {
            (true, _) => out.extend(ws.into_iter().map(|w| (None, Some(w)))),
            (false, true) => out.extend(vs.into_iter().map(|v| (Some(v), None))),
            (false, false) => {
                for v in &vs {
                    out.extend(ws.iter().map(|w| (Some(v.clone()), Some(w.clone()))));
                }
            }
        }
        out
    })
}

fn subtract_groups<K: Key, V: Data, W: Data>(g: Rdd<(K, (Vec<V>, Vec<W>))>) -> Rdd<(K, V)> {
    g.flat_map_values(|(vs, ws)| if ws.is_empty() { vs } else { Vec::new() })
}
