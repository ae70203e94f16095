//! Physical expressions: logical expressions bound to column positions of
//! an input batch, evaluated a whole batch at a time with Arrow kernels.

use std::fmt::{Debug, Display};
use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use datafusion_common::ScalarValue;

use crate::error::Result;

/// The value of an expression over a batch: a column, or one value for
/// every row.
#[derive(Clone, Debug)]
pub enum ColumnarValue {
    /// One value per row.
    Array(ArrayRef),
    /// The same value for every row.
    Scalar(ScalarValue),
}

impl ColumnarValue {
    /// The value as an array of `num_rows` rows.
    pub fn into_array(self, num_rows: usize) -> Result<ArrayRef> {
        Ok(match self {
            ColumnarValue::Array(a) => a,
            ColumnarValue::Scalar(s) => s.to_array_of_size(num_rows)?,
        })
    }

    /// The value's type.
    pub fn data_type(&self) -> DataType {
        match self {
            ColumnarValue::Array(a) => a.data_type().clone(),
            ColumnarValue::Scalar(s) => s.data_type(),
        }
    }
}

/// An expression evaluated over record batches.
pub trait PhysicalExpr: Send + Sync + Debug + Display {
    /// The type of the values it produces.
    fn data_type(&self) -> &DataType;
    /// Evaluates the expression over every row of `batch`.
    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue>;
}

/// A shared physical expression.
pub type PhysicalExprRef = Arc<dyn PhysicalExpr>;
