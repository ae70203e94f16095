//! Planning decisions visible in EXPLAIN: row groups skipped by predicate
//! pushdown, broadcast of a small dimension table, hash exchange of a
//! large-large join, two-phase aggregation, and EXPLAIN ANALYZE metrics.

use std::path::PathBuf;
use std::sync::OnceLock;

use flint::{SessionConfig, SessionContext};

/// TPC-H at scale factor 0.01 as Parquet, generated once per test run.
fn tpch_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // Small row groups, so that pruning has something to skip.
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tpch-sf0.01-rg2000");
        flint::tpch::write_parquet_with_row_groups(&dir, 0.01, 2000).expect("generating TPC-H SF0.01");
        dir
    })
}

fn ctx() -> SessionContext {
    let ctx = SessionContext::with_config(SessionConfig::new().with_worker_threads(2));
    flint::tpch::register_parquet(&ctx, tpch_dir()).expect("registering TPC-H");
    ctx
}

fn explain(ctx: &SessionContext, sql: &str) -> String {
    let batches = ctx.sql(sql).unwrap().collect().unwrap();
    let mut out = String::new();
    for b in batches {
        let kinds = arrow::array::AsArray::as_string::<i32>(b.column(0));
        let lines = arrow::array::AsArray::as_string::<i32>(b.column(1));
        for i in 0..b.num_rows() {
            out.push_str(kinds.value(i));
            out.push_str(": ");
            out.push_str(lines.value(i));
            out.push('\n');
        }
    }
    out
}

fn row_groups_read(plan: &str, table: &str) -> (u64, u64) {
    let line = plan
        .lines()
        .find(|l| l.starts_with("physical_plan:") && l.contains("Scan: parquet") && l.contains(table))
        .unwrap_or_else(|| panic!("no scan of {table} in\n{plan}"));
    let part = line
        .split("row_groups=")
        .nth(1)
        .unwrap_or_else(|| panic!("no row group count in {line}"));
    let counts = part.split(' ').next().unwrap_or_default();
    let (read, total) = counts.split_once('/').unwrap_or_default();
    (read.parse().unwrap_or(u64::MAX), total.parse().unwrap_or(0))
}

#[test]
fn predicate_pushdown_reads_fewer_row_groups() {
    let ctx = ctx();
    // Generated orders are sorted by key, so a key range selects few row
    // groups. (An unfiltered count(*) reads no row group at all: the
    // footers' counts answer it.)
    let all = explain(&ctx, "EXPLAIN ANALYZE SELECT count(o_orderkey) FROM orders");
    let some = explain(
        &ctx,
        "EXPLAIN ANALYZE SELECT count(*) FROM orders WHERE o_orderkey < 100",
    );
    let (read_all, total) = row_groups_read(&all, "orders");
    let (read_some, total2) = row_groups_read(&some, "orders");
    assert_eq!(total, total2);
    assert_eq!(read_all, total);
    assert!(read_some < read_all, "pushdown did not skip row groups:\n{some}");
    let off = {
        ctx.sql("SET flint.optimizer.push_down_filter = false").unwrap();
        explain(
            &ctx,
            "EXPLAIN ANALYZE SELECT count(*) FROM orders WHERE o_orderkey < 100",
        )
    };
    assert_eq!(
        row_groups_read(&off, "orders").0,
        total,
        "with the rule off every group is read"
    );
}

#[test]
fn small_dimension_is_broadcast_large_join_is_exchanged() {
    let ctx = ctx();
    let plan = explain(
        &ctx,
        "EXPLAIN SELECT n_name, count(*) FROM customer, nation WHERE c_nationkey = n_nationkey GROUP BY n_name",
    );
    assert!(plan.contains("HashJoin(Inner, broadcast)"), "{plan}");
    ctx.sql("SET flint.broadcast_join_threshold = 1000").unwrap();
    let plan = explain(
        &ctx,
        "EXPLAIN SELECT count(*) FROM lineitem, orders WHERE l_orderkey = o_orderkey",
    );
    assert!(plan.contains("HashJoin(Inner, partitioned)"), "{plan}");
    assert!(plan.contains("Exchange: hash(l_orderkey"), "{plan}");
    assert!(plan.contains("Exchange: hash(o_orderkey"), "{plan}");
    // Same answers either way.
    let count = |ctx: &SessionContext| {
        let b = ctx
            .sql("SELECT count(*) FROM lineitem, orders WHERE l_orderkey = o_orderkey")
            .unwrap()
            .collect()
            .unwrap();
        arrow::util::display::array_value_to_string(b[0].column(0), 0).unwrap()
    };
    let partitioned = count(&ctx);
    ctx.sql("SET flint.broadcast_join_threshold = 1000000000").unwrap();
    assert_eq!(partitioned, count(&ctx));
}

#[test]
fn explain_shows_stages_and_two_phase_aggregation() {
    let ctx = ctx();
    let plan = explain(
        &ctx,
        "EXPLAIN SELECT l_returnflag, sum(l_quantity) FROM lineitem GROUP BY l_returnflag ORDER BY 1",
    );
    for needle in [
        "logical_plan:",
        "optimized_logical_plan:",
        "physical_plan:",
        "HashAggregate(Partial)",
        "HashAggregate(Final)",
        "Exchange: hash(",
        "Stage 1 (shuffle map)",
    ] {
        assert!(plan.contains(needle), "missing {needle} in\n{plan}");
    }
    let analyzed = explain(
        &ctx,
        "EXPLAIN ANALYZE SELECT l_returnflag, sum(l_quantity) FROM lineitem GROUP BY l_returnflag",
    );
    assert!(analyzed.contains("rows=") && analyzed.contains("time="), "{analyzed}");
    assert!(
        analyzed.contains("tasks=") && analyzed.contains("shuffle_write="),
        "{analyzed}"
    );
}

#[test]
fn grouping_by_a_key_the_files_are_sorted_on_needs_no_shuffle() {
    let ctx = ctx();
    let one_row = |sql: &str| {
        let batches = ctx.sql(sql).unwrap().collect().unwrap();
        let b = &batches[0];
        (0..b.num_columns())
            .map(|c| arrow::array::AsArray::as_primitive::<arrow::datatypes::Int64Type>(b.column(c)).value(0))
            .collect::<Vec<_>>()
    };
    // Orders are written sorted by key, so each row group holds its own
    // range of keys: every partition aggregates its keys in place.
    let orders = "SELECT o_orderkey, count(*) AS n FROM orders GROUP BY o_orderkey";
    let plan = explain(&ctx, &format!("EXPLAIN {orders}"));
    assert!(
        plan.contains("HashAggregate(Single)") && !plan.contains("Exchange: hash("),
        "{plan}"
    );
    assert_eq!(one_row(&format!("SELECT count(*), max(n) FROM ({orders})")), [15000, 1]);
    // A broadcast join keeps partsupp's partitions (sorted by part key,
    // four rows a part, so 2000-row groups end between parts), and its
    // output's p_partkey equals ps_partkey: grouped in place too.
    let joined = "SELECT p_partkey, count(*) AS n FROM partsupp JOIN part ON ps_partkey = p_partkey \
                  WHERE p_size < 10 GROUP BY p_partkey";
    let plan = explain(&ctx, &format!("EXPLAIN {joined}"));
    assert!(
        plan.contains("HashAggregate(Single)") && !plan.contains("Exchange: hash("),
        "{plan}"
    );
    let parts = one_row("SELECT count(*) FROM part WHERE p_size < 10")[0];
    assert_eq!(
        one_row(&format!("SELECT count(*), min(n), max(n) FROM ({joined})")),
        [parts, 4, 4]
    );
    // Lineitem's row groups are cut every 2000 rows, splitting orders
    // between them: their key ranges touch, so grouping by it shuffles.
    let keys = "SELECT l_orderkey, count(*) AS n FROM lineitem GROUP BY l_orderkey";
    let plan = explain(&ctx, &format!("EXPLAIN {keys}"));
    assert!(plan.contains("Exchange: hash("), "{plan}");
    assert_eq!(
        one_row(&format!("SELECT count(*), sum(n) FROM ({keys})")),
        [15000, 60175]
    );
}

#[test]
fn large_global_sort_uses_a_range_exchange_and_stays_ordered() {
    use std::sync::Arc;

    use arrow::array::{AsArray, Int64Array};
    use arrow::datatypes::{DataType, Field, Int64Type, Schema};
    use arrow::record_batch::RecordBatch;

    let ctx = SessionContext::with_config(SessionConfig::new().with_worker_threads(2));
    let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
    let batches: Vec<RecordBatch> = (0..12)
        .map(|b| {
            let values = (0..100_000i64).map(|i| (i * 7919 + b * 13) % 1_000_003);
            RecordBatch::try_new(
                Arc::clone(&schema),
                vec![Arc::new(Int64Array::from_iter_values(values))],
            )
            .unwrap()
        })
        .collect();
    ctx.register_batches("big", batches).unwrap();
    let plan = explain(&ctx, "EXPLAIN SELECT x FROM big ORDER BY x DESC");
    assert!(plan.contains("Exchange: range(x@0 DESC) x4"), "{plan}");
    let out = ctx.sql("SELECT x FROM big ORDER BY x DESC").unwrap().collect().unwrap();
    let values: Vec<i64> = out
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
        .collect();
    assert_eq!(values.len(), 1_200_000);
    assert!(values.windows(2).all(|w| w[0] >= w[1]), "not sorted across partitions");
}

#[test]
fn operators_reserve_memory_and_a_limit_fails_the_query_clearly() {
    let ctx = SessionContext::with_config(SessionConfig::new().with_worker_threads(2).with_memory_limit(256 << 10));
    flint::tpch::register_parquet(&ctx, tpch_dir()).expect("registering TPC-H");
    let err = ctx
        .sql("SELECT o_custkey, count(*) FROM orders JOIN lineitem ON o_orderkey = l_orderkey GROUP BY o_custkey")
        .and_then(|df| df.collect())
        .unwrap_err();
    assert!(err.to_string().contains("memory limit"), "{err}");
    // The session still answers small queries, and nothing stays reserved.
    assert_eq!(ctx.sql("SELECT count(*) FROM nation").unwrap().count().unwrap(), 1);
    assert_eq!(ctx.memory_pool().used(), 0);
}
