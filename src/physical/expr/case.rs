//! `CASE [operand] WHEN .. THEN .. [ELSE ..] END`.
//!
//! When a branch can fail (it divides, casts or calls a function), the
//! branches are evaluated lazily, over rows (see `select`): each `WHEN` is
//! evaluated only on the rows no earlier branch took, each `THEN` only on
//! the rows its `WHEN` matched, `ELSE` only on the rows left over. So
//! `CASE WHEN b <> 0 THEN a / b END` never divides by zero. The results are
//! put back in row order with `interleave`. When no branch can fail, every
//! branch is evaluated on the whole batch and values are picked with `zip`,
//! which avoids copying the input rows. Without `ELSE`, unmatched rows are
//! NULL; a NULL condition does not match.

use std::fmt;

use arrow::array::{Array, AsArray};
use arrow::compute::kernels::zip::zip;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use datafusion_common::ScalarValue;

use super::coerce::{cast_expr, common_type, comparable_as_is};
use super::kernels::compare;
use super::select::{Assembler, Rows};
use super::{ColumnarValue, PhysicalExpr, PhysicalExprRef};
use crate::error::{Error, Result};
use crate::logical::Operator;
use crate::plan_err;

/// A `CASE` expression.
#[derive(Debug)]
pub struct CaseExpr {
    operand: Option<PhysicalExprRef>,
    when_then: Vec<(PhysicalExprRef, PhysicalExprRef)>,
    else_expr: Option<PhysicalExprRef>,
    data_type: DataType,
    /// Input columns read by any branch (sorted), when some branch can
    /// fail and branches must only see their rows; `None` evaluates every
    /// branch on the whole batch and picks values with `zip`.
    lazy: Option<Vec<usize>>,
}

impl CaseExpr {
    /// Builds the expression. Its type is that of the first `THEN` that is
    /// not NULL-typed (else the `ELSE`'s); other branches are cast to it.
    /// `lazy` lists the input columns the branches read when some branch
    /// can fail (so each must see only its own rows); `None` otherwise.
    pub(crate) fn try_new(
        operand: Option<PhysicalExprRef>,
        when_then: Vec<(PhysicalExprRef, PhysicalExprRef)>,
        else_expr: Option<PhysicalExprRef>,
        lazy: Option<Vec<usize>>,
    ) -> Result<Self> {
        if when_then.is_empty() {
            plan_err!("CASE needs at least one WHEN")
        }
        let data_type = when_then
            .iter()
            .map(|(_, t)| t.data_type())
            .chain(else_expr.iter().map(|e| e.data_type()))
            .find(|t| **t != DataType::Null)
            .cloned()
            .unwrap_or(DataType::Null);
        let (mut whens, thens): (Vec<_>, Vec<_>) = when_then.into_iter().unzip();
        let operand = match operand {
            Some(op) => {
                let t = op.data_type().clone();
                if whens.iter().all(|w| comparable_as_is(&t, w.data_type())) {
                    Some(op)
                } else {
                    let mut common = t.clone();
                    for w in &whens {
                        common = match common_type(&common, w.data_type()) {
                            Some(c) => c,
                            None => plan_err!("cannot compare CASE operand {t} with WHEN {}", w.data_type()),
                        };
                    }
                    whens = whens
                        .into_iter()
                        .map(|w| cast_expr(w, &common))
                        .collect::<Result<_>>()?;
                    Some(cast_expr(op, &common)?)
                }
            }
            None => {
                whens = whens
                    .into_iter()
                    .map(|w| match w.data_type() {
                        DataType::Boolean => Ok(w),
                        DataType::Null => cast_expr(w, &DataType::Boolean),
                        other => plan_err!("CASE WHEN needs a boolean condition, got {other} in `WHEN {w}`"),
                    })
                    .collect::<Result<_>>()?;
                None
            }
        };
        let thens = thens
            .into_iter()
            .map(|t| cast_expr(t, &data_type))
            .collect::<Result<Vec<_>>>()?;
        let else_expr = else_expr.map(|e| cast_expr(e, &data_type)).transpose()?;
        Ok(Self {
            operand,
            when_then: whens.into_iter().zip(thens).collect(),
            else_expr,
            data_type,
            lazy,
        })
    }
}

impl fmt::Display for CaseExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CASE")?;
        if let Some(o) = &self.operand {
            write!(f, " {o}")?;
        }
        for (w, t) in &self.when_then {
            write!(f, " WHEN {w} THEN {t}")?;
        }
        if let Some(e) = &self.else_expr {
            write!(f, " ELSE {e}")?;
        }
        f.write_str(" END")
    }
}

impl PhysicalExpr for CaseExpr {
    fn data_type(&self) -> &DataType {
        &self.data_type
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        match &self.lazy {
            Some(used) => self.evaluate_lazy(batch, used),
            None => self.evaluate_eager(batch),
        }
    }
}

impl CaseExpr {
    /// Every branch over the whole batch; later branches first, so that
    /// the first matching `WHEN` has the last word.
    fn evaluate_eager(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let operand = self.operand.as_ref().map(|o| o.evaluate(batch)).transpose()?;
        let mut result = match &self.else_expr {
            Some(e) => e.evaluate(batch)?,
            None => ColumnarValue::Scalar(ScalarValue::try_new_null(&self.data_type)?),
        };
        for (when, then) in self.when_then.iter().rev() {
            let cond = when.evaluate(batch)?;
            let cond = match &operand {
                Some(o) => compare(Operator::Eq, o, &cond)?,
                None => cond,
            };
            result = match cond {
                ColumnarValue::Scalar(ScalarValue::Boolean(Some(true))) => then.evaluate(batch)?,
                ColumnarValue::Scalar(_) => result,
                ColumnarValue::Array(mask) => {
                    let Some(mask) = mask.as_boolean_opt() else {
                        return Err(Error::Internal(format!(
                            "CASE condition `{when}` is {}",
                            mask.data_type()
                        )));
                    };
                    let value = then.evaluate(batch)?;
                    ColumnarValue::Array(zip(mask, &value.to_datum()?, &result.to_datum()?)?)
                }
            };
        }
        Ok(result)
    }

    /// Each branch over only the rows that reach it.
    fn evaluate_lazy(&self, batch: &RecordBatch, used: &[usize]) -> Result<ColumnarValue> {
        let mut rows = Rows::all(batch, used)?;
        if let Some(op) = &self.operand {
            rows.carried = Some(op.evaluate(rows.batch())?.into_array(rows.len())?);
        }
        let mut out = Assembler::new(batch.num_rows(), &self.data_type);
        for (when, then) in &self.when_then {
            if rows.is_empty() {
                break;
            }
            let cond = when.evaluate(rows.batch())?;
            let cond = match &rows.carried {
                Some(operand) => compare(Operator::Eq, &ColumnarValue::Array(operand.clone()), &cond)?,
                None => cond,
            };
            let cond = cond.into_array(rows.len())?;
            let Some(mask) = cond.as_boolean_opt() else {
                return Err(Error::Internal(format!(
                    "CASE condition `{when}` is {}",
                    cond.data_type()
                )));
            };
            let matched = rows.split(mask)?;
            if !matched.is_empty() {
                out.add(&matched, then.evaluate(matched.batch())?)?;
            }
        }
        if let Some(e) = &self.else_expr
            && !rows.is_empty()
        {
            out.add(&rows, e.evaluate(rows.batch())?)?;
        }
        out.finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray};
    use datafusion_common::ScalarValue;

    use crate::logical::{Expr, Operator, col, lit};
    use crate::physical::expr::test_util::{batch, values};

    fn case(operand: Option<Expr>, when_then: Vec<(Expr, Expr)>, else_expr: Option<Expr>) -> Expr {
        Expr::Case {
            operand: operand.map(Box::new),
            when_then,
            else_expr: else_expr.map(Box::new),
        }
    }

    fn t() -> arrow::record_batch::RecordBatch {
        batch(vec![
            (
                "a",
                Arc::new(Int64Array::from(vec![Some(10), Some(20), Some(30), None])),
            ),
            (
                "b",
                Arc::new(Int64Array::from(vec![Some(2), Some(0), Some(3), Some(1)])),
            ),
            ("s", Arc::new(StringArray::from(vec!["x", "y", "z", "w"]))),
        ])
    }

    fn i(v: Option<i64>) -> ScalarValue {
        ScalarValue::Int64(v)
    }

    #[test]
    fn untaken_branches_do_not_fail() {
        let div = col("a").binary(Operator::Divide, col("b"));
        let guarded = case(
            None,
            vec![(col("b").binary(Operator::NotEq, lit(0i64)), div.clone())],
            Some(lit(-1i64)),
        );
        assert_eq!(
            values(&guarded, &t()),
            vec![i(Some(5)), i(Some(-1)), i(Some(10)), i(None)]
        );
        // The same guard in ELSE position.
        let guarded = case(None, vec![(col("b").eq(lit(0i64)), lit(0i64))], Some(div));
        assert_eq!(
            values(&guarded, &t()),
            vec![i(Some(5)), i(Some(0)), i(Some(10)), i(None)]
        );
    }

    #[test]
    fn operand_form_null_conditions_and_missing_else() {
        let e = case(
            Some(col("a")),
            vec![(lit(10i64), lit("ten")), (lit(30i64), col("s"))],
            None,
        );
        let s = |v: Option<&str>| ScalarValue::Utf8(v.map(String::from));
        assert_eq!(values(&e, &t()), vec![s(Some("ten")), s(None), s(Some("z")), s(None)]);
        // A NULL condition does not match; the NULL-typed THEN takes the ELSE's type.
        let e = case(
            None,
            vec![
                (lit(ScalarValue::Boolean(None)), lit(ScalarValue::Null)),
                (col("a").binary(Operator::Gt, lit(15i64)), col("a")),
            ],
            Some(lit(0i64)),
        );
        assert_eq!(values(&e, &t()), vec![i(Some(0)), i(Some(20)), i(Some(30)), i(Some(0))]);
    }

    /// The lazy (row-selecting) and eager (zip) strategies agree: adding a
    /// branch that can fail but never matches forces the lazy one.
    #[test]
    fn lazy_and_eager_evaluation_agree() {
        let never = (lit(false), col("a").binary(Operator::Divide, lit(0i64)));
        let never_op = (lit(-99i64), col("a").binary(Operator::Divide, lit(0i64)));
        let gt = |v: i64| col("a").binary(Operator::Gt, lit(v));
        let cases = vec![
            (None, vec![(gt(15), col("a")), (gt(5), col("b"))], Some(lit(0i64))),
            (None, vec![(gt(25), lit(1i64)), (gt(5), lit(2i64))], None),
            (
                Some(col("b")),
                vec![(lit(0i64), col("a")), (lit(3i64), lit(33i64))],
                Some(col("b")),
            ),
            (
                Some(col("a")),
                vec![(lit(ScalarValue::Int64(None)), lit(1i64))],
                Some(lit(2i64)),
            ),
        ];
        for (operand, when_then, else_expr) in cases {
            let eager = case(operand.clone(), when_then.clone(), else_expr.clone());
            let mut forced = when_then;
            forced.push(if operand.is_some() {
                never_op.clone()
            } else {
                never.clone()
            });
            let lazy = case(operand, forced, else_expr);
            assert_eq!(values(&eager, &t()), values(&lazy, &t()), "{eager}");
        }
    }

    #[test]
    fn constant_case() {
        let e = case(None, vec![(lit(true), lit(1i64))], None);
        assert_eq!(values(&e, &t()), vec![i(Some(1)); 4]);
        let e = case(None, vec![(lit(false), lit(1i64))], None);
        assert_eq!(values(&e, &t()), vec![i(None); 4]);
    }
}
