//! What a job did: its stages (with skipped ones), tasks, attempts, shuffle
//! volume and times. Tests assert on these ("this co-partitioned join ran no
//! shuffle"), the shell feeds its progress bar from listener events.

use std::time::Duration;

/// Whether a stage writes shuffle output or computes the action's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StageKind {
    /// Writes map output for the given shuffle.
    ShuffleMap {
        /// The shuffle this stage writes.
        shuffle_id: usize,
    },
    /// Runs the action's function on each partition.
    Result,
}

/// Metrics of one stage of a job.
#[derive(Clone, Debug)]
pub struct StageMetrics {
    /// Stage id, unique within the session.
    pub stage_id: usize,
    /// Shuffle-map or result stage.
    pub kind: StageKind,
    /// The RDD the stage computes, e.g. `map_values [3]`.
    pub name: String,
    /// Partitions of the stage's RDD.
    pub num_partitions: usize,
    /// True when all of the stage's output already existed (reused from an
    /// earlier job), so no task ran.
    pub skipped: bool,
    /// Tasks that completed successfully.
    pub tasks_succeeded: usize,
    /// Task attempts started, including retries.
    pub task_attempts: usize,
    /// Task attempts that failed (and were retried or aborted the job).
    pub failed_attempts: usize,
    /// Records written to the shuffle store by this stage.
    pub shuffle_records_written: u64,
    /// Estimated bytes written to the shuffle store by this stage.
    pub shuffle_bytes_written: u64,
    /// Wall time spent running the stage's tasks.
    pub duration: Duration,
}

/// Metrics of one job (one action).
#[derive(Clone, Debug)]
pub struct JobMetrics {
    /// Job id, unique within the session.
    pub job_id: usize,
    /// The action that started the job, e.g. `collect`.
    pub action: String,
    /// Stages in the order they were run (parents first); the result stage
    /// is last.
    pub stages: Vec<StageMetrics>,
    /// Times parent stages were resubmitted after shuffle output was lost.
    pub resubmits: usize,
    /// Whether the job succeeded.
    pub succeeded: bool,
    /// Wall time of the whole job.
    pub duration: Duration,
}

impl JobMetrics {
    /// Shuffle-map stages in the job's DAG, skipped or not.
    pub fn shuffle_stages(&self) -> usize {
        self.stages
            .iter()
            .filter(|s| matches!(s.kind, StageKind::ShuffleMap { .. }))
            .count()
    }

    /// Shuffle-map stages that actually ran tasks in this job.
    pub fn executed_shuffle_stages(&self) -> usize {
        self.stages
            .iter()
            .filter(|s| matches!(s.kind, StageKind::ShuffleMap { .. }) && !s.skipped)
            .count()
    }

    /// Stages whose output was reused from an earlier job.
    pub fn skipped_stages(&self) -> usize {
        self.stages.iter().filter(|s| s.skipped).count()
    }

    /// Task attempts across all stages.
    pub fn task_attempts(&self) -> usize {
        self.stages.iter().map(|s| s.task_attempts).sum()
    }

    /// Failed task attempts across all stages.
    pub fn failed_attempts(&self) -> usize {
        self.stages.iter().map(|s| s.failed_attempts).sum()
    }

    /// Records written to the shuffle store by this job.
    pub fn shuffle_records_written(&self) -> u64 {
        self.stages.iter().map(|s| s.shuffle_records_written).sum()
    }

    /// Estimated bytes written to the shuffle store by this job.
    pub fn shuffle_bytes_written(&self) -> u64 {
        self.stages.iter().map(|s| s.shuffle_bytes_written).sum()
    }
}

/// Receives scheduler events, e.g. to draw a progress bar. Every method has
/// an empty default; calls come from worker threads.
pub trait JobListener: Send + Sync {
    /// A job started with `num_stages` stages in its DAG.
    fn on_job_start(&self, _job_id: usize, _action: &str, _num_stages: usize) {}
    /// A stage is about to run `num_tasks` tasks.
    fn on_stage_start(&self, _job_id: usize, _stage_id: usize, _name: &str, _num_tasks: usize) {}
    /// A shuffle-map task stored its output: `records` rows for the next
    /// stage (a progress bar's "rows processed").
    fn on_shuffle_write(&self, _job_id: usize, _stage_id: usize, _partition: usize, _records: u64) {}
    /// A task finished, successfully or for good.
    fn on_task_end(&self, _job_id: usize, _stage_id: usize, _partition: usize, _ok: bool) {}
    /// A job ended.
    fn on_job_end(&self, _metrics: &JobMetrics) {}
}
