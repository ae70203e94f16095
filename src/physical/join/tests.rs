//! Tests of [`JoinHashTable`] and [`HashJoinProbe`]: every join type with
//! and without a residual filter, NULL keys, null-aware anti join,
//! duplicates on both sides, unmatched build rows across probe batches.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int32Array, Int64Array, StringViewArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;

use super::test_util::{ColumnCmp, Op, rows};
use super::*;
use crate::physical::expr::PhysicalExprRef;

fn batch(names: [&str; 2], k: Vec<Option<i64>>, v: Vec<i64>) -> RecordBatch {
    let schema = Schema::new(vec![
        Field::new(names[0], DataType::Int64, true),
        Field::new(names[1], DataType::Int64, false),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![Arc::new(Int64Array::from(k)) as ArrayRef, Arc::new(Int64Array::from(v))],
    )
    .unwrap()
}

/// Build side (right): two batches, a duplicate key and a NULL key.
fn build_batches() -> Vec<RecordBatch> {
    vec![
        batch(["k", "t"], vec![Some(1), Some(2), Some(2)], vec![10, 20, 21]),
        batch(["k", "t"], vec![None, Some(4)], vec![30, 40]),
    ]
}

/// Probe side (left): two batches.
fn probe_batches() -> Vec<RecordBatch> {
    vec![
        batch(["k", "s"], vec![Some(1), Some(2), Some(3), None], vec![10, 20, 30, 40]),
        batch(["k", "s"], vec![Some(2), Some(5)], vec![99, 50]),
    ]
}

fn table(build: Vec<RecordBatch>, null_equals_null: bool) -> Arc<JoinHashTable> {
    let schema = build_batches()[0].schema();
    let keys = build.iter().map(|b| vec![Arc::clone(b.column(0))]).collect();
    Arc::new(JoinHashTable::build(schema, build, keys, null_equals_null).unwrap())
}

fn output_schema(jt: JoinType) -> SchemaRef {
    join_output_schema(probe_batches()[0].schema_ref(), build_batches()[0].schema_ref(), jt).unwrap()
}

struct Run {
    table: Arc<JoinHashTable>,
    filter: Option<PhysicalExprRef>,
    null_aware: bool,
    batch_size: usize,
    projection: Option<Vec<usize>>,
}

impl Run {
    fn new() -> Self {
        Self {
            table: table(build_batches(), false),
            filter: None,
            null_aware: false,
            batch_size: 1024,
            projection: None,
        }
    }

    fn join(&self, jt: JoinType) -> Vec<String> {
        self.join_probes(jt, probe_batches())
    }

    fn join_probes(&self, jt: JoinType, probes: Vec<RecordBatch>) -> Vec<String> {
        let full = output_schema(jt);
        let mut p = HashJoinProbe::try_new(
            Arc::clone(&self.table),
            jt,
            self.filter.clone(),
            Arc::clone(&full),
            self.null_aware,
            self.batch_size,
        )
        .unwrap();
        let schema = match &self.projection {
            Some(cols) => {
                let schema = Arc::new(full.project(cols).unwrap());
                p = p.with_projection(cols.clone(), Arc::clone(&schema)).unwrap();
                schema
            }
            None => full,
        };
        assert_eq!(p.schema(), &schema);
        let mut out = vec![];
        for b in &probes {
            out.extend(p.probe(b, &[Arc::clone(b.column(0))]).unwrap());
        }
        out.extend(p.finish_unmatched().unwrap());
        for b in &out {
            assert_eq!(b.schema(), schema);
            assert!(b.num_rows() <= self.batch_size && b.num_rows() > 0);
        }
        rows(&out)
    }
}

const INNER: [&str; 5] = ["1|10|1|10", "2|20|2|20", "2|20|2|21", "2|99|2|20", "2|99|2|21"];
const LEFT_ONLY: [&str; 3] = ["3|30|∅|∅", "5|50|∅|∅", "∅|40|∅|∅"];
const RIGHT_ONLY: [&str; 2] = ["∅|∅|4|40", "∅|∅|∅|30"];

fn sorted(parts: &[&[&str]]) -> Vec<String> {
    let mut v: Vec<String> = parts.iter().flat_map(|p| p.iter().map(|s| s.to_string())).collect();
    v.sort();
    v
}

#[test]
fn every_join_type_without_filter() {
    for batch_size in [1, 2, 1024] {
        let run = Run {
            batch_size,
            ..Run::new()
        };
        assert_eq!(run.join(JoinType::Inner), sorted(&[&INNER]));
        assert_eq!(run.join(JoinType::Left), sorted(&[&INNER, &LEFT_ONLY]));
        assert_eq!(run.join(JoinType::Right), sorted(&[&INNER, &RIGHT_ONLY]));
        assert_eq!(run.join(JoinType::Full), sorted(&[&INNER, &LEFT_ONLY, &RIGHT_ONLY]));
        assert_eq!(run.join(JoinType::LeftSemi), vec!["1|10", "2|20", "2|99"]);
        assert_eq!(run.join(JoinType::LeftAnti), vec!["3|30", "5|50", "∅|40"]);
        assert_eq!(run.join(JoinType::RightSemi), vec!["1|10", "2|20", "2|21"]);
        assert_eq!(run.join(JoinType::RightAnti), vec!["4|40", "∅|30"]);
        assert_eq!(
            run.join(JoinType::LeftMark),
            vec![
                "1|10|true",
                "2|20|true",
                "2|99|true",
                "3|30|false",
                "5|50|false",
                "∅|40|false"
            ]
        );
    }
}

#[test]
fn residual_filter_takes_part_in_matching() {
    // s <> t, as in TPC-H q21's `l3.l_suppkey <> l1.l_suppkey`.
    let filter: PhysicalExprRef = Arc::new(ColumnCmp::new(1, Op::NotEq, 3));
    for batch_size in [1, 3, 1024] {
        let run = Run {
            filter: Some(Arc::clone(&filter)),
            batch_size,
            ..Run::new()
        };
        let inner = ["2|20|2|21", "2|99|2|20", "2|99|2|21"];
        let left_only = ["1|10|∅|∅", "3|30|∅|∅", "5|50|∅|∅", "∅|40|∅|∅"];
        let right_only = ["∅|∅|1|10", "∅|∅|4|40", "∅|∅|∅|30"];
        assert_eq!(run.join(JoinType::Inner), sorted(&[&inner]));
        assert_eq!(run.join(JoinType::Left), sorted(&[&inner, &left_only]));
        assert_eq!(run.join(JoinType::Right), sorted(&[&inner, &right_only]));
        assert_eq!(run.join(JoinType::Full), sorted(&[&inner, &left_only, &right_only]));
        assert_eq!(run.join(JoinType::LeftSemi), vec!["2|20", "2|99"]);
        assert_eq!(run.join(JoinType::LeftAnti), vec!["1|10", "3|30", "5|50", "∅|40"]);
        assert_eq!(run.join(JoinType::RightSemi), vec!["2|20", "2|21"]);
        assert_eq!(run.join(JoinType::RightAnti), vec!["1|10", "4|40", "∅|30"]);
        assert_eq!(
            run.join(JoinType::LeftMark),
            vec![
                "1|10|false",
                "2|20|true",
                "2|99|true",
                "3|30|false",
                "5|50|false",
                "∅|40|false"
            ]
        );
    }
}

#[test]
fn null_aware_anti_join_is_not_in() {
    // Build side with a NULL key: `x NOT IN (1, 2, 2, NULL, 4)` is never true.
    let run = Run {
        null_aware: true,
        ..Run::new()
    };
    assert!(run.join(JoinType::LeftAnti).is_empty());
    assert_eq!(
        run.join(JoinType::LeftMark),
        vec!["1|10|true", "2|20|true", "2|99|true", "3|30|∅", "5|50|∅", "∅|40|∅"]
    );
    // Without the NULL: non-matching rows qualify, but a NULL probe key does not.
    let no_null = vec![build_batches().remove(0), build_batches()[1].slice(1, 1)];
    let run = Run {
        table: table(no_null, false),
        null_aware: true,
        ..Run::new()
    };
    assert!(!run.table.has_null_key());
    assert_eq!(run.join(JoinType::LeftAnti), vec!["3|30", "5|50"]);
    // Empty build side: every probe row qualifies, NULL key included.
    let run = Run {
        table: table(vec![], false),
        null_aware: true,
        ..Run::new()
    };
    assert_eq!(run.join(JoinType::LeftAnti).len(), 6);
    // Without null awareness NULL keys simply never match.
    assert!(Run::new().table.has_null_key());
}

#[test]
fn null_equals_null_matches_null_keys() {
    let run = Run {
        table: table(build_batches(), true),
        ..Run::new()
    };
    let mut expected = sorted(&[&INNER]);
    expected.push("∅|40|∅|30".into());
    assert_eq!(run.join(JoinType::Inner), expected);
    assert_eq!(run.join(JoinType::RightAnti), vec!["4|40"]);
}

#[test]
fn empty_build_side() {
    let run = Run {
        table: table(vec![], false),
        ..Run::new()
    };
    assert_eq!(run.table.num_rows(), 0);
    assert!(run.join(JoinType::Inner).is_empty());
    assert_eq!(
        run.join(JoinType::Left),
        sorted(&[&["1|10|∅|∅", "2|20|∅|∅", "2|99|∅|∅"], &LEFT_ONLY])
    );
    assert_eq!(run.join(JoinType::LeftAnti).len(), 6);
    assert!(run.join(JoinType::RightAnti).is_empty());
}

#[test]
fn duplicates_on_both_sides_respect_batch_size() {
    let build = vec![batch(["k", "t"], vec![Some(7); 100], (0..100).collect())];
    let probe = vec![batch(
        ["k", "s"],
        vec![Some(7), Some(8), Some(7), Some(7)],
        vec![1, 2, 3, 4],
    )];
    let run = Run {
        table: table(build, false),
        batch_size: 64,
        ..Run::new()
    };
    assert_eq!(run.join_probes(JoinType::Inner, probe.clone()).len(), 300);
    assert_eq!(run.join_probes(JoinType::Full, probe.clone()).len(), 301);
    assert_eq!(
        run.join_probes(JoinType::LeftSemi, probe.clone()),
        vec!["7|1", "7|3", "7|4"]
    );
    assert!(run.table.memory_size() > 0);
}

#[test]
fn multi_column_keys_with_views() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("name", DataType::Utf8View, true),
        Field::new("n", DataType::Int32, true),
    ]));
    let side = |names: Vec<Option<&str>>, ns: Vec<Option<i32>>| {
        RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(StringViewArray::from(names)) as ArrayRef,
                Arc::new(Int32Array::from(ns)),
            ],
        )
        .unwrap()
    };
    let long = "a string long enough not to be inlined in a view";
    let build = side(
        vec![Some(long), Some("x"), Some(long), None],
        vec![Some(1), Some(1), Some(1), Some(1)],
    );
    let probe = side(
        vec![Some(long), Some("x"), None, Some(long)],
        vec![Some(1), Some(2), Some(1), Some(1)],
    );
    let keys = |b: &RecordBatch| b.columns().to_vec();
    let t =
        Arc::new(JoinHashTable::build(Arc::clone(&schema), vec![build.clone()], vec![keys(&build)], false).unwrap());
    let out_schema = join_output_schema(&schema, &schema, JoinType::Inner).unwrap();
    let mut p = HashJoinProbe::try_new(t, JoinType::Inner, None, out_schema, false, 10).unwrap();
    let out = p.probe(&probe, &keys(&probe)).unwrap();
    // Probe rows 0 and 3 each match build rows 0 and 2.
    assert_eq!(rows(&out).len(), 4);
    assert!(rows(&out).iter().all(|r| r.starts_with(long)));
}

#[test]
fn two_integer_key_columns_are_packed_exactly() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("a", DataType::Int32, true),
        Field::new("b", DataType::Int64, true),
    ]));
    let side = |a: Vec<Option<i32>>, b: Vec<Option<i64>>| {
        RecordBatch::try_new(
            Arc::clone(&schema),
            vec![Arc::new(Int32Array::from(a)) as ArrayRef, Arc::new(Int64Array::from(b))],
        )
        .unwrap()
    };
    // Keys that agree in one column, swap signs, or differ only by a NULL.
    let build = side(
        vec![Some(1), Some(-1), Some(0), None, Some(i32::MIN)],
        vec![Some(-1), Some(1), Some(-1), Some(0), Some(i64::MAX)],
    );
    let probe = side(
        vec![Some(-1), Some(1), Some(0), Some(0), Some(i32::MIN), None],
        vec![Some(1), Some(-1), Some(0), Some(-1), Some(i64::MAX), Some(0)],
    );
    let keys = |b: &RecordBatch| b.columns().to_vec();
    let t =
        Arc::new(JoinHashTable::build(Arc::clone(&schema), vec![build.clone()], vec![keys(&build)], false).unwrap());
    let out_schema = join_output_schema(&schema, &schema, JoinType::Inner).unwrap();
    let mut p = HashJoinProbe::try_new(t, JoinType::Inner, None, out_schema, false, 10).unwrap();
    let mut got = rows(&p.probe(&probe, &keys(&probe)).unwrap());
    got.sort();
    let min = format!("{}|{}|{}|{}", i32::MIN, i64::MAX, i32::MIN, i64::MAX);
    let mut want = vec!["-1|1|-1|1".to_string(), "0|-1|0|-1".into(), "1|-1|1|-1".into(), min];
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn dense_and_hashed_single_keys_find_the_same_rows() {
    let probe = vec![batch(
        ["k", "s"],
        vec![
            Some(i64::MIN),
            Some(-4),
            Some(-3),
            Some(5),
            Some(6),
            Some(1000),
            Some(1001),
            Some(i64::MAX),
            None,
        ],
        (0..9).collect(),
    )];
    let keys = vec![Some(-3), Some(5), Some(1000), None, Some(5)];
    let expected = ["-3|2|-3|0", "1000|5|1000|2", "5|3|5|1", "5|3|5|4"];
    // A span of 1,004 values: looked up by offset.
    let run = Run {
        table: table(vec![batch(["k", "t"], keys.clone(), (0..5).collect())], false),
        ..Run::new()
    };
    assert!(run.table.is_dense());
    assert_eq!(run.join_probes(JoinType::Inner, probe.clone()), expected);
    assert_eq!(run.join_probes(JoinType::LeftAnti, probe.clone()).len(), 6);
    // i64::MAX widens the span past any array: hashed, same answers.
    let run = Run {
        table: table(
            vec![batch(
                ["k", "t"],
                [keys.clone(), vec![Some(i64::MAX)]].concat(),
                (0..6).collect(),
            )],
            false,
        ),
        ..Run::new()
    };
    assert!(!run.table.is_dense());
    let mut with_max = expected.map(String::from).to_vec();
    with_max.push(format!("{0}|7|{0}|5", i64::MAX));
    with_max.sort();
    assert!(!run.table.has_key_bits());
    assert_eq!(run.join_probes(JoinType::Inner, probe.clone()), with_max);
    // 200,000 spans too many slots per row for an array but few enough
    // for a bit per value: hashed behind the bits, same answers.
    let run = Run {
        table: table(
            vec![batch(
                ["k", "t"],
                [keys, vec![Some(200_000)]].concat(),
                (0..6).collect(),
            )],
            false,
        ),
        ..Run::new()
    };
    assert!(!run.table.is_dense() && run.table.has_key_bits());
    let mut probe = probe;
    probe.push(batch(
        ["k", "s"],
        vec![Some(199_999), Some(200_000), Some(200_001)],
        (9..12).collect(),
    ));
    let mut with_far = expected.map(String::from).to_vec();
    with_far.push("200000|10|200000|5".into());
    with_far.sort();
    assert_eq!(run.join_probes(JoinType::Inner, probe.clone()), with_far);
    assert_eq!(run.join_probes(JoinType::LeftAnti, probe).len(), 8);
}

#[test]
fn misuse_is_an_error_not_a_panic() {
    let run = Run::new();
    let schema = output_schema(JoinType::Inner);
    let mut p = HashJoinProbe::try_new(Arc::clone(&run.table), JoinType::Inner, None, schema, false, 10).unwrap();
    let b = &probe_batches()[0];
    // Keys of another type than the build keys.
    let wrong: ArrayRef = Arc::new(Int32Array::from(vec![1, 2, 3, 4]));
    assert!(p.probe(b, &[wrong]).is_err());
    // Keys of the wrong length.
    assert!(p.probe(b, &[b.column(0).slice(0, 2)]).is_err());
    // A schema that does not fit, and null-aware joins of the wrong kind.
    let semi = output_schema(JoinType::LeftSemi);
    let mut p = HashJoinProbe::try_new(Arc::clone(&run.table), JoinType::Inner, None, semi.clone(), false, 1).unwrap();
    assert!(p.probe(b, &[Arc::clone(b.column(0))]).is_err());
    assert!(HashJoinProbe::try_new(Arc::clone(&run.table), JoinType::LeftSemi, None, semi, true, 1).is_err());
    let anti = output_schema(JoinType::LeftAnti);
    let f: PhysicalExprRef = Arc::new(ColumnCmp::new(1, Op::NotEq, 3));
    assert!(HashJoinProbe::try_new(run.table, JoinType::LeftAnti, Some(f), anti, true, 1).is_err());
}

#[test]
fn a_projection_emits_the_picked_columns_of_every_join_type() {
    let pick = |row: &str, cols: &[usize]| {
        let f: Vec<&str> = row.split('|').collect();
        cols.iter().map(|&i| f[i]).collect::<Vec<_>>().join("|")
    };
    for jt in [
        JoinType::Inner,
        JoinType::Left,
        JoinType::Right,
        JoinType::Full,
        JoinType::LeftSemi,
        JoinType::LeftAnti,
        JoinType::LeftMark,
        JoinType::RightSemi,
        JoinType::RightAnti,
    ] {
        for with_filter in [false, true] {
            let mut run = Run::new();
            run.batch_size = 2;
            if with_filter {
                // s <> t over the joined row.
                run.filter = Some(Arc::new(ColumnCmp::new(1, Op::NotEq, 3)));
            }
            let all = run.join(jt);
            let n = output_schema(jt).fields().len();
            let cols: Vec<usize> = (0..n).rev().step_by(2).collect();
            run.projection = Some(cols.clone());
            let mut want: Vec<String> = all.iter().map(|r| pick(r, &cols)).collect();
            want.sort();
            let mut got = run.join(jt);
            got.sort();
            assert_eq!(got, want, "{jt} filter={with_filter} columns={cols:?}");
        }
    }
}

/// A build side large enough to be split over several tables, with every
/// key twice, NULL keys, one and two key columns: each probe key finds
/// exactly its rows, in ascending order.
#[test]
fn split_builds_find_every_row_of_a_key() {
    let n = 3 * (1 << 16);
    let key = |i: usize| (i / 2) as i64 * 7919;
    let k1: ArrayRef = Arc::new(Int64Array::from_iter((0..n).map(|i| (i % 97 != 5).then(|| key(i)))));
    let k2: ArrayRef = Arc::new(Int64Array::from_iter((0..n).map(|i| Some(key(i) % 13))));
    let schema = Arc::new(Schema::new(vec![
        Field::new("a", DataType::Int64, true),
        Field::new("b", DataType::Int64, false),
    ]));
    let build = RecordBatch::try_new(Arc::clone(&schema), vec![Arc::clone(&k1), Arc::clone(&k2)]).unwrap();
    let probe_rows: Vec<usize> = (0..n).step_by(37).chain([5, 6]).collect();
    for cols in [vec![Arc::clone(&k1)], vec![Arc::clone(&k1), Arc::clone(&k2)]] {
        let table = JoinHashTable::build(Arc::clone(&schema), vec![build.clone()], vec![cols.clone()], false).unwrap();
        assert!(table.is_split());
        let probe: Vec<ArrayRef> = cols
            .iter()
            .map(|c| {
                arrow::compute::take(
                    c,
                    &arrow::array::UInt32Array::from_iter_values(probe_rows.iter().map(|&r| r as u32)),
                    None,
                )
                .unwrap()
            })
            .collect();
        let encoded = table.encode(&probe).unwrap().unwrap();
        let mut first = Vec::new();
        table.find_all(&encoded, &mut first).unwrap();
        for (&r, &f) in probe_rows.iter().zip(&first) {
            if r % 97 == 5 {
                continue; // a NULL key: its answer is arbitrary
            }
            // Rows 2j and 2j + 1 share a key; NULL rows are left out.
            let want: Vec<u32> = [r / 2 * 2, r / 2 * 2 + 1]
                .into_iter()
                .filter(|i| i % 97 != 5)
                .map(|i| i as u32)
                .collect();
            let got: Vec<u32> = if f == hash_table::END {
                vec![]
            } else {
                table.chain(f).collect()
            };
            assert_eq!(got, want, "probe row {r}");
        }
    }
}

#[test]
fn consecutive_positions_gather_as_a_slice_and_others_as_copies() {
    let column: ArrayRef = Arc::new(arrow::array::Int64Array::from_iter_values(0..10));
    let run = UInt32Array::from(vec![3, 4, 5]);
    let gathered = Rows::of(&run).gather(&column).unwrap();
    assert_eq!(
        gathered.as_primitive::<arrow::datatypes::Int64Type>().values(),
        &[3, 4, 5]
    );
    // A slice shares the column's buffer.
    assert_eq!(
        gathered.to_data().buffers()[0].data_ptr(),
        column.to_data().buffers()[0].data_ptr()
    );
    for scattered in [vec![3, 5, 4], vec![3, 3]] {
        let indices = UInt32Array::from(scattered.clone());
        assert!(matches!(Rows::of(&indices), Rows::Scattered(_)), "{scattered:?}");
    }
    let with_null = UInt32Array::from(vec![Some(0), None]);
    assert!(matches!(Rows::of(&with_null), Rows::Scattered(_)));
}
