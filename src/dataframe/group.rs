//! Aggregation: `group_by(keys).agg(aggregates)` and the global
//! `agg(aggregates)`. The plan is SQL's for `SELECT keys, aggregates FROM ..
//! GROUP BY keys`: an `Aggregate` computing the grouping keys and every
//! aggregate call, under a `Projection` naming the outputs.

use super::DataFrame;
use crate::error::Result;
use crate::functions::count_star;
use crate::logical::Expr;
use crate::logical::builder::aggregate_select;
use crate::plan_err;

/// A frame with grouping keys, waiting for its aggregates (Spark's
/// `RelationalGroupedDataset`). Made by [`DataFrame::group_by`].
///
/// ```
/// use flint::SessionContext;
/// use flint::functions::{avg, count_star};
/// use flint::logical::col;
/// let ctx = SessionContext::new();
/// let df = ctx.sql("SELECT * FROM (VALUES ('a', 1), ('a', 3), ('b', 5)) v(k, x)").unwrap();
/// let out = df.group_by(vec![col("k")]).agg(vec![avg(col("x")), count_star().alias("n")]).unwrap();
/// let names: Vec<String> = out.schema().fields().iter().map(|f| f.name().clone()).collect();
/// assert_eq!(names, ["k", "avg(x)", "n"]);
/// assert_eq!(out.count().unwrap(), 2);
/// ```
#[derive(Clone, Debug)]
pub struct GroupedData {
    df: DataFrame,
    keys: Vec<Expr>,
}

impl DataFrame {
    /// Groups the rows by `keys` (columns or expressions); finish with
    /// [`GroupedData::agg`]. Keys are resolved by `agg`, which reports
    /// unknown columns.
    ///
    /// ```
    /// use flint::SessionContext;
    /// use flint::functions::sum;
    /// use flint::logical::{col, lit};
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT * FROM (VALUES (1, 10), (2, 20), (3, 30)) v(a, b)").unwrap();
    /// let odd = (col("a") % lit(2)).alias("odd");
    /// assert_eq!(df.group_by(vec![odd]).agg(vec![sum(col("b"))]).unwrap().count().unwrap(), 2);
    /// ```
    pub fn group_by(&self, keys: impl IntoIterator<Item = Expr>) -> GroupedData {
        GroupedData {
            df: self.clone(),
            keys: keys.into_iter().collect(),
        }
    }

    /// Aggregates the whole frame as one group (`SELECT sum(x), .. FROM t`).
    ///
    /// ```
    /// use flint::SessionContext;
    /// use flint::functions::{max, min};
    /// use flint::logical::col;
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT * FROM (VALUES (1), (5)) v(a)").unwrap();
    /// let text = df.agg(vec![min(col("a")), max(col("a"))]).unwrap().show_string(1).unwrap();
    /// assert!(text.contains("| 1      | 5      |"), "{text}");
    /// ```
    pub fn agg(&self, aggregates: impl IntoIterator<Item = Expr>) -> Result<DataFrame> {
        self.group_by(vec![]).agg(aggregates)
    }
}

impl GroupedData {
    /// The keys, then one column per expression, which combine aggregate
    /// calls (`sum(col("x")) / count(col("y"))`) and grouping keys. Outputs
    /// are named by their alias or their text, as in `select`.
    ///
    /// ```
    /// use flint::SessionContext;
    /// use flint::functions::sum;
    /// use flint::logical::col;
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT * FROM (VALUES (1, 2)) v(a, b)").unwrap();
    /// let err = df.group_by(vec![col("a")]).agg(vec![col("b")]).unwrap_err();
    /// assert!(err.to_string().contains("column 'v.b' in agg() must appear in GROUP BY"));
    /// assert!(df.group_by(vec![col("nope")]).agg(vec![sum(col("b"))]).is_err());
    /// ```
    pub fn agg(&self, aggregates: impl IntoIterator<Item = Expr>) -> Result<DataFrame> {
        let mut select = Vec::new();
        let mut names = Vec::new();
        let mut keys = Vec::new();
        for k in &self.keys {
            let named = self.df.resolve_named(k.clone())?;
            keys.push(named.unalias().clone());
            names.push(named.output_name());
            select.push(named);
        }
        let n_keys = select.len();
        for a in aggregates {
            let named = self.df.resolve_named(a)?;
            names.push(named.output_name());
            select.push(named);
        }
        if select.len() == n_keys {
            plan_err!("agg() needs at least one aggregate expression");
        }
        let plan = aggregate_select(self.df.plan.as_ref().clone(), keys, select, &names, "agg()")?;
        Ok(self.df.with_plan(plan))
    }

    /// The keys and the number of rows of each group, as a column `count`.
    ///
    /// ```
    /// use flint::SessionContext;
    /// use flint::logical::col;
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT * FROM (VALUES ('a'), ('a'), ('b')) v(k)").unwrap();
    /// let counts = df.group_by(vec![col("k")]).count().unwrap();
    /// assert_eq!(counts.schema().field(1).name(), "count");
    /// ```
    pub fn count(&self) -> Result<DataFrame> {
        self.agg(vec![count_star().alias("count")])
    }
}
