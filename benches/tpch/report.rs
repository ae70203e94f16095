//! What the runner prints and saves: a progress line per query and engine,
//! Flint's table (median, min, rows, check per query; sum and geometric
//! mean of the medians; peak RSS), the comparison with the peers, and the
//! `--json` file with every run's time.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Value, json};

use crate::Setup;
use crate::outcome::{Check, EngineRun, QueryResult, geomean};

/// `1-22`, or the list as given.
pub fn query_list(queries: &[u32]) -> String {
    if queries == (1..=22).collect::<Vec<_>>().as_slice() {
        return "1-22".into();
    }
    queries.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

/// One line as soon as a query is done on an engine.
pub fn progress(engine: &str, q: u32, r: &QueryResult) {
    match r.median_ms() {
        Some(ms) => println!("  q{q:02} {engine:<10} {ms:>10.1} ms  {}", r.verdict()),
        None => println!("  q{q:02} {engine:<10} {:>10}     {}", "-", r.verdict()),
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / (1u64 << 20) as f64)
}

fn cell(ms: Option<f64>) -> String {
    ms.map_or("-".into(), |v| format!("{v:.1}"))
}

/// An engine's median for the comparison table: `FAIL` when it erred,
/// a `*` when the result is wrong.
fn engine_cell(r: Option<&QueryResult>) -> String {
    match r {
        None => "-".into(),
        Some(QueryResult::Failed(_)) => "FAIL".into(),
        Some(
            r @ QueryResult::Ran {
                check: Check::Fail(_), ..
            },
        ) => format!("{}*", cell(r.median_ms())),
        Some(r) => cell(r.median_ms()),
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
        _ => "-".into(),
    }
}

/// Flint's own table.
fn flint_table(out: &mut String, flint: &EngineRun) {
    let _ = writeln!(out, "\n## Flint {}\n", flint.version.as_deref().unwrap_or(""));
    let _ = writeln!(out, "| query | median ms |  min ms |    rows | check |");
    let _ = writeln!(out, "|:------|----------:|--------:|--------:|:------|");
    for (q, r) in &flint.queries {
        let rows = match r {
            QueryResult::Ran { rows, .. } => rows.to_string(),
            QueryResult::Failed(_) => "-".into(),
        };
        let _ = writeln!(
            out,
            "| q{q:02}   | {:>9} | {:>7} | {rows:>7} | {} |",
            cell(r.median_ms()),
            cell(r.min_ms()),
            r.verdict()
        );
    }
    let medians: Vec<f64> = flint.queries.iter().filter_map(|(_, r)| r.good_median_ms()).collect();
    let passed = flint
        .queries
        .iter()
        .filter(|(_, r)| matches!(r, QueryResult::Ran { check: Check::Pass, .. }))
        .count();
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "passed {passed} of {} queries; over the {} that ran with a result not known to be wrong:",
        flint.queries.len(),
        medians.len()
    );
    let _ = writeln!(
        out,
        "sum of medians {} ms, geometric mean of medians {} ms",
        cell(Some(medians.iter().sum())),
        cell(geomean(&medians))
    );
    if let Some(rss) = &flint.peak_rss {
        let _ = writeln!(out, "peak RSS {} ({})", mib(rss.bytes), rss.note);
    }
}

/// The comparison table of all engines that ran.
fn comparison_table(out: &mut String, setup: &Setup, runs: &[EngineRun]) {
    let present: Vec<&EngineRun> = runs.iter().filter(|r| r.absent.is_none()).collect();
    let flint = present[0];
    let peers = &present[1..];
    let _ = writeln!(
        out,
        "\n## Flint and peers, median ms (SF{}, {} thread(s), {} run(s))\n",
        setup.sf_name, setup.threads, setup.runs
    );
    let mut header = String::from("| query    |");
    let mut rule = String::from("|:---------|");
    for e in &present {
        let _ = write!(header, " {:>10} |", e.name);
        rule.push_str("-----------:|");
    }
    for p in peers {
        let _ = write!(header, " flint/{} |", p.name);
        rule.push_str(&format!("{}:|", "-".repeat(p.name.len() + 7)));
    }
    let _ = writeln!(out, "{header}\n{rule}");
    for &q in &setup.queries {
        let mut line = format!("| q{q:02}      |");
        for e in &present {
            let _ = write!(line, " {:>10} |", engine_cell(e.result(q)));
        }
        let f = flint.result(q).and_then(QueryResult::good_median_ms);
        for p in peers {
            let r = ratio(f, p.result(q).and_then(QueryResult::good_median_ms));
            let _ = write!(line, " {r:>w$} |", w = p.name.len() + 6);
        }
        let _ = writeln!(out, "{line}");
    }

    // Totals over the queries every present engine answered (not wrongly),
    // so that the sums compare the same work.
    let common: Vec<u32> = setup
        .queries
        .iter()
        .copied()
        .filter(|&q| {
            present
                .iter()
                .all(|e| e.result(q).and_then(QueryResult::good_median_ms).is_some())
        })
        .collect();
    let medians = |e: &EngineRun| -> Vec<f64> {
        common
            .iter()
            .filter_map(|&q| e.result(q).and_then(QueryResult::good_median_ms))
            .collect()
    };
    let sums: Vec<f64> = present.iter().map(|e| medians(e).iter().sum()).collect();
    let gms: Vec<Option<f64>> = present.iter().map(|e| geomean(&medians(e))).collect();
    let mut sum_line = String::from("| sum      |");
    let mut gm_line = String::from("| geomean  |");
    let mut rss_line = String::from("| peak RSS |");
    for (i, e) in present.iter().enumerate() {
        let _ = write!(sum_line, " {:>10} |", cell(Some(sums[i])));
        let _ = write!(gm_line, " {:>10} |", cell(gms[i]));
        let _ = write!(
            rss_line,
            " {:>10} |",
            e.peak_rss.as_ref().map_or("-".into(), |r| mib(r.bytes))
        );
    }
    for (i, p) in peers.iter().enumerate() {
        let w = p.name.len() + 6;
        let _ = write!(sum_line, " {:>w$} |", ratio(Some(sums[0]), Some(sums[i + 1])));
        let _ = write!(gm_line, " {:>w$} |", ratio(gms[0], gms[i + 1]));
        let r = match (&flint.peak_rss, &p.peak_rss) {
            (Some(a), Some(b)) => ratio(Some(a.bytes as f64), Some(b.bytes as f64)),
            _ => "-".into(),
        };
        let _ = write!(rss_line, " {r:>w$} |");
    }
    let _ = writeln!(out, "{sum_line}\n{gm_line}\n{rss_line}\n");
    if common.len() < setup.queries.len() {
        let left_out: Vec<u32> = setup.queries.iter().copied().filter(|q| !common.contains(q)).collect();
        let _ = writeln!(
            out,
            "sum and geomean cover the {} queries every engine ran correctly (left out: {})",
            common.len(),
            query_list(&left_out)
        );
    }
    let _ = writeln!(
        out,
        "flint/X = Flint's median / X's median: below 1 Flint is faster. \
         FAIL = error; * = result differs from the answer (left out of the totals)."
    );
}

/// Failures of the peers, the versions, the absent engines and how RSS was measured.
fn notes(out: &mut String, runs: &[EngineRun]) {
    for e in runs.iter().skip(1) {
        for (q, r) in &e.queries {
            if !matches!(r, QueryResult::Ran { check: Check::Pass, .. }) {
                let _ = writeln!(out, "{} q{q:02}: {}", e.name, r.verdict());
            }
        }
    }
    let versions: Vec<String> = runs
        .iter()
        .filter(|e| e.absent.is_none())
        .map(|e| format!("{} {}", e.name, e.version.as_deref().unwrap_or("?")))
        .collect();
    let _ = writeln!(out, "versions: {}", versions.join(", "));
    for e in runs {
        if let Some(why) = &e.absent {
            let _ = writeln!(out, "{}: absent ({why})", e.name);
        }
    }
    for e in runs.iter().skip(1) {
        if let Some(rss) = &e.peak_rss {
            let _ = writeln!(out, "{} peak RSS: {}", e.name, rss.note);
        }
    }
}

/// Prints the tables.
pub fn print(setup: &Setup, runs: &[EngineRun]) {
    let mut out = String::new();
    flint_table(&mut out, &runs[0]);
    if runs.len() > 1 {
        if runs.iter().skip(1).any(|e| e.absent.is_none()) {
            comparison_table(&mut out, setup, runs);
        }
        notes(&mut out, runs);
    }
    let _ = writeln!(out, "machine: {}", machine_line());
    print!("{out}");
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// CPUs, CPU model and memory, from /proc (Linux).
fn machine() -> Value {
    let cpuinfo = read("/proc/cpuinfo");
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_string());
    let mem_kb = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
    json!({
        "cpus": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "cpu_model": model,
        "mem_total_bytes": mem_kb.map(|k| k * 1024),
        "os": std::env::consts::OS,
    })
}

fn machine_line() -> String {
    let m = machine();
    format!(
        "{} CPU(s), {}, {} memory",
        m["cpus"],
        m["cpu_model"].as_str().unwrap_or("unknown CPU"),
        m["mem_total_bytes"].as_u64().map_or("unknown".into(), |b| format!(
            "{:.1} GiB",
            b as f64 / (1u64 << 30) as f64
        ))
    )
}

/// Saves every engine's results, with every run's time, as JSON.
pub fn write_json(path: &Path, setup: &Setup, runs: &[EngineRun]) -> Result<(), String> {
    let engines: Vec<Value> = runs
        .iter()
        .map(|e| {
            let queries: Vec<Value> = e
                .queries
                .iter()
                .map(|(q, r)| match r {
                    QueryResult::Ran { times_ms, rows, check } => json!({
                        "query": q,
                        "times_ms": times_ms,
                        "median_ms": r.median_ms(),
                        "min_ms": r.min_ms(),
                        "rows": rows,
                        "check": match check {
                            Check::Pass => "pass",
                            Check::Fail(_) => "fail",
                            Check::NoAnswer => "no answer",
                        },
                        "check_detail": match check { Check::Fail(e) => Some(e.as_str()), _ => None },
                    }),
                    QueryResult::Failed(e) => json!({ "query": q, "error": e }),
                })
                .collect();
            json!({
                "engine": e.name,
                "version": e.version,
                "absent": e.absent,
                "peak_rss_bytes": e.peak_rss.as_ref().map(|r| r.bytes),
                "peak_rss_note": e.peak_rss.as_ref().map(|r| r.note.as_str()),
                "queries": queries,
            })
        })
        .collect();
    let doc = json!({
        "benchmark": "tpch",
        "scale_factor": setup.sf_name,
        "data": setup.tables,
        "threads": setup.threads,
        "runs": setup.runs,
        "unix_time": std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        "machine": machine(),
        "engines": engines,
    });
    let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}
