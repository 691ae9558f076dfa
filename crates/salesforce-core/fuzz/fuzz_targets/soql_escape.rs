//! Fuzz target: any string escaped as a SOQL literal lexes back as exactly one string literal
//! with the same value, parses back (inside a query, through the full parser) to the same value,
//! and as a LIKE literal matches itself; a query built around the value (as the builder does)
//! prints and parses back to the same tree — the injection-proofing promise of the builder.

#![no_main]

use libfuzzer_sys::fuzz_target;
use salesforce_core::soql::escape::{contains_pattern, escape_like_literal, escape_string_literal};
use salesforce_core::soql::lexer::{TokenKind, tokenize};
use salesforce_core::soql::{
    self, ComparisonOperator, Condition, FieldPath, Identifier, MAX_QUERY_CHARS, Operand, Query,
    SelectItem, SoqlString, Value,
};

/// The `WHERE Name <op> <literal>` query around a literal.
fn query_text(op: &str, literal: &str) -> String {
    format!("SELECT Id FROM Account WHERE Name {op} {literal}")
}

/// The `Compare` condition a parsed `WHERE` must hold.
fn compare(op: ComparisonOperator, value: SoqlString) -> Condition {
    Condition::Compare {
        field: Operand::Field(FieldPath::new("Name").expect("field")),
        op,
        value: Value::String(value),
    }
}

/// Parses `text`; only a query longer than the limit may be refused.
fn parse_within_limit(text: &str) -> Option<Query> {
    match soql::parse(text) {
        Ok(query) => Some(query),
        Err(error) => {
            assert!(text.chars().count() > MAX_QUERY_CHARS, "{error}: {text}");
            None
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };

    // The lexer reads the escaped literal back as one token with the same value.
    let escaped = escape_string_literal(value);
    let Ok(tokens) = tokenize(&escaped) else {
        assert!(
            escaped.chars().count() > MAX_QUERY_CHARS,
            "escaped literal refused"
        );
        return;
    };
    let kinds: Vec<&TokenKind> = tokens
        .iter()
        .map(|t| &t.kind)
        .filter(|k| !matches!(k, TokenKind::Eof))
        .collect();
    match kinds.as_slice() {
        [TokenKind::String(literal)] => {
            assert_eq!(literal, &SoqlString::new(value));
            assert_eq!(literal.to_text(), value);
        }
        other => panic!("escaped literal lexed as {other:?}"),
    }

    // The parser reads it back as the comparison value, with nothing of it leaking outside.
    if let Some(query) = parse_within_limit(&query_text("=", &escaped)) {
        assert_eq!(
            query.where_,
            Some(compare(ComparisonOperator::Eq, SoqlString::new(value)))
        );
    }

    // A LIKE literal parses back to the same pattern, which matches the value itself.
    let like = escape_like_literal(value);
    if let Some(query) = parse_within_limit(&query_text("LIKE", &like)) {
        let pattern = SoqlString::like_literal(value);
        assert!(
            pattern.to_like_pattern().matches(value),
            "a LIKE literal must match its own text"
        );
        assert_eq!(pattern.to_text(), value);
        assert_eq!(
            query.where_,
            Some(compare(ComparisonOperator::Like, pattern))
        );
    }

    // A contains pattern parses back and matches any text around the value.
    if let Some(query) = parse_within_limit(&query_text("LIKE", &contains_pattern(value))) {
        let pattern = SoqlString::contains(value);
        assert!(
            pattern.to_like_pattern().matches(&format!("x{value}y")),
            "contains pattern"
        );
        assert_eq!(
            query.where_,
            Some(compare(ComparisonOperator::Like, pattern))
        );
    }

    // A query built as a tree (the builder's way) prints and parses back to the same tree.
    let mut built = Query::new(
        vec![SelectItem::Field(FieldPath::new("Id").expect("field"))],
        Identifier::new("Account").expect("object"),
    );
    built.where_ = Some(compare(ComparisonOperator::Eq, SoqlString::new(value)));
    let printed = built.to_string();
    if let Some(reparsed) = parse_within_limit(&printed) {
        assert_eq!(reparsed, built, "{printed}");
    }
});
