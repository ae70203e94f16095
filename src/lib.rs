//! Flint: a SQL and DataFrame query engine on Spark-style RDD execution.
//!
//! Modules in pipeline order:
//!
//! - [`session`]: the [`SessionContext`], which owns everything below.
//! - [`sql`] and [`dataframe`]: the two front doors, SQL text and the
//!   DataFrame API (with [`functions`] and [`logical::col`]/[`logical::lit`]
//!   to build expressions); both produce the same logical plans.
//! - [`logical`], [`optimizer`], [`physical`]: plans, their rewrites, and
//!   their lowering onto RDD stages; [`datasource`] holds the tables.
//! - [`rdd`]: typed, lazy, partitioned datasets with their lineage,
//!   partitioners, pair operations and shared variables.
//! - [`shuffle`]: map outputs bucketed by (shuffle, map, reduce partition)
//!   and cached partitions.
//! - [`scheduler`]: the DAG scheduler cutting jobs into stages and running
//!   tasks on the worker pool, with retries and metrics.
//! - [`memory`]: the session's memory pool.
//!
//! ```
//! use flint::SessionContext;
//! let ctx = SessionContext::new();
//! let counts = ctx
//!     .parallelize(vec!["to be", "or not to be"], 2)
//!     .flat_map(|line| line.split(' ').map(String::from).collect::<Vec<_>>())
//!     .map(|w| (w, 1))
//!     .reduce_by_key(|a, b| a + b);
//! let mut out = counts.collect().unwrap();
//! out.sort();
//! assert_eq!(out[0], ("be".to_string(), 2));
//! ```
//!
//! The same count as a DataFrame:
//!
//! ```
//! use flint::SessionContext;
//! use flint::functions::count_star;
//! use flint::logical::col;
//! let ctx = SessionContext::new();
//! let words = ctx.sql("SELECT * FROM (VALUES ('to'), ('be'), ('or'), ('not'), ('to'), ('be')) w(word)").unwrap();
//! let counts = words.group_by(vec![col("word")]).agg(vec![count_star().alias("n")]).unwrap();
//! assert_eq!(counts.count().unwrap(), 4);
//! ```

pub mod catalog;
pub mod config;
pub mod dataframe;
pub mod datasource;
pub mod error;
pub mod functions;
mod io;
pub mod logical;
pub mod memory;
pub mod optimizer;
pub mod physical;
pub mod rdd;
pub mod scheduler;
pub mod session;
mod session_sql;
pub mod shuffle;
pub mod sql;
pub mod tpch;

pub use config::{FaultInjection, SessionConfig};
pub use dataframe::{DataFrame, JoinType};
pub use error::{Error, Result, ResultExt};
pub use rdd::{
    Accumulator, AccumulatorValue, Broadcast, HashPartitioner, PartitionKey, Partitioner, RangePartitioner, Rdd,
    StorageLevel,
};
pub use scheduler::{JobListener, JobMetrics, StageKind, StageMetrics, TaskContext};
pub use session::SessionContext;
