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
    let per_second = match a.data_type() {
        DataType::Date32 => {
            let days = a.as_primitive::<Date32Type>();
            let out: PrimitiveArray<Float64Type> = days.unary(|d| d as f64 * 86_400.0);
            return Ok(Arc::new(out));
        }
        DataType::Date64 | DataType::Timestamp(TimeUnit::Millisecond, _) => 1e3,
        DataType::Timestamp(TimeUnit::Second, _) => 1.0,
        DataType::Timestamp(TimeUnit::Microsecond, _) => 1e6,
        DataType::Timestamp(TimeUnit::Nanosecond, _) => 1e9,
        other => return Err(Error::Internal(format!("epoch of {other}"))),
    };
    let raw = cast(a, &DataType::Int64)?;
    let out: PrimitiveArray<Float64Type> = raw
        .as_primitive::<arrow::datatypes::Int64Type>()
        .unary(|v| v as f64 / per_second);
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
