//! Helpers for the expression tests: build a batch, plan a logical
//! expression over it, evaluate it, and check that the physical type is
//! the logical type, both as planned and as evaluated.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef};
use arrow::datatypes::{Field, Schema};
use arrow::record_batch::RecordBatch;
use datafusion_common::{DFSchema, ScalarValue};

use super::create_physical_expr;
use crate::logical::{Expr, ExprSchema};

/// A batch of the given named columns (all nullable).
pub fn batch(cols: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = cols
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    let arrays = cols.into_iter().map(|(_, a)| a).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()
}

/// The batch's schema, with columns qualified by `t`.
pub fn schema_of(batch: &RecordBatch) -> DFSchema {
    DFSchema::try_from_qualified_schema("t", batch.schema().as_ref()).unwrap()
}

/// Plans and evaluates `expr` over `batch`, checking types on the way.
pub fn eval(expr: &Expr, batch: &RecordBatch) -> ArrayRef {
    match try_eval(expr, batch) {
        Ok(a) => a,
        Err(e) => panic!("evaluating {expr}: {e}"),
    }
}

/// Like [`eval`] but returns the error.
pub fn try_eval(expr: &Expr, batch: &RecordBatch) -> crate::Result<ArrayRef> {
    let schema = schema_of(batch);
    let physical = create_physical_expr(expr, &schema)?;
    let logical = expr.get_type(&schema)?;
    assert_eq!(physical.data_type(), &logical, "planned type of {expr}");
    let value = physical.evaluate(batch)?;
    assert_eq!(&value.data_type(), physical.data_type(), "evaluated type of {physical}");
    let array = value.into_array(batch.num_rows())?;
    assert_eq!(array.len(), batch.num_rows(), "length of {physical}");
    Ok(array)
}

/// The error planning or evaluating `expr` gives, as text.
pub fn eval_err(expr: &Expr, batch: &RecordBatch) -> String {
    match try_eval(expr, batch) {
        Ok(a) => panic!("{expr} should fail but gave {a:?}"),
        Err(e) => e.to_string(),
    }
}

/// The values of `expr` over `batch` as scalars, for table-driven tests.
pub fn values(expr: &Expr, batch: &RecordBatch) -> Vec<ScalarValue> {
    let a = eval(expr, batch);
    (0..a.len())
        .map(|i| ScalarValue::try_from_array(&a, i).unwrap())
        .collect()
}

/// An empty batch with a single row, for constant expressions.
pub fn one_row() -> RecordBatch {
    RecordBatch::try_new_with_options(
        Arc::new(Schema::empty()),
        vec![],
        &arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(1)),
    )
    .unwrap()
}
