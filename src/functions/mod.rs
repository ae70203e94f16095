//! The built-in SQL functions: their names, the argument types they take and
//! the type they return, and a builder per function for the DataFrame API
//! (`sum(col("x"))`, `upper(col("s"))`, `when(cond, value)`), plus
//! user-defined functions ([`ScalarUdf`]). Evaluation lives with the
//! physical operators (`physical::expr` for scalar functions,
//! `physical::aggregate` for aggregates); this module is what the binder,
//! the DataFrame API and the optimizer need.
//!
//! ```
//! use flint::functions::{avg, count_star, sum, when};
//! use flint::logical::{col, lit};
//! let total = sum(col("price") * (lit(1) - col("discount"))).alias("revenue");
//! assert_eq!(total.to_string(), "sum(price * (1 - discount)) AS revenue");
//! let bucket = when(col("qty").gt(lit(10)), lit("bulk")).otherwise(lit("retail"));
//! assert!(bucket.to_string().starts_with("CASE WHEN"));
//! # let _ = (avg(col("x")), count_star());
//! ```

use std::fmt;

use arrow::datatypes::{DataType, TimeUnit};

use crate::error::Result;
use crate::plan_err;

mod builders;
mod udf;

pub use builders::*;
pub use udf::{ScalarUdf, UdfImpl};

/// Largest precision of `Decimal128`.
pub const DECIMAL128_MAX_PRECISION: u8 = 38;

macro_rules! scalar_functions {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// A built-in scalar function.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ScalarFunction {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl ScalarFunction {
            /// The SQL name.
            pub fn name(&self) -> &'static str {
                match self { $(ScalarFunction::$variant => $name,)* }
            }

            /// Every built-in scalar function.
            pub fn all() -> &'static [ScalarFunction] {
                &[$(ScalarFunction::$variant,)*]
            }
        }
    };
}

scalar_functions! {
    Abs => "abs", Ceil => "ceil", Floor => "floor", Round => "round", Trunc => "trunc",
    Sqrt => "sqrt", Cbrt => "cbrt", Power => "power", Exp => "exp", Ln => "ln", Log10 => "log10",
    Log2 => "log2", Log => "log", Sign => "sign", Pi => "pi", Random => "random",
    Upper => "upper", Lower => "lower", CharLength => "char_length", OctetLength => "octet_length",
    Substr => "substr", Trim => "trim", Ltrim => "ltrim", Rtrim => "rtrim", Concat => "concat",
    ConcatWs => "concat_ws", Replace => "replace", Strpos => "strpos", Left => "left", Right => "right",
    Lpad => "lpad", Rpad => "rpad", Reverse => "reverse", Repeat => "repeat", StartsWith => "starts_with",
    EndsWith => "ends_with", SplitPart => "split_part", Initcap => "initcap", Ascii => "ascii", Chr => "chr",
    Coalesce => "coalesce", Nullif => "nullif", Greatest => "greatest", Least => "least",
    DatePart => "date_part", DateTrunc => "date_trunc", CurrentDate => "current_date", Now => "now",
    MakeDate => "make_date",
}

impl fmt::Display for ScalarFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl ScalarFunction {
    /// Looks a function up by SQL name (case-insensitive), including
    /// aliases such as `length` and `substring`.
    pub fn from_name(name: &str) -> Option<ScalarFunction> {
        let lower = name.to_ascii_lowercase();
        let canonical = match lower.as_str() {
            "length" | "character_length" | "len" => "char_length",
            "substring" => "substr",
            "btrim" => "trim",
            "pow" => "power",
            "ceiling" => "ceil",
            "position" | "instr" => "strpos",
            "datepart" | "extract" => "date_part",
            "datetrunc" => "date_trunc",
            "current_timestamp" => "now",
            "ifnull" => "coalesce",
            other => other,
        };
        Self::all().iter().copied().find(|f| f.name() == canonical)
    }

    /// The result type for arguments of the given types.
    pub fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        use ScalarFunction::*;
        let arg = |i: usize| args.get(i).cloned().unwrap_or(DataType::Null);
        let t = match self {
            Abs | Sign => match arg(0) {
                DataType::Null => DataType::Int64,
                t => t,
            },
            Ceil | Floor | Trunc | Round => match arg(0) {
                t @ (DataType::Decimal128(..) | DataType::Float32 | DataType::Float64) => t,
                t if t.is_integer() => t,
                _ => DataType::Float64,
            },
            Sqrt | Cbrt | Power | Exp | Ln | Log10 | Log2 | Log | Pi | Random => DataType::Float64,
            Upper | Lower | Trim | Ltrim | Rtrim | Substr | Replace | Left | Right | Lpad | Rpad | Reverse | Repeat
            | SplitPart | Initcap | Chr | Concat | ConcatWs => DataType::Utf8,
            CharLength | OctetLength | Strpos | Ascii => DataType::Int64,
            StartsWith | EndsWith => DataType::Boolean,
            Coalesce | Greatest | Least => args
                .iter()
                .find(|t| **t != DataType::Null)
                .cloned()
                .unwrap_or(DataType::Null),
            Nullif => arg(0),
            DatePart => DataType::Float64,
            DateTrunc => match arg(1) {
                DataType::Date32 => DataType::Timestamp(TimeUnit::Nanosecond, None),
                t @ DataType::Timestamp(..) => t,
                _ => DataType::Timestamp(TimeUnit::Nanosecond, None),
            },
            CurrentDate | MakeDate => DataType::Date32,
            Now => DataType::Timestamp(TimeUnit::Nanosecond, Some("+00:00".into())),
        };
        Ok(t)
    }
}

/// A built-in aggregate function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AggregateFunction {
    /// `count(x)` / `count(*)`
    Count,
    /// `sum(x)`
    Sum,
    /// `avg(x)`
    Avg,
    /// `min(x)`
    Min,
    /// `max(x)`
    Max,
    /// `stddev_samp(x)` / `stddev(x)`
    StddevSamp,
    /// `stddev_pop(x)`
    StddevPop,
    /// `var_samp(x)` / `variance(x)`
    VarSamp,
    /// `var_pop(x)`
    VarPop,
    /// `bool_and(x)`
    BoolAnd,
    /// `bool_or(x)`
    BoolOr,
}

impl fmt::Display for AggregateFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl AggregateFunction {
    /// The SQL name.
    pub fn name(&self) -> &'static str {
        match self {
            AggregateFunction::Count => "count",
            AggregateFunction::Sum => "sum",
            AggregateFunction::Avg => "avg",
            AggregateFunction::Min => "min",
            AggregateFunction::Max => "max",
            AggregateFunction::StddevSamp => "stddev_samp",
            AggregateFunction::StddevPop => "stddev_pop",
            AggregateFunction::VarSamp => "var_samp",
            AggregateFunction::VarPop => "var_pop",
            AggregateFunction::BoolAnd => "bool_and",
            AggregateFunction::BoolOr => "bool_or",
        }
    }

    /// Looks an aggregate up by SQL name (case-insensitive).
    pub fn from_name(name: &str) -> Option<AggregateFunction> {
        Some(match name.to_ascii_lowercase().as_str() {
            "count" => AggregateFunction::Count,
            "sum" => AggregateFunction::Sum,
            "avg" | "mean" => AggregateFunction::Avg,
            "min" => AggregateFunction::Min,
            "max" => AggregateFunction::Max,
            "stddev" | "stddev_samp" | "std" => AggregateFunction::StddevSamp,
            "stddev_pop" => AggregateFunction::StddevPop,
            "variance" | "var_samp" | "var" => AggregateFunction::VarSamp,
            "var_pop" => AggregateFunction::VarPop,
            "bool_and" | "every" => AggregateFunction::BoolAnd,
            "bool_or" => AggregateFunction::BoolOr,
            _ => return None,
        })
    }

    /// The result type for an argument of type `arg` (ignored by `count`).
    pub fn return_type(&self, arg: Option<&DataType>) -> Result<DataType> {
        use AggregateFunction::*;
        let t = arg.cloned().unwrap_or(DataType::Null);
        Ok(match self {
            Count => DataType::Int64,
            Sum => match t {
                DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 | DataType::Null => {
                    DataType::Int64
                }
                DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => DataType::UInt64,
                DataType::Float16 | DataType::Float32 | DataType::Float64 => DataType::Float64,
                DataType::Decimal128(p, s) => DataType::Decimal128((p + 10).min(DECIMAL128_MAX_PRECISION), s),
                other => plan_err!("sum() does not accept {other}"),
            },
            Avg => match t {
                DataType::Decimal128(p, s) => DataType::Decimal128(
                    (p + 4).min(DECIMAL128_MAX_PRECISION),
                    ((s as u8 + 4).min(DECIMAL128_MAX_PRECISION)) as i8,
                ),
                t if t.is_numeric() || t == DataType::Null => DataType::Float64,
                other => plan_err!("avg() does not accept {other}"),
            },
            Min | Max => t,
            StddevSamp | StddevPop | VarSamp | VarPop => {
                if t.is_numeric() || t == DataType::Null {
                    DataType::Float64
                } else {
                    plan_err!("{}() does not accept {t}", self.name())
                }
            }
            BoolAnd | BoolOr => match t {
                DataType::Boolean | DataType::Null => DataType::Boolean,
                other => plan_err!("{}() does not accept {other}", self.name()),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases() {
        assert_eq!(ScalarFunction::from_name("SUBSTRING"), Some(ScalarFunction::Substr));
        assert_eq!(ScalarFunction::from_name("length"), Some(ScalarFunction::CharLength));
        assert_eq!(ScalarFunction::from_name("nope"), None);
        assert_eq!(
            AggregateFunction::from_name("Variance"),
            Some(AggregateFunction::VarSamp)
        );
    }

    #[test]
    fn decimal_aggregate_types() {
        let d = DataType::Decimal128(15, 2);
        assert_eq!(
            AggregateFunction::Sum.return_type(Some(&d)).unwrap(),
            DataType::Decimal128(25, 2)
        );
        assert_eq!(
            AggregateFunction::Avg.return_type(Some(&d)).unwrap(),
            DataType::Decimal128(19, 6)
        );
        assert!(AggregateFunction::Sum.return_type(Some(&DataType::Utf8)).is_err());
    }
}
