//! Accumulators: variables tasks can only add to and only the driver reads.
//!
//! Inside a task, `add` buffers the update in the task attempt; the
//! scheduler applies it when the attempt succeeds, so an update made in an
//! action's task counts exactly once per partition however often the task is
//! retried. As in Spark, updates made inside *transformations* (for example
//! in a `map` feeding a shuffle, or of an uncached RDD used by two jobs) are
//! applied again whenever that partition is recomputed.

use std::any::Any;
use std::sync::{Arc, Mutex};

use crate::scheduler::{PendingUpdate, TaskContext};

/// A value that accumulators can hold: it has a zero, takes inputs and merges
/// partial results.
///
/// ```
/// use flint::{AccumulatorValue, SessionContext};
/// #[derive(Clone, Debug, Default, PartialEq)]
/// struct MinMax(Option<(i32, i32)>);
/// impl AccumulatorValue for MinMax {
///     type Input = i32;
///     fn zero(&self) -> Self { MinMax(None) }
///     fn add(&mut self, v: i32) { self.merge(MinMax(Some((v, v)))) }
///     fn merge(&mut self, o: Self) {
///         self.0 = match (self.0, o.0) {
///             (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
///             (x, None) => x,
///             (None, y) => y,
///         }
///     }
/// }
/// let ctx = SessionContext::new();
/// let acc = ctx.accumulator("minmax", MinMax(None));
/// let a = acc.clone();
/// ctx.parallelize(vec![5, -3, 9, 1], 2).foreach(move |x| a.add(x)).unwrap();
/// assert_eq!(acc.value(), MinMax(Some((-3, 9))));
/// ```
pub trait AccumulatorValue: Send + 'static {
    /// What `add` takes.
    type Input;
    /// A fresh zero of the same kind as `self`, for a task's partial value.
    fn zero(&self) -> Self;
    /// Adds one input.
    fn add(&mut self, v: Self::Input);
    /// Merges another partial value into this one.
    fn merge(&mut self, other: Self);
}

macro_rules! numeric_accumulator {
    ($($t:ty),*) => {$(
        impl AccumulatorValue for $t {
            type Input = $t;
            fn zero(&self) -> Self { 0 as $t }
            fn add(&mut self, v: $t) { *self += v }
            fn merge(&mut self, other: $t) { *self += other }
        }
    )*};
}
numeric_accumulator!(i32, i64, u32, u64, usize, f32, f64);

impl<T: Send + 'static> AccumulatorValue for Vec<T> {
    type Input = T;
    fn zero(&self) -> Self {
        Vec::new()
    }
    fn add(&mut self, v: T) {
        self.push(v)
    }
    fn merge(&mut self, mut other: Self) {
        self.append(&mut other)
    }
}

/// A shared variable that tasks add to and the driver reads.
///
/// ```
/// use flint::SessionContext;
/// let ctx = SessionContext::new();
/// let blank = ctx.long_accumulator("blank lines");
/// let b = blank.clone();
/// ctx.parallelize(vec!["a", "", "b", ""], 2)
///     .foreach(move |line| if line.is_empty() { b.add(1) })
///     .unwrap();
/// assert_eq!(blank.value(), 2);
/// ```
pub struct Accumulator<A> {
    id: usize,
    name: Arc<str>,
    value: Arc<Mutex<A>>,
}

impl<A> Clone for Accumulator<A> {
    fn clone(&self) -> Self {
        Self {
            id: self.id,
            name: Arc::clone(&self.name),
            value: Arc::clone(&self.value),
        }
    }
}

impl<A: std::fmt::Debug> std::fmt::Debug for Accumulator<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Accumulator({}, {})", self.id, self.name)
    }
}

struct Pending<A> {
    target: Arc<Mutex<A>>,
    local: A,
}

impl<A: AccumulatorValue> PendingUpdate for Pending<A> {
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn commit(self: Box<Self>) {
        let Pending { target, local } = *self;
        target.lock().unwrap_or_else(|p| p.into_inner()).merge(local);
    }
}

impl<A: AccumulatorValue> Accumulator<A> {
    pub(crate) fn new(id: usize, name: &str, zero: A) -> Self {
        Self {
            id,
            name: name.into(),
            value: Arc::new(Mutex::new(zero)),
        }
    }

    /// The accumulator's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Adds to the accumulator. Inside a task the update is applied when the
    /// task attempt succeeds; on the driver it is applied at once.
    pub fn add(&self, v: A::Input) {
        match TaskContext::get() {
            Some(tc) => tc.with_pending(
                self.id,
                || Pending {
                    target: Arc::clone(&self.value),
                    local: self.value.lock().unwrap_or_else(|p| p.into_inner()).zero(),
                },
                |p: &mut Pending<A>| p.local.add(v),
            ),
            None => self.value.lock().unwrap_or_else(|p| p.into_inner()).add(v),
        }
    }

    /// The accumulated value.
    ///
    /// # Panics
    /// When called inside a task: only the driver may read an accumulator
    /// (the panic fails the task with that message, as in Spark).
    pub fn value(&self) -> A
    where
        A: Clone,
    {
        if TaskContext::get().is_some() {
            panic!(
                "accumulator '{}' can only be read on the driver, not inside a task",
                self.name
            );
        }
        self.value.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Resets the value to zero (driver only).
    pub fn reset(&self) {
        let mut v = self.value.lock().unwrap_or_else(|p| p.into_inner());
        *v = v.zero();
    }
}
