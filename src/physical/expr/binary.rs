//! `left op right`: arithmetic, comparisons and `||` (`AND`/`OR` are in
//! `logic`).
//!
//! The binder coerces operands to one type, so the kernels normally see
//! equal types; [`BinaryExpr::try_new`] still casts mixed string encodings,
//! dictionaries and NULL-typed operands so that a plan that skipped
//! coercion computes the right answer instead of failing in a kernel.
//! Arithmetic is checked: overflow and division by zero are errors that
//! name the expression as the user wrote it.

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, AsArray, BooleanArray};
use arrow::compute::kernels::{boolean, cmp, concat_elements, numeric};
use arrow::datatypes::{DataType, Decimal128Type, IntervalUnit};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use datafusion_common::ScalarValue;

use super::coerce::{cast_expr, common_type, comparable_as_is, is_string};
use super::kernels::{apply, compare};
use super::select::conform;
use super::{ColumnarValue, PhysicalExpr, PhysicalExprRef};
use crate::error::{Error, Result};
use crate::functions::DECIMAL128_MAX_PRECISION;
use crate::logical::Operator;
use crate::logical::expr_schema::binary_type;
use crate::plan_err;

/// How the operator is computed, chosen once at creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A checked `numeric` kernel.
    Arithmetic,
    /// A `cmp` kernel.
    Comparison,
    /// `||` on strings.
    Concat,
    /// An operand has type Null: every row is NULL.
    AllNull,
}

/// `left op right` over two physical expressions.
#[derive(Debug)]
pub struct BinaryExpr {
    left: PhysicalExprRef,
    op: Operator,
    right: PhysicalExprRef,
    kind: Kind,
    data_type: DataType,
    /// The expression as the user wrote it, for error messages.
    sql: String,
    /// Whether each operand must be parenthesized when displayed.
    parens: (bool, bool),
}

impl BinaryExpr {
    /// Builds `left op right`, casting operands where the kernels need one
    /// type. `sql` is the logical expression's text, used in errors.
    pub(crate) fn try_new(
        left: PhysicalExprRef,
        op: Operator,
        right: PhysicalExprRef,
        sql: String,
        parens: (bool, bool),
    ) -> Result<Self> {
        if matches!(op, Operator::And | Operator::Or) {
            return Err(Error::Internal(format!("{op} is planned as a LogicExpr")));
        }
        let (lt, rt) = (left.data_type().clone(), right.data_type().clone());
        let data_type = binary_type(&lt, op, &rt).map_err(|e| e.context(format!("in `{sql}`")))?;
        let (mut left, mut right) = (left, right);
        let kind = if op.is_comparison() {
            if !comparable_as_is(&lt, &rt) {
                let Some(t) = common_type(&lt, &rt) else {
                    plan_err!("cannot compare {lt} with {rt} in `{sql}`")
                };
                (left, right) = (cast_expr(left, &t)?, cast_expr(right, &t)?);
            }
            Kind::Comparison
        } else if op == Operator::StringConcat {
            let target = match common_type(&lt, &rt) {
                Some(t) if is_string(&t) => t,
                _ => DataType::Utf8,
            };
            (left, right) = (cast_expr(left, &target)?, cast_expr(right, &target)?);
            Kind::Concat
        } else if lt == DataType::Null || rt == DataType::Null {
            Kind::AllNull
        } else {
            for side in [&mut left, &mut right] {
                if let DataType::Dictionary(_, values) = side.data_type().clone() {
                    *side = cast_expr(Arc::clone(side), &values)?;
                }
            }
            if let (DataType::Interval(IntervalUnit::MonthDayNano), DataType::Interval(u)) = (&lt, &rt)
                && *u != IntervalUnit::MonthDayNano
            {
                // Arrow adds intervals of one unit only.
                right = cast_expr(right, &lt)?;
            }
            if op == Operator::Minus && lt == DataType::Date32 && rt == DataType::Date32 {
                // Days between two dates, as an integer (not a duration).
                (left, right) = (
                    cast_expr(cast_expr(left, &DataType::Int32)?, &DataType::Int64)?,
                    cast_expr(cast_expr(right, &DataType::Int32)?, &DataType::Int64)?,
                );
            }
            Kind::Arithmetic
        };
        Ok(Self {
            left,
            op,
            right,
            kind,
            data_type,
            sql,
            parens,
        })
    }

    fn arithmetic(&self, l: &ColumnarValue, r: &ColumnarValue) -> Result<ColumnarValue> {
        let kernel = match self.op {
            Operator::Plus => numeric::add,
            Operator::Minus => numeric::sub,
            Operator::Multiply => numeric::mul,
            Operator::Divide => numeric::div,
            Operator::Modulo => numeric::rem,
            other => return Err(Error::Internal(format!("{other} is not arithmetic"))),
        };
        if matches!(self.op, Operator::Divide | Operator::Modulo)
            && matches!(r.data_type(), DataType::Float16 | DataType::Float32 | DataType::Float64)
        {
            // IEEE division by zero gives inf/NaN; SQL reports it instead,
            // as the integer and decimal kernels do.
            self.check_float_divisor(l, r)?;
        }
        if let Some(out) = super::decimal::arithmetic(self.op, l, r, &self.data_type) {
            return out.map_err(|e| self.arithmetic_error(e));
        }
        let out = self.conform(apply(l, r, kernel).map_err(|e| self.arithmetic_error(e))?)?;
        if let DataType::Decimal128(p @ DECIMAL128_MAX_PRECISION, _) = self.data_type {
            // Below the maximum the result type always has room; at the cap
            // the kernel can produce values with too many digits.
            let array = match &out {
                ColumnarValue::Array(a) => Arc::clone(a),
                ColumnarValue::Scalar(s) => s.to_array()?,
            };
            array
                .as_primitive::<Decimal128Type>()
                .validate_decimal_precision(p)
                .map_err(|e| self.arithmetic_error(Error::Arrow(ArrowError::ArithmeticOverflow(e.to_string()))))?;
        }
        Ok(out)
    }

    fn check_float_divisor(&self, l: &ColumnarValue, r: &ColumnarValue) -> Result<()> {
        let zero = ScalarValue::new_zero(&r.data_type())?.to_scalar()?;
        let is_zero = cmp::eq(&r.to_datum()?, &zero)?;
        if is_zero.true_count() == 0 {
            return Ok(());
        }
        // NULL / 0 is NULL, not an error.
        let hit = match l {
            ColumnarValue::Scalar(s) => !s.is_null(),
            ColumnarValue::Array(a) => match a.logical_nulls() {
                None => true,
                Some(nulls) => {
                    let valid = BooleanArray::new(nulls.inner().clone(), None);
                    let both = if is_zero.len() == valid.len() {
                        boolean::and(&is_zero, &valid)?
                    } else {
                        valid
                    };
                    both.true_count() > 0
                }
            },
        };
        if hit {
            return Err(self.arithmetic_error(Error::Arrow(ArrowError::DivideByZero)));
        }
        Ok(())
    }

    fn arithmetic_error(&self, e: Error) -> Error {
        match e {
            Error::Arrow(ArrowError::DivideByZero) => Error::Execution(format!("division by zero in `{}`", self.sql)),
            Error::Arrow(ArrowError::ArithmeticOverflow(m)) => {
                Error::Execution(format!("numeric overflow in `{}`: {m}", self.sql))
            }
            other => other.context(format!("evaluating `{}`", self.sql)),
        }
    }

    /// Casts a kernel's result to the planned type where the kernel's
    /// own choice differs (e.g. decimal precision of `%`).
    fn conform(&self, v: ColumnarValue) -> Result<ColumnarValue> {
        conform(v, &self.data_type)
    }

    fn concat(&self, l: ColumnarValue, r: ColumnarValue, num_rows: usize) -> Result<ColumnarValue> {
        let null = |v: &ColumnarValue| matches!(v, ColumnarValue::Scalar(s) if s.is_null());
        if null(&l) || null(&r) {
            return Ok(ColumnarValue::Scalar(ScalarValue::Utf8(None)));
        }
        let all_scalar = l.is_scalar() && r.is_scalar();
        let n = if all_scalar { 1 } else { num_rows };
        let out = concat_elements::concat_elements_dyn(&l.into_array(n)?, &r.into_array(n)?)?;
        self.conform(ColumnarValue::from_kernel(out, all_scalar)?)
    }
}

impl fmt::Display for BinaryExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = |f: &mut fmt::Formatter<'_>, e: &PhysicalExprRef, paren: bool| {
            if paren { write!(f, "({e})") } else { write!(f, "{e}") }
        };
        side(f, &self.left, self.parens.0)?;
        write!(f, " {} ", self.op)?;
        side(f, &self.right, self.parens.1)
    }
}

impl PhysicalExpr for BinaryExpr {
    fn data_type(&self) -> &DataType {
        &self.data_type
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        if self.kind == Kind::AllNull {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_new_null(&self.data_type)?));
        }
        let l = self.left.evaluate(batch)?;
        let r = self.right.evaluate(batch)?;
        match self.kind {
            Kind::Arithmetic => self.arithmetic(&l, &r),
            Kind::Comparison => compare(self.op, &l, &r).map_err(|e| e.context(format!("evaluating `{}`", self.sql))),
            Kind::Concat => self.concat(l, r, batch.num_rows()),
            Kind::AllNull => Ok(ColumnarValue::Scalar(ScalarValue::try_new_null(&self.data_type)?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        Date32Array, Decimal128Array, DictionaryArray, Float64Array, Int32Array, Int64Array, LargeStringArray,
        StringArray, StringViewArray, TimestampNanosecondArray,
    };
    use arrow::datatypes::{Int8Type, IntervalDayTime, IntervalMonthDayNano};
    use datafusion_common::ScalarValue;

    use crate::logical::{Expr, Operator, col, lit};
    use crate::physical::expr::test_util::{batch, eval_err, one_row, schema_of, values};
    use crate::physical::expr::{ColumnarValue, create_physical_expr};

    fn b(v: Option<bool>) -> ScalarValue {
        ScalarValue::Boolean(v)
    }

    fn bin(l: Expr, op: Operator, r: Expr) -> Expr {
        l.binary(op, r)
    }

    #[test]
    fn comparisons_and_distinct_from() {
        let t = batch(vec![
            ("x", Arc::new(Int64Array::from(vec![Some(1), Some(2), None]))),
            ("y", Arc::new(Int64Array::from(vec![Some(1), None, None]))),
        ]);
        let cases = [
            (Operator::Eq, [Some(true), None, None]),
            (Operator::NotEq, [Some(false), None, None]),
            (Operator::Lt, [Some(false), None, None]),
            (Operator::GtEq, [Some(true), None, None]),
            (Operator::IsDistinctFrom, [Some(false), Some(true), Some(false)]),
            (Operator::IsNotDistinctFrom, [Some(true), Some(false), Some(true)]),
        ];
        for (op, want) in cases {
            assert_eq!(values(&bin(col("x"), op, col("y")), &t), want.map(b).to_vec(), "{op}");
        }
        let vs_null = bin(col("x"), Operator::Lt, lit(ScalarValue::Null));
        assert_eq!(values(&vs_null, &t), vec![b(None); 3]);
    }

    #[test]
    fn mixed_string_encodings_and_dictionaries() {
        let dict: DictionaryArray<Int8Type> = vec!["a", "b", "a"].into_iter().collect();
        let t = batch(vec![
            ("u", Arc::new(StringArray::from(vec!["a", "b", "c"]))),
            ("v", Arc::new(StringViewArray::from(vec![Some("a"), Some("x"), None]))),
            ("l", Arc::new(LargeStringArray::from(vec!["b", "a", "c"]))),
            ("d", Arc::new(dict)),
        ]);
        let eq = values(&col("u").eq(col("v")), &t);
        assert_eq!(eq, vec![b(Some(true)), b(Some(false)), b(None)]);
        let lt = values(&bin(col("u"), Operator::Lt, col("l")), &t);
        assert_eq!(lt, vec![b(Some(true)), b(Some(false)), b(Some(false))]);
        let d = values(&col("d").eq(col("u")), &t);
        assert_eq!(d, vec![b(Some(true)), b(Some(true)), b(Some(false))]);
        let d = values(&col("d").eq(lit("b")), &t);
        assert_eq!(d, vec![b(Some(false)), b(Some(true)), b(Some(false))]);
        let s = |v: Option<&str>| ScalarValue::Utf8(v.map(String::from));
        let cat = values(&bin(col("v"), Operator::StringConcat, col("u")), &t);
        assert_eq!(cat, vec![s(Some("aa")), s(Some("xb")), s(None)]);
        let cat = values(&bin(col("u"), Operator::StringConcat, lit(1i64)), &t);
        assert_eq!(cat, vec![s(Some("a1")), s(Some("b1")), s(Some("c1"))]);
        let cat = values(&bin(col("u"), Operator::StringConcat, lit(ScalarValue::Utf8(None))), &t);
        assert_eq!(cat, vec![s(None); 3]);
    }

    #[test]
    fn decimal_arithmetic_types_and_values() {
        let a = Decimal128Array::from(vec![Some(1050), None])
            .with_precision_and_scale(15, 2)
            .unwrap();
        let c = Decimal128Array::from(vec![Some(3), Some(1)])
            .with_precision_and_scale(10, 0)
            .unwrap();
        let t = batch(vec![("a", Arc::new(a)), ("c", Arc::new(c))]);
        let dec = |v: Option<i128>, p, s| ScalarValue::Decimal128(v, p, s);
        // 10.50 + 3 = 13.50, 10.50 * 3 = 31.50, 10.50 / 3 = 3.500000, 10.50 % 3 = 1.50
        let cases = [
            (Operator::Plus, dec(Some(1350), 16, 2)),
            (Operator::Minus, dec(Some(750), 16, 2)),
            (Operator::Multiply, dec(Some(3150), 26, 2)),
            (Operator::Divide, dec(Some(3500000), 19, 6)),
            (Operator::Modulo, dec(Some(150), 15, 2)),
        ];
        for (op, want) in cases {
            let got = values(&bin(col("a"), op, col("c")), &t);
            let ScalarValue::Decimal128(_, p, s) = want else {
                unreachable!()
            };
            assert_eq!(got, vec![want.clone(), dec(None, p, s)], "{op}");
        }
    }

    #[test]
    fn date_and_timestamp_arithmetic() {
        let t = batch(vec![
            ("d", Arc::new(Date32Array::from(vec![9204, 9234]))), // 1995-03-15, 1995-04-14
            (
                "ts",
                Arc::new(TimestampNanosecondArray::from(vec![0, 86_400_000_000_000])),
            ),
        ]);
        let date = |v| ScalarValue::Date32(Some(v));
        let ym = lit(ScalarValue::IntervalYearMonth(Some(1)));
        assert_eq!(
            values(&bin(col("d"), Operator::Plus, ym.clone()), &t),
            vec![date(9235), date(9264)]
        );
        assert_eq!(
            values(&bin(ym, Operator::Plus, col("d")), &t),
            vec![date(9235), date(9264)]
        );
        let dt = lit(ScalarValue::IntervalDayTime(Some(IntervalDayTime::new(3, 0))));
        assert_eq!(
            values(&bin(col("d"), Operator::Minus, dt), &t),
            vec![date(9201), date(9231)]
        );
        let mdn = lit(ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano::new(
            0, 1, 0,
        ))));
        assert_eq!(
            values(&bin(col("d"), Operator::Plus, mdn.clone()), &t),
            vec![date(9205), date(9235)]
        );
        let mixed = bin(
            mdn.clone(),
            Operator::Plus,
            lit(ScalarValue::IntervalYearMonth(Some(2))),
        );
        let want = ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano::new(2, 1, 0)));
        assert_eq!(values(&mixed, &t), vec![want.clone(), want]);
        let days = values(
            &bin(col("d"), Operator::Minus, lit(ScalarValue::Date32(Some(9204)))),
            &t,
        );
        assert_eq!(days, vec![ScalarValue::Int64(Some(0)), ScalarValue::Int64(Some(30))]);
        let ts = |v| ScalarValue::TimestampNanosecond(Some(v), None);
        let day = 86_400_000_000_000;
        assert_eq!(
            values(&bin(col("ts"), Operator::Plus, mdn), &t),
            vec![ts(day), ts(2 * day)]
        );
    }

    #[test]
    fn division_by_zero_and_overflow_name_the_expression() {
        let t = batch(vec![
            ("a", Arc::new(Int32Array::from(vec![Some(1), None]))),
            ("z", Arc::new(Int32Array::from(vec![Some(0), Some(0)]))),
            ("f", Arc::new(Float64Array::from(vec![Some(1.0), None]))),
            ("fz", Arc::new(Float64Array::from(vec![Some(0.0), Some(0.0)]))),
        ]);
        for (l, op, r) in [
            ("a", Operator::Divide, "z"),
            ("a", Operator::Modulo, "z"),
            ("f", Operator::Divide, "fz"),
        ] {
            let err = eval_err(&bin(col(l), op, col(r)), &t);
            assert_eq!(err, format!("division by zero in `{l} {op} {r}`"));
        }
        let dec = lit(ScalarValue::Decimal128(Some(100), 5, 2));
        let zero = lit(ScalarValue::Decimal128(Some(0), 5, 2));
        assert!(eval_err(&bin(dec, Operator::Divide, zero), &t).starts_with("division by zero"));
        // NULL / 0 is NULL.
        let null_row = batch(vec![
            ("a", Arc::new(Int32Array::from(vec![None]))),
            ("f", Arc::new(Float64Array::from(vec![None]))),
        ]);
        assert_eq!(
            values(&bin(col("a"), Operator::Divide, lit(0i32)), &null_row),
            vec![ScalarValue::Int32(None)]
        );
        assert_eq!(
            values(&bin(col("f"), Operator::Divide, lit(0.0)), &null_row),
            vec![ScalarValue::Float64(None)]
        );
        let big = lit(ScalarValue::Decimal128(Some(10i128.pow(37) * 9), 38, 0));
        let err = eval_err(&bin(big.clone(), Operator::Plus, big), &t);
        assert!(err.starts_with("numeric overflow in `"), "{err}");
        let err = eval_err(&bin(lit(i64::MAX), Operator::Plus, lit(1i64)), &t);
        assert!(
            err.starts_with("numeric overflow in `9223372036854775807 + 1`"),
            "{err}"
        );
    }

    #[test]
    fn scalars_stay_scalars_and_display_has_positions() {
        let t = batch(vec![
            ("a", Arc::new(Int64Array::from(vec![1, 2]))),
            ("b", Arc::new(Int64Array::from(vec![3, 4]))),
        ]);
        let schema = schema_of(&t);
        let e = create_physical_expr(&bin(lit(1i64), Operator::Plus, lit(2i64)), &schema).unwrap();
        assert!(matches!(
            e.evaluate(&t).unwrap(),
            ColumnarValue::Scalar(ScalarValue::Int64(Some(3)))
        ));
        let sum = bin(col("a"), Operator::Plus, col("b"));
        let e = create_physical_expr(&bin(sum, Operator::Multiply, lit(2i64)), &schema).unwrap();
        assert_eq!(e.to_string(), "(a@0 + b@1) * 2");
        let e = create_physical_expr(&bin(col("b"), Operator::Lt, lit(24i64)), &schema).unwrap();
        assert_eq!(e.to_string(), "b@1 < 24");
        assert!(matches!(e.evaluate(&one_row()), Err(crate::Error::Internal(_))));
        let e = bin(col("a"), Operator::Minus, bin(col("b"), Operator::Minus, lit(1i64)));
        assert_eq!(
            create_physical_expr(&e, &schema).unwrap().to_string(),
            "a@0 - (b@1 - 1)"
        );
    }
}
