//! Where DataFrames come from: files (`read_parquet`, `read_csv`,
//! `read_json`), catalog tables and views (`table`), record batches in
//! memory (`create_dataframe`) and RDDs of batches
//! (`create_dataframe_from_rdd`).

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use datafusion_common::TableReference;

use super::DataFrame;
use crate::SessionContext;
use crate::catalog::CatalogEntry;
use crate::datasource::{CsvOptions, CsvTable, JsonTable, ParquetTable, RddTable, TableProvider, TableStatistics};
use crate::error::Result;
use crate::logical::{LogicalPlan, SubqueryAlias, TableScan};
use crate::rdd::Rdd;
use crate::{invalid_arg, plan_err};

impl SessionContext {
    /// Reads Parquet file(s): a file, a directory or a glob. Columns are
    /// qualified by the path, as in `SELECT * FROM 'path'`.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("t.parquet");
    /// let ctx = SessionContext::new();
    /// ctx.sql("SELECT * FROM (VALUES (1), (2)) v(x)").unwrap()
    ///     .write_parquet(path.to_str().unwrap(), Default::default()).unwrap();
    /// let df = ctx.read_parquet(path.to_str().unwrap()).unwrap();
    /// assert_eq!(df.count().unwrap(), 2);
    /// ```
    pub fn read_parquet(&self, path: &str) -> Result<DataFrame> {
        self.read_table(path, Arc::new(ParquetTable::try_new(self, path)?))
    }

    /// Reads CSV file(s) with the given options (header, delimiter, schema
    /// or inference, ...).
    ///
    /// ```
    /// use flint::SessionContext;
    /// use flint::datasource::CsvOptions;
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("t.csv");
    /// std::fs::write(&path, "id;name\n1;a\n2;b\n").unwrap();
    /// let ctx = SessionContext::new();
    /// let df = ctx.read_csv(path.to_str().unwrap(), CsvOptions::default().with_delimiter(b';')).unwrap();
    /// assert_eq!(df.schema().field(1).name(), "name");
    /// assert_eq!(df.count().unwrap(), 2);
    /// ```
    pub fn read_csv(&self, path: &str, options: CsvOptions) -> Result<DataFrame> {
        self.read_table(path, Arc::new(CsvTable::try_new(self, path, options)?))
    }

    /// Reads newline-delimited JSON file(s), inferring the schema.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("t.json");
    /// std::fs::write(&path, "{\"a\": 1}\n{\"a\": 2}\n").unwrap();
    /// let ctx = SessionContext::new();
    /// assert_eq!(ctx.read_json(path.to_str().unwrap()).unwrap().count().unwrap(), 2);
    /// ```
    pub fn read_json(&self, path: &str) -> Result<DataFrame> {
        self.read_table(path, Arc::new(JsonTable::try_new(self, path)?))
    }

    /// A frame scanning any table, its columns qualified by `name`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow::datatypes::{DataType, Field, Schema};
    /// use flint::SessionContext;
    /// use flint::datasource::MemTable;
    /// let ctx = SessionContext::new();
    /// let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int32, true)]));
    /// let df = ctx.read_table("m", Arc::new(MemTable::try_new(schema, vec![]).unwrap())).unwrap();
    /// assert_eq!(df.qualified_schema().field_names(), vec!["m.x"]);
    /// ```
    pub fn read_table(&self, name: &str, table: Arc<dyn TableProvider>) -> Result<DataFrame> {
        let scan = TableScan::try_new(TableReference::bare(name), table, None, vec![], None)?;
        Ok(DataFrame::new(self.clone(), LogicalPlan::TableScan(scan)))
    }

    /// A frame reading a registered table or view: the same plan as `FROM
    /// name` in SQL. The name is looked up as given, then in lower case.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// ctx.sql("CREATE TABLE t (a INT)").unwrap();
    /// assert_eq!(ctx.table("T").unwrap().logical_plan().display_indent(), "TableScan: t");
    /// assert!(ctx.table("u").unwrap_err().to_string().contains("table 'u' not found"));
    /// ```
    pub fn table(&self, name: &str) -> Result<DataFrame> {
        let catalog = &self.state.catalog;
        let (name, entry) = match catalog.get(name) {
            Some(e) => (name.to_string(), e),
            None => match catalog.get(&name.to_lowercase()) {
                Some(e) => (name.to_lowercase(), e),
                None => {
                    let hint = catalog.similar_names(name);
                    if hint.is_empty() {
                        plan_err!("table '{name}' not found");
                    }
                    plan_err!("table '{name}' not found; did you mean {}?", hint.join(", "));
                }
            },
        };
        let plan = match entry {
            CatalogEntry::Table(t) => {
                LogicalPlan::TableScan(TableScan::try_new(TableReference::bare(name), t, None, vec![], None)?)
            }
            CatalogEntry::View(plan) => LogicalPlan::SubqueryAlias(SubqueryAlias::try_new(plan, name.as_str())?),
        };
        Ok(DataFrame::new(self.clone(), plan))
    }

    /// A frame over record batches held in memory, all with the same column
    /// types (the first batch's schema names the columns). Columns are
    /// unqualified; give the frame a name with [`DataFrame::alias`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow::array::Int32Array;
    /// use arrow::datatypes::{DataType, Field, Schema};
    /// use arrow::record_batch::RecordBatch;
    /// use flint::SessionContext;
    /// let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int32, false)]));
    /// let batch = RecordBatch::try_new(schema, vec![Arc::new(Int32Array::from(vec![1, 2, 3]))]).unwrap();
    /// let ctx = SessionContext::new();
    /// assert_eq!(ctx.create_dataframe(vec![batch]).unwrap().count().unwrap(), 3);
    /// ```
    pub fn create_dataframe(&self, batches: Vec<RecordBatch>) -> Result<DataFrame> {
        let Some(first) = batches.first() else {
            invalid_arg!("create_dataframe needs at least one batch to know the schema");
        };
        let schema = first.schema();
        for b in &batches {
            let types = |s: &SchemaRef| s.fields().iter().map(|f| f.data_type().clone()).collect::<Vec<_>>();
            if types(&b.schema()) != types(&schema) {
                invalid_arg!(
                    "create_dataframe: batches have different column types: {:?} and {:?}",
                    types(&schema),
                    types(&b.schema())
                );
            }
        }
        let statistics = TableStatistics {
            num_rows: Some(batches.iter().map(|b| b.num_rows() as u64).sum()),
            total_bytes: Some(batches.iter().map(|b| b.get_array_memory_size() as u64).sum()),
        };
        let slices = batches.len().min(self.default_parallelism()).max(1);
        let rdd = self.parallelize(batches, slices);
        let table = RddTable::new(rdd, Arc::clone(&schema)).with_statistics(statistics);
        self.read_table("batches", Arc::new(table))
    }

    /// A frame over an RDD of record batches with the given schema (column
    /// types must match; a batch that does not fails the query when it is
    /// read). Columns are unqualified. With [`DataFrame::rdd`] this is the
    /// way between the RDD and DataFrame APIs.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow::array::Int64Array;
    /// use arrow::datatypes::{DataType, Field, Schema};
    /// use arrow::record_batch::RecordBatch;
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
    /// let s = schema.clone();
    /// let rdd = ctx.range(0, 10, 1, 2).glom().map(move |v| {
    ///     RecordBatch::try_new(s.clone(), vec![Arc::new(Int64Array::from(v))]).unwrap()
    /// });
    /// let df = ctx.create_dataframe_from_rdd(rdd, schema).unwrap();
    /// assert_eq!(df.count().unwrap(), 10);
    /// ```
    pub fn create_dataframe_from_rdd(&self, rdd: Rdd<RecordBatch>, schema: SchemaRef) -> Result<DataFrame> {
        self.read_table("rdd", Arc::new(RddTable::new(rdd, schema)))
    }
}

#[cfg(test)]
mod tests {
    use crate::SessionContext;

    #[test]
    fn table_reads_views_under_their_name_and_suggests_names() {
        let ctx = SessionContext::new();
        ctx.sql("CREATE TABLE orders (a INT)").unwrap();
        ctx.sql("CREATE VIEW v AS SELECT a FROM orders").unwrap();
        let v = ctx.table("v").unwrap();
        assert_eq!(v.qualified_schema().field_names(), vec!["v.a"]);
        let err = ctx.table("order").unwrap_err().to_string();
        assert!(err.contains("did you mean orders"), "{err}");
        assert!(ctx.create_dataframe(vec![]).is_err());
        assert!(ctx.read_parquet("/no/such/file.parquet").is_err());
    }
}
