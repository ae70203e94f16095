//! The `query` binary in batch mode: every flag, every format, the exit
//! status and the place an error names. Each test runs with its own empty
//! HOME, so no ~/.flintrc or history of the machine gets in.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use assert_cmd::assert::Assert;
use predicates::prelude::*;
use predicates::str::contains;
use tempfile::TempDir;

/// A scratch directory used as HOME and for script files.
struct Env {
    dir: TempDir,
}

impl Env {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn query(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_query"));
        c.env("HOME", self.dir.path()).env_remove("NO_COLOR").arg("--threads=2");
        c
    }

    fn run(&self, args: &[&str]) -> Assert {
        self.query().args(args).assert()
    }
}

fn arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

const ROWS: &str = "SELECT * FROM (VALUES (1, 'a', 2.5), (2, NULL, NULL)) AS t(n, s, x) ORDER BY n";

#[test]
fn version_and_help() {
    let e = Env::new();
    e.run(&["--version"])
        .success()
        .stdout(format!("query {}\n", env!("CARGO_PKG_VERSION")));
    e.run(&["--help"]).success().stdout(
        contains("Examples:")
            .and(contains("--demo"))
            .and(contains("--continue-on-error")),
    );
}

#[test]
fn bad_flags_are_usage_errors() {
    let e = Env::new();
    e.run(&["--format", "xml"]).code(2).stderr(contains("possible values"));
    e.run(&["--threads", "0"]).code(2);
    e.run(&["--demo-scale", "-1"]).code(2).stderr(contains("positive"));
}

#[test]
fn csv_is_the_default_off_a_terminal() {
    let e = Env::new();
    e.run(&["-c", ROWS]).success().stdout("n,s,x\n1,a,2.5\n2,,\n");
}

#[test]
fn every_format() {
    let e = Env::new();
    let out = |f: &str| {
        let o = e.query().args(["-q", "--format", f, "-c", ROWS]).output().unwrap();
        assert!(o.status.success());
        String::from_utf8(o.stdout).unwrap()
    };
    assert_eq!(out("tsv"), "n\ts\tx\n1\ta\t2.5\n2\t\t\n");
    assert_eq!(
        out("json"),
        "[{\"n\":1,\"s\":\"a\",\"x\":2.5},{\"n\":2,\"s\":null,\"x\":null}]\n"
    );
    assert_eq!(
        out("ndjson"),
        "{\"n\":1,\"s\":\"a\",\"x\":2.5}\n{\"n\":2,\"s\":null,\"x\":null}\n"
    );
    assert_eq!(
        out("markdown"),
        "| n | s | x |\n|--:|---|--:|\n| 1 | a | 2.5 |\n| 2 | NULL | NULL |\n\n"
    );
    let table = out("table");
    assert!(table.contains("│    n   ┆    s    ┆       x      │"), "{table}");
    assert!(table.contains("│ bigint ┆ varchar ┆ decimal(2,1) │"), "{table}");
    assert!(table.contains("│      2 ┆ NULL    ┆         NULL │"), "{table}");
}

#[test]
fn only_rows_on_stdout_and_messages_on_stderr() {
    let e = Env::new();
    let sql =
        "CREATE TABLE t (a INT); INSERT INTO t VALUES (1), (2); SELECT a FROM t WHERE a > 5; SELECT sum(a) AS s FROM t";
    e.run(&["--format", "json", "-c", sql])
        .success()
        .stdout("[{\"s\":3}]\n")
        .stderr(
            contains("OK in")
                .and(contains("Inserted 2 rows in"))
                .and(contains("0 rows in"))
                .and(contains("1 row in")),
        );
}

#[test]
fn quiet_prints_no_counts_or_timings() {
    let e = Env::new();
    e.run(&["-q", "-c", "SELECT 1 AS one"])
        .success()
        .stdout("one\n1\n")
        .stderr("");
}

#[test]
fn scripts_run_in_order_then_commands() {
    let e = Env::new();
    let a = e.write("a.sql", "CREATE TABLE t (a INT);\nINSERT INTO t VALUES (1);\n");
    let b = e.write("b.sql", "INSERT INTO t VALUES (2)");
    e.run(&["-q", "-f", arg(&a), "-f", arg(&b), "-c", "SELECT count(*) AS n FROM t"])
        .success()
        .stdout("n\n2\n");
}

#[test]
fn stdin_is_a_script() {
    let e = Env::new();
    e.query()
        .args(["-q"])
        .write_stdin("SELECT 'x;y' AS s; -- a comment; with a semicolon\n/* ; */ SELECT 2 AS n;\n")
        .assert()
        .success()
        .stdout("s\nx;y\nn\n2\n");
}

#[test]
fn output_file() {
    let e = Env::new();
    let out = e.path("out.csv");
    e.run(&["-q", "-o", arg(&out), "-c", "SELECT 7 AS n"])
        .success()
        .stdout("");
    assert_eq!(std::fs::read_to_string(out).unwrap(), "n\n7\n");
}

#[test]
fn threads_and_partitions() {
    let e = Env::new();
    e.run(&["-q", "--partitions", "3", "-c", "SHOW flint.shuffle.partitions"])
        .success()
        .stdout("name,value\nflint.shuffle.partitions,3\n");
    e.run(&["-q", "--threads", "1", "-c", "SHOW flint.shuffle.partitions"])
        .success()
        .stdout(contains(",2\n"));
}

#[test]
fn init_file_and_flintrc() {
    let e = Env::new();
    e.write(".flintrc", ".mode json\nCREATE TABLE rc (a INT);\n");
    e.run(&["-q", "-c", "SELECT count(*) AS n FROM rc"])
        .success()
        .stdout("[{\"n\":0}]\n");
    let init = e.write("init.sql", "\\format tsv\nCREATE TABLE other (b INT);");
    e.run(&[
        "-q",
        "--init",
        arg(&init),
        "-c",
        "SELECT 1 AS a, 2 AS b FROM other UNION ALL SELECT 1, 2",
    ])
    .success()
    .stdout("a\tb\n1\t2\n");
}

#[test]
fn max_rows_cuts_tables() {
    let e = Env::new();
    let sql = "SELECT * FROM (VALUES (1), (2), (3), (4), (5), (6)) AS t(v)";
    e.run(&["-q", "--format", "table", "--max-rows", "4", "-c", sql])
        .success()
        .stdout(
            contains("6 rows (4 shown)")
                .and(contains("│      6 │"))
                .and(contains("│      3 │").not()),
        );
    e.run(&["-q", "--format", "table", "--max-rows", "0", "-c", sql])
        .success()
        .stdout(contains("│      3 │").and(contains("shown").not()));
}

#[test]
fn the_first_error_stops_the_run_with_its_place() {
    let e = Env::new();
    let script = e.write(
        "job.sql",
        "SELECT 1 AS a;\n\nSELECT a\n  FROM nowhere;\nSELECT 2 AS b;\n",
    );
    e.run(&["-q", "-f", arg(&script)])
        .code(1)
        .stdout("a\n1\n")
        .stderr(contains(format!("{}:4:8: error:", arg(&script))).and(contains("nowhere")));
}

#[test]
fn syntax_errors_point_at_the_column() {
    let e = Env::new();
    let script = e.write("bad.sql", "SELECT 1;\n  SELECT a,\n    FROM t WHERE );\n");
    e.run(&["-q", "-f", arg(&script)]).code(1).stderr(
        contains(format!("{}:3:18: error: syntax error", arg(&script)))
            .and(contains("3 |     FROM t WHERE );\n  |                  ^")),
    );
    e.run(&["-q", "-c", "SELECT 1; SELECT 'open"])
        .code(1)
        .stderr(contains("<command>:1:18: error: syntax error"));
}

#[test]
fn continue_on_error_runs_the_rest() {
    let e = Env::new();
    e.run(&[
        "-q",
        "--continue-on-error",
        "-c",
        "SELECT nope; SELECT 1 AS a; SELEC 2; SELECT 3 AS b",
    ])
    .code(1)
    .stdout("a\n1\nb\n3\n")
    .stderr(contains("<command>:1:8: error:").and(contains("<command>:1:29: error: syntax error")));
}

#[test]
fn a_missing_script_is_a_failure() {
    let e = Env::new();
    e.run(&["-f", "no/such.sql", "-c", "SELECT 1"])
        .code(1)
        .stdout("")
        .stderr(contains("no/such.sql: error: cannot read it"));
}

#[test]
fn execution_errors_name_the_statement() {
    let e = Env::new();
    e.run(&["-q", "-c", "SELECT 1;\n  SELECT CAST('x' AS INT)"])
        .code(1)
        .stderr(contains("<command>:2:3: error:"));
}

#[test]
fn demo_data_and_call_tpch() {
    let e = Env::new();
    e.run(&["-q", "--demo-scale", "0.01", "-c", "SELECT count(*) AS n FROM nation"])
        .success()
        .stdout("n\n25\n");
    e.run(&[
        "-c",
        "CALL tpch(0.01); SELECT r_name FROM region ORDER BY r_name LIMIT 1",
    ])
    .success()
    .stdout("r_name\nAFRICA\n")
    .stderr(contains("Generated TPC-H at scale factor 0.01"));
    e.run(&["-q", "-c", "CALL tpch(-1)"])
        .code(1)
        .stderr(contains("usage: CALL tpch"));
}

#[test]
fn meta_commands_in_scripts() {
    let e = Env::new();
    let inner = e.write("inner.sql", "CREATE TABLE t (a INT, b VARCHAR);\n");
    let out = e.path("out.txt");
    let script = format!(
        "\\i {}\n.tables\n\\d t\n\\o {}\nSELECT 5 AS five;\n\\o\n\\format markdown\nSELECT 6 AS six;\n",
        arg(&inner),
        arg(&out)
    );
    e.run(&["-q", "-c", &script]).success().stdout(
        "name,type\nt,table\ncolumn_name,data_type,is_nullable\na,int,YES\nb,varchar,YES\n| six |\n|--:|\n| 6 |\n\n",
    );
    assert_eq!(std::fs::read_to_string(out).unwrap(), "five\n5\n");
}

#[test]
fn errors_in_included_scripts_name_that_file() {
    let e = Env::new();
    let inner = e.write("inner.sql", "SELECT 1 AS a;\nSELECT nope;\n");
    e.run(&["-q", "-c", &format!("\\i {}\nSELECT 2 AS b;", arg(&inner))])
        .code(1)
        .stdout("a\n1\n")
        .stderr(contains(format!("{}:2:8: error:", arg(&inner))));
}

#[test]
fn meta_command_errors_and_quit() {
    let e = Env::new();
    e.run(&["-q", "-c", "\\bogus"])
        .code(1)
        .stderr(contains("<command>:1:1: error: unknown command"));
    e.run(&["-q", "-c", "SELECT 1 AS a;\n\\q\nSELECT nope;"])
        .success()
        .stdout("a\n1\n");
}

#[test]
fn timing_off_keeps_row_counts() {
    let e = Env::new();
    e.run(&["-c", "\\timing off\nSELECT 1 AS a"])
        .success()
        .stderr(contains("Timing is off.").and(contains("1 row\n")));
}

#[test]
fn explain_shows_plans_instead_of_results() {
    let e = Env::new();
    e.run(&["-q", "--format", "csv", "-c", "\\explain on\nSELECT 1 AS a"])
        .success()
        .stdout(contains("plan_type,plan").and(contains("physical_plan")));
}

#[test]
fn ctrl_c_stops_a_batch_run_with_status_130() {
    use std::io::{BufRead, BufReader, Read};
    use std::time::{Duration, Instant};

    let e = Env::new();
    let long = "SELECT count(*) FROM lineitem a, lineitem b WHERE a.l_tax + b.l_tax < 0";
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_query"))
        .env("HOME", e.dir.path())
        .args(["--threads=2", "--demo-scale", "0.01", "-c"])
        .arg(format!("SELECT 1 AS warm; {long}; SELECT 2 AS never"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once the first result is out (the data is ready), the long one runs.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    while !first.ends_with("warm\n1\n") {
        assert!(stdout.read_line(&mut first).unwrap() > 0, "{first}");
    }
    std::thread::sleep(Duration::from_millis(500));
    let sent = Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    let took = sent.elapsed();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(took < Duration::from_secs(2), "stopping took {took:?}");
    assert_eq!(rest, "");
    assert!(stderr.contains("Cancelled."), "{stderr}");
}
