//! The built-in scalar functions, evaluated over batches.
//!
//! [`create_function`] checks a call's arguments against the function's
//! signature (a clear plan error naming the function and what it accepts),
//! casts them to the types the implementation reads (integers to Int64,
//! numbers to Float64 for `sqrt` and friends, values to strings for
//! `concat`, ...) and returns a [`ScalarFunctionExpr`]. The result type is
//! always [`ScalarFunction::return_type`] of the arguments as written.
//!
//! Implementations live by theme: `math`, `string` and `substring`,
//! `datetime`, `conditional` (`coalesce` evaluates lazily, like `CASE`).

use std::fmt;
use std::sync::Arc;

use arrow::compute::can_cast_types;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use super::coerce::{cast_expr, is_string};
use super::{ColumnarValue, PhysicalExpr, PhysicalExprRef};
use crate::error::{Error, Result};
use crate::functions::ScalarFunction;
use crate::logical::Expr;

mod args;
mod conditional;
mod datetime;
mod math;
mod string;
mod substring;

/// A function's implementation over evaluated arguments and the number of
/// rows of the batch.
pub(crate) type FunctionImpl = Arc<dyn Fn(&[ColumnarValue], usize) -> Result<ColumnarValue> + Send + Sync>;

/// How an argument is cast before the implementation sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Arg {
    /// A string in any encoding (a dictionary is decoded, NULL is Utf8).
    Str,
    /// Any integer, read as Int64.
    Int,
    /// Any number, read as Float64.
    Float,
    /// A number, read as the function's return type.
    Numeric,
    /// Any value with a text form, read as a string.
    Text,
    /// A date or timestamp.
    Temporal,
    /// A value of the return type (for `coalesce`, `greatest`, ...).
    Same,
    /// A constant string naming a date part (`'year'`).
    Part,
}

/// Arity, argument kinds (the last repeats) and a human description.
struct Signature {
    min: usize,
    max: usize,
    kinds: &'static [Arg],
    accepts: &'static str,
}

fn signature(fun: ScalarFunction) -> Signature {
    use Arg::*;
    use ScalarFunction::*;
    let s = |min, max, kinds, accepts| Signature {
        min,
        max,
        kinds,
        accepts,
    };
    let many = usize::MAX;
    match fun {
        Abs | Sign | Ceil | Floor => s(1, 1, &[Numeric], "(number)"),
        Round | Trunc => s(1, 2, &[Numeric, Int], "(number [, digits integer])"),
        Sqrt | Cbrt | Exp | Ln | Log10 | Log2 => s(1, 1, &[Float], "(number)"),
        Power => s(2, 2, &[Float], "(base number, exponent number)"),
        Log => s(1, 2, &[Float], "([base number,] number)"),
        Pi | Random | CurrentDate | Now => s(0, 0, &[], "no arguments"),
        Upper | Lower | CharLength | OctetLength | Reverse | Initcap | Ascii => s(1, 1, &[Str], "(string)"),
        Substr => s(2, 3, &[Str, Int, Int], "(string, start integer [, length integer])"),
        Trim | Ltrim | Rtrim => s(1, 2, &[Str, Str], "(string [, characters string])"),
        Concat => s(1, many, &[Text], "(value, ...)"),
        ConcatWs => s(2, many, &[Str, Text], "(separator string, value, ...)"),
        Replace => s(3, 3, &[Str], "(string, from string, to string)"),
        Strpos | StartsWith | EndsWith => s(2, 2, &[Str], "(string, substring string)"),
        Left | Right => s(2, 2, &[Str, Int], "(string, n integer)"),
        Repeat => s(2, 2, &[Str, Int], "(string, count integer)"),
        Lpad | Rpad => s(2, 3, &[Str, Int, Str], "(string, length integer [, fill string])"),
        SplitPart => s(3, 3, &[Str, Str, Int], "(string, delimiter string, n integer)"),
        Chr => s(1, 1, &[Int], "(code integer)"),
        Coalesce | Greatest | Least => s(1, many, &[Same], "(value, ...) of one type"),
        Nullif => s(2, 2, &[Same], "(value, value) of one type"),
        DatePart => s(2, 2, &[Part, Temporal], "('year' | 'month' | ..., date or timestamp)"),
        DateTrunc => s(2, 2, &[Part, Temporal], "('year' | 'month' | ..., date or timestamp)"),
        MakeDate => s(3, 3, &[Int], "(year integer, month integer, day integer)"),
    }
}

/// Plans a call of `fun` on `args` (already lowered; `logical_args` are
/// the same arguments before lowering). `lazy` lists the input columns the
/// call reads when an argument can fail, for functions that then evaluate
/// arguments only on the rows that need them (`coalesce`).
pub(crate) fn create_function(
    fun: ScalarFunction,
    args: Vec<PhysicalExprRef>,
    logical_args: &[Expr],
    lazy: Option<Vec<usize>>,
) -> Result<PhysicalExprRef> {
    let types: Vec<DataType> = args.iter().map(|a| a.data_type().clone()).collect();
    let sig = signature(fun);
    let mismatch = || {
        let list = types.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ");
        crate::plan_error!("{fun}({list}) is not supported: {fun} takes {}", sig.accepts)
    };
    if types.len() < sig.min || types.len() > sig.max {
        return Err(mismatch());
    }
    let return_type = fun.return_type(&types)?;
    let mut coerced = Vec::with_capacity(args.len());
    for (i, arg) in args.into_iter().enumerate() {
        let Some(kind) = sig.kinds.get(i.min(sig.kinds.len().saturating_sub(1))) else {
            return Err(mismatch());
        };
        match coerce(arg, *kind, &return_type) {
            Some(a) => coerced.push(a?),
            None => return Err(mismatch()),
        }
    }
    if fun == ScalarFunction::Coalesce {
        return Ok(Arc::new(conditional::CoalesceExpr::new(coerced, return_type, lazy)));
    }
    let imp = implementation(fun, logical_args, &return_type)?;
    Ok(Arc::new(ScalarFunctionExpr {
        fun,
        args: coerced,
        imp,
        return_type,
    }))
}

/// `arg` cast for `kind`; `None` when the argument's type does not fit.
fn coerce(arg: PhysicalExprRef, kind: Arg, return_type: &DataType) -> Option<Result<PhysicalExprRef>> {
    let t = arg.data_type().clone();
    let target = match (kind, &t) {
        (_, DataType::Dictionary(_, v)) if kind != Arg::Same => {
            let decoded = match cast_expr(arg, v) {
                Ok(a) => a,
                Err(e) => return Some(Err(e)),
            };
            return coerce(decoded, kind, return_type);
        }
        (Arg::Str | Arg::Part, t) if is_string(t) => t.clone(),
        (Arg::Str | Arg::Part | Arg::Text, DataType::Null) => DataType::Utf8,
        (Arg::Text, t) if is_string(t) => t.clone(),
        (Arg::Text, t) if can_cast_types(t, &DataType::Utf8) => DataType::Utf8,
        (Arg::Int, t) if t.is_integer() || *t == DataType::Null => DataType::Int64,
        (Arg::Float, t) if t.is_numeric() || *t == DataType::Null => DataType::Float64,
        (Arg::Numeric, t) if t.is_numeric() || *t == DataType::Null => return_type.clone(),
        (Arg::Temporal, DataType::Null) => match return_type {
            DataType::Timestamp(..) => return_type.clone(),
            _ => DataType::Date32,
        },
        (Arg::Temporal, DataType::Date32 | DataType::Date64 | DataType::Timestamp(..)) => match return_type {
            // date_trunc of a date computes on timestamps.
            DataType::Timestamp(..) => return_type.clone(),
            _ => t.clone(),
        },
        // nullif(NULL, x) is NULL whatever x is.
        (Arg::Same, t) if *return_type == DataType::Null => t.clone(),
        (Arg::Same, t) if t == return_type || can_cast_types(t, return_type) => return_type.clone(),
        _ => return None,
    };
    Some(cast_expr(arg, &target))
}

fn implementation(fun: ScalarFunction, logical_args: &[Expr], return_type: &DataType) -> Result<FunctionImpl> {
    use ScalarFunction::*;
    Ok(match fun {
        Abs | Ceil | Floor | Round | Trunc | Sqrt | Cbrt | Power | Exp | Ln | Log10 | Log2 | Log | Sign | Pi
        | Random => math::implementation(fun),
        Upper | Lower | CharLength | OctetLength | Strpos | Replace | Reverse | StartsWith | EndsWith | Initcap
        | Ascii | Chr => string::implementation(fun),
        Substr | Trim | Ltrim | Rtrim | Concat | ConcatWs | Left | Right | Lpad | Rpad | Repeat | SplitPart => {
            substring::implementation(fun)
        }
        Nullif | Greatest | Least | Coalesce => conditional::implementation(fun),
        DatePart | DateTrunc | CurrentDate | Now | MakeDate => {
            datetime::implementation(fun, logical_args.first(), return_type)?
        }
    })
}

/// A call of a built-in scalar function on evaluated arguments.
pub struct ScalarFunctionExpr {
    fun: ScalarFunction,
    args: Vec<PhysicalExprRef>,
    imp: FunctionImpl,
    return_type: DataType,
}

impl fmt::Debug for ScalarFunctionExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScalarFunctionExpr")
            .field("fun", &self.fun)
            .field("args", &self.args)
            .field("return_type", &self.return_type)
            .finish()
    }
}

impl fmt::Display for ScalarFunctionExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.fun)?;
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{a}")?;
        }
        f.write_str(")")
    }
}

impl PhysicalExpr for ScalarFunctionExpr {
    fn data_type(&self) -> &DataType {
        &self.return_type
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let args = self
            .args
            .iter()
            .map(|a| a.evaluate(batch))
            .collect::<Result<Vec<_>>>()?;
        let out = (self.imp)(&args, batch.num_rows()).map_err(|e| match e {
            Error::Execution(m) => Error::Execution(format!("{m} in `{self}`")),
            other => other.context(format!("evaluating `{self}`")),
        })?;
        if out.data_type() != self.return_type {
            return Err(Error::Internal(format!(
                "{} returned {} instead of {}",
                self.fun,
                out.data_type(),
                self.return_type
            )));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::Int64Array;

    use crate::functions::ScalarFunction;
    use crate::logical::{Expr, lit};
    use crate::physical::expr::test_util::{batch, eval_err};

    /// Every function, called with plausible constants and then with a
    /// NULL in each argument, plans and evaluates to its declared type.
    #[test]
    fn every_function_is_implemented_and_handles_nulls() {
        use super::{Arg, signature};
        use datafusion_common::ScalarValue;
        let t = batch(vec![("x", Arc::new(Int64Array::from(vec![1, 2])))]);
        for fun in ScalarFunction::all() {
            let sig = signature(*fun);
            let arity = sig.min.max(sig.max.min(2));
            let kinds: Vec<Arg> = (0..arity).map(|i| sig.kinds[i.min(sig.kinds.len() - 1)]).collect();
            let value = |k: Arg| match k {
                Arg::Str | Arg::Text => lit("abc"),
                Arg::Int | Arg::Numeric | Arg::Same => lit(2i64),
                Arg::Float => lit(2.0),
                Arg::Temporal => lit(ScalarValue::Date32(Some(9204))),
                Arg::Part => lit("month"),
            };
            let args: Vec<Expr> = kinds.iter().map(|k| value(*k)).collect();
            crate::physical::expr::test_util::try_eval(&Expr::ScalarFunction(*fun, args.clone()), &t)
                .unwrap_or_else(|e| panic!("{fun}: {e}"));
            for (i, k) in kinds.iter().enumerate() {
                if *k == Arg::Part {
                    continue;
                }
                let mut with_null = args.clone();
                with_null[i] = lit(ScalarValue::Null);
                let e = Expr::ScalarFunction(*fun, with_null);
                crate::physical::expr::test_util::try_eval(&e, &t).unwrap_or_else(|err| panic!("{e}: {err}"));
            }
        }
    }

    #[test]
    fn wrong_arguments_are_plan_errors_naming_the_function() {
        let t = batch(vec![("x", Arc::new(Int64Array::from(vec![1])))]);
        let call = |f, args| Expr::ScalarFunction(f, args);
        let err = eval_err(&call(ScalarFunction::Substr, vec![lit("abc")]), &t);
        assert!(
            err.contains("substr(Utf8) is not supported") && err.contains("start integer"),
            "{err}"
        );
        let err = eval_err(&call(ScalarFunction::Upper, vec![lit(1i64)]), &t);
        assert!(err.contains("upper(Int64)"), "{err}");
        let err = eval_err(&call(ScalarFunction::Pi, vec![lit(1i64)]), &t);
        assert!(err.contains("no arguments"), "{err}");
        let err = eval_err(&call(ScalarFunction::Sqrt, vec![lit("4")]), &t);
        assert!(err.contains("sqrt(Utf8)"), "{err}");
    }
}
