//! The CSV dialect of Bulk API 2.0: RFC 4180 quoting with a configurable delimiter and line
//! ending. Input accepts LF and CRLF alike; output quotes every non-null field.

use std::fmt::Write as _;

/// The column delimiters Bulk API 2.0 accepts, by their job-info names.
pub const DELIMITERS: [(&str, char); 6] = [
    ("COMMA", ','),
    ("TAB", '\t'),
    ("PIPE", '|'),
    ("SEMICOLON", ';'),
    ("CARET", '^'),
    ("BACKQUOTE", '`'),
];

/// Why a CSV body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CsvError {
    /// A quoted field was not closed before the end of the data.
    UnterminatedQuote,
    /// A character other than a delimiter or line end followed a closing quote.
    StrayQuote,
}

/// Splits CSV text into records of fields. Blank lines are skipped.
pub fn parse(text: &str, delimiter: char) -> Result<Vec<Vec<String>>, CsvError> {
    let mut records = Vec::new();
    let mut record: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut in_quotes = false;
    let mut after_quote = false;
    let mut field_started = false;
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    in_quotes = false;
                    after_quote = true;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        if c == delimiter {
            record.push(std::mem::take(&mut field));
            after_quote = false;
            field_started = true;
        } else if c == '\n' || (c == '\r' && chars.peek() == Some(&'\n')) {
            if c == '\r' {
                chars.next();
            }
            if field_started || !field.is_empty() || after_quote || !record.is_empty() {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            after_quote = false;
            field_started = false;
        } else if after_quote {
            return Err(CsvError::StrayQuote);
        } else if c == '"' && field.is_empty() {
            in_quotes = true;
            field_started = true;
        } else {
            field.push(c);
            field_started = true;
        }
    }
    if in_quotes {
        return Err(CsvError::UnterminatedQuote);
    }
    if field_started || !field.is_empty() || after_quote || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

/// Appends one record: every `Some` field quoted (quotes doubled), `None` left empty.
pub fn write_record<'a>(
    out: &mut String,
    fields: impl IntoIterator<Item = Option<&'a str>>,
    delimiter: char,
    line_ending: &str,
) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(delimiter);
        }
        if let Some(text) = field {
            out.push('"');
            for c in text.chars() {
                if c == '"' {
                    out.push('"');
                }
                out.push(c);
            }
            out.push('"');
        }
    }
    let _ = write!(out, "{line_ending}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_keep_delimiters_quotes_and_newlines() {
        let text = "Name,Description\r\n\"Acme, Inc.\",\"Say \"\"hi\"\"\nthen go\"\nPlain,\n";
        let rows = parse(text, ',').unwrap();
        assert_eq!(
            rows,
            vec![
                vec!["Name".to_owned(), "Description".to_owned()],
                vec!["Acme, Inc.".to_owned(), "Say \"hi\"\nthen go".to_owned()],
                vec!["Plain".to_owned(), String::new()],
            ]
        );
    }

    #[test]
    fn broken_quotes_are_errors() {
        assert_eq!(parse("\"open", ','), Err(CsvError::UnterminatedQuote));
        assert_eq!(parse("\"a\"b", ','), Err(CsvError::StrayQuote));
    }

    #[test]
    fn written_records_parse_back() {
        let mut out = String::new();
        write_record(&mut out, [Some("a,b"), None, Some("q\"x\ny")], '|', "\r\n");
        assert_eq!(out, "\"a,b\"||\"q\"\"x\ny\"\r\n");
        assert_eq!(
            parse(&out, '|').unwrap(),
            vec![vec!["a,b".to_owned(), String::new(), "q\"x\ny".to_owned()]]
        );
    }
}
