//! Combining frames: joins on key columns or on a condition, cross joins,
//! and the set operations. Joins are built as SQL's `JOIN .. ON` is (the
//! condition as the join's filter; the optimizer extracts the equi-keys),
//! set operations with the same casts and plans as `UNION [ALL]`,
//! `INTERSECT` and `EXCEPT`.

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion_common::{Column, JoinType};

use super::DataFrame;
use crate::error::Result;
use crate::logical::builder::{coerce_union_inputs, distinct, has_aggregate, set_join};
use crate::logical::coercion::{cast_to, coerce_binary};
use crate::logical::resolve::{resolve_column, resolve_expr};
use crate::logical::{Expr, Join, LogicalPlan, Operator, Union, conjunction, join_schema};
use crate::plan_err;

impl DataFrame {
    /// Joins with `right` where `left_on[i] = right_on[i]` for every `i`
    /// (column names, `"a"` or `"t.a"`). Every column of both sides is kept
    /// (only the left ones for semi and anti joins).
    ///
    /// ```
    /// use flint::SessionContext;
    /// use flint::dataframe::JoinType;
    /// let ctx = SessionContext::new();
    /// let orders = ctx.sql("SELECT * FROM (VALUES (1, 10), (2, 20), (9, 5)) o(cust, amount)").unwrap();
    /// let custs = ctx.sql("SELECT * FROM (VALUES (1, 'ann'), (2, 'bob')) c(id, name)").unwrap();
    /// let joined = orders.join(&custs, JoinType::Inner, &["cust"], &["id"]).unwrap();
    /// assert_eq!(joined.count().unwrap(), 2);
    /// let unmatched = orders.join(&custs, JoinType::LeftAnti, &["cust"], &["id"]).unwrap();
    /// assert_eq!(unmatched.count().unwrap(), 1);
    /// ```
    pub fn join(
        &self,
        right: &DataFrame,
        join_type: JoinType,
        left_on: &[&str],
        right_on: &[&str],
    ) -> Result<DataFrame> {
        if left_on.len() != right_on.len() {
            plan_err!(
                "join() needs as many right keys as left keys, got {} and {}",
                left_on.len(),
                right_on.len()
            );
        }
        if left_on.is_empty() {
            plan_err!("join() needs at least one key; use join_on() with a condition, or cross_join()");
        }
        let combined = self.join_inputs(right, join_type)?;
        let mut preds = Vec::new();
        for (l, r) in left_on.iter().zip(right_on) {
            let lc = resolve_column(&Column::from_qualified_name(*l), self.plan.schema())
                .map_err(|e| e.context("left key of join()"))?;
            let rc = resolve_column(&Column::from_qualified_name(*r), right.plan.schema())
                .map_err(|e| e.context("right key of join()"))?;
            preds.push(coerce_binary(
                Expr::Column(lc),
                Operator::Eq,
                Expr::Column(rc),
                &combined,
            )?);
        }
        self.build_join(right, join_type, conjunction(preds))
    }

    /// Joins with `right` where `on` (over the columns of both sides) is
    /// true, as SQL's `JOIN .. ON`.
    ///
    /// ```
    /// use flint::SessionContext;
    /// use flint::dataframe::JoinType;
    /// use flint::logical::col;
    /// let ctx = SessionContext::new();
    /// let a = ctx.sql("SELECT * FROM (VALUES (1), (5)) a(x)").unwrap();
    /// let b = ctx.sql("SELECT * FROM (VALUES (3)) b(y)").unwrap();
    /// let below = a.join_on(&b, JoinType::Left, col("x").lt(col("y"))).unwrap();
    /// assert_eq!(below.count().unwrap(), 2);
    /// ```
    pub fn join_on(&self, right: &DataFrame, join_type: JoinType, on: Expr) -> Result<DataFrame> {
        let combined = self.join_inputs(right, join_type)?;
        let pred = resolve_expr(on, &combined)?;
        if has_aggregate(&pred) {
            plan_err!("aggregate functions are not allowed in a join condition");
        }
        let pred = cast_to(pred, &DataType::Boolean, &combined).map_err(|e| e.context("join_on()"))?;
        self.build_join(right, join_type, Some(pred))
    }

    /// Every row of this frame with every row of `right`.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let a = ctx.sql("SELECT * FROM (VALUES (1), (2)) a(x)").unwrap();
    /// let b = ctx.sql("SELECT * FROM (VALUES ('p'), ('q'), ('r')) b(y)").unwrap();
    /// assert_eq!(a.cross_join(&b).unwrap().count().unwrap(), 6);
    /// ```
    pub fn cross_join(&self, right: &DataFrame) -> Result<DataFrame> {
        self.join_inputs(right, JoinType::Inner)?;
        self.build_join(right, JoinType::Inner, None)
    }

    /// Checks that the frames can be joined and returns the schema a join
    /// condition is resolved against.
    fn join_inputs(&self, right: &DataFrame, join_type: JoinType) -> Result<datafusion_common::DFSchema> {
        self.same_session(right)?;
        if matches!(join_type, JoinType::LeftMark | JoinType::RightMark) {
            plan_err!("mark joins are internal to subquery planning; use a semi or anti join");
        }
        let (ls, rs) = (self.plan.schema(), right.plan.schema());
        for (q, f) in rs.iter() {
            if ls.iter().any(|(lq, lf)| lq == q && lf.name() == f.name()) {
                let name = q.map_or_else(|| f.name().clone(), |q| format!("{q}.{}", f.name()));
                plan_err!(
                    "both sides of the join have a column {name}; name the sides apart with alias(), e.g. left.alias(\"l\")"
                );
            }
        }
        join_schema(ls, rs, JoinType::Inner)
    }

    fn build_join(&self, right: &DataFrame, join_type: JoinType, filter: Option<Expr>) -> Result<DataFrame> {
        Ok(self.with_plan(LogicalPlan::Join(Join::try_new(
            Arc::clone(&self.plan),
            Arc::clone(&right.plan),
            vec![],
            filter,
            join_type,
            false,
        )?)))
    }

    /// The rows of both frames (`UNION ALL`), matched by position; column
    /// types are widened to a common type, names come from this frame.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let a = ctx.sql("SELECT * FROM (VALUES (1), (2)) a(x)").unwrap();
    /// let b = ctx.sql("SELECT * FROM (VALUES (2.5)) b(y)").unwrap();
    /// let u = a.union(&b).unwrap();
    /// assert_eq!(u.count().unwrap(), 3);
    /// assert_eq!(u.schema().field(0).name(), "x");
    /// ```
    pub fn union(&self, other: &DataFrame) -> Result<DataFrame> {
        let (l, r) = self.set_inputs(other)?;
        Ok(self.with_plan(LogicalPlan::Union(Union::try_new(vec![Arc::new(l), Arc::new(r)])?)))
    }

    /// The distinct rows of both frames (`UNION`).
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let a = ctx.sql("SELECT * FROM (VALUES (1), (2)) a(x)").unwrap();
    /// assert_eq!(a.union_distinct(&a).unwrap().count().unwrap(), 2);
    /// ```
    pub fn union_distinct(&self, other: &DataFrame) -> Result<DataFrame> {
        Ok(self.with_plan(distinct(self.union(other)?.plan.as_ref().clone())?))
    }

    /// The distinct rows that are in both frames (`INTERSECT`); NULLs
    /// match NULLs.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let a = ctx.sql("SELECT * FROM (VALUES (1), (2), (2)) a(x)").unwrap();
    /// let b = ctx.sql("SELECT * FROM (VALUES (2), (3)) b(x)").unwrap();
    /// assert_eq!(a.intersect(&b).unwrap().count().unwrap(), 1);
    /// ```
    pub fn intersect(&self, other: &DataFrame) -> Result<DataFrame> {
        let (l, r) = self.set_inputs(other)?;
        Ok(self.with_plan(set_join(l, r, JoinType::LeftSemi)?))
    }

    /// The distinct rows of this frame that are not in `other` (`EXCEPT`).
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let a = ctx.sql("SELECT * FROM (VALUES (1), (2), (2)) a(x)").unwrap();
    /// let b = ctx.sql("SELECT * FROM (VALUES (1)) b(x)").unwrap();
    /// assert_eq!(a.except(&b).unwrap().count().unwrap(), 1);
    /// ```
    pub fn except(&self, other: &DataFrame) -> Result<DataFrame> {
        let (l, r) = self.set_inputs(other)?;
        Ok(self.with_plan(set_join(l, r, JoinType::LeftAnti)?))
    }

    fn set_inputs(&self, other: &DataFrame) -> Result<(LogicalPlan, LogicalPlan)> {
        self.same_session(other)?;
        coerce_union_inputs(self.plan.as_ref().clone(), other.plan.as_ref().clone())
    }

    fn same_session(&self, other: &DataFrame) -> Result<()> {
        if !Arc::ptr_eq(&self.ctx.state, &other.ctx.state) {
            plan_err!("cannot combine DataFrames of different sessions");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SessionContext;
    use crate::logical::{col, lit};

    #[test]
    fn join_errors_are_caught_when_building() {
        let ctx = SessionContext::new();
        let a = ctx.sql("SELECT * FROM (VALUES (1, 'x')) a(k, s)").unwrap();
        let b = ctx.sql("SELECT * FROM (VALUES (1, 'y')) b(k, t)").unwrap();
        assert!(a.join(&b, JoinType::Inner, &["k"], &[]).is_err());
        assert!(a.join(&b, JoinType::Inner, &[], &[]).is_err());
        let err = a.join(&b, JoinType::Inner, &["nope"], &["k"]).unwrap_err().to_string();
        assert!(err.contains("left key of join()") && err.contains("'nope'"), "{err}");
        assert!(
            a.join(&b, JoinType::Inner, &["k"], &["t"]).is_ok(),
            "strings compare with numbers, as in SQL"
        );
        let d = ctx.sql("SELECT DATE '2024-01-01' AS d").unwrap();
        assert!(a.join(&d, JoinType::Inner, &["k"], &["d"]).is_err(), "integer = date");
        assert!(
            a.join(&a, JoinType::Inner, &["k"], &["k"])
                .unwrap_err()
                .to_string()
                .contains("alias()")
        );
        assert!(a.join(&b, JoinType::LeftMark, &["k"], &["k"]).is_err());
        assert!(
            a.join_on(&b, JoinType::Inner, col("a.k") + lit(1)).is_ok(),
            "cast to boolean, as SQL does"
        );
        assert!(
            a.join_on(&b, JoinType::Inner, lit("2024-01-01").cast(DataType::Date32))
                .is_err()
        );
        let other = SessionContext::new().sql("SELECT 1 AS k").unwrap();
        assert!(a.union(&other).unwrap_err().to_string().contains("different sessions"));
        assert!(
            a.union(&b.select_columns(&["k"]).unwrap()).is_err(),
            "column counts differ"
        );
    }

    #[test]
    fn outer_joins_keep_unmatched_rows() {
        let ctx = SessionContext::new();
        let a = ctx.sql("SELECT * FROM (VALUES (1), (2)) a(k)").unwrap();
        let b = ctx.sql("SELECT * FROM (VALUES (2), (3)) b(j)").unwrap();
        for (t, n) in [
            (JoinType::Inner, 1),
            (JoinType::Left, 2),
            (JoinType::Right, 2),
            (JoinType::Full, 3),
            (JoinType::LeftSemi, 1),
            (JoinType::LeftAnti, 1),
        ] {
            assert_eq!(a.join(&b, t, &["k"], &["j"]).unwrap().count().unwrap(), n, "{t:?}");
        }
    }
}
