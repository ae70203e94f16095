//! Size estimates of plans, from table statistics (Parquet row counts and
//! file sizes, in-memory sizes) propagated with simple selectivity rules.
//! Join ordering and broadcast-join selection use them.

use arrow::datatypes::DataType;
use datafusion_common::JoinType;

use super::plan::LogicalPlan;

/// Rows assumed for a table that reports none.
const UNKNOWN_ROWS: f64 = 100_000.0;
/// Fraction of rows a filter is assumed to keep, per conjunct.
const FILTER_SELECTIVITY: f64 = 0.3;

/// Estimated output rows.
pub fn estimate_rows(plan: &LogicalPlan) -> f64 {
    match plan {
        LogicalPlan::TableScan(s) => {
            let rows = s.source.statistics().num_rows.map_or(UNKNOWN_ROWS, |r| r as f64);
            let kept = match s.filters.as_slice() {
                [] => 1.0,
                filters => s
                    .source
                    .filter_selectivity(filters)
                    .unwrap_or_else(|| FILTER_SELECTIVITY.powi(filters.len().min(3) as i32)),
            };
            let rows = rows * kept;
            match s.fetch {
                Some(f) => rows.min(f as f64),
                None => rows,
            }
        }
        LogicalPlan::Filter(f) => {
            let conjuncts = f.predicate.clone().split_conjunction().len().min(3) as i32;
            // A scan below already counted the conjuncts it received.
            let below = estimate_rows(&f.input);
            if matches!(f.input.as_ref(), LogicalPlan::TableScan(s) if !s.filters.is_empty()) {
                below
            } else {
                below * FILTER_SELECTIVITY.powi(conjuncts)
            }
        }
        LogicalPlan::Projection(p) => estimate_rows(&p.input),
        LogicalPlan::SubqueryAlias(a) => estimate_rows(&a.input),
        LogicalPlan::Sort(s) => {
            let r = estimate_rows(&s.input);
            s.fetch.map_or(r, |f| r.min(f as f64))
        }
        LogicalPlan::Limit(l) => {
            let r = estimate_rows(&l.input);
            l.fetch.map_or(r, |f| r.min(f as f64))
        }
        LogicalPlan::Aggregate(a) => {
            if a.group_expr.is_empty() {
                1.0
            } else {
                (estimate_rows(&a.input) * 0.1).max(1.0)
            }
        }
        LogicalPlan::Join(j) => {
            let (l, r) = (estimate_rows(&j.left), estimate_rows(&j.right));
            match j.join_type {
                // A semi join on keys keeps at most as many rows as the
                // other side has keys.
                JoinType::LeftSemi if !j.on.is_empty() => l.min(r),
                JoinType::RightSemi if !j.on.is_empty() => r.min(l),
                JoinType::LeftSemi | JoinType::LeftAnti | JoinType::LeftMark => l,
                JoinType::RightSemi | JoinType::RightAnti | JoinType::RightMark => r,
                _ if j.on.is_empty() && j.filter.is_none() => l * r,
                _ if j.on.is_empty() => l * r * FILTER_SELECTIVITY,
                JoinType::Inner => {
                    // Taken as a foreign-key join: the side from the larger
                    // table keeps its rows in the proportion the other side
                    // kept of its table (`lineitem ⋈ σ(orders)` shrinks by
                    // the fraction of orders the filter keeps).
                    let (lb, rb) = (base_rows(&j.left), base_rows(&j.right));
                    let (big, small, small_base) = if lb >= rb { (l, r, rb) } else { (r, l, lb) };
                    big * (small / small_base.max(1.0)).min(1.0)
                }
                _ => l.max(r),
            }
        }
        LogicalPlan::Union(u) => u.inputs.iter().map(|i| estimate_rows(i)).sum(),
        LogicalPlan::Values(v) => v.values.len() as f64,
        LogicalPlan::EmptyRelation(e) => f64::from(u8::from(e.produce_one_row)),
    }
}

/// Rows of `plan` before any filter: the table size of a filtered scan,
/// the larger side's of a join (what `estimate_rows` reads the kept
/// fraction against).
pub fn base_rows(plan: &LogicalPlan) -> f64 {
    match plan {
        LogicalPlan::TableScan(s) => s.source.statistics().num_rows.map_or(UNKNOWN_ROWS, |r| r as f64),
        LogicalPlan::Filter(f) => base_rows(&f.input),
        LogicalPlan::Projection(p) => base_rows(&p.input),
        LogicalPlan::SubqueryAlias(a) => base_rows(&a.input),
        LogicalPlan::Sort(s) => base_rows(&s.input),
        LogicalPlan::Join(j) => match j.join_type {
            JoinType::LeftSemi | JoinType::LeftAnti | JoinType::LeftMark => base_rows(&j.left),
            JoinType::RightSemi | JoinType::RightAnti | JoinType::RightMark => base_rows(&j.right),
            _ => base_rows(&j.left).max(base_rows(&j.right)),
        },
        other => estimate_rows(other),
    }
}

/// Estimated bytes per row of a type.
fn type_width(t: &DataType) -> f64 {
    match t {
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 | DataType::Binary => 24.0,
        t => t.primitive_width().map_or(16.0, |w| w as f64),
    }
}

/// Estimated output bytes.
pub fn estimate_bytes(plan: &LogicalPlan) -> f64 {
    let width: f64 = plan.schema().fields().iter().map(|f| type_width(f.data_type())).sum();
    estimate_rows(plan) * width.max(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::test_util::bind;
    use crate::optimizer::{OptimizerRule, PushDownFilter};

    fn rows(sql: &str) -> f64 {
        estimate_rows(&PushDownFilter.rewrite(bind(sql)).unwrap())
    }

    #[test]
    fn a_join_shrinks_by_the_fraction_the_filtered_side_keeps() {
        // big has 10,000 rows and mid 1,000 (c = i % 97); the filter keeps
        // 55 of mid's rows, as evaluating it on them tells.
        let all = rows("SELECT * FROM big JOIN mid ON big.a = mid.a");
        let some = rows("SELECT * FROM big JOIN mid ON big.a = mid.a WHERE mid.c < 5");
        assert_eq!(all, 10_000.0);
        assert!((some - 550.0).abs() < 1e-6, "{some}");
        // Which side is written first does not matter.
        let flipped = rows("SELECT * FROM mid JOIN big ON big.a = mid.a WHERE mid.c < 5");
        assert!((flipped - some).abs() < 1e-6, "{flipped}");
        // An outer join keeps its preserved side whole.
        let left = rows("SELECT * FROM big LEFT JOIN mid ON big.a = mid.a AND mid.c < 5");
        assert_eq!(left, 10_000.0);
    }
}
