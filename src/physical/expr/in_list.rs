//! `e [NOT] IN (v1, v2, ...)`.
//!
//! Computed as the Kleene `OR` of `e = vi` over the list, which gives SQL's
//! answer directly: TRUE on a match, otherwise NULL when `e` is NULL or the
//! list holds a NULL, otherwise FALSE. `NOT IN` is the Kleene `NOT` of that.
//! Each item costs one vectorized comparison; lists are short in practice.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use datafusion_common::ScalarValue;

use super::coerce::{cast_expr, common_type, comparable_as_is};
use super::kernels::{compare, kleene};
use super::unary::NotExpr;
use super::view_eq::{constant_bytes, views_in};
use super::{ColumnarValue, PhysicalExpr, PhysicalExprRef};
use crate::error::Result;
use crate::logical::Operator;
use crate::plan_err;

/// `expr [NOT] IN (list)`.
#[derive(Debug)]
pub struct InListExpr {
    expr: PhysicalExprRef,
    list: Vec<PhysicalExprRef>,
    negated: bool,
}

impl InListExpr {
    /// Builds the test, casting the value and the items to one type where
    /// the comparison kernels need it.
    pub(crate) fn try_new(expr: PhysicalExprRef, list: Vec<PhysicalExprRef>, negated: bool) -> Result<Self> {
        let t = expr.data_type().clone();
        if list.iter().all(|e| comparable_as_is(&t, e.data_type())) {
            return Ok(Self { expr, list, negated });
        }
        let mut common = t.clone();
        for item in &list {
            match common_type(&common, item.data_type()) {
                Some(c) => common = c,
                None => plan_err!(
                    "cannot compare {t} with {} in `{expr} IN (.., {item}, ..)`",
                    item.data_type()
                ),
            }
        }
        let list = list
            .into_iter()
            .map(|e| cast_expr(e, &common))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            expr: cast_expr(expr, &common)?,
            list,
            negated,
        })
    }
}

impl InListExpr {
    /// The answer on string views when the value is a view column and every
    /// item a non-NULL constant (see [`views_in`]); `None` otherwise.
    fn views_in(&self, v: &ColumnarValue, batch: &RecordBatch) -> Result<Option<ColumnarValue>> {
        let ColumnarValue::Array(a) = v else {
            return Ok(None);
        };
        if !matches!(a.data_type(), DataType::Utf8View | DataType::BinaryView) {
            return Ok(None);
        }
        let mut items = Vec::with_capacity(self.list.len());
        for item in &self.list {
            match item.evaluate(batch)? {
                ColumnarValue::Scalar(c) => items.push(c),
                ColumnarValue::Array(_) => return Ok(None),
            }
        }
        let Some(bytes) = items.iter().map(constant_bytes).collect::<Option<Vec<_>>>() else {
            return Ok(None);
        };
        Ok(views_in(a.as_ref(), &bytes).map(|b| ColumnarValue::Array(Arc::new(b))))
    }
}

impl fmt::Display for InListExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}IN (", self.expr, if self.negated { "NOT " } else { "" })?;
        for (i, e) in self.list.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{e}")?;
        }
        f.write_str(")")
    }
}

impl PhysicalExpr for InListExpr {
    fn data_type(&self) -> &DataType {
        &DataType::Boolean
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let v = self.expr.evaluate(batch)?;
        if let Some(found) = self.views_in(&v, batch)? {
            return if self.negated {
                NotExpr::negate(found)
            } else {
                Ok(found)
            };
        }
        let mut found = ColumnarValue::Scalar(ScalarValue::Boolean(Some(false)));
        for item in &self.list {
            let eq = compare(Operator::Eq, &v, &item.evaluate(batch)?)?;
            found = kleene(Operator::Or, found, eq, batch.num_rows())?;
        }
        if self.negated {
            NotExpr::negate(found)
        } else {
            Ok(found)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{DictionaryArray, Int32Array, Int64Array, StringArray};
    use arrow::datatypes::Int32Type;
    use datafusion_common::ScalarValue;

    use crate::logical::{Expr, col, lit};
    use crate::physical::expr::test_util::{batch, values};

    fn in_list(e: Expr, list: Vec<Expr>, negated: bool) -> Expr {
        Expr::InList {
            expr: Box::new(e),
            list,
            negated,
        }
    }

    fn b(v: Option<bool>) -> ScalarValue {
        ScalarValue::Boolean(v)
    }

    #[test]
    fn in_and_not_in_with_nulls() {
        let t = batch(vec![("x", Arc::new(Int64Array::from(vec![Some(1), Some(2), None])))]);
        let null = lit(ScalarValue::Int64(None));
        let cases = [
            (vec![lit(1i64), lit(3i64)], false, [Some(true), Some(false), None]),
            (vec![lit(1i64), lit(3i64)], true, [Some(false), Some(true), None]),
            (vec![lit(1i64), null.clone()], false, [Some(true), None, None]),
            (vec![lit(1i64), null.clone()], true, [Some(false), None, None]),
        ];
        for (list, negated, expected) in cases {
            let e = in_list(col("x"), list, negated);
            assert_eq!(values(&e, &t), expected.map(b).to_vec(), "{e}");
        }
    }

    #[test]
    fn in_list_over_dictionary_and_mixed_types() {
        let keys = Int32Array::from(vec![0, 1, 0]);
        let dict = DictionaryArray::<Int32Type>::try_new(keys, Arc::new(StringArray::from(vec!["a", "b"]))).unwrap();
        let t = batch(vec![
            ("d", Arc::new(dict)),
            ("i", Arc::new(Int32Array::from(vec![1, 2, 3]))),
        ]);
        let e = in_list(col("d"), vec![lit("b"), lit("c")], false);
        assert_eq!(values(&e, &t), vec![b(Some(false)), b(Some(true)), b(Some(false))]);
        let e = in_list(col("i"), vec![lit(3i64), col("i")], true);
        assert_eq!(values(&e, &t), vec![b(Some(false)); 3]);
    }
}
