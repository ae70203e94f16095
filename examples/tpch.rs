//! Runs TPC-H queries on data generated in memory.
//!
//! `cargo run --release --example tpch -- [scale_factor] [query numbers...]`
//! (defaults: scale factor 0.1, query 1). Queries are read from
//! `../shared/tpch/queries/` when present, else q1 built in is used.

use std::time::Instant;

use flint::SessionContext;

const Q1: &str = "SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty,
    sum(l_extendedprice) AS sum_base_price,
    sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
    sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge,
    avg(l_quantity) AS avg_qty, avg(l_extendedprice) AS avg_price,
    avg(l_discount) AS avg_disc, count(*) AS count_order
FROM lineitem
WHERE l_shipdate <= CAST('1998-09-02' AS date)
GROUP BY l_returnflag, l_linestatus
ORDER BY l_returnflag, l_linestatus";

fn main() -> flint::Result<()> {
    let mut args = std::env::args().skip(1);
    let sf: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(0.1);
    let queries: Vec<usize> = args.filter_map(|a| a.parse().ok()).collect();
    let queries = if queries.is_empty() { vec![1] } else { queries };
    let ctx = SessionContext::new();
    let started = Instant::now();
    flint::tpch::register(&ctx, sf)?;
    eprintln!("generated TPC-H SF{sf} in {:.1}s", started.elapsed().as_secs_f64());
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tpch/queries");
    for q in queries {
        let sql = std::fs::read_to_string(dir.join(format!("q{q:02}.sql"))).unwrap_or_else(|_| Q1.to_string());
        let started = Instant::now();
        let batches = ctx.sql(&sql)?.collect()?;
        println!("{}", arrow::util::pretty::pretty_format_batches(&batches)?);
        eprintln!("q{q:02}: {:.0} ms", started.elapsed().as_secs_f64() * 1e3);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn q1_runs_on_generated_data() {
        let ctx = flint::SessionContext::new();
        flint::tpch::register(&ctx, 0.01).unwrap();
        let batches = ctx.sql(super::Q1).unwrap().collect().unwrap();
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 4);
    }
}
