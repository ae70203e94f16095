//! `eliminate_common_subexpressions`: an expression computed more than once
//! by the same projection or aggregate is computed once, in a projection
//! below it, and read from there as a column.
//!
//! TPC-H q01 sums `l_extendedprice * (1 - l_discount)` and the same times
//! `(1 + l_tax)`; without this, every row pays for the shared product
//! twice. The largest repeated expression is taken first, so its parts are
//! not hoisted separately. Only expressions that every row evaluates are
//! candidates: nothing under a `CASE` (a branch may only run for rows where
//! it cannot fail), and nothing volatile (`random()`), user-defined or
//! reading a subquery or an outer column. Output names stay as they were.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion_common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};

use super::OptimizerRule;
use super::utils::{has_outer_refs, has_subquery};
use crate::error::Result;
use crate::functions::ScalarFunction;
use crate::logical::{Aggregate, Expr, LogicalPlan, Projection, col};

/// See the module documentation.
pub struct EliminateCommonSubexpressions;

impl OptimizerRule for EliminateCommonSubexpressions {
    fn name(&self) -> &'static str {
        "eliminate_common_subexpressions"
    }

    fn rewrite(&self, plan: LogicalPlan) -> Result<LogicalPlan> {
        let mut next_id = 0;
        Ok(plan
            .transform_up(|node| {
                let node = rewrite_node(node, &mut next_id).map_err(datafusion_common::DataFusionError::from)?;
                Ok(Transformed::yes(node))
            })?
            .data)
    }
}

/// Hoisting stops after this many expressions per node.
const MAX_HOISTED: usize = 16;

fn rewrite_node(node: LogicalPlan, next_id: &mut usize) -> Result<LogicalPlan> {
    match node {
        LogicalPlan::Projection(p) => {
            let Some((exprs, input)) = hoist(&p.exprs, &p.input, next_id)? else {
                return Ok(LogicalPlan::Projection(p));
            };
            let exprs = keep_names(exprs, &p.exprs);
            Ok(LogicalPlan::Projection(Projection::try_new(exprs, input)?))
        }
        LogicalPlan::Aggregate(a) => {
            let Some((aggr, input)) = hoist(&a.aggr_expr, &a.input, next_id)? else {
                return Ok(LogicalPlan::Aggregate(a));
            };
            let aggr = keep_names(aggr, &a.aggr_expr);
            Ok(LogicalPlan::Aggregate(Aggregate::try_new(
                input,
                a.group_expr.clone(),
                aggr,
            )?))
        }
        other => Ok(other),
    }
}

/// `exprs` with their repeated subexpressions read from a new projection
/// over `input`, and that projection; `None` when nothing repeats.
fn hoist(
    exprs: &[Expr],
    input: &Arc<LogicalPlan>,
    next_id: &mut usize,
) -> Result<Option<(Vec<Expr>, Arc<LogicalPlan>)>> {
    let mut exprs = exprs.to_vec();
    let mut hoisted: Vec<Expr> = Vec::new();
    while hoisted.len() < MAX_HOISTED {
        let mut counts: HashMap<Expr, usize> = HashMap::new();
        for e in &exprs {
            count(e, &mut counts);
        }
        let Some(common) = counts
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(e, _)| e)
            .max_by_key(|e| (size(e), e.to_string()))
        else {
            break;
        };
        // A user's own column of that name below would clash.
        let name = loop {
            let name = format!("__common_expr_{next_id}");
            *next_id += 1;
            if !input.schema().has_column_with_unqualified_name(&name) {
                break name;
            }
        };
        exprs = exprs
            .into_iter()
            .map(|e| replace(e, &common, &name))
            .collect::<Result<_>>()?;
        hoisted.push(common.alias(name));
    }
    if hoisted.is_empty() {
        return Ok(None);
    }
    let schema = input.schema();
    let mut below: Vec<Expr> = (0..schema.fields().len())
        .map(|i| {
            let (qualifier, field) = schema.qualified_field(i);
            Expr::Column(datafusion_common::Column::new(qualifier.cloned(), field.name()))
        })
        .collect();
    below.extend(hoisted);
    let projection = LogicalPlan::Projection(Projection::try_new(below, Arc::clone(input))?);
    Ok(Some((exprs, Arc::new(projection))))
}

/// Adds every candidate subexpression of `e` to `counts`.
fn count(e: &Expr, counts: &mut HashMap<Expr, usize>) {
    let _ = e.apply(|x| {
        if matches!(x, Expr::Case { .. }) || !deterministic(x) {
            return Ok(TreeNodeRecursion::Jump);
        }
        if candidate(x) {
            *counts.entry(x.clone()).or_default() += 1;
        }
        Ok(TreeNodeRecursion::Continue)
    });
}

/// Worth computing once: reads a column and does some work on it.
fn candidate(e: &Expr) -> bool {
    let mut reads_column = false;
    let _ = e.apply(|x| {
        reads_column |= matches!(x, Expr::Column(_));
        Ok(TreeNodeRecursion::Continue)
    });
    reads_column
        && !matches!(
            e,
            Expr::Column(_) | Expr::Literal(_) | Expr::Alias(..) | Expr::Aggregate(_) | Expr::OuterColumn(..)
        )
}

/// Gives the same value for the same input row, wherever it is computed.
fn deterministic(e: &Expr) -> bool {
    let mut ok = !has_subquery(e) && !has_outer_refs(e);
    let _ = e.apply(|x| {
        if matches!(
            x,
            Expr::ScalarFunction(ScalarFunction::Random | ScalarFunction::Now, _) | Expr::ScalarUdf(..)
        ) {
            ok = false;
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    ok
}

fn size(e: &Expr) -> usize {
    let mut n = 0;
    let _ = e.apply(|_| {
        n += 1;
        Ok(TreeNodeRecursion::Continue)
    });
    n
}

/// `e` with every occurrence of `common` outside a `CASE` read from column
/// `name`.
fn replace(e: Expr, common: &Expr, name: &str) -> Result<Expr> {
    Ok(e.transform_down(|x| {
        if matches!(x, Expr::Case { .. }) {
            return Ok(Transformed::new(x, false, TreeNodeRecursion::Jump));
        }
        if &x == common {
            return Ok(Transformed::new(col(name), true, TreeNodeRecursion::Jump));
        }
        Ok(Transformed::no(x))
    })?
    .data)
}

/// The rewritten expressions under their original output names.
fn keep_names(rewritten: Vec<Expr>, original: &[Expr]) -> Vec<Expr> {
    rewritten
        .into_iter()
        .zip(original)
        .map(|(new, old)| {
            let name = old.output_name();
            if new.output_name() == name {
                new
            } else {
                new.unalias().clone().alias(name)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::test_util::bind;

    fn optimized(sql: &str) -> String {
        EliminateCommonSubexpressions
            .rewrite(bind(sql))
            .unwrap()
            .display_indent()
            .to_string()
    }

    #[test]
    fn a_shared_product_is_computed_once_below_the_aggregate() {
        let plan = optimized("SELECT sum(a * (b + 1)), sum(a * (b + 1) * 2), max(b + 1) FROM big");
        assert!(plan.contains("big.a * (big.b + 1) AS __common_expr_0"), "{plan}");
        assert!(plan.contains("sum(__common_expr_0 * 2)"), "{plan}");
        // Once the product is hoisted, b + 1 is left in max() alone.
        assert!(!plan.contains("__common_expr_1"), "{plan}");
        // The output keeps its names.
        let names = |sql: &str| {
            let p = EliminateCommonSubexpressions.rewrite(bind(sql)).unwrap();
            p.schema().fields().iter().map(|f| f.name().clone()).collect::<Vec<_>>()
        };
        let sql = "SELECT sum(a * (b + 1)), sum(a * (b + 1) * 2) FROM big";
        assert_eq!(
            names(sql),
            bind(sql)
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn projections_share_too_but_not_under_case_or_random() {
        let plan = optimized("SELECT a + b AS x, (a + b) * 2 AS y FROM big");
        assert!(plan.contains("big.a + big.b AS __common_expr_0"), "{plan}");
        // A column already called __common_expr_0 is not shadowed.
        let plan =
            optimized("SELECT c + 1 AS x, (c + 1) * 2 AS y FROM (SELECT a AS __common_expr_0, a + b AS c FROM big) t");
        assert!(plan.contains("t.c + 1 AS __common_expr_1"), "{plan}");
        for sql in [
            "SELECT CASE WHEN a > 0 THEN b / a END AS x, CASE WHEN a > 0 THEN b / a END + 1 AS y FROM big",
            "SELECT a + random() AS x, a + random() AS y FROM big",
            "SELECT a AS x, a AS y FROM big",
        ] {
            let plan = optimized(sql);
            assert!(!plan.contains("__common_expr"), "{sql}: {plan}");
        }
    }
}
