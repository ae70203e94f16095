//! Fitting the rows of an `INSERT` to the target table: column order,
//! omitted columns (NULL) and casts to the table's types.

use std::sync::Arc;

use arrow::datatypes::Schema;
use datafusion_common::ScalarValue;

use crate::error::Result;
use crate::logical::coercion::{cast_to, common_type};
use crate::logical::{Expr, ExprSchema, LogicalPlan, Projection};
use crate::plan_err;

/// Projects `plan` onto the table's columns: `columns` names the target
/// columns in order (empty: all, in table order).
pub fn conform(plan: LogicalPlan, table: &Schema, columns: &[String]) -> Result<LogicalPlan> {
    let src = Arc::clone(plan.schema());
    let targets: Vec<usize> = if columns.is_empty() {
        (0..table.fields().len()).collect()
    } else {
        columns
            .iter()
            .map(|c| {
                table
                    .index_of(c)
                    .map_err(|_| crate::plan_error!("table has no column '{c}'"))
            })
            .collect::<Result<_>>()?
    };
    if src.fields().len() != targets.len() {
        plan_err!(
            "INSERT has {} values per row but {} target columns",
            src.fields().len(),
            targets.len()
        );
    }
    let mut exprs = Vec::new();
    for (i, field) in table.fields().iter().enumerate() {
        let e = match targets.iter().position(|&t| t == i) {
            Some(pos) => {
                let (q, f) = src.qualified_field(pos);
                let c = Expr::Column(datafusion_common::Column::new(q.cloned(), f.name()));
                let t = c.get_type(&src)?;
                if common_type(&t, field.data_type()).is_none() {
                    plan_err!(
                        "cannot insert {t} into column {} of type {}",
                        field.name(),
                        field.data_type()
                    );
                }
                cast_to(c, field.data_type(), &src)?
            }
            None => {
                if !field.is_nullable() {
                    plan_err!("column {} is NOT NULL and has no value", field.name());
                }
                Expr::Cast(Box::new(Expr::Literal(ScalarValue::Null)), field.data_type().clone())
            }
        };
        exprs.push(e.alias(field.name()));
    }
    Ok(LogicalPlan::Projection(Projection::try_new(exprs, Arc::new(plan))?))
}
