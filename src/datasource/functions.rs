//! Tables named by a path (`SELECT * FROM 'data/x.parquet'`) and the table
//! functions `read_parquet`, `read_csv` and `read_json`.

use std::sync::Arc;

use super::{CsvOptions, CsvTable, JsonTable, ParquetTable, TableProvider, infer_format};
use crate::SessionContext;
use crate::error::Result;
use crate::{invalid_arg, plan_err};

/// A table over the file(s) at `path`, its format taken from the
/// extension.
pub fn table_for_path(ctx: &SessionContext, path: &str) -> Result<Arc<dyn TableProvider>> {
    match infer_format(path) {
        Some("parquet") => Ok(Arc::new(ParquetTable::try_new(ctx, path)?)),
        Some("csv") => Ok(Arc::new(CsvTable::try_new(ctx, path, CsvOptions::default())?)),
        Some("tsv") => {
            let o = CsvOptions {
                delimiter: b'\t',
                ..Default::default()
            };
            Ok(Arc::new(CsvTable::try_new(ctx, path, o)?))
        }
        Some("json") => Ok(Arc::new(JsonTable::try_new(ctx, path)?)),
        _ => plan_err!(
            "cannot tell the format of '{path}' from its extension; use read_parquet(), read_csv() or read_json()"
        ),
    }
}

/// A table function call: `read_parquet('glob')`, `read_csv('path'
/// [, header => true, delim => '|'])`, `read_json('path')`. Arguments are
/// `(name, value)` with `name` absent for positional ones.
pub fn table_function(
    ctx: &SessionContext,
    name: &str,
    args: &[(Option<String>, String)],
) -> Result<Arc<dyn TableProvider>> {
    let Some((None, path)) = args.first() else {
        invalid_arg!("{name}() needs a path as its first argument");
    };
    let named = |keys: &[&str]| {
        args.iter()
            .skip(1)
            .find(|(k, _)| k.as_deref().is_some_and(|k| keys.contains(&k)))
            .map(|(_, v)| v.clone())
    };
    match name {
        "read_parquet" | "parquet_scan" => Ok(Arc::new(ParquetTable::try_new(ctx, path)?)),
        "read_json" | "read_ndjson" | "read_json_auto" => Ok(Arc::new(JsonTable::try_new(ctx, path)?)),
        "read_csv" | "read_csv_auto" => {
            let mut o = CsvOptions::default();
            if let Some(h) = named(&["header", "has_header"]) {
                o.has_header = h.eq_ignore_ascii_case("true");
            }
            if let Some(d) = named(&["delim", "delimiter", "sep"]) {
                match d.as_bytes() {
                    [b] => o.delimiter = *b,
                    _ => invalid_arg!("read_csv(): delimiter must be one character, got '{d}'"),
                }
            }
            if let Some((Some(k), _)) = args.iter().skip(1).find(|(k, _)| {
                !k.as_deref()
                    .is_some_and(|k| ["header", "has_header", "delim", "delimiter", "sep"].contains(&k))
            }) {
                invalid_arg!("read_csv(): unknown option '{k}'; options are header, delim");
            }
            Ok(Arc::new(CsvTable::try_new(ctx, path, o)?))
        }
        other => plan_err!("unknown table function {other}(); use read_parquet, read_csv or read_json"),
    }
}
