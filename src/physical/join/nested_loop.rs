//! Nested-loop join: joins without equi-keys (cross joins and non-equi
//! conditions).
//!
//! The work is done block-wise, never pair by pair: a block of left rows is
//! paired with all right rows (or, for a wide right side, one left row with
//! a chunk of right rows) by building repeated index arrays, the joined
//! block is gathered with `take`, and the filter is evaluated over the whole
//! block at once. A block holds about `batch_size` pairs, which bounds the
//! memory and the output batch size.

use std::iter::repeat_n;

use arrow::array::{BooleanArray, UInt32Array};
use arrow::compute::filter as filter_array;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use super::{
    JoinType, Output, check_output_schema, emit_left_rows, emit_marked, emit_right_rows, emits_pairs, evaluate_filter,
    filter_indices, filter_schema, make_batch, positions, take_pairs, tracks_right,
};
use crate::error::Result;
use crate::physical::expr::PhysicalExpr;

/// Joins all of `left` with all of `right` on `filter` (every pair matches
/// without one) for any join type but right mark, producing batches of
/// `output_schema` (see [`super::join_output_schema`]) of at most
/// `batch_size` rows.
pub fn nested_loop_join(
    left: &RecordBatch,
    right: &RecordBatch,
    join_type: JoinType,
    filter: Option<&dyn PhysicalExpr>,
    output_schema: &SchemaRef,
    batch_size: usize,
) -> Result<Vec<RecordBatch>> {
    check_output_schema(output_schema, join_type, Some(left.num_columns()), right.num_columns())?;
    let output = Output::all(output_schema);
    let batch_size = batch_size.max(1);
    let (nl, nr) = (left.num_rows(), right.num_rows());
    let mut left_matched = vec![false; nl];
    let mut right_matched = vec![false; if tracks_right(join_type) { nr } else { 0 }];
    let mut out = vec![];

    if filter.is_none() && !emits_pairs(join_type) {
        // Every pair matches: a row matches iff the other side is non-empty.
        left_matched.iter_mut().for_each(|m| *m = nr > 0);
        right_matched.iter_mut().for_each(|m| *m = nl > 0);
    } else if nl > 0 && nr > 0 {
        let fschema = filter.map(|_| filter_schema(left.schema_ref(), right.schema_ref()));
        let (left_block, right_chunk) = if nr <= batch_size {
            (batch_size / nr, nr)
        } else {
            (1, batch_size)
        };
        for ls in (0..nl).step_by(left_block) {
            let ll = left_block.min(nl - ls);
            for rs in (0..nr).step_by(right_chunk) {
                let rl = right_chunk.min(nr - rs);
                let mut li = UInt32Array::from_iter_values((ls..ls + ll).flat_map(|i| repeat_n(i as u32, rl)));
                let mut ri = UInt32Array::from_iter_values((0..ll).flat_map(|_| rs as u32..(rs + rl) as u32));
                let mut joined = take_pairs(left, &li, right, &ri)?;
                if let (Some(f), Some(fschema)) = (filter, &fschema) {
                    let mask = evaluate_filter(f, fschema, joined.clone(), li.len())?;
                    if mask.true_count() < li.len() {
                        li = filter_indices(&li, &mask)?;
                        ri = filter_indices(&ri, &mask)?;
                        if emits_pairs(join_type) {
                            joined = joined
                                .iter()
                                .map(|c| filter_array(c, &mask))
                                .collect::<Result<_, _>>()?;
                        }
                    }
                }
                li.values().iter().for_each(|&i| left_matched[i as usize] = true);
                if tracks_right(join_type) {
                    ri.values().iter().for_each(|&r| right_matched[r as usize] = true);
                }
                if emits_pairs(join_type) && !li.is_empty() {
                    out.push(make_batch(output_schema, joined, li.len())?);
                }
            }
        }
    }

    let left_rows = |want: bool| emit_left_rows(&output, left, &positions(&left_matched, want), batch_size);
    let right_rows = |want: bool| emit_right_rows(&output, right, &positions(&right_matched, want), batch_size);
    match join_type {
        JoinType::Inner => {}
        JoinType::Left => out.extend(left_rows(false)?),
        JoinType::Right => out.extend(right_rows(false)?),
        JoinType::Full => {
            out.extend(left_rows(false)?);
            out.extend(right_rows(false)?);
        }
        JoinType::LeftSemi => out.extend(left_rows(true)?),
        JoinType::LeftAnti => out.extend(left_rows(false)?),
        JoinType::RightSemi => out.extend(right_rows(true)?),
        JoinType::RightAnti => out.extend(right_rows(false)?),
        JoinType::LeftMark => {
            let mark = BooleanArray::from(left_matched.clone());
            out.extend(emit_marked(&output, left, mark, batch_size)?);
        }
        JoinType::RightMark => {}
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::super::join_output_schema;
    use super::super::test_util::{ColumnCmp, Op, rows};
    use super::*;

    fn sides() -> (RecordBatch, RecordBatch) {
        let l = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("a", DataType::Int64, true),
                Field::new("la", DataType::Utf8, false),
            ])),
            vec![
                Arc::new(Int64Array::from(vec![Some(1), Some(5), None, Some(3)])) as ArrayRef,
                Arc::new(StringArray::from(vec!["l1", "l5", "lnull", "l3"])),
            ],
        )
        .unwrap();
        let r = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("b", DataType::Int64, false)])),
            vec![Arc::new(Int64Array::from(vec![2, 4, 4])) as ArrayRef],
        )
        .unwrap();
        (l, r)
    }

    fn run(jt: JoinType, filter: Option<&dyn PhysicalExpr>, batch_size: usize) -> Vec<String> {
        let (l, r) = sides();
        let schema = join_output_schema(l.schema_ref(), r.schema_ref(), jt).unwrap();
        let out = nested_loop_join(&l, &r, jt, filter, &schema, batch_size).unwrap();
        assert!(out.iter().all(|b| b.num_rows() <= batch_size && b.schema() == schema));
        rows(&out)
    }

    #[test]
    fn cross_join_in_blocks() {
        for bs in [1, 2, 5, 100] {
            let out = run(JoinType::Inner, None, bs);
            assert_eq!(out.len(), 12);
            assert!(out.contains(&"∅|lnull|4".to_string()));
        }
    }

    #[test]
    fn every_join_type_with_a_non_equi_filter() {
        // a < b
        let lt = ColumnCmp::new(0, Op::Lt, 2);
        let f: Option<&dyn PhysicalExpr> = Some(&lt);
        for bs in [1, 2, 1000] {
            assert_eq!(
                run(JoinType::Inner, f, bs),
                vec!["1|l1|2", "1|l1|4", "1|l1|4", "3|l3|4", "3|l3|4"]
            );
            assert_eq!(
                run(JoinType::Left, f, bs),
                vec!["1|l1|2", "1|l1|4", "1|l1|4", "3|l3|4", "3|l3|4", "5|l5|∅", "∅|lnull|∅"]
            );
            let right = run(JoinType::Right, f, bs);
            assert_eq!(right, vec!["1|l1|2", "1|l1|4", "1|l1|4", "3|l3|4", "3|l3|4"]);
            assert_eq!(run(JoinType::Full, f, bs).len(), 7);
            assert_eq!(run(JoinType::LeftSemi, f, bs), vec!["1|l1", "3|l3"]);
            assert_eq!(run(JoinType::LeftAnti, f, bs), vec!["5|l5", "∅|lnull"]);
            assert_eq!(run(JoinType::RightSemi, f, bs), vec!["2", "4", "4"]);
            assert!(run(JoinType::RightAnti, f, bs).is_empty());
            assert_eq!(
                run(JoinType::LeftMark, f, bs),
                vec!["1|l1|true", "3|l3|true", "5|l5|false", "∅|lnull|false"]
            );
        }
        // a > b: no left row exceeds 4 except 5, and right row 2 pairs with 3 and 5.
        let gt = ColumnCmp::new(0, Op::Gt, 2);
        assert_eq!(run(JoinType::RightAnti, Some(&gt), 2), Vec::<String>::new());
        let eq = ColumnCmp::new(0, Op::Eq, 2);
        assert_eq!(run(JoinType::Full, Some(&eq), 2).len(), 7);
        assert_eq!(run(JoinType::RightAnti, Some(&eq), 2), vec!["2", "4", "4"]);
    }

    #[test]
    fn empty_sides() {
        let (l, r) = sides();
        let empty_r = r.slice(0, 0);
        let schema = join_output_schema(l.schema_ref(), r.schema_ref(), JoinType::Left).unwrap();
        let out = nested_loop_join(&l, &empty_r, JoinType::Left, None, &schema, 10).unwrap();
        assert_eq!(rows(&out).len(), 4);
        let schema = join_output_schema(l.schema_ref(), r.schema_ref(), JoinType::LeftAnti).unwrap();
        let out = nested_loop_join(&l, &empty_r, JoinType::LeftAnti, None, &schema, 10).unwrap();
        assert_eq!(rows(&out).len(), 4);
        let schema = join_output_schema(l.schema_ref(), r.schema_ref(), JoinType::LeftSemi).unwrap();
        assert!(rows(&nested_loop_join(&l, &empty_r, JoinType::LeftSemi, None, &schema, 10).unwrap()).is_empty());
        let schema = join_output_schema(l.schema_ref(), r.schema_ref(), JoinType::Inner).unwrap();
        assert!(
            nested_loop_join(&l.slice(0, 0), &r, JoinType::Inner, None, &schema, 10)
                .unwrap()
                .is_empty()
        );
        // A schema of the wrong shape is an error, not a panic.
        assert!(nested_loop_join(&l, &r, JoinType::LeftSemi, None, &schema, 10).is_err());
    }
}
