//! All 22 TPC-H queries against the reference answers in
//! `../shared/tpch/answers/sf<SF>/`, reading Parquet files generated in
//! process (cached under `target/tpch-sf<SF>`). SF is 0.1 unless the
//! environment sets `TPCH_SF` (e.g. `TPCH_SF=1 cargo test --release --test
//! tpch -- --nocapture` for the official SF1 answers and timings).
//! `TPCH_DIR` points at existing `<table>.parquet` files instead (e.g.
//! written by `tpchgen-cli parquet -s 1`). A checkout that does not sit
//! beside `shared/` (a git worktree elsewhere) points at it with
//! `FLINT_SHARED_DIR`.

use std::path::{Path, PathBuf};

use flint::{SessionConfig, SessionContext};

fn shared() -> PathBuf {
    match std::env::var_os("FLINT_SHARED_DIR") {
        Some(dir) => PathBuf::from(dir).join("tpch"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tpch"),
    }
}

fn scale() -> String {
    std::env::var("TPCH_SF").unwrap_or_else(|_| "0.1".to_string())
}

fn data_dir() -> PathBuf {
    match std::env::var("TPCH_DIR") {
        Ok(dir) => PathBuf::from(dir),
        Err(_) => Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("target/tpch-sf{}", scale())),
    }
}

fn run_query(ctx: &SessionContext, n: usize) -> Result<(), String> {
    let sql = std::fs::read_to_string(shared().join(format!("queries/q{n:02}.sql"))).map_err(|e| e.to_string())?;
    let expected = std::fs::read_to_string(shared().join(format!("answers/sf{}/q{n:02}.csv", scale())))
        .map_err(|e| e.to_string())?;
    let batches = ctx.sql(&sql).and_then(|df| df.collect()).map_err(|e| e.to_string())?;
    flint::tpch::answers::check_answer(&batches, &expected).map_err(|e| format!("q{n:02}: {e}"))
}

#[test]
fn tpch_all_queries_match_the_reference_answers() {
    assert!(
        shared().join("queries").exists(),
        "TPC-H queries not found at {} (the shared/ folder must sit beside the repository, \
         or FLINT_SHARED_DIR name it)",
        shared().display()
    );
    let sf: f64 = scale().parse().expect("TPCH_SF must be a number");
    if std::env::var("TPCH_DIR").is_err() {
        flint::tpch::write_parquet(&data_dir(), sf).expect("generating TPC-H data");
    }
    let ctx = SessionContext::with_config(SessionConfig::new().with_worker_threads(2));
    flint::tpch::register_parquet(&ctx, &data_dir()).expect("registering TPC-H tables");
    let mut failures = Vec::new();
    for n in 1..=22 {
        let started = std::time::Instant::now();
        match run_query(&ctx, n) {
            Ok(()) => println!("q{n:02} ok ({:.0} ms)", started.elapsed().as_secs_f64() * 1e3),
            Err(e) => {
                println!("q{n:02} FAILED: {e}");
                failures.push(e);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 22 TPC-H queries failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
