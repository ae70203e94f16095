//! `count_from_metadata`: `SELECT count(*) FROM t` with no filter is
//! answered from the table's metadata (a Parquet footer's row counts)
//! instead of a scan, when the table knows its exact row count.
//!
//! Only an aggregate without `GROUP BY` whose calls are all `count(*)`
//! directly over an unfiltered, unlimited scan (through projections and
//! aliases) qualifies; anything else still runs.

use std::sync::Arc;

use datafusion_common::ScalarValue;
use datafusion_common::tree_node::{Transformed, TreeNode};

use super::OptimizerRule;
use crate::error::Result;
use crate::functions::AggregateFunction;
use crate::logical::{Aggregate, Expr, LogicalPlan, Values};

/// See the module documentation.
pub struct CountFromMetadata;

impl OptimizerRule for CountFromMetadata {
    fn name(&self) -> &'static str {
        "count_from_metadata"
    }

    fn rewrite(&self, plan: LogicalPlan) -> Result<LogicalPlan> {
        Ok(plan
            .transform_up(|node| {
                let LogicalPlan::Aggregate(a) = &node else {
                    return Ok(Transformed::no(node));
                };
                Ok(match exact_count(a) {
                    Some(n) => Transformed::yes(LogicalPlan::Values(Values {
                        schema: Arc::clone(&a.schema),
                        values: vec![vec![Expr::Literal(ScalarValue::Int64(Some(n))); a.aggr_expr.len()]],
                    })),
                    None => Transformed::no(node),
                })
            })?
            .data)
    }
}

/// The row count `a` computes in every call, when `a` is only `count(*)`
/// over a scan whose table knows its exact row count.
fn exact_count(a: &Aggregate) -> Option<i64> {
    if !a.group_expr.is_empty() || a.aggr_expr.is_empty() {
        return None;
    }
    let all_count_star = a.aggr_expr.iter().all(|e| {
        matches!(e.unalias(), Expr::Aggregate(c)
            if c.func == AggregateFunction::Count && c.args.is_empty() && !c.distinct && c.filter.is_none())
    });
    if !all_count_star {
        return None;
    }
    let mut node = a.input.as_ref();
    loop {
        node = match node {
            LogicalPlan::Projection(p) => p.input.as_ref(),
            LogicalPlan::SubqueryAlias(s) => s.input.as_ref(),
            LogicalPlan::TableScan(s) if s.filters.is_empty() && s.fetch.is_none() => {
                return i64::try_from(s.source.exact_row_count()?).ok();
            }
            _ => return None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::test_util::bind;

    #[test]
    fn only_an_unfiltered_count_star_over_a_table_that_knows_its_rows() {
        // The rule tests' tables are in memory: they do not claim an exact
        // count, so nothing is rewritten; Parquet tables are covered by
        // sqllogictest (files.slt).
        for sql in [
            "SELECT count(*) FROM big",
            "SELECT count(*) FROM big WHERE a > 1",
            "SELECT count(a) FROM big",
        ] {
            let text = CountFromMetadata.rewrite(bind(sql)).unwrap().display_indent();
            assert!(text.contains("Aggregate"), "{sql}: {text}");
        }
    }
}
