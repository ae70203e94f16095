//! `push_down_semi_join`: a semi join (`IN`/`EXISTS` after decorrelation)
//! sits above the joins of its `FROM` clause, so without this rule every
//! row of the join is built before the subquery filters it. When the semi
//! join's left-side columns all come from one input of an inner join below
//! it, and its right side is estimated to be much smaller than that input
//! (so it filters), it moves onto that input: `(A ⋈ B) ⋉ S = (A ⋉ S) ⋈ B`.
//! It runs before `reorder_joins`, which then sees the filtered input's
//! smaller size. A semi join that would not filter stays where it is: below
//! a selective join it would only do more work (TPC-H q21's `EXISTS`).

use std::sync::Arc;

use datafusion_common::JoinType;
use datafusion_common::tree_node::{Transformed, TreeNode};

use super::OptimizerRule;
use super::utils::bound_by;
use crate::error::Result;
use crate::logical::stats::estimate_rows;
use crate::logical::{Expr, Filter, Join, LogicalPlan};

/// See the module documentation.
pub struct PushDownSemiJoin;

/// The right side must be estimated at most this fraction of the target.
const MAX_RIGHT_FRACTION: f64 = 0.5;

impl OptimizerRule for PushDownSemiJoin {
    fn name(&self) -> &'static str {
        "push_down_semi_join"
    }

    fn rewrite(&self, plan: LogicalPlan) -> Result<LogicalPlan> {
        Ok(plan
            .transform_up(|node| match node {
                LogicalPlan::Join(j) if j.join_type == JoinType::LeftSemi => {
                    let before = j.clone();
                    match push(j)? {
                        Some(p) => Ok(Transformed::yes(p)),
                        None => Ok(Transformed::no(LogicalPlan::Join(before))),
                    }
                }
                other => Ok(Transformed::no(other)),
            })?
            .data)
    }
}

/// The expressions of `semi` that read its left input.
fn left_exprs(semi: &Join) -> Vec<Expr> {
    let mut exprs: Vec<Expr> = semi.on.iter().map(|(l, _)| l.clone()).collect();
    if let Some(f) = &semi.filter {
        // Conjuncts over the subquery alone stay valid wherever the join goes.
        exprs.extend(
            f.clone()
                .split_conjunction()
                .into_iter()
                .filter(|c| !bound_by(c, semi.right.schema())),
        );
    }
    exprs
}

/// `semi` with its left input replaced.
fn with_left(semi: &Join, left: LogicalPlan) -> Result<LogicalPlan> {
    LogicalPlan::Join(semi.clone()).with_new_inputs(vec![Arc::new(left), Arc::clone(&semi.right)])
}

/// `semi` moved below its left input where that pays off; `None` if not.
fn push(semi: Join) -> Result<Option<LogicalPlan>> {
    let needed = left_exprs(&semi);
    let right_rows = estimate_rows(&semi.right);
    let into = |target: &LogicalPlan| -> Result<Option<LogicalPlan>> {
        if !needed.iter().all(|e| bound_by(e, target.schema()))
            || right_rows > estimate_rows(target) * MAX_RIGHT_FRACTION
        {
            return Ok(None);
        }
        let moved = with_left(&semi, target.clone())?;
        let LogicalPlan::Join(inner) = &moved else {
            return Ok(Some(moved));
        };
        // Keep going down while the next level is an inner join too.
        Ok(Some(push(inner.clone())?.unwrap_or(moved)))
    };
    Ok(match semi.left.as_ref() {
        LogicalPlan::Join(inner) if inner.join_type == JoinType::Inner => {
            let rebuild = |left, right| LogicalPlan::Join(inner.clone()).with_new_inputs(vec![left, right]);
            if let Some(l) = into(&inner.left)? {
                Some(rebuild(Arc::new(l), Arc::clone(&inner.right))?)
            } else if let Some(r) = into(&inner.right)? {
                Some(rebuild(Arc::clone(&inner.left), Arc::new(r))?)
            } else {
                None
            }
        }
        LogicalPlan::Filter(f) => {
            // A semi join keeps its left columns, so the filter can go on top.
            let below = with_left(&semi, f.input.as_ref().clone())?;
            let LogicalPlan::Join(below) = below else {
                return Ok(None);
            };
            match push(below)? {
                Some(p) => Some(LogicalPlan::Filter(Filter::try_new(f.predicate.clone(), Arc::new(p))?)),
                None => None,
            }
        }
        _ => None,
    })
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
        PushDownSemiJoin.rewrite(plan).unwrap().display_indent().to_string()
    }

    /// The indentation of the first line containing `needle`.
    fn depth(plan: &str, needle: &str) -> usize {
        let line = plan
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} in\n{plan}"));
        line.len() - line.trim_start().len()
    }

    #[test]
    fn selective_semi_join_moves_onto_its_input() {
        let plan = run("SELECT big.b FROM big JOIN mid ON big.a = mid.a WHERE mid.c IN (SELECT c FROM small)");
        // The semi join now sits below the inner join, directly over mid.
        assert!(depth(&plan, "LeftSemi") > depth(&plan, "Inner"), "{plan}");
    }

    #[test]
    fn semi_join_that_would_not_filter_stays() {
        // big is the subquery: as large as the join input, so no gain.
        let plan = run("SELECT mid.c FROM mid JOIN small ON mid.c = small.c WHERE mid.a IN (SELECT a FROM big)");
        assert!(depth(&plan, "LeftSemi") < depth(&plan, "Inner"), "{plan}");
    }

    #[test]
    fn semi_join_over_both_sides_stays() {
        let plan = run("SELECT big.b FROM big JOIN mid ON big.a = mid.a \
             WHERE EXISTS (SELECT 1 FROM small WHERE small.c = mid.c AND small.c = big.b)");
        assert!(depth(&plan, "LeftSemi") < depth(&plan, "Inner"), "{plan}");
    }
}
