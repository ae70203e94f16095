//! Running statements: queries become lazy DataFrames; DDL, DML and
//! session commands run at once and return an empty (or small) result.

use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use datafusion_common::TableReference;
use sqlparser::ast::{self, Statement};

use super::binder::Binder;
use super::parser::{CreateExternalTable, FlintStatement, normalize_ident};
use super::types::sql_to_arrow_type;
use crate::catalog::CatalogEntry;
use crate::dataframe::DataFrame;
use crate::datasource::{CsvOptions, MemTable, TableProvider};
use crate::error::Result;
use crate::logical::{LogicalPlan, TableScan};
use crate::{SessionContext, not_supported, plan_err};

/// A DataFrame over constant batches (results of SHOW, DESCRIBE, EXPLAIN).
pub(crate) fn batches_frame(ctx: &SessionContext, schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<DataFrame> {
    let table = Arc::new(MemTable::try_new(schema, vec![batches])?);
    let scan = TableScan::try_new(TableReference::bare("result"), table, None, vec![], None)?;
    Ok(DataFrame::new(ctx.clone(), LogicalPlan::TableScan(scan)))
}

fn string_frame(ctx: &SessionContext, names: &[&str], rows: Vec<Vec<String>>) -> Result<DataFrame> {
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(*n, DataType::Utf8, false))
            .collect::<Vec<_>>(),
    ));
    let cols: Vec<ArrayRef> = (0..names.len())
        .map(|c| Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r[c].as_str()))) as ArrayRef)
        .collect();
    let batch = RecordBatch::try_new(Arc::clone(&schema), cols)?;
    batches_frame(ctx, schema, vec![batch])
}

fn empty(ctx: &SessionContext) -> DataFrame {
    DataFrame::new(
        ctx.clone(),
        LogicalPlan::empty(Arc::new(datafusion_common::DFSchema::empty())),
    )
}

fn object_name(name: &ast::ObjectName) -> Result<String> {
    let parts: Vec<String> = name
        .0
        .iter()
        .filter_map(|p| p.as_ident())
        .map(normalize_ident)
        .collect();
    match parts.as_slice() {
        [one] => Ok(one.clone()),
        _ => not_supported!("qualified names ({name}); use a plain table name"),
    }
}

/// Runs one parsed statement.
pub(crate) fn execute(ctx: &SessionContext, stmt: &FlintStatement) -> Result<DataFrame> {
    let catalog = &ctx.state.catalog;
    match stmt {
        FlintStatement::CreateExternalTable(t) => {
            create_external(ctx, t)?;
            Ok(empty(ctx))
        }
        FlintStatement::Sql(s) => match s {
            Statement::Query(q) => {
                let plan = Binder::new(ctx, catalog).bind_query(q)?;
                Ok(DataFrame::new(ctx.clone(), plan))
            }
            Statement::Explain {
                analyze,
                verbose,
                statement,
                ..
            } => {
                let Statement::Query(q) = statement.as_ref() else {
                    not_supported!("EXPLAIN of anything but a query");
                };
                let plan = Binder::new(ctx, catalog).bind_query(q)?;
                let df = DataFrame::new(ctx.clone(), plan);
                let text = df.explain_string(*verbose, *analyze)?;
                // One row per line, so that tests and shells show plans as text.
                let rows = text
                    .into_iter()
                    .flat_map(|(kind, plan)| {
                        plan.lines()
                            .map(|l| vec![kind.clone(), l.to_string()])
                            .collect::<Vec<_>>()
                    })
                    .collect();
                string_frame(ctx, &["plan_type", "plan"], rows)
            }
            Statement::CreateTable(ct) => {
                let name = object_name(&ct.name)?;
                if ct.external {
                    not_supported!("this form of CREATE EXTERNAL TABLE; use STORED AS <format> LOCATION '<path>'");
                }
                if ct.if_not_exists && catalog.get(&name).is_some() {
                    return Ok(empty(ctx));
                }
                let table: Arc<dyn TableProvider> = match &ct.query {
                    Some(q) => {
                        let plan = Binder::new(ctx, catalog).bind_query(q)?;
                        let df = DataFrame::new(ctx.clone(), plan);
                        let schema = df.schema();
                        let batches = df.collect()?;
                        Arc::new(MemTable::try_new(schema, vec![batches])?)
                    }
                    None => {
                        if ct.columns.is_empty() {
                            plan_err!("CREATE TABLE {name} needs columns or AS SELECT");
                        }
                        let fields = ct
                            .columns
                            .iter()
                            .map(|c| {
                                let not_null = c.options.iter().any(|o| matches!(o.option, ast::ColumnOption::NotNull));
                                Ok(Field::new(
                                    normalize_ident(&c.name),
                                    sql_to_arrow_type(&c.data_type)?,
                                    !not_null,
                                ))
                            })
                            .collect::<Result<Vec<_>>>()?;
                        Arc::new(MemTable::try_new(Arc::new(Schema::new(fields)), vec![vec![]])?)
                    }
                };
                catalog.register(&name, CatalogEntry::Table(table), ct.or_replace)?;
                Ok(empty(ctx))
            }
            Statement::CreateView(v) => {
                let name = object_name(&v.name)?;
                if v.materialized {
                    not_supported!("materialized views");
                }
                let plan = Binder::new(ctx, catalog).bind_query(&v.query)?;
                catalog.register(&name, CatalogEntry::View(Arc::new(plan)), v.or_replace)?;
                Ok(empty(ctx))
            }
            Statement::Insert(ins) => {
                let ast::TableObject::TableName(tn) = &ins.table else {
                    not_supported!("INSERT INTO a table function");
                };
                let name = object_name(tn)?;
                let Some(CatalogEntry::Table(table)) = catalog.get(&name) else {
                    plan_err!("table '{name}' not found (INSERT needs a table created with CREATE TABLE)");
                };
                let Some(source) = &ins.source else {
                    not_supported!("INSERT without VALUES or SELECT");
                };
                let plan = Binder::new(ctx, catalog).bind_query(source)?;
                let columns: Vec<String> = ins
                    .columns
                    .iter()
                    .map(|c| {
                        c.0.last()
                            .and_then(|p| p.as_ident())
                            .map(normalize_ident)
                            .unwrap_or_default()
                    })
                    .collect();
                let plan = super::insert::conform(plan, &table.schema(), &columns)?;
                let batches = DataFrame::new(ctx.clone(), plan).collect()?;
                let n = table.insert(batches)?;
                let schema = Arc::new(Schema::new(vec![Field::new("count", DataType::Int64, false)]));
                let batch = RecordBatch::try_new(
                    Arc::clone(&schema),
                    vec![Arc::new(arrow::array::Int64Array::from(vec![n as i64]))],
                )?;
                batches_frame(ctx, schema, vec![batch])
            }
            Statement::Drop {
                object_type,
                if_exists,
                names,
                ..
            } => {
                let kind = match object_type {
                    ast::ObjectType::Table => "table",
                    ast::ObjectType::View => "view",
                    other => not_supported!("DROP {other}"),
                };
                for n in names {
                    catalog.drop_entry(&object_name(n)?, kind, *if_exists)?;
                }
                Ok(empty(ctx))
            }
            Statement::ShowTables { .. } => {
                let rows = catalog
                    .list()
                    .into_iter()
                    .map(|(n, k)| vec![n, k.to_string()])
                    .collect();
                string_frame(ctx, &["name", "type"], rows)
            }
            Statement::ExplainTable { table_name, .. } => {
                let name = object_name(table_name)?;
                let schema = match catalog.get(&name) {
                    Some(CatalogEntry::Table(t)) => t.schema(),
                    Some(CatalogEntry::View(v)) => Arc::new(v.schema().as_arrow().clone()),
                    None => plan_err!("table '{name}' not found"),
                };
                let rows = schema
                    .fields()
                    .iter()
                    .map(|f| {
                        vec![
                            f.name().clone(),
                            f.data_type().to_string(),
                            if f.is_nullable() { "YES" } else { "NO" }.to_string(),
                        ]
                    })
                    .collect();
                string_frame(ctx, &["column_name", "data_type", "is_nullable"], rows)
            }
            Statement::Set(ast::Set::SingleAssignment { variable, values, .. }) => {
                let name = variable.to_string();
                let value = match values.as_slice() {
                    [v] => match v {
                        ast::Expr::Value(v) => match &v.value {
                            ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
                            other => other.to_string(),
                        },
                        other => other.to_string(),
                    },
                    _ => plan_err!("SET {name} takes one value"),
                };
                ctx.set_setting(&name, &value)?;
                Ok(empty(ctx))
            }
            Statement::ShowVariable { variable } => {
                let name = variable.iter().map(|i| i.value.clone()).collect::<Vec<_>>().join(".");
                let settings = ctx.sql_settings();
                let rules = crate::optimizer::rule_names();
                if name.eq_ignore_ascii_case("all") {
                    let rows = settings.all(&rules).into_iter().map(|(k, v)| vec![k, v]).collect();
                    return string_frame(ctx, &["name", "value"], rows);
                }
                let value = settings.get(&name, &rules)?;
                string_frame(ctx, &["name", "value"], vec![vec![name.to_lowercase(), value]])
            }
            other => not_supported!("the statement {}", first_words(&other.to_string())),
        },
    }
}

fn first_words(s: &str) -> String {
    s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

fn create_external(ctx: &SessionContext, t: &CreateExternalTable) -> Result<()> {
    let name = object_name(&t.name)?;
    let catalog = &ctx.state.catalog;
    if t.if_not_exists && catalog.get(&name).is_some() {
        return Ok(());
    }
    let declared: Option<SchemaRef> = if t.columns.is_empty() {
        None
    } else {
        let fields = t
            .columns
            .iter()
            .map(|c| {
                Ok(Field::new(
                    normalize_ident(&c.name),
                    sql_to_arrow_type(&c.data_type)?,
                    true,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        Some(Arc::new(Schema::new(fields)))
    };
    let opt = |k: &str| t.options.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let table: Arc<dyn TableProvider> = match t.file_type.as_str() {
        "PARQUET" => Arc::new(crate::datasource::ParquetTable::try_new(ctx, &t.location)?),
        "CSV" | "TSV" => {
            let mut o = CsvOptions::default();
            if t.file_type == "TSV" {
                o.delimiter = b'\t';
            }
            if let Some(h) = opt("header").or_else(|| opt("format.has_header")) {
                o.has_header = h.eq_ignore_ascii_case("true");
            }
            if let Some(d) = opt("delimiter").or_else(|| opt("format.delimiter")) {
                let bytes = d.as_bytes();
                if bytes.len() != 1 {
                    plan_err!("delimiter must be one character, got '{d}'");
                }
                o.delimiter = bytes[0];
            }
            if let Some(s) = declared.clone() {
                o.schema = Some(s);
            }
            Arc::new(crate::datasource::CsvTable::try_new(ctx, &t.location, o)?)
        }
        "JSON" | "NDJSON" => Arc::new(crate::datasource::JsonTable::try_new(ctx, &t.location)?),
        other => not_supported!("STORED AS {other}; use PARQUET, CSV, TSV or JSON"),
    };
    catalog.register(&name, CatalogEntry::Table(table), t.or_replace)
}
