//! `DataFrame`: a logical plan bound to its session. Building one is lazy;
//! `collect` optimizes the plan, lowers it to RDD stages and runs them.
//!
//! Files: `explain` (the plans of a frame, as `EXPLAIN` shows them).

mod explain;

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
