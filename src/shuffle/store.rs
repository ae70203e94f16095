//! Map outputs bucketed by (shuffle, map partition, reduce partition).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::{Block, Erased, downcast};
use crate::error::{Error, Result};
use crate::memory::{MemoryPool, Reservation};

/// The buckets one map task wrote: bucket `r` goes to reduce partition `r`.
pub struct MapOutput<B> {
    /// One bucket per reduce partition.
    pub buckets: Vec<B>,
    _reservation: Option<Reservation>,
}

/// Records and bytes written by a shuffle's map tasks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShuffleStats {
    /// Records written across all buckets.
    pub records: u64,
    /// Estimated bytes written across all buckets.
    pub bytes: u64,
}

struct ShuffleEntry {
    maps: Vec<Option<(Erased, ShuffleStats)>>,
}

/// The session's in-memory shuffle store.
pub struct ShuffleStore {
    shuffles: RwLock<HashMap<usize, ShuffleEntry>>,
    memory: Arc<MemoryPool>,
}

impl std::fmt::Debug for ShuffleStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShuffleStore").finish_non_exhaustive()
    }
}

impl ShuffleStore {
    pub(crate) fn new(memory: Arc<MemoryPool>) -> Self {
        Self {
            shuffles: RwLock::new(HashMap::new()),
            memory,
        }
    }

    /// Map partitions of `shuffle_id` (out of `num_maps`) with no output.
    pub fn missing_map_outputs(&self, shuffle_id: usize, num_maps: usize) -> Vec<usize> {
        let guard = self.shuffles.read().unwrap_or_else(|p| p.into_inner());
        match guard.get(&shuffle_id) {
            None => (0..num_maps).collect(),
            Some(e) => (0..num_maps)
                .filter(|&m| e.maps.get(m).is_none_or(|o| o.is_none()))
                .collect(),
        }
    }

    /// Builds a map output, reserving its bytes from the session's pool.
    pub(crate) fn new_output<B: Block>(&self, buckets: Vec<B>) -> Result<(MapOutput<B>, ShuffleStats)> {
        let stats = ShuffleStats {
            records: buckets.iter().map(|b| b.rows() as u64).sum(),
            bytes: buckets.iter().map(|b| b.bytes() as u64).sum(),
        };
        let reservation = self.memory.reserve("shuffle output", stats.bytes as usize)?;
        Ok((
            MapOutput {
                buckets,
                _reservation: Some(reservation),
            },
            stats,
        ))
    }

    /// Stores the output of map partition `map_id`, replacing any earlier one.
    pub(crate) fn put<B: Block>(
        &self,
        shuffle_id: usize,
        map_id: usize,
        num_maps: usize,
        output: MapOutput<B>,
        stats: ShuffleStats,
    ) {
        let mut guard = self.shuffles.write().unwrap_or_else(|p| p.into_inner());
        let entry = guard.entry(shuffle_id).or_insert_with(|| ShuffleEntry {
            maps: (0..num_maps).map(|_| None).collect(),
        });
        if entry.maps.len() < num_maps {
            entry.maps.resize_with(num_maps, || None);
        }
        entry.maps[map_id] = Some((Arc::new(output), stats));
    }

    /// All map outputs of a shuffle, in map order; fails with
    /// [`Error::FetchFailed`] naming the first missing one.
    pub(crate) fn fetch<B: Block>(&self, shuffle_id: usize, num_maps: usize) -> Result<Vec<Arc<MapOutput<B>>>> {
        let guard = self.shuffles.read().unwrap_or_else(|p| p.into_inner());
        let entry = guard.get(&shuffle_id);
        (0..num_maps)
            .map(|m| {
                let erased = entry
                    .and_then(|e| e.maps.get(m))
                    .and_then(|o| o.as_ref())
                    .map(|(b, _)| Arc::clone(b))
                    .ok_or(Error::FetchFailed { shuffle_id, map_id: m })?;
                downcast::<MapOutput<B>>(erased, "shuffle output")
            })
            .collect()
    }

    /// Records and bytes written so far by the given map partitions.
    pub fn stats(&self, shuffle_id: usize, maps: &[usize]) -> ShuffleStats {
        let guard = self.shuffles.read().unwrap_or_else(|p| p.into_inner());
        let mut total = ShuffleStats::default();
        if let Some(e) = guard.get(&shuffle_id) {
            for &m in maps {
                if let Some(Some((_, s))) = e.maps.get(m) {
                    total.records += s.records;
                    total.bytes += s.bytes;
                }
            }
        }
        total
    }

    /// Drops the output of one map partition, as if the node holding it had
    /// been lost; the next job that needs it recomputes it from lineage.
    pub fn remove_map_output(&self, shuffle_id: usize, map_id: usize) -> bool {
        let mut guard = self.shuffles.write().unwrap_or_else(|p| p.into_inner());
        guard
            .get_mut(&shuffle_id)
            .and_then(|e| e.maps.get_mut(map_id))
            .and_then(|o| o.take())
            .is_some()
    }

    /// Drops all output of a shuffle.
    pub fn remove_shuffle(&self, shuffle_id: usize) {
        let mut guard = self.shuffles.write().unwrap_or_else(|p| p.into_inner());
        guard.remove(&shuffle_id);
    }

    /// Ids of the shuffles that have stored output.
    pub fn shuffle_ids(&self) -> Vec<usize> {
        let guard = self.shuffles.read().unwrap_or_else(|p| p.into_inner());
        let mut ids: Vec<usize> = guard.keys().copied().collect();
        ids.sort_unstable();
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_fetch_and_lose() {
        let store = ShuffleStore::new(MemoryPool::new(None));
        assert_eq!(store.missing_map_outputs(7, 2), vec![0, 1]);
        let (out, stats) = store.new_output(vec![vec![1u32, 2], vec![3]]).unwrap();
        assert_eq!(stats.records, 3);
        store.put(7, 0, 2, out, stats);
        assert_eq!(store.missing_map_outputs(7, 2), vec![1]);
        assert!(matches!(
            store.fetch::<Vec<u32>>(7, 2),
            Err(Error::FetchFailed {
                shuffle_id: 7,
                map_id: 1
            })
        ));
        let (out, stats) = store.new_output(vec![vec![], vec![4u32]]).unwrap();
        store.put(7, 1, 2, out, stats);
        let outs = store.fetch::<Vec<u32>>(7, 2).unwrap();
        assert_eq!(outs[1].buckets[1], vec![4]);
        assert!(matches!(store.fetch::<Vec<u8>>(7, 2), Err(Error::Internal(_))));
        assert!(store.remove_map_output(7, 0));
        assert_eq!(store.missing_map_outputs(7, 2), vec![0]);
    }
}
