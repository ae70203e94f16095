//! `decorrelate_subqueries`: subqueries in `WHERE`, `HAVING` and the select
//! list become joins.
//!
//! - `[NOT] EXISTS (q)` → left semi (anti) join with `q`, on the
//!   correlated predicates pulled out of `q`.
//! - `x [NOT] IN (q)` → semi (null-aware anti) join on `x = q.column` plus
//!   the correlated predicates.
//! - A scalar subquery → a left join with its one-row result; when it is
//!   correlated by equalities under an aggregate (TPC-H q2, q17, q20) the
//!   aggregate is grouped by the inner correlation keys and joined on them.
//!
//! Known limit: a correlated `count(..)` subquery yields NULL rather than 0
//! for outer rows without matches.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use datafusion_common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion_common::{Column, JoinType, ScalarValue, TableReference};

use super::OptimizerRule;
use super::utils::{columns, has_outer_refs, has_subquery, outer_to_columns, substitute};
use crate::error::Result;
use crate::functions::AggregateFunction;
use crate::logical::coercion::coerce_binary;
use crate::logical::{
    Aggregate, Expr, Filter, Join, LogicalPlan, Operator, Projection, Subquery, SubqueryAlias, conjunction,
};
use crate::physical::expr::evaluate_constant;
use crate::{not_supported, plan_err};

/// See the module documentation.
pub struct DecorrelateSubqueries;

thread_local! {
    /// The number of the next subquery alias, counted per query (the rule
    /// restarts it) so that the same SQL always gets the same plan.
    static NEXT_ALIAS: Cell<usize> = const { Cell::new(1) };
    /// How deep `rewrite` is nested (it recurses into subqueries).
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

fn fresh_alias() -> String {
    format!("__sq_{}", NEXT_ALIAS.replace(NEXT_ALIAS.get() + 1))
}

/// Leaves one level of `rewrite` when dropped, also on error.
struct Nested;

impl Nested {
    fn enter() -> Self {
        if DEPTH.get() == 0 {
            NEXT_ALIAS.set(1);
        }
        DEPTH.set(DEPTH.get() + 1);
        Nested
    }
}

impl Drop for Nested {
    fn drop(&mut self) {
        DEPTH.set(DEPTH.get() - 1);
    }
}

impl OptimizerRule for DecorrelateSubqueries {
    fn name(&self) -> &'static str {
        "decorrelate_subqueries"
    }

    fn rewrite(&self, plan: LogicalPlan) -> Result<LogicalPlan> {
        let _nested = Nested::enter();
        Ok(plan
            .transform_up(|node| {
                let rewritten = match &node {
                    LogicalPlan::Filter(f) if has_subquery(&f.predicate) => Some(rewrite_filter(f)),
                    LogicalPlan::Projection(p) if p.exprs.iter().any(has_subquery) => Some(rewrite_projection(p)),
                    _ => None,
                };
                match rewritten {
                    Some(r) => Ok(Transformed::yes(r.map_err(datafusion_common::DataFusionError::from)?)),
                    None => Ok(Transformed::no(node)),
                }
            })?
            .data)
    }
}

fn columns_of(plan: &LogicalPlan) -> Vec<Expr> {
    let s = plan.schema();
    (0..s.fields().len())
        .map(|i| {
            let (q, f) = s.qualified_field(i);
            Expr::Column(Column::new(q.cloned(), f.name()))
        })
        .collect()
}

fn restore_schema(plan: LogicalPlan, original: &LogicalPlan) -> Result<LogicalPlan> {
    if plan.schema().fields().len() == original.schema().fields().len() {
        return Ok(plan);
    }
    Ok(LogicalPlan::Projection(Projection::try_new(
        columns_of(original),
        Arc::new(plan),
    )?))
}

fn rewrite_filter(f: &Filter) -> Result<LogicalPlan> {
    let mut plan = f.input.as_ref().clone();
    let mut remaining = Vec::new();
    for c in f.predicate.clone().split_conjunction() {
        match c {
            Expr::Exists { subquery, negated } => plan = semi_join(plan, &subquery, None, negated)?,
            Expr::InSubquery {
                expr,
                subquery,
                negated,
            } => plan = semi_join(plan, &subquery, Some(*expr), negated)?,
            Expr::Not(inner) if matches!(inner.as_ref(), Expr::Exists { .. }) => {
                if let Expr::Exists { subquery, negated } = *inner {
                    plan = semi_join(plan, &subquery, None, !negated)?;
                }
            }
            other if has_subquery(&other) => {
                let (p, e) = replace_scalar_subqueries(plan, other)?;
                plan = p;
                remaining.push(e);
            }
            other => remaining.push(other),
        }
    }
    if let Some(pred) = conjunction(remaining) {
        plan = LogicalPlan::Filter(Filter::try_new(pred, Arc::new(plan))?);
    }
    restore_schema(plan, f.input.as_ref())
}

fn rewrite_projection(p: &Projection) -> Result<LogicalPlan> {
    let mut plan = p.input.as_ref().clone();
    let mut exprs = Vec::new();
    for e in &p.exprs {
        if has_subquery(e) {
            let name = e.output_name();
            let (np, ne) = replace_scalar_subqueries(plan, e.clone())?;
            plan = np;
            exprs.push(if ne.output_name() == name { ne } else { ne.alias(name) });
        } else {
            exprs.push(e.clone());
        }
    }
    Ok(LogicalPlan::Projection(Projection::try_new(exprs, Arc::new(plan))?))
}

/// Decorrelates subqueries nested inside the subquery first.
fn prepare(sub: &Subquery) -> Result<LogicalPlan> {
    DecorrelateSubqueries.rewrite(sub.plan.as_ref().clone())
}

/// Gives the subquery a fresh relation name so that its columns cannot
/// clash with the outer query's (`lineitem` inside and outside, as in q17),
/// and rewrites `preds` to use it.
fn alias_inner(inner: LogicalPlan, preds: Vec<Expr>) -> Result<(LogicalPlan, Vec<Expr>)> {
    let alias = fresh_alias();
    let inner_schema = Arc::clone(inner.schema());
    let names: Vec<&String> = inner_schema.fields().iter().map(|f| f.name()).collect();
    let unique: HashSet<&&String> = names.iter().collect();
    if unique.len() != names.len() {
        not_supported!("correlated subqueries whose columns have duplicate names ({names:?})");
    }
    let preds = preds
        .into_iter()
        .map(|p| {
            Ok(p.transform_up(|x| match &x {
                Expr::Column(c) if inner_schema.qualified_field_from_column(c).is_ok() => Ok(Transformed::yes(
                    Expr::Column(Column::new(Some(TableReference::bare(alias.as_str())), &c.name)),
                )),
                _ => Ok(Transformed::no(x)),
            })?
            .data)
        })
        .collect::<Result<Vec<_>>>()?;
    let aliased = LogicalPlan::SubqueryAlias(SubqueryAlias::try_new(Arc::new(inner), alias.as_str())?);
    Ok((aliased, preds))
}

fn semi_join(outer: LogicalPlan, sub: &Subquery, in_expr: Option<Expr>, negated: bool) -> Result<LogicalPlan> {
    let sub_plan = prepare(sub)?;
    let is_in = in_expr.is_some();
    let (inner, preds) = pull_up_correlated(sub_plan, !is_in)?;
    let value = in_expr.as_ref().map(|_| columns_of(&inner)[0].clone());
    let (inner, mut preds) = alias_inner(inner, preds.into_iter().chain(value).collect())?;
    let value = if in_expr.is_some() { preds.pop() } else { None };
    let combined = crate::logical::join_schema(outer.schema(), inner.schema(), JoinType::Inner)?;
    let mut conds = Vec::new();
    if let (Some(x), Some(v)) = (in_expr, value) {
        conds.push(coerce_binary(x, Operator::Eq, v, &combined)?);
    }
    for p in preds {
        conds.push(outer_to_columns(p)?);
    }
    let join_type = if negated {
        JoinType::LeftAnti
    } else {
        JoinType::LeftSemi
    };
    let null_aware = negated && is_in;
    let mut join = Join::try_new(
        Arc::new(outer),
        Arc::new(inner),
        vec![],
        conjunction(conds),
        join_type,
        false,
    )?;
    join.null_aware = null_aware;
    Ok(LogicalPlan::Join(join))
}

/// Removes correlated predicates from `plan`, returning the plan and the
/// predicates (which still hold `OuterColumn`s). With `drop_projection`
/// (EXISTS) the select list is irrelevant and removed; otherwise columns the
/// predicates need are added to it.
fn pull_up_correlated(plan: LogicalPlan, drop_projection: bool) -> Result<(LogicalPlan, Vec<Expr>)> {
    match plan {
        LogicalPlan::Projection(p) => {
            let (input, preds) = pull_up_correlated(p.input.as_ref().clone(), false)?;
            if drop_projection {
                return Ok((input, preds));
            }
            let mut exprs = p.exprs.clone();
            let outputs: HashSet<Column> = exprs
                .iter()
                .filter_map(|e| match e {
                    Expr::Column(c) => Some(c.clone()),
                    _ => None,
                })
                .collect();
            let mut needed: Vec<Column> = preds
                .iter()
                .flat_map(columns)
                .filter(|c| !outputs.contains(c))
                .collect();
            needed.sort_by_key(|c| c.flat_name());
            needed.dedup();
            exprs.extend(needed.into_iter().map(Expr::Column));
            Ok((
                LogicalPlan::Projection(Projection::try_new(exprs, Arc::new(input))?),
                preds,
            ))
        }
        LogicalPlan::Filter(f) => {
            let (input, mut preds) = pull_up_correlated(f.input.as_ref().clone(), false)?;
            let (corr, plain): (Vec<Expr>, Vec<Expr>) = f
                .predicate
                .clone()
                .split_conjunction()
                .into_iter()
                .partition(has_outer_refs);
            preds.extend(corr);
            let plan = match conjunction(plain) {
                Some(p) => LogicalPlan::Filter(Filter::try_new(p, Arc::new(input))?),
                None => input,
            };
            Ok((plan, preds))
        }
        LogicalPlan::SubqueryAlias(a) => {
            let (input, preds) = pull_up_correlated(a.input.as_ref().clone(), drop_projection)?;
            let inner_schema = Arc::clone(input.schema());
            let alias = a.alias.clone();
            let preds = preds
                .into_iter()
                .map(|p| {
                    Ok(p.transform_up(|x| match &x {
                        Expr::Column(c) if inner_schema.qualified_field_from_column(c).is_ok() => Ok(Transformed::yes(
                            Expr::Column(Column::new(Some(alias.clone()), &c.name)),
                        )),
                        _ => Ok(Transformed::no(x)),
                    })?
                    .data)
                })
                .collect::<Result<Vec<_>>>()?;
            Ok((
                LogicalPlan::SubqueryAlias(SubqueryAlias::try_new(Arc::new(input), alias)?),
                preds,
            ))
        }
        LogicalPlan::Sort(s) if drop_projection => pull_up_correlated(s.input.as_ref().clone(), true),
        LogicalPlan::Join(j) if j.join_type == JoinType::Inner => {
            let (l, mut preds) = pull_up_correlated(j.left.as_ref().clone(), false)?;
            let (r, rp) = pull_up_correlated(j.right.as_ref().clone(), false)?;
            preds.extend(rp);
            let mut plain = Vec::new();
            if let Some(f) = &j.filter {
                for c in f.clone().split_conjunction() {
                    if has_outer_refs(&c) {
                        preds.push(c);
                    } else {
                        plain.push(c);
                    }
                }
            }
            let join = Join::try_new(
                Arc::new(l),
                Arc::new(r),
                j.on.clone(),
                conjunction(plain),
                j.join_type,
                j.null_equals_null,
            )?;
            Ok((LogicalPlan::Join(join), preds))
        }
        other => {
            if plan_has_outer_refs(&other) {
                not_supported!("this correlated subquery (correlation below {})", other.node_line());
            }
            Ok((other, vec![]))
        }
    }
}

fn plan_has_outer_refs(plan: &LogicalPlan) -> bool {
    let mut found = false;
    let _ = plan.apply(|p| {
        if p.expressions().into_iter().any(has_outer_refs) {
            found = true;
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

/// Replaces each scalar subquery in `e` by a column of a join added on top
/// of `plan`.
fn replace_scalar_subqueries(plan: LogicalPlan, e: Expr) -> Result<(LogicalPlan, Expr)> {
    let mut plan = plan;
    let mut error = None;
    let t = e.transform_down(|x| match x {
        Expr::ScalarSubquery(sub) => match join_scalar(plan.clone(), &sub) {
            Ok((p, col)) => {
                plan = p;
                Ok(Transformed::new(col, true, TreeNodeRecursion::Jump))
            }
            Err(err) => {
                error = Some(err);
                Ok(Transformed::new(
                    Expr::ScalarSubquery(sub),
                    false,
                    TreeNodeRecursion::Stop,
                ))
            }
        },
        Expr::Exists { .. } | Expr::InSubquery { .. } => {
            error = Some(crate::Error::NotSupported(
                "EXISTS / IN subqueries inside OR, NOT or other expressions; only as AND-ed conditions".into(),
            ));
            Ok(Transformed::new(x, false, TreeNodeRecursion::Stop))
        }
        other => Ok(Transformed::no(other)),
    })?;
    if let Some(err) = error {
        return Err(err);
    }
    Ok((plan, t.data))
}

fn join_scalar(outer: LogicalPlan, sub: &Subquery) -> Result<(LogicalPlan, Expr)> {
    let sub_plan = prepare(sub)?;
    if sub.outer_refs.is_empty() && !plan_has_outer_refs(&sub_plan) {
        let (inner, _) = alias_inner(sub_plan, vec![])?;
        let value = columns_of(&inner)[0].clone();
        let join = Join::try_new(Arc::new(outer), Arc::new(inner), vec![], None, JoinType::Left, false)?;
        return Ok((LogicalPlan::Join(join), value));
    }
    // Correlated: [Projection] over an ungrouped Aggregate over a plan with
    // correlated equalities.
    let (proj_exprs, agg) = match &sub_plan {
        LogicalPlan::Projection(p) => match p.input.as_ref() {
            LogicalPlan::Aggregate(a) => (Some(p.exprs.clone()), a.clone()),
            _ => not_supported!("correlated scalar subqueries without an aggregate"),
        },
        LogicalPlan::Aggregate(a) => (None, a.clone()),
        _ => not_supported!("correlated scalar subqueries without an aggregate"),
    };
    if !agg.group_expr.is_empty() {
        not_supported!("correlated scalar subqueries with GROUP BY");
    }
    let (inner, preds) = pull_up_correlated(agg.input.as_ref().clone(), false)?;
    let mut inner_keys = Vec::new();
    let mut outer_keys = Vec::new();
    for p in preds {
        match p {
            Expr::Binary(l, Operator::Eq, r) if has_outer_refs(&r) && !has_outer_refs(&l) => {
                inner_keys.push(*l);
                outer_keys.push(outer_to_columns(*r)?);
            }
            Expr::Binary(l, Operator::Eq, r) if has_outer_refs(&l) && !has_outer_refs(&r) => {
                inner_keys.push(*r);
                outer_keys.push(outer_to_columns(*l)?);
            }
            other => not_supported!("the correlated condition {other} under an aggregate; only equalities"),
        }
    }
    let new_agg = Aggregate::try_new(Arc::new(inner), inner_keys.clone(), agg.aggr_expr.clone())?;
    let agg_schema = Arc::clone(&new_agg.schema);
    let n_keys = inner_keys.len();
    let key_cols: Vec<Expr> = (0..n_keys)
        .map(|i| {
            let (q, f) = agg_schema.qualified_field(i);
            Expr::Column(Column::new(q.cloned(), f.name()))
        })
        .collect();
    let mut exprs = match proj_exprs {
        Some(e) => e,
        None => (n_keys..agg_schema.fields().len())
            .map(|i| {
                let (q, f) = agg_schema.qualified_field(i);
                Expr::Column(Column::new(q.cloned(), f.name()))
            })
            .collect(),
    };
    if exprs.len() != 1 {
        plan_err!("a scalar subquery must return one column");
    }
    let value_name = exprs[0].output_name();
    let empty = empty_set_value(&exprs[0], &agg)?;
    exprs[0] = exprs[0].clone().alias("__value");
    for (i, k) in key_cols.into_iter().enumerate() {
        exprs.push(k.alias(format!("__key_{i}")));
    }
    let _ = value_name;
    let proj = LogicalPlan::Projection(Projection::try_new(exprs, Arc::new(LogicalPlan::Aggregate(new_agg)))?);
    let (inner, _) = alias_inner(proj, vec![])?;
    let cols = columns_of(&inner);
    let combined = crate::logical::join_schema(outer.schema(), inner.schema(), JoinType::Inner)?;
    let conds = outer_keys
        .into_iter()
        .enumerate()
        .map(|(i, ok)| coerce_binary(ok, Operator::Eq, cols[i + 1].clone(), &combined))
        .collect::<Result<Vec<_>>>()?;
    let join = Join::try_new(
        Arc::new(outer),
        Arc::new(inner),
        vec![],
        conjunction(conds),
        JoinType::Left,
        false,
    )?;
    // An outer row no inner row matches gets NULL from the left join; the
    // subquery's value there is its aggregates over no rows (count is 0).
    let value = match empty {
        Some(v) => Expr::Case {
            operand: None,
            when_then: vec![(Expr::IsNull(Box::new(cols[1].clone())), Expr::Literal(v))],
            else_expr: Some(Box::new(cols[0].clone())),
        },
        None => cols[0].clone(),
    };
    Ok((LogicalPlan::Join(join), value))
}

/// The value of `e` (an expression over the outputs of the ungrouped
/// `agg`) when the aggregate's input is empty: `count` gives 0, every
/// other aggregate NULL. `None` when that is NULL (or not a constant),
/// which is what the left join produces anyway.
fn empty_set_value(e: &Expr, agg: &Aggregate) -> Result<Option<ScalarValue>> {
    let mut map = HashMap::new();
    for (i, a) in agg.aggr_expr.iter().enumerate() {
        let (q, f) = agg.schema.qualified_field(i);
        let v = match a.unalias() {
            Expr::Aggregate(c) if c.func == AggregateFunction::Count => ScalarValue::Int64(Some(0)),
            _ => ScalarValue::try_new_null(f.data_type())?,
        };
        map.insert(Column::new(q.cloned(), f.name()), Expr::Literal(v));
    }
    Ok(evaluate_constant(&substitute(e.clone(), &map)?)?.filter(|v| !v.is_null()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::test_util::bind;

    fn run(sql: &str) -> String {
        DecorrelateSubqueries.rewrite(bind(sql)).unwrap().display_indent()
    }

    #[test]
    fn exists_and_not_exists_become_semi_and_anti_joins() {
        let p = run("SELECT b FROM big WHERE EXISTS (SELECT 1 FROM mid WHERE mid.a = big.a AND c > 1)");
        assert!(
            p.contains("LeftSemi Join: filter=__sq_") && p.contains(".a = big.a"),
            "{p}"
        );
        assert!(!p.contains("subquery"), "{p}");
        let p = run("SELECT b FROM big WHERE NOT EXISTS (SELECT 1 FROM mid WHERE mid.a = big.a)");
        assert!(p.contains("LeftAnti Join"), "{p}");
    }

    #[test]
    fn in_subqueries_become_semi_joins_and_not_in_is_null_aware() {
        let p = DecorrelateSubqueries
            .rewrite(bind("SELECT b FROM big WHERE a NOT IN (SELECT c FROM small)"))
            .unwrap();
        let mut found = false;
        let _ = p.apply(|n| {
            if let LogicalPlan::Join(j) = n {
                found = j.join_type == JoinType::LeftAnti && j.null_aware;
            }
            Ok(TreeNodeRecursion::Continue)
        });
        assert!(found, "{}", p.display_indent());
    }

    #[test]
    fn correlated_scalar_subquery_is_grouped_by_its_keys() {
        let p = run("SELECT b FROM big WHERE b > (SELECT avg(c) FROM mid WHERE mid.a = big.a)");
        assert!(p.contains("Left Join"), "{p}");
        assert!(p.contains("Aggregate: groupBy=[mid.a]"), "{p}");
    }

    #[test]
    fn unsupported_shapes_say_so() {
        let plan = bind("SELECT b FROM big WHERE a = 1 OR EXISTS (SELECT 1 FROM mid WHERE mid.a = big.a)");
        let err = DecorrelateSubqueries.rewrite(plan).unwrap_err();
        assert!(err.to_string().contains("not supported"), "{err}");
    }
}
