//! The typed SOQL builder: queries assembled from validated names and typed values, printed by
//! the shared grammar's printer. No text is ever pasted into a query.
//!
//! Errors are collected along the way and reported once by [`Select::build`], so a chain reads
//! like the query it builds. Before returning, `build` prints the query and parses it back with
//! the shared parser, so whatever it returns is valid SOQL in the grammar the sandbox evaluates.

use crate::Error;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use salesforce_core::soql::{
    Aggregate, AggregateFunction, ComparisonOperator, Condition, FieldPath, Identifier, MAX_OFFSET,
    NullsOrder, Number, Operand, OrderBy, Query, RelativeDate, SelectItem, SoqlError, SoqlString,
    SortDirection, Value, parse,
};

/// A builder failure, kept until [`Select::build`] reports it as an [`Error`]. It is `Clone`
/// (unlike [`Error`], which will grow transport variants) so filters and builders can be reused.
#[derive(Debug, Clone, PartialEq)]
enum Failure {
    Soql(SoqlError),
    EmptySelect,
    Unsupported(&'static str),
}

impl From<SoqlError> for Failure {
    fn from(e: SoqlError) -> Self {
        Self::Soql(e)
    }
}

impl From<Failure> for Error {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Soql(e) => Error::Soql(e),
            Failure::EmptySelect => Error::EmptySelect,
            Failure::Unsupported(reason) => Error::UnsupportedFilter { reason },
        }
    }
}

/// A Rust value that can become a SOQL literal. Fallible because some values have no literal
/// (NaN, dates outside years 0000–9999).
pub trait IntoSoqlValue {
    /// The literal for this value.
    fn into_soql_value(self) -> Result<Value, SoqlError>;
}

impl IntoSoqlValue for Value {
    fn into_soql_value(self) -> Result<Value, SoqlError> {
        Ok(self)
    }
}

impl IntoSoqlValue for &str {
    fn into_soql_value(self) -> Result<Value, SoqlError> {
        Ok(Value::string(self))
    }
}

impl IntoSoqlValue for String {
    fn into_soql_value(self) -> Result<Value, SoqlError> {
        Ok(Value::string(&self))
    }
}

impl IntoSoqlValue for &String {
    fn into_soql_value(self) -> Result<Value, SoqlError> {
        Ok(Value::string(self))
    }
}

impl IntoSoqlValue for bool {
    fn into_soql_value(self) -> Result<Value, SoqlError> {
        Ok(Value::Boolean(self))
    }
}

macro_rules! integer_values {
    ($($t:ty),*) => {$(
        impl IntoSoqlValue for $t {
            fn into_soql_value(self) -> Result<Value, SoqlError> {
                Number::parse(&self.to_string()).map(Value::Number)
            }
        }
    )*};
}
integer_values!(i8, i16, i32, i64, u8, u16, u32, u64, usize, isize);

impl IntoSoqlValue for f64 {
    fn into_soql_value(self) -> Result<Value, SoqlError> {
        Number::from_f64(self).map(Value::Number)
    }
}

impl IntoSoqlValue for NaiveDate {
    fn into_soql_value(self) -> Result<Value, SoqlError> {
        check_year(chrono::Datelike::year(&self))?;
        Ok(Value::Date(self))
    }
}

impl IntoSoqlValue for DateTime<FixedOffset> {
    fn into_soql_value(self) -> Result<Value, SoqlError> {
        check_year(chrono::Datelike::year(&self))?;
        Ok(Value::DateTime(self))
    }
}

impl IntoSoqlValue for DateTime<Utc> {
    fn into_soql_value(self) -> Result<Value, SoqlError> {
        self.fixed_offset().into_soql_value()
    }
}

impl IntoSoqlValue for RelativeDate {
    fn into_soql_value(self) -> Result<Value, SoqlError> {
        Ok(Value::DateLiteral(self))
    }
}

fn check_year(year: i32) -> Result<(), SoqlError> {
    if (0..=9999).contains(&year) {
        Ok(())
    } else {
        Err(SoqlError::InvalidValue {
            reason: "SOQL dates have four-digit years (0000-9999)",
        })
    }
}

/// A field (or, for `HAVING` and `ORDER BY`, an aggregate of one) to filter or sort on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field(Operand);

impl Field {
    /// A field path such as `Industry` or `Account.Owner.Name`, validated.
    ///
    /// ```
    /// use salesforce_api::soql::Field;
    /// assert!(Field::new("Account.Name").is_ok());
    /// assert!(Field::new("Name = 'x' OR Id").is_err());
    /// ```
    pub fn new(path: &str) -> Result<Self, Error> {
        Ok(Self(Operand::Field(FieldPath::new(path)?)))
    }

    /// An aggregate of a field, such as `COUNT(Id)`, for `HAVING` and `ORDER BY`.
    pub fn aggregate(function: AggregateFunction, path: &str) -> Result<Self, Error> {
        Ok(Self(Operand::Aggregate(Aggregate {
            function,
            field: FieldPath::new(path)?,
        })))
    }

    fn compare(&self, op: ComparisonOperator, value: Result<Value, SoqlError>) -> Filter {
        Filter(
            value
                .map_err(Failure::from)
                .map(|value| Condition::Compare {
                    field: self.0.clone(),
                    op,
                    value,
                }),
        )
    }

    /// `field = value` (case-insensitive for text, as in Salesforce).
    pub fn eq(&self, value: impl IntoSoqlValue) -> Filter {
        self.compare(ComparisonOperator::Eq, value.into_soql_value())
    }

    /// `field != value`.
    pub fn ne(&self, value: impl IntoSoqlValue) -> Filter {
        self.compare(ComparisonOperator::Ne, value.into_soql_value())
    }

    /// `field < value`.
    pub fn lt(&self, value: impl IntoSoqlValue) -> Filter {
        self.compare(ComparisonOperator::Lt, value.into_soql_value())
    }

    /// `field <= value`.
    pub fn le(&self, value: impl IntoSoqlValue) -> Filter {
        self.compare(ComparisonOperator::Le, value.into_soql_value())
    }

    /// `field > value`.
    pub fn gt(&self, value: impl IntoSoqlValue) -> Filter {
        self.compare(ComparisonOperator::Gt, value.into_soql_value())
    }

    /// `field >= value`.
    pub fn ge(&self, value: impl IntoSoqlValue) -> Filter {
        self.compare(ComparisonOperator::Ge, value.into_soql_value())
    }

    /// `field = NULL`.
    pub fn is_null(&self) -> Filter {
        self.compare(ComparisonOperator::Eq, Ok(Value::Null))
    }

    /// `field != NULL`.
    pub fn is_not_null(&self) -> Filter {
        self.compare(ComparisonOperator::Ne, Ok(Value::Null))
    }

    /// `field LIKE pattern` with a pattern built by [`SoqlString`]'s constructors, where `%` and
    /// `_` written with [`SoqlString::new`] are wildcards on purpose.
    pub fn like(&self, pattern: SoqlString) -> Filter {
        self.compare(ComparisonOperator::Like, Ok(Value::String(pattern)))
    }

    /// `field LIKE '%text%'`: contains `text`, whose `%` and `_` are taken literally.
    pub fn contains(&self, text: &str) -> Filter {
        self.like(SoqlString::contains(text))
    }

    /// `field LIKE 'text%'`: starts with `text`, whose `%` and `_` are taken literally.
    pub fn starts_with(&self, text: &str) -> Filter {
        self.like(SoqlString::starts_with(text))
    }

    fn list(&self, values: impl IntoIterator<Item = impl IntoSoqlValue>, negated: bool) -> Filter {
        let Operand::Field(field) = &self.0 else {
            return Filter(Err(Failure::Unsupported(
                "IN takes a field, not an aggregate",
            )));
        };
        let values = values
            .into_iter()
            .map(IntoSoqlValue::into_soql_value)
            .collect::<Result<Vec<_>, _>>();
        Filter(match values {
            Ok(values) if values.is_empty() => {
                Err(Failure::Unsupported("IN needs at least one value"))
            }
            Ok(values) => Ok(Condition::In {
                field: field.clone(),
                values,
                negated,
            }),
            Err(e) => Err(e.into()),
        })
    }

    /// `field IN (values…)`; an empty list is an error (SOQL has no empty list).
    pub fn is_in(&self, values: impl IntoIterator<Item = impl IntoSoqlValue>) -> Filter {
        self.list(values, false)
    }

    /// `field NOT IN (values…)`.
    pub fn not_in(&self, values: impl IntoIterator<Item = impl IntoSoqlValue>) -> Filter {
        self.list(values, true)
    }

    fn picklist(&self, values: &[&str], includes: bool) -> Filter {
        let Operand::Field(field) = &self.0 else {
            return Filter(Err(Failure::Unsupported(
                "INCLUDES and EXCLUDES take a field, not an aggregate",
            )));
        };
        if values.is_empty() {
            return Filter(Err(Failure::Unsupported(
                "INCLUDES and EXCLUDES need at least one value",
            )));
        }
        let field = field.clone();
        let values = values.iter().map(|v| SoqlString::new(v)).collect();
        Filter(Ok(if includes {
            Condition::Includes { field, values }
        } else {
            Condition::Excludes { field, values }
        }))
    }

    /// `field INCLUDES (…)` on a multi-select picklist; each entry may be a `;`-joined set.
    pub fn includes(&self, values: &[&str]) -> Filter {
        self.picklist(values, true)
    }

    /// `field EXCLUDES (…)` on a multi-select picklist.
    pub fn excludes(&self, values: &[&str]) -> Filter {
        self.picklist(values, false)
    }

    /// Ascending order on this field.
    pub fn asc(&self) -> Order {
        Order(OrderBy {
            key: self.0.clone(),
            direction: Some(SortDirection::Asc),
            nulls: None,
        })
    }

    /// Descending order on this field.
    pub fn desc(&self) -> Order {
        Order(OrderBy {
            key: self.0.clone(),
            direction: Some(SortDirection::Desc),
            nulls: None,
        })
    }
}

/// A condition under construction (or the first error met while building it).
#[derive(Debug, Clone, PartialEq)]
pub struct Filter(Result<Condition, Failure>);

impl Filter {
    /// Both conditions (`AND`), flattening nested `AND`s.
    #[must_use]
    pub fn and(self, other: Filter) -> Filter {
        Self::all([self, other])
    }

    /// Either condition (`OR`), flattening nested `OR`s.
    #[must_use]
    pub fn or(self, other: Filter) -> Filter {
        Self::any([self, other])
    }

    /// The negation (`NOT`).
    #[must_use]
    #[allow(clippy::should_implement_trait)] // reads as SOQL; `!filter` would hide the keyword
    pub fn not(self) -> Filter {
        Filter(self.0.map(|c| Condition::Not(Box::new(c))))
    }

    /// All of `filters` (`AND`); an empty set is an error.
    pub fn all(filters: impl IntoIterator<Item = Filter>) -> Filter {
        Self::group(filters, true)
    }

    /// Any of `filters` (`OR`); an empty set is an error.
    pub fn any(filters: impl IntoIterator<Item = Filter>) -> Filter {
        Self::group(filters, false)
    }

    fn group(filters: impl IntoIterator<Item = Filter>, and: bool) -> Filter {
        let mut children = Vec::new();
        for filter in filters {
            match (filter.0, and) {
                (Err(e), _) => return Filter(Err(e)),
                (Ok(Condition::And(inner)), true) | (Ok(Condition::Or(inner)), false) => {
                    children.extend(inner);
                }
                (Ok(c), _) => children.push(c),
            }
        }
        if children.len() <= 1 {
            return Filter(children.pop().ok_or(Failure::Unsupported(
                "a group of conditions needs at least one condition",
            )));
        }
        Filter(Ok(if and {
            Condition::And(children)
        } else {
            Condition::Or(children)
        }))
    }

    /// The condition, or the first error met while building it.
    pub fn into_condition(self) -> Result<Condition, Error> {
        self.0.map_err(Error::from)
    }
}

/// One `ORDER BY` key, from [`Field::asc`] or [`Field::desc`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order(OrderBy);

impl Order {
    /// `NULLS FIRST`.
    #[must_use]
    pub fn nulls_first(mut self) -> Self {
        self.0.nulls = Some(NullsOrder::First);
        self
    }

    /// `NULLS LAST`.
    #[must_use]
    pub fn nulls_last(mut self) -> Self {
        self.0.nulls = Some(NullsOrder::Last);
        self
    }
}

/// A `SELECT` statement under construction.
///
/// ```
/// use salesforce_api::soql::{Field, Select};
/// let soql = Select::from("Lead")
///     .fields(["Id", "Name", "Company"])
///     .filter(Field::new("Industry")?.eq("Healthcare"))
///     .filter(Field::new("Company")?.contains("O'Brien & 50%"))
///     .order_by(Field::new("CreatedDate")?.desc())
///     .limit(50)
///     .to_soql()?;
/// assert_eq!(
///     soql,
///     r"SELECT Id, Name, Company FROM Lead WHERE Industry = 'Healthcare' AND Company LIKE '%O\'Brien & 50\%%' ORDER BY CreatedDate DESC LIMIT 50"
/// );
/// # Ok::<(), salesforce_api::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Select {
    query: Result<Query, Failure>,
    filters: Vec<Filter>,
    having: Vec<Filter>,
}

impl Select {
    /// Starts a query on `object` (or, for a child subquery, a child relationship name).
    pub fn from(object: &str) -> Self {
        Self {
            query: Identifier::new(object)
                .map(|object| Query::new(Vec::new(), object))
                .map_err(Failure::from),
            filters: Vec::new(),
            having: Vec::new(),
        }
    }

    /// Starts a `SELECT COUNT() FROM object` query, which returns only the number of matching rows.
    pub fn count(object: &str) -> Self {
        let mut select = Self::from(object);
        if let Ok(q) = &mut select.query {
            q.select.push(SelectItem::CountAll);
        }
        select
    }

    fn edit(mut self, f: impl FnOnce(&mut Query) -> Result<(), Failure>) -> Self {
        if let Ok(query) = &mut self.query
            && let Err(e) = f(query)
        {
            self.query = Err(e);
        }
        self
    }

    /// Adds a field (a dotted path through parent relationships is fine).
    pub fn field(self, path: &str) -> Self {
        self.edit(|q| {
            q.select.push(SelectItem::Field(FieldPath::new(path)?));
            Ok(())
        })
    }

    /// Adds several fields.
    pub fn fields<S: AsRef<str>>(self, paths: impl IntoIterator<Item = S>) -> Self {
        paths
            .into_iter()
            .fold(self, |select, path| select.field(path.as_ref()))
    }

    /// Adds an aggregate such as `COUNT(Id) total` (alias optional).
    pub fn aggregate(self, function: AggregateFunction, path: &str, alias: Option<&str>) -> Self {
        self.edit(|q| {
            let aggregate = Aggregate {
                function,
                field: FieldPath::new(path)?,
            };
            let alias = alias.map(Identifier::new).transpose()?;
            q.select.push(SelectItem::Aggregate { aggregate, alias });
            Ok(())
        })
    }

    /// Adds a child relationship subquery, e.g. `Select::from("Contacts").field("Email")`.
    pub fn subquery(self, child: Select) -> Self {
        self.edit(|q| {
            q.select
                .push(SelectItem::Subquery(Box::new(child.assemble()?)));
            Ok(())
        })
    }

    /// Adds a `WHERE` condition; several are combined with `AND`.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filters.push(filter);
        self
    }

    /// Adds a `GROUP BY` field.
    pub fn group_by(self, path: &str) -> Self {
        self.edit(|q| {
            q.group_by.push(FieldPath::new(path)?);
            Ok(())
        })
    }

    /// Adds a `HAVING` condition; several are combined with `AND`.
    pub fn having(mut self, filter: Filter) -> Self {
        self.having.push(filter);
        self
    }

    /// Adds an `ORDER BY` key.
    pub fn order_by(self, order: Order) -> Self {
        self.edit(|q| {
            q.order_by.push(order.0);
            Ok(())
        })
    }

    /// Sets `LIMIT`.
    pub fn limit(self, limit: u64) -> Self {
        self.edit(|q| {
            q.limit = Some(limit);
            Ok(())
        })
    }

    /// Sets `OFFSET`; more than 2,000 is refused (Salesforce's `NUMBER_OUTSIDE_VALID_RANGE`).
    pub fn offset(self, offset: u64) -> Self {
        self.edit(|q| {
            if offset > MAX_OFFSET {
                return Err(SoqlError::OffsetOutOfRange {
                    offset,
                    max: MAX_OFFSET,
                }
                .into());
            }
            q.offset = Some(offset);
            Ok(())
        })
    }

    /// The query without the final print-and-parse check.
    fn assemble(self) -> Result<Query, Failure> {
        let mut query = self.query?;
        if query.select.is_empty() {
            return Err(Failure::EmptySelect);
        }
        if !self.filters.is_empty() {
            query.where_ = Some(Filter::all(self.filters).0?);
        }
        if !self.having.is_empty() {
            query.having = Some(Filter::all(self.having).0?);
        }
        Ok(query)
    }

    /// The finished query, or the first error met while building it.
    pub fn build(self) -> Result<Query, Error> {
        self.checked().map(|(query, _)| query)
    }

    /// The finished query as SOQL text.
    pub fn to_soql(self) -> Result<String, Error> {
        self.checked().map(|(_, text)| text)
    }

    /// The query and its text, printed once.
    fn checked(self) -> Result<(Query, String), Error> {
        let query = self.assemble()?;
        let text = query.to_string();
        // The shared parser has the last word: what we return is SOQL it accepts, unchanged.
        let reparsed = parse(&text)?;
        if reparsed != query {
            return Err(Error::UnsupportedFilter {
                reason: "the query does not survive printing",
            });
        }
        Ok((query, text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn field(p: &str) -> Field {
        Field::new(p).unwrap()
    }

    #[test]
    fn builds_the_documented_shapes() {
        let table: Vec<(Select, &str)> = vec![
            (
                Select::from("Account").field("Id"),
                "SELECT Id FROM Account",
            ),
            (Select::count("Lead"), "SELECT COUNT() FROM Lead"),
            (
                Select::from("Account")
                    .fields(["Id", "Owner.Name"])
                    .subquery(
                        Select::from("Contacts")
                            .field("Email")
                            .filter(field("Email").is_not_null())
                            .limit(5),
                    ),
                "SELECT Id, Owner.Name, (SELECT Email FROM Contacts WHERE Email != NULL LIMIT 5) FROM Account",
            ),
            (
                Select::from("Opportunity")
                    .field("StageName")
                    .aggregate(AggregateFunction::Sum, "Amount", Some("total"))
                    .filter(field("CloseDate").eq(RelativeDate::ThisQuarter))
                    .group_by("StageName")
                    .having(
                        Field::aggregate(AggregateFunction::Sum, "Amount")
                            .unwrap()
                            .gt(1000),
                    )
                    .order_by(
                        Field::aggregate(AggregateFunction::Sum, "Amount")
                            .unwrap()
                            .desc()
                            .nulls_last(),
                    ),
                "SELECT StageName, SUM(Amount) total FROM Opportunity WHERE CloseDate = THIS_QUARTER GROUP BY StageName HAVING SUM(Amount) > 1000 ORDER BY SUM(Amount) DESC NULLS LAST",
            ),
            (
                Select::from("Lead").field("Id").filter(
                    field("Status")
                        .is_in(["Open", "Working"])
                        .and(field("Rating").eq("Hot").or(field("Score__c").ge(7.5)))
                        .and(field("IsConverted").eq(false).not()),
                ),
                "SELECT Id FROM Lead WHERE Status IN ('Open', 'Working') AND (Rating = 'Hot' OR Score__c >= 7.5) AND NOT IsConverted = FALSE",
            ),
            (
                Select::from("Lead")
                    .field("Id")
                    .filter(field("Interests__c").includes(&["a;b", "c"]))
                    .filter(field("Tags__c").excludes(&["x"]))
                    .filter(field("Name").starts_with("a_b"))
                    .filter(
                        field("CreatedDate")
                            .ge(DateTime::parse_from_rfc3339("2024-01-02T03:04:05+01:00").unwrap()),
                    )
                    .filter(field("Birthdate").lt(NaiveDate::from_ymd_opt(2000, 1, 1).unwrap()))
                    .filter(field("NumberOfEmployees").not_in([1u32, 2]))
                    .offset(2000),
                r"SELECT Id FROM Lead WHERE Interests__c INCLUDES ('a;b', 'c') AND Tags__c EXCLUDES ('x') AND Name LIKE 'a\_b%' AND CreatedDate >= 2024-01-02T03:04:05+01:00 AND Birthdate < 2000-01-01 AND NumberOfEmployees NOT IN (1, 2) OFFSET 2000",
            ),
        ];
        for (select, expected) in table {
            assert_eq!(select.to_soql().unwrap(), expected);
        }
    }

    #[test]
    fn refusals() {
        let offset = Select::from("Lead").field("Id").offset(2001).build();
        assert!(matches!(
            offset,
            Err(Error::Soql(SoqlError::OffsetOutOfRange {
                offset: 2001,
                max: 2000
            }))
        ));
        for bad in [
            Select::from("Lead; DELETE").field("Id"),
            Select::from("Lead").field("Id, Name"),
            Select::from("Lead").field("Name FROM User"),
            Select::from("Lead").field("Id").group_by("x y"),
            Select::from("Lead").aggregate(AggregateFunction::Count, "Id", Some("FROM")),
        ] {
            assert!(matches!(
                bad.build(),
                Err(Error::Soql(SoqlError::InvalidIdentifier { .. }))
            ),);
        }
        assert!(matches!(
            Select::from("Lead").build(),
            Err(Error::EmptySelect)
        ));
        assert!(matches!(
            Select::from("Lead")
                .field("Id")
                .filter(field("Score").eq(f64::NAN))
                .build(),
            Err(Error::Soql(SoqlError::InvalidValue { .. }))
        ));
        assert!(matches!(
            Select::from("Lead")
                .field("Id")
                .filter(field("D").eq(NaiveDate::from_ymd_opt(12_000, 1, 1).unwrap()))
                .build(),
            Err(Error::Soql(SoqlError::InvalidValue { .. }))
        ));
        assert!(matches!(
            Select::from("Lead")
                .field("Id")
                .filter(field("S").is_in(Vec::<&str>::new()))
                .build(),
            Err(Error::UnsupportedFilter { .. })
        ));
        assert!(matches!(
            Select::from("Lead")
                .field("Id")
                .having(
                    Field::aggregate(AggregateFunction::Count, "Id")
                        .unwrap()
                        .is_in([1])
                )
                .build(),
            Err(Error::UnsupportedFilter { .. })
        ));
        assert!(matches!(
            Select::count("Lead").field("Id").build(),
            Err(Error::Soql(SoqlError::Syntax(_)))
        ));
        assert!(matches!(
            Select::from("Lead")
                .field("Id")
                .filter(Filter::any([]))
                .build(),
            Err(Error::UnsupportedFilter { .. })
        ));
    }

    proptest! {
        #[test]
        fn any_user_text_stays_one_value(text in any::<String>()) {
            let query = Select::from("Lead")
                .field("Id")
                .filter(field("Name").eq(text.as_str()))
                .filter(field("Company").contains(&text))
                .build()
                .unwrap();
            let Some(Condition::And(parts)) = &query.where_ else {
                return Err(TestCaseError::fail("expected two conditions"));
            };
            prop_assert_eq!(parts.len(), 2);
            let Condition::Compare { value: Value::String(eq), .. } = &parts[0] else {
                return Err(TestCaseError::fail("expected a comparison"));
            };
            prop_assert_eq!(eq.to_text(), text.clone());
            let Condition::Compare { value: Value::String(like), .. } = &parts[1] else {
                return Err(TestCaseError::fail("expected a LIKE"));
            };
            let pattern = like.to_like_pattern();
            let haystack = format!("x{text}y");
            prop_assert!(pattern.matches(&haystack));
        }
    }
}
