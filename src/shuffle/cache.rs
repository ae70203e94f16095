//! Partitions of persisted RDDs, keyed by (rdd, partition).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::{Block, Erased, downcast};
use crate::error::Result;
use crate::memory::{MemoryPool, Reservation};

/// The session's cache of computed partitions (Spark's block manager, memory
/// only).
pub struct BlockCache {
    blocks: RwLock<HashMap<(usize, usize), (Erased, Arc<Reservation>)>>,
    memory: Arc<MemoryPool>,
}

impl std::fmt::Debug for BlockCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockCache").finish_non_exhaustive()
    }
}

impl BlockCache {
    pub(crate) fn new(memory: Arc<MemoryPool>) -> Self {
        Self {
            blocks: RwLock::new(HashMap::new()),
            memory,
        }
    }

    pub(crate) fn get<B: Block>(&self, rdd_id: usize, partition: usize) -> Result<Option<Arc<B>>> {
        let guard = self.blocks.read().unwrap_or_else(|p| p.into_inner());
        match guard.get(&(rdd_id, partition)) {
            None => Ok(None),
            Some((b, _)) => downcast::<B>(Arc::clone(b), "cached partition").map(Some),
        }
    }

    pub(crate) fn put<B: Block>(&self, rdd_id: usize, partition: usize, block: Arc<B>) -> Result<()> {
        let reservation = self.memory.reserve("cache", block.bytes())?;
        let mut guard = self.blocks.write().unwrap_or_else(|p| p.into_inner());
        guard.insert((rdd_id, partition), (block, Arc::new(reservation)));
        Ok(())
    }

    /// Drops one cached partition, as if it had been evicted; it is
    /// recomputed from lineage when next needed.
    pub fn evict(&self, rdd_id: usize, partition: usize) -> bool {
        let mut guard = self.blocks.write().unwrap_or_else(|p| p.into_inner());
        guard.remove(&(rdd_id, partition)).is_some()
    }

    /// Drops every cached partition of an RDD.
    pub fn remove_rdd(&self, rdd_id: usize) {
        let mut guard = self.blocks.write().unwrap_or_else(|p| p.into_inner());
        guard.retain(|(r, _), _| *r != rdd_id);
    }

    /// Number of cached partitions of an RDD.
    pub fn cached_partitions(&self, rdd_id: usize) -> usize {
        let guard = self.blocks.read().unwrap_or_else(|p| p.into_inner());
        guard.keys().filter(|(r, _)| *r == rdd_id).count()
    }
}
