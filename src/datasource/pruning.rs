//! Skipping data by min/max statistics: given what is known about a column
//! in a unit of data (a Parquet row group), decide whether a predicate can
//! be true for any of its rows.
//!
//! Understood shapes: `col op literal` (either side, `= <> < <= > >=`),
//! `col [NOT] BETWEEN a AND b`, `col [NOT] IN (literals)`, `col IS [NOT]
//! NULL`, `AND` (skip if either side skips) and `OR` (skip if both do). The
//! column may be wrapped in an order-preserving `CAST` (numeric to numeric,
//! string to string, between dates and timestamps), as type coercion leaves
//! it. Literals are cast to the column's type only when the cast round-trips
//! exactly (`5` fits an `Int32`, `5.5` does not). Everything else keeps the
//! data: a wrong skip loses rows, a wrong keep only costs time.

use std::cmp::Ordering;

use arrow::array::{Array, ArrayRef, UInt64Array};
use arrow::datatypes::DataType;
use datafusion_common::ScalarValue;
use datafusion_common::tree_node::{TreeNode, TreeNodeRecursion};
use parquet::arrow::arrow_reader::ArrowReaderMetadata;
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;

use crate::logical::{Expr, Operator};

/// What is known about one column in one unit of data.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ColumnStats {
    /// The type of `min` and `max`.
    pub data_type: DataType,
    /// A lower bound of the non-null values.
    pub min: Option<ScalarValue>,
    /// An upper bound of the non-null values.
    pub max: Option<ScalarValue>,
    /// Exact number of nulls.
    pub null_count: Option<u64>,
    /// Exact number of rows.
    pub row_count: Option<u64>,
}

impl ColumnStats {
    /// Every value is null (so no comparison can be true).
    fn all_null(&self) -> bool {
        matches!((self.null_count, self.row_count), (Some(n), Some(r)) if n == r)
    }

    /// The bounds as seen through an order-preserving cast to `to`.
    fn cast(&self, to: &DataType) -> Option<ColumnStats> {
        if !preserves_order(&self.data_type, to) {
            return None;
        }
        let cast = |v: &Option<ScalarValue>| v.as_ref().and_then(|v| v.cast_to(to).ok());
        Some(ColumnStats {
            data_type: to.clone(),
            min: cast(&self.min),
            max: cast(&self.max),
            ..self.clone()
        })
    }
}

/// Whether `cast(a) <= cast(b)` follows from `a <= b`.
fn preserves_order(from: &DataType, to: &DataType) -> bool {
    use DataType::*;
    let temporal = |t: &DataType| matches!(t, Date32 | Date64 | Timestamp(..));
    (from.is_numeric() && to.is_numeric()) || (from.is_string() && to.is_string()) || (temporal(from) && temporal(to))
}

/// The names of the columns the filters mention.
pub(crate) fn referenced_columns(filters: &[Expr]) -> Vec<String> {
    let mut names = Vec::new();
    for f in filters {
        let _ = f.apply(|e| {
            if let Expr::Column(c) = e
                && !names.contains(&c.name)
            {
                names.push(c.name.clone());
            }
            Ok(TreeNodeRecursion::Continue)
        });
    }
    names
}

/// True when `expr` is certainly not true for any row of the data that
/// `stats` describes (`stats` gives a column's statistics by name).
pub(crate) fn can_skip(expr: &Expr, stats: &dyn Fn(&str) -> Option<ColumnStats>) -> bool {
    match expr {
        Expr::Alias(e, _) => can_skip(e, stats),
        Expr::Binary(l, Operator::And, r) => can_skip(l, stats) || can_skip(r, stats),
        Expr::Binary(l, Operator::Or, r) => can_skip(l, stats) && can_skip(r, stats),
        Expr::Binary(l, op, r) => match (column(l, stats), literal(r)) {
            (Some(s), Some(v)) => skip_compare(&s, *op, &v),
            _ => match (literal(l), column(r, stats), op.swap()) {
                (Some(v), Some(s), Some(op)) => skip_compare(&s, op, &v),
                _ => false,
            },
        },
        Expr::Between {
            expr,
            negated,
            low,
            high,
        } => {
            let (Some(s), Some(lo), Some(hi)) = (column(expr, stats), literal(low), literal(high)) else {
                return false;
            };
            if *negated {
                // Skip when every value lies inside [lo, hi].
                skip_compare(&s, Operator::Lt, &lo) && skip_compare(&s, Operator::Gt, &hi)
            } else {
                skip_compare(&s, Operator::GtEq, &lo) || skip_compare(&s, Operator::LtEq, &hi)
            }
        }
        Expr::InList { expr, list, negated } => {
            let Some(s) = column(expr, stats) else {
                return false;
            };
            let values: Option<Vec<ScalarValue>> = list.iter().map(literal).collect();
            let Some(values) = values else {
                return false;
            };
            if *negated {
                // `x NOT IN (a, b)` is `x <> a AND x <> b`.
                values.iter().any(|v| skip_compare(&s, Operator::NotEq, v))
            } else {
                !values.is_empty() && values.iter().all(|v| skip_compare(&s, Operator::Eq, v))
            }
        }
        Expr::IsNull(e) => column(e, stats).is_some_and(|s| s.null_count == Some(0)),
        Expr::IsNotNull(e) => column(e, stats).is_some_and(|s| s.all_null()),
        _ => false,
    }
}

/// The statistics of a (possibly cast) column reference.
fn column(expr: &Expr, stats: &dyn Fn(&str) -> Option<ColumnStats>) -> Option<ColumnStats> {
    match expr {
        Expr::Column(c) => stats(&c.name),
        Expr::Cast(inner, to) => column(inner, stats)?.cast(to),
        _ => None,
    }
}

/// The value of a (possibly cast) non-null literal.
fn literal(expr: &Expr) -> Option<ScalarValue> {
    match expr {
        Expr::Literal(v) if !v.is_null() => Some(v.clone()),
        Expr::Cast(inner, to) => literal(inner)?.cast_to(to).ok().filter(|v| !v.is_null()),
        _ => None,
    }
}

/// `v` as a value of type `to`, if the conversion is exact.
fn coerce(v: &ScalarValue, to: &DataType) -> Option<ScalarValue> {
    let from = v.data_type();
    if &from == to {
        return Some(v.clone());
    }
    let cast = v.cast_to(to).ok().filter(|c| !c.is_null())?;
    let back = cast.cast_to(&from).ok()?;
    (&back == v).then_some(cast)
}

/// True when `col op v` is false or null for every row.
fn skip_compare(s: &ColumnStats, op: Operator, v: &ScalarValue) -> bool {
    if !op.is_comparison() || matches!(op, Operator::IsDistinctFrom | Operator::IsNotDistinctFrom) {
        return false;
    }
    if s.all_null() {
        return true;
    }
    let Some(v) = coerce(v, &s.data_type) else {
        return false;
    };
    // Float statistics leave out NaN, which sorts above every number: the
    // maximum is no bound.
    let max = if s.data_type.is_floating() {
        None
    } else {
        s.max.as_ref()
    };
    let min = s.min.as_ref();
    let cmp = |bound: Option<&ScalarValue>| bound.and_then(|b| b.partial_cmp(&v));
    use Ordering::*;
    match op {
        Operator::Eq => cmp(min) == Some(Greater) || cmp(max) == Some(Less),
        Operator::NotEq => cmp(min) == Some(Equal) && cmp(max) == Some(Equal),
        Operator::Lt => matches!(cmp(min), Some(Greater | Equal)),
        Operator::LtEq => cmp(min) == Some(Greater),
        Operator::Gt => matches!(cmp(max), Some(Less | Equal)),
        Operator::GtEq => cmp(max) == Some(Less),
        _ => false,
    }
}

/// The row groups of a Parquet file that none of `filters` rules out, by
/// the statistics of the `columns` they mention.
pub(crate) fn kept_row_groups(file: &ArrowReaderMetadata, filters: &[Expr], columns: &[String]) -> Vec<usize> {
    let groups = file.metadata().row_groups();
    if filters.is_empty() {
        return (0..groups.len()).collect();
    }
    let mut stats: Vec<(&str, ArrayRef, ArrayRef, UInt64Array)> = Vec::new();
    for name in columns {
        let Ok(conv) = StatisticsConverter::try_new(name, file.schema(), file.parquet_schema()) else {
            continue;
        };
        // Unknown null counts must not pass for zero (`IS NULL` would skip).
        let conv = conv.with_missing_null_counts_as_zero(false);
        if let (Ok(min), Ok(max), Ok(nulls)) = (
            conv.row_group_mins(groups),
            conv.row_group_maxes(groups),
            conv.row_group_null_counts(groups),
        ) {
            stats.push((name, min, max, nulls));
        }
    }
    let value = |a: &ArrayRef, i: usize| {
        (a.len() > i && a.is_valid(i))
            .then(|| ScalarValue::try_from_array(a, i).ok())
            .flatten()
    };
    (0..groups.len())
        .filter(|&i| {
            let lookup = |name: &str| {
                let (_, min, max, nulls) = stats.iter().find(|s| s.0 == name)?;
                Some(ColumnStats {
                    data_type: min.data_type().clone(),
                    min: value(min, i),
                    max: value(max, i),
                    null_count: (nulls.len() > i && nulls.is_valid(i)).then(|| nulls.value(i)),
                    row_count: u64::try_from(groups[i].num_rows()).ok(),
                })
            };
            !filters.iter().any(|f| can_skip(f, &lookup))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logical::{col, lit};

    fn int_stats(min: i32, max: i32, nulls: u64) -> ColumnStats {
        ColumnStats {
            data_type: DataType::Int32,
            min: Some(ScalarValue::Int32(Some(min))),
            max: Some(ScalarValue::Int32(Some(max))),
            null_count: Some(nulls),
            row_count: Some(100),
        }
    }

    fn skips(e: Expr, s: &ColumnStats) -> bool {
        can_skip(&e, &|name: &str| (name == "x").then(|| s.clone()))
    }

    #[test]
    fn comparisons_against_bounds() {
        let s = int_stats(10, 20, 0);
        let x = || col("x");
        let cases = [
            (x().eq(lit(5i64)), true),
            (x().eq(lit(15i64)), false),
            (x().eq(lit(21i64)), true),
            (x().binary(Operator::Lt, lit(10i64)), true),
            (x().binary(Operator::LtEq, lit(10i64)), false),
            (x().binary(Operator::Gt, lit(20i64)), true),
            (x().binary(Operator::GtEq, lit(20i64)), false),
            (x().binary(Operator::NotEq, lit(15i64)), false),
            (lit(25i64).binary(Operator::Lt, x()), true),
            (lit(15i64).binary(Operator::Lt, x()), false),
            (x().eq(lit(5.5f64)), false),
            (x().eq(lit(ScalarValue::Int64(None))), false),
            (col("y").eq(lit(5i64)), false),
            (x().cast_to(DataType::Int64).binary(Operator::Gt, lit(20i64)), true),
            (x().cast_to(DataType::Utf8).binary(Operator::Gt, lit("3")), false),
        ];
        for (e, expected) in cases {
            assert_eq!(skips(e.clone(), &s), expected, "{e}");
        }
        assert!(skips(col("x").binary(Operator::NotEq, lit(7i64)), &int_stats(7, 7, 3)));
    }

    #[test]
    fn between_in_null_and_boolean_logic() {
        let s = int_stats(10, 20, 0);
        let between = |lo: i64, hi: i64, negated| Expr::Between {
            expr: Box::new(col("x")),
            negated,
            low: Box::new(lit(lo)),
            high: Box::new(lit(hi)),
        };
        let in_list = |v: Vec<i64>, negated| Expr::InList {
            expr: Box::new(col("x")),
            list: v.into_iter().map(lit).collect(),
            negated,
        };
        assert!(skips(between(21, 30, false), &s));
        assert!(!skips(between(0, 10, false), &s));
        assert!(skips(between(0, 30, true), &s));
        assert!(!skips(between(12, 30, true), &s));
        assert!(skips(in_list(vec![1, 25], false), &s));
        assert!(!skips(in_list(vec![1, 15], false), &s));
        assert!(!skips(in_list(vec![15], true), &s));
        assert!(skips(Expr::IsNull(Box::new(col("x"))), &s));
        assert!(!skips(Expr::IsNull(Box::new(col("x"))), &int_stats(10, 20, 1)));
        let all_null = ColumnStats {
            min: None,
            max: None,
            ..int_stats(0, 0, 100)
        };
        assert!(skips(Expr::IsNotNull(Box::new(col("x"))), &all_null));
        assert!(skips(col("x").eq(lit(1i64)), &all_null));

        let no = col("x").eq(lit(15i64));
        let yes = col("x").eq(lit(50i64));
        assert!(skips(no.clone().and(yes.clone()), &s));
        assert!(!skips(no.clone().or(yes.clone()), &s));
        assert!(skips(yes.clone().or(yes.clone()), &s));
        assert!(!skips(Expr::Not(Box::new(yes)), &s));
    }

    #[test]
    fn literals_cast_to_the_column_type() {
        let text = ColumnStats {
            data_type: DataType::Utf8View,
            min: Some(ScalarValue::Utf8View(Some("b".into()))),
            max: Some(ScalarValue::Utf8View(Some("d".into()))),
            null_count: Some(0),
            row_count: Some(10),
        };
        assert!(skips(col("x").eq(lit("a")), &text));
        assert!(!skips(col("x").eq(lit("c")), &text));

        let dec = ColumnStats {
            data_type: DataType::Decimal128(15, 2),
            min: Some(ScalarValue::Decimal128(Some(1000), 15, 2)),
            max: Some(ScalarValue::Decimal128(Some(2000), 15, 2)),
            null_count: Some(0),
            row_count: Some(10),
        };
        // 25.0 as Decimal(3, 1) becomes 25.00; 10.005 has no exact Decimal(15, 2).
        assert!(skips(col("x").eq(lit(ScalarValue::Decimal128(Some(250), 3, 1))), &dec));
        assert!(!skips(
            col("x").eq(lit(ScalarValue::Decimal128(Some(10005), 5, 3))),
            &dec
        ));

        let date = ColumnStats {
            data_type: DataType::Date32,
            min: Some(ScalarValue::Date32(Some(9000))),
            max: Some(ScalarValue::Date32(Some(9100))),
            null_count: Some(0),
            row_count: Some(10),
        };
        assert!(skips(
            col("x").binary(Operator::Lt, lit(ScalarValue::Date32(Some(9000)))),
            &date
        ));
        assert!(skips(col("x").binary(Operator::Gt, lit("1995-01-01")), &date));

        let float = ColumnStats {
            data_type: DataType::Float64,
            min: Some(ScalarValue::Float64(Some(1.0))),
            max: Some(ScalarValue::Float64(Some(2.0))),
            null_count: Some(0),
            row_count: Some(10),
        };
        assert!(skips(col("x").binary(Operator::Lt, lit(0.5f64)), &float));
        assert!(!skips(col("x").binary(Operator::Gt, lit(5.0f64)), &float));
    }

    #[test]
    fn finds_referenced_columns() {
        let f = col("a").eq(lit(1i64)).and(col("b").binary(Operator::Gt, col("a")));
        assert_eq!(referenced_columns(&[f]), vec!["a", "b"]);
    }
}
