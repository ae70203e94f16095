//! Cutting a job's lineage into stages at shuffle dependencies.
//!
//! The lineage is walked with an explicit stack, never recursion, so a
//! lineage thousands of RDDs deep cannot overflow the driver's stack.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::rdd::{Dependency, RddBase, ShuffleDependencyBase};

/// A shuffle-map stage: the map side of one shuffle dependency.
pub(crate) struct MapStage {
    pub dep: Arc<dyn ShuffleDependencyBase>,
    pub stage_id: usize,
}

/// The stages of one job.
pub(crate) struct StageGraph {
    /// Shuffle-map stages, parents before children.
    pub map_stages: Vec<MapStage>,
}

/// True when every partition of a persisted RDD is cached, so its lineage
/// need not be walked (Spark does the same in `getMissingParentStages`).
fn fully_cached(rdd: &dyn RddBase) -> bool {
    let meta = rdd.meta();
    meta.storage_level().is_some() && meta.session.cache.cached_partitions(meta.id) == rdd.num_partitions()
}

/// Finds the shuffle dependencies reachable from `root` and orders their
/// stages topologically. `next_stage_id` hands out stage ids.
pub(crate) fn build(root: Arc<dyn RddBase>, mut next_stage_id: impl FnMut() -> usize) -> StageGraph {
    let mut deps: HashMap<usize, Arc<dyn ShuffleDependencyBase>> = HashMap::new();
    // owner (None = result stage) -> shuffle ids it reads, in discovery order.
    let mut parents: HashMap<Option<usize>, Vec<usize>> = HashMap::new();
    let mut visited: HashSet<(Option<usize>, usize)> = HashSet::new();
    let mut stack: Vec<(Option<usize>, Arc<dyn RddBase>)> = vec![(None, root)];
    while let Some((owner, rdd)) = stack.pop() {
        if !visited.insert((owner, rdd.meta().id)) || fully_cached(rdd.as_ref()) {
            continue;
        }
        for dep in rdd.dependencies() {
            match dep {
                Dependency::Narrow(parent) => stack.push((owner, parent)),
                Dependency::Shuffle(s) => {
                    let sid = s.shuffle_id();
                    let list = parents.entry(owner).or_default();
                    if !list.contains(&sid) {
                        list.push(sid);
                    }
                    if let std::collections::hash_map::Entry::Vacant(e) = deps.entry(sid) {
                        stack.push((Some(sid), s.parent()));
                        e.insert(s);
                    }
                }
            }
        }
    }

    // Post-order over the stage DAG, iteratively.
    let mut order: Vec<usize> = Vec::new();
    let mut done: HashSet<usize> = HashSet::new();
    let roots = parents.get(&None).cloned().unwrap_or_default();
    let mut work: Vec<(usize, bool)> = roots.into_iter().rev().map(|s| (s, false)).collect();
    while let Some((sid, expanded)) = work.pop() {
        if done.contains(&sid) {
            continue;
        }
        if expanded {
            done.insert(sid);
            order.push(sid);
            continue;
        }
        work.push((sid, true));
        for &p in parents.get(&Some(sid)).into_iter().flatten().rev() {
            if !done.contains(&p) {
                work.push((p, false));
            }
        }
    }

    let map_stages = order
        .into_iter()
        .filter_map(|sid| {
            deps.get(&sid).map(|dep| MapStage {
                dep: Arc::clone(dep),
                stage_id: next_stage_id(),
            })
        })
        .collect();
    StageGraph { map_stages }
}
