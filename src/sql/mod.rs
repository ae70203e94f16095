//! SQL text to logical plans (step 1 of the pipeline): parsing with
//! `sqlparser`, then binding names to tables and columns, checking and
//! coercing types.

pub mod binder;
pub(crate) mod execute;
mod insert;
pub mod parser;
pub mod types;

pub use parser::{FlintStatement, parse_sql};

/// The candidates closest to `name`, best first (for "did you mean" hints).
pub fn closest(name: &str, candidates: &[String]) -> Vec<String> {
    let mut scored: Vec<(f64, &String)> = candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(&name.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(s, _)| *s > 0.7)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(3).map(|(_, c)| c.clone()).collect()
}
