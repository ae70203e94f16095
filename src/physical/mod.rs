//! Physical planning and operators (step 4 of the pipeline): logical plans
//! lowered to RDD stages of operators over Arrow record batches.
//!
//! The operator kernels are pure functions over record batches, with no
//! RDD code, in pipeline order:
//!
//! - [`expr`]: expressions evaluated a batch at a time.
//! - [`aggregate`]: hash aggregation in partial, final and single mode.
//! - [`join`]: hash join (build, probe) and nested-loop join.
//! - [`sort`]: full sort, top-k, and sort-key encoding for range
//!   partitioning.

pub mod aggregate;
pub mod expr;
pub mod join;
pub mod sort;
