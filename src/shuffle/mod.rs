//! Shuffle output and cached partitions, held in memory by the session.
//!
//! A shuffle map task splits its partition into one bucket per reduce
//! partition and stores them under `(shuffle, map partition)`; a reduce task
//! fetches bucket `r` of every map output. Outputs outlive the job that wrote
//! them, so a later job needing the same shuffle skips the map stage (Spark's
//! skipped stages). Lost outputs surface as [`Error::FetchFailed`], which the
//! scheduler answers by recomputing them from lineage.
//!
//! This is the one place where types are erased: writers store typed blocks
//! behind `dyn Any`, and a reader gets back the type its own writer stored.

mod cache;
mod store;

pub use cache::BlockCache;
pub use store::{MapOutput, ShuffleStats, ShuffleStore};

use std::any::Any;
use std::sync::Arc;

use crate::error::{Error, Result};

/// Something that can be stored as a shuffle bucket or cached partition, and
/// report its size for metrics and memory accounting.
pub trait Block: Send + Sync + 'static {
    /// Number of records (rows) in the block.
    fn rows(&self) -> usize;
    /// Estimated bytes held by the block. For plain Rust values this is the
    /// shallow size (`size_of::<T>() * len`); heap data behind pointers is
    /// not followed.
    fn bytes(&self) -> usize;
    /// Whether the block's content was freed after its last planned read
    /// (see [`BatchBucket::with_reads`]), so that it must be written again
    /// before anyone reads it.
    fn is_taken(&self) -> bool {
        false
    }
}

impl<T: Send + Sync + 'static> Block for Vec<T> {
    fn rows(&self) -> usize {
        self.len()
    }
    fn bytes(&self) -> usize {
        self.len() * std::mem::size_of::<T>()
    }
}

/// A shuffle bucket of Arrow record batches, sized by their real rows and
/// buffer memory. One made for a known number of reads frees its batches
/// when the last of them has [`released`](Self::release) it (a reading
/// task does so when it succeeds, so a retried attempt still finds them)
/// instead of when the query ends; such a bucket is then
/// [`Block::is_taken`], and reading it again makes the scheduler recompute
/// its map output.
#[derive(Debug, Default)]
pub struct BatchBucket {
    /// The batches (`None` once freed) and the releases left before they
    /// are (0: never).
    content: std::sync::Mutex<(Option<Vec<arrow::record_batch::RecordBatch>>, usize)>,
    rows: usize,
    bytes: usize,
}

impl BatchBucket {
    /// A bucket of `batches`, kept for any number of reads.
    pub fn new(batches: Vec<arrow::record_batch::RecordBatch>) -> Self {
        Self::with_reads(batches, None)
    }

    /// A bucket of `batches` freed at release number `reads` (`None`:
    /// kept).
    pub fn with_reads(batches: Vec<arrow::record_batch::RecordBatch>, reads: Option<usize>) -> Self {
        Self {
            rows: batches.iter().map(|b| b.num_rows()).sum(),
            bytes: batches_bytes(&batches),
            content: std::sync::Mutex::new((Some(batches), reads.unwrap_or(0))),
        }
    }

    /// The batches; `None` once freed.
    pub fn read(&self) -> Option<Vec<arrow::record_batch::RecordBatch>> {
        self.content.lock().unwrap_or_else(|p| p.into_inner()).0.clone()
    }

    /// Counts one planned read as done, freeing the batches at the last.
    pub fn release(&self) {
        let mut content = self.content.lock().unwrap_or_else(|p| p.into_inner());
        let (batches, left) = &mut *content;
        match left {
            0 => {}
            1 => {
                *left = 0;
                *batches = None;
            }
            n => *n -= 1,
        }
    }
}

impl Block for BatchBucket {
    fn rows(&self) -> usize {
        self.rows
    }
    fn bytes(&self) -> usize {
        self.bytes
    }
    fn is_taken(&self) -> bool {
        self.content.lock().unwrap_or_else(|p| p.into_inner()).0.is_none()
    }
}

/// Buffer memory held by `batches`.
pub(crate) fn batches_bytes(batches: &[arrow::record_batch::RecordBatch]) -> usize {
    batches.iter().map(|b| b.get_array_memory_size()).sum()
}

type Erased = Arc<dyn Any + Send + Sync>;

fn downcast<B: Send + Sync + 'static>(block: Erased, what: &str) -> Result<Arc<B>> {
    block.downcast::<B>().map_err(|_| {
        Error::Internal(format!(
            "{what} holds a different type than {} (two writers used one id)",
            std::any::type_name::<B>()
        ))
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::Int32Array;
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::record_batch::RecordBatch;

    use super::*;

    #[test]
    fn a_bucket_frees_its_batches_at_the_last_planned_read() {
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int32, false)]));
        let batch = RecordBatch::try_new(schema, vec![Arc::new(Int32Array::from(vec![1, 2, 3]))]).unwrap();
        let bucket = BatchBucket::with_reads(vec![batch.clone()], Some(2));
        assert_eq!((bucket.rows(), bucket.is_taken()), (3, false));
        // Reading without releasing (a failed attempt) keeps it.
        assert_eq!(bucket.read(), Some(vec![batch.clone()]));
        assert_eq!(bucket.read(), Some(vec![batch.clone()]));
        bucket.release();
        assert!(!bucket.is_taken());
        assert_eq!(bucket.read(), Some(vec![batch.clone()]));
        bucket.release();
        assert!(bucket.is_taken());
        assert_eq!(bucket.read(), None);
        // Without a count it is kept.
        let kept = BatchBucket::new(vec![batch.clone()]);
        for _ in 0..3 {
            kept.release();
        }
        assert_eq!(kept.read(), Some(vec![batch]));
    }
}
