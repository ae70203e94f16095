//! Evaluation on subsets of rows, for expressions that must not evaluate
//! an operand on rows that do not need it (`CASE`, `coalesce`).
//!
//! [`Rows`] is the set of rows still undecided: a batch holding just those
//! rows, plus their positions in the original batch. Splitting it by a
//! predicate hands out the matching rows and keeps the others. Only the
//! columns the expression reads are filtered; the others are replaced by
//! (allocation-free) NULL columns, so that column positions stay valid.
//! [`Assembler`] collects the values computed for each subset and puts
//! them back in row order with Arrow's `interleave` kernel.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, NullArray, UInt32Array, new_null_array};
use arrow::compute::kernels::boolean;
use arrow::compute::{CastOptions, cast_with_options, filter, filter_record_batch, interleave, prep_null_mask_filter};
use arrow::datatypes::{DataType, Field, Schema, UInt32Type};
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use datafusion_common::ScalarValue;

use super::ColumnarValue;
use crate::error::{Error, Result};

/// The rows of a batch still to be decided.
#[derive(Debug, Clone)]
pub(crate) struct Rows {
    batch: RecordBatch,
    /// Positions in the original batch; `None` for `0..batch.num_rows()`.
    positions: Option<UInt32Array>,
    /// A value computed once and carried along (the operand of `CASE x`).
    pub carried: Option<ArrayRef>,
}

impl Rows {
    /// Every row of `batch`, keeping only the columns in `used` (sorted).
    pub fn all(batch: &RecordBatch, used: &[usize]) -> Result<Self> {
        let batch = if used.len() == batch.num_columns() {
            batch.clone()
        } else {
            narrow(batch, used)?
        };
        Ok(Self {
            batch,
            positions: None,
            carried: None,
        })
    }

    /// The rows as a batch to evaluate expressions on.
    pub fn batch(&self) -> &RecordBatch {
        &self.batch
    }

    /// How many rows are left.
    pub fn len(&self) -> usize {
        self.batch.num_rows()
    }

    /// True when no row is left.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Hands out the rows where `mask` is TRUE (NULL counts as FALSE) and
    /// keeps the others.
    pub fn split(&mut self, mask: &BooleanArray) -> Result<Rows> {
        if mask.len() != self.len() {
            return Err(Error::Internal(format!(
                "row selection of {} rows for {} rows",
                mask.len(),
                self.len()
            )));
        }
        let mask = if mask.null_count() > 0 {
            prep_null_mask_filter(mask)
        } else {
            mask.clone()
        };
        let hits = mask.true_count();
        if hits == self.len() {
            let none = self.select(&BooleanArray::from(vec![false; self.len()]))?;
            return Ok(std::mem::replace(self, none));
        }
        let matched = self.select(&mask)?;
        if hits > 0 {
            *self = self.select(&boolean::not(&mask)?)?;
        }
        Ok(matched)
    }

    fn select(&self, mask: &BooleanArray) -> Result<Rows> {
        let positions = match &self.positions {
            Some(p) => filter(p, mask)?.as_primitive::<UInt32Type>().clone(),
            None => UInt32Array::from_iter_values(mask.values().set_indices().map(|i| i as u32)),
        };
        Ok(Rows {
            batch: filter_record_batch(&self.batch, mask)?,
            positions: Some(positions),
            carried: self.carried.as_ref().map(|c| filter(c, mask)).transpose()?,
        })
    }

    /// Calls `f(i, position)` for the i-th row left and its position in
    /// the original batch.
    fn for_each_position(&self, mut f: impl FnMut(usize, usize)) {
        match &self.positions {
            None => (0..self.len()).for_each(|i| f(i, i)),
            Some(p) => p.values().iter().enumerate().for_each(|(i, pos)| f(i, *pos as usize)),
        }
    }
}

/// A copy of `batch` where the columns not in `used` are NULL columns.
fn narrow(batch: &RecordBatch, used: &[usize]) -> Result<RecordBatch> {
    let n = batch.num_rows();
    let schema = batch.schema();
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for (i, f) in schema.fields().iter().enumerate() {
        if used.binary_search(&i).is_ok() {
            fields.push(Arc::clone(f));
            columns.push(Arc::clone(batch.column(i)));
        } else {
            fields.push(Arc::new(Field::new(f.name(), DataType::Null, true)));
            columns.push(Arc::new(NullArray::new(n)));
        }
    }
    let options = RecordBatchOptions::new().with_row_count(Some(n));
    Ok(RecordBatch::try_new_with_options(
        Arc::new(Schema::new(fields)),
        columns,
        &options,
    )?)
}

/// Collects the values computed for disjoint subsets of rows and puts
/// them back in the original row order. Rows never given a value are NULL.
#[derive(Debug)]
pub(crate) struct Assembler {
    data_type: DataType,
    /// Value arrays; the first is a single NULL.
    parts: Vec<ArrayRef>,
    /// For each original row: (part, index in part).
    picks: Vec<(usize, usize)>,
    /// Set when one value covered every row in order.
    whole: Option<ColumnarValue>,
    num_rows: usize,
}

impl Assembler {
    /// An assembler for `num_rows` rows of type `data_type`.
    pub fn new(num_rows: usize, data_type: &DataType) -> Self {
        Self {
            data_type: data_type.clone(),
            parts: vec![new_null_array(data_type, 1)],
            picks: vec![(0, 0); num_rows],
            whole: None,
            num_rows,
        }
    }

    /// Records `value`, computed over `rows`, cast to the output type.
    pub fn add(&mut self, rows: &Rows, value: ColumnarValue) -> Result<()> {
        let value = conform(value, &self.data_type)?;
        if rows.positions.is_none() && rows.len() == self.num_rows {
            self.whole = Some(value);
            return Ok(());
        }
        let part = self.parts.len();
        let picks = &mut self.picks;
        match value {
            ColumnarValue::Scalar(s) => {
                self.parts.push(s.to_array_of_size(1)?);
                rows.for_each_position(|_, pos| picks[pos] = (part, 0));
            }
            ColumnarValue::Array(a) => {
                if a.len() != rows.len() {
                    return Err(Error::Internal(format!("{} values for {} rows", a.len(), rows.len())));
                }
                self.parts.push(a);
                rows.for_each_position(|i, pos| picks[pos] = (part, i));
            }
        }
        Ok(())
    }

    /// The values in row order.
    pub fn finish(self) -> Result<ColumnarValue> {
        if let Some(v) = self.whole {
            return Ok(v);
        }
        if self.parts.len() == 1 || self.data_type == DataType::Null {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_new_null(&self.data_type)?));
        }
        let parts: Vec<&dyn Array> = self.parts.iter().map(|a| a.as_ref()).collect();
        Ok(ColumnarValue::Array(interleave(&parts, &self.picks)?))
    }
}

/// `value` cast to `t` if it has another type.
pub(crate) fn conform(value: ColumnarValue, t: &DataType) -> Result<ColumnarValue> {
    if &value.data_type() == t {
        return Ok(value);
    }
    let opts = CastOptions {
        safe: false,
        ..Default::default()
    };
    Ok(match value {
        ColumnarValue::Array(a) => ColumnarValue::Array(cast_with_options(&a, t, &opts)?),
        ColumnarValue::Scalar(s) => ColumnarValue::Scalar(s.cast_to_with_options(t, &opts)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int32Array, StringArray};

    #[test]
    fn split_and_assemble_restore_row_order() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int32, true),
            Field::new("s", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int32Array::from(vec![1, 2, 3, 4])),
                Arc::new(StringArray::from(vec!["w", "x", "y", "z"])),
            ],
        )
        .unwrap();
        let mut rows = Rows::all(&batch, &[0]).unwrap();
        assert_eq!(rows.batch().column(1).data_type(), &DataType::Null);
        let even = rows
            .split(&BooleanArray::from(vec![Some(false), Some(true), None, Some(true)]))
            .unwrap();
        assert_eq!(even.len(), 2);
        assert_eq!(rows.len(), 2);
        let mut out = Assembler::new(4, &DataType::Int32);
        out.add(&even, ColumnarValue::Array(Arc::clone(even.batch().column(0))))
            .unwrap();
        out.add(&rows, ColumnarValue::Scalar(ScalarValue::Int32(Some(0))))
            .unwrap();
        let got = out.finish().unwrap().into_array(4).unwrap();
        assert_eq!(
            got.as_primitive::<arrow::datatypes::Int32Type>().values(),
            &[0, 2, 0, 4]
        );
        // Splitting off everything leaves nothing.
        let all = rows.split(&BooleanArray::from(vec![true, true])).unwrap();
        assert_eq!((all.len(), rows.len()), (2, 0));
    }
}
