//! `coalesce`, `nullif`, `greatest`, `least`.
//!
//! `coalesce` is lazy like `CASE` when an argument can fail: each argument
//! is then evaluated only on the rows where every earlier argument was
//! NULL, so `coalesce(x, 1 / 0)` fails only if some `x` is NULL. Otherwise
//! all arguments are evaluated and combined with `zip`. `greatest` and `least` skip NULLs (NULL
//! only when every argument is NULL), as in PostgreSQL.

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::compute::kernels::{boolean, nullif, zip};
use arrow::compute::{filter, is_not_null};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use datafusion_common::ScalarValue;

use super::FunctionImpl;
use super::args::arg;
use crate::error::{Error, Result};
use crate::functions::ScalarFunction;
use crate::logical::Operator;
use crate::physical::expr::kernels::compare;
use crate::physical::expr::select::{Assembler, Rows};
use crate::physical::expr::{ColumnarValue, PhysicalExpr, PhysicalExprRef};

pub(super) fn implementation(fun: ScalarFunction) -> FunctionImpl {
    match fun {
        ScalarFunction::Nullif => Arc::new(nullif_fn),
        ScalarFunction::Greatest => Arc::new(|a, n| extreme(a, n, Operator::Gt)),
        ScalarFunction::Least => Arc::new(|a, n| extreme(a, n, Operator::Lt)),
        other => Arc::new(move |_, _| Err(Error::Internal(format!("{other} is planned elsewhere")))),
    }
}

/// `nullif(a, b)`: NULL where `a = b`, `a` otherwise.
fn nullif_fn(args: &[ColumnarValue], n: usize) -> Result<ColumnarValue> {
    let (a, b) = (arg(args, 0)?, arg(args, 1)?);
    if a.data_type() == DataType::Null {
        return Ok(a.clone());
    }
    let scalar = a.is_scalar() && b.is_scalar();
    let len = if scalar { 1 } else { n };
    let equal = compare(Operator::Eq, a, b)?.into_array(len)?;
    let Some(equal) = equal.as_boolean_opt() else {
        return Err(Error::Internal("nullif comparison is not boolean".into()));
    };
    let out = nullif::nullif(&a.clone().into_array(len)?, equal)?;
    ColumnarValue::from_kernel(out, scalar)
}

/// `greatest` (`op` is `>`) or `least` (`<`), skipping NULLs.
fn extreme(args: &[ColumnarValue], n: usize, op: Operator) -> Result<ColumnarValue> {
    let mut best = arg(args, 0)?.clone();
    for next in args.iter().skip(1) {
        let better = compare(op, next, &best)?;
        // Take `next` where it is better or `best` is still NULL; a NULL
        // mask entry (next is NULL) keeps `best`.
        let best_null = match &best {
            ColumnarValue::Scalar(s) => ColumnarValue::Scalar(ScalarValue::Boolean(Some(s.is_null()))),
            ColumnarValue::Array(a) => ColumnarValue::Array(Arc::new(arrow::compute::is_null(a)?)),
        };
        let scalar = better.is_scalar() && best_null.is_scalar();
        let len = if scalar { 1 } else { n };
        let (better, best_null) = (better.into_array(len)?, best_null.into_array(len)?);
        let (Some(better), Some(best_null)) = (better.as_boolean_opt(), best_null.as_boolean_opt()) else {
            return Err(Error::Internal("greatest/least mask is not boolean".into()));
        };
        let take = boolean::or_kleene(better, best_null)?;
        let out = zip::zip(&take, &next.to_datum()?, &best.to_datum()?)?;
        best = ColumnarValue::from_kernel(out, scalar)?;
    }
    Ok(best)
}

/// `coalesce(a, b, ...)`, evaluated lazily over rows.
#[derive(Debug)]
pub struct CoalesceExpr {
    args: Vec<PhysicalExprRef>,
    data_type: DataType,
    /// Input columns the arguments read, when an argument can fail and
    /// must only see the rows that reach it; `None` evaluates eagerly.
    lazy: Option<Vec<usize>>,
}

impl CoalesceExpr {
    /// `coalesce(args)`; the arguments already have type `data_type`.
    /// `lazy` lists the columns they read when one of them can fail.
    pub(crate) fn new(args: Vec<PhysicalExprRef>, data_type: DataType, lazy: Option<Vec<usize>>) -> Self {
        Self { args, data_type, lazy }
    }

    /// Every argument over the whole batch, combined last to first.
    fn evaluate_eager(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let mut result = ColumnarValue::Scalar(ScalarValue::try_new_null(&self.data_type)?);
        for a in self.args.iter().rev() {
            result = match a.evaluate(batch)? {
                ColumnarValue::Scalar(s) if s.is_null() => result,
                ColumnarValue::Scalar(s) => ColumnarValue::Scalar(s),
                ColumnarValue::Array(values) => {
                    let present = is_not_null(&values)?;
                    ColumnarValue::Array(zip::zip(&present, &values, &result.to_datum()?)?)
                }
            };
        }
        Ok(result)
    }
}

impl fmt::Display for CoalesceExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("coalesce(")?;
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{a}")?;
        }
        f.write_str(")")
    }
}

impl PhysicalExpr for CoalesceExpr {
    fn data_type(&self) -> &DataType {
        &self.data_type
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let Some(used) = &self.lazy else {
            return self.evaluate_eager(batch);
        };
        let mut rows = Rows::all(batch, used)?;
        let mut out = Assembler::new(batch.num_rows(), &self.data_type);
        for a in &self.args {
            if rows.is_empty() {
                break;
            }
            match a.evaluate(rows.batch())? {
                ColumnarValue::Scalar(s) if s.is_null() => {}
                ColumnarValue::Scalar(s) => {
                    out.add(&rows, ColumnarValue::Scalar(s))?;
                    break;
                }
                ColumnarValue::Array(values) => {
                    let present = is_not_null(&values)?;
                    let decided = rows.split(&present)?;
                    if decided.is_empty() {
                        continue;
                    }
                    let values = if decided.len() == values.len() {
                        values
                    } else {
                        filter(&values, &present)?
                    };
                    out.add(&decided, ColumnarValue::Array(values))?;
                }
            }
        }
        out.finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray, StringViewArray};
    use datafusion_common::ScalarValue;

    use crate::functions::ScalarFunction as F;
    use crate::logical::{Expr, Operator, col, lit};
    use crate::physical::expr::test_util::{batch, values};

    fn call(f: F, args: Vec<Expr>) -> Expr {
        Expr::ScalarFunction(f, args)
    }

    fn i(v: Option<i64>) -> ScalarValue {
        ScalarValue::Int64(v)
    }

    fn t() -> arrow::record_batch::RecordBatch {
        batch(vec![
            ("a", Arc::new(Int64Array::from(vec![Some(1), None, None, Some(7)]))),
            ("b", Arc::new(Int64Array::from(vec![Some(0), Some(0), None, Some(9)]))),
            (
                "s",
                Arc::new(StringViewArray::from(vec![Some("x"), None, Some("z"), None])),
            ),
        ])
    }

    #[test]
    fn coalesce_is_lazy_and_takes_first_non_null() {
        let e = call(F::Coalesce, vec![col("a"), col("b"), lit(-1i64)]);
        assert_eq!(values(&e, &t()), vec![i(Some(1)), i(Some(0)), i(Some(-1)), i(Some(7))]);
        // 10 / x fails where x = 0, but that row has a `y` and never reaches it.
        let xy = batch(vec![
            ("x", Arc::new(Int64Array::from(vec![Some(0), Some(2)]))),
            ("y", Arc::new(Int64Array::from(vec![Some(5), None]))),
        ]);
        let risky = call(
            F::Coalesce,
            vec![col("y"), lit(10i64).binary(Operator::Divide, col("x"))],
        );
        assert_eq!(values(&risky, &xy), vec![i(Some(5)), i(Some(5))]);
        let s = call(
            F::Coalesce,
            vec![col("s"), lit(ScalarValue::Utf8View(Some("-".into())))],
        );
        let v = |x: &str| ScalarValue::Utf8View(Some(x.into()));
        assert_eq!(values(&s, &t()), vec![v("x"), v("-"), v("z"), v("-")]);
        let all_null = call(F::Coalesce, vec![lit(ScalarValue::Null), lit(ScalarValue::Int64(None))]);
        assert_eq!(values(&all_null, &t()), vec![i(None); 4]);
        // A cast can fail, so this one takes the lazy path; same answer.
        let cast_b = col("b").cast_to(arrow::datatypes::DataType::Int64);
        let lazy = call(F::Coalesce, vec![col("a"), cast_b, lit(-1i64)]);
        assert_eq!(values(&lazy, &t()), values(&e, &t()));
    }

    #[test]
    fn nullif_greatest_least() {
        let e = call(F::Nullif, vec![col("a"), lit(7i64)]);
        assert_eq!(values(&e, &t()), vec![i(Some(1)), i(None), i(None), i(None)]);
        let e = call(F::Greatest, vec![col("a"), col("b"), lit(ScalarValue::Int64(None))]);
        assert_eq!(values(&e, &t()), vec![i(Some(1)), i(Some(0)), i(None), i(Some(9))]);
        let e = call(F::Least, vec![col("a"), col("b")]);
        assert_eq!(values(&e, &t()), vec![i(Some(0)), i(Some(0)), i(None), i(Some(7))]);
        let e = call(F::Greatest, vec![lit(3i64), lit(5i64)]);
        assert_eq!(values(&e, &t()), vec![i(Some(5)); 4]);
        let strings = batch(vec![("s", Arc::new(StringArray::from(vec!["b", "a"])))]);
        let e = call(F::Least, vec![col("s"), lit("aa")]);
        let s = |x: &str| ScalarValue::Utf8(Some(x.into()));
        assert_eq!(values(&e, &strings), vec![s("aa"), s("a")]);
    }
}
