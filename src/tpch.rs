//! TPC-H data generated in-process (with the `tpchgen` crates), for demos,
//! tests and benchmarks: the same rows and Arrow schema (`Utf8View`
//! strings, `Decimal128(15,2)` money) as `tpchgen-cli` writes.

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

/// The eight TPC-H tables.
pub const TABLES: [&str; 8] = [
    "nation", "region", "part", "supplier", "partsupp", "customer", "orders", "lineitem",
];

/// Rows per generated batch.
const BATCH: usize = 8192;

/// All batches of one table at scale factor `sf`.
pub fn generate(table: &str, sf: f64) -> Result<Vec<RecordBatch>> {
    if !(sf > 0.0 && sf.is_finite()) {
        invalid_arg!("TPC-H scale factor must be positive, got {sf}");
    }
    let batches: Vec<RecordBatch> = match table {
        "nation" => NationArrow::new(NationGenerator::new(sf, 1, 1))
            .with_batch_size(BATCH)
            .collect(),
        "region" => RegionArrow::new(RegionGenerator::new(sf, 1, 1))
            .with_batch_size(BATCH)
            .collect(),
        "part" => PartArrow::new(PartGenerator::new(sf, 1, 1))
            .with_batch_size(BATCH)
            .collect(),
        "supplier" => SupplierArrow::new(SupplierGenerator::new(sf, 1, 1))
            .with_batch_size(BATCH)
            .collect(),
        "partsupp" => PartSuppArrow::new(PartSuppGenerator::new(sf, 1, 1))
            .with_batch_size(BATCH)
            .collect(),
        "customer" => CustomerArrow::new(CustomerGenerator::new(sf, 1, 1))
            .with_batch_size(BATCH)
            .collect(),
        "orders" => OrderArrow::new(OrderGenerator::new(sf, 1, 1))
            .with_batch_size(BATCH)
            .collect(),
        "lineitem" => LineItemArrow::new(LineItemGenerator::new(sf, 1, 1))
            .with_batch_size(BATCH)
            .collect(),
        other => invalid_arg!("unknown TPC-H table '{other}'; tables are {}", TABLES.join(", ")),
    };
    Ok(batches)
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
        for b in generate(t, sf)? {
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
