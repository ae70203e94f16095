//! The session's memory pool.
//!
//! Everything that buffers data across tasks (shuffle output, cached
//! partitions, and later hash tables and sort buffers) reserves its bytes
//! here, so that a limit, and spilling when it is hit, can be added per
//! consumer without redesigning the engine.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};

/// Tracks the bytes reserved by a session's consumers against an optional
/// limit.
#[derive(Debug)]
pub struct MemoryPool {
    limit: Option<usize>,
    used: AtomicUsize,
    peak: AtomicUsize,
}

impl MemoryPool {
    pub(crate) fn new(limit: Option<usize>) -> Arc<Self> {
        Arc::new(Self {
            limit,
            used: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        })
    }

    /// Bytes currently reserved.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// The most bytes ever reserved at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Reserves `bytes` for `consumer`, failing when the limit would be
    /// exceeded. The returned guard gives the bytes back when dropped.
    pub fn reserve(self: &Arc<Self>, consumer: &str, bytes: usize) -> Result<Reservation> {
        let mut cur = self.used.load(Ordering::Relaxed);
        loop {
            let next = cur.saturating_add(bytes);
            if let Some(limit) = self.limit
                && next > limit
            {
                return Err(Error::InvalidArgument(format!(
                    "memory limit of {limit} bytes exceeded: {consumer} needs {bytes} bytes \
                     with {cur} already in use"
                )));
            }
            match self
                .used
                .compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => {
                    self.peak.fetch_max(next, Ordering::Relaxed);
                    return Ok(Reservation {
                        pool: Arc::clone(self),
                        bytes,
                    });
                }
                Err(actual) => cur = actual,
            }
        }
    }
}

/// Bytes held from a [`MemoryPool`]; released on drop.
#[derive(Debug)]
pub struct Reservation {
    pool: Arc<MemoryPool>,
    bytes: usize,
}

impl Reservation {
    /// Bytes held by this reservation.
    pub fn size(&self) -> usize {
        self.bytes
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.pool.used.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_and_release() {
        let pool = MemoryPool::new(Some(100));
        let a = pool.reserve("a", 60).unwrap();
        assert!(pool.reserve("b", 50).is_err());
        drop(a);
        let _b = pool.reserve("b", 50).unwrap();
        assert_eq!(pool.used(), 50);
        assert_eq!(pool.peak(), 60);
    }
}
