//! Fuzz target: any string escaped as a SOQL literal lexes back as exactly one string literal
//! with the same value, and as a LIKE literal matches only itself — the injection-proofing
//! promise of the builder.

#![no_main]

use libfuzzer_sys::fuzz_target;
use salesforce_core::soql::MAX_QUERY_CHARS;
use salesforce_core::soql::escape::{escape_like_literal, escape_string_literal};
use salesforce_core::soql::lexer::{TokenKind, tokenize};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else { return };
    let escaped = escape_string_literal(value);
    let Ok(tokens) = tokenize(&escaped) else {
        // Only a literal longer than the query limit may be refused.
        assert!(escaped.chars().count() > MAX_QUERY_CHARS, "escaped literal refused");
        return;
    };
    let kinds: Vec<&TokenKind> = tokens.iter().map(|t| &t.kind).filter(|k| !matches!(k, TokenKind::Eof)).collect();
    match kinds.as_slice() {
        [TokenKind::String(literal)] => assert_eq!(literal.to_text(), value),
        other => panic!("escaped literal lexed as {other:?}"),
    }
    if let Ok(tokens) = tokenize(&escape_like_literal(value)) {
        if let Some(TokenKind::String(literal)) = tokens.first().map(|t| &t.kind) {
            assert!(literal.to_like_pattern().matches(value), "a LIKE literal must match its own text");
        }
    }
});
