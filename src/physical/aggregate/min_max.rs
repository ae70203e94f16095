//! `min`, `max`, `bool_and` and `bool_or`.
//!
//! All four keep one value per group (NULL until the group sees a non-NULL
//! input), so the state is the value itself and merging is updating with
//! the state column. Floats order with `total_cmp` (NaN is the largest
//! value); strings order bytewise; `min`/`max` of booleans are
//! `bool_and`/`bool_or`.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, BooleanBufferBuilder, LargeStringArray, NullArray, PrimitiveArray,
    StringArray, StringViewArray,
};
use arrow::datatypes::*;

use super::accumulator::{GroupsAccumulator, SeenBitmap, coerce, for_each_selected, single_arg, state_col};
use crate::error::Result;
use crate::{internal_err, not_supported};

/// Creates `min` (`is_min`) or `max` over values of type `data_type`.
pub(super) fn new_min_max(data_type: &DataType, is_min: bool) -> Result<Box<dyn GroupsAccumulator>> {
    macro_rules! primitive {
        ($t:ty) => {
            if is_min {
                Box::new(MinMaxPrimitive::<$t, true>::new(data_type.clone())) as Box<dyn GroupsAccumulator>
            } else {
                Box::new(MinMaxPrimitive::<$t, false>::new(data_type.clone()))
            }
        };
    }
    Ok(match data_type {
        DataType::Int8 => primitive!(Int8Type),
        DataType::Int16 => primitive!(Int16Type),
        DataType::Int32 => primitive!(Int32Type),
        DataType::Int64 => primitive!(Int64Type),
        DataType::UInt8 => primitive!(UInt8Type),
        DataType::UInt16 => primitive!(UInt16Type),
        DataType::UInt32 => primitive!(UInt32Type),
        DataType::UInt64 => primitive!(UInt64Type),
        DataType::Float32 => primitive!(Float32Type),
        DataType::Float64 => primitive!(Float64Type),
        DataType::Decimal128(..) => primitive!(Decimal128Type),
        DataType::Date32 => primitive!(Date32Type),
        DataType::Date64 => primitive!(Date64Type),
        DataType::Timestamp(TimeUnit::Second, _) => primitive!(TimestampSecondType),
        DataType::Timestamp(TimeUnit::Millisecond, _) => primitive!(TimestampMillisecondType),
        DataType::Timestamp(TimeUnit::Microsecond, _) => primitive!(TimestampMicrosecondType),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => primitive!(TimestampNanosecondType),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            Box::new(MinMaxString::new(data_type.clone(), is_min))
        }
        DataType::Boolean => Box::new(BoolAccumulator::new(is_min)),
        DataType::Null => Box::new(NullAccumulator(0)),
        other => not_supported!("{}() over {other}", if is_min { "min" } else { "max" }),
    })
}

/// `min`/`max` over a primitive type; `MIN` selects which.
struct MinMaxPrimitive<T: ArrowPrimitiveType, const MIN: bool> {
    vals: Vec<T::Native>,
    seen: SeenBitmap,
    data_type: DataType,
}

impl<T: ArrowPrimitiveType, const MIN: bool> MinMaxPrimitive<T, MIN> {
    fn new(data_type: DataType) -> Self {
        Self {
            vals: vec![],
            seen: SeenBitmap::new(),
            data_type,
        }
    }

    /// Keeps `v` for group `g` if it is the group's first value or a better one.
    #[inline]
    fn offer(vals: &mut [T::Native], seen: &mut SeenBitmap, g: usize, v: T::Native) {
        let better = if MIN { v.is_lt(vals[g]) } else { v.is_gt(vals[g]) };
        if better || !seen.get(g) {
            vals[g] = v;
            seen.set(g);
        }
    }
}

impl<T: ArrowPrimitiveType, const MIN: bool> GroupsAccumulator for MinMaxPrimitive<T, MIN> {
    fn update(
        &mut self,
        values: &[ArrayRef],
        groups: &[u32],
        total: usize,
        filter: Option<&BooleanArray>,
    ) -> Result<()> {
        self.vals.resize(total, T::Native::default());
        self.seen.resize(total);
        let values = coerce(single_arg(values)?, &self.data_type)?;
        let Some(values) = values.as_primitive_opt::<T>() else {
            internal_err!("min/max over {} got {}", self.data_type, values.data_type());
        };
        if total == 1 && filter.is_none() {
            // One group: arrow's vectorized min/max over the whole batch.
            let best = if MIN {
                arrow::compute::min(values)
            } else {
                arrow::compute::max(values)
            };
            if let Some(v) = best {
                Self::offer(&mut self.vals, &mut self.seen, 0, v);
            }
            return Ok(());
        }
        let input = values.values();
        let (vals, seen) = (&mut self.vals, &mut self.seen);
        for_each_selected(groups.len(), values.nulls(), filter, |i| {
            Self::offer(vals, seen, groups[i] as usize, input[i]);
            Ok(())
        })
    }

    fn merge(&mut self, states: &[ArrayRef], groups: &[u32], total: usize) -> Result<()> {
        self.update(&[ArrayRef::clone(state_col(states, 0)?)], groups, total, None)
    }

    fn state(self: Box<Self>) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.evaluate()?])
    }

    fn evaluate(self: Box<Self>) -> Result<ArrayRef> {
        let this = *self;
        Ok(Arc::new(
            {
                let len = this.vals.len();
                PrimitiveArray::<T>::new(this.vals.into(), this.seen.finish(len))
            }
            .with_data_type(this.data_type),
        ))
    }

    fn size(&self) -> usize {
        self.vals.capacity() * std::mem::size_of::<T::Native>() + self.seen.size()
    }
}

/// `min`/`max` over `Utf8`, `LargeUtf8` or `Utf8View`. A group's string
/// buffer is reused when a better value arrives, so steady state allocates
/// nothing.
struct MinMaxString {
    vals: Vec<Option<String>>,
    data_type: DataType,
    is_min: bool,
}

impl MinMaxString {
    fn new(data_type: DataType, is_min: bool) -> Self {
        Self {
            vals: vec![],
            data_type,
            is_min,
        }
    }

    #[inline]
    fn offer(slot: &mut Option<String>, v: &str, is_min: bool) {
        match slot {
            Some(cur) => {
                if (is_min && v < cur.as_str()) || (!is_min && v > cur.as_str()) {
                    cur.clear();
                    cur.push_str(v);
                }
            }
            None => *slot = Some(v.to_string()),
        }
    }
}

impl GroupsAccumulator for MinMaxString {
    fn update(
        &mut self,
        values: &[ArrayRef],
        groups: &[u32],
        total: usize,
        filter: Option<&BooleanArray>,
    ) -> Result<()> {
        self.vals.resize(total, None);
        let values = coerce(single_arg(values)?, &self.data_type)?;
        let (vals, is_min) = (&mut self.vals, self.is_min);
        macro_rules! fold {
            ($arr:expr) => {{
                let arr = $arr;
                for_each_selected(groups.len(), arr.nulls(), filter, |i| {
                    Self::offer(&mut vals[groups[i] as usize], arr.value(i), is_min);
                    Ok(())
                })
            }};
        }
        match values.data_type() {
            DataType::Utf8 => fold!(values.as_string::<i32>()),
            DataType::LargeUtf8 => fold!(values.as_string::<i64>()),
            DataType::Utf8View => fold!(values.as_string_view()),
            other => internal_err!("string min/max got {other}"),
        }
    }

    fn merge(&mut self, states: &[ArrayRef], groups: &[u32], total: usize) -> Result<()> {
        self.update(&[ArrayRef::clone(state_col(states, 0)?)], groups, total, None)
    }

    fn state(self: Box<Self>) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.evaluate()?])
    }

    fn evaluate(self: Box<Self>) -> Result<ArrayRef> {
        let it = self.vals.iter().map(|v| v.as_deref());
        Ok(match self.data_type {
            DataType::Utf8 => Arc::new(it.collect::<StringArray>()),
            DataType::LargeUtf8 => Arc::new(it.collect::<LargeStringArray>()),
            DataType::Utf8View => Arc::new(it.collect::<StringViewArray>()),
            other => internal_err!("string min/max over {other}"),
        })
    }

    fn size(&self) -> usize {
        self.vals.capacity() * std::mem::size_of::<Option<String>>()
            + self.vals.iter().flatten().map(String::capacity).sum::<usize>()
    }
}

/// `bool_and` (`is_and`, also `min` of booleans) or `bool_or` (`max`).
pub(super) struct BoolAccumulator {
    vals: BooleanBufferBuilder,
    seen: SeenBitmap,
    is_and: bool,
}

impl BoolAccumulator {
    pub(super) fn new(is_and: bool) -> Self {
        Self {
            vals: BooleanBufferBuilder::new(0),
            seen: SeenBitmap::new(),
            is_and,
        }
    }
}

impl GroupsAccumulator for BoolAccumulator {
    fn update(
        &mut self,
        values: &[ArrayRef],
        groups: &[u32],
        total: usize,
        filter: Option<&BooleanArray>,
    ) -> Result<()> {
        if self.vals.len() < total {
            self.vals.resize(total);
        }
        self.seen.resize(total);
        let values = coerce(single_arg(values)?, &DataType::Boolean)?;
        let values = values.as_boolean();
        let (vals, seen, is_and) = (&mut self.vals, &mut self.seen, self.is_and);
        for_each_selected(groups.len(), values.nulls(), filter, |i| {
            let g = groups[i] as usize;
            let v = values.value(i);
            if !seen.get(g) {
                vals.set_bit(g, v);
                seen.set(g);
            } else if is_and != v {
                // AND only changes on false, OR only on true.
                vals.set_bit(g, v);
            }
            Ok(())
        })
    }

    fn merge(&mut self, states: &[ArrayRef], groups: &[u32], total: usize) -> Result<()> {
        self.update(&[ArrayRef::clone(state_col(states, 0)?)], groups, total, None)
    }

    fn state(self: Box<Self>) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.evaluate()?])
    }

    fn evaluate(self: Box<Self>) -> Result<ArrayRef> {
        let mut this = *self;
        let vals = this.vals.finish();
        let seen = this.seen.finish(vals.len());
        Ok(Arc::new(BooleanArray::new(vals, seen)))
    }

    fn size(&self) -> usize {
        self.vals.capacity() / 8 + self.seen.size()
    }
}

/// `min`/`max` of the `NULL` type: always NULL.
struct NullAccumulator(usize);

impl GroupsAccumulator for NullAccumulator {
    fn update(&mut self, _: &[ArrayRef], _: &[u32], total: usize, _: Option<&BooleanArray>) -> Result<()> {
        self.0 = self.0.max(total);
        Ok(())
    }

    fn merge(&mut self, _: &[ArrayRef], _: &[u32], total: usize) -> Result<()> {
        self.0 = self.0.max(total);
        Ok(())
    }

    fn state(self: Box<Self>) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.evaluate()?])
    }

    fn evaluate(self: Box<Self>) -> Result<ArrayRef> {
        Ok(Arc::new(NullArray::new(self.0)))
    }

    fn size(&self) -> usize {
        0
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{Date32Array, Decimal128Array, Float64Array, Int32Array};

    use super::*;

    fn agg(data_type: &DataType, is_min: bool, values: ArrayRef, groups: &[u32]) -> ArrayRef {
        let total = groups.iter().map(|g| *g as usize + 1).max().unwrap_or(0);
        let mut a = new_min_max(data_type, is_min).unwrap();
        a.update(&[values], groups, total, None).unwrap();
        a.evaluate().unwrap()
    }

    #[test]
    fn ints_skip_nulls() {
        let v: ArrayRef = Arc::new(Int32Array::from(vec![Some(3), None, Some(-1), None, Some(7)]));
        let g = [0, 0, 0, 1, 2];
        let min = agg(&DataType::Int32, true, Arc::clone(&v), &g);
        let max = agg(&DataType::Int32, false, v, &g);
        assert_eq!(
            min.as_primitive::<Int32Type>().iter().collect::<Vec<_>>(),
            vec![Some(-1), None, Some(7)]
        );
        assert_eq!(
            max.as_primitive::<Int32Type>().iter().collect::<Vec<_>>(),
            vec![Some(3), None, Some(7)]
        );
    }

    #[test]
    fn floats_decimals_dates() {
        let f: ArrayRef = Arc::new(Float64Array::from(vec![1.5, f64::NAN, -0.5]));
        let max = agg(&DataType::Float64, false, Arc::clone(&f), &[0, 0, 0]);
        assert!(max.as_primitive::<Float64Type>().value(0).is_nan());
        let min = agg(&DataType::Float64, true, f, &[0, 0, 0]);
        assert_eq!(min.as_primitive::<Float64Type>().value(0), -0.5);

        let dt = DataType::Decimal128(12, 2);
        let d: ArrayRef = Arc::new(
            Decimal128Array::from(vec![500, -300])
                .with_precision_and_scale(12, 2)
                .unwrap(),
        );
        let out = agg(&dt, true, d, &[0, 0]);
        assert_eq!(out.data_type(), &dt);
        assert_eq!(out.as_primitive::<Decimal128Type>().value(0), -300);

        let dates: ArrayRef = Arc::new(Date32Array::from(vec![10, 5, 20]));
        let out = agg(&DataType::Date32, false, dates, &[0, 0, 0]);
        assert_eq!(out.data_type(), &DataType::Date32);
        assert_eq!(out.as_primitive::<Date32Type>().value(0), 20);
    }

    #[test]
    fn strings_of_every_layout() {
        for dt in [DataType::Utf8, DataType::LargeUtf8, DataType::Utf8View] {
            let v = arrow::compute::cast(
                &(Arc::new(StringArray::from(vec![Some("pear"), None, Some("apple"), Some("zoo")])) as ArrayRef),
                &dt,
            )
            .unwrap();
            let min = agg(&dt, true, Arc::clone(&v), &[0, 0, 0, 1]);
            let max = agg(&dt, false, v, &[0, 0, 0, 2]);
            assert_eq!(min.data_type(), &dt);
            let min = arrow::compute::cast(&min, &DataType::Utf8).unwrap();
            let max = arrow::compute::cast(&max, &DataType::Utf8).unwrap();
            assert_eq!(
                min.as_string::<i32>().iter().collect::<Vec<_>>(),
                vec![Some("apple"), Some("zoo")]
            );
            assert_eq!(
                max.as_string::<i32>().iter().collect::<Vec<_>>(),
                vec![Some("pear"), None, Some("zoo")]
            );
        }
    }

    #[test]
    fn booleans_and_bool_aggregates() {
        let v: ArrayRef = Arc::new(BooleanArray::from(vec![
            Some(true),
            Some(false),
            None,
            Some(true),
            None,
        ]));
        let g = [0, 0, 0, 1, 2];
        let and = agg(&DataType::Boolean, true, Arc::clone(&v), &g);
        let or = agg(&DataType::Boolean, false, Arc::clone(&v), &g);
        assert_eq!(
            and.as_boolean().iter().collect::<Vec<_>>(),
            vec![Some(false), Some(true), None]
        );
        assert_eq!(
            or.as_boolean().iter().collect::<Vec<_>>(),
            vec![Some(true), Some(true), None]
        );

        let mut b = BoolAccumulator::new(false);
        let filter = BooleanArray::from(vec![false, false, false, false, false]);
        b.update(&[v], &g, 3, Some(&filter)).unwrap();
        assert_eq!(Box::new(b).evaluate().unwrap().null_count(), 3);
    }

    #[test]
    fn merge_states() {
        let mut a = new_min_max(&DataType::Int64, true).unwrap();
        let s1: ArrayRef = Arc::new(arrow::array::Int64Array::from(vec![Some(4), None]));
        let s2: ArrayRef = Arc::new(arrow::array::Int64Array::from(vec![Some(9), Some(2)]));
        a.merge(&[s1], &[0, 1], 2).unwrap();
        a.merge(&[s2], &[0, 1], 2).unwrap();
        let out = a.evaluate().unwrap();
        assert_eq!(out.as_primitive::<Int64Type>().values(), &[4, 2]);
    }

    #[test]
    fn null_type_and_unsupported() {
        let out = agg(&DataType::Null, true, Arc::new(NullArray::new(2)), &[0, 1]);
        assert_eq!(out.len(), 2);
        assert!(new_min_max(&DataType::Binary, true).is_err());
    }
}
