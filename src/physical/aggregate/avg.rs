//! `avg`.
//!
//! The state is `[sum, count]`. Integers and floats average in `Float64`.
//! Decimals sum exactly in `Decimal128(min(38, p + 10), s)` and the final
//! division produces `Decimal128(p + 4, s + 4)` (capped at 38), rounded half
//! away from zero, so `avg` of `Decimal(15, 2)` is an exact `Decimal(19, 6)`.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, PrimitiveArray};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{ArrowPrimitiveType, DataType, Decimal128Type, Float64Type, Int64Type};

use super::accumulator::{
    GroupsAccumulator, SumNative, coerce, count_into, selection, single_arg, state_col, sum_into,
};
use super::count_sum::check_decimal_precision;
use crate::error::{Error, Result};
use crate::functions::DECIMAL128_MAX_PRECISION;
use crate::internal_err;

/// The type `avg` keeps its running sum in, for an input of type `input`.
pub(super) fn avg_sum_type(input: &DataType) -> DataType {
    match input {
        DataType::Decimal128(p, s) => DataType::Decimal128((p + 10).min(DECIMAL128_MAX_PRECISION), *s),
        _ => DataType::Float64,
    }
}

/// Creates the `avg` accumulator for `input` producing `output`.
pub(super) fn new_avg(input: &DataType, output: &DataType) -> Result<Box<dyn GroupsAccumulator>> {
    let sum_type = avg_sum_type(input);
    Ok(match (&sum_type, output) {
        (DataType::Decimal128(_, s), DataType::Decimal128(_, out_s)) if out_s >= s => {
            Box::new(AvgAccumulator::<Decimal128Type>::new(sum_type.clone(), output.clone()))
        }
        (DataType::Float64, DataType::Float64) => {
            Box::new(AvgAccumulator::<Float64Type>::new(sum_type, output.clone()))
        }
        _ => internal_err!("avg() over {input} cannot produce {output}"),
    })
}

/// Running sums and counts per group; `T` is `Float64Type` or
/// `Decimal128Type`.
struct AvgAccumulator<T: ArrowPrimitiveType> {
    sums: Vec<T::Native>,
    counts: Vec<i64>,
    sum_type: DataType,
    output: DataType,
}

impl<T: ArrowPrimitiveType> AvgAccumulator<T>
where
    T::Native: SumNative,
{
    fn new(sum_type: DataType, output: DataType) -> Self {
        Self {
            sums: vec![],
            counts: vec![],
            sum_type,
            output,
        }
    }

    fn resize(&mut self, total: usize) {
        self.sums.resize(total, T::Native::default());
        self.counts.resize(total, 0);
    }

    /// The sums as an array, NULL where the count is zero.
    fn sums_array(sums: Vec<T::Native>, counts: &[i64], sum_type: &DataType) -> PrimitiveArray<T> {
        let valid = NullBuffer::from_iter(counts.iter().map(|c| *c > 0));
        let nulls = (valid.null_count() > 0).then_some(valid);
        PrimitiveArray::<T>::new(sums.into(), nulls).with_data_type(sum_type.clone())
    }
}

fn overflow() -> Error {
    Error::InvalidArgument("avg() overflowed".into())
}

impl<T: ArrowPrimitiveType> GroupsAccumulator for AvgAccumulator<T>
where
    T::Native: SumNative,
{
    fn update(
        &mut self,
        values: &[ArrayRef],
        groups: &[u32],
        total_groups: usize,
        filter: Option<&BooleanArray>,
    ) -> Result<()> {
        self.resize(total_groups);
        let values = coerce(single_arg(values)?, &self.sum_type)?;
        let Some(values) = values.as_primitive_opt::<T>() else {
            internal_err!("avg() over {} got {}", self.sum_type, values.data_type());
        };
        let sel = selection(values.nulls(), filter);
        count_into(&mut self.counts, groups, sel.as_ref());
        if sum_into(&mut self.sums, groups, values.values(), sel.as_ref()) {
            return Err(overflow());
        }
        Ok(())
    }

    fn merge(&mut self, states: &[ArrayRef], groups: &[u32], total_groups: usize) -> Result<()> {
        self.resize(total_groups);
        let sums_in = coerce(state_col(states, 0)?, &self.sum_type)?;
        let Some(sums_in) = sums_in.as_primitive_opt::<T>() else {
            internal_err!("avg() state over {} got {}", self.sum_type, sums_in.data_type());
        };
        let counts_in = coerce(state_col(states, 1)?, &DataType::Int64)?;
        let counts_in = counts_in.as_primitive::<Int64Type>();
        // A NULL sum comes with a zero count: skipping it loses nothing.
        let sel = selection(sums_in.nulls(), None);
        let sums_overflow = sum_into(&mut self.sums, groups, sums_in.values(), sel.as_ref());
        if sum_into(&mut self.counts, groups, counts_in.values(), sel.as_ref()) || sums_overflow {
            return Err(overflow());
        }
        Ok(())
    }

    fn state(self: Box<Self>) -> Result<Vec<ArrayRef>> {
        let this = *self;
        let sums = Self::sums_array(this.sums, &this.counts, &this.sum_type);
        Ok(vec![Arc::new(sums), Arc::new(Int64Array::from(this.counts))])
    }

    fn evaluate(self: Box<Self>) -> Result<ArrayRef> {
        let this = *self;
        let sums: ArrayRef = Arc::new(Self::sums_array(this.sums, &this.counts, &this.sum_type));
        match (&this.sum_type, &this.output) {
            (DataType::Float64, _) => {
                let sums = sums.as_primitive_opt::<Float64Type>();
                let out: Float64Array = match sums {
                    Some(sums) => sums
                        .iter()
                        .zip(&this.counts)
                        .map(|(s, c)| s.map(|s| s / *c as f64))
                        .collect(),
                    None => internal_err!("avg() float state is not Float64"),
                };
                Ok(Arc::new(out))
            }
            (DataType::Decimal128(_, s), DataType::Decimal128(_, out_s)) => {
                let Some(sums) = sums.as_primitive_opt::<Decimal128Type>() else {
                    internal_err!("avg() decimal state is not Decimal128");
                };
                let scale_up = (out_s - s) as u32;
                let mut out = Vec::with_capacity(this.counts.len());
                for (sum, count) in sums.values().iter().zip(&this.counts) {
                    out.push(if *count > 0 {
                        decimal_avg(*sum, *count, scale_up).ok_or_else(overflow)?
                    } else {
                        0
                    });
                }
                let arr = PrimitiveArray::<Decimal128Type>::new(out.into(), sums.nulls().cloned())
                    .with_data_type(this.output.clone());
                check_decimal_precision(&arr, &this.output, "avg")?;
                Ok(Arc::new(arr))
            }
            (s, o) => internal_err!("avg() with state {s} cannot produce {o}"),
        }
    }

    fn size(&self) -> usize {
        self.sums.capacity() * std::mem::size_of::<T::Native>() + self.counts.capacity() * 8
    }
}

/// `sum / count` scaled up by `10^scale_up`, rounded half away from zero;
/// `None` on overflow. `count` must be positive.
fn decimal_avg(sum: i128, count: i64, scale_up: u32) -> Option<i128> {
    let count = i128::from(count);
    let factor = 10i128.checked_pow(scale_up)?;
    let (q, r) = (sum / count, sum % count);
    // |r| < count <= i64::MAX and factor <= 10^4, so this cannot overflow.
    let r_scaled = r * factor;
    let mut low = r_scaled / count;
    let rem = r_scaled % count;
    if rem.unsigned_abs() * 2 >= count.unsigned_abs() {
        low += rem.signum();
    }
    q.checked_mul(factor)?.checked_add(low)
}

#[cfg(test)]
mod tests {
    use arrow::array::{Decimal128Array, Int32Array};

    use super::*;

    #[test]
    fn rounding_half_away_from_zero() {
        assert_eq!(decimal_avg(5, 2, 0), Some(3));
        assert_eq!(decimal_avg(-5, 2, 0), Some(-3));
        assert_eq!(decimal_avg(1, 3, 4), Some(3333));
        assert_eq!(decimal_avg(2, 3, 4), Some(6667));
        assert_eq!(decimal_avg(-2, 3, 4), Some(-6667));
        assert_eq!(decimal_avg(10, 4, 0), Some(3));
        assert_eq!(decimal_avg(i128::MAX, 1, 4), None);
    }

    #[test]
    fn avg_ints_as_float() {
        let mut a = new_avg(&DataType::Int32, &DataType::Float64).unwrap();
        let v: ArrayRef = Arc::new(Int32Array::from(vec![Some(1), Some(2), None, None]));
        a.update(&[v], &[0, 0, 0, 1], 2, None).unwrap();
        let out = a.evaluate().unwrap();
        let out = out.as_primitive::<Float64Type>();
        assert_eq!(out.iter().collect::<Vec<_>>(), vec![Some(1.5), None]);
    }

    #[test]
    fn avg_decimal_is_exact_through_partial_states() {
        let input = DataType::Decimal128(15, 2);
        let output = DataType::Decimal128(19, 6);
        let v: ArrayRef = Arc::new(
            Decimal128Array::from(vec![Some(100), Some(200), Some(201), None])
                .with_precision_and_scale(15, 2)
                .unwrap(),
        );
        let mut p1 = new_avg(&input, &output).unwrap();
        p1.update(&[v.slice(0, 2)], &[0, 0], 1, None).unwrap();
        let mut p2 = new_avg(&input, &output).unwrap();
        p2.update(&[v.slice(2, 2)], &[0, 1], 2, None).unwrap();
        let s2 = p2.state().unwrap();
        assert_eq!(s2[0].data_type(), &DataType::Decimal128(25, 2));
        assert!(s2[0].is_null(1));

        let mut f = new_avg(&input, &output).unwrap();
        f.merge(&p1.state().unwrap(), &[0], 1).unwrap();
        f.merge(&s2, &[0, 1], 2).unwrap();
        let out = f.evaluate().unwrap();
        assert_eq!(out.data_type(), &output);
        let out = out.as_primitive::<Decimal128Type>();
        // (1.00 + 2.00 + 2.01) / 3 = 1.67 exactly: 1.670000
        assert_eq!(out.value(0), 1_670_000);
        assert!(out.is_null(1));
    }

    #[test]
    fn avg_decimal_rounds() {
        let input = DataType::Decimal128(10, 0);
        let output = DataType::Decimal128(14, 4);
        let v: ArrayRef = Arc::new(
            Decimal128Array::from(vec![1, 1, 0])
                .with_precision_and_scale(10, 0)
                .unwrap(),
        );
        let mut a = new_avg(&input, &output).unwrap();
        a.update(&[v], &[0, 0, 0], 1, None).unwrap();
        // 2 / 3 = 0.66666.. -> 0.6667
        assert_eq!(a.evaluate().unwrap().as_primitive::<Decimal128Type>().value(0), 6667);
    }
}
