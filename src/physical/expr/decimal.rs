//! Fast `+`, `-` and `*` on `Decimal128` values.
//!
//! Arrow's decimal kernels check every element through a fallible closure
//! and validate the result's precision in a second pass; on TPC-H style
//! money arithmetic (`price * (1 - discount)`) that is most of a query's
//! expression time. Here, when every operand fits i64 (money columns do),
//! each element is one widening multiply that cannot overflow; otherwise
//! one wrapping i128 operation. Either way the overflow flag and precision
//! check are OR-ed into an accumulator, so the loop has no branch; only
//! when the flag is set are the valid rows checked one by one, so NULL slots
//! holding arbitrary values never raise a false overflow.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Decimal128Array};
use arrow::buffer::{NullBuffer, ScalarBuffer};
use arrow::datatypes::{DataType, Decimal128Type};
use datafusion_common::ScalarValue;

use super::ColumnarValue;
use crate::error::{Error, Result};
use crate::functions::DECIMAL128_MAX_PRECISION;
use crate::logical::Operator;

/// One operand: a column of unscaled values or a single value (`None` = NULL).
enum Side<'a> {
    Array(&'a Decimal128Array),
    Scalar(Option<i128>),
}

impl Side<'_> {
    /// Whether every value (NULL slots included) fits i64; one pass that
    /// the compiler vectorizes, so the arithmetic loop needs no check.
    fn fits_i64(&self) -> bool {
        let fits = |x: i128| i128::from(x as i64) == x;
        match self {
            Side::Array(a) => a.values().iter().fold(true, |ok, &x| ok & fits(x)),
            Side::Scalar(v) => fits(v.unwrap_or(0)),
        }
    }

    fn value(&self, i: usize) -> i128 {
        match self {
            Side::Array(a) => a.values()[i],
            Side::Scalar(v) => v.unwrap_or(0),
        }
    }
}

/// The operation with its rescaling factors, so every row is the same
/// branch-free computation.
#[derive(Clone, Copy)]
enum Op {
    /// `l * lm + r * rm` (subtraction passes a negated `rm`).
    Add {
        lm: i128,
        rm: i128,
    },
    Mul,
}

impl Op {
    #[inline(always)]
    fn apply(self, l: i128, r: i128) -> (i128, bool) {
        match self {
            Op::Add { lm, rm } => {
                let (a, o1) = l.overflowing_mul(lm);
                let (b, o2) = r.overflowing_mul(rm);
                let (v, o3) = a.overflowing_add(b);
                (v, o1 | o2 | o3)
            }
            Op::Mul => l.overflowing_mul(r),
        }
    }

    /// This operation on i64 operands, when its rescaling factors fit i64.
    fn narrow(self) -> Option<NarrowOp> {
        Some(match self {
            Op::Add { lm, rm } => NarrowOp::Add {
                lm: i64::try_from(lm).ok()?,
                rm: i64::try_from(rm).ok()?,
            },
            Op::Mul => NarrowOp::Mul,
        })
    }
}

/// [`Op`] with i64 operands and factors, whose results always fit i128.
#[derive(Clone, Copy)]
enum NarrowOp {
    Add { lm: i64, rm: i64 },
    Mul,
}

impl NarrowOp {
    #[inline(always)]
    fn apply(self, l: i64, r: i64) -> i128 {
        // |l·lm| and |r·rm| are below 2^126, so neither they nor their sum overflow.
        match self {
            NarrowOp::Add { lm, rm } => i128::from(l) * i128::from(lm) + i128::from(r) * i128::from(rm),
            NarrowOp::Mul => i128::from(l) * i128::from(r),
        }
    }
}

/// `f` applied row by row over two operands (a scalar repeats; NULL slots
/// are computed too and masked by the caller).
#[inline(always)]
fn map_sides(l: &Side<'_>, r: &Side<'_>, mut f: impl FnMut(i128, i128) -> i128) -> Vec<i128> {
    match (l, r) {
        (Side::Array(a), Side::Array(b)) => a
            .values()
            .iter()
            .zip(b.values().iter())
            .map(|(&x, &y)| f(x, y))
            .collect(),
        (Side::Array(a), Side::Scalar(y)) => {
            let y = y.unwrap_or(0);
            a.values().iter().map(|&x| f(x, y)).collect()
        }
        (Side::Scalar(x), Side::Array(b)) => {
            let x = x.unwrap_or(0);
            b.values().iter().map(|&y| f(x, y)).collect()
        }
        (Side::Scalar(x), Side::Scalar(y)) => vec![f(x.unwrap_or(0), y.unwrap_or(0))],
    }
}

/// `l op r` when both operands are `Decimal128` and the result type is the
/// exact one (`out_scale` = the sum of scales for `*`, the larger scale for
/// `+`/`-`); `None` when this kernel does not apply and the caller should
/// use arrow's.
pub(crate) fn arithmetic(
    op: Operator,
    l: &ColumnarValue,
    r: &ColumnarValue,
    out: &DataType,
) -> Option<Result<ColumnarValue>> {
    let DataType::Decimal128(out_p, out_s) = *out else {
        return None;
    };
    let (DataType::Decimal128(_, ls), DataType::Decimal128(_, rs)) = (l.data_type(), r.data_type()) else {
        return None;
    };
    let pow = |d: i8| 10i128.checked_pow(u32::try_from(d).ok()?);
    let op = match op {
        Operator::Plus | Operator::Minus if out_s == ls.max(rs) => {
            let (lm, rm) = (pow(out_s - ls)?, pow(out_s - rs)?);
            let rm = if op == Operator::Minus { -rm } else { rm };
            Op::Add { lm, rm }
        }
        Operator::Multiply if i16::from(out_s) == i16::from(ls) + i16::from(rs) => Op::Mul,
        _ => return None,
    };
    Some(compute(op, l, r, out_p, out_s))
}

fn side(v: &ColumnarValue) -> Result<Side<'_>> {
    Ok(match v {
        ColumnarValue::Array(a) => Side::Array(a.as_primitive::<Decimal128Type>()),
        ColumnarValue::Scalar(ScalarValue::Decimal128(v, ..)) => Side::Scalar(*v),
        ColumnarValue::Scalar(s) => return Err(Error::Internal(format!("decimal kernel got {}", s.data_type()))),
    })
}

fn compute(op: Op, l: &ColumnarValue, r: &ColumnarValue, p: u8, s: i8) -> Result<ColumnarValue> {
    let (ls, rs) = (side(l)?, side(r)?);
    if matches!(ls, Side::Scalar(None)) || matches!(rs, Side::Scalar(None)) {
        return Ok(ColumnarValue::Scalar(ScalarValue::Decimal128(None, p, s)));
    }
    let out_type = DataType::Decimal128(p, s);
    let max = 10i128.pow(u32::from(p.min(DECIMAL128_MAX_PRECISION))) - 1;
    let mut overflow = false;
    // Money columns hold far fewer than 19 digits: with every operand in
    // i64 each product is one widening multiply that cannot overflow i128,
    // so only the precision is checked. Any wider operand sends the whole
    // batch down the i128 path.
    let values = match op.narrow().filter(|_| ls.fits_i64() && rs.fits_i64()) {
        Some(narrow) => map_sides(&ls, &rs, |x, y| {
            let v = narrow.apply(x as i64, y as i64);
            overflow |= (v > max) | (v < -max);
            v
        }),
        None => map_sides(&ls, &rs, |x, y| {
            let (v, o) = op.apply(x, y);
            overflow |= o | (v > max) | (v < -max);
            v
        }),
    };
    let nulls = match (&ls, &rs) {
        (Side::Array(a), Side::Array(b)) => NullBuffer::union(a.nulls(), b.nulls()),
        (Side::Array(a), _) | (_, Side::Array(a)) => a.nulls().cloned(),
        _ => None,
    };
    if overflow {
        check(op, &ls, &rs, &values, nulls.as_ref(), max, p)?;
    }
    let array = Decimal128Array::new(ScalarBuffer::from(values), nulls).with_data_type(out_type);
    if matches!((&ls, &rs), (Side::Scalar(_), Side::Scalar(_))) {
        return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&array, 0)?));
    }
    Ok(ColumnarValue::Array(Arc::new(array) as ArrayRef))
}

/// Errors if a valid row overflowed i128 or has more than `p` digits.
fn check(
    op: Op,
    l: &Side<'_>,
    r: &Side<'_>,
    values: &[i128],
    nulls: Option<&NullBuffer>,
    max: i128,
    p: u8,
) -> Result<()> {
    for (i, &v) in values.iter().enumerate() {
        if nulls.is_some_and(|n| n.is_null(i)) {
            continue;
        }
        let (_, o) = op.apply(l.value(i), r.value(i));
        if o || v > max || v < -max {
            return Err(Error::Arrow(arrow::error::ArrowError::ArithmeticOverflow(format!(
                "result does not fit Decimal128({p})"
            ))));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(values: Vec<Option<i128>>, p: u8, s: i8) -> ColumnarValue {
        ColumnarValue::Array(Arc::new(
            Decimal128Array::from(values).with_precision_and_scale(p, s).unwrap(),
        ))
    }

    fn run(op: Operator, l: ColumnarValue, r: ColumnarValue, out: DataType) -> Result<Vec<Option<i128>>> {
        let v = arithmetic(op, &l, &r, &out).expect("kernel applies")?;
        let a = v.into_array(3)?;
        assert_eq!(a.data_type(), &out);
        Ok(a.as_primitive::<Decimal128Type>().iter().collect())
    }

    #[test]
    fn rescales_add_and_sub() {
        // 1 - 0.05 with the 1 at scale 0
        let one = ColumnarValue::Scalar(ScalarValue::Decimal128(Some(1), 20, 0));
        let d = dec(vec![Some(5), None, Some(10)], 15, 2);
        let got = run(Operator::Minus, one, d, DataType::Decimal128(23, 2)).unwrap();
        assert_eq!(got, vec![Some(95), None, Some(90)]);
    }

    #[test]
    fn multiplies_with_summed_scale() {
        let a = dec(vec![Some(150), Some(-2), None], 15, 2);
        let b = dec(vec![Some(95), Some(3), Some(1)], 16, 2);
        let got = run(Operator::Multiply, a, b, DataType::Decimal128(32, 4)).unwrap();
        assert_eq!(got, vec![Some(14250), Some(-6), None]);
    }

    #[test]
    fn operands_wider_than_i64_take_the_exact_path() {
        let wide = 10i128.pow(20);
        let a = dec(vec![Some(2), Some(wide), Some(-3)], 38, 2);
        let b = dec(vec![Some(3), Some(3), Some(i128::from(i64::MIN))], 38, 2);
        let got = run(Operator::Multiply, a, b, DataType::Decimal128(38, 4)).unwrap();
        assert_eq!(got, vec![Some(6), Some(3 * wide), Some(-3 * i128::from(i64::MIN))]);
        let a = dec(vec![Some(wide), Some(1), None], 38, 2);
        let one = ColumnarValue::Scalar(ScalarValue::Decimal128(Some(1), 38, 0));
        let got = run(Operator::Minus, a, one, DataType::Decimal128(38, 2)).unwrap();
        assert_eq!(got, vec![Some(wide - 100), Some(-99), None]);
    }

    #[test]
    fn null_scalar_gives_null() {
        let a = dec(vec![Some(1), Some(2), Some(3)], 10, 2);
        let null = ColumnarValue::Scalar(ScalarValue::Decimal128(None, 10, 2));
        let v = arithmetic(Operator::Plus, &a, &null, &DataType::Decimal128(11, 2))
            .unwrap()
            .unwrap();
        assert!(matches!(v, ColumnarValue::Scalar(s) if s.is_null()));
    }

    #[test]
    fn overflow_at_the_cap_is_an_error_but_null_slots_are_ignored() {
        let big = 10i128.pow(37);
        let a = dec(vec![Some(big), Some(1), Some(1)], 38, 0);
        let b = dec(vec![Some(10), Some(1), Some(1)], 38, 0);
        assert!(run(Operator::Multiply, a, b, DataType::Decimal128(38, 0)).is_err());
        // A NULL row whose slot holds a huge value does not overflow.
        let values = Decimal128Array::new(
            ScalarBuffer::from(vec![i128::MAX, 2, 3]),
            Some(NullBuffer::from(vec![false, true, true])),
        )
        .with_precision_and_scale(38, 0)
        .unwrap();
        let a = ColumnarValue::Array(Arc::new(values));
        let b = dec(vec![Some(7), Some(2), Some(2)], 38, 0);
        let got = run(Operator::Multiply, a, b, DataType::Decimal128(38, 0)).unwrap();
        assert_eq!(got, vec![None, Some(4), Some(6)]);
    }

    #[test]
    fn scalar_overflow_is_an_error() {
        let big = ColumnarValue::Scalar(ScalarValue::Decimal128(Some(9 * 10i128.pow(37)), 38, 0));
        assert!(
            arithmetic(Operator::Plus, &big, &big, &DataType::Decimal128(38, 0))
                .unwrap()
                .is_err()
        );
    }

    #[test]
    fn declines_other_scales() {
        let a = dec(vec![Some(1)], 10, 2);
        let b = dec(vec![Some(1)], 10, 2);
        assert!(arithmetic(Operator::Multiply, &a, &b, &DataType::Decimal128(21, 2)).is_none());
        assert!(arithmetic(Operator::Divide, &a, &b, &DataType::Decimal128(21, 4)).is_none());
    }
}
