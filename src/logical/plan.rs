//! Logical plans: relational operators over named, typed columns.
//!
//! Every node is a struct built by a validating `try_new` that derives its
//! output schema (a `DFSchema`, whose fields carry their relation as
//! qualifier, so `t.a` and `u.a` stay apart).

use std::sync::Arc;

use arrow::datatypes::{DataType, Field};
use datafusion_common::{DFSchema, DFSchemaRef, JoinType, TableReference};

use super::expr::{Expr, SortExpr};
use super::expr_schema::ExprSchema;
use crate::datasource::TableProvider;
use crate::error::Result;
use crate::plan_err;

/// A logical plan node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LogicalPlan {
    /// Reads a table.
    TableScan(TableScan),
    /// Computes expressions per row.
    Projection(Projection),
    /// Keeps rows where a predicate is true.
    Filter(Filter),
    /// Groups and aggregates.
    Aggregate(Aggregate),
    /// Orders rows, optionally keeping only the first `fetch`.
    Sort(Sort),
    /// Skips and limits rows.
    Limit(Limit),
    /// Joins two inputs.
    Join(Join),
    /// Concatenates inputs with the same columns (`UNION ALL`).
    Union(Union),
    /// Renames the relation of the input's columns (`FROM t AS x`).
    SubqueryAlias(SubqueryAlias),
    /// Literal rows (`VALUES`).
    Values(Values),
    /// No input: zero rows, or one row with no columns (`SELECT 1`).
    EmptyRelation(EmptyRelation),
}

/// A scan of a table, with what the optimizer pushed into it.
#[derive(Clone, Debug)]
pub struct TableScan {
    /// The table's name as written in the query.
    pub table_name: TableReference,
    /// The table.
    pub source: Arc<dyn TableProvider>,
    /// Indices of the table's columns that are read (`None`: all).
    pub projection: Option<Vec<usize>>,
    /// Predicates the scan may use to skip data (they are still applied
    /// by a filter above).
    pub filters: Vec<Expr>,
    /// Rows needed at most.
    pub fetch: Option<usize>,
    /// The projected schema, qualified by `table_name`.
    pub schema: DFSchemaRef,
}

impl PartialEq for TableScan {
    fn eq(&self, o: &Self) -> bool {
        self.table_name == o.table_name
            && Arc::ptr_eq(&self.source, &o.source)
            && self.projection == o.projection
            && self.filters == o.filters
            && self.fetch == o.fetch
    }
}
impl Eq for TableScan {}
impl std::hash::Hash for TableScan {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.table_name.hash(state);
        self.projection.hash(state);
        self.filters.hash(state);
        self.fetch.hash(state);
    }
}

impl TableScan {
    /// Scans `source` as `table_name`, reading the given columns.
    pub fn try_new(
        table_name: TableReference,
        source: Arc<dyn TableProvider>,
        projection: Option<Vec<usize>>,
        filters: Vec<Expr>,
        fetch: Option<usize>,
    ) -> Result<Self> {
        let table_schema = source.schema();
        let fields: Vec<Field> = match &projection {
            None => table_schema.fields().iter().map(|f| f.as_ref().clone()).collect(),
            Some(p) => p
                .iter()
                .map(|&i| {
                    table_schema
                        .fields()
                        .get(i)
                        .map(|f| f.as_ref().clone())
                        .ok_or_else(|| crate::plan_error!("column index {i} out of range for {table_name}"))
                })
                .collect::<Result<_>>()?,
        };
        let schema = match source.column_relations() {
            None => DFSchema::try_from_qualified_schema(table_name.clone(), &arrow::datatypes::Schema::new(fields))?,
            Some(relations) => {
                let relation = |i: usize| relations.get(i).cloned().flatten();
                let qualified = match &projection {
                    None => fields
                        .into_iter()
                        .enumerate()
                        .map(|(i, f)| (relation(i), Arc::new(f)))
                        .collect(),
                    Some(p) => p.iter().zip(fields).map(|(&i, f)| (relation(i), Arc::new(f))).collect(),
                };
                DFSchema::new_with_metadata(qualified, Default::default())?
            }
        };
        Ok(Self {
            table_name,
            source,
            projection,
            filters,
            fetch,
            schema: Arc::new(schema),
        })
    }
}

/// `SELECT exprs FROM input`
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Projection {
    /// One output column per expression.
    pub exprs: Vec<Expr>,
    /// The input.
    pub input: Arc<LogicalPlan>,
    /// Output schema.
    pub schema: DFSchemaRef,
}

impl Projection {
    /// Projects `exprs` over `input`; output names come from aliases,
    /// column names or the expression text.
    pub fn try_new(exprs: Vec<Expr>, input: Arc<LogicalPlan>) -> Result<Self> {
        let in_schema = input.schema();
        let fields = exprs
            .iter()
            .map(|e| e.to_qualified_field(in_schema))
            .collect::<Result<Vec<_>>>()?;
        let schema = DFSchema::new_with_metadata(fields, Default::default())?;
        Ok(Self {
            exprs,
            input,
            schema: Arc::new(schema),
        })
    }
}

/// `WHERE predicate`
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Filter {
    /// A boolean predicate.
    pub predicate: Expr,
    /// The input.
    pub input: Arc<LogicalPlan>,
}

impl Filter {
    /// Filters `input` by a boolean `predicate`.
    pub fn try_new(predicate: Expr, input: Arc<LogicalPlan>) -> Result<Self> {
        let t = predicate.get_type(input.schema())?;
        if !matches!(t, DataType::Boolean | DataType::Null) {
            plan_err!("a filter must be boolean, but {predicate} is {t}");
        }
        Ok(Self { predicate, input })
    }
}

/// `GROUP BY group_expr` computing `aggr_expr`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Aggregate {
    /// The input.
    pub input: Arc<LogicalPlan>,
    /// Grouping keys (output first).
    pub group_expr: Vec<Expr>,
    /// Aggregate calls (output after the keys).
    pub aggr_expr: Vec<Expr>,
    /// Output schema.
    pub schema: DFSchemaRef,
}

impl Aggregate {
    /// Groups `input` by `group_expr` and computes `aggr_expr` per group.
    pub fn try_new(input: Arc<LogicalPlan>, group_expr: Vec<Expr>, aggr_expr: Vec<Expr>) -> Result<Self> {
        for a in &aggr_expr {
            if !matches!(a.unalias(), Expr::Aggregate(_)) {
                plan_err!("{a} is not an aggregate call");
            }
        }
        let in_schema = input.schema();
        let fields = group_expr
            .iter()
            .chain(aggr_expr.iter())
            .map(|e| e.to_qualified_field(in_schema))
            .collect::<Result<Vec<_>>>()?;
        let schema = DFSchema::new_with_metadata(fields, Default::default())?;
        Ok(Self {
            input,
            group_expr,
            aggr_expr,
            schema: Arc::new(schema),
        })
    }
}

/// `ORDER BY exprs [LIMIT fetch]`
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Sort {
    /// Sort keys, most significant first.
    pub exprs: Vec<SortExpr>,
    /// The input.
    pub input: Arc<LogicalPlan>,
    /// Keep only the first `fetch` rows (top-k).
    pub fetch: Option<usize>,
}

/// `OFFSET skip LIMIT fetch`
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Limit {
    /// Rows to skip.
    pub skip: usize,
    /// Rows to return after skipping (`None`: all).
    pub fetch: Option<usize>,
    /// The input.
    pub input: Arc<LogicalPlan>,
}

/// A join of `left` and `right`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Join {
    /// Left input.
    pub left: Arc<LogicalPlan>,
    /// Right input.
    pub right: Arc<LogicalPlan>,
    /// Equi-join keys: `(left expr, right expr)` pairs.
    pub on: Vec<(Expr, Expr)>,
    /// Any further condition over both sides.
    pub filter: Option<Expr>,
    /// Inner, outer, semi, anti or mark.
    pub join_type: JoinType,
    /// When true, `NULL = NULL` matches (from `IS NOT DISTINCT FROM`).
    pub null_equals_null: bool,
    /// For `LeftAnti` from `NOT IN`: no row qualifies when the right side
    /// has a NULL key, and a NULL left key qualifies only against an empty
    /// right side.
    pub null_aware: bool,
    /// Output schema.
    pub schema: DFSchemaRef,
}

impl Join {
    /// Joins `left` and `right` on equi-keys `on` and an optional `filter`.
    pub fn try_new(
        left: Arc<LogicalPlan>,
        right: Arc<LogicalPlan>,
        on: Vec<(Expr, Expr)>,
        filter: Option<Expr>,
        join_type: JoinType,
        null_equals_null: bool,
    ) -> Result<Self> {
        let schema = join_schema(left.schema(), right.schema(), join_type)?;
        Ok(Self {
            left,
            right,
            on,
            filter,
            join_type,
            null_equals_null,
            null_aware: false,
            schema: Arc::new(schema),
        })
    }
}

/// The output schema of a join: both sides (outer sides nullable), only
/// the left for semi/anti joins, the left plus a `mark` column for mark joins.
pub fn join_schema(left: &DFSchema, right: &DFSchema, join_type: JoinType) -> Result<DFSchema> {
    let nullable = |s: &DFSchema, yes: bool| -> Vec<(Option<TableReference>, Arc<Field>)> {
        s.iter()
            .map(|(q, f)| {
                let f = if yes {
                    Arc::new(f.as_ref().clone().with_nullable(true))
                } else {
                    Arc::clone(f)
                };
                (q.cloned(), f)
            })
            .collect()
    };
    let fields = match join_type {
        JoinType::Inner => [nullable(left, false), nullable(right, false)].concat(),
        JoinType::Left => [nullable(left, false), nullable(right, true)].concat(),
        JoinType::Right => [nullable(left, true), nullable(right, false)].concat(),
        JoinType::Full => [nullable(left, true), nullable(right, true)].concat(),
        JoinType::LeftSemi | JoinType::LeftAnti => nullable(left, false),
        JoinType::RightSemi | JoinType::RightAnti => nullable(right, false),
        JoinType::LeftMark => {
            let mut f = nullable(left, false);
            f.push((None, Arc::new(Field::new("mark", DataType::Boolean, true))));
            f
        }
        JoinType::RightMark => {
            let mut f = nullable(right, false);
            f.push((None, Arc::new(Field::new("mark", DataType::Boolean, true))));
            f
        }
    };
    Ok(DFSchema::new_with_metadata(fields, Default::default())?)
}

/// `UNION ALL` of inputs with compatible columns; output names come from
/// the first input.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Union {
    /// The inputs.
    pub inputs: Vec<Arc<LogicalPlan>>,
    /// Output schema.
    pub schema: DFSchemaRef,
}

impl Union {
    /// Concatenates inputs, which must have the same number of columns and
    /// (after coercion by the caller) the same types.
    pub fn try_new(inputs: Vec<Arc<LogicalPlan>>) -> Result<Self> {
        let Some(first) = inputs.first() else {
            plan_err!("UNION needs at least one input");
        };
        let n = first.schema().fields().len();
        for i in &inputs[1..] {
            if i.schema().fields().len() != n {
                plan_err!(
                    "UNION inputs have different numbers of columns: {n} and {}",
                    i.schema().fields().len()
                );
            }
        }
        let fields = (0..n)
            .map(|c| {
                let (_, f) = first.schema().qualified_field(c);
                let nullable = inputs.iter().any(|i| i.schema().field(c).is_nullable());
                (None, Arc::new(f.as_ref().clone().with_nullable(nullable)))
            })
            .collect::<Vec<_>>();
        Ok(Self {
            inputs,
            schema: Arc::new(DFSchema::new_with_metadata(fields, Default::default())?),
        })
    }
}

/// `input AS alias`
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SubqueryAlias {
    /// The input.
    pub input: Arc<LogicalPlan>,
    /// The new relation name.
    pub alias: TableReference,
    /// The input's schema requalified by `alias`.
    pub schema: DFSchemaRef,
}

impl SubqueryAlias {
    /// Requalifies every column of `input` as `alias.column`.
    pub fn try_new(input: Arc<LogicalPlan>, alias: impl Into<TableReference>) -> Result<Self> {
        let alias = alias.into();
        let schema = input.schema().as_ref().clone().replace_qualifier(alias.clone());
        schema.check_names()?;
        Ok(Self {
            input,
            alias,
            schema: Arc::new(schema),
        })
    }
}

/// `VALUES (..), (..)`
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Values {
    /// Output schema.
    pub schema: DFSchemaRef,
    /// Rows of constant expressions.
    pub values: Vec<Vec<Expr>>,
}

/// A relation without input.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EmptyRelation {
    /// One row with no columns (`SELECT 1`) or no rows.
    pub produce_one_row: bool,
    /// Output schema.
    pub schema: DFSchemaRef,
}

impl LogicalPlan {
    /// The output schema.
    pub fn schema(&self) -> &DFSchemaRef {
        match self {
            LogicalPlan::TableScan(s) => &s.schema,
            LogicalPlan::Projection(p) => &p.schema,
            LogicalPlan::Filter(f) => f.input.schema(),
            LogicalPlan::Aggregate(a) => &a.schema,
            LogicalPlan::Sort(s) => s.input.schema(),
            LogicalPlan::Limit(l) => l.input.schema(),
            LogicalPlan::Join(j) => &j.schema,
            LogicalPlan::Union(u) => &u.schema,
            LogicalPlan::SubqueryAlias(a) => &a.schema,
            LogicalPlan::Values(v) => &v.schema,
            LogicalPlan::EmptyRelation(e) => &e.schema,
        }
    }

    /// The direct inputs.
    pub fn inputs(&self) -> Vec<&Arc<LogicalPlan>> {
        match self {
            LogicalPlan::TableScan(_) | LogicalPlan::Values(_) | LogicalPlan::EmptyRelation(_) => vec![],
            LogicalPlan::Projection(p) => vec![&p.input],
            LogicalPlan::Filter(f) => vec![&f.input],
            LogicalPlan::Aggregate(a) => vec![&a.input],
            LogicalPlan::Sort(s) => vec![&s.input],
            LogicalPlan::Limit(l) => vec![&l.input],
            LogicalPlan::Join(j) => vec![&j.left, &j.right],
            LogicalPlan::Union(u) => u.inputs.iter().collect(),
            LogicalPlan::SubqueryAlias(a) => vec![&a.input],
        }
    }

    /// The expressions this node evaluates (not those of its inputs).
    pub fn expressions(&self) -> Vec<&Expr> {
        match self {
            LogicalPlan::TableScan(s) => s.filters.iter().collect(),
            LogicalPlan::Projection(p) => p.exprs.iter().collect(),
            LogicalPlan::Filter(f) => vec![&f.predicate],
            LogicalPlan::Aggregate(a) => a.group_expr.iter().chain(a.aggr_expr.iter()).collect(),
            LogicalPlan::Sort(s) => s.exprs.iter().map(|s| &s.expr).collect(),
            LogicalPlan::Join(j) => j.on.iter().flat_map(|(l, r)| [l, r]).chain(j.filter.iter()).collect(),
            LogicalPlan::Values(v) => v.values.iter().flatten().collect(),
            LogicalPlan::Limit(_)
            | LogicalPlan::Union(_)
            | LogicalPlan::SubqueryAlias(_)
            | LogicalPlan::EmptyRelation(_) => vec![],
        }
    }

    /// A plan with no rows and the given schema.
    pub fn empty(schema: DFSchemaRef) -> Self {
        LogicalPlan::EmptyRelation(EmptyRelation {
            produce_one_row: false,
            schema,
        })
    }
}
