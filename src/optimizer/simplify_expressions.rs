//! `simplify_expressions`: constant folding (any expression without columns
//! is evaluated once at planning time, so `date '1998-12-01' - interval
//! '90' day` becomes a date literal) and boolean simplification (`x AND
//! true` → `x`, `x OR true` → `true`, `NOT NOT x` → `x`). A filter that
//! folds to `true` disappears.

use datafusion_common::ScalarValue;
use datafusion_common::tree_node::{Transformed, TreeNode};

use super::OptimizerRule;
use super::utils::{has_outer_refs, has_subquery};
use crate::error::Result;
use crate::functions::ScalarFunction;
use crate::logical::{Expr, LogicalPlan, Operator};
use crate::physical::expr::evaluate_constant;

/// See the module documentation.
pub struct SimplifyExpressions;

impl OptimizerRule for SimplifyExpressions {
    fn name(&self) -> &'static str {
        "simplify_expressions"
    }

    fn rewrite(&self, plan: LogicalPlan) -> Result<LogicalPlan> {
        Ok(plan
            .transform_up(|node| {
                let node = simplify_node(node).map_err(datafusion_common::DataFusionError::from)?;
                Ok(Transformed::yes(node))
            })?
            .data)
    }
}

fn simplify_node(node: LogicalPlan) -> Result<LogicalPlan> {
    use std::sync::Arc;
    Ok(match node {
        LogicalPlan::Filter(f) => {
            let p = simplify(f.predicate.clone())?;
            match p {
                Expr::Literal(ScalarValue::Boolean(Some(true))) => f.input.as_ref().clone(),
                p => LogicalPlan::Filter(crate::logical::Filter::try_new(p, Arc::clone(&f.input))?),
            }
        }
        LogicalPlan::Projection(p) => {
            let exprs = p
                .exprs
                .iter()
                .map(|e| {
                    let name = e.output_name();
                    let s = simplify(e.clone())?;
                    Ok(if s.output_name() == name { s } else { s.alias(name) })
                })
                .collect::<Result<Vec<_>>>()?;
            LogicalPlan::Projection(crate::logical::Projection::try_new(exprs, Arc::clone(&p.input))?)
        }
        LogicalPlan::Join(j) => {
            let filter = j.filter.clone().map(simplify).transpose()?;
            let filter = match filter {
                Some(Expr::Literal(ScalarValue::Boolean(Some(true)))) => None,
                f => f,
            };
            let mut join = crate::logical::Join::try_new(
                Arc::clone(&j.left),
                Arc::clone(&j.right),
                j.on.clone(),
                filter,
                j.join_type,
                j.null_equals_null,
            )?;
            join.null_aware = j.null_aware;
            LogicalPlan::Join(join)
        }
        LogicalPlan::TableScan(mut scan) if !scan.filters.is_empty() => {
            // Pruning predicates too, so that equal scans print (and
            // fingerprint) alike wherever their filters came from.
            let filters = std::mem::take(&mut scan.filters);
            scan.filters = filters
                .into_iter()
                .map(simplify)
                .filter(|f| !matches!(f, Ok(e) if is_bool(e, true)))
                .collect::<Result<Vec<_>>>()?;
            LogicalPlan::TableScan(scan)
        }
        other => other,
    })
}

fn is_bool(e: &Expr, v: bool) -> bool {
    matches!(e, Expr::Literal(ScalarValue::Boolean(Some(b))) if *b == v)
}

fn foldable(e: &Expr) -> bool {
    !matches!(e, Expr::Literal(_) | Expr::Alias(..))
        && !has_subquery(e)
        && !has_outer_refs(e)
        && super::utils::columns(e).is_empty()
        && !super::utils::has_aggregate(e)
        && !matches!(
            e,
            Expr::ScalarFunction(
                ScalarFunction::Random | ScalarFunction::Now | ScalarFunction::CurrentDate,
                _
            )
        )
}

fn split_disjunction(e: Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::Binary(l, Operator::Or, r) => {
            split_disjunction(*l, out);
            split_disjunction(*r, out);
        }
        other => out.push(other),
    }
}

/// `(a AND b) OR (a AND c)` → `a AND (b OR c)`: conjuncts common to every
/// branch of an OR are pulled out, so that a join key hidden in each branch
/// (TPC-H q19) becomes a join key.
fn factor_or(e: Expr) -> Expr {
    let mut branches = Vec::new();
    split_disjunction(e.clone(), &mut branches);
    let conjuncts: Vec<Vec<Expr>> = branches.into_iter().map(|b| b.split_conjunction()).collect();
    let Some(first) = conjuncts.first() else { return e };
    let common: Vec<Expr> = first
        .iter()
        .filter(|c| conjuncts.iter().all(|cs| cs.contains(c)))
        .cloned()
        .collect();
    if common.is_empty() {
        return e;
    }
    let mut rest_branches = Vec::new();
    for cs in conjuncts {
        let rest: Vec<Expr> = cs.into_iter().filter(|c| !common.contains(c)).collect();
        match crate::logical::conjunction(rest) {
            // A branch that is all common makes the whole OR true.
            None => return crate::logical::conjunction(common).unwrap_or(e),
            Some(r) => rest_branches.push(r),
        }
    }
    let ored = rest_branches.into_iter().reduce(|a, b| a.or(b));
    crate::logical::conjunction(common.into_iter().chain(ored)).unwrap_or(e)
}

/// Simplifies one expression bottom-up.
pub fn simplify(e: Expr) -> Result<Expr> {
    Ok(e.transform_up(|x| {
        let x = match x {
            Expr::Binary(l, Operator::And, r) if is_bool(&l, true) => *r,
            Expr::Binary(l, Operator::And, r) if is_bool(&r, true) => *l,
            Expr::Binary(l, Operator::And, _) if is_bool(&l, false) => *l,
            Expr::Binary(_, Operator::And, r) if is_bool(&r, false) => *r,
            Expr::Binary(l, Operator::Or, r) if is_bool(&l, false) => *r,
            Expr::Binary(l, Operator::Or, r) if is_bool(&r, false) => *l,
            Expr::Binary(l, Operator::Or, _) if is_bool(&l, true) => *l,
            Expr::Binary(_, Operator::Or, r) if is_bool(&r, true) => *r,
            Expr::Not(inner) if matches!(inner.as_ref(), Expr::Not(_)) => match *inner {
                Expr::Not(x) => *x,
                other => Expr::Not(Box::new(other)),
            },
            other => other,
        };
        // Errors (e.g. 1/0) are left for run time, where they can name
        // the row; folding just leaves the expression alone.
        if foldable(&x)
            && let Ok(Some(v)) = evaluate_constant(&x)
        {
            return Ok(Transformed::yes(Expr::Literal(v)));
        }
        if matches!(x, Expr::Binary(_, Operator::Or, _)) {
            return Ok(Transformed::yes(factor_or(x)));
        }
        Ok(Transformed::yes(x))
    })?
    .data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logical::{col, lit};

    #[test]
    fn folds_constants_and_booleans() {
        let e = simplify(lit(1i64).binary(Operator::Plus, lit(2i64)).eq(col("a"))).unwrap();
        assert_eq!(e.to_string(), "3 = a");
        let e = simplify(col("b").and(lit(true))).unwrap();
        assert_eq!(e, col("b"));
        let e = simplify(col("b").or(lit(true))).unwrap();
        assert_eq!(e, lit(true));
    }

    #[test]
    fn factors_common_conjuncts_out_of_or() {
        let k = col("l.k").eq(col("p.k"));
        let e = k
            .clone()
            .and(col("x").eq(lit(1i64)))
            .or(k.clone().and(col("y").eq(lit(2i64))));
        let s = simplify(e).unwrap();
        assert_eq!(s.to_string(), "l.k = p.k AND (x = 1 OR y = 2)");
        assert_eq!(s.split_conjunction()[0], k);
    }

    #[test]
    fn leaves_errors_for_run_time() {
        let e = lit(1i64).binary(Operator::Divide, lit(0i64));
        assert_eq!(simplify(e.clone()).unwrap(), e);
    }
}
