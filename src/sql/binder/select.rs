//! `SELECT`: projection, `WHERE`, `GROUP BY` with aggregates, `HAVING`,
//! `DISTINCT` and `ORDER BY` (by name, alias, ordinal or expression).

use std::sync::Arc;

use datafusion_common::{DFSchema, DFSchemaRef, JoinType};
use sqlparser::ast::{self, Spanned};

use super::{Binder, at, sort_expr};
use crate::error::Result;
use crate::logical::builder::{
    check_grouped, column_of, distinct, find_aggregates, has_aggregate, rewrite_over_aggregate,
};
use crate::logical::coercion::{cast_to, common_type_of};
use crate::logical::{
    Aggregate, EmptyRelation, Expr, ExprSchema, Filter, Join, LogicalPlan, Projection, Sort, SortExpr, Values,
};
use crate::sql::parser::normalize_ident;
use crate::{not_supported, plan_err};

/// `VALUES (..), (..)`: columns `column1, column2, ...` of the common type
/// of each column's values.
pub(crate) fn bind_values(b: &mut Binder, v: &ast::Values) -> Result<LogicalPlan> {
    let empty = Arc::new(DFSchema::empty());
    let rows = v
        .rows
        .iter()
        .map(|r| {
            r.content
                .iter()
                .map(|e| b.bind_expr(e, &empty))
                .collect::<Result<Vec<_>>>()
        })
        .collect::<Result<Vec<_>>>()?;
    let Some(first) = rows.first() else {
        plan_err!("VALUES needs at least one row");
    };
    let n = first.len();
    if rows.iter().any(|r| r.len() != n) {
        plan_err!("all rows of VALUES must have the same number of values");
    }
    let mut fields = Vec::new();
    let mut types = Vec::new();
    for c in 0..n {
        let ts = rows.iter().map(|r| r[c].get_type(&empty)).collect::<Result<Vec<_>>>()?;
        let Some(t) = common_type_of(ts.iter()) else {
            plan_err!("column {} of VALUES has values of incompatible types {ts:?}", c + 1);
        };
        let t = if t == arrow::datatypes::DataType::Null {
            arrow::datatypes::DataType::Utf8
        } else {
            t
        };
        fields.push((
            None,
            Arc::new(arrow::datatypes::Field::new(
                format!("column{}", c + 1),
                t.clone(),
                true,
            )),
        ));
        types.push(t);
    }
    let values = rows
        .into_iter()
        .map(|r| {
            r.into_iter()
                .zip(&types)
                .map(|(e, t)| cast_to(e, t, &empty))
                .collect::<Result<Vec<_>>>()
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(LogicalPlan::Values(Values {
        schema: Arc::new(DFSchema::new_with_metadata(fields, Default::default())?),
        values,
    }))
}

impl Binder<'_> {
    pub(crate) fn bind_select(&mut self, s: &ast::Select, order_by: &[ast::OrderByExpr]) -> Result<LogicalPlan> {
        if s.top.is_some() {
            not_supported!("SELECT TOP; use LIMIT");
        }
        if s.into.is_some() {
            not_supported!("SELECT INTO; use CREATE TABLE .. AS SELECT");
        }
        if !s.named_window.is_empty() || s.qualify.is_some() {
            not_supported!("window functions are not supported yet");
        }
        if !s.lateral_views.is_empty() || s.prewhere.is_some() || !s.cluster_by.is_empty() || !s.sort_by.is_empty() {
            not_supported!("this SELECT clause");
        }
        // FROM and WHERE.
        let mut plan = self.bind_from(&s.from)?;
        if let Some(w) = &s.selection {
            let schema = Arc::clone(plan.schema());
            let pred = self.bind_expr(w, &schema)?;
            if has_aggregate(&pred) {
                plan_err!(
                    "aggregate functions are not allowed in WHERE{}; use HAVING",
                    at(w.span())
                );
            }
            let pred = cast_to(pred, &arrow::datatypes::DataType::Boolean, &schema)
                .map_err(|e| e.context(format!("WHERE{}", at(w.span()))))?;
            plan = LogicalPlan::Filter(Filter::try_new(pred, Arc::new(plan))?);
        }
        let input_schema = Arc::clone(plan.schema());

        // The select list, with wildcards expanded.
        let mut select: Vec<Expr> = Vec::new();
        for item in &s.projection {
            match item {
                ast::SelectItem::UnnamedExpr(e) => {
                    // Like DuckDB, an unnamed expression is named by its SQL text.
                    let bound = self.bind_expr(e, &input_schema)?;
                    match bound {
                        Expr::Column(_) => select.push(bound),
                        other => select.push(other.alias(e.to_string())),
                    }
                }
                ast::SelectItem::ExprWithAlias { expr, alias } => {
                    select.push(self.bind_expr(expr, &input_schema)?.alias(normalize_ident(alias)))
                }
                ast::SelectItem::Wildcard(opts) => {
                    if opts.opt_exclude.is_some() || opts.opt_except.is_some() || opts.opt_replace.is_some() {
                        not_supported!("wildcard options");
                    }
                    if input_schema.fields().is_empty() {
                        plan_err!("SELECT * with no FROM clause");
                    }
                    select.extend((0..input_schema.fields().len()).map(|i| column_of(&input_schema, i)));
                }
                ast::SelectItem::QualifiedWildcard(kind, _) => {
                    let name = match kind {
                        ast::SelectItemQualifiedWildcardKind::ObjectName(n) => {
                            n.0.iter()
                                .filter_map(|p| p.as_ident())
                                .map(normalize_ident)
                                .collect::<Vec<_>>()
                                .join(".")
                        }
                        ast::SelectItemQualifiedWildcardKind::Expr(e) => e.to_string(),
                    };
                    let q = datafusion_common::TableReference::from(name.as_str());
                    let cols: Vec<Expr> = (0..input_schema.fields().len())
                        .filter(|&i| input_schema.qualified_field(i).0.is_some_and(|r| r.resolved_eq(&q)))
                        .map(|i| column_of(&input_schema, i))
                        .collect();
                    if cols.is_empty() {
                        plan_err!("no table named '{name}' in FROM for {name}.*{}", at(item.span()));
                    }
                    select.extend(cols);
                }
                ast::SelectItem::ExprWithAliases { .. } => not_supported!("multiple aliases"),
            }
        }
        let names: Vec<String> = select.iter().map(|e| e.output_name()).collect();

        // GROUP BY: expressions, select-list ordinals or aliases.
        let mut keys: Vec<Expr> = Vec::new();
        let mut group_all = false;
        match &s.group_by {
            ast::GroupByExpr::All(_) => group_all = true,
            ast::GroupByExpr::Expressions(exprs, mods) => {
                if !mods.is_empty() {
                    not_supported!("GROUP BY modifiers (ROLLUP, CUBE, GROUPING SETS)");
                }
                for g in exprs {
                    let k = self.bind_select_ref(g, &input_schema, &select, &names, "GROUP BY")?;
                    let k = k.unalias().clone();
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
            }
        }
        let having = s
            .having
            .as_ref()
            .map(|h| self.bind_with_aliases(h, &input_schema, &select, &names))
            .transpose()?;

        // ORDER BY: ordinals and aliases refer to the select list.
        let mut sort_keys: Vec<(OrderKey, &ast::OrderByOptions)> = Vec::new();
        for o in order_by {
            let key = self.bind_order_key(&o.expr, &input_schema, &select, &names)?;
            sort_keys.push((key, &o.options));
        }

        let mut aggs = Vec::new();
        find_aggregates(&select, &mut aggs);
        if let Some(h) = &having {
            find_aggregates(std::slice::from_ref(h), &mut aggs);
        }
        for (key, _) in &sort_keys {
            if let OrderKey::Expr(e) = key {
                find_aggregates(std::slice::from_ref(e), &mut aggs);
            }
        }
        if group_all {
            for e in &select {
                if !has_aggregate(e) && !keys.contains(e.unalias()) {
                    keys.push(e.unalias().clone());
                }
            }
        }

        let grouped = !keys.is_empty() || !aggs.is_empty();
        if grouped {
            let agg = Aggregate::try_new(Arc::new(plan), keys.clone(), aggs.clone())?;
            let agg_schema = Arc::clone(&agg.schema);
            plan = LogicalPlan::Aggregate(agg);
            select = select
                .into_iter()
                .zip(&names)
                .map(|(e, name)| {
                    let r = rewrite_over_aggregate(e, &keys, &aggs, &agg_schema)?;
                    check_grouped(&r, &agg_schema, "the select list")?;
                    Ok(if r.output_name() == *name { r } else { r.alias(name) })
                })
                .collect::<Result<_>>()?;
            if let Some(h) = having {
                let h = rewrite_over_aggregate(h, &keys, &aggs, &agg_schema)?;
                check_grouped(&h, &agg_schema, "HAVING")?;
                let h = cast_to(h, &arrow::datatypes::DataType::Boolean, &agg_schema)?;
                plan = LogicalPlan::Filter(Filter::try_new(h, Arc::new(plan))?);
            }
            for (key, _) in sort_keys.iter_mut() {
                if let OrderKey::Expr(e) = key {
                    let r = rewrite_over_aggregate(e.clone(), &keys, &aggs, &agg_schema)?;
                    check_grouped(&r, &agg_schema, "ORDER BY")?;
                    *e = r;
                }
            }
        } else if having.is_some() {
            plan_err!("HAVING needs GROUP BY or an aggregate function");
        }

        // Projection, with hidden columns for sort keys not in the select list.
        let visible = select.len();
        let mut proj = select;
        // Each key is a position in the projection's output.
        let mut positions: Vec<(usize, &ast::OrderByOptions)> = Vec::new();
        for (i, (key, opts)) in sort_keys.into_iter().enumerate() {
            let pos = match key {
                OrderKey::Output(pos) => pos,
                OrderKey::Expr(e) => match proj.iter().position(|p| p.unalias() == &e) {
                    Some(pos) => pos,
                    None => {
                        if s.distinct.is_some() {
                            plan_err!("for SELECT DISTINCT, ORDER BY expressions must appear in the select list: {e}");
                        }
                        proj.push(e.alias(format!("__sort_{i}")));
                        proj.len() - 1
                    }
                },
            };
            positions.push((pos, opts));
        }
        plan = LogicalPlan::Projection(Projection::try_new(proj, Arc::new(plan))?);
        // Sort keys refer to output columns as the projection qualifies
        // them (`t.a`), as a DataFrame's `sort` does: by name alone, `a.x`
        // and `b.x` in one select list would be the same column.
        let sort_exprs: Vec<SortExpr> = positions
            .into_iter()
            .map(|(pos, opts)| sort_expr(column_of(plan.schema(), pos), opts))
            .collect();
        match &s.distinct {
            None | Some(ast::Distinct::All) => {}
            Some(ast::Distinct::Distinct) => plan = distinct(plan)?,
            Some(ast::Distinct::On(_)) => not_supported!("DISTINCT ON"),
        }
        if !sort_exprs.is_empty() {
            plan = LogicalPlan::Sort(Sort {
                exprs: sort_exprs,
                input: Arc::new(plan),
                fetch: None,
            });
        }
        if plan.schema().fields().len() > visible {
            let schema = Arc::clone(plan.schema());
            let exprs = (0..visible).map(|i| column_of(&schema, i)).collect();
            plan = LogicalPlan::Projection(Projection::try_new(exprs, Arc::new(plan))?);
        }
        Ok(plan)
    }

    /// `FROM` with comma-separated items cross-joined; no `FROM` is one
    /// empty row.
    fn bind_from(&mut self, from: &[ast::TableWithJoins]) -> Result<LogicalPlan> {
        let mut plan: Option<LogicalPlan> = None;
        for twj in from {
            let right = self.bind_table_with_joins(twj)?;
            plan = Some(match plan {
                None => right,
                Some(left) => LogicalPlan::Join(Join::try_new(
                    Arc::new(left),
                    Arc::new(right),
                    vec![],
                    None,
                    JoinType::Inner,
                    false,
                )?),
            });
        }
        Ok(plan.unwrap_or_else(|| {
            LogicalPlan::EmptyRelation(EmptyRelation {
                produce_one_row: true,
                schema: Arc::new(DFSchema::empty()),
            })
        }))
    }

    /// A GROUP BY item: an ordinal or alias of the select list, or an
    /// expression over the input.
    fn bind_select_ref(
        &mut self,
        e: &ast::Expr,
        input: &DFSchemaRef,
        select: &[Expr],
        names: &[String],
        clause: &str,
    ) -> Result<Expr> {
        if let ast::Expr::Value(v) = e
            && let ast::Value::Number(n, _) = &v.value
        {
            let i: usize = n.parse().unwrap_or(0);
            if i == 0 || i > select.len() {
                plan_err!("{clause} position {n} is not in the select list{}", at(e.span()));
            }
            return Ok(select[i - 1].unalias().clone());
        }
        self.bind_with_aliases(e, input, select, names)
    }

    /// Binds over the input; a bare name that is not an input column but is
    /// a select-list alias refers to that select expression.
    fn bind_with_aliases(
        &mut self,
        e: &ast::Expr,
        input: &DFSchemaRef,
        select: &[Expr],
        names: &[String],
    ) -> Result<Expr> {
        match self.bind_expr(e, input) {
            Ok(x) => Ok(x),
            Err(err) => {
                if let ast::Expr::Identifier(id) = e {
                    let name = normalize_ident(id);
                    if let Some(i) = names.iter().position(|n| *n == name) {
                        return Ok(select[i].unalias().clone());
                    }
                }
                Err(err)
            }
        }
    }

    /// An ORDER BY key: a select item it names directly (by ordinal or
    /// alias), or an expression.
    fn bind_order_key(
        &mut self,
        e: &ast::Expr,
        input: &DFSchemaRef,
        select: &[Expr],
        names: &[String],
    ) -> Result<OrderKey> {
        if let ast::Expr::Value(v) = e
            && let ast::Value::Number(n, _) = &v.value
        {
            let i: usize = n.parse().unwrap_or(0);
            if i == 0 || i > select.len() {
                plan_err!("ORDER BY position {n} is not in the select list{}", at(e.span()));
            }
            return Ok(OrderKey::Output(i - 1));
        }
        if let ast::Expr::Identifier(id) = e {
            let name = normalize_ident(id);
            // An alias wins over an input column of the same name only when
            // the alias is a renamed expression (as in PostgreSQL).
            if let Some(i) = names.iter().position(|n| *n == name)
                && (matches!(select[i], Expr::Alias(..)) || input.qualified_field_with_unqualified_name(&name).is_err())
            {
                return Ok(OrderKey::Output(i));
            }
        }
        Ok(OrderKey::Expr(self.bind_with_aliases(e, input, select, names)?))
    }
}

/// A bound ORDER BY key.
enum OrderKey {
    /// The select item at this position.
    Output(usize),
    /// An expression over the input (or the aggregate, once rewritten).
    Expr(Expr),
}
