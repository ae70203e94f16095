//! Looking at a frame's plans: logical, optimized and physical (in
//! stages), with run-time metrics under `analyze`.

use super::DataFrame;
use crate::error::Result;
use crate::optimizer::optimize;
use crate::physical::planner::PhysicalPlanner;

impl DataFrame {
    /// `EXPLAIN` output as (kind, text) rows: the logical plan, the
    /// optimized plan and the physical plan in stages; with `analyze` the
    /// query runs and each operator and stage shows what it did.
    pub fn explain_string(&self, verbose: bool, analyze: bool) -> Result<Vec<(String, String)>> {
        let settings = self.ctx.sql_settings();
        let mut out = Vec::new();
        out.push(("logical_plan".to_string(), self.plan.display_indent()));
        let optimized = optimize(self.plan.as_ref().clone(), &settings)?;
        if verbose {
            let t: Vec<String> = optimized
                .timings
                .iter()
                .map(|(r, d)| format!("{r}: {:.3}ms", d.as_secs_f64() * 1e3))
                .collect();
            out.push(("optimizer_rules".to_string(), t.join("\n")));
        }
        out.push(("optimized_logical_plan".to_string(), optimized.plan.display_indent()));
        let physical = PhysicalPlanner::new(&settings).plan(&optimized.plan)?;
        if analyze {
            let started = std::time::Instant::now();
            let batches = self.collect_physical(&physical)?;
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            out.push(("physical_plan".to_string(), physical.display_stages(true)));
            let mut stages = format!(
                "output rows={rows} total time={:.1}ms",
                started.elapsed().as_secs_f64() * 1e3
            );
            if let Some(m) = self.ctx.last_job_metrics() {
                for s in &m.stages {
                    stages.push_str(&format!(
                        "\nstage {} {:?} {}: tasks={} attempts={} skipped={} shuffle_write={} rows / {} bytes time={:.1}ms",
                        s.stage_id,
                        s.kind,
                        s.name,
                        s.num_partitions,
                        s.task_attempts,
                        s.skipped,
                        s.shuffle_records_written,
                        s.shuffle_bytes_written,
                        s.duration.as_secs_f64() * 1e3
                    ));
                }
            }
            out.push(("metrics".to_string(), stages));
        } else {
            out.push(("physical_plan".to_string(), physical.display_stages(false)));
        }
        Ok(out)
    }
}
