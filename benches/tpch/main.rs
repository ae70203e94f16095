//! TPC-H benchmark runner: Flint on the 22 queries over Parquet, checked
//! against the reference answers, optionally side by side with peer engines
//! (DuckDB, DataFusion, Polars, Spark local) on the same files.
//!
//! ```text
//! cargo bench --bench tpch -- --sf 1                       # Flint only, all 22 queries
//! cargo bench --bench tpch -- --sf 1 --queries 1,3,18 --runs 5
//! cargo bench --bench tpch -- --sf 1 --peers               # + every installed peer
//! cargo bench --bench tpch -- --sf 1 --peers duckdb,spark --json target/tpch.json
//! ```
//!
//! In pipeline order:
//!
//! - [`data`]: finds or generates `<data>/sf<SF>/<table>.parquet`
//!   (`tpchgen-cli` when on PATH, else Flint's streaming generator).
//! - [`flint_engine`] and [`peers`]: the engines; each runs a query once
//!   untimed (warm-up), then `--runs` timed runs, and returns the times and
//!   the result rows. Peers are long-lived Python workers (`peer.py`), one
//!   per engine, spoken to in JSON lines.
//! - [`outcome`]: a query's times, rows and its check against
//!   `<shared>/tpch/answers/sf<SF>/qNN.csv` (by
//!   `flint::tpch::answers`, the same rules as `tests/tpch.rs`).
//! - [`report`]: the tables printed at the end, and the `--json` file.
//!
//! Queries are interleaved: each query runs on every engine before the
//! next, so drift of the machine (heat, the other tenant of a shared box)
//! hits all engines alike. The engine that goes first moves by one each
//! query. After a peer answers, the runner waits until the peer's processes
//! are idle (Spark's JVM keeps compiling and collecting garbage for a while
//! after it returns), so that no engine pays for the one before it. A query
//! that fails or errors is reported, never fatal.

mod data;
mod flint_engine;
mod outcome;
mod peers;
mod report;

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Parser;

use crate::outcome::EngineRun;

// The allocator the `query` binary uses, so the runner measures what users run.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// All peer engines, in the order they run and are printed.
const ALL_PEERS: [&str; 4] = ["duckdb", "datafusion", "polars", "spark"];

/// TPC-H on Flint, checked against reference answers, optionally beside peer engines.
#[derive(Parser, Debug)]
#[command(name = "tpch", version)]
struct Args {
    /// Scale factor (data goes to <data>/sf<SF>, answers come from answers/sf<SF>).
    #[arg(long, default_value = "1")]
    sf: f64,
    /// Directory caching the generated data, as <DATA>/sf<SF>/<table>.parquet.
    #[arg(long, env = "FLINT_TPCH_DATA")]
    data: Option<PathBuf>,
    /// Queries to run, e.g. 1,3,18 (default: all 22).
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u32).range(1..=22))]
    queries: Vec<u32>,
    /// Timed runs per query and engine, after one untimed warm-up.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// Worker threads of every engine.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    threads: u32,
    /// Also run peer engines: all of duckdb,datafusion,polars,spark, or the ones listed.
    #[arg(long, num_args = 0..=1, default_missing_value = "all", value_name = "ENGINES")]
    peers: Option<String>,
    /// Python of the peers' virtualenv (default: the one install_peers.sh makes).
    #[arg(long)]
    python: Option<PathBuf>,
    /// Save all results (every run's time) as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// The shared/ folder holding tpch/queries and tpch/answers (default: ../shared beside the crate).
    #[arg(long, env = "FLINT_SHARED_DIR")]
    shared: Option<PathBuf>,
    /// Passed by `cargo bench` to every bench binary; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Everything a run needs, resolved from the flags.
pub struct Setup {
    /// The scale factor as written in directory names: `1`, `0.1`, `10`.
    pub sf_name: String,
    pub tables: PathBuf,
    pub shared: PathBuf,
    pub queries: Vec<u32>,
    pub runs: usize,
    pub threads: usize,
}

impl Setup {
    fn query_path(&self, q: u32) -> PathBuf {
        self.shared.join(format!("tpch/queries/q{q:02}.sql"))
    }

    fn answer_path(&self, q: u32) -> PathBuf {
        self.shared.join(format!("tpch/answers/sf{}/q{q:02}.csv", self.sf_name))
    }
}

fn peer_names(arg: &str) -> Result<Vec<String>, String> {
    if arg == "all" {
        return Ok(ALL_PEERS.iter().map(|s| s.to_string()).collect());
    }
    let mut names = Vec::new();
    for name in arg.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let name = name.to_ascii_lowercase();
        if !ALL_PEERS.contains(&name.as_str()) {
            return Err(format!("unknown peer '{name}'; peers are {}", ALL_PEERS.join(", ")));
        }
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(names)
}

fn run(args: Args) -> Result<(), String> {
    if !(args.sf > 0.0 && args.sf.is_finite()) {
        return Err(format!("--sf must be a positive number, got {}", args.sf));
    }
    let data_root = args.data.unwrap_or_else(|| crate_dir().join("target/tpch-data"));
    let sf_name = format!("{}", args.sf);
    let mut queries: Vec<u32> = Vec::new();
    for q in if args.queries.is_empty() {
        (1..=22).collect()
    } else {
        args.queries
    } {
        if !queries.contains(&q) {
            queries.push(q);
        }
    }
    let setup = Setup {
        tables: data_root.join(format!("sf{sf_name}")),
        sf_name,
        shared: args.shared.unwrap_or_else(|| crate_dir().join("../shared")),
        queries,
        runs: args.runs as usize,
        threads: args.threads as usize,
    };
    let peers = match &args.peers {
        Some(list) => peer_names(list)?,
        None => vec![],
    };
    if let Some(q) = setup.queries.iter().find(|&&q| !setup.query_path(q).exists()) {
        return Err(format!(
            "query file {} not found (point --shared or FLINT_SHARED_DIR at the shared/ folder)",
            setup.query_path(*q).display()
        ));
    }

    data::ensure(&setup.tables, args.sf)?;
    println!(
        "TPC-H SF{} from {}: queries {}, {} timed run(s) after 1 warm-up, {} thread(s)",
        setup.sf_name,
        setup.tables.display(),
        report::query_list(&setup.queries),
        setup.runs,
        setup.threads
    );

    let mut flint = flint_engine::FlintEngine::start(&setup)?;
    let python = args
        .python
        .unwrap_or_else(|| crate_dir().join("target/tpch-peers-venv/bin/python"));
    let mut workers = peers::start_all(&peers, &python, &setup);

    let started = Instant::now();
    let mut runs: Vec<EngineRun> = std::iter::once(EngineRun::new("flint", Some(flint_engine::version())))
        .chain(workers.iter().map(|w| EngineRun::new(w.name(), w.version())))
        .collect();
    let engines = workers.len() + 1;
    for (k, &q) in setup.queries.iter().enumerate() {
        let sql = std::fs::read_to_string(setup.query_path(q)).map_err(|e| format!("q{q:02}: {e}"))?;
        let answer = std::fs::read_to_string(setup.answer_path(q)).ok();
        // Engine 0 is Flint, engine i + 1 is workers[i].
        for e in (0..engines).map(|j| (j + k) % engines) {
            if e == 0 {
                let result = flint.run(&sql, setup.runs).checked(answer.as_deref());
                report::progress("flint", q, &result);
                runs[0].queries.push((q, result));
            } else if let Some(result) = workers[e - 1].run(&sql, setup.runs) {
                workers[e - 1].settle();
                let result = result.checked(answer.as_deref());
                report::progress(workers[e - 1].name(), q, &result);
                runs[e].queries.push((q, result));
            }
        }
    }
    runs[0].peak_rss = flint_engine::peak_rss();
    for (i, w) in workers.iter_mut().enumerate() {
        runs[i + 1].absent = w.absent_reason();
        runs[i + 1].peak_rss = w.peak_rss();
    }
    drop(workers);
    println!("(all engines: {:.1} s)", started.elapsed().as_secs_f64());

    report::print(&setup, &runs);
    if let Some(path) = &args.json {
        report::write_json(path, &setup, &runs)?;
        println!("results saved to {}", path.display());
    }
    Ok(())
}

/// mimalloc's `mi_option_purge_delay`: its index in mimalloc 3's
/// `mi_option_t` (the bindings name only the older options).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed memory mapped for the next query instead of returning it to
/// the OS a second after it is freed: the kernel zeroes every page mapped
/// afresh, which cost about 15% of the CPU time of TPC-H joins. The process
/// keeps its high-water mark; `MIMALLOC_PURGE_DELAY` in the environment
/// overrides this.
fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: reading and setting an option has no preconditions. The check
    // of the documented default (1000 ms) makes sure index 15 is that option.
    unsafe {
        if libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) == 1000 {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1);
        }
    }
}

fn main() {
    keep_freed_memory();
    let args = Args::parse();
    if let Err(e) = run(args) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
