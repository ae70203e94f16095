//! `remove_unused_sorts`: an `ORDER BY` without `LIMIT` inside a subquery
//! whose rows then feed an aggregate or a join is dropped.
//!
//! Neither an aggregate (Flint has no order-sensitive aggregate function)
//! nor a hash join keeps or uses the order of its input rows, so sorting
//! them first only costs time: a range exchange, which samples its input
//! with a job of its own, and a sort of every row. Filters, projections
//! and aliases between the sort and its consumer keep whatever order they
//! get, so a sort below them goes too. A sort with a fetch (`ORDER BY ..
//! LIMIT k`) chooses rows and stays.

use std::sync::Arc;

use datafusion_common::tree_node::{Transformed, TreeNode};

use super::OptimizerRule;
use crate::error::Result;
use crate::logical::LogicalPlan;

/// See the module documentation.
pub struct RemoveUnusedSorts;

impl OptimizerRule for RemoveUnusedSorts {
    fn name(&self) -> &'static str {
        "remove_unused_sorts"
    }

    fn rewrite(&self, plan: LogicalPlan) -> Result<LogicalPlan> {
        Ok(plan
            .transform_up(|node| {
                if !matches!(node, LogicalPlan::Aggregate(_) | LogicalPlan::Join(_)) {
                    return Ok(Transformed::no(node));
                }
                let inputs: Vec<Arc<LogicalPlan>> = node.inputs().into_iter().map(Arc::clone).collect();
                let mut changed = false;
                let stripped = inputs
                    .iter()
                    .map(|i| {
                        Ok(match without_sorts(i)? {
                            Some(p) => {
                                changed = true;
                                Arc::new(p)
                            }
                            None => Arc::clone(i),
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(if changed {
                    Transformed::yes(node.with_new_inputs(stripped)?)
                } else {
                    Transformed::no(node)
                })
            })?
            .data)
    }
}

/// `plan` without the sorts (no fetch) at the top of it or below only
/// filters, projections and aliases; `None` when there are none.
fn without_sorts(plan: &LogicalPlan) -> Result<Option<LogicalPlan>> {
    match plan {
        LogicalPlan::Sort(s) if s.fetch.is_none() => Ok(Some(
            without_sorts(&s.input)?.unwrap_or_else(|| s.input.as_ref().clone()),
        )),
        LogicalPlan::Projection(_) | LogicalPlan::Filter(_) | LogicalPlan::SubqueryAlias(_) => {
            let input = Arc::clone(plan.inputs()[0]);
            Ok(match without_sorts(&input)? {
                Some(p) => Some(plan.clone().with_new_inputs(vec![Arc::new(p)])?),
                None => None,
            })
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::test_util::bind;

    fn rewritten(sql: &str) -> String {
        RemoveUnusedSorts.rewrite(bind(sql)).unwrap().display_indent()
    }

    #[test]
    fn a_sort_feeding_an_aggregate_or_a_join_goes() {
        let text = rewritten("SELECT count(*) FROM (SELECT a FROM big WHERE b > 1 ORDER BY a) t");
        assert!(!text.contains("Sort"), "{text}");
        let text = rewritten("SELECT big.a FROM big JOIN (SELECT a FROM mid ORDER BY c) m ON big.a = m.a");
        assert!(!text.contains("Sort"), "{text}");
    }

    #[test]
    fn sorts_that_order_the_result_or_pick_rows_stay() {
        for sql in [
            "SELECT a FROM big ORDER BY a",
            "SELECT count(*) FROM (SELECT a FROM big ORDER BY a LIMIT 5) t",
            "SELECT * FROM (SELECT a, count(*) FROM big GROUP BY a) t ORDER BY a",
        ] {
            assert!(rewritten(sql).contains("Sort"), "{sql}");
        }
    }
}
