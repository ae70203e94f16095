//! Text form of logical plans for `EXPLAIN`: one node per line, inputs
//! indented below their consumer.

use std::fmt::{self, Write};

use datafusion_common::JoinType;

use super::plan::LogicalPlan;

/// The SQL-ish name of a join type.
pub fn join_type_name(t: JoinType) -> &'static str {
    match t {
        JoinType::Inner => "Inner",
        JoinType::Left => "Left",
        JoinType::Right => "Right",
        JoinType::Full => "Full",
        JoinType::LeftSemi => "LeftSemi",
        JoinType::RightSemi => "RightSemi",
        JoinType::LeftAnti => "LeftAnti",
        JoinType::RightAnti => "RightAnti",
        JoinType::LeftMark => "LeftMark",
        JoinType::RightMark => "RightMark",
    }
}

fn join<T: fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    items.into_iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
}

impl LogicalPlan {
    /// One line describing this node (without its inputs).
    pub fn node_line(&self) -> String {
        match self {
            LogicalPlan::TableScan(s) => {
                let mut line = format!("TableScan: {}", s.table_name);
                if s.projection.is_some() {
                    let names = s.schema.fields().iter().map(|f| f.name().clone());
                    let _ = write!(line, " projection=[{}]", join(names));
                }
                if !s.filters.is_empty() {
                    let _ = write!(line, " filters=[{}]", join(&s.filters));
                }
                if let Some(n) = s.fetch {
                    let _ = write!(line, " fetch={n}");
                }
                line
            }
            LogicalPlan::Projection(p) => format!("Projection: {}", join(&p.exprs)),
            LogicalPlan::Filter(f) => format!("Filter: {}", f.predicate),
            LogicalPlan::Aggregate(a) => format!(
                "Aggregate: groupBy=[{}], aggr=[{}]",
                join(&a.group_expr),
                join(&a.aggr_expr)
            ),
            LogicalPlan::Sort(s) => {
                let mut line = format!("Sort: {}", join(&s.exprs));
                if let Some(n) = s.fetch {
                    let _ = write!(line, ", fetch={n}");
                }
                line
            }
            LogicalPlan::Limit(l) => format!(
                "Limit: skip={}, fetch={}",
                l.skip,
                l.fetch.map_or("None".to_string(), |n| n.to_string())
            ),
            LogicalPlan::Join(j) => {
                let mut line = format!("{} Join:", join_type_name(j.join_type));
                if !j.on.is_empty() {
                    let keys = j.on.iter().map(|(l, r)| format!("{l} = {r}"));
                    let _ = write!(line, " on=[{}]", join(keys));
                }
                if let Some(f) = &j.filter {
                    let _ = write!(line, " filter={f}");
                }
                if j.on.is_empty() && j.filter.is_none() {
                    line = "Cross Join:".to_string();
                }
                line
            }
            LogicalPlan::Union(_) => "Union".to_string(),
            LogicalPlan::SubqueryAlias(a) => format!("SubqueryAlias: {}", a.alias),
            LogicalPlan::Values(v) => format!("Values: {} rows", v.values.len()),
            LogicalPlan::EmptyRelation(e) => format!(
                "EmptyRelation: {}",
                if e.produce_one_row { "one row" } else { "no rows" }
            ),
        }
    }

    /// The whole plan, one node per line, inputs indented by two spaces.
    pub fn display_indent(&self) -> String {
        let mut out = String::new();
        let mut stack = vec![(self, 0usize)];
        while let Some((plan, depth)) = stack.pop() {
            let _ = writeln!(out, "{}{}", "  ".repeat(depth), plan.node_line());
            for input in plan.inputs().into_iter().rev() {
                stack.push((input, depth + 1));
            }
        }
        out.pop();
        out
    }
}

impl fmt::Display for LogicalPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_indent())
    }
}
