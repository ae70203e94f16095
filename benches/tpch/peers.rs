//! Peer engines: one long-lived Python worker (`peer.py`) per engine,
//! started once with the data folder and thread count, then sent one JSON
//! line per query and answering with one JSON line (see `peer.py` for the
//! protocol). A worker's stderr (Spark's log, tracebacks) goes to
//! `target/tpch-peer-<engine>.log`. An engine that is not installed or does
//! not start is reported as absent; one that dies mid-run fails the queries
//! that remain.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Setup;
use crate::outcome::{Raw, Rss};

struct Process {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

enum State {
    /// Never ran: the reason.
    Absent(String),
    Running(Process),
    /// Exited after starting: the reason.
    Dead(String),
}

pub struct PeerWorker {
    name: String,
    version: Option<String>,
    log: PathBuf,
    state: State,
}

/// Starts a worker per name, one after the other, reporting each.
pub fn start_all(names: &[String], python: &Path, setup: &Setup) -> Vec<PeerWorker> {
    let script = crate::crate_dir().join("benches/tpch/peer.py");
    let logs = crate::crate_dir().join("target");
    names
        .iter()
        .map(|name| {
            let started = Instant::now();
            let w = PeerWorker::start(name, python, &script, &logs, setup);
            match (&w.state, &w.version) {
                (State::Running(_), v) => println!(
                    "peer {name} {} ready in {:.1} s",
                    v.as_deref().unwrap_or("?"),
                    started.elapsed().as_secs_f64()
                ),
                (State::Absent(why) | State::Dead(why), _) => println!("peer {name} absent: {why}"),
            }
            w
        })
        .collect()
}

impl PeerWorker {
    fn start(name: &str, python: &Path, script: &Path, logs: &Path, setup: &Setup) -> Self {
        let log = logs.join(format!("tpch-peer-{name}.log"));
        let mut w = Self {
            name: name.to_string(),
            version: None,
            log,
            state: State::Absent(String::new()),
        };
        w.state = match w.spawn(python, script, setup) {
            Ok(p) => State::Running(p),
            Err(why) => State::Absent(why),
        };
        w
    }

    fn spawn(&mut self, python: &Path, script: &Path, setup: &Setup) -> Result<Process, String> {
        if !python.exists() {
            return Err(format!(
                "no Python at {} (run benches/tpch/install_peers.sh, or pass --python)",
                python.display()
            ));
        }
        if let Some(dir) = self.log.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        }
        let log = std::fs::File::create(&self.log).map_err(|e| format!("creating {}: {e}", self.log.display()))?;
        let mut child = Command::new(python)
            .arg(script)
            .arg(&self.name)
            .arg(&setup.tables)
            .arg(setup.threads.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", python.display()))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            return Err("no pipes to the worker".into());
        };
        let mut p = Process {
            child,
            stdin,
            stdout: BufReader::new(stdout),
        };
        match read_reply(&mut p.stdout) {
            Ok(hello) if hello["ready"] == true => {
                self.version = hello["version"].as_str().map(String::from);
                Ok(p)
            }
            Ok(hello) => {
                let _ = p.child.wait();
                Err(hello["error"].as_str().unwrap_or("not ready").to_string())
            }
            Err(e) => {
                let _ = p.child.kill();
                let _ = p.child.wait();
                Err(format!("{e} (see {})", self.log.display()))
            }
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn version(&self) -> Option<String> {
        self.version.clone()
    }

    /// Why the engine never ran, if it did not.
    pub fn absent_reason(&self) -> Option<String> {
        match &self.state {
            State::Absent(why) => Some(why.clone()),
            _ => None,
        }
    }

    /// Sends a command and reads the reply; a broken worker becomes dead.
    fn call(&mut self, cmd: &Value) -> Result<Value, String> {
        let State::Running(p) = &mut self.state else {
            return Err(match &self.state {
                State::Dead(why) => format!("worker died earlier: {why}"),
                _ => "not running".into(),
            });
        };
        let sent = writeln!(p.stdin, "{cmd}").and_then(|()| p.stdin.flush());
        let reply = match sent {
            Ok(()) => read_reply(&mut p.stdout),
            Err(e) => Err(format!("writing to the worker: {e}")),
        };
        reply.map_err(|e| {
            let why = format!("{e} (see {})", self.log.display());
            if let State::Running(mut p) = std::mem::replace(&mut self.state, State::Dead(why.clone())) {
                let _ = p.child.kill();
                let _ = p.child.wait();
            }
            why
        })
    }

    /// Runs a query (warm-up + `runs` timed runs); `None` when the engine is
    /// absent.
    pub fn run(&mut self, sql: &str, runs: usize) -> Option<Raw> {
        if matches!(self.state, State::Absent(_)) {
            return None;
        }
        let reply = match self.call(&json!({ "query": sql, "runs": runs })) {
            Ok(r) => r,
            Err(e) => return Some(Raw::Failed(e)),
        };
        if let Some(e) = reply["error"].as_str() {
            return Some(Raw::Failed(e.to_string()));
        }
        let times_ms: Option<Vec<f64>> = reply["times_ms"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect());
        let rows: Option<Vec<Vec<String>>> = reply["result"].as_array().map(|rows| {
            rows.iter()
                .map(|r| {
                    r.as_array()
                        .map(|vals| vals.iter().map(|v| v.as_str().unwrap_or("?").to_string()).collect())
                        .unwrap_or_default()
                })
                .collect()
        });
        Some(match (times_ms, rows) {
            (Some(times_ms), Some(rows)) => Raw::Ran { times_ms, rows },
            _ => Raw::Failed(format!(
                "malformed reply: {}",
                crate::outcome::short(&reply.to_string())
            )),
        })
    }

    /// Waits until the worker's processes (Python and any JVM child) stop
    /// using the CPU, at most [`SETTLE_MAX`]. Spark's JVM goes on compiling
    /// and collecting garbage for a while after it answers; without this,
    /// that work slowed whichever engine ran next.
    pub fn settle(&self) {
        let State::Running(p) = &self.state else {
            return;
        };
        let deadline = Instant::now() + SETTLE_MAX;
        let mut before = cpu_ticks(p.child.id());
        while Instant::now() < deadline {
            std::thread::sleep(SETTLE_TICK);
            let now = cpu_ticks(p.child.id());
            if now.saturating_sub(before) <= SETTLE_IDLE_TICKS {
                return;
            }
            before = now;
        }
    }

    /// The worker's peak resident set, as it measures it.
    pub fn peak_rss(&mut self) -> Option<Rss> {
        let reply = self.call(&json!({ "rss": true })).ok()?;
        Some(Rss {
            bytes: reply["peak_rss_bytes"].as_u64()?,
            note: reply["note"].as_str().unwrap_or_default().to_string(),
        })
    }
}

/// How long [`PeerWorker::settle`] waits at most.
const SETTLE_MAX: Duration = Duration::from_secs(3);
/// How often it looks at the CPU time.
const SETTLE_TICK: Duration = Duration::from_millis(100);
/// CPU time (in clock ticks, 10 ms at the usual 100 Hz) per look that
/// counts as idle: a tenth of a core.
const SETTLE_IDLE_TICKS: u64 = 1;

/// The CPU time (user + system, in clock ticks) of process `pid` and its
/// descendants, from `/proc`; 0 where it cannot be read.
fn cpu_ticks(pid: u32) -> u64 {
    let mut total = 0;
    let mut stack = vec![pid];
    while let Some(p) = stack.pop() {
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) {
            // After the command name in parentheses: state is field 3,
            // utime field 14 and stime field 15.
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .map_or("", |(_, r)| r)
                .split_whitespace()
                .collect();
            let field = |i: usize| fields.get(i - 3).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            total += field(14) + field(15);
        }
        if let Ok(children) = std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")) {
            stack.extend(children.split_whitespace().filter_map(|c| c.parse::<u32>().ok()));
        }
    }
    total
}

fn read_reply(stdout: &mut BufReader<ChildStdout>) -> Result<Value, String> {
    let mut line = String::new();
    match stdout.read_line(&mut line) {
        Ok(0) => Err("the worker exited".into()),
        Ok(_) => serde_json::from_str(&line).map_err(|e| format!("bad reply from the worker ({e}): {}", line.trim())),
        Err(e) => Err(format!("reading from the worker: {e}")),
    }
}

impl Drop for PeerWorker {
    /// Asks the worker to quit, and kills it if it has not after 30 s
    /// (Spark stops its JVM on the way out).
    fn drop(&mut self) {
        if let State::Running(p) = &mut self.state {
            let _ = writeln!(p.stdin, "{}", json!({ "quit": true })).and_then(|()| p.stdin.flush());
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = p.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
    }
}
