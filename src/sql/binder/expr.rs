//! SQL expressions to logical expressions over an input schema.

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion_common::{Column, DFSchemaRef, ScalarValue, TableReference};
use sqlparser::ast::{self, BinaryOperator, Spanned, UnaryOperator};

use super::{Binder, at, spanned};
use crate::error::Result;
use crate::functions::{AggregateFunction, ScalarFunction};
use crate::logical::coercion::{cast_to, coerce_binary};
use crate::logical::resolve::{self, ColumnLookup};
use crate::logical::{Expr, ExprSchema, Operator, Subquery};
use crate::sql::parser::normalize_ident;
use crate::sql::types::{parse_interval, parse_number, sql_to_arrow_type};
use crate::{not_supported, plan_err};

impl Binder<'_> {
    /// Binds `e` against `schema` (and enclosing queries' schemas).
    pub fn bind_expr(&mut self, e: &ast::Expr, schema: &DFSchemaRef) -> Result<Expr> {
        use ast::Expr as S;
        let bound = match e {
            S::Identifier(id) => self.resolve_column(None, id, schema)?,
            S::CompoundIdentifier(ids) => {
                let (name, quals) = ids.split_last().ok_or_else(|| crate::plan_error!("empty identifier"))?;
                let q: Vec<String> = quals.iter().map(normalize_ident).collect();
                let tref = match q.as_slice() {
                    [t] => TableReference::bare(t.as_str()),
                    [s, t] => TableReference::partial(s.as_str(), t.as_str()),
                    [c, s, t] => TableReference::full(c.as_str(), s.as_str(), t.as_str()),
                    _ => plan_err!("identifier {e} has too many parts{}", at(e.span())),
                };
                self.resolve_column(Some(tref), name, schema)?
            }
            S::Value(v) => bind_value(&v.value, e)?,
            S::Nested(inner) => self.bind_expr(inner, schema)?,
            S::TypedString(ts) => {
                let t = sql_to_arrow_type(&ts.data_type)?;
                let s = match &ts.value.value {
                    ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
                    other => plan_err!("expected a string after {}, got {other}{}", ts.data_type, at(e.span())),
                };
                Expr::Cast(Box::new(Expr::Literal(ScalarValue::Utf8(Some(s)))), t)
            }
            S::Interval(i) => {
                let text = match i.value.as_ref() {
                    S::Value(v) => match &v.value {
                        ast::Value::SingleQuotedString(s) => s.clone(),
                        ast::Value::Number(n, _) => n.clone(),
                        other => plan_err!("unsupported interval value {other}{}", at(e.span())),
                    },
                    other => plan_err!("unsupported interval value {other}{}", at(e.span())),
                };
                Expr::Literal(
                    parse_interval(&text, i.leading_field.as_ref()).map_err(|err| err.context(at(e.span()).trim()))?,
                )
            }
            S::BinaryOp { left, op, right } => {
                let l = self.bind_expr(left, schema)?;
                let r = self.bind_expr(right, schema)?;
                let op = bind_operator(op, e)?;
                coerce_binary(l, op, r, schema).map_err(|err| err.context(format!("in `{e}`{}", at(e.span()))))?
            }
            S::UnaryOp { op, expr } => {
                let inner = self.bind_expr(expr, schema)?;
                match op {
                    UnaryOperator::Not => resolve::not(inner, schema)?,
                    UnaryOperator::Plus => inner,
                    UnaryOperator::Minus => resolve::negate(inner).map_err(|err| spanned(err, e.span()))?,
                    other => not_supported!("the unary operator {other}{}", at(e.span())),
                }
            }
            S::IsNull(x) => Expr::IsNull(Box::new(self.bind_expr(x, schema)?)),
            S::IsNotNull(x) => Expr::IsNotNull(Box::new(self.bind_expr(x, schema)?)),
            S::IsTrue(x) => self.bind_is(x, schema, true, false)?,
            S::IsFalse(x) => self.bind_is(x, schema, false, false)?,
            S::IsNotTrue(x) => self.bind_is(x, schema, true, true)?,
            S::IsNotFalse(x) => self.bind_is(x, schema, false, true)?,
            S::IsDistinctFrom(a, b) => {
                let (a, b) = (self.bind_expr(a, schema)?, self.bind_expr(b, schema)?);
                coerce_binary(a, Operator::IsDistinctFrom, b, schema)?
            }
            S::IsNotDistinctFrom(a, b) => {
                let (a, b) = (self.bind_expr(a, schema)?, self.bind_expr(b, schema)?);
                coerce_binary(a, Operator::IsNotDistinctFrom, b, schema)?
            }
            S::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let x = self.bind_expr(expr, schema)?;
                let lo = self.bind_expr(low, schema)?;
                let hi = self.bind_expr(high, schema)?;
                resolve::between(x, lo, hi, *negated, schema).map_err(|err| spanned(err, e.span()))?
            }
            S::InList { expr, list, negated } => {
                let x = self.bind_expr(expr, schema)?;
                let items = list
                    .iter()
                    .map(|i| self.bind_expr(i, schema))
                    .collect::<Result<Vec<_>>>()?;
                resolve::in_list(x, items, *negated, schema).map_err(|err| spanned(err, e.span()))?
            }
            S::Like {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            }
            | S::ILike {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            } => {
                if *any {
                    not_supported!("LIKE ANY{}", at(e.span()));
                }
                let x = self.bind_expr(expr, schema)?;
                let p = self.bind_expr(pattern, schema)?;
                let escape = match escape_char {
                    None => None,
                    Some(v) => match &v.value {
                        ast::Value::SingleQuotedString(s) if s.chars().count() == 1 => s.chars().next(),
                        other => plan_err!("ESCAPE must be a single character, got {other}{}", at(e.span())),
                    },
                };
                let case_insensitive = matches!(e, S::ILike { .. });
                resolve::like(x, p, *negated, case_insensitive, escape, schema).map_err(|err| spanned(err, e.span()))?
            }
            S::Case {
                operand,
                conditions,
                else_result,
                ..
            } => self.bind_case(operand.as_deref(), conditions, else_result.as_deref(), schema, e)?,
            S::Cast {
                kind,
                expr,
                data_type,
                format,
                ..
            } => {
                if format.is_some() {
                    not_supported!("CAST .. FORMAT{}", at(e.span()));
                }
                let x = self.bind_expr(expr, schema)?;
                let t = sql_to_arrow_type(data_type)?;
                let safe = matches!(kind, ast::CastKind::TryCast | ast::CastKind::SafeCast);
                resolve::cast(x, t, safe, schema).map_err(|err| spanned(err, e.span()))?
            }
            S::Extract { field, expr, .. } => {
                let x = self.bind_expr(expr, schema)?;
                let name = field.to_string().to_lowercase();
                Expr::ScalarFunction(
                    ScalarFunction::DatePart,
                    vec![Expr::Literal(ScalarValue::Utf8(Some(name))), x],
                )
            }
            S::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                let mut args = vec![self.bind_expr(expr, schema)?];
                let from = match substring_from {
                    Some(f) => self.bind_expr(f, schema)?,
                    None => Expr::Literal(ScalarValue::Int64(Some(1))),
                };
                args.push(cast_to(from, &DataType::Int64, schema)?);
                if let Some(n) = substring_for {
                    let n = self.bind_expr(n, schema)?;
                    args.push(cast_to(n, &DataType::Int64, schema)?);
                }
                Expr::ScalarFunction(ScalarFunction::Substr, args)
            }
            S::Trim {
                trim_where,
                trim_what,
                expr,
                trim_characters,
            } => {
                if trim_characters.is_some() {
                    not_supported!("TRIM with a characters list{}", at(e.span()));
                }
                let f = match trim_where {
                    None | Some(ast::TrimWhereField::Both) => ScalarFunction::Trim,
                    Some(ast::TrimWhereField::Leading) => ScalarFunction::Ltrim,
                    Some(ast::TrimWhereField::Trailing) => ScalarFunction::Rtrim,
                };
                let mut args = vec![self.bind_expr(expr, schema)?];
                if let Some(w) = trim_what {
                    args.push(self.bind_expr(w, schema)?);
                }
                Expr::ScalarFunction(f, args)
            }
            S::Position { expr, r#in } => Expr::ScalarFunction(
                ScalarFunction::Strpos,
                vec![self.bind_expr(r#in, schema)?, self.bind_expr(expr, schema)?],
            ),
            S::Ceil { expr, field } | S::Floor { expr, field } => {
                if !matches!(field, ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime)) {
                    not_supported!("CEIL/FLOOR TO a unit{}", at(e.span()));
                }
                let f = if matches!(e, S::Ceil { .. }) {
                    ScalarFunction::Ceil
                } else {
                    ScalarFunction::Floor
                };
                Expr::ScalarFunction(f, vec![self.bind_expr(expr, schema)?])
            }
            S::Function(f) => self.bind_function(f, schema, e)?,
            S::Exists { subquery, negated } => Expr::Exists {
                subquery: self.bind_subquery(subquery, schema)?,
                negated: *negated,
            },
            S::Subquery(q) => {
                let sub = self.bind_subquery(q, schema)?;
                if sub.plan.schema().fields().len() != 1 {
                    plan_err!(
                        "a scalar subquery must return one column, this one returns {}{}",
                        sub.plan.schema().fields().len(),
                        at(e.span())
                    );
                }
                Expr::ScalarSubquery(sub)
            }
            S::InSubquery {
                expr,
                subquery,
                negated,
            } => {
                let x = self.bind_expr(expr, schema)?;
                let sub = self.bind_subquery(subquery, schema)?;
                let sub_schema = sub.plan.schema();
                if sub_schema.fields().len() != 1 {
                    plan_err!("the subquery of IN must return one column{}", at(e.span()));
                }
                let st = sub_schema.field(0).data_type().clone();
                let xt = x.get_type(schema)?;
                if crate::logical::coercion::common_type(&xt, &st).is_none() {
                    plan_err!("cannot compare {expr} ({xt}) with the subquery's {st}{}", at(e.span()));
                }
                Expr::InSubquery {
                    expr: Box::new(x),
                    subquery: sub,
                    negated: *negated,
                }
            }
            S::Wildcard(_) | S::QualifiedWildcard(..) => {
                plan_err!("* is only allowed in the select list or count(*){}", at(e.span()))
            }
            other => not_supported!("the expression {other}{}", at(e.span())),
        };
        Ok(bound)
    }

    fn bind_is(&mut self, x: &ast::Expr, schema: &DFSchemaRef, value: bool, negated: bool) -> Result<Expr> {
        let x = cast_to(self.bind_expr(x, schema)?, &DataType::Boolean, schema)?;
        let op = if negated {
            Operator::IsDistinctFrom
        } else {
            Operator::IsNotDistinctFrom
        };
        Ok(Expr::Binary(
            Box::new(x),
            op,
            Box::new(Expr::Literal(ScalarValue::Boolean(Some(value)))),
        ))
    }

    fn bind_case(
        &mut self,
        operand: Option<&ast::Expr>,
        conditions: &[ast::CaseWhen],
        else_result: Option<&ast::Expr>,
        schema: &DFSchemaRef,
        e: &ast::Expr,
    ) -> Result<Expr> {
        let operand = operand.map(|o| self.bind_expr(o, schema)).transpose()?;
        let mut when_then = Vec::new();
        for c in conditions {
            when_then.push((
                self.bind_expr(&c.condition, schema)?,
                self.bind_expr(&c.result, schema)?,
            ));
        }
        let else_expr = else_result.map(|x| self.bind_expr(x, schema)).transpose()?;
        resolve::case(operand, when_then, else_expr, schema).map_err(|err| spanned(err, e.span()))
    }

    fn bind_function(&mut self, f: &ast::Function, schema: &DFSchemaRef, e: &ast::Expr) -> Result<Expr> {
        let name = f
            .name
            .0
            .last()
            .and_then(|p| p.as_ident())
            .map(normalize_ident)
            .unwrap_or_default();
        if f.over.is_some() {
            not_supported!(
                "window functions ({name} OVER ...) are not supported yet{}",
                at(e.span())
            );
        }
        let (args, distinct) = match &f.args {
            ast::FunctionArguments::None => (vec![], false),
            ast::FunctionArguments::Subquery(_) => not_supported!("a subquery as function argument{}", at(e.span())),
            ast::FunctionArguments::List(l) => (
                l.args.clone(),
                matches!(l.duplicate_treatment, Some(ast::DuplicateTreatment::Distinct)),
            ),
        };
        let mut star = false;
        let mut bound = Vec::new();
        for a in &args {
            match a {
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)) => bound.push(self.bind_expr(x, schema)?),
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard) => star = true,
                _ => not_supported!("named or qualified-wildcard arguments in {name}(){}", at(e.span())),
            }
        }
        if let Some(udf) = self.ctx.udf(&name) {
            if star || distinct {
                plan_err!("{name}() is a user-defined function: no * or DISTINCT{}", at(e.span()));
            }
            return resolve::udf_call(udf, bound, schema).map_err(|err| spanned(err, e.span()));
        }
        if let Some(agg) = AggregateFunction::from_name(&name) {
            if star && agg != AggregateFunction::Count {
                plan_err!("{name}(*) is not valid; only count(*){}", at(e.span()));
            }
            if !star && bound.len() != 1 {
                plan_err!("{name}() takes one argument, got {}{}", bound.len(), at(e.span()));
            }
            let filter = f.filter.as_ref().map(|x| self.bind_expr(x, schema)).transpose()?;
            return resolve::aggregate(agg, bound, distinct, filter, schema)
                .map_err(|err| err.context(at(e.span()).trim().to_string()));
        }
        if star {
            plan_err!("{name}(*) is not valid{}", at(e.span()));
        }
        if distinct {
            plan_err!(
                "DISTINCT is only valid in aggregate functions, not {name}(){}",
                at(e.span())
            );
        }
        let Some(func) = ScalarFunction::from_name(&name) else {
            let mut names: Vec<String> = ScalarFunction::all().iter().map(|f| f.name().to_string()).collect();
            names.extend(["count", "sum", "avg", "min", "max"].map(String::from));
            let hint = crate::sql::closest(&name, &names);
            let hint = if hint.is_empty() {
                String::new()
            } else {
                format!("; did you mean {}?", hint.join(", "))
            };
            plan_err!("unknown function {name}(){}{hint}", at(e.span()));
        };
        resolve::scalar_function(func, bound, schema)
    }

    fn bind_subquery(&mut self, q: &ast::Query, schema: &DFSchemaRef) -> Result<Subquery> {
        self.outer.push(Arc::clone(schema));
        self.outer_refs.push(Vec::new());
        let saved_ctes = self.ctes.clone();
        let plan = self.bind_query(q);
        self.ctes = saved_ctes;
        self.outer.pop();
        let refs = self.outer_refs.pop().unwrap_or_default();
        let plan = plan?;
        Ok(Subquery {
            plan: Arc::new(plan),
            outer_refs: refs,
        })
    }

    fn resolve_column(
        &mut self,
        relation: Option<TableReference>,
        id: &ast::Ident,
        schema: &DFSchemaRef,
    ) -> Result<Expr> {
        let name = normalize_ident(id);
        let col = Column::new(relation, &name);
        match resolve::lookup_column(schema, &col) {
            ColumnLookup::Found(c) => return Ok(Expr::Column(c)),
            ColumnLookup::Ambiguous => {
                plan_err!(
                    "column reference '{}' is ambiguous{}; qualify it with a table name",
                    col.flat_name(),
                    at(id.span)
                )
            }
            ColumnLookup::Missing => {}
        }
        // Correlated reference: look in enclosing queries, innermost first.
        for (depth, outer) in self.outer.iter().enumerate().rev() {
            if let Ok((_, f)) = outer.qualified_field_from_column(&col) {
                let full = resolve_qualifier(outer, col.clone());
                let e = Expr::OuterColumn(f.data_type().clone(), full);
                // Every subquery between here and that scope is correlated.
                for refs in self.outer_refs.iter_mut().skip(depth) {
                    if !refs.contains(&e) {
                        refs.push(e.clone());
                    }
                }
                return Ok(e);
            }
        }
        Err(resolve::unknown_column(&col, schema, &at(id.span), false))
    }
}

/// The column with the qualifier it has in `schema` (so `a` becomes `t.a`).
fn resolve_qualifier(schema: &DFSchemaRef, col: Column) -> Column {
    match schema.qualified_field_from_column(&col) {
        Ok((q, f)) => Column::new(q.cloned(), f.name()),
        Err(_) => col,
    }
}

fn bind_operator(op: &BinaryOperator, e: &ast::Expr) -> Result<Operator> {
    Ok(match op {
        BinaryOperator::Plus => Operator::Plus,
        BinaryOperator::Minus => Operator::Minus,
        BinaryOperator::Multiply => Operator::Multiply,
        BinaryOperator::Divide => Operator::Divide,
        BinaryOperator::Modulo => Operator::Modulo,
        BinaryOperator::StringConcat => Operator::StringConcat,
        BinaryOperator::Gt => Operator::Gt,
        BinaryOperator::Lt => Operator::Lt,
        BinaryOperator::GtEq => Operator::GtEq,
        BinaryOperator::LtEq => Operator::LtEq,
        BinaryOperator::Eq => Operator::Eq,
        BinaryOperator::NotEq => Operator::NotEq,
        BinaryOperator::And => Operator::And,
        BinaryOperator::Or => Operator::Or,
        other => not_supported!("the operator {other}{}", at(e.span())),
    })
}

fn bind_value(v: &ast::Value, e: &ast::Expr) -> Result<Expr> {
    Ok(Expr::Literal(match v {
        ast::Value::Number(n, _) => parse_number(n).map_err(|err| err.context(at(e.span()).trim().to_string()))?,
        ast::Value::SingleQuotedString(s)
        | ast::Value::EscapedStringLiteral(s)
        | ast::Value::NationalStringLiteral(s) => ScalarValue::Utf8(Some(s.clone())),
        ast::Value::DoubleQuotedString(s) => ScalarValue::Utf8(Some(s.clone())),
        ast::Value::Boolean(b) => ScalarValue::Boolean(Some(*b)),
        ast::Value::Null => ScalarValue::Null,
        other => not_supported!("the literal {other}{}", at(e.span())),
    }))
}
