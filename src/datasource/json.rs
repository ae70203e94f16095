//! JSON tables: newline-delimited JSON (one object per line), with the schema
//! given or inferred.
//!
//! The schema is inferred by Arrow from the first records of the first
//! files, read as one stream; a field that is only ever null becomes Utf8.
//! Files are split at line breaks like CSV, which is always safe here: a
//! JSON value written on one line has no raw line break inside.

use std::io::{BufReader, Read};
use std::sync::Arc;

use arrow::datatypes::{DataType, Schema, SchemaRef};
use arrow::json::ReaderBuilder;
use arrow::json::reader::infer_json_schema;
use arrow::record_batch::RecordBatch;

use super::listing::{self, Listing};
use super::split::{BatchDecoder, MakeDecoder, TextScan};
use super::{ScanRequest, TableProvider, TableStatistics, project_schema};
use crate::SessionContext;
use crate::error::{Error, Result, ResultExt};
use crate::io::ObjectReader;
use crate::rdd::Rdd;

/// How a JSON table is read.
#[derive(Clone, Debug)]
pub struct JsonOptions {
    /// The schema; inferred when `None`.
    pub schema: Option<SchemaRef>,
    /// Records read to infer the schema (default 1000).
    pub schema_infer_max_records: usize,
}

impl Default for JsonOptions {
    fn default() -> Self {
        Self {
            schema: None,
            schema_infer_max_records: 1000,
        }
    }
}

impl JsonOptions {
    /// Gives the schema instead of inferring it.
    pub fn with_schema(mut self, schema: SchemaRef) -> Self {
        self.schema = Some(schema);
        self
    }

    /// Sets how many records schema inference reads (at least 1).
    pub fn with_schema_infer_max_records(mut self, n: usize) -> Self {
        self.schema_infer_max_records = n.max(1);
        self
    }
}

/// A table of newline-delimited JSON files: one file, the `.json`,
/// `.ndjson` and `.jsonl` files below a directory, or the files matching a
/// glob.
///
/// ```
/// use flint::SessionContext;
/// use flint::datasource::{JsonTable, TableProvider};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("t.json");
/// std::fs::write(&path, "{\"a\": 1}\n{\"a\": 2, \"b\": \"x\"}\n").unwrap();
/// let ctx = SessionContext::new();
/// let table = JsonTable::try_new(&ctx, path.to_str().unwrap()).unwrap();
/// assert_eq!(table.schema().fields().len(), 2);
/// ```
#[derive(Debug)]
pub struct JsonTable {
    schema: SchemaRef,
    listing: Listing,
}

impl JsonTable {
    /// Lists the files behind `path` and infers their schema.
    pub fn try_new(ctx: &SessionContext, path: &str) -> Result<Self> {
        Self::try_new_with_options(ctx, path, JsonOptions::default())
    }

    /// Lists the files behind `path`, taking the schema from `options` or
    /// inferring it.
    pub fn try_new_with_options(ctx: &SessionContext, path: &str, options: JsonOptions) -> Result<Self> {
        let listing = listing::list(&ctx.state, path, &["json", "ndjson", "jsonl"])?;
        let schema = match options.schema {
            Some(s) => s,
            None => Arc::new(infer_schema(ctx, path, &listing, options.schema_infer_max_records)?),
        };
        Ok(Self { schema, listing })
    }
}

/// Infers the schema of the files read one after another.
fn infer_schema(ctx: &SessionContext, path: &str, listing: &Listing, max: usize) -> Result<Schema> {
    let mut stream: Box<dyn Read + '_> = Box::new(std::io::empty());
    for file in &listing.files {
        let reader = ObjectReader::new(&ctx.state, &listing.store, &file.location, file.size);
        // A file's last line may lack its line break.
        stream = Box::new(stream.chain(reader).chain(&b"\n"[..]));
    }
    let (schema, _) = infer_json_schema(BufReader::with_capacity(1 << 20, stream), Some(max.max(1)))
        .with_context(|| format!("inferring the schema of JSON '{path}'"))?;
    if schema.fields().is_empty() {
        return Err(Error::InvalidArgument(format!(
            "cannot infer the schema of '{path}': it has no JSON objects; give a schema"
        )));
    }
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Null => f.as_ref().clone().with_data_type(DataType::Utf8),
            _ => f.as_ref().clone(),
        })
        .collect();
    Ok(Schema::new(fields))
}

impl TableProvider for JsonTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn kind(&self) -> &'static str {
        "json"
    }

    fn statistics(&self) -> TableStatistics {
        TableStatistics {
            num_rows: None,
            total_bytes: Some(self.listing.files.iter().map(|f| f.size).sum()),
        }
    }

    fn scan(&self, ctx: &SessionContext, request: &ScanRequest) -> Result<Rdd<RecordBatch>> {
        let (projected, _) = project_schema(&self.schema, request.projection.as_ref())?;
        // Decoding with the projected schema skips the other fields.
        let decode_schema = Arc::clone(&projected);
        let make: MakeDecoder = Arc::new(move |batch_size| {
            let decoder = ReaderBuilder::new(Arc::clone(&decode_schema))
                .with_batch_size(batch_size)
                .with_coerce_primitive(true)
                .build_decoder()?;
            Ok(Box::new(decoder) as Box<dyn BatchDecoder>)
        });
        let scan = TextScan {
            format: "JSON",
            listing: self.listing.clone(),
            splittable: true,
            make,
            skip_header: None,
        };
        Ok(scan.into_rdd(ctx, request, projected))
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::AsArray;
    use arrow::datatypes::{Field, Int64Type};

    use super::*;
    use crate::datasource::test_util::{get, request, rows, run};

    fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    }

    #[test]
    fn infers_across_files_and_projects() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "a.json",
            "{\"id\": 1, \"name\": \"x\", \"n\": null}\n{\"id\": 2}",
        );
        write(
            dir.path(),
            "b.jsonl",
            "{\"id\": 3, \"score\": 1.5, \"tags\": [\"p\"]}\n",
        );
        write(dir.path(), "c.txt", "not json\n");
        let ctx = SessionContext::new();
        let t = JsonTable::try_new(&ctx, dir.path().to_str().unwrap()).unwrap();
        let s = t.schema();
        let field = |n: &str| s.field_with_name(n).unwrap().data_type().clone();
        assert_eq!(field("id"), DataType::Int64);
        assert_eq!(field("name"), DataType::Utf8);
        assert_eq!(field("n"), DataType::Utf8);
        assert_eq!(field("score"), DataType::Float64);
        assert!(matches!(field("tags"), DataType::List(_)));

        let id = s.index_of("id").unwrap();
        let score = s.index_of("score").unwrap();
        let req = request(Some(vec![score, id]), vec![], None, 10, 1);
        let parts = run(&ctx, &t, &req);
        let batches: Vec<_> = parts.into_iter().flatten().collect();
        let ids: Vec<i64> = batches
            .iter()
            .flat_map(|b| b.column(1).as_primitive::<Int64Type>().values().to_vec())
            .collect();
        assert_eq!(ids, vec![1, 2, 3]);
        assert_eq!(batches[0].schema().field(0).name(), "score");
        assert_eq!(get(&req.metrics.rows), 3);
        assert_eq!(t.statistics().num_rows, None);
    }

    #[test]
    fn splits_lines_counts_without_columns_and_limits() {
        let dir = tempfile::tempdir().unwrap();
        let text: String = (0..500)
            .map(|i| format!("{{\"v\": {i}, \"pad\": \"{}\"}}\n", "x".repeat(i % 7)))
            .collect();
        let p = write(dir.path(), "t.ndjson", &text);
        let ctx = SessionContext::new();
        let t = JsonTable::try_new(&ctx, &p).unwrap();
        let v = t.schema().index_of("v").unwrap();
        let req = request(Some(vec![v]), vec![], None, 100, 4);
        let parts = run(&ctx, &t, &req);
        assert_eq!(parts.len(), 4);
        let all: Vec<i64> = parts
            .iter()
            .flatten()
            .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
            .collect();
        assert_eq!(all, (0..500).collect::<Vec<i64>>());
        assert_eq!(rows(&run(&ctx, &t, &request(Some(vec![]), vec![], None, 100, 3))), 500);
        assert_eq!(rows(&run(&ctx, &t, &request(None, vec![], Some(7), 100, 1))), 7);
    }

    #[test]
    fn given_schema_and_errors_with_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "t.json", "{\"a\": 1}\n{\"a\": 2}\n\n{\"a\": \"x\"}\n");
        let ctx = SessionContext::new();
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
        let t = JsonTable::try_new_with_options(&ctx, &p, JsonOptions::default().with_schema(schema)).unwrap();
        let err = t
            .scan(&ctx, &request(None, vec![], None, 10, 1))
            .unwrap()
            .collect()
            .unwrap_err();
        assert!(err.to_string().contains("t.json' line 4"), "{err}");

        let bad = write(dir.path(), "bad.json", "{\"a\": 1}\n{oops\n");
        let err = JsonTable::try_new(&ctx, &bad).unwrap_err();
        assert!(err.to_string().contains("bad.json"), "{err}");
        let empty = write(dir.path(), "empty.json", "");
        let err = JsonTable::try_new(&ctx, &empty).unwrap_err();
        assert!(err.to_string().contains("give a schema"), "{err}");
    }
}
