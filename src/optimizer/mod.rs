//! The logical optimizer (step 3 of the pipeline): named rules applied in
//! order, each switchable off with `SET flint.optimizer.<rule> = false`,
//! each timed, and each followed by a check that the plan's output schema
//! did not change.

mod common_subexpressions;
mod count_from_metadata;
mod decorrelate;
mod filter_aggregate_by_join;
mod push_down_filter;
mod push_down_limit;
mod push_down_projection;
mod push_down_semi_join;
mod remove_unused_sorts;
mod reorder_joins;
mod simplify_expressions;
mod single_distinct;
pub(crate) mod utils;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::SqlSettings;
use crate::error::Result;
use crate::logical::LogicalPlan;
use crate::plan_err;

pub use common_subexpressions::EliminateCommonSubexpressions;
pub use count_from_metadata::CountFromMetadata;
pub use decorrelate::DecorrelateSubqueries;
pub use filter_aggregate_by_join::FilterAggregateByJoin;
pub use push_down_filter::PushDownFilter;
pub use push_down_limit::PushDownLimit;
pub use push_down_projection::PushDownProjection;
pub use push_down_semi_join::PushDownSemiJoin;
pub use remove_unused_sorts::RemoveUnusedSorts;
pub use reorder_joins::ReorderJoins;
pub use simplify_expressions::SimplifyExpressions;
pub use single_distinct::SingleDistinctToGroupBy;

/// A logical rewrite.
pub trait OptimizerRule: Send + Sync {
    /// The rule's name, as used in `flint.optimizer.<name>`.
    fn name(&self) -> &'static str;
    /// Rewrites a whole plan.
    fn rewrite(&self, plan: LogicalPlan) -> Result<LogicalPlan>;
}

/// Name of the physical rule that broadcasts small join sides; listed
/// here so that it can be switched off like the logical rules.
pub const BROADCAST_JOIN: &str = "broadcast_join";

/// Name of the physical rule that builds a semi or anti join's hash table
/// on its (much smaller) left input.
pub const SWAP_SEMI_JOIN: &str = "swap_semi_join";

/// Name of the physical rule that turns a left join into a right join
/// when its left input is much smaller, to build the hash table on it.
pub const SWAP_OUTER_JOIN: &str = "swap_outer_join";

/// Name of the run-time rule that filters a partitioned join's probe side
/// by the build side's keys before shuffling it.
pub const RUNTIME_FILTER: &str = "runtime_filter";

/// The rules in the order they run.
pub fn default_rules() -> Vec<Arc<dyn OptimizerRule>> {
    vec![
        Arc::new(SimplifyExpressions),
        Arc::new(DecorrelateSubqueries),
        Arc::new(SingleDistinctToGroupBy),
        Arc::new(RemoveUnusedSorts),
        Arc::new(PushDownFilter),
        Arc::new(FilterAggregateByJoin),
        Arc::new(PushDownSemiJoin),
        Arc::new(ReorderJoins),
        Arc::new(SimplifyExpressions),
        Arc::new(EliminateCommonSubexpressions),
        Arc::new(PushDownLimit),
        Arc::new(PushDownProjection),
        Arc::new(CountFromMetadata),
    ]
}

/// Every switchable rule name (logical and physical).
pub fn rule_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = default_rules().iter().map(|r| r.name()).collect();
    names.push(BROADCAST_JOIN);
    names.push(SWAP_SEMI_JOIN);
    names.push(SWAP_OUTER_JOIN);
    names.push(RUNTIME_FILTER);
    names.dedup();
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(*n));
    names
}

/// The optimized plan and how long each rule took.
pub struct Optimized {
    /// The result.
    pub plan: LogicalPlan,
    /// `(rule, time)` for each rule that ran.
    pub timings: Vec<(&'static str, Duration)>,
}

/// Runs the enabled rules over `plan`.
pub fn optimize(plan: LogicalPlan, settings: &SqlSettings) -> Result<Optimized> {
    let expected: Vec<(String, arrow::datatypes::DataType)> = plan
        .schema()
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect();
    let mut plan = plan;
    let mut timings = Vec::new();
    for rule in default_rules() {
        if settings.disabled_rules.contains(rule.name()) {
            continue;
        }
        let started = Instant::now();
        plan = rule.rewrite(plan)?;
        timings.push((rule.name(), started.elapsed()));
        let got: Vec<(String, arrow::datatypes::DataType)> = plan
            .schema()
            .fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect();
        if got != expected {
            plan_err!(
                "internal: optimizer rule {} changed the plan's schema from {expected:?} to {got:?}",
                rule.name()
            );
        }
    }
    Ok(Optimized { plan, timings })
}

#[cfg(test)]
pub(crate) mod test_util {
    //! A session with three small tables, for rule tests.

    use std::sync::Arc;

    use arrow::array::{ArrayRef, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::record_batch::RecordBatch;

    use crate::SessionContext;
    use crate::logical::LogicalPlan;

    fn table(ctx: &SessionContext, name: &str, cols: &[&str], rows: usize) {
        let schema = Arc::new(Schema::new(
            cols.iter()
                .map(|c| {
                    if c.starts_with('s') {
                        Field::new(*c, DataType::Utf8, true)
                    } else {
                        Field::new(*c, DataType::Int64, true)
                    }
                })
                .collect::<Vec<_>>(),
        ));
        let arrays: Vec<ArrayRef> = cols
            .iter()
            .map(|c| {
                if c.starts_with('s') {
                    Arc::new(StringArray::from_iter_values((0..rows).map(|i| format!("v{i}")))) as ArrayRef
                } else {
                    Arc::new(Int64Array::from_iter_values((0..rows as i64).map(|i| i % 97))) as ArrayRef
                }
            })
            .collect();
        let batch = RecordBatch::try_new(schema, arrays).unwrap_or_else(|e| panic!("{e}"));
        ctx.register_batches(name, vec![batch])
            .unwrap_or_else(|e| panic!("{e}"));
    }

    /// `big(a, b, sb)` 10,000 rows, `mid(a, c)` 1,000, `small(c, sd)` 10.
    pub fn session() -> SessionContext {
        let ctx = SessionContext::new();
        table(&ctx, "big", &["a", "b", "sb"], 10_000);
        table(&ctx, "mid", &["a", "c"], 1_000);
        table(&ctx, "small", &["c", "sd"], 10);
        ctx
    }

    /// The bound (unoptimized) plan of `sql`.
    pub fn bind(sql: &str) -> LogicalPlan {
        session()
            .sql(sql)
            .unwrap_or_else(|e| panic!("{e}"))
            .logical_plan()
            .clone()
    }
}
