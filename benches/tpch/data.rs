//! The data: `<dir>/<table>.parquet` for the eight TPC-H tables, generated
//! when missing. `tpchgen-cli` (when on PATH) writes the same files as
//! `shared/tpch/README.md` describes (~7 MiB row groups); otherwise Flint's
//! own generator (`flint::tpch::write_parquet`, the same rows, 128k-row
//! groups) streams them batch by batch. Either way a table appears under
//! its final name only once complete.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use flint::tpch::TABLES;

fn missing(dir: &Path) -> Vec<&'static str> {
    TABLES
        .into_iter()
        .filter(|t| !dir.join(format!("{t}.parquet")).exists())
        .collect()
}

/// `name` on PATH, if anywhere.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

/// Makes sure all eight tables exist in `dir`, generating the missing ones.
pub fn ensure(dir: &Path, sf: f64) -> Result<(), String> {
    let todo = missing(dir);
    if todo.is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let started = Instant::now();
    match on_path("tpchgen-cli") {
        Some(cli) => {
            println!("generating {} at SF{sf} with {} ...", todo.join(","), cli.display());
            with_cli(&cli, dir, sf, &todo)?;
        }
        None => {
            println!("generating SF{sf} with flint::tpch::write_parquet (no tpchgen-cli on PATH) ...");
            flint::tpch::write_parquet(dir, sf).map_err(|e| format!("generating TPC-H data: {e}"))?;
        }
    }
    println!("generated in {:.1} s", started.elapsed().as_secs_f64());
    match missing(dir).as_slice() {
        [] => Ok(()),
        still => Err(format!(
            "tables still missing in {}: {}",
            dir.display(),
            still.join(", ")
        )),
    }
}

/// Runs `tpchgen-cli` into a scratch folder beside `dir`, then renames each
/// finished file into place.
fn with_cli(cli: &Path, dir: &Path, sf: f64, tables: &[&str]) -> Result<(), String> {
    let scratch = dir.join(".generating");
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch).map_err(|e| format!("removing {}: {e}", scratch.display()))?;
    }
    let status = Command::new(cli)
        .arg("parquet")
        .arg(format!("--scale-factor={sf}"))
        .arg(format!("--tables={}", tables.join(",")))
        .arg(format!("--output-dir={}", scratch.display()))
        .status()
        .map_err(|e| format!("running {}: {e}", cli.display()))?;
    if !status.success() {
        return Err(format!("{} failed: {status}", cli.display()));
    }
    for t in tables {
        let from = scratch.join(format!("{t}.parquet"));
        let to = dir.join(format!("{t}.parquet"));
        std::fs::rename(&from, &to).map_err(|e| format!("moving {} to {}: {e}", from.display(), to.display()))?;
    }
    std::fs::remove_dir_all(&scratch).map_err(|e| format!("removing {}: {e}", scratch.display()))
}
