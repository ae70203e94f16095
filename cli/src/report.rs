//! Error reports that point into the script: `file:line:column: error:
//! message`, then the line with a caret under the column. Flint's parser
//! and binder name places inside one statement (`Line: L, Column: C` or
//! `at line L, column C`); they are moved by the statement's start so they
//! name the place in the file.

use crate::split::{LineIndex, Pos};

/// Where a statement came from.
#[derive(Clone, Copy, Debug)]
pub struct Source<'a> {
    /// File name, `<command>`, `<stdin>`; `None` in the REPL.
    pub name: Option<&'a str>,
    /// The whole text the statement is part of.
    pub text: &'a str,
}

/// An error message with the position it refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    /// The message, without the statement-relative position.
    pub message: String,
    /// The position in the source.
    pub pos: Pos,
    /// Whether the error named a place (otherwise `pos` is the statement's
    /// start and no caret is drawn).
    pub precise: bool,
}

/// Finds where in the source an error about `statement` (starting at
/// `start`) refers to.
pub fn locate(message: &str, statement: &str, start: Pos) -> Located {
    if let Some((line, column, cleaned)) = inner_position(message) {
        return Located {
            message: cleaned,
            pos: shift(start, line, column),
            precise: true,
        };
    }
    if message.contains("found: EOF") {
        // The parser ran out of tokens: point just past the statement.
        let end = LineIndex::new(statement).pos(statement.len());
        return Located {
            message: message.to_string(),
            pos: shift(start, end.line, end.column),
            precise: true,
        };
    }
    Located {
        message: message.to_string(),
        pos: start,
        precise: false,
    }
}

/// A position inside a statement made relative to the source.
fn shift(start: Pos, line: usize, column: usize) -> Pos {
    if line <= 1 {
        Pos {
            line: start.line,
            column: start.column + column.saturating_sub(1),
        }
    } else {
        Pos {
            line: start.line + line - 1,
            column,
        }
    }
}

/// `(line, column, message without it)` from `Line: L, Column: C` or
/// `line L, column C`, with a leading ` at` removed too.
fn inner_position(message: &str) -> Option<(usize, usize, String)> {
    for (line_word, column_word) in [("Line: ", ", Column: "), ("line ", ", column ")] {
        let Some(at) = message.find(line_word) else { continue };
        let rest = &message[at + line_word.len()..];
        let (line, rest) = number(rest)?;
        let Some(rest) = rest.strip_prefix(column_word) else {
            continue;
        };
        let (column, rest) = number(rest)?;
        let mut head = message[..at].trim_end();
        while let Some(h) = head.strip_suffix(" at") {
            head = h.trim_end();
        }
        let cleaned = format!("{head}{rest}");
        return Some((line, column, cleaned));
    }
    None
}

fn number(s: &str) -> Option<(usize, &str)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    Some((s[..digits].parse().ok()?, &s[digits..]))
}

/// The report: a header line, then (for a precise position) the source
/// line with a caret under the column.
pub fn render(source: Source, located: &Located) -> String {
    let Pos { line, column } = located.pos;
    let mut out = match source.name {
        Some(name) => format!("{name}:{line}:{column}: error: {}\n", located.message),
        None => format!("Error: {}\n", located.message),
    };
    if located.precise
        && let Some(text) = source.text.lines().nth(line - 1)
    {
        let gutter = line.to_string();
        let pad = " ".repeat(gutter.len());
        let text = text.replace('\t', " ");
        let caret = " ".repeat(column.saturating_sub(1));
        out.push_str(&format!("{gutter} | {text}\n{pad} | {caret}^\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: Pos = Pos { line: 3, column: 5 };

    #[test]
    fn parser_positions_move_by_the_statement_start() {
        let l = locate("syntax error: Expected: x, found: y at Line: 1, Column: 8", "", START);
        assert_eq!(l.pos, Pos { line: 3, column: 12 });
        assert_eq!(l.message, "syntax error: Expected: x, found: y");
        let l = locate("column 'z' not found at line 2, column 7; did you mean 'y'?", "", START);
        assert_eq!(l.pos, Pos { line: 4, column: 7 });
        assert_eq!(l.message, "column 'z' not found; did you mean 'y'?");
    }

    #[test]
    fn eof_points_past_the_statement() {
        let l = locate(
            "syntax error: Expected: an expression, found: EOF",
            "SELECT a\nWHERE",
            START,
        );
        assert_eq!(l.pos, Pos { line: 4, column: 6 });
    }

    #[test]
    fn other_errors_name_the_statement() {
        let l = locate("division by zero", "SELECT 1/0", START);
        assert_eq!(l.pos, START);
        assert!(!l.precise);
    }

    #[test]
    fn caret_under_the_column() {
        let text = "SELECT 1;\n\nSELECT a FROM t WHERE\n";
        let l = locate(
            "syntax error: found: EOF",
            "SELECT a FROM t WHERE",
            Pos { line: 3, column: 1 },
        );
        let r = render(
            Source {
                name: Some("job.sql"),
                text,
            },
            &l,
        );
        assert_eq!(
            r,
            "job.sql:3:22: error: syntax error: found: EOF\n3 | SELECT a FROM t WHERE\n  |                      ^\n"
        );
    }
}
