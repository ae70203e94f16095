//! Checking query results against TPC-H reference answers.
//!
//! An answer file (`shared/tpch/answers/sf<SF>/qNN.csv`) is `|`-separated
//! text: a header line with the output column names, then one line per row
//! in the query's `ORDER BY` order. A result matches when it has the same
//! number of rows and columns and every value is equal as TPC-H compares
//! answers: numbers within 0.01 absolute (plus 1e-9 relative, for large
//! sums), text exactly after trimming trailing blanks. The answers round
//! numbers to 2 decimals (the official SF1 files) or keep full precision
//! (derived SF0.1/SF10 files); the tolerance accepts both.
//!
//! Results are compared as text, so that rows produced elsewhere (another
//! engine, read back from a file) are checked by the same rules as Flint's
//! record batches: [`format_batches`] renders batches the way [`check_rows`]
//! expects, with `NULL` for nulls.

use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::error::Result;

/// Whether a result value equals an answer value: numbers within
/// 0.01 + 1e-9 × |answer|, anything else equal after trimming trailing
/// blanks.
///
/// ```
/// use flint::tpch::answers::same_value;
/// assert!(same_value("0.0499", "0.05"));
/// assert!(same_value("BRAZIL  ", "BRAZIL"));
/// assert!(!same_value("1.5", "1.52"));
/// ```
pub fn same_value(got: &str, want: &str) -> bool {
    let (g, w) = (got.trim_end(), want.trim_end());
    if g == w {
        return true;
    }
    match (g.parse::<f64>(), w.parse::<f64>()) {
        (Ok(a), Ok(b)) => (a - b).abs() <= 0.01 + 1e-9 * b.abs(),
        _ => false,
    }
}

/// Renders every row of `batches` as text values (Arrow's display format,
/// `NULL` for nulls): dates as `YYYY-MM-DD`, decimals at their scale.
pub fn format_batches(batches: &[RecordBatch]) -> Result<Vec<Vec<String>>> {
    let opts = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::with_capacity(batches.iter().map(RecordBatch::num_rows).sum());
    for b in batches {
        let fmts = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        for r in 0..b.num_rows() {
            rows.push(fmts.iter().map(|f| f.value(r).to_string()).collect());
        }
    }
    Ok(rows)
}

/// Compares result rows with an answer file's text; the error names the
/// first difference.
///
/// ```
/// use flint::tpch::answers::check_rows;
/// let answer = "n_name|revenue\nCHINA|7822103.00\nINDIA|6376121.51\n";
/// let got = vec![
///     vec!["CHINA".to_string(), "7822103.0012".to_string()],
///     vec!["INDIA".to_string(), "6376121.5085".to_string()],
/// ];
/// assert!(check_rows(&got, answer).is_ok());
/// assert!(check_rows(&got[..1], answer).unwrap_err().contains("1 rows, expected 2"));
/// ```
pub fn check_rows<S: AsRef<str>>(rows: &[Vec<S>], answer: &str) -> std::result::Result<(), String> {
    let mut lines = answer.lines();
    let header = lines.next().unwrap_or_default();
    let want: Vec<Vec<&str>> = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split('|').collect())
        .collect();
    if rows.len() != want.len() {
        return Err(format!("{} rows, expected {} ({header})", rows.len(), want.len()));
    }
    for (i, (g, w)) in rows.iter().zip(&want).enumerate() {
        if g.len() != w.len() || !g.iter().zip(w).all(|(a, b)| same_value(a.as_ref(), b)) {
            let g: Vec<&str> = g.iter().map(AsRef::as_ref).collect();
            return Err(format!("row {i}: got {g:?}, expected {w:?}"));
        }
    }
    Ok(())
}

/// Checks a query's result batches against an answer file's text (see the
/// module docs for the rules).
///
/// ```
/// use std::sync::Arc;
/// use arrow::array::{ArrayRef, Int64Array, StringArray};
/// use arrow::record_batch::RecordBatch;
/// use flint::tpch::answers::check_answer;
///
/// let names: ArrayRef = Arc::new(StringArray::from(vec!["A", "R"]));
/// let counts: ArrayRef = Arc::new(Int64Array::from(vec![1478493, 1478870]));
/// let batch = RecordBatch::try_from_iter([("l_returnflag", names), ("count_order", counts)]).unwrap();
/// let answer = "l_returnflag|count_order\nA|1478493\nR|1478870\n";
/// assert_eq!(check_answer(&[batch.clone()], answer), Ok(()));
/// assert!(check_answer(&[batch], "l_returnflag|count_order\nA|1478493\nR|1\n").is_err());
/// ```
pub fn check_answer(batches: &[RecordBatch], answer: &str) -> std::result::Result<(), String> {
    let rows = format_batches(batches).map_err(|e| e.to_string())?;
    check_rows(&rows, answer)
}
