//! Word count, the "hello world" of RDD engines.
//!
//! The example writes a few paragraphs of text into a fresh directory under
//! the system's temp directory, then:
//!
//! 1. reads it back with [`SessionContext::text_file`] split into at least
//!    four partitions,
//! 2. splits lines on whitespace, lowercases the words and strips leading and
//!    trailing punctuation (`flat_map`),
//! 3. counts the words with `map` + `reduce_by_key`, which combines counts on
//!    the map side before the shuffle,
//! 4. prints the ten most frequent words (`take_ordered` on
//!    `(Reverse(count), word)`: highest count first, ties alphabetical),
//! 5. prints the lineage (`to_debug_string`) and the metrics of the jobs:
//!    the first job runs the shuffle-map stage, the second one reuses its
//!    output, so that stage shows up as skipped.
//!
//! The result is checked against a plain single-threaded count of the same
//! text, so the example fails loudly if the engine miscounts.
//!
//! Run it with:
//!
//! ```text
//! cargo run --example word_count
//! ```
//!
//! `cargo test --example word_count` runs the same `main` as a test.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use flint::{JobMetrics, SessionContext, StageKind};

/// The source paragraphs. The text file repeats them, see [`make_text`].
const PARAGRAPHS: [&str; 4] = [
    "Flint is a small engine for data. It splits data into partitions, \
     runs a task per partition, and moves data between stages only when a \
     shuffle is needed. The engine keeps the lineage of every dataset, so a \
     lost partition is simply computed again.",
    "A transformation is lazy: map, filter and flat_map only describe the \
     data they will produce. An action, such as count or collect, asks the \
     scheduler to run a job. The scheduler cuts the job into stages at every \
     shuffle, and the stages into tasks.",
    "Word count is the classic first job! Read the lines, split them into \
     words, pair every word with the number one, and reduce by key. The \
     reduce happens twice: once inside each map task, to shrink the data \
     before the shuffle, and once after it.",
    "Is the count right? The example checks it: the same text is counted \
     again with a plain loop on the driver, and the two answers must agree, \
     word for word.",
];

/// How many times the paragraphs are repeated in the file.
const REPEATS: usize = 25;

/// Builds the file's text: every paragraph `REPEATS` times, one paragraph
/// per block of lines wrapped at roughly 60 characters, blank lines between.
fn make_text() -> String {
    let mut text = String::new();
    for round in 0..REPEATS {
        for i in 0..PARAGRAPHS.len() {
            // Rotate the order each round so partitions do not all look alike.
            let para = PARAGRAPHS[(i + round) % PARAGRAPHS.len()];
            let mut line_len = 0;
            for word in para.split_whitespace() {
                if line_len > 0 && line_len + word.len() > 60 {
                    text.push('\n');
                    line_len = 0;
                } else if line_len > 0 {
                    text.push(' ');
                    line_len += 1;
                }
                text.push_str(word);
                line_len += word.len();
            }
            text.push_str("\n\n");
        }
    }
    text
}

/// Lowercases a token and strips punctuation from both ends; `None` when
/// nothing is left (e.g. a lone dash).
fn normalize(token: &str) -> Option<String> {
    let word = token.trim_matches(|c: char| !c.is_alphanumeric());
    (!word.is_empty()).then(|| word.to_lowercase())
}

/// A unique scratch directory, removed when dropped (also on panic or error).
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn create() -> std::io::Result<Self> {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!("flint-word-count-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(Self(dir))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn print_metrics(title: &str, m: &JobMetrics) {
    println!(
        "{title}: job {} ({}) {} stage(s), {} skipped, {} shuffle stage(s) executed, \
         {} shuffle records written, {:.2?}",
        m.job_id,
        m.action,
        m.stages.len(),
        m.skipped_stages(),
        m.executed_shuffle_stages(),
        m.shuffle_records_written(),
        m.duration,
    );
    for s in &m.stages {
        let kind = match s.kind {
            StageKind::ShuffleMap { shuffle_id } => format!("shuffle-map (shuffle {shuffle_id})"),
            StageKind::Result => "result".to_string(),
        };
        println!(
            "    stage {:>2} {:<26} {:<22} {} partitions, {} tasks{}, {} shuffle records",
            s.stage_id,
            kind,
            s.name,
            s.num_partitions,
            s.tasks_succeeded,
            if s.skipped { " (skipped)" } else { "" },
            s.shuffle_records_written,
        );
    }
}

fn main() -> flint::Result<()> {
    let dir = ScratchDir::create()?;
    let path = dir.0.join("paragraphs.txt");
    let text = make_text();
    std::fs::write(&path, &text)?;
    println!(
        "wrote {} bytes, {} lines to {}",
        text.len(),
        text.lines().count(),
        path.display()
    );

    let ctx = SessionContext::new();
    let lines = ctx.text_file(path.to_str().expect("temp path is UTF-8"), 4)?;
    let counts = lines
        .flat_map(|line| line.split_whitespace().filter_map(normalize).collect::<Vec<_>>())
        .map(|word| (word, 1u64))
        .reduce_by_key(|a, b| a + b);

    // Job 1: runs the shuffle-map stage (text_file → flat_map → map, combined
    // per partition) and the reduce side.
    let distinct = counts.count()?;
    let first_job = ctx.last_job_metrics().expect("a job ran");

    // Job 2: reads the same shuffle output again, so its map stage is skipped.
    let top: Vec<(u64, String)> = counts
        .map(|(word, n)| (Reverse(n), word))
        .take_ordered(10)?
        .into_iter()
        .map(|(Reverse(n), word)| (n, word))
        .collect();
    let second_job = ctx.last_job_metrics().expect("a job ran");

    println!("\n{distinct} distinct words; top 10:");
    for (rank, (n, word)) in top.iter().enumerate() {
        println!("{:>4}. {word:<12} {n:>5}", rank + 1);
    }

    println!("\nlineage of the counts:\n{}\n", counts.to_debug_string());
    print_metrics("count", &first_job);
    print_metrics("top 10", &second_job);

    // --- Checks against a plain count on the driver. ---
    let mut expected: HashMap<String, u64> = HashMap::new();
    let mut total_words = 0u64;
    for word in text.split_whitespace().filter_map(normalize) {
        *expected.entry(word).or_default() += 1;
        total_words += 1;
    }
    let got: HashMap<String, u64> = counts.collect_as_map()?;
    assert_eq!(got, expected, "Flint's counts differ from the driver's");
    assert_eq!(distinct, expected.len() as u64);
    // "the" is the most frequent word of the paragraphs by construction.
    assert_eq!(top[0].1, "the");
    assert_eq!(top[0].0, expected["the"]);
    // "flint" occurs once in the paragraphs, and they are repeated REPEATS times.
    assert_eq!(got["flint"], REPEATS as u64);
    let mut ranked: Vec<(u64, String)> = expected.into_iter().map(|(w, n)| (n, w)).collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    ranked.truncate(10);
    assert_eq!(top, ranked);

    // Job metrics: one shuffle, executed by the first job, reused by the second.
    assert_eq!(first_job.shuffle_stages(), 1);
    assert_eq!(first_job.executed_shuffle_stages(), 1);
    assert_eq!(first_job.skipped_stages(), 0);
    assert!(first_job.stages.last().is_some_and(|s| s.num_partitions >= 4));
    // Map-side combining writes at most one record per (map partition, word).
    let written = first_job.shuffle_records_written();
    assert!(
        written >= distinct && written < total_words,
        "{written} shuffle records"
    );
    assert_eq!(second_job.skipped_stages(), 1);
    assert_eq!(second_job.executed_shuffle_stages(), 0);
    assert_eq!(second_job.shuffle_records_written(), 0);

    println!("\nall checks passed");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn runs() {
        super::main().unwrap();
    }
}
