//! `DataFrame`: a logical plan bound to its session. Building one is lazy;
//! `collect` optimizes the plan, lowers it to RDD stages and runs them.

use std::sync::Arc;

use arrow::datatypes::{Schema, SchemaRef};
use arrow::record_batch::RecordBatch;

use crate::SessionContext;
use crate::error::Result;
use crate::logical::LogicalPlan;
use crate::optimizer::optimize;
use crate::physical::lower::Lowering;
use crate::physical::plan::PhysicalPlan;
use crate::physical::planner::PhysicalPlanner;

/// A query over a session's data, run when collected.
///
/// ```
/// use flint::SessionContext;
/// let ctx = SessionContext::new();
/// let df = ctx.sql("SELECT 1 + 2 AS three").unwrap();
/// assert_eq!(df.schema().field(0).name(), "three");
/// let batches = df.collect().unwrap();
/// assert_eq!(batches[0].num_rows(), 1);
/// ```
#[derive(Clone, Debug)]
pub struct DataFrame {
    pub(crate) ctx: SessionContext,
    pub(crate) plan: Arc<LogicalPlan>,
}

impl DataFrame {
    pub(crate) fn new(ctx: SessionContext, plan: LogicalPlan) -> Self {
        Self {
            ctx,
            plan: Arc::new(plan),
        }
    }

    /// The Arrow schema of the result, known before running.
    pub fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(
            self.plan
                .schema()
                .fields()
                .iter()
                .map(|f| f.as_ref().clone())
                .collect::<Vec<_>>(),
        ))
    }

    /// The plan as bound from SQL.
    pub fn logical_plan(&self) -> &LogicalPlan {
        &self.plan
    }

    /// The plan after the optimizer's rules.
    pub fn optimized_plan(&self) -> Result<LogicalPlan> {
        let settings = self.ctx.sql_settings();
        Ok(optimize(self.plan.as_ref().clone(), &settings)?.plan)
    }

    /// The physical plan, stages and exchanges included.
    pub fn physical_plan(&self) -> Result<PhysicalPlan> {
        let settings = self.ctx.sql_settings();
        let optimized = optimize(self.plan.as_ref().clone(), &settings)?.plan;
        PhysicalPlanner::new(&settings).plan(&optimized)
    }

    /// Runs the query and returns its batches in order.
    pub fn collect(&self) -> Result<Vec<RecordBatch>> {
        let physical = self.physical_plan()?;
        self.collect_physical(&physical)
    }

    pub(crate) fn collect_physical(&self, physical: &PhysicalPlan) -> Result<Vec<RecordBatch>> {
        let settings = self.ctx.sql_settings();
        let lowering = Lowering::new(&self.ctx, settings.batch_size, settings.shuffle_partitions);
        let rdd = lowering.lower(physical)?;
        let schema = self.schema();
        let batches = rdd.collect()?;
        // The engine may mark columns nullable that the plan knows are not;
        // results carry the plan's schema.
        batches
            .into_iter()
            .filter(|b| b.num_rows() > 0)
            .map(|b| {
                if b.schema() == schema {
                    Ok(b)
                } else {
                    Ok(RecordBatch::try_new_with_options(
                        Arc::clone(&schema),
                        b.columns().to_vec(),
                        &arrow::array::RecordBatchOptions::new().with_row_count(Some(b.num_rows())),
                    )
                    .or_else(|_| b.with_schema(Arc::clone(&schema)))?)
                }
            })
            .collect()
    }

    /// Number of rows of the result.
    pub fn count(&self) -> Result<usize> {
        Ok(self.collect()?.iter().map(|b| b.num_rows()).sum())
    }
}

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
