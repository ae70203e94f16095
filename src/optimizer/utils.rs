//! Helpers shared by optimizer rules: the columns an expression uses,
//! column substitution, and which side of a join an expression belongs to.

use std::collections::{HashMap, HashSet};

use datafusion_common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion_common::{Column, DFSchema};

use crate::error::Result;
use crate::logical::Expr;

/// Columns referenced by `e` (not those of enclosing queries).
pub fn columns(e: &Expr) -> HashSet<Column> {
    let mut out = HashSet::new();
    let _ = e.apply(|x| {
        if let Expr::Column(c) = x {
            out.insert(c.clone());
        }
        Ok(TreeNodeRecursion::Continue)
    });
    out
}

/// True when `e` refers to a column of an enclosing query.
pub fn has_outer_refs(e: &Expr) -> bool {
    let mut found = false;
    let _ = e.apply(|x| {
        if matches!(x, Expr::OuterColumn(..)) {
            found = true;
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

/// True when `e` contains a subquery.
pub fn has_subquery(e: &Expr) -> bool {
    let mut found = false;
    let _ = e.apply(|x| {
        if matches!(
            x,
            Expr::ScalarSubquery(_) | Expr::InSubquery { .. } | Expr::Exists { .. }
        ) {
            found = true;
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

/// True when `e` contains an aggregate call.
pub fn has_aggregate(e: &Expr) -> bool {
    let mut found = false;
    let _ = e.apply(|x| {
        if matches!(x, Expr::Aggregate(_)) {
            found = true;
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

/// True when every column `e` uses is a field of `schema`.
pub fn bound_by(e: &Expr, schema: &DFSchema) -> bool {
    columns(e).iter().all(|c| schema.qualified_field_from_column(c).is_ok())
}

/// Replaces columns by expressions (e.g. a projection's definitions).
pub fn substitute(e: Expr, map: &HashMap<Column, Expr>) -> Result<Expr> {
    Ok(e.transform_up(|x| match &x {
        Expr::Column(c) => match map.get(c) {
            Some(def) => Ok(Transformed::yes(def.clone())),
            None => Ok(Transformed::no(x)),
        },
        _ => Ok(Transformed::no(x)),
    })?
    .data)
}

/// Turns references to an enclosing query into plain columns.
pub fn outer_to_columns(e: Expr) -> Result<Expr> {
    Ok(e.transform_up(|x| match x {
        Expr::OuterColumn(_, c) => Ok(Transformed::yes(Expr::Column(c))),
        other => Ok(Transformed::no(other)),
    })?
    .data)
}
