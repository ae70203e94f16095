//! `filter_aggregate_by_join`: an aggregate joined on one of its group keys
//! only needs the groups the other side can match. A decorrelated scalar
//! subquery is such a join: TPC-H q17 averages `l_quantity` for every one of
//! 200,000 parts, then keeps the ~200 parts of one brand and container. When
//! the join key traces back, through projections, filters and inner or semi
//! joins (following equi-keys), to a filtered table much smaller than the
//! aggregate's input, the aggregate's input is semi-joined with that table's
//! keys first: `γ_k(R) ⋈ L` becomes `γ_k(R ⋉ keys(σ(T)))`, where `T` holds
//! every value of `L`'s key. Whole groups are kept or dropped, so every
//! aggregate stays exact, and groups with a NULL key could never match.
//! It runs before `push_down_semi_join`, which moves the new semi join onto
//! the table inside the aggregate's input that has the key.

use std::sync::Arc;

use datafusion_common::tree_node::{Transformed, TreeNode};
use datafusion_common::{Column, JoinType};

use super::OptimizerRule;
use crate::error::Result;
use crate::logical::stats::estimate_rows;
use crate::logical::{Aggregate, Expr, Filter, Join, LogicalPlan, Projection, SubqueryAlias};

/// See the module documentation.
pub struct FilterAggregateByJoin;

/// The key table must be estimated at most this fraction of the
/// aggregate's input: it is read a second time, and a semi join that keeps
/// most rows costs more than it saves.
const MAX_KEY_FRACTION: f64 = 0.25;

impl OptimizerRule for FilterAggregateByJoin {
    fn name(&self) -> &'static str {
        "filter_aggregate_by_join"
    }

    fn rewrite(&self, plan: LogicalPlan) -> Result<LogicalPlan> {
        let mut aliases = 0;
        Ok(plan
            .transform_up(|node| match node {
                LogicalPlan::Join(j)
                    if matches!(j.join_type, JoinType::Inner | JoinType::Left) && !j.null_equals_null =>
                {
                    match reduce(&j, &mut aliases).map_err(datafusion_common::DataFusionError::from)? {
                        Some(p) => Ok(Transformed::yes(p)),
                        None => Ok(Transformed::no(LogicalPlan::Join(j))),
                    }
                }
                other => Ok(Transformed::no(other)),
            })?
            .data)
    }
}

/// `j` with the aggregate on its right (or, for an inner join, its left)
/// side filtered by the other side's keys; `None` when nothing applies.
fn reduce(j: &Join, aliases: &mut usize) -> Result<Option<LogicalPlan>> {
    let rebuild = |left: &Arc<LogicalPlan>, right: &Arc<LogicalPlan>| {
        LogicalPlan::Join(j.clone()).with_new_inputs(vec![Arc::clone(left), Arc::clone(right)])
    };
    let right_keys: Vec<(&Expr, &Expr)> = j.on.iter().map(|(l, r)| (r, l)).collect();
    if let Some(right) = filter_side(&j.right, &j.left, &right_keys, aliases)? {
        return Ok(Some(rebuild(&j.left, &Arc::new(right))?));
    }
    if j.join_type == JoinType::Inner {
        let left_keys: Vec<(&Expr, &Expr)> = j.on.iter().map(|(l, r)| (l, r)).collect();
        if let Some(left) = filter_side(&j.left, &j.right, &left_keys, aliases)? {
            return Ok(Some(rebuild(&Arc::new(left), &j.right)?));
        }
    }
    Ok(None)
}

/// `agg_side` (an aggregate under aliases and projections) with its input
/// semi-joined with the keys of a filtered table below `other`; `keys` pair
/// an `agg_side` expression with the `other` expression it equals.
fn filter_side(
    agg_side: &LogicalPlan,
    other: &LogicalPlan,
    keys: &[(&Expr, &Expr)],
    aliases: &mut usize,
) -> Result<Option<LogicalPlan>> {
    let Some(agg) = find_aggregate(agg_side) else {
        return Ok(None);
    };
    let input_rows = estimate_rows(&agg.input);
    for (mine, theirs) in keys {
        let (Expr::Column(mine), Expr::Column(theirs)) = (mine, theirs) else {
            continue;
        };
        let (Ok(mi), Ok(ti)) = (
            agg_side.schema().index_of_column(mine),
            other.schema().index_of_column(theirs),
        ) else {
            continue;
        };
        let Some(group_key) = group_key(agg_side, mi) else {
            continue;
        };
        let mut sources = Vec::new();
        key_sources(other, ti, &mut sources);
        let best = sources
            .into_iter()
            .map(|(p, i)| (estimate_rows(&p), p, i))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        let Some((rows, table, i)) = best else { continue };
        if rows > input_rows * MAX_KEY_FRACTION {
            continue;
        }
        *aliases += 1;
        let alias = format!("__keys_{aliases}");
        let (q, f) = table.schema().qualified_field(i);
        let name = f.name().clone();
        let key_col = Expr::Column(Column::new(q.cloned(), &name));
        let keys_plan = LogicalPlan::SubqueryAlias(SubqueryAlias::try_new(
            Arc::new(LogicalPlan::Projection(Projection::try_new(
                vec![key_col],
                Arc::new(table),
            )?)),
            alias.as_str(),
        )?);
        let semi = LogicalPlan::Join(Join::try_new(
            Arc::clone(&agg.input),
            Arc::new(keys_plan),
            vec![(group_key, Expr::Column(Column::new(Some(alias.as_str()), &name)))],
            None,
            JoinType::LeftSemi,
            false,
        )?);
        return Ok(Some(with_aggregate_input(agg_side, semi)?));
    }
    Ok(None)
}

/// The aggregate `plan` outputs, through aliases, projections and
/// `HAVING` filters.
fn find_aggregate(plan: &LogicalPlan) -> Option<&Aggregate> {
    match plan {
        LogicalPlan::Aggregate(a) if !a.group_expr.is_empty() => Some(a),
        LogicalPlan::SubqueryAlias(a) => find_aggregate(&a.input),
        LogicalPlan::Projection(p) => find_aggregate(&p.input),
        LogicalPlan::Filter(f) => find_aggregate(&f.input),
        _ => None,
    }
}

/// The group key (over the aggregate's input) that output column `idx` of
/// `plan` is, if it is one.
fn group_key(plan: &LogicalPlan, idx: usize) -> Option<Expr> {
    match plan {
        LogicalPlan::Aggregate(a) => a.group_expr.get(idx).map(|e| e.unalias().clone()),
        LogicalPlan::SubqueryAlias(a) => group_key(&a.input, idx),
        LogicalPlan::Filter(f) => group_key(&f.input, idx),
        LogicalPlan::Projection(p) => match p.exprs.get(idx)?.unalias() {
            Expr::Column(c) => group_key(&p.input, p.input.schema().index_of_column(c).ok()?),
            _ => None,
        },
        _ => None,
    }
}

/// `plan` with the input of the aggregate it outputs replaced.
fn with_aggregate_input(plan: &LogicalPlan, input: LogicalPlan) -> Result<LogicalPlan> {
    Ok(match plan {
        LogicalPlan::Aggregate(a) => LogicalPlan::Aggregate(Aggregate::try_new(
            Arc::new(input),
            a.group_expr.clone(),
            a.aggr_expr.clone(),
        )?),
        LogicalPlan::SubqueryAlias(a) => LogicalPlan::SubqueryAlias(SubqueryAlias::try_new(
            Arc::new(with_aggregate_input(&a.input, input)?),
            a.alias.clone(),
        )?),
        LogicalPlan::Projection(p) => LogicalPlan::Projection(Projection::try_new(
            p.exprs.clone(),
            Arc::new(with_aggregate_input(&p.input, input)?),
        )?),
        LogicalPlan::Filter(f) => LogicalPlan::Filter(Filter::try_new(
            f.predicate.clone(),
            Arc::new(with_aggregate_input(&f.input, input)?),
        )?),
        other => {
            return Err(crate::Error::Internal(format!(
                "no aggregate below {}",
                other.display_indent()
            )));
        }
    })
}

/// Filtered tables below `plan` holding every value of its output column
/// `idx`, each with the column's index in it.
fn key_sources(plan: &LogicalPlan, idx: usize, out: &mut Vec<(LogicalPlan, usize)>) {
    if is_table(plan) {
        if is_filtered(plan) {
            out.push((plan.clone(), idx));
        }
        return;
    }
    match plan {
        LogicalPlan::Projection(p) => {
            if let Some(Expr::Column(c)) = p.exprs.get(idx).map(Expr::unalias)
                && let Ok(i) = p.input.schema().index_of_column(c)
            {
                key_sources(&p.input, i, out);
            }
        }
        LogicalPlan::Filter(f) => key_sources(&f.input, idx, out),
        LogicalPlan::SubqueryAlias(a) => key_sources(&a.input, idx, out),
        LogicalPlan::Join(j) => {
            let left_len = j.left.schema().fields().len();
            let (side, other, i, from_left) = match j.join_type {
                JoinType::Inner if idx >= left_len => (&j.right, &j.left, idx - left_len, false),
                JoinType::Inner | JoinType::Left | JoinType::LeftSemi | JoinType::LeftAnti | JoinType::LeftMark
                    if idx < left_len =>
                {
                    (&j.left, &j.right, idx, true)
                }
                _ => return,
            };
            key_sources(side, i, out);
            // Through an equi-key of an inner or semi join, every output
            // value is also a value of the other side's key.
            if !matches!(j.join_type, JoinType::Inner | JoinType::LeftSemi) || j.null_equals_null {
                return;
            }
            let (q, f) = side.schema().qualified_field(i);
            let col = Column::new(q.cloned(), f.name());
            for (l, r) in &j.on {
                let (mine, theirs) = if from_left { (l, r) } else { (r, l) };
                if let (Expr::Column(m), Expr::Column(t)) = (mine, theirs)
                    && *m == col
                    && let Ok(ti) = other.schema().index_of_column(t)
                {
                    key_sources(other, ti, out);
                }
            }
        }
        _ => {}
    }
}

/// A table scan under nothing but filters, projections and aliases.
fn is_table(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::TableScan(_) => true,
        LogicalPlan::Filter(f) => is_table(&f.input),
        LogicalPlan::Projection(p) => is_table(&p.input),
        LogicalPlan::SubqueryAlias(a) => is_table(&a.input),
        _ => false,
    }
}

/// Whether a filter keeps only part of the table.
fn is_filtered(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::TableScan(s) => !s.filters.is_empty(),
        LogicalPlan::Filter(_) => true,
        LogicalPlan::Projection(p) => is_filtered(&p.input),
        LogicalPlan::SubqueryAlias(a) => is_filtered(&a.input),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::test_util::bind;
    use crate::optimizer::{DecorrelateSubqueries, PushDownFilter};

    fn run(sql: &str) -> String {
        let plan = bind(sql);
        let plan = DecorrelateSubqueries.rewrite(plan).unwrap();
        let plan = PushDownFilter.rewrite(plan).unwrap();
        FilterAggregateByJoin
            .rewrite(plan)
            .unwrap()
            .display_indent()
            .to_string()
    }

    #[test]
    fn correlated_aggregate_reads_only_the_matching_keys() {
        // For each mid row with c < 5, the average of big.b over its key.
        let plan =
            run("SELECT mid.a FROM mid WHERE mid.c < 5 AND mid.a > (SELECT avg(b) FROM big WHERE big.a = mid.a)");
        let semi = plan.lines().position(|l| l.contains("LeftSemi Join")).expect(&plan);
        let agg = plan.lines().position(|l| l.contains("Aggregate")).expect(&plan);
        assert!(semi > agg, "the semi join is below the aggregate:\n{plan}");
        assert!(plan.contains("__keys_1"), "{plan}");
    }

    #[test]
    fn keys_are_traced_through_an_inner_join_to_the_filtered_table() {
        // big ⋈ small on c = sd: the key big.a reaches mid through mid.a.
        let plan = run(
            "SELECT x.s FROM (SELECT big.a AS a FROM big JOIN mid ON big.a = mid.a WHERE mid.c < 5) t \
             JOIN (SELECT a, sum(b) AS s FROM big GROUP BY a) x ON t.a = x.a",
        );
        assert!(plan.contains("LeftSemi Join"), "{plan}");
    }

    #[test]
    fn an_unfiltered_or_large_key_side_changes_nothing() {
        // mid is not filtered: every group can match.
        let plan = run("SELECT mid.a FROM mid WHERE mid.a > (SELECT avg(b) FROM big WHERE big.a = mid.a)");
        assert!(!plan.contains("LeftSemi"), "{plan}");
        // big (filtered) is not smaller than the aggregate's input (mid).
        let plan =
            run("SELECT big.a FROM big WHERE big.b < 5 AND big.a > (SELECT avg(c) FROM mid WHERE mid.a = big.a)");
        assert!(!plan.contains("LeftSemi"), "{plan}");
    }
}
