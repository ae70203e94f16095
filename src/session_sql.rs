//! The SQL side of [`SessionContext`]: running statements, registering
//! tables and reading settings.

use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use crate::SessionContext;
use crate::catalog::CatalogEntry;
use crate::config::SqlSettings;
use crate::dataframe::DataFrame;
use crate::datasource::{CsvOptions, CsvTable, JsonTable, MemTable, ParquetTable, TableProvider};
use crate::error::Result;
use crate::functions::ScalarUdf;
use crate::sql::execute::execute;
use crate::sql::parse_sql;
use crate::{invalid_arg, plan_err};

impl SessionContext {
    /// Runs SQL. A query returns a lazy [`DataFrame`]; DDL and DML
    /// (`CREATE`, `INSERT`, `DROP`, `SET`, ...) run at once and return an
    /// empty or small result. Several `;`-separated statements run in
    /// order and the last one's result is returned.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// ctx.sql("CREATE TABLE t (a INT, b VARCHAR)").unwrap();
    /// ctx.sql("INSERT INTO t VALUES (1, 'x'), (2, 'y'), (3, NULL)").unwrap();
    /// let df = ctx.sql("SELECT count(b) AS n, sum(a) AS s FROM t WHERE a > 1").unwrap();
    /// let batch = &df.collect().unwrap()[0];
    /// assert_eq!(arrow::util::display::array_value_to_string(batch.column(0), 0).unwrap(), "1");
    /// assert_eq!(arrow::util::display::array_value_to_string(batch.column(1), 0).unwrap(), "5");
    /// ```
    pub fn sql(&self, sql: &str) -> Result<DataFrame> {
        let statements = parse_sql(sql)?;
        if statements.is_empty() {
            plan_err!("no SQL statement given");
        }
        let mut last = None;
        for s in &statements {
            last = Some(execute(self, s)?);
        }
        match last {
            Some(df) => Ok(df),
            None => plan_err!("no SQL statement given"),
        }
    }

    /// The current SQL settings.
    pub fn sql_settings(&self) -> SqlSettings {
        self.state.settings.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Changes a setting, as `SET name = value` does.
    pub fn set_setting(&self, name: &str, value: &str) -> Result<()> {
        let rules = crate::optimizer::rule_names();
        self.state
            .settings
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .set(name, value, &rules)
    }

    /// Registers any table under `name`, replacing an existing one.
    pub fn register_table(&self, name: &str, table: Arc<dyn TableProvider>) -> Result<()> {
        self.state.catalog.register(name, CatalogEntry::Table(table), true)
    }

    /// Registers Parquet file(s): a file, a directory or a glob.
    pub fn register_parquet(&self, name: &str, path: &str) -> Result<()> {
        self.register_table(name, Arc::new(ParquetTable::try_new(self, path)?))
    }

    /// Registers CSV file(s) with the given options.
    pub fn register_csv(&self, name: &str, path: &str, options: CsvOptions) -> Result<()> {
        self.register_table(name, Arc::new(CsvTable::try_new(self, path, options)?))
    }

    /// Registers newline-delimited JSON file(s).
    pub fn register_json(&self, name: &str, path: &str) -> Result<()> {
        self.register_table(name, Arc::new(JsonTable::try_new(self, path)?))
    }

    /// Registers in-memory batches (all of the same schema) as a table.
    pub fn register_batches(&self, name: &str, batches: Vec<RecordBatch>) -> Result<()> {
        let Some(first) = batches.first() else {
            plan_err!("register_batches needs at least one batch to know the schema");
        };
        let schema = first.schema();
        self.register_table(name, Arc::new(MemTable::try_new(schema, vec![batches])?))
    }

    /// Removes a table or view; returns whether it existed.
    pub fn deregister(&self, name: &str) -> Result<bool> {
        match self.state.catalog.get(name) {
            Some(e) => self.state.catalog.drop_entry(name, e.kind(), true),
            None => Ok(false),
        }
    }

    /// Names of the registered tables and views.
    pub fn table_names(&self) -> Vec<String> {
        self.state.catalog.list().into_iter().map(|(n, _)| n).collect()
    }

    /// Registers a user-defined scalar function under `name`
    /// (case-insensitive, replacing one of the same name), callable from
    /// SQL like a built-in and from the DataFrame API through the returned
    /// handle's [`ScalarUdf::call`]. `f` receives one array per argument,
    /// cast to `arg_types`, and must return an array of `return_type` with
    /// one value per row. An error or a panic in `f` fails the query with a
    /// message naming the UDF. A UDF takes at least one argument.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow::array::{ArrayRef, AsArray, Int64Array};
    /// use arrow::datatypes::{DataType, Int64Type};
    /// use flint::SessionContext;
    ///
    /// let ctx = SessionContext::new();
    /// ctx.register_udf("add_one", vec![DataType::Int64], DataType::Int64, |args: &[ArrayRef]| {
    ///     let a = args[0].as_primitive::<Int64Type>();
    ///     Ok(Arc::new(a.unary::<_, Int64Type>(|x| x + 1)) as ArrayRef)
    /// })
    /// .unwrap();
    /// let batch = &ctx.sql("SELECT add_one(41) AS x").unwrap().collect().unwrap()[0];
    /// assert_eq!(batch.column(0).as_primitive::<Int64Type>().value(0), 42);
    /// ```
    pub fn register_udf(
        &self,
        name: &str,
        arg_types: Vec<DataType>,
        return_type: DataType,
        f: impl Fn(&[ArrayRef]) -> Result<ArrayRef> + Send + Sync + 'static,
    ) -> Result<Arc<ScalarUdf>> {
        if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            invalid_arg!("a UDF name must be a non-empty identifier (letters, digits, _), got '{name}'");
        }
        if arg_types.is_empty() {
            invalid_arg!("UDF {name} must take at least one argument");
        }
        let udf = Arc::new(ScalarUdf::new(name, arg_types, return_type, f));
        self.state
            .udfs
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_lowercase(), Arc::clone(&udf));
        Ok(udf)
    }

    /// The UDF registered under `name` (case-insensitive), if any.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// assert!(ctx.udf("nope").is_none());
    /// ```
    pub fn udf(&self, name: &str) -> Option<Arc<ScalarUdf>> {
        self.state
            .udfs
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&name.to_lowercase())
            .cloned()
    }

    /// Removes a UDF; returns whether it existed. Plans already built keep
    /// their handle and still run.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow::datatypes::DataType;
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// ctx.register_udf("same", vec![DataType::Int64], DataType::Int64, |a| Ok(Arc::clone(&a[0]))).unwrap();
    /// assert!(ctx.deregister_udf("SAME"));
    /// assert!(ctx.sql("SELECT same(1)").is_err());
    /// ```
    pub fn deregister_udf(&self, name: &str) -> bool {
        self.state
            .udfs
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&name.to_lowercase())
            .is_some()
    }
}
