//! Physical planning and operators (step 4 of the pipeline): logical plans
//! lowered to RDD stages of operators over Arrow record batches.
//!
//! In pipeline order: [`planner`] turns an optimized logical plan into a
//! [`plan::PhysicalPlan`] with explicit exchanges; [`lower`] turns that into
//! RDDs ([`exchange`] splits batches for shuffles). The operator kernels are
//! pure functions over record batches: [`expr`] (expressions evaluated a
//! batch at a time), [`aggregate`] (hash aggregation in partial, final and
//! single mode), [`join`] (hash join build/probe, nested-loop join) and
//! [`sort`] (full sort, top-k, sort-key encoding).

pub mod aggregate;
pub mod compact;
pub mod exchange;
pub mod expr;
pub(crate) mod filter;
pub mod join;
pub mod lower;
pub mod plan;
pub mod planner;
pub(crate) mod probe_scan;
pub mod sort;
