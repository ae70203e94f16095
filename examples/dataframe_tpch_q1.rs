//! TPC-H query 1 (the pricing summary report) written with the DataFrame
//! API, checked against the same query in SQL.
//!
//! The example generates TPC-H data in memory, builds q1 as a chain of
//! DataFrame calls (`filter`, `group_by().agg()`, `sort`), prints its plans
//! and result, and asserts that the result equals the SQL query's.
//!
//! ```text
//! cargo run --example dataframe_tpch_q1 -- [scale_factor]   # default 0.01
//! ```
//!
//! `cargo test --example dataframe_tpch_q1` runs the same `main` as a test.

use arrow::datatypes::DataType;
use arrow::util::pretty::pretty_format_batches;
use flint::functions::{avg, count_star, sum};
use flint::logical::{col, lit};
use flint::{DataFrame, SessionContext};

const Q1_SQL: &str = "SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty,
    sum(l_extendedprice) AS sum_base_price,
    sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
    sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge,
    avg(l_quantity) AS avg_qty, avg(l_extendedprice) AS avg_price,
    avg(l_discount) AS avg_disc, count(*) AS count_order
FROM lineitem
WHERE l_shipdate <= CAST('1998-09-02' AS date)
GROUP BY l_returnflag, l_linestatus
ORDER BY l_returnflag, l_linestatus";

/// q1 as a DataFrame.
fn q1(ctx: &SessionContext) -> flint::Result<DataFrame> {
    let disc_price = col("l_extendedprice") * (lit(1) - col("l_discount"));
    let charge = disc_price.clone() * (lit(1) + col("l_tax"));
    ctx.table("lineitem")?
        .filter(col("l_shipdate").lt_eq(lit("1998-09-02").cast(DataType::Date32)))?
        .group_by(vec![col("l_returnflag"), col("l_linestatus")])
        .agg(vec![
            sum(col("l_quantity")).alias("sum_qty"),
            sum(col("l_extendedprice")).alias("sum_base_price"),
            sum(disc_price).alias("sum_disc_price"),
            sum(charge).alias("sum_charge"),
            avg(col("l_quantity")).alias("avg_qty"),
            avg(col("l_extendedprice")).alias("avg_price"),
            avg(col("l_discount")).alias("avg_disc"),
            count_star().alias("count_order"),
        ])?
        .sort(vec![col("l_returnflag").asc(), col("l_linestatus").asc()])
}

fn main() -> flint::Result<()> {
    let sf: f64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0.01);
    let ctx = SessionContext::new();
    flint::tpch::register(&ctx, sf)?;

    let df = q1(&ctx)?;
    df.explain(false, false)?;
    let batches = df.collect()?;
    let text = pretty_format_batches(&batches)?.to_string();
    println!("{text}");

    // Four (returnflag, linestatus) groups, in order, with the same values
    // as the SQL query.
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 4, "q1 has four groups");
    let expected = pretty_format_batches(&ctx.sql(Q1_SQL)?.collect()?)?.to_string();
    assert_eq!(text, expected, "the DataFrame and SQL answers differ");
    let names: Vec<String> = df.schema().fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(names[..3], ["l_returnflag", "l_linestatus", "sum_qty"]);
    println!("q1 as a DataFrame matches q1 in SQL");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn runs() {
        super::main().unwrap();
    }
}
