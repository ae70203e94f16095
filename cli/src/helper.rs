//! The REPL's line-editor helper: Tab completion of SQL keywords, table
//! names, column names, meta-commands and (inside quotes) file paths;
//! highlighting of keywords, strings and comments; and the validator that
//! keeps reading lines until the statement ends with `;`.

use std::borrow::Cow;
use std::path::Path;

use flint::SessionContext;
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use crate::lex::{Kind, Token, tokenize};
use crate::meta;
use crate::split::is_complete;

/// Keywords that are completed and highlighted.
pub const KEYWORDS: &[&str] = &[
    "ALL",
    "ANALYZE",
    "AND",
    "ANTI",
    "AS",
    "ASC",
    "AVG",
    "BETWEEN",
    "BIGINT",
    "BOOLEAN",
    "BY",
    "CALL",
    "CASE",
    "CAST",
    "COALESCE",
    "COUNT",
    "CREATE",
    "CROSS",
    "CSV",
    "CURRENT_DATE",
    "DATE",
    "DECIMAL",
    "DELIMITER",
    "DESC",
    "DESCRIBE",
    "DISTINCT",
    "DOUBLE",
    "DROP",
    "ELSE",
    "END",
    "EXCEPT",
    "EXISTS",
    "EXPLAIN",
    "EXTERNAL",
    "EXTRACT",
    "FALSE",
    "FIRST",
    "FROM",
    "FULL",
    "GROUP",
    "HAVING",
    "HEADER",
    "IF",
    "ILIKE",
    "IN",
    "INNER",
    "INSERT",
    "INT",
    "INTEGER",
    "INTERSECT",
    "INTERVAL",
    "INTO",
    "IS",
    "JOIN",
    "JSON",
    "LAST",
    "LEFT",
    "LIKE",
    "LIMIT",
    "LOCATION",
    "MAX",
    "MIN",
    "NOT",
    "NULL",
    "NULLS",
    "OFFSET",
    "ON",
    "OPTIONS",
    "OR",
    "ORDER",
    "OUTER",
    "PARQUET",
    "REPLACE",
    "RIGHT",
    "SELECT",
    "SEMI",
    "SET",
    "SHOW",
    "STORED",
    "SUBSTRING",
    "SUM",
    "TABLE",
    "TABLES",
    "THEN",
    "TIMESTAMP",
    "TRUE",
    "UNION",
    "USING",
    "VALUES",
    "VARCHAR",
    "VIEW",
    "WHEN",
    "WHERE",
    "WITH",
];

/// Words after which a table name is expected.
const BEFORE_TABLE: &[&str] = &["FROM", "JOIN", "INTO", "TABLE", "DESCRIBE", "\\d", ".schema"];

/// The helper; it reads table and column names from the session.
pub struct SqlHelper {
    ctx: SessionContext,
    color: bool,
}

impl SqlHelper {
    /// A helper over `ctx`; `color` enables highlighting.
    pub fn new(ctx: SessionContext, color: bool) -> Self {
        Self { ctx, color }
    }

    fn tables(&self) -> Vec<String> {
        let mut names = self.ctx.table_names();
        names.sort();
        names
    }

    /// Column names of `table`, or of every table when `None`.
    fn columns(&self, table: Option<&str>) -> Vec<String> {
        let tables = match table {
            Some(t) => vec![t.to_lowercase()],
            None => self.tables(),
        };
        let mut names: Vec<String> = tables
            .iter()
            .filter_map(|t| self.ctx.table(t).ok())
            .flat_map(|df| {
                df.schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect::<Vec<_>>()
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Candidates for the word `prefix` at the end of `before`.
    fn words(&self, before: &str, tokens: &[Token], prefix: &str) -> Vec<String> {
        let significant: Vec<&Token> = tokens.iter().filter(|t| t.is_significant()).collect();
        let text = |t: &Token| &before[t.start..t.end];
        // Tokens before the word being completed.
        let n = significant.len() - usize::from(!prefix.is_empty());
        let previous = n.checked_sub(1).map(|i| text(significant[i]));
        if previous == Some(".") && n >= 2 && significant[n - 2].kind == Kind::Word {
            return starting_with(self.columns(Some(text(significant[n - 2]))), prefix);
        }
        if previous.is_some_and(|p| BEFORE_TABLE.iter().any(|k| k.eq_ignore_ascii_case(p))) {
            return starting_with(self.tables(), prefix);
        }
        if prefix.is_empty() {
            return Vec::new();
        }
        let lower = prefix.chars().any(|c| c.is_ascii_lowercase());
        let keywords = KEYWORDS
            .iter()
            .map(|k| if lower { k.to_lowercase() } else { k.to_string() });
        let mut out = starting_with(self.columns(None), prefix);
        out.extend(starting_with(self.tables(), prefix));
        out.extend(starting_with(keywords.collect(), prefix));
        let mut seen = std::collections::HashSet::new();
        out.retain(|w| seen.insert(w.clone()));
        out
    }
}

fn starting_with(words: Vec<String>, prefix: &str) -> Vec<String> {
    let p = prefix.to_lowercase();
    words.into_iter().filter(|w| w.to_lowercase().starts_with(&p)).collect()
}

/// File names completing `prefix` (a path typed inside quotes).
pub fn paths(prefix: &str) -> Vec<String> {
    let (dir, file) = match prefix.rfind('/') {
        Some(i) => (&prefix[..=i], &prefix[i + 1..]),
        None => ("", prefix),
    };
    let expanded = match (dir.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ if dir.is_empty() => Path::new(".").to_path_buf(),
        _ => Path::new(dir).to_path_buf(),
    };
    let Ok(entries) = std::fs::read_dir(expanded) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            if !name.starts_with(file) || (name.starts_with('.') && !file.starts_with('.')) {
                return None;
            }
            let slash = if e.path().is_dir() { "/" } else { "" };
            Some(format!("{dir}{name}{slash}"))
        })
        .collect();
    out.sort();
    out.truncate(500);
    out
}

impl Completer for SqlHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let tokens = tokenize(before);
        let pair = |s: String| Pair {
            display: s.clone(),
            replacement: s,
        };
        let Some(last) = tokens.last().copied() else {
            return Ok((pos, Vec::new()));
        };
        // Inside an open quote: a file path.
        if last.kind == Kind::Str && !last.closed {
            let start = last.start + 1;
            return Ok((start, paths(&before[start..]).into_iter().map(pair).collect()));
        }
        // A meta-command being typed at the start of a line.
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let current = before[line_start..].trim_start();
        if (current.starts_with('\\') || current.starts_with('.')) && !current.contains(char::is_whitespace) {
            let start = pos - current.len();
            let names = meta::NAMES
                .iter()
                .filter(|n| n.starts_with(current))
                .map(|n| n.to_string());
            return Ok((start, names.map(pair).collect()));
        }
        let (start, prefix) = match last.kind {
            Kind::Word | Kind::QuotedIdent => (last.start, &before[last.start..]),
            _ => (pos, ""),
        };
        let words = self.words(before, &tokens, prefix.trim_start_matches('"'));
        Ok((start, words.into_iter().map(pair).collect()))
    }
}

const KEYWORD: &str = "\x1b[1;34m";
const STRING: &str = "\x1b[32m";
const COMMENT: &str = "\x1b[90m";
const RESET: &str = "\x1b[0m";

/// `line` with ANSI colors on keywords, strings and comments.
pub fn highlight(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 32);
    for t in tokenize(line) {
        let text = &line[t.start..t.end];
        let color = match t.kind {
            Kind::Word if KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(text)) => Some(KEYWORD),
            Kind::Str => Some(STRING),
            Kind::LineComment | Kind::BlockComment => Some(COMMENT),
            _ => None,
        };
        match color {
            Some(c) => {
                out.push_str(c);
                out.push_str(text);
                out.push_str(RESET);
            }
            None => out.push_str(text),
        }
    }
    out
}

impl Highlighter for SqlHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if self.color {
            Cow::Owned(highlight(line))
        } else {
            Cow::Borrowed(line)
        }
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        self.color
    }
}

impl Hinter for SqlHelper {
    type Hint = String;
}

impl Validator for SqlHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(if is_complete(ctx.input()) {
            ValidationResult::Valid(None)
        } else {
            ValidationResult::Incomplete
        })
    }
}

impl Helper for SqlHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn helper() -> SqlHelper {
        let ctx = SessionContext::new();
        ctx.sql("CREATE TABLE lineitem (l_orderkey INT, l_quantity INT)")
            .unwrap();
        ctx.sql("CREATE TABLE orders (o_orderkey INT)").unwrap();
        SqlHelper::new(ctx, false)
    }

    fn complete(line: &str) -> (usize, Vec<String>) {
        let h = helper();
        let history = rustyline::history::DefaultHistory::new();
        let ctx = Context::new(&history);
        let (start, pairs) = h.complete(line, line.len(), &ctx).unwrap();
        (start, pairs.into_iter().map(|p| p.replacement).collect())
    }

    #[test]
    fn keywords_follow_the_typed_case() {
        assert_eq!(complete("SEL").1, vec!["SELECT"]);
        assert_eq!(complete("sel").1, vec!["select"]);
    }

    #[test]
    fn tables_after_from_and_columns_anywhere() {
        assert_eq!(complete("SELECT * FROM ").1, vec!["lineitem", "orders"]);
        assert_eq!(complete("SELECT * FROM li"), (14, vec!["lineitem".to_string()]));
        assert_eq!(complete("SELECT l_q").1, vec!["l_quantity"]);
        assert_eq!(complete("SELECT orders.o").1, vec!["o_orderkey"]);
    }

    #[test]
    fn meta_commands_and_paths() {
        assert_eq!(complete("\\ti").1, vec!["\\timing"]);
        assert_eq!(complete(".mo").1, vec![".mode"]);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("data.csv"), "a\n").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let line = format!("SELECT * FROM '{}/", dir.path().display());
        let (start, got) = complete(&line);
        assert_eq!(start, 15);
        let d = dir.path().display();
        assert_eq!(got, vec![format!("{d}/data.csv"), format!("{d}/sub/")]);
    }

    #[test]
    fn highlighting_keeps_the_text() {
        let h = highlight("SELECT 'x' -- c");
        assert_eq!(h, "\x1b[1;34mSELECT\x1b[0m \x1b[32m'x'\x1b[0m \x1b[90m-- c\x1b[0m");
    }
}
