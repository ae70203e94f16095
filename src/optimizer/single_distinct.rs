//! `single_distinct_to_group_by`: an aggregate without `GROUP BY` whose
//! calls are all `DISTINCT` over the same one argument groups by that
//! argument first.
//!
//! `SELECT count(DISTINCT x), sum(DISTINCT x) FROM t` becomes
//! `SELECT count(x), sum(x) FROM (SELECT x FROM t GROUP BY x)`. A
//! `DISTINCT` aggregate keeps every distinct value of its group in one
//! task, and without `GROUP BY` that is one task for the whole input; the
//! inner `GROUP BY x` runs in parallel like any other (partial aggregates,
//! then a shuffle of the distinct values), and the outer aggregate reads
//! values that are already distinct. NULLs stay correct: the inner
//! aggregate keeps NULL as one group and the outer call skips it, as the
//! `DISTINCT` call did; an empty input still gives one row.
//!
//! With `GROUP BY k` the `DISTINCT` aggregate already runs in parallel over
//! the groups, and grouping by `(k, x)` first measured slower when the pairs
//! barely repeat (TPC-H SF1, `count(DISTINCT l_orderkey)` per ship mode:
//! 0.5 s as it is, 1.0 to 1.6 s rewritten), so grouped aggregates are left
//! alone.

use std::sync::Arc;

use datafusion_common::Column;
use datafusion_common::tree_node::{Transformed, TreeNode};

use super::OptimizerRule;
use crate::error::Result;
use crate::functions::AggregateFunction;
use crate::logical::{Aggregate, AggregateCall, Expr, LogicalPlan};

/// Name of the distinct argument between the two aggregates.
const DISTINCT_ARG: &str = "__distinct_arg";

/// See the module documentation.
pub struct SingleDistinctToGroupBy;

impl OptimizerRule for SingleDistinctToGroupBy {
    fn name(&self) -> &'static str {
        "single_distinct_to_group_by"
    }

    fn rewrite(&self, plan: LogicalPlan) -> Result<LogicalPlan> {
        Ok(plan
            .transform_up(|node| match &node {
                LogicalPlan::Aggregate(a) => Ok(match rewrite(a)? {
                    Some(p) => Transformed::yes(p),
                    None => Transformed::no(node),
                }),
                _ => Ok(Transformed::no(node)),
            })?
            .data)
    }
}

/// The shared argument and each call's function when every call of `a` is
/// `f(DISTINCT arg)` with no `FILTER`, and their outputs are unqualified
/// (so an alias keeps them).
fn single_distinct_arg(a: &Aggregate) -> Option<(&Expr, Vec<AggregateFunction>)> {
    if !a.group_expr.is_empty() {
        return None;
    }
    let mut arg = None;
    let mut funcs = Vec::with_capacity(a.aggr_expr.len());
    for (i, e) in a.aggr_expr.iter().enumerate() {
        let Expr::Aggregate(call) = e.unalias() else {
            return None;
        };
        let [x] = call.args.as_slice() else {
            return None;
        };
        if !call.distinct || call.filter.is_some() || arg.is_some_and(|a| a != x) {
            return None;
        }
        if a.schema.qualified_field(i).0.is_some() {
            return None;
        }
        arg = Some(x);
        funcs.push(call.func);
    }
    Some((arg?, funcs))
}

fn rewrite(a: &Aggregate) -> Result<Option<LogicalPlan>> {
    let Some((arg, funcs)) = single_distinct_arg(a) else {
        return Ok(None);
    };
    let inner = Aggregate::try_new(Arc::clone(&a.input), vec![arg.clone().alias(DISTINCT_ARG)], vec![])?;
    // Each call without DISTINCT over the distinct values, named as before.
    let outer_calls = funcs
        .into_iter()
        .enumerate()
        .map(|(i, func)| {
            let name = a.schema.field(i).name().clone();
            Expr::Aggregate(AggregateCall {
                func,
                args: vec![Expr::Column(Column::new_unqualified(DISTINCT_ARG))],
                distinct: false,
                filter: None,
            })
            .alias(name)
        })
        .collect();
    let outer = Aggregate::try_new(Arc::new(LogicalPlan::Aggregate(inner)), vec![], outer_calls)?;
    Ok(Some(LogicalPlan::Aggregate(outer)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::test_util::bind;

    fn rewritten(sql: &str) -> String {
        SingleDistinctToGroupBy.rewrite(bind(sql)).unwrap().display_indent()
    }

    #[test]
    fn distinct_calls_over_one_argument_group_by_it() {
        let text = rewritten("SELECT count(DISTINCT a), sum(DISTINCT a) FROM big");
        assert!(text.contains("groupBy=[big.a AS __distinct_arg], aggr=[]"), "{text}");
        assert!(
            text.contains("aggr=[count(__distinct_arg) AS count(DISTINCT big.a), sum(__distinct_arg)"),
            "{text}"
        );
    }

    #[test]
    fn other_shapes_are_left_alone() {
        for sql in [
            "SELECT count(DISTINCT a), count(DISTINCT b) FROM big",
            "SELECT count(DISTINCT a), count(*) FROM big",
            "SELECT count(DISTINCT a) FILTER (WHERE b > 1) FROM big",
            "SELECT count(a) FROM big",
            "SELECT b, count(DISTINCT a) FROM big GROUP BY b",
        ] {
            let text = rewritten(sql);
            assert!(!text.contains(DISTINCT_ARG), "{sql}: {text}");
        }
    }
}
