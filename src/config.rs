//! Session configuration: worker threads, task retries and the fault-injection
//! hook used by tests to prove that retries recompute lost work correctly.

use std::collections::HashSet;
use std::sync::Arc;

/// Settings of a [`crate::SessionContext`].
///
/// ```
/// use flint::{SessionConfig, SessionContext};
/// let ctx = SessionContext::with_config(SessionConfig::new().with_worker_threads(2));
/// assert_eq!(ctx.config().worker_threads, 2);
/// ```
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// Threads of the task pool; one task runs per thread at a time.
    pub worker_threads: usize,
    /// Partitions used when an operation is not told how many to make.
    pub default_parallelism: usize,
    /// How many times a task is attempted before its job is aborted (Spark's
    /// `spark.task.maxFailures`).
    pub max_task_attempts: usize,
    /// How many times a job may resubmit parent stages after shuffle output
    /// was lost, before giving up.
    pub max_stage_resubmits: usize,
    /// Upper bound on bytes held by the session's shuffle store and cache;
    /// `None` means no limit.
    pub memory_limit: Option<usize>,
    /// Stack size of each worker thread. Deep lineages of narrow
    /// transformations are pipelined into nested iterators, so a worker needs
    /// room for one frame per RDD in the chain.
    pub worker_stack_size: usize,
    /// Fails chosen task attempts on purpose (tests of fault tolerance).
    pub fault_injection: Option<FaultInjection>,
}

impl SessionConfig {
    /// The defaults: one worker thread per available core.
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        Self {
            worker_threads: cores,
            default_parallelism: cores,
            max_task_attempts: 4,
            max_stage_resubmits: 4,
            memory_limit: None,
            worker_stack_size: 256 << 20,
            fault_injection: None,
        }
    }

    /// Sets the number of worker threads (at least 1); default parallelism
    /// follows it.
    pub fn with_worker_threads(mut self, n: usize) -> Self {
        self.worker_threads = n.max(1);
        self.default_parallelism = self.worker_threads;
        self
    }

    /// Sets the partition count used when an operation is not told one.
    pub fn with_default_parallelism(mut self, n: usize) -> Self {
        self.default_parallelism = n.max(1);
        self
    }

    /// Sets how many attempts a task gets before the job fails.
    pub fn with_max_task_attempts(mut self, n: usize) -> Self {
        self.max_task_attempts = n.max(1);
        self
    }

    /// Limits the bytes that the shuffle store and cache may hold.
    pub fn with_memory_limit(mut self, bytes: usize) -> Self {
        self.memory_limit = Some(bytes);
        self
    }

    /// Installs a fault-injection hook.
    pub fn with_fault_injection(mut self, f: FaultInjection) -> Self {
        self.fault_injection = Some(f);
        self
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// Fails the first `attempts` attempts of chosen tasks, after the task's work
/// has run, so that tests can check that a retried task's side effects
/// (accumulator updates, shuffle output) count exactly once.
///
/// ```
/// use flint::{FaultInjection, SessionConfig, SessionContext};
/// let faults = FaultInjection::new(2).partitions([0, 3]);
/// let ctx = SessionContext::with_config(SessionConfig::new().with_fault_injection(faults));
/// let sum = ctx.parallelize((1..=100).collect::<Vec<i64>>(), 4).reduce(|a, b| a + b).unwrap();
/// assert_eq!(sum, Some(5050));
/// ```
#[derive(Clone)]
pub struct FaultInjection {
    attempts: usize,
    partitions: Option<HashSet<usize>>,
    stages: Option<HashSet<usize>>,
    predicate: Option<Arc<dyn Fn(usize, usize) -> bool + Send + Sync>>,
}

impl std::fmt::Debug for FaultInjection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultInjection")
            .field("attempts", &self.attempts)
            .field("partitions", &self.partitions)
            .field("stages", &self.stages)
            .finish_non_exhaustive()
    }
}

impl FaultInjection {
    /// Fails the first `attempts` attempts of every selected task (all tasks
    /// unless narrowed with [`FaultInjection::partitions`] or
    /// [`FaultInjection::stages`]).
    pub fn new(attempts: usize) -> Self {
        Self {
            attempts,
            partitions: None,
            stages: None,
            predicate: None,
        }
    }

    /// Only tasks of these partitions fail.
    pub fn partitions(mut self, p: impl IntoIterator<Item = usize>) -> Self {
        self.partitions = Some(p.into_iter().collect());
        self
    }

    /// Only tasks of these stages fail.
    pub fn stages(mut self, s: impl IntoIterator<Item = usize>) -> Self {
        self.stages = Some(s.into_iter().collect());
        self
    }

    /// Only tasks for which `f(stage_id, partition)` holds fail.
    pub fn when(mut self, f: impl Fn(usize, usize) -> bool + Send + Sync + 'static) -> Self {
        self.predicate = Some(Arc::new(f));
        self
    }

    pub(crate) fn should_fail(&self, stage_id: usize, partition: usize, attempt: usize) -> bool {
        attempt < self.attempts
            && self.partitions.as_ref().is_none_or(|p| p.contains(&partition))
            && self.stages.as_ref().is_none_or(|s| s.contains(&stage_id))
            && self.predicate.as_ref().is_none_or(|f| f(stage_id, partition))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_selection() {
        let f = FaultInjection::new(2).partitions([1]);
        assert!(f.should_fail(0, 1, 0));
        assert!(f.should_fail(7, 1, 1));
        assert!(!f.should_fail(0, 1, 2));
        assert!(!f.should_fail(0, 0, 0));
    }
}

/// SQL settings of a session, changed with `SET name = value` and read with
/// `SHOW name`.
#[derive(Clone, Debug)]
pub struct SqlSettings {
    /// `flint.shuffle.partitions`: partitions of every hash exchange.
    pub shuffle_partitions: usize,
    /// `flint.broadcast_join_threshold`: a join side estimated below this
    /// many bytes is broadcast; `-1` disables broadcasting. Higher than
    /// Spark's 10 MiB: in one process a broadcast table is shared, not
    /// copied, and it saves shuffling the (usually much larger) other side.
    pub broadcast_join_threshold: i64,
    /// `flint.batch_size`: target rows per record batch.
    pub batch_size: usize,
    /// `flint.optimizer.<rule>`: optimizer rules switched off.
    pub disabled_rules: std::collections::BTreeSet<String>,
}

impl SqlSettings {
    /// Defaults for a session with `worker_threads` workers.
    pub fn new(worker_threads: usize) -> Self {
        Self {
            shuffle_partitions: 2 * worker_threads.max(1),
            broadcast_join_threshold: 64 << 20,
            batch_size: 8192,
            disabled_rules: Default::default(),
        }
    }

    /// Every setting with its current value, for `SHOW ALL`.
    pub fn all(&self, rules: &[&str]) -> Vec<(String, String)> {
        let mut out = vec![
            (
                "flint.shuffle.partitions".to_string(),
                self.shuffle_partitions.to_string(),
            ),
            (
                "flint.broadcast_join_threshold".to_string(),
                self.broadcast_join_threshold.to_string(),
            ),
            ("flint.batch_size".to_string(), self.batch_size.to_string()),
        ];
        for r in rules {
            out.push((
                format!("flint.optimizer.{r}"),
                (!self.disabled_rules.contains(*r)).to_string(),
            ));
        }
        out
    }

    /// The value of one setting.
    pub fn get(&self, name: &str, rules: &[&str]) -> crate::Result<String> {
        let name = name.to_ascii_lowercase();
        self.all(rules)
            .into_iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
            .ok_or_else(|| unknown_setting(&name, rules))
    }

    /// Changes one setting, validating the value.
    pub fn set(&mut self, name: &str, value: &str, rules: &[&str]) -> crate::Result<()> {
        let name = name.to_ascii_lowercase();
        let value = value.trim().trim_matches('\'');
        let bad = |what: &str| crate::Error::InvalidArgument(format!("{name} must be {what}, got '{value}'"));
        match name.as_str() {
            "flint.shuffle.partitions" => {
                self.shuffle_partitions = value
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| bad("a positive integer"))?
            }
            "flint.broadcast_join_threshold" => {
                self.broadcast_join_threshold = value
                    .parse()
                    .ok()
                    .filter(|n| *n >= -1)
                    .ok_or_else(|| bad("a number of bytes or -1"))?
            }
            "flint.batch_size" => {
                self.batch_size = value
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| bad("a positive integer"))?
            }
            other => match other.strip_prefix("flint.optimizer.") {
                Some(rule) if rules.contains(&rule) => {
                    let on: bool = value.parse().map_err(|_| bad("true or false"))?;
                    if on {
                        self.disabled_rules.remove(rule);
                    } else {
                        self.disabled_rules.insert(rule.to_string());
                    }
                }
                _ => return Err(unknown_setting(other, rules)),
            },
        }
        Ok(())
    }
}

fn unknown_setting(name: &str, rules: &[&str]) -> crate::Error {
    let known: Vec<String> = SqlSettings::new(1).all(rules).into_iter().map(|(k, _)| k).collect();
    crate::Error::InvalidArgument(format!("unknown setting '{name}'; settings are: {}", known.join(", ")))
}
