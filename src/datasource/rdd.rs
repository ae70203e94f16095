//! A table over an RDD of record batches: how a DataFrame comes back from
//! the RDD world (`create_dataframe_from_rdd`), and what `cache()` and
//! `repartition()` leave behind (the persisted or shuffled RDD of the
//! frame). A scan is the RDD itself with the projection applied, so a
//! persisted RDD's cached partitions are what every later query reads.
//!
//! The batches are checked against the declared schema as they are read:
//! column types must match (names and nullability are taken from the
//! schema).

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use datafusion_common::TableReference;

use super::{ScanMetrics, ScanRequest, TableProvider, TableStatistics, conform, project_schema};
use crate::SessionContext;
use crate::error::{Error, Result};
use crate::rdd::Rdd;

/// A table whose data is an `Rdd<RecordBatch>`.
///
/// ```
/// use std::sync::Arc;
/// use arrow::array::Int32Array;
/// use arrow::datatypes::{DataType, Field, Schema};
/// use arrow::record_batch::RecordBatch;
/// use flint::SessionContext;
/// use flint::datasource::RddTable;
///
/// let ctx = SessionContext::new();
/// let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int32, false)]));
/// let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(Int32Array::from(vec![1, 2]))]).unwrap();
/// let table = RddTable::new(ctx.parallelize(vec![batch], 1), schema);
/// ctx.register_table("t", Arc::new(table)).unwrap();
/// assert_eq!(ctx.sql("SELECT sum(x) FROM t").unwrap().count().unwrap(), 1);
/// ```
#[derive(Debug)]
pub struct RddTable {
    rdd: Rdd<RecordBatch>,
    schema: SchemaRef,
    relations: Option<Vec<Option<TableReference>>>,
    statistics: TableStatistics,
}

impl RddTable {
    /// A table of `schema` over the batches of `rdd`. Its columns are
    /// unqualified unless [`RddTable::with_relations`] says otherwise.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow::datatypes::Schema;
    /// use flint::SessionContext;
    /// use flint::datasource::{RddTable, TableProvider};
    /// let ctx = SessionContext::new();
    /// let table = RddTable::new(ctx.parallelize(vec![], 1), Arc::new(Schema::empty()));
    /// assert_eq!(table.kind(), "rdd");
    /// assert_eq!(table.rdd().num_partitions(), 1);
    /// ```
    pub fn new(rdd: Rdd<RecordBatch>, schema: SchemaRef) -> Self {
        let n = schema.fields().len();
        Self {
            rdd,
            schema,
            relations: Some(vec![None; n]),
            statistics: TableStatistics::default(),
        }
    }

    /// Gives each column the relation it had in the plan the RDD was made
    /// from (so `col("t.a")` keeps working on a cached frame), or `None`
    /// to have the scan qualify every column by the table's name.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow::datatypes::{DataType, Field, Schema};
    /// use datafusion_common::TableReference;
    /// use flint::SessionContext;
    /// use flint::datasource::RddTable;
    /// let ctx = SessionContext::new();
    /// let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int32, true), Field::new("a", DataType::Int32, true)]));
    /// let relations = vec![Some(TableReference::bare("t")), Some(TableReference::bare("u"))];
    /// let table = RddTable::new(ctx.parallelize(vec![], 1), schema).with_relations(Some(relations));
    /// let df = ctx.read_table("joined", Arc::new(table)).unwrap();
    /// assert_eq!(df.qualified_schema().field_names(), vec!["t.a", "u.a"]);
    /// ```
    pub fn with_relations(mut self, relations: Option<Vec<Option<TableReference>>>) -> Self {
        self.relations = relations;
        self
    }

    /// Size estimates for the optimizer (e.g. to broadcast a small table).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow::datatypes::Schema;
    /// use flint::SessionContext;
    /// use flint::datasource::{RddTable, TableProvider, TableStatistics};
    /// let ctx = SessionContext::new();
    /// let stats = TableStatistics { num_rows: Some(10), total_bytes: Some(80) };
    /// let table = RddTable::new(ctx.parallelize(vec![], 1), Arc::new(Schema::empty())).with_statistics(stats);
    /// assert_eq!(table.statistics().num_rows, Some(10));
    /// ```
    pub fn with_statistics(mut self, statistics: TableStatistics) -> Self {
        self.statistics = statistics;
        self
    }

    /// The RDD the table reads (see [`RddTable::new`]).
    pub fn rdd(&self) -> &Rdd<RecordBatch> {
        &self.rdd
    }
}

impl TableProvider for RddTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn kind(&self) -> &'static str {
        "rdd"
    }

    fn statistics(&self) -> TableStatistics {
        self.statistics
    }

    fn column_relations(&self) -> Option<Vec<Option<TableReference>>> {
        self.relations.clone()
    }

    fn scan(&self, _ctx: &SessionContext, request: &ScanRequest) -> Result<Rdd<RecordBatch>> {
        let (projected, indices) = project_schema(&self.schema, request.projection.as_ref())?;
        let (schema, metrics) = (Arc::clone(&self.schema), Arc::clone(&request.metrics));
        ScanMetrics::add(&metrics.row_groups_total, self.rdd.num_partitions() as u64);
        Ok(self.rdd.try_map_partitions_with_index(move |_, iter| {
            ScanMetrics::add(&metrics.row_groups_read, 1);
            let (schema, projected, indices, metrics) = (
                Arc::clone(&schema),
                Arc::clone(&projected),
                indices.clone(),
                Arc::clone(&metrics),
            );
            Ok(iter.filter(|b| b.num_rows() > 0).map(move |b| {
                let b = check(b, &schema)?.project(&indices)?;
                ScanMetrics::add(&metrics.rows, b.num_rows() as u64);
                ScanMetrics::add(&metrics.batches, 1);
                conform(b, &projected)
            }))
        }))
    }
}

/// `b` relabelled with `schema`, if its column types are the schema's.
fn check(b: RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let want: Vec<_> = schema.fields().iter().map(|f| f.data_type()).collect();
    let got: Vec<_> = b.schema_ref().fields().iter().map(|f| f.data_type()).collect();
    if want != got {
        return Err(Error::Execution(format!(
            "a batch of the RDD has columns of types {got:?}, but the DataFrame's schema declares {want:?}"
        )));
    }
    conform(b, schema)
}

#[cfg(test)]
mod tests {
    use arrow::array::{Int32Array, Int64Array};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;
    use crate::datasource::test_util::{request, rows, run};

    #[test]
    fn scans_project_and_check_types() {
        let ctx = SessionContext::new();
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int32, true),
            Field::new("b", DataType::Int64, true),
        ]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(Int32Array::from(vec![1, 2])),
                Arc::new(Int64Array::from(vec![3, 4])),
            ],
        )
        .unwrap();
        let table = RddTable::new(ctx.parallelize(vec![batch.clone(), batch], 2), Arc::clone(&schema));
        let parts = run(&ctx, &table, &request(Some(vec![1]), vec![], None, 10, 1));
        assert_eq!(rows(&parts), 4);
        assert_eq!(parts[0][0].schema().field(0).name(), "b");

        let wrong = Arc::new(Schema::new(vec![Field::new("a", DataType::Utf8, true)]));
        let table = RddTable::new(table.rdd().clone(), wrong);
        let err = table
            .scan(&ctx, &request(None, vec![], None, 10, 1))
            .unwrap()
            .collect()
            .unwrap_err();
        assert!(err.to_string().contains("schema declares"), "{err}");
    }
}
