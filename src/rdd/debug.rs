//! `to_debug_string`: the lineage as text, indented at shuffle boundaries
//! like Spark's `toDebugString`.

use std::fmt::Write;
use std::sync::Arc;

use super::{Dependency, Rdd, RddBase};

impl<T: 'static> Rdd<T> {
    /// The lineage, one RDD per line: `(partitions) operation [id]`, with
    /// ` +-` where a shuffle begins a new stage and `|` for narrow parents.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let counts = ctx.parallelize(vec!["a", "b"], 2).map(|w| (w, 1)).reduce_by_key(|a, b| a + b);
    /// let text = counts.to_debug_string();
    /// assert!(text.starts_with("(2) reduce_by_key ["), "{text}");
    /// assert!(text.contains(" +-(2) map ["), "{text}");
    /// assert!(text.contains("|  (2) parallelize ["), "{text}");
    /// ```
    pub fn to_debug_string(&self) -> String {
        debug_string(self.base())
    }
}

fn debug_string(root: Arc<dyn RddBase>) -> String {
    let mut out = String::new();
    // (rdd, stage depth, edge into it: None for the root, Some(true) for a
    // shuffle, Some(false) for a narrow dependency)
    let mut stack: Vec<(Arc<dyn RddBase>, usize, Option<bool>)> = vec![(root, 0, None)];
    while let Some((rdd, depth, edge)) = stack.pop() {
        let pad = "   ".repeat(depth.saturating_sub(usize::from(edge == Some(true))));
        let marker = match edge {
            None => "",
            Some(true) => " +-",
            Some(false) => " |  ",
        };
        let meta = rdd.meta();
        let cached = if meta.storage_level().is_some() {
            " CachedPartitions"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "{pad}{marker}({}) {} [{}]{cached}",
            rdd.num_partitions(),
            meta.name,
            meta.id
        );
        for dep in rdd.dependencies().into_iter().rev() {
            match dep {
                Dependency::Narrow(p) => stack.push((p, depth, Some(false))),
                Dependency::Shuffle(s) => stack.push((s.parent(), depth + 1, Some(true))),
            }
        }
    }
    out.pop();
    out
}
