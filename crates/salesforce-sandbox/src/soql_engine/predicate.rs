//! `WHERE` and `HAVING` conditions: literals are checked against the field's type once, when the
//! query is planned, and conditions are then evaluated on borrowed values for every row, with
//! no allocation per row (except inside the grammar's `LIKE` matcher).

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::{DateTime, Days, NaiveDate, Utc};
use salesforce_core::id::RecordId;
use salesforce_core::soql::{
    self, ComparisonOperator, Condition, LikeElement, LikePattern, Operand,
};

use super::{invalid_field, invalid_operator, malformed};
use crate::error::ApiFailure;
use crate::schema::FieldType;
use crate::value::Value;

/// How values of a field type compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    Number,
    Bool,
    Id,
    Date,
    DateTime,
}

impl Kind {
    pub(crate) fn of(ty: FieldType) -> Self {
        match ty {
            FieldType::Id | FieldType::Reference => Self::Id,
            FieldType::Boolean => Self::Bool,
            FieldType::Currency | FieldType::Double | FieldType::Int | FieldType::Percent => {
                Self::Number
            }
            FieldType::Date => Self::Date,
            FieldType::Datetime => Self::DateTime,
            FieldType::String
            | FieldType::Textarea
            | FieldType::Picklist
            | FieldType::Multipicklist
            | FieldType::Email
            | FieldType::Phone
            | FieldType::Url => Self::Text,
        }
    }
}

/// The type name Salesforce uses in "must be of type …" messages.
fn type_name(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Id | FieldType::Reference => "id",
        FieldType::Boolean => "boolean",
        FieldType::Int => "integer",
        FieldType::Currency | FieldType::Double | FieldType::Percent => "double",
        FieldType::Date => "date",
        FieldType::Datetime => "dateTime",
        _ => "string",
    }
}

/// What a condition refers to, once resolved: the evaluator's handle, the canonical name (for
/// messages) and the type literals are checked against.
pub(crate) struct Subject<S> {
    pub(crate) key: S,
    pub(crate) name: String,
    pub(crate) ty: FieldType,
    /// Whether `WHERE` may test it (long text areas may not).
    pub(crate) filterable: bool,
}

/// A literal converted to the compared field's type.
#[derive(Debug, Clone)]
pub(crate) enum Lit {
    Null,
    /// Lowercased, for case-insensitive comparison.
    Text(Box<str>),
    Number(f64),
    Bool(bool),
    Id(RecordId),
    Date(NaiveDate),
    /// A relative date literal on a date field: these days, both inclusive.
    DateRange(NaiveDate, NaiveDate),
    DateTime(DateTime<Utc>),
    /// A date or relative date on a datetime field: from the first instant, up to (excluding)
    /// the second.
    Instants(DateTime<Utc>, DateTime<Utc>),
}

impl Lit {
    /// The value an equality index files this literal under, if an index can answer it.
    pub(crate) fn index_value(&self) -> Option<Value> {
        match self {
            Self::Text(t) => Some(Value::text(t)),
            Self::Bool(b) => Some(Value::Bool(*b)),
            Self::Id(id) => Some(Value::Id(*id)),
            Self::Date(d) => Some(Value::Date(*d)),
            _ => None,
        }
    }
}

/// One test of a value.
#[derive(Debug, Clone)]
pub(crate) enum Test {
    Compare(ComparisonOperator, Lit),
    Like(Like),
    In {
        values: Vec<Lit>,
        negated: bool,
    },
    /// `INCLUDES` (or `EXCLUDES` when negated): each set is lowercased `;`-separated values.
    Includes {
        sets: Vec<Vec<String>>,
        negated: bool,
    },
}

/// Where an ASCII literal must occur for the common `LIKE` shapes.
#[derive(Debug, Clone, Copy)]
enum Anchor {
    Exact,
    Prefix,
    Suffix,
    Anywhere,
}

/// A `LIKE` pattern, with a fast path for `'abc'`, `'abc%'`, `'%abc'` and `'%abc%'` with an ASCII
/// literal over ASCII text (the grammar's general matcher handles everything else).
#[derive(Debug, Clone)]
pub(crate) struct Like {
    pattern: LikePattern,
    fast: Option<(Anchor, Box<[u8]>)>,
}

impl Like {
    fn new(pattern: LikePattern) -> Self {
        let elements = pattern.elements();
        let leading = elements.first() == Some(&LikeElement::AnyRun);
        let trailing = elements.len() > 1 && elements.last() == Some(&LikeElement::AnyRun);
        let start = usize::from(leading);
        let end = elements.len() - usize::from(trailing);
        let literal: Option<Vec<u8>> = elements
            .get(start..end)
            .unwrap_or(&[])
            .iter()
            .map(|e| match e {
                LikeElement::Literal(c) if c.is_ascii() => Some(c.to_ascii_lowercase() as u8),
                _ => None,
            })
            .collect();
        let anchor = match (leading, trailing) {
            (false, false) => Anchor::Exact,
            (false, true) => Anchor::Prefix,
            (true, false) => Anchor::Suffix,
            (true, true) => Anchor::Anywhere,
        };
        Self {
            fast: literal.map(|l| (anchor, l.into_boxed_slice())),
            pattern,
        }
    }

    fn matches(&self, text: &str) -> bool {
        match &self.fast {
            Some((anchor, literal)) if text.is_ascii() => {
                let text = text.as_bytes();
                let n = literal.len();
                match anchor {
                    Anchor::Exact => text.eq_ignore_ascii_case(literal),
                    Anchor::Prefix => text
                        .get(..n)
                        .is_some_and(|t| t.eq_ignore_ascii_case(literal)),
                    Anchor::Suffix => text
                        .len()
                        .checked_sub(n)
                        .and_then(|start| text.get(start..))
                        .is_some_and(|t| t.eq_ignore_ascii_case(literal)),
                    Anchor::Anywhere => {
                        n == 0 || text.windows(n).any(|w| w.eq_ignore_ascii_case(literal))
                    }
                }
            }
            _ => self.pattern.matches(text),
        }
    }
}

/// A compiled condition over subjects of type `S` (field paths for `WHERE`, output columns for
/// `HAVING`).
#[derive(Debug, Clone)]
pub(crate) enum Pred<S> {
    And(Vec<Pred<S>>),
    Or(Vec<Pred<S>>),
    Not(Box<Pred<S>>),
    Test(S, Test),
}

/// Resolves an operand to a subject (or refuses it).
pub(crate) type Resolver<'r, S> = dyn FnMut(&Operand) -> Result<Subject<S>, ApiFailure> + 'r;

/// Compiles a condition, checking every literal against its subject's type.
pub(crate) fn compile<S>(
    condition: &Condition,
    today: NaiveDate,
    resolve: &mut Resolver<'_, S>,
) -> Result<Pred<S>, ApiFailure> {
    Ok(match condition {
        Condition::And(parts) => Pred::And(
            parts
                .iter()
                .map(|c| compile(c, today, resolve))
                .collect::<Result<_, _>>()?,
        ),
        Condition::Or(parts) => Pred::Or(
            parts
                .iter()
                .map(|c| compile(c, today, resolve))
                .collect::<Result<_, _>>()?,
        ),
        Condition::Not(inner) => Pred::Not(Box::new(compile(inner, today, resolve)?)),
        Condition::Compare { field, op, value } => {
            let subject = resolve(field)?;
            check_filterable(&subject)?;
            let test = if *op == ComparisonOperator::Like {
                if Kind::of(subject.ty) != Kind::Text {
                    return Err(invalid_operator(format!(
                        "invalid operator on field: {}",
                        subject.name
                    )));
                }
                match value {
                    soql::Value::String(s) => Test::Like(Like::new(s.to_like_pattern())),
                    _ => return Err(type_mismatch(&subject)),
                }
            } else {
                Test::Compare(*op, literal(&subject, value, today)?)
            };
            Pred::Test(subject.key, test)
        }
        Condition::In {
            field,
            values,
            negated,
        } => {
            let subject = resolve(&Operand::Field(field.clone()))?;
            check_filterable(&subject)?;
            let values = values
                .iter()
                .map(|v| literal(&subject, v, today))
                .collect::<Result<_, _>>()?;
            Pred::Test(
                subject.key,
                Test::In {
                    values,
                    negated: *negated,
                },
            )
        }
        Condition::Includes { field, values } | Condition::Excludes { field, values } => {
            let subject = resolve(&Operand::Field(field.clone()))?;
            if subject.ty != FieldType::Multipicklist {
                return Err(invalid_operator(
                    "includes or excludes operator only valid on multipicklist field",
                ));
            }
            let sets = values
                .iter()
                .map(|s| {
                    s.to_text()
                        .split(';')
                        .map(|v| v.trim().to_lowercase())
                        .filter(|v| !v.is_empty())
                        .collect()
                })
                .collect();
            Pred::Test(
                subject.key,
                Test::Includes {
                    sets,
                    negated: matches!(condition, Condition::Excludes { .. }),
                },
            )
        }
    })
}

fn check_filterable<S>(subject: &Subject<S>) -> Result<(), ApiFailure> {
    if !subject.filterable {
        return Err(invalid_field(format!(
            "field '{}' can not be filtered in a query call",
            subject.name
        )));
    }
    Ok(())
}

fn type_mismatch<S>(subject: &Subject<S>) -> ApiFailure {
    let quoted = if Kind::of(subject.ty) == Kind::Text || Kind::of(subject.ty) == Kind::Id {
        "should be enclosed in quotes"
    } else {
        "should not be enclosed in quotes"
    };
    invalid_field(format!(
        "value of filter criterion for field '{}' must be of type {} and {quoted}",
        subject.name,
        type_name(subject.ty)
    ))
}

fn day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// The instants a run of whole UTC days covers.
fn days_as_instants(first: NaiveDate, last: NaiveDate) -> Lit {
    let end = last
        .checked_add_days(Days::new(1))
        .map_or(DateTime::<Utc>::MAX_UTC, day_start);
    Lit::Instants(day_start(first), end)
}

/// Converts a literal for comparison with `subject`.
fn literal<S>(
    subject: &Subject<S>,
    value: &soql::Value,
    today: NaiveDate,
) -> Result<Lit, ApiFailure> {
    use soql::Value as V;
    let kind = Kind::of(subject.ty);
    Ok(match (kind, value) {
        (_, V::Null) => Lit::Null,
        (Kind::Text, V::String(s)) => Lit::Text(s.to_text().to_lowercase().into_boxed_str()),
        (Kind::Number, V::Number(n)) => Lit::Number(n.value()),
        (Kind::Bool, V::Boolean(b)) => Lit::Bool(*b),
        (Kind::Id, V::String(s)) => {
            let text = s.to_text();
            Lit::Id(RecordId::parse_lenient(&text).map_err(|_| {
                invalid_operator(format!(
                    "invalid ID field: {}",
                    text.chars().take(100).collect::<String>()
                ))
            })?)
        }
        (Kind::Date, V::Date(d)) => Lit::Date(*d),
        (Kind::Date, V::DateLiteral(r)) => {
            let (first, last) = r.range(today);
            Lit::DateRange(first, last)
        }
        (Kind::DateTime, V::DateTime(t)) => Lit::DateTime(t.with_timezone(&Utc)),
        (Kind::DateTime, V::Date(d)) => days_as_instants(*d, *d),
        (Kind::DateTime, V::DateLiteral(r)) => {
            let (first, last) = r.range(today);
            days_as_instants(first, last)
        }
        _ => return Err(type_mismatch(subject)),
    })
}

impl<S> Pred<S> {
    /// Whether the condition holds, reading subjects through `value_of`.
    pub(crate) fn eval<'v>(&self, value_of: &mut dyn FnMut(&S) -> Cow<'v, Value>) -> bool {
        match self {
            Self::And(parts) => parts.iter().all(|p| p.eval(value_of)),
            Self::Or(parts) => parts.iter().any(|p| p.eval(value_of)),
            Self::Not(inner) => !inner.eval(value_of),
            Self::Test(subject, test) => test.eval(&value_of(subject)),
        }
    }
}

impl Test {
    /// Whether `value` passes the test.
    pub(crate) fn eval(&self, value: &Value) -> bool {
        match self {
            Self::Compare(op, lit) => compare(value, *op, lit),
            Self::Like(like) => value.as_text().is_some_and(|t| like.matches(t)),
            Self::In { values, negated } => {
                values
                    .iter()
                    .any(|lit| compare(value, ComparisonOperator::Eq, lit))
                    != *negated
            }
            Self::Includes { sets, negated } => {
                let selected = value.as_text().unwrap_or("");
                let included = sets.iter().any(|set| {
                    !set.is_empty()
                        && set.iter().all(|wanted| {
                            selected
                                .split(';')
                                .any(|v| cmp_lowered(v.trim(), wanted) == Ordering::Equal)
                        })
                });
                included != *negated
            }
        }
    }
}

/// Where a value lies relative to a range.
fn position<T: Ord>(value: &T, first: &T, last: &T, last_inclusive: bool) -> Ordering {
    if value < first {
        Ordering::Less
    } else if value > last || (!last_inclusive && value == last) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

fn apply(op: ComparisonOperator, ord: Ordering) -> bool {
    match op {
        ComparisonOperator::Eq => ord == Ordering::Equal,
        ComparisonOperator::Ne => ord != Ordering::Equal,
        ComparisonOperator::Lt => ord == Ordering::Less,
        ComparisonOperator::Le => ord != Ordering::Greater,
        ComparisonOperator::Gt => ord == Ordering::Greater,
        ComparisonOperator::Ge => ord != Ordering::Less,
        ComparisonOperator::Like => false,
    }
}

/// `value op lit`, with SOQL's nulls: `= null` and `!= null` test presence, a null value equals
/// only null, and ordering comparisons with null never hold.
fn compare(value: &Value, op: ComparisonOperator, lit: &Lit) -> bool {
    if matches!(lit, Lit::Null) || value.is_null() {
        let both_null = matches!(lit, Lit::Null) && value.is_null();
        return match op {
            ComparisonOperator::Eq => both_null,
            ComparisonOperator::Ne => !both_null,
            _ => false,
        };
    }
    let ord = match (value, lit) {
        (Value::Text(v), Lit::Text(l)) => Some(cmp_lowered(v, l)),
        (Value::Int(_) | Value::Number(_), Lit::Number(l)) => {
            value.as_f64().and_then(|v| v.partial_cmp(l))
        }
        (Value::Bool(v), Lit::Bool(l)) => Some(v.cmp(l)),
        (Value::Id(v), Lit::Id(l)) => Some(v.as_str().cmp(l.as_str())),
        (Value::Date(v), Lit::Date(l)) => Some(v.cmp(l)),
        (Value::Date(v), Lit::DateRange(first, last)) => Some(position(v, first, last, true)),
        (Value::DateTime(v), Lit::DateTime(l)) => Some(v.cmp(l)),
        (Value::DateTime(v), Lit::Instants(first, end)) => Some(position(v, first, end, false)),
        _ => None,
    };
    // A stored value of an unexpected type equals nothing.
    ord.map_or(op == ComparisonOperator::Ne, |ord| apply(op, ord))
}

/// Compares `text` case-insensitively with `lowered`, which is already lowercase.
fn cmp_lowered(text: &str, lowered: &str) -> Ordering {
    if text.is_ascii() && lowered.is_ascii() {
        text.bytes()
            .map(|b| b.to_ascii_lowercase())
            .cmp(lowered.bytes())
    } else {
        text.chars()
            .flat_map(char::to_lowercase)
            .cmp(lowered.chars())
    }
}

/// Compares two text values case-insensitively.
pub(crate) fn cmp_text(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.bytes()
            .map(|c| c.to_ascii_lowercase())
            .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
    } else {
        a.chars()
            .flat_map(char::to_lowercase)
            .cmp(b.chars().flat_map(char::to_lowercase))
    }
}

/// Orders two non-null values of the same field: text ignoring case, numbers, dates, instants,
/// `false` before `true`, ids by their text.
pub(crate) fn compare_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Text(x), Value::Text(y)) => cmp_text(x, y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Id(x), Value::Id(y)) => x.as_str().cmp(y.as_str()),
        (Value::Date(x), Value::Date(y)) => x.cmp(y),
        (Value::DateTime(x), Value::DateTime(y)) => x.cmp(y),
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => Ordering::Equal,
        },
    }
}

/// Orders two possibly-null values for `ORDER BY`.
pub(crate) fn order_values(a: &Value, b: &Value, descending: bool, nulls_first: bool) -> Ordering {
    match (a.is_null(), b.is_null()) {
        (true, true) => Ordering::Equal,
        (true, false) => {
            if nulls_first {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
        (false, true) => {
            if nulls_first {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        (false, false) => {
            let ord = compare_values(a, b);
            if descending { ord.reverse() } else { ord }
        }
    }
}

/// Refuses an aggregate where only fields may appear.
pub(crate) fn no_aggregates_in_where() -> ApiFailure {
    malformed("Aggregate functions are not allowed in the WHERE clause")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use salesforce_core::soql::SoqlString;

    proptest! {
        /// The fast path agrees with the grammar's matcher on every pattern shape.
        #[test]
        fn like_fast_path_agrees_with_the_grammar(pattern in "[aB%_]{0,6}", text in "[abAB_%é]{0,8}") {
            let compiled = SoqlString::new(&pattern).to_like_pattern();
            prop_assert_eq!(Like::new(compiled.clone()).matches(&text), compiled.matches(&text));
        }
    }

    #[test]
    fn nulls_follow_soql() {
        let text = Lit::Text("x".into());
        assert!(compare(&Value::Null, ComparisonOperator::Ne, &text));
        assert!(!compare(&Value::Null, ComparisonOperator::Eq, &text));
        assert!(!compare(&Value::Null, ComparisonOperator::Lt, &text));
        assert!(compare(&Value::Null, ComparisonOperator::Eq, &Lit::Null));
        assert!(compare(&Value::text("X"), ComparisonOperator::Eq, &text));
        assert!(compare(
            &Value::text("X"),
            ComparisonOperator::Ne,
            &Lit::Null
        ));
    }
}
