//! TPC-H data generated in-process (with the `tpchgen` crates), for demos,
//! tests and benchmarks: the same rows and Arrow schema (`Utf8View`
//! strings, `Decimal128(15,2)` money) as `tpchgen-cli` writes; and, in
//! [`answers`], the comparison of query results with the reference answers
//! that `tests/tpch.rs` and the `tpch` benchmark share.

use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use tpchgen::generators::{
    CustomerGenerator, LineItemGenerator, NationGenerator, OrderGenerator, PartGenerator, PartSuppGenerator,
    RegionGenerator, SupplierGenerator,
};
use tpchgen_arrow::{
    CustomerArrow, LineItemArrow, NationArrow, OrderArrow, PartArrow, PartSuppArrow, RecordBatchIterator, RegionArrow,
    SupplierArrow,
};

use crate::SessionContext;
use crate::error::{Result, ResultExt};
use crate::invalid_arg;

pub mod answers;

/// The eight TPC-H tables.
pub const TABLES: [&str; 8] = [
    "nation", "region", "part", "supplier", "partsupp", "customer", "orders", "lineitem",
];

/// Rows per generated batch.
const BATCH: usize = 8192;

/// All batches of one table at scale factor `sf`.
pub fn generate(table: &str, sf: f64) -> Result<Vec<RecordBatch>> {
    Ok(batches(table, sf)?.collect())
}

/// The batches of one table at scale factor `sf`, generated one at a time
/// as the iterator is advanced (so a large table never sits in memory).
///
/// ```
/// let rows: usize = flint::tpch::batches("nation", 0.01).unwrap().map(|b| b.num_rows()).sum();
/// assert_eq!(rows, 25);
/// ```
pub fn batches(table: &str, sf: f64) -> Result<Box<dyn Iterator<Item = RecordBatch> + Send>> {
    if !(sf > 0.0 && sf.is_finite()) {
        invalid_arg!("TPC-H scale factor must be positive, got {sf}");
    }
    fn boxed(it: impl Iterator<Item = RecordBatch> + Send + 'static) -> Box<dyn Iterator<Item = RecordBatch> + Send> {
        Box::new(it)
    }
    Ok(match table {
        "nation" => boxed(NationArrow::new(NationGenerator::new(sf, 1, 1)).with_batch_size(BATCH)),
        "region" => boxed(RegionArrow::new(RegionGenerator::new(sf, 1, 1)).with_batch_size(BATCH)),
        "part" => boxed(PartArrow::new(PartGenerator::new(sf, 1, 1)).with_batch_size(BATCH)),
        "supplier" => boxed(SupplierArrow::new(SupplierGenerator::new(sf, 1, 1)).with_batch_size(BATCH)),
        "partsupp" => boxed(PartSuppArrow::new(PartSuppGenerator::new(sf, 1, 1)).with_batch_size(BATCH)),
        "customer" => boxed(CustomerArrow::new(CustomerGenerator::new(sf, 1, 1)).with_batch_size(BATCH)),
        "orders" => boxed(OrderArrow::new(OrderGenerator::new(sf, 1, 1)).with_batch_size(BATCH)),
        "lineitem" => boxed(LineItemArrow::new(LineItemGenerator::new(sf, 1, 1)).with_batch_size(BATCH)),
        other => invalid_arg!("unknown TPC-H table '{other}'; tables are {}", TABLES.join(", ")),
    })
}

/// The Arrow schema of a table.
pub fn schema(table: &str) -> Result<arrow::datatypes::SchemaRef> {
    let s = match table {
        "nation" => NationArrow::new(NationGenerator::new(1.0, 1, 1)).schema().clone(),
        "region" => RegionArrow::new(RegionGenerator::new(1.0, 1, 1)).schema().clone(),
        "part" => PartArrow::new(PartGenerator::new(0.01, 1, 1)).schema().clone(),
        "supplier" => SupplierArrow::new(SupplierGenerator::new(0.01, 1, 1)).schema().clone(),
        "partsupp" => PartSuppArrow::new(PartSuppGenerator::new(0.01, 1, 1)).schema().clone(),
        "customer" => CustomerArrow::new(CustomerGenerator::new(0.01, 1, 1)).schema().clone(),
        "orders" => OrderArrow::new(OrderGenerator::new(0.01, 1, 1)).schema().clone(),
        "lineitem" => LineItemArrow::new(LineItemGenerator::new(0.01, 1, 1)).schema().clone(),
        other => invalid_arg!("unknown TPC-H table '{other}'"),
    };
    Ok(s)
}

/// Generates all eight tables in memory and registers them in `ctx`.
///
/// ```
/// use flint::SessionContext;
/// let ctx = SessionContext::new();
/// flint::tpch::register(&ctx, 0.001).unwrap();
/// let n = ctx.sql("SELECT count(*) FROM nation").unwrap().collect().unwrap();
/// assert_eq!(n[0].num_rows(), 1);
/// ```
pub fn register(ctx: &SessionContext, sf: f64) -> Result<()> {
    for t in TABLES {
        let batches = generate(t, sf)?;
        let table = crate::datasource::MemTable::try_new(schema(t)?, vec![batches])?;
        ctx.register_table(t, Arc::new(table))?;
    }
    Ok(())
}

/// Writes `<dir>/<table>.parquet` for all eight tables (Snappy, row groups
/// of 128k rows), unless the file exists already.
///
/// Rows are generated and written a batch at a time, so memory stays small
/// at any scale factor. Each file is written under a temporary name and
/// renamed when complete: an interrupted run leaves no partial table behind
/// (only a `.<table>.parquet.tmp` that the next run overwrites).
pub fn write_parquet(dir: &std::path::Path, sf: f64) -> Result<()> {
    write_parquet_with_row_groups(dir, sf, 131_072)
}

/// [`write_parquet`] with row groups of `rows_per_group` rows.
pub fn write_parquet_with_row_groups(dir: &std::path::Path, sf: f64, rows_per_group: usize) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for t in TABLES {
        let path = dir.join(format!("{t}.parquet"));
        if path.exists() {
            continue;
        }
        let tmp = dir.join(format!(".{t}.parquet.tmp"));
        let file = std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(rows_per_group.max(1)))
            .build();
        let mut writer = ArrowWriter::try_new(file, schema(t)?, Some(props))?;
        for b in batches(t, sf)? {
            writer.write(&b)?;
        }
        writer.close()?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Registers `<dir>/<table>.parquet` for all eight tables.
pub fn register_parquet(ctx: &SessionContext, dir: &std::path::Path) -> Result<()> {
    for t in TABLES {
        let path = dir.join(format!("{t}.parquet"));
        ctx.register_parquet(t, &path.to_string_lossy())?;
    }
    Ok(())
}
