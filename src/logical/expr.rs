//! Logical expressions: what a query computes, before names are bound to
//! column positions.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion_common::{Column, ScalarValue};

use super::plan::LogicalPlan;
use crate::functions::{AggregateFunction, ScalarFunction, ScalarUdf};

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `=`
    Eq,
    /// `<>`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Multiply,
    /// `/`
    Divide,
    /// `%`
    Modulo,
    /// `AND`
    And,
    /// `OR`
    Or,
    /// `||` (string concatenation)
    StringConcat,
    /// `IS DISTINCT FROM`
    IsDistinctFrom,
    /// `IS NOT DISTINCT FROM`
    IsNotDistinctFrom,
}

impl Operator {
    /// True for `= <> < <= > >=` and the distinct-from comparisons.
    pub fn is_comparison(&self) -> bool {
        matches!(
            self,
            Operator::Eq
                | Operator::NotEq
                | Operator::Lt
                | Operator::LtEq
                | Operator::Gt
                | Operator::GtEq
                | Operator::IsDistinctFrom
                | Operator::IsNotDistinctFrom
        )
    }

    /// True for `+ - * / %`.
    pub fn is_arithmetic(&self) -> bool {
        matches!(
            self,
            Operator::Plus | Operator::Minus | Operator::Multiply | Operator::Divide | Operator::Modulo
        )
    }

    /// The comparison with its operands swapped (`a < b` ⇔ `b > a`).
    pub fn swap(&self) -> Option<Operator> {
        Some(match self {
            Operator::Eq => Operator::Eq,
            Operator::NotEq => Operator::NotEq,
            Operator::Lt => Operator::Gt,
            Operator::LtEq => Operator::GtEq,
            Operator::Gt => Operator::Lt,
            Operator::GtEq => Operator::LtEq,
            Operator::IsDistinctFrom => Operator::IsDistinctFrom,
            Operator::IsNotDistinctFrom => Operator::IsNotDistinctFrom,
            _ => return None,
        })
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operator::Eq => "=",
            Operator::NotEq => "<>",
            Operator::Lt => "<",
            Operator::LtEq => "<=",
            Operator::Gt => ">",
            Operator::GtEq => ">=",
            Operator::Plus => "+",
            Operator::Minus => "-",
            Operator::Multiply => "*",
            Operator::Divide => "/",
            Operator::Modulo => "%",
            Operator::And => "AND",
            Operator::Or => "OR",
            Operator::StringConcat => "||",
            Operator::IsDistinctFrom => "IS DISTINCT FROM",
            Operator::IsNotDistinctFrom => "IS NOT DISTINCT FROM",
        })
    }
}

/// A sort key: an expression, its direction and where NULLs go.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SortExpr {
    /// What to sort by.
    pub expr: Expr,
    /// Ascending (`true`) or descending.
    pub asc: bool,
    /// NULLs before (`true`) or after non-NULL values.
    pub nulls_first: bool,
}

impl fmt::Display for SortExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.expr,
            if self.asc { "ASC" } else { "DESC" },
            if self.nulls_first { "NULLS FIRST" } else { "NULLS LAST" }
        )
    }
}

/// A logical expression.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Expr {
    /// A column of the input, possibly qualified by its relation.
    Column(Column),
    /// A column of an enclosing query, referenced from a correlated subquery.
    OuterColumn(DataType, Column),
    /// A constant.
    Literal(ScalarValue),
    /// An expression under another name.
    Alias(Box<Expr>, String),
    /// `left op right`
    Binary(Box<Expr>, Operator, Box<Expr>),
    /// `NOT e`
    Not(Box<Expr>),
    /// `- e`
    Negative(Box<Expr>),
    /// `e IS NULL`
    IsNull(Box<Expr>),
    /// `e IS NOT NULL`
    IsNotNull(Box<Expr>),
    /// `e [NOT] BETWEEN low AND high`
    Between {
        /// The tested value.
        expr: Box<Expr>,
        /// `NOT BETWEEN`
        negated: bool,
        /// Lower bound (inclusive).
        low: Box<Expr>,
        /// Upper bound (inclusive).
        high: Box<Expr>,
    },
    /// `e [NOT] [I]LIKE pattern [ESCAPE c]`
    Like {
        /// `NOT LIKE`
        negated: bool,
        /// The tested string.
        expr: Box<Expr>,
        /// The pattern.
        pattern: Box<Expr>,
        /// `ILIKE`
        case_insensitive: bool,
        /// Escape character.
        escape: Option<char>,
    },
    /// `e [NOT] IN (list)`
    InList {
        /// The tested value.
        expr: Box<Expr>,
        /// The candidates.
        list: Vec<Expr>,
        /// `NOT IN`
        negated: bool,
    },
    /// `CASE [operand] WHEN .. THEN .. [ELSE ..] END`
    Case {
        /// `CASE x WHEN ...` compares `x` with each `WHEN`.
        operand: Option<Box<Expr>>,
        /// The `WHEN`/`THEN` pairs in order.
        when_then: Vec<(Expr, Expr)>,
        /// The `ELSE` value (NULL when absent).
        else_expr: Option<Box<Expr>>,
    },
    /// `CAST(e AS type)`
    Cast(Box<Expr>, DataType),
    /// `TRY_CAST(e AS type)`: NULL instead of an error.
    TryCast(Box<Expr>, DataType),
    /// A scalar function call.
    ScalarFunction(ScalarFunction, Vec<Expr>),
    /// A call of a user-defined scalar function.
    ScalarUdf(Arc<ScalarUdf>, Vec<Expr>),
    /// An aggregate call.
    Aggregate(AggregateCall),
    /// `(SELECT ...)` returning one value.
    ScalarSubquery(Subquery),
    /// `e [NOT] IN (SELECT ...)`
    InSubquery {
        /// The tested value.
        expr: Box<Expr>,
        /// The subquery, returning one column.
        subquery: Subquery,
        /// `NOT IN`
        negated: bool,
    },
    /// `[NOT] EXISTS (SELECT ...)`
    Exists {
        /// The subquery.
        subquery: Subquery,
        /// `NOT EXISTS`
        negated: bool,
    },
}

/// An aggregate function applied to arguments.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AggregateCall {
    /// The function.
    pub func: AggregateFunction,
    /// Its arguments (empty for `count(*)`).
    pub args: Vec<Expr>,
    /// `DISTINCT` inside the call.
    pub distinct: bool,
    /// `FILTER (WHERE ...)`
    pub filter: Option<Box<Expr>>,
}

/// A subquery used inside an expression, with the outer columns it refers
/// to (empty when uncorrelated).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Subquery {
    /// The subquery's plan.
    pub plan: Arc<LogicalPlan>,
    /// Columns of enclosing queries referenced inside it.
    pub outer_refs: Vec<Expr>,
}

/// A column reference by (possibly qualified) name: `col("t.a")`.
pub fn col(name: &str) -> Expr {
    Expr::Column(Column::from_qualified_name(name))
}

/// A literal.
pub fn lit(v: impl Into<ScalarValue>) -> Expr {
    Expr::Literal(v.into())
}

/// Joins predicates with `AND`; `None` for an empty list.
pub fn conjunction(preds: impl IntoIterator<Item = Expr>) -> Option<Expr> {
    preds.into_iter().reduce(|a, b| a.and(b))
}

impl Expr {
    /// `self AND other`
    pub fn and(self, other: Expr) -> Expr {
        Expr::Binary(Box::new(self), Operator::And, Box::new(other))
    }

    /// `self OR other`
    pub fn or(self, other: Expr) -> Expr {
        Expr::Binary(Box::new(self), Operator::Or, Box::new(other))
    }

    /// `self op other`
    pub fn binary(self, op: Operator, other: Expr) -> Expr {
        Expr::Binary(Box::new(self), op, Box::new(other))
    }

    /// `self = other`
    pub fn eq(self, other: Expr) -> Expr {
        self.binary(Operator::Eq, other)
    }

    /// `self AS name`
    pub fn alias(self, name: impl Into<String>) -> Expr {
        match self {
            Expr::Alias(inner, _) => Expr::Alias(inner, name.into()),
            e => Expr::Alias(Box::new(e), name.into()),
        }
    }

    /// `CAST(self AS t)`
    pub fn cast_to(self, t: DataType) -> Expr {
        Expr::Cast(Box::new(self), t)
    }

    /// The expression without a top-level alias.
    pub fn unalias(&self) -> &Expr {
        match self {
            Expr::Alias(e, _) => e.unalias(),
            e => e,
        }
    }

    /// Splits `a AND b AND c` into `[a, b, c]`.
    pub fn split_conjunction(self) -> Vec<Expr> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            match e {
                Expr::Binary(l, Operator::And, r) => {
                    stack.push(*r);
                    stack.push(*l);
                }
                Expr::Alias(inner, _) => stack.push(*inner),
                other => out.push(other),
            }
        }
        out
    }

    /// The output name of the expression (its alias, column name, or its
    /// SQL text).
    pub fn output_name(&self) -> String {
        match self {
            Expr::Alias(_, name) => name.clone(),
            Expr::Column(c) => c.name.clone(),
            other => other.to_string(),
        }
    }
}

/// Binding strength of an operator, for printing parentheses.
fn precedence(op: Operator) -> u8 {
    match op {
        Operator::Or => 1,
        Operator::And => 2,
        Operator::Eq
        | Operator::NotEq
        | Operator::Lt
        | Operator::LtEq
        | Operator::Gt
        | Operator::GtEq
        | Operator::IsDistinctFrom
        | Operator::IsNotDistinctFrom => 3,
        Operator::Plus | Operator::Minus | Operator::StringConcat => 4,
        Operator::Multiply | Operator::Divide | Operator::Modulo => 5,
    }
}

fn associative(op: Operator) -> bool {
    matches!(
        op,
        Operator::And | Operator::Or | Operator::Plus | Operator::Multiply | Operator::StringConcat
    )
}

fn fmt_list(f: &mut fmt::Formatter<'_>, items: &[Expr]) -> fmt::Result {
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{e}")?;
    }
    Ok(())
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Column(c) => write!(f, "{}", c.flat_name()),
            Expr::OuterColumn(_, c) => write!(f, "outer({})", c.flat_name()),
            Expr::Literal(v) => match v {
                ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s)) => {
                    write!(f, "'{}'", s.replace('\'', "''"))
                }
                v if v.is_null() => f.write_str("NULL"),
                ScalarValue::Date32(Some(_)) => write!(f, "DATE '{v}'"),
                v => write!(f, "{v}"),
            },
            Expr::Alias(e, name) => write!(f, "{e} AS {name}"),
            Expr::Binary(l, op, r) => {
                let p = precedence(*op);
                let side = |e: &Expr, right: bool| match e {
                    Expr::Binary(_, o, _)
                        if precedence(*o) < p || (right && precedence(*o) == p && !associative(*op)) =>
                    {
                        format!("({e})")
                    }
                    e => e.to_string(),
                };
                write!(f, "{} {op} {}", side(l, false), side(r, true))
            }
            Expr::Not(e) => write!(f, "NOT {e}"),
            Expr::Negative(e) => write!(f, "(- {e})"),
            Expr::IsNull(e) => write!(f, "{e} IS NULL"),
            Expr::IsNotNull(e) => write!(f, "{e} IS NOT NULL"),
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => write!(
                f,
                "{expr} {}BETWEEN {low} AND {high}",
                if *negated { "NOT " } else { "" }
            ),
            Expr::Like {
                negated,
                expr,
                pattern,
                case_insensitive,
                escape,
            } => {
                write!(
                    f,
                    "{expr} {}{} {pattern}",
                    if *negated { "NOT " } else { "" },
                    if *case_insensitive { "ILIKE" } else { "LIKE" }
                )?;
                if let Some(c) = escape {
                    write!(f, " ESCAPE '{c}'")?;
                }
                Ok(())
            }
            Expr::InList { expr, list, negated } => {
                write!(f, "{expr} {}IN (", if *negated { "NOT " } else { "" })?;
                fmt_list(f, list)?;
                f.write_str(")")
            }
            Expr::Case {
                operand,
                when_then,
                else_expr,
            } => {
                f.write_str("CASE")?;
                if let Some(o) = operand {
                    write!(f, " {o}")?;
                }
                for (w, t) in when_then {
                    write!(f, " WHEN {w} THEN {t}")?;
                }
                if let Some(e) = else_expr {
                    write!(f, " ELSE {e}")?;
                }
                f.write_str(" END")
            }
            Expr::Cast(e, t) => write!(f, "CAST({e} AS {t})"),
            Expr::TryCast(e, t) => write!(f, "TRY_CAST({e} AS {t})"),
            Expr::ScalarFunction(func, args) => {
                write!(f, "{}(", func.name())?;
                fmt_list(f, args)?;
                f.write_str(")")
            }
            Expr::ScalarUdf(udf, args) => {
                write!(f, "{}(", udf.name())?;
                fmt_list(f, args)?;
                f.write_str(")")
            }
            Expr::Aggregate(call) => {
                write!(f, "{}(", call.func.name())?;
                if call.distinct {
                    f.write_str("DISTINCT ")?;
                }
                if call.args.is_empty() {
                    f.write_str("*")?;
                }
                fmt_list(f, &call.args)?;
                f.write_str(")")?;
                if let Some(filter) = &call.filter {
                    write!(f, " FILTER (WHERE {filter})")?;
                }
                Ok(())
            }
            Expr::ScalarSubquery(_) => f.write_str("(<subquery>)"),
            Expr::InSubquery { expr, negated, .. } => {
                write!(f, "{expr} {}IN (<subquery>)", if *negated { "NOT " } else { "" })
            }
            Expr::Exists { negated, .. } => write!(f, "{}EXISTS (<subquery>)", if *negated { "NOT " } else { "" }),
        }
    }
}
