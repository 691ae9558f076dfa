//! The SOQL grammar: lexer, parser, syntax tree, printer and string-literal escaping.
