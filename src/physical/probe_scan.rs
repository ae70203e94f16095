//! A broadcast join's key filter, pushed into the scan of its probe side.
//!
//! The build side of a broadcast join is collected before the probe side
//! runs, so its keys are known when the probe side's scan starts. When the
//! probe side reaches a Parquet scan through projections, filters and other
//! broadcast joins that keep the key columns as they are, the scan can test
//! the keys first and decode its other columns only for rows whose key
//! every such build side has: TPC-H's q17 keeps 0.1% of `lineitem` this way,
//! q05 3% (orders of one year from one region's suppliers). Only for joins
//! that never output a probe row without a partner, and only into a scan
//! that has no predicate of its own (whose tested columns are decoded whole;
//! adding the key would decode it for every row where the predicate decodes
//! it for few).
//!
//! A partitioned join's probe side does the same with the filter it builds
//! from the build side's shuffled rows before shuffling its own.

use std::sync::Arc;

use datafusion_common::JoinType;

use super::expr::{ColumnExpr, PhysicalExprRef};
use super::join::{KeyFilter, KeyFilterExpr};
use super::plan::{JoinDistribution, PhysicalPlan};
use crate::datasource::{PredicateJudge, ScanPredicate};

/// The scan that `probe`'s rows come from and the positions of `keys`
/// (expressions over `probe`'s output) among the scan's output columns,
/// with the nodes passed on the way (`probe` first, the scan last); `None`
/// when the keys are not plain columns of a scan that can take a predicate.
pub(crate) fn probe_scan_path<'a>(
    probe: &'a PhysicalPlan,
    keys: &[PhysicalExprRef],
) -> Option<(Vec<&'a PhysicalPlan>, Vec<usize>)> {
    let mut columns: Vec<usize> = keys.iter().map(|k| k.column_index()).collect::<Option<_>>()?;
    let mut path = vec![probe];
    let mut node = probe;
    loop {
        match node {
            PhysicalPlan::Scan {
                source,
                predicate: None,
                fetch: None,
                ..
            } if source.supports_predicates() => return Some((path, columns)),
            PhysicalPlan::Projection { exprs, input, .. } => {
                columns = columns
                    .iter()
                    .map(|&c| exprs.get(c)?.column_index())
                    .collect::<Option<_>>()?;
                node = input;
            }
            PhysicalPlan::Filter { input, .. } | PhysicalPlan::Metered { input, .. } => node = input,
            // Its output rows are probe rows with a partner: a filter on
            // the probe's columns below drops only rows it would drop too.
            PhysicalPlan::HashJoin {
                left,
                join_type: JoinType::Inner | JoinType::LeftSemi,
                distribution: JoinDistribution::Broadcast,
                projection,
                ..
            } => {
                let width = left.schema().fields().len();
                columns = columns
                    .iter()
                    .map(|&c| {
                        let joined = projection.as_ref().map_or(Some(c), |p| p.get(c).copied())?;
                        (joined < width).then_some(joined)
                    })
                    .collect::<Option<_>>()?;
                node = left;
            }
            _ => return None,
        }
        path.push(node);
    }
}

/// The predicate a scan evaluates for the key filters of the joins above
/// it: each filter with the scan's output columns holding its keys.
pub(crate) fn key_filter_predicate(
    scan: &PhysicalPlan,
    filters: &[(Vec<usize>, Arc<KeyFilter>)],
) -> Option<ScanPredicate> {
    let PhysicalPlan::Scan { projection, schema, .. } = scan else {
        return None;
    };
    let table_column = |c: usize| projection.as_ref().map_or(Some(c), |p| p.get(c).copied());
    let mut tested: Vec<usize> = filters
        .iter()
        .flat_map(|(columns, _)| columns.iter().map(|&c| table_column(c)))
        .collect::<Option<_>>()?;
    tested.sort_unstable();
    tested.dedup();
    let mut conjuncts = Vec::new();
    for (columns, filter) in filters {
        let keys = columns
            .iter()
            .map(|&c| {
                let position = tested.binary_search(&table_column(c)?).ok()?;
                let field = schema.field(c);
                Some(Arc::new(ColumnExpr::new(field.name(), position, field.data_type().clone())) as PhysicalExprRef)
            })
            .collect::<Option<Vec<_>>>()?;
        conjuncts.push(Arc::new(KeyFilterExpr::new(Arc::clone(filter), keys)) as PhysicalExprRef);
    }
    Some(ScanPredicate {
        columns: tested,
        text: conjuncts.iter().map(|c| c.to_string()).collect(),
        conjuncts,
        judge: Some(Arc::new(PredicateJudge::default())),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};

    use crate::SessionContext;
    use crate::datasource::test_util::write_parquet;

    #[test]
    fn a_partitioned_joins_probe_scan_tests_the_keys_too() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = session(dir.path());
        let sql = "SELECT count(*), sum(v) FROM fact JOIN dim ON k = id WHERE tag = 'a'";
        let set = |s: &str| ctx.sql(s).unwrap().collect().unwrap();
        set("SET flint.broadcast_join_threshold = 0");
        let plan = ctx.sql(sql).unwrap().explain_string(false, false).unwrap();
        assert!(
            plan.iter()
                .any(|(_, l)| l.contains("partitioned") && l.contains("runtime_filter")),
            "{plan:?}"
        );
        let (with, scanned) = run(&ctx, sql);
        assert!(scanned < ROWS / 100, "{scanned} rows scanned");
        set("SET flint.optimizer.runtime_filter = false");
        let (without, scanned) = run(&ctx, sql);
        assert_eq!((with, scanned), (without, ROWS));
    }

    /// Rows of `fact`: more than a key filter sees before it judges itself.
    const ROWS: u64 = 150_000;

    /// `fact`: [`ROWS`] rows in row groups of 10,000, key `k` = row % 1,000
    /// (NULL every 7th row) and `v` = row, in Parquet; `dim`: ids 0..1,000
    /// tagged 'a' when id % 200 = 3 (5 ids), 'b' when even, 'c' otherwise.
    fn session(dir: &std::path::Path) -> SessionContext {
        let rows = 0..ROWS as i64;
        let k: Int64Array = rows.clone().map(|r| (r % 7 != 0).then_some(r % 1000)).collect();
        let v: Int64Array = rows.collect();
        let fact =
            RecordBatch::try_from_iter([("k", Arc::new(k) as ArrayRef), ("v", Arc::new(v) as ArrayRef)]).unwrap();
        let path = dir.join("fact.parquet");
        write_parquet(&path, &fact, 10_000);
        let ctx = SessionContext::new();
        ctx.register_parquet("fact", path.to_str().unwrap()).unwrap();
        let ids: Int64Array = (0..1000i64).collect();
        let tags: StringArray = (0..1000i64)
            .map(|i| {
                Some(if i % 200 == 3 {
                    "a"
                } else if i % 2 == 0 {
                    "b"
                } else {
                    "c"
                })
            })
            .collect();
        let dim = RecordBatch::try_from_iter([("id", Arc::new(ids) as ArrayRef), ("tag", Arc::new(tags) as ArrayRef)])
            .unwrap();
        ctx.register_batches("dim", vec![dim]).unwrap();
        ctx
    }

    /// The rows of `sql`, and the rows the scan of `fact` returned.
    fn run(ctx: &SessionContext, sql: &str) -> (String, u64) {
        let df = ctx.sql(sql).unwrap();
        let analyzed = df.explain_string(false, true).unwrap();
        let scanned = analyzed
            .iter()
            .find_map(|(_, line)| {
                let rest = line.split_once("Scan: parquet fact")?.1;
                rest.split_once("rows=")?.1.split(' ').next()?.parse().ok()
            })
            .expect("the plan scans fact");
        let batches = df.collect().unwrap();
        let text = arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string();
        (text, scanned)
    }

    #[test]
    fn the_probe_scan_returns_only_rows_whose_key_the_build_side_has() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = session(dir.path());
        // How many rows the scan returns: few, every one, or (a filter
        // that switched itself off) more than half.
        enum Scanned {
            Few,
            All,
            MostOf,
        }
        let queries = [
            // 5 of 1,000 keys: the scan tests `k` and decodes `v` for them only.
            (
                "SELECT count(*), sum(v) FROM fact JOIN dim ON k = id WHERE tag = 'a'",
                Scanned::Few,
            ),
            (
                "SELECT count(*), sum(v) FROM fact WHERE k IN (SELECT id FROM dim WHERE tag = 'a')",
                Scanned::Few,
            ),
            // Through a projection that keeps the key as it is.
            (
                "SELECT sum(w) FROM (SELECT v + 1 AS w, k AS key FROM fact) f JOIN dim ON key = id WHERE tag = 'a'",
                Scanned::Few,
            ),
            // Two joins on the way: half the keys, then 5 of them. The scan
            // tests both filters.
            (
                "SELECT count(*), sum(v) FROM fact JOIN dim d1 ON k = d1.id JOIN dim d2 ON k = d2.id \
                 WHERE d1.tag IN ('a', 'c') AND d2.tag = 'a'",
                Scanned::Few,
            ),
            // Half the keys: the filter switches itself off and the scan
            // reads every row from then on.
            (
                "SELECT count(*), sum(v) FROM fact JOIN dim ON k = id WHERE tag = 'b'",
                Scanned::MostOf,
            ),
            // A left join outputs rows without a partner: nothing to filter.
            (
                "SELECT count(*), count(id) FROM fact LEFT JOIN (SELECT id FROM dim WHERE tag = 'a') d ON k = id",
                Scanned::All,
            ),
        ];
        for (sql, expected) in queries {
            let (with, scanned) = run(&ctx, sql);
            let as_expected = match expected {
                Scanned::Few => scanned < ROWS / 100,
                Scanned::All => scanned == ROWS,
                Scanned::MostOf => scanned > ROWS / 2 && scanned < ROWS,
            };
            assert!(as_expected, "{sql}: {scanned} rows scanned");
            ctx.sql("SET flint.optimizer.runtime_filter = false")
                .unwrap()
                .collect()
                .unwrap();
            let (without, scanned) = run(&ctx, sql);
            ctx.sql("SET flint.optimizer.runtime_filter = true")
                .unwrap()
                .collect()
                .unwrap();
            assert_eq!(with, without, "{sql}");
            assert_eq!(scanned, ROWS, "{sql}");
        }
    }
}
