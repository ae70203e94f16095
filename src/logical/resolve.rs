//! Resolution: an expression as written (column names maybe unqualified,
//! operand types unmatched) to one the planner can run (every column
//! qualified as in the input schema, casts inserted where types must
//! agree).
//!
//! The per-node functions here (`between`, `in_list`, `case`,
//! `scalar_function`, ...) are the coercion rules of the engine. The SQL
//! binder calls them after binding an AST node's children; the DataFrame API
//! calls [`resolve_expr`], which walks an expression built with
//! [`col`](super::col) and [`lit`](super::lit) bottom-up and applies the
//! same functions. The same query therefore gets the same plan whichever
//! front end built it. Errors carry no location: the binder adds the
//! `line:column`, the DataFrame API reports when the plan is built.

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion_common::{Column, DFSchema, ScalarValue};

use super::coercion::{cast_to, coerce_binary, common_type_of, exact_literal};
use super::{AggregateCall, Expr, ExprSchema};
use crate::error::{Error, Result};
use crate::functions::{AggregateFunction, ScalarFunction, ScalarUdf};
use crate::{not_supported, plan_err};

/// What looking a column up in a schema found.
#[derive(Debug, PartialEq)]
pub enum ColumnLookup {
    /// The column, with the qualifier it has in the schema.
    Found(Column),
    /// Several columns match the (unqualified) name.
    Ambiguous,
    /// No column matches.
    Missing,
}

/// Looks `col` up in `schema` (exact names).
pub fn lookup_column(schema: &DFSchema, col: &Column) -> ColumnLookup {
    match schema.qualified_field_from_column(col) {
        Ok((q, f)) => ColumnLookup::Found(Column::new(q.cloned(), f.name())),
        Err(e) if e.to_string().contains("mbiguous") => ColumnLookup::Ambiguous,
        Err(_) => ColumnLookup::Missing,
    }
}

/// The error for a column that is not in `schema`: its name, the closest
/// candidates and, with `list_available`, every column there is. `place`
/// (e.g. ` at line 1, column 8`) follows the name.
pub fn unknown_column(col: &Column, schema: &DFSchema, place: &str, list_available: bool) -> Error {
    let candidates: Vec<String> = schema
        .iter()
        .map(|(q, f)| match q {
            Some(q) if col.relation.is_some() => format!("{q}.{}", f.name()),
            _ => f.name().clone(),
        })
        .collect();
    let hint = crate::sql::closest(&col.flat_name(), &candidates);
    let mut message = format!("column '{}' not found{place}", col.flat_name());
    if !hint.is_empty() {
        message.push_str(&format!("; did you mean {}?", hint.join(", ")));
    }
    if list_available {
        let all: Vec<String> = schema
            .iter()
            .map(|(q, f)| match q {
                Some(q) => format!("{q}.{}", f.name()),
                None => f.name().clone(),
            })
            .collect();
        if all.is_empty() {
            message.push_str("; the input has no columns");
        } else {
            message.push_str(&format!("; available columns: {}", all.join(", ")));
        }
    }
    Error::Plan { message }
}

/// Resolves a column reference of the DataFrame API: exact names first,
/// then a unique case-insensitive match (as Spark does by default). Errors
/// name the column and list the available ones.
pub fn resolve_column(col: &Column, schema: &DFSchema) -> Result<Column> {
    if col.name == "*" || col.name.ends_with(".*") {
        plan_err!(
            "'{}' is only allowed as a whole item of select(): col(\"*\") or col(\"t.*\")",
            col.flat_name()
        );
    }
    match lookup_column(schema, col) {
        ColumnLookup::Found(c) => Ok(c),
        ColumnLookup::Ambiguous => {
            let matches: Vec<String> = schema
                .iter()
                .filter(|(_, f)| f.name() == &col.name)
                .map(|(q, f)| q.map_or_else(|| f.name().clone(), |q| format!("{q}.{}", f.name())))
                .collect();
            plan_err!(
                "column reference '{}' is ambiguous: it could be {}; qualify it, e.g. col(\"{}\")",
                col.flat_name(),
                matches.join(" or "),
                matches.first().map_or("t.a", String::as_str)
            )
        }
        ColumnLookup::Missing => {
            let folded: Vec<Column> = schema
                .iter()
                .filter(|(q, f)| {
                    f.name().eq_ignore_ascii_case(&col.name)
                        && match (&col.relation, q) {
                            (None, _) => true,
                            (Some(want), Some(have)) => want.to_string().eq_ignore_ascii_case(&have.to_string()),
                            (Some(_), None) => false,
                        }
                })
                .map(|(q, f)| Column::new(q.cloned(), f.name()))
                .collect();
            match folded.as_slice() {
                [one] => Ok(one.clone()),
                _ => Err(unknown_column(col, schema, "", true)),
            }
        }
    }
}

/// Resolves every column of a DataFrame expression against `schema` and
/// applies the coercion rules node by node, bottom-up. Subqueries and outer
/// references only exist in SQL and are rejected.
///
/// ```
/// use std::sync::Arc;
/// use arrow::datatypes::{DataType, Field, Schema};
/// use datafusion_common::DFSchema;
/// use flint::logical::{col, lit, resolve_expr};
/// let schema = DFSchema::try_from_qualified_schema("t", &Schema::new(vec![Field::new("a", DataType::Int64, true)])).unwrap();
/// let e = resolve_expr(col("a").gt(lit(5.5)), &schema).unwrap();
/// assert_eq!(e.to_string(), "CAST(t.a AS Float64) > 5.5");
/// let err = resolve_expr(col("b"), &schema).unwrap_err().to_string();
/// assert!(err.contains("column 'b' not found") && err.contains("available columns: t.a"), "{err}");
/// ```
pub fn resolve_expr(expr: Expr, schema: &DFSchema) -> Result<Expr> {
    let all = |v: Vec<Expr>| {
        v.into_iter()
            .map(|e| resolve_expr(e, schema))
            .collect::<Result<Vec<_>>>()
    };
    let boxed = |e: Box<Expr>| resolve_expr(*e, schema);
    Ok(match expr {
        Expr::Column(c) => Expr::Column(resolve_column(&c, schema)?),
        Expr::OuterColumn(..) => plan_err!("outer column references only exist in SQL subqueries"),
        e @ Expr::Literal(_) => e,
        Expr::Alias(e, name) => Expr::Alias(Box::new(boxed(e)?), name),
        Expr::Binary(l, op, r) => {
            let written = Expr::Binary(l.clone(), op, r.clone());
            coerce_binary(boxed(l)?, op, boxed(r)?, schema).map_err(|err| err.context(format!("in `{written}`")))?
        }
        Expr::Not(e) => not(boxed(e)?, schema)?,
        Expr::Negative(e) => negate(boxed(e)?)?,
        Expr::IsNull(e) => Expr::IsNull(Box::new(boxed(e)?)),
        Expr::IsNotNull(e) => Expr::IsNotNull(Box::new(boxed(e)?)),
        Expr::Between {
            expr,
            negated,
            low,
            high,
        } => between(boxed(expr)?, boxed(low)?, boxed(high)?, negated, schema)?,
        Expr::Like {
            negated,
            expr,
            pattern,
            case_insensitive,
            escape,
        } => like(boxed(expr)?, boxed(pattern)?, negated, case_insensitive, escape, schema)?,
        Expr::InList { expr, list, negated } => in_list(boxed(expr)?, all(list)?, negated, schema)?,
        Expr::Case {
            operand,
            when_then,
            else_expr,
        } => {
            let operand = operand.map(boxed).transpose()?;
            let when_then = when_then
                .into_iter()
                .map(|(w, t)| Ok((resolve_expr(w, schema)?, resolve_expr(t, schema)?)))
                .collect::<Result<Vec<_>>>()?;
            let else_expr = else_expr.map(boxed).transpose()?;
            case(operand, when_then, else_expr, schema)?
        }
        Expr::Cast(e, t) => cast(boxed(e)?, t, false, schema)?,
        Expr::TryCast(e, t) => cast(boxed(e)?, t, true, schema)?,
        Expr::ScalarFunction(f, args) => scalar_function(f, all(args)?, schema)?,
        Expr::ScalarUdf(udf, args) => udf_call(udf, all(args)?, schema)?,
        Expr::Aggregate(call) => {
            let filter = call.filter.map(boxed).transpose()?;
            aggregate(call.func, all(call.args)?, call.distinct, filter, schema)?
        }
        Expr::ScalarSubquery(_) | Expr::InSubquery { .. } | Expr::Exists { .. } => {
            not_supported!("subqueries in DataFrame expressions; use a join, or SQL")
        }
    })
}

/// `NOT e`, with `e` cast to boolean.
pub fn not(e: Expr, schema: &DFSchema) -> Result<Expr> {
    Ok(Expr::Not(Box::new(cast_to(e, &DataType::Boolean, schema)?)))
}

/// `CAST(e AS t)` or, with `safe`, `TRY_CAST(e AS t)`: an error when no
/// cast between the types exists.
pub fn cast(e: Expr, t: DataType, safe: bool, schema: &DFSchema) -> Result<Expr> {
    let from = e.get_type(schema)?;
    if !arrow::compute::can_cast_types(&from, &t) {
        plan_err!("cannot cast {e} from {from} to {t}");
    }
    Ok(if safe {
        Expr::TryCast(Box::new(e), t)
    } else {
        Expr::Cast(Box::new(e), t)
    })
}

/// `- e`; a literal is negated in place (so `-5` is the constant `-5`).
pub fn negate(e: Expr) -> Result<Expr> {
    match e {
        Expr::Literal(ScalarValue::Null) => Ok(Expr::Literal(ScalarValue::Null)),
        Expr::Literal(v) => match v.arithmetic_negate() {
            Ok(n) => Ok(Expr::Literal(n)),
            Err(_) => plan_err!("cannot negate {v}"),
        },
        other => Ok(Expr::Negative(Box::new(other))),
    }
}

/// `x [NOT] BETWEEN low AND high`, all three cast to their common type.
pub fn between(x: Expr, low: Expr, high: Expr, negated: bool, schema: &DFSchema) -> Result<Expr> {
    let types = [x.get_type(schema)?, low.get_type(schema)?, high.get_type(schema)?];
    let Some(t) = common_type_of(types.iter()) else {
        plan_err!(
            "cannot compare {} with {} and {} in BETWEEN",
            types[0],
            types[1],
            types[2]
        );
    };
    if let (Some(lo), Some(hi)) = (exact_literal(&low, &types[0]), exact_literal(&high, &types[0])) {
        return Ok(Expr::Between {
            expr: Box::new(x),
            negated,
            low: Box::new(lo),
            high: Box::new(hi),
        });
    }
    Ok(Expr::Between {
        expr: Box::new(cast_to(x, &t, schema)?),
        negated,
        low: Box::new(cast_to(low, &t, schema)?),
        high: Box::new(cast_to(high, &t, schema)?),
    })
}

/// `x [NOT] IN (list)`, the value and the list cast to their common type.
pub fn in_list(x: Expr, list: Vec<Expr>, negated: bool, schema: &DFSchema) -> Result<Expr> {
    let mut types = vec![x.get_type(schema)?];
    for i in &list {
        types.push(i.get_type(schema)?);
    }
    let Some(t) = common_type_of(types.iter()) else {
        plan_err!("the values of IN do not have a common type with {x}");
    };
    let exact: Option<Vec<Expr>> = list.iter().map(|i| exact_literal(i, &types[0])).collect();
    if let Some(exact) = exact
        && !exact.is_empty()
    {
        return Ok(Expr::InList {
            expr: Box::new(x),
            list: exact,
            negated,
        });
    }
    Ok(Expr::InList {
        expr: Box::new(cast_to(x, &t, schema)?),
        list: list
            .into_iter()
            .map(|i| cast_to(i, &t, schema))
            .collect::<Result<_>>()?,
        negated,
    })
}

/// `x [NOT] [I]LIKE pattern [ESCAPE c]`: `x` must be a string; the pattern
/// is cast to its string type.
pub fn like(
    x: Expr,
    pattern: Expr,
    negated: bool,
    case_insensitive: bool,
    escape: Option<char>,
    schema: &DFSchema,
) -> Result<Expr> {
    let t = match x.get_type(schema)? {
        t @ (DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8) => t,
        DataType::Null => DataType::Utf8,
        other => plan_err!("LIKE needs a string, but {x} is {other}"),
    };
    Ok(Expr::Like {
        negated,
        expr: Box::new(x),
        pattern: Box::new(cast_to(pattern, &t, schema)?),
        case_insensitive,
        escape,
    })
}

/// `CASE [operand] WHEN .. THEN .. [ELSE ..] END`: the results cast to
/// their common type; the `WHEN`s cast to boolean, or with an operand, the
/// operand and the `WHEN` values cast to their common type.
pub fn case(
    operand: Option<Expr>,
    when_then: Vec<(Expr, Expr)>,
    else_expr: Option<Expr>,
    schema: &DFSchema,
) -> Result<Expr> {
    let mut result_types = when_then
        .iter()
        .map(|(_, t)| t.get_type(schema))
        .collect::<Result<Vec<_>>>()?;
    if let Some(x) = &else_expr {
        result_types.push(x.get_type(schema)?);
    }
    let Some(rt) = common_type_of(result_types.iter()) else {
        plan_err!("the branches of CASE have no common type ({result_types:?})");
    };
    let (whens, thens): (Vec<Expr>, Vec<Expr>) = when_then.into_iter().unzip();
    let (operand, whens) = match operand {
        None => (
            None,
            whens
                .into_iter()
                .map(|w| cast_to(w, &DataType::Boolean, schema))
                .collect::<Result<Vec<_>>>()?,
        ),
        Some(o) => {
            let mut types = vec![o.get_type(schema)?];
            for w in &whens {
                types.push(w.get_type(schema)?);
            }
            let Some(t) = common_type_of(types.iter()) else {
                plan_err!("CASE operand and WHEN values have no common type");
            };
            (
                Some(Box::new(cast_to(o, &t, schema)?)),
                whens
                    .into_iter()
                    .map(|w| cast_to(w, &t, schema))
                    .collect::<Result<_>>()?,
            )
        }
    };
    Ok(Expr::Case {
        operand,
        when_then: whens
            .into_iter()
            .zip(thens)
            .map(|(w, t)| Ok((w, cast_to(t, &rt, schema)?)))
            .collect::<Result<_>>()?,
        else_expr: else_expr.map(|x| cast_to(x, &rt, schema).map(Box::new)).transpose()?,
    })
}

/// A call of a built-in scalar function: arguments that must share a type
/// (`coalesce`, `greatest`, ...) are cast to it, and the return type is
/// checked. `round`/`trunc` of a decimal to `d` places has scale `d`, as in
/// PostgreSQL and DuckDB.
pub fn scalar_function(func: ScalarFunction, args: Vec<Expr>, schema: &DFSchema) -> Result<Expr> {
    let args = match func {
        ScalarFunction::Coalesce | ScalarFunction::Nullif | ScalarFunction::Greatest | ScalarFunction::Least => {
            let types = args.iter().map(|a| a.get_type(schema)).collect::<Result<Vec<_>>>()?;
            let Some(t) = common_type_of(types.iter()) else {
                plan_err!("the arguments of {func}() have no common type: {types:?}");
            };
            args.into_iter()
                .map(|a| cast_to(a, &t, schema))
                .collect::<Result<Vec<_>>>()?
        }
        _ => args,
    };
    let types = args.iter().map(|a| a.get_type(schema)).collect::<Result<Vec<_>>>()?;
    func.return_type(&types)?;
    if let (
        ScalarFunction::Round | ScalarFunction::Trunc,
        Some(DataType::Decimal128(p, s)),
        Some(Expr::Literal(ScalarValue::Int64(Some(d)))),
    ) = (func, types.first(), args.get(1))
        && *d >= 0
        && (*d as i8) < *s
    {
        let t = DataType::Decimal128(*p, *d as i8);
        return Ok(Expr::Cast(Box::new(Expr::ScalarFunction(func, args)), t));
    }
    Ok(Expr::ScalarFunction(func, args))
}

/// A call of a user-defined function: as many arguments as it declares,
/// each cast to the declared type.
pub fn udf_call(udf: Arc<ScalarUdf>, args: Vec<Expr>, schema: &DFSchema) -> Result<Expr> {
    let want = udf.arg_types();
    if args.len() != want.len() {
        plan_err!(
            "{}() takes {} argument(s) ({}), got {}",
            udf.name(),
            want.len(),
            want.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", "),
            args.len()
        );
    }
    let mut cast = Vec::with_capacity(args.len());
    for (i, (a, t)) in args.into_iter().zip(want).enumerate() {
        let have = a.get_type(schema)?;
        if &have != t && have != DataType::Null && !arrow::compute::can_cast_types(&have, t) {
            plan_err!(
                "argument {} of {}() is {a} of type {have}, which cannot be cast to {t}",
                i + 1,
                udf.name()
            );
        }
        cast.push(cast_to(a, t, schema)?);
    }
    Ok(Expr::ScalarUdf(udf, cast))
}

/// An aggregate call: one argument (none for `count(*)`), of a type the
/// function accepts.
pub fn aggregate(
    func: AggregateFunction,
    args: Vec<Expr>,
    distinct: bool,
    filter: Option<Expr>,
    schema: &DFSchema,
) -> Result<Expr> {
    match (func, args.len()) {
        (AggregateFunction::Count, 0) | (_, 1) => {}
        (_, n) => plan_err!("{func}() takes one argument, got {n}"),
    }
    let arg_type = args.first().map(|a| a.get_type(schema)).transpose()?;
    func.return_type(arg_type.as_ref())?;
    Ok(Expr::Aggregate(AggregateCall {
        func,
        args,
        distinct,
        filter: filter.map(Box::new),
    }))
}

#[cfg(test)]
mod tests {
    use arrow::datatypes::{Field, Schema};

    use super::*;
    use crate::logical::{col, lit};

    fn schema() -> DFSchema {
        let t = DFSchema::try_from_qualified_schema(
            "t",
            &Schema::new(vec![
                Field::new("a", DataType::Int64, true),
                Field::new("Name", DataType::Utf8, true),
            ]),
        )
        .unwrap();
        let u = DFSchema::try_from_qualified_schema("u", &Schema::new(vec![Field::new("a", DataType::Int32, true)]))
            .unwrap();
        let mut s = t;
        s.merge(&u);
        s
    }

    #[test]
    fn columns_are_qualified_case_insensitively_as_a_fallback() {
        let s = schema();
        assert_eq!(
            resolve_column(&Column::from_qualified_name("t.a"), &s)
                .unwrap()
                .flat_name(),
            "t.a"
        );
        assert_eq!(
            resolve_column(&Column::from_name("NAME"), &s).unwrap().flat_name(),
            "t.Name"
        );
        let err = resolve_column(&Column::from_name("a"), &s).unwrap_err().to_string();
        assert!(err.contains("ambiguous") && err.contains("t.a or u.a"), "{err}");
        let err = resolve_column(&Column::from_name("nme"), &s).unwrap_err().to_string();
        assert!(err.contains("column 'nme' not found"), "{err}");
        assert!(err.contains("available columns: t.a, t.Name, u.a"), "{err}");
        assert!(resolve_column(&Column::from_name("*"), &s).is_err());
    }

    #[test]
    fn coercion_matches_the_sql_rules() {
        let s = schema();
        // Bounds the column's type holds exactly compare in that type;
        // otherwise all three meet in the common type.
        let e = resolve_expr(col("u.a").between(lit(1i64), lit(2i32)), &s).unwrap();
        assert_eq!(e.to_string(), "u.a BETWEEN 1 AND 2");
        let e = resolve_expr(col("u.a").between(lit(1i64), lit(1i64 << 40)), &s).unwrap();
        assert_eq!(e.to_string(), "CAST(u.a AS Int64) BETWEEN 1 AND 1099511627776");
        let e = resolve_expr(-lit(5i32), &s).unwrap();
        assert_eq!(e, lit(-5i32));
        assert!(resolve_expr(col("t.a").like(lit("x")), &s).is_err());
        let err = resolve_expr(col("t.a") + lit("x"), &s).unwrap_err().to_string();
        assert!(err.contains("in `t.a + 'x'`"), "{err}");
        let agg = crate::functions::sum(col("Name"));
        assert!(resolve_expr(agg, &s).is_err());
    }
}
