//! Boxed tables for the terminal: a header with each column's name and
//! SQL type, numbers right-aligned, `NULL` shown apart from the string
//! 'NULL' (dimmed on a terminal), and long results cut to their first and
//! last rows with a "N rows (M shown)" note.

use std::io::Write;

use arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use arrow::util::display::ArrayFormatter;
use comfy_table::{Attribute, Cell, CellAlignment, ContentArrangement, Table, presets};

use crate::fit;
use crate::format::{Options, is_numeric, value_options};

/// A row of the table: its values (`None` for NULL), or the `·` row that
/// stands for the rows left out.
enum Row {
    Values(Vec<Option<String>>),
    Elided,
}

/// Writes `batches` as one boxed table.
pub fn write(
    out: &mut dyn Write,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    options: Options,
) -> Result<(), ArrowError> {
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    let shown = shown_rows(total, options.max_rows);
    let rows = rows(batches, shown)?;
    let headers: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| format!("{}\n{}", f.name(), type_name(f.data_type())))
        .collect();
    let widths: Vec<usize> = (0..headers.len())
        .map(|c| {
            let values = rows.iter().filter_map(|r| match r {
                Row::Values(v) => Some(v[c].as_deref().map_or(4, fit::width)),
                Row::Elided => None,
            });
            values.fold(fit::width(&headers[c]), usize::max)
        })
        .collect();
    let layout = fit::fit(&widths, options.width);
    let numeric: Vec<bool> = schema.fields().iter().map(|f| is_numeric(f.data_type())).collect();

    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
    if options.styled {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    let centered = |text: &str| Cell::new(text).set_alignment(CellAlignment::Center);
    table.set_header(layout.columns.iter().map(|c| match c {
        Some(c) => centered(&fit::cut(&headers[*c], layout.caps[*c])),
        None => centered("…"),
    }));
    for row in &rows {
        let cells = layout.columns.iter().map(|c| match (row, c) {
            (Row::Elided, _) => centered("·"),
            (Row::Values(_), None) => centered("…"),
            (Row::Values(v), Some(c)) => {
                let align = if numeric[*c] {
                    CellAlignment::Right
                } else {
                    CellAlignment::Left
                };
                match &v[*c] {
                    Some(text) => Cell::new(fit::cut(text, layout.caps[*c])).set_alignment(align),
                    None if options.styled => Cell::new("NULL").set_alignment(align).add_attribute(Attribute::Dim),
                    None => Cell::new("NULL").set_alignment(align),
                }
            }
        });
        table.add_row(cells);
    }
    writeln!(out, "{table}")?;
    let mut notes = Vec::new();
    if shown.shown() < total {
        notes.push(format!("{total} rows ({} shown)", shown.shown()));
    }
    let columns_shown = layout.columns.iter().filter(|c| c.is_some()).count();
    if columns_shown < headers.len() {
        notes.push(format!("{} columns ({columns_shown} shown)", headers.len()));
    }
    if !notes.is_empty() {
        writeln!(out, "{}", notes.join(", "))?;
    }
    Ok(())
}

/// The rows a table shows, formatted.
fn rows(batches: &[RecordBatch], shown: Shown) -> Result<Vec<Row>, ArrowError> {
    let format = value_options();
    let mut out = Vec::with_capacity(shown.shown() + 1);
    let mut index = 0;
    for b in batches {
        let formatters = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &format))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..b.num_rows() {
            if shown.contains(index) {
                let values = b
                    .columns()
                    .iter()
                    .zip(&formatters)
                    .map(|(col, f)| (!col.is_null(row)).then(|| f.value(row).to_string()))
                    .collect();
                out.push(Row::Values(values));
            } else if index == shown.head {
                out.push(Row::Elided);
            }
            index += 1;
        }
    }
    Ok(out)
}

/// Which rows a table shows: the first `head` and the last `tail`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Shown {
    total: usize,
    head: usize,
    tail: usize,
}

impl Shown {
    fn contains(&self, row: usize) -> bool {
        row < self.head || row >= self.total - self.tail
    }

    fn shown(&self) -> usize {
        self.head + self.tail
    }
}

fn shown_rows(total: usize, max_rows: usize) -> Shown {
    if max_rows == 0 || total <= max_rows {
        return Shown {
            total,
            head: total,
            tail: 0,
        };
    }
    let tail = max_rows / 2;
    Shown {
        total,
        head: max_rows - tail,
        tail,
    }
}

/// A short SQL name for an Arrow type, as shown in table headers.
pub fn type_name(t: &DataType) -> String {
    match t {
        DataType::Null => "null".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Int8 => "tinyint".into(),
        DataType::Int16 => "smallint".into(),
        DataType::Int32 => "int".into(),
        DataType::Int64 => "bigint".into(),
        DataType::UInt8 => "utinyint".into(),
        DataType::UInt16 => "usmallint".into(),
        DataType::UInt32 => "uint".into(),
        DataType::UInt64 => "ubigint".into(),
        DataType::Float16 => "half".into(),
        DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        DataType::Decimal32(p, s) | DataType::Decimal64(p, s) | DataType::Decimal128(p, s) => {
            format!("decimal({p},{s})")
        }
        DataType::Decimal256(p, s) => format!("decimal({p},{s})"),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "varchar".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => "blob".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Time32(_) | DataType::Time64(_) => "time".into(),
        DataType::Timestamp(unit, tz) => {
            let unit = match unit {
                TimeUnit::Second => "_s",
                TimeUnit::Millisecond => "_ms",
                TimeUnit::Microsecond => "",
                TimeUnit::Nanosecond => "_ns",
            };
            let tz = if tz.is_some() { " with time zone" } else { "" };
            format!("timestamp{unit}{tz}")
        }
        DataType::Interval(_) | DataType::Duration(_) => "interval".into(),
        DataType::List(f) | DataType::LargeList(f) | DataType::ListView(f) | DataType::FixedSizeList(f, _) => {
            format!("{}[]", type_name(f.data_type()))
        }
        DataType::Dictionary(_, v) => type_name(v),
        other => other.to_string().to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    fn render(rows: i64, max_rows: usize) -> String {
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int64, true),
            Field::new("s", DataType::Utf8, true),
        ]));
        let n: Vec<Option<i64>> = (0..rows).map(|i| if i == 1 { None } else { Some(i * 1000) }).collect();
        let s: Vec<Option<&str>> = (0..rows).map(|i| if i == 2 { None } else { Some("x") }).collect();
        let b = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![Arc::new(Int64Array::from(n)), Arc::new(StringArray::from(s))],
        )
        .unwrap();
        let mut out = Vec::new();
        let options = Options {
            max_rows,
            styled: false,
            width: None,
        };
        write(&mut out, &schema, &[b], options).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn header_has_types_numbers_align_right() {
        let t = render(3, 0);
        assert!(t.contains("│    n   ┆    s    │"), "{t}");
        assert!(t.contains("│ bigint ┆ varchar │"), "{t}");
        assert!(t.contains("│   NULL ┆ x       │"), "{t}");
        assert!(t.contains("│   2000 ┆ NULL    │"), "{t}");
        assert!(!t.contains("shown"));
    }

    #[test]
    fn long_results_show_head_and_tail() {
        let t = render(10, 4);
        assert!(t.contains("│      0 ┆"), "{t}");
        assert!(t.contains("│   9000 ┆"), "{t}");
        assert!(!t.contains("│   5000 ┆"), "{t}");
        assert!(t.contains("│    ·   ┆    ·    │"), "{t}");
        assert!(t.ends_with("10 rows (4 shown)\n"), "{t}");
    }

    #[test]
    fn wide_tables_fit_the_terminal() {
        let schema = Arc::new(Schema::new(
            (0..20)
                .map(|i| Field::new(format!("column_{i}"), DataType::Utf8, false))
                .collect::<Vec<_>>(),
        ));
        let long = "a long value ".repeat(10);
        let columns = (0..20)
            .map(|_| Arc::new(StringArray::from(vec![long.as_str()])) as arrow::array::ArrayRef)
            .collect();
        let b = RecordBatch::try_new(Arc::clone(&schema), columns).unwrap();
        let mut out = Vec::new();
        let options = Options {
            max_rows: 0,
            styled: false,
            width: Some(100),
        };
        write(&mut out, &schema, &[b], options).unwrap();
        let t = String::from_utf8(out).unwrap();
        assert!(t.lines().all(|l| l.chars().count() <= 100), "{t}");
        assert!(
            t.contains("column_0") && t.contains("column_19") && !t.contains("column_10"),
            "{t}"
        );
        assert!(t.contains("┆ a long value a … ┆ … ┆"), "{t}");
        assert!(t.ends_with("20 columns (5 shown)\n"), "{t}");
    }

    #[test]
    fn sql_type_names() {
        assert_eq!(type_name(&DataType::Decimal128(15, 2)), "decimal(15,2)");
        assert_eq!(type_name(&DataType::Utf8View), "varchar");
        assert_eq!(type_name(&DataType::Date32), "date");
    }
}
