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
                domain(x >= 0.0, x.sqrt(), "cannot take square root of a negative number")
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

fn domain(ok: bool, value: f64, message: &str) -> Result<f64> {
    if ok || value.is_nan() {
        Ok(value)
    } else {
        Err(Error::Execution(message.to_string()))
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
                    (true, Some(d)) => round_int(xs.value(i), *s as i64 - d, mode)
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
                    (true, Some(d)) => round_int(wide.value(i) as i128, -d, mode)
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
