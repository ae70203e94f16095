//! Physical plans: operators over record batches, with exchanges as
//! explicit nodes. Narrow operators between two exchanges pipeline inside
//! one stage; every exchange is a shuffle and so a stage boundary.

use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow::compute::SortOptions;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use datafusion_common::{JoinType, TableReference};

use super::aggregate::{AggregateMode, AggregateSpec};
use super::expr::PhysicalExprRef;
use crate::datasource::{ScanMetrics, ScanPredicate, TableProvider};
use crate::logical::{Expr, join_type_name};

/// Rows, batches and time of one operator, filled while it runs.
#[derive(Debug, Default)]
pub struct OperatorMetrics {
    /// Rows produced.
    pub rows: AtomicU64,
    /// Batches produced.
    pub batches: AtomicU64,
    /// Nanoseconds spent producing them (including inputs in the same stage).
    pub nanos: AtomicU64,
}

impl OperatorMetrics {
    /// `rows=.. batches=.. time=..ms`
    pub fn summary(&self) -> String {
        format!(
            "rows={} batches={} time={:.1}ms",
            self.rows.load(Ordering::Relaxed),
            self.batches.load(Ordering::Relaxed),
            self.nanos.load(Ordering::Relaxed) as f64 / 1e6
        )
    }
}

/// How an exchange redistributes rows.
#[derive(Clone, Debug)]
pub enum Partitioning {
    /// By hash of the key expressions into `n` partitions.
    Hash(Vec<PhysicalExprRef>, usize),
    /// By ranges of the sort keys into `n` ordered partitions.
    Range(Vec<SortKey>, usize),
    /// Everything into one partition.
    Single,
}

/// A way a plan's output is clustered (see [`PhysicalPlan::clustering`]):
/// rows agreeing on `cols` are in the same partition.
#[derive(Clone, Debug, PartialEq)]
pub struct Clustering {
    /// Output column positions.
    pub cols: Vec<usize>,
    /// `Some(n)`: by an exchange hashing `cols` into `n` partitions, so
    /// another input exchanged the same way lines up with it partition by
    /// partition. `None`: only each value's rows are known to share one
    /// partition, by no rule another input could follow.
    pub hash: Option<usize>,
}

/// A physical sort key.
#[derive(Clone, Debug)]
pub struct SortKey {
    /// The key.
    pub expr: PhysicalExprRef,
    /// Direction and NULL placement.
    pub options: SortOptions,
}

/// An aggregate call bound to its input.
#[derive(Clone, Debug)]
pub struct AggregateCall {
    /// Function, distinctness and types.
    pub spec: AggregateSpec,
    /// Argument expressions (empty for `count(*)`).
    pub args: Vec<PhysicalExprRef>,
    /// `FILTER (WHERE ..)`
    pub filter: Option<PhysicalExprRef>,
}

/// Whether a hash join broadcasts its build side or partitions both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinDistribution {
    /// The build (right) side is collected once and shared by every task.
    Broadcast,
    /// Both sides are hash-exchanged on the join keys; partition `i` of
    /// the left joins partition `i` of the right.
    Partitioned,
}

/// A physical operator.
#[derive(Debug)]
pub enum PhysicalPlan {
    /// Reads a table.
    Scan {
        /// Table name, for display.
        table: TableReference,
        /// The table.
        source: Arc<dyn TableProvider>,
        /// Columns read.
        projection: Option<Vec<usize>>,
        /// Pruning predicates over the table's columns.
        filters: Vec<Expr>,
        /// Conjuncts the scan applies itself (see
        /// [`TableProvider::supports_predicates`]).
        predicate: Option<ScanPredicate>,
        /// Row limit hint.
        fetch: Option<usize>,
        /// Filled while scanning.
        scan_metrics: Arc<ScanMetrics>,
        /// Output schema.
        schema: SchemaRef,
    },
    /// Constant rows.
    Values {
        /// The rows.
        batches: Vec<RecordBatch>,
        /// Output schema.
        schema: SchemaRef,
    },
    /// Keeps rows where the predicate is true.
    Filter {
        /// Boolean predicate.
        predicate: PhysicalExprRef,
        /// The predicate's `AND`ed parts, cheapest first: each is evaluated
        /// only on the rows the earlier ones kept.
        conjuncts: Vec<PhysicalExprRef>,
        /// Input.
        input: Box<PhysicalPlan>,
    },
    /// Computes expressions.
    Projection {
        /// One per output column.
        exprs: Vec<PhysicalExprRef>,
        /// Input.
        input: Box<PhysicalPlan>,
        /// Output schema.
        schema: SchemaRef,
    },
    /// Hash aggregation.
    Aggregate {
        /// Partial, final or single phase.
        mode: AggregateMode,
        /// Grouping keys.
        groups: Vec<PhysicalExprRef>,
        /// Aggregates.
        aggregates: Vec<AggregateCall>,
        /// Input.
        input: Box<PhysicalPlan>,
        /// Output schema.
        schema: SchemaRef,
    },
    /// Redistributes rows between partitions (a shuffle).
    Exchange {
        /// How.
        partitioning: Partitioning,
        /// Input.
        input: Box<PhysicalPlan>,
    },
    /// Equi-join with a hash table on the right (build) side.
    HashJoin {
        /// Probe side.
        left: Box<PhysicalPlan>,
        /// Build side.
        right: Box<PhysicalPlan>,
        /// Key pairs (left expr, right expr).
        on: Vec<(PhysicalExprRef, PhysicalExprRef)>,
        /// Residual condition over left ++ right columns.
        filter: Option<PhysicalExprRef>,
        /// Join type (left = probe).
        join_type: JoinType,
        /// Broadcast or partitioned.
        distribution: JoinDistribution,
        /// NULL keys match each other.
        null_equals_null: bool,
        /// `NOT IN` semantics for anti joins.
        null_aware: bool,
        /// The probe side is filtered by the build side's keys: by the
        /// Parquet scan it comes from where it can (see
        /// [`probe_scan`](super::probe_scan)), and for partitioned joins
        /// also before it is shuffled (see `KeyFilter`).
        runtime_filter: bool,
        /// The joined columns (left then right, as
        /// [`join_output_schema`](super::join::join_output_schema) lays
        /// them out) that are output, in order; `None` outputs all.
        projection: Option<Vec<usize>>,
        /// Output schema (after `projection`).
        schema: SchemaRef,
    },
    /// Join without equi-keys: every left row against the collected right.
    NestedLoopJoin {
        /// Left input.
        left: Box<PhysicalPlan>,
        /// Right input (collected).
        right: Box<PhysicalPlan>,
        /// Condition over left ++ right columns.
        filter: Option<PhysicalExprRef>,
        /// Join type.
        join_type: JoinType,
        /// Output schema.
        schema: SchemaRef,
    },
    /// Sorts each partition (globally sorted after a range or single
    /// exchange); with `fetch`, keeps the first rows only (top-k).
    Sort {
        /// Keys.
        keys: Vec<SortKey>,
        /// Top-k.
        fetch: Option<usize>,
        /// Input.
        input: Box<PhysicalPlan>,
    },
    /// Skips and limits rows of each partition (global after a single
    /// exchange).
    Limit {
        /// Rows to skip.
        skip: usize,
        /// Rows to keep.
        fetch: Option<usize>,
        /// Input.
        input: Box<PhysicalPlan>,
    },
    /// Partitions of all inputs.
    Union {
        /// Inputs.
        inputs: Vec<PhysicalPlan>,
        /// Output schema.
        schema: SchemaRef,
    },
    /// Records rows/batches/time of its input (for `EXPLAIN ANALYZE`).
    Metered {
        /// The measured operator.
        input: Box<PhysicalPlan>,
        /// Where counts go.
        metrics: Arc<OperatorMetrics>,
    },
}

impl PhysicalPlan {
    /// Output schema.
    pub fn schema(&self) -> SchemaRef {
        match self {
            PhysicalPlan::Scan { schema, .. }
            | PhysicalPlan::Values { schema, .. }
            | PhysicalPlan::Projection { schema, .. }
            | PhysicalPlan::Aggregate { schema, .. }
            | PhysicalPlan::HashJoin { schema, .. }
            | PhysicalPlan::NestedLoopJoin { schema, .. }
            | PhysicalPlan::Union { schema, .. } => Arc::clone(schema),
            PhysicalPlan::Filter { input, .. }
            | PhysicalPlan::Exchange { input, .. }
            | PhysicalPlan::Sort { input, .. }
            | PhysicalPlan::Limit { input, .. }
            | PhysicalPlan::Metered { input, .. } => input.schema(),
        }
    }

    /// Direct inputs.
    pub fn children(&self) -> Vec<&PhysicalPlan> {
        match self {
            PhysicalPlan::Scan { .. } | PhysicalPlan::Values { .. } => vec![],
            PhysicalPlan::Filter { input, .. }
            | PhysicalPlan::Projection { input, .. }
            | PhysicalPlan::Aggregate { input, .. }
            | PhysicalPlan::Exchange { input, .. }
            | PhysicalPlan::Sort { input, .. }
            | PhysicalPlan::Limit { input, .. }
            | PhysicalPlan::Metered { input, .. } => vec![input],
            PhysicalPlan::HashJoin { left, right, .. } | PhysicalPlan::NestedLoopJoin { left, right, .. } => {
                vec![left, right]
            }
            PhysicalPlan::Union { inputs, .. } => inputs.iter().collect(),
        }
    }

    /// The ways this plan's output is known to be clustered: each entry is
    /// a set of output columns such that rows agreeing on them are in the
    /// same partition. Exchanges on plain columns count (hash clustering),
    /// and scans of tables that report a column's values never span two
    /// partitions (see [`TableProvider::clustered_columns`]); both are
    /// followed through operators that keep rows in their partition and
    /// the columns findable.
    pub fn clustering(&self) -> Vec<Clustering> {
        /// `keys` with each column renamed by `to`; dropped when one is lost.
        fn remap(keys: Vec<Clustering>, to: impl Fn(usize) -> Option<usize>) -> Vec<Clustering> {
            keys.into_iter()
                .filter_map(|c| {
                    Some(Clustering {
                        cols: c.cols.into_iter().map(&to).collect::<Option<Vec<_>>>()?,
                        hash: c.hash,
                    })
                })
                .collect()
        }
        let position = |exprs: &[PhysicalExprRef], i: usize| exprs.iter().position(|e| e.column_index() == Some(i));
        match self {
            PhysicalPlan::Exchange {
                partitioning: Partitioning::Hash(keys, n),
                ..
            } => keys
                .iter()
                .map(|k| k.column_index())
                .collect::<Option<Vec<_>>>()
                .map(|cols| vec![Clustering { cols, hash: Some(*n) }])
                .unwrap_or_default(),
            PhysicalPlan::Scan { source, projection, .. } => {
                let clustered = source.clustered_columns();
                let table_columns: Vec<usize> = match projection {
                    Some(p) => p.clone(),
                    None => (0..source.schema().fields().len()).collect(),
                };
                table_columns
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| clustered.contains(c))
                    .map(|(i, _)| Clustering {
                        cols: vec![i],
                        hash: None,
                    })
                    .collect()
            }
            PhysicalPlan::Filter { input, .. } | PhysicalPlan::Metered { input, .. } => input.clustering(),
            PhysicalPlan::Projection { exprs, input, .. } => remap(input.clustering(), |i| position(exprs, i)),
            PhysicalPlan::Aggregate { groups, input, .. } => remap(input.clustering(), |i| position(groups, i)),
            PhysicalPlan::HashJoin {
                left,
                join_type,
                distribution,
                projection,
                right,
                on,
                ..
            } => {
                let out = |full: usize| match projection {
                    Some(p) => p.iter().position(|&j| j == full),
                    None => Some(full),
                };
                // A side's partitions are the output's when its rows stay in
                // their partition and unmatched rows of the other side never
                // bring NULLs into its columns.
                let partitioned = *distribution == JoinDistribution::Partitioned;
                let (from_left, from_right) = match join_type {
                    JoinType::Inner => (true, partitioned),
                    JoinType::Left | JoinType::LeftSemi | JoinType::LeftAnti | JoinType::LeftMark => (true, false),
                    JoinType::Right | JoinType::RightSemi | JoinType::RightAnti => (false, partitioned),
                    JoinType::Full | JoinType::RightMark => (false, false),
                };
                let right_offset = match join_type {
                    JoinType::RightSemi | JoinType::RightAnti => 0,
                    _ => left.schema().fields().len(),
                };
                // An inner join's output has equal values in the two key
                // columns of a pair: when one side is clustered on its key,
                // the output is on the other side's key too (a value
                // clustering only, as the two may hash differently).
                let pairs: Vec<(usize, usize)> = match join_type {
                    JoinType::Inner => on
                        .iter()
                        .filter_map(|(l, r)| Some((l.column_index()?, right_offset + r.column_index()?)))
                        .collect(),
                    _ => vec![],
                };
                let equal = |side: &[Clustering], of: &dyn Fn(usize) -> Option<usize>| {
                    side.iter()
                        .filter_map(|c| match c.cols[..] {
                            [col] => of(col),
                            _ => None,
                        })
                        .filter_map(&out)
                        .map(|col| Clustering {
                            cols: vec![col],
                            hash: None,
                        })
                        .collect::<Vec<_>>()
                };
                let mut keys = vec![];
                if from_left {
                    let side = left.clustering();
                    keys.extend(equal(&side, &|c| pairs.iter().find(|p| p.0 == c).map(|p| p.1)));
                    keys.extend(remap(side, out));
                }
                if from_right {
                    let side = remap(right.clustering(), |i| Some(right_offset + i));
                    keys.extend(equal(&side, &|c| pairs.iter().find(|p| p.1 == c).map(|p| p.0)));
                    keys.extend(remap(side, out));
                }
                keys
            }
            PhysicalPlan::Values { .. }
            | PhysicalPlan::Exchange { .. }
            | PhysicalPlan::Sort { .. }
            | PhysicalPlan::Limit { .. }
            | PhysicalPlan::NestedLoopJoin { .. }
            | PhysicalPlan::Union { .. } => vec![],
        }
    }

    fn line(&self) -> String {
        let list = |v: &[PhysicalExprRef]| v.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(", ");
        match self {
            PhysicalPlan::Scan {
                table,
                source,
                filters,
                predicate,
                fetch,
                schema,
                ..
            } => {
                let cols: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                let mut s = format!("Scan: {} {table} [{}]", source.kind(), cols.join(", "));
                if let Some(p) = predicate {
                    let _ = write!(s, " predicate=[{}]", p.text.join(", "));
                }
                if !filters.is_empty() {
                    let f: Vec<String> = filters.iter().map(|f| f.to_string()).collect();
                    let _ = write!(s, " pruning=[{}]", f.join(", "));
                }
                if let Some(n) = fetch {
                    let _ = write!(s, " fetch={n}");
                }
                s
            }
            PhysicalPlan::Values { batches, .. } => {
                format!("Values: {} rows", batches.iter().map(|b| b.num_rows()).sum::<usize>())
            }
            PhysicalPlan::Filter { predicate, .. } => format!("Filter: {predicate}"),
            PhysicalPlan::Projection { exprs, schema, .. } => {
                let items: Vec<String> = exprs
                    .iter()
                    .zip(schema.fields())
                    .map(|(e, f)| {
                        let s = e.to_string();
                        // `name@3` needs no `AS name`.
                        let same = s
                            .rsplit_once('@')
                            .is_some_and(|(n, i)| n == f.name() && i.chars().all(|c| c.is_ascii_digit()));
                        if s == *f.name() || same {
                            s
                        } else {
                            format!("{s} AS {}", f.name())
                        }
                    })
                    .collect();
                format!("Projection: {}", items.join(", "))
            }
            PhysicalPlan::Aggregate {
                mode,
                groups,
                aggregates,
                ..
            } => {
                let aggs: Vec<String> = aggregates
                    .iter()
                    .map(|a| {
                        format!(
                            "{}({}{})",
                            a.spec.func,
                            if a.spec.distinct { "DISTINCT " } else { "" },
                            if a.args.is_empty() {
                                "*".to_string()
                            } else {
                                list(&a.args)
                            }
                        )
                    })
                    .collect();
                format!(
                    "HashAggregate({mode:?}): groupBy=[{}], aggr=[{}]",
                    list(groups),
                    aggs.join(", ")
                )
            }
            PhysicalPlan::Exchange { partitioning, .. } => match partitioning {
                Partitioning::Hash(keys, n) => format!("Exchange: hash({}) x{n}", list(keys)),
                Partitioning::Range(keys, n) => {
                    let k: Vec<String> = keys
                        .iter()
                        .map(|k| format!("{}{}", k.expr, if k.options.descending { " DESC" } else { "" }))
                        .collect();
                    format!("Exchange: range({}) x{n}", k.join(", "))
                }
                Partitioning::Single => "Exchange: single x1".to_string(),
            },
            PhysicalPlan::HashJoin {
                on,
                filter,
                join_type,
                distribution,
                projection,
                schema,
                runtime_filter,
                ..
            } => {
                let keys: Vec<String> = on.iter().map(|(l, r)| format!("{l} = {r}")).collect();
                let mut s = format!(
                    "HashJoin({}, {}): on=[{}]",
                    join_type_name(*join_type),
                    match distribution {
                        JoinDistribution::Broadcast => "broadcast",
                        JoinDistribution::Partitioned => "partitioned",
                    },
                    keys.join(", ")
                );
                if let Some(f) = filter {
                    let _ = write!(s, " filter={f}");
                }
                if *runtime_filter {
                    s.push_str(" runtime_filter");
                }
                if projection.is_some() {
                    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                    let _ = write!(s, " output=[{}]", names.join(", "));
                }
                s
            }
            PhysicalPlan::NestedLoopJoin { filter, join_type, .. } => {
                let mut s = format!("NestedLoopJoin({}, broadcast)", join_type_name(*join_type));
                if let Some(f) = filter {
                    let _ = write!(s, ": filter={f}");
                }
                s
            }
            PhysicalPlan::Sort { keys, fetch, .. } => {
                let k: Vec<String> = keys
                    .iter()
                    .map(|k| {
                        format!(
                            "{} {}{}",
                            k.expr,
                            if k.options.descending { "DESC" } else { "ASC" },
                            if k.options.nulls_first { " NULLS FIRST" } else { "" }
                        )
                    })
                    .collect();
                match fetch {
                    Some(n) => format!("TopK: [{}] k={n}", k.join(", ")),
                    None => format!("Sort: [{}]", k.join(", ")),
                }
            }
            PhysicalPlan::Limit { skip, fetch, .. } => format!(
                "Limit: skip={skip} fetch={}",
                fetch.map_or("None".to_string(), |f| f.to_string())
            ),
            PhysicalPlan::Union { inputs, .. } => format!("Union: {} inputs", inputs.len()),
            PhysicalPlan::Metered { input, .. } => input.line(),
        }
    }

    /// A description of this subtree that two subtrees share only when they
    /// compute the same rows, so that an exchange a query computes twice (a
    /// CTE read twice, TPC-H q15) runs once: every node's line, output
    /// types and the fields its line leaves out, and which table object
    /// each scan reads. `None` when subtrees cannot be compared this way:
    /// constant rows (their line shows only a count) and `random()`, whose
    /// every evaluation differs.
    pub fn fingerprint(&self) -> Option<String> {
        let mut out = String::new();
        let mut stack = vec![self];
        while let Some(node) = stack.pop() {
            let line = node.line();
            if line.contains("random(") {
                return None;
            }
            let _ = write!(out, "{line} ->");
            for f in node.schema().fields() {
                let _ = write!(out, " {}:{}", f.name(), f.data_type());
            }
            match node {
                PhysicalPlan::Values { .. } => return None,
                PhysicalPlan::Scan { source, projection, .. } => {
                    let _ = write!(out, " table@{:p} {projection:?}", Arc::as_ptr(source));
                }
                PhysicalPlan::Aggregate { aggregates, .. } => {
                    for a in aggregates {
                        let _ = write!(out, " filter={:?}", a.filter.as_ref().map(|f| f.to_string()));
                    }
                }
                PhysicalPlan::HashJoin {
                    null_equals_null,
                    null_aware,
                    projection,
                    runtime_filter,
                    ..
                } => {
                    let _ = write!(
                        out,
                        " nulls={null_equals_null},{null_aware},{runtime_filter} {projection:?}"
                    );
                }
                PhysicalPlan::Exchange {
                    partitioning: Partitioning::Range(keys, _),
                    ..
                }
                | PhysicalPlan::Sort { keys, .. } => {
                    for k in keys {
                        let _ = write!(out, " {:?}", k.options);
                    }
                }
                _ => {}
            }
            out.push('\n');
            stack.extend(node.children());
        }
        Some(out)
    }

    /// The plan as text, grouped into stages: each exchange ends the stage
    /// above it; with `analyze`, each operator shows what it did.
    pub fn display_stages(&self, analyze: bool) -> String {
        let mut out = String::new();
        let mut stage_counter = 0usize;
        let mut stack: Vec<(&PhysicalPlan, usize)> = vec![(self, 0)];
        let _ = writeln!(out, "Stage {stage_counter} (result)");
        while let Some((plan, depth)) = stack.pop() {
            let (node, metrics) = match plan {
                PhysicalPlan::Metered { input, metrics } => (input.as_ref(), Some(metrics)),
                other => (other, None),
            };
            let mut line = format!("{}{}", "  ".repeat(depth + 1), node.line());
            if analyze {
                if let Some(m) = metrics {
                    let _ = write!(line, "  [{}]", m.summary());
                }
                if let PhysicalPlan::Scan { scan_metrics, .. } = node {
                    let _ = write!(
                        line,
                        "  [row_groups={}/{} read, bytes={}]",
                        scan_metrics.row_groups_read.load(Ordering::Relaxed),
                        scan_metrics.row_groups_total.load(Ordering::Relaxed),
                        scan_metrics.bytes_read.load(Ordering::Relaxed)
                    );
                }
            }
            let _ = writeln!(out, "{line}");
            if let PhysicalPlan::Exchange { input, .. } = node {
                stage_counter += 1;
                let _ = writeln!(
                    out,
                    "{}-- Stage {stage_counter} (shuffle map) --",
                    "  ".repeat(depth + 2)
                );
                stack.push((input, depth + 1));
                continue;
            }
            for child in node.children().into_iter().rev() {
                stack.push((child, depth + 1));
            }
        }
        out.pop();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SessionContext;

    /// The fingerprints of the exchanges in `sql`'s physical plan.
    fn exchanges(ctx: &SessionContext, sql: &str) -> Vec<Option<String>> {
        let plan = ctx.sql(sql).unwrap().physical_plan().unwrap();
        let mut out = vec![];
        let mut stack = vec![&plan];
        while let Some(p) = stack.pop() {
            if matches!(p, PhysicalPlan::Exchange { .. }) {
                out.push(p.fingerprint());
            }
            stack.extend(p.children());
        }
        out
    }

    #[test]
    fn a_subquery_computed_twice_fingerprints_alike() {
        let ctx = SessionContext::new();
        ctx.sql("CREATE TABLE t (k INT, v INT)").unwrap().collect().unwrap();
        ctx.sql("CREATE TABLE u (k INT, v INT)").unwrap().collect().unwrap();
        let same = |sql: &str| {
            let f = exchanges(&ctx, sql);
            f.iter()
                .flatten()
                .any(|a| f.iter().flatten().filter(|b| *b == a).count() > 1)
        };
        let cte = "WITH s AS (SELECT k, sum(v) AS total FROM t WHERE v > 1 GROUP BY k) \
                   SELECT k FROM s WHERE total = (SELECT max(total) FROM s)";
        assert!(same(cte));
        // Another filter, another table or random() computes other rows.
        assert!(!same(
            "SELECT k FROM (SELECT k, sum(v) AS total FROM t WHERE v > 1 GROUP BY k) a \
             WHERE total = (SELECT max(total) FROM (SELECT k, sum(v) AS total FROM t WHERE v > 2 GROUP BY k) b)"
        ));
        assert!(!same(
            "SELECT k FROM (SELECT k, sum(v) AS total FROM t GROUP BY k) a \
             WHERE total = (SELECT max(total) FROM (SELECT k, sum(v) AS total FROM u GROUP BY k) b)"
        ));
        assert!(!same(
            "WITH s AS (SELECT k, sum(v + random()) AS total FROM t GROUP BY k) \
             SELECT k FROM s WHERE total = (SELECT max(total) FROM s)"
        ));
    }
}
