//! The leaves of a physical expression: a column of the input batch by
//! position, and a constant.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use datafusion_common::ScalarValue;

use super::{ColumnarValue, PhysicalExpr};
use crate::error::Result;
use crate::internal_err;

/// The column at `index` of the input batch; displays as `name@index`.
#[derive(Debug, Clone)]
pub struct ColumnExpr {
    name: String,
    index: usize,
    data_type: DataType,
}

impl ColumnExpr {
    /// A reference to column `index`, called `name`, of type `data_type`.
    pub fn new(name: impl Into<String>, index: usize, data_type: DataType) -> Self {
        Self {
            name: name.into(),
            index,
            data_type,
        }
    }

    /// The column's position in the input batch.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The column's name (for display only).
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for ColumnExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.index)
    }
}

impl PhysicalExpr for ColumnExpr {
    fn data_type(&self) -> &DataType {
        &self.data_type
    }

    fn column_index(&self) -> Option<usize> {
        Some(self.index)
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        if self.index >= batch.num_columns() {
            internal_err!(
                "column {self} is out of range for a batch of {} columns",
                batch.num_columns()
            );
        }
        let column = batch.column(self.index);
        if column.data_type() != &self.data_type {
            internal_err!(
                "column {self} was planned as {} but the batch holds {}",
                self.data_type,
                column.data_type()
            );
        }
        Ok(ColumnarValue::Array(Arc::clone(column)))
    }
}

/// A constant; displays as SQL (`'text'`, `24`, `NULL`).
#[derive(Debug, Clone)]
pub struct LiteralExpr {
    value: ScalarValue,
    data_type: DataType,
}

impl LiteralExpr {
    /// The constant `value`.
    pub fn new(value: ScalarValue) -> Self {
        let data_type = value.data_type();
        Self { value, data_type }
    }

    /// The constant.
    pub fn value(&self) -> &ScalarValue {
        &self.value
    }
}

impl fmt::Display for LiteralExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The logical literal already prints as SQL.
        write!(f, "{}", crate::logical::Expr::Literal(self.value.clone()))
    }
}

impl PhysicalExpr for LiteralExpr {
    fn data_type(&self) -> &DataType {
        &self.data_type
    }

    fn evaluate(&self, _batch: &RecordBatch) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(self.value.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, Int32Array};
    use arrow::datatypes::{Field, Schema};

    #[test]
    fn column_checks_its_type_and_position() {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int32, true)]));
        let batch = RecordBatch::try_new(schema, vec![Arc::new(Int32Array::from(vec![1, 2]))]).unwrap();
        let ok = ColumnExpr::new("a", 0, DataType::Int32);
        assert_eq!(ok.to_string(), "a@0");
        match ok.evaluate(&batch).unwrap() {
            ColumnarValue::Array(a) => assert_eq!(a.len(), 2),
            other => panic!("{other:?}"),
        }
        assert!(ColumnExpr::new("a", 1, DataType::Int32).evaluate(&batch).is_err());
        assert!(ColumnExpr::new("a", 0, DataType::Utf8).evaluate(&batch).is_err());
    }

    #[test]
    fn literal_displays_as_sql() {
        assert_eq!(LiteralExpr::new(ScalarValue::from("it's")).to_string(), "'it''s'");
        assert_eq!(LiteralExpr::new(ScalarValue::Int32(None)).to_string(), "NULL");
        assert_eq!(LiteralExpr::new(ScalarValue::Int64(Some(24))).to_string(), "24");
    }
}
