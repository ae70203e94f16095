//! Flint as an engine of the runner: one session with `--threads` worker
//! threads and the eight tables registered over the Parquet files.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use arrow::record_batch::RecordBatch;
use flint::{SessionConfig, SessionContext};

use crate::Setup;
use crate::outcome::{Raw, Rss};

pub struct FlintEngine {
    ctx: SessionContext,
}

/// Flint's version as the runner reports it.
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

impl FlintEngine {
    pub fn start(setup: &Setup) -> Result<Self, String> {
        let ctx = SessionContext::with_config(SessionConfig::new().with_worker_threads(setup.threads));
        flint::tpch::register_parquet(&ctx, &setup.tables).map_err(|e| format!("registering the tables: {e}"))?;
        Ok(Self { ctx })
    }

    fn collect(&self, sql: &str) -> flint::Result<Vec<RecordBatch>> {
        self.ctx.sql(sql)?.collect()
    }

    /// One untimed warm-up, then `runs` timed runs (planning, execution and
    /// collection of all result batches). A panic is a failure like an
    /// error, so one broken query never ends the benchmark.
    pub fn run(&mut self, sql: &str, runs: usize) -> Raw {
        let attempt = catch_unwind(AssertUnwindSafe(|| -> flint::Result<(Vec<f64>, Vec<RecordBatch>)> {
            let mut last = self.collect(sql)?;
            let mut times = Vec::with_capacity(runs);
            for _ in 0..runs {
                drop(last);
                let start = Instant::now();
                last = self.collect(sql)?;
                times.push(start.elapsed().as_secs_f64() * 1e3);
            }
            Ok((times, last))
        }));
        match attempt {
            Ok(Ok((times_ms, batches))) => match flint::tpch::answers::format_batches(&batches) {
                Ok(rows) => Raw::Ran { times_ms, rows },
                Err(e) => Raw::Failed(format!("formatting the result: {e}")),
            },
            Ok(Err(e)) => Raw::Failed(e.to_string()),
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("(no message)");
                Raw::Failed(format!("panicked: {msg}"))
            }
        }
    }
}

/// This process's peak resident set (VmHWM; Linux only).
pub fn peak_rss() -> Option<Rss> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(Rss {
        bytes: kb * 1024,
        note: "VmHWM of the runner process (Flint runs in it)".into(),
    })
}
