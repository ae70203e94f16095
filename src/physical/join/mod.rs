//! Joins over record batches.
//!
//! - [`JoinHashTable`]: the build side (the RIGHT input) concatenated into
//!   one batch, with its keys in arrow's row format and a chain of row
//!   indices per distinct key.
//! - [`HashJoinProbe`]: streams probe batches (the LEFT input) through a
//!   table for every join type, with an optional residual filter over the
//!   joined row (left columns, then right columns) that takes part in
//!   matching, and null-aware anti join for `NOT IN`.
//! - [`nested_loop_join`]: joins without equi-keys, one block of left rows
//!   against all right rows at a time.
//!
//! Output is assembled with `take` on index arrays: a pass over the keys
//! produces (left row, right row) pairs, the filter (if any) drops pairs,
//! and the survivors are gathered in batches of at most `batch_size` rows.
//! Rows a join type keeps without a partner get NULL columns for the other
//! side.

mod hash_table;
mod key_filter;
mod nested_loop;
mod probe;
#[cfg(test)]
mod test_util;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatchOptions, UInt32Array, new_null_array};
use arrow::compute::{filter, prep_null_mask_filter, take};
use arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef, UInt32Type};
use arrow::record_batch::RecordBatch;
pub use datafusion_common::JoinType;

pub use self::hash_table::JoinHashTable;
pub(crate) use self::key_filter::{KeyFilter, KeyFilterExpr, KeyFilterIter, build_keys};
pub use self::nested_loop::nested_loop_join;
pub use self::probe::HashJoinProbe;
use crate::error::Result;
use crate::physical::expr::PhysicalExpr;
use crate::{internal_err, not_supported};

/// The output schema of a join: left fields then right fields, with the
/// fields of a side that may be missing (the right of a left join, ...)
/// made nullable; only the left fields for left semi/anti joins, the left
/// fields plus a nullable boolean `mark` for left mark joins, and only the
/// right fields for right semi/anti joins.
///
/// ```
/// use arrow::datatypes::{DataType, Field, Schema};
/// use flint::physical::join::{JoinType, join_output_schema};
///
/// let l = Schema::new(vec![Field::new("a", DataType::Int64, false)]);
/// let r = Schema::new(vec![Field::new("b", DataType::Int64, false)]);
/// let s = join_output_schema(&l, &r, JoinType::Left).unwrap();
/// assert!(!s.field(0).is_nullable() && s.field(1).is_nullable());
/// ```
pub fn join_output_schema(left: &Schema, right: &Schema, join_type: JoinType) -> Result<SchemaRef> {
    let side = |s: &Schema, nullable: bool| -> Vec<FieldRef> {
        s.fields()
            .iter()
            .map(|f| {
                if nullable && !f.is_nullable() {
                    Arc::new(f.as_ref().clone().with_nullable(true))
                } else {
                    Arc::clone(f)
                }
            })
            .collect()
    };
    let fields = match join_type {
        JoinType::Inner => [side(left, false), side(right, false)].concat(),
        JoinType::Left => [side(left, false), side(right, true)].concat(),
        JoinType::Right => [side(left, true), side(right, false)].concat(),
        JoinType::Full => [side(left, true), side(right, true)].concat(),
        JoinType::LeftSemi | JoinType::LeftAnti => side(left, false),
        JoinType::RightSemi | JoinType::RightAnti => side(right, false),
        JoinType::LeftMark => {
            let mut f = side(left, false);
            f.push(Arc::new(Field::new("mark", DataType::Boolean, true)));
            f
        }
        JoinType::RightMark => not_supported!("right mark join"),
    };
    Ok(Arc::new(Schema::new(fields)))
}

/// True when the join emits (left, right) pairs.
fn emits_pairs(join_type: JoinType) -> bool {
    matches!(
        join_type,
        JoinType::Inner | JoinType::Left | JoinType::Right | JoinType::Full
    )
}

/// True when the join needs to know which left rows found a partner.
fn tracks_left(join_type: JoinType) -> bool {
    matches!(
        join_type,
        JoinType::Left | JoinType::Full | JoinType::LeftSemi | JoinType::LeftAnti | JoinType::LeftMark
    )
}

/// True when the join needs to know which right rows found a partner.
fn tracks_right(join_type: JoinType) -> bool {
    matches!(
        join_type,
        JoinType::Right | JoinType::Full | JoinType::RightSemi | JoinType::RightAnti
    )
}

/// The schema the residual filter is evaluated against: left fields then
/// right fields, all nullable (the filter sees the joined row).
fn filter_schema(left: &Schema, right: &Schema) -> SchemaRef {
    let fields: Vec<Field> = left
        .fields()
        .iter()
        .chain(right.fields().iter())
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    Arc::new(Schema::new(fields))
}

/// A batch of `schema` with an explicit row count (so that zero-column
/// outputs keep their rows).
fn make_batch(schema: &SchemaRef, columns: Vec<ArrayRef>, num_rows: usize) -> Result<RecordBatch> {
    let options = RecordBatchOptions::new().with_row_count(Some(num_rows));
    Ok(RecordBatch::try_new_with_options(
        Arc::clone(schema),
        columns,
        &options,
    )?)
}

/// The columns a join emits: all of its output (see
/// [`join_output_schema`]) or some of them, picked before any is gathered
/// so that a column nobody reads is never built.
#[derive(Debug, Clone)]
struct Output {
    /// The join's whole output.
    full: SchemaRef,
    /// Indices into `full` of the emitted columns; `None` for all.
    columns: Option<Vec<usize>>,
    /// The emitted columns' schema.
    schema: SchemaRef,
}

impl Output {
    fn all(full: &SchemaRef) -> Self {
        Self {
            full: Arc::clone(full),
            columns: None,
            schema: Arc::clone(full),
        }
    }

    fn project(full: &SchemaRef, columns: Vec<usize>, schema: SchemaRef) -> Result<Self> {
        let n = full.fields().len();
        if columns.len() != schema.fields().len() || columns.iter().any(|&i| i >= n) {
            internal_err!(
                "join output {columns:?} of {n} columns does not fit a schema of {}",
                schema.fields().len()
            );
        }
        Ok(Self {
            full: Arc::clone(full),
            columns: Some(columns),
            schema,
        })
    }

    /// A batch of `num_rows` rows whose column `i` of the full output is
    /// `column(i)`, asked only for the emitted columns.
    fn batch(&self, num_rows: usize, mut column: impl FnMut(usize) -> Result<ArrayRef>) -> Result<RecordBatch> {
        let cols = match &self.columns {
            Some(c) => c.iter().map(|&i| column(i)).collect::<Result<Vec<_>>>()?,
            None => (0..self.full.fields().len()).map(column).collect::<Result<Vec<_>>>()?,
        };
        make_batch(&self.schema, cols, num_rows)
    }

    /// The emitted columns out of the full output's `columns`.
    fn select(&self, columns: Vec<ArrayRef>, num_rows: usize) -> Result<RecordBatch> {
        if self.columns.is_none() {
            return make_batch(&self.schema, columns, num_rows);
        }
        self.batch(num_rows, |i| match columns.get(i) {
            Some(c) => Ok(Arc::clone(c)),
            None => internal_err!("join output column {i} of {}", columns.len()),
        })
    }

    /// Pairs `(li[k], ri[k])` gathered into the emitted columns of an
    /// inner/outer join (left columns, then right).
    fn pairs(
        &self,
        left: &RecordBatch,
        li: &UInt32Array,
        right: &RecordBatch,
        ri: &UInt32Array,
    ) -> Result<RecordBatch> {
        let nl = left.num_columns();
        let (lrun, rrun) = (Rows::of(li), Rows::of(ri));
        self.batch(li.len(), |i| match i.checked_sub(nl) {
            None => lrun.gather(left.column(i)),
            Some(r) => rrun.gather(right.column(r)),
        })
    }
}

/// Row positions to gather, noting when they are one run of consecutive
/// rows: a probe batch whose every row has exactly one partner (a foreign
/// key join) then passes its columns on as slices instead of copies.
enum Rows<'a> {
    Run(usize, usize, &'a UInt32Array),
    Scattered(&'a UInt32Array),
}

impl<'a> Rows<'a> {
    fn of(indices: &'a UInt32Array) -> Self {
        let v = indices.values();
        if let Some(&first) = v.first()
            && indices.null_count() == 0
            // One pass without early exit, so that it vectorizes.
            && v.iter().zip(u64::from(first)..).fold(true, |run, (&i, want)| run & (u64::from(i) == want))
        {
            return Rows::Run(first as usize, v.len(), indices);
        }
        Rows::Scattered(indices)
    }

    fn gather(&self, column: &ArrayRef) -> Result<ArrayRef> {
        Ok(match self {
            Rows::Run(start, len, _) if start + len <= column.len() => column.slice(*start, *len),
            Rows::Run(_, _, indices) | Rows::Scattered(indices) => take(column.as_ref(), indices, None)?,
        })
    }
}

/// Pairs `(li[k], ri[k])` gathered into joined columns (left then right).
fn take_pairs(left: &RecordBatch, li: &UInt32Array, right: &RecordBatch, ri: &UInt32Array) -> Result<Vec<ArrayRef>> {
    let mut cols = Vec::with_capacity(left.num_columns() + right.num_columns());
    let (lrun, rrun) = (Rows::of(li), Rows::of(ri));
    for c in left.columns() {
        cols.push(lrun.gather(c)?);
    }
    for c in right.columns() {
        cols.push(rrun.gather(c)?);
    }
    Ok(cols)
}

/// Evaluates `filter` over joined columns; NULL counts as false.
fn evaluate_filter(
    filter: &dyn PhysicalExpr,
    schema: &SchemaRef,
    columns: Vec<ArrayRef>,
    num_rows: usize,
) -> Result<BooleanArray> {
    let batch = make_batch(schema, columns, num_rows)?;
    let mask = filter.evaluate(&batch)?.into_array(num_rows)?;
    let Some(mask) = mask.as_boolean_opt() else {
        internal_err!("join filter {filter} returned {}, not Boolean", mask.data_type());
    };
    if mask.len() != num_rows {
        internal_err!("join filter {filter} returned {} rows for {num_rows}", mask.len());
    }
    Ok(if mask.null_count() > 0 {
        prep_null_mask_filter(mask)
    } else {
        mask.clone()
    })
}

/// The entries of an index array where `mask` (without NULLs) is set.
fn filter_indices(idx: &UInt32Array, mask: &BooleanArray) -> Result<UInt32Array> {
    let filtered = filter(idx, mask)?;
    match filtered.as_primitive_opt::<UInt32Type>() {
        Some(u) => Ok(u.clone()),
        None => internal_err!("filtered index array is not UInt32"),
    }
}

/// Positions below `len` where `flags` is `want`.
fn positions(flags: &[bool], want: bool) -> UInt32Array {
    UInt32Array::from_iter_values(
        flags
            .iter()
            .enumerate()
            .filter(|(_, f)| **f == want)
            .map(|(i, _)| i as u32),
    )
}

/// Emits left rows `idx` in batches: for semi/anti joins alone, for
/// left/full joins with NULL right columns (the full output tells which).
fn emit_left_rows(out: &Output, left: &RecordBatch, idx: &UInt32Array, batch_size: usize) -> Result<Vec<RecordBatch>> {
    let nl = left.num_columns();
    chunks(idx.len(), batch_size)
        .map(|(start, len)| {
            let part = idx.slice(start, len);
            out.batch(len, |i| {
                Ok(if i < nl {
                    take(left.column(i).as_ref(), &part, None)?
                } else {
                    new_null_array(out.full.field(i).data_type(), len)
                })
            })
        })
        .collect()
}

/// Emits right rows `idx` in batches: for right semi/anti joins alone, for
/// right/full joins after NULL left columns.
fn emit_right_rows(
    out: &Output,
    right: &RecordBatch,
    idx: &UInt32Array,
    batch_size: usize,
) -> Result<Vec<RecordBatch>> {
    let Some(nl) = out.full.fields().len().checked_sub(right.num_columns()) else {
        internal_err!("join output schema has fewer fields than the right side");
    };
    chunks(idx.len(), batch_size)
        .map(|(start, len)| {
            let part = idx.slice(start, len);
            out.batch(len, |i| {
                Ok(match i.checked_sub(nl) {
                    None => new_null_array(out.full.field(i).data_type(), len),
                    Some(r) => take(right.column(r).as_ref(), &part, None)?,
                })
            })
        })
        .collect()
}

/// Emits every left row with its `mark` column (left mark join).
fn emit_marked(out: &Output, left: &RecordBatch, mark: BooleanArray, batch_size: usize) -> Result<Vec<RecordBatch>> {
    let mark: ArrayRef = Arc::new(mark);
    let batch = out.batch(left.num_rows(), |i| {
        Ok(if i < left.num_columns() {
            Arc::clone(left.column(i))
        } else {
            Arc::clone(&mark)
        })
    })?;
    Ok(chunks(batch.num_rows(), batch_size)
        .map(|(s, l)| batch.slice(s, l))
        .collect())
}

/// `(start, len)` windows of at most `size` (at least 1) over `0..n`.
fn chunks(n: usize, size: usize) -> impl Iterator<Item = (usize, usize)> {
    let size = size.max(1);
    (0..n).step_by(size).map(move |s| (s, size.min(n - s)))
}

/// Checks that `schema` has the shape [`join_output_schema`] gives for
/// sides with `left_cols` and `right_cols` columns.
fn check_output_schema(
    schema: &Schema,
    join_type: JoinType,
    left_cols: Option<usize>,
    right_cols: usize,
) -> Result<()> {
    let n = schema.fields().len();
    let ok = match join_type {
        JoinType::Inner | JoinType::Left | JoinType::Right | JoinType::Full => {
            n >= right_cols && left_cols.is_none_or(|l| l + right_cols == n)
        }
        JoinType::LeftSemi | JoinType::LeftAnti => left_cols.is_none_or(|l| l == n),
        JoinType::LeftMark => n >= 1 && left_cols.is_none_or(|l| l + 1 == n),
        JoinType::RightSemi | JoinType::RightAnti => n == right_cols,
        JoinType::RightMark => not_supported!("right mark join"),
    };
    if !ok {
        internal_err!("{join_type} join output schema has {n} fields, which does not fit its inputs");
    }
    Ok(())
}
