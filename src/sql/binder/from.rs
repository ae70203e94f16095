//! `FROM` items: tables, views, CTEs, files, table functions, derived
//! tables and joins.

use std::sync::Arc;

use datafusion_common::{JoinType, TableReference};
use sqlparser::ast::{self, Spanned};

use super::{Binder, at};
use crate::catalog::CatalogEntry;
use crate::error::Result;
use crate::logical::coercion::coerce_binary;
use crate::logical::{Expr, Join, LogicalPlan, Operator, SubqueryAlias, TableScan, conjunction};
use crate::sql::parser::normalize_ident;
use crate::{not_supported, plan_err};

impl Binder<'_> {
    pub(crate) fn bind_table_with_joins(&mut self, twj: &ast::TableWithJoins) -> Result<LogicalPlan> {
        let mut plan = self.bind_table_factor(&twj.relation)?;
        for j in &twj.joins {
            let right = self.bind_table_factor(&j.relation)?;
            plan = self.bind_join(plan, right, &j.join_operator, j.relation.span())?;
        }
        Ok(plan)
    }

    fn bind_join(
        &mut self,
        left: LogicalPlan,
        right: LogicalPlan,
        op: &ast::JoinOperator,
        span: sqlparser::tokenizer::Span,
    ) -> Result<LogicalPlan> {
        use ast::JoinOperator as J;
        let (join_type, constraint) = match op {
            J::Join(c) | J::Inner(c) => (JoinType::Inner, c),
            J::Left(c) | J::LeftOuter(c) => (JoinType::Left, c),
            J::Right(c) | J::RightOuter(c) => (JoinType::Right, c),
            J::FullOuter(c) => (JoinType::Full, c),
            J::CrossJoin(c) => (JoinType::Inner, c),
            J::Semi(c) | J::LeftSemi(c) => (JoinType::LeftSemi, c),
            J::Anti(c) | J::LeftAnti(c) => (JoinType::LeftAnti, c),
            J::RightSemi(c) => (JoinType::RightSemi, c),
            J::RightAnti(c) => (JoinType::RightAnti, c),
            other => not_supported!("{other:?} joins{}", at(span)),
        };
        let (left, right) = (Arc::new(left), Arc::new(right));
        let combined = Arc::new(crate::logical::join_schema(
            left.schema(),
            right.schema(),
            JoinType::Inner,
        )?);
        let mut using_names: Vec<String> = Vec::new();
        let filter = match constraint {
            ast::JoinConstraint::None => None,
            ast::JoinConstraint::On(e) => {
                let pred = self.bind_expr(e, &combined)?;
                Some(crate::logical::coercion::cast_to(
                    pred,
                    &arrow::datatypes::DataType::Boolean,
                    &combined,
                )?)
            }
            ast::JoinConstraint::Using(cols) => {
                let mut preds = Vec::new();
                for c in cols {
                    let name =
                        c.0.last()
                            .and_then(|p| p.as_ident())
                            .map(normalize_ident)
                            .unwrap_or_default();
                    let find = |s: &datafusion_common::DFSchema| -> Result<Expr> {
                        let (q, f) = s.qualified_field_with_unqualified_name(&name).map_err(|_| {
                            crate::plan_error!("USING column '{name}' is not on both sides of the join{}", at(span))
                        })?;
                        Ok(Expr::Column(datafusion_common::Column::new(q.cloned(), f.name())))
                    };
                    let (l, r) = (find(left.schema())?, find(right.schema())?);
                    preds.push(coerce_binary(l, Operator::Eq, r, &combined)?);
                    using_names.push(name);
                }
                conjunction(preds)
            }
            ast::JoinConstraint::Natural => not_supported!("NATURAL JOIN; use USING or ON{}", at(span)),
        };
        let join = LogicalPlan::Join(Join::try_new(
            Arc::clone(&left),
            Arc::clone(&right),
            vec![],
            filter,
            join_type,
            false,
        )?);
        if using_names.is_empty()
            || matches!(
                join_type,
                JoinType::LeftSemi | JoinType::LeftAnti | JoinType::RightSemi | JoinType::RightAnti
            )
        {
            return Ok(join);
        }
        merge_using_columns(join, &left, &right, &using_names, join_type)
    }

    fn bind_table_factor(&mut self, tf: &ast::TableFactor) -> Result<LogicalPlan> {
        match tf {
            ast::TableFactor::Table { name, alias, args, .. } => {
                let parts: Vec<&ast::Ident> = name.0.iter().filter_map(|p| p.as_ident()).collect();
                let plan = match (args, parts.as_slice()) {
                    (Some(a), [f]) => {
                        let fname = normalize_ident(f);
                        let args = self.constant_string_args(&fname, &a.args, tf)?;
                        let provider = crate::datasource::table_function(self.ctx, &fname, &args)
                            .map_err(|e| e.context(format!("{fname}(){}", at(tf.span()))))?;
                        let tref = TableReference::bare(fname.as_str());
                        LogicalPlan::TableScan(TableScan::try_new(tref, provider, None, vec![], None)?)
                    }
                    (Some(_), _) => not_supported!("table function {name}{}", at(tf.span())),
                    (None, [id])
                        if id.quote_style == Some('\'')
                            || looks_like_path(&id.value) && self.resolve_name(&normalize_ident(id)).is_none() =>
                    {
                        let provider = crate::datasource::table_for_path(self.ctx, &id.value)
                            .map_err(|e| e.context(format!("reading '{}'{}", id.value, at(id.span))))?;
                        LogicalPlan::TableScan(TableScan::try_new(
                            TableReference::bare(id.value.as_str()),
                            provider,
                            None,
                            vec![],
                            None,
                        )?)
                    }
                    (None, [id]) => {
                        let n = normalize_ident(id);
                        match self.resolve_name(&n) {
                            Some(p) => p,
                            None => {
                                let mut candidates: Vec<String> =
                                    self.catalog.list().into_iter().map(|(n, _)| n).collect();
                                candidates.extend(self.ctes.iter().flat_map(|s| s.keys().cloned()));
                                let hint = crate::sql::closest(&n, &candidates);
                                let hint = if hint.is_empty() {
                                    String::new()
                                } else {
                                    format!("; did you mean {}?", hint.join(", "))
                                };
                                plan_err!("table '{n}' not found{}{hint}", at(id.span));
                            }
                        }
                    }
                    _ => not_supported!("qualified table names ({name}){}", at(tf.span())),
                };
                match alias {
                    Some(a) => self.apply_table_alias(plan, &normalize_ident(&a.name), &a.columns, a.name.span),
                    None => Ok(plan),
                }
            }
            ast::TableFactor::Derived {
                lateral,
                subquery,
                alias,
                ..
            } => {
                if *lateral {
                    not_supported!("LATERAL subqueries{}", at(tf.span()));
                }
                let plan = self.bind_query(subquery)?;
                match alias {
                    Some(a) => self.apply_table_alias(plan, &normalize_ident(&a.name), &a.columns, a.name.span),
                    None => Ok(plan),
                }
            }
            ast::TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                let plan = self.bind_table_with_joins(table_with_joins)?;
                match alias {
                    Some(a) => self.apply_table_alias(plan, &normalize_ident(&a.name), &a.columns, a.name.span),
                    None => Ok(plan),
                }
            }
            other => not_supported!("{other} in FROM{}", at(tf.span())),
        }
    }

    /// A CTE, view or table by name, as a plan qualified by that name.
    fn resolve_name(&self, name: &str) -> Option<LogicalPlan> {
        if let Some(cte) = self.lookup_cte(name) {
            return Some(cte.as_ref().clone());
        }
        match self.catalog.get(name)? {
            CatalogEntry::Table(provider) => {
                TableScan::try_new(TableReference::bare(name), provider, None, vec![], None)
                    .ok()
                    .map(LogicalPlan::TableScan)
            }
            CatalogEntry::View(plan) => SubqueryAlias::try_new(plan, name).ok().map(LogicalPlan::SubqueryAlias),
        }
    }

    fn constant_string_args(
        &mut self,
        fname: &str,
        args: &[ast::FunctionArg],
        tf: &ast::TableFactor,
    ) -> Result<Vec<(Option<String>, String)>> {
        let mut out = Vec::new();
        for a in args {
            let (name, e) = match a {
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => (None, e),
                ast::FunctionArg::Named {
                    name,
                    arg: ast::FunctionArgExpr::Expr(e),
                    ..
                } => (Some(normalize_ident(name)), e),
                _ => plan_err!("{fname}() takes constant arguments{}", at(tf.span())),
            };
            let v = match e {
                ast::Expr::Value(v) => match &v.value {
                    ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
                    ast::Value::Number(n, _) => n.clone(),
                    ast::Value::Boolean(b) => b.to_string(),
                    other => plan_err!("{fname}(): unsupported argument {other}{}", at(e.span())),
                },
                ast::Expr::Identifier(id) => id.value.clone(),
                other => plan_err!("{fname}(): arguments must be constants, got {other}{}", at(e.span())),
            };
            out.push((name, v));
        }
        Ok(out)
    }
}

/// After `JOIN .. USING (c)` each `c` appears once: the left one (the
/// right one for a right join, their COALESCE for a full join), first.
fn merge_using_columns(
    join: LogicalPlan,
    left: &LogicalPlan,
    right: &LogicalPlan,
    names: &[String],
    join_type: JoinType,
) -> Result<LogicalPlan> {
    use crate::functions::ScalarFunction;
    let col = |s: &datafusion_common::DFSchema, name: &str| -> Option<Expr> {
        s.qualified_field_with_unqualified_name(name)
            .ok()
            .map(|(q, f)| Expr::Column(datafusion_common::Column::new(q.cloned(), f.name())))
    };
    let mut exprs = Vec::new();
    for n in names {
        let (Some(l), Some(r)) = (col(left.schema(), n), col(right.schema(), n)) else {
            continue;
        };
        exprs.push(match join_type {
            JoinType::Right => r,
            JoinType::Full => Expr::ScalarFunction(ScalarFunction::Coalesce, vec![l, r]).alias(n),
            _ => l,
        });
    }
    for side in [left, right] {
        let s = side.schema();
        for i in 0..s.fields().len() {
            let (q, f) = s.qualified_field(i);
            if !names.contains(f.name()) {
                exprs.push(Expr::Column(datafusion_common::Column::new(q.cloned(), f.name())));
            }
        }
    }
    Ok(LogicalPlan::Projection(crate::logical::Projection::try_new(
        exprs,
        Arc::new(join),
    )?))
}

fn looks_like_path(name: &str) -> bool {
    name.contains('/') || crate::datasource::infer_format(name).is_some()
}
