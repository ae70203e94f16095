//! `DataFrame`: a logical plan bound to its session, the library front door
//! next to SQL. Transformations (`select`, `filter`, `group_by().agg()`,
//! `join`, ...) resolve their expressions against the input at once, so a
//! wrong column name fails when the frame is built, and they build the same
//! plans the SQL binder builds (both use [`crate::logical::resolve`] and
//! [`crate::logical::builder`]). Nothing runs until an action (`collect`,
//! `count`, `show`, `write_*`): it optimizes the plan, lowers it to RDD
//! stages and runs them. [`DataFrame::rdd`] hands out the RDD itself, and
//! [`SessionContext::create_dataframe_from_rdd`] comes back.
//!
//! Files: `read` (the session's readers), `transform` (row-wise
//! operations, sorting, limits), `group` (aggregation), `join` (joins and
//! set operations), `materialize` (`cache`, `repartition`), `write`
//! (Parquet, CSV and JSON output), `explain` (`show`, `explain`).
//!
//! ```
//! use flint::SessionContext;
//! use flint::functions::sum;
//! use flint::logical::{col, lit};
//!
//! let ctx = SessionContext::new();
//! ctx.sql("CREATE TABLE t AS SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, 'a')) v(x, k)").unwrap();
//! let df = ctx
//!     .table("t").unwrap()
//!     .filter(col("x").gt(lit(1))).unwrap()
//!     .group_by(vec![col("k")])
//!     .agg(vec![sum(col("x")).alias("total")]).unwrap();
//! assert_eq!(df.count().unwrap(), 2);
//! ```

mod explain;
mod group;
mod join;
mod materialize;
mod read;
mod transform;
mod write;

pub use datafusion_common::JoinType;
pub use group::GroupedData;
pub use materialize::Partitioning;
pub use write::WriteOptions;

use std::sync::Arc;

use arrow::array::{AsArray, RecordBatchOptions};
use arrow::datatypes::{Int64Type, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use datafusion_common::DFSchemaRef;

use crate::SessionContext;
use crate::catalog::CatalogEntry;
use crate::error::{Error, Result};
use crate::functions::count_star;
use crate::logical::builder::aggregate_select;
use crate::logical::{Expr, LogicalPlan};
use crate::optimizer::optimize;
use crate::physical::lower::Lowering;
use crate::physical::plan::PhysicalPlan;
use crate::physical::planner::PhysicalPlanner;
use crate::rdd::Rdd;

/// A query over a session's data, run when an action is called. Cheap to
/// clone (the plan is shared); every transformation returns a new frame.
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
    /// The persisted RDD this frame scans, for a frame made by `cache` or
    /// `persist` (so that `unpersist` can release it).
    persisted: Option<Rdd<RecordBatch>>,
}

impl DataFrame {
    pub(crate) fn new(ctx: SessionContext, plan: LogicalPlan) -> Self {
        Self {
            ctx,
            plan: Arc::new(plan),
            persisted: None,
        }
    }

    /// A frame of the same session over another plan.
    pub(crate) fn with_plan(&self, plan: LogicalPlan) -> DataFrame {
        DataFrame::new(self.ctx.clone(), plan)
    }

    /// The session the frame belongs to.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT 1 AS x").unwrap();
    /// assert!(df.context().table_names().is_empty());
    /// ```
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// The Arrow schema of the result, known before running.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT 1 AS x, 'a' AS s").unwrap();
    /// assert_eq!(df.schema().fields().len(), 2);
    /// ```
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

    /// The schema with each column's relation (`t.a`), as expressions are
    /// resolved against it.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// ctx.sql("CREATE TABLE t (a INT)").unwrap();
    /// let df = ctx.table("t").unwrap();
    /// assert_eq!(df.qualified_schema().field_names(), vec!["t.a"]);
    /// ```
    pub fn qualified_schema(&self) -> &DFSchemaRef {
        self.plan.schema()
    }

    /// The plan as built (by SQL or by DataFrame methods).
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT 1 AS x").unwrap();
    /// assert!(df.logical_plan().display_indent().starts_with("Projection"));
    /// ```
    pub fn logical_plan(&self) -> &LogicalPlan {
        &self.plan
    }

    /// The plan after the optimizer's rules.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT 1 + 1 AS x").unwrap();
    /// assert_eq!(df.optimized_plan().unwrap().display_indent().lines().next(), Some("Projection: 2 AS x"));
    /// ```
    pub fn optimized_plan(&self) -> Result<LogicalPlan> {
        let settings = self.ctx.sql_settings();
        Ok(optimize(self.plan.as_ref().clone(), &settings)?.plan)
    }

    /// The physical plan, stages and exchanges included.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT 1 AS x").unwrap();
    /// assert!(df.physical_plan().unwrap().display_stages(false).contains("Stage 0"));
    /// ```
    pub fn physical_plan(&self) -> Result<PhysicalPlan> {
        let settings = self.ctx.sql_settings();
        let optimized = optimize(self.plan.as_ref().clone(), &settings)?.plan;
        PhysicalPlanner::new(&settings).plan(&optimized)
    }

    /// Runs the query and returns its (non-empty) batches in order.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let batches = ctx.sql("SELECT * FROM (VALUES (1), (2)) v(x)").unwrap().collect().unwrap();
    /// assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
    /// ```
    pub fn collect(&self) -> Result<Vec<RecordBatch>> {
        let physical = self.physical_plan()?;
        self.collect_physical(&physical)
    }

    pub(crate) fn collect_physical(&self, physical: &PhysicalPlan) -> Result<Vec<RecordBatch>> {
        self.lower(physical, true)?.collect()
    }

    /// The RDD computing `physical`, its batches relabelled with the
    /// frame's schema (the engine may mark columns nullable that the plan
    /// knows are not) and empty ones dropped. `once`: it is computed by a
    /// single action, and its shuffles may free their output as it is read.
    fn lower(&self, physical: &PhysicalPlan, once: bool) -> Result<Rdd<RecordBatch>> {
        let settings = self.ctx.sql_settings();
        let mut lowering = Lowering::new(&self.ctx, settings.batch_size, settings.shuffle_partitions);
        if once {
            lowering = lowering.consuming_exchanges();
        }
        let schema = self.schema();
        Ok(lowering.lower(physical)?.try_map_partitions_with_index(move |_, iter| {
            let schema = Arc::clone(&schema);
            Ok(iter.filter(|b| b.num_rows() > 0).map(move |b| relabel(b, &schema)))
        }))
    }

    /// The RDD of record batches behind the frame, one element per batch,
    /// partitioned as the physical plan's last stage. From here any RDD
    /// operation applies; [`SessionContext::create_dataframe_from_rdd`] turns
    /// an RDD of batches back into a frame. Lowering may run jobs for
    /// broadcast joins and range bounds; the rest stays lazy.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT * FROM (VALUES (1), (2), (3)) v(x)").unwrap();
    /// let rows = df.rdd().unwrap().map(|b| b.num_rows() as u64).reduce(|a, b| a + b).unwrap();
    /// assert_eq!(rows, Some(3));
    /// ```
    pub fn rdd(&self) -> Result<Rdd<RecordBatch>> {
        let physical = self.physical_plan()?;
        self.lower(&physical, false)
    }

    /// Number of rows of the result, computed as `count(*)` over the plan
    /// (so unused columns are never read).
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT * FROM (VALUES (1), (2), (3)) v(x) WHERE x > 1").unwrap();
    /// assert_eq!(df.count().unwrap(), 2);
    /// ```
    pub fn count(&self) -> Result<usize> {
        let name = "count(*)".to_string();
        let plan = aggregate_select(
            self.plan.as_ref().clone(),
            vec![],
            vec![count_star()],
            std::slice::from_ref(&name),
            "count()",
        )?;
        let batches = self.with_plan(plan).collect()?;
        let n = batches
            .iter()
            .find(|b| b.num_rows() > 0)
            .and_then(|b| b.column(0).as_primitive_opt::<Int64Type>().map(|a| a.value(0)));
        match n {
            Some(n) => Ok(usize::try_from(n).unwrap_or(0)),
            None => Err(Error::Internal("count(*) returned no row".into())),
        }
    }

    /// Registers the frame as a view named `name`, replacing one of the same
    /// name, so that SQL can query it (Spark's `createOrReplaceTempView`).
    ///
    /// ```
    /// use flint::SessionContext;
    /// use flint::logical::{col, lit};
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT * FROM (VALUES (1), (2)) v(x)").unwrap().filter(col("x").gt(lit(1))).unwrap();
    /// df.create_or_replace_temp_view("big").unwrap();
    /// assert_eq!(ctx.sql("SELECT count(*) FROM big").unwrap().collect().unwrap()[0].num_rows(), 1);
    /// ```
    pub fn create_or_replace_temp_view(&self, name: &str) -> Result<()> {
        self.ctx
            .state
            .catalog
            .register(name, CatalogEntry::View(Arc::clone(&self.plan)), true)
    }

    /// Resolves a user-built expression against this frame's columns.
    pub(crate) fn resolve(&self, e: Expr) -> Result<Expr> {
        crate::logical::resolve::resolve_expr(e, self.plan.schema())
    }

    /// Resolves `e` and names it as a select item is named: columns and
    /// aliases keep their names, anything else is named by its text as
    /// written (`a + 1`), as SQL names an unnamed select item.
    pub(crate) fn resolve_named(&self, e: Expr) -> Result<Expr> {
        let written = e.to_string();
        Ok(match self.resolve(e)? {
            r @ (Expr::Column(_) | Expr::Alias(..)) => r,
            other => other.alias(written),
        })
    }
}

/// `b` with the columns of `schema` (same types; names and nullability
/// from the plan).
fn relabel(b: RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    if b.schema_ref() == schema {
        return Ok(b);
    }
    let options = RecordBatchOptions::new().with_row_count(Some(b.num_rows()));
    match RecordBatch::try_new_with_options(Arc::clone(schema), b.columns().to_vec(), &options) {
        Ok(r) => Ok(r),
        Err(_) => Ok(b.with_schema(Arc::clone(schema))?),
    }
}
