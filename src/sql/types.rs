//! SQL types and literals to Arrow types and scalar values.

use arrow::datatypes::{DataType, IntervalMonthDayNano, IntervalUnit, TimeUnit};
use datafusion_common::ScalarValue;
use sqlparser::ast::{self, DateTimeField, ExactNumberInfo};

use crate::error::Result;
use crate::functions::DECIMAL128_MAX_PRECISION;
use crate::{not_supported, plan_err};

/// The Arrow type for a SQL type name.
pub fn sql_to_arrow_type(t: &ast::DataType) -> Result<DataType> {
    use ast::DataType as S;
    Ok(match t {
        S::Boolean | S::Bool => DataType::Boolean,
        S::TinyInt(_) => DataType::Int8,
        S::SmallInt(_) | S::Int2(_) => DataType::Int16,
        S::Int(_) | S::Integer(_) | S::Int4(_) | S::MediumInt(_) => DataType::Int32,
        S::BigInt(_) | S::Int8(_) | S::Int64 => DataType::Int64,
        S::TinyIntUnsigned(_) | S::UTinyInt => DataType::UInt8,
        S::SmallIntUnsigned(_) | S::USmallInt => DataType::UInt16,
        S::IntUnsigned(_) | S::IntegerUnsigned(_) | S::UInt32 => DataType::UInt32,
        S::BigIntUnsigned(_) | S::UBigInt | S::UInt64 => DataType::UInt64,
        S::Real | S::Float4 | S::Float32 => DataType::Float32,
        S::Float(_) | S::Double(_) | S::DoublePrecision | S::Float8 | S::Float64 => DataType::Float64,
        S::Decimal(info) | S::Numeric(info) | S::Dec(info) => {
            let (p, s) = match info {
                ExactNumberInfo::None => (38, 10),
                ExactNumberInfo::Precision(p) => (*p, 0),
                ExactNumberInfo::PrecisionAndScale(p, s) => (*p, *s),
            };
            if p == 0 || p > DECIMAL128_MAX_PRECISION as u64 || s > p as i64 || s < 0 {
                plan_err!("invalid DECIMAL({p}, {s}): precision must be 1..=38 and 0 <= scale <= precision");
            }
            DataType::Decimal128(p as u8, s as i8)
        }
        S::Char(_)
        | S::Varchar(_)
        | S::Text
        | S::String(_)
        | S::CharVarying(_)
        | S::Character(_)
        | S::CharacterVarying(_)
        | S::Nvarchar(_) => DataType::Utf8,
        S::Date => DataType::Date32,
        S::Timestamp(_, tz) => match tz {
            ast::TimezoneInfo::WithTimeZone | ast::TimezoneInfo::Tz => {
                DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into()))
            }
            _ => DataType::Timestamp(TimeUnit::Microsecond, None),
        },
        S::Datetime(_) => DataType::Timestamp(TimeUnit::Microsecond, None),
        S::Interval { .. } => DataType::Interval(IntervalUnit::MonthDayNano),
        S::Bytea | S::Blob(_) | S::Binary(_) | S::Varbinary(_) => DataType::Binary,
        other => not_supported!("the SQL type {other}"),
    })
}

/// A numeric literal: an integer when it has no fraction or exponent and
/// fits in 64 bits, a decimal when it has a fraction or more digits than 64
/// bits hold (up to 38), else a double.
pub fn parse_number(text: &str) -> Result<ScalarValue> {
    if let Ok(i) = text.parse::<i64>() {
        return Ok(ScalarValue::Int64(Some(i)));
    }
    if !text.contains(['e', 'E']) {
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        let digits = format!("{int}{frac}");
        let scale = frac.len();
        let precision = digits.trim_start_matches(['0', '-', '+']).len().max(scale).max(1);
        if precision <= DECIMAL128_MAX_PRECISION as usize
            && let Ok(v) = digits.parse::<i128>()
        {
            return Ok(ScalarValue::Decimal128(Some(v), precision as u8, scale as i8));
        }
    }
    match text.parse::<f64>() {
        Ok(f) => Ok(ScalarValue::Float64(Some(f))),
        Err(_) => plan_err!("invalid number literal '{text}'"),
    }
}

/// Parses the text of an `INTERVAL '..' [unit]` literal.
pub fn parse_interval(text: &str, unit: Option<&DateTimeField>) -> Result<ScalarValue> {
    let mut months = 0i32;
    let mut days = 0i32;
    let mut nanos = 0i64;
    let mut add = |amount: f64, unit: &str| -> Result<()> {
        let u = unit.to_ascii_lowercase();
        let u = u.trim_end_matches('s');
        match u {
            "year" | "y" => months += (amount * 12.0) as i32,
            "month" | "mon" => months += amount as i32,
            "week" | "w" => days += (amount * 7.0) as i32,
            "day" | "d" => days += amount as i32,
            "hour" | "h" => nanos += (amount * 3.6e12) as i64,
            "minute" | "min" | "m" => nanos += (amount * 6e10) as i64,
            "second" | "sec" => nanos += (amount * 1e9) as i64,
            "millisecond" | "ms" => nanos += (amount * 1e6) as i64,
            _ => plan_err!("unknown interval unit '{unit}' in INTERVAL '{text}'"),
        }
        Ok(())
    };
    let field_name = unit.map(|f| f.to_string());
    let tokens: Vec<&str> = text.split_whitespace().collect();
    match (tokens.as_slice(), field_name) {
        ([n], Some(u)) => {
            let amount: f64 = n.parse().map_err(|_| crate::plan_error!("invalid interval '{text}'"))?;
            add(amount, &u)?;
        }
        (list, None) if list.len() % 2 == 0 && !list.is_empty() => {
            for pair in list.chunks(2) {
                let amount: f64 = pair[0]
                    .parse()
                    .map_err(|_| crate::plan_error!("invalid interval '{text}'"))?;
                add(amount, pair[1])?;
            }
        }
        _ => plan_err!("invalid interval '{text}': expected e.g. INTERVAL '3' DAY or INTERVAL '1 month'"),
    }
    Ok(ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano::new(
        months, days, nanos,
    ))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number("42").unwrap(), ScalarValue::Int64(Some(42)));
        assert_eq!(parse_number("0.06").unwrap(), ScalarValue::Decimal128(Some(6), 2, 2));
        assert_eq!(parse_number("1.5e3").unwrap(), ScalarValue::Float64(Some(1500.0)));
        let big = "99999999999999999999999999999999999999";
        assert_eq!(
            parse_number(big).unwrap(),
            ScalarValue::Decimal128(Some(big.parse().unwrap()), 38, 0)
        );
        assert_eq!(
            parse_number(&format!("{big}9")).unwrap(),
            ScalarValue::Float64(Some(1e39))
        );
    }

    #[test]
    fn intervals() {
        let v = parse_interval("90", Some(&DateTimeField::Day)).unwrap();
        assert_eq!(
            v,
            ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano::new(0, 90, 0)))
        );
        let v = parse_interval("1 year 2 months", None).unwrap();
        assert_eq!(
            v,
            ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano::new(14, 0, 0)))
        );
    }
}
