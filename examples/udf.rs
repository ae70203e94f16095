//! User-defined functions: a Rust closure over Arrow arrays, registered on
//! the session and called from SQL and from the DataFrame API.
//!
//! The example registers `haversine_km(lat1, lon1, lat2, lon2)` (the
//! great-circle distance between two points), calls it both ways over a
//! small table of cities, checks that both give the same distances, and
//! shows that a UDF that panics fails the query with a message naming it.
//!
//! ```text
//! cargo run --example udf
//! ```
//!
//! `cargo test --example udf` runs the same `main` as a test.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use arrow::datatypes::{DataType, Float64Type};
use arrow::util::pretty::pretty_format_batches;
use flint::SessionContext;
use flint::logical::col;

/// Great-circle distance in km between two (latitude, longitude) points.
fn haversine(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0 * a.sqrt().asin()
}

fn main() -> flint::Result<()> {
    let ctx = SessionContext::new();
    let f64s = vec![DataType::Float64; 4];
    let distance = ctx.register_udf("haversine_km", f64s, DataType::Float64, |args: &[ArrayRef]| {
        let [a, b, c, d] = [0, 1, 2, 3].map(|i| args[i].as_primitive::<Float64Type>());
        let out: Float64Array = (0..a.len())
            .map(|i| {
                if a.is_null(i) || b.is_null(i) || c.is_null(i) || d.is_null(i) {
                    None
                } else {
                    Some(haversine(a.value(i), b.value(i), c.value(i), d.value(i)))
                }
            })
            .collect();
        Ok(Arc::new(out) as ArrayRef)
    })?;

    ctx.sql(
        "CREATE TABLE cities AS SELECT * FROM (VALUES
            ('Paris', 48.8566, 2.3522), ('Berlin', 52.52, 13.405), ('Madrid', 40.4168, -3.7038)) c(name, lat, lon)",
    )?;

    // SQL: the UDF is called like a built-in; DECIMAL literals are cast to
    // the declared Float64 arguments.
    let sql =
        ctx.sql("SELECT name, haversine_km(lat, lon, 48.8566, 2.3522) AS from_paris FROM cities ORDER BY name")?;
    // DataFrame: the handle returned by register_udf builds the call.
    let paris = || flint::logical::lit(48.8566);
    let df = ctx
        .table("cities")?
        .select(vec![
            col("name"),
            distance
                .call(vec![col("lat"), col("lon"), paris(), flint::logical::lit(2.3522)])
                .alias("from_paris"),
        ])?
        .sort(vec![col("name").asc()])?;

    let sql_batches = sql.collect()?;
    println!("{}", pretty_format_batches(&sql_batches)?);
    let d = |batches: &[arrow::record_batch::RecordBatch]| -> Vec<f64> {
        batches
            .iter()
            .flat_map(|b| b.column(1).as_primitive::<Float64Type>().values().to_vec())
            .collect()
    };
    let (from_sql, from_df) = (d(&sql_batches), d(&df.collect()?));
    assert_eq!(from_sql.len(), 3);
    for (a, b) in from_sql.iter().zip(&from_df) {
        assert!((a - b).abs() < 1e-6, "SQL {a} vs DataFrame {b}");
    }
    // Berlin, Madrid, Paris: Paris is 0 km from itself, Berlin about 878 km.
    assert!(from_sql[2].abs() < 1e-9);
    assert!((from_sql[0] - 878.0).abs() < 5.0, "Paris-Berlin is {} km", from_sql[0]);

    // A UDF that panics fails the query, and the error names it.
    ctx.register_udf(
        "broken",
        vec![DataType::Float64],
        DataType::Float64,
        |_: &[ArrayRef]| panic!("this UDF always panics"),
    )?;
    let err = ctx.sql("SELECT broken(lat) FROM cities")?.collect().unwrap_err();
    println!("a panicking UDF: {err}");
    assert!(err.to_string().contains("UDF broken panicked"));
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn runs() {
        super::main().unwrap();
    }
}
