//! The expression builder of the DataFrame API: comparison, predicate and
//! sort methods on [`Expr`], and the arithmetic and logical operators
//! through Rust's operator traits, so that
//! `col("a").gt(lit(5)).and(col("b").is_not_null())` and
//! `(col("price") * (lit(1) - col("discount"))).alias("net")` read as they
//! would in Spark. Expressions built here are unresolved: a DataFrame
//! method resolves them against its input (see [`super::resolve`]).

use std::ops;

use arrow::datatypes::DataType;

use super::expr::{Expr, Operator, SortExpr};

impl Expr {
    /// `self <> other`
    ///
    /// ```
    /// use flint::logical::{col, lit};
    /// assert_eq!(col("a").not_eq(lit(1)).to_string(), "a <> 1");
    /// ```
    pub fn not_eq(self, other: Expr) -> Expr {
        self.binary(Operator::NotEq, other)
    }

    /// `self > other`
    ///
    /// ```
    /// use flint::logical::{col, lit};
    /// assert_eq!(col("a").gt(lit(5)).and(col("b").is_not_null()).to_string(), "a > 5 AND b IS NOT NULL");
    /// ```
    pub fn gt(self, other: Expr) -> Expr {
        self.binary(Operator::Gt, other)
    }

    /// `self >= other`
    ///
    /// ```
    /// use flint::logical::{col, lit};
    /// assert_eq!(col("a").gt_eq(lit(5)).to_string(), "a >= 5");
    /// ```
    pub fn gt_eq(self, other: Expr) -> Expr {
        self.binary(Operator::GtEq, other)
    }

    /// `self < other`
    ///
    /// ```
    /// use flint::logical::{col, lit};
    /// assert_eq!(col("a").lt(lit(5)).to_string(), "a < 5");
    /// ```
    pub fn lt(self, other: Expr) -> Expr {
        self.binary(Operator::Lt, other)
    }

    /// `self <= other`
    ///
    /// ```
    /// use flint::logical::{col, lit};
    /// assert_eq!(col("a").lt_eq(lit(5)).to_string(), "a <= 5");
    /// ```
    pub fn lt_eq(self, other: Expr) -> Expr {
        self.binary(Operator::LtEq, other)
    }

    /// `self IS NOT DISTINCT FROM other`: equality where NULL equals NULL
    /// (Spark's `<=>`).
    ///
    /// ```
    /// use flint::logical::{col, lit};
    /// assert_eq!(col("a").eq_null_safe(lit(1)).to_string(), "a IS NOT DISTINCT FROM 1");
    /// ```
    pub fn eq_null_safe(self, other: Expr) -> Expr {
        self.binary(Operator::IsNotDistinctFrom, other)
    }

    /// `self || other` (string concatenation).
    ///
    /// ```
    /// use flint::logical::{col, lit};
    /// assert_eq!(col("a").concat(lit("!")).to_string(), "a || '!'");
    /// ```
    pub fn concat(self, other: Expr) -> Expr {
        self.binary(Operator::StringConcat, other)
    }

    /// `self IS NULL`
    ///
    /// ```
    /// use flint::logical::col;
    /// assert_eq!(col("a").is_null().to_string(), "a IS NULL");
    /// ```
    pub fn is_null(self) -> Expr {
        Expr::IsNull(Box::new(self))
    }

    /// `self IS NOT NULL`
    ///
    /// ```
    /// use flint::logical::col;
    /// assert_eq!(col("a").is_not_null().to_string(), "a IS NOT NULL");
    /// ```
    pub fn is_not_null(self) -> Expr {
        Expr::IsNotNull(Box::new(self))
    }

    /// `self [NOT] IN (list)`
    ///
    /// ```
    /// use flint::logical::{col, lit};
    /// assert_eq!(col("a").in_list(vec![lit(1), lit(2)], false).to_string(), "a IN (1, 2)");
    /// assert_eq!(col("a").in_list(vec![lit(1)], true).to_string(), "a NOT IN (1)");
    /// ```
    pub fn in_list(self, list: Vec<Expr>, negated: bool) -> Expr {
        Expr::InList {
            expr: Box::new(self),
            list,
            negated,
        }
    }

    /// `self LIKE pattern` (`%` any string, `_` one character).
    ///
    /// ```
    /// use flint::logical::{col, lit};
    /// assert_eq!(col("s").like(lit("a%")).to_string(), "s LIKE 'a%'");
    /// ```
    pub fn like(self, pattern: Expr) -> Expr {
        self.like_impl(pattern, false, false)
    }

    /// `self NOT LIKE pattern`
    ///
    /// ```
    /// use flint::logical::{col, lit};
    /// assert_eq!(col("s").not_like(lit("a%")).to_string(), "s NOT LIKE 'a%'");
    /// ```
    pub fn not_like(self, pattern: Expr) -> Expr {
        self.like_impl(pattern, true, false)
    }

    /// `self ILIKE pattern` (case-insensitive `LIKE`).
    ///
    /// ```
    /// use flint::logical::{col, lit};
    /// assert_eq!(col("s").ilike(lit("A%")).to_string(), "s ILIKE 'A%'");
    /// ```
    pub fn ilike(self, pattern: Expr) -> Expr {
        self.like_impl(pattern, false, true)
    }

    fn like_impl(self, pattern: Expr, negated: bool, case_insensitive: bool) -> Expr {
        Expr::Like {
            negated,
            expr: Box::new(self),
            pattern: Box::new(pattern),
            case_insensitive,
            escape: None,
        }
    }

    /// `self BETWEEN low AND high` (both ends included).
    ///
    /// ```
    /// use flint::logical::{col, lit};
    /// assert_eq!(col("a").between(lit(1), lit(9)).to_string(), "a BETWEEN 1 AND 9");
    /// ```
    pub fn between(self, low: Expr, high: Expr) -> Expr {
        self.between_impl(low, high, false)
    }

    /// `self NOT BETWEEN low AND high`
    ///
    /// ```
    /// use flint::logical::{col, lit};
    /// assert_eq!(col("a").not_between(lit(1), lit(9)).to_string(), "a NOT BETWEEN 1 AND 9");
    /// ```
    pub fn not_between(self, low: Expr, high: Expr) -> Expr {
        self.between_impl(low, high, true)
    }

    fn between_impl(self, low: Expr, high: Expr, negated: bool) -> Expr {
        Expr::Between {
            expr: Box::new(self),
            negated,
            low: Box::new(low),
            high: Box::new(high),
        }
    }

    /// `CAST(self AS t)`: fails the query on a value that does not convert.
    ///
    /// ```
    /// use arrow::datatypes::DataType;
    /// use flint::logical::col;
    /// assert_eq!(col("a").cast(DataType::Float64).to_string(), "CAST(a AS Float64)");
    /// ```
    pub fn cast(self, t: DataType) -> Expr {
        Expr::Cast(Box::new(self), t)
    }

    /// `TRY_CAST(self AS t)`: NULL for a value that does not convert.
    ///
    /// ```
    /// use arrow::datatypes::DataType;
    /// use flint::logical::col;
    /// assert_eq!(col("a").try_cast(DataType::Int64).to_string(), "TRY_CAST(a AS Int64)");
    /// ```
    pub fn try_cast(self, t: DataType) -> Expr {
        Expr::TryCast(Box::new(self), t)
    }

    /// A sort key: ascending or not, NULLs first or last.
    ///
    /// ```
    /// use flint::logical::col;
    /// assert_eq!(col("a").sort(false, true).to_string(), "a DESC NULLS FIRST");
    /// ```
    pub fn sort(self, asc: bool, nulls_first: bool) -> SortExpr {
        SortExpr {
            expr: self,
            asc,
            nulls_first,
        }
    }

    /// Ascending, NULLs last (SQL's `ORDER BY x`).
    ///
    /// ```
    /// use flint::logical::col;
    /// assert_eq!(col("a").asc().to_string(), "a ASC NULLS LAST");
    /// ```
    pub fn asc(self) -> SortExpr {
        self.sort(true, false)
    }

    /// Descending, NULLs first (SQL's `ORDER BY x DESC`).
    ///
    /// ```
    /// use flint::logical::col;
    /// assert_eq!(col("a").desc().to_string(), "a DESC NULLS FIRST");
    /// ```
    pub fn desc(self) -> SortExpr {
        self.sort(false, true)
    }
}

macro_rules! binary_op {
    ($trait:ident, $method:ident, $op:ident, $sym:literal) => {
        #[doc = concat!("`a ", $sym, " b`")]
        ///
        /// ```
        /// use flint::logical::{col, lit};
        #[doc = concat!("assert_eq!((col(\"a\") ", $sym, " lit(2)).to_string(), \"a ", $sym, " 2\");")]
        /// ```
        impl ops::$trait for Expr {
            type Output = Expr;
            fn $method(self, rhs: Expr) -> Expr {
                self.binary(Operator::$op, rhs)
            }
        }
    };
}

binary_op!(Add, add, Plus, "+");
binary_op!(Sub, sub, Minus, "-");
binary_op!(Mul, mul, Multiply, "*");
binary_op!(Div, div, Divide, "/");
binary_op!(Rem, rem, Modulo, "%");

/// `- e`
///
/// ```
/// use flint::logical::col;
/// assert_eq!((-col("a")).to_string(), "(- a)");
/// ```
impl ops::Neg for Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        Expr::Negative(Box::new(self))
    }
}

/// `NOT e`
///
/// ```
/// use flint::logical::col;
/// assert_eq!((!col("p")).to_string(), "NOT p");
/// ```
impl ops::Not for Expr {
    type Output = Expr;
    fn not(self) -> Expr {
        Expr::Not(Box::new(self))
    }
}

#[cfg(test)]
mod tests {
    use crate::logical::{col, lit};

    #[test]
    fn operators_nest_with_precedence() {
        let e = col("p") * (lit(1) - col("d"));
        assert_eq!(e.to_string(), "p * (1 - d)");
        let e = (col("a") + col("b")) % lit(3);
        assert_eq!(e.to_string(), "(a + b) % 3");
        assert_eq!((col("a") / col("b")).to_string(), "a / b");
        assert_eq!(col("a").gt(lit(1)).or(!col("b")).to_string(), "a > 1 OR NOT b");
    }
}
