//! Lowering logical plans to physical plans: two-phase aggregation around a
//! hash exchange, broadcast or partitioned hash joins, range or single
//! exchanges for global sorts, top-k for `ORDER BY .. LIMIT`.

use std::sync::Arc;

use arrow::array::RecordBatchOptions;
use arrow::compute::SortOptions;
use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use datafusion_common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion_common::{DFSchema, JoinType, ScalarValue};

use super::aggregate::{AggregateMode, AggregateSpec};
use super::expr::{ColumnExpr, PhysicalExprRef, create_physical_expr, evaluate_constant};
use super::plan::{AggregateCall, JoinDistribution, OperatorMetrics, Partitioning, PhysicalPlan, SortKey};
use super::probe_scan::probe_scan_path;
use crate::config::SqlSettings;
use crate::datasource::ScanPredicate;
use crate::error::Result;
use crate::logical::coercion::common_type;
use crate::logical::stats::{base_rows, estimate_bytes, estimate_rows};
use crate::logical::{Expr, ExprSchema, LogicalPlan, TableScan, conjunction, join_schema};
use crate::optimizer::{BROADCAST_JOIN, RUNTIME_FILTER, SWAP_OUTER_JOIN, SWAP_SEMI_JOIN};
use crate::{internal_err, not_supported};

/// Rows below which a global sort gathers into one partition instead of
/// sampling range bounds.
const RANGE_SORT_MIN_ROWS: f64 = 1_000_000.0;

/// A `LIMIT` at least this large (and a large input) sorts by range
/// partitions in parallel instead of one top-k gathering every partition's
/// best rows into one task: a top-k buffers `2k` rows and sorts them alone.
const TOP_K_MAX_ROWS: usize = 100_000;

/// Turns logical plans into physical plans under the session's settings.
pub struct PhysicalPlanner<'a> {
    settings: &'a SqlSettings,
}

fn arrow_schema(s: &DFSchema) -> SchemaRef {
    Arc::new(Schema::new(
        s.fields().iter().map(|f| f.as_ref().clone()).collect::<Vec<Field>>(),
    ))
}

fn metered(p: PhysicalPlan) -> PhysicalPlan {
    PhysicalPlan::Metered {
        input: Box::new(p),
        metrics: Arc::new(OperatorMetrics::default()),
    }
}

/// Column `i` of `schema`, by position (names may repeat).
fn column(i: usize, schema: &SchemaRef) -> Result<PhysicalExprRef> {
    let f = schema.field(i);
    Ok(Arc::new(ColumnExpr::new(f.name(), i, f.data_type().clone())))
}

/// The largest share of a table's rows a filter may keep for the scan to
/// evaluate it (see [`late_materialize`]).
const LATE_MATERIALIZE_MAX_KEPT: f64 = 0.03;

/// The physical scan of `s`, applying `predicate` itself.
fn scan(s: &TableScan, predicate: Option<ScanPredicate>) -> PhysicalPlan {
    PhysicalPlan::Scan {
        table: s.table_name.clone(),
        source: Arc::clone(&s.source),
        projection: s.projection.clone(),
        filters: s.filters.clone(),
        predicate,
        fetch: s.fetch,
        scan_metrics: Default::default(),
        schema: arrow_schema(&s.schema),
    }
}

/// Whether a filter over scan `s` goes into the scan, which then decodes
/// the columns the filter does not read only for the rows it keeps: when
/// the table can, and its sample says the pruning predicates keep few
/// rows. Skipping the rows that fail costs more than decoding them once
/// more than a few in a hundred pass (measured on TPC-H `lineitem`: a
/// filter keeping 1.3% made the scan 35% faster, one keeping 15% made it
/// slower).
fn late_materialize(s: &TableScan) -> bool {
    s.source.supports_predicates()
        && s.fetch.is_none()
        && !s.filters.is_empty()
        && s.source
            .filter_selectivity(&s.filters)
            .is_some_and(|kept| kept <= LATE_MATERIALIZE_MAX_KEPT)
}

/// Splits filter conjuncts over scan `s` into those the scan evaluates,
/// bound to just the columns they read, and those left to a filter above:
/// from the first conjunct that reads no column of the scan on, so that
/// each conjunct still sees only the rows earlier ones kept.
fn scan_predicate(s: &TableScan, mut parts: Vec<Expr>) -> Result<(Option<ScanPredicate>, Vec<Expr>)> {
    let mut positions = Vec::new();
    let mut pushed = 0;
    for e in &parts {
        match scan_columns(s, e)? {
            Some(reads) => positions.extend(reads),
            None => break,
        }
        pushed += 1;
    }
    let kept = parts.split_off(pushed);
    if parts.is_empty() {
        return Ok((None, kept));
    }
    let table_column = |i: usize| s.projection.as_ref().map_or(i, |p| p[i]);
    positions.sort_by_key(|&i| table_column(i));
    positions.dedup_by_key(|i| table_column(*i));
    let fields = positions
        .iter()
        .map(|&i| {
            let (q, f) = s.schema.qualified_field(i);
            (q.cloned(), Arc::clone(f))
        })
        .collect();
    let columns = DFSchema::new_with_metadata(fields, Default::default())?;
    let predicate = ScanPredicate {
        columns: positions.iter().map(|&i| table_column(i)).collect(),
        conjuncts: parts
            .iter()
            .map(|e| create_physical_expr(e, &columns))
            .collect::<Result<_>>()?,
        text: parts.iter().map(|e| e.to_string()).collect(),
        judge: None,
    };
    Ok((Some(predicate), kept))
}

/// The positions in scan `s`'s output of the columns `e` reads; `None` when
/// it reads none, or one the scan does not have.
fn scan_columns(s: &TableScan, e: &Expr) -> Result<Option<Vec<usize>>> {
    let mut reads = Some(Vec::new());
    e.apply(|x| {
        if let Expr::Column(c) = x {
            match (s.schema.index_of_column(c), reads.as_mut()) {
                (Ok(i), Some(r)) => r.push(i),
                _ => reads = None,
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(reads.filter(|r| !r.is_empty()))
}

/// True when the plan's output is known to be one partition.
pub fn single_partition(p: &PhysicalPlan) -> bool {
    match p {
        PhysicalPlan::Exchange { partitioning, .. } => matches!(partitioning, Partitioning::Single),
        PhysicalPlan::Values { .. } => true,
        PhysicalPlan::Filter { input, .. }
        | PhysicalPlan::Projection { input, .. }
        | PhysicalPlan::Sort { input, .. }
        | PhysicalPlan::Limit { input, .. }
        | PhysicalPlan::Metered { input, .. } => single_partition(input),
        PhysicalPlan::Aggregate { mode, input, .. } => *mode != AggregateMode::Partial && single_partition(input),
        _ => false,
    }
}

impl<'a> PhysicalPlanner<'a> {
    /// A planner using `settings`.
    pub fn new(settings: &'a SqlSettings) -> Self {
        Self { settings }
    }

    /// Plans `plan`.
    pub fn plan(&self, plan: &LogicalPlan) -> Result<PhysicalPlan> {
        Ok(metered(self.plan_node(plan)?))
    }

    fn partitions(&self) -> usize {
        self.settings.shuffle_partitions.max(1)
    }

    fn plan_node(&self, plan: &LogicalPlan) -> Result<PhysicalPlan> {
        Ok(match plan {
            LogicalPlan::TableScan(s) => scan(s, None),
            LogicalPlan::Projection(p) => {
                let input = self.plan(&p.input)?;
                let exprs = p
                    .exprs
                    .iter()
                    .map(|e| create_physical_expr(e, p.input.schema()))
                    .collect::<Result<Vec<_>>>()?;
                project(input, p, exprs, arrow_schema(&p.schema))
            }
            LogicalPlan::Filter(f) => {
                let mut parts = f.predicate.clone().split_conjunction();
                // Fewer expression nodes first: a cheap test shrinks the
                // batch before an expensive one (an OR of casts) sees it.
                parts.sort_by_cached_key(expr_size);
                let (input, predicate, parts) = match f.input.as_ref() {
                    LogicalPlan::TableScan(s) if late_materialize(s) => {
                        let (pushed, kept) = scan_predicate(s, parts)?;
                        let Some(rest) = conjunction(kept.iter().cloned()) else {
                            return Ok(scan(s, pushed));
                        };
                        (metered(scan(s, pushed)), rest, kept)
                    }
                    _ => (self.plan(&f.input)?, f.predicate.clone(), parts),
                };
                PhysicalPlan::Filter {
                    predicate: create_physical_expr(&predicate, f.input.schema())?,
                    conjuncts: parts
                        .iter()
                        .map(|e| create_physical_expr(e, f.input.schema()))
                        .collect::<Result<_>>()?,
                    input: Box::new(input),
                }
            }
            LogicalPlan::SubqueryAlias(a) => self.plan_node(&a.input)?,
            LogicalPlan::Aggregate(a) => self.plan_aggregate(a)?,
            LogicalPlan::Sort(s) => {
                let input = self.plan(&s.input)?;
                let keys = s
                    .exprs
                    .iter()
                    .map(|k| {
                        Ok(SortKey {
                            expr: create_physical_expr(&k.expr, s.input.schema())?,
                            options: SortOptions {
                                descending: !k.asc,
                                nulls_first: k.nulls_first,
                            },
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                self.plan_sort(input, keys, s.fetch, estimate_rows(&s.input))
            }
            LogicalPlan::Limit(l) => {
                let input = self.plan(&l.input)?;
                if single_partition(&input) {
                    PhysicalPlan::Limit {
                        skip: l.skip,
                        fetch: l.fetch,
                        input: Box::new(input),
                    }
                } else {
                    let local = match l.fetch {
                        Some(f) => metered(PhysicalPlan::Limit {
                            skip: 0,
                            fetch: Some(l.skip + f),
                            input: Box::new(input),
                        }),
                        None => input,
                    };
                    PhysicalPlan::Limit {
                        skip: l.skip,
                        fetch: l.fetch,
                        input: Box::new(PhysicalPlan::Exchange {
                            partitioning: Partitioning::Single,
                            input: Box::new(local),
                        }),
                    }
                }
            }
            LogicalPlan::Join(j) => self.plan_join(j)?,
            LogicalPlan::Union(u) => PhysicalPlan::Union {
                inputs: u.inputs.iter().map(|i| self.plan(i)).collect::<Result<_>>()?,
                schema: arrow_schema(&u.schema),
            },
            LogicalPlan::Values(v) => {
                let schema = arrow_schema(&v.schema);
                let mut columns = Vec::new();
                for (c, field) in schema.fields().iter().enumerate() {
                    let mut scalars = Vec::new();
                    for row in &v.values {
                        match evaluate_constant(&row[c])? {
                            Some(s) => scalars.push(s.cast_to(field.data_type())?),
                            None => not_supported!("non-constant expressions in VALUES"),
                        }
                    }
                    columns.push(ScalarValue::iter_to_array(scalars)?);
                }
                PhysicalPlan::Values {
                    batches: vec![RecordBatch::try_new(Arc::clone(&schema), columns)?],
                    schema,
                }
            }
            LogicalPlan::EmptyRelation(e) => {
                let schema = arrow_schema(&e.schema);
                let rows = usize::from(e.produce_one_row);
                let batch = if schema.fields().is_empty() {
                    RecordBatch::try_new_with_options(
                        Arc::clone(&schema),
                        vec![],
                        &RecordBatchOptions::new().with_row_count(Some(rows)),
                    )?
                } else {
                    RecordBatch::new_empty(Arc::clone(&schema))
                };
                PhysicalPlan::Values {
                    batches: vec![batch],
                    schema,
                }
            }
        })
    }

    fn plan_sort(&self, input: PhysicalPlan, keys: Vec<SortKey>, fetch: Option<usize>, rows: f64) -> PhysicalPlan {
        if single_partition(&input) {
            return PhysicalPlan::Sort {
                keys,
                fetch,
                input: Box::new(input),
            };
        }
        let parallel = rows >= RANGE_SORT_MIN_ROWS && self.partitions() > 1;
        if let Some(k) = fetch.filter(|&k| k >= TOP_K_MAX_ROWS && parallel) {
            // Each range partition keeps its best `k`; concatenated in range
            // order, the first `k` rows are the answer.
            let sorted = PhysicalPlan::Sort {
                keys: keys.clone(),
                fetch,
                input: Box::new(PhysicalPlan::Exchange {
                    partitioning: Partitioning::Range(keys, self.partitions()),
                    input: Box::new(input),
                }),
            };
            return PhysicalPlan::Limit {
                skip: 0,
                fetch: Some(k),
                input: Box::new(PhysicalPlan::Exchange {
                    partitioning: Partitioning::Single,
                    input: Box::new(sorted),
                }),
            };
        }
        if fetch.is_some() {
            // Top-k per partition, then top-k of the survivors.
            let local = metered(PhysicalPlan::Sort {
                keys: keys.clone(),
                fetch,
                input: Box::new(input),
            });
            return PhysicalPlan::Sort {
                keys,
                fetch,
                input: Box::new(PhysicalPlan::Exchange {
                    partitioning: Partitioning::Single,
                    input: Box::new(local),
                }),
            };
        }
        let partitioning = if parallel {
            Partitioning::Range(keys.clone(), self.partitions())
        } else {
            Partitioning::Single
        };
        PhysicalPlan::Sort {
            keys,
            fetch: None,
            input: Box::new(PhysicalPlan::Exchange {
                partitioning,
                input: Box::new(input),
            }),
        }
    }

    fn plan_aggregate(&self, a: &crate::logical::Aggregate) -> Result<PhysicalPlan> {
        let in_schema = a.input.schema();
        let input = self.plan(&a.input)?;
        let groups = a
            .group_expr
            .iter()
            .map(|g| create_physical_expr(g, in_schema))
            .collect::<Result<Vec<_>>>()?;
        let mut calls = Vec::new();
        for e in &a.aggr_expr {
            let Expr::Aggregate(call) = e.unalias() else {
                internal_err!("{e} in an aggregate is not an aggregate call");
            };
            let input_type = call.args.first().map(|x| x.get_type(in_schema)).transpose()?;
            calls.push(AggregateCall {
                spec: AggregateSpec::try_new(call.func, call.distinct, input_type)?,
                args: call
                    .args
                    .iter()
                    .map(|x| create_physical_expr(x, in_schema))
                    .collect::<Result<_>>()?,
                filter: call
                    .filter
                    .as_ref()
                    .map(|f| create_physical_expr(f, in_schema))
                    .transpose()?,
            });
        }
        let out_schema = arrow_schema(&a.schema);
        let n_groups = groups.len();
        let exchange = |input: PhysicalPlan, keys: Vec<PhysicalExprRef>| {
            if keys.is_empty() {
                PhysicalPlan::Exchange {
                    partitioning: Partitioning::Single,
                    input: Box::new(input),
                }
            } else {
                PhysicalPlan::Exchange {
                    partitioning: Partitioning::Hash(keys, self.partitions()),
                    input: Box::new(input),
                }
            }
        };
        // Input clustered on some of the group columns (hash-partitioned by
        // a join on them below, or read from files whose row groups hold
        // disjoint ranges of one) or in one partition has each group in
        // one partition: aggregate in place, without partial states or
        // shuffle.
        let group_cols: Vec<Option<usize>> = groups.iter().map(|g| g.column_index()).collect();
        let clustered = input
            .clustering()
            .iter()
            .any(|c| !c.cols.is_empty() && c.cols.iter().all(|col| group_cols.contains(&Some(*col))));
        if clustered || single_partition(&input) {
            return Ok(PhysicalPlan::Aggregate {
                mode: AggregateMode::Single,
                groups,
                aggregates: calls,
                input: Box::new(input),
                schema: out_schema,
            });
        }
        if calls.iter().any(|c| c.spec.distinct) {
            // DISTINCT aggregates need every value of a group in one place.
            let shuffled = exchange(input, groups.clone());
            return Ok(PhysicalPlan::Aggregate {
                mode: AggregateMode::Single,
                groups,
                aggregates: calls,
                input: Box::new(shuffled),
                schema: out_schema,
            });
        }
        // Partial: group columns, then each aggregate's state columns.
        let mut partial_fields: Vec<Field> = (0..n_groups).map(|i| out_schema.field(i).clone()).collect();
        for (i, c) in calls.iter().enumerate() {
            for f in c.spec.state_fields() {
                partial_fields.push(Field::new(
                    format!("__agg{i}_{}", f.name()),
                    f.data_type().clone(),
                    true,
                ));
            }
        }
        let partial_schema: SchemaRef = Arc::new(Schema::new(partial_fields));
        let partial = metered(PhysicalPlan::Aggregate {
            mode: AggregateMode::Partial,
            groups,
            aggregates: calls.clone(),
            input: Box::new(input),
            schema: Arc::clone(&partial_schema),
        });
        let keys = (0..n_groups)
            .map(|i| column(i, &partial_schema))
            .collect::<Result<Vec<_>>>()?;
        let shuffled = exchange(partial, keys.clone());
        let mut offset = n_groups;
        let mut finals = Vec::new();
        for c in calls {
            let n_state = c.spec.state_fields().len();
            let args = (offset..offset + n_state)
                .map(|i| column(i, &partial_schema))
                .collect::<Result<Vec<_>>>()?;
            offset += n_state;
            finals.push(AggregateCall {
                spec: c.spec,
                args,
                filter: None,
            });
        }
        Ok(PhysicalPlan::Aggregate {
            mode: AggregateMode::Final,
            groups: keys,
            aggregates: finals,
            input: Box::new(shuffled),
            schema: out_schema,
        })
    }

    fn plan_join(&self, j: &crate::logical::Join) -> Result<PhysicalPlan> {
        if let Some(swapped) = self.swap_semi_join(j) {
            return self.plan_join(&swapped);
        }
        if let Some(swapped) = self.swap_left_join(j) {
            // The right join outputs the sides the other way round: its
            // output projection puts the columns back in the left join's order.
            let (nl, nr) = (j.left.schema().fields().len(), j.right.schema().fields().len());
            let order = (nr..nr + nl).chain(0..nr).collect();
            let join = self.plan_join(&swapped)?;
            if !matches!(join, PhysicalPlan::HashJoin { projection: None, .. }) {
                internal_err!("a swapped left join was not planned as a hash join");
            }
            return Ok(with_join_output(join, order, arrow_schema(&j.schema)));
        }
        let (ls, rs) = (j.left.schema(), j.right.schema());
        let combined = join_schema(ls, rs, JoinType::Inner)?;
        let filter = j
            .filter
            .as_ref()
            .map(|f| create_physical_expr(f, &combined))
            .transpose()?;
        let schema = arrow_schema(&j.schema);
        let left = self.plan(&j.left)?;
        let right = self.plan(&j.right)?;
        if j.on.is_empty() {
            let outer_right = matches!(
                j.join_type,
                JoinType::Right | JoinType::Full | JoinType::RightSemi | JoinType::RightAnti
            );
            let (left, right) = if outer_right {
                let single = |p: PhysicalPlan| PhysicalPlan::Exchange {
                    partitioning: Partitioning::Single,
                    input: Box::new(p),
                };
                (single(left), single(right))
            } else {
                (left, right)
            };
            return Ok(PhysicalPlan::NestedLoopJoin {
                left: Box::new(left),
                right: Box::new(right),
                filter,
                join_type: j.join_type,
                schema,
            });
        }
        let mut on = Vec::new();
        for (l, r) in &j.on {
            let (lt, rt) = (l.get_type(ls)?, r.get_type(rs)?);
            let (l, r) = if lt == rt {
                (l.clone(), r.clone())
            } else {
                let Some(t) = common_type(&lt, &rt) else {
                    not_supported!("joining {lt} with {rt}");
                };
                (l.clone().cast_to(t.clone()), r.clone().cast_to(t))
            };
            on.push((create_physical_expr(&l, ls)?, create_physical_expr(&r, rs)?));
        }
        let broadcast_ok = matches!(
            j.join_type,
            JoinType::Inner | JoinType::Left | JoinType::LeftSemi | JoinType::LeftAnti
        ) && self.should_broadcast(j);
        // A broadcast join gains from the filter only where its probe side's
        // scan can skip decoding rows without a partner.
        let runtime_filter = self.runtime_filter_pays(j, broadcast_ok)
            && (!broadcast_ok
                || probe_scan_path(&left, &on.iter().map(|(l, _)| Arc::clone(l)).collect::<Vec<_>>()).is_some());
        let (left, right, distribution) = if broadcast_ok {
            (left, right, JoinDistribution::Broadcast)
        } else {
            let n = self.partitions();
            let lk: Vec<PhysicalExprRef> = on.iter().map(|(l, _)| Arc::clone(l)).collect();
            let rk: Vec<PhysicalExprRef> = on.iter().map(|(_, r)| Arc::clone(r)).collect();
            (
                hash_partitioned(left, lk, n),
                hash_partitioned(right, rk, n),
                JoinDistribution::Partitioned,
            )
        };
        Ok(PhysicalPlan::HashJoin {
            left: Box::new(left),
            right: Box::new(right),
            on,
            filter,
            join_type: j.join_type,
            distribution,
            null_equals_null: j.null_equals_null,
            null_aware: j.null_aware,
            runtime_filter,
            projection: None,
            schema,
        })
    }
}

impl PhysicalPlanner<'_> {
    /// Whether `j`'s right side is broadcast: when it is estimated under
    /// the threshold and either small outright or much smaller than the
    /// left side. A broadcast table is built by one task, where a
    /// partitioned join builds in parallel but shuffles both sides, so
    /// a large table pays only when it saves shuffling a far larger input.
    /// Never when broadcasting is switched off.
    fn should_broadcast(&self, j: &crate::logical::Join) -> bool {
        let threshold = self.settings.broadcast_join_threshold;
        if threshold < 0 || self.settings.disabled_rules.contains(BROADCAST_JOIN) {
            return false;
        }
        let bytes = estimate_bytes(&j.right);
        bytes <= threshold as f64
            && (bytes <= BROADCAST_ALWAYS_BYTES
                || estimate_rows(&j.right) * BROADCAST_PROBE_RATIO <= estimate_rows(&j.left))
    }

    /// A left outer equi-join whose right input is much larger than its
    /// left, as the equivalent right join with the inputs swapped, so the
    /// hash table holds the small side and the large side streams past it
    /// (`customer LEFT JOIN orders` then builds on the customers). A right
    /// join is never broadcast (each build row must be known matched or
    /// not across all probe partitions), so this also trades a large
    /// broadcast table for shuffling both sides.
    fn swap_left_join(&self, j: &crate::logical::Join) -> Option<crate::logical::Join> {
        if j.join_type != JoinType::Left || j.on.is_empty() || self.settings.disabled_rules.contains(SWAP_OUTER_JOIN) {
            return None;
        }
        if estimate_bytes(&j.left) * OUTER_JOIN_SWAP_RATIO > estimate_bytes(&j.right) {
            return None;
        }
        let swapped = crate::logical::Join::try_new(
            Arc::clone(&j.right),
            Arc::clone(&j.left),
            j.on.iter().map(|(l, r)| (r.clone(), l.clone())).collect(),
            j.filter.clone(),
            JoinType::Right,
            j.null_equals_null,
        );
        swapped.ok()
    }

    /// Whether `j` (`broadcast` or partitioned) should filter its left
    /// (probe) side by the right side's keys, in the left side's scan and,
    /// when partitioned, before shuffling it: when no left row without a
    /// partner is output, NULL keys never match, and the right side is
    /// estimated to have fewer rows (see [`RUNTIME_FILTER_RATIO`] and
    /// [`RUNTIME_FILTER_PARTITIONED_RATIO`]), and fewer than its tables hold
    /// (otherwise the filter rarely drops much and its key set costs more
    /// than it saves: `orders` probing all of `customer` keeps every row).
    fn runtime_filter_pays(&self, j: &crate::logical::Join, broadcast: bool) -> bool {
        let drops_unmatched_left = matches!(
            j.join_type,
            JoinType::Inner | JoinType::Right | JoinType::LeftSemi | JoinType::RightSemi | JoinType::RightAnti
        );
        let ratio = if broadcast {
            RUNTIME_FILTER_RATIO
        } else {
            RUNTIME_FILTER_PARTITIONED_RATIO
        };
        drops_unmatched_left
            && !j.null_equals_null
            && !self.settings.disabled_rules.contains(RUNTIME_FILTER)
            && estimate_rows(&j.right) * ratio <= estimate_rows(&j.left)
            && estimate_rows(&j.right) < base_rows(&j.right) * RUNTIME_FILTER_REDUCED
    }

    /// A left semi or anti join whose right input is much larger than its
    /// left, as the equivalent right semi/anti join with the inputs
    /// swapped, so the hash table holds the small side and the large side
    /// streams past it (`orders WHERE EXISTS (lineitem ...)` then builds on
    /// the orders). `None` when the join should stay as it is: the right
    /// side is small enough to broadcast, the join is null-aware (`NOT IN`
    /// needs the whole subquery side in its table), or it has no keys.
    fn swap_semi_join(&self, j: &crate::logical::Join) -> Option<crate::logical::Join> {
        let join_type = match j.join_type {
            JoinType::LeftSemi => JoinType::RightSemi,
            JoinType::LeftAnti => JoinType::RightAnti,
            _ => return None,
        };
        if j.null_aware || j.on.is_empty() || self.settings.disabled_rules.contains(SWAP_SEMI_JOIN) {
            return None;
        }
        let right = estimate_bytes(&j.right);
        if self.should_broadcast(j) || estimate_bytes(&j.left) * SEMI_JOIN_SWAP_RATIO > right {
            return None;
        }
        Some(crate::logical::Join {
            left: Arc::clone(&j.right),
            right: Arc::clone(&j.left),
            on: j.on.iter().map(|(l, r)| (r.clone(), l.clone())).collect(),
            filter: j.filter.clone(),
            join_type,
            null_equals_null: j.null_equals_null,
            null_aware: false,
            schema: Arc::clone(&j.schema),
        })
    }
}

/// A join side estimated under this many bytes is broadcast whatever the
/// other side's size (when the threshold allows it).
const BROADCAST_ALWAYS_BYTES: f64 = 10.0 * 1024.0 * 1024.0;

/// A larger side is broadcast only when the other side has this many times
/// its rows.
const BROADCAST_PROBE_RATIO: f64 = 4.0;

/// How many times larger (in estimated bytes) the right input of a semi or
/// anti join must be before its inputs are swapped; a margin because the
/// estimates are rough and a wrong swap builds the larger side.
const SEMI_JOIN_SWAP_RATIO: f64 = 2.0;

/// `p` (`exprs` planned over its planned `input`) as a projection, or,
/// when `input` is a hash join and every expression of `p` is a column,
/// as that join outputting only those columns, so that it never gathers
/// the others.
fn project(
    input: PhysicalPlan,
    p: &crate::logical::Projection,
    exprs: Vec<PhysicalExprRef>,
    schema: SchemaRef,
) -> PhysicalPlan {
    let join = match &input {
        PhysicalPlan::Metered { input, .. } => input.as_ref(),
        other => other,
    };
    let picked: Option<Vec<usize>> = match join {
        PhysicalPlan::HashJoin { projection, .. } => p
            .exprs
            .iter()
            .map(|e| {
                let Expr::Column(c) = e else { return None };
                let i = p.input.schema().index_of_column(c).ok()?;
                match projection {
                    Some(p) => p.get(i).copied(),
                    None => Some(i),
                }
            })
            .collect(),
        _ => None,
    };
    match (picked, input) {
        // The join's own meter goes: the one around the result measures it.
        (Some(picked), PhysicalPlan::Metered { input: join, .. }) => with_join_output(*join, picked, schema),
        (Some(picked), join) => with_join_output(join, picked, schema),
        (None, input) => PhysicalPlan::Projection {
            exprs,
            input: Box::new(input),
            schema,
        },
    }
}

/// How many times more rows (estimated) the probe side of a broadcast join
/// must have than its build side to be filtered by the build keys: its
/// scan then decodes fewer rows, but tests every key.
const RUNTIME_FILTER_RATIO: f64 = 4.0;

/// [`RUNTIME_FILTER_RATIO`] for a partitioned join, where each probe row
/// dropped is also one row less to shuffle. A build side can have many
/// rows per key: in TPC-H q09 `partsupp` probes about 0.4 times its rows of
/// `lineitem`, which hold 5% of its keys. At SF10, where q07, q08, q10 and
/// q14 join partitioned too, filtering before the shuffle made each 2-26%
/// faster and cut peak memory by up to 320 MB (q10); no SF1 query slowed.
const RUNTIME_FILTER_PARTITIONED_RATIO: f64 = 1.0;

/// A build side estimated to keep more than this share of its tables' rows
/// filters the probe side too little to be worth a runtime filter.
const RUNTIME_FILTER_REDUCED: f64 = 0.9;

/// How many times larger (in estimated bytes) the right input of a left
/// join must be before its inputs are swapped.
const OUTER_JOIN_SWAP_RATIO: f64 = 4.0;

/// `input` hash-partitioned into `n` partitions on `keys`: through an
/// exchange, unless it already is (an exchange on the same columns below,
/// with the same partition count, so that the other side of a join that
/// exchanges its keys of the same types lands in the same partitions).
fn hash_partitioned(input: PhysicalPlan, keys: Vec<PhysicalExprRef>, n: usize) -> PhysicalPlan {
    let cols: Option<Vec<usize>> = keys.iter().map(|k| k.column_index()).collect();
    if let Some(cols) = cols
        && input.clustering().iter().any(|c| c.cols == cols && c.hash == Some(n))
    {
        return input;
    }
    PhysicalPlan::Exchange {
        partitioning: Partitioning::Hash(keys, n),
        input: Box::new(input),
    }
}

/// `join`, a hash join, outputting the joined columns `picked` as `schema`.
fn with_join_output(mut join: PhysicalPlan, picked: Vec<usize>, schema: SchemaRef) -> PhysicalPlan {
    if let PhysicalPlan::HashJoin {
        projection,
        schema: out,
        ..
    } = &mut join
    {
        *projection = Some(picked);
        *out = schema;
    }
    join
}

/// The number of nodes of an expression, a proxy for its evaluation cost.
fn expr_size(e: &Expr) -> usize {
    let mut n = 0;
    let _ = e.apply(|_| {
        n += 1;
        Ok(datafusion_common::tree_node::TreeNodeRecursion::Continue)
    });
    n
}
