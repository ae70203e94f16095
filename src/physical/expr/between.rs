//! `e [NOT] BETWEEN low AND high`, which is `e >= low AND e <= high`
//! (Kleene `AND`) with `e` evaluated once.

use std::fmt;

use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use super::coerce::{cast_expr, common_type, comparable_as_is};
use super::kernels::{compare, kleene};
use super::unary::NotExpr;
use super::{ColumnarValue, PhysicalExpr, PhysicalExprRef};
use crate::error::Result;
use crate::logical::Operator;
use crate::plan_err;

/// `expr [NOT] BETWEEN low AND high`.
#[derive(Debug)]
pub struct BetweenExpr {
    expr: PhysicalExprRef,
    low: PhysicalExprRef,
    high: PhysicalExprRef,
    negated: bool,
}

impl BetweenExpr {
    /// Builds the test, casting the three operands to one type if needed.
    pub(crate) fn try_new(
        expr: PhysicalExprRef,
        low: PhysicalExprRef,
        high: PhysicalExprRef,
        negated: bool,
    ) -> Result<Self> {
        let (t, lt, ht) = (expr.data_type(), low.data_type(), high.data_type());
        if comparable_as_is(t, lt) && comparable_as_is(t, ht) {
            return Ok(Self {
                expr,
                low,
                high,
                negated,
            });
        }
        let Some(common) = common_type(t, lt).and_then(|c| common_type(&c, ht)) else {
            plan_err!("cannot compare {t} with {lt} and {ht} in `{expr} BETWEEN {low} AND {high}`")
        };
        Ok(Self {
            expr: cast_expr(expr, &common)?,
            low: cast_expr(low, &common)?,
            high: cast_expr(high, &common)?,
            negated,
        })
    }
}

impl fmt::Display for BetweenExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let not = if self.negated { "NOT " } else { "" };
        write!(f, "{} {not}BETWEEN {} AND {}", self.expr, self.low, self.high)
    }
}

impl PhysicalExpr for BetweenExpr {
    fn data_type(&self) -> &DataType {
        &DataType::Boolean
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let v = self.expr.evaluate(batch)?;
        let ge = compare(Operator::GtEq, &v, &self.low.evaluate(batch)?)?;
        let le = compare(Operator::LtEq, &v, &self.high.evaluate(batch)?)?;
        let inside = kleene(Operator::And, ge, le, batch.num_rows())?;
        if self.negated {
            NotExpr::negate(inside)
        } else {
            Ok(inside)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray, StringViewArray};
    use datafusion_common::ScalarValue;

    use crate::logical::{Expr, col, lit};
    use crate::physical::expr::test_util::{batch, values};

    fn between(e: Expr, low: Expr, high: Expr, negated: bool) -> Expr {
        Expr::Between {
            expr: Box::new(e),
            negated,
            low: Box::new(low),
            high: Box::new(high),
        }
    }

    #[test]
    fn between_is_two_comparisons_with_kleene_and() {
        let t = batch(vec![(
            "x",
            Arc::new(Int64Array::from(vec![Some(1), Some(5), Some(9), None])),
        )]);
        let b = |v: Option<bool>| ScalarValue::Boolean(v);
        let e = between(col("x"), lit(2i64), lit(8i64), false);
        assert_eq!(
            values(&e, &t),
            vec![b(Some(false)), b(Some(true)), b(Some(false)), b(None)]
        );
        let e = between(col("x"), lit(2i64), lit(8i64), true);
        assert_eq!(
            values(&e, &t),
            vec![b(Some(true)), b(Some(false)), b(Some(true)), b(None)]
        );
        // 1 BETWEEN NULL AND 0 is FALSE (1 <= 0 is false); 5 BETWEEN NULL AND 8 is NULL.
        let e = between(col("x"), lit(ScalarValue::Int64(None)), lit(4i64), false);
        assert_eq!(values(&e, &t), vec![b(None), b(Some(false)), b(Some(false)), b(None)]);
    }

    #[test]
    fn between_mixed_string_encodings() {
        let t = batch(vec![
            ("s", Arc::new(StringViewArray::from(vec!["apple", "melon", "zebra"]))),
            ("lo", Arc::new(StringArray::from(vec!["b", "b", "b"]))),
        ]);
        let e = between(col("s"), col("lo"), lit("n"), false);
        let b = |v: bool| ScalarValue::Boolean(Some(v));
        assert_eq!(values(&e, &t), vec![b(false), b(true), b(false)]);
    }
}
