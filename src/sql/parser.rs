//! SQL text to statements: sqlparser's generic dialect, plus DataFusion's
//! `CREATE EXTERNAL TABLE .. STORED AS .. LOCATION .. [OPTIONS (..)]`,
//! which sqlparser does not parse in that form.

use sqlparser::ast::{ColumnDef, Ident, ObjectName, Statement};
use sqlparser::dialect::GenericDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

use crate::error::{Error, Result};

/// `CREATE EXTERNAL TABLE`
#[derive(Clone, Debug, PartialEq)]
pub struct CreateExternalTable {
    /// Table name.
    pub name: ObjectName,
    /// Declared columns (empty: infer from the files).
    pub columns: Vec<ColumnDef>,
    /// `PARQUET`, `CSV`, `JSON`, ...
    pub file_type: String,
    /// File, directory or glob.
    pub location: String,
    /// `OPTIONS ('key' 'value', ...)`, keys lower-cased.
    pub options: Vec<(String, String)>,
    /// `OR REPLACE`
    pub or_replace: bool,
    /// `IF NOT EXISTS`
    pub if_not_exists: bool,
}

/// A parsed statement.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum FlintStatement {
    /// Anything sqlparser understands.
    Sql(Statement),
    /// `CREATE EXTERNAL TABLE`
    CreateExternalTable(CreateExternalTable),
}

fn syntax_error(e: ParserError) -> Error {
    let msg = match e {
        ParserError::ParserError(m) | ParserError::TokenizerError(m) => m,
        ParserError::RecursionLimitExceeded => "the statement is nested too deeply".to_string(),
    };
    Error::Plan {
        message: format!("syntax error: {msg}"),
    }
}

/// Parses one or more `;`-separated statements.
pub fn parse_sql(sql: &str) -> Result<Vec<FlintStatement>> {
    let dialect = GenericDialect {};
    let mut parser = Parser::new(&dialect).try_with_sql(sql).map_err(syntax_error)?;
    let mut out = Vec::new();
    loop {
        while parser.consume_token(&Token::SemiColon) {}
        if parser.peek_token().token == Token::EOF {
            break;
        }
        if is_external_table(&parser) {
            out.push(FlintStatement::CreateExternalTable(
                parse_external_table(&mut parser).map_err(syntax_error)?,
            ));
        } else {
            out.push(FlintStatement::Sql(parser.parse_statement().map_err(syntax_error)?));
        }
        match parser.peek_token().token {
            Token::SemiColon | Token::EOF => {}
            _ => {
                let t = parser.peek_token();
                return Err(syntax_error(ParserError::ParserError(format!(
                    "Expected: end of statement, found: {} at {}",
                    t.token, t.span.start
                ))));
            }
        }
    }
    Ok(out)
}

fn is_external_table(p: &Parser) -> bool {
    let toks: [Token; 4] = std::array::from_fn(|i| p.peek_nth_token(i).token);
    let kw = |t: &Token, k: Keyword| matches!(t, Token::Word(w) if w.keyword == k);
    kw(&toks[0], Keyword::CREATE)
        && (kw(&toks[1], Keyword::EXTERNAL)
            || (kw(&toks[1], Keyword::OR) && kw(&toks[2], Keyword::REPLACE) && kw(&toks[3], Keyword::EXTERNAL)))
}

fn parse_external_table(p: &mut Parser) -> std::result::Result<CreateExternalTable, ParserError> {
    p.expect_keyword(Keyword::CREATE)?;
    let or_replace = p.parse_keywords(&[Keyword::OR, Keyword::REPLACE]);
    p.expect_keywords(&[Keyword::EXTERNAL, Keyword::TABLE])?;
    let if_not_exists = p.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    let name = p.parse_object_name(false)?;
    let (columns, _constraints) = if p.peek_token().token == Token::LParen {
        p.parse_columns()?
    } else {
        (Vec::new(), Vec::new())
    };
    let mut file_type = None;
    let mut location = None;
    let mut options = Vec::new();
    loop {
        if p.parse_keywords(&[Keyword::STORED, Keyword::AS]) {
            file_type = Some(p.parse_identifier()?.value.to_uppercase());
        } else if p.parse_keyword(Keyword::LOCATION) {
            location = Some(p.parse_literal_string()?);
        } else if p.parse_keyword(Keyword::OPTIONS) {
            p.expect_token(&Token::LParen)?;
            loop {
                let key = p.parse_literal_string()?;
                let _ = p.consume_token(&Token::Eq);
                let value = match p.next_token().token {
                    Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => s,
                    Token::Number(n, _) => n,
                    Token::Word(w) => w.value,
                    other => {
                        return Err(ParserError::ParserError(format!(
                            "Expected: an option value, found: {other}"
                        )));
                    }
                };
                options.push((key.to_lowercase(), value));
                if !p.consume_token(&Token::Comma) {
                    break;
                }
            }
            p.expect_token(&Token::RParen)?;
        } else if p.parse_keywords(&[Keyword::WITH, Keyword::HEADER, Keyword::ROW]) {
            options.push(("header".into(), "true".into()));
        } else if p.parse_keyword(Keyword::DELIMITER) {
            options.push(("delimiter".into(), p.parse_literal_string()?));
        } else {
            break;
        }
    }
    let file_type = file_type.ok_or_else(|| ParserError::ParserError("Expected: STORED AS <format>".into()))?;
    let location = location.ok_or_else(|| ParserError::ParserError("Expected: LOCATION '<path>'".into()))?;
    Ok(CreateExternalTable {
        name,
        columns,
        file_type,
        location,
        options,
        or_replace,
        if_not_exists,
    })
}

/// The identifier as Flint stores it: unquoted names are lower-cased.
pub fn normalize_ident(id: &Ident) -> String {
    if id.quote_style.is_some() {
        id.value.clone()
    } else {
        id.value.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_table_and_regular_statements() {
        let s = parse_sql(
            "CREATE EXTERNAL TABLE t (a INT) STORED AS CSV LOCATION 'x.csv' OPTIONS ('header' 'true', 'delimiter' '|'); SELECT 1;",
        )
        .unwrap();
        assert_eq!(s.len(), 2);
        let FlintStatement::CreateExternalTable(t) = &s[0] else {
            panic!("{s:?}")
        };
        assert_eq!(t.file_type, "CSV");
        assert_eq!(
            t.options,
            vec![("header".into(), "true".into()), ("delimiter".into(), "|".into())]
        );
        assert_eq!(t.columns.len(), 1);
    }

    #[test]
    fn syntax_errors_name_the_place() {
        let e = parse_sql("SELECT a FROM t WHERE").unwrap_err().to_string();
        assert!(e.starts_with("syntax error"), "{e}");
        let e = parse_sql("SELECT a\nFROM t WHERE x = = 1").unwrap_err().to_string();
        assert!(e.contains("Line: 2"), "{e}");
    }
}
