//! `var_samp`, `var_pop`, `stddev_samp`, `stddev_pop`.
//!
//! Values are folded in with Welford's online update, which stays accurate
//! where the naive `sum(x²) - sum(x)²/n` cancels catastrophically. The state
//! is `[count, mean, m2]` (`m2` is the sum of squared deviations from the
//! mean) and partial states combine with Chan et al.'s pairwise formula.
//! Sample variants are NULL below two values, population variants below one.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array};
use arrow::datatypes::{DataType, Float64Type, Int64Type};

use super::accumulator::{GroupsAccumulator, coerce, for_each_selected, single_arg, state_col};
use crate::error::Result;
use crate::functions::AggregateFunction;

/// Count, mean and m2 per group.
pub(super) struct VarianceAccumulator {
    count: Vec<i64>,
    mean: Vec<f64>,
    m2: Vec<f64>,
    func: AggregateFunction,
}

impl VarianceAccumulator {
    /// `func` is one of the variance or standard deviation functions.
    pub(super) fn new(func: AggregateFunction) -> Self {
        Self {
            count: vec![],
            mean: vec![],
            m2: vec![],
            func,
        }
    }

    fn resize(&mut self, total: usize) {
        self.count.resize(total, 0);
        self.mean.resize(total, 0.0);
        self.m2.resize(total, 0.0);
    }
}

impl GroupsAccumulator for VarianceAccumulator {
    fn update(
        &mut self,
        values: &[ArrayRef],
        groups: &[u32],
        total: usize,
        filter: Option<&BooleanArray>,
    ) -> Result<()> {
        self.resize(total);
        let values = coerce(single_arg(values)?, &DataType::Float64)?;
        let values = values.as_primitive::<Float64Type>();
        let input = values.values();
        let (count, mean, m2) = (&mut self.count, &mut self.mean, &mut self.m2);
        for_each_selected(groups.len(), values.nulls(), filter, |i| {
            let g = groups[i] as usize;
            let x = input[i];
            count[g] += 1;
            let delta = x - mean[g];
            mean[g] += delta / count[g] as f64;
            m2[g] += delta * (x - mean[g]);
            Ok(())
        })
    }

    fn merge(&mut self, states: &[ArrayRef], groups: &[u32], total: usize) -> Result<()> {
        self.resize(total);
        let c_in = coerce(state_col(states, 0)?, &DataType::Int64)?;
        let mean_in = coerce(state_col(states, 1)?, &DataType::Float64)?;
        let m2_in = coerce(state_col(states, 2)?, &DataType::Float64)?;
        let c_in = c_in.as_primitive::<Int64Type>();
        let (cv, mv, m2v) = (
            c_in.values(),
            mean_in.as_primitive::<Float64Type>().values(),
            m2_in.as_primitive::<Float64Type>().values(),
        );
        let (count, mean, m2) = (&mut self.count, &mut self.mean, &mut self.m2);
        for_each_selected(groups.len(), c_in.nulls(), None, |i| {
            let g = groups[i] as usize;
            let nb = cv[i];
            if nb == 0 {
                return Ok(());
            }
            let na = count[g];
            let n = na + nb;
            let delta = mv[i] - mean[g];
            let (na_f, nb_f, n_f) = (na as f64, nb as f64, n as f64);
            mean[g] += delta * nb_f / n_f;
            m2[g] += m2v[i] + delta * delta * na_f * nb_f / n_f;
            count[g] = n;
            Ok(())
        })
    }

    fn state(self: Box<Self>) -> Result<Vec<ArrayRef>> {
        Ok(vec![
            Arc::new(Int64Array::from(self.count)),
            Arc::new(Float64Array::from(self.mean)),
            Arc::new(Float64Array::from(self.m2)),
        ])
    }

    fn evaluate(self: Box<Self>) -> Result<ArrayRef> {
        use AggregateFunction::*;
        let (sample, sqrt) = match self.func {
            VarSamp => (true, false),
            VarPop => (false, false),
            StddevSamp => (true, true),
            _ => (false, true),
        };
        let out: Float64Array = self
            .count
            .iter()
            .zip(&self.m2)
            .map(|(&n, &m2)| {
                let denom = if sample { n - 1 } else { n };
                (denom > 0).then(|| {
                    let var = (m2 / denom as f64).max(0.0);
                    if sqrt { var.sqrt() } else { var }
                })
            })
            .collect();
        Ok(Arc::new(out))
    }

    fn size(&self) -> usize {
        self.count.capacity() * 8 + self.mean.capacity() * 8 + self.m2.capacity() * 8
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::Int32Array;

    use super::*;

    fn values(v: Vec<Option<i32>>) -> ArrayRef {
        Arc::new(Int32Array::from(v))
    }

    fn eval(func: AggregateFunction, v: ArrayRef, groups: &[u32], total: usize) -> Float64Array {
        let mut a = VarianceAccumulator::new(func);
        a.update(&[v], groups, total, None).unwrap();
        Box::new(a).evaluate().unwrap().as_primitive::<Float64Type>().clone()
    }

    #[test]
    fn sample_and_population() {
        // 2, 4, 4, 4, 5, 5, 7, 9: population variance 4, sample 32/7.
        let v = values([2, 4, 4, 4, 5, 5, 7, 9].into_iter().map(Some).collect());
        let g = [0; 8];
        assert_eq!(eval(AggregateFunction::VarPop, Arc::clone(&v), &g, 1).value(0), 4.0);
        assert_eq!(eval(AggregateFunction::StddevPop, Arc::clone(&v), &g, 1).value(0), 2.0);
        let s = eval(AggregateFunction::VarSamp, Arc::clone(&v), &g, 1).value(0);
        assert!((s - 32.0 / 7.0).abs() < 1e-12);
        let sd = eval(AggregateFunction::StddevSamp, v, &g, 1).value(0);
        assert!((sd - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn too_few_values_are_null() {
        let v = values(vec![Some(3), None, None]);
        let samp = eval(AggregateFunction::VarSamp, Arc::clone(&v), &[0, 0, 1], 3);
        assert!(samp.is_null(0) && samp.is_null(1) && samp.is_null(2));
        let pop = eval(AggregateFunction::VarPop, v, &[0, 0, 1], 3);
        assert_eq!(pop.value(0), 0.0);
        assert!(pop.is_null(1));
    }

    #[test]
    fn chan_merge_equals_one_pass() {
        let all: Vec<Option<i32>> = (0..50)
            .map(|i| if i % 7 == 0 { None } else { Some(i * i % 13) })
            .collect();
        let whole = eval(AggregateFunction::VarSamp, values(all.clone()), &[0; 50], 1).value(0);
        let mut merged = VarianceAccumulator::new(AggregateFunction::VarSamp);
        for chunk in all.chunks(17) {
            let mut part = VarianceAccumulator::new(AggregateFunction::VarSamp);
            part.update(&[values(chunk.to_vec())], &vec![0; chunk.len()], 1, None)
                .unwrap();
            merged.merge(&Box::new(part).state().unwrap(), &[0], 1).unwrap();
        }
        // An empty partial state merges as a no-op.
        let empty = Box::new(VarianceAccumulator::new(AggregateFunction::VarSamp));
        let mut e = empty;
        e.resize(1);
        merged.merge(&e.state().unwrap(), &[0], 1).unwrap();
        let m = Box::new(merged)
            .evaluate()
            .unwrap()
            .as_primitive::<Float64Type>()
            .value(0);
        assert!((whole - m).abs() < 1e-9, "{whole} vs {m}");
    }
}
