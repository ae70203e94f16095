//! `CAST(e AS t)` and `TRY_CAST(e AS t)` with Arrow's cast kernel.
//!
//! `CAST` is strict: a value that does not convert (`'abc'` to an integer,
//! a decimal too wide for its precision) is an error naming the value and
//! both types. `TRY_CAST` turns such values into NULLs.

use std::fmt;
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Decimal128Array};
use arrow::compute::{CastOptions, can_cast_types, cast_with_options};
use arrow::datatypes::{
    ArrowPrimitiveType, DataType, Decimal128Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow::record_batch::RecordBatch;

use super::{ColumnarValue, PhysicalExpr, PhysicalExprRef};
use crate::error::{Error, Result};
use crate::logical::coercion::int_decimal_precision;
use crate::plan_err;

/// A cast to `to`; `safe` turns failures into NULLs (`TRY_CAST`).
#[derive(Debug)]
pub struct CastExpr {
    expr: PhysicalExprRef,
    to: DataType,
    safe: bool,
}

impl CastExpr {
    /// `CAST(expr AS to)` (or `TRY_CAST` when `safe`); fails when Arrow
    /// cannot cast between the two types at all.
    pub(crate) fn try_new(expr: PhysicalExprRef, to: DataType, safe: bool) -> Result<Self> {
        let from = expr.data_type();
        if !can_cast_types(from, &to) {
            plan_err!("cannot cast {from} to {to} in `{}`", Self::sql(&expr, &to, safe))
        }
        Ok(Self { expr, to, safe })
    }

    fn sql(expr: &PhysicalExprRef, to: &DataType, safe: bool) -> String {
        format!("{}({expr} AS {to})", if safe { "TRY_CAST" } else { "CAST" })
    }

    fn options(&self) -> CastOptions<'static> {
        CastOptions {
            safe: self.safe,
            ..Default::default()
        }
    }
}

impl fmt::Display for CastExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&Self::sql(&self.expr, &self.to, self.safe))
    }
}

impl PhysicalExpr for CastExpr {
    fn data_type(&self) -> &DataType {
        &self.to
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let value = self.expr.evaluate(batch)?;
        let from = value.data_type();
        let fail = |e: Error| {
            let detail = match e {
                Error::Arrow(a) => a.to_string(),
                Error::DataFusion(d) => d.to_string(),
                other => other.to_string(),
            };
            Error::Execution(format!("cannot cast {from} to {} in `{self}`: {detail}", self.to))
        };
        Ok(match value {
            // Same scale, more digits: every value fits as it is, so only
            // the type changes (coercion adds such casts around literals).
            ColumnarValue::Array(a)
                if matches!((a.data_type(), &self.to), (DataType::Decimal128(p1, s1), DataType::Decimal128(p2, s2))
                    if s1 == s2 && p1 <= p2) =>
            {
                let widened = a
                    .as_primitive::<Decimal128Type>()
                    .clone()
                    .with_data_type(self.to.clone());
                ColumnarValue::Array(Arc::new(widened))
            }
            ColumnarValue::Array(a) => match widen_integer(&a, &self.to) {
                Some(widened) => ColumnarValue::Array(widened),
                None => {
                    ColumnarValue::Array(cast_with_options(&a, &self.to, &self.options()).map_err(|e| fail(e.into()))?)
                }
            },
            ColumnarValue::Scalar(s) => ColumnarValue::Scalar(
                s.cast_to_with_options(&self.to, &self.options())
                    .map_err(|e| fail(e.into()))?,
            ),
        })
    }
}

/// Integer to `Decimal128(p, s)` when every value of the integer type fits
/// `p - s` digits: each value is widened and scaled, without the per-value
/// overflow and precision checks of Arrow's cast (which made
/// `CAST(int_column AS DECIMAL)` cost more than the arithmetic around it).
/// `None` when the cast can fail and Arrow's kernel must check.
fn widen_integer(a: &ArrayRef, to: &DataType) -> Option<ArrayRef> {
    let DataType::Decimal128(p, s) = *to else {
        return None;
    };
    let digits = int_decimal_precision(a.data_type())?;
    if s < 0 || i16::from(p) - i16::from(s) < i16::from(digits) {
        return None;
    }
    // At most p - s digits times 10^s stays within p <= 38 digits.
    let m = 10i128.pow(s as u32);
    fn scale<T: ArrowPrimitiveType>(a: &ArrayRef, m: i128) -> Decimal128Array
    where
        i128: From<T::Native>,
    {
        a.as_primitive::<T>().unary(|x| i128::from(x) * m)
    }
    let out = match a.data_type() {
        DataType::Int8 => scale::<Int8Type>(a, m),
        DataType::Int16 => scale::<Int16Type>(a, m),
        DataType::Int32 => scale::<Int32Type>(a, m),
        DataType::Int64 => scale::<Int64Type>(a, m),
        DataType::UInt8 => scale::<UInt8Type>(a, m),
        DataType::UInt16 => scale::<UInt16Type>(a, m),
        DataType::UInt32 => scale::<UInt32Type>(a, m),
        _ => scale::<UInt64Type>(a, m),
    };
    Some(Arc::new(out.with_data_type(to.clone())))
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, Date32Array, Decimal128Array, Int32Array, StringArray};
    use arrow::datatypes::DataType;
    use datafusion_common::ScalarValue;

    use crate::logical::{Expr, col, lit};
    use crate::physical::expr::test_util::{batch, eval, eval_err};

    fn strings() -> arrow::record_batch::RecordBatch {
        batch(vec![(
            "s",
            std::sync::Arc::new(StringArray::from(vec![Some("1.5"), Some("1995-03-15"), None])),
        )])
    }

    #[test]
    fn string_to_date_and_decimal() {
        let b = batch(vec![(
            "s",
            std::sync::Arc::new(StringArray::from(vec![Some("1995-03-15"), None])),
        )]);
        let d = eval(&col("s").cast_to(DataType::Date32), &b);
        let d = d.as_any().downcast_ref::<Date32Array>().unwrap();
        assert_eq!(d.value(0), 9204);
        assert!(d.is_null(1));

        let dec = eval(&lit("12.345").cast_to(DataType::Decimal128(10, 2)), &b);
        let dec = dec.as_any().downcast_ref::<Decimal128Array>().unwrap();
        assert_eq!(dec.value(0), 1235);
    }

    #[test]
    fn decimal_widening_keeps_values_and_narrowing_still_checks() {
        let values = Decimal128Array::from(vec![Some(12345), None])
            .with_precision_and_scale(5, 2)
            .unwrap();
        let b = batch(vec![("d", std::sync::Arc::new(values))]);
        let wide = eval(&col("d").cast_to(DataType::Decimal128(21, 2)), &b);
        assert_eq!(wide.data_type(), &DataType::Decimal128(21, 2));
        let wide = wide.as_any().downcast_ref::<Decimal128Array>().unwrap();
        assert_eq!((wide.value(0), wide.is_null(1)), (12345, true));
        let err = eval_err(&col("d").cast_to(DataType::Decimal128(3, 2)), &b);
        assert!(err.contains("Decimal128(3, 2)"), "{err}");
    }

    #[test]
    fn integer_to_wide_decimal_scales_and_narrow_decimal_still_checks() {
        let b = batch(vec![(
            "i",
            std::sync::Arc::new(arrow::array::Int32Array::from(vec![Some(i32::MIN), None, Some(7)])),
        )]);
        let d = eval(&col("i").cast_to(DataType::Decimal128(12, 2)), &b);
        assert_eq!(d.data_type(), &DataType::Decimal128(12, 2));
        let d = d.as_any().downcast_ref::<Decimal128Array>().unwrap();
        assert_eq!(
            d.iter().collect::<Vec<_>>(),
            vec![Some(i128::from(i32::MIN) * 100), None, Some(700)]
        );
        let err = eval_err(&col("i").cast_to(DataType::Decimal128(9, 0)), &b);
        assert!(err.contains("Decimal128(9, 0)"), "{err}");
        let u = batch(vec![(
            "u",
            std::sync::Arc::new(arrow::array::UInt64Array::from(vec![u64::MAX])),
        )]);
        let d = eval(&col("u").cast_to(DataType::Decimal128(20, 0)), &u);
        let d = d.as_any().downcast_ref::<Decimal128Array>().unwrap();
        assert_eq!(d.value(0), i128::from(u64::MAX));
    }

    #[test]
    fn failed_cast_names_value_and_types_but_try_cast_gives_null() {
        let b = strings();
        let err = eval_err(&col("s").cast_to(DataType::Int32), &b);
        assert!(
            err.contains("Utf8") && err.contains("Int32") && err.contains("1.5"),
            "{err}"
        );
        let t = eval(&Expr::TryCast(Box::new(col("s")), DataType::Int32), &b);
        assert_eq!(t.as_any().downcast_ref::<Int32Array>().unwrap().null_count(), 3);
        let overflow = eval_err(&lit(1000i64).cast_to(DataType::Int8), &b);
        assert!(overflow.contains("Int8"), "{overflow}");
    }

    #[test]
    fn impossible_cast_is_a_plan_error() {
        let schema = crate::physical::expr::test_util::schema_of(&strings());
        let e = Expr::Cast(Box::new(lit(ScalarValue::Boolean(Some(true)))), DataType::Date32);
        let err = crate::physical::expr::create_physical_expr(&e, &schema).unwrap_err();
        assert!(matches!(err, crate::Error::Plan { .. }), "{err}");
    }
}
