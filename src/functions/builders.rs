//! Builders of function calls for the DataFrame API: one Rust function per
//! SQL aggregate and scalar function (`sum(col("x"))`, `upper(col("s"))`),
//! `count_star()` and `count_distinct(..)`, `when(cond, value)` for `CASE`,
//! and [`call`] for any built-in by its SQL name. They build unresolved
//! expressions; argument types are checked and coerced when a DataFrame
//! method resolves them, exactly as for SQL.

use crate::error::Result;
use crate::logical::{AggregateCall, Expr};
use crate::plan_err;

use super::{AggregateFunction, ScalarFunction};

fn agg(func: AggregateFunction, args: Vec<Expr>, distinct: bool) -> Expr {
    Expr::Aggregate(AggregateCall {
        func,
        args,
        distinct,
        filter: None,
    })
}

macro_rules! aggregate_fn {
    ($(#[$doc:meta])* $name:ident => $func:ident, $distinct:literal, $shown:literal) => {
        $(#[$doc])*
        ///
        /// ```
        /// use flint::functions::*;
        /// use flint::logical::col;
        #[doc = concat!("assert_eq!(", stringify!($name), "(col(\"x\")).to_string(), \"", $shown, "\");")]
        /// ```
        pub fn $name(e: Expr) -> Expr {
            agg(AggregateFunction::$func, vec![e], $distinct)
        }
    };
}

aggregate_fn!(
    /// `count(e)`: the number of rows where `e` is not NULL.
    count => Count, false, "count(x)");
aggregate_fn!(
    /// `count(DISTINCT e)`: the number of distinct non-NULL values.
    count_distinct => Count, true, "count(DISTINCT x)");
aggregate_fn!(
    /// `sum(e)`
    sum => Sum, false, "sum(x)");
aggregate_fn!(
    /// `sum(DISTINCT e)`
    sum_distinct => Sum, true, "sum(DISTINCT x)");
aggregate_fn!(
    /// `avg(e)`
    avg => Avg, false, "avg(x)");
aggregate_fn!(
    /// `avg(e)` under Spark's name.
    mean => Avg, false, "avg(x)");
aggregate_fn!(
    /// `min(e)`
    min => Min, false, "min(x)");
aggregate_fn!(
    /// `max(e)`
    max => Max, false, "max(x)");
aggregate_fn!(
    /// `stddev_samp(e)`: sample standard deviation.
    stddev => StddevSamp, false, "stddev_samp(x)");
aggregate_fn!(
    /// `stddev_pop(e)`: population standard deviation.
    stddev_pop => StddevPop, false, "stddev_pop(x)");
aggregate_fn!(
    /// `var_samp(e)`: sample variance.
    variance => VarSamp, false, "var_samp(x)");
aggregate_fn!(
    /// `var_pop(e)`: population variance.
    var_pop => VarPop, false, "var_pop(x)");
aggregate_fn!(
    /// `bool_and(e)`: true when every non-NULL value is true.
    bool_and => BoolAnd, false, "bool_and(x)");
aggregate_fn!(
    /// `bool_or(e)`: true when some value is true.
    bool_or => BoolOr, false, "bool_or(x)");

/// `count(*)`: the number of rows.
///
/// ```
/// use flint::functions::count_star;
/// assert_eq!(count_star().to_string(), "count(*)");
/// ```
pub fn count_star() -> Expr {
    agg(AggregateFunction::Count, vec![], false)
}

fn scalar(func: ScalarFunction, args: Vec<Expr>) -> Expr {
    Expr::ScalarFunction(func, args)
}

macro_rules! scalar_fn {
    ($(#[$doc:meta])* $name:ident => $func:ident ($($arg:ident),*), $example:literal, $shown:literal) => {
        $(#[$doc])*
        ///
        /// ```
        /// use flint::functions::*;
        /// use flint::logical::{col, lit};
        #[doc = concat!("assert_eq!(", stringify!($name), "(", $example, ").to_string(), \"", $shown, "\");")]
        /// ```
        pub fn $name($($arg: Expr),*) -> Expr {
            scalar(ScalarFunction::$func, vec![$($arg),*])
        }
    };
}

scalar_fn!(/// `abs(x)`
    abs => Abs(x), "col(\"x\")", "abs(x)");
scalar_fn!(/// `ceil(x)`
    ceil => Ceil(x), "col(\"x\")", "ceil(x)");
scalar_fn!(/// `floor(x)`
    floor => Floor(x), "col(\"x\")", "floor(x)");
scalar_fn!(/// `round(x)`: to the nearest integer.
    round => Round(x), "col(\"x\")", "round(x)");
scalar_fn!(/// `round(x, digits)`
    round_to => Round(x, digits), "col(\"x\"), lit(2i64)", "round(x, 2)");
scalar_fn!(/// `trunc(x)`: towards zero.
    trunc => Trunc(x), "col(\"x\")", "trunc(x)");
scalar_fn!(/// `trunc(x, digits)`
    trunc_to => Trunc(x, digits), "col(\"x\"), lit(1i64)", "trunc(x, 1)");
scalar_fn!(/// `sqrt(x)`
    sqrt => Sqrt(x), "col(\"x\")", "sqrt(x)");
scalar_fn!(/// `cbrt(x)`
    cbrt => Cbrt(x), "col(\"x\")", "cbrt(x)");
scalar_fn!(/// `power(base, exponent)`
    power => Power(base, exponent), "col(\"x\"), lit(2)", "power(x, 2)");
scalar_fn!(/// `exp(x)`
    exp => Exp(x), "col(\"x\")", "exp(x)");
scalar_fn!(/// `ln(x)`
    ln => Ln(x), "col(\"x\")", "ln(x)");
scalar_fn!(/// `log10(x)`
    log10 => Log10(x), "col(\"x\")", "log10(x)");
scalar_fn!(/// `log2(x)`
    log2 => Log2(x), "col(\"x\")", "log2(x)");
scalar_fn!(/// `log(base, x)`
    log => Log(base, x), "lit(2), col(\"x\")", "log(2, x)");
scalar_fn!(/// `sign(x)`: -1, 0 or 1.
    sign => Sign(x), "col(\"x\")", "sign(x)");
scalar_fn!(/// `pi()`
    pi => Pi(), "", "pi()");
scalar_fn!(/// `random()`: uniform in [0, 1), per row.
    random => Random(), "", "random()");
scalar_fn!(/// `upper(s)`
    upper => Upper(s), "col(\"s\")", "upper(s)");
scalar_fn!(/// `lower(s)`
    lower => Lower(s), "col(\"s\")", "lower(s)");
scalar_fn!(/// `char_length(s)`: length in characters.
    length => CharLength(s), "col(\"s\")", "char_length(s)");
scalar_fn!(/// `octet_length(s)`: length in bytes.
    octet_length => OctetLength(s), "col(\"s\")", "octet_length(s)");
scalar_fn!(/// `substr(s, start)`: from 1-based `start` to the end.
    substr => Substr(s, start), "col(\"s\"), lit(2i64)", "substr(s, 2)");
scalar_fn!(/// `substr(s, start, len)`
    substring => Substr(s, start, len), "col(\"s\"), lit(2i64), lit(3i64)", "substr(s, 2, 3)");
scalar_fn!(/// `trim(s)`: spaces removed from both ends.
    trim => Trim(s), "col(\"s\")", "trim(s)");
scalar_fn!(/// `ltrim(s)`
    ltrim => Ltrim(s), "col(\"s\")", "ltrim(s)");
scalar_fn!(/// `rtrim(s)`
    rtrim => Rtrim(s), "col(\"s\")", "rtrim(s)");
scalar_fn!(/// `replace(s, from, to)`
    replace => Replace(s, from, to), "col(\"s\"), lit(\"a\"), lit(\"b\")", "replace(s, 'a', 'b')");
scalar_fn!(/// `strpos(s, sub)`: 1-based position of `sub`, 0 if absent.
    strpos => Strpos(s, sub), "col(\"s\"), lit(\"a\")", "strpos(s, 'a')");
scalar_fn!(/// `left(s, n)`
    left => Left(s, n), "col(\"s\"), lit(2)", "left(s, 2)");
scalar_fn!(/// `right(s, n)`
    right => Right(s, n), "col(\"s\"), lit(2)", "right(s, 2)");
scalar_fn!(/// `lpad(s, n, fill)`
    lpad => Lpad(s, n, fill), "col(\"s\"), lit(5), lit(\"*\")", "lpad(s, 5, '*')");
scalar_fn!(/// `rpad(s, n, fill)`
    rpad => Rpad(s, n, fill), "col(\"s\"), lit(5), lit(\"*\")", "rpad(s, 5, '*')");
scalar_fn!(/// `reverse(s)`
    reverse => Reverse(s), "col(\"s\")", "reverse(s)");
scalar_fn!(/// `repeat(s, n)`
    repeat => Repeat(s, n), "col(\"s\"), lit(3)", "repeat(s, 3)");
scalar_fn!(/// `starts_with(s, prefix)`
    starts_with => StartsWith(s, prefix), "col(\"s\"), lit(\"a\")", "starts_with(s, 'a')");
scalar_fn!(/// `ends_with(s, suffix)`
    ends_with => EndsWith(s, suffix), "col(\"s\"), lit(\"a\")", "ends_with(s, 'a')");
scalar_fn!(/// `split_part(s, delimiter, n)`
    split_part => SplitPart(s, delimiter, n), "col(\"s\"), lit(\",\"), lit(2)", "split_part(s, ',', 2)");
scalar_fn!(/// `initcap(s)`: first letter of each word upper case.
    initcap => Initcap(s), "col(\"s\")", "initcap(s)");
scalar_fn!(/// `ascii(s)`: code of the first character.
    ascii => Ascii(s), "col(\"s\")", "ascii(s)");
scalar_fn!(/// `chr(code)`
    chr => Chr(code), "lit(65)", "chr(65)");
scalar_fn!(/// `nullif(a, b)`: NULL when `a = b`, else `a`.
    nullif => Nullif(a, b), "col(\"a\"), lit(0)", "nullif(a, 0)");
scalar_fn!(/// `date_part(part, t)`: `'year'`, `'month'`, `'day'`, ... of a date or timestamp.
    date_part => DatePart(part, t), "lit(\"year\"), col(\"d\")", "date_part('year', d)");
scalar_fn!(/// `date_trunc(part, t)`: `t` truncated to `'year'`, `'month'`, ...
    date_trunc => DateTrunc(part, t), "lit(\"month\"), col(\"d\")", "date_trunc('month', d)");
scalar_fn!(/// `current_date()`
    current_date => CurrentDate(), "", "current_date()");
scalar_fn!(/// `now()`: the current timestamp (UTC).
    now => Now(), "", "now()");
scalar_fn!(/// `make_date(year, month, day)`
    make_date => MakeDate(year, month, day), "lit(2024), lit(2), lit(29)", "make_date(2024, 2, 29)");

macro_rules! variadic_fn {
    ($(#[$doc:meta])* $name:ident => $func:ident, $shown:literal) => {
        $(#[$doc])*
        ///
        /// ```
        /// use flint::functions::*;
        /// use flint::logical::{col, lit};
        #[doc = concat!("assert_eq!(", stringify!($name), "(vec![col(\"a\"), lit(1)]).to_string(), \"", $shown, "\");")]
        /// ```
        pub fn $name(args: Vec<Expr>) -> Expr {
            scalar(ScalarFunction::$func, args)
        }
    };
}

variadic_fn!(/// `concat(a, b, ...)`: the values as text, NULLs skipped.
    concat => Concat, "concat(a, 1)");
variadic_fn!(/// `coalesce(a, b, ...)`: the first non-NULL value.
    coalesce => Coalesce, "coalesce(a, 1)");
variadic_fn!(/// `greatest(a, b, ...)`
    greatest => Greatest, "greatest(a, 1)");
variadic_fn!(/// `least(a, b, ...)`
    least => Least, "least(a, 1)");

/// `concat_ws(separator, a, b, ...)`
///
/// ```
/// use flint::functions::concat_ws;
/// use flint::logical::{col, lit};
/// assert_eq!(concat_ws(lit("-"), vec![col("a"), col("b")]).to_string(), "concat_ws('-', a, b)");
/// ```
pub fn concat_ws(separator: Expr, args: Vec<Expr>) -> Expr {
    scalar(
        ScalarFunction::ConcatWs,
        std::iter::once(separator).chain(args).collect(),
    )
}

/// Any built-in function by its SQL name (aliases included): an aggregate
/// (`"sum"`) or a scalar function (`"substring"`).
///
/// ```
/// use flint::functions::call;
/// use flint::logical::col;
/// assert_eq!(call("length", vec![col("s")]).unwrap().to_string(), "char_length(s)");
/// assert_eq!(call("AVG", vec![col("x")]).unwrap().to_string(), "avg(x)");
/// assert!(call("nope", vec![]).unwrap_err().to_string().contains("unknown function nope()"));
/// ```
pub fn call(name: &str, args: Vec<Expr>) -> Result<Expr> {
    if let Some(a) = AggregateFunction::from_name(name) {
        return Ok(agg(a, args, false));
    }
    match ScalarFunction::from_name(name) {
        Some(f) => Ok(scalar(f, args)),
        None => {
            let names: Vec<String> = ScalarFunction::all().iter().map(|f| f.name().to_string()).collect();
            let hint = crate::sql::closest(name, &names);
            if hint.is_empty() {
                plan_err!("unknown function {name}()")
            } else {
                plan_err!("unknown function {name}(); did you mean {}?", hint.join(", "))
            }
        }
    }
}

/// `CASE WHEN cond THEN value ...`: add branches with
/// [`CaseBuilder::when`], finish with [`CaseBuilder::otherwise`] (or
/// [`CaseBuilder::end`] for NULL when no branch matches).
///
/// ```
/// use flint::functions::when;
/// use flint::logical::{col, lit};
/// let e = when(col("x").lt(lit(0)), lit("neg")).when(col("x").eq(lit(0)), lit("zero")).otherwise(lit("pos"));
/// assert_eq!(e.to_string(), "CASE WHEN x < 0 THEN 'neg' WHEN x = 0 THEN 'zero' ELSE 'pos' END");
/// ```
pub fn when(cond: Expr, value: Expr) -> CaseBuilder {
    CaseBuilder {
        operand: None,
        when_then: vec![(cond, value)],
    }
}

/// `CASE operand WHEN v1 THEN r1 ...`: compares `operand` with each `WHEN`
/// value.
///
/// ```
/// use flint::functions::case;
/// use flint::logical::{col, lit};
/// let e = case(col("x")).when(lit(1), lit("one")).end();
/// assert_eq!(e.to_string(), "CASE x WHEN 1 THEN 'one' END");
/// ```
pub fn case(operand: Expr) -> CaseBuilder {
    CaseBuilder {
        operand: Some(Box::new(operand)),
        when_then: vec![],
    }
}

/// A `CASE` expression under construction (see [`when`] and [`case`]).
#[derive(Clone, Debug)]
pub struct CaseBuilder {
    operand: Option<Box<Expr>>,
    when_then: Vec<(Expr, Expr)>,
}

impl CaseBuilder {
    /// Adds a branch: `WHEN cond THEN value`.
    ///
    /// ```
    /// use flint::functions::when;
    /// use flint::logical::{col, lit};
    /// let e = when(col("a"), lit(1)).when(col("b"), lit(2)).end();
    /// assert_eq!(e.to_string(), "CASE WHEN a THEN 1 WHEN b THEN 2 END");
    /// ```
    pub fn when(mut self, cond: Expr, value: Expr) -> CaseBuilder {
        self.when_then.push((cond, value));
        self
    }

    /// Finishes with `ELSE value`.
    ///
    /// ```
    /// use flint::functions::when;
    /// use flint::logical::{col, lit};
    /// assert_eq!(when(col("a"), lit(1)).otherwise(lit(0)).to_string(), "CASE WHEN a THEN 1 ELSE 0 END");
    /// ```
    pub fn otherwise(self, value: Expr) -> Expr {
        Expr::Case {
            operand: self.operand,
            when_then: self.when_then,
            else_expr: Some(Box::new(value)),
        }
    }

    /// Finishes without `ELSE`: NULL when no branch matches.
    ///
    /// ```
    /// use flint::functions::when;
    /// use flint::logical::{col, lit};
    /// assert_eq!(when(col("a"), lit(1)).end().to_string(), "CASE WHEN a THEN 1 END");
    /// ```
    pub fn end(self) -> Expr {
        Expr::Case {
            operand: self.operand,
            when_then: self.when_then,
            else_expr: None,
        }
    }
}
