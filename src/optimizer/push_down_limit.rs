//! `push_down_limit`: `ORDER BY .. LIMIT k` becomes a top-k sort (each
//! partition keeps only its best `k` rows), and a limit directly over a
//! scan tells the scan how many rows it needs.

use std::sync::Arc;

use datafusion_common::tree_node::{Transformed, TreeNode};

use super::OptimizerRule;
use crate::error::Result;
use crate::logical::{Limit, LogicalPlan, Projection, Sort, TableScan};

/// See the module documentation.
pub struct PushDownLimit;

impl OptimizerRule for PushDownLimit {
    fn name(&self) -> &'static str {
        "push_down_limit"
    }

    fn rewrite(&self, plan: LogicalPlan) -> Result<LogicalPlan> {
        Ok(plan
            .transform_down(|node| {
                let LogicalPlan::Limit(l) = &node else {
                    return Ok(Transformed::no(node));
                };
                let Some(fetch) = l.fetch else {
                    return Ok(Transformed::no(node));
                };
                let k = l.skip + fetch;
                let new_input = match l.input.as_ref() {
                    LogicalPlan::Projection(p) => limit_below(&p.input, k)?
                        .map(|b| Projection::try_new(p.exprs.clone(), Arc::new(b)).map(LogicalPlan::Projection))
                        .transpose()?,
                    other => limit_below(other, k)?,
                };
                Ok(match new_input {
                    Some(input) => Transformed::yes(LogicalPlan::Limit(Limit {
                        skip: l.skip,
                        fetch: l.fetch,
                        input: Arc::new(input),
                    })),
                    None => Transformed::no(node),
                })
            })?
            .data)
    }
}

/// `plan` told that only its first `k` rows are needed, if it can use that.
fn limit_below(plan: &LogicalPlan, k: usize) -> Result<Option<LogicalPlan>> {
    Ok(match plan {
        LogicalPlan::Sort(s) => Some(LogicalPlan::Sort(Sort {
            exprs: s.exprs.clone(),
            input: Arc::clone(&s.input),
            fetch: Some(s.fetch.map_or(k, |f| f.min(k))),
        })),
        LogicalPlan::TableScan(s) if s.filters.is_empty() => Some(LogicalPlan::TableScan(TableScan::try_new(
            s.table_name.clone(),
            Arc::clone(&s.source),
            s.projection.clone(),
            s.filters.clone(),
            Some(s.fetch.map_or(k, |f| f.min(k))),
        )?)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::test_util::bind;

    #[test]
    fn order_by_limit_becomes_top_k() {
        let plan = PushDownLimit
            .rewrite(bind("SELECT a FROM big ORDER BY b DESC LIMIT 5 OFFSET 2"))
            .unwrap();
        assert!(plan.display_indent().contains("fetch=7"), "{}", plan.display_indent());
    }

    #[test]
    fn limit_reaches_a_bare_scan() {
        let plan = PushDownLimit.rewrite(bind("SELECT * FROM big LIMIT 3")).unwrap();
        assert!(
            plan.display_indent().contains("TableScan: big fetch=3"),
            "{}",
            plan.display_indent()
        );
    }
}
