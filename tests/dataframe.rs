//! The DataFrame API against SQL and against itself: the same query written
//! both ways gets the same logical and optimized plan (on TPC-H SF0.01);
//! every transformation, action and reader works and reports errors when
//! the frame is built; cached frames are computed once; UDFs run from both
//! front doors and fail with their name; writes round-trip and are atomic.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow::array::{ArrayRef, AsArray, Int64Array};
use arrow::datatypes::{DataType, Int64Type};
use arrow::util::pretty::pretty_format_batches;
use datafusion_common::ScalarValue;
use flint::dataframe::{Partitioning, WriteOptions};
use flint::functions::{avg, count, count_distinct, count_star, max, min, sum, upper, when};
use flint::logical::{col, lit};
use flint::{DataFrame, JoinType, SessionConfig, SessionContext};

fn tpch() -> SessionContext {
    let ctx = SessionContext::with_config(SessionConfig::new().with_worker_threads(2));
    flint::tpch::register(&ctx, 0.01).unwrap();
    ctx
}

fn date(s: &str) -> flint::logical::Expr {
    lit(s).cast(DataType::Date32)
}

fn dec(v: i128, p: u8, s: i8) -> flint::logical::Expr {
    lit(ScalarValue::Decimal128(Some(v), p, s))
}

/// Asserts that `df` and `sql` have the same logical and optimized plans
/// and the same results.
fn same_as_sql(ctx: &SessionContext, df: &DataFrame, sql: &str) {
    let expected = ctx.sql(sql).unwrap();
    assert_eq!(
        df.logical_plan().display_indent(),
        expected.logical_plan().display_indent(),
        "logical plans of {sql}"
    );
    assert_eq!(
        df.optimized_plan().unwrap().display_indent(),
        expected.optimized_plan().unwrap().display_indent(),
        "optimized plans of {sql}"
    );
    let text = |d: &DataFrame| pretty_format_batches(&d.collect().unwrap()).unwrap().to_string();
    assert_eq!(text(df), text(&expected), "results of {sql}");
}

#[test]
fn tpch_q1_matches_sql() {
    let ctx = tpch();
    let disc_price = col("l_extendedprice") * (lit(1i64) - col("l_discount"));
    let df = ctx
        .table("lineitem")
        .unwrap()
        .filter(col("l_shipdate").lt_eq(date("1998-09-02")))
        .unwrap()
        .group_by(vec![col("l_returnflag"), col("l_linestatus")])
        .agg(vec![
            sum(col("l_quantity")).alias("sum_qty"),
            sum(col("l_extendedprice")).alias("sum_base_price"),
            sum(disc_price.clone()).alias("sum_disc_price"),
            sum(disc_price * (lit(1i64) + col("l_tax"))).alias("sum_charge"),
            avg(col("l_quantity")).alias("avg_qty"),
            avg(col("l_extendedprice")).alias("avg_price"),
            avg(col("l_discount")).alias("avg_disc"),
            count_star().alias("count_order"),
        ])
        .unwrap()
        .sort(vec![col("l_returnflag").asc(), col("l_linestatus").asc()])
        .unwrap();
    same_as_sql(
        &ctx,
        &df,
        "SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty,
            sum(l_extendedprice) AS sum_base_price,
            sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
            sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge,
            avg(l_quantity) AS avg_qty, avg(l_extendedprice) AS avg_price,
            avg(l_discount) AS avg_disc, count(*) AS count_order
        FROM lineitem
        WHERE l_shipdate <= CAST('1998-09-02' AS date)
        GROUP BY l_returnflag, l_linestatus
        ORDER BY l_returnflag, l_linestatus",
    );
}

#[test]
fn joins_with_grouping_and_ordering_match_sql() {
    let ctx = tpch();
    let t = |n: &str| ctx.table(n).unwrap();
    // TPC-H q5's shape: a chain of joins, a filter, a group-by, an order.
    let df = t("customer")
        .join(&t("orders"), JoinType::Inner, &["c_custkey"], &["o_custkey"])
        .unwrap()
        .join(&t("nation"), JoinType::Inner, &["c_nationkey"], &["n_nationkey"])
        .unwrap()
        .filter(
            col("o_orderdate")
                .gt_eq(date("1994-01-01"))
                .and(col("o_orderdate").lt(date("1995-01-01"))),
        )
        .unwrap()
        .group_by(vec![col("n_name")])
        .agg(vec![sum(col("o_totalprice")).alias("revenue"), count_star()])
        .unwrap()
        .sort(vec![col("revenue").desc()])
        .unwrap()
        .limit(0, Some(5))
        .unwrap();
    same_as_sql(
        &ctx,
        &df,
        "SELECT n_name, sum(o_totalprice) AS revenue, count(*)
        FROM customer JOIN orders ON c_custkey = o_custkey JOIN nation ON c_nationkey = n_nationkey
        WHERE o_orderdate >= CAST('1994-01-01' AS date) AND o_orderdate < CAST('1995-01-01' AS date)
        GROUP BY n_name ORDER BY revenue DESC LIMIT 5",
    );
}

#[test]
fn predicates_and_projections_match_sql() {
    let ctx = tpch();
    let df = ctx
        .table("part")
        .unwrap()
        .filter(
            col("p_brand")
                .in_list(vec![lit("Brand#12"), lit("Brand#23")], false)
                .and(col("p_type").like(lit("%BRASS")))
                .and(col("p_size").between(lit(1i64), lit(15i64)))
                .and(
                    col("p_retailprice")
                        .gt(dec(150000, 6, 2))
                        .or(col("p_container").is_null()),
                ),
        )
        .unwrap()
        .select(vec![
            col("p_partkey"),
            upper(col("p_name")).alias("name"),
            when(col("p_size").gt(lit(10i64)), lit("big"))
                .otherwise(lit("small"))
                .alias("size"),
            (col("p_retailprice") * lit(2i64)).alias("double_price"),
        ])
        .unwrap()
        .sort(vec![col("p_partkey").asc()])
        .unwrap();
    same_as_sql(
        &ctx,
        &df,
        "SELECT p_partkey, upper(p_name) AS name,
            CASE WHEN p_size > 10 THEN 'big' ELSE 'small' END AS size,
            p_retailprice * 2 AS double_price
        FROM part
        WHERE p_brand IN ('Brand#12', 'Brand#23') AND p_type LIKE '%BRASS'
            AND p_size BETWEEN 1 AND 15 AND (p_retailprice > 1500.00 OR p_container IS NULL)
        ORDER BY p_partkey",
    );
}

#[test]
fn set_operations_distinct_and_global_aggregates_match_sql() {
    let ctx = tpch();
    let keys = |table: &str, column: &str| ctx.table(table).unwrap().select_columns(&[column]).unwrap();
    let supp_nations = keys("supplier", "s_nationkey");
    let cust_nations = keys("customer", "c_nationkey");
    same_as_sql(
        &ctx,
        &supp_nations.union(&cust_nations).unwrap(),
        "SELECT s_nationkey FROM supplier UNION ALL SELECT c_nationkey FROM customer",
    );
    same_as_sql(
        &ctx,
        &supp_nations.intersect(&cust_nations).unwrap(),
        "SELECT s_nationkey FROM supplier INTERSECT SELECT c_nationkey FROM customer",
    );
    same_as_sql(
        &ctx,
        &keys("nation", "n_nationkey").except(&cust_nations).unwrap(),
        "SELECT n_nationkey FROM nation EXCEPT SELECT c_nationkey FROM customer",
    );
    same_as_sql(
        &ctx,
        &supp_nations.union_distinct(&cust_nations).unwrap(),
        "SELECT s_nationkey FROM supplier UNION SELECT c_nationkey FROM customer",
    );
    same_as_sql(
        &ctx,
        &keys("orders", "o_orderstatus").distinct().unwrap(),
        "SELECT DISTINCT o_orderstatus FROM orders",
    );
    let totals = ctx
        .table("orders")
        .unwrap()
        .select(vec![
            count_distinct(col("o_custkey")),
            min(col("o_orderdate")).alias("first"),
            max(col("o_totalprice")),
            count(col("o_comment")),
        ])
        .unwrap();
    same_as_sql(
        &ctx,
        &totals,
        "SELECT count(DISTINCT o_custkey), min(o_orderdate) AS first, max(o_totalprice), count(o_comment) FROM orders",
    );
    let with_col = ctx
        .table("region")
        .unwrap()
        .with_column("key2", col("r_regionkey") * lit(2i64))
        .unwrap();
    same_as_sql(&ctx, &with_col, "SELECT *, r_regionkey * 2 AS key2 FROM region");
    let aliased = ctx
        .table("nation")
        .unwrap()
        .alias("n")
        .unwrap()
        .filter(col("n.n_regionkey").eq(lit(1i64)))
        .unwrap()
        .select_columns(&["n.n_name"])
        .unwrap();
    same_as_sql(
        &ctx,
        &aliased,
        "SELECT n.n_name FROM nation AS n WHERE n.n_regionkey = 1",
    );
}

#[test]
fn unknown_columns_fail_when_the_frame_is_built() {
    let ctx = tpch();
    let nation = ctx.table("nation").unwrap();
    let err = nation.filter(col("x").gt(lit(1))).unwrap_err().to_string();
    assert!(err.contains("column 'x' not found"), "{err}");
    assert!(
        err.contains("available columns: nation.n_nationkey, nation.n_name, nation.n_regionkey, nation.n_comment"),
        "{err}"
    );
    let err = nation.select(vec![col("n_nme")]).unwrap_err().to_string();
    assert!(err.contains("did you mean n_name"), "{err}");
    let err = nation
        .group_by(vec![col("n_regionkey")])
        .agg(vec![sum(col("nope"))])
        .unwrap_err()
        .to_string();
    assert!(err.contains("'nope'"), "{err}");
    let err = nation.select(vec![col("n_name") + lit(1)]).unwrap_err().to_string();
    assert!(err.contains("cannot apply +"), "{err}");
    let err = nation.sort(vec![col("region.r_name").asc()]).unwrap_err().to_string();
    assert!(err.contains("column 'region.r_name' not found"), "{err}");
    for err in [
        nation.with_column("y", col("x")).unwrap_err(),
        nation.with_column_renamed("x", "y").unwrap_err(),
        nation.drop_columns(&["x"]).unwrap_err(),
        nation.select_columns(&["x"]).unwrap_err(),
        nation.where_(col("x")).unwrap_err(),
        nation.group_by(vec![col("x")]).count().unwrap_err(),
        nation.repartition(Partitioning::Hash(vec![col("x")], 2)).unwrap_err(),
        nation
            .write_csv("/nonexistent/never", WriteOptions::default().with_partition_by(["x"]))
            .unwrap_err(),
    ] {
        assert!(err.to_string().contains("column 'x' not found"), "{err}");
    }
    // A self-join needs its sides named apart; naming a frame whose columns
    // would collide under one name fails too.
    let region = ctx.table("region").unwrap();
    let err = nation
        .join(&nation, JoinType::Inner, &["n_nationkey"], &["n_nationkey"])
        .unwrap_err();
    assert!(err.to_string().contains("alias()"), "{err}");
    let pairs = nation
        .alias("a")
        .unwrap()
        .cross_join(&nation.alias("b").unwrap())
        .unwrap();
    assert_eq!(pairs.count().unwrap(), 625);
    assert!(
        pairs.alias("both").is_err(),
        "a.n_name and b.n_name would both be both.n_name"
    );
    assert!(nation.union(&region).is_err(), "4 and 3 columns");
}

fn counting_udf(ctx: &SessionContext, calls: Arc<AtomicUsize>) -> Arc<flint::functions::ScalarUdf> {
    ctx.register_udf(
        "plus_one",
        vec![DataType::Int64],
        DataType::Int64,
        move |args: &[ArrayRef]| {
            calls.fetch_add(args[0].len(), Ordering::SeqCst);
            let a = args[0].as_primitive::<Int64Type>();
            Ok(Arc::new(a.unary::<_, Int64Type>(|x| x + 1)) as ArrayRef)
        },
    )
    .unwrap()
}

#[test]
fn cached_frames_are_computed_once() {
    let ctx = tpch();
    let calls = Arc::new(AtomicUsize::new(0));
    let udf = counting_udf(&ctx, Arc::clone(&calls));
    let nation = ctx
        .table("nation")
        .unwrap()
        .with_column("k", udf.call(vec![col("n_nationkey")]))
        .unwrap()
        .cache()
        .unwrap();
    assert_eq!(nation.count().unwrap(), 25);
    assert_eq!(calls.load(Ordering::SeqCst), 25);
    let big = nation.filter(col("k").gt(lit(20i64))).unwrap();
    assert_eq!(big.count().unwrap(), 5);
    // Qualified names still resolve on the cached frame.
    let names = nation.select_columns(&["nation.n_name", "k"]).unwrap();
    assert_eq!(names.collect().unwrap().iter().map(|b| b.num_rows()).sum::<usize>(), 25);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        25,
        "the UDF ran again: the cache was not used"
    );
    assert!(nation.unpersist());
    assert_eq!(nation.count().unwrap(), 25);
    assert_eq!(calls.load(Ordering::SeqCst), 50, "after unpersist the plan runs again");
}

#[test]
fn udfs_run_from_sql_and_dataframes_and_fail_with_their_name() {
    let ctx = SessionContext::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let udf = counting_udf(&ctx, calls);
    let df = ctx.sql("SELECT * FROM (VALUES (1), (2)) v(x)").unwrap();
    let via_df = df.select(vec![udf.call(vec![col("x")]).alias("y")]).unwrap();
    df.create_or_replace_temp_view("v").unwrap();
    let via_sql = ctx.sql("SELECT PLUS_ONE(x) AS y FROM v").unwrap();
    let text = |d: &DataFrame| pretty_format_batches(&d.collect().unwrap()).unwrap().to_string();
    assert_eq!(text(&via_df), text(&via_sql));
    assert!(text(&via_sql).contains("| 3 |"));
    // Arguments are cast to the declared types; arity is checked.
    assert!(ctx.sql("SELECT plus_one(CAST(x AS INT)) FROM v").is_ok());
    let err = ctx.sql("SELECT plus_one(x, x) FROM v").unwrap_err().to_string();
    assert!(err.contains("plus_one() takes 1 argument(s)"), "{err}");
    assert!(df.select(vec![udf.call(vec![lit("a")])]).is_ok(), "Utf8 casts to Int64");

    ctx.register_udf("explode", vec![DataType::Int64], DataType::Int64, |_: &[ArrayRef]| {
        panic!("kaboom")
    })
    .unwrap();
    let err = ctx.sql("SELECT explode(x) FROM v").unwrap().collect().unwrap_err();
    assert!(err.to_string().contains("UDF explode panicked: kaboom"), "{err}");
    ctx.register_udf("refuse", vec![DataType::Int64], DataType::Int64, |_: &[ArrayRef]| {
        Err(flint::Error::Execution("not today".into()))
    })
    .unwrap();
    let err = ctx.sql("SELECT refuse(x) FROM v").unwrap().collect().unwrap_err();
    assert!(err.to_string().contains("UDF refuse: not today"), "{err}");
    assert!(
        ctx.register_udf("bad name", vec![DataType::Int64], DataType::Int64, |a| Ok(Arc::clone(
            &a[0]
        )))
        .is_err()
    );
    assert!(ctx.deregister_udf("refuse"));
    assert!(ctx.sql("SELECT refuse(x) FROM v").is_err());
}

#[test]
fn rdd_round_trip_keeps_rows_and_schema() {
    let ctx = tpch();
    let orders = ctx
        .table("orders")
        .unwrap()
        .select_columns(&["o_orderkey", "o_totalprice"])
        .unwrap();
    let rdd = orders.rdd().unwrap();
    let kept = rdd.filter(|b| b.num_rows() > 0).repartition(3);
    let back = ctx.create_dataframe_from_rdd(kept, orders.schema()).unwrap();
    assert_eq!(back.rdd().unwrap().num_partitions(), 3);
    assert_eq!(back.count().unwrap(), orders.count().unwrap());
    let top = back
        .sort(vec![col("o_totalprice").desc()])
        .unwrap()
        .limit(0, Some(1))
        .unwrap();
    assert_eq!(top.collect().unwrap()[0].num_rows(), 1);
    // A schema that does not match the batches fails when read, saying so.
    let wrong = Arc::new(arrow::datatypes::Schema::new(vec![
        arrow::datatypes::Field::new("a", DataType::Utf8, true),
        arrow::datatypes::Field::new("b", DataType::Utf8, true),
    ]));
    let bad = ctx.create_dataframe_from_rdd(orders.rdd().unwrap(), wrong).unwrap();
    assert!(bad.count().unwrap_err().to_string().contains("schema declares"));
}

#[test]
fn writes_round_trip_through_every_format() {
    let ctx = tpch();
    let dir = tempfile::tempdir().unwrap();
    let nation = ctx
        .table("nation")
        .unwrap()
        .select_columns(&["n_nationkey", "n_name", "n_regionkey"])
        .unwrap()
        .repartition(Partitioning::RoundRobin(3))
        .unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    nation.write_parquet(&path("p"), WriteOptions::default()).unwrap();
    nation.write_csv(&path("c"), WriteOptions::default()).unwrap();
    nation.write_json(&path("j"), WriteOptions::default()).unwrap();
    nation
        .write_parquet(&path("h"), WriteOptions::default().with_partition_by(["n_regionkey"]))
        .unwrap();
    assert_eq!(std::fs::read_dir(path("p")).unwrap().count(), 4, "3 parts and _SUCCESS");
    let sum_keys = |df: DataFrame| {
        let b = df
            .agg(vec![sum(col("n_nationkey")).alias("s")])
            .unwrap()
            .collect()
            .unwrap();
        b[0].column(0).as_primitive::<Int64Type>().value(0)
    };
    assert_eq!(sum_keys(ctx.read_parquet(&path("p")).unwrap()), 300);
    let csv = ctx.read_csv(&path("c"), Default::default()).unwrap();
    assert_eq!(csv.schema().field(1).name(), "n_name");
    assert_eq!(sum_keys(csv), 300);
    assert_eq!(sum_keys(ctx.read_json(&path("j")).unwrap()), 300);
    let region0 = ctx.read_parquet(&format!("{}/n_regionkey=0", path("h"))).unwrap();
    assert_eq!(region0.count().unwrap(), 5);
    assert!(region0.schema().field_with_name("n_regionkey").is_err());
}

#[test]
fn create_dataframe_and_joins_of_unqualified_frames() {
    let ctx = SessionContext::new();
    let batch = |values: Vec<i64>| {
        let schema = Arc::new(arrow::datatypes::Schema::new(vec![arrow::datatypes::Field::new(
            "k",
            DataType::Int64,
            false,
        )]));
        arrow::record_batch::RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(values))]).unwrap()
    };
    let a = ctx
        .create_dataframe(vec![batch(vec![1, 2, 3]), batch(vec![4])])
        .unwrap();
    let b = ctx.create_dataframe(vec![batch(vec![2, 4, 6])]).unwrap();
    let err = a.join(&b, JoinType::Inner, &["k"], &["k"]).unwrap_err().to_string();
    assert!(err.contains("alias()"), "{err}");
    let joined = a
        .alias("a")
        .unwrap()
        .join(&b.alias("b").unwrap(), JoinType::Inner, &["a.k"], &["b.k"])
        .unwrap();
    assert_eq!(joined.count().unwrap(), 2);
    let err = joined.select(vec![col("k")]).unwrap_err().to_string();
    assert!(err.contains("ambiguous"), "{err}");
    let renamed = joined
        .with_column_renamed("b.k", "bk")
        .unwrap()
        .drop_columns(&["a.k"])
        .unwrap();
    assert_eq!(renamed.schema().field(0).name(), "bk");
    assert_eq!(
        a.group_by(vec![(col("k") % lit(2i64)).alias("odd")])
            .count()
            .unwrap()
            .count()
            .unwrap(),
        2
    );
}
