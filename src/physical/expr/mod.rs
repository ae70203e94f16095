//! Physical expressions: logical expressions bound to column positions of
//! an input batch, evaluated a whole batch at a time with Arrow kernels.
//!
//! [`create_physical_expr`] lowers an [`Expr`](crate::logical::Expr) over a
//! `DFSchema` into a tree of [`PhysicalExpr`]s. Every node knows its output
//! type at creation (always the type the logical expression declares) and
//! evaluates to a [`ColumnarValue`]: an array with one value per row, or a
//! scalar standing for every row, so that `col < 5` never materializes the
//! literal. Kernels see scalars as [`arrow::array::Scalar`] datums.
//!
//! Files, from the leaves up:
//! - `column`: column references (`l_quantity@4`) and literals;
//! - `kernels`: Arrow kernels over scalar-or-array values;
//! - `binary`: arithmetic, comparison and `||`;
//! - `logic`: `AND`/`OR` (Kleene), right operand only where needed;
//! - `unary`: `NOT`, unary minus, `IS [NOT] NULL`;
//! - `between`, `in_list`, `like`: the remaining predicates;
//! - `cast`: `CAST` (errors) and `TRY_CAST` (NULLs);
//! - `select` and `case`: evaluation on subsets of rows, so that a branch
//!   not taken is never evaluated (and cannot fail);
//! - `functions/`: the built-in scalar functions, by theme;
//! - `udf`: calls of user-defined functions, with their failures caught;
//! - `coerce`: casts that make operand types agree for the kernels;
//! - `planner`: the lowering itself, and constant evaluation for the
//!   optimizer.

use std::fmt::{Debug, Display};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Datum, Scalar};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use datafusion_common::ScalarValue;

use crate::error::Result;

mod between;
mod binary;
mod case;
mod cast;
mod coerce;
mod column;
mod decimal;
mod functions;
mod in_list;
mod kernels;
mod like;
mod logic;
mod planner;
mod select;
#[cfg(test)]
mod test_util;
mod udf;
mod unary;
mod view_eq;

pub use column::{ColumnExpr, LiteralExpr};
pub use planner::{create_physical_expr, evaluate_constant};

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

    /// True for a value that stands for every row.
    pub fn is_scalar(&self) -> bool {
        matches!(self, ColumnarValue::Scalar(_))
    }

    /// The value as a kernel operand: arrays stay arrays, scalars become a
    /// one-element array flagged as scalar.
    pub(crate) fn to_datum(&self) -> Result<Operand> {
        Ok(match self {
            ColumnarValue::Array(a) => Operand::Array(Arc::clone(a)),
            ColumnarValue::Scalar(s) => Operand::Scalar(s.to_scalar()?),
        })
    }

    /// Wraps a kernel's result: a scalar when every operand was a scalar
    /// (the kernel then returned one row), an array otherwise.
    pub(crate) fn from_kernel(array: ArrayRef, all_scalar: bool) -> Result<ColumnarValue> {
        Ok(if all_scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&array, 0)?)
        } else {
            ColumnarValue::Array(array)
        })
    }
}

/// A [`ColumnarValue`] in the form Arrow's kernels take.
#[derive(Debug)]
pub(crate) enum Operand {
    /// One value per row.
    Array(ArrayRef),
    /// One value for all rows.
    Scalar(Scalar<ArrayRef>),
}

impl Datum for Operand {
    fn get(&self) -> (&dyn Array, bool) {
        match self {
            Operand::Array(a) => (a.as_ref(), false),
            Operand::Scalar(s) => s.get(),
        }
    }
}

/// An expression evaluated over record batches.
pub trait PhysicalExpr: Send + Sync + Debug + Display {
    /// The type of the values it produces.
    fn data_type(&self) -> &DataType;
    /// Evaluates the expression over every row of `batch`.
    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue>;
    /// The input column this expression is, when it is just one.
    fn column_index(&self) -> Option<usize> {
        None
    }
}

/// A shared physical expression.
pub type PhysicalExprRef = Arc<dyn PhysicalExpr>;
