//! One attempt of one task: its context, and the thread-local that lets
//! accumulators and user code find it (Spark's `TaskContext.get()`).

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::Error;
use crate::rdd::BoxIter;
use crate::session::SessionState;

/// An accumulator update buffered by a task attempt; applied to the driver's
/// value only if the attempt succeeds.
pub(crate) trait PendingUpdate: Send {
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn commit(self: Box<Self>);
}

/// What a running task knows about itself.
///
/// ```
/// use flint::{SessionContext, TaskContext};
/// let ctx = SessionContext::new();
/// let ids = ctx
///     .parallelize(vec![0; 4], 4)
///     .map(|_| TaskContext::get().map(|tc| tc.partition_id()).unwrap())
///     .collect()
///     .unwrap();
/// assert_eq!(ids, vec![0, 1, 2, 3]);
/// ```
pub struct TaskContext {
    pub(crate) session: Arc<SessionState>,
    job_id: usize,
    stage_id: usize,
    partition: usize,
    attempt: usize,
    cancel: Arc<AtomicBool>,
    failed: AtomicBool,
    failure: Mutex<Option<Error>>,
    pending: Mutex<HashMap<usize, Box<dyn PendingUpdate>>>,
    /// Run when this attempt succeeds (see [`TaskContext::on_success`]).
    on_success: Mutex<Vec<Box<dyn FnOnce() + Send>>>,
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<TaskContext>>> = const { RefCell::new(None) };
}

impl TaskContext {
    pub(crate) fn new(
        session: Arc<SessionState>,
        job_id: usize,
        stage_id: usize,
        partition: usize,
        attempt: usize,
        cancel: Arc<AtomicBool>,
    ) -> Arc<Self> {
        Arc::new(Self {
            session,
            job_id,
            stage_id,
            partition,
            attempt,
            cancel,
            failed: AtomicBool::new(false),
            failure: Mutex::new(None),
            pending: Mutex::new(HashMap::new()),
            on_success: Mutex::new(Vec::new()),
        })
    }

    /// The task running on this thread, if any.
    pub fn get() -> Option<Arc<TaskContext>> {
        CURRENT.with(|c| c.borrow().clone())
    }

    /// Runs `f` with `tc` as this thread's current task, restoring the
    /// previous one after (a task may run a nested job inline).
    pub(crate) fn enter<R>(tc: &Arc<TaskContext>, f: impl FnOnce() -> R) -> R {
        struct Restore(Option<Arc<TaskContext>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let prev = self.0.take();
                CURRENT.with(|c| *c.borrow_mut() = prev);
            }
        }
        let prev = CURRENT.with(|c| c.borrow_mut().replace(Arc::clone(tc)));
        let _restore = Restore(prev);
        f()
    }

    /// The job this task belongs to.
    pub fn job_id(&self) -> usize {
        self.job_id
    }

    /// The stage this task belongs to.
    pub fn stage_id(&self) -> usize {
        self.stage_id
    }

    /// The partition this task computes.
    pub fn partition_id(&self) -> usize {
        self.partition
    }

    /// 0 for the first attempt, 1 for the first retry, ...
    pub fn attempt_number(&self) -> usize {
        self.attempt
    }

    /// Whether the job was cancelled; long-running user code may poll this.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Fails this task attempt with `err`. Iterators check the flag and stop;
    /// the scheduler then retries or aborts the job. The first error wins.
    pub fn fail(&self, err: Error) {
        let mut slot = self.failure.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(err);
        }
        self.failed.store(true, Ordering::Release);
    }

    pub(crate) fn has_failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    pub(crate) fn take_failure(&self) -> Option<Error> {
        self.failure.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// Buffers an accumulator update for this attempt.
    pub(crate) fn with_pending<P: PendingUpdate + 'static>(
        &self,
        accumulator_id: usize,
        make: impl FnOnce() -> P,
        update: impl FnOnce(&mut P),
    ) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let entry = pending.entry(accumulator_id).or_insert_with(|| Box::new(make()));
        if let Some(p) = entry.as_any_mut().downcast_mut::<P>() {
            update(p);
        }
    }

    /// Runs `f` if this attempt succeeds; a failed attempt drops it.
    pub(crate) fn on_success(&self, f: impl FnOnce() + Send + 'static) {
        self.on_success
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Box::new(f));
    }

    /// Applies this attempt's accumulator updates and runs its
    /// [`on_success`](Self::on_success) hooks (on success only).
    pub(crate) fn commit(&self) {
        let pending = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        for (_, p) in pending {
            p.commit();
        }
        let hooks = std::mem::take(&mut *self.on_success.lock().unwrap_or_else(|p| p.into_inner()));
        for f in hooks {
            f();
        }
    }

    /// Wraps a task's root iterator so that it stops when the job is
    /// cancelled or the task has failed.
    pub(crate) fn guard<T: 'static>(self: &Arc<Self>, inner: BoxIter<T>) -> BoxIter<T> {
        Box::new(Guarded {
            inner,
            tc: Arc::clone(self),
            count: 0,
        })
    }
}

struct Guarded<T> {
    inner: BoxIter<T>,
    tc: Arc<TaskContext>,
    count: u32,
}

impl<T> Iterator for Guarded<T> {
    type Item = T;
    #[inline]
    fn next(&mut self) -> Option<T> {
        self.count = self.count.wrapping_add(1);
        if self.count.is_multiple_of(1024) {
            if self.tc.is_cancelled() {
                self.tc.fail(Error::Cancelled(self.tc.job_id));
                return None;
            }
            if self.tc.has_failed() {
                return None;
            }
        }
        self.inner.next()
    }
}
