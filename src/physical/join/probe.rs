//! Probing a [`JoinHashTable`] with batches of the LEFT input.
//!
//! For each probe row the key's chain of build rows yields candidate pairs;
//! candidates are gathered up to `batch_size` at a time, the residual filter
//! (if any) removes pairs, and the surviving pairs are (a) output, for
//! inner/outer joins, and (b) recorded: which probe rows of this batch found
//! a partner (left outer, semi, anti, mark) and which build rows ever did
//! (right outer, full, right semi/anti). Probe-side leftovers are emitted at
//! the end of each probe batch, build-side leftovers once by
//! [`HashJoinProbe::finish_unmatched`]. Semi, anti and mark joins without a
//! filter only test whether a key exists and build no pairs at all.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, UInt32Array};
use arrow::compute::filter_record_batch;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use super::hash_table::{END, JoinHashTable, key_validity};
use super::{
    JoinType, Output, check_output_schema, emit_left_rows, emit_marked, emit_right_rows, emits_pairs, evaluate_filter,
    filter_indices, filter_schema, positions, take_pairs, tracks_left, tracks_right,
};
use crate::error::Result;
use crate::physical::expr::PhysicalExprRef;
use crate::{internal_err, not_supported};

/// Streams probe batches through a hash table (see the module docs).
#[derive(Debug)]
pub struct HashJoinProbe {
    table: Arc<JoinHashTable>,
    join_type: JoinType,
    filter: Option<PhysicalExprRef>,
    output: Output,
    null_aware: bool,
    batch_size: usize,
    /// Build rows that found a partner so far (when the join type cares).
    visited: Vec<bool>,
}

impl HashJoinProbe {
    /// A prober of `table` for `join_type` (probe = left, build = right)
    /// producing batches of `output_schema` (see
    /// [`super::join_output_schema`]) of at most `batch_size` rows.
    ///
    /// `filter` is evaluated over joined rows (probe columns, then build
    /// columns) and a pair failing it is no match. `null_aware` gives a
    /// left anti (or mark) join SQL `NOT IN` (`IN`) semantics: if the build
    /// side has a NULL key no probe row qualifies, and a probe row with a
    /// NULL key qualifies only when the build side is empty. It needs a
    /// single key column and no filter, and, when the build side is split
    /// into partitions, a table that holds the whole build side.
    pub fn try_new(
        table: Arc<JoinHashTable>,
        join_type: JoinType,
        filter: Option<PhysicalExprRef>,
        output_schema: SchemaRef,
        null_aware: bool,
        batch_size: usize,
    ) -> Result<Self> {
        check_output_schema(&output_schema, join_type, None, table.batch().num_columns())?;
        if null_aware {
            if !matches!(join_type, JoinType::LeftAnti | JoinType::LeftMark) {
                internal_err!("null-aware {join_type} join; only left anti and left mark joins can be");
            }
            if filter.is_some() {
                not_supported!("a null-aware anti join (NOT IN) with a residual filter");
            }
            if table.null_equals_null() {
                internal_err!("a null-aware join cannot treat NULL keys as equal");
            }
        }
        let visited = if tracks_right(join_type) {
            vec![false; table.num_rows()]
        } else {
            vec![]
        };
        Ok(Self {
            table,
            join_type,
            filter,
            output: Output::all(&output_schema),
            null_aware,
            batch_size: batch_size.max(1),
            visited,
        })
    }

    /// Emits only `columns` (indices into the output schema given to
    /// [`Self::try_new`], in this order) as batches of `schema`: the
    /// others are never gathered.
    pub fn with_projection(mut self, columns: Vec<usize>, schema: SchemaRef) -> Result<Self> {
        self.output = Output::project(&self.output.full, columns, schema)?;
        Ok(self)
    }

    /// The schema of the batches this prober emits.
    pub fn schema(&self) -> &SchemaRef {
        &self.output.schema
    }

    /// Joins one probe batch; `keys` are its evaluated join keys, of the
    /// build keys' types.
    pub fn probe(&mut self, batch: &RecordBatch, keys: &[ArrayRef]) -> Result<Vec<RecordBatch>> {
        let table = Arc::clone(&self.table);
        let build = table.batch();
        let jt = self.join_type;
        check_output_schema(&self.output.full, jt, Some(batch.num_columns()), build.num_columns())?;
        let n = batch.num_rows();
        if keys.iter().any(|k| k.len() != n) {
            internal_err!("probe keys do not have {n} rows");
        }
        if self.null_aware && keys.len() != 1 {
            not_supported!("a null-aware anti join (NOT IN) on {} columns", keys.len());
        }
        let key_valid = key_validity(keys);
        let mut left_matched = vec![false; if tracks_left(jt) { n } else { 0 }];
        let mut out = vec![];

        if let Some(rows) = table.encode(keys)? {
            let skip_nulls = !table.null_equals_null();
            let direct = self.filter.is_none() && !emits_pairs(jt);
            let left_only = tracks_left(jt) && !emits_pairs(jt);
            let fschema = self
                .filter
                .as_ref()
                .map(|_| filter_schema(batch.schema_ref(), build.schema_ref()));
            let mut pairs = Pairs::new(self.batch_size);
            let mut firsts = Vec::new();
            table.find_all(&rows, &mut firsts)?;
            for (i, &first) in firsts.iter().enumerate() {
                if first == END || skip_nulls && key_valid.as_ref().is_some_and(|v| v.is_null(i)) {
                    continue;
                }
                if direct {
                    if tracks_left(jt) {
                        left_matched[i] = true;
                    } else if !self.visited[first as usize] {
                        // Without a filter a key's rows are visited together.
                        table.chain(first).for_each(|r| self.visited[r as usize] = true);
                    }
                    continue;
                }
                for r in table.chain(first) {
                    pairs.left.push(i as u32);
                    pairs.right.push(r);
                    if pairs.left.len() >= self.batch_size {
                        self.flush(&mut pairs, batch, fschema.as_ref(), &mut left_matched, &mut out)?;
                        // A semi/anti/mark probe row needs only one match.
                        if left_only && left_matched[i] {
                            break;
                        }
                    }
                }
            }
            self.flush(&mut pairs, batch, fschema.as_ref(), &mut left_matched, &mut out)?;
        }

        let emit = |idx: UInt32Array| emit_left_rows(&self.output, batch, &idx, self.batch_size);
        match jt {
            JoinType::Left | JoinType::Full => out.extend(emit(positions(&left_matched, false))?),
            JoinType::LeftSemi => out.extend(emit(positions(&left_matched, true))?),
            // `x NOT IN (set with a NULL)` is never true: nothing qualifies.
            JoinType::LeftAnti if self.null_aware && table.has_null_key() => {}
            JoinType::LeftAnti if self.null_aware && table.num_rows() > 0 => {
                // `NULL NOT IN (non-empty set)` is NULL: those rows go too.
                let keep: Vec<bool> = (0..n)
                    .map(|i| !left_matched[i] && key_valid.as_ref().is_none_or(|v| v.is_valid(i)))
                    .collect();
                out.extend(emit(positions(&keep, true))?);
            }
            JoinType::LeftAnti => out.extend(emit(positions(&left_matched, false))?),
            JoinType::LeftMark => {
                let unknown = |i: usize| {
                    self.null_aware
                        && table.num_rows() > 0
                        && (table.has_null_key() || key_valid.as_ref().is_some_and(|v| v.is_null(i)))
                };
                let mark: BooleanArray = (0..n)
                    .map(|i| (left_matched[i] || !unknown(i)).then_some(left_matched[i]))
                    .collect();
                out.extend(emit_marked(&self.output, batch, mark, self.batch_size)?);
            }
            _ => {}
        }
        Ok(out)
    }

    /// Filters the gathered pairs, records matches, and outputs the pairs
    /// when the join type emits them.
    fn flush(
        &mut self,
        pairs: &mut Pairs,
        batch: &RecordBatch,
        fschema: Option<&SchemaRef>,
        left_matched: &mut [bool],
        out: &mut Vec<RecordBatch>,
    ) -> Result<()> {
        if pairs.left.is_empty() {
            return Ok(());
        }
        let (mut li, mut ri) = pairs.take();
        let build = self.table.batch();
        let mut filtered = None;
        if let (Some(f), Some(fschema)) = (&self.filter, fschema) {
            let joined = take_pairs(batch, &li, build, &ri)?;
            let mask = evaluate_filter(f.as_ref(), fschema, joined.clone(), li.len())?;
            if emits_pairs(self.join_type) {
                let rows = self.output.select(joined, li.len())?;
                filtered = Some(if mask.true_count() < li.len() {
                    filter_record_batch(&rows, &mask)?
                } else {
                    rows
                });
            }
            if mask.true_count() < li.len() {
                li = filter_indices(&li, &mask)?;
                ri = filter_indices(&ri, &mask)?;
            }
        }
        if tracks_left(self.join_type) {
            li.values().iter().for_each(|&i| left_matched[i as usize] = true);
        }
        if tracks_right(self.join_type) {
            ri.values().iter().for_each(|&r| self.visited[r as usize] = true);
        }
        if emits_pairs(self.join_type) && !li.is_empty() {
            out.push(match filtered {
                Some(rows) => rows,
                None => self.output.pairs(batch, &li, build, &ri)?,
            });
        }
        Ok(())
    }

    /// After the last probe batch: the build rows that right and full joins
    /// keep without a partner (with NULL probe columns), or that right
    /// semi/anti joins keep. Empty for the other join types.
    pub fn finish_unmatched(self) -> Result<Vec<RecordBatch>> {
        let want = match self.join_type {
            JoinType::Right | JoinType::Full | JoinType::RightAnti => false,
            JoinType::RightSemi => true,
            _ => return Ok(vec![]),
        };
        emit_right_rows(
            &self.output,
            self.table.batch(),
            &positions(&self.visited, want),
            self.batch_size,
        )
    }

    /// Approximate bytes held besides the table.
    pub fn memory_size(&self) -> usize {
        self.visited.capacity()
    }
}

/// Candidate (probe row, build row) pairs.
struct Pairs {
    left: Vec<u32>,
    right: Vec<u32>,
    capacity: usize,
}

impl Pairs {
    fn new(capacity: usize) -> Self {
        Self {
            left: Vec::with_capacity(capacity),
            right: Vec::with_capacity(capacity),
            capacity,
        }
    }

    /// The pairs as index arrays, leaving fresh buffers behind.
    fn take(&mut self) -> (UInt32Array, UInt32Array) {
        let l = std::mem::replace(&mut self.left, Vec::with_capacity(self.capacity));
        let r = std::mem::replace(&mut self.right, Vec::with_capacity(self.capacity));
        (UInt32Array::from(l), UInt32Array::from(r))
    }
}
