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
                    LogicalPlan::Sort(s) => Some(LogicalPlan::Sort(Sort {
                        exprs: s.exprs.clone(),
                        input: Arc::clone(&s.input),
                        fetch: Some(s.fetch.map_or(k, |f| f.min(k))),
                    })),
                    LogicalPlan::Projection(p) => match p.input.as_ref() {
                        LogicalPlan::Sort(s) => {
                            let sort = LogicalPlan::Sort(Sort {
                                exprs: s.exprs.clone(),
                                input: Arc::clone(&s.input),
                                fetch: Some(s.fetch.map_or(k, |f| f.min(k))),
                            });
                            Some(LogicalPlan::Projection(
                                Projection::try_new(p.exprs.clone(), Arc::new(sort))
                                    .map_err(datafusion_common::DataFusionError::from)?,
                            ))
                        }
                        _ => None,
                    },
                    LogicalPlan::TableScan(s) => Some(LogicalPlan::TableScan(
                        TableScan::try_new(
                            s.table_name.clone(),
                            Arc::clone(&s.source),
                            s.projection.clone(),
                            s.filters.clone(),
                            Some(s.fetch.map_or(k, |f| f.min(k))),
                        )
                        .map_err(datafusion_common::DataFusionError::from)?,
                    )),
                    _ => None,
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
