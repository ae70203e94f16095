//! Compacting string views that point into much larger buffers.
//!
//! `take`, `filter` and `concat` on a string-view column copy only the
//! 16-byte views and share the data buffers. A few rows taken from a big
//! batch (a join's build side, the rows of one shuffle partition) therefore
//! keep the whole batch's strings alive, and concatenating many such pieces
//! lists the same buffers again and again: a hash join's build side in TPC-H
//! q21 at SF10 ended up with tens of thousands of buffer references per
//! column, and every `take` from it cloned them all. Batches that are kept
//! (shuffle output, coalesced batches, hash tables) are compacted first:
//! their strings are copied into fresh buffers of the right size.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::buffer::Buffer;
use arrow::datatypes::DataType;
use arrow::record_batch::{RecordBatch, RecordBatchOptions};

use crate::error::Result;

/// Buffers below this many bytes in total are never worth copying.
const SMALL_BYTES: usize = 256 * 1024;

/// `batch` with every wasteful string-view column compacted (see the module
/// docs); the batch itself when none is.
pub fn compact_views(batch: RecordBatch) -> Result<RecordBatch> {
    let mut changed = false;
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|c| {
            if !is_wasteful(c.as_ref()) {
                return Arc::clone(c);
            }
            changed = true;
            match c.data_type() {
                DataType::Utf8View => Arc::new(c.as_string_view().gc()) as ArrayRef,
                _ => Arc::new(c.as_binary_view().gc()) as ArrayRef,
            }
        })
        .collect();
    if !changed {
        return Ok(batch);
    }
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    Ok(RecordBatch::try_new_with_options(batch.schema(), columns, &options)?)
}

/// Whether a view column (`Utf8View` or `BinaryView`; false for any other
/// type) holds more than twice the bytes its values use.
fn is_wasteful(array: &dyn Array) -> bool {
    let (views, buffers): (&[u128], &[Buffer]) = match array.data_type() {
        DataType::Utf8View => {
            let a = array.as_string_view();
            (a.views(), a.data_buffers())
        }
        DataType::BinaryView => {
            let a = array.as_binary_view();
            (a.views(), a.data_buffers())
        }
        _ => return false,
    };
    let held: usize = buffers.iter().map(Buffer::len).sum();
    if held <= SMALL_BYTES {
        return false;
    }
    // Values of up to 12 bytes live in the view itself.
    let used: usize = views.iter().map(|&v| v as u32 as usize).filter(|&len| len > 12).sum();
    held > 2 * used
}

#[cfg(test)]
mod tests {
    use arrow::array::{StringViewArray, UInt32Array};
    use arrow::compute::{concat, take};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    #[test]
    fn a_few_rows_of_a_big_batch_are_copied_out() {
        let strings: Vec<String> = (0..20_000)
            .map(|i| format!("a value longer than twelve bytes #{i}"))
            .collect();
        let big: ArrayRef = Arc::new(StringViewArray::from_iter_values(strings.iter()));
        let few = take(big.as_ref(), &UInt32Array::from(vec![3, 17]), None).unwrap();
        // Many pieces of the same big batch: the buffers are listed again and again.
        let pieces: Vec<ArrayRef> = (0..50).map(|_| Arc::clone(&few)).collect();
        let joined = concat(&pieces.iter().map(|a| a.as_ref()).collect::<Vec<_>>()).unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("s", DataType::Utf8View, false)]));
        let batch = RecordBatch::try_new(schema, vec![joined]).unwrap();
        let before = batch.get_array_memory_size();
        let out = compact_views(batch.clone()).unwrap();
        assert!(
            out.get_array_memory_size() * 100 < before,
            "{} vs {before}",
            out.get_array_memory_size()
        );
        assert_eq!(out.column(0).as_string_view().value(1), strings[17]);
        assert_eq!(out.column(0).as_string_view().value(99), strings[17]);
        // A batch that uses its buffers is returned as it is.
        let whole = RecordBatch::try_new(batch.schema(), vec![big]).unwrap();
        let same = compact_views(whole.clone()).unwrap();
        assert!(Arc::ptr_eq(same.column(0), whole.column(0)));
    }
}
