//! Logical plans and expressions (step 2 of the pipeline): what a query
//! computes, with names resolved and types known, before deciding how to run it.

pub(crate) mod builder;
pub mod coercion;
mod display;
pub mod expr;
mod expr_fn;
pub mod expr_schema;
pub mod plan;
pub(crate) mod resolve;
pub mod stats;
mod tree_node;

pub use display::join_type_name;
pub use expr::{AggregateCall, Expr, Operator, SortExpr, Subquery, col, conjunction, lit};
pub use expr_schema::ExprSchema;
pub use plan::*;
pub use resolve::resolve_expr;
