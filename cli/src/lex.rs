//! A small SQL lexer that knows just enough to find statement boundaries:
//! quoted strings (`'..'`, with `''` inside), quoted identifiers (`".."`,
//! `` `..` ``), line comments (`--`) and block comments (`/* */`). The
//! splitter, the REPL's validator, its highlighter and its completer all
//! read the same tokens, so they agree on what is inside a quote.

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Spaces, tabs and newlines.
    Space,
    /// An unquoted word: a keyword or an identifier.
    Word,
    /// A numeric literal.
    Number,
    /// A string literal in single quotes.
    Str,
    /// An identifier in double quotes or backticks.
    QuotedIdent,
    /// `-- ...` up to the end of the line.
    LineComment,
    /// `/* ... */`
    BlockComment,
    /// `;`
    Semicolon,
    /// Any other single character.
    Punct,
}

/// One token: its kind and byte range in the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    /// What the token is.
    pub kind: Kind,
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset just past the last character.
    pub end: usize,
    /// False for a quote or block comment that the text ends inside.
    pub closed: bool,
}

impl Token {
    /// Whether the token is part of a statement (not space or comment).
    pub fn is_significant(&self) -> bool {
        !matches!(self.kind, Kind::Space | Kind::LineComment | Kind::BlockComment)
    }
}

/// Splits `text` into tokens that cover it completely.
pub fn tokenize(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let b = bytes[i];
        let next = bytes.get(i + 1).copied();
        let (kind, end, closed) = match b {
            b' ' | b'\t' | b'\n' | b'\r' => {
                let end = scan_while(bytes, i, |c| c.is_ascii_whitespace());
                (Kind::Space, end, true)
            }
            b'-' if next == Some(b'-') => {
                let end = memchr_from(bytes, i, b'\n').unwrap_or(bytes.len());
                (Kind::LineComment, end, true)
            }
            b'/' if next == Some(b'*') => match find(bytes, i + 2, b"*/") {
                Some(p) => (Kind::BlockComment, p + 2, true),
                None => (Kind::BlockComment, bytes.len(), false),
            },
            b'\'' => quoted(bytes, i, b'\'', Kind::Str),
            b'"' => quoted(bytes, i, b'"', Kind::QuotedIdent),
            b'`' => quoted(bytes, i, b'`', Kind::QuotedIdent),
            b';' => (Kind::Semicolon, i + 1, true),
            c if c.is_ascii_digit() => {
                let end = scan_while(bytes, i, |c| c.is_ascii_alphanumeric() || c == b'.' || c == b'_');
                (Kind::Number, end, true)
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                let end = scan_while(bytes, i, |c| {
                    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
                });
                (Kind::Word, end, true)
            }
            _ => {
                // One character, however many bytes it takes.
                let len = text[i..].chars().next().map_or(1, char::len_utf8);
                (Kind::Punct, i + len, true)
            }
        };
        out.push(Token {
            kind,
            start,
            end,
            closed,
        });
        i = end;
    }
    out
}

fn scan_while(bytes: &[u8], from: usize, f: impl Fn(u8) -> bool) -> usize {
    let mut i = from;
    while i < bytes.len() && f(bytes[i]) {
        i += 1;
    }
    i
}

fn memchr_from(bytes: &[u8], from: usize, needle: u8) -> Option<usize> {
    bytes[from..].iter().position(|&c| c == needle).map(|p| p + from)
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// A quoted token starting at `from`; a doubled quote stands for itself.
fn quoted(bytes: &[u8], from: usize, quote: u8, kind: Kind) -> (Kind, usize, bool) {
    let mut i = from + 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return (kind, i + 1, true);
        }
        i += 1;
    }
    (kind, bytes.len(), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<(Kind, &str)> {
        tokenize(s).into_iter().map(|t| (t.kind, &s[t.start..t.end])).collect()
    }

    #[test]
    fn quotes_and_comments_hide_semicolons() {
        let k = kinds("SELECT 'a;''b' -- c;\n/* d; */ \"e;\";");
        let semis = k.iter().filter(|(k, _)| *k == Kind::Semicolon).count();
        assert_eq!(semis, 1);
        assert!(k.contains(&(Kind::Str, "'a;''b'")));
        assert!(k.contains(&(Kind::LineComment, "-- c;")));
        assert!(k.contains(&(Kind::BlockComment, "/* d; */")));
        assert!(k.contains(&(Kind::QuotedIdent, "\"e;\"")));
    }

    #[test]
    fn unterminated_tokens_are_marked() {
        let t = tokenize("SELECT 'abc");
        assert!(!t.last().unwrap().closed);
        let t = tokenize("/* open");
        assert!(!t[0].closed);
    }

    #[test]
    fn multibyte_characters_stay_whole() {
        let k = kinds("é + ü€");
        assert_eq!(k[0], (Kind::Word, "é"));
        assert_eq!(k.last().unwrap().1, "ü€");
    }
}
