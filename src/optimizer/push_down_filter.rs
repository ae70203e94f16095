//! `push_down_filter`: moves predicates as close to the data as their
//! columns allow — through projections, aliases, sorts, aggregates (on
//! grouping keys), unions and joins (respecting outer-join semantics) — and
//! hands them to table scans for pruning. Equalities between the two sides
//! of a join become its equi-join keys, turning `FROM a, b WHERE a.x = b.y`
//! into a hash join.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion_common::{Column, JoinType};

use super::OptimizerRule;
use super::utils::{bound_by, columns, has_subquery, substitute};
use crate::error::Result;
use crate::functions::ScalarFunction;
use crate::logical::{
    Aggregate, Expr, Filter, Join, LogicalPlan, Operator, Projection, Sort, SubqueryAlias, TableScan, Union,
    conjunction,
};

/// See the module documentation.
pub struct PushDownFilter;

impl OptimizerRule for PushDownFilter {
    fn name(&self) -> &'static str {
        "push_down_filter"
    }

    fn rewrite(&self, plan: LogicalPlan) -> Result<LogicalPlan> {
        push(plan, Vec::new())
    }
}

fn volatile(e: &Expr) -> bool {
    let mut v = false;
    let _ = datafusion_common::tree_node::TreeNode::apply(e, |x| {
        if matches!(x, Expr::ScalarFunction(ScalarFunction::Random | ScalarFunction::Now, _)) {
            v = true;
        }
        Ok(datafusion_common::tree_node::TreeNodeRecursion::Continue)
    });
    v
}

fn wrap(plan: LogicalPlan, preds: Vec<Expr>) -> Result<LogicalPlan> {
    let mut preds = preds;
    preds.dedup();
    Ok(match conjunction(preds) {
        None => plan,
        Some(p) => LogicalPlan::Filter(Filter::try_new(p, Arc::new(plan))?),
    })
}

/// Maps an output column of a node to the expression that defines it.
fn definitions(schema: &datafusion_common::DFSchema, exprs: &[Expr]) -> HashMap<Column, Expr> {
    let mut map = HashMap::new();
    for (i, e) in exprs.iter().enumerate() {
        let (q, f) = schema.qualified_field(i);
        let def = e.unalias().clone();
        map.insert(Column::new(q.cloned(), f.name()), def.clone());
        map.insert(Column::from_name(f.name()), def);
    }
    map
}

fn push(plan: LogicalPlan, preds: Vec<Expr>) -> Result<LogicalPlan> {
    match plan {
        LogicalPlan::Filter(f) => {
            let mut all = preds;
            all.extend(f.predicate.clone().split_conjunction());
            push(f.input.as_ref().clone(), all)
        }
        LogicalPlan::Projection(p) => {
            let defs = definitions(&p.schema, &p.exprs);
            let (mut down, mut keep) = (Vec::new(), Vec::new());
            for pred in preds {
                let ok = !has_subquery(&pred)
                    && columns(&pred).iter().all(|c| {
                        defs.get(c)
                            .is_some_and(|d| !has_subquery(d) && !volatile(d) && !matches!(d, Expr::Aggregate(_)))
                    });
                if ok {
                    down.push(substitute(pred, &defs)?);
                } else {
                    keep.push(pred);
                }
            }
            let input = push(p.input.as_ref().clone(), down)?;
            wrap(
                LogicalPlan::Projection(Projection::try_new(p.exprs.clone(), Arc::new(input))?),
                keep,
            )
        }
        LogicalPlan::SubqueryAlias(a) => {
            let in_schema = Arc::clone(a.input.schema());
            let exprs: Vec<Expr> = (0..in_schema.fields().len())
                .map(|i| {
                    let (q, f) = in_schema.qualified_field(i);
                    Expr::Column(Column::new(q.cloned(), f.name()))
                })
                .collect();
            let defs = definitions(&a.schema, &exprs);
            let (mut down, mut keep) = (Vec::new(), Vec::new());
            for pred in preds {
                if !has_subquery(&pred) && columns(&pred).iter().all(|c| defs.contains_key(c)) {
                    down.push(substitute(pred, &defs)?);
                } else {
                    keep.push(pred);
                }
            }
            let input = push(a.input.as_ref().clone(), down)?;
            wrap(
                LogicalPlan::SubqueryAlias(SubqueryAlias::try_new(Arc::new(input), a.alias.clone())?),
                keep,
            )
        }
        LogicalPlan::Sort(s) => {
            let input = push(s.input.as_ref().clone(), preds)?;
            Ok(LogicalPlan::Sort(Sort {
                exprs: s.exprs.clone(),
                input: Arc::new(input),
                fetch: s.fetch,
            }))
        }
        LogicalPlan::Aggregate(a) => {
            let key_exprs: Vec<Expr> = a.group_expr.clone();
            let defs = definitions(&a.schema, &key_exprs);
            let (mut down, mut keep) = (Vec::new(), Vec::new());
            for pred in preds {
                if !has_subquery(&pred)
                    && !columns(&pred).is_empty()
                    && columns(&pred).iter().all(|c| defs.contains_key(c))
                {
                    down.push(substitute(pred, &defs)?);
                } else {
                    keep.push(pred);
                }
            }
            let input = push(a.input.as_ref().clone(), down)?;
            wrap(
                LogicalPlan::Aggregate(Aggregate::try_new(
                    Arc::new(input),
                    a.group_expr.clone(),
                    a.aggr_expr.clone(),
                )?),
                keep,
            )
        }
        LogicalPlan::Union(u) => {
            let (down, keep): (Vec<Expr>, Vec<Expr>) = preds.into_iter().partition(|p| !has_subquery(p));
            let mut inputs = Vec::new();
            for input in &u.inputs {
                let s = input.schema();
                let exprs: Vec<Expr> = (0..s.fields().len())
                    .map(|i| {
                        let (q, f) = s.qualified_field(i);
                        Expr::Column(Column::new(q.cloned(), f.name()))
                    })
                    .collect();
                let defs = definitions(&u.schema, &exprs);
                let mapped = down
                    .iter()
                    .map(|p| substitute(p.clone(), &defs))
                    .collect::<Result<Vec<_>>>()?;
                inputs.push(Arc::new(push(input.as_ref().clone(), mapped)?));
            }
            wrap(LogicalPlan::Union(Union::try_new(inputs)?), keep)
        }
        LogicalPlan::Join(j) => push_join(j, preds),
        LogicalPlan::TableScan(s) => push_scan(s, preds),
        LogicalPlan::Limit(l) => {
            let input = push(l.input.as_ref().clone(), vec![])?;
            wrap(
                LogicalPlan::Limit(crate::logical::Limit {
                    skip: l.skip,
                    fetch: l.fetch,
                    input: Arc::new(input),
                }),
                preds,
            )
        }
        other @ (LogicalPlan::Values(_) | LogicalPlan::EmptyRelation(_)) => wrap(other, preds),
    }
}

fn push_scan(s: TableScan, preds: Vec<Expr>) -> Result<LogicalPlan> {
    let mut filters = s.filters.clone();
    for p in &preds {
        if has_subquery(p) || volatile(p) || !bound_by(p, &s.schema) {
            continue;
        }
        // Scans see their table's columns by unqualified name.
        let defs: HashMap<Column, Expr> = columns(p)
            .into_iter()
            .map(|c| {
                let name = c.name.clone();
                (c, Expr::Column(Column::from_name(name)))
            })
            .collect();
        let f = substitute(p.clone(), &defs)?;
        if !filters.contains(&f) {
            filters.push(f);
        }
    }
    let scan = TableScan::try_new(
        s.table_name.clone(),
        Arc::clone(&s.source),
        s.projection.clone(),
        filters,
        s.fetch,
    )?;
    // Scans only prune; the filter stays to remove the remaining rows.
    wrap(LogicalPlan::TableScan(scan), preds)
}

/// For `(a1 AND b1) OR (a2 AND b2)` where `a*` use only relation A, adds
/// the implied `a1 OR a2` (and likewise for B), which can be pushed to A's
/// scan. The original predicate stays, so this only ever adds filtering
/// that the OR already implies (TPC-H q7 and q19 need it).
fn derive_from_or(preds: &mut Vec<Expr>) {
    let relations_of = |e: &Expr| -> Vec<Option<datafusion_common::TableReference>> {
        let mut r: Vec<_> = columns(e).into_iter().map(|c| c.relation).collect();
        r.sort_by_key(|x| format!("{x:?}"));
        r.dedup();
        r
    };
    let mut derived = Vec::new();
    for p in preds.iter() {
        if !matches!(p, Expr::Binary(_, Operator::Or, _)) {
            continue;
        }
        let mut branches = Vec::new();
        let mut stack = vec![p.clone()];
        while let Some(e) = stack.pop() {
            match e {
                Expr::Binary(l, Operator::Or, r) => {
                    stack.push(*r);
                    stack.push(*l);
                }
                other => branches.push(other.split_conjunction()),
            }
        }
        let mut candidates: Vec<datafusion_common::TableReference> = Vec::new();
        for c in branches.iter().flatten() {
            if let [Some(rel)] = relations_of(c).as_slice()
                && !candidates.contains(rel)
            {
                candidates.push(rel.clone());
            }
        }
        for rel in candidates {
            let mut per_branch = Vec::new();
            for b in &branches {
                let own: Vec<Expr> = b
                    .iter()
                    .filter(|c| !has_subquery(c) && relations_of(c) == vec![Some(rel.clone())])
                    .cloned()
                    .collect();
                match conjunction(own) {
                    Some(e) => per_branch.push(e),
                    None => {
                        // A branch without a condition on this relation
                        // implies nothing about it.
                        per_branch.clear();
                        break;
                    }
                }
            }
            if let Some(implied) = per_branch.into_iter().reduce(|a, b| a.or(b))
                && !preds.contains(&implied)
                && !derived.contains(&implied)
            {
                derived.push(implied);
            }
        }
    }
    preds.extend(derived);
}

fn push_join(j: Join, preds: Vec<Expr>) -> Result<LogicalPlan> {
    let mut preds = preds;
    if j.join_type == JoinType::Inner {
        derive_from_or(&mut preds);
    }
    let (ls, rs) = (Arc::clone(j.left.schema()), Arc::clone(j.right.schema()));
    let (mut left, mut right, mut conds, mut keep) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let t = j.join_type;
    for p in preds {
        let (l, r) = (
            !has_subquery(&p) && bound_by(&p, &ls),
            !has_subquery(&p) && bound_by(&p, &rs),
        );
        match t {
            JoinType::Inner if l => left.push(p),
            JoinType::Inner if r => right.push(p),
            JoinType::Inner if !has_subquery(&p) && bound_by(&p, &j.schema) => conds.push(p),
            JoinType::Left | JoinType::LeftSemi | JoinType::LeftAnti | JoinType::LeftMark if l => left.push(p),
            JoinType::Right | JoinType::RightSemi | JoinType::RightAnti | JoinType::RightMark if r => right.push(p),
            _ => keep.push(p),
        }
    }
    if let Some(f) = &j.filter {
        for c in f.clone().split_conjunction() {
            let (l, r) = (
                !has_subquery(&c) && bound_by(&c, &ls),
                !has_subquery(&c) && bound_by(&c, &rs),
            );
            match t {
                JoinType::Inner | JoinType::LeftSemi | JoinType::RightSemi if l && !r => left.push(c),
                JoinType::Inner | JoinType::LeftSemi | JoinType::RightSemi if r && !l => right.push(c),
                JoinType::Left | JoinType::LeftAnti if r && !l => right.push(c),
                JoinType::Right | JoinType::RightAnti if l && !r => left.push(c),
                _ => conds.push(c),
            }
        }
    }
    let new_left = push(j.left.as_ref().clone(), left)?;
    let new_right = push(j.right.as_ref().clone(), right)?;
    let (mut on, rest) = extract_keys(conds, new_left.schema(), new_right.schema());
    let mut all_on = j.on.clone();
    all_on.append(&mut on);
    let mut join = Join::try_new(
        Arc::new(new_left),
        Arc::new(new_right),
        all_on,
        conjunction(rest),
        j.join_type,
        j.null_equals_null,
    )?;
    join.null_aware = j.null_aware;
    wrap(LogicalPlan::Join(join), keep)
}

/// Splits equalities between one side and the other off as join keys.
pub(crate) fn extract_keys(
    conds: Vec<Expr>,
    left: &datafusion_common::DFSchema,
    right: &datafusion_common::DFSchema,
) -> (Vec<(Expr, Expr)>, Vec<Expr>) {
    let mut on = Vec::new();
    let mut rest = Vec::new();
    for c in conds {
        match &c {
            Expr::Binary(a, Operator::Eq, b)
                if !has_subquery(&c) && !columns(a).is_empty() && !columns(b).is_empty() =>
            {
                if bound_by(a, left) && bound_by(b, right) {
                    on.push((a.as_ref().clone(), b.as_ref().clone()));
                } else if bound_by(a, right) && bound_by(b, left) {
                    on.push((b.as_ref().clone(), a.as_ref().clone()));
                } else {
                    rest.push(c);
                }
            }
            _ => rest.push(c),
        }
    }
    (on, rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::test_util::bind;

    fn run(sql: &str) -> String {
        PushDownFilter.rewrite(bind(sql)).unwrap().display_indent()
    }

    #[test]
    fn comma_join_becomes_equi_join_and_filters_reach_scans() {
        let p = run("SELECT b FROM big, mid WHERE big.a = mid.a AND c > 5 AND b < 3");
        assert!(p.contains("Inner Join: on=[big.a = mid.a]"), "{p}");
        assert!(p.contains("TableScan: mid filters=[c > 5]"), "{p}");
        assert!(p.contains("TableScan: big filters=[b < 3]"), "{p}");
        assert!(!p.contains("Cross Join"), "{p}");
    }

    #[test]
    fn outer_joins_keep_null_supplying_side_filters_above() {
        let p = run("SELECT b FROM big LEFT JOIN mid ON big.a = mid.a WHERE c IS NULL AND b = 1");
        let lines: Vec<&str> = p.lines().collect();
        assert!(lines.iter().any(|l| l.contains("Filter: mid.c IS NULL")), "{p}");
        assert!(p.contains("TableScan: big filters=[b = 1]"), "{p}");
        assert!(!p.contains("TableScan: mid filters"), "{p}");
    }

    #[test]
    fn filters_pass_projections_and_group_keys_but_not_aggregates() {
        let p = run("SELECT * FROM (SELECT a, count(*) AS n FROM big GROUP BY a) t WHERE a = 3 AND n > 1");
        assert!(p.contains("TableScan: big filters=[a = 3]"), "{p}");
        // The aggregate's output is filtered right above it, as HAVING would.
        let filter = p.lines().position(|l| l.contains("Filter: count(*) > 1"));
        let agg = p.lines().position(|l| l.contains("Aggregate:"));
        assert_eq!(filter.map(|f| f + 1), agg, "{p}");
    }
}

#[cfg(test)]
mod or_tests {
    use super::*;
    use crate::optimizer::test_util::bind;

    #[test]
    fn or_of_per_table_conditions_adds_implied_filters() {
        let plan = bind(
            "SELECT b FROM big, small WHERE big.a = small.c AND ((big.b = 1 AND small.sd = 'x') OR (big.b = 2 AND small.sd = 'y'))",
        );
        let p = PushDownFilter.rewrite(plan).unwrap().display_indent();
        assert!(p.contains("TableScan: big filters=[b = 1 OR b = 2]"), "{p}");
        assert!(p.contains("TableScan: small filters=[sd = 'x' OR sd = 'y']"), "{p}");
    }
}
