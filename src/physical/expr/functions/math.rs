//! Numeric functions.
//!
//! `abs`, `sign`, `ceil`, `floor`, `round` and `trunc` keep their
//! argument's type; on `Decimal128` they work on the unscaled integers, so
//! `round(2.345::decimal(10,3), 2)` is exactly `2.350` (still scale 3).
//! Rounding is half away from zero, as in PostgreSQL. The other functions
//! compute on Float64. Like PostgreSQL (and DuckDB), arguments outside a
//! function's domain are errors rather than NaN: `sqrt` of a negative
//! number, a logarithm of zero or a negative number, zero to a negative
//! power, a negative number to a fractional power.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, ArrowNativeTypeOp, AsArray, Float64Array, PrimitiveArray, downcast_integer};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{ArrowPrimitiveType, DataType, Decimal128Type, Float32Type, Float64Type, Int64Type};
use datafusion_common::ScalarValue;

use super::FunctionImpl;
use super::args::{arg, build_floats, finish, floats, ints, shape};
use crate::error::{Error, Result};
use crate::exec_err;
use crate::functions::ScalarFunction;
use crate::physical::expr::ColumnarValue;

/// How `round`-like functions drop digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    HalfAway,
    TowardZero,
    Up,
    Down,
}

pub(super) fn implementation(fun: ScalarFunction) -> FunctionImpl {
    use ScalarFunction::*;
    match fun {
        Abs => Arc::new(|a, _| unary_same(arg(a, 0)?, abs)),
        Sign => Arc::new(|a, _| unary_same(arg(a, 0)?, sign)),
        Ceil => Arc::new(|a, n| rounding(a, n, Mode::Up)),
        Floor => Arc::new(|a, n| rounding(a, n, Mode::Down)),
        Round => Arc::new(|a, n| rounding(a, n, Mode::HalfAway)),
        Trunc => Arc::new(|a, n| rounding(a, n, Mode::TowardZero)),
        Sqrt => Arc::new(|a, n| {
            float_fn(a, n, |x| {
                if x < 0.0 {
                    exec_err!("cannot take square root of a negative number")
                }
                Ok(x.sqrt())
            })
        }),
        Cbrt => Arc::new(|a, n| float_fn(a, n, |x| Ok(x.cbrt()))),
        Exp => Arc::new(|a, n| float_fn(a, n, |x| Ok(x.exp()))),
        Ln => Arc::new(|a, n| float_fn(a, n, |x| log_of(x).map(|_| x.ln()))),
        Log10 => Arc::new(|a, n| float_fn(a, n, |x| log_of(x).map(|_| x.log10()))),
        Log2 => Arc::new(|a, n| float_fn(a, n, |x| log_of(x).map(|_| x.log2()))),
        Log => Arc::new(|a, n| {
            if a.len() == 1 {
                return float_fn(a, n, |x| log_of(x).map(|_| x.log10()));
            }
            float_fn2(a, n, |b, x| {
                log_of(b)?;
                log_of(x)?;
                let lb = b.ln();
                if lb == 0.0 {
                    exec_err!("division by zero: logarithm to base 1")
                }
                Ok(x.ln() / lb)
            })
        }),
        Power => Arc::new(|a, n| float_fn2(a, n, power)),
        Pi => Arc::new(|_, _| Ok(ColumnarValue::Scalar(ScalarValue::Float64(Some(std::f64::consts::PI))))),
        Random => Arc::new(|_, n| {
            let values: Vec<f64> = (0..n).map(|_| rand::random::<f64>()).collect();
            Ok(ColumnarValue::Array(Arc::new(Float64Array::from(values))))
        }),
        other => Arc::new(move |_, _| Err(Error::Internal(format!("{other} is not a math function")))),
    }
}

/// Checks that `x` has a logarithm.
fn log_of(x: f64) -> Result<()> {
    if x == 0.0 {
        exec_err!("cannot take logarithm of zero")
    } else if x < 0.0 {
        exec_err!("cannot take logarithm of a negative number")
    }
    Ok(())
}

fn power(base: f64, exp: f64) -> Result<f64> {
    if base == 0.0 && exp < 0.0 {
        exec_err!("zero raised to a negative power is undefined")
    }
    if base < 0.0 && exp.fract() != 0.0 {
        exec_err!("a negative number raised to a non-integer power yields a complex result")
    }
    Ok(base.powf(exp))
}

/// A Float64 function of one argument, NULL on NULL.
fn float_fn(args: &[ColumnarValue], n: usize, f: impl Fn(f64) -> Result<f64>) -> Result<ColumnarValue> {
    let (len, scalar) = shape(args, n);
    let x = floats(arg(args, 0)?)?;
    finish(build_floats(len, |i| x.get(i).map(&f).transpose())?, scalar)
}

/// A Float64 function of two arguments, NULL if either is NULL.
fn float_fn2(args: &[ColumnarValue], n: usize, f: impl Fn(f64, f64) -> Result<f64>) -> Result<ColumnarValue> {
    let (len, scalar) = shape(args, n);
    let (x, y) = (floats(arg(args, 0)?)?, floats(arg(args, 1)?)?);
    finish(
        build_floats(len, |i| match (x.get(i), y.get(i)) {
            (Some(a), Some(b)) => f(a, b).map(Some),
            _ => Ok(None),
        })?,
        scalar,
    )
}

/// Applies a type-preserving array function to a value.
fn unary_same(v: &ColumnarValue, f: fn(&ArrayRef) -> Result<ArrayRef>) -> Result<ColumnarValue> {
    let out = f(&v.clone().into_array(1)?)?;
    finish(out, v.is_scalar())
}

fn overflow() -> arrow::error::ArrowError {
    arrow::error::ArrowError::ArithmeticOverflow("value out of range".into())
}

fn abs_of<T: ArrowPrimitiveType>(a: &PrimitiveArray<T>) -> Result<ArrayRef> {
    let out: PrimitiveArray<T> = a.try_unary(|x| {
        if x.is_lt(T::Native::ZERO) {
            x.neg_checked().map_err(|_| overflow())
        } else {
            Ok(x)
        }
    })?;
    Ok(Arc::new(out.with_data_type(a.data_type().clone())))
}

fn abs(a: &ArrayRef) -> Result<ArrayRef> {
    macro_rules! int {
        ($t:ty) => {
            abs_of(a.as_primitive::<$t>())
        };
    }
    downcast_integer! {
        a.data_type() => (int),
        DataType::Float32 => abs_of(a.as_primitive::<Float32Type>()),
        DataType::Float64 => abs_of(a.as_primitive::<Float64Type>()),
        DataType::Decimal128(..) => abs_of(a.as_primitive::<Decimal128Type>()),
        other => Err(Error::Internal(format!("abs of {other}"))),
    }
}

fn sign(a: &ArrayRef) -> Result<ArrayRef> {
    fn of<T: ArrowPrimitiveType>(a: &PrimitiveArray<T>, one: T::Native) -> ArrayRef {
        let zero = T::Native::ZERO;
        let out: PrimitiveArray<T> = a.unary(|x| {
            if x.is_lt(zero) {
                zero.sub_wrapping(one)
            } else if x.is_gt(zero) {
                one
            } else {
                x // zero, or NaN
            }
        });
        Arc::new(out.with_data_type(a.data_type().clone()))
    }
    macro_rules! int {
        ($t:ty) => {
            Ok(of(
                a.as_primitive::<$t>(),
                <$t as ArrowPrimitiveType>::Native::ONE,
            ))
        };
    }
    downcast_integer! {
        a.data_type() => (int),
        DataType::Float32 => Ok(of(a.as_primitive::<Float32Type>(), 1.0)),
        DataType::Float64 => Ok(of(a.as_primitive::<Float64Type>(), 1.0)),
        DataType::Decimal128(p, s) => {
            let one = pow10(*s as i32).filter(|_| *s >= 0).unwrap_or(1);
            let out = of(a.as_primitive::<Decimal128Type>(), one);
            out.as_primitive::<Decimal128Type>().validate_decimal_precision(*p)?;
            Ok(out)
        }
        other => Err(Error::Internal(format!("sign of {other}"))),
    }
}

/// `10^e` as i128, `None` beyond 10^38.
fn pow10(e: i32) -> Option<i128> {
    if !(0..=38).contains(&e) {
        return None;
    }
    Some(10i128.pow(e as u32))
}

/// Drops the last `digits` decimal digits of an unscaled integer `x`.
fn round_int(x: i128, digits: i64, mode: Mode) -> Option<i128> {
    if digits <= 0 {
        return Some(x);
    }
    let Some(m) = pow10(digits as i32) else {
        // Every digit dropped: only rounding up can leave something, and
        // that would exceed any precision.
        return match mode {
            Mode::Up if x > 0 => None,
            Mode::Down if x < 0 => None,
            _ => Some(0),
        };
    };
    let (q, r) = (x / m, x % m);
    let q = match mode {
        Mode::HalfAway if r.unsigned_abs() * 2 >= m as u128 => q + x.signum(),
        Mode::Up if r > 0 => q + 1,
        Mode::Down if r < 0 => q - 1,
        _ => q,
    };
    q.checked_mul(m)
}

fn round_float(x: f64, digits: i64, mode: Mode) -> f64 {
    let apply = |v: f64| match mode {
        Mode::HalfAway => v.round(),
        Mode::TowardZero => v.trunc(),
        Mode::Up => v.ceil(),
        Mode::Down => v.floor(),
    };
    if digits == 0 {
        return apply(x);
    }
    let m = 10f64.powi(digits.clamp(-400, 400) as i32);
    let scaled = x * m;
    if !scaled.is_finite() || m == 0.0 {
        return x;
    }
    apply(scaled) / m
}

/// `ceil`, `floor`, `round`, `trunc` with optional digits (argument 1).
fn rounding(args: &[ColumnarValue], n: usize, mode: Mode) -> Result<ColumnarValue> {
    let (len, scalar) = shape(args, n);
    let digits = match args.get(1) {
        Some(d) => Some(ints(d)?),
        None => None,
    };
    let digits_at = |i: usize| match &digits {
        Some(d) => d.get(i),
        None => Some(0),
    };
    let x = arg(args, 0)?.clone().into_array(len)?;
    let t = x.data_type().clone();
    let out: ArrayRef = match &t {
        DataType::Float32 | DataType::Float64 => {
            let x64 = arrow::compute::cast(&x, &DataType::Float64)?;
            let x64 = x64.as_primitive::<Float64Type>();
            let out = build_floats(len, |i| {
                Ok(match (x64.is_valid(i), digits_at(i)) {
                    (true, Some(d)) => Some(round_float(x64.value(i), d, mode)),
                    _ => None,
                })
            })?;
            arrow::compute::cast(&out, &t)?
        }
        DataType::Decimal128(p, s) => {
            let xs = x.as_primitive::<Decimal128Type>();
            let values = (0..len)
                .map(|i| match (xs.is_valid(i), digits_at(i)) {
                    (true, Some(d)) => round_int(xs.value(i), (*s as i64).saturating_sub(d), mode)
                        .map(Some)
                        .ok_or_else(overflow),
                    _ => Ok(None),
                })
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let out = PrimitiveArray::<Decimal128Type>::from(values).with_precision_and_scale(*p, *s)?;
            out.validate_decimal_precision(*p)?;
            Arc::new(out)
        }
        t if t.is_integer() => {
            let wide = arrow::compute::cast(&x, &DataType::Int64)?;
            let wide = wide.as_primitive::<Int64Type>();
            let values = (0..len)
                .map(|i| match (wide.is_valid(i), digits_at(i)) {
                    (true, Some(d)) => round_int(wide.value(i) as i128, d.saturating_neg(), mode)
                        .and_then(|v| i64::try_from(v).ok())
                        .map(Some)
                        .ok_or_else(overflow),
                    _ => Ok(None),
                })
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let opts = CastOptions {
                safe: false,
                ..Default::default()
            };
            cast_with_options(&PrimitiveArray::<Int64Type>::from(values), t, &opts)?
        }
        other => return Err(Error::Internal(format!("rounding of {other}"))),
    };
    finish(out, scalar)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Array, AsArray, Decimal128Array, Float64Array, Int32Array};
    use arrow::datatypes::Float64Type;
    use datafusion_common::ScalarValue;

    use crate::functions::ScalarFunction as F;
    use crate::logical::{Expr, col, lit};
    use crate::physical::expr::test_util::{batch, eval, eval_err, values};

    fn call(f: F, args: Vec<Expr>) -> Expr {
        Expr::ScalarFunction(f, args)
    }

    fn t() -> arrow::record_batch::RecordBatch {
        let d = Decimal128Array::from(vec![Some(125), Some(-125), None, Some(9999)])
            .with_precision_and_scale(6, 2)
            .unwrap();
        batch(vec![
            (
                "i",
                Arc::new(Int32Array::from(vec![Some(-3), Some(1250), None, Some(0)])),
            ),
            (
                "f",
                Arc::new(Float64Array::from(vec![Some(2.5), Some(-2.5), None, Some(0.0)])),
            ),
            ("d", Arc::new(d)),
        ])
    }

    #[test]
    fn type_preserving_functions() {
        let i = |v: Option<i32>| ScalarValue::Int32(v);
        let f = |v: Option<f64>| ScalarValue::Float64(v);
        let d = |v: Option<i128>| ScalarValue::Decimal128(v, 6, 2);
        let cases: Vec<(Expr, Vec<ScalarValue>)> = vec![
            (
                call(F::Abs, vec![col("i")]),
                vec![i(Some(3)), i(Some(1250)), i(None), i(Some(0))],
            ),
            (
                call(F::Abs, vec![col("d")]),
                vec![d(Some(125)), d(Some(125)), d(None), d(Some(9999))],
            ),
            (
                call(F::Sign, vec![col("f")]),
                vec![f(Some(1.0)), f(Some(-1.0)), f(None), f(Some(0.0))],
            ),
            (
                call(F::Sign, vec![col("d")]),
                vec![d(Some(100)), d(Some(-100)), d(None), d(Some(100))],
            ),
            (
                call(F::Round, vec![col("f")]),
                vec![f(Some(3.0)), f(Some(-3.0)), f(None), f(Some(0.0))],
            ),
            (
                call(F::Ceil, vec![col("f")]),
                vec![f(Some(3.0)), f(Some(-2.0)), f(None), f(Some(0.0))],
            ),
            (
                call(F::Floor, vec![col("f")]),
                vec![f(Some(2.0)), f(Some(-3.0)), f(None), f(Some(0.0))],
            ),
            (
                call(F::Trunc, vec![col("f")]),
                vec![f(Some(2.0)), f(Some(-2.0)), f(None), f(Some(0.0))],
            ),
            // 1.25 / -1.25 at one digit: half away from zero, toward zero, up, down.
            (
                call(F::Round, vec![col("d"), lit(1i64)]),
                vec![d(Some(130)), d(Some(-130)), d(None), d(Some(10000))],
            ),
            (
                call(F::Trunc, vec![col("d"), lit(1i64)]),
                vec![d(Some(120)), d(Some(-120)), d(None), d(Some(9990))],
            ),
            (
                call(F::Floor, vec![col("d")]),
                vec![d(Some(100)), d(Some(-200)), d(None), d(Some(9900))],
            ),
            (
                call(F::Round, vec![col("i"), lit(-2i64)]),
                vec![i(Some(0)), i(Some(1300)), i(None), i(Some(0))],
            ),
            (
                call(F::Round, vec![col("i"), lit(ScalarValue::Int64(None))]),
                vec![i(None); 4],
            ),
        ];
        let t = t();
        for (e, want) in cases {
            assert_eq!(values(&e, &t), want, "{e}");
        }
        let r = values(&call(F::Round, vec![lit(2.345f64), lit(1i64)]), &t);
        assert_eq!(r[0], f(Some(2.3)));
        // Extreme digit counts neither panic nor overflow.
        for digits in [i64::MIN, -40, 40, i64::MAX] {
            let e = call(F::Round, vec![col("d"), lit(digits)]);
            let got = values(&e, &t);
            assert_eq!(got[1], d(if digits < 0 { Some(0) } else { Some(-125) }), "{e}");
            let e = call(F::Trunc, vec![col("i"), lit(digits)]);
            assert_eq!(values(&e, &t)[1], i(Some(if digits < 0 { 0 } else { 1250 })), "{e}");
            let e = call(F::Round, vec![col("f"), lit(digits)]);
            assert!(matches!(values(&e, &t)[0], ScalarValue::Float64(Some(_))), "{e}");
        }
    }

    #[test]
    fn range_errors() {
        let t = t();
        let min = batch(vec![("m", Arc::new(Int32Array::from(vec![i32::MIN])))]);
        assert!(eval_err(&call(F::Abs, vec![col("m")]), &min).contains("abs(m@0)"));
        // ceil(99.99) needs 5 digits in a decimal(6,2)... fits; in decimal(4,2) it does not.
        let narrow = batch(vec![(
            "n",
            Arc::new(
                Decimal128Array::from(vec![9999])
                    .with_precision_and_scale(4, 2)
                    .unwrap(),
            ),
        )]);
        assert!(eval_err(&call(F::Ceil, vec![col("n")]), &narrow).contains("ceil"));
        for (e, msg) in [
            (call(F::Sqrt, vec![lit(-1i64)]), "square root of a negative number"),
            (call(F::Ln, vec![lit(0.0)]), "logarithm of zero"),
            (call(F::Log10, vec![lit(-1.0)]), "logarithm of a negative number"),
            (call(F::Log, vec![lit(1.0), lit(8.0)]), "base 1"),
            (
                call(F::Power, vec![lit(0.0), lit(-1.0)]),
                "zero raised to a negative power",
            ),
            (call(F::Power, vec![lit(-8.0), lit(0.5)]), "complex"),
        ] {
            let err = eval_err(&e, &t);
            assert!(err.contains(msg), "{e}: {err}");
        }
    }

    #[test]
    fn float_functions() {
        let t = t();
        let f = |v: f64| ScalarValue::Float64(Some(v));
        let cases = [
            (call(F::Sqrt, vec![lit(16i32)]), 4.0),
            (call(F::Cbrt, vec![lit(27.0)]), 3.0),
            (call(F::Exp, vec![lit(0i64)]), 1.0),
            (call(F::Ln, vec![lit(1.0)]), 0.0),
            (call(F::Log10, vec![lit(1000.0)]), 3.0),
            (call(F::Log2, vec![lit(8i64)]), 3.0),
            (call(F::Log, vec![lit(100.0)]), 2.0),
            (call(F::Log, vec![lit(2i64), lit(8.0)]), 3.0),
            (call(F::Power, vec![lit(2i64), lit(10i64)]), 1024.0),
            (call(F::Power, vec![lit(-2.0), lit(3.0)]), -8.0),
            (call(F::Pi, vec![]), std::f64::consts::PI),
        ];
        for (e, want) in cases {
            let got = values(&e, &t)[0].clone();
            let ScalarValue::Float64(Some(g)) = got else {
                panic!("{e}: {got:?}")
            };
            assert!((g - want).abs() < 1e-12, "{e}: {g} != {want}");
        }
        let abs = call(F::Abs, vec![col("f")]);
        assert_eq!(values(&call(F::Sqrt, vec![abs]), &t)[2], ScalarValue::Float64(None));
        assert_eq!(values(&call(F::Power, vec![col("f"), lit(2.0)]), &t)[0], f(6.25));
        let r = eval(&call(F::Random, vec![]), &t);
        let r = r.as_primitive::<Float64Type>();
        assert_eq!(r.null_count(), 0);
        assert!(r.values().iter().all(|v| (0.0..1.0).contains(v)));
        assert!(r.values().windows(2).any(|w| w[0] != w[1]));
    }
}
