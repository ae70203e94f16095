//! Test helpers: a tiny physical expression comparing two columns (the real
//! expression evaluator lives in `physical::expr`), and rows as strings.

use std::fmt;

use arrow::array::Array;
use arrow::compute::kernels::cmp;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::error::Result;
use crate::physical::expr::{ColumnarValue, PhysicalExpr};

/// A comparison operator.
#[derive(Clone, Copy, Debug)]
pub(super) enum Op {
    Eq,
    NotEq,
    Lt,
    Gt,
}

/// `#left op #right` over column positions of the joined row.
#[derive(Debug)]
pub(super) struct ColumnCmp {
    left: usize,
    op: Op,
    right: usize,
}

impl ColumnCmp {
    pub(super) fn new(left: usize, op: Op, right: usize) -> Self {
        Self { left, op, right }
    }
}

impl fmt::Display for ColumnCmp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} {:?} #{}", self.left, self.op, self.right)
    }
}

impl PhysicalExpr for ColumnCmp {
    fn data_type(&self) -> &DataType {
        &DataType::Boolean
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let (l, r) = (batch.column(self.left), batch.column(self.right));
        let out = match self.op {
            Op::Eq => cmp::eq(l, r)?,
            Op::NotEq => cmp::neq(l, r)?,
            Op::Lt => cmp::lt(l, r)?,
            Op::Gt => cmp::gt(l, r)?,
        };
        Ok(ColumnarValue::Array(std::sync::Arc::new(out)))
    }
}

/// The rows of `batches` as sorted `a|b|c` strings (NULL shown as `∅`).
pub(super) fn rows(batches: &[RecordBatch]) -> Vec<String> {
    let opts = FormatOptions::default().with_null("∅");
    let mut out = vec![];
    for b in batches {
        let fmts: Vec<_> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts))
            .collect::<std::result::Result<_, _>>()
            .unwrap_or_default();
        for r in 0..b.num_rows() {
            out.push(
                fmts.iter()
                    .map(|f| f.value(r).to_string())
                    .collect::<Vec<_>>()
                    .join("|"),
            );
        }
        assert!(b.columns().iter().all(|c| c.len() == b.num_rows()));
    }
    out.sort();
    out
}
