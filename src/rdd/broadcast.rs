//! Broadcast variables: one read-only copy shared by every task.

use std::sync::Arc;

/// A read-only value shared with all tasks without copying it per task.
/// Cloning a `Broadcast` clones a pointer, not the value.
///
/// ```
/// use flint::SessionContext;
/// let ctx = SessionContext::new();
/// let names = ctx.broadcast(std::collections::HashMap::from([(1, "one"), (2, "two")]));
/// let out = ctx
///     .parallelize(vec![1, 2], 2)
///     .map(move |k| names.value()[&k].to_string())
///     .collect()
///     .unwrap();
/// assert_eq!(out, vec!["one", "two"]);
/// ```
pub struct Broadcast<T> {
    id: usize,
    value: Arc<T>,
}

impl<T> Clone for Broadcast<T> {
    fn clone(&self) -> Self {
        Self {
            id: self.id,
            value: Arc::clone(&self.value),
        }
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Broadcast<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Broadcast({}, {:?})", self.id, self.value)
    }
}

impl<T> Broadcast<T> {
    pub(crate) fn new(id: usize, value: T) -> Self {
        Self {
            id,
            value: Arc::new(value),
        }
    }

    /// The broadcast id, unique within the session.
    pub fn id(&self) -> usize {
        self.id
    }

    /// The shared value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The shared value as an `Arc`, for code that needs ownership.
    pub fn shared(&self) -> Arc<T> {
        Arc::clone(&self.value)
    }
}
