//! From DataFrame to RDD and back.
//!
//! The example starts from TPC-H `orders` as a DataFrame, drops down to the
//! `Rdd<RecordBatch>` behind it to do something the DataFrame API does not
//! offer (keep only the rows of each batch whose order key is prime, with
//! plain Rust over Arrow arrays), comes back with
//! `create_dataframe_from_rdd`, aggregates with the DataFrame API, and
//! checks the result against a count done on the RDD side.
//!
//! ```text
//! cargo run --example rdd_interop
//! ```
//!
//! `cargo test --example rdd_interop` runs the same `main` as a test.

use std::sync::Arc;

use arrow::array::{AsArray, BooleanArray};
use arrow::compute::filter_record_batch;
use arrow::datatypes::Int64Type;
use arrow::record_batch::RecordBatch;
use flint::SessionContext;
use flint::functions::{count_star, sum};
use flint::logical::col;

fn is_prime(n: i64) -> bool {
    n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0)
}

fn main() -> flint::Result<()> {
    let ctx = SessionContext::new();
    flint::tpch::register(&ctx, 0.01)?;

    // DataFrame: the columns we need.
    let orders = ctx
        .table("orders")?
        .select_columns(&["o_orderkey", "o_orderstatus", "o_totalprice"])?;
    let schema = orders.schema();

    // Down to the RDD: a batch-wise filter in plain Rust.
    let primes = orders.rdd()?.map(|batch: RecordBatch| {
        let keys = batch.column(0).as_primitive::<Int64Type>();
        let keep: BooleanArray = keys.iter().map(|k| Some(k.is_some_and(is_prime))).collect();
        filter_record_batch(&batch, &keep).unwrap_or_else(|_| batch.slice(0, 0))
    });
    let expected_rows: u64 = primes.map(|b| b.num_rows() as u64).reduce(|a, b| a + b)?.unwrap_or(0);
    println!(
        "RDD: {} partitions, {expected_rows} orders with a prime key",
        primes.num_partitions()
    );

    // Back to a DataFrame, and on with the DataFrame API.
    let prime_orders = ctx.create_dataframe_from_rdd(primes, Arc::clone(&schema))?;
    let by_status = prime_orders
        .group_by(vec![col("o_orderstatus")])
        .agg(vec![
            count_star().alias("orders"),
            sum(col("o_totalprice")).alias("total"),
        ])?
        .sort(vec![col("o_orderstatus").asc()])?;
    by_status.show()?;

    let counted: i64 = by_status
        .collect()?
        .iter()
        .map(|b| b.column(1).as_primitive::<Int64Type>().values().iter().sum::<i64>())
        .sum();
    assert!(expected_rows > 0);
    assert_eq!(counted as u64, expected_rows, "the DataFrame lost or invented rows");

    // And SQL over the same rows, through a view.
    prime_orders.create_or_replace_temp_view("prime_orders")?;
    assert_eq!(
        ctx.sql("SELECT * FROM prime_orders WHERE o_orderkey < 100")?.count()?,
        (2..100).filter(|&k| is_prime(k)).filter(|&k| (k - 1) % 32 < 8).count(),
        "TPC-H order keys take 8 of every 32 numbers"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn runs() {
        super::main().unwrap();
    }
}
