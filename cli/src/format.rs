//! Result formats: boxed tables for people, CSV/TSV/JSON/NDJSON for
//! programs, Markdown for documents. Machine formats write only result
//! rows (CSV and TSV with a header line) and nothing for a result without
//! rows, so that their output can be piped straight into another tool.

use std::fmt;
use std::io::Write;

use arrow::datatypes::{DataType, SchemaRef};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::table;

/// How results are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Boxed table with column types, numbers right-aligned.
    Table,
    /// Comma-separated values with a header line.
    Csv,
    /// Tab-separated values with a header line.
    Tsv,
    /// One JSON array of objects per result.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// A Markdown (GitHub) table.
    Markdown,
}

impl Format {
    /// Every format, for help texts and completion.
    pub const ALL: [Format; 6] = [
        Format::Table,
        Format::Csv,
        Format::Tsv,
        Format::Json,
        Format::Ndjson,
        Format::Markdown,
    ];

    /// Parses a format name, accepting DuckDB's `.mode` names too.
    pub fn parse(name: &str) -> Option<Format> {
        Some(match name.to_ascii_lowercase().as_str() {
            "table" | "box" | "duckbox" => Format::Table,
            "csv" => Format::Csv,
            "tsv" | "tabs" => Format::Tsv,
            "json" => Format::Json,
            "ndjson" | "jsonlines" => Format::Ndjson,
            "markdown" | "md" => Format::Markdown,
            _ => return None,
        })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Table => "table",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Markdown => "markdown",
        })
    }
}

/// Options that shape the output.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Rows a table shows at most (first and last halves); 0 shows all.
    pub max_rows: usize,
    /// Whether ANSI styles may be used (output is a terminal).
    pub styled: bool,
    /// The terminal's width, which tables are fitted to.
    pub width: Option<usize>,
}

/// Writes one statement's result. A result without columns (DDL) writes
/// nothing; a result without rows writes nothing in machine formats.
pub fn write_result(
    out: &mut dyn Write,
    format: Format,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    options: Options,
) -> Result<(), ArrowError> {
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    if schema.fields().is_empty() {
        return Ok(());
    }
    match format {
        Format::Table => table::write(out, schema, batches, options)?,
        Format::Markdown => write_markdown(out, schema, batches)?,
        _ if rows == 0 => {}
        Format::Csv | Format::Tsv => {
            let delimiter = if format == Format::Csv { b',' } else { b'\t' };
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .with_delimiter(delimiter)
                .build(&mut *out);
            for b in batches {
                w.write(b)?;
            }
        }
        Format::Json => {
            let mut w = arrow::json::WriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, arrow::json::writer::JsonArray>(&mut *out);
            w.write_batches(&batches.iter().collect::<Vec<_>>())?;
            w.finish()?;
            drop(w);
            out.write_all(b"\n")?;
        }
        Format::Ndjson => {
            let mut w = arrow::json::WriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, arrow::json::writer::LineDelimited>(&mut *out);
            w.write_batches(&batches.iter().collect::<Vec<_>>())?;
            w.finish()?;
        }
    }
    Ok(())
}

/// Formatting of single values: `NULL` for nulls, Arrow's display for the
/// rest.
pub fn value_options() -> FormatOptions<'static> {
    FormatOptions::new().with_null("NULL")
}

/// Whether a column's values are numbers (right-aligned).
pub fn is_numeric(t: &DataType) -> bool {
    t.is_numeric()
}

fn write_markdown(out: &mut dyn Write, schema: &SchemaRef, batches: &[RecordBatch]) -> Result<(), ArrowError> {
    let escape = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let names: Vec<String> = schema.fields().iter().map(|f| escape(f.name())).collect();
    writeln!(out, "| {} |", names.join(" | "))?;
    let rule: Vec<&str> = schema
        .fields()
        .iter()
        .map(|f| if is_numeric(f.data_type()) { "--:" } else { "---" })
        .collect();
    writeln!(out, "|{}|", rule.join("|"))?;
    let options = value_options();
    for b in batches {
        let formatters = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..b.num_rows() {
            let cells: Vec<String> = formatters.iter().map(|f| escape(&f.value(row).to_string())).collect();
            writeln!(out, "| {} |", cells.join(" | "))?;
        }
    }
    // A blank line keeps the next result's table apart.
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    fn batch() -> (SchemaRef, Vec<RecordBatch>) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int64, true),
            Field::new("s", DataType::Utf8, true),
        ]));
        let b = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(Int64Array::from(vec![Some(1), None])),
                Arc::new(StringArray::from(vec![Some("a|b"), None])),
            ],
        )
        .unwrap();
        (schema, vec![b])
    }

    fn render(format: Format) -> String {
        let (schema, batches) = batch();
        let mut out = Vec::new();
        let options = Options {
            max_rows: 0,
            styled: false,
            width: None,
        };
        write_result(&mut out, format, &schema, &batches, options).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn machine_formats() {
        assert_eq!(render(Format::Csv), "n,s\n1,a|b\n,\n");
        assert_eq!(render(Format::Tsv), "n\ts\n1\ta|b\n\t\n");
        assert_eq!(
            render(Format::Json),
            "[{\"n\":1,\"s\":\"a|b\"},{\"n\":null,\"s\":null}]\n"
        );
        assert_eq!(
            render(Format::Ndjson),
            "{\"n\":1,\"s\":\"a|b\"}\n{\"n\":null,\"s\":null}\n"
        );
    }

    #[test]
    fn markdown_escapes_pipes_and_aligns_numbers() {
        assert_eq!(
            render(Format::Markdown),
            "| n | s |\n|--:|---|\n| 1 | a\\|b |\n| NULL | NULL |\n\n"
        );
    }

    #[test]
    fn empty_results_print_nothing_in_machine_formats() {
        let (schema, _) = batch();
        for f in [Format::Csv, Format::Tsv, Format::Json, Format::Ndjson] {
            let mut out = Vec::new();
            let options = Options {
                max_rows: 0,
                styled: false,
                width: None,
            };
            write_result(&mut out, f, &schema, &[], options).unwrap();
            assert!(out.is_empty(), "{f}");
        }
    }

    #[test]
    fn names_parse_including_duckdb_modes() {
        for f in Format::ALL {
            assert_eq!(Format::parse(&f.to_string()), Some(f));
        }
        assert_eq!(Format::parse("duckbox"), Some(Format::Table));
        assert_eq!(Format::parse("nope"), None);
    }
}
