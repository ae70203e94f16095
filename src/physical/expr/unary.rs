//! One-operand expressions: `NOT e`, `- e`, `e IS [NOT] NULL`.

use std::fmt;

use arrow::array::{Array, AsArray};
use arrow::compute::kernels::{boolean, numeric};
use arrow::datatypes::DataType;
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use datafusion_common::ScalarValue;

use super::coerce::cast_expr;
use super::{ColumnarValue, PhysicalExpr, PhysicalExprRef};
use crate::error::{Error, Result};
use crate::plan_err;

/// `NOT e`: NULL stays NULL.
#[derive(Debug)]
pub struct NotExpr {
    expr: PhysicalExprRef,
}

impl NotExpr {
    /// `NOT expr`; `expr` must be boolean (or NULL).
    pub(crate) fn try_new(expr: PhysicalExprRef) -> Result<Self> {
        let expr = match expr.data_type() {
            DataType::Boolean => expr,
            DataType::Null => cast_expr(expr, &DataType::Boolean)?,
            other => plan_err!("NOT needs a boolean operand, got {other} in `NOT {expr}`"),
        };
        Ok(Self { expr })
    }
}

impl fmt::Display for NotExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NOT {}", self.expr)
    }
}

impl PhysicalExpr for NotExpr {
    fn data_type(&self) -> &DataType {
        &DataType::Boolean
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        Self::negate(self.expr.evaluate(batch)?)
    }
}

impl NotExpr {
    /// Kleene `NOT` of a boolean value.
    pub(crate) fn negate(v: ColumnarValue) -> Result<ColumnarValue> {
        Ok(match v {
            ColumnarValue::Scalar(ScalarValue::Boolean(b)) => {
                ColumnarValue::Scalar(ScalarValue::Boolean(b.map(|b| !b)))
            }
            ColumnarValue::Array(a) => match a.as_boolean_opt() {
                Some(b) => ColumnarValue::Array(std::sync::Arc::new(boolean::not(b)?)),
                None => return Err(Error::Internal(format!("NOT over {}", a.data_type()))),
            },
            ColumnarValue::Scalar(other) => return Err(Error::Internal(format!("NOT over {}", other.data_type()))),
        })
    }
}

/// `- e`, checked: negating the smallest integer is an overflow error.
#[derive(Debug)]
pub struct NegativeExpr {
    expr: PhysicalExprRef,
    sql: String,
}

impl NegativeExpr {
    /// `- expr`; `sql` is the logical text, for errors.
    pub(crate) fn try_new(expr: PhysicalExprRef, sql: String) -> Result<Self> {
        let t = expr.data_type();
        let ok = t.is_numeric() || matches!(t, DataType::Null | DataType::Interval(_) | DataType::Duration(_));
        if !ok {
            plan_err!("cannot negate {t} in `{sql}`")
        }
        Ok(Self { expr, sql })
    }
}

impl fmt::Display for NegativeExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(- {})", self.expr)
    }
}

impl PhysicalExpr for NegativeExpr {
    fn data_type(&self) -> &DataType {
        self.expr.data_type()
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let v = self.expr.evaluate(batch)?;
        if v.data_type() == DataType::Null {
            return Ok(v);
        }
        let scalar = v.is_scalar();
        let out = numeric::neg(&v.into_array(1)?).map_err(|e| match e {
            ArrowError::ArithmeticOverflow(m) => Error::Execution(format!("numeric overflow in `{}`: {m}", self.sql)),
            other => Error::Arrow(other).context(format!("evaluating `{}`", self.sql)),
        })?;
        ColumnarValue::from_kernel(out, scalar)
    }
}

/// `e IS NULL` / `e IS NOT NULL`: never NULL itself.
#[derive(Debug)]
pub struct IsNullExpr {
    expr: PhysicalExprRef,
    negated: bool,
}

impl IsNullExpr {
    /// `expr IS NULL`, or `IS NOT NULL` when `negated`.
    pub(crate) fn new(expr: PhysicalExprRef, negated: bool) -> Self {
        Self { expr, negated }
    }
}

impl fmt::Display for IsNullExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} IS {}NULL", self.expr, if self.negated { "NOT " } else { "" })
    }
}

impl PhysicalExpr for IsNullExpr {
    fn data_type(&self) -> &DataType {
        &DataType::Boolean
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        Ok(match self.expr.evaluate(batch)? {
            ColumnarValue::Scalar(s) => ColumnarValue::Scalar(ScalarValue::Boolean(Some(s.is_null() != self.negated))),
            ColumnarValue::Array(a) => ColumnarValue::Array(std::sync::Arc::new(if self.negated {
                boolean::is_not_null(&a)?
            } else {
                boolean::is_null(&a)?
            })),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{BooleanArray, Int32Array, NullArray};
    use datafusion_common::ScalarValue;

    use crate::logical::{Expr, col, lit};
    use crate::physical::expr::test_util::{batch, eval_err, values};

    fn b(v: Option<bool>) -> ScalarValue {
        ScalarValue::Boolean(v)
    }

    #[test]
    fn not_and_is_null_follow_three_valued_logic() {
        let t = batch(vec![
            ("p", Arc::new(BooleanArray::from(vec![Some(true), Some(false), None]))),
            ("n", Arc::new(NullArray::new(3))),
        ]);
        let not = Expr::Not(Box::new(col("p")));
        assert_eq!(values(&not, &t), vec![b(Some(false)), b(Some(true)), b(None)]);
        let is_null = Expr::IsNull(Box::new(col("p")));
        assert_eq!(
            values(&is_null, &t),
            vec![b(Some(false)), b(Some(false)), b(Some(true))]
        );
        let not_null = Expr::IsNotNull(Box::new(col("p")));
        assert_eq!(
            values(&not_null, &t),
            vec![b(Some(true)), b(Some(true)), b(Some(false))]
        );
        assert_eq!(values(&Expr::IsNull(Box::new(col("n"))), &t), vec![b(Some(true)); 3]);
        assert_eq!(values(&Expr::Not(Box::new(col("n"))), &t), vec![b(None); 3]);
        let lit_null = Expr::IsNotNull(Box::new(lit(ScalarValue::Int32(None))));
        assert_eq!(values(&lit_null, &t), vec![b(Some(false)); 3]);
    }

    #[test]
    fn negation_is_checked() {
        let t = batch(vec![(
            "i",
            Arc::new(Int32Array::from(vec![Some(1), None, Some(i32::MIN)])),
        )]);
        let neg = Expr::Negative(Box::new(col("i")));
        let err = eval_err(&neg, &t);
        assert!(err.contains("overflow") && err.contains("(- i)"), "{err}");
        let small = batch(vec![("i", Arc::new(Int32Array::from(vec![Some(1), None])))]);
        assert_eq!(
            values(&neg, &small),
            vec![ScalarValue::Int32(Some(-1)), ScalarValue::Int32(None)]
        );
        assert!(eval_err(&Expr::Negative(Box::new(lit("x"))), &small).contains("cannot negate"));
    }
}
