//! What an engine did with a query: its timed runs and result rows, then
//! the check of those rows against the reference answer.

/// An engine's raw answer to one query, before checking.
pub enum Raw {
    /// The timed runs (ms) and the result as text rows.
    Ran { times_ms: Vec<f64>, rows: Vec<Vec<String>> },
    /// The query failed (error, panic, dead worker): a short reason.
    Failed(String),
}

impl Raw {
    /// Checks the rows against `answer` (the text of an answer file, if
    /// there is one for this scale factor) and keeps only what is reported.
    pub fn checked(self, answer: Option<&str>) -> QueryResult {
        match self {
            Raw::Failed(reason) => QueryResult::Failed(reason),
            Raw::Ran { times_ms, rows } => {
                let check = match answer {
                    None => Check::NoAnswer,
                    Some(text) => match flint::tpch::answers::check_rows(&rows, text) {
                        Ok(()) => Check::Pass,
                        Err(e) => Check::Fail(e),
                    },
                };
                QueryResult::Ran {
                    times_ms,
                    rows: rows.len(),
                    check,
                }
            }
        }
    }
}

/// The verdict on a result.
pub enum Check {
    Pass,
    /// The first difference from the answer.
    Fail(String),
    /// No answer file for this scale factor.
    NoAnswer,
}

/// One query on one engine, as reported.
pub enum QueryResult {
    Ran {
        times_ms: Vec<f64>,
        rows: usize,
        check: Check,
    },
    Failed(String),
}

impl QueryResult {
    /// The median of the timed runs, if the query ran.
    pub fn median_ms(&self) -> Option<f64> {
        match self {
            QueryResult::Ran { times_ms, .. } => median(times_ms),
            QueryResult::Failed(_) => None,
        }
    }

    /// The fastest timed run, if the query ran.
    pub fn min_ms(&self) -> Option<f64> {
        match self {
            QueryResult::Ran { times_ms, .. } => times_ms.iter().copied().reduce(f64::min),
            QueryResult::Failed(_) => None,
        }
    }

    /// The median, only if the query ran *and* its result is not known to
    /// be wrong: what totals and ratios are computed from.
    pub fn good_median_ms(&self) -> Option<f64> {
        match self {
            QueryResult::Ran {
                check: Check::Fail(_), ..
            } => None,
            _ => self.median_ms(),
        }
    }

    /// `pass`, `FAIL: reason`, `no answer` or `ERROR: reason`.
    pub fn verdict(&self) -> String {
        match self {
            QueryResult::Ran { check: Check::Pass, .. } => "pass".into(),
            QueryResult::Ran {
                check: Check::NoAnswer, ..
            } => "no answer".into(),
            QueryResult::Ran {
                check: Check::Fail(e), ..
            } => format!("FAIL: {}", short(e)),
            QueryResult::Failed(e) => format!("FAIL: {}", short(e)),
        }
    }
}

/// A peak resident set size and how it was measured.
pub struct Rss {
    pub bytes: u64,
    pub note: String,
}

/// All results of one engine.
pub struct EngineRun {
    pub name: String,
    pub version: Option<String>,
    /// Why the engine did not run at all (not installed, failed to start).
    pub absent: Option<String>,
    pub queries: Vec<(u32, QueryResult)>,
    pub peak_rss: Option<Rss>,
}

impl EngineRun {
    pub fn new(name: &str, version: Option<String>) -> Self {
        Self {
            name: name.to_string(),
            version,
            absent: None,
            queries: vec![],
            peak_rss: None,
        }
    }

    pub fn result(&self, q: u32) -> Option<&QueryResult> {
        self.queries.iter().find(|(n, _)| *n == q).map(|(_, r)| r)
    }
}

/// The median of `xs` (mean of the middle two for an even count).
pub fn median(xs: &[f64]) -> Option<f64> {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// The geometric mean of positive `xs`.
pub fn geomean(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() || xs.iter().any(|&x| x <= 0.0) {
        return None;
    }
    Some((xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len() as f64).exp())
}

/// The first line of a message, cut to 120 characters.
pub fn short(msg: &str) -> String {
    let line = msg.lines().next().unwrap_or_default().trim();
    match line.char_indices().nth(120) {
        Some((i, _)) => format!("{}...", &line[..i]),
        None => line.to_string(),
    }
}
