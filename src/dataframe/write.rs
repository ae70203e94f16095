//! Writing a frame as a directory of part files: Parquet, CSV or
//! newline-delimited JSON, one `part-NNNNN.<ext>` per partition of the
//! frame's RDD, committed atomically through the RDD layer's
//! [`write_files`](crate::rdd::Rdd) protocol (a failed write leaves no
//! output). With `partition_by` columns, rows go to Hive-style directories
//! `col=value/` (NULL and empty values to `__HIVE_DEFAULT_PARTITION__`), and
//! the files leave those columns out.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::UInt32Array;
use arrow::compute::take_record_batch;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use arrow::util::display::array_value_to_string;
use datafusion_common::Column;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::DataFrame;
use crate::error::Result;
use crate::logical::resolve::resolve_column;
use crate::{invalid_arg, plan_err};

/// The directory name of a NULL or empty partition value, as in Hive.
const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// Options of [`DataFrame::write_parquet`], [`DataFrame::write_csv`] and
/// [`DataFrame::write_json`].
///
/// ```
/// use flint::dataframe::WriteOptions;
/// let o = WriteOptions::default().with_partition_by(["year"]).with_delimiter(b'|');
/// assert_eq!(o.partition_by, vec!["year".to_string()]);
/// assert!(o.has_header);
/// ```
#[derive(Clone, Debug)]
pub struct WriteOptions {
    /// Columns whose values name nested `col=value/` directories; the files
    /// leave them out (default: none).
    pub partition_by: Vec<String>,
    /// CSV: write a header line (default `true`).
    pub has_header: bool,
    /// CSV: the field separator (default `,`).
    pub delimiter: u8,
    /// Parquet: the compression codec (default Snappy).
    pub compression: Compression,
}

impl Default for WriteOptions {
    fn default() -> Self {
        Self {
            partition_by: Vec::new(),
            has_header: true,
            delimiter: b',',
            compression: Compression::SNAPPY,
        }
    }
}

impl WriteOptions {
    /// Sets the partition columns (see [`DataFrame::write_parquet`]).
    ///
    /// ```
    /// use flint::dataframe::WriteOptions;
    /// assert_eq!(WriteOptions::default().with_partition_by(["a", "b"]).partition_by.len(), 2);
    /// ```
    pub fn with_partition_by<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.partition_by = columns.into_iter().map(Into::into).collect();
        self
    }

    /// Sets whether CSV files start with a header line.
    ///
    /// ```
    /// use flint::dataframe::WriteOptions;
    /// assert!(!WriteOptions::default().with_header(false).has_header);
    /// ```
    pub fn with_header(mut self, has_header: bool) -> Self {
        self.has_header = has_header;
        self
    }

    /// Sets the CSV field separator.
    ///
    /// ```
    /// use flint::dataframe::WriteOptions;
    /// assert_eq!(WriteOptions::default().with_delimiter(b'\t').delimiter, b'\t');
    /// ```
    pub fn with_delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// Sets the Parquet compression codec.
    ///
    /// ```
    /// use flint::dataframe::WriteOptions;
    /// use parquet::basic::Compression;
    /// let o = WriteOptions::default().with_compression(Compression::UNCOMPRESSED);
    /// assert_eq!(o.compression, Compression::UNCOMPRESSED);
    /// ```
    pub fn with_compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Format {
    Parquet,
    Csv,
    Json,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }
}

impl DataFrame {
    /// Writes the rows as Parquet files into the new directory `path`.
    ///
    /// ```
    /// use flint::SessionContext;
    /// use flint::dataframe::WriteOptions;
    /// let dir = tempfile::tempdir().unwrap();
    /// let out = dir.path().join("sales");
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT * FROM (VALUES (2023, 1.5), (2024, 2.5), (2024, 3.0)) v(year, amount)").unwrap();
    /// df.write_parquet(out.to_str().unwrap(), WriteOptions::default().with_partition_by(["year"])).unwrap();
    /// assert!(out.join("year=2024").is_dir() && out.join("_SUCCESS").exists());
    /// let back = ctx.read_parquet(out.join("year=2024").to_str().unwrap()).unwrap();
    /// assert_eq!(back.count().unwrap(), 2);
    /// assert_eq!(back.schema().fields().len(), 1, "the partition column is in the path");
    /// ```
    pub fn write_parquet(&self, path: &str, options: WriteOptions) -> Result<()> {
        self.write(path, options, Format::Parquet)
    }

    /// Writes the rows as CSV files into the new directory `path`.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let dir = tempfile::tempdir().unwrap();
    /// let out = dir.path().join("csv");
    /// let ctx = SessionContext::new();
    /// ctx.sql("SELECT 1 AS a, 'x' AS b").unwrap().write_csv(out.to_str().unwrap(), Default::default()).unwrap();
    /// let text = std::fs::read_to_string(out.join("part-00000.csv")).unwrap();
    /// assert_eq!(text, "a,b\n1,x\n");
    /// ```
    pub fn write_csv(&self, path: &str, options: WriteOptions) -> Result<()> {
        self.write(path, options, Format::Csv)
    }

    /// Writes the rows as newline-delimited JSON files into the new
    /// directory `path`.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let dir = tempfile::tempdir().unwrap();
    /// let out = dir.path().join("json");
    /// let ctx = SessionContext::new();
    /// ctx.sql("SELECT 1 AS a").unwrap().write_json(out.to_str().unwrap(), Default::default()).unwrap();
    /// assert_eq!(std::fs::read_to_string(out.join("part-00000.json")).unwrap(), "{\"a\":1}\n");
    /// ```
    pub fn write_json(&self, path: &str, options: WriteOptions) -> Result<()> {
        self.write(path, options, Format::Json)
    }

    fn write(&self, path: &str, options: WriteOptions, format: Format) -> Result<()> {
        let df_schema = self.plan.schema();
        let mut part_idx = Vec::new();
        for name in &options.partition_by {
            let c =
                resolve_column(&Column::from_qualified_name(name), df_schema).map_err(|e| e.context("partition_by"))?;
            let i = df_schema.index_of_column(&c)?;
            if part_idx.contains(&i) {
                invalid_arg!("partition_by names column '{name}' twice");
            }
            part_idx.push(i);
        }
        let schema = self.schema();
        let data_idx: Vec<usize> = (0..schema.fields().len()).filter(|i| !part_idx.contains(i)).collect();
        if data_idx.is_empty() && !part_idx.is_empty() {
            plan_err!("cannot partition by every column: the files would have none");
        }
        let file_schema: SchemaRef = Arc::new(schema.project(&data_idx)?);
        let names: Vec<String> = part_idx.iter().map(|&i| schema.field(i).name().clone()).collect();
        let action = format!("write_{}", format.extension());
        self.rdd()?.write_files(path, &action, move |tc, iter| {
            let mut groups = Groups::default();
            for b in iter {
                groups.add(&b, &part_idx, &names, &data_idx)?;
            }
            if groups.order.is_empty() && part_idx.is_empty() && tc.partition_id() == 0 {
                // An empty result still gets a file, with the schema.
                groups.batches.insert(Vec::new(), Vec::new());
                groups.order.push(Vec::new());
            }
            let file = format!("part-{:05}.{}", tc.partition_id(), format.extension());
            groups
                .order
                .iter()
                .map(|dirs| {
                    let batches = groups.batches.get(dirs).map(Vec::as_slice).unwrap_or_default();
                    let mut path = dirs.clone();
                    path.push(file.clone());
                    Ok((path, encode(format, &options, &file_schema, batches)?))
                })
                .collect()
        })
    }
}

/// The rows of one partition grouped by the directories their partition
/// values name (`["k=a", "s=x"]`), in order of first appearance.
#[derive(Default)]
struct Groups {
    order: Vec<Vec<String>>,
    batches: HashMap<Vec<String>, Vec<RecordBatch>>,
}

impl Groups {
    fn add(&mut self, b: &RecordBatch, part_idx: &[usize], names: &[String], data_idx: &[usize]) -> Result<()> {
        if part_idx.is_empty() {
            self.push(Vec::new(), b.clone());
            return Ok(());
        }
        let mut rows: Vec<(Vec<String>, Vec<u32>)> = Vec::new();
        let mut slot: HashMap<Vec<String>, usize> = HashMap::new();
        for row in 0..b.num_rows() {
            let mut dir = Vec::with_capacity(part_idx.len());
            for (&i, name) in part_idx.iter().zip(names) {
                let col = b.column(i);
                let value = if col.is_null(row) {
                    NULL_PARTITION.to_string()
                } else {
                    match array_value_to_string(col, row)? {
                        v if v.is_empty() => NULL_PARTITION.to_string(),
                        v => v,
                    }
                };
                dir.push(format!("{name}={value}"));
            }
            let k = *slot.entry(dir.clone()).or_insert_with(|| {
                rows.push((dir, Vec::new()));
                rows.len() - 1
            });
            rows[k].1.push(row as u32);
        }
        let data = b.project(data_idx)?;
        for (dir, idx) in rows {
            self.push(dir, take_record_batch(&data, &UInt32Array::from(idx))?);
        }
        Ok(())
    }

    fn push(&mut self, dir: Vec<String>, b: RecordBatch) {
        if !self.batches.contains_key(&dir) {
            self.order.push(dir.clone());
        }
        self.batches.entry(dir).or_default().push(b);
    }
}

/// One file of `batches` (relabelled with `schema`) in `format`.
fn encode(format: Format, options: &WriteOptions, schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Vec<u8>> {
    let batches = batches
        .iter()
        .map(|b| crate::datasource::conform(b.clone(), schema))
        .collect::<Result<Vec<_>>>()?;
    let mut buf = Vec::new();
    match format {
        Format::Parquet => {
            let props = WriterProperties::builder().set_compression(options.compression).build();
            let mut w = ArrowWriter::try_new(&mut buf, Arc::clone(schema), Some(props))?;
            for b in &batches {
                w.write(b)?;
            }
            w.close()?;
        }
        Format::Csv => {
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(options.has_header)
                .with_delimiter(options.delimiter)
                .build(&mut buf);
            if batches.is_empty() {
                w.write(&RecordBatch::new_empty(Arc::clone(schema)))?;
            }
            for b in &batches {
                w.write(b)?;
            }
        }
        Format::Json => {
            let mut w = arrow::json::LineDelimitedWriter::new(&mut buf);
            for b in &batches {
                w.write(b)?;
            }
            w.finish()?;
        }
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SessionContext;
    use crate::logical::{col, lit};

    #[test]
    fn partitioned_csv_with_nulls_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let out = out.to_str().unwrap();
        let ctx = SessionContext::new();
        let df = ctx
            .sql("SELECT * FROM (VALUES ('a', 1, 'x/y'), (NULL, 2, 'x/y'), ('a', 3, 'z')) v(k, n, s)")
            .unwrap();
        let options = WriteOptions::default().with_partition_by(["k", "s"]).with_header(false);
        df.write_csv(out, options.clone()).unwrap();
        let mut files: Vec<String> = walk(std::path::Path::new(out));
        files.sort();
        assert_eq!(files.len(), 4, "{files:?}");
        assert!(files[0].ends_with("_SUCCESS"));
        assert!(
            files
                .iter()
                .any(|f| f.contains("k=__HIVE_DEFAULT_PARTITION__/s=x%2Fy/part-")),
            "{files:?}"
        );
        let a = files.iter().find(|f| f.contains("k=a/s=z/")).unwrap();
        assert_eq!(std::fs::read_to_string(a).unwrap(), "3\n");

        let err = df.write_csv(out, options).unwrap_err().to_string();
        assert!(err.contains("already exists"), "{err}");
        let fresh = dir.path().join("fresh");
        let fresh = fresh.to_str().unwrap();
        let all = WriteOptions::default().with_partition_by(["k", "n", "s"]);
        assert!(df.write_parquet(fresh, all).is_err());
        assert!(
            df.write_parquet(fresh, WriteOptions::default().with_partition_by(["z"]))
                .is_err()
        );
        // A failing query leaves no output behind.
        let failing = df.select(vec![col("s").cast(arrow::datatypes::DataType::Int32), lit(1)]);
        assert!(failing.unwrap().write_json(fresh, WriteOptions::default()).is_err());
        assert!(!std::path::Path::new(fresh).exists());
    }

    fn walk(dir: &std::path::Path) -> Vec<String> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p.to_string_lossy().into_owned());
            }
        }
        out
    }
}
