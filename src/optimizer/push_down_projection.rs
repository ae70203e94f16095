//! `push_down_projection`: every node keeps only the columns its consumers
//! use, down to the scans, which then read only those columns.

use std::collections::BTreeSet;
use std::sync::Arc;

use datafusion_common::{Column, DFSchema, JoinType};

use super::OptimizerRule;
use super::utils::columns;
use crate::error::Result;
use crate::logical::{Aggregate, Expr, LogicalPlan, Projection, TableScan};

/// See the module documentation.
pub struct PushDownProjection;

impl OptimizerRule for PushDownProjection {
    fn name(&self) -> &'static str {
        "push_down_projection"
    }

    fn rewrite(&self, plan: LogicalPlan) -> Result<LogicalPlan> {
        let all: BTreeSet<usize> = (0..plan.schema().fields().len()).collect();
        prune(plan, &all)
    }
}

/// Indices of `schema`'s fields used by `exprs`.
fn used(exprs: &[&Expr], schema: &DFSchema) -> BTreeSet<usize> {
    exprs
        .iter()
        .flat_map(|e| columns(e))
        .filter_map(|c| schema.index_of_column(&c).ok())
        .collect()
}

fn prune(plan: LogicalPlan, required: &BTreeSet<usize>) -> Result<LogicalPlan> {
    match plan {
        LogicalPlan::TableScan(s) => {
            let current: Vec<usize> = match &s.projection {
                Some(p) => p.clone(),
                None => (0..s.source.schema().fields().len()).collect(),
            };
            let mut keep: Vec<usize> = required.iter().filter_map(|&i| current.get(i).copied()).collect();
            if keep.is_empty() && !current.is_empty() {
                // Keep one column so that row counts survive (count(*)).
                keep.push(current[0]);
            }
            Ok(LogicalPlan::TableScan(TableScan::try_new(
                s.table_name.clone(),
                Arc::clone(&s.source),
                Some(keep),
                s.filters.clone(),
                s.fetch,
            )?))
        }
        LogicalPlan::Projection(p) => {
            let exprs: Vec<Expr> = p
                .exprs
                .iter()
                .enumerate()
                .filter(|(i, _)| required.contains(i))
                .map(|(_, e)| e.clone())
                .collect();
            let refs: Vec<&Expr> = exprs.iter().collect();
            let need = used(&refs, p.input.schema());
            let mut input = prune(p.input.as_ref().clone(), &need)?;
            // Picking columns out of a pick of columns is one pick (the
            // inner one may be a `keep_only` projection).
            if let LogicalPlan::Projection(inner) = &input
                && [&exprs, &inner.exprs]
                    .iter()
                    .all(|es| es.iter().all(|e| matches!(e, Expr::Column(_))))
            {
                input = inner.input.as_ref().clone();
            }
            Ok(LogicalPlan::Projection(Projection::try_new(exprs, Arc::new(input))?))
        }
        LogicalPlan::Aggregate(a) => {
            let n_keys = a.group_expr.len();
            let mut aggs: Vec<Expr> = a
                .aggr_expr
                .iter()
                .enumerate()
                .filter(|(i, _)| required.contains(&(n_keys + i)))
                .map(|(_, e)| e.clone())
                .collect();
            if aggs.is_empty() && n_keys == 0 && !a.aggr_expr.is_empty() {
                aggs.push(a.aggr_expr[0].clone());
            }
            let refs: Vec<&Expr> = a.group_expr.iter().chain(aggs.iter()).collect();
            let need = used(&refs, a.input.schema());
            let input = prune(a.input.as_ref().clone(), &need)?;
            Ok(LogicalPlan::Aggregate(Aggregate::try_new(
                Arc::new(input),
                a.group_expr.clone(),
                aggs,
            )?))
        }
        LogicalPlan::Join(j) => {
            let schema = Arc::clone(&j.schema);
            let n_left = j.left.schema().fields().len();
            let right_offset = match j.join_type {
                JoinType::RightSemi | JoinType::RightAnti | JoinType::RightMark => 0,
                _ => n_left,
            };
            let exprs: Vec<&Expr> = j.on.iter().flat_map(|(l, r)| [l, r]).chain(j.filter.iter()).collect();
            let mut left_need = used(&exprs, j.left.schema());
            let mut right_need = used(&exprs, j.right.schema());
            for &i in required {
                match j.join_type {
                    JoinType::RightSemi | JoinType::RightAnti | JoinType::RightMark => {
                        right_need.insert(i);
                    }
                    JoinType::LeftSemi | JoinType::LeftAnti | JoinType::LeftMark => {
                        left_need.insert(i);
                    }
                    _ if i < n_left => {
                        left_need.insert(i);
                    }
                    _ => {
                        right_need.insert(i - right_offset);
                    }
                }
            }
            left_need.retain(|&i| i < n_left);
            let left = prune(j.left.as_ref().clone(), &left_need)?;
            let right = prune(j.right.as_ref().clone(), &right_need)?;
            let join = LogicalPlan::Join(j).with_new_inputs(vec![Arc::new(left), Arc::new(right)])?;
            // Keys only the join reads go right after it (the physical join
            // then never gathers them), so joins and exchanges above do not
            // move them.
            keep_only(join, &schema, required)
        }
        LogicalPlan::Filter(_) | LogicalPlan::Sort(_) => {
            let exprs = plan.expressions();
            let input = Arc::clone(plan.inputs()[0]);
            let only_here = used(&exprs, input.schema());
            let mut need = only_here.clone();
            need.extend(required.iter().copied());
            let pruned = prune(input.as_ref().clone(), &need)?;
            let is_filter = matches!(plan, LogicalPlan::Filter(_));
            let schema = Arc::clone(plan.schema());
            let node = plan.with_new_inputs(vec![Arc::new(pruned)])?;
            if !is_filter || only_here.is_subset(required) {
                return Ok(node);
            }
            // Columns read only by the predicate go right after the filter,
            // so joins and exchanges above do not build or move them.
            keep_only(node, &schema, required)
        }
        LogicalPlan::Limit(_) | LogicalPlan::SubqueryAlias(_) => {
            let input = Arc::clone(plan.inputs()[0]);
            let pruned = prune(input.as_ref().clone(), required)?;
            plan.with_new_inputs(vec![Arc::new(pruned)])
        }
        LogicalPlan::Union(u) => {
            let all: BTreeSet<usize> = (0..u.schema.fields().len()).collect();
            let inputs = u
                .inputs
                .iter()
                .map(|i| prune(i.as_ref().clone(), &all).map(Arc::new))
                .collect::<Result<Vec<_>>>()?;
            LogicalPlan::Union(u.clone()).with_new_inputs(inputs)
        }
        other @ (LogicalPlan::Values(_) | LogicalPlan::EmptyRelation(_)) => Ok(other),
    }
}

/// `node` followed by a projection onto the `required` columns of its
/// schema before pruning (`schema`), when it outputs others too. An empty
/// `required` (a consumer counting rows) keeps `node` whole, so that its
/// row count survives.
fn keep_only(node: LogicalPlan, schema: &DFSchema, required: &BTreeSet<usize>) -> Result<LogicalPlan> {
    if required.is_empty() || required.len() == node.schema().fields().len() {
        return Ok(node);
    }
    let keep = required
        .iter()
        .map(|&i| {
            let (q, f) = schema.qualified_field(i);
            Expr::Column(Column::new(q.cloned(), f.name()))
        })
        .collect();
    Ok(LogicalPlan::Projection(Projection::try_new(keep, Arc::new(node))?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::test_util::bind;

    #[test]
    fn scans_read_only_used_columns() {
        let plan = PushDownProjection
            .rewrite(bind("SELECT b FROM big WHERE a > 1"))
            .unwrap();
        let text = plan.display_indent();
        assert!(text.contains("TableScan: big projection=[a, b]"), "{text}");
    }

    #[test]
    fn columns_only_a_filter_reads_are_dropped_after_it() {
        let bound = bind("SELECT big.b FROM big JOIN small ON big.b = small.c WHERE small.sd <> 'x'");
        let plan = PushDownProjection
            .rewrite(crate::optimizer::PushDownFilter.rewrite(bound).unwrap())
            .unwrap();
        let text = plan.display_indent().to_string();
        // small's side of the join carries c but no longer sd.
        let lines: Vec<&str> = text.lines().collect();
        let filter = lines
            .iter()
            .position(|l| l.contains("Filter"))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(lines[filter - 1].contains("Projection: small.c"), "{text}");
    }

    #[test]
    fn unused_aggregates_are_dropped() {
        let plan = PushDownProjection
            .rewrite(bind(
                "SELECT a FROM (SELECT a, sum(b) AS s, max(sb) AS m FROM big GROUP BY a) t",
            ))
            .unwrap();
        let text = plan.display_indent();
        assert!(text.contains("aggr=[]"), "{text}");
        assert!(text.contains("TableScan: big projection=[a]"), "{text}");
    }

    #[test]
    fn keys_only_a_join_reads_are_dropped_after_it() {
        let plan = PushDownProjection
            .rewrite(bind(
                "SELECT big.b, small.sd FROM big JOIN small ON big.a = small.c WHERE big.b > 0",
            ))
            .unwrap();
        let text = plan.display_indent().to_string();
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        let join = lines
            .iter()
            .position(|l| l.starts_with("Inner Join"))
            .unwrap_or_else(|| panic!("{text}"));
        // One pick of the two columns read above, not a pick of a pick.
        assert_eq!(
            lines.get(join.wrapping_sub(1)),
            Some(&"Projection: big.b, small.sd"),
            "{text}"
        );
        assert!(join < 2 || !lines[join - 2].starts_with("Projection"), "{text}");
    }
}
