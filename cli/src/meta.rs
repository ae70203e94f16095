//! Meta-commands: psql-style backslash commands and their DuckDB-style
//! dot aliases. They change how the shell runs and prints, and list what
//! the session holds.

use std::path::PathBuf;

use crate::format::Format;

/// A parsed meta-command.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// `\d`, `.tables`: tables and views.
    Tables,
    /// `\d NAME`, `.schema NAME`: columns and types of a table.
    Describe(String),
    /// `\timing [on|off]`, `.timer on|off`: elapsed time after statements.
    Timing(Option<bool>),
    /// `\format [NAME]`, `.mode [NAME]`: the result format.
    Format(Option<Format>),
    /// `\i FILE`, `.read FILE`: runs a script.
    Include(PathBuf),
    /// `\o [FILE]`, `.output [FILE]`: results to a file, or back to stdout.
    Output(Option<PathBuf>),
    /// `\explain [on|off]`, `.explain`: show plans instead of running
    /// queries.
    Explain(Option<bool>),
    /// `\maxrows N`, `.maxrows N`: rows a table shows at most.
    MaxRows(usize),
    /// `\?`, `.help`: the list of commands.
    Help,
    /// `\q`, `.quit`, `.exit`: leaves.
    Quit,
}

/// Names a completer offers after `\` or `.`.
pub const NAMES: &[&str] = &[
    "\\d",
    "\\timing",
    "\\format",
    "\\i",
    "\\o",
    "\\explain",
    "\\maxrows",
    "\\?",
    "\\q",
    ".tables",
    ".schema",
    ".timer",
    ".mode",
    ".read",
    ".output",
    ".explain",
    ".maxrows",
    ".help",
    ".quit",
    ".exit",
];

/// The help text of `\?`.
pub const HELP: &str = "\
Statements end with ';' and may span lines. Ctrl-C cancels a running query
(or clears the line), Ctrl-D quits, Ctrl-R searches the history, Tab completes.

  \\d                  .tables          list tables and views
  \\d NAME             .schema NAME     columns and types of a table
  \\timing [on|off]    .timer on|off    elapsed time after each statement
  \\format [NAME]      .mode NAME       table, csv, tsv, json, ndjson, markdown
  \\maxrows N          .maxrows N       rows a table shows at most (0: all)
  \\i FILE             .read FILE       run a script
  \\o [FILE]           .output [FILE]   write results to FILE (no FILE: stdout)
  \\explain [on|off]   .explain         show query plans instead of results
  \\?                  .help            this help
  \\q                  .quit            quit

SQL extras: CALL tpch(0.1) generates the TPC-H tables in memory;
SET flint.shuffle.partitions = 8; SHOW ALL lists the settings.";

/// Parses a meta-command line (starting with `\` or `.`).
pub fn parse(line: &str) -> Result<Command, String> {
    let line = line.trim().trim_end_matches(';').trim_end();
    let (name, arg) = match line.split_once(char::is_whitespace) {
        Some((n, a)) => (n, a.trim()),
        None => (line, ""),
    };
    let arg = (!arg.is_empty()).then_some(arg);
    let command = match name {
        "\\d" | ".tables" | ".schema" => match arg {
            None => Command::Tables,
            Some(t) => Command::Describe(t.to_string()),
        },
        "\\timing" | ".timer" => Command::Timing(arg.map(on_off).transpose()?),
        "\\format" | "\\pset" | ".mode" => match arg {
            None => Command::Format(None),
            Some(a) => Command::Format(Some(Format::parse(a).ok_or_else(|| {
                let names: Vec<String> = Format::ALL.iter().map(|f| f.to_string()).collect();
                format!("unknown format '{a}'; formats are {}", names.join(", "))
            })?)),
        },
        "\\i" | "\\include" | ".read" => Command::Include(PathBuf::from(unquote(arg.ok_or("\\i needs a file name")?))),
        "\\o" | "\\out" | ".output" | ".out" => Command::Output(arg.map(|a| PathBuf::from(unquote(a)))),
        "\\explain" | ".explain" => Command::Explain(arg.map(on_off).transpose()?),
        "\\maxrows" | ".maxrows" => {
            let n = arg.ok_or("\\maxrows needs a number")?;
            Command::MaxRows(n.parse().map_err(|_| format!("\\maxrows needs a number, got '{n}'"))?)
        }
        "\\?" | "\\h" | "\\help" | ".help" => Command::Help,
        "\\q" | "\\quit" | ".quit" | ".exit" | ".q" => Command::Quit,
        other => return Err(format!("unknown command {other}; \\? lists the commands")),
    };
    Ok(command)
}

fn on_off(arg: &str) -> Result<bool, String> {
    match arg.to_ascii_lowercase().as_str() {
        "on" | "true" | "1" => Ok(true),
        "off" | "false" | "0" => Ok(false),
        _ => Err(format!("expected on or off, got '{arg}'")),
    }
}

/// `'a b.sql'` or `"a b.sql"` to `a b.sql`.
fn unquote(s: &str) -> &str {
    for q in ['\'', '"'] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_dot_aliases() {
        assert_eq!(parse("\\d"), Ok(Command::Tables));
        assert_eq!(parse(".tables"), Ok(Command::Tables));
        assert_eq!(parse("\\d lineitem"), Ok(Command::Describe("lineitem".into())));
        assert_eq!(parse(".schema orders;"), Ok(Command::Describe("orders".into())));
        assert_eq!(parse("\\timing"), Ok(Command::Timing(None)));
        assert_eq!(parse(".timer off"), Ok(Command::Timing(Some(false))));
        assert_eq!(parse(".mode csv"), Ok(Command::Format(Some(Format::Csv))));
        assert_eq!(
            parse("\\i 'my script.sql'"),
            Ok(Command::Include("my script.sql".into()))
        );
        assert_eq!(parse("\\o"), Ok(Command::Output(None)));
        assert_eq!(parse("\\explain on"), Ok(Command::Explain(Some(true))));
        assert_eq!(parse("\\maxrows 10"), Ok(Command::MaxRows(10)));
        assert_eq!(parse("\\?"), Ok(Command::Help));
        assert_eq!(parse(".quit"), Ok(Command::Quit));
    }

    #[test]
    fn bad_commands_say_why() {
        assert!(parse("\\nope").unwrap_err().contains("unknown command"));
        assert!(parse("\\format xml").unwrap_err().contains("formats are table"));
        assert!(parse("\\timing maybe").unwrap_err().contains("on or off"));
        assert!(parse("\\i").is_err());
    }

    #[test]
    fn every_completed_name_parses() {
        for n in NAMES {
            let line = match *n {
                "\\i" | ".read" => format!("{n} x.sql"),
                "\\maxrows" | ".maxrows" => format!("{n} 5"),
                _ => n.to_string(),
            };
            assert!(parse(&line).is_ok(), "{n}");
        }
    }
}
