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
/// buffer memory.
#[derive(Debug, Default)]
pub struct BatchBucket(pub Vec<arrow::record_batch::RecordBatch>);

impl Block for BatchBucket {
    fn rows(&self) -> usize {
        self.0.iter().map(|b| b.num_rows()).sum()
    }
    fn bytes(&self) -> usize {
        batches_bytes(&self.0)
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
