//! CSV tables: delimited text files, with the schema given or inferred.
//!
//! The schema is inferred from the first records of the first files (Arrow's
//! inference: Int64, Float64, Boolean, Date32, Timestamp, else Utf8; a column
//! with no values becomes Utf8), merging types across files. Header names
//! become column names; without a header the columns are `column_1..N`.
//! Files are split at line breaks into about `total / target_partitions`
//! bytes each, which assumes no quoted value contains a line break; with
//! [`CsvOptions::with_newlines_in_values`] each file is read whole instead
//! (Spark's `multiLine`).

use std::io::BufReader;
use std::sync::Arc;

use arrow::csv::ReaderBuilder;
use arrow::csv::reader::Format;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;

use super::listing::{self, Listing, display_path};
use super::split::{BatchDecoder, MakeDecoder, SkipHeader, TextScan};
use super::{ScanRequest, TableProvider, TableStatistics, project_schema};
use crate::SessionContext;
use crate::error::{Error, Result, ResultExt};
use crate::io::ObjectReader;
use crate::rdd::Rdd;

/// How CSV files are written.
///
/// ```
/// use flint::datasource::CsvOptions;
/// let tsv = CsvOptions::default().with_delimiter(b'\t').with_null_string("\\N");
/// assert!(tsv.has_header);
/// ```
#[derive(Clone, Debug)]
pub struct CsvOptions {
    /// The first line of each file names the columns (default `true`).
    pub has_header: bool,
    /// Field separator (default `,`).
    pub delimiter: u8,
    /// Quote character (default `"`).
    pub quote: u8,
    /// Escape character inside quoted values (default none: quotes are
    /// doubled).
    pub escape: Option<u8>,
    /// The schema; inferred when `None`.
    pub schema: Option<SchemaRef>,
    /// Records read to infer the schema (default 1000).
    pub schema_infer_max_records: usize,
    /// A value meaning NULL (default: an empty field is NULL).
    pub null_string: Option<String>,
    /// Quoted values may contain line breaks, so files are not split
    /// (default `false`).
    pub newlines_in_values: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            has_header: true,
            delimiter: b',',
            quote: b'"',
            escape: None,
            schema: None,
            schema_infer_max_records: 1000,
            null_string: None,
            newlines_in_values: false,
        }
    }
}

impl CsvOptions {
    /// Sets whether files start with a header line.
    pub fn with_header(mut self, has_header: bool) -> Self {
        self.has_header = has_header;
        self
    }

    /// Sets the field separator.
    pub fn with_delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// Sets the quote character.
    pub fn with_quote(mut self, quote: u8) -> Self {
        self.quote = quote;
        self
    }

    /// Sets the escape character.
    pub fn with_escape(mut self, escape: Option<u8>) -> Self {
        self.escape = escape;
        self
    }

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

    /// Sets the value that means NULL.
    pub fn with_null_string(mut self, s: impl Into<String>) -> Self {
        self.null_string = Some(s.into());
        self
    }

    /// Allows line breaks inside quoted values (files are then read whole).
    pub fn with_newlines_in_values(mut self, allow: bool) -> Self {
        self.newlines_in_values = allow;
        self
    }

    /// The options as an Arrow CSV format (with the header flag as given).
    fn format(&self) -> Result<Format> {
        let mut format = Format::default()
            .with_header(self.has_header)
            .with_delimiter(self.delimiter)
            .with_quote(self.quote);
        if let Some(e) = self.escape {
            format = format.with_escape(e);
        }
        if let Some(null) = &self.null_string {
            let re = regex::Regex::new(&format!("^{}$", regex::escape(null)))
                .map_err(|e| Error::InvalidArgument(format!("CSV null string '{null}': {e}")))?;
            format = format.with_null_regex(re);
        }
        Ok(format)
    }
}

/// A table of CSV files: one file, the `.csv`/`.tsv` files below a
/// directory, or the files matching a glob.
///
/// ```
/// use flint::SessionContext;
/// use flint::datasource::{CsvOptions, CsvTable, TableProvider};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("t.csv");
/// std::fs::write(&path, "id,name\n1,a\n2,b\n").unwrap();
/// let ctx = SessionContext::new();
/// let table = CsvTable::try_new(&ctx, path.to_str().unwrap(), CsvOptions::default()).unwrap();
/// assert_eq!(table.schema().field(0).name(), "id");
/// ```
#[derive(Debug)]
pub struct CsvTable {
    schema: SchemaRef,
    options: CsvOptions,
    format: Format,
    listing: Listing,
}

impl CsvTable {
    /// Lists the files behind `path` and infers their schema unless
    /// `options` gives one.
    pub fn try_new(ctx: &SessionContext, path: &str, options: CsvOptions) -> Result<Self> {
        let listing = listing::list(&ctx.state, path, &["csv", "tsv"])?;
        let format = options.format()?;
        let schema = match &options.schema {
            Some(s) => Arc::clone(s),
            None => Arc::new(infer_schema(
                ctx,
                path,
                &listing,
                &format,
                options.schema_infer_max_records,
            )?),
        };
        Ok(Self {
            schema,
            options,
            format,
            listing,
        })
    }
}

/// Infers one schema from the first records of the first files.
fn infer_schema(ctx: &SessionContext, path: &str, listing: &Listing, format: &Format, max: usize) -> Result<Schema> {
    let mut remaining = max.max(1);
    let mut merged: Option<(Vec<Field>, String)> = None;
    for file in &listing.files {
        if remaining == 0 {
            break;
        }
        let name = display_path(&file.location);
        let reader = ObjectReader::new(&ctx.state, &listing.store, &file.location, file.size);
        let (schema, n) = format
            .infer_schema(BufReader::with_capacity(1 << 20, reader), Some(remaining))
            .with_context(|| format!("inferring the schema of CSV file '{name}'"))?;
        remaining = remaining.saturating_sub(n);
        if schema.fields().is_empty() {
            continue;
        }
        match &mut merged {
            None => merged = Some((schema.fields().iter().map(|f| f.as_ref().clone()).collect(), name)),
            Some((fields, first)) => {
                if fields.len() != schema.fields().len() {
                    return Err(Error::InvalidArgument(format!(
                        "CSV file '{name}' has {} columns but '{first}' has {}",
                        schema.fields().len(),
                        fields.len()
                    )));
                }
                for (f, g) in fields.iter_mut().zip(schema.fields()) {
                    *f = f.clone().with_data_type(merge_types(f.data_type(), g.data_type()));
                }
            }
        }
    }
    let Some((fields, _)) = merged else {
        return Err(Error::InvalidArgument(format!(
            "cannot infer the schema of '{path}': its files are empty; give a schema"
        )));
    };
    let fields: Vec<Field> = fields
        .into_iter()
        .map(|f| match f.data_type() {
            DataType::Null => f.with_data_type(DataType::Utf8),
            _ => f,
        })
        .collect();
    Ok(Schema::new(fields))
}

/// The type that holds values inferred as `a` in one file and `b` in another.
fn merge_types(a: &DataType, b: &DataType) -> DataType {
    use DataType::*;
    match (a, b) {
        _ if a == b => a.clone(),
        (Null, t) | (t, Null) => t.clone(),
        (Int64, Float64) | (Float64, Int64) => Float64,
        (Date32, Timestamp(u, tz)) | (Timestamp(u, tz), Date32) => Timestamp(*u, tz.clone()),
        (Timestamp(u, tz), Timestamp(v, _)) => Timestamp((*u).max(*v), tz.clone()),
        _ => Utf8,
    }
}

impl TableProvider for CsvTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn kind(&self) -> &'static str {
        "csv"
    }

    fn statistics(&self) -> TableStatistics {
        TableStatistics {
            num_rows: None,
            total_bytes: Some(self.listing.files.iter().map(|f| f.size).sum()),
        }
    }

    fn scan(&self, ctx: &SessionContext, request: &ScanRequest) -> Result<Rdd<RecordBatch>> {
        let (projected, indices) = project_schema(&self.schema, request.projection.as_ref())?;
        let schema = Arc::clone(&self.schema);
        let records = self.format.clone().with_header(false);
        let make: MakeDecoder = Arc::new(move |batch_size| {
            let decoder = ReaderBuilder::new(Arc::clone(&schema))
                .with_format(records.clone())
                .with_batch_size(batch_size)
                .with_projection(indices.clone())
                .build_decoder();
            Ok(Box::new(decoder) as Box<dyn BatchDecoder>)
        });
        let skip_header = self.options.has_header.then(|| {
            let schema = Arc::clone(&self.schema);
            let header = self.format.clone().with_header(true);
            Arc::new(move |bytes: &[u8]| {
                // A decoder with a header consumes exactly the header line
                // on its first call.
                let mut d = ReaderBuilder::new(Arc::clone(&schema))
                    .with_format(header.clone())
                    .with_batch_size(1)
                    .build_decoder();
                Ok(d.decode(bytes)?)
            }) as SkipHeader
        });
        let scan = TextScan {
            format: "CSV",
            listing: self.listing.clone(),
            splittable: !self.options.newlines_in_values,
            make,
            skip_header,
        };
        Ok(scan.into_rdd(ctx, request, projected))
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{AsArray, Int64Array};
    use arrow::datatypes::{Int64Type, TimeUnit};

    use super::*;
    use crate::datasource::test_util::{get, request, rows, run};

    fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    }

    fn types(t: &CsvTable) -> Vec<DataType> {
        t.schema().fields().iter().map(|f| f.data_type().clone()).collect()
    }

    #[test]
    fn infers_types_and_header_names() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "t.csv",
            "id,price,ok,day,at,name,empty\n1,2.5,true,2024-01-02,2024-01-02T03:04:05,ann,\n2,3,false,2024-02-03,2024-01-02T03:04:05.123,\"b, c\",\n",
        );
        let ctx = SessionContext::new();
        let t = CsvTable::try_new(&ctx, &p, CsvOptions::default()).unwrap();
        let names: Vec<_> = t.schema().fields().iter().map(|f| f.name().clone()).collect();
        assert_eq!(names, ["id", "price", "ok", "day", "at", "name", "empty"]);
        use DataType::*;
        let expected = [
            Int64,
            Float64,
            Boolean,
            Date32,
            Timestamp(TimeUnit::Millisecond, None),
            Utf8,
            Utf8,
        ];
        assert_eq!(types(&t), expected);
        let parts = run(&ctx, &t, &request(Some(vec![5, 0]), vec![], None, 10, 1));
        let b = &parts[0][0];
        assert_eq!(b.schema().field(0).name(), "name");
        assert_eq!(b.column(0).as_string::<i32>().value(1), "b, c");
        assert_eq!(b.column(1).as_primitive::<Int64Type>().values(), &[1, 2]);
        assert_eq!(t.statistics().total_bytes, Some(std::fs::metadata(&p).unwrap().len()));
    }

    #[test]
    fn no_header_delimiter_and_null_string() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "t.tsv", "1\tx\n\\N\ty\n3\t\\N\n");
        let ctx = SessionContext::new();
        let opts = CsvOptions::default()
            .with_header(false)
            .with_delimiter(b'\t')
            .with_null_string("\\N");
        let t = CsvTable::try_new(&ctx, &p, opts).unwrap();
        let names: Vec<_> = t.schema().fields().iter().map(|f| f.name().clone()).collect();
        assert_eq!(names, ["column_1", "column_2"]);
        assert_eq!(types(&t), [DataType::Int64, DataType::Utf8]);
        let parts = run(&ctx, &t, &request(None, vec![], None, 10, 1));
        let b = &parts[0][0];
        assert_eq!(b.num_rows(), 3);
        assert_eq!(b.column(0).null_count(), 1);
        assert_eq!(b.column(1).null_count(), 1);
    }

    #[test]
    fn splits_files_and_reads_every_row_once() {
        let dir = tempfile::tempdir().unwrap();
        let body: String = (0..300).map(|i| format!("{i},name {i}\n")).collect();
        write(dir.path(), "a.csv", &format!("n,s\n{body}"));
        write(dir.path(), "b.csv", &format!("n,s\n{body}"));
        write(dir.path(), "_SUCCESS", "");
        let ctx = SessionContext::new();
        let t = CsvTable::try_new(&ctx, dir.path().to_str().unwrap(), CsvOptions::default()).unwrap();
        for target in [1, 3, 16] {
            let req = request(Some(vec![0]), vec![], None, 64, target);
            let parts = run(&ctx, &t, &req);
            assert!(parts.len() >= target, "{} partitions for {target}", parts.len());
            let mut all: Vec<i64> = parts
                .iter()
                .flatten()
                .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
                .collect();
            all.sort();
            let mut expected: Vec<i64> = (0..300).chain(0..300).collect();
            expected.sort();
            assert_eq!(all, expected);
            assert!(parts.iter().flatten().all(|b| b.num_rows() <= 64));
            assert_eq!(get(&req.metrics.rows), 600);
            assert_eq!(get(&req.metrics.row_groups_total), parts.len() as u64);
        }
        // The limit holds per partition (one per file here).
        let parts = run(&ctx, &t, &request(Some(vec![]), vec![], Some(5), 64, 1));
        assert_eq!(rows(&parts), 10);
        assert!(parts.iter().all(|p| rows(std::slice::from_ref(p)) == 5));
    }

    #[test]
    fn quoted_line_breaks_with_whole_file_reads() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "t.csv", "a,b\n1,\"x\ny\"\n2,z\n");
        let ctx = SessionContext::new();
        let opts = CsvOptions::default().with_newlines_in_values(true);
        let t = CsvTable::try_new(&ctx, &p, opts).unwrap();
        let parts = run(&ctx, &t, &request(None, vec![], None, 10, 8));
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0][0].column(1).as_string::<i32>().value(0), "x\ny");
    }

    #[test]
    fn merges_types_across_files_and_checks_widths() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.csv", "x,y\n1,2024-01-01\n");
        write(dir.path(), "b.csv", "x,y\n1.5,2024-01-01T00:00:00\n");
        let ctx = SessionContext::new();
        let t = CsvTable::try_new(&ctx, dir.path().to_str().unwrap(), CsvOptions::default()).unwrap();
        assert_eq!(
            types(&t),
            [DataType::Float64, DataType::Timestamp(TimeUnit::Second, None)]
        );
        write(dir.path(), "c.csv", "x\n1\n");
        let err = CsvTable::try_new(&ctx, dir.path().to_str().unwrap(), CsvOptions::default()).unwrap_err();
        assert!(err.to_string().contains("c.csv' has 1 columns"), "{err}");
    }

    #[test]
    fn parse_errors_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let body: String = (0..100).map(|i| format!("{i}\n")).collect();
        let p = write(dir.path(), "t.csv", &format!("n\n{body}oops\n"));
        let ctx = SessionContext::new();
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
        let t = CsvTable::try_new(&ctx, &p, CsvOptions::default().with_schema(schema)).unwrap();
        for target in [1, 4] {
            let err = t
                .scan(&ctx, &request(None, vec![], None, 7, target))
                .unwrap()
                .collect()
                .unwrap_err();
            let msg = err.root_cause().to_string();
            let full = format!("{err}");
            assert!(full.contains("t.csv' line 102"), "{full}");
            assert!(msg.contains("oops"), "{msg}");
        }
        let ok = t
            .scan(&ctx, &request(None, vec![], Some(10), 7, 1))
            .unwrap()
            .collect()
            .unwrap();
        let first: &Int64Array = ok[0].column(0).as_primitive();
        assert_eq!(first.value(0), 0);
    }

    #[test]
    fn empty_files_need_a_schema() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "t.csv", "");
        let ctx = SessionContext::new();
        let err = CsvTable::try_new(&ctx, &p, CsvOptions::default()).unwrap_err();
        assert!(err.to_string().contains("give a schema"), "{err}");
    }
}
