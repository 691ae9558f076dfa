//! The SOQL parser: recursive descent from tokens to a [`Query`].
//!
//! Grammar (keywords case-insensitive):
//! ```text
//! query     := SELECT item ("," item)* FROM name [alias] [WHERE cond] [GROUP BY path ("," path)*]
//!              [HAVING cond] [ORDER BY order ("," order)*] [LIMIT int] [OFFSET int]
//! item      := path | "(" query ")" | agg [alias] | COUNT "(" ")"
//! agg       := (COUNT | COUNT_DISTINCT | SUM | AVG | MIN | MAX) "(" path ")"
//! cond      := unary (AND unary)* | unary (OR unary)*      -- mixing needs parentheses
//! unary     := NOT unary | "(" cond ")" | simple
//! simple    := operand ("=" | "!=" | "<>" | "<" | "<=" | ">" | ">=") value
//!            | operand LIKE string
//!            | path [NOT] IN "(" value ("," value)* ")"
//!            | path (INCLUDES | EXCLUDES) "(" string ("," string)* ")"
//! operand   := path | agg                                   -- aggregates only in HAVING
//! order     := operand [ASC | DESC] [NULLS (FIRST | LAST)]
//! value     := string | number | date | datetime | TRUE | FALSE | NULL | dateliteral [":" int]
//! ```
//! Like Salesforce, `a AND b OR c` is refused (`unexpected token: 'OR'`): parentheses are required
//! when `AND` and `OR` meet at one level. `\%` and `\_` are only accepted in a `LIKE` pattern.
//! Nesting (parentheses, `NOT`, subqueries) is capped at [`MAX_NESTING`] levels.
//!
//! Not supported (refused with a syntax error): semi-joins (`IN (SELECT …)`), `TYPEOF`, `WITH`,
//! `USING SCOPE`, `FOR VIEW/UPDATE`, `GROUP BY ROLLUP/CUBE`, date and conversion functions
//! (`CALENDAR_YEAR()`, `toLabel()`, `FORMAT()`, `convertCurrency()`), bind variables.

use super::ast::{
    Aggregate, AggregateFunction, ComparisonOperator, Condition, FieldPath, From, Identifier,
    NullsOrder, Operand, OrderBy, Query, SelectItem, SoqlString, SortDirection, Value,
};
use super::date::{self, LiteralName};
use super::error::{Position, SoqlError, SyntaxError};
use super::ident;
use super::lexer::{Token, TokenKind, tokenize};
use super::{MAX_NESTING, MAX_OFFSET};

/// Parses one complete SOQL query; trailing text is an error.
///
/// ```
/// use salesforce_core::soql::parse;
/// let q = parse("SELECT Id FROM Account WHERE Name LIKE 'Acme%' LIMIT 10").unwrap();
/// assert_eq!(q.limit, Some(10));
/// assert!(parse("SELECT Id FROM Account WHERE a = 1 AND b = 2 OR c = 3").is_err());
/// ```
pub fn parse(query: &str) -> Result<Query, SoqlError> {
    let tokens = tokenize(query)?;
    let mut parser = Parser { tokens, index: 0 };
    let parsed = parser.query(0)?;
    parser.expect_eof()?;
    Ok(parsed)
}

struct Parser {
    tokens: Vec<Token>,
    index: usize,
}

/// Where a condition appears: aggregates are only allowed in `HAVING`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Clause {
    Where,
    Having,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.index)
    }

    fn peek_kind(&self) -> Option<&TokenKind> {
        self.peek().map(|t| &t.kind)
    }

    fn peek_kind_at(&self, ahead: usize) -> Option<&TokenKind> {
        self.tokens.get(self.index + ahead).map(|t| &t.kind)
    }

    fn advance(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.index).cloned();
        if token.as_ref().is_some_and(|t| t.kind != TokenKind::Eof) {
            self.index += 1;
        }
        token
    }

    fn position(&self) -> Position {
        self.peek()
            .map_or(Position { row: 1, column: 1 }, |t| t.position)
    }

    /// `unexpected token: 'x'` at the current token.
    fn unexpected(&self) -> SoqlError {
        match self.peek() {
            Some(t) if t.kind != TokenKind::Eof => {
                SyntaxError::new(format!("unexpected token: '{}'", t.text), t.position).into()
            }
            _ => SyntaxError::new("unexpected token: <EOF>", self.position()).into(),
        }
    }

    fn error_here(&self, message: impl Into<String>) -> SoqlError {
        SyntaxError::new(message, self.position()).into()
    }

    fn at_keyword(&self, keyword: &str) -> bool {
        self.keyword_at(0, keyword)
    }

    fn keyword_at(&self, ahead: usize, keyword: &str) -> bool {
        matches!(self.peek_kind_at(ahead), Some(TokenKind::Word(w)) if w.eq_ignore_ascii_case(keyword))
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let found = self.at_keyword(keyword);
        if found {
            self.advance();
        }
        found
    }

    fn expect_keyword(&mut self, keyword: &str) -> Result<(), SoqlError> {
        if self.eat_keyword(keyword) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn eat(&mut self, kind: &TokenKind) -> bool {
        let found = self.peek_kind() == Some(kind);
        if found {
            self.advance();
        }
        found
    }

    fn expect(&mut self, kind: &TokenKind) -> Result<(), SoqlError> {
        if self.eat(kind) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn expect_eof(&self) -> Result<(), SoqlError> {
        if self.peek_kind() == Some(&TokenKind::Eof) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn check_depth(&self, depth: usize) -> Result<(), SoqlError> {
        if depth > MAX_NESTING {
            Err(SoqlError::TooDeep {
                max: MAX_NESTING,
                position: self.position(),
            })
        } else {
            Ok(())
        }
    }

    fn query(&mut self, depth: usize) -> Result<Query, SoqlError> {
        self.check_depth(depth)?;
        self.expect_keyword("SELECT")?;
        let select = self.select_list(depth)?;
        self.expect_keyword("FROM")?;
        let object = self.name()?;
        let alias = self.optional_alias()?;
        let where_ = if self.eat_keyword("WHERE") {
            Some(self.condition(depth + 1, Clause::Where)?)
        } else {
            None
        };
        let mut group_by = Vec::new();
        if self.at_keyword("GROUP") && self.keyword_at(1, "BY") {
            self.advance();
            self.advance();
            loop {
                group_by.push(self.field_path()?);
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
        }
        let having = if self.eat_keyword("HAVING") {
            Some(self.condition(depth + 1, Clause::Having)?)
        } else {
            None
        };
        let mut order_by = Vec::new();
        if self.at_keyword("ORDER") && self.keyword_at(1, "BY") {
            self.advance();
            self.advance();
            loop {
                order_by.push(self.order_item()?);
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
        }
        let limit = if self.eat_keyword("LIMIT") {
            Some(self.unsigned()?)
        } else {
            None
        };
        let offset = if self.eat_keyword("OFFSET") {
            let offset = self.unsigned()?;
            if offset > MAX_OFFSET {
                return Err(SoqlError::OffsetOutOfRange {
                    offset,
                    max: MAX_OFFSET,
                });
            }
            Some(offset)
        } else {
            None
        };
        Ok(Query {
            select,
            from: From { object, alias },
            where_,
            group_by,
            having,
            order_by,
            limit,
            offset,
        })
    }

    fn select_list(&mut self, depth: usize) -> Result<Vec<SelectItem>, SoqlError> {
        let mut items = Vec::new();
        let mut count_all_at = None;
        loop {
            let position = self.position();
            let item = self.select_item(depth)?;
            if item == SelectItem::CountAll {
                count_all_at = Some(position);
            }
            items.push(item);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        if let Some(position) = count_all_at.filter(|_| items.len() > 1) {
            return Err(SyntaxError::new(
                "COUNT() must be the only element in the SELECT list",
                position,
            )
            .into());
        }
        Ok(items)
    }

    fn select_item(&mut self, depth: usize) -> Result<SelectItem, SoqlError> {
        if self.eat(&TokenKind::LParen) {
            let subquery = self.query(depth + 1)?;
            self.expect(&TokenKind::RParen)?;
            return Ok(SelectItem::Subquery(Box::new(subquery)));
        }
        if self.peek_kind_at(1) == Some(&TokenKind::LParen) {
            let function = self.function_name()?;
            self.expect(&TokenKind::LParen)?;
            if function == AggregateFunction::Count && self.eat(&TokenKind::RParen) {
                return Ok(SelectItem::CountAll);
            }
            let field = self.field_path()?;
            self.expect(&TokenKind::RParen)?;
            let alias = self.optional_alias()?;
            return Ok(SelectItem::Aggregate {
                aggregate: Aggregate { function, field },
                alias,
            });
        }
        Ok(SelectItem::Field(self.field_path()?))
    }

    fn function_name(&mut self) -> Result<AggregateFunction, SoqlError> {
        let found = match self.peek_kind() {
            Some(TokenKind::Word(w)) => AggregateFunction::from_name(w),
            _ => None,
        };
        match found {
            Some(function) => {
                self.advance();
                Ok(function)
            }
            None => match self.peek() {
                Some(Token {
                    kind: TokenKind::Word(w),
                    ..
                }) => Err(self.error_here(format!("unsupported function: '{w}'"))),
                _ => Err(self.unexpected()),
            },
        }
    }

    /// An aggregate call `FUNC(path)`.
    fn aggregate(&mut self) -> Result<Aggregate, SoqlError> {
        let function = self.function_name()?;
        self.expect(&TokenKind::LParen)?;
        let field = self.field_path()?;
        self.expect(&TokenKind::RParen)?;
        Ok(Aggregate { function, field })
    }

    /// A single undotted name.
    fn name(&mut self) -> Result<Identifier, SoqlError> {
        match self.peek_kind() {
            Some(TokenKind::Word(w)) if !w.contains('.') => {
                let identifier = self.identifier(w)?;
                self.advance();
                Ok(identifier)
            }
            _ => Err(self.unexpected()),
        }
    }

    fn identifier(&self, name: &str) -> Result<Identifier, SoqlError> {
        if ident::is_reserved_word(name) {
            return Err(self.unexpected());
        }
        Identifier::new(name).map_err(|e| match e {
            SoqlError::InvalidIdentifier { name, reason } => {
                self.error_here(format!("invalid identifier '{name}': {reason}"))
            }
            other => other,
        })
    }

    fn field_path(&mut self) -> Result<FieldPath, SoqlError> {
        let Some(TokenKind::Word(w)) = self.peek_kind() else {
            return Err(self.unexpected());
        };
        let segments = w
            .split('.')
            .map(|segment| self.identifier(segment))
            .collect::<Result<Vec<_>, _>>()?;
        let path = FieldPath::from_segments(segments).map_err(|e| match e {
            SoqlError::InvalidIdentifier { name, reason } => {
                self.error_here(format!("invalid identifier '{name}': {reason}"))
            }
            other => other,
        })?;
        self.advance();
        Ok(path)
    }

    /// An alias: a plain name that is not a reserved word. `GROUP` and `ORDER` are names too
    /// (standard objects), except where `BY` follows and they start a clause.
    fn optional_alias(&mut self) -> Result<Option<Identifier>, SoqlError> {
        let starts_clause =
            (self.at_keyword("GROUP") || self.at_keyword("ORDER")) && self.keyword_at(1, "BY");
        match self.peek_kind() {
            Some(TokenKind::Word(w))
                if !w.contains('.') && !ident::is_reserved_word(w) && !starts_clause =>
            {
                self.name().map(Some)
            }
            _ => Ok(None),
        }
    }

    fn order_item(&mut self) -> Result<OrderBy, SoqlError> {
        let key = self.operand(true)?;
        let direction = if self.eat_keyword("ASC") {
            Some(SortDirection::Asc)
        } else if self.eat_keyword("DESC") {
            Some(SortDirection::Desc)
        } else {
            None
        };
        let nulls = if self.eat_keyword("NULLS") {
            if self.eat_keyword("FIRST") {
                Some(NullsOrder::First)
            } else if self.eat_keyword("LAST") {
                Some(NullsOrder::Last)
            } else {
                return Err(self.unexpected());
            }
        } else {
            None
        };
        Ok(OrderBy {
            key,
            direction,
            nulls,
        })
    }

    fn operand(&mut self, allow_aggregate: bool) -> Result<Operand, SoqlError> {
        if self.peek_kind_at(1) == Some(&TokenKind::LParen)
            && matches!(self.peek_kind(), Some(TokenKind::Word(_)))
        {
            if !allow_aggregate {
                return Err(self.error_here(
                    "aggregate functions are only allowed in HAVING, ORDER BY and the SELECT list",
                ));
            }
            return Ok(Operand::Aggregate(self.aggregate()?));
        }
        Ok(Operand::Field(self.field_path()?))
    }

    fn unsigned(&mut self) -> Result<u64, SoqlError> {
        match self.peek_kind() {
            Some(TokenKind::Number(n)) => match n.as_u64() {
                Some(value) => {
                    self.advance();
                    Ok(value)
                }
                None => Err(self.error_here(format!(
                    "expected a non-negative integer, found '{}'",
                    n.text()
                ))),
            },
            _ => Err(self.unexpected()),
        }
    }

    fn condition(&mut self, depth: usize, clause: Clause) -> Result<Condition, SoqlError> {
        self.check_depth(depth)?;
        let first = self.unary(depth, clause)?;
        let connective = if self.at_keyword("AND") {
            "AND"
        } else if self.at_keyword("OR") {
            "OR"
        } else {
            return Ok(first);
        };
        let other = if connective == "AND" { "OR" } else { "AND" };
        let mut children = vec![first];
        while self.eat_keyword(connective) {
            children.push(self.unary(depth, clause)?);
            if self.at_keyword(other) {
                // Salesforce requires parentheses when AND and OR meet at one level.
                return Err(self.unexpected());
            }
        }
        Ok(if connective == "AND" {
            Condition::And(children)
        } else {
            Condition::Or(children)
        })
    }

    fn unary(&mut self, depth: usize, clause: Clause) -> Result<Condition, SoqlError> {
        self.check_depth(depth)?;
        if self.eat_keyword("NOT") {
            return Ok(Condition::Not(Box::new(self.unary(depth + 1, clause)?)));
        }
        if self.eat(&TokenKind::LParen) {
            let inner = self.condition(depth + 1, clause)?;
            self.expect(&TokenKind::RParen)?;
            return Ok(inner);
        }
        self.simple(clause)
    }

    fn simple(&mut self, clause: Clause) -> Result<Condition, SoqlError> {
        let operand = self.operand(clause == Clause::Having)?;
        let op = match self.peek_kind() {
            Some(TokenKind::Eq) => Some(ComparisonOperator::Eq),
            Some(TokenKind::Ne) => Some(ComparisonOperator::Ne),
            Some(TokenKind::Lt) => Some(ComparisonOperator::Lt),
            Some(TokenKind::Le) => Some(ComparisonOperator::Le),
            Some(TokenKind::Gt) => Some(ComparisonOperator::Gt),
            Some(TokenKind::Ge) => Some(ComparisonOperator::Ge),
            _ if self.at_keyword("LIKE") => Some(ComparisonOperator::Like),
            _ => None,
        };
        if let Some(op) = op {
            self.advance();
            let value = if op == ComparisonOperator::Like {
                Value::String(self.string(true)?)
            } else {
                self.value()?
            };
            return Ok(Condition::Compare {
                field: operand,
                op,
                value,
            });
        }
        // The list operators take a plain field.
        let Operand::Field(field) = operand else {
            return Err(self.unexpected());
        };
        let negated = self.at_keyword("NOT") && self.keyword_at(1, "IN");
        if negated {
            self.advance();
        }
        if self.eat_keyword("IN") {
            let values = self.list(Self::value)?;
            return Ok(Condition::In {
                field,
                values,
                negated,
            });
        }
        if self.eat_keyword("INCLUDES") {
            let values = self.list(|p| p.string(false))?;
            return Ok(Condition::Includes { field, values });
        }
        if self.eat_keyword("EXCLUDES") {
            let values = self.list(|p| p.string(false))?;
            return Ok(Condition::Excludes { field, values });
        }
        Err(self.unexpected())
    }

    /// `"(" item ("," item)* ")"`.
    fn list<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<T, SoqlError>,
    ) -> Result<Vec<T>, SoqlError> {
        self.expect(&TokenKind::LParen)?;
        if self.at_keyword("SELECT") {
            return Err(self.error_here("semi-join subqueries are not supported"));
        }
        let mut items = Vec::new();
        loop {
            items.push(item(self)?);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        self.expect(&TokenKind::RParen)?;
        Ok(items)
    }

    /// A string literal; `\%` and `\_` only when it is a `LIKE` pattern.
    fn string(&mut self, like: bool) -> Result<SoqlString, SoqlError> {
        match self.peek_kind() {
            Some(TokenKind::String(s)) => {
                if !like && s.has_escaped_wildcards() {
                    return Err(self.escaped_wildcard_error());
                }
                let s = s.clone();
                self.advance();
                Ok(s)
            }
            _ => Err(self.unexpected()),
        }
    }

    fn escaped_wildcard_error(&self) -> SoqlError {
        let text = self.peek().map(|t| t.text.as_str()).unwrap_or_default();
        let text: String = text.chars().take(200).collect();
        self.error_here(format!(
            "Invalid string literal {text}. \\% and \\_ are only allowed in a LIKE pattern"
        ))
    }

    fn value(&mut self) -> Result<Value, SoqlError> {
        let Some(kind) = self.peek_kind().cloned() else {
            return Err(self.unexpected());
        };
        let value = match kind {
            TokenKind::String(_) => return self.string(false).map(Value::String),
            TokenKind::Number(n) => Value::Number(n),
            TokenKind::Date(d) => Value::Date(d),
            TokenKind::DateTime(d) => Value::DateTime(d),
            TokenKind::Word(w) if w.eq_ignore_ascii_case("TRUE") => Value::Boolean(true),
            TokenKind::Word(w) if w.eq_ignore_ascii_case("FALSE") => Value::Boolean(false),
            TokenKind::Word(w) if w.eq_ignore_ascii_case("NULL") => Value::Null,
            TokenKind::Word(w) => return self.date_literal(&w),
            _ => return Err(self.unexpected()),
        };
        self.advance();
        Ok(value)
    }

    fn date_literal(&mut self, word: &str) -> Result<Value, SoqlError> {
        let Some(name) = date::lookup(word) else {
            return Err(self.unexpected());
        };
        self.advance();
        match name {
            LiteralName::Fixed(literal) => Ok(Value::DateLiteral(literal)),
            LiteralName::WithN(make) => {
                self.expect(&TokenKind::Colon)?;
                let n = self.unsigned_at_most(u64::from(u32::MAX))?;
                Ok(Value::DateLiteral(make(
                    u32::try_from(n).unwrap_or(u32::MAX),
                )))
            }
        }
    }

    fn unsigned_at_most(&mut self, max: u64) -> Result<u64, SoqlError> {
        let position = self.position();
        let n = self.unsigned()?;
        if n > max {
            return Err(SyntaxError::new(format!("number {n} is out of range"), position).into());
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soql::RelativeDate;

    fn field(p: &str) -> FieldPath {
        FieldPath::new(p).unwrap()
    }

    fn ident(n: &str) -> Identifier {
        Identifier::new(n).unwrap()
    }

    fn cmp(f: &str, op: ComparisonOperator, value: Value) -> Condition {
        Condition::Compare {
            field: Operand::Field(field(f)),
            op,
            value,
        }
    }

    fn num(n: &str) -> Value {
        Value::Number(super::super::ast::Number::parse(n).unwrap())
    }

    fn where_of(q: &str) -> Condition {
        parse(q).unwrap().where_.unwrap()
    }

    fn syntax(q: &str) -> (String, u32, u32) {
        match parse(q) {
            Err(SoqlError::Syntax(e)) => (e.message, e.position.row, e.position.column),
            other => panic!("expected a syntax error for {q:?}, got {other:?}"),
        }
    }

    #[test]
    fn minimal_query() {
        let q = parse("SELECT Id FROM Account").unwrap();
        assert_eq!(
            q,
            Query::new(vec![SelectItem::Field(field("Id"))], ident("Account"))
        );
    }

    #[test]
    fn keywords_are_case_insensitive() {
        let a = parse("select Id from Account where Name = 'x' order by Name desc nulls last limit 5 offset 2").unwrap();
        let b = parse("SELECT Id FROM Account WHERE Name = 'x' ORDER BY Name DESC NULLS LAST LIMIT 5 OFFSET 2").unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn full_query() {
        let q = parse(
            "SELECT Id, Account.Owner.Name, (SELECT LastName FROM Contacts WHERE Email != null LIMIT 5) \
             FROM Account a WHERE Industry = 'Healthcare' AND AnnualRevenue >= 1000000.50 \
             ORDER BY Name ASC NULLS FIRST, CreatedDate DESC LIMIT 100 OFFSET 2000",
        )
        .unwrap();
        assert_eq!(q.select.len(), 3);
        assert_eq!(q.select[1], SelectItem::Field(field("Account.Owner.Name")));
        let SelectItem::Subquery(sub) = &q.select[2] else {
            panic!()
        };
        assert_eq!(sub.from.object, ident("Contacts"));
        assert_eq!(sub.limit, Some(5));
        assert_eq!(
            sub.where_,
            Some(cmp("Email", ComparisonOperator::Ne, Value::Null))
        );
        assert_eq!(q.from.alias, Some(ident("a")));
        assert_eq!(
            q.where_,
            Some(Condition::And(vec![
                cmp(
                    "Industry",
                    ComparisonOperator::Eq,
                    Value::string("Healthcare")
                ),
                cmp("AnnualRevenue", ComparisonOperator::Ge, num("1000000.50")),
            ]))
        );
        assert_eq!(
            q.order_by,
            vec![
                OrderBy {
                    key: Operand::Field(field("Name")),
                    direction: Some(SortDirection::Asc),
                    nulls: Some(NullsOrder::First)
                },
                OrderBy {
                    key: Operand::Field(field("CreatedDate")),
                    direction: Some(SortDirection::Desc),
                    nulls: None
                },
            ]
        );
        assert_eq!((q.limit, q.offset), (Some(100), Some(2000)));
    }

    #[test]
    fn aggregates_group_by_having() {
        let q = parse(
            "SELECT LeadSource, COUNT(Name) total, max(Amount) FROM Lead \
             GROUP BY LeadSource HAVING COUNT(Name) > 100 ORDER BY COUNT(Name) DESC",
        )
        .unwrap();
        let count_name = Aggregate {
            function: AggregateFunction::Count,
            field: field("Name"),
        };
        assert_eq!(
            q.select,
            vec![
                SelectItem::Field(field("LeadSource")),
                SelectItem::Aggregate {
                    aggregate: count_name.clone(),
                    alias: Some(ident("total"))
                },
                SelectItem::Aggregate {
                    aggregate: Aggregate {
                        function: AggregateFunction::Max,
                        field: field("Amount")
                    },
                    alias: None
                },
            ]
        );
        assert_eq!(q.group_by, vec![field("LeadSource")]);
        assert_eq!(
            q.having,
            Some(Condition::Compare {
                field: Operand::Aggregate(count_name.clone()),
                op: ComparisonOperator::Gt,
                value: num("100")
            })
        );
        assert_eq!(q.order_by[0].key, Operand::Aggregate(count_name));
        assert_eq!(
            parse("SELECT COUNT() FROM Contact").unwrap().select,
            vec![SelectItem::CountAll]
        );
        assert_eq!(
            parse("SELECT COUNT_DISTINCT(Company) FROM Lead")
                .unwrap()
                .select[0],
            SelectItem::Aggregate {
                aggregate: Aggregate {
                    function: AggregateFunction::CountDistinct,
                    field: field("Company")
                },
                alias: None
            }
        );
    }

    #[test]
    fn group_and_order_are_object_names_too() {
        let q =
            parse("SELECT Name FROM Group WHERE Type = 'Queue' ORDER BY CreatedDate ASC").unwrap();
        assert_eq!(q.from.object, ident("Group"));
        assert_eq!(q.from.alias, None);
        let q = parse("SELECT Id FROM Order GROUP BY Status").unwrap();
        assert_eq!(q.from.object, ident("Order"));
        assert_eq!(q.group_by, vec![field("Status")]);
        let q = parse("SELECT COUNT(Id) Group FROM Order Order ORDER BY Order.Name").unwrap();
        assert_eq!(q.from.alias, Some(ident("Order")));
        assert_eq!(q.order_by[0].key, Operand::Field(field("Order.Name")));
    }

    #[test]
    fn values() {
        let table: &[(&str, Value)] = &[
            ("'x'", Value::string("x")),
            ("42", num("42")),
            ("-1.5", num("-1.5")),
            ("TRUE", Value::Boolean(true)),
            ("false", Value::Boolean(false)),
            ("null", Value::Null),
            (
                "2024-01-31",
                Value::Date(chrono::NaiveDate::from_ymd_opt(2024, 1, 31).unwrap()),
            ),
            (
                "2024-01-31T10:00:00Z",
                Value::DateTime(
                    chrono::DateTime::parse_from_rfc3339("2024-01-31T10:00:00Z").unwrap(),
                ),
            ),
            ("TODAY", Value::DateLiteral(RelativeDate::Today)),
            (
                "this_quarter",
                Value::DateLiteral(RelativeDate::ThisQuarter),
            ),
            (
                "LAST_N_DAYS:30",
                Value::DateLiteral(RelativeDate::LastNDays(30)),
            ),
            (
                "NEXT_N_DAYS : 7",
                Value::DateLiteral(RelativeDate::NextNDays(7)),
            ),
            (
                "LAST_N_MONTHS:0",
                Value::DateLiteral(RelativeDate::LastNMonths(0)),
            ),
        ];
        for (text, expected) in table {
            let q = format!("SELECT Id FROM Account WHERE F = {text}");
            assert_eq!(
                where_of(&q),
                cmp("F", ComparisonOperator::Eq, expected.clone()),
                "{text}"
            );
        }
    }

    #[test]
    fn operators_and_lists() {
        use ComparisonOperator::*;
        for (text, op) in [
            ("=", Eq),
            ("!=", Ne),
            ("<>", Ne),
            ("<", Lt),
            ("<=", Le),
            (">", Gt),
            (">=", Ge),
        ] {
            let q = format!("SELECT Id FROM Account WHERE N {text} 1");
            assert_eq!(where_of(&q), cmp("N", op, num("1")));
        }
        assert_eq!(
            where_of("SELECT Id FROM Lead WHERE Status IN ('Open', 'New')"),
            Condition::In {
                field: field("Status"),
                values: vec![Value::string("Open"), Value::string("New")],
                negated: false
            }
        );
        assert_eq!(
            where_of("SELECT Id FROM Lead WHERE Status NOT IN ('Closed')"),
            Condition::In {
                field: field("Status"),
                values: vec![Value::string("Closed")],
                negated: true
            }
        );
        assert_eq!(
            where_of("SELECT Id FROM Lead WHERE Interests__c INCLUDES ('a;b', 'c')"),
            Condition::Includes {
                field: field("Interests__c"),
                values: vec![SoqlString::new("a;b"), SoqlString::new("c")]
            }
        );
        assert_eq!(
            where_of("SELECT Id FROM Lead WHERE Interests__c excludes ('a')"),
            Condition::Excludes {
                field: field("Interests__c"),
                values: vec![SoqlString::new("a")]
            }
        );
        assert_eq!(
            where_of(r"SELECT Id FROM Lead WHERE Name LIKE '50\%%'"),
            Condition::Compare {
                field: Operand::Field(field("Name")),
                op: Like,
                value: Value::String(SoqlString::from_parts([
                    super::super::ast::StringPart::Text("50".into()),
                    super::super::ast::StringPart::EscapedPercent,
                    super::super::ast::StringPart::Text("%".into()),
                ]))
            }
        );
    }

    #[test]
    fn boolean_structure() {
        let a = || cmp("A", ComparisonOperator::Eq, num("1"));
        let b = || cmp("B", ComparisonOperator::Eq, num("2"));
        let c = || cmp("C", ComparisonOperator::Eq, num("3"));
        let base = "SELECT Id FROM X WHERE ";
        let table: Vec<(&str, Condition)> = vec![
            (
                "A = 1 AND B = 2 AND C = 3",
                Condition::And(vec![a(), b(), c()]),
            ),
            (
                "A = 1 OR B = 2 OR C = 3",
                Condition::Or(vec![a(), b(), c()]),
            ),
            (
                "(A = 1 AND B = 2) OR C = 3",
                Condition::Or(vec![Condition::And(vec![a(), b()]), c()]),
            ),
            (
                "A = 1 AND (B = 2 OR C = 3)",
                Condition::And(vec![a(), Condition::Or(vec![b(), c()])]),
            ),
            ("NOT A = 1", Condition::Not(Box::new(a()))),
            (
                "NOT A = 1 AND B = 2",
                Condition::And(vec![Condition::Not(Box::new(a())), b()]),
            ),
            (
                "NOT (A = 1 OR B = 2)",
                Condition::Not(Box::new(Condition::Or(vec![a(), b()]))),
            ),
            (
                "A = 1 AND NOT B = 2",
                Condition::And(vec![a(), Condition::Not(Box::new(b()))]),
            ),
            ("((A = 1))", a()),
            (
                "(A = 1 AND B = 2) AND C = 3",
                Condition::And(vec![Condition::And(vec![a(), b()]), c()]),
            ),
        ];
        for (text, expected) in table {
            assert_eq!(where_of(&format!("{base}{text}")), expected, "{text}");
        }
    }

    #[test]
    fn syntax_errors() {
        let table: &[(&str, &str, u32, u32)] = &[
            ("", "unexpected token: <EOF>", 1, 1),
            ("SELECT", "unexpected token: <EOF>", 1, 7),
            ("SELECT Id", "unexpected token: <EOF>", 1, 10),
            ("SELECT Id FROM", "unexpected token: <EOF>", 1, 15),
            ("SELECT FROM Account", "unexpected token: 'FROM'", 1, 8),
            ("SELECT Id, FROM Account", "unexpected token: 'FROM'", 1, 12),
            (
                "SELECT Id Name FROM Account",
                "unexpected token: 'Name'",
                1,
                11,
            ),
            ("SELECT Id FORM Account", "unexpected token: 'FORM'", 1, 11),
            (
                "SELECT Id FROM Account WHERE",
                "unexpected token: <EOF>",
                1,
                29,
            ),
            (
                "SELECT Id FROM Account WHERE A = 1 AND B = 2 OR C = 3",
                "unexpected token: 'OR'",
                1,
                46,
            ),
            (
                "SELECT Id FROM Account WHERE A = 1 OR B = 2 AND C = 3",
                "unexpected token: 'AND'",
                1,
                45,
            ),
            (
                "SELECT Id FROM Account WHERE (A = 1 OR B = 2 and C = 3)",
                "unexpected token: 'and'",
                1,
                46,
            ),
            (
                "SELECT Id FROM Account WHERE A = 1 B = 2",
                "unexpected token: 'B'",
                1,
                36,
            ),
            (
                "SELECT Id FROM Account WHERE A = 1)",
                "unexpected token: ')'",
                1,
                35,
            ),
            (
                "SELECT Id FROM Account WHERE (A = 1",
                "unexpected token: <EOF>",
                1,
                36,
            ),
            (
                "SELECT Id FROM Account WHERE A =",
                "unexpected token: <EOF>",
                1,
                33,
            ),
            (
                "SELECT Id FROM Account WHERE A = B",
                "unexpected token: 'B'",
                1,
                34,
            ),
            (
                "SELECT Id FROM Account WHERE A LIKE 5",
                "unexpected token: '5'",
                1,
                37,
            ),
            (
                "SELECT Id FROM Account WHERE A IN ()",
                "unexpected token: ')'",
                1,
                36,
            ),
            (
                "SELECT Id FROM Account WHERE A IN 'x'",
                "unexpected token: ''x''",
                1,
                35,
            ),
            (
                "SELECT Id FROM Account WHERE A INCLUDES (1)",
                "unexpected token: '1'",
                1,
                42,
            ),
            (
                "SELECT Id FROM Account WHERE A NOT LIKE 'x'",
                "unexpected token: 'NOT'",
                1,
                32,
            ),
            (
                "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact)",
                "semi-join subqueries are not supported",
                1,
                37,
            ),
            (
                "SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS",
                "unexpected token: <EOF>",
                1,
                55,
            ),
            (
                "SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS:-1",
                "expected a non-negative integer, found '-1'",
                1,
                56,
            ),
            (
                "SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS:1.5",
                "expected a non-negative integer, found '1.5'",
                1,
                56,
            ),
            (
                "SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS:4294967296",
                "number 4294967296 is out of range",
                1,
                56,
            ),
            (
                "SELECT Id FROM Account WHERE CreatedDate = TODAY:1",
                "unexpected token: ':'",
                1,
                49,
            ),
            (
                "SELECT Id FROM Account WHERE CreatedDate = LAST_N_FORTNIGHTS:1",
                "unexpected token: 'LAST_N_FORTNIGHTS'",
                1,
                44,
            ),
            (
                "SELECT Id FROM Account WHERE Name = 'a\\%'",
                "Invalid string literal 'a\\%'. \\% and \\_ are only allowed in a LIKE pattern",
                1,
                37,
            ),
            (
                "SELECT Id FROM Account WHERE Name IN ('a\\_')",
                "Invalid string literal 'a\\_'. \\% and \\_ are only allowed in a LIKE pattern",
                1,
                39,
            ),
            (
                "SELECT Id FROM Account WHERE COUNT(Id) > 1",
                "aggregate functions are only allowed in HAVING, ORDER BY and the SELECT list",
                1,
                30,
            ),
            (
                "SELECT Id FROM Account GROUP BY Name HAVING COUNT(Id) IN (1)",
                "unexpected token: 'IN'",
                1,
                55,
            ),
            (
                "SELECT Id FROM Account LIMIT",
                "unexpected token: <EOF>",
                1,
                29,
            ),
            (
                "SELECT Id FROM Account LIMIT -1",
                "expected a non-negative integer, found '-1'",
                1,
                30,
            ),
            (
                "SELECT Id FROM Account LIMIT 1.0",
                "expected a non-negative integer, found '1.0'",
                1,
                30,
            ),
            (
                "SELECT Id FROM Account LIMIT 'x'",
                "unexpected token: ''x''",
                1,
                30,
            ),
            (
                "SELECT Id FROM Account LIMIT 99999999999999999999",
                "expected a non-negative integer, found '99999999999999999999'",
                1,
                30,
            ),
            (
                "SELECT Id FROM Account OFFSET 1 LIMIT 1",
                "unexpected token: 'LIMIT'",
                1,
                33,
            ),
            (
                "SELECT Id FROM Account LIMIT 1 LIMIT 1",
                "unexpected token: 'LIMIT'",
                1,
                32,
            ),
            (
                "SELECT Id FROM Account ORDER BY Name NULLS",
                "unexpected token: <EOF>",
                1,
                43,
            ),
            (
                "SELECT Id FROM Account ORDER BY",
                "unexpected token: <EOF>",
                1,
                32,
            ),
            (
                "SELECT Id FROM Account ORDER Name",
                "unexpected token: 'Name'",
                1,
                30,
            ),
            (
                "SELECT Id FROM Account GROUP BY",
                "unexpected token: <EOF>",
                1,
                32,
            ),
            (
                "SELECT Id FROM Account WITH SECURITY_ENFORCED",
                "unexpected token: 'WITH'",
                1,
                24,
            ),
            (
                "SELECT Id FROM Account USING SCOPE mine",
                "unexpected token: 'USING'",
                1,
                24,
            ),
            (
                "SELECT Id FROM Account FOR VIEW",
                "unexpected token: 'FOR'",
                1,
                24,
            ),
            (
                "SELECT Id FROM Account; DELETE",
                "no viable alternative at character ';'",
                1,
                23,
            ),
            (
                "SELECT Id FROM Account SELECT Id FROM Account",
                "unexpected token: 'SELECT'",
                1,
                24,
            ),
            (
                "SELECT Id FROM Account.Name",
                "unexpected token: 'Account.Name'",
                1,
                16,
            ),
            (
                "SELECT Id FROM Account WHERE Name = 'x' Extra",
                "unexpected token: 'Extra'",
                1,
                41,
            ),
            (
                "SELECT COUNT(), Id FROM Account",
                "COUNT() must be the only element in the SELECT list",
                1,
                8,
            ),
            (
                "SELECT Id, COUNT() FROM Account",
                "COUNT() must be the only element in the SELECT list",
                1,
                12,
            ),
            ("SELECT SUM() FROM Account", "unexpected token: ')'", 1, 12),
            (
                "SELECT toLabel(Status) FROM Lead",
                "unsupported function: 'toLabel'",
                1,
                8,
            ),
            (
                "SELECT COUNT(Id) AS n FROM Lead",
                "unexpected token: 'n'",
                1,
                21,
            ),
            (
                "SELECT COUNT(Id) FROM FROM Lead",
                "unexpected token: 'FROM'",
                1,
                23,
            ),
            ("SELECT Id FROM Account a b", "unexpected token: 'b'", 1, 26),
            (
                "SELECT Name__x__y FROM Account",
                "invalid identifier 'Name__x__y': `__` is only allowed before a suffix such as `__c` or `__r`",
                1,
                8,
            ),
            (
                "SELECT A.B.C.D.E.F.G FROM Account",
                "invalid identifier 'A.B.C.D.E.F.G': relationship path has more than five levels",
                1,
                8,
            ),
            (
                "SELECT _Id FROM Account",
                "invalid identifier '_Id': each part must start with a letter (no leading, trailing or triple underscores)",
                1,
                8,
            ),
            (
                "SELECT Id FROM Account WHERE Name.From = 1",
                "unexpected token: 'Name.From'",
                1,
                30,
            ),
            (
                "SELECT (SELECT Id FROM Contacts FROM Account",
                "unexpected token: 'FROM'",
                1,
                33,
            ),
            (
                "SELECT Id FROM Account WHERE NOT",
                "unexpected token: <EOF>",
                1,
                33,
            ),
        ];
        let mismatches: Vec<String> = table
            .iter()
            .filter(|(query, message, row, column)| {
                syntax(query) != ((*message).to_owned(), *row, *column)
            })
            .map(|(query, ..)| format!("{query}\n  got {:?}", syntax(query)))
            .collect();
        assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    }

    #[test]
    fn offset_limit_is_a_typed_error() {
        assert_eq!(
            parse("SELECT Id FROM Account OFFSET 2001"),
            Err(SoqlError::OffsetOutOfRange {
                offset: 2001,
                max: 2000
            })
        );
        assert_eq!(
            parse("SELECT Id FROM Account LIMIT 10 OFFSET 2000")
                .unwrap()
                .offset,
            Some(2000)
        );
        assert!(matches!(
            parse("SELECT Id, (SELECT Id FROM Contacts OFFSET 5000) FROM Account"),
            Err(SoqlError::OffsetOutOfRange { offset: 5000, .. })
        ));
    }

    #[test]
    fn nesting_is_capped_without_overflowing_the_stack() {
        let deep = |n: usize| {
            format!(
                "SELECT Id FROM Account WHERE {}A = 1{}",
                "(".repeat(n),
                ")".repeat(n)
            )
        };
        assert!(parse(&deep(40)).is_ok());
        assert!(matches!(parse(&deep(100)), Err(SoqlError::TooDeep { .. })));
        assert!(matches!(
            parse(&deep(40_000)),
            Err(SoqlError::TooDeep { .. })
        ));
        let nots = format!(
            "SELECT Id FROM Account WHERE {}A = 1",
            "NOT ".repeat(20_000)
        );
        assert!(matches!(parse(&nots), Err(SoqlError::TooDeep { .. })));
        let subqueries = format!(
            "SELECT {}Id{} FROM Account",
            "(SELECT ".repeat(5_000),
            " FROM C)".repeat(5_000)
        );
        assert!(matches!(parse(&subqueries), Err(SoqlError::TooDeep { .. })));
    }

    #[test]
    fn error_display_matches_salesforce() {
        let q = "SELECT Id FROM Account WHERE A = 1 AND B = 2 OR C = 3";
        let SoqlError::Syntax(e) = parse(q).unwrap_err() else {
            panic!()
        };
        assert_eq!(
            e.to_string(),
            "ERROR at Row:1:Column:46\nunexpected token: 'OR'"
        );
        assert_eq!(
            e.salesforce_message(q),
            format!(
                "\n{q}\n{}^\nERROR at Row:1:Column:46\nunexpected token: 'OR'",
                " ".repeat(45)
            )
        );
    }
}
