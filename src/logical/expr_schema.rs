//! The type, nullability and output field of an expression over a schema.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, IntervalUnit, TimeUnit};
use datafusion_common::{DFSchema, TableReference};

use super::expr::{Expr, Operator};
use crate::error::Result;
use crate::functions::{AggregateFunction, DECIMAL128_MAX_PRECISION};
use crate::plan_err;

/// Type information of an [`Expr`] evaluated over a schema.
pub trait ExprSchema {
    /// The Arrow type of the expression's values.
    fn get_type(&self, schema: &DFSchema) -> Result<DataType>;
    /// Whether the expression can be NULL.
    fn nullable(&self, schema: &DFSchema) -> Result<bool>;
    /// The field the expression produces as an output column: columns keep
    /// their relation, other expressions are unqualified.
    fn to_qualified_field(&self, schema: &DFSchema) -> Result<(Option<TableReference>, Arc<Field>)>;
}

impl ExprSchema for Expr {
    fn get_type(&self, schema: &DFSchema) -> Result<DataType> {
        Ok(match self {
            Expr::Column(c) => schema.qualified_field_from_column(c)?.1.data_type().clone(),
            Expr::OuterColumn(t, _) => t.clone(),
            Expr::Literal(v) => v.data_type(),
            Expr::Alias(e, _) | Expr::Negative(e) => e.get_type(schema)?,
            Expr::Binary(l, op, r) => binary_type(&l.get_type(schema)?, *op, &r.get_type(schema)?)?,
            Expr::Not(_)
            | Expr::IsNull(_)
            | Expr::IsNotNull(_)
            | Expr::Between { .. }
            | Expr::Like { .. }
            | Expr::InList { .. }
            | Expr::InSubquery { .. }
            | Expr::Exists { .. } => DataType::Boolean,
            Expr::Case {
                when_then, else_expr, ..
            } => {
                let mut t = DataType::Null;
                for (_, then) in when_then {
                    t = then.get_type(schema)?;
                    if t != DataType::Null {
                        return Ok(t);
                    }
                }
                if let Some(e) = else_expr {
                    t = e.get_type(schema)?;
                }
                t
            }
            Expr::Cast(_, t) | Expr::TryCast(_, t) => t.clone(),
            Expr::ScalarFunction(f, args) => {
                let types = args.iter().map(|a| a.get_type(schema)).collect::<Result<Vec<_>>>()?;
                f.return_type(&types)?
            }
            Expr::ScalarUdf(udf, _) => udf.return_type().clone(),
            Expr::Aggregate(call) => {
                let arg = call.args.first().map(|a| a.get_type(schema)).transpose()?;
                call.func.return_type(arg.as_ref())?
            }
            Expr::ScalarSubquery(s) => match s.plan.schema().fields().first() {
                Some(f) => f.data_type().clone(),
                None => plan_err!("a scalar subquery must return one column"),
            },
        })
    }

    fn nullable(&self, schema: &DFSchema) -> Result<bool> {
        Ok(match self {
            Expr::Column(c) => schema.qualified_field_from_column(c)?.1.is_nullable(),
            Expr::Literal(v) => v.is_null(),
            Expr::Alias(e, _) | Expr::Negative(e) | Expr::Not(e) | Expr::Cast(e, _) => e.nullable(schema)?,
            Expr::Binary(l, op, r) => {
                !matches!(op, Operator::IsDistinctFrom | Operator::IsNotDistinctFrom)
                    && (l.nullable(schema)? || r.nullable(schema)? || matches!(op, Operator::Divide | Operator::Modulo))
            }
            Expr::IsNull(_) | Expr::IsNotNull(_) | Expr::Exists { .. } => false,
            Expr::Aggregate(call) => call.func != AggregateFunction::Count,
            _ => true,
        })
    }

    fn to_qualified_field(&self, schema: &DFSchema) -> Result<(Option<TableReference>, Arc<Field>)> {
        let t = self.get_type(schema)?;
        let nullable = self.nullable(schema)?;
        Ok(match self {
            Expr::Column(c) => (c.relation.clone(), Arc::new(Field::new(&c.name, t, nullable))),
            other => (None, Arc::new(Field::new(other.output_name(), t, nullable))),
        })
    }
}

/// The result type of `l op r`, for operands already coerced to types the
/// operator accepts. Decimal results follow Arrow's kernels, so that the
/// plan's type is the type the kernel produces.
pub fn binary_type(l: &DataType, op: Operator, r: &DataType) -> Result<DataType> {
    use DataType::*;
    if op.is_comparison() || matches!(op, Operator::And | Operator::Or) {
        return Ok(Boolean);
    }
    if op == Operator::StringConcat {
        return Ok(Utf8);
    }
    Ok(match (l, r) {
        (Null, t) | (t, Null) => t.clone(),
        (Decimal128(p1, s1), Decimal128(p2, s2)) => {
            let (p1, s1, p2, s2) = (*p1 as i16, *s1 as i16, *p2 as i16, *s2 as i16);
            let max = DECIMAL128_MAX_PRECISION as i16;
            let (p, s) = match op {
                Operator::Plus | Operator::Minus => {
                    let s = s1.max(s2);
                    ((p1 - s1).max(p2 - s2) + s + 1, s)
                }
                Operator::Multiply => (p1 + p2 + 1, s1 + s2),
                Operator::Divide => {
                    let s = (s1 + 4).min(max);
                    (p1 - s1 + s2 + s, s)
                }
                _ => {
                    let s = s1.max(s2);
                    ((p1 - s1).max(p2 - s2) + s, s)
                }
            };
            Decimal128(p.min(max) as u8, s as i8)
        }
        (Date32, Interval(_)) if matches!(op, Operator::Plus | Operator::Minus) => Date32,
        (Interval(_), Date32) if op == Operator::Plus => Date32,
        (Date32, Date32) if op == Operator::Minus => Int64,
        (t @ Timestamp(..), Interval(_)) if matches!(op, Operator::Plus | Operator::Minus) => t.clone(),
        (Timestamp(u, _), Timestamp(..)) if op == Operator::Minus => Duration(*u),
        (Interval(IntervalUnit::MonthDayNano), Interval(_)) => Interval(IntervalUnit::MonthDayNano),
        (a, b) if a == b && a.is_numeric() => a.clone(),
        (a, b) if a.is_numeric() && b.is_numeric() => {
            plan_err!("internal: operands of {op} were not coerced to one type ({a} and {b})")
        }
        (a, b) => plan_err!("cannot apply {op} to {a} and {b}"),
    })
}

/// A timestamp type with nanosecond precision, as used for `now()`.
pub fn timestamp_ns() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_arithmetic_matches_arrow_kernels() {
        use arrow::array::{Array, Decimal128Array};
        use arrow::compute::kernels::numeric;
        for ((p1, s1), (p2, s2)) in [
            ((15, 2), (15, 2)),
            ((15, 2), (3, 2)),
            ((25, 4), (12, 0)),
            ((38, 10), (10, 2)),
        ] {
            let a = Decimal128Array::from(vec![100])
                .with_precision_and_scale(p1, s1)
                .unwrap();
            let b = Decimal128Array::from(vec![300])
                .with_precision_and_scale(p2, s2)
                .unwrap();
            let ops: [(Operator, fn(&dyn arrow::array::Datum, &dyn arrow::array::Datum) -> _); 4] = [
                (Operator::Plus, numeric::add),
                (Operator::Minus, numeric::sub),
                (Operator::Multiply, numeric::mul),
                (Operator::Divide, numeric::div),
            ];
            for (op, kernel) in ops {
                let got = kernel(&a, &b).map(|r| r.data_type().clone());
                let ours = binary_type(a.data_type(), op, b.data_type()).unwrap();
                if let Ok(arrow_type) = got {
                    assert_eq!(ours, arrow_type, "{op} on ({p1},{s1}) and ({p2},{s2})");
                }
            }
        }
        assert!(binary_type(&DataType::Utf8, Operator::Plus, &DataType::Int64).is_err());
    }
}
