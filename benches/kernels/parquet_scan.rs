//! A Parquet scan whose filter row-group pruning can use:
//! `SELECT sum(v) FROM t WHERE id >= 1000000 AND id < 1200000` over a
//! 2M-row file sorted by `id` (int64), with `v` (int64) and a string column
//! the query never reads, in row groups of 64K rows, so the filter keeps 4
//! of 31 row groups. Flint runs the SQL on a 1-thread session; the hand
//! loops drive `parquet`'s synchronous Arrow reader directly over the two
//! needed columns and sum in a tight loop: once keeping only the row groups
//! whose min/max statistics overlap the range (what pruning should reach),
//! once reading them all (what pruning saves).

use std::hint::black_box;
use std::path::Path;

use arrow::array::{AsArray, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Int64Type, Schema};
use criterion::{Criterion, Throughput};
use flint::{SessionConfig, SessionContext};
use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use parquet::file::statistics::Statistics;

use crate::data::{self, BATCH, Rng};

const ROWS: usize = 2_000_000;
const ROW_GROUP: usize = 65_536;
const LOW: i64 = 1_000_000;
const HIGH: i64 = 1_200_000;

fn write(path: &Path) {
    let schema = std::sync::Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("v", DataType::Int64, false),
        Field::new("s", DataType::Utf8, false),
    ]));
    let mut rng = Rng::new(17);
    let batches = data::batches(&schema, ROWS, |start, len| {
        let id: Int64Array = (start..start + len).map(|i| i as i64).collect();
        let v: Int64Array = (0..len).map(|_| rng.below(1000)).collect();
        let s: StringArray = (0..len)
            .map(|i| Some(format!("comment {}", (start + i) % 9973)))
            .collect();
        vec![std::sync::Arc::new(id), std::sync::Arc::new(v), std::sync::Arc::new(s)]
    });
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP))
        .build();
    let file = std::fs::File::create(path).expect("creating the scan file");
    let mut writer = ArrowWriter::try_new(file, schema, Some(props)).expect("parquet writer");
    for b in &batches {
        writer.write(b).expect("writing the scan file");
    }
    writer.close().expect("closing the scan file");
}

fn flint(ctx: &SessionContext) -> i64 {
    let out = ctx
        .sql(&format!("SELECT sum(v) FROM t WHERE id >= {LOW} AND id < {HIGH}"))
        .and_then(|df| df.collect())
        .expect("scan query");
    out[0].column(0).as_primitive::<Int64Type>().value(0)
}

/// The reference reader: `prune` keeps only row groups whose `id`
/// statistics overlap the range. Returns the sum and the row groups read.
fn hand(path: &Path, prune: bool) -> (i64, usize) {
    let file = std::fs::File::open(path).expect("opening the scan file");
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("reading the footer");
    let groups: Vec<usize> = builder
        .metadata()
        .row_groups()
        .iter()
        .enumerate()
        .filter(|(_, rg)| {
            !prune
                || match rg.column(0).statistics() {
                    Some(Statistics::Int64(s)) => match (s.min_opt(), s.max_opt()) {
                        (Some(&min), Some(&max)) => max >= LOW && min < HIGH,
                        _ => true,
                    },
                    _ => true,
                }
        })
        .map(|(i, _)| i)
        .collect();
    let read = groups.len();
    let mask = ProjectionMask::roots(builder.parquet_schema(), [0, 1]);
    let reader = builder
        .with_row_groups(groups)
        .with_projection(mask)
        .with_batch_size(BATCH)
        .build()
        .expect("building the reader");
    let mut sum = 0i64;
    for b in reader {
        let b = b.expect("reading a batch");
        let id = b.column(0).as_primitive::<Int64Type>().values();
        let v = b.column(1).as_primitive::<Int64Type>().values();
        for (id, v) in id.iter().zip(v.iter()) {
            if (LOW..HIGH).contains(id) {
                sum += v;
            }
        }
    }
    (sum, read)
}

pub fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("scan.parquet");
    write(&path);
    let ctx = SessionContext::with_config(SessionConfig::new().with_worker_threads(1));
    ctx.register_parquet("t", &path.to_string_lossy())
        .expect("registering the scan file");

    let (want, read) = hand(&path, true);
    assert_eq!(read, 4, "pruning by statistics should keep 4 row groups");
    assert_eq!(hand(&path, false).0, want);
    assert_eq!(flint(&ctx), want, "Flint's scan disagrees with the hand reader");

    let mut g = c.benchmark_group("parquet_scan/range_filter/2M_rows_200K_selected");
    g.throughput(Throughput::Elements((HIGH - LOW) as u64));
    g.bench_function("flint_sql_1_thread", |b| b.iter(|| flint(black_box(&ctx))));
    g.bench_function("hand_reader_pruned", |b| b.iter(|| hand(black_box(&path), true)));
    g.bench_function("hand_reader_all_row_groups", |b| {
        b.iter(|| hand(black_box(&path), false))
    });
    g.finish();
}
