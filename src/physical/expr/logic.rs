//! `AND` and `OR` with SQL's three-valued (Kleene) logic.
//!
//! The right operand is not evaluated at all when the left one decides
//! every row (all FALSE for `AND`, all TRUE for `OR`). When the right
//! operand can fail (it divides, casts or calls a function), it is
//! evaluated only on the rows the left operand leaves undecided, so
//! `b <> 0 AND a / b > 1` never divides by zero, as in PostgreSQL and
//! DuckDB. Operands that cannot fail are evaluated on the whole batch,
//! which is cheaper than selecting rows first.

use std::fmt;

use arrow::array::{Array, AsArray, BooleanArray};
use arrow::compute::kernels::boolean;
use arrow::compute::{filter, prep_null_mask_filter};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use datafusion_common::ScalarValue;

use super::coerce::cast_expr;
use super::kernels::kleene;
use super::select::{Assembler, Rows};
use super::{ColumnarValue, PhysicalExpr, PhysicalExprRef};
use crate::error::{Error, Result};
use crate::logical::Operator;
use crate::plan_err;

/// `left AND right` or `left OR right`.
#[derive(Debug)]
pub struct LogicExpr {
    left: PhysicalExprRef,
    op: Operator,
    right: PhysicalExprRef,
    /// Input columns `right` reads, when it must only see undecided rows.
    guarded: Option<Vec<usize>>,
    /// Whether each operand must be parenthesized when displayed.
    parens: (bool, bool),
}

impl LogicExpr {
    /// Builds the connective; NULL-typed operands are read as booleans.
    /// `guarded` lists the columns `right` reads when it can fail and so
    /// must only see the rows `left` leaves undecided.
    pub(crate) fn try_new(
        left: PhysicalExprRef,
        op: Operator,
        right: PhysicalExprRef,
        guarded: Option<Vec<usize>>,
        parens: (bool, bool),
    ) -> Result<Self> {
        if !matches!(op, Operator::And | Operator::Or) {
            return Err(Error::Internal(format!("{op} is not AND/OR")));
        }
        let boolean = |e: PhysicalExprRef| match e.data_type() {
            DataType::Boolean => Ok(e),
            DataType::Null => cast_expr(e, &DataType::Boolean),
            other => plan_err!("{op} needs boolean operands, got {other} in `{e}`"),
        };
        Ok(Self {
            left: boolean(left)?,
            op,
            right: boolean(right)?,
            guarded,
            parens,
        })
    }

    /// The value that decides the result on its own: FALSE for AND, TRUE for OR.
    fn decisive(&self) -> bool {
        self.op == Operator::Or
    }

    /// Evaluates `right` only where `left` (an array) is not decisive.
    fn evaluate_guarded(&self, batch: &RecordBatch, left: &dyn Array, used: &[usize]) -> Result<ColumnarValue> {
        let Some(l) = left.as_boolean_opt() else {
            return Err(Error::Internal(format!("{} is not boolean", self.left)));
        };
        // Rows where `left` alone decides (NULL decides nothing).
        // `prep_null_mask_filter` needs a null buffer; without one the
        // mask is already NULL-free.
        let null_free = |a: BooleanArray| {
            if a.null_count() > 0 {
                prep_null_mask_filter(&a)
            } else {
                a
            }
        };
        let decided = if self.decisive() {
            null_free(l.clone())
        } else {
            null_free(boolean::not(l)?)
        };
        let mut rows = Rows::all(batch, used)?;
        let done = rows.split(&decided)?;
        let mut out = Assembler::new(batch.num_rows(), &DataType::Boolean);
        out.add(
            &done,
            ColumnarValue::Scalar(ScalarValue::Boolean(Some(self.decisive()))),
        )?;
        if !rows.is_empty() {
            let open = boolean::not(&decided)?;
            let l_open = ColumnarValue::Array(filter(l, &open)?);
            let r_open = self.right.evaluate(rows.batch())?;
            out.add(&rows, kleene(self.op, l_open, r_open, rows.len())?)?;
        }
        out.finish()
    }
}

impl fmt::Display for LogicExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = |f: &mut fmt::Formatter<'_>, e: &PhysicalExprRef, paren: bool| {
            if paren { write!(f, "({e})") } else { write!(f, "{e}") }
        };
        side(f, &self.left, self.parens.0)?;
        write!(f, " {} ", self.op)?;
        side(f, &self.right, self.parens.1)
    }
}

impl PhysicalExpr for LogicExpr {
    fn data_type(&self) -> &DataType {
        &DataType::Boolean
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let decisive = self.decisive();
        let l = self.left.evaluate(batch)?;
        let all_decided = match &l {
            ColumnarValue::Scalar(ScalarValue::Boolean(Some(b))) => *b == decisive,
            ColumnarValue::Array(a) => match a.as_boolean_opt() {
                Some(b) if b.null_count() == 0 => {
                    let trues = b.true_count();
                    if decisive { trues == b.len() } else { trues == 0 }
                }
                _ => false,
            },
            ColumnarValue::Scalar(_) => false,
        };
        if all_decided {
            return Ok(ColumnarValue::Scalar(ScalarValue::Boolean(Some(decisive))));
        }
        if let (Some(used), ColumnarValue::Array(a)) = (&self.guarded, &l) {
            return self.evaluate_guarded(batch, a.as_ref(), used);
        }
        let r = self.right.evaluate(batch)?;
        kleene(self.op, l, r, batch.num_rows())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{BooleanArray, Int64Array};
    use datafusion_common::ScalarValue;

    use crate::logical::{Operator, col, lit};
    use crate::physical::expr::test_util::{batch, eval_err, values};

    fn b(v: Option<bool>) -> ScalarValue {
        ScalarValue::Boolean(v)
    }

    #[test]
    fn and_or_are_kleene() {
        let v = [Some(true), Some(false), None];
        let (p, q): (Vec<_>, Vec<_>) = v.iter().flat_map(|x| v.iter().map(move |y| (*x, *y))).unzip();
        let t = batch(vec![
            ("p", Arc::new(BooleanArray::from(p.clone()))),
            ("q", Arc::new(BooleanArray::from(q.clone()))),
        ]);
        let and = |x: Option<bool>, y: Option<bool>| match (x, y) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        };
        let or = |x: Option<bool>, y: Option<bool>| match (x, y) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        };
        let want_and: Vec<_> = p.iter().zip(&q).map(|(x, y)| b(and(*x, *y))).collect();
        let want_or: Vec<_> = p.iter().zip(&q).map(|(x, y)| b(or(*x, *y))).collect();
        assert_eq!(values(&col("p").and(col("q")), &t), want_and);
        assert_eq!(values(&col("p").or(col("q")), &t), want_or);
        assert_eq!(values(&lit(ScalarValue::Null).and(col("q")), &t)[1], b(Some(false)));
        // The guarded path gives the same truth table.
        let q_guarded = col("q").and(lit(1i64).binary(Operator::Divide, lit(1i64)).eq(lit(1i64)));
        assert_eq!(values(&col("p").and(q_guarded.clone()), &t), want_and);
        assert_eq!(values(&col("p").or(q_guarded), &t), want_or);
    }

    #[test]
    fn right_operand_that_can_fail_sees_only_undecided_rows() {
        let t = batch(vec![
            ("a", Arc::new(Int64Array::from(vec![Some(10), Some(5), Some(9), None]))),
            ("b", Arc::new(Int64Array::from(vec![Some(2), Some(0), None, Some(0)]))),
        ]);
        let ratio_big = col("a")
            .binary(Operator::Divide, col("b"))
            .binary(Operator::Gt, lit(3i64));
        let e = col("b").binary(Operator::NotEq, lit(0i64)).and(ratio_big.clone());
        assert_eq!(
            values(&e, &t),
            vec![b(Some(true)), b(Some(false)), b(None), b(Some(false))]
        );
        let e = col("b").eq(lit(0i64)).or(ratio_big.clone());
        assert_eq!(
            values(&e, &t),
            vec![b(Some(true)), b(Some(true)), b(None), b(Some(true))]
        );
        // Unguarded, the division by zero is reported.
        assert!(eval_err(&ratio_big, &t).starts_with("division by zero in `a / b`"));
        // Constant left operands decide without evaluating the right one.
        assert_eq!(values(&lit(false).and(ratio_big.clone()), &t), vec![b(Some(false)); 4]);
        assert_eq!(values(&lit(true).or(ratio_big), &t), vec![b(Some(true)); 4]);
    }
}
