//! Benchmark of `reduce_by_key` on `(u64, u64)` pairs, without a framework.
//!
//! # What it measures
//!
//! 10 million pairs `(i % K, i)` for `i` in `0..10_000_000`, built once as a
//! `Vec<(u64, u64)>` before any timing, for two key cardinalities:
//! `K = 1_000` distinct keys (map-side combining shrinks every map partition
//! to 1,000 records) and `K = 1_000_000` distinct keys (every map partition
//! holds all keys, so each writes 1,000,000 records: the shuffle carries 2M
//! records with 2 partitions and 4M with 4, and the reduce side merges them).
//! Three variants compute the same thing, the number of distinct keys after
//! summing values per key:
//!
//! - **flint 1 thread**: a session with `with_worker_threads(1)`, input
//!   `ctx.parallelize(data.clone(), 2)`, then
//!   `.reduce_by_key(|a, b| a + b).count()`;
//! - **flint 2 threads**: the same with two worker threads and 4 partitions;
//!   partitions are always 2 × threads, so each thread gets two map and two
//!   reduce tasks;
//! - **hand loop**: one thread folding the same `Vec` into a
//!   `std::collections::HashMap<u64, u64, foldhash::fast::RandomState>` and
//!   taking its `len()` (foldhash, like Flint's own tables, so the reference
//!   is not slowed down by SipHash).
//!
//! Only the action is timed (and, for the hand loop, building and dropping
//! the map): the `data.clone()` handed to `parallelize` is made before the
//! clock starts (`parallelize` is lazy and just keeps the `Vec`), and the
//! shuffle output a job leaves in the session's store is dropped after the
//! clock stops. Each round runs every variant once, in an order that rotates
//! from round to round, so machine noise hits all variants alike. One
//! untimed warm-up round per key setting also checks that Flint's per-key
//! sums equal the hand loop's.
//!
//! Reported per variant: median and minimum time in ms and throughput in
//! million pairs per second (from the median); then the speed-up of 2
//! threads over 1 thread and the ratio flint-1-thread / hand loop.
//!
//! # Targets
//!
//! - 2 threads at least **1.7×** as fast as 1 thread (on a machine with at
//!   least 2 cores);
//! - flint with 1 thread within **2×** of the hand loop.
//!
//! # Running
//!
//! ```text
//! cargo bench --bench reduce_by_key            # 10M pairs, 7 rounds
//! cargo bench --bench reduce_by_key -- 15      # 15 rounds (or ROUNDS=15)
//! cargo bench --bench reduce_by_key -- --quick # 1M pairs, 3 rounds (or QUICK=1)
//! ```

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use flint::{SessionConfig, SessionContext};

const FULL_PAIRS: u64 = 10_000_000;
const QUICK_PAIRS: u64 = 1_000_000;
const DEFAULT_ROUNDS: usize = 7;
const QUICK_ROUNDS: usize = 3;
const KEY_SETTINGS: [u64; 2] = [1_000, 1_000_000];
/// Partitions per worker thread for the Flint variants.
const PARTITIONS_PER_THREAD: usize = 2;

const TARGET_SPEEDUP: f64 = 1.7;
const TARGET_HAND_RATIO: f64 = 2.0;

type FoldMap = HashMap<u64, u64, foldhash::fast::RandomState>;

struct Options {
    pairs: u64,
    rounds: usize,
    quick: bool,
}

impl Options {
    /// `--quick` or `QUICK=1`: small run. The first numeric argument, else
    /// `ROUNDS`, sets the rounds. Other arguments (cargo passes `--bench`)
    /// are ignored.
    fn parse() -> Self {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let quick = args.iter().any(|a| a == "--quick")
            || std::env::var("QUICK").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
        let rounds = args
            .iter()
            .find_map(|a| a.parse::<usize>().ok())
            .or_else(|| std::env::var("ROUNDS").ok().and_then(|v| v.parse().ok()))
            .unwrap_or(if quick { QUICK_ROUNDS } else { DEFAULT_ROUNDS })
            .max(1);
        Self {
            pairs: if quick { QUICK_PAIRS } else { FULL_PAIRS },
            rounds,
            quick,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    Flint1,
    Flint2,
    Hand,
}

const VARIANTS: [Variant; 3] = [Variant::Flint1, Variant::Flint2, Variant::Hand];

impl Variant {
    fn label(self) -> &'static str {
        match self {
            Variant::Flint1 => "flint, 1 worker thread",
            Variant::Flint2 => "flint, 2 worker threads",
            Variant::Hand => "hand loop, HashMap+foldhash",
        }
    }

    fn threads(self) -> usize {
        match self {
            Variant::Flint1 | Variant::Hand => 1,
            Variant::Flint2 => 2,
        }
    }

    fn partitions(self) -> Option<usize> {
        match self {
            Variant::Hand => None,
            _ => Some(PARTITIONS_PER_THREAD * self.threads()),
        }
    }
}

struct Sessions {
    one: SessionContext,
    two: SessionContext,
}

impl Sessions {
    fn new() -> Self {
        Self {
            one: SessionContext::with_config(SessionConfig::new().with_worker_threads(1)),
            two: SessionContext::with_config(SessionConfig::new().with_worker_threads(2)),
        }
    }

    fn get(&self, v: Variant) -> &SessionContext {
        if v == Variant::Flint2 { &self.two } else { &self.one }
    }
}

/// Drops every shuffle output the session still holds (untimed), so rounds
/// do not pile up memory.
fn clear_shuffles(ctx: &SessionContext) {
    let store = ctx.shuffle_store();
    for id in store.shuffle_ids() {
        store.remove_shuffle(id);
    }
}

fn hand_loop(data: &[(u64, u64)]) -> FoldMap {
    let mut map = FoldMap::default();
    for &(k, v) in data {
        *map.entry(k).or_insert(0) += v;
    }
    map
}

/// Runs one variant once and returns (elapsed, distinct keys).
fn run_once(v: Variant, sessions: &Sessions, data: &[(u64, u64)]) -> (Duration, u64) {
    match v.partitions() {
        None => {
            let start = Instant::now();
            let distinct = {
                let map = hand_loop(black_box(data));
                map.len() as u64
            };
            (start.elapsed(), distinct)
        }
        Some(p) => {
            let ctx = sessions.get(v);
            // Outside the clock: the copy of the data handed to parallelize.
            let rdd = ctx.parallelize(data.to_vec(), p);
            let start = Instant::now();
            let distinct = rdd.reduce_by_key(|a, b| a + b).count().expect("reduce_by_key job");
            let elapsed = start.elapsed();
            drop(rdd);
            clear_shuffles(ctx);
            (elapsed, distinct)
        }
    }
}

/// Untimed: Flint's per-key sums must equal the hand loop's.
fn validate(sessions: &Sessions, data: &[(u64, u64)], keys: u64) {
    let reference = hand_loop(data);
    assert_eq!(reference.len() as u64, keys);
    for v in [Variant::Flint1, Variant::Flint2] {
        let ctx = sessions.get(v);
        let rdd = ctx.parallelize(data.to_vec(), v.partitions().unwrap_or(1));
        let sums = rdd.reduce_by_key(|a, b| a + b).collect().expect("reduce_by_key job");
        assert_eq!(sums.len(), reference.len(), "{}: distinct keys", v.label());
        for (k, s) in sums {
            assert_eq!(reference.get(&k), Some(&s), "{}: sum of key {k}", v.label());
        }
        clear_shuffles(ctx);
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn median(sorted: &[Duration]) -> Duration {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}

fn with_commas(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

/// Times all variants for one key cardinality and prints the table.
fn bench_setting(opts: &Options, sessions: &Sessions, keys: u64) {
    let data: Vec<(u64, u64)> = (0..opts.pairs).map(|i| (i % keys, i)).collect();
    let expected = keys.min(opts.pairs);

    validate(sessions, &data, expected);

    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(opts.rounds); VARIANTS.len()];
    for round in 0..opts.rounds {
        for j in 0..VARIANTS.len() {
            let idx = (round + j) % VARIANTS.len();
            let (t, distinct) = run_once(VARIANTS[idx], sessions, &data);
            assert_eq!(distinct, expected, "{} found {distinct} keys", VARIANTS[idx].label());
            samples[idx].push(t);
        }
    }

    println!();
    println!(
        "reduce_by_key: {} pairs (u64, u64), {} distinct keys, {} round(s)",
        with_commas(opts.pairs),
        with_commas(keys),
        opts.rounds
    );
    println!(
        "| {:<28} | {:>7} | {:>10} | {:>10} | {:>10} | {:>16} |",
        "variant", "threads", "partitions", "median ms", "min ms", "Mpairs/s (median)"
    );
    println!(
        "|{:-<30}|{:-<9}|{:-<12}|{:-<12}|{:-<12}|{:-<19}|",
        "", "", "", "", "", ""
    );
    let mut medians = [Duration::ZERO; VARIANTS.len()];
    for (i, v) in VARIANTS.iter().enumerate() {
        let mut s = samples[i].clone();
        s.sort();
        let med = median(&s);
        medians[i] = med;
        let throughput = opts.pairs as f64 / med.as_secs_f64() / 1e6;
        println!(
            "| {:<28} | {:>7} | {:>10} | {:>10.1} | {:>10.1} | {:>17.1} |",
            v.label(),
            v.threads(),
            v.partitions().map_or("-".to_string(), |p| p.to_string()),
            ms(med),
            ms(s[0]),
            throughput
        );
    }
    let speedup = medians[0].as_secs_f64() / medians[1].as_secs_f64();
    let hand_ratio = medians[0].as_secs_f64() / medians[2].as_secs_f64();
    println!(
        "speed-up 2 threads / 1 thread: {speedup:.2}x (target >= {TARGET_SPEEDUP}x: {})",
        verdict(speedup >= TARGET_SPEEDUP)
    );
    println!(
        "flint 1 thread / hand loop:    {hand_ratio:.2}x (target <= {TARGET_HAND_RATIO}x: {})",
        verdict(hand_ratio <= TARGET_HAND_RATIO)
    );
    for (i, v) in VARIANTS.iter().enumerate() {
        let raw: Vec<String> = samples[i].iter().map(|d| format!("{:.1}", ms(*d))).collect();
        println!("  rounds, {:<28} ms: {}", v.label(), raw.join(" "));
    }
}

fn main() {
    let opts = Options::parse();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "reduce_by_key benchmark{}: {} round(s), {} core(s) available, partitions = {PARTITIONS_PER_THREAD} x threads",
        if opts.quick { " (quick)" } else { "" },
        opts.rounds,
        cores
    );
    if cores < 2 {
        println!("note: fewer than 2 cores, the 2-thread speed-up target cannot be met here");
    }
    let sessions = Sessions::new();
    for keys in KEY_SETTINGS {
        bench_setting(&opts, &sessions, keys);
    }
}
