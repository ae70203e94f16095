//! Making operand types agree before a kernel sees them. The binder
//! coerces types already; these rules only catch what it leaves: mixed
//! string encodings, dictionaries, NULL-typed values, decimals of different
//! precision, integers and floats of different widths.

use std::sync::Arc;

use arrow::datatypes::DataType;

use super::PhysicalExprRef;
use super::cast::CastExpr;
use crate::error::Result;

/// `expr` as type `t`: itself when it already has that type, a cast
/// otherwise.
pub(crate) fn cast_expr(expr: PhysicalExprRef, t: &DataType) -> Result<PhysicalExprRef> {
    if expr.data_type() == t {
        return Ok(expr);
    }
    Ok(Arc::new(CastExpr::try_new(expr, t.clone(), false)?))
}

/// True for the three string encodings.
pub(crate) fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// The value type of a dictionary, or the type itself.
fn strip_dictionary(t: &DataType) -> &DataType {
    match t {
        DataType::Dictionary(_, v) => v,
        other => other,
    }
}

/// Whether Arrow's comparison kernels accept the two types as they are
/// (they look through dictionaries).
pub(crate) fn comparable_as_is(a: &DataType, b: &DataType) -> bool {
    strip_dictionary(a) == strip_dictionary(b)
}

/// A type both operands can be cast to for comparing or combining them:
/// dictionaries decode to their values, NULL takes the other type,
/// strings meet at the widest encoding, decimals at a precision and scale
/// holding both, integers at Int64 and floats at Float64.
pub(crate) fn common_type(a: &DataType, b: &DataType) -> Option<DataType> {
    use DataType::*;
    if a == b {
        return Some(a.clone());
    }
    Some(match (a, b) {
        (Dictionary(_, v), o) | (o, Dictionary(_, v)) => return common_type(v, o),
        (Null, t) | (t, Null) => t.clone(),
        (a, b) if is_string(a) && is_string(b) => {
            if *a == Utf8View || *b == Utf8View {
                Utf8View
            } else if *a == LargeUtf8 || *b == LargeUtf8 {
                LargeUtf8
            } else {
                Utf8
            }
        }
        (Decimal128(p1, s1), Decimal128(p2, s2)) => {
            let s = (*s1).max(*s2);
            let whole = (*p1 as i16 - *s1 as i16).max(*p2 as i16 - *s2 as i16);
            let p = (whole + s as i16).clamp(1, crate::functions::DECIMAL128_MAX_PRECISION as i16);
            Decimal128(p as u8, s)
        }
        (a, b) if a.is_signed_integer() && b.is_signed_integer() => Int64,
        (a, b) if a.is_floating() && (b.is_floating() || b.is_integer()) => Float64,
        (a, b) if b.is_floating() && a.is_integer() => Float64,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_types() {
        use DataType::*;
        assert_eq!(common_type(&Utf8, &Utf8View), Some(Utf8View));
        assert_eq!(common_type(&Utf8, &LargeUtf8), Some(LargeUtf8));
        assert_eq!(common_type(&Null, &Date32), Some(Date32));
        assert_eq!(
            common_type(&Decimal128(10, 2), &Decimal128(12, 4)),
            Some(Decimal128(12, 4))
        );
        assert_eq!(common_type(&Int8, &Int64), Some(Int64));
        assert_eq!(common_type(&Int32, &Float32), Some(Float64));
        assert_eq!(common_type(&Utf8, &Int32), None);
        let dict = Dictionary(Box::new(Int32), Box::new(Utf8));
        assert_eq!(common_type(&dict, &Utf8View), Some(Utf8View));
    }
}
