//! The REPL driven through a pseudo-terminal: multi-line input, meta
//! commands, Tab completion, Ctrl-C (clearing a line and cancelling a long
//! query), the progress bar, errors that leave the session running,
//! history with Ctrl-R search, and Ctrl-D.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rexpect::reader::Options;
use rexpect::session::{PtySession, spawn_with_options};

/// Starts the shell on a terminal with HOME at `home`; waits for the prompt.
fn shell(home: &Path, args: &[&str]) -> PtySession {
    let mut c = Command::new(env!("CARGO_BIN_EXE_query"));
    c.env("HOME", home)
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .arg("--threads=2")
        .args(args);
    // Escape codes stay: stripping them swallows text after the line
    // editor's private-mode sequences.
    let options = Options::new().timeout_ms(Some(30_000));
    let mut p = spawn_with_options(c, options).expect("the shell starts");
    p.exp_string("flint> ").expect("a prompt");
    p
}

/// Types `text` and presses Enter.
fn enter(p: &mut PtySession, text: &str) {
    p.send(text).unwrap();
    p.send("\r").unwrap();
    p.flush().unwrap();
}

/// Waits for a fresh prompt, not a redraw of the line being edited: the
/// line editor turns bracketed paste on each time it starts reading a line.
/// (Typing earlier is fine for the shell, but then the echo and the output
/// interleave.)
fn prompt(p: &mut PtySession) {
    p.exp_string("\x1b[?2004h").expect("a fresh prompt");
}

/// Runs a command and waits for the next prompt.
fn command(p: &mut PtySession, text: &str) {
    enter(p, text);
    prompt(p);
}

#[test]
fn multi_line_statements_and_meta_commands() {
    let home = tempfile::tempdir().unwrap();
    let mut p = shell(home.path(), &["--demo-scale", "0.01"]);
    enter(&mut p, "SELECT count(*) AS n");
    enter(&mut p, "FROM nation");
    enter(&mut p, "WHERE n_regionkey = 1;");
    // Box-drawing characters reach the test mangled: match the ASCII parts.
    p.exp_string(" bigint ").unwrap();
    p.exp_string("      5 ").unwrap();
    p.exp_string("1 row in").unwrap();
    prompt(&mut p);
    enter(&mut p, "\\d");
    p.exp_string("lineitem").unwrap();
    prompt(&mut p);
    enter(&mut p, ".schema region");
    p.exp_string("r_comment").unwrap();
    prompt(&mut p);
    enter(&mut p, "\\timing off");
    p.exp_string("Timing is off.").unwrap();
    prompt(&mut p);
    command(&mut p, "\\format csv");
    enter(&mut p, "SELECT 40 + 2 AS answer;");
    p.exp_string("answer\r\n42\r\n1 row\r\n").unwrap();
    prompt(&mut p);
    enter(&mut p, "\\?");
    p.exp_string("list tables and views").unwrap();
    prompt(&mut p);
    enter(&mut p, "\\q");
    p.exp_eof().unwrap();
}

#[test]
fn tab_completes_tables_columns_and_commands() {
    let home = tempfile::tempdir().unwrap();
    let mut p = shell(home.path(), &["--demo-scale", "0.01", "--format", "csv"]);
    enter(&mut p, "SELECT 1;");
    p.exp_string("1 row").unwrap();
    prompt(&mut p);
    // One candidate each: the column, the keyword and the table complete in place.
    enter(&mut p, "SELECT count(r_regi\t) AS regions FRO\t regi\t;");
    p.exp_string("regions\r\n5\r\n").unwrap();
    prompt(&mut p);
    enter(&mut p, "\\tim\t off");
    p.exp_string("Timing is off.").unwrap();
    prompt(&mut p);
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn errors_leave_the_session_and_history_is_kept() {
    let home = tempfile::tempdir().unwrap();
    let mut p = shell(home.path(), &["--format", "csv"]);
    enter(&mut p, "SELECT 1 +;");
    p.exp_string("Error: syntax error").unwrap();
    p.exp_string("1 | SELECT 1 +;").unwrap();
    p.exp_string("  |           ^").unwrap();
    prompt(&mut p);
    enter(&mut p, "SELECT *");
    enter(&mut p, "FROM nowhere;");
    p.exp_string("Error: table 'nowhere' not found").unwrap();
    p.exp_string("2 | FROM nowhere;").unwrap();
    prompt(&mut p);
    enter(&mut p, "SELECT 3 AS three;");
    p.exp_string("three\r\n3\r\n").unwrap();
    prompt(&mut p);
    // Ctrl-R finds the statement again; Enter runs it.
    p.send_control('r').unwrap();
    p.send("AS thr").unwrap();
    p.flush().unwrap();
    p.exp_string("SELECT 3 AS three;").unwrap();
    p.send("\r").unwrap();
    p.flush().unwrap();
    p.exp_string("three\r\n3\r\n").unwrap();
    prompt(&mut p);
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
    let history = std::fs::read_to_string(home.path().join(".flint_history")).unwrap();
    assert!(history.contains("SELECT 3 AS three;"), "{history}");
    assert!(history.contains("FROM nowhere;"), "{history}");
}

#[test]
fn ctrl_c_clears_the_line_and_cancels_a_long_query() {
    let home = tempfile::tempdir().unwrap();
    let mut p = shell(home.path(), &["--demo-scale", "0.01", "--format", "csv"]);
    // Ctrl-C on a half-typed line throws it away.
    p.send("SELECT nothing_here").unwrap();
    p.flush().unwrap();
    p.send_control('c').unwrap();
    prompt(&mut p);
    enter(&mut p, "SELECT 2 AS two;");
    p.exp_string("two\r\n2\r\n").unwrap();
    prompt(&mut p);
    // A query that runs for minutes unless cancelled.
    enter(&mut p, LONG_QUERY);
    // After half a second the progress bar shows the stage and its tasks.
    p.exp_regex(r"stage 1/2 \[ *\] 0/2 tasks").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let pressed = Instant::now();
    p.send_control('c').unwrap();
    p.exp_string("Cancelled.").unwrap();
    let took = pressed.elapsed();
    assert!(took < Duration::from_secs(2), "cancelling took {took:?}");
    prompt(&mut p);
    enter(&mut p, "SELECT 3 AS three;");
    p.exp_string("three\r\n3\r\n").unwrap();
    prompt(&mut p);
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}

/// 60k x 60k pairs at SF 0.01 through a nested-loop join.
const LONG_QUERY: &str = "SELECT count(*) FROM lineitem a, lineitem b WHERE a.l_extendedprice + b.l_extendedprice < 0;";
