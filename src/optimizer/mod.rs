//! The logical optimizer (step 3 of the pipeline): named rules applied in
//! order, each switchable off with `SET flint.optimizer.<rule> = false`,
//! each timed, and each followed by a check that the plan's output schema
//! did not change.

mod decorrelate;
mod push_down_filter;
mod push_down_limit;
mod push_down_projection;
mod reorder_joins;
mod simplify_expressions;
pub(crate) mod utils;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::SqlSettings;
use crate::error::Result;
use crate::logical::LogicalPlan;
use crate::plan_err;

pub use decorrelate::DecorrelateSubqueries;
pub use push_down_filter::PushDownFilter;
pub use push_down_limit::PushDownLimit;
pub use push_down_projection::PushDownProjection;
pub use reorder_joins::ReorderJoins;
pub use simplify_expressions::SimplifyExpressions;

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

/// The rules in the order they run.
pub fn default_rules() -> Vec<Arc<dyn OptimizerRule>> {
    vec![
        Arc::new(SimplifyExpressions),
        Arc::new(DecorrelateSubqueries),
        Arc::new(PushDownFilter),
        Arc::new(ReorderJoins),
        Arc::new(SimplifyExpressions),
        Arc::new(PushDownLimit),
        Arc::new(PushDownProjection),
    ]
}

/// Every switchable rule name (logical and physical).
pub fn rule_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = default_rules().iter().map(|r| r.name()).collect();
    names.push(BROADCAST_JOIN);
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
