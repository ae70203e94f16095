//! The binder: a parsed query to a [`LogicalPlan`]. It resolves table and
//! column names (with aliases, qualified names and CTEs), finds aggregates,
//! checks types and inserts the casts coercion needs. Errors name the
//! place (line:column) and the closest candidates.

mod expr;
mod from;
mod select;

use std::collections::HashMap;
use std::sync::Arc;

use datafusion_common::DFSchemaRef;
use sqlparser::ast::{self, Spanned};
use sqlparser::tokenizer::Span;

use crate::catalog::Catalog;
use crate::error::Result;
use crate::logical::{Expr, Limit, LogicalPlan, SortExpr, SubqueryAlias, Union, builder};
use crate::sql::parser::normalize_ident;
use crate::{SessionContext, not_supported, plan_err};

/// ` at line L, column C` for a span, or nothing when unknown.
pub(crate) fn at(span: Span) -> String {
    if span.start.line == 0 {
        String::new()
    } else {
        format!(" at line {}, column {}", span.start.line, span.start.column)
    }
}

/// `err` with the place of `span` appended to its message (errors from the
/// shared resolution rules carry no location of their own).
pub(crate) fn spanned(err: crate::Error, span: Span) -> crate::Error {
    match err {
        crate::Error::Plan { message } => crate::Error::Plan {
            message: format!("{message}{}", at(span)),
        },
        other => other,
    }
}

/// Binds statements of one session.
pub struct Binder<'a> {
    pub(crate) ctx: &'a SessionContext,
    pub(crate) catalog: &'a Catalog,
    /// CTEs visible in the current query, innermost scope last.
    ctes: Vec<HashMap<String, Arc<LogicalPlan>>>,
    /// Schemas of enclosing queries, for correlated subqueries; innermost
    /// last.
    outer: Vec<DFSchemaRef>,
    /// Outer columns referenced while binding the current subquery.
    outer_refs: Vec<Vec<Expr>>,
}

impl<'a> Binder<'a> {
    /// A binder over the session's catalog.
    pub fn new(ctx: &'a SessionContext, catalog: &'a Catalog) -> Self {
        Self {
            ctx,
            catalog,
            ctes: Vec::new(),
            outer: Vec::new(),
            outer_refs: Vec::new(),
        }
    }

    /// Binds a query (`SELECT`, set operations, `VALUES`, `WITH`).
    pub fn bind_query(&mut self, q: &ast::Query) -> Result<LogicalPlan> {
        if q.fetch.is_some() {
            not_supported!("FETCH FIRST; use LIMIT");
        }
        let mut scope = HashMap::new();
        if let Some(with) = &q.with {
            if with.recursive {
                not_supported!("WITH RECURSIVE");
            }
            for cte in &with.cte_tables {
                self.ctes.push(scope.clone());
                let plan = self.bind_query(&cte.query);
                self.ctes.pop();
                let name = normalize_ident(&cte.alias.name);
                let plan = self.apply_table_alias(plan?, &name, &cte.alias.columns, cte.alias.name.span)?;
                scope.insert(name, Arc::new(plan));
            }
        }
        self.ctes.push(scope);
        let result = self.bind_query_body(q);
        self.ctes.pop();
        result
    }

    fn bind_query_body(&mut self, q: &ast::Query) -> Result<LogicalPlan> {
        let order_by: Vec<ast::OrderByExpr> = match &q.order_by {
            None => vec![],
            Some(ob) => match &ob.kind {
                ast::OrderByKind::Expressions(e) => e.clone(),
                ast::OrderByKind::All(_) => not_supported!("ORDER BY ALL"),
            },
        };
        let plan = match q.body.as_ref() {
            ast::SetExpr::Select(s) => self.bind_select(s, &order_by)?,
            other => {
                let plan = self.bind_set_expr(other)?;
                self.order_set_result(plan, &order_by)?
            }
        };
        self.apply_limit(plan, q.limit_clause.as_ref())
    }

    fn bind_set_expr(&mut self, body: &ast::SetExpr) -> Result<LogicalPlan> {
        match body {
            ast::SetExpr::Select(s) => self.bind_select(s, &[]),
            ast::SetExpr::Query(q) => self.bind_query(q),
            ast::SetExpr::Values(v) => self.bind_values(v),
            ast::SetExpr::SetOperation {
                left,
                op,
                set_quantifier,
                right,
            } => {
                let l = self.bind_set_expr(left)?;
                let r = self.bind_set_expr(right)?;
                self.bind_set_operation(l, *op, set_quantifier, r, body.span())
            }
            other => not_supported!("{other} as a query body"),
        }
    }

    fn bind_set_operation(
        &mut self,
        left: LogicalPlan,
        op: ast::SetOperator,
        quantifier: &ast::SetQuantifier,
        right: LogicalPlan,
        span: Span,
    ) -> Result<LogicalPlan> {
        let all = match quantifier {
            ast::SetQuantifier::All => true,
            ast::SetQuantifier::Distinct | ast::SetQuantifier::None => false,
            other => not_supported!("{op} {other}"),
        };
        let (left, right) = builder::coerce_union_inputs(left, right).map_err(|err| spanned(err, span))?;
        match op {
            ast::SetOperator::Union => {
                let u = LogicalPlan::Union(Union::try_new(vec![Arc::new(left), Arc::new(right)])?);
                if all { Ok(u) } else { builder::distinct(u) }
            }
            ast::SetOperator::Intersect | ast::SetOperator::Except | ast::SetOperator::Minus => {
                if all {
                    not_supported!("{op} ALL; use {op} (DISTINCT)");
                }
                let join_type = if op == ast::SetOperator::Intersect {
                    datafusion_common::JoinType::LeftSemi
                } else {
                    datafusion_common::JoinType::LeftAnti
                };
                builder::set_join(left, right, join_type)
            }
        }
    }

    fn bind_values(&mut self, v: &ast::Values) -> Result<LogicalPlan> {
        select::bind_values(self, v)
    }

    fn order_set_result(&mut self, plan: LogicalPlan, order_by: &[ast::OrderByExpr]) -> Result<LogicalPlan> {
        if order_by.is_empty() {
            return Ok(plan);
        }
        let schema = Arc::clone(plan.schema());
        let mut exprs = Vec::new();
        for o in order_by {
            let e = match &o.expr {
                ast::Expr::Value(v) => match &v.value {
                    ast::Value::Number(n, _) => {
                        let i: usize = n.parse().unwrap_or(0);
                        if i == 0 || i > schema.fields().len() {
                            plan_err!("ORDER BY position {n} is not in select list{}", at(o.expr.span()));
                        }
                        let (q, f) = schema.qualified_field(i - 1);
                        Expr::Column(datafusion_common::Column::new(q.cloned(), f.name()))
                    }
                    _ => self.bind_expr(&o.expr, &schema)?,
                },
                other => self.bind_expr(other, &schema)?,
            };
            exprs.push(sort_expr(e, &o.options));
        }
        Ok(LogicalPlan::Sort(crate::logical::Sort {
            exprs,
            input: Arc::new(plan),
            fetch: None,
        }))
    }

    fn apply_limit(&mut self, plan: LogicalPlan, limit: Option<&ast::LimitClause>) -> Result<LogicalPlan> {
        let Some(limit) = limit else { return Ok(plan) };
        let (limit_expr, offset_expr) = match limit {
            ast::LimitClause::LimitOffset {
                limit,
                offset,
                limit_by,
            } => {
                if !limit_by.is_empty() {
                    not_supported!("LIMIT BY");
                }
                (limit.clone(), offset.as_ref().map(|o| o.value.clone()))
            }
            ast::LimitClause::OffsetCommaLimit { offset, limit } => (Some(limit.clone()), Some(offset.clone())),
        };
        let count = |e: &ast::Expr, what: &str| -> Result<Option<usize>> {
            match e {
                ast::Expr::Value(v) => match &v.value {
                    ast::Value::Number(n, _) => n.parse::<usize>().map(Some).map_err(|_| {
                        crate::plan_error!("{what} must be a non-negative integer, got {n}{}", at(e.span()))
                    }),
                    ast::Value::Null => Ok(None),
                    _ => plan_err!("{what} must be a non-negative integer{}", at(e.span())),
                },
                _ => plan_err!("{what} must be a constant integer{}", at(e.span())),
            }
        };
        let fetch = match &limit_expr {
            Some(e) => count(e, "LIMIT")?,
            None => None,
        };
        let skip = match &offset_expr {
            Some(e) => count(e, "OFFSET")?.unwrap_or(0),
            None => 0,
        };
        Ok(LogicalPlan::Limit(Limit {
            skip,
            fetch,
            input: Arc::new(plan),
        }))
    }

    /// Renames the relation (and optionally the columns) of a plan.
    pub(crate) fn apply_table_alias(
        &mut self,
        plan: LogicalPlan,
        alias: &str,
        columns: &[ast::TableAliasColumnDef],
        span: Span,
    ) -> Result<LogicalPlan> {
        let plan = if columns.is_empty() {
            plan
        } else {
            let fields = plan.schema().fields().len();
            if columns.len() > fields {
                plan_err!(
                    "alias {alias} names {} columns but the relation has {fields}{}",
                    columns.len(),
                    at(span)
                );
            }
            let exprs = (0..fields)
                .map(|i| {
                    let (q, f) = plan.schema().qualified_field(i);
                    let c = Expr::Column(datafusion_common::Column::new(q.cloned(), f.name()));
                    match columns.get(i) {
                        Some(col) => c.alias(normalize_ident(&col.name)),
                        None => c,
                    }
                })
                .collect();
            LogicalPlan::Projection(crate::logical::Projection::try_new(exprs, Arc::new(plan))?)
        };
        Ok(LogicalPlan::SubqueryAlias(SubqueryAlias::try_new(
            Arc::new(plan),
            alias,
        )?))
    }

    pub(crate) fn lookup_cte(&self, name: &str) -> Option<Arc<LogicalPlan>> {
        self.ctes.iter().rev().find_map(|s| s.get(name).cloned())
    }
}

/// A sort key from `ORDER BY` options (ASC, NULLS LAST by default for
/// ascending and NULLS FIRST for descending, as PostgreSQL and DuckDB).
pub(crate) fn sort_expr(expr: Expr, o: &ast::OrderByOptions) -> SortExpr {
    let asc = o.asc.unwrap_or(true);
    SortExpr {
        expr,
        asc,
        nulls_first: o.nulls_first.unwrap_or(!asc),
    }
}
