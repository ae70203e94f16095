//! Splits a script into statements on `;` outside quotes and comments,
//! remembering where each starts, so that an error can name
//! `file:line:column`. A line that starts with `\` or `.` where a statement
//! could start is a meta-command and ends at the end of its line.

use crate::lex::{Kind, Token, tokenize};

/// A 1-based line and column (in characters) in a script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    /// Line, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub column: usize,
}

/// One piece of a script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A SQL statement, without its `;` and without leading comments.
    Sql {
        /// The statement's text.
        text: String,
        /// Where its first character is.
        pos: Pos,
        /// Whether a `;` ended it (false for the script's last statement
        /// when the `;` is missing).
        terminated: bool,
    },
    /// A meta-command such as `\d lineitem` or `.mode csv`.
    Meta {
        /// The command line, trimmed.
        text: String,
        /// Where it starts.
        pos: Pos,
    },
}

/// Line starts of a text, to turn byte offsets into positions.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes the lines of `text`.
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { text, starts }
    }

    /// The position of byte offset `offset`.
    pub fn pos(&self, offset: usize) -> Pos {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let column = self.text.get(start..offset).map_or(1, |s| s.chars().count() + 1);
        Pos { line, column }
    }
}

/// Splits a script into statements and meta-commands, in order. Empty
/// statements (only spaces, comments or `;`) are skipped.
pub fn split(script: &str) -> Vec<Item> {
    let tokens = tokenize(script);
    let index = LineIndex::new(script);
    let mut items = Vec::new();
    // Significant tokens of the statement being read: first and last.
    let mut current: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i];
        if current.is_none() && is_meta_start(script, &t) {
            let end = script[t.start..].find('\n').map_or(script.len(), |p| t.start + p);
            items.push(Item::Meta {
                text: script[t.start..end].trim().to_string(),
                pos: index.pos(t.start),
            });
            // Skip the tokens of the command's line.
            while i < tokens.len() && tokens[i].start < end {
                i += 1;
            }
            continue;
        }
        match t.kind {
            Kind::Semicolon => {
                if let Some((s, e)) = current.take() {
                    items.push(sql(script, &index, s, e, true));
                }
            }
            _ if t.is_significant() => {
                current = Some(current.map_or((t.start, t.end), |(s, _)| (s, t.end)));
            }
            _ => {}
        }
        i += 1;
    }
    if let Some((s, e)) = current {
        items.push(sql(script, &index, s, e, false));
    }
    items
}

fn sql(script: &str, index: &LineIndex, start: usize, end: usize, terminated: bool) -> Item {
    Item::Sql {
        text: script[start..end].to_string(),
        pos: index.pos(start),
        terminated,
    }
}

fn is_meta_start(script: &str, t: &Token) -> bool {
    t.kind == Kind::Punct && matches!(&script[t.start..t.end], "\\" | ".")
}

/// Whether the REPL has a whole input: every statement ends with `;` (or
/// the input is a meta-command), and no quote or comment is left open.
pub fn is_complete(input: &str) -> bool {
    if tokenize(input).last().is_some_and(|t| !t.closed) {
        return false;
    }
    split(input)
        .iter()
        .all(|i| !matches!(i, Item::Sql { terminated: false, .. }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<(String, usize, usize)> {
        split(s)
            .into_iter()
            .map(|i| match i {
                Item::Sql { text, pos, .. } | Item::Meta { text, pos } => (text, pos.line, pos.column),
            })
            .collect()
    }

    #[test]
    fn statements_with_positions() {
        let s = "SELECT 1;\n  -- note\n  SELECT 'a;b'\n  FROM t;;\nSELECT 3";
        assert_eq!(
            texts(s),
            vec![
                ("SELECT 1".into(), 1, 1),
                ("SELECT 'a;b'\n  FROM t".into(), 3, 3),
                ("SELECT 3".into(), 5, 1),
            ]
        );
        assert!(matches!(split(s)[2], Item::Sql { terminated: false, .. }));
    }

    #[test]
    fn meta_commands_take_their_line() {
        let s = ".mode csv\nSELECT 1; \\timing off\n\\d t";
        assert_eq!(
            texts(s),
            vec![
                (".mode csv".into(), 1, 1),
                ("SELECT 1".into(), 2, 1),
                ("\\timing off".into(), 2, 11),
                ("\\d t".into(), 3, 1),
            ]
        );
        // A dot inside a statement is not a command.
        assert_eq!(texts("SELECT t\n.a FROM t").len(), 1);
    }

    #[test]
    fn columns_count_characters() {
        let s = "SELECT 'é';  SELECT 2";
        assert_eq!(texts(s)[1].2, 14);
    }

    #[test]
    fn completeness() {
        assert!(is_complete("SELECT 1;"));
        assert!(is_complete("SELECT 1; -- done"));
        assert!(is_complete("\\d"));
        assert!(is_complete(""));
        assert!(!is_complete("SELECT 1"));
        assert!(!is_complete("SELECT ';"));
        assert!(!is_complete("SELECT 1; SELECT 2"));
        assert!(!is_complete("/* SELECT 1;"));
    }
}
