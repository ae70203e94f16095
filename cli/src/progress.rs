//! The progress bar: a [`JobListener`] that follows the scheduler's job,
//! stage and task events and draws, on a terminal's stderr and only for
//! work longer than half a second, the stage and tasks done out of their
//! totals, the rows shuffled so far and the elapsed time.

use std::io;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use flint::{JobListener, JobMetrics};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

/// How long a statement runs before its progress bar appears.
const DELAY: Duration = Duration::from_millis(500);

/// Progress of the running statement; installed once as a job listener.
pub struct Progress {
    enabled: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// When the running statement started; `None` between statements.
    started: Option<Instant>,
    bar: Option<ProgressBar>,
    stages: usize,
    stage: usize,
    tasks: usize,
    tasks_done: usize,
    rows: u64,
}

impl Progress {
    /// A progress tracker; it draws only when `enabled` (stderr is a
    /// terminal).
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A statement starts.
    pub fn begin(&self) {
        let mut s = self.state();
        *s = State {
            started: Some(Instant::now()),
            ..State::default()
        };
    }

    /// Called while the statement runs: shows the bar once the statement
    /// has run for long enough, and refreshes it.
    pub fn tick(&self) {
        if !self.enabled {
            return;
        }
        let mut s = self.state();
        let Some(started) = s.started else { return };
        if s.bar.is_none() && started.elapsed() >= DELAY {
            let target = ProgressDrawTarget::term_like_with_hz(Box::new(Stderr(console::Term::stderr())), 10);
            let bar = ProgressBar::with_draw_target(Some(0), target);
            let style = ProgressStyle::with_template("{spinner} {prefix} [{bar:24}] {pos}/{len} tasks · {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(100));
            s.bar = Some(bar);
        }
        s.draw();
    }

    /// The statement ended: removes the bar.
    pub fn finish(&self) {
        let mut s = self.state();
        if let Some(bar) = s.bar.take() {
            bar.finish_and_clear();
        }
        s.started = None;
    }
}

/// Standard error for the bar, without the spaces indicatif writes up to
/// the right edge: with the cursor parked there, the `^C` the terminal
/// echoes wraps to a new line and the cleared bar would stay on screen.
#[derive(Debug)]
struct Stderr(console::Term);

impl TermLike for Stderr {
    fn width(&self) -> u16 {
        self.0.size().1
    }
    fn height(&self) -> u16 {
        self.0.size().0
    }
    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_up(n)
    }
    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_down(n)
    }
    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_right(n)
    }
    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_left(n)
    }
    fn write_line(&self, s: &str) -> io::Result<()> {
        self.0.write_line(s)
    }
    fn write_str(&self, s: &str) -> io::Result<()> {
        if !s.is_empty() && s.bytes().all(|b| b == b' ') {
            return Ok(());
        }
        self.0.write_str(s)
    }
    fn clear_line(&self) -> io::Result<()> {
        self.0.clear_line()
    }
    fn flush(&self) -> io::Result<()> {
        self.0.flush()
    }
}

impl State {
    fn draw(&self) {
        if let Some(bar) = &self.bar {
            bar.set_prefix(format!("stage {}/{}", self.stage, self.stages.max(self.stage)));
            bar.set_length(self.tasks as u64);
            bar.set_position(self.tasks_done as u64);
            let took = self.started.map(|t| elapsed(t.elapsed())).unwrap_or_default();
            bar.set_message(format!("{} rows · {took}", human(self.rows)));
        }
    }
}

impl JobListener for Progress {
    fn on_job_start(&self, _job_id: usize, _action: &str, num_stages: usize) {
        let mut s = self.state();
        s.stages = num_stages;
        s.stage = 0;
        s.tasks = 0;
        s.tasks_done = 0;
        s.draw();
    }

    fn on_stage_start(&self, _job_id: usize, _stage_id: usize, _name: &str, num_tasks: usize) {
        let mut s = self.state();
        s.stage += 1;
        s.tasks = num_tasks;
        s.tasks_done = 0;
        s.draw();
    }

    fn on_shuffle_write(&self, _job_id: usize, _stage_id: usize, _partition: usize, records: u64) {
        self.state().rows += records;
    }

    fn on_task_end(&self, _job_id: usize, _stage_id: usize, _partition: usize, _ok: bool) {
        let mut s = self.state();
        s.tasks_done += 1;
        s.draw();
    }

    fn on_job_end(&self, _metrics: &JobMetrics) {}
}

/// `1234567` as `1.23M`.
pub fn human(n: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")];
    for (size, unit) in UNITS {
        if n >= size {
            return format!("{:.2}{unit}", n as f64 / size as f64);
        }
    }
    n.to_string()
}

/// A duration for people: `842 µs`, `12.3 ms`, `4.56 s`, `2m 03s`.
pub fn elapsed(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 1e-3 {
        format!("{} µs", d.as_micros())
    } else if secs < 1.0 {
        format!("{:.1} ms", secs * 1e3)
    } else if secs < 60.0 {
        format!("{secs:.2} s")
    } else {
        format!("{}m {:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_durations_for_people() {
        assert_eq!(human(999), "999");
        assert_eq!(human(1_234_567), "1.23M");
        assert_eq!(elapsed(Duration::from_micros(12_345)), "12.3 ms");
        assert_eq!(elapsed(Duration::from_millis(4_560)), "4.56 s");
        assert_eq!(elapsed(Duration::from_secs(123)), "2m 03s");
    }

    #[test]
    fn events_update_the_counts() {
        let p = Progress::new(false);
        p.begin();
        p.on_job_start(0, "collect", 2);
        p.on_stage_start(0, 0, "scan", 4);
        p.on_task_end(0, 0, 0, true);
        p.on_shuffle_write(0, 0, 0, 10);
        let s = p.state();
        assert_eq!((s.stage, s.stages, s.tasks, s.tasks_done, s.rows), (1, 2, 4, 1, 10));
    }
}
