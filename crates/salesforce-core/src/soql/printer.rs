//! The printer: canonical SOQL text for a syntax tree (`Display` on [`Query`] and its parts).
//!
//! Keywords are upper case, items are separated by `, `, `!=` stands for both `!=` and `<>`, and
//! nested `AND`/`OR` groups are always parenthesised. Parsing the printed text gives back an
//! equal tree for every tree the parser can produce. String values go through
//! [`escape`](super::escape), and names and numbers can only hold validated text, so printing
//! never produces injected SOQL.

use super::ast::{
    Aggregate, Condition, FieldPath, FromClause, Identifier, NullsOrder, Number, Operand, OrderBy,
    Query, SelectItem, SoqlString, SortDirection, Value,
};
use super::escape::write_literal;
use std::fmt::{self, Display, Formatter, Write};

/// Writes `items` separated by `, `.
fn comma_separated<T: Display>(f: &mut Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

impl Display for Identifier {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Display for FieldPath {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments().enumerate() {
            if i > 0 {
                f.write_char('.')?;
            }
            f.write_str(segment.as_str())?;
        }
        Ok(())
    }
}

impl Display for SoqlString {
    /// The quoted, escaped literal.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_literal(f, self)
    }
}

impl Display for Number {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

impl Display for Value {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Self::String(s) => write!(f, "{s}"),
            Self::Number(n) => write!(f, "{n}"),
            Self::Boolean(true) => f.write_str("TRUE"),
            Self::Boolean(false) => f.write_str("FALSE"),
            Self::Null => f.write_str("NULL"),
            Self::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Self::DateTime(dt) => {
                write!(f, "{}", dt.format("%Y-%m-%dT%H:%M:%S%.f"))?;
                if dt.offset().local_minus_utc() == 0 {
                    f.write_char('Z')
                } else {
                    write!(f, "{}", dt.format("%:z"))
                }
            }
            Self::DateLiteral(d) => write!(f, "{d}"),
        }
    }
}

impl Display for Aggregate {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.function.name(), self.field)
    }
}

impl Display for Operand {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Self::Field(p) => write!(f, "{p}"),
            Self::Aggregate(a) => write!(f, "{a}"),
        }
    }
}

impl Display for SelectItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Self::Field(p) => write!(f, "{p}"),
            Self::Subquery(q) => write!(f, "({q})"),
            Self::Aggregate { aggregate, alias } => {
                write!(f, "{aggregate}")?;
                match alias {
                    Some(alias) => write!(f, " {alias}"),
                    None => Ok(()),
                }
            }
            Self::CountAll => f.write_str("COUNT()"),
        }
    }
}

impl Display for FromClause {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.object)?;
        match &self.alias {
            Some(alias) => write!(f, " {alias}"),
            None => Ok(()),
        }
    }
}

impl Condition {
    /// Writes a child of `AND`/`OR`/`NOT`, parenthesising groups so the tree re-parses as is.
    fn fmt_child(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Self::And(_) | Self::Or(_) => write!(f, "({self})"),
            _ => write!(f, "{self}"),
        }
    }

    fn fmt_group(f: &mut Formatter<'_>, children: &[Condition], connective: &str) -> fmt::Result {
        if children.is_empty() {
            // No SOQL means "no conditions"; print something every parser refuses.
            return f.write_str("()");
        }
        for (i, child) in children.iter().enumerate() {
            if i > 0 {
                write!(f, " {connective} ")?;
            }
            child.fmt_child(f)?;
        }
        Ok(())
    }
}

impl Display for Condition {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Self::And(children) => Self::fmt_group(f, children, "AND"),
            Self::Or(children) => Self::fmt_group(f, children, "OR"),
            Self::Not(inner) => {
                f.write_str("NOT ")?;
                inner.fmt_child(f)
            }
            Self::Compare { field, op, value } => write!(f, "{field} {} {value}", op.as_str()),
            Self::In {
                field,
                values,
                negated,
            } => {
                write!(f, "{field} {}IN (", if *negated { "NOT " } else { "" })?;
                comma_separated(f, values)?;
                f.write_char(')')
            }
            Self::Includes { field, values } => {
                write!(f, "{field} INCLUDES (")?;
                comma_separated(f, values)?;
                f.write_char(')')
            }
            Self::Excludes { field, values } => {
                write!(f, "{field} EXCLUDES (")?;
                comma_separated(f, values)?;
                f.write_char(')')
            }
        }
    }
}

impl Display for OrderBy {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.key)?;
        match self.direction {
            Some(SortDirection::Asc) => f.write_str(" ASC")?,
            Some(SortDirection::Desc) => f.write_str(" DESC")?,
            None => {}
        }
        match self.nulls {
            Some(NullsOrder::First) => f.write_str(" NULLS FIRST"),
            Some(NullsOrder::Last) => f.write_str(" NULLS LAST"),
            None => Ok(()),
        }
    }
}

impl Display for Query {
    /// Canonical SOQL text.
    ///
    /// ```
    /// use salesforce_core::soql::parse;
    /// let q = parse("select id from account where name = 'O\\'Brien' and x <> 1 limit 5").unwrap();
    /// assert_eq!(q.to_string(), r"SELECT id FROM account WHERE name = 'O\'Brien' AND x != 1 LIMIT 5");
    /// ```
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("SELECT ")?;
        comma_separated(f, &self.select)?;
        write!(f, " FROM {}", self.from)?;
        if let Some(condition) = &self.where_ {
            write!(f, " WHERE {condition}")?;
        }
        if !self.group_by.is_empty() {
            f.write_str(" GROUP BY ")?;
            comma_separated(f, &self.group_by)?;
        }
        if let Some(condition) = &self.having {
            write!(f, " HAVING {condition}")?;
        }
        if !self.order_by.is_empty() {
            f.write_str(" ORDER BY ")?;
            comma_separated(f, &self.order_by)?;
        }
        if let Some(limit) = self.limit {
            write!(f, " LIMIT {limit}")?;
        }
        if let Some(offset) = self.offset {
            write!(f, " OFFSET {offset}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Condition, FieldPath, Identifier, Query, SelectItem, parse};

    #[test]
    fn hand_built_trees_the_parser_cannot_produce_print_as_refused_text() {
        let mut q = Query::new(
            vec![SelectItem::Field(FieldPath::new("Id").unwrap())],
            Identifier::new("Lead").unwrap(),
        );
        q.where_ = Some(Condition::And(Vec::new()));
        assert_eq!(q.to_string(), "SELECT Id FROM Lead WHERE ()");
        assert!(parse(&q.to_string()).is_err());
        q.where_ = Some(Condition::Or(vec![Condition::And(Vec::new())]));
        assert!(parse(&q.to_string()).is_err());
        q.where_ = None;
        q.select.clear();
        assert!(parse(&q.to_string()).is_err());
    }

    #[test]
    fn canonical_text_of_a_broad_table() {
        let table: &[(&str, &str)] = &[
            ("select id from account", "SELECT id FROM account"),
            (
                "SELECT Id, Account.Name, (select Id from Contacts where Email != null order by LastName limit 3) FROM Account a",
                "SELECT Id, Account.Name, (SELECT Id FROM Contacts WHERE Email != NULL ORDER BY LastName LIMIT 3) FROM Account a",
            ),
            (
                "SELECT Id FROM X WHERE a = 1 AND (b = 2 OR NOT c = 3) AND NOT (d = 4 AND e = 5)",
                "SELECT Id FROM X WHERE a = 1 AND (b = 2 OR NOT c = 3) AND NOT (d = 4 AND e = 5)",
            ),
            (
                "SELECT Id FROM X WHERE (a = 1 AND b = 2) AND c = 3",
                "SELECT Id FROM X WHERE (a = 1 AND b = 2) AND c = 3",
            ),
            (
                "SELECT Id FROM X WHERE ((a = 1))",
                "SELECT Id FROM X WHERE a = 1",
            ),
            (
                "SELECT Id FROM X WHERE a <> 'x' and b in ('p','q') and c not in (1, 2.50) and d includes ('a;b') and e excludes ('c')",
                "SELECT Id FROM X WHERE a != 'x' AND b IN ('p', 'q') AND c NOT IN (1, 2.50) AND d INCLUDES ('a;b') AND e EXCLUDES ('c')",
            ),
            (
                r#"SELECT Id FROM X WHERE n LIKE '50\%\_%' AND m = '\u00e9\n\'\\\"'"#,
                r#"SELECT Id FROM X WHERE n LIKE '50\%\_%' AND m = 'é\n\'\\"'"#,
            ),
            (
                "SELECT Id FROM X WHERE d = 2024-02-29 AND t > 2024-02-29T10:00:00Z AND u < 2024-02-29T10:00:00.120+05:30 AND v = last_n_days:7 AND w = today",
                "SELECT Id FROM X WHERE d = 2024-02-29 AND t > 2024-02-29T10:00:00Z AND u < 2024-02-29T10:00:00.120+05:30 AND v = LAST_N_DAYS:7 AND w = TODAY",
            ),
            (
                "SELECT Id FROM X WHERE b = true AND c = False AND n = -0.50",
                "SELECT Id FROM X WHERE b = TRUE AND c = FALSE AND n = -0.50",
            ),
            (
                "SELECT LeadSource, count(Name) cnt, avg(Score__c) FROM Lead GROUP BY LeadSource, Status HAVING count(Name) > 1 ORDER BY count(Name) desc nulls last, LeadSource asc LIMIT 10 OFFSET 20",
                "SELECT LeadSource, COUNT(Name) cnt, AVG(Score__c) FROM Lead GROUP BY LeadSource, Status HAVING COUNT(Name) > 1 ORDER BY COUNT(Name) DESC NULLS LAST, LeadSource ASC LIMIT 10 OFFSET 20",
            ),
            ("SELECT count() FROM Contact", "SELECT COUNT() FROM Contact"),
        ];
        for (input, canonical) in table {
            let parsed = parse(input).unwrap();
            let printed = parsed.to_string();
            assert_eq!(printed, *canonical, "{input}");
            assert_eq!(parse(&printed).unwrap(), parsed, "{input}");
        }
    }
}
