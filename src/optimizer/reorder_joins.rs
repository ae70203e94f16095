//! `reorder_joins`: a tree of inner joins (typically from `FROM a, b, c
//! WHERE ...`) is rebuilt as a chain of joins, starting from the largest input and
//! adding at each step the smallest input that shares a join condition with
//! what is joined so far. This avoids cross products whatever the `FROM`
//! order. Each join takes the smaller of its two inputs, by estimate, as
//! its build (right) side: once filters and earlier joins have shrunk the
//! inputs joined so far, a large table added later is probed rather than
//! built. A filtered input joined to only one other, smaller input is joined
//! to it first, as one bushy input (see `join_dimension_chains`). A
//! projection on top restores the original column order.

use std::sync::Arc;

use datafusion_common::{Column, JoinType};

use super::OptimizerRule;
use super::push_down_filter::extract_keys;
use super::utils::bound_by;
use crate::error::Result;
use crate::logical::stats::estimate_rows;
use crate::logical::{Expr, Filter, Join, LogicalPlan, Projection, conjunction, join_schema};

/// See the module documentation.
pub struct ReorderJoins;

impl OptimizerRule for ReorderJoins {
    fn name(&self) -> &'static str {
        "reorder_joins"
    }

    fn rewrite(&self, plan: LogicalPlan) -> Result<LogicalPlan> {
        reorder(plan)
    }
}

fn is_plain_inner(p: &LogicalPlan) -> bool {
    matches!(p, LogicalPlan::Join(j) if j.join_type == JoinType::Inner && !j.null_equals_null)
}

/// Collects the leaves and conditions of a maximal inner-join tree.
fn flatten(plan: LogicalPlan, leaves: &mut Vec<LogicalPlan>, conds: &mut Vec<Expr>) -> Result<()> {
    match plan {
        LogicalPlan::Join(j) if j.join_type == JoinType::Inner && !j.null_equals_null => {
            for (l, r) in &j.on {
                conds.push(l.clone().eq(r.clone()));
            }
            if let Some(f) = &j.filter {
                conds.extend(f.clone().split_conjunction());
            }
            flatten(j.left.as_ref().clone(), leaves, conds)?;
            flatten(j.right.as_ref().clone(), leaves, conds)
        }
        other => {
            leaves.push(reorder(other)?);
            Ok(())
        }
    }
}

fn reorder(plan: LogicalPlan) -> Result<LogicalPlan> {
    if !is_plain_inner(&plan) {
        let inputs = plan
            .inputs()
            .into_iter()
            .map(|i| reorder(i.as_ref().clone()).map(Arc::new))
            .collect::<Result<Vec<_>>>()?;
        return if inputs.is_empty() {
            Ok(plan)
        } else {
            plan.with_new_inputs(inputs)
        };
    }
    let original = Arc::clone(plan.schema());
    let mut leaves = Vec::new();
    let mut conds = Vec::new();
    flatten(plan, &mut leaves, &mut conds)?;
    if leaves.len() < 3 {
        // Two inputs: only make sure the smaller one is built.
        return rebuild_pair(leaves, conds, &original);
    }
    let sizes: Vec<f64> = leaves.iter().map(estimate_rows).collect();
    let kept: Vec<f64> = leaves.iter().zip(&sizes).map(|(l, &n)| kept_fraction(l, n)).collect();
    let (leaves, mut conds, kept) = join_dimension_chains(leaves, conds, kept)?;
    let sizes: Vec<f64> = leaves.iter().map(estimate_rows).collect();
    let mut remaining: Vec<usize> = (0..leaves.len()).collect();
    let first = *remaining
        .iter()
        .max_by(|a, b| sizes[**a].total_cmp(&sizes[**b]))
        .unwrap_or(&0);
    remaining.retain(|&i| i != first);
    let mut slots: Vec<Option<LogicalPlan>> = leaves.into_iter().map(Some).collect();
    let mut current = slots[first]
        .take()
        .ok_or_else(|| crate::Error::Internal("join leaf taken twice".into()))?;
    let mut pending = std::mem::take(&mut conds);
    while !remaining.is_empty() {
        // Prefer inputs joined by an equality (a hash join) over inputs
        // joined only by other conditions (a nested-loop join), and those
        // over a cross product.
        let connection = |i: usize| -> u8 {
            let Some(leaf) = slots[i].as_ref() else { return 0 };
            let Ok(schema) = join_schema(current.schema(), leaf.schema(), JoinType::Inner) else {
                return 0;
            };
            let spanning: Vec<Expr> = pending
                .iter()
                .filter(|c| bound_by(c, &schema) && !bound_by(c, current.schema()) && !bound_by(c, leaf.schema()))
                .cloned()
                .collect();
            if spanning.is_empty() {
                0
            } else if extract_keys(spanning, current.schema(), leaf.schema()).0.is_empty() {
                1
            } else {
                2
            }
        };
        let best = remaining.iter().map(|&i| connection(i)).max().unwrap_or(0);
        // Among those, the input that shrinks the rows joined so far the
        // most per unit of probe cost first (see `rank`).
        let pick = remaining
            .iter()
            .copied()
            .filter(|&i| connection(i) == best)
            .min_by(|&a, &b| {
                rank(kept[a], sizes[a])
                    .total_cmp(&rank(kept[b], sizes[b]))
                    .then(sizes[a].total_cmp(&sizes[b]))
            })
            .unwrap_or(remaining[0]);
        remaining.retain(|&i| i != pick);
        let leaf = slots[pick]
            .take()
            .ok_or_else(|| crate::Error::Internal("join leaf taken twice".into()))?;
        // The hash table is built on the right input: the smaller one.
        current = if estimate_rows(&leaf) > estimate_rows(&current) {
            inner_join(leaf, current, &mut pending)?
        } else {
            inner_join(current, leaf, &mut pending)?
        };
    }
    if let Some(p) = conjunction(pending) {
        current = LogicalPlan::Filter(Filter::try_new(p, Arc::new(current))?);
    }
    restore_order(current, &original)
}

/// Build sides up to this many rows stay in the core's cache while probed.
const CACHED_BUILD_ROWS: f64 = 16_384.0;

/// Relative cost of probing a hash table of `build_rows` rows once: 1 while
/// it fits in cache, growing by half a unit per doubling beyond (each
/// probe misses one more cache level, up to memory).
fn probe_cost(build_rows: f64) -> f64 {
    1.0 + 0.5 * (build_rows / CACHED_BUILD_ROWS).max(1.0).log2()
}

/// Order of preference (lowest first) of joining an input that keeps
/// `kept` of its table and has `rows` rows, when the rows joined so far
/// hold its foreign key: each join scales them by `kept` at the cost of
/// probing them into the input's table, so the joins that remove the most
/// rows per unit of probe cost come first (the rank of the classic
/// sequencing argument). `lineitem ⋈ σ(orders)` keeps 15% but probes a
/// table 100 times the size of `supplier ⋈ σ(nation)`, which keeps 20%:
/// the supplier side goes first and the large probe sees a fifth of the
/// rows (TPC-H q05).
fn rank(kept: f64, rows: f64) -> f64 {
    (kept - 1.0) / probe_cost(rows)
}

/// Joins each filtered input that is equi-joined to exactly one other
/// input, itself not the largest, with that input first (a bushy subtree), until
/// none is left: `supplier ⋈ σ(nation)` is small and joins the fact table
/// as one input that keeps as little of it as the nation filter does, where
/// a left-deep order would join the fact table with all of `supplier`
/// before reaching the filter (TPC-H q21). Returns the new inputs, the
/// conditions still to apply, and each input's kept fraction (a subtree's
/// is the product of its parts').
fn join_dimension_chains(
    mut leaves: Vec<LogicalPlan>,
    mut conds: Vec<Expr>,
    mut kept: Vec<f64>,
) -> Result<(Vec<LogicalPlan>, Vec<Expr>, Vec<f64>)> {
    loop {
        let sizes: Vec<f64> = leaves.iter().map(estimate_rows).collect();
        let largest = (0..leaves.len())
            .max_by(|&a, &b| sizes[a].total_cmp(&sizes[b]))
            .unwrap_or(0);
        let neighbours = |i: usize| -> Vec<usize> {
            (0..leaves.len())
                .filter(|&j| j != i)
                .filter(|&j| {
                    let Ok(schema) = join_schema(leaves[i].schema(), leaves[j].schema(), JoinType::Inner) else {
                        return false;
                    };
                    // Only equi-joins count: a filter over two dimensions
                    // (q07's nation pair) does not tie them together.
                    conds.iter().any(|c| {
                        bound_by(c, &schema)
                            && !bound_by(c, leaves[i].schema())
                            && !bound_by(c, leaves[j].schema())
                            && !extract_keys(vec![c.clone()], leaves[i].schema(), leaves[j].schema())
                                .0
                                .is_empty()
                    })
                })
                .collect()
        };
        let merge = (0..leaves.len())
            .filter(|&d| d != largest && kept[d] < 1.0)
            .find_map(|d| match neighbours(d).as_slice() {
                [p] if *p != largest => Some((*p, d)),
                _ => None,
            });
        let Some((p, d)) = merge else {
            return Ok((leaves, conds, kept));
        };
        let (dim, dim_kept) = (leaves.remove(d), kept.remove(d));
        let p = if d < p { p - 1 } else { p };
        let (parent, parent_kept) = (leaves.remove(p), kept.remove(p));
        leaves.push(inner_join(parent, dim, &mut conds)?);
        kept.push(parent_kept * dim_kept);
    }
}

/// `left ⋈ right` on the conditions of `pending` that the two bind (taken
/// out of it): equalities become keys, the rest the join's filter.
fn inner_join(left: LogicalPlan, right: LogicalPlan, pending: &mut Vec<Expr>) -> Result<LogicalPlan> {
    let schema = join_schema(left.schema(), right.schema(), JoinType::Inner)?;
    let (applicable, rest): (Vec<Expr>, Vec<Expr>) =
        std::mem::take(pending).into_iter().partition(|c| bound_by(c, &schema));
    *pending = rest;
    let (on, filter) = extract_keys(applicable, left.schema(), right.schema());
    Ok(LogicalPlan::Join(Join::try_new(
        Arc::new(left),
        Arc::new(right),
        on,
        conjunction(filter),
        JoinType::Inner,
        false,
    )?))
}

/// The estimated fraction of its base table's rows that `leaf` keeps
/// (1 when it is not a filtered table).
fn kept_fraction(leaf: &LogicalPlan, estimate: f64) -> f64 {
    let mut node = Some(leaf);
    while let Some(p) = node {
        node = match p {
            LogicalPlan::Filter(f) => Some(f.input.as_ref()),
            LogicalPlan::Projection(p) => Some(p.input.as_ref()),
            LogicalPlan::SubqueryAlias(a) => Some(a.input.as_ref()),
            LogicalPlan::Join(j) if j.join_type == JoinType::LeftSemi => Some(j.left.as_ref()),
            LogicalPlan::TableScan(s) => {
                return match s.source.statistics().num_rows {
                    Some(base) if base > 0 => (estimate / base as f64).min(1.0),
                    _ => 1.0,
                };
            }
            _ => None,
        };
    }
    1.0
}

fn rebuild_pair(
    leaves: Vec<LogicalPlan>,
    conds: Vec<Expr>,
    original: &datafusion_common::DFSchemaRef,
) -> Result<LogicalPlan> {
    let mut it = leaves.into_iter();
    let (Some(mut a), Some(mut b)) = (it.next(), it.next()) else {
        return Err(crate::Error::Internal(
            "an inner join with fewer than two inputs".into(),
        ));
    };
    if estimate_rows(&b) > estimate_rows(&a) {
        std::mem::swap(&mut a, &mut b);
    }
    let mut conds = conds;
    let join = inner_join(a, b, &mut conds)?;
    if !conds.is_empty() {
        return Err(crate::Error::Internal(
            "a join condition reads columns of neither input".into(),
        ));
    }
    restore_order(join, original)
}

fn restore_order(plan: LogicalPlan, original: &datafusion_common::DFSchemaRef) -> Result<LogicalPlan> {
    let same = plan.schema().fields().len() == original.fields().len()
        && (0..original.fields().len()).all(|i| plan.schema().qualified_field(i) == original.qualified_field(i));
    if same {
        return Ok(plan);
    }
    let exprs = (0..original.fields().len())
        .map(|i| {
            let (q, f) = original.qualified_field(i);
            Expr::Column(Column::new(q.cloned(), f.name()))
        })
        .collect();
    Ok(LogicalPlan::Projection(Projection::try_new(exprs, Arc::new(plan))?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::PushDownFilter;
    use crate::optimizer::test_util::bind;
    use datafusion_common::tree_node::TreeNode;

    #[test]
    fn starts_from_the_largest_input_and_avoids_cross_products() {
        // FROM order would cross-join small with big first.
        let plan = bind("SELECT count(*) FROM small, big, mid WHERE big.a = mid.a AND mid.c = small.c");
        let plan = ReorderJoins.rewrite(PushDownFilter.rewrite(plan).unwrap()).unwrap();
        let text = plan.display_indent();
        assert!(!text.contains("Cross Join"), "{text}");
        let scans: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("TableScan"))
            .map(str::trim)
            .collect();
        assert_eq!(
            scans,
            vec!["TableScan: big", "TableScan: mid", "TableScan: small"],
            "{text}"
        );
    }

    #[test]
    fn every_join_builds_on_its_smaller_input() {
        // big (half of it kept) joins the one row of small first; the
        // result, about 500 rows, is then smaller than mid's 1,000: mid is
        // probed and the joined rows are built.
        let plan = bind(
            "SELECT count(*) FROM big, mid, small WHERE big.a = mid.a AND big.b = small.c \
             AND small.sd = 'v1' AND big.b < 50",
        );
        let plan = ReorderJoins.rewrite(PushDownFilter.rewrite(plan).unwrap()).unwrap();
        let mut joins = 0;
        let _ = plan.apply(|p| {
            if let LogicalPlan::Join(j) = p {
                joins += 1;
                let (l, r) = (estimate_rows(&j.left), estimate_rows(&j.right));
                assert!(
                    r <= l,
                    "build side {r} rows, probe side {l}:\n{}",
                    plan.display_indent()
                );
            }
            Ok(datafusion_common::tree_node::TreeNodeRecursion::Continue)
        });
        assert_eq!(joins, 2);
    }

    #[test]
    fn a_filtered_input_joins_before_a_smaller_unfiltered_one() {
        // small is smaller, but the filter on mid makes it cut big down.
        let plan = bind("SELECT count(*) FROM big, small, mid WHERE big.a = mid.a AND big.b = small.c AND mid.c < 5");
        let plan = ReorderJoins.rewrite(PushDownFilter.rewrite(plan).unwrap()).unwrap();
        let text = plan.display_indent().to_string();
        let scans: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("TableScan"))
            .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
            .map(|s| {
                if s.contains("mid") {
                    "mid"
                } else if s.contains("small") {
                    "small"
                } else {
                    "big"
                }
            })
            .collect();
        assert_eq!(scans, vec!["big", "mid", "small"], "{text}");
    }

    #[test]
    fn a_filtered_dimension_of_a_dimension_joins_it_first() {
        // small (filtered) hangs off mid only: mid ⋈ small is built as one
        // input of the join with big, not joined to big after all of mid.
        let plan =
            bind("SELECT count(*) FROM big, mid, small WHERE big.a = mid.a AND mid.c = small.c AND small.sd < 3");
        let plan = ReorderJoins.rewrite(PushDownFilter.rewrite(plan).unwrap()).unwrap();
        let text = plan.display_indent().to_string();
        let joins: Vec<(usize, &str)> = text
            .lines()
            .filter(|l| l.contains("Inner Join"))
            .map(|l| (l.len() - l.trim_start().len(), l.trim()))
            .collect();
        assert_eq!(joins.len(), 2, "{text}");
        assert!(joins[0].1.contains("big.a = mid.a"), "{text}");
        assert!(
            joins[1].1.contains("mid.c = small.c") && joins[1].0 > joins[0].0,
            "{text}"
        );
        let big = text.lines().position(|l| l.contains("TableScan: big")).expect(&text);
        let inner = text.lines().position(|l| l.contains("mid.c = small.c")).expect(&text);
        assert!(
            big < inner,
            "big is the probe side, the bushy join the build side:\n{text}"
        );
    }

    #[test]
    fn a_filter_over_two_dimensions_does_not_tie_them_together() {
        // s1 hangs off mid, s2 off big; the OR over both must not stop
        // mid ⋈ s1 from being joined first.
        let plan = bind(
            "SELECT count(*) FROM big, mid, small s1, small s2 WHERE big.a = mid.a AND mid.c = s1.c \
             AND big.b = s2.c AND s1.sd < 3 AND (s1.sd = 1 OR s2.sd = 2)",
        );
        let plan = ReorderJoins.rewrite(PushDownFilter.rewrite(plan).unwrap()).unwrap();
        let text = plan.display_indent().to_string();
        let depth = |needle: &str| {
            let l = text.lines().find(|l| l.contains(needle)).expect(&text);
            l.len() - l.trim_start().len()
        };
        assert!(depth("mid.c = s1.c") > depth("big.a = mid.a"), "{text}");
    }

    #[test]
    fn a_cached_dimension_goes_before_a_slightly_more_selective_large_one() {
        // q05's choice: supplier ⋈ σ(nation) (20% kept, 2K rows) before
        // σ(orders) (15% kept, 227K rows).
        assert!(rank(0.2, 2_000.0) < rank(0.15, 227_000.0));
        // Same size: the more selective first; nothing kept beats nothing.
        assert!(rank(0.15, 2_000.0) < rank(0.2, 2_000.0));
        assert!(rank(0.01, 1e7) < rank(1.0, 10.0));
        assert_eq!(rank(1.0, 1e6), 0.0);
    }

    #[test]
    fn keeps_the_output_columns_in_order() {
        let plan = bind("SELECT * FROM small, big WHERE small.c = big.a");
        let before = plan.schema().clone();
        let after = ReorderJoins.rewrite(PushDownFilter.rewrite(plan).unwrap()).unwrap();
        assert_eq!(after.schema().fields(), before.fields());
    }
}
