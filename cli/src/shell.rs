//! The shell's engine, shared by the REPL and batch runs: runs scripts
//! (statements and meta-commands) on one session, prints results in the
//! chosen format with their row count and time, reports errors at their
//! place in the script, and cancels the running statement on Ctrl-C.
//!
//! A statement runs on a helper thread (its tasks on the session's
//! workers) while the calling thread polls: it refreshes the progress bar
//! and, once Ctrl-C has been pressed, asks the session to cancel its jobs.

use std::io::{self, IsTerminal};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use arrow::array::{ArrayRef, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use flint::SessionContext;

use crate::demo::{self, Demo};
use crate::format::{self, Format, Options};
use crate::lex::tokenize;
use crate::meta::{self, Command};
use crate::output::{Sink, is_broken_pipe};
use crate::progress::{self, Progress};
use crate::report::{self, Located, Source};
use crate::split::{Item, split};
use crate::table;

/// How scripts nested with `\i` may go.
const MAX_DEPTH: usize = 16;

/// What the user can change while the shell runs.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// The result format.
    pub format: Format,
    /// Print the elapsed time after each statement.
    pub timing: bool,
    /// Show query plans instead of running queries.
    pub explain: bool,
    /// Rows a table shows at most; 0 shows all.
    pub max_rows: usize,
    /// No banner, timings or row counts.
    pub quiet: bool,
}

/// Why a run ended before its last statement (other than an error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// `\q`
    Quit,
    /// Ctrl-C
    Interrupted,
    /// Whoever read the results went away.
    BrokenPipe,
}

/// How a run went.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Statements and commands that failed (each was reported).
    pub failures: usize,
    /// Why the run stopped early, if it did.
    pub stop: Option<Stop>,
}

enum ItemError {
    Flint(flint::Error),
    Message(String),
    /// Failures inside a nested script, already reported.
    Reported,
    Stop(Stop),
}

impl From<flint::Error> for ItemError {
    fn from(e: flint::Error) -> Self {
        ItemError::Flint(e)
    }
}

/// A session with its output, settings and Ctrl-C flag.
pub struct Shell {
    ctx: SessionContext,
    /// The current settings.
    pub settings: Settings,
    sink: Sink,
    interrupted: Arc<AtomicBool>,
    progress: Arc<Progress>,
    demo: Demo,
    depth: usize,
}

impl Shell {
    /// A shell over `ctx` writing results to `sink`; `interrupted` is set
    /// by the Ctrl-C handler.
    pub fn new(ctx: SessionContext, settings: Settings, sink: Sink, interrupted: Arc<AtomicBool>) -> Self {
        let progress = Arc::new(Progress::new(io::stderr().is_terminal()));
        ctx.add_job_listener(Arc::clone(&progress) as Arc<dyn flint::JobListener>);
        Self {
            ctx,
            settings,
            sink,
            interrupted,
            progress,
            demo: Demo::default(),
            depth: 0,
        }
    }

    /// The session.
    pub fn session(&self) -> &SessionContext {
        &self.ctx
    }

    /// Starts generating the TPC-H tables in the background; the next
    /// statement waits for them.
    pub fn start_demo(&mut self, sf: f64) {
        self.demo = Demo::start(&self.ctx, sf);
    }

    /// Clears the Ctrl-C flag before new input.
    pub fn clear_interrupt(&self) {
        self.interrupted.store(false, Ordering::SeqCst);
    }

    /// Runs every statement and meta-command of `text`; `name` names the
    /// source in error reports (`None` in the REPL). Stops at the first
    /// failure unless `keep_going`.
    pub fn run_script(&mut self, name: Option<&str>, text: &str, keep_going: bool) -> Outcome {
        let source = Source { name, text };
        let mut outcome = Outcome::default();
        for item in split(text) {
            if self.interrupted.load(Ordering::SeqCst) {
                outcome.stop = Some(Stop::Interrupted);
                break;
            }
            let (result, statement, pos) = match &item {
                Item::Sql { text, pos, .. } => (self.run_sql(text), text.as_str(), *pos),
                Item::Meta { text, pos } => (self.run_meta(text, keep_going, &mut outcome), "", *pos),
            };
            let located = match result {
                Ok(()) => continue,
                Err(ItemError::Stop(stop)) => {
                    outcome.stop = Some(stop);
                    break;
                }
                Err(_) if self.interrupted.load(Ordering::SeqCst) => {
                    eprintln!("Cancelled.");
                    outcome.stop = Some(Stop::Interrupted);
                    break;
                }
                Err(ItemError::Reported) => None,
                Err(ItemError::Flint(e)) => Some(report::locate(&e.to_string(), statement, pos)),
                Err(ItemError::Message(message)) => Some(Located {
                    message,
                    pos,
                    precise: false,
                }),
            };
            if let Some(located) = located {
                outcome.failures += 1;
                eprint!("{}", report::render(source, &located));
            }
            if !keep_going {
                break;
            }
        }
        outcome
    }

    fn run_sql(&mut self, text: &str) -> Result<(), ItemError> {
        self.wait_for_demo()?;
        let started = Instant::now();
        if let Some(call) = demo::parse_call(text) {
            let sf = call.map_err(ItemError::Message)?;
            self.in_background(|ctx| demo::register(ctx, sf))?;
            let took = progress::elapsed(started.elapsed());
            self.note(format!(
                "Generated TPC-H at scale factor {sf} in {took}: {}.",
                flint::tpch::TABLES.join(", ")
            ));
            return Ok(());
        }
        let explain = self.settings.explain && is_query(text);
        let (schema, batches) = self.in_background(|ctx| {
            let df = ctx.sql(text)?;
            if explain {
                return explain_batches(&df);
            }
            let batches = df.collect()?;
            Ok((df.schema(), batches))
        })?;
        if first_word(text).eq_ignore_ascii_case("insert") {
            // The count of an INSERT is a message, not a result.
            let count = inserted_rows(&batches);
            let time = self.time(started.elapsed());
            self.note(format!("Inserted {count}{time}"));
            return Ok(());
        }
        self.print(&schema, &batches, started.elapsed())
    }

    /// ` in 1.2 ms` when timing is on.
    fn time(&self, took: Duration) -> String {
        if self.settings.timing {
            format!(" in {}", progress::elapsed(took))
        } else {
            String::new()
        }
    }

    fn wait_for_demo(&mut self) -> Result<(), ItemError> {
        if let Some(sf) = self.demo.pending_scale() {
            self.note(format!("Generating the TPC-H tables at scale factor {sf}..."));
        }
        if let Some((_, result)) = self.demo.wait() {
            result?;
        }
        Ok(())
    }

    /// Runs `work` on a helper thread and waits for it, drawing progress and
    /// cancelling the session's jobs once Ctrl-C was pressed.
    fn in_background<T: Send>(
        &self,
        work: impl FnOnce(&SessionContext) -> flint::Result<T> + Send,
    ) -> flint::Result<T> {
        let ctx = &self.ctx;
        let (tx, rx) = mpsc::channel();
        self.progress.begin();
        let result = std::thread::scope(|s| {
            let spawned = std::thread::Builder::new()
                .name("flint-statement".into())
                .stack_size(64 << 20)
                .spawn_scoped(s, move || {
                    let r = catch_unwind(AssertUnwindSafe(|| work(ctx)))
                        .unwrap_or_else(|_| Err(flint::Error::Internal("the statement panicked".into())));
                    let _ = tx.send(r);
                });
            if let Err(e) = spawned {
                return Err(flint::Error::Io(e));
            }
            loop {
                match rx.recv_timeout(Duration::from_millis(50)) {
                    Ok(r) => return r,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if self.interrupted.load(Ordering::SeqCst) {
                            ctx.cancel_all_jobs();
                        }
                        self.progress.tick();
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        return Err(flint::Error::Internal("the statement's thread ended early".into()));
                    }
                }
            }
        });
        self.progress.finish();
        result
    }

    fn print(&mut self, schema: &SchemaRef, batches: &[RecordBatch], took: Duration) -> Result<(), ItemError> {
        let format = self.settings.format;
        let options = Options {
            max_rows: if format == Format::Table {
                self.settings.max_rows
            } else {
                0
            },
            styled: self.sink.is_terminal(),
            width: self.sink.terminal_width(),
        };
        let written = self
            .sink
            .write(|out| format::write_result(out, format, schema, batches, options));
        match written {
            Ok(Ok(())) => {}
            Err(e) | Ok(Err(ArrowError::IoError(_, e))) if is_broken_pipe(&e) => {
                return Err(ItemError::Stop(Stop::BrokenPipe));
            }
            Err(e) => return Err(ItemError::Message(format!("cannot write the results: {e}"))),
            Ok(Err(e)) => return Err(ItemError::Message(format!("cannot write the results: {e}"))),
        }
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        let time = self.time(took);
        if !schema.fields().is_empty() {
            self.note(format!("{}{time}", plural(rows, "row")));
        } else if self.settings.timing {
            self.note(format!("OK{time}"));
        }
        Ok(())
    }

    /// A message on stderr, unless quiet.
    fn note(&self, message: String) {
        if !self.settings.quiet {
            eprintln!("{message}");
        }
    }

    /// `\d NAME`: the columns of a table or view, with the SQL type names
    /// the table headers use.
    fn describe(&mut self, name: &str) -> Result<(), ItemError> {
        self.wait_for_demo()?;
        let started = Instant::now();
        let name = match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
            Some(quoted) => quoted.to_string(),
            None => name.to_lowercase(),
        };
        if !self.ctx.table_names().contains(&name) {
            return Err(ItemError::Message(format!(
                "table '{name}' not found; \\d lists the tables"
            )));
        }
        let schema = self.ctx.table(&name)?.schema();
        let column = |f: fn(&Field) -> String| -> ArrayRef {
            Arc::new(StringArray::from_iter_values(schema.fields().iter().map(|x| f(x))))
        };
        let columns = vec![
            column(|f| f.name().clone()),
            column(|f| table::type_name(f.data_type())),
            column(|f| if f.is_nullable() { "YES" } else { "NO" }.to_string()),
        ];
        let out = Arc::new(Schema::new(vec![
            Field::new("column_name", DataType::Utf8, false),
            Field::new("data_type", DataType::Utf8, false),
            Field::new("is_nullable", DataType::Utf8, false),
        ]));
        let batch = RecordBatch::try_new(Arc::clone(&out), columns).map_err(flint::Error::from)?;
        self.print(&out, &[batch], started.elapsed())
    }

    fn run_meta(&mut self, line: &str, keep_going: bool, outcome: &mut Outcome) -> Result<(), ItemError> {
        let on_off = |b: bool| if b { "on" } else { "off" };
        match meta::parse(line).map_err(ItemError::Message)? {
            Command::Tables => self.run_sql("SHOW TABLES")?,
            Command::Describe(table) => self.describe(&table)?,
            Command::Timing(v) => {
                self.settings.timing = v.unwrap_or(!self.settings.timing);
                self.note(format!("Timing is {}.", on_off(self.settings.timing)));
            }
            Command::Explain(v) => {
                self.settings.explain = v.unwrap_or(!self.settings.explain);
                self.note(format!("Explain is {}.", on_off(self.settings.explain)));
            }
            Command::Format(None) => eprintln!("Format is {}.", self.settings.format),
            Command::Format(Some(f)) => self.settings.format = f,
            Command::MaxRows(n) => self.settings.max_rows = n,
            Command::Output(None) => self.sink = Sink::Stdout,
            Command::Output(Some(path)) => {
                self.sink = Sink::file(&path)
                    .map_err(|e| ItemError::Message(format!("cannot write {}: {e}", path.display())))?;
            }
            Command::Help => eprintln!("{}", meta::HELP),
            Command::Quit => return Err(ItemError::Stop(Stop::Quit)),
            Command::Include(path) => {
                if self.depth >= MAX_DEPTH {
                    return Err(ItemError::Message(format!(
                        "scripts nest deeper than {MAX_DEPTH} levels"
                    )));
                }
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| ItemError::Message(format!("cannot read {}: {e}", path.display())))?;
                self.depth += 1;
                let nested = self.run_script(Some(&path.display().to_string()), &text, keep_going);
                self.depth -= 1;
                outcome.failures += nested.failures;
                if let Some(stop) = nested.stop {
                    return Err(ItemError::Stop(stop));
                }
                if nested.failures > 0 {
                    return Err(ItemError::Reported);
                }
            }
        }
        Ok(())
    }
}

/// The first token of a statement.
fn first_word(statement: &str) -> &str {
    let first = tokenize(statement).into_iter().find(|t| t.is_significant());
    first.map_or("", |t| &statement[t.start..t.end])
}

/// Whether a statement is a query (so `\explain` shows its plan).
fn is_query(statement: &str) -> bool {
    let word = first_word(statement);
    word == "("
        || ["select", "with", "values", "from", "table"]
            .iter()
            .any(|k| word.eq_ignore_ascii_case(k))
}

/// The row count an INSERT returns, as "N rows".
fn inserted_rows(batches: &[RecordBatch]) -> String {
    let count = batches
        .first()
        .filter(|b| b.num_columns() == 1 && b.num_rows() == 1)
        .and_then(|b| arrow::util::display::array_value_to_string(b.column(0), 0).ok());
    match count.as_deref().map(str::parse::<usize>) {
        Some(Ok(n)) => plural(n, "row"),
        _ => "rows".to_string(),
    }
}

/// `1 row`, `2 rows`.
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The plans of a query as a two-column result.
fn explain_batches(df: &flint::DataFrame) -> flint::Result<(SchemaRef, Vec<RecordBatch>)> {
    let rows = df.explain_string(false, false)?;
    let schema = Arc::new(Schema::new(vec![
        Field::new("plan_type", DataType::Utf8, false),
        Field::new("plan", DataType::Utf8, false),
    ]));
    let kinds: ArrayRef = Arc::new(StringArray::from_iter_values(rows.iter().map(|(k, _)| k)));
    let plans: ArrayRef = Arc::new(StringArray::from_iter_values(rows.iter().map(|(_, p)| p)));
    let batch = RecordBatch::try_new(Arc::clone(&schema), vec![kinds, plans])?;
    Ok((schema, vec![batch]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_recognized() {
        assert!(is_query("select 1"));
        assert!(is_query("  (SELECT 1) UNION (SELECT 2)"));
        assert!(is_query("WITH t AS (SELECT 1) SELECT * FROM t"));
        assert!(!is_query("CREATE TABLE t AS SELECT 1"));
    }
}
