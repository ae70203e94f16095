//! Lowering physical plans onto RDDs: narrow operators become
//! `map_partitions` steps pipelined in one task; exchanges become shuffles
//! (stage boundaries); broadcast joins collect their build side once and
//! share it through a broadcast variable.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatchOptions};
use arrow::compute::concat_batches;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use datafusion_common::JoinType;

use super::aggregate::{AggregateMode, HashAggregator};
use super::compact::compact_views;
use super::exchange::{HashSplitter, RangeSplitter, evaluate, sort_rows};
use super::expr::PhysicalExprRef;
use super::filter::{FilterCosts, filter_conjuncts};
use super::join::{
    HashJoinProbe, JoinHashTable, KeyFilter, KeyFilterIter, build_keys as build_keys_of, join_output_schema,
    nested_loop_join,
};
use super::plan::{AggregateCall, JoinDistribution, OperatorMetrics, Partitioning, PhysicalPlan, SortKey};
use super::probe_scan::{key_filter_predicate, probe_scan_path};
use super::sort::{TopK, sort_batches};
use crate::SessionContext;
use crate::datasource::ScanRequest;
use crate::error::{Error, Result};
use crate::rdd::{BoxIter, Rdd};
use crate::shuffle::{BatchBucket, batches_bytes};

/// Reserves `bytes` for an operator's buffers from the running task's
/// session pool; the reservation is held until dropped.
fn reserve(consumer: &str, bytes: usize) -> Result<Option<crate::memory::Reservation>> {
    match crate::TaskContext::get() {
        Some(tc) => Ok(Some(tc.session.memory.reserve(consumer, bytes)?)),
        None => Ok(None),
    }
}

/// Groups a partial aggregate holds before it checks whether it reduces
/// its input at all (see `lower_aggregate`).
const PARTIAL_FLUSH_GROUPS: usize = 1 << 16;

/// Scan partitions per shuffle partition. A stage ends when its slowest
/// task does; with twice as many scan tasks as shuffle partitions (four per
/// worker thread by default) a thread that finishes early takes another
/// instead of idling. Measured on TPC-H SF1 with 2 threads: one split per
/// partition is 3% slower in sum, four are 2% slower than two.
const SCAN_SPLITS_PER_PARTITION: usize = 2;

/// Lowers physical plans of one query.
pub struct Lowering<'a> {
    ctx: &'a SessionContext,
    batch_size: usize,
    target_partitions: usize,
    /// Exchanges lowered so far, by [`PhysicalPlan::fingerprint`]: one
    /// computed twice in the plan is one shuffle read twice.
    exchanges: std::sync::Mutex<HashMap<String, Batches>>,
    /// Subplans computed more than once in the plan being lowered, by
    /// fingerprint, with how many times lowering asks for each (see
    /// [`shared_subplans`]); found at the first call of [`Self::lower`].
    shared: std::sync::OnceLock<HashMap<String, usize>>,
    /// Those of them lowered so far.
    shared_rdds: std::sync::Mutex<HashMap<String, Batches>>,
    /// Key filters of broadcast joins for the scans of their probe sides,
    /// by the scan node's address in the plan being lowered, with the
    /// scan's output columns holding the keys (see [`super::probe_scan`]).
    scan_filters: ScanFilters,
    /// Whether exchanges read once may free their buckets as they are read
    /// (see [`Self::consuming_exchanges`]).
    consume_exchanges: bool,
    /// How many exchange nodes of the plan have each fingerprint; found at
    /// the first call of [`Self::lower`]. Nodes with the same one are
    /// lowered to one shuffle, read as many times.
    exchange_counts: std::sync::OnceLock<HashMap<String, usize>>,
    /// Exchanges (by address) whose output lowering reads more than once,
    /// with how many times: below a range exchange, whose input is sampled
    /// first, and below the build side of a partitioned join with a runtime
    /// filter, whose keys are collected first.
    reads: std::sync::Mutex<HashMap<usize, usize>>,
}

/// How many exchange nodes of `root` have each fingerprint.
fn exchange_counts(root: &PhysicalPlan) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    let mut stack = vec![root];
    while let Some(p) = stack.pop() {
        if matches!(p, PhysicalPlan::Exchange { .. })
            && let Some(k) = p.fingerprint()
        {
            *counts.entry(k).or_default() += 1;
        }
        stack.extend(p.children());
    }
    counts
}

/// A plan node's address, naming it within the plan being lowered.
fn address(plan: &PhysicalPlan) -> usize {
    plan as *const PhysicalPlan as usize
}

type ScanFilters = std::sync::Mutex<HashMap<usize, Vec<(Vec<usize>, Arc<KeyFilter>)>>>;

/// Whether a subplan computed twice is worth computing once and keeping
/// until its second reader: operators over scans, and scans that filter. A
/// bare scan is left to be read twice (keeping whole decoded columns costs
/// more memory than reading them again), and an exchange is reused as a
/// shuffle already.
fn shareable(plan: &PhysicalPlan) -> bool {
    if let PhysicalPlan::Scan { predicate, .. } = plan {
        return predicate.is_some();
    }
    matches!(
        plan,
        PhysicalPlan::Filter { .. }
            | PhysicalPlan::Projection { .. }
            | PhysicalPlan::HashJoin { .. }
            | PhysicalPlan::Aggregate { .. }
    )
}

/// The largest subplans that `root` computes more than once, with the
/// number of times lowering will ask for each: their occurrences outside
/// other shared subplans and outside the second copy of a reused exchange.
fn shared_subplans(root: &PhysicalPlan) -> HashMap<String, usize> {
    fn count(p: &PhysicalPlan, total: &mut HashMap<String, usize>) {
        if shareable(p)
            && let Some(k) = p.fingerprint()
        {
            *total.entry(k).or_default() += 1;
        }
        for c in p.children() {
            count(c, total);
        }
    }
    fn visit(
        p: &PhysicalPlan,
        total: &HashMap<String, usize>,
        readers: &mut HashMap<String, usize>,
        exchanges: &mut HashSet<String>,
    ) {
        let key = (shareable(p) || matches!(p, PhysicalPlan::Exchange { .. }))
            .then(|| p.fingerprint())
            .flatten();
        if let Some(k) = key {
            if matches!(p, PhysicalPlan::Exchange { .. }) {
                if !exchanges.insert(k) {
                    return;
                }
            } else if total.get(&k).is_some_and(|&n| n >= 2) {
                *readers.entry(k).or_default() += 1;
                return;
            }
        }
        for c in p.children() {
            visit(c, total, readers, exchanges);
        }
    }
    let mut total = HashMap::new();
    count(root, &mut total);
    if total.values().all(|&n| n < 2) {
        return HashMap::new();
    }
    let mut readers = HashMap::new();
    visit(root, &total, &mut readers, &mut HashSet::new());
    readers.retain(|_, n| *n >= 2);
    readers
}

/// A build side with more (non-NULL) key rows than this gets no runtime
/// filter: it would rarely drop much, and the set would be large.
const RUNTIME_FILTER_MAX_KEYS: usize = 4 << 20;

type Batches = Rdd<RecordBatch>;

fn project(batch: &RecordBatch, exprs: &[PhysicalExprRef], schema: &SchemaRef) -> Result<RecordBatch> {
    let n = batch.num_rows();
    let mut cols = Vec::with_capacity(exprs.len());
    for (e, f) in exprs.iter().zip(schema.fields()) {
        let a = e.evaluate(batch)?.into_array(n)?;
        let a = if a.data_type() == f.data_type() {
            a
        } else {
            arrow::compute::cast(&a, f.data_type())?
        };
        cols.push(a);
    }
    Ok(RecordBatch::try_new_with_options(
        Arc::clone(schema),
        cols,
        &RecordBatchOptions::new().with_row_count(Some(n)),
    )?)
}

/// Merges small batches into batches of about `batch_size` rows.
fn coalesce(batches: Vec<RecordBatch>, batch_size: usize) -> Result<Vec<RecordBatch>> {
    let mut out = Vec::new();
    let mut pending: Vec<RecordBatch> = Vec::new();
    let mut rows = 0;
    for b in batches {
        if b.num_rows() >= batch_size / 2 {
            // Rows keep their order (an exchange into one partition may
            // carry sorted range partitions): what is pending goes first.
            if !pending.is_empty() {
                out.push(compact_views(concat_batches(&pending[0].schema(), &pending)?)?);
                pending.clear();
                rows = 0;
            }
            out.push(b);
            continue;
        }
        rows += b.num_rows();
        pending.push(b);
        if rows >= batch_size {
            out.push(compact_views(concat_batches(&pending[0].schema(), &pending)?)?);
            pending.clear();
            rows = 0;
        }
    }
    if !pending.is_empty() {
        out.push(compact_views(concat_batches(&pending[0].schema(), &pending)?)?);
    }
    Ok(out)
}

fn batches_to_rows(cols: Vec<Vec<ArrayRef>>, schema: &SchemaRef) -> Result<Vec<RecordBatch>> {
    cols.into_iter()
        .map(|c| {
            let n = c.first().map_or(0, |a| a.len());
            let c = c
                .into_iter()
                .zip(schema.fields())
                .map(|(a, f)| {
                    if a.data_type() == f.data_type() {
                        Ok(a)
                    } else {
                        Ok(arrow::compute::cast(&a, f.data_type())?)
                    }
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(RecordBatch::try_new_with_options(
                Arc::clone(schema),
                c,
                &RecordBatchOptions::new().with_row_count(Some(n)),
            )?)
        })
        .collect()
}

/// Streams probe batches through a join, then emits unmatched build rows.
struct ProbeIter {
    probe: Option<HashJoinProbe>,
    input: BoxIter<RecordBatch>,
    keys: Vec<PhysicalExprRef>,
    pending: VecDeque<RecordBatch>,
    _held: Option<crate::memory::Reservation>,
}

impl Iterator for ProbeIter {
    type Item = Result<RecordBatch>;
    fn next(&mut self) -> Option<Result<RecordBatch>> {
        loop {
            if let Some(b) = self.pending.pop_front() {
                return Some(Ok(b));
            }
            let probe = self.probe.as_mut()?;
            match self.input.next() {
                Some(batch) => {
                    let out = evaluate(&self.keys, &batch).and_then(|k| probe.probe(&batch, &k));
                    match out {
                        Ok(v) => self.pending.extend(v.into_iter().filter(|b| b.num_rows() > 0)),
                        Err(e) => {
                            self.probe = None;
                            return Some(Err(e));
                        }
                    }
                }
                None => {
                    let probe = self.probe.take()?;
                    match probe.finish_unmatched() {
                        Ok(v) => self.pending.extend(v.into_iter().filter(|b| b.num_rows() > 0)),
                        Err(e) => return Some(Err(e)),
                    }
                }
            }
        }
    }
}

/// Counts rows, batches and time of an operator's output.
struct Metered {
    inner: BoxIter<RecordBatch>,
    metrics: Arc<OperatorMetrics>,
}

impl Iterator for Metered {
    type Item = RecordBatch;
    fn next(&mut self) -> Option<RecordBatch> {
        let started = Instant::now();
        let b = self.inner.next();
        self.metrics
            .nanos
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        if let Some(b) = &b {
            self.metrics.rows.fetch_add(b.num_rows() as u64, Ordering::Relaxed);
            self.metrics.batches.fetch_add(1, Ordering::Relaxed);
        }
        b
    }
}

fn eval_filter(f: &Option<PhysicalExprRef>, batch: &RecordBatch) -> Result<Option<BooleanArray>> {
    let Some(f) = f else { return Ok(None) };
    let a = f.evaluate(batch)?.into_array(batch.num_rows())?;
    match a.as_any().downcast_ref::<BooleanArray>() {
        Some(b) => Ok(Some(b.clone())),
        None => Err(Error::Internal(format!("aggregate filter {f} is not boolean"))),
    }
}

impl<'a> Lowering<'a> {
    /// A lowering for `ctx` with the given batch size and scan parallelism.
    pub fn new(ctx: &'a SessionContext, batch_size: usize, target_partitions: usize) -> Self {
        Self {
            ctx,
            batch_size: batch_size.max(1),
            target_partitions: target_partitions.max(1),
            exchanges: Default::default(),
            shared: Default::default(),
            shared_rdds: Default::default(),
            scan_filters: Default::default(),
            consume_exchanges: false,
            exchange_counts: Default::default(),
            reads: Default::default(),
        }
    }

    /// This lowering, for a plan whose RDD is computed by one action: a
    /// shuffle frees each bucket at the last read the plan makes of it, so
    /// a query holds the output of the shuffles it is reading, not of every
    /// shuffle it ran. Reading such an RDD again recomputes it.
    pub fn consuming_exchanges(mut self) -> Self {
        self.consume_exchanges = true;
        self
    }

    /// How many times the plan reads the output of exchange node `plan`,
    /// when it frees its buckets after the last: it is the plan's only
    /// exchange computing its rows (the same rows are one shuffle).
    fn reads_of(&self, plan: &PhysicalPlan) -> Option<usize> {
        let unique = plan.fingerprint().is_none_or(|k| {
            self.exchange_counts
                .get()
                .is_some_and(|c| c.get(&k).is_some_and(|&n| n == 1))
        });
        (self.consume_exchanges && unique).then(|| {
            self.reads
                .lock()
                .map_or(1, |r| r.get(&address(plan)).copied().unwrap_or(1))
        })
    }

    /// Doubles the reads of the exchanges `plan` reads (down to, not below,
    /// the first exchange on each path): lowering reads `plan` twice.
    fn mark_read_twice(&self, plan: &PhysicalPlan) {
        let mut stack = vec![plan];
        while let Some(p) = stack.pop() {
            if matches!(p, PhysicalPlan::Exchange { .. }) {
                if let Ok(mut r) = self.reads.lock() {
                    *r.entry(address(p)).or_insert(1) *= 2;
                }
            } else {
                stack.extend(p.children());
            }
        }
    }

    /// The RDD computing `plan`. A subplan that `plan` computes more than
    /// once is lowered once and its partitions are shared by its readers.
    pub fn lower(&self, plan: &PhysicalPlan) -> Result<Batches> {
        self.exchange_counts.get_or_init(|| exchange_counts(plan));
        let shared = self.shared.get_or_init(|| shared_subplans(plan));
        if shared.is_empty() || !shareable(plan) {
            return self.lower_node(plan);
        }
        let Some((key, &readers)) = plan.fingerprint().and_then(|k| shared.get_key_value(&k)) else {
            return self.lower_node(plan);
        };
        if let Some(rdd) = self.shared_rdds.lock().ok().and_then(|m| m.get(key).cloned()) {
            return Ok(rdd);
        }
        let rdd = self.lower_node(plan)?.share(readers, batches_bytes);
        if let Ok(mut m) = self.shared_rdds.lock() {
            m.insert(key.clone(), rdd.clone());
        }
        Ok(rdd)
    }

    fn lower_node(&self, plan: &PhysicalPlan) -> Result<Batches> {
        let bs = self.batch_size;
        Ok(match plan {
            PhysicalPlan::Scan {
                source,
                projection,
                filters,
                predicate,
                fetch,
                scan_metrics,
                ..
            } => source.scan(
                self.ctx,
                &ScanRequest {
                    projection: projection.clone(),
                    filters: filters.clone(),
                    predicate: predicate.clone().or_else(|| {
                        let key = address(plan);
                        let pushed = self.scan_filters.lock().ok()?.remove(&key)?;
                        key_filter_predicate(plan, &pushed)
                    }),
                    limit: *fetch,
                    batch_size: bs,
                    target_partitions: self.target_partitions * SCAN_SPLITS_PER_PARTITION,
                    metrics: Arc::clone(scan_metrics),
                },
            )?,
            PhysicalPlan::Values { batches, .. } => self.ctx.parallelize(batches.clone(), 1),
            PhysicalPlan::Filter { conjuncts, input, .. } => {
                let conjuncts = conjuncts.clone();
                self.lower(input)?.try_map_partitions_with_index(move |_, iter| {
                    let conjuncts = conjuncts.clone();
                    let mut costs = FilterCosts::default();
                    Ok(iter.filter_map(move |b| filter_conjuncts(&b, &conjuncts, &mut costs).transpose()))
                })
            }
            PhysicalPlan::Projection { exprs, input, schema } => {
                let (exprs, schema) = (exprs.clone(), Arc::clone(schema));
                self.lower(input)?.try_map_partitions_with_index(move |_, iter| {
                    let (exprs, schema) = (exprs.clone(), Arc::clone(&schema));
                    Ok(iter.map(move |b| project(&b, &exprs, &schema)))
                })
            }
            PhysicalPlan::Aggregate {
                mode,
                groups,
                aggregates,
                input,
                schema,
            } => self.lower_aggregate(*mode, groups.clone(), aggregates.clone(), input, Arc::clone(schema))?,
            PhysicalPlan::Exchange { partitioning, input } => {
                let key = plan.fingerprint();
                let lowered = key.as_ref().and_then(|k| self.exchanges.lock().ok()?.get(k).cloned());
                match lowered {
                    Some(rdd) => rdd,
                    None => {
                        let rdd = self.lower_exchange(partitioning, input, self.reads_of(plan))?;
                        if let (Some(k), Ok(mut seen)) = (key, self.exchanges.lock()) {
                            seen.insert(k, rdd.clone());
                        }
                        rdd
                    }
                }
            }
            PhysicalPlan::HashJoin {
                left,
                right,
                on,
                filter,
                join_type,
                distribution,
                null_equals_null,
                null_aware,
                runtime_filter,
                projection,
                schema,
            } => {
                let left_keys: Vec<PhysicalExprRef> = on.iter().map(|(l, _)| Arc::clone(l)).collect();
                let right_keys: Vec<PhysicalExprRef> = on.iter().map(|(_, r)| Arc::clone(r)).collect();
                let (jt, filter, schema, nen, na) = (
                    *join_type,
                    filter.clone(),
                    Arc::clone(schema),
                    *null_equals_null,
                    *null_aware,
                );
                let right_schema = right.schema();
                let full = join_output_schema(&left.schema(), &right_schema, jt)?;
                let projection = projection.clone();
                let prober = Arc::new(move |table: Arc<JoinHashTable>| -> Result<HashJoinProbe> {
                    let probe = HashJoinProbe::try_new(table, jt, filter.clone(), Arc::clone(&full), na, bs)?;
                    match &projection {
                        Some(p) => probe.with_projection(p.clone(), Arc::clone(&schema)),
                        None => Ok(probe),
                    }
                });
                match distribution {
                    JoinDistribution::Broadcast => {
                        let batches = self.lower(right)?.collect()?;
                        let keys = batches
                            .iter()
                            .map(|b| evaluate(&right_keys, b))
                            .collect::<Result<Vec<_>>>()?;
                        let l = if *runtime_filter {
                            self.lower_filtered_probe(left, &left_keys, &keys)?
                        } else {
                            self.lower(left)?
                        };
                        let build = || JoinHashTable::build(right_schema, batches, keys, nen);
                        let table = Arc::new(self.ctx.state.scheduler.install(build)?);
                        // The broadcast table's bytes stay reserved while any task can use it.
                        let held = Arc::new(
                            self.ctx
                                .memory_pool()
                                .reserve("broadcast hash table", table.memory_size())?,
                        );
                        let shared = self.ctx.broadcast(table);
                        l.try_map_partitions_with_index(move |_, iter| {
                            let _ = &held;
                            let probe = prober(shared.value().clone())?;
                            Ok(ProbeIter {
                                probe: Some(probe),
                                input: iter,
                                keys: left_keys.clone(),
                                pending: VecDeque::new(),
                                _held: None,
                            })
                        })
                    }
                    JoinDistribution::Partitioned => {
                        if *runtime_filter {
                            // Its keys are collected before it is joined.
                            self.mark_read_twice(right);
                        }
                        let r = self.lower(right)?;
                        let l = if *runtime_filter {
                            self.lower_probe_side(left, &r, &right_keys)?
                        } else {
                            self.lower(left)?
                        };
                        l.try_zip_partitions(&r, move |_, left_iter, right_iter, tc| {
                            let batches: Vec<RecordBatch> = tc_guard(right_iter, tc);
                            let keys = batches
                                .iter()
                                .map(|b| evaluate(&right_keys, b))
                                .collect::<Result<Vec<_>>>()?;
                            let table = Arc::new(JoinHashTable::build(Arc::clone(&right_schema), batches, keys, nen)?);
                            // Held while this partition probes (the iterator owns it).
                            let held = reserve("hash join build", table.memory_size())?;
                            let probe = prober(table)?;
                            let it = ProbeIter {
                                probe: Some(probe),
                                input: left_iter,
                                keys: left_keys.clone(),
                                pending: VecDeque::new(),
                                _held: held,
                            };
                            Ok(stop_on_error(it, tc))
                        })?
                    }
                }
            }
            PhysicalPlan::NestedLoopJoin {
                left,
                right,
                filter,
                join_type,
                schema,
            } => {
                let (jt, filter, schema) = (*join_type, filter.clone(), Arc::clone(schema));
                let (ls, rs) = (left.schema(), right.schema());
                let l = self.lower(left)?;
                let r = self.lower(right)?;
                if matches!(
                    jt,
                    JoinType::Right | JoinType::Full | JoinType::RightSemi | JoinType::RightAnti
                ) {
                    // Both sides were gathered into one partition.
                    l.try_zip_partitions(&r, move |_, li, ri, tc| {
                        let lb = concat_batches(&ls, &tc_guard(li, tc))?;
                        let rb = concat_batches(&rs, &tc_guard(ri, tc))?;
                        let out = nested_loop_join(&lb, &rb, jt, filter.as_deref(), &schema, bs)?;
                        Ok(Box::new(out.into_iter()) as BoxIter<RecordBatch>)
                    })?
                } else {
                    let right_batch = Arc::new(concat_batches(&rs, &r.collect()?)?);
                    let shared = self.ctx.broadcast(right_batch);
                    l.try_map_partitions_with_index(move |_, iter| {
                        let (shared, filter, schema) = (shared.clone(), filter.clone(), Arc::clone(&schema));
                        // A left batch is joined a slice at a time (these join
                        // types treat left rows independently), so one call
                        // yields a few batches, not |left batch| x |right| rows,
                        // and a cancelled job stops between slices.
                        let tc = crate::TaskContext::get();
                        Ok(iter.flat_map(move |b| {
                            let right = Arc::clone(shared.value());
                            let (filter, schema, tc) = (filter.clone(), Arc::clone(&schema), tc.clone());
                            let step = (4 * bs).div_ceil(right.num_rows().max(1)).max(1);
                            (0..b.num_rows()).step_by(step).flat_map(move |start| {
                                if let Some(tc) = tc.as_ref().filter(|tc| tc.is_cancelled()) {
                                    return vec![Err(crate::Error::Cancelled(tc.job_id()))];
                                }
                                let slice = b.slice(start, step.min(b.num_rows() - start));
                                match nested_loop_join(&slice, &right, jt, filter.as_deref(), &schema, bs) {
                                    Ok(v) => v.into_iter().map(Ok).collect::<Vec<_>>(),
                                    Err(e) => vec![Err(e)],
                                }
                            })
                        }))
                    })
                }
            }
            PhysicalPlan::Sort { keys, fetch, input } => {
                let (keys, fetch) = (keys.clone(), *fetch);
                self.lower(input)?.try_map_partitions_with_index(move |_, iter| {
                    let exprs: Vec<PhysicalExprRef> = keys.iter().map(|k| Arc::clone(&k.expr)).collect();
                    let options: Vec<_> = keys.iter().map(|k| k.options).collect();
                    if let Some(k) = fetch {
                        return Ok(top_k(iter, k, &exprs, &options, bs)?.into_iter().map(Ok));
                    }
                    let batches: Vec<RecordBatch> = iter.filter(|b| b.num_rows() > 0).collect();
                    let _held = reserve("sort", batches.iter().map(|b| b.get_array_memory_size()).sum())?;
                    let cols = batches
                        .iter()
                        .map(|b| evaluate(&exprs, b))
                        .collect::<Result<Vec<_>>>()?;
                    let sorted = sort_batches(&batches, &cols, &options, fetch, bs)?;
                    Ok(sorted.into_iter().map(Ok))
                })
            }
            PhysicalPlan::Limit { skip, fetch, input } => {
                let (skip, fetch) = (*skip, *fetch);
                self.lower(input)?.map_partitions(move |iter| {
                    let mut to_skip = skip;
                    let mut left = fetch.unwrap_or(usize::MAX);
                    iter.map_while(move |b| {
                        if left == 0 {
                            return None;
                        }
                        let n = b.num_rows();
                        let start = to_skip.min(n);
                        to_skip -= start;
                        let take = (n - start).min(left);
                        left -= take;
                        Some(b.slice(start, take))
                    })
                    .filter(|b| b.num_rows() > 0)
                })
            }
            PhysicalPlan::Union { inputs, .. } => {
                let rdds = inputs.iter().map(|i| self.lower(i)).collect::<Result<Vec<_>>>()?;
                let mut it = rdds.into_iter();
                let Some(first) = it.next() else {
                    return Err(Error::Internal("union without inputs".into()));
                };
                it.fold(first, |acc, r| acc.union(&r))
            }
            PhysicalPlan::Metered { input, metrics } => {
                let metrics = Arc::clone(metrics);
                self.lower(input)?.map_partitions(move |iter| Metered {
                    inner: iter,
                    metrics: Arc::clone(&metrics),
                })
            }
        })
    }

    fn lower_aggregate(
        &self,
        mode: AggregateMode,
        groups: Vec<PhysicalExprRef>,
        aggregates: Vec<AggregateCall>,
        input: &PhysicalPlan,
        schema: SchemaRef,
    ) -> Result<Batches> {
        let bs = self.batch_size;
        let group_types: Vec<_> = groups.iter().map(|g| g.data_type().clone()).collect();
        let specs: Vec<_> = aggregates.iter().map(|a| a.spec.clone()).collect();
        Ok(self.lower(input)?.try_map_partitions_with_index(move |_, mut iter| {
            let new_agg = {
                let (group_types, specs) = (group_types.clone(), specs.clone());
                move || HashAggregator::new(mode, group_types.clone(), specs.clone())
            };
            let mut agg = Some(new_agg()?);
            let mut rows_in = 0usize;
            let mut out: VecDeque<RecordBatch> = VecDeque::new();
            let (groups, aggregates, schema) = (groups.clone(), aggregates.clone(), Arc::clone(&schema));
            let has_filters = aggregates.iter().any(|a| a.filter.is_some());
            let keep_empty = schema.fields().is_empty();
            let mut step = move || -> Result<Option<RecordBatch>> {
                loop {
                    if let Some(b) = out.pop_front() {
                        return Ok(Some(b));
                    }
                    let Some(a) = agg.as_mut() else {
                        return Ok(None);
                    };
                    let Some(b) = iter.next() else {
                        if let Some(a) = agg.take() {
                            let _held = reserve("hash aggregate", a.memory_size())?;
                            out.extend(batches_to_rows(a.finish(bs)?, &schema)?);
                            out.retain(|b| b.num_rows() > 0 || keep_empty);
                        }
                        continue;
                    };
                    let g = evaluate(&groups, &b)?;
                    let args = aggregates
                        .iter()
                        .map(|a| evaluate(&a.args, &b))
                        .collect::<Result<Vec<_>>>()?;
                    if mode == AggregateMode::Final {
                        a.merge(&g, &args)?;
                        continue;
                    }
                    let filters = if has_filters {
                        aggregates
                            .iter()
                            .map(|a| eval_filter(&a.filter, &b))
                            .collect::<Result<Vec<_>>>()?
                    } else {
                        vec![]
                    };
                    a.update(b.num_rows(), &g, &args, &filters)?;
                    rows_in += b.num_rows();
                    // A partial aggregate that barely reduces its input
                    // (more than 4 in 5 rows a new key) hands its groups on
                    // and starts over: the final aggregate merges them
                    // anyway, and a table kept small stays in the cache
                    // instead of growing to one entry per input row. A
                    // lower bar flushed tables that would have reduced
                    // their input several times over in the end (random
                    // keys look unique while the table fills).
                    if mode == AggregateMode::Partial
                        && a.num_groups() >= PARTIAL_FLUSH_GROUPS
                        && a.num_groups().saturating_mul(5) > rows_in.saturating_mul(4)
                    {
                        let full = std::mem::replace(a, new_agg()?);
                        out.extend(batches_to_rows(full.finish(bs)?, &schema)?);
                        out.retain(|b| b.num_rows() > 0);
                        rows_in = 0;
                    }
                }
            };
            Ok(std::iter::from_fn(move || step().transpose()))
        }))
    }

    /// The probe side `left` of a partitioned join whose probe rows without
    /// a partner are never output (the planner's `runtime_filter`). When
    /// `left` is shuffled here, its rows whose key the build side (`build`,
    /// keyed by `build_keys`) lacks are dropped before the shuffle; that
    /// costs one pass over the build side (whose shuffle the join then
    /// reads again). Where it can, the probe side's scan tests the keys
    /// itself (see [`Self::push_key_filter`]).
    fn lower_probe_side(
        &self,
        left: &PhysicalPlan,
        build: &Batches,
        build_keys: &[PhysicalExprRef],
    ) -> Result<Batches> {
        let PhysicalPlan::Exchange {
            partitioning: partitioning @ Partitioning::Hash(probe_keys, _),
            input,
        } = left
        else {
            return self.lower(left);
        };
        let reused = left
            .fingerprint()
            .is_some_and(|k| self.exchanges.lock().is_ok_and(|seen| seen.contains_key(&k)));
        if reused {
            return self.lower(left);
        }
        let keys = build_keys.to_vec();
        let per_batch = build
            .try_map_partitions_with_index(move |_, iter| {
                let keys = keys.clone();
                Ok(iter.map(move |b| evaluate(&keys, &b).and_then(|k| super::join::build_keys(&k))))
            })
            .collect()?;
        if per_batch.iter().map(|k| k.len()).sum::<usize>() > RUNTIME_FILTER_MAX_KEYS {
            return self.lower(left);
        }
        let filter = Arc::new(KeyFilter::new(per_batch));
        // The scan tests the keys before decoding its other columns; the
        // test before the shuffle stays for when the scan cannot, or its
        // judge finds that too many rows pass for that to pay.
        self.push_key_filter(input, probe_keys, Arc::clone(&filter));
        let probe_keys = probe_keys.clone();
        let filtered = self.lower(input)?.try_map_partitions_with_index(move |_, iter| {
            Ok(KeyFilterIter::new(iter, Arc::clone(&filter), probe_keys.clone()))
        });
        self.shuffle(partitioning, filtered, self.reads_of(left))
    }

    /// The probe side of a broadcast join, whose scan tests the build
    /// side's keys itself (see [`super::probe_scan`]) unless the build side
    /// has too many keys or [`Self::push_key_filter`] declines.
    fn lower_filtered_probe(
        &self,
        left: &PhysicalPlan,
        probe_keys: &[PhysicalExprRef],
        build_keys: &[Vec<ArrayRef>],
    ) -> Result<Batches> {
        let keys: usize = build_keys.iter().map(|k| k.first().map_or(0, |a| a.len())).sum();
        if keys <= RUNTIME_FILTER_MAX_KEYS {
            let filter = Arc::new(KeyFilter::new(
                build_keys.iter().map(|k| build_keys_of(k)).collect::<Result<_>>()?,
            ));
            self.push_key_filter(left, probe_keys, filter);
        }
        self.lower(left)
    }

    /// Registers `filter` for the scan `probe`'s rows come from, which then
    /// tests `probe_keys` itself, unless the keys are not plain scan
    /// columns or a node on the way is shared with another reader that
    /// must see every row.
    fn push_key_filter(&self, probe: &PhysicalPlan, probe_keys: &[PhysicalExprRef], filter: Arc<KeyFilter>) {
        // A fingerprint renders the node's whole subtree: only worth it when
        // the plan computes something twice at all.
        let shared = self.shared.get().filter(|s| !s.is_empty());
        let is_shared = |p: &&PhysicalPlan| {
            shared.is_some_and(|s| p.fingerprint().is_some_and(|k| s.get(&k).is_some_and(|&n| n >= 2)))
        };
        if let Some((path, columns)) = probe_scan_path(probe, probe_keys)
            && !path.iter().any(is_shared)
            && let Some(scan) = path.last()
        {
            let key = address(scan);
            if let Ok(mut pending) = self.scan_filters.lock() {
                pending.entry(key).or_default().push((columns, filter));
            }
        }
    }

    fn lower_exchange(
        &self,
        partitioning: &Partitioning,
        input: &PhysicalPlan,
        reads: Option<usize>,
    ) -> Result<Batches> {
        if matches!(partitioning, Partitioning::Range(..)) {
            // Sampled for the range bounds, then shuffled.
            self.mark_read_twice(input);
        }
        let rdd = self.lower(input)?;
        self.shuffle(partitioning, rdd, reads)
    }

    /// `rdd` redistributed by `partitioning`, each bucket freed when its
    /// reader number `reads` succeeds (see [`BatchBucket::with_reads`]).
    fn shuffle(&self, partitioning: &Partitioning, rdd: Batches, reads: Option<usize>) -> Result<Batches> {
        let bs = self.batch_size;
        let read = move |r: usize, outputs: crate::rdd::ShuffleMapOutput<BatchBucket>, tc: &Arc<crate::TaskContext>| {
            let batches: Vec<RecordBatch> = outputs
                .iter()
                .flat_map(|o| o.buckets[r].read().unwrap_or_default())
                .collect();
            if reads.is_some() {
                tc.on_success(move || outputs.iter().for_each(|o| o.buckets[r].release()));
            }
            Ok(Box::new(coalesce(batches, bs)?.into_iter()) as BoxIter<RecordBatch>)
        };
        let bucket = move |batches| BatchBucket::with_reads(batches, reads);
        Ok(match partitioning {
            Partitioning::Single => rdd.shuffle(
                "exchange single",
                1,
                None,
                move |_, iter, _| Ok(vec![bucket(iter.filter(|b| b.num_rows() > 0).collect())]),
                read,
            ),
            Partitioning::Hash(keys, n) => {
                let (keys, n) = (keys.clone(), *n);
                rdd.shuffle(
                    "exchange hash",
                    n,
                    None,
                    move |_, iter, _| {
                        let mut splitter = HashSplitter::new(keys.clone(), n);
                        let mut buckets: Vec<Vec<RecordBatch>> = vec![Vec::new(); n];
                        for b in iter {
                            splitter.split(&b, &mut buckets)?;
                        }
                        Ok(buckets.into_iter().map(bucket).collect())
                    },
                    read,
                )
            }
            Partitioning::Range(keys, n) => {
                let bounds = Arc::new(self.range_bounds(&rdd, keys, *n)?);
                let parts = bounds.len() + 1;
                let keys = keys.clone();
                rdd.shuffle(
                    "exchange range",
                    parts,
                    None,
                    move |_, iter, _| {
                        let mut splitter = RangeSplitter::new(keys.clone(), Arc::clone(&bounds));
                        let mut buckets: Vec<Vec<RecordBatch>> = vec![Vec::new(); parts];
                        for b in iter {
                            splitter.split(&b, &mut buckets)?;
                        }
                        Ok(buckets.into_iter().map(bucket).collect())
                    },
                    read,
                )
            }
        })
    }

    /// Samples the sort keys of `rdd` (one job) and picks `n - 1` bounds.
    fn range_bounds(&self, rdd: &Batches, keys: &[SortKey], n: usize) -> Result<Vec<Vec<u8>>> {
        let keys = keys.to_vec();
        let samples: Vec<Vec<u8>> = rdd
            .try_map_partitions_with_index(move |_, iter| {
                let mut converter = None;
                let mut out = Vec::new();
                for b in iter {
                    let rows = sort_rows(&keys, &b, &mut converter)?;
                    let stride = (rows.num_rows() / 32).max(1);
                    for i in (0..rows.num_rows()).step_by(stride) {
                        out.push(Ok(rows.row(i).as_ref().to_vec()));
                    }
                }
                Ok(out.into_iter())
            })
            .collect()?;
        let mut samples = samples;
        samples.sort();
        let mut bounds: Vec<Vec<u8>> = Vec::new();
        for i in 1..n {
            if let Some(b) = samples.get(i * samples.len() / n)
                && bounds.last() != Some(b)
            {
                bounds.push(b.clone());
            }
        }
        Ok(bounds)
    }
}

/// Collects an iterator inside a task.
/// The best `k` rows of a partition under `exprs` ordered by `options`,
/// streamed through a [`TopK`] that holds about `2k` rows, never the whole
/// partition.
fn top_k(
    iter: BoxIter<RecordBatch>,
    k: usize,
    exprs: &[PhysicalExprRef],
    options: &[arrow::compute::SortOptions],
    batch_size: usize,
) -> Result<Vec<RecordBatch>> {
    let mut top: Option<TopK> = None;
    let mut held: Option<crate::memory::Reservation> = None;
    for batch in iter.filter(|b| b.num_rows() > 0) {
        let cols = evaluate(exprs, &batch)?;
        let t = match &mut top {
            Some(t) => t,
            None => {
                let types: Vec<_> = cols.iter().map(|c| c.data_type().clone()).collect();
                top.insert(TopK::new(k, &types, options)?)
            }
        };
        t.push(&batch, &cols)?;
        // Re-reserve only when the buffer outgrew its reservation by a
        // quarter, not on every batch.
        let size = t.memory_size();
        if held.as_ref().map_or(0, |h| h.size()) < size.saturating_sub(size / 5) {
            // The old reservation goes back before the larger one is taken.
            drop(held.take());
            held = reserve("top-k", size + size / 4)?;
        }
    }
    top.map_or(Ok(vec![]), |t| t.finish(batch_size))
}

fn tc_guard(iter: BoxIter<RecordBatch>, _tc: &Arc<crate::TaskContext>) -> Vec<RecordBatch> {
    iter.collect()
}

/// Ends a fallible batch stream at its first error, failing the task, or
/// as soon as the job is cancelled.
fn stop_on_error(
    it: impl Iterator<Item = Result<RecordBatch>> + Send + 'static,
    tc: &Arc<crate::TaskContext>,
) -> BoxIter<RecordBatch> {
    let tc = Arc::clone(tc);
    Box::new(it.map_while(move |r| {
        if tc.is_cancelled() {
            tc.fail(crate::Error::Cancelled(tc.job_id()));
            return None;
        }
        match r {
            Ok(b) => Some(b),
            Err(e) => {
                tc.fail(e);
                None
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use arrow::array::{AsArray, Int64Array};
    use arrow::datatypes::{DataType, Field, Int64Type, Schema};

    use super::*;

    /// The first row of `sql`'s result, every column an Int64.
    fn first_row(ctx: &SessionContext, sql: &str) -> Vec<i64> {
        let out = ctx.sql(sql).unwrap().collect().unwrap();
        (0..out[0].num_columns())
            .map(|i| out[0].column(i).as_primitive::<Int64Type>().value(0))
            .collect()
    }

    #[test]
    fn coalesce_keeps_row_order() {
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
        let batch = |r: std::ops::Range<i64>| {
            RecordBatch::try_new(Arc::clone(&schema), vec![Arc::new(Int64Array::from_iter_values(r))]).unwrap()
        };
        // Small, large (passed through), small, small: a range-sorted
        // partition boundary falls between each.
        let out = coalesce(vec![batch(0..3), batch(3..13), batch(13..15), batch(15..16)], 8).unwrap();
        let rows: Vec<i64> = out
            .iter()
            .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
            .collect();
        assert_eq!(rows, (0..16).collect::<Vec<_>>());
    }

    #[test]
    fn a_shuffle_read_once_frees_its_buckets_and_a_second_read_recomputes_them() {
        let schema = Arc::new(Schema::new(vec![Field::new("k", DataType::Int64, false)]));
        let batches: Vec<RecordBatch> = (0..4)
            .map(|i| {
                let keys = Int64Array::from_iter_values((i * 100..(i + 1) * 100).map(|v| v % 7));
                RecordBatch::try_new(Arc::clone(&schema), vec![Arc::new(keys)]).unwrap()
            })
            .collect();
        let ctx = SessionContext::new();
        ctx.register_batches("t", batches).unwrap();
        let df = ctx.sql("SELECT k, count(*) AS c FROM t GROUP BY k").unwrap();
        let physical = df.physical_plan().unwrap();
        let counts = |rdd: &Batches| {
            let mut rows: Vec<(i64, i64)> = rdd
                .collect()
                .unwrap()
                .iter()
                .flat_map(|b| {
                    let (k, c) = (
                        b.column(0).as_primitive::<Int64Type>(),
                        b.column(1).as_primitive::<Int64Type>(),
                    );
                    (0..b.num_rows()).map(|i| (k.value(i), c.value(i))).collect::<Vec<_>>()
                })
                .collect();
            rows.sort_unstable();
            let resubmits = ctx.state.scheduler.last_job_metrics().unwrap().resubmits;
            (rows, resubmits)
        };
        // Kept: a second action skips the map stage.
        let kept = Lowering::new(&ctx, 8192, 2).lower(&physical).unwrap();
        let (expected, resubmits) = counts(&kept);
        assert_eq!(expected.len(), 7);
        assert_eq!(resubmits, 0);
        assert_eq!(counts(&kept), (expected.clone(), 0));
        // Taken by their one reader: the second action finds the buckets
        // gone and writes them again, with the same answer.
        let taken = Lowering::new(&ctx, 8192, 2)
            .consuming_exchanges()
            .lower(&physical)
            .unwrap();
        assert_eq!(counts(&taken), (expected.clone(), 0));
        assert_eq!(counts(&taken), (expected, 1));
    }

    #[test]
    fn a_retried_reader_still_finds_the_buckets_it_read() {
        // Every task's first attempt fails after its work: a reader's
        // buckets are freed only when an attempt succeeds.
        let config = crate::SessionConfig::new().with_fault_injection(crate::FaultInjection::new(1));
        let ctx = SessionContext::with_config(config);
        let schema = Arc::new(Schema::new(vec![Field::new("k", DataType::Int64, false)]));
        let keys = Int64Array::from_iter_values((0..400).map(|v| v % 7));
        ctx.register_batches("t", vec![RecordBatch::try_new(schema, vec![Arc::new(keys)]).unwrap()])
            .unwrap();
        let row = first_row(
            &ctx,
            "SELECT count(*), sum(c) FROM (SELECT k, count(*) AS c FROM t GROUP BY k) g",
        );
        assert_eq!(row, vec![7, 400]);
        assert_eq!(ctx.state.scheduler.last_job_metrics().unwrap().resubmits, 0);
    }

    #[test]
    fn a_partial_aggregate_that_does_not_reduce_flushes_and_still_merges() {
        // Every key twice, once in each half: a partial aggregate flushes
        // (more than PARTIAL_FLUSH_GROUPS keys, none repeated within a
        // half) and the final one merges the two halves' states.
        let n = 3 * PARTIAL_FLUSH_GROUPS as i64;
        let schema = Arc::new(Schema::new(vec![Field::new("k", DataType::Int64, false)]));
        let batches: Vec<RecordBatch> = (0..2)
            .flat_map(|_| (0..n).step_by(8192))
            .map(|start| {
                let keys = Int64Array::from_iter_values(start..(start + 8192).min(n));
                RecordBatch::try_new(Arc::clone(&schema), vec![Arc::new(keys)]).unwrap()
            })
            .collect();
        let ctx = SessionContext::new();
        ctx.sql("SET flint.shuffle.partitions = 2").unwrap().collect().unwrap();
        ctx.register_batches("t", batches).unwrap();
        let row = first_row(
            &ctx,
            "SELECT count(*), min(c), max(c) FROM (SELECT k, count(*) AS c FROM t GROUP BY k) g",
        );
        assert_eq!(row, vec![n, 2, 2]);
    }
}
