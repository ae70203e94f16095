//! Lowering a logical [`Expr`] to a [`PhysicalExpr`] over a known input
//! schema: column names become positions, operand types are made to agree
//! for the kernels, and the result is checked to have the logical type.

use std::sync::Arc;

use arrow::datatypes::Schema;
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use datafusion_common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion_common::{DFSchema, ScalarValue};

use super::between::BetweenExpr;
use super::binary::BinaryExpr;
use super::case::CaseExpr;
use super::cast::CastExpr;
use super::column::{ColumnExpr, LiteralExpr};
use super::functions::create_function;
use super::in_list::InListExpr;
use super::like::LikeExpr;
use super::logic::LogicExpr;
use super::udf::UdfExpr;
use super::unary::{IsNullExpr, NegativeExpr, NotExpr};
use super::{ColumnarValue, PhysicalExprRef};
use crate::error::{Error, Result};
use crate::functions::ScalarFunction;
use crate::internal_err;
use crate::logical::{Expr, ExprSchema, Operator};

/// Binds `expr` to the columns of `input_schema` and returns an expression
/// that evaluates it a batch at a time.
///
/// Fails with [`Error::Plan`] for expressions that cannot be computed
/// (a function called with the wrong arguments, an impossible cast) and
/// with [`Error::Internal`] for aggregates, subqueries and outer columns,
/// which earlier planning steps must have replaced.
///
/// ```
/// use arrow::array::{Array, Int64Array};
/// use arrow::datatypes::{DataType, Field, Schema};
/// use arrow::record_batch::RecordBatch;
/// use datafusion_common::DFSchema;
/// use flint::logical::{col, lit};
/// use flint::physical::expr::create_physical_expr;
/// use std::sync::Arc;
///
/// let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, true)]));
/// let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(vec![1, 30]))]).unwrap();
/// let df_schema = DFSchema::try_from(schema.as_ref().clone()).unwrap();
/// let e = create_physical_expr(&col("x").binary(flint::logical::Operator::Lt, lit(24i64)), &df_schema).unwrap();
/// assert_eq!(e.to_string(), "x@0 < 24");
/// let out = e.evaluate(&batch).unwrap().into_array(2).unwrap();
/// assert_eq!(out.len(), 2);
/// ```
pub fn create_physical_expr(expr: &Expr, input_schema: &DFSchema) -> Result<PhysicalExprRef> {
    let physical = lower(expr, input_schema)?;
    if cfg!(debug_assertions) {
        let logical = expr.get_type(input_schema)?;
        if physical.data_type() != &logical {
            internal_err!(
                "`{expr}` is {logical} in the logical plan but {} when planned as `{physical}`",
                physical.data_type()
            );
        }
    }
    Ok(physical)
}

/// Evaluates an expression that references no columns, for constant
/// folding: `Some(value)` for a constant, `None` when it reads columns,
/// contains aggregates or subqueries, or calls a volatile function
/// (`random()`). Errors raised by the evaluation (`1 / 0`) are returned; a
/// caller folding bottom-up may prefer to leave such an expression as it
/// is, so that the error only surfaces if a row reaches it.
///
/// ```
/// use datafusion_common::ScalarValue;
/// use flint::logical::{lit, Operator};
/// use flint::physical::expr::evaluate_constant;
///
/// let e = lit(2i64).binary(Operator::Multiply, lit(21i64));
/// assert_eq!(evaluate_constant(&e).unwrap(), Some(ScalarValue::Int64(Some(42))));
/// ```
pub fn evaluate_constant(expr: &Expr) -> Result<Option<ScalarValue>> {
    let mut constant = true;
    expr.apply(|e| {
        let stop = match e {
            Expr::Column(_)
            | Expr::OuterColumn(..)
            | Expr::Aggregate(_)
            | Expr::ScalarSubquery(_)
            | Expr::InSubquery { .. }
            | Expr::Exists { .. } => true,
            Expr::ScalarFunction(f, _) => *f == ScalarFunction::Random,
            // User code may be non-deterministic or fail: never run it
            // while planning.
            Expr::ScalarUdf(..) => true,
            _ => false,
        };
        if stop {
            constant = false;
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    if !constant {
        return Ok(None);
    }
    let physical = create_physical_expr(expr, &DFSchema::empty())?;
    let one_row = RecordBatch::try_new_with_options(
        Arc::new(Schema::empty()),
        vec![],
        &RecordBatchOptions::new().with_row_count(Some(1)),
    )?;
    Ok(Some(match physical.evaluate(&one_row)? {
        ColumnarValue::Scalar(s) => s,
        ColumnarValue::Array(a) => ScalarValue::try_from_array(&a, 0)?,
    }))
}

fn lower(expr: &Expr, schema: &DFSchema) -> Result<PhysicalExprRef> {
    let boxed = |e: &Expr| lower(e, schema);
    Ok(match expr {
        Expr::Column(c) => {
            let index = schema.index_of_column(c)?;
            let t = schema.field(index).data_type().clone();
            Arc::new(ColumnExpr::new(c.name.clone(), index, t))
        }
        Expr::Literal(v) => Arc::new(LiteralExpr::new(v.clone())),
        Expr::Alias(e, _) => boxed(e)?,
        Expr::Binary(l, op @ (Operator::And | Operator::Or), r) => Arc::new(LogicExpr::try_new(
            boxed(l)?,
            *op,
            boxed(r)?,
            can_fail(r).then(|| used_columns(r, schema)).transpose()?,
            (needs_parens(l, *op, false), needs_parens(r, *op, true)),
        )?),
        Expr::Binary(l, op, r) => Arc::new(BinaryExpr::try_new(
            boxed(l)?,
            *op,
            boxed(r)?,
            expr.to_string(),
            (needs_parens(l, *op, false), needs_parens(r, *op, true)),
        )?),
        Expr::Not(e) => Arc::new(NotExpr::try_new(boxed(e)?)?),
        Expr::Negative(e) => Arc::new(NegativeExpr::try_new(boxed(e)?, expr.to_string())?),
        Expr::IsNull(e) => Arc::new(IsNullExpr::new(boxed(e)?, false)),
        Expr::IsNotNull(e) => Arc::new(IsNullExpr::new(boxed(e)?, true)),
        Expr::Between {
            expr: e,
            negated,
            low,
            high,
        } => Arc::new(BetweenExpr::try_new(boxed(e)?, boxed(low)?, boxed(high)?, *negated)?),
        Expr::Like {
            negated,
            expr: e,
            pattern,
            case_insensitive,
            escape,
        } => Arc::new(LikeExpr::try_new(
            boxed(e)?,
            boxed(pattern)?,
            *negated,
            *case_insensitive,
            *escape,
            match pattern.unalias() {
                Expr::Literal(v) => Some(v),
                _ => None,
            },
        )?),
        Expr::InList { expr: e, list, negated } => {
            let list = list.iter().map(boxed).collect::<Result<Vec<_>>>()?;
            Arc::new(InListExpr::try_new(boxed(e)?, list, *negated)?)
        }
        Expr::Case {
            operand,
            when_then,
            else_expr,
        } => {
            let operand = operand.as_deref().map(boxed).transpose()?;
            let when_then = when_then
                .iter()
                .map(|(w, t)| Ok((boxed(w)?, boxed(t)?)))
                .collect::<Result<Vec<_>>>()?;
            let else_expr = else_expr.as_deref().map(boxed).transpose()?;
            let lazy = can_fail(expr).then(|| used_columns(expr, schema)).transpose()?;
            Arc::new(CaseExpr::try_new(operand, when_then, else_expr, lazy)?)
        }
        Expr::Cast(e, t) => Arc::new(CastExpr::try_new(boxed(e)?, t.clone(), false)?),
        Expr::TryCast(e, t) => Arc::new(CastExpr::try_new(boxed(e)?, t.clone(), true)?),
        Expr::ScalarFunction(f, logical_args) => {
            let args = logical_args.iter().map(boxed).collect::<Result<Vec<_>>>()?;
            let lazy = logical_args
                .iter()
                .any(can_fail)
                .then(|| used_columns(expr, schema))
                .transpose()?;
            create_function(*f, args, logical_args, lazy)?
        }
        Expr::ScalarUdf(udf, args) => {
            let args = args.iter().map(boxed).collect::<Result<Vec<_>>>()?;
            Arc::new(UdfExpr::try_new(Arc::clone(udf), args)?)
        }
        Expr::Aggregate(_) => internal_err!("aggregate `{expr}` must be planned by the aggregate operator"),
        Expr::OuterColumn(..) => internal_err!("outer column `{expr}` must be decorrelated before execution"),
        Expr::ScalarSubquery(_) | Expr::InSubquery { .. } | Expr::Exists { .. } => {
            internal_err!("subquery `{expr}` must be decorrelated before execution")
        }
    })
}

/// The positions of the input columns `expr` reads, in ascending order.
fn used_columns(expr: &Expr, schema: &DFSchema) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    expr.apply(|e| {
        if let Expr::Column(c) = e {
            out.push(schema.index_of_column(c).map_err(Error::from)?);
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Whether evaluating `expr` can raise an error for some rows: division,
/// casts and functions with a restricted domain can; comparisons, column
/// reads and most string functions cannot. (Overflow of `+ - *` is
/// possible but rare, and not worth slower plans.)
fn can_fail(expr: &Expr) -> bool {
    use ScalarFunction::*;
    let mut fails = false;
    // The closure never returns an error, so neither does the walk.
    let _ = expr.apply(|e| {
        fails = match e {
            Expr::Binary(_, op, _) => matches!(op, Operator::Divide | Operator::Modulo),
            Expr::Cast(..) | Expr::ScalarUdf(..) => true,
            Expr::ScalarFunction(f, _) => !matches!(
                f,
                Upper
                    | Lower
                    | CharLength
                    | OctetLength
                    | Trim
                    | Ltrim
                    | Rtrim
                    | Concat
                    | ConcatWs
                    | Replace
                    | Strpos
                    | Left
                    | Right
                    | Reverse
                    | StartsWith
                    | EndsWith
                    | Initcap
                    | Ascii
                    | Coalesce
                    | Nullif
                    | Greatest
                    | Least
                    | DatePart
                    | CurrentDate
                    | Now
                    | Pi
                    | Random
                    | Cbrt
                    | Exp
            ),
            _ => false,
        };
        Ok(if fails {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    fails
}

/// Binding strength of a binary operator, as in PostgreSQL.
fn precedence(op: Operator) -> u8 {
    match op {
        Operator::Or => 1,
        Operator::And => 2,
        Operator::IsDistinctFrom | Operator::IsNotDistinctFrom => 3,
        Operator::Eq | Operator::NotEq | Operator::Lt | Operator::LtEq | Operator::Gt | Operator::GtEq => 4,
        Operator::StringConcat => 5,
        Operator::Plus | Operator::Minus => 6,
        Operator::Multiply | Operator::Divide | Operator::Modulo => 7,
    }
}

/// Whether an operand of `op` must be parenthesized when displayed.
fn needs_parens(operand: &Expr, op: Operator, right: bool) -> bool {
    match operand.unalias() {
        Expr::Binary(_, inner, _) => {
            let (p, q) = (precedence(*inner), precedence(op));
            p < q
                || (right
                    && p == q
                    && !matches!(op, Operator::And | Operator::Or | Operator::Plus | Operator::Multiply))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array, Int64Array, StringArray,
        StringViewArray, TimestampNanosecondArray,
    };
    use arrow::datatypes::DataType;
    use datafusion_common::ScalarValue;

    use super::*;
    use crate::functions::AggregateFunction;
    use crate::logical::{AggregateCall, col, lit};
    use crate::physical::expr::test_util::{batch, schema_of, try_eval};

    fn wide() -> RecordBatch {
        let dec = Decimal128Array::from(vec![Some(1234), None, Some(-5)])
            .with_precision_and_scale(12, 2)
            .unwrap();
        let cols: Vec<(&str, ArrayRef)> = vec![
            ("i", Arc::new(Int32Array::from(vec![Some(1), None, Some(3)]))),
            ("l", Arc::new(Int64Array::from(vec![Some(10), Some(20), None]))),
            ("f", Arc::new(Float64Array::from(vec![Some(1.5), Some(-2.5), None]))),
            ("d", Arc::new(dec)),
            ("s", Arc::new(StringArray::from(vec![Some("abc"), None, Some("xyz")]))),
            ("v", Arc::new(StringViewArray::from(vec![Some("ABC"), Some("q"), None]))),
            ("dt", Arc::new(Date32Array::from(vec![Some(9204), None, Some(0)]))),
            (
                "ts",
                Arc::new(TimestampNanosecondArray::from(vec![Some(0), None, Some(1)])),
            ),
            ("p", Arc::new(BooleanArray::from(vec![Some(true), None, Some(false)]))),
        ];
        batch(cols)
    }

    /// Every expression here is planned and evaluated by `try_eval`,
    /// which asserts that the physical type equals the logical type both
    /// when planned and when evaluated.
    #[test]
    fn physical_types_equal_logical_types() {
        use crate::functions::ScalarFunction as F;
        let f = |fun, args| Expr::ScalarFunction(fun, args);
        let null = || lit(ScalarValue::Null);
        let exprs = vec![
            col("i").binary(Operator::Plus, col("i")),
            col("d").binary(Operator::Multiply, col("d")),
            col("d").binary(Operator::Divide, lit(ScalarValue::Decimal128(Some(3), 5, 0))),
            col("d").binary(Operator::Modulo, col("d")),
            col("l").binary(Operator::Minus, null()),
            col("dt").binary(Operator::Minus, col("dt")),
            col("ts").binary(Operator::Minus, col("ts")),
            col("s").binary(Operator::StringConcat, col("v")),
            col("s").eq(col("v")).and(col("p")).or(null()),
            Expr::Negative(Box::new(col("f"))),
            Expr::Not(Box::new(col("p"))),
            Expr::IsNull(Box::new(col("s"))),
            Expr::Cast(Box::new(col("s")), DataType::Utf8View),
            Expr::TryCast(Box::new(col("s")), DataType::Int64),
            Expr::Case {
                operand: None,
                when_then: vec![(col("p"), null()), (lit(true), col("d"))],
                else_expr: None,
            },
            f(F::Abs, vec![col("i")]),
            f(F::Abs, vec![null()]),
            f(F::Sign, vec![col("d")]),
            f(F::Ceil, vec![col("d")]),
            f(F::Floor, vec![col("f")]),
            f(F::Round, vec![col("d"), lit(1i64)]),
            f(F::Round, vec![col("i")]),
            f(F::Trunc, vec![null()]),
            f(F::Sqrt, vec![col("l")]),
            f(F::Log, vec![lit(2i64), lit(8.0)]),
            f(F::Power, vec![col("i"), lit(2i64)]),
            f(F::Pi, vec![]),
            f(F::Random, vec![]),
            f(F::Upper, vec![col("v")]),
            f(F::CharLength, vec![col("v")]),
            f(F::Substr, vec![col("v"), lit(2i32)]),
            f(F::Concat, vec![col("s"), col("i"), col("dt")]),
            f(F::ConcatWs, vec![lit(","), col("v"), col("f")]),
            f(F::Lpad, vec![col("s"), lit(5i64), lit("*")]),
            f(F::Chr, vec![lit(65i32)]),
            f(F::Coalesce, vec![col("v"), lit("z")]),
            f(F::Coalesce, vec![null(), col("d")]),
            f(F::Nullif, vec![col("i"), lit(1i32)]),
            f(F::Greatest, vec![col("l"), lit(15i64)]),
            f(F::DatePart, vec![lit("year"), col("dt")]),
            f(F::DatePart, vec![lit("epoch"), col("ts")]),
            f(F::DateTrunc, vec![lit("month"), col("dt")]),
            f(F::DateTrunc, vec![lit("hour"), col("ts")]),
            f(F::CurrentDate, vec![]),
            f(F::Now, vec![]),
            f(F::MakeDate, vec![lit(2024i64), lit(2i32), lit(29i64)]),
        ];
        let t = wide();
        let empty = t.slice(0, 0);
        for e in exprs {
            for batch in [&t, &empty] {
                if let Err(err) = try_eval(&e, batch) {
                    panic!("{e} over {} rows: {err}", batch.num_rows());
                }
            }
        }
    }

    #[test]
    fn aggregates_subqueries_and_outer_columns_are_internal_errors() {
        let schema = schema_of(&wide());
        let agg = Expr::Aggregate(AggregateCall {
            func: AggregateFunction::Sum,
            args: vec![col("i")],
            distinct: false,
            filter: None,
        });
        let outer = Expr::OuterColumn(DataType::Int32, datafusion_common::Column::from_name("x"));
        for (e, needle) in [(agg, "aggregate operator"), (outer, "decorrelated")] {
            match create_physical_expr(&e, &schema) {
                Err(Error::Internal(m)) => assert!(m.contains(needle), "{m}"),
                other => panic!("{e}: {other:?}"),
            }
        }
        assert!(create_physical_expr(&col("nope"), &schema).is_err());
    }

    #[test]
    fn constants_fold_and_columns_do_not() {
        let e = lit(6i64).binary(Operator::Multiply, lit(7i64));
        assert_eq!(evaluate_constant(&e).unwrap(), Some(ScalarValue::Int64(Some(42))));
        let e = Expr::ScalarFunction(ScalarFunction::Upper, vec![lit("abc")]);
        assert_eq!(
            evaluate_constant(&e).unwrap(),
            Some(ScalarValue::Utf8(Some("ABC".into())))
        );
        let e = Expr::Case {
            operand: None,
            when_then: vec![(lit(false), lit(1i64).binary(Operator::Divide, lit(0i64)))],
            else_expr: Some(Box::new(lit(2i64))),
        };
        assert_eq!(evaluate_constant(&e).unwrap(), Some(ScalarValue::Int64(Some(2))));
        assert_eq!(evaluate_constant(&col("a").eq(lit(1i64))).unwrap(), None);
        let random = Expr::ScalarFunction(ScalarFunction::Random, vec![]);
        assert_eq!(evaluate_constant(&random).unwrap(), None);
        assert!(evaluate_constant(&lit(1i64).binary(Operator::Divide, lit(0i64))).is_err());
    }
}
