//! End-to-end tests of [`HashAggregator`]: every aggregate through
//! `Partial` → `Final` equals `Single`, empty inputs, keys, DISTINCT.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array, Int64Array,
    StringArray, StringViewArray,
};
use arrow::datatypes::{DataType, Decimal128Type, Float64Type, Int64Type};
use arrow::util::display::{ArrayFormatter, FormatOptions};

use super::*;
use crate::functions::AggregateFunction::{self, *};

fn spec(func: AggregateFunction, input: Option<DataType>) -> AggregateSpec {
    AggregateSpec::try_new(func, false, input).unwrap()
}

/// Rows as sorted strings (floats rounded, so merge order does not show).
fn rows(batches: &[Vec<ArrayRef>]) -> Vec<String> {
    let mut out = vec![];
    for cols in batches {
        let fmts: Vec<_> = cols
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &FormatOptions::default().with_null("∅")).unwrap())
            .collect();
        for r in 0..cols.first().map_or(0, |c| c.len()) {
            let cells: Vec<String> = cols
                .iter()
                .zip(&fmts)
                .map(|(c, f)| match c.as_primitive_opt::<Float64Type>() {
                    Some(fl) if fl.is_valid(r) => format!("{:.9}", fl.value(r)),
                    _ => f.value(r).to_string(),
                })
                .collect();
            out.push(cells.join("|"));
        }
    }
    out.sort();
    out
}

/// Test data: two group keys (Utf8 with NULLs, Int32) and one value column
/// per interesting type, all with NULLs.
fn data() -> (Vec<ArrayRef>, Vec<ArrayRef>) {
    let n = 30;
    let k1: ArrayRef = Arc::new(StringArray::from_iter(
        (0..n).map(|i| (i % 4 != 3).then(|| ["a", "b", "c"][i % 3])),
    ));
    let k2: ArrayRef = Arc::new(Int32Array::from_iter((0..n).map(|i| Some((i % 2) as i32))));
    let null = |i: usize| i.is_multiple_of(5);
    let ints: ArrayRef = Arc::new(Int32Array::from_iter(
        (0..n).map(|i| (!null(i)).then_some(i as i32 * 7 - 50)),
    ));
    let floats: ArrayRef = Arc::new(Float64Array::from_iter(
        (0..n).map(|i| (!null(i)).then_some(i as f64 * 0.25 - 3.0)),
    ));
    let decs: ArrayRef = Arc::new(
        Decimal128Array::from_iter((0..n).map(|i| (!null(i)).then_some(i as i128 * 1234 - 9999)))
            .with_precision_and_scale(15, 2)
            .unwrap(),
    );
    let strs: ArrayRef = Arc::new(StringViewArray::from_iter(
        (0..n).map(|i| (!null(i)).then(|| format!("s{}", (i * 37) % 11))),
    ));
    let dates: ArrayRef = Arc::new(Date32Array::from_iter(
        (0..n).map(|i| (!null(i)).then_some(19000 + i as i32)),
    ));
    let bools: ArrayRef = Arc::new(BooleanArray::from_iter(
        (0..n).map(|i| (!null(i)).then_some(i % 3 != 0)),
    ));
    (vec![k1, k2], vec![ints, floats, decs, strs, dates, bools])
}

/// Every aggregate paired with the value column it reads.
fn all_aggregates() -> Vec<(AggregateSpec, Option<usize>)> {
    let (_, v) = data();
    let t = |i: usize| Some(v[i].data_type().clone());
    let mut out = vec![(spec(Count, None), None)];
    for (col, funcs) in [
        (
            0,
            &[Count, Sum, Avg, Min, Max, VarSamp, VarPop, StddevSamp, StddevPop][..],
        ),
        (1, &[Sum, Avg, Min, Max, VarSamp, StddevPop][..]),
        (2, &[Sum, Avg, Min, Max, VarPop][..]),
        (3, &[Count, Min, Max][..]),
        (4, &[Min, Max][..]),
        (5, &[Min, Max, BoolAnd, BoolOr][..]),
    ] {
        for f in funcs {
            out.push((spec(*f, t(col)), Some(col)));
        }
    }
    out
}

fn inputs_for(aggs: &[(AggregateSpec, Option<usize>)], values: &[ArrayRef]) -> Vec<Vec<ArrayRef>> {
    aggs.iter()
        .map(|(_, c)| c.map(|c| vec![Arc::clone(&values[c])]).unwrap_or_default())
        .collect()
}

fn slice_all(cols: &[ArrayRef], start: usize, len: usize) -> Vec<ArrayRef> {
    cols.iter().map(|c| c.slice(start, len)).collect()
}

fn single(keys: &[ArrayRef], values: &[ArrayRef], aggs: &[(AggregateSpec, Option<usize>)]) -> Vec<String> {
    let types = keys.iter().map(|k| k.data_type().clone()).collect();
    let specs = aggs.iter().map(|(s, _)| s.clone()).collect();
    let mut agg = HashAggregator::new(AggregateMode::Single, types, specs).unwrap();
    let n = values[0].len();
    agg.update(n, keys, &inputs_for(aggs, values), &[]).unwrap();
    rows(&agg.finish(7).unwrap())
}

/// Three partial aggregators over three slices, then one final.
fn two_phase(keys: &[ArrayRef], values: &[ArrayRef], aggs: &[(AggregateSpec, Option<usize>)]) -> Vec<String> {
    let types: Vec<DataType> = keys.iter().map(|k| k.data_type().clone()).collect();
    let specs: Vec<AggregateSpec> = aggs.iter().map(|(s, _)| s.clone()).collect();
    let n = values[0].len();
    let cuts = [0, n / 3, (n / 3 + 4).min(n), n];
    let mut fin = HashAggregator::new(AggregateMode::Final, types.clone(), specs.clone()).unwrap();
    for w in cuts.windows(2) {
        let (start, len) = (w[0], w[1] - w[0]);
        let mut part = HashAggregator::new(AggregateMode::Partial, types.clone(), specs.clone()).unwrap();
        let vals = slice_all(values, start, len);
        part.update(len, &slice_all(keys, start, len), &inputs_for(aggs, &vals), &[])
            .unwrap();
        for batch in part.finish(5).unwrap() {
            let (group_cols, mut rest) = (batch[..keys.len()].to_vec(), &batch[keys.len()..]);
            let mut states = vec![];
            for s in &specs {
                let k = s.state_fields().len();
                states.push(rest[..k].to_vec());
                rest = &rest[k..];
            }
            assert!(rest.is_empty());
            fin.merge(&group_cols, &states).unwrap();
        }
    }
    rows(&fin.finish(1000).unwrap())
}

#[test]
fn partial_then_final_equals_single_for_every_aggregate() {
    let (keys, values) = data();
    let aggs = all_aggregates();
    for key_cols in [&keys[..], &keys[..1], &keys[1..], &[]] {
        let one = single(key_cols, &values, &aggs);
        let two = two_phase(key_cols, &values, &aggs);
        assert_eq!(one, two, "keys: {}", key_cols.len());
        let expected_groups = match key_cols.len() {
            2 => 7,
            1 if key_cols[0].data_type() == &DataType::Utf8 => 4,
            1 => 2,
            _ => 1,
        };
        assert_eq!(one.len(), expected_groups);
    }
}

#[test]
fn partial_state_columns_match_state_fields() {
    let (keys, values) = data();
    let aggs = all_aggregates();
    let specs: Vec<AggregateSpec> = aggs.iter().map(|(s, _)| s.clone()).collect();
    let mut part = HashAggregator::new(AggregateMode::Partial, vec![DataType::Utf8], specs.clone()).unwrap();
    part.update(30, &keys[..1], &inputs_for(&aggs, &values), &[]).unwrap();
    let out = part.finish(100).unwrap();
    let fields: Vec<_> = specs.iter().flat_map(|s| s.state_fields()).collect();
    assert_eq!(out[0].len(), 1 + fields.len());
    for (col, f) in out[0][1..].iter().zip(&fields) {
        assert_eq!(col.data_type(), f.data_type(), "{}", f.name());
        assert!(f.is_nullable() || col.null_count() == 0, "{}", f.name());
    }
}

#[test]
fn empty_input_without_groups_gives_one_row() {
    let specs = vec![
        spec(Count, None),
        spec(Sum, Some(DataType::Int64)),
        spec(Avg, Some(DataType::Float64)),
        spec(Min, Some(DataType::Utf8)),
        spec(VarSamp, Some(DataType::Int32)),
    ];
    let expect = vec!["0|∅|∅|∅|∅".to_string()];
    // Single mode, no batches at all.
    let single = HashAggregator::new(AggregateMode::Single, vec![], specs.clone()).unwrap();
    assert_eq!(rows(&single.finish(10).unwrap()), expect);
    // Final mode that received no partial states.
    let fin = HashAggregator::new(AggregateMode::Final, vec![], specs.clone()).unwrap();
    assert_eq!(rows(&fin.finish(10).unwrap()), expect);
    // Partial over nothing emits one empty state row; merging it changes nothing.
    let part = HashAggregator::new(AggregateMode::Partial, vec![], specs.clone()).unwrap();
    let states = part.finish(10).unwrap();
    assert_eq!(states.len(), 1);
    assert_eq!(states[0][0].len(), 1);
    let mut fin = HashAggregator::new(AggregateMode::Final, vec![], specs.clone()).unwrap();
    let mut cols = states[0].iter().cloned();
    let per_spec: Vec<Vec<ArrayRef>> = specs
        .iter()
        .map(|s| cols.by_ref().take(s.state_fields().len()).collect())
        .collect();
    fin.merge(&[], &per_spec).unwrap();
    assert_eq!(rows(&fin.finish(10).unwrap()), expect);
    // An empty batch in Single mode.
    let mut single = HashAggregator::new(AggregateMode::Single, vec![], vec![spec(Count, None)]).unwrap();
    single.update(0, &[], &[vec![]], &[]).unwrap();
    assert_eq!(rows(&single.finish(10).unwrap()), vec!["0".to_string()]);
}

#[test]
fn empty_input_with_groups_gives_no_rows() {
    let mut agg = HashAggregator::new(AggregateMode::Single, vec![DataType::Int64], vec![spec(Count, None)]).unwrap();
    agg.update(0, &[Arc::new(Int64Array::from(Vec::<i64>::new()))], &[vec![]], &[])
        .unwrap();
    assert!(agg.finish(10).unwrap().is_empty());
}

#[test]
fn count_star_without_groups_and_filters() {
    let specs = vec![spec(Count, None), spec(Count, None), spec(Sum, Some(DataType::Int32))];
    let mut agg = HashAggregator::new(AggregateMode::Single, vec![], specs).unwrap();
    let v: ArrayRef = Arc::new(Int32Array::from(vec![Some(1), None, Some(3), Some(4)]));
    let f = BooleanArray::from(vec![Some(true), Some(true), None, Some(false)]);
    for _ in 0..2 {
        agg.update(
            4,
            &[],
            &[vec![], vec![], vec![Arc::clone(&v)]],
            &[None, Some(f.clone()), Some(f.clone())],
        )
        .unwrap();
    }
    assert_eq!(rows(&agg.finish(10).unwrap()), vec!["8|4|2".to_string()]);
}

#[test]
fn null_keys_form_their_own_group() {
    let keys: ArrayRef = Arc::new(StringViewArray::from(vec![None, Some("x"), None, Some("x")]));
    let vals: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3, 4]));
    let mut agg = HashAggregator::new(
        AggregateMode::Single,
        vec![DataType::Utf8View],
        vec![spec(Sum, Some(DataType::Int64))],
    )
    .unwrap();
    agg.update(4, &[keys], &[vec![vals]], &[]).unwrap();
    assert_eq!(rows(&agg.finish(1).unwrap()), vec!["x|6", "∅|4"]);
}

#[test]
fn decimal_sum_and_avg_exact() {
    let d: ArrayRef = Arc::new(
        Decimal128Array::from(vec![Some(1), Some(2), Some(2), None])
            .with_precision_and_scale(15, 2)
            .unwrap(),
    );
    let t = Some(DataType::Decimal128(15, 2));
    let specs = vec![spec(Sum, t.clone()), spec(Avg, t)];
    let mut agg = HashAggregator::new(AggregateMode::Single, vec![], specs).unwrap();
    agg.update(4, &[], &[vec![Arc::clone(&d)], vec![d]], &[]).unwrap();
    let out = agg.finish(10).unwrap();
    assert_eq!(out[0][0].data_type(), &DataType::Decimal128(25, 2));
    assert_eq!(out[0][0].as_primitive::<Decimal128Type>().value(0), 5);
    assert_eq!(out[0][1].data_type(), &DataType::Decimal128(19, 6));
    // 0.05 / 3 = 0.016666.. -> 0.016667
    assert_eq!(out[0][1].as_primitive::<Decimal128Type>().value(0), 16_667);
}

#[test]
fn distinct_aggregates_in_single_mode() {
    let t = Some(DataType::Int32);
    let d = |f| AggregateSpec::try_new(f, true, t.clone()).unwrap();
    let specs = vec![d(Count), d(Sum), d(Avg), spec(Count, t.clone())];
    let keys: ArrayRef = Arc::new(Int64Array::from(vec![1, 1, 1, 1, 2, 2]));
    let v: ArrayRef = Arc::new(Int32Array::from(vec![
        Some(5),
        Some(5),
        Some(1),
        None,
        Some(5),
        Some(5),
    ]));
    let mut agg = HashAggregator::new(AggregateMode::Single, vec![DataType::Int64], specs.clone()).unwrap();
    let inputs = vec![vec![Arc::clone(&v)]; 4];
    agg.update(6, &[Arc::clone(&keys)], &inputs, &[]).unwrap();
    agg.update(6, &[keys], &inputs, &[]).unwrap();
    assert!(agg.memory_size() > 0);
    assert_eq!(
        rows(&agg.finish(10).unwrap()),
        vec!["1|2|6|3.000000000|6", "2|1|5|5.000000000|4"]
    );
    for mode in [AggregateMode::Partial, AggregateMode::Final] {
        let e = HashAggregator::new(mode, vec![], specs.clone()).unwrap_err();
        assert!(e.to_string().contains("DISTINCT"), "{e}");
    }
}

#[test]
fn finish_splits_into_batches() {
    let keys: ArrayRef = Arc::new(Int64Array::from_iter_values(0..10));
    let mut agg = HashAggregator::new(AggregateMode::Single, vec![DataType::Int64], vec![spec(Count, None)]).unwrap();
    agg.update(10, &[keys], &[vec![]], &[]).unwrap();
    assert_eq!(agg.num_groups(), 10);
    let out = agg.finish(4).unwrap();
    assert_eq!(out.iter().map(|b| b[0].len()).collect::<Vec<_>>(), vec![4, 4, 2]);
    let counts: i64 = out
        .iter()
        .map(|b| b[1].as_primitive::<Int64Type>().values().iter().sum::<i64>())
        .sum();
    assert_eq!(counts, 10);
}

#[test]
fn misuse_is_an_error_not_a_panic() {
    let s = spec(Sum, Some(DataType::Int64));
    assert!(HashAggregator::new(AggregateMode::Single, vec![], vec![spec(Sum, None)]).is_err());
    let wrong = AggregateSpec {
        output_type: DataType::Utf8,
        ..s.clone()
    };
    assert!(HashAggregator::new(AggregateMode::Single, vec![], vec![wrong]).is_err());
    let mut agg = HashAggregator::new(AggregateMode::Single, vec![DataType::Int64], vec![s.clone()]).unwrap();
    let k: ArrayRef = Arc::new(Int64Array::from(vec![1, 2]));
    let short: ArrayRef = Arc::new(Int64Array::from(vec![1]));
    assert!(agg.update(2, &[Arc::clone(&k)], &[vec![short]], &[]).is_err());
    assert!(agg.update(2, &[], &[vec![Arc::clone(&k)]], &[]).is_err());
    assert!(agg.merge(&[Arc::clone(&k)], &[vec![Arc::clone(&k)]]).is_err());
    let strings: ArrayRef = Arc::new(StringArray::from(vec!["a", "b"]));
    assert!(agg.update(2, &[strings], &[vec![k]], &[]).is_err());
    let mut fin = HashAggregator::new(AggregateMode::Final, vec![], vec![s]).unwrap();
    assert!(fin.update(0, &[], &[vec![]], &[]).is_err());
}

#[test]
fn all_null_groups_through_both_paths() {
    // Group 2 sees only NULLs: counts are 0, everything else NULL.
    let keys: ArrayRef = Arc::new(Int32Array::from(vec![1, 2, 1, 2]));
    let ints: ArrayRef = Arc::new(Int32Array::from(vec![Some(4), None, Some(6), None]));
    let bools: ArrayRef = Arc::new(BooleanArray::from(vec![Some(true), None, Some(false), None]));
    let strs: ArrayRef = Arc::new(StringArray::from(vec![Some("q"), None, Some("p"), None]));
    let aggs = vec![
        (spec(Count, Some(DataType::Int32)), Some(0)),
        (spec(Sum, Some(DataType::Int32)), Some(0)),
        (spec(Avg, Some(DataType::Int32)), Some(0)),
        (spec(Min, Some(DataType::Int32)), Some(0)),
        (spec(VarPop, Some(DataType::Int32)), Some(0)),
        (spec(BoolAnd, Some(DataType::Boolean)), Some(1)),
        (spec(Max, Some(DataType::Utf8)), Some(2)),
    ];
    let values = [ints, bools, strs];
    let expected = vec!["1|2|10|5.000000000|4|1.000000000|false|q", "2|0|∅|∅|∅|∅|∅|∅"];
    assert_eq!(single(std::slice::from_ref(&keys), &values, &aggs), expected);
    assert_eq!(two_phase(&[keys], &values, &aggs), expected);
}
