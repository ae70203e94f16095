//! The SQL side of [`SessionContext`]: running statements, registering
//! tables and reading settings.

use std::sync::Arc;

use arrow::record_batch::RecordBatch;

use crate::SessionContext;
use crate::catalog::CatalogEntry;
use crate::config::SqlSettings;
use crate::dataframe::DataFrame;
use crate::datasource::{CsvOptions, CsvTable, JsonTable, MemTable, ParquetTable, TableProvider};
use crate::error::Result;
use crate::plan_err;
use crate::sql::execute::execute;
use crate::sql::parse_sql;

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

    /// A DataFrame reading a registered table or view.
    pub fn table(&self, name: &str) -> Result<DataFrame> {
        self.sql(&format!("SELECT * FROM \"{}\"", name.replace('"', "\"\"")))
    }
}
