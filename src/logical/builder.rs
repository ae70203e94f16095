//! Plan shapes both front ends build the same way: `DISTINCT` as a group-by
//! on every column, `INTERSECT`/`EXCEPT` as semi/anti joins, the casts that
//! line up set-operation inputs, and the rewriting of a select list over an
//! `Aggregate` (its keys and aggregate calls become references to the
//! aggregate's output columns). The SQL binder and the DataFrame API both
//! call these, so a query gets one plan whichever way it was written.

use std::sync::Arc;

use datafusion_common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion_common::{Column, DFSchema, DFSchemaRef, JoinType};

use super::coercion::{cast_to, common_type_of};
use super::{Aggregate, Expr, Join, LogicalPlan, Projection, SubqueryAlias};
use crate::error::Result;
use crate::plan_err;

/// A reference to output column `i` of `schema`, with its qualifier.
pub fn column_of(schema: &DFSchema, i: usize) -> Expr {
    let (q, f) = schema.qualified_field(i);
    Expr::Column(Column::new(q.cloned(), f.name()))
}

/// References to every column of `schema`, in order.
pub fn all_columns(schema: &DFSchema) -> Vec<Expr> {
    (0..schema.fields().len()).map(|i| column_of(schema, i)).collect()
}

/// `SELECT DISTINCT *` over a plan: group by every column.
pub fn distinct(plan: LogicalPlan) -> Result<LogicalPlan> {
    let keys = all_columns(plan.schema());
    Ok(LogicalPlan::Aggregate(Aggregate::try_new(
        Arc::new(plan),
        keys,
        vec![],
    )?))
}

/// `INTERSECT` / `EXCEPT` (distinct) as a semi / anti join on all columns,
/// with NULLs matching NULLs as set operations require. The inputs must
/// already have the same column types ([`coerce_union_inputs`]).
pub fn set_join(left: LogicalPlan, right: LogicalPlan, join_type: JoinType) -> Result<LogicalPlan> {
    // Requalify both sides so that equal names stay apart: an unqualified
    // `x` beside `__set_rhs.x` would be ambiguous (`SELECT 1 AS x
    // INTERSECT SELECT 1`). The result's columns are referred to by name.
    let left = LogicalPlan::SubqueryAlias(SubqueryAlias::try_new(Arc::new(distinct(left)?), "__set_lhs")?);
    let ls = Arc::clone(left.schema());
    let right = LogicalPlan::SubqueryAlias(SubqueryAlias::try_new(Arc::new(right), "__set_rhs")?);
    let rs = Arc::clone(right.schema());
    let on = (0..ls.fields().len())
        .map(|i| (column_of(&ls, i), column_of(&rs, i)))
        .collect();
    Ok(LogicalPlan::Join(Join::try_new(
        Arc::new(left),
        Arc::new(right),
        on,
        None,
        join_type,
        true,
    )?))
}

/// Casts the columns of two set-operation inputs to common types and names
/// the right side's columns after the left's. Errors (without a location:
/// the SQL binder adds one) when the column counts differ or a column's
/// types cannot meet.
pub fn coerce_union_inputs(left: LogicalPlan, right: LogicalPlan) -> Result<(LogicalPlan, LogicalPlan)> {
    let (ls, rs) = (Arc::clone(left.schema()), Arc::clone(right.schema()));
    if ls.fields().len() != rs.fields().len() {
        plan_err!(
            "set operation inputs have {} and {} columns",
            ls.fields().len(),
            rs.fields().len()
        );
    }
    let mut types = Vec::new();
    for i in 0..ls.fields().len() {
        let (a, b) = (ls.field(i).data_type(), rs.field(i).data_type());
        match common_type_of([a, b]) {
            Some(t) => types.push(t),
            None => plan_err!(
                "column {} of the set operation has types {a} and {b}, which do not match",
                i + 1
            ),
        }
    }
    let fix = |plan: LogicalPlan, schema: &DFSchemaRef, names_from: &DFSchemaRef| -> Result<LogicalPlan> {
        let needs = (0..types.len())
            .any(|i| schema.field(i).data_type() != &types[i] || schema.field(i).name() != names_from.field(i).name());
        if !needs {
            return Ok(plan);
        }
        let exprs = (0..types.len())
            .map(|i| Ok(cast_to(column_of(schema, i), &types[i], schema)?.alias(names_from.field(i).name())))
            .collect::<Result<Vec<_>>>()?;
        Ok(LogicalPlan::Projection(Projection::try_new(exprs, Arc::new(plan))?))
    };
    Ok((fix(left, &ls, &ls)?, fix(right, &rs, &ls)?))
}

/// Appends the aggregate calls inside `exprs` to `out` (once each), not
/// looking inside subqueries.
pub fn find_aggregates(exprs: &[Expr], out: &mut Vec<Expr>) {
    for e in exprs {
        // The closure never fails, so neither does the walk.
        let _ = e.apply(|x| {
            if let Expr::Aggregate(_) = x {
                if !out.contains(x) {
                    out.push(x.clone());
                }
                return Ok(TreeNodeRecursion::Jump);
            }
            if matches!(x, Expr::ScalarSubquery(_) | Expr::Exists { .. }) {
                return Ok(TreeNodeRecursion::Jump);
            }
            Ok(TreeNodeRecursion::Continue)
        });
    }
}

/// True when `e` contains an aggregate call.
pub fn has_aggregate(e: &Expr) -> bool {
    let mut found = Vec::new();
    find_aggregates(std::slice::from_ref(e), &mut found);
    !found.is_empty()
}

/// Replaces grouping expressions and aggregate calls by references to the
/// aggregate's output columns.
pub fn rewrite_over_aggregate(e: Expr, keys: &[Expr], aggs: &[Expr], agg_schema: &DFSchema) -> Result<Expr> {
    let n_keys = keys.len();
    let t = e.transform_down(|x| {
        if let Some(i) = keys.iter().position(|k| *k == x) {
            return Ok(Transformed::new(
                column_of(agg_schema, i),
                true,
                TreeNodeRecursion::Jump,
            ));
        }
        if let Some(i) = aggs.iter().position(|a| *a == x) {
            return Ok(Transformed::new(
                column_of(agg_schema, n_keys + i),
                true,
                TreeNodeRecursion::Jump,
            ));
        }
        Ok(Transformed::no(x))
    })?;
    Ok(t.data)
}

/// Checks that every column `e` uses exists in `schema` (the output of an
/// aggregate), naming the clause (`what`) otherwise.
pub fn check_grouped(e: &Expr, schema: &DFSchema, what: &str) -> Result<()> {
    let mut bad = None;
    let _ = e.apply(|x| {
        if let Expr::Column(c) = x
            && schema.qualified_field_from_column(c).is_err()
        {
            bad = Some(c.flat_name());
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    match bad {
        Some(c) => plan_err!("column '{c}' in {what} must appear in GROUP BY or be used in an aggregate function"),
        None => Ok(()),
    }
}

/// `SELECT select FROM input GROUP BY keys` (no HAVING, no ORDER BY): an
/// `Aggregate` computing every aggregate call in `select`, then a
/// `Projection` of `select` over it, each output named `names[i]`. `keys`
/// and `select` are resolved against `input`; `what` names the select list
/// in errors.
pub fn aggregate_select(
    input: LogicalPlan,
    keys: Vec<Expr>,
    select: Vec<Expr>,
    names: &[String],
    what: &str,
) -> Result<LogicalPlan> {
    let mut unique_keys: Vec<Expr> = Vec::new();
    for k in keys {
        let k = k.unalias().clone();
        if has_aggregate(&k) {
            plan_err!("aggregate functions are not allowed in GROUP BY: {k}");
        }
        if !unique_keys.contains(&k) {
            unique_keys.push(k);
        }
    }
    let mut aggs = Vec::new();
    find_aggregates(&select, &mut aggs);
    let agg = Aggregate::try_new(Arc::new(input), unique_keys.clone(), aggs.clone())?;
    let agg_schema = Arc::clone(&agg.schema);
    let exprs = select
        .into_iter()
        .zip(names)
        .map(|(e, name)| {
            let r = rewrite_over_aggregate(e, &unique_keys, &aggs, &agg_schema)?;
            check_grouped(&r, &agg_schema, what)?;
            Ok(if r.output_name() == *name { r } else { r.alias(name) })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(LogicalPlan::Projection(Projection::try_new(
        exprs,
        Arc::new(LogicalPlan::Aggregate(agg)),
    )?))
}
