//! Frames that stand for an RDD of their own: `cache`/`persist` (the
//! frame's RDD persisted, so it is computed by the first action and read
//! from memory by every later one) and `repartition` (the frame's RDD
//! behind a hash, range or round-robin shuffle). Both go through the RDD
//! layer and come back as a scan of an [`RddTable`] that keeps each
//! column's relation, so `col("t.a")` still resolves. Later transformations
//! are optimized above that scan; nothing is pushed below it.

use std::sync::Arc;

use arrow::compute::SortOptions;
use arrow::record_batch::RecordBatch;

use super::DataFrame;
use crate::datasource::{RddTable, TableStatistics};
use crate::error::Result;
use crate::logical::stats::{estimate_bytes, estimate_rows};
use crate::logical::{Expr, SortExpr};
use crate::physical::expr::create_physical_expr;
use crate::physical::plan::{self, PhysicalPlan, SortKey};
use crate::rdd::{Rdd, StorageLevel};
use crate::{invalid_arg, plan_err};

/// How [`DataFrame::repartition`] spreads rows over partitions.
///
/// ```
/// use flint::dataframe::Partitioning;
/// use flint::logical::col;
/// let by_key = Partitioning::Hash(vec![col("k")], 8);
/// let ordered = Partitioning::Range(vec![col("k").asc()], 4);
/// let even = Partitioning::RoundRobin(2);
/// # let _ = (by_key, ordered, even);
/// ```
#[derive(Clone, Debug)]
pub enum Partitioning {
    /// By the hash of the expressions into `n` partitions: equal keys land
    /// in the same partition.
    Hash(Vec<Expr>, usize),
    /// By ranges of the sort keys into at most `n` ordered partitions
    /// (bounds are sampled from the data, which runs a job).
    Range(Vec<SortExpr>, usize),
    /// Evenly into `n` partitions, whatever the values (each batch is cut
    /// into `n` slices, dealt out round-robin).
    RoundRobin(usize),
}

impl DataFrame {
    /// Keeps the frame's rows in memory once computed: the first action
    /// runs the plan and stores each partition through the RDD layer's
    /// `persist`; later actions on the returned frame (and frames built on
    /// it) read the stored partitions. Dropping every frame built on it, or
    /// [`DataFrame::unpersist`], frees them.
    ///
    /// ```
    /// use flint::SessionContext;
    /// use flint::logical::{col, lit};
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT * FROM (VALUES (1), (2), (3)) v(a)").unwrap().cache().unwrap();
    /// assert_eq!(df.count().unwrap(), 3);
    /// assert_eq!(df.filter(col("a").gt(lit(1))).unwrap().count().unwrap(), 2);
    /// assert_eq!(df.qualified_schema().field_names(), vec!["v.a"]);
    /// ```
    pub fn cache(&self) -> Result<DataFrame> {
        self.persist(StorageLevel::MemoryOnly)
    }

    /// Like [`DataFrame::cache`], with the storage level given.
    ///
    /// ```
    /// use flint::{SessionContext, StorageLevel};
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT 1 AS a").unwrap().persist(StorageLevel::MemoryOnly).unwrap();
    /// assert_eq!(df.count().unwrap(), 1);
    /// ```
    pub fn persist(&self, level: StorageLevel) -> Result<DataFrame> {
        let rdd = self.rdd()?.persist(level);
        let mut df = self.over_rdd(rdd.clone(), "cached")?;
        df.persisted = Some(rdd);
        Ok(df)
    }

    /// Drops the stored partitions of a frame returned by `cache` or
    /// `persist` (later actions recompute them); returns whether the frame
    /// was persisted.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT 1 AS a").unwrap().cache().unwrap();
    /// df.count().unwrap();
    /// assert!(df.unpersist());
    /// assert!(!ctx.sql("SELECT 1 AS a").unwrap().unpersist());
    /// ```
    pub fn unpersist(&self) -> bool {
        match &self.persisted {
            Some(rdd) => {
                let _ = rdd.clone().unpersist();
                true
            }
            None => false,
        }
    }

    /// Redistributes the rows (a shuffle): by hash of expressions, by
    /// ranges of sort keys, or round-robin. The result has the new
    /// partitioning, which file writes and RDD operations see.
    ///
    /// ```
    /// use flint::SessionContext;
    /// use flint::dataframe::Partitioning;
    /// use flint::logical::col;
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT * FROM (VALUES (1), (2), (3), (4)) v(a)").unwrap();
    /// let parted = df.repartition(Partitioning::Hash(vec![col("a")], 3)).unwrap();
    /// assert_eq!(parted.rdd().unwrap().num_partitions(), 3);
    /// assert_eq!(parted.count().unwrap(), 4);
    /// ```
    pub fn repartition(&self, partitioning: Partitioning) -> Result<DataFrame> {
        let schema = Arc::clone(self.plan.schema());
        let exchange = |partitioning| -> Result<Rdd<RecordBatch>> {
            let physical = PhysicalPlan::Exchange {
                partitioning,
                input: Box::new(self.physical_plan()?),
            };
            self.lower(&physical, false)
        };
        let rdd = match partitioning {
            Partitioning::Hash(_, 0) | Partitioning::Range(_, 0) | Partitioning::RoundRobin(0) => {
                invalid_arg!("repartition() needs at least one partition")
            }
            Partitioning::RoundRobin(n) => {
                // The RDD layer deals out whole elements, so each batch is
                // first cut into `n` slices: rows, not batches, are spread.
                let sliced = self.rdd()?.flat_map(move |b: RecordBatch| {
                    let rows = b.num_rows();
                    (0..n)
                        .map(|i| (i * rows / n, (i + 1) * rows / n))
                        .filter(|(start, end)| end > start)
                        .map(|(start, end)| b.slice(start, end - start))
                        .collect::<Vec<_>>()
                });
                sliced.repartition(n)
            }
            Partitioning::Hash(exprs, n) => {
                if exprs.is_empty() {
                    plan_err!("hash repartitioning needs at least one expression");
                }
                let keys = exprs
                    .into_iter()
                    .map(|e| create_physical_expr(&self.resolve(e)?, &schema))
                    .collect::<Result<Vec<_>>>()?;
                exchange(plan::Partitioning::Hash(keys, n))?
            }
            Partitioning::Range(sort, n) => {
                if sort.is_empty() {
                    plan_err!("range repartitioning needs at least one sort key");
                }
                let keys = sort
                    .into_iter()
                    .map(|k| {
                        Ok(SortKey {
                            expr: create_physical_expr(&self.resolve(k.expr)?, &schema)?,
                            options: SortOptions {
                                descending: !k.asc,
                                nulls_first: k.nulls_first,
                            },
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                exchange(plan::Partitioning::Range(keys, n))?
            }
        };
        self.over_rdd(rdd, "repartitioned")
    }

    /// A frame scanning `rdd`, which computes this frame's rows: same
    /// columns, same relations, this plan's size estimates.
    fn over_rdd(&self, rdd: Rdd<RecordBatch>, name: &str) -> Result<DataFrame> {
        let relations = self.plan.schema().iter().map(|(q, _)| q.cloned()).collect();
        let statistics = TableStatistics {
            num_rows: Some(estimate_rows(&self.plan) as u64),
            total_bytes: Some(estimate_bytes(&self.plan) as u64),
        };
        let table = RddTable::new(rdd, self.schema())
            .with_relations(Some(relations))
            .with_statistics(statistics);
        self.ctx.read_table(name, Arc::new(table))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SessionContext;
    use crate::logical::col;

    #[test]
    fn repartitioning_sets_the_partition_count_and_keeps_rows() {
        let ctx = SessionContext::new();
        let df = ctx
            .sql("SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c'), (1, 'd')) v(k, s)")
            .unwrap();
        let hashed = df.repartition(Partitioning::Hash(vec![col("k")], 4)).unwrap();
        let parts = hashed.rdd().unwrap().collect_partitions().unwrap();
        assert_eq!(parts.len(), 4);
        // Both rows with k = 1 are in one partition.
        let with_one = parts
            .iter()
            .filter(|p| p.iter().any(|b| b.num_rows() > 0 && col_has(b, 1)))
            .count();
        assert_eq!(with_one, 1);
        let ranged = df.repartition(Partitioning::Range(vec![col("k").desc()], 2)).unwrap();
        assert_eq!(ranged.count().unwrap(), 4);
        let even = df.repartition(Partitioning::RoundRobin(3)).unwrap();
        let sizes: Vec<usize> = even
            .rdd()
            .unwrap()
            .collect_partitions()
            .unwrap()
            .iter()
            .map(|p| p.iter().map(|b| b.num_rows()).sum())
            .collect();
        assert_eq!(sizes.iter().sum::<usize>(), 4);
        assert!(sizes.iter().all(|&s| s >= 1), "{sizes:?}");
        assert!(df.repartition(Partitioning::RoundRobin(0)).is_err());
        assert!(df.repartition(Partitioning::Hash(vec![col("z")], 2)).is_err());
        assert!(df.repartition(Partitioning::Hash(vec![], 2)).is_err());
    }

    fn col_has(b: &RecordBatch, v: i64) -> bool {
        use arrow::array::AsArray;
        b.column(0)
            .as_primitive::<arrow::datatypes::Int64Type>()
            .iter()
            .any(|x| x == Some(v))
    }
}
