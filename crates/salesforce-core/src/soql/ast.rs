//! The SOQL syntax tree: what the parser produces, what the printer writes, what the client's
//! builder assembles and what the sandbox evaluates.
//!
//! Structural types have public fields. The leaf types that end up as text in a query —
//! [`Identifier`], [`FieldPath`], [`Number`] and [`SoqlString`] — keep their contents private and
//! are only built through validating constructors, so no tree can print as injected SOQL.

use super::date::RelativeDate;
use super::error::SoqlError;
use super::ident;
use chrono::{DateTime, FixedOffset, NaiveDate};

/// A validated object, field, relationship or alias name (no dots); see [`ident`] for the shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identifier(String);

impl Identifier {
    /// Validates `name` as a single name.
    ///
    /// ```
    /// use salesforce_core::soql::Identifier;
    /// assert_eq!(Identifier::new("Invoice__c").unwrap().as_str(), "Invoice__c");
    /// assert!(Identifier::new("Name FROM User").is_err());
    /// ```
    pub fn new(name: &str) -> Result<Self, SoqlError> {
        ident::validate_name(name)?;
        Ok(Self(name.to_owned()))
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Case-insensitive comparison, the way Salesforce compares names.
    pub fn eq_ignore_case(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other)
    }
}

/// A field reference: one to [`ident::MAX_PATH_SEGMENTS`] names joined by dots. Every segment but
/// the last is a parent relationship (`Account.Owner.Name`); the first may also be the queried
/// object's name or alias, which only the evaluator can tell apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldPath {
    relationships: Vec<Identifier>,
    field: Identifier,
}

impl FieldPath {
    /// Parses and validates a dotted path.
    ///
    /// ```
    /// use salesforce_core::soql::FieldPath;
    /// let path = FieldPath::new("Account.Owner.Name").unwrap();
    /// assert_eq!(path.relationships().len(), 2);
    /// assert_eq!(path.field_name().as_str(), "Name");
    /// assert!(FieldPath::new("Account.").is_err());
    /// ```
    pub fn new(path: &str) -> Result<Self, SoqlError> {
        ident::validate_path(path)?;
        let segments = path
            .split('.')
            .map(Identifier::new)
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_segments(segments)
    }

    /// Builds a path from already-validated segments (one to [`ident::MAX_PATH_SEGMENTS`]).
    pub fn from_segments(mut segments: Vec<Identifier>) -> Result<Self, SoqlError> {
        if segments.len() > ident::MAX_PATH_SEGMENTS {
            return Err(SoqlError::InvalidIdentifier {
                name: segments
                    .iter()
                    .map(Identifier::as_str)
                    .collect::<Vec<_>>()
                    .join(".")
                    .chars()
                    .take(100)
                    .collect(),
                reason: "relationship path has more than five levels",
            });
        }
        match segments.pop() {
            Some(field) => Ok(Self {
                relationships: segments,
                field,
            }),
            None => Err(SoqlError::InvalidIdentifier {
                name: String::new(),
                reason: "empty field path",
            }),
        }
    }

    /// A single-segment path.
    pub fn from_identifier(field: Identifier) -> Self {
        Self {
            relationships: Vec::new(),
            field,
        }
    }

    /// The parent relationships before the field name (empty for a plain field).
    pub fn relationships(&self) -> &[Identifier] {
        &self.relationships
    }

    /// The last segment: the field name.
    pub fn field_name(&self) -> &Identifier {
        &self.field
    }

    /// The first segment: the first relationship (or object/alias prefix), or the field itself.
    pub fn first(&self) -> &Identifier {
        self.relationships.first().unwrap_or(&self.field)
    }

    /// All segments, first to last.
    pub fn segments(&self) -> impl Iterator<Item = &Identifier> {
        self.relationships
            .iter()
            .chain(std::iter::once(&self.field))
    }
}

/// One piece of a string literal's decoded value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StringPart {
    /// Ordinary characters. In a `LIKE` pattern, `%` and `_` here are wildcards.
    Text(String),
    /// `\%` in the source: a literal percent sign even inside a `LIKE` pattern.
    EscapedPercent,
    /// `\_` in the source: a literal underscore even inside a `LIKE` pattern.
    EscapedUnderscore,
}

/// The decoded value of a string literal, keeping `\%` and `\_` distinguishable from `%` and `_`
/// so that `LIKE` evaluation can tell a literal percent sign from a wildcard.
///
/// Invariant: no empty `Text` part and no two adjacent `Text` parts, so equal values are equal
/// trees.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct SoqlString {
    parts: Vec<StringPart>,
}

impl SoqlString {
    /// A plain string value, for `=`, `IN` and the like; `%` and `_` in it are ordinary characters
    /// outside `LIKE` (and wildcards if it is used as a `LIKE` pattern).
    pub fn new(text: &str) -> Self {
        let mut s = Self::default();
        s.push_text(text);
        s
    }

    /// A `LIKE` pattern that matches exactly `text` (case-insensitively): its `%` and `_` become
    /// `\%` and `\_`.
    ///
    /// ```
    /// use salesforce_core::soql::SoqlString;
    /// let p = SoqlString::like_literal("100%").to_like_pattern();
    /// assert!(p.matches("100%"));
    /// assert!(!p.matches("1000"));
    /// ```
    pub fn like_literal(text: &str) -> Self {
        let mut s = Self::default();
        s.push_like_literal(text);
        s
    }

    /// A `LIKE` pattern `%text%` that matches any value containing `text` (case-insensitively),
    /// with the user's own `%` and `_` taken literally.
    pub fn contains(text: &str) -> Self {
        let mut s = Self::new("%");
        s.push_like_literal(text);
        s.push_text("%");
        s
    }

    /// A `LIKE` pattern `text%` that matches values starting with `text`.
    pub fn starts_with(text: &str) -> Self {
        let mut s = Self::like_literal(text);
        s.push_text("%");
        s
    }

    /// Builds a value from parts, normalising adjacent and empty text parts.
    pub fn from_parts(parts: impl IntoIterator<Item = StringPart>) -> Self {
        let mut s = Self::default();
        for part in parts {
            s.push(part);
        }
        s
    }

    /// The parts (see the type's invariant).
    pub fn parts(&self) -> &[StringPart] {
        &self.parts
    }

    /// Whether the value contains `\%` or `\_`, which Salesforce only accepts in a `LIKE` pattern.
    pub fn has_escaped_wildcards(&self) -> bool {
        self.parts.iter().any(|p| !matches!(p, StringPart::Text(_)))
    }

    /// The value as plain text, reading `\%` as `%` and `\_` as `_` (which is what such a value
    /// means as a comparison value, were one ever allowed there).
    pub fn to_text(&self) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                StringPart::Text(t) => t.as_str(),
                StringPart::EscapedPercent => "%",
                StringPart::EscapedUnderscore => "_",
            })
            .collect()
    }

    /// The value read as a `LIKE` pattern.
    pub fn to_like_pattern(&self) -> super::like::LikePattern {
        super::like::LikePattern::from_soql_string(self)
    }

    pub(crate) fn push(&mut self, part: StringPart) {
        match part {
            StringPart::Text(t) => self.push_text(&t),
            other => self.parts.push(other),
        }
    }

    pub(crate) fn push_char(&mut self, c: char) {
        match self.parts.last_mut() {
            Some(StringPart::Text(t)) => t.push(c),
            _ => self.parts.push(StringPart::Text(c.to_string())),
        }
    }

    fn push_text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        match self.parts.last_mut() {
            Some(StringPart::Text(t)) => t.push_str(text),
            _ => self.parts.push(StringPart::Text(text.to_owned())),
        }
    }

    fn push_like_literal(&mut self, text: &str) {
        for c in text.chars() {
            match c {
                '%' => self.parts.push(StringPart::EscapedPercent),
                '_' => self.parts.push(StringPart::EscapedUnderscore),
                c => self.push_char(c),
            }
        }
    }
}

/// A numeric literal: its exact text (`-12.50`) and its value as `f64`.
///
/// The text always has the shape `-?[0-9]+(\.[0-9]+)?`.
#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    text: String,
    value: f64,
}

impl Number {
    /// Parses SOQL number text (`42`, `-3.5`); no exponent, no leading `+`, no bare `.5`.
    ///
    /// ```
    /// use salesforce_core::soql::Number;
    /// assert_eq!(Number::parse("-12.50").unwrap().value(), -12.5);
    /// assert!(Number::parse("1e3").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, SoqlError> {
        let digits = text.strip_prefix('-').unwrap_or(text);
        let (int, frac) = match digits.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (digits, None),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(int) || frac.is_some_and(|f| !all_digits(f)) {
            return Err(SoqlError::InvalidValue {
                reason: "a number is digits with an optional sign and decimal part",
            });
        }
        let value: f64 = text.parse().map_err(|_| SoqlError::InvalidValue {
            reason: "unparseable number",
        })?;
        if !value.is_finite() {
            return Err(SoqlError::InvalidValue {
                reason: "number out of range",
            });
        }
        Ok(Self {
            text: text.to_owned(),
            value,
        })
    }

    /// A number from an integer.
    pub fn from_i64(n: i64) -> Self {
        Self {
            text: n.to_string(),
            // Precision loss above 2^53 is inherent to the f64 view; the text stays exact.
            value: n as f64,
        }
    }

    /// A number from a float; refuses NaN and infinities, which SOQL cannot express.
    pub fn from_f64(n: f64) -> Result<Self, SoqlError> {
        if !n.is_finite() {
            return Err(SoqlError::InvalidValue {
                reason: "NaN and infinities have no SOQL literal",
            });
        }
        // Rust's Display for f64 never uses an exponent, so this is valid SOQL number text.
        Self::parse(&n.to_string())
    }

    /// The literal as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The literal's value.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// The value as a non-negative integer, if the text is plain digits that fit a `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        self.text.parse().ok()
    }
}

/// A literal on the right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `'text'`.
    String(SoqlString),
    /// `42`, `-3.5`.
    Number(Number),
    /// `TRUE` / `FALSE`.
    Boolean(bool),
    /// `NULL`.
    Null,
    /// `2024-05-29`. SOQL dates have four-digit years: a date outside 0000–9999 prints as text
    /// no parser accepts.
    Date(NaiveDate),
    /// `2024-05-29T10:00:00Z`, `2024-05-29T10:00:00.000+02:00`. Note that chrono's equality
    /// compares instants, so `…T10:00:00Z` equals `…T12:00:00+02:00`. As with dates, the year (in
    /// the value's own offset) must have four digits to print as valid SOQL.
    DateTime(DateTime<FixedOffset>),
    /// `TODAY`, `LAST_N_DAYS:30`, ….
    DateLiteral(RelativeDate),
}

impl Value {
    /// A plain string value.
    pub fn string(text: &str) -> Self {
        Self::String(SoqlString::new(text))
    }
}

/// An aggregate function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregateFunction {
    /// `COUNT(field)`: rows where the field is not null.
    Count,
    /// `COUNT_DISTINCT(field)`.
    CountDistinct,
    /// `SUM(field)`.
    Sum,
    /// `AVG(field)`.
    Avg,
    /// `MIN(field)`.
    Min,
    /// `MAX(field)`.
    Max,
}

impl AggregateFunction {
    /// The function's SOQL name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Count => "COUNT",
            Self::CountDistinct => "COUNT_DISTINCT",
            Self::Sum => "SUM",
            Self::Avg => "AVG",
            Self::Min => "MIN",
            Self::Max => "MAX",
        }
    }

    /// Looks up a function by name, case-insensitively.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Count,
            Self::CountDistinct,
            Self::Sum,
            Self::Avg,
            Self::Min,
            Self::Max,
        ]
        .into_iter()
        .find(|f| f.name().eq_ignore_ascii_case(name))
    }
}

/// An aggregate function applied to a field: `SUM(Amount)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Aggregate {
    /// The function.
    pub function: AggregateFunction,
    /// Its argument.
    pub field: FieldPath,
}

/// One element of the `SELECT` list.
#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    /// A field, possibly through parent relationships: `Account.Name`.
    Field(FieldPath),
    /// A child relationship subquery: `(SELECT Id FROM Contacts)`; its `from.object` is the child
    /// relationship name.
    Subquery(Box<Query>),
    /// An aggregate with an optional alias: `COUNT(Id) total`. Without an alias Salesforce names
    /// the result `expr0`, `expr1`, … in select-list order.
    Aggregate {
        /// The aggregate.
        aggregate: Aggregate,
        /// The alias, if given.
        alias: Option<Identifier>,
    },
    /// Bare `COUNT()`: the query returns only a row count. It is the only item in its list.
    CountAll,
}

/// The `FROM` clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct From {
    /// The object (or, in a subquery, the child relationship name).
    pub object: Identifier,
    /// An alias, as in `FROM Account a`.
    pub alias: Option<Identifier>,
}

/// What a condition or ordering refers to: a field, or (in `HAVING` and `ORDER BY`) an aggregate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Operand {
    /// A field.
    Field(FieldPath),
    /// An aggregate.
    Aggregate(Aggregate),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComparisonOperator {
    /// `=` (case-insensitive for text).
    Eq,
    /// `!=` or `<>`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `LIKE` (case-insensitive; `%` and `_` are wildcards).
    Like,
}

impl ComparisonOperator {
    /// The operator as the printer writes it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
            Self::Like => "LIKE",
        }
    }
}

/// A `WHERE` or `HAVING` condition.
///
/// The parser produces `And`/`Or` with at least two children; a tree built by hand with fewer
/// prints as text no parser accepts (an empty group prints as `()`).
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// All children hold.
    And(Vec<Condition>),
    /// At least one child holds.
    Or(Vec<Condition>),
    /// The child does not hold.
    Not(Box<Condition>),
    /// `field op value`.
    Compare {
        /// The left-hand side.
        field: Operand,
        /// The operator.
        op: ComparisonOperator,
        /// The right-hand side.
        value: Value,
    },
    /// `field IN (…)` or, when `negated`, `field NOT IN (…)`.
    In {
        /// The field.
        field: FieldPath,
        /// The candidate values (never empty when parsed).
        values: Vec<Value>,
        /// `NOT IN`.
        negated: bool,
    },
    /// `field INCLUDES ('a;b', 'c')` on a multi-select picklist: each string is a `;`-separated set
    /// of values that must all be selected; any one string matching is enough.
    Includes {
        /// The multi-select picklist field.
        field: FieldPath,
        /// The value sets.
        values: Vec<SoqlString>,
    },
    /// `field EXCLUDES (…)`: the negation of `INCLUDES`.
    Excludes {
        /// The multi-select picklist field.
        field: FieldPath,
        /// The value sets.
        values: Vec<SoqlString>,
    },
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortDirection {
    /// `ASC` (the default).
    Asc,
    /// `DESC`.
    Desc,
}

/// Where nulls sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NullsOrder {
    /// `NULLS FIRST` (the default for ascending order).
    First,
    /// `NULLS LAST` (the default for descending order).
    Last,
}

/// One `ORDER BY` key. Unset options are kept unset so the query prints as written; use
/// [`OrderBy::effective_direction`] and [`OrderBy::nulls_first`] for the semantics.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrderBy {
    /// What to sort by.
    pub key: Operand,
    /// `ASC`/`DESC`, if written.
    pub direction: Option<SortDirection>,
    /// `NULLS FIRST`/`NULLS LAST`, if written.
    pub nulls: Option<NullsOrder>,
}

impl OrderBy {
    /// The direction, defaulting to ascending.
    pub fn effective_direction(&self) -> SortDirection {
        self.direction.unwrap_or(SortDirection::Asc)
    }

    /// Whether nulls come first: as written, else first when ascending and last when descending.
    pub fn nulls_first(&self) -> bool {
        match self.nulls {
            Some(n) => n == NullsOrder::First,
            None => self.effective_direction() == SortDirection::Asc,
        }
    }
}

/// A whole SOQL query (or a child subquery).
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The `SELECT` list (never empty when parsed).
    pub select: Vec<SelectItem>,
    /// The `FROM` clause.
    pub from: From,
    /// The `WHERE` condition.
    pub where_: Option<Condition>,
    /// The `GROUP BY` fields.
    pub group_by: Vec<FieldPath>,
    /// The `HAVING` condition.
    pub having: Option<Condition>,
    /// The `ORDER BY` keys.
    pub order_by: Vec<OrderBy>,
    /// `LIMIT n`.
    pub limit: Option<u64>,
    /// `OFFSET n` (at most [`MAX_OFFSET`](super::MAX_OFFSET) when parsed).
    pub offset: Option<u64>,
}

impl Query {
    /// A query selecting `select` from `object`, with every other clause empty.
    pub fn new(select: Vec<SelectItem>, object: Identifier) -> Self {
        Self {
            select,
            from: From {
                object,
                alias: None,
            },
            where_: None,
            group_by: Vec::new(),
            having: None,
            order_by: Vec::new(),
            limit: None,
            offset: None,
        }
    }

    /// The child subqueries in the `SELECT` list.
    pub fn subqueries(&self) -> impl Iterator<Item = &Query> {
        self.select.iter().filter_map(|item| match item {
            SelectItem::Subquery(q) => Some(q.as_ref()),
            _ => None,
        })
    }
}
