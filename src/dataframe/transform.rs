//! Row-wise transformations (`select`, `filter`, `with_column`, renaming
//! and dropping columns), sorting, limits, `distinct` and `alias`. Each
//! resolves its expressions against the input (unknown columns fail here,
//! naming the column and the available ones) and builds the node the SQL
//! binder builds for the same clause.

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion_common::{Column, TableReference};

use super::DataFrame;
use crate::error::Result;
use crate::logical::builder::{aggregate_select, all_columns, column_of, distinct, has_aggregate};
use crate::logical::coercion::cast_to;
use crate::logical::resolve::resolve_column;
use crate::logical::{Expr, Filter, Limit, LogicalPlan, Projection, Sort, SortExpr, SubqueryAlias, col};
use crate::plan_err;

impl DataFrame {
    /// Computes one output column per expression (Spark's `select`):
    /// columns keep their names, other expressions are named by their
    /// [`alias`](Expr::alias) or their text (`a + 1`), as unnamed SQL select
    /// items are. `col("*")` and `col("t.*")` expand to all (or one
    /// relation's) columns. With aggregate calls the whole frame is one
    /// group, as in `SELECT sum(x) FROM t`.
    ///
    /// ```
    /// use flint::SessionContext;
    /// use flint::logical::{col, lit};
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT * FROM (VALUES (1, 2)) v(a, b)").unwrap();
    /// let out = df.select(vec![col("a"), (col("b") * lit(10)).alias("b10"), col("a") + col("b")]).unwrap();
    /// let names: Vec<String> = out.schema().fields().iter().map(|f| f.name().clone()).collect();
    /// assert_eq!(names, ["a", "b10", "a + b"]);
    /// assert!(df.select(vec![col("c")]).unwrap_err().to_string().contains("available columns: v.a, v.b"));
    /// ```
    pub fn select(&self, exprs: impl IntoIterator<Item = Expr>) -> Result<DataFrame> {
        let schema = Arc::clone(self.plan.schema());
        let mut select = Vec::new();
        let mut names = Vec::new();
        for e in exprs {
            if let Some(relation) = wildcard(&e) {
                let cols: Vec<Expr> = match &relation {
                    None => all_columns(&schema),
                    Some(q) => (0..schema.fields().len())
                        .filter(|&i| schema.qualified_field(i).0.is_some_and(|r| r.resolved_eq(q)))
                        .map(|i| column_of(&schema, i))
                        .collect(),
                };
                if cols.is_empty() {
                    plan_err!("{e} matches no column of the input");
                }
                names.extend(cols.iter().map(Expr::output_name));
                select.extend(cols);
                continue;
            }
            let named = self.resolve_named(e)?;
            names.push(named.output_name());
            select.push(named);
        }
        if select.iter().any(has_aggregate) {
            let plan = aggregate_select(self.plan.as_ref().clone(), vec![], select, &names, "select()")?;
            return Ok(self.with_plan(plan));
        }
        self.project(select)
    }

    /// Selects columns by name (`"a"` or `"t.a"`).
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT * FROM (VALUES (1, 2)) v(a, b)").unwrap();
    /// assert_eq!(df.select_columns(&["b"]).unwrap().schema().field(0).name(), "b");
    /// ```
    pub fn select_columns(&self, names: &[&str]) -> Result<DataFrame> {
        self.select(names.iter().map(|n| col(n)))
    }

    /// Keeps the rows where `predicate` is true (SQL's `WHERE`).
    ///
    /// ```
    /// use flint::SessionContext;
    /// use flint::logical::{col, lit};
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT * FROM (VALUES (1, 'x', DATE '2024-01-01'), (7, NULL, NULL)) v(a, b, d)").unwrap();
    /// assert_eq!(df.filter(col("a").gt(lit(5)).or(col("b").is_not_null())).unwrap().count().unwrap(), 2);
    /// let err = df.filter(col("d")).unwrap_err().to_string();
    /// assert!(err.contains("cannot cast v.d from Date32 to Boolean"), "{err}");
    /// ```
    pub fn filter(&self, predicate: Expr) -> Result<DataFrame> {
        let pred = self.resolve(predicate)?;
        if has_aggregate(&pred) {
            plan_err!("aggregate functions are not allowed in filter(): aggregate with group_by().agg(), then filter");
        }
        let pred = cast_to(pred, &DataType::Boolean, self.plan.schema()).map_err(|e| e.context("filter()"))?;
        Ok(self.with_plan(LogicalPlan::Filter(Filter::try_new(pred, Arc::clone(&self.plan))?)))
    }

    /// Same as [`DataFrame::filter`] (Spark's `where`, a keyword in Rust).
    ///
    /// ```
    /// use flint::SessionContext;
    /// use flint::logical::{col, lit};
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT * FROM (VALUES (1), (2)) v(a)").unwrap();
    /// assert_eq!(df.where_(col("a").eq(lit(2))).unwrap().count().unwrap(), 1);
    /// ```
    pub fn where_(&self, predicate: Expr) -> Result<DataFrame> {
        self.filter(predicate)
    }

    /// Adds a column named `name`, or replaces the column of that name in
    /// place.
    ///
    /// ```
    /// use flint::SessionContext;
    /// use flint::logical::{col, lit};
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT * FROM (VALUES (1, 2)) v(a, b)").unwrap();
    /// let df = df.with_column("c", col("a") + col("b")).unwrap().with_column("a", lit(0)).unwrap();
    /// let names: Vec<String> = df.schema().fields().iter().map(|f| f.name().clone()).collect();
    /// assert_eq!(names, ["a", "b", "c"]);
    /// ```
    pub fn with_column(&self, name: &str, expr: Expr) -> Result<DataFrame> {
        let e = self.resolve(expr)?;
        if has_aggregate(&e) {
            plan_err!("aggregate functions are not allowed in with_column(); use group_by().agg()");
        }
        let schema = Arc::clone(self.plan.schema());
        let matching: Vec<usize> = (0..schema.fields().len())
            .filter(|&i| schema.field(i).name() == name)
            .collect();
        if matching.len() > 1 {
            plan_err!("with_column(\"{name}\"): several columns are named {name}; rename or drop one first");
        }
        let mut exprs = all_columns(&schema);
        match matching.first() {
            Some(&i) => exprs[i] = e.alias(name),
            None => exprs.push(e.alias(name)),
        }
        self.project(exprs)
    }

    /// Renames column `old` (`"a"` or `"t.a"`) to `new`.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT * FROM (VALUES (1, 2)) v(a, b)").unwrap();
    /// assert_eq!(df.with_column_renamed("a", "x").unwrap().schema().field(0).name(), "x");
    /// assert!(df.with_column_renamed("z", "x").is_err());
    /// ```
    pub fn with_column_renamed(&self, old: &str, new: &str) -> Result<DataFrame> {
        let schema = Arc::clone(self.plan.schema());
        let target = resolve_column(&Column::from_qualified_name(old), &schema)?;
        let exprs = (0..schema.fields().len())
            .map(|i| match column_of(&schema, i) {
                Expr::Column(c) if c == target => Expr::Column(c).alias(new),
                other => other,
            })
            .collect();
        self.project(exprs)
    }

    /// Removes columns by name (`"a"` or `"t.a"`).
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT * FROM (VALUES (1, 2, 3)) v(a, b, c)").unwrap();
    /// assert_eq!(df.drop_columns(&["a", "c"]).unwrap().schema().fields().len(), 1);
    /// assert!(df.drop_columns(&["d"]).is_err());
    /// ```
    pub fn drop_columns(&self, names: &[&str]) -> Result<DataFrame> {
        let schema = Arc::clone(self.plan.schema());
        let dropped = names
            .iter()
            .map(|n| resolve_column(&Column::from_qualified_name(*n), &schema))
            .collect::<Result<Vec<_>>>()?;
        let exprs = all_columns(&schema)
            .into_iter()
            .filter(|e| !matches!(e, Expr::Column(c) if dropped.contains(c)))
            .collect();
        self.project(exprs)
    }

    /// Orders the rows by the keys, most significant first; build keys with
    /// [`Expr::sort`], [`Expr::asc`] or [`Expr::desc`].
    ///
    /// ```
    /// use flint::SessionContext;
    /// use flint::logical::col;
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT * FROM (VALUES (2), (NULL), (1)) v(a)").unwrap();
    /// let text = df.sort(vec![col("a").sort(true, true)]).unwrap().show_string(10).unwrap();
    /// assert!(text.find("|   |").unwrap() < text.find("| 1 |").unwrap());
    /// ```
    pub fn sort(&self, keys: impl IntoIterator<Item = SortExpr>) -> Result<DataFrame> {
        let exprs = keys
            .into_iter()
            .map(|k| {
                let expr = self.resolve(k.expr)?;
                if has_aggregate(&expr) {
                    plan_err!("aggregate functions are not allowed in sort(); aggregate first");
                }
                Ok(SortExpr { expr, ..k })
            })
            .collect::<Result<Vec<_>>>()?;
        if exprs.is_empty() {
            plan_err!("sort() needs at least one key");
        }
        Ok(self.with_plan(LogicalPlan::Sort(Sort {
            exprs,
            input: Arc::clone(&self.plan),
            fetch: None,
        })))
    }

    /// Skips `skip` rows, then keeps at most `fetch` (`None`: all the
    /// rest), as SQL's `OFFSET skip LIMIT fetch`.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT * FROM (VALUES (1), (2), (3)) v(a)").unwrap();
    /// assert_eq!(df.limit(1, Some(5)).unwrap().count().unwrap(), 2);
    /// assert_eq!(df.limit(0, Some(1)).unwrap().count().unwrap(), 1);
    /// ```
    pub fn limit(&self, skip: usize, fetch: Option<usize>) -> Result<DataFrame> {
        Ok(self.with_plan(LogicalPlan::Limit(Limit {
            skip,
            fetch,
            input: Arc::clone(&self.plan),
        })))
    }

    /// Removes duplicate rows (`SELECT DISTINCT`).
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT * FROM (VALUES (1), (1), (2)) v(a)").unwrap();
    /// assert_eq!(df.distinct().unwrap().count().unwrap(), 2);
    /// ```
    pub fn distinct(&self) -> Result<DataFrame> {
        Ok(self.with_plan(distinct(self.plan.as_ref().clone())?))
    }

    /// Names the frame: its columns become `name.column` (SQL's `FROM (...)
    /// AS name`), e.g. to tell the sides of a self-join apart.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT * FROM (VALUES (1)) v(a)").unwrap().alias("x").unwrap();
    /// assert_eq!(df.qualified_schema().field_names(), vec!["x.a"]);
    /// ```
    pub fn alias(&self, name: &str) -> Result<DataFrame> {
        let alias = TableReference::bare(name);
        Ok(self.with_plan(LogicalPlan::SubqueryAlias(SubqueryAlias::try_new(
            Arc::clone(&self.plan),
            alias,
        )?)))
    }

    /// A projection of resolved expressions over this frame.
    pub(crate) fn project(&self, exprs: Vec<Expr>) -> Result<DataFrame> {
        Ok(self.with_plan(LogicalPlan::Projection(Projection::try_new(
            exprs,
            Arc::clone(&self.plan),
        )?)))
    }
}

/// `Some(None)` for `col("*")`, `Some(Some(t))` for `col("t.*")`.
fn wildcard(e: &Expr) -> Option<Option<TableReference>> {
    let Expr::Column(c) = e else { return None };
    if c.name == "*" {
        return Some(c.relation.clone());
    }
    match (&c.relation, c.name.strip_suffix(".*")) {
        (None, Some(q)) => Some(Some(TableReference::from(q))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::SessionContext;
    use crate::functions::sum;
    use crate::logical::{col, lit};

    fn df() -> crate::DataFrame {
        SessionContext::new()
            .sql("SELECT * FROM (VALUES (1, 'a'), (2, 'b')) v(a, b)")
            .unwrap()
    }

    #[test]
    fn select_expands_wildcards_and_aggregates_globally() {
        let df = df();
        assert_eq!(df.select(vec![col("*")]).unwrap().schema().fields().len(), 2);
        assert_eq!(df.select(vec![col("v.*"), lit(1)]).unwrap().schema().fields().len(), 3);
        assert!(df.select(vec![col("w.*")]).is_err());
        let total = df.select(vec![sum(col("a")).alias("s")]).unwrap();
        assert_eq!(total.show_string(5).unwrap().lines().nth(3), Some("| 3 |"));
        let err = df.select(vec![sum(col("a")), col("b")]).unwrap_err().to_string();
        assert!(err.contains("must appear in GROUP BY"), "{err}");
    }

    #[test]
    fn errors_name_the_problem() {
        let df = df();
        assert!(
            df.filter(sum(col("a")).gt(lit(1)))
                .unwrap_err()
                .to_string()
                .contains("not allowed")
        );
        assert!(df.with_column("c", sum(col("a"))).is_err());
        assert!(df.sort(vec![]).is_err());
        assert!(
            df.sort(vec![col("nope").asc()])
                .unwrap_err()
                .to_string()
                .contains("'nope'")
        );
        let joined = df
            .alias("x")
            .unwrap()
            .join_on(
                &df.alias("y").unwrap(),
                super::super::JoinType::Inner,
                col("x.a").eq(col("y.a")),
            )
            .unwrap();
        assert!(
            joined
                .with_column("a", lit(1))
                .unwrap_err()
                .to_string()
                .contains("several columns")
        );
    }
}
