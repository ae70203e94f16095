//! Date and time functions: `date_part` (and so `EXTRACT`), `date_trunc`,
//! `current_date`, `now`, `make_date`.
//!
//! The part name of `date_part`/`date_trunc` must be a constant, checked
//! when the expression is created. `date_part` returns Float64 like
//! PostgreSQL: `second` includes the fraction, `epoch` counts seconds
//! since 1970-01-01 UTC. Fields of a timestamp with a time zone are those
//! of its local time. `current_date` and `now` are fixed when the
//! expression is created, so every row and batch of a query sees one time.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use arrow::array::temporal_conversions::as_datetime;
use arrow::array::{Array, ArrayRef, AsArray, Date32Array, PrimitiveArray};
use arrow::compute::kernels::temporal::{DatePart, date_part};
use arrow::compute::{binary, cast};
use arrow::datatypes::{
    ArrowTimestampType, DataType, Date32Type, Float64Type, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use arrow::error::ArrowError;
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike};
use datafusion_common::ScalarValue;

use super::FunctionImpl;
use super::args::{arg, finish, ints, shape};
use crate::error::{Error, Result};
use crate::functions::ScalarFunction;
use crate::logical::Expr;
use crate::physical::expr::ColumnarValue;
use crate::{exec_err, plan_err};

/// What `date_part` extracts.
#[derive(Clone, Copy, Debug)]
enum Field {
    /// An integer field Arrow's kernel extracts.
    Arrow(DatePart),
    /// Seconds with their fraction, times the given factor (1, 1e3, 1e6).
    Seconds(f64),
    /// Seconds since the epoch.
    Epoch,
}

/// What `date_trunc` truncates to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Year,
    Quarter,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
}

pub(super) fn implementation(fun: ScalarFunction, part: Option<&Expr>, return_type: &DataType) -> Result<FunctionImpl> {
    Ok(match fun {
        ScalarFunction::DatePart => {
            let field = parse_field(&part_name(fun, part)?)?;
            Arc::new(move |a, n| extract(a, n, field))
        }
        ScalarFunction::DateTrunc => {
            let unit = parse_unit(&part_name(fun, part)?)?;
            Arc::new(move |a, n| truncate(a, n, unit))
        }
        ScalarFunction::CurrentDate => {
            let today = (now_nanos()? / 86_400_000_000_000) as i32;
            Arc::new(move |_, _| Ok(ColumnarValue::Scalar(ScalarValue::Date32(Some(today)))))
        }
        ScalarFunction::Now => {
            let now = now_nanos()?;
            let t = return_type.clone();
            Arc::new(move |_, _| {
                Ok(ColumnarValue::Scalar(
                    ScalarValue::TimestampNanosecond(Some(now), None).cast_to(&t)?,
                ))
            })
        }
        ScalarFunction::MakeDate => Arc::new(make_date),
        other => return Err(Error::Internal(format!("{other} is not a date function"))),
    })
}

fn now_nanos() -> Result<i64> {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| Error::Execution(format!("system clock before 1970: {e}")))?;
    i64::try_from(since.as_nanos()).map_err(|_| Error::Execution("system clock out of range".into()))
}

/// The constant part name (lower case) of `date_part`/`date_trunc`.
fn part_name(fun: ScalarFunction, part: Option<&Expr>) -> Result<String> {
    match part.map(Expr::unalias) {
        Some(Expr::Literal(
            ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s)),
        )) => Ok(s.to_ascii_lowercase()),
        _ => plan_err!("{fun}() needs a constant part name such as 'year' as its first argument"),
    }
}

fn parse_field(name: &str) -> Result<Field> {
    Ok(match name {
        "year" | "years" | "y" | "yr" | "yrs" => Field::Arrow(DatePart::Year),
        "quarter" | "quarters" => Field::Arrow(DatePart::Quarter),
        "month" | "months" | "mon" | "mons" => Field::Arrow(DatePart::Month),
        "week" | "weeks" | "w" => Field::Arrow(DatePart::Week),
        "day" | "days" | "d" => Field::Arrow(DatePart::Day),
        "dow" => Field::Arrow(DatePart::DayOfWeekSunday0),
        "isodow" => Field::Arrow(DatePart::DayOfWeekMonday1),
        "doy" => Field::Arrow(DatePart::DayOfYear),
        "hour" | "hours" | "h" | "hr" | "hrs" => Field::Arrow(DatePart::Hour),
        "minute" | "minutes" | "min" | "mins" | "m" => Field::Arrow(DatePart::Minute),
        "second" | "seconds" | "sec" | "secs" | "s" => Field::Seconds(1.0),
        "millisecond" | "milliseconds" | "ms" => Field::Seconds(1e3),
        "microsecond" | "microseconds" | "us" => Field::Seconds(1e6),
        "epoch" => Field::Epoch,
        other => plan_err!(
            "date_part() does not know the part '{other}'; it takes year, quarter, month, week, day, dow, \
             isodow, doy, hour, minute, second, millisecond, microsecond or epoch"
        ),
    })
}

fn parse_unit(name: &str) -> Result<Unit> {
    Ok(match name {
        "year" | "years" => Unit::Year,
        "quarter" | "quarters" => Unit::Quarter,
        "month" | "months" => Unit::Month,
        "week" | "weeks" => Unit::Week,
        "day" | "days" => Unit::Day,
        "hour" | "hours" => Unit::Hour,
        "minute" | "minutes" => Unit::Minute,
        "second" | "seconds" => Unit::Second,
        other => plan_err!(
            "date_trunc() does not know the unit '{other}'; it takes year, quarter, month, week, day, \
             hour, minute or second"
        ),
    })
}

/// `date_part(field, v)` as Float64.
fn extract(args: &[ColumnarValue], _n: usize, field: Field) -> Result<ColumnarValue> {
    let v = arg(args, 1)?;
    let a = v.clone().into_array(1)?;
    let out: ArrayRef = match field {
        Field::Arrow(part) => cast(&date_part(&a, part)?, &DataType::Float64)?,
        Field::Seconds(factor) => {
            let s = cast(&date_part(&a, DatePart::Second)?, &DataType::Float64)?;
            let ns = cast(&date_part(&a, DatePart::Nanosecond)?, &DataType::Float64)?;
            let out: PrimitiveArray<Float64Type> = binary(
                s.as_primitive::<Float64Type>(),
                ns.as_primitive::<Float64Type>(),
                |s, ns| (s + ns / 1e9) * factor,
            )?;
            Arc::new(out)
        }
        Field::Epoch => epoch(&a)?,
    };
    finish(out, v.is_scalar())
}

fn epoch(a: &ArrayRef) -> Result<ArrayRef> {
    let per_second: i64 = match a.data_type() {
        DataType::Date32 => {
            let days = a.as_primitive::<Date32Type>();
            let out: PrimitiveArray<Float64Type> = days.unary(|d| d as f64 * 86_400.0);
            return Ok(Arc::new(out));
        }
        DataType::Date64 | DataType::Timestamp(TimeUnit::Millisecond, _) => 1_000,
        DataType::Timestamp(TimeUnit::Second, _) => 1,
        DataType::Timestamp(TimeUnit::Microsecond, _) => 1_000_000,
        DataType::Timestamp(TimeUnit::Nanosecond, _) => 1_000_000_000,
        other => return Err(Error::Internal(format!("epoch of {other}"))),
    };
    let raw = cast(a, &DataType::Int64)?;
    // Whole seconds and the fraction apart, so that nanosecond timestamps
    // keep their fraction in an f64.
    let out: PrimitiveArray<Float64Type> = raw
        .as_primitive::<arrow::datatypes::Int64Type>()
        .unary(|v| v.div_euclid(per_second) as f64 + v.rem_euclid(per_second) as f64 / per_second as f64);
    Ok(Arc::new(out))
}

/// `date_trunc(unit, ts)`; dates arrive already cast to timestamps.
fn truncate(args: &[ColumnarValue], _n: usize, unit: Unit) -> Result<ColumnarValue> {
    let v = arg(args, 1)?;
    let a = v.clone().into_array(1)?;
    let out: ArrayRef = match a.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => truncate_ts::<TimestampSecondType>(&a, unit)?,
        DataType::Timestamp(TimeUnit::Millisecond, _) => truncate_ts::<TimestampMillisecondType>(&a, unit)?,
        DataType::Timestamp(TimeUnit::Microsecond, _) => truncate_ts::<TimestampMicrosecondType>(&a, unit)?,
        DataType::Timestamp(TimeUnit::Nanosecond, _) => truncate_ts::<TimestampNanosecondType>(&a, unit)?,
        other => return Err(Error::Internal(format!("date_trunc of {other}"))),
    };
    finish(out, v.is_scalar())
}

fn truncate_ts<T: ArrowTimestampType>(a: &ArrayRef, unit: Unit) -> Result<ArrayRef> {
    let a = a.as_primitive::<T>();
    let tz = match a.timezone() {
        Some(name) => Some(name.parse::<arrow::array::timezone::Tz>()?),
        None => None,
    };
    let out_of_range = || ArrowError::ComputeError("timestamp out of range in date_trunc".into());
    let out: PrimitiveArray<T> = a.try_unary(|v| {
        let utc = as_datetime::<T>(v).ok_or_else(out_of_range)?;
        let local = match &tz {
            Some(tz) => tz.from_utc_datetime(&utc).naive_local(),
            None => utc,
        };
        let cut = truncate_naive(local, unit).ok_or_else(out_of_range)?;
        // The earliest instant with that local time (a DST gap has none).
        let back = match &tz {
            Some(tz) => tz
                .from_local_datetime(&cut)
                .earliest()
                .ok_or_else(out_of_range)?
                .naive_utc(),
            None => cut,
        };
        T::from_naive_datetime(back, None).ok_or_else(out_of_range)
    })?;
    Ok(Arc::new(out.with_timezone_opt(a.timezone().map(Arc::<str>::from))))
}

fn truncate_naive(t: NaiveDateTime, unit: Unit) -> Option<NaiveDateTime> {
    let d = t.date();
    let day = match unit {
        Unit::Second => return t.with_nanosecond(0),
        Unit::Minute => return d.and_hms_opt(t.hour(), t.minute(), 0),
        Unit::Hour => return d.and_hms_opt(t.hour(), 0, 0),
        Unit::Day => d,
        Unit::Week => d.checked_sub_signed(Duration::days(d.weekday().num_days_from_monday() as i64))?,
        Unit::Month => NaiveDate::from_ymd_opt(d.year(), d.month(), 1)?,
        Unit::Quarter => NaiveDate::from_ymd_opt(d.year(), (d.month() - 1) / 3 * 3 + 1, 1)?,
        Unit::Year => NaiveDate::from_ymd_opt(d.year(), 1, 1)?,
    };
    day.and_hms_opt(0, 0, 0)
}

/// `make_date(year, month, day)`; an impossible date is an error.
fn make_date(args: &[ColumnarValue], n: usize) -> Result<ColumnarValue> {
    let (len, scalar) = shape(args, n);
    let (y, m, d) = (ints(arg(args, 0)?)?, ints(arg(args, 1)?)?, ints(arg(args, 2)?)?);
    let values = (0..len)
        .map(|i| {
            let (Some(y), Some(m), Some(d)) = (y.get(i), m.get(i), d.get(i)) else {
                return Ok(None);
            };
            let date = match (i32::try_from(y), u32::try_from(m), u32::try_from(d)) {
                (Ok(y), Ok(m), Ok(d)) => NaiveDate::from_ymd_opt(y, m, d),
                _ => None,
            };
            match date {
                Some(date) => Ok(Some(Date32Type::from_naive_date(date))),
                None => exec_err!("date field value out of range: {y}-{m}-{d}"),
            }
        })
        .collect::<Result<Vec<_>>>()?;
    finish(Arc::new(Date32Array::from(values)), scalar)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Date32Array, TimestampNanosecondArray};
    use datafusion_common::ScalarValue;

    use crate::functions::ScalarFunction as F;
    use crate::logical::{Expr, col, lit};
    use crate::physical::expr::test_util::{batch, eval_err, values};

    fn call(f: F, args: Vec<Expr>) -> Expr {
        Expr::ScalarFunction(f, args)
    }

    const SEC: i64 = 1_000_000_000;

    fn t() -> arrow::record_batch::RecordBatch {
        // 1995-03-15 (a Wednesday); 2024-05-19 13:45:05.25 UTC (a Sunday).
        let ts = 1_716_126_305 * SEC + SEC / 4;
        batch(vec![
            ("d", Arc::new(Date32Array::from(vec![Some(9204), None]))),
            ("ts", Arc::new(TimestampNanosecondArray::from(vec![Some(ts), None]))),
            (
                "tz",
                Arc::new(TimestampNanosecondArray::from(vec![Some(ts), None]).with_timezone("+02:00")),
            ),
        ])
    }

    #[test]
    fn date_part_fields() {
        let t = t();
        let f = |v: f64| ScalarValue::Float64(Some(v));
        let cases = [
            ("year", "d", 1995.0),
            ("quarter", "d", 1.0),
            ("month", "d", 3.0),
            ("week", "d", 11.0),
            ("day", "d", 15.0),
            ("dow", "d", 3.0),
            ("isodow", "ts", 7.0),
            ("dow", "ts", 0.0),
            ("doy", "d", 74.0),
            ("hour", "d", 0.0),
            ("epoch", "d", 9204.0 * 86_400.0),
            ("hour", "ts", 13.0),
            ("hour", "tz", 15.0),
            ("minute", "ts", 45.0),
            ("second", "ts", 5.25),
            ("millisecond", "ts", 5250.0),
            ("epoch", "ts", 1_716_126_305.25),
            ("EPOCH", "tz", 1_716_126_305.25),
        ];
        for (part, c, want) in cases {
            let e = call(F::DatePart, vec![lit(part), col(c)]);
            assert_eq!(values(&e, &t), vec![f(want), ScalarValue::Float64(None)], "{e}");
        }
        let err = eval_err(&call(F::DatePart, vec![lit("fortnight"), col("d")]), &t);
        assert!(err.contains("'fortnight'") && err.contains("year"), "{err}");
        let err = eval_err(&call(F::DatePart, vec![col("ts"), col("d")]), &t);
        assert!(err.contains("constant part name") || err.contains("date_part"), "{err}");
    }

    #[test]
    fn date_trunc_units() {
        let t = t();
        let day = 86_400 * SEC;
        let ts = |v: i64| ScalarValue::TimestampNanosecond(Some(v), None);
        let cases = [
            ("month", "d", ts(9190 * day)),   // 1995-03-01
            ("week", "d", ts(9202 * day)),    // Monday 1995-03-13
            ("quarter", "d", ts(9131 * day)), // 1995-01-01
            ("year", "d", ts(9131 * day)),
            ("day", "ts", ts(19_862 * day)),
            ("hour", "ts", ts(19_862 * day + 13 * 3600 * SEC)),
            ("second", "ts", ts(1_716_126_305 * SEC)),
        ];
        for (unit, c, want) in cases {
            let e = call(F::DateTrunc, vec![lit(unit), col(c)]);
            assert_eq!(values(&e, &t)[0], want, "{e}");
        }
        // Local midnight in +02:00 is 22:00 UTC the day before.
        let e = call(F::DateTrunc, vec![lit("day"), col("tz")]);
        let want = ScalarValue::TimestampNanosecond(Some(19_862 * day - 2 * 3600 * SEC), Some("+02:00".into()));
        assert_eq!(values(&e, &t)[0], want);
        assert!(eval_err(&call(F::DateTrunc, vec![lit("decade"), col("d")]), &t).contains("'decade'"));
    }

    #[test]
    fn make_date_current_date_now() {
        let t = t();
        let e = call(F::MakeDate, vec![lit(2024i64), lit(2i64), lit(29i64)]);
        assert_eq!(values(&e, &t)[0], ScalarValue::Date32(Some(19_782)));
        let e = call(
            F::MakeDate,
            vec![lit(2024i64), lit(ScalarValue::Int64(None)), lit(1i64)],
        );
        assert_eq!(values(&e, &t)[0], ScalarValue::Date32(None));
        let err = eval_err(&call(F::MakeDate, vec![lit(2023i64), lit(2i64), lit(29i64)]), &t);
        assert!(err.contains("out of range: 2023-2-29"), "{err}");
        let ScalarValue::Date32(Some(today)) = values(&call(F::CurrentDate, vec![]), &t)[0] else {
            panic!("current_date is not a date")
        };
        assert!(today > 19_000);
        let now = values(&call(F::Now, vec![]), &t);
        assert!(matches!(&now[0], ScalarValue::TimestampNanosecond(Some(ns), Some(tz))
            if *ns / 86_400 / SEC == today as i64 && tz.as_ref() == "+00:00"));
        assert_eq!(now[0], now[1], "one time for every row");
    }
}
