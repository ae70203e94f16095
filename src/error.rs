//! One error type for the whole engine.
//!
//! Errors are values that carry enough context for a user to act on them: a
//! failed job names its job, stage, partition and cause; a missing file names
//! the path. `Internal` is reserved for bugs that no user input can reach.

use std::fmt;

/// The result type used throughout Flint.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every error Flint reports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error raised by `datafusion-common` (schemas, scalar values).
    #[error(transparent)]
    DataFusion(datafusion_common::DataFusionError),
    /// A SQL statement could not be parsed, bound or planned; names the
    /// place in the statement when it is known.
    #[error("{message}")]
    Plan {
        /// What is wrong, including the line:column when known.
        message: String,
    },
    /// An error from an Arrow kernel.
    #[error("Arrow error: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// An error reading or writing Parquet.
    #[error("Parquet error: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// An error from the object store (file not found, permission denied, ...).
    #[error("{0}")]
    ObjectStore(#[from] object_store::Error),
    /// An operating-system I/O error.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// An argument a caller passed is out of its allowed range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Evaluating a query over data failed: division by zero, numeric
    /// overflow, a value that does not cast. Names the expression.
    #[error("{0}")]
    Execution(String),
    /// A feature that Flint does not support (yet).
    #[error("not supported: {0}")]
    NotSupported(String),
    /// A user-supplied closure panicked inside a task.
    #[error("user code panicked: {0}")]
    Panic(String),
    /// A task failed every one of its attempts; the job was aborted.
    #[error(
        "job {job_id} aborted: stage {stage_id} ({stage_name}), partition {partition} failed \
         {attempts} attempt(s); last cause: {source}"
    )]
    JobAborted {
        /// The job that was aborted.
        job_id: usize,
        /// The stage whose task failed.
        stage_id: usize,
        /// What the stage computes, e.g. `ShuffleMap reduce_by_key`.
        stage_name: String,
        /// The partition of the failing task.
        partition: usize,
        /// How many attempts were made.
        attempts: usize,
        /// The error of the last attempt.
        source: Box<Error>,
    },
    /// The job was cancelled (e.g. Ctrl-C in the shell).
    #[error("job {0} was cancelled")]
    Cancelled(usize),
    /// Shuffle output that a reducer needs is missing; the scheduler reacts by
    /// recomputing the lost map outputs from lineage.
    #[error("shuffle {shuffle_id}: output of map partition {map_id} is missing")]
    FetchFailed {
        /// The shuffle whose output is missing.
        shuffle_id: usize,
        /// The map partition whose output is missing.
        map_id: usize,
    },
    /// A fault injected through [`crate::FaultInjection`] (tests only).
    #[error("injected fault (stage {stage_id}, partition {partition}, attempt {attempt})")]
    InjectedFault {
        /// Stage of the failed task.
        stage_id: usize,
        /// Partition of the failed task.
        partition: usize,
        /// Attempt number that was failed.
        attempt: usize,
    },
    /// An error with a note on what was being done when it happened.
    #[error("{context}: {source}")]
    Context {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: Box<Error>,
    },
    /// A bug in Flint: a state that user input should never reach.
    #[error("internal error (please report): {0}")]
    Internal(String),
}

impl From<datafusion_common::DataFusionError> for Error {
    fn from(e: datafusion_common::DataFusionError) -> Self {
        use datafusion_common::DataFusionError as D;
        match e {
            // A Flint error that travelled through a datafusion-common API
            // (e.g. a tree walk) comes back as itself.
            D::External(inner) => match inner.downcast::<Error>() {
                Ok(flint) => *flint,
                Err(other) => Error::DataFusion(D::External(other)),
            },
            D::Plan(message) => Error::Plan { message },
            D::SchemaError(e, _) => Error::Plan { message: e.to_string() },
            D::NotImplemented(m) => Error::NotSupported(m),
            D::ArrowError(e, _) => Error::Arrow(*e),
            other => Error::DataFusion(other),
        }
    }
}

impl From<Error> for datafusion_common::DataFusionError {
    fn from(e: Error) -> Self {
        match e {
            Error::DataFusion(d) => d,
            other => datafusion_common::DataFusionError::External(Box::new(other)),
        }
    }
}

impl Error {
    /// Wraps this error with a note about what was being done.
    pub fn context(self, context: impl fmt::Display) -> Self {
        Error::Context {
            context: context.to_string(),
            source: Box::new(self),
        }
    }

    /// The innermost error, past any `Context` and `JobAborted` wrappers.
    pub fn root_cause(&self) -> &Error {
        let mut e = self;
        loop {
            match e {
                Error::Context { source, .. } | Error::JobAborted { source, .. } => e = source,
                other => return other,
            }
        }
    }
}

/// Adds `.context(..)` to any result whose error converts into [`Error`].
pub trait ResultExt<T> {
    /// Wraps the error, if any, with a note about what was being done.
    fn context(self, context: impl fmt::Display) -> Result<T>;
    /// Like [`ResultExt::context`] but builds the note lazily.
    fn with_context<C: fmt::Display>(self, f: impl FnOnce() -> C) -> Result<T>;
}

impl<T, E: Into<Error>> ResultExt<T> for std::result::Result<T, E> {
    fn context(self, context: impl fmt::Display) -> Result<T> {
        self.map_err(|e| e.into().context(context))
    }
    fn with_context<C: fmt::Display>(self, f: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|e| e.into().context(f()))
    }
}

/// Returns early with [`Error::InvalidArgument`].
#[macro_export]
macro_rules! invalid_arg {
    ($($arg:tt)*) => { return Err($crate::Error::InvalidArgument(format!($($arg)*))) };
}

/// Returns early with [`Error::Internal`].
#[macro_export]
macro_rules! internal_err {
    ($($arg:tt)*) => { return Err($crate::Error::Internal(format!($($arg)*))) };
}

/// Returns early with [`Error::Plan`].
#[macro_export]
macro_rules! plan_err {
    ($($arg:tt)*) => { return Err($crate::Error::Plan { message: format!($($arg)*) }) };
}

/// Builds (without returning) an [`Error::Plan`].
#[macro_export]
macro_rules! plan_error {
    ($($arg:tt)*) => { $crate::Error::Plan { message: format!($($arg)*) } };
}

/// Returns early with [`Error::Execution`].
#[macro_export]
macro_rules! exec_err {
    ($($arg:tt)*) => { return Err($crate::Error::Execution(format!($($arg)*))) };
}

/// Returns early with [`Error::NotSupported`].
#[macro_export]
macro_rules! not_supported {
    ($($arg:tt)*) => { return Err($crate::Error::NotSupported(format!($($arg)*))) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flint_errors_survive_a_trip_through_datafusion_common() {
        let d: datafusion_common::DataFusionError = Error::Panic("x".into()).into();
        assert!(matches!(Error::from(d), Error::Panic(_)));
    }

    #[test]
    fn root_cause_skips_wrappers() {
        let e = Error::Panic("boom".into()).context("reading part 3");
        assert!(matches!(e.root_cause(), Error::Panic(_)));
        assert_eq!(e.to_string(), "reading part 3: user code panicked: boom");
    }
}
