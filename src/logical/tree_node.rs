//! `TreeNode` for expressions and logical plans, so that rewrites and
//! visits use `datafusion_common::tree_node` instead of hand-written
//! recursion.

use std::sync::Arc;

use datafusion_common::tree_node::{Transformed, TreeNode, TreeNodeContainer, TreeNodeIterator, TreeNodeRecursion};
use datafusion_common::{DFSchema, Result as DFResult, ScalarValue};

use super::expr::{AggregateCall, Expr};
use super::plan::*;

impl Default for Expr {
    fn default() -> Self {
        Expr::Literal(ScalarValue::Null)
    }
}

impl Default for LogicalPlan {
    fn default() -> Self {
        LogicalPlan::empty(Arc::new(DFSchema::empty()))
    }
}

impl<'a> TreeNodeContainer<'a, Expr> for Expr {
    fn apply_elements<F: FnMut(&'a Expr) -> DFResult<TreeNodeRecursion>>(
        &'a self,
        mut f: F,
    ) -> DFResult<TreeNodeRecursion> {
        f(self)
    }
    fn map_elements<F: FnMut(Expr) -> DFResult<Transformed<Expr>>>(self, mut f: F) -> DFResult<Transformed<Self>> {
        f(self)
    }
}

impl<'a> TreeNodeContainer<'a, LogicalPlan> for LogicalPlan {
    fn apply_elements<F: FnMut(&'a LogicalPlan) -> DFResult<TreeNodeRecursion>>(
        &'a self,
        mut f: F,
    ) -> DFResult<TreeNodeRecursion> {
        f(self)
    }
    fn map_elements<F: FnMut(LogicalPlan) -> DFResult<Transformed<LogicalPlan>>>(
        self,
        mut f: F,
    ) -> DFResult<Transformed<Self>> {
        f(self)
    }
}

impl TreeNode for Expr {
    fn apply_children<'n, F: FnMut(&'n Self) -> DFResult<TreeNodeRecursion>>(
        &'n self,
        f: F,
    ) -> DFResult<TreeNodeRecursion> {
        let children: Vec<&Expr> = match self {
            Expr::Column(_)
            | Expr::OuterColumn(..)
            | Expr::Literal(_)
            | Expr::ScalarSubquery(_)
            | Expr::Exists { .. } => vec![],
            Expr::Alias(e, _)
            | Expr::Not(e)
            | Expr::Negative(e)
            | Expr::IsNull(e)
            | Expr::IsNotNull(e)
            | Expr::Cast(e, _)
            | Expr::TryCast(e, _)
            | Expr::InSubquery { expr: e, .. } => vec![e],
            Expr::Binary(l, _, r) => vec![l, r],
            Expr::Between { expr, low, high, .. } => vec![expr, low, high],
            Expr::Like { expr, pattern, .. } => vec![expr, pattern],
            Expr::InList { expr, list, .. } => std::iter::once(expr.as_ref()).chain(list.iter()).collect(),
            Expr::Case {
                operand,
                when_then,
                else_expr,
            } => operand
                .iter()
                .map(|b| b.as_ref())
                .chain(when_then.iter().flat_map(|(w, t)| [w, t]))
                .chain(else_expr.iter().map(|b| b.as_ref()))
                .collect(),
            Expr::ScalarFunction(_, args) | Expr::ScalarUdf(_, args) => args.iter().collect(),
            Expr::Aggregate(call) => call.args.iter().chain(call.filter.iter().map(|b| b.as_ref())).collect(),
        };
        children.into_iter().apply_until_stop(f)
    }

    fn map_children<F: FnMut(Self) -> DFResult<Transformed<Self>>>(self, f: F) -> DFResult<Transformed<Self>> {
        Ok(match self {
            e @ (Expr::Column(_)
            | Expr::OuterColumn(..)
            | Expr::Literal(_)
            | Expr::ScalarSubquery(_)
            | Expr::Exists { .. }) => Transformed::no(e),
            Expr::Alias(e, n) => e.map_elements(f)?.update_data(|e| Expr::Alias(e, n)),
            Expr::Not(e) => e.map_elements(f)?.update_data(Expr::Not),
            Expr::Negative(e) => e.map_elements(f)?.update_data(Expr::Negative),
            Expr::IsNull(e) => e.map_elements(f)?.update_data(Expr::IsNull),
            Expr::IsNotNull(e) => e.map_elements(f)?.update_data(Expr::IsNotNull),
            Expr::Cast(e, t) => e.map_elements(f)?.update_data(|e| Expr::Cast(e, t)),
            Expr::TryCast(e, t) => e.map_elements(f)?.update_data(|e| Expr::TryCast(e, t)),
            Expr::InSubquery {
                expr,
                subquery,
                negated,
            } => expr.map_elements(f)?.update_data(|expr| Expr::InSubquery {
                expr,
                subquery,
                negated,
            }),
            Expr::Binary(l, op, r) => (l, r).map_elements(f)?.update_data(|(l, r)| Expr::Binary(l, op, r)),
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => (expr, low, high)
                .map_elements(f)?
                .update_data(|(expr, low, high)| Expr::Between {
                    expr,
                    negated,
                    low,
                    high,
                }),
            Expr::Like {
                negated,
                expr,
                pattern,
                case_insensitive,
                escape,
            } => (expr, pattern)
                .map_elements(f)?
                .update_data(|(expr, pattern)| Expr::Like {
                    negated,
                    expr,
                    pattern,
                    case_insensitive,
                    escape,
                }),
            Expr::InList { expr, list, negated } => (expr, list)
                .map_elements(f)?
                .update_data(|(expr, list)| Expr::InList { expr, list, negated }),
            Expr::Case {
                operand,
                when_then,
                else_expr,
            } => (operand, when_then, else_expr)
                .map_elements(f)?
                .update_data(|(operand, when_then, else_expr)| Expr::Case {
                    operand,
                    when_then,
                    else_expr,
                }),
            Expr::ScalarFunction(func, args) => args
                .map_elements(f)?
                .update_data(|args| Expr::ScalarFunction(func, args)),
            Expr::ScalarUdf(udf, args) => args.map_elements(f)?.update_data(|args| Expr::ScalarUdf(udf, args)),
            Expr::Aggregate(AggregateCall {
                func,
                args,
                distinct,
                filter,
            }) => (args, filter).map_elements(f)?.update_data(|(args, filter)| {
                Expr::Aggregate(AggregateCall {
                    func,
                    args,
                    distinct,
                    filter,
                })
            }),
        })
    }
}

impl TreeNode for LogicalPlan {
    fn apply_children<'n, F: FnMut(&'n Self) -> DFResult<TreeNodeRecursion>>(
        &'n self,
        f: F,
    ) -> DFResult<TreeNodeRecursion> {
        self.inputs().into_iter().map(|a| a.as_ref()).apply_until_stop(f)
    }

    /// Rebuilds the node over rewritten inputs, re-deriving its schema.
    fn map_children<F: FnMut(Self) -> DFResult<Transformed<Self>>>(self, f: F) -> DFResult<Transformed<Self>> {
        let inputs: Vec<LogicalPlan> = self.inputs().into_iter().map(|a| a.as_ref().clone()).collect();
        if inputs.is_empty() {
            return Ok(Transformed::no(self));
        }
        let t = inputs.map_elements(f)?;
        if !t.transformed {
            return Ok(Transformed::new(self, false, t.tnr));
        }
        let new_inputs: Vec<Arc<LogicalPlan>> = t.data.into_iter().map(Arc::new).collect();
        let plan = self
            .with_new_inputs(new_inputs)
            .map_err(datafusion_common::DataFusionError::from)?;
        Ok(Transformed::new(plan, true, t.tnr))
    }
}

impl LogicalPlan {
    /// The same node over new inputs (same count and order as
    /// [`LogicalPlan::inputs`]), with its schema derived again.
    pub fn with_new_inputs(&self, mut inputs: Vec<Arc<LogicalPlan>>) -> crate::Result<LogicalPlan> {
        let mut next = || {
            if inputs.is_empty() {
                Err(crate::plan_error!("internal: too few inputs when rebuilding a plan"))
            } else {
                Ok(inputs.remove(0))
            }
        };
        Ok(match self {
            LogicalPlan::TableScan(_) | LogicalPlan::Values(_) | LogicalPlan::EmptyRelation(_) => self.clone(),
            LogicalPlan::Projection(p) => LogicalPlan::Projection(Projection::try_new(p.exprs.clone(), next()?)?),
            LogicalPlan::Filter(fl) => LogicalPlan::Filter(Filter::try_new(fl.predicate.clone(), next()?)?),
            LogicalPlan::Aggregate(a) => {
                LogicalPlan::Aggregate(Aggregate::try_new(next()?, a.group_expr.clone(), a.aggr_expr.clone())?)
            }
            LogicalPlan::Sort(s) => LogicalPlan::Sort(Sort {
                exprs: s.exprs.clone(),
                input: next()?,
                fetch: s.fetch,
            }),
            LogicalPlan::Limit(l) => LogicalPlan::Limit(Limit {
                skip: l.skip,
                fetch: l.fetch,
                input: next()?,
            }),
            LogicalPlan::Join(j) => {
                let left = next()?;
                let right = next()?;
                let mut join = Join::try_new(
                    left,
                    right,
                    j.on.clone(),
                    j.filter.clone(),
                    j.join_type,
                    j.null_equals_null,
                )?;
                join.null_aware = j.null_aware;
                LogicalPlan::Join(join)
            }
            LogicalPlan::Union(_) => LogicalPlan::Union(Union::try_new(std::mem::take(&mut inputs))?),
            LogicalPlan::SubqueryAlias(a) => {
                LogicalPlan::SubqueryAlias(SubqueryAlias::try_new(next()?, a.alias.clone())?)
            }
        })
    }
}
