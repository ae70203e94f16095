//! Looking at a frame: `show` (the first rows as a table) and `explain`
//! (its logical, optimized and physical plans, with run-time metrics under
//! `analyze`).

use super::DataFrame;
use crate::error::Result;
use crate::optimizer::optimize;
use crate::physical::planner::PhysicalPlanner;

/// Rows `show()` prints, as in Spark.
const SHOW_ROWS: usize = 20;

impl DataFrame {
    /// Prints the first 20 rows as a table to stdout.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// ctx.sql("SELECT 1 AS x").unwrap().show().unwrap();
    /// ```
    pub fn show(&self) -> Result<()> {
        self.show_limit(SHOW_ROWS)
    }

    /// Prints the first `n` rows as a table to stdout.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// ctx.sql("SELECT * FROM (VALUES (1), (2)) v(x)").unwrap().show_limit(1).unwrap();
    /// ```
    pub fn show_limit(&self, n: usize) -> Result<()> {
        println!("{}", self.show_string(n)?);
        Ok(())
    }

    /// The table `show_limit(n)` prints, as a string.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let text = ctx.sql("SELECT 1 AS x").unwrap().show_string(10).unwrap();
    /// assert_eq!(text, "+---+\n| x |\n+---+\n| 1 |\n+---+");
    /// ```
    pub fn show_string(&self, n: usize) -> Result<String> {
        let batches = self.limit(0, Some(n))?.collect()?;
        if batches.is_empty() {
            let empty = arrow::record_batch::RecordBatch::new_empty(self.schema());
            return Ok(arrow::util::pretty::pretty_format_batches(&[empty])?.to_string());
        }
        Ok(arrow::util::pretty::pretty_format_batches(&batches)?.to_string())
    }

    /// Prints the plans to stdout: logical, optimized and physical (in
    /// stages); `verbose` adds the optimizer rules' timings; `analyze` runs
    /// the query and shows what each operator and stage did.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// ctx.sql("SELECT 1 AS x").unwrap().explain(false, true).unwrap();
    /// ```
    pub fn explain(&self, verbose: bool, analyze: bool) -> Result<()> {
        for (kind, text) in self.explain_string(verbose, analyze)? {
            println!("{kind}:");
            for line in text.lines() {
                println!("  {line}");
            }
        }
        Ok(())
    }

    /// `EXPLAIN` output as (kind, text) rows: the logical plan, the
    /// optimized plan and the physical plan in stages; with `analyze` the
    /// query runs and each operator and stage shows what it did.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let rows = ctx.sql("SELECT 1 AS x").unwrap().explain_string(false, false).unwrap();
    /// let kinds: Vec<&str> = rows.iter().map(|(k, _)| k.as_str()).collect();
    /// assert_eq!(kinds, ["logical_plan", "optimized_logical_plan", "physical_plan"]);
    /// ```
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

#[cfg(test)]
mod tests {
    use crate::SessionContext;

    #[test]
    fn show_string_limits_rows_and_keeps_the_header_of_an_empty_result() {
        let ctx = SessionContext::new();
        let df = ctx.sql("SELECT * FROM (VALUES (1), (2), (3)) v(x)").unwrap();
        let text = df.show_string(2).unwrap();
        assert_eq!(text.lines().filter(|l| l.starts_with("| ")).count(), 3, "{text}");
        let empty = ctx.sql("SELECT * FROM (VALUES (1)) v(x) WHERE x > 5").unwrap();
        assert!(empty.show_string(5).unwrap().contains("| x |"));
    }

    #[test]
    fn explain_analyze_reports_metrics() {
        let ctx = SessionContext::new();
        let df = ctx.sql("SELECT * FROM (VALUES (1), (2)) v(x)").unwrap();
        let rows = df.explain_string(true, true).unwrap();
        assert!(rows.iter().any(|(k, t)| k == "metrics" && t.contains("output rows=2")));
        assert!(rows.iter().any(|(k, _)| k == "optimizer_rules"));
    }
}
