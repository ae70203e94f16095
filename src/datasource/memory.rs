//! In-memory tables: record batches held by the table, in partitions
//! (`CREATE TABLE`, registered batches). A scan makes one RDD partition per
//! stored partition and sees the batches as they were when it was planned;
//! inserts append under a write lock.

use std::sync::{Arc, RwLock};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use super::sampling::{self, SAMPLE_ROWS, SAMPLE_UNITS, SelectivityCache};
use super::{ScanMetrics, ScanRequest, TableProvider, TableStatistics, conform, project_schema, scan_iter};
use crate::SessionContext;
use crate::error::{Error, Result};
use crate::logical::Expr;
use crate::rdd::{BoxIter, GeneratorRdd, Rdd};

/// A table of record batches in memory.
///
/// ```
/// use std::sync::Arc;
/// use arrow::array::Int32Array;
/// use arrow::datatypes::{DataType, Field, Schema};
/// use arrow::record_batch::RecordBatch;
/// use flint::datasource::{MemTable, TableProvider};
/// let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int32, false)]));
/// let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(Int32Array::from(vec![1, 2]))]).unwrap();
/// let table = MemTable::try_new(schema, vec![vec![batch.clone()]]).unwrap();
/// assert_eq!(table.insert(vec![batch]).unwrap(), 2);
/// assert_eq!(table.statistics().num_rows, Some(4));
/// ```
#[derive(Debug)]
pub struct MemTable {
    schema: SchemaRef,
    partitions: RwLock<Vec<Vec<RecordBatch>>>,
    selectivity: SelectivityCache,
}

impl MemTable {
    /// A table of `schema` holding `partitions`. Every batch must have the
    /// table's column types (names may differ: they are relabelled).
    pub fn try_new(schema: SchemaRef, partitions: Vec<Vec<RecordBatch>>) -> Result<Self> {
        let partitions = partitions
            .into_iter()
            .map(|p| p.into_iter().map(|b| check(&schema, b)).collect::<Result<Vec<_>>>())
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            schema,
            partitions: RwLock::new(partitions),
            selectivity: SelectivityCache::default(),
        })
    }

    /// The stored partitions, as of now.
    fn snapshot(&self) -> Vec<Vec<RecordBatch>> {
        self.partitions.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// `batch` relabelled as a batch of the table, if its column types match.
fn check(schema: &SchemaRef, batch: RecordBatch) -> Result<RecordBatch> {
    let want: Vec<_> = schema.fields().iter().map(|f| f.data_type()).collect();
    let got: Vec<_> = batch.schema_ref().fields().iter().map(|f| f.data_type()).collect();
    if want != got {
        return Err(Error::InvalidArgument(format!(
            "batch columns {got:?} do not match the table's columns {want:?}"
        )));
    }
    conform(batch, schema).map_err(|e| e.context("adding a batch to a memory table"))
}

impl TableProvider for MemTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn kind(&self) -> &'static str {
        "memory"
    }

    fn statistics(&self) -> TableStatistics {
        let parts = self.partitions.read().unwrap_or_else(|p| p.into_inner());
        let batches = || parts.iter().flatten();
        TableStatistics {
            num_rows: Some(batches().map(|b| b.num_rows() as u64).sum()),
            total_bytes: Some(batches().map(|b| b.get_array_memory_size() as u64).sum()),
        }
    }

    /// Evaluates the filters on every row of a small table, else on the
    /// first rows of three batches spread over it. Inserts only append, so
    /// the row count tells a cached estimate from a stale one.
    fn filter_selectivity(&self, filters: &[Expr]) -> Option<f64> {
        let batches: Vec<RecordBatch> = self
            .snapshot()
            .into_iter()
            .flatten()
            .filter(|b| b.num_rows() > 0)
            .collect();
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        self.selectivity.get_or_insert(filters, rows as u64, || {
            if rows <= SAMPLE_UNITS * SAMPLE_ROWS {
                return sampling::kept_fraction(filters, &batches);
            }
            let n = SAMPLE_UNITS.min(batches.len());
            let sample: Vec<RecordBatch> = (0..n)
                .map(|k| {
                    let b = &batches[k * batches.len() / n];
                    b.slice(0, b.num_rows().min(SAMPLE_ROWS))
                })
                .collect();
            sampling::kept_fraction(filters, &sample)
        })
    }

    fn scan(&self, ctx: &SessionContext, request: &ScanRequest) -> Result<Rdd<RecordBatch>> {
        let (projected, indices) = project_schema(&self.schema, request.projection.as_ref())?;
        let mut parts = self.snapshot();
        if let Some(limit) = request.limit {
            // Later partitions are not needed once earlier ones hold enough.
            let mut seen = 0;
            let keep = parts
                .iter()
                .position(|p| {
                    seen += p.iter().map(|b| b.num_rows()).sum::<usize>();
                    seen >= limit
                })
                .map_or(parts.len(), |i| i + 1);
            parts.truncate(keep);
        }
        ScanMetrics::add(&request.metrics.row_groups_total, parts.len() as u64);
        let parts = Arc::new(parts);
        let (limit, batch_size, metrics) = (request.limit, request.batch_size.max(1), Arc::clone(&request.metrics));
        let num_partitions = parts.len().max(1);
        Ok(GeneratorRdd::create(
            &ctx.state,
            "memory_scan",
            num_partitions,
            move |i, tc| {
                let Some(batches) = parts.get(i).cloned() else {
                    return Ok(Box::new(std::iter::empty()) as BoxIter<RecordBatch>);
                };
                ScanMetrics::add(&metrics.row_groups_read, 1);
                let indices = indices.clone();
                // Stored batches cut into slices of at most `batch_size` rows.
                let mut slices = batches.into_iter().flat_map(move |b| {
                    let n = b.num_rows();
                    (0..n)
                        .step_by(batch_size)
                        .map(move |off| b.slice(off, batch_size.min(n - off)))
                });
                Ok(scan_iter(
                    tc,
                    Arc::clone(&projected),
                    limit,
                    Arc::clone(&metrics),
                    move || slices.next().map(|b| Ok(b.project(&indices)?)).transpose(),
                ))
            },
        ))
    }

    fn insert(&self, batches: Vec<RecordBatch>) -> Result<u64> {
        let batches = batches
            .into_iter()
            .map(|b| check(&self.schema, b))
            .collect::<Result<Vec<_>>>()?;
        let mut parts = self.partitions.write().unwrap_or_else(|p| p.into_inner());
        if parts.is_empty() {
            parts.push(Vec::new());
        }
        let mut added = 0;
        for batch in batches {
            // Each batch goes to the partition with the fewest rows.
            let rows = |p: &Vec<RecordBatch>| p.iter().map(|b| b.num_rows()).sum::<usize>();
            let smallest = parts
                .iter()
                .enumerate()
                .min_by_key(|(_, p)| rows(p))
                .map_or(0, |(i, _)| i);
            added += batch.num_rows() as u64;
            parts[smallest].push(batch);
        }
        Ok(added)
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{AsArray, Int32Array, StringArray};
    use arrow::datatypes::{DataType, Field, Int32Type, Schema};

    use super::*;
    use crate::datasource::test_util::{get, request, rows, run};

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("x", DataType::Int32, false),
            Field::new("s", DataType::Utf8, true),
        ]))
    }

    fn batch(from: i32, n: i32) -> RecordBatch {
        let xs: Vec<i32> = (from..from + n).collect();
        let ss: Vec<String> = xs.iter().map(|x| format!("v{x}")).collect();
        RecordBatch::try_new(
            schema(),
            vec![Arc::new(Int32Array::from(xs)), Arc::new(StringArray::from(ss))],
        )
        .unwrap()
    }

    #[test]
    fn scans_partitions_with_projection_limit_and_batch_size() {
        let t = MemTable::try_new(schema(), vec![vec![batch(0, 10)], vec![batch(10, 5), batch(15, 5)]]).unwrap();
        let ctx = SessionContext::new();
        let req = request(Some(vec![1, 0]), vec![], None, 4, 1);
        let parts = run(&ctx, &t, &req);
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().flatten().all(|b| b.num_rows() <= 4));
        let b = &parts[1][0];
        assert_eq!(b.schema().field(0).name(), "s");
        assert_eq!(b.column(1).as_primitive::<Int32Type>().value(0), 10);
        assert_eq!(rows(&parts), 20);
        assert_eq!(get(&req.metrics.rows), 20);
        assert_eq!(get(&req.metrics.row_groups_read), 2);

        let limited = run(&ctx, &t, &request(None, vec![], Some(3), 100, 1));
        assert_eq!(limited.len(), 1);
        assert_eq!(rows(&limited), 3);
        let none = run(&ctx, &t, &request(Some(vec![]), vec![], None, 100, 1));
        assert_eq!(rows(&none), 20);
        assert!(t.scan(&ctx, &request(Some(vec![2]), vec![], None, 10, 1)).is_err());
    }

    #[test]
    fn inserts_balance_partitions_and_check_types() {
        let t = MemTable::try_new(schema(), vec![]).unwrap();
        let ctx = SessionContext::new();
        assert_eq!(run(&ctx, &t, &request(None, vec![], None, 10, 1)).len(), 1);
        assert_eq!(t.insert(vec![batch(0, 3), batch(3, 3)]).unwrap(), 6);
        let stats = t.statistics();
        assert_eq!(stats.num_rows, Some(6));
        assert!(stats.total_bytes.unwrap() > 0);

        let renamed = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int32, true),
            Field::new("b", DataType::Utf8, true),
        ]));
        let b = RecordBatch::try_new(renamed, batch(6, 2).columns().to_vec()).unwrap();
        t.insert(vec![b]).unwrap();
        let all = run(&ctx, &t, &request(Some(vec![0]), vec![], None, 10, 1));
        assert_eq!(all[0][0].schema().field(0).name(), "x");
        assert_eq!(rows(&all), 8);

        let wrong = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
        let b = RecordBatch::try_new(wrong, vec![Arc::new(arrow::array::Int64Array::from(vec![1]))]).unwrap();
        assert!(t.insert(vec![b]).is_err());
        let with_null = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("x", DataType::Int32, true),
                Field::new("s", DataType::Utf8, true),
            ])),
            vec![
                Arc::new(Int32Array::from(vec![None])),
                Arc::new(StringArray::from(vec!["n"])),
            ],
        )
        .unwrap();
        assert!(t.insert(vec![with_null]).is_err(), "NULL into a NOT NULL column");
    }
}
