//! The guard for SOQL written by a model (or any untrusted caller): parse it with the shared
//! grammar, allow only configured objects and relationships, and cap the rows it can return.
//!
//! The shared parser already guarantees exactly one `SELECT` statement with no trailing text, no
//! bind variables and no DML (SOQL has none). On top of that the guard checks:
//! - the top-level `FROM` object is an allowed object;
//! - every child subquery's `FROM` is an allowed relationship (child relationship names such as
//!   `Contacts` are not object names, so they are configured separately);
//! - every relationship segment of every field path (in any clause, in subqueries too) is an
//!   allowed relationship. A leading segment equal to the queried object's name or alias is read
//!   as a prefix and removed (and the alias dropped), so the text sent is the reading that was
//!   checked even where an alias shadows a relationship name;
//! - `LIMIT` is at most the cap: added when absent, lowered when above, in subqueries too. A bare
//!   `SELECT COUNT()` query returns one number, so its `LIMIT` is left alone (a cap would change
//!   the count).
//!
//! The guarded query is then printed by the shared printer, so the text sent to Salesforce is
//! exactly the tree that was checked.

use crate::Error;
use salesforce_core::soql::{Condition, FieldPath, Identifier, Operand, Query, SelectItem, parse};

/// What the guard did to the top-level `LIMIT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitAdjustment {
    /// The query's own `LIMIT` was within the cap (or the query is a bare `COUNT()`).
    Kept,
    /// The query had no `LIMIT`; the cap was added.
    Added,
    /// The query asked for more rows than the cap; the cap replaced its `LIMIT`.
    Lowered {
        /// The `LIMIT` the query asked for.
        requested: u64,
    },
}

/// A query that passed the guard, possibly with its `LIMIT` adjusted.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardedQuery {
    query: Query,
    limit: LimitAdjustment,
}

impl GuardedQuery {
    /// The checked (and adjusted) query.
    pub fn query(&self) -> &Query {
        &self.query
    }

    /// The checked query, by value.
    pub fn into_query(self) -> Query {
        self.query
    }

    /// What happened to the top-level `LIMIT` (worth telling the model when rows were cut).
    pub fn limit_adjustment(&self) -> LimitAdjustment {
        self.limit
    }

    /// The SOQL text to send: the shared printer's rendering of the checked tree.
    pub fn to_soql(&self) -> String {
        self.query.to_string()
    }
}

/// The policy for untrusted SOQL: allowed objects, allowed relationships and a row cap.
///
/// ```
/// use salesforce_api::soql::{LimitAdjustment, QueryGuard};
/// let guard = QueryGuard::new(200)?
///     .allow_objects(["Lead", "Account"])?
///     .allow_relationships(["Owner", "Contacts"])?;
/// let checked = guard.check("SELECT Id, Owner.Name FROM Lead WHERE Status = 'Open'")?;
/// assert_eq!(checked.to_soql(), "SELECT Id, Owner.Name FROM Lead WHERE Status = 'Open' LIMIT 200");
/// assert_eq!(checked.limit_adjustment(), LimitAdjustment::Added);
/// assert!(guard.check("SELECT Id FROM User").is_err());
/// assert!(guard.check("SELECT Id FROM Lead; SELECT Id FROM User").is_err());
/// # Ok::<(), salesforce_api::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryGuard {
    objects: Vec<Identifier>,
    relationships: Vec<Identifier>,
    max_limit: u64,
}

impl QueryGuard {
    /// A guard that allows nothing yet and caps results at `max_limit` rows (at least 1).
    pub fn new(max_limit: u64) -> Result<Self, Error> {
        if max_limit == 0 {
            return Err(Error::InvalidLimitCap);
        }
        Ok(Self {
            objects: Vec::new(),
            relationships: Vec::new(),
            max_limit,
        })
    }

    /// Allows querying these objects (validated names, compared case-insensitively).
    pub fn allow_objects<S: AsRef<str>>(
        mut self,
        names: impl IntoIterator<Item = S>,
    ) -> Result<Self, Error> {
        for name in names {
            self.objects.push(Identifier::new(name.as_ref())?);
        }
        Ok(self)
    }

    /// Allows following these relationships: parent relationships in field paths (`Owner`,
    /// `Account`, `Invoice__r`) and child relationships in subqueries (`Contacts`).
    pub fn allow_relationships<S: AsRef<str>>(
        mut self,
        names: impl IntoIterator<Item = S>,
    ) -> Result<Self, Error> {
        for name in names {
            self.relationships.push(Identifier::new(name.as_ref())?);
        }
        Ok(self)
    }

    /// The row cap.
    pub fn max_limit(&self) -> u64 {
        self.max_limit
    }

    /// Parses `soql` with the shared grammar and checks it against the policy.
    pub fn check(&self, soql: &str) -> Result<GuardedQuery, Error> {
        self.check_query(parse(soql)?)
    }

    /// Checks an already-parsed (or built) query against the policy.
    pub fn check_query(&self, mut query: Query) -> Result<GuardedQuery, Error> {
        if !contains(&self.objects, &query.from.object) {
            return Err(Error::ObjectNotAllowed {
                object: query.from.object.as_str().to_owned(),
            });
        }
        self.check_subqueries(&query)?;
        strip_prefixes(&mut query);
        self.check_relationships(&mut query)?;
        let limit = self.cap_limit(&mut query);
        Ok(GuardedQuery { query, limit })
    }

    fn check_subqueries(&self, query: &Query) -> Result<(), Error> {
        for sub in query.subqueries() {
            if !contains(&self.relationships, &sub.from.object) {
                return Err(Error::ObjectNotAllowed {
                    object: sub.from.object.as_str().to_owned(),
                });
            }
            self.check_subqueries(sub)?;
        }
        Ok(())
    }

    /// Every relationship segment of every path, in this query and its subqueries, is allowed.
    fn check_relationships(&self, query: &mut Query) -> Result<(), Error> {
        let mut refused = None;
        visit_paths(query, &mut |path: &mut FieldPath| {
            if refused.is_none() {
                refused = path
                    .relationships()
                    .iter()
                    .find(|r| !contains(&self.relationships, r))
                    .cloned();
            }
        });
        match refused {
            Some(relationship) => Err(Error::RelationshipNotAllowed {
                relationship: relationship.as_str().to_owned(),
            }),
            None => Ok(()),
        }
    }

    fn cap_limit(&self, query: &mut Query) -> LimitAdjustment {
        for item in &mut query.select {
            if let SelectItem::Subquery(sub) = item {
                self.cap_limit(sub);
            }
        }
        if query.select == [SelectItem::CountAll] {
            return LimitAdjustment::Kept;
        }
        match query.limit {
            Some(limit) if limit <= self.max_limit => LimitAdjustment::Kept,
            Some(requested) => {
                query.limit = Some(self.max_limit);
                LimitAdjustment::Lowered { requested }
            }
            None => {
                query.limit = Some(self.max_limit);
                LimitAdjustment::Added
            }
        }
    }
}

/// Rewrites `a.Name` (alias prefix) and `Account.Name` in `FROM Account` (object prefix) to
/// `Name`, and drops the alias, in the query and each subquery.
///
/// Without describe the guard cannot tell an alias from a relationship of the same name
/// (`SELECT Owner.Name FROM Lead Owner`), so it removes the ambiguity: the text sent is the
/// prefix-free reading that was checked, never a relationship that was not.
fn strip_prefixes(query: &mut Query) {
    let object = query.from.object.clone();
    let alias = query.from.alias.take();
    let is_prefix = |segment: &Identifier| {
        segment.eq_ignore_case(object.as_str())
            || alias
                .as_ref()
                .is_some_and(|a| segment.eq_ignore_case(a.as_str()))
    };
    for_each_own_path(query, &mut |path: &mut FieldPath| {
        if path.relationships().first().is_some_and(is_prefix)
            && let Ok(stripped) =
                FieldPath::from_segments(path.segments().skip(1).cloned().collect())
        {
            *path = stripped;
        }
    });
    for item in &mut query.select {
        if let SelectItem::Subquery(sub) = item {
            strip_prefixes(sub);
        }
    }
}

/// Every field path of `query` itself (select list, `WHERE`, `HAVING`, `GROUP BY`, `ORDER BY`),
/// not of its subqueries: what a describe-aware caller resolves to decide which relationships to
/// allow (each subquery is read against its own object, through [`Query::subqueries`]).
pub fn own_field_paths(query: &Query) -> Vec<FieldPath> {
    let mut copy = query.clone();
    let mut paths = Vec::new();
    for_each_own_path(&mut copy, &mut |path: &mut FieldPath| {
        paths.push(path.clone())
    });
    paths
}

/// Calls `f` on every field path of `query` and of its subqueries.
fn visit_paths(query: &mut Query, f: &mut impl FnMut(&mut FieldPath)) {
    for_each_own_path(query, f);
    for item in &mut query.select {
        if let SelectItem::Subquery(sub) = item {
            visit_paths(sub, f);
        }
    }
}

/// Calls `f` on every field path of `query` itself (not of its subqueries).
fn for_each_own_path(query: &mut Query, f: &mut impl FnMut(&mut FieldPath)) {
    for item in &mut query.select {
        match item {
            SelectItem::Field(path) => f(path),
            SelectItem::Aggregate { aggregate, .. } => f(&mut aggregate.field),
            SelectItem::Subquery(_) | SelectItem::CountAll => {}
        }
    }
    for condition in query.where_.iter_mut().chain(query.having.iter_mut()) {
        condition_paths(condition, f);
    }
    query.group_by.iter_mut().for_each(&mut *f);
    for order in &mut query.order_by {
        f(operand_path(&mut order.key));
    }
}

fn contains(allowed: &[Identifier], name: &Identifier) -> bool {
    allowed.iter().any(|a| a.eq_ignore_case(name.as_str()))
}

fn operand_path(operand: &mut Operand) -> &mut FieldPath {
    match operand {
        Operand::Field(path) => path,
        Operand::Aggregate(aggregate) => &mut aggregate.field,
    }
}

fn condition_paths(condition: &mut Condition, f: &mut impl FnMut(&mut FieldPath)) {
    match condition {
        Condition::And(children) | Condition::Or(children) => {
            for child in children {
                condition_paths(child, f);
            }
        }
        Condition::Not(inner) => condition_paths(inner, f),
        Condition::Compare { field, .. } => f(operand_path(field)),
        Condition::In { field, .. }
        | Condition::Includes { field, .. }
        | Condition::Excludes { field, .. } => f(field),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_limit_never_exceeds_the_cap(cap in 1u64..5_000, limit in prop::option::of(any::<u64>())) {
            let guard = QueryGuard::new(cap).and_then(|g| g.allow_objects(["Lead"])).unwrap();
            let text = match limit {
                Some(n) => format!("SELECT Id FROM Lead LIMIT {n}"),
                None => "SELECT Id FROM Lead".to_owned(),
            };
            let checked = guard.check(&text).unwrap();
            let expected = limit.map_or(cap, |n| n.min(cap));
            prop_assert_eq!(checked.query().limit, Some(expected));
            // The text sent is exactly the checked tree, and checking it again changes nothing.
            let again = guard.check(&checked.to_soql()).unwrap();
            prop_assert_eq!(again.query(), checked.query());
            prop_assert_eq!(again.limit_adjustment(), LimitAdjustment::Kept);
        }
    }

    fn guard() -> QueryGuard {
        QueryGuard::new(100)
            .and_then(|g| g.allow_objects(["Lead", "Account", "Contact"]))
            .and_then(|g| g.allow_relationships(["Owner", "Contacts", "Account"]))
            .unwrap()
    }

    #[test]
    fn allowed_queries_pass_with_the_limit_enforced() {
        let table: &[(&str, &str, LimitAdjustment)] = &[
            (
                "SELECT Id FROM Lead",
                "SELECT Id FROM Lead LIMIT 100",
                LimitAdjustment::Added,
            ),
            (
                "select id from lead limit 5",
                "SELECT id FROM lead LIMIT 5",
                LimitAdjustment::Kept,
            ),
            (
                "SELECT Id FROM Lead LIMIT 100",
                "SELECT Id FROM Lead LIMIT 100",
                LimitAdjustment::Kept,
            ),
            (
                "SELECT Id FROM Lead LIMIT 5000",
                "SELECT Id FROM Lead LIMIT 100",
                LimitAdjustment::Lowered { requested: 5000 },
            ),
            (
                "SELECT Name, (SELECT Email FROM Contacts LIMIT 1000) FROM Account WHERE Owner.Name = 'x'",
                "SELECT Name, (SELECT Email FROM Contacts LIMIT 100) FROM Account WHERE Owner.Name = 'x' LIMIT 100",
                LimitAdjustment::Added,
            ),
            (
                "SELECT a.Name, Account.Owner.Name FROM Account a WHERE a.Owner.Name = 'x' ORDER BY a.Id",
                "SELECT Name, Owner.Name FROM Account WHERE Owner.Name = 'x' ORDER BY Id LIMIT 100",
                LimitAdjustment::Added,
            ),
            (
                // An alias shadowing a relationship: what is sent is the checked, prefix-free reading.
                "SELECT CreatedBy.Name FROM Lead CreatedBy",
                "SELECT Name FROM Lead LIMIT 100",
                LimitAdjustment::Added,
            ),
            (
                "SELECT Id, (SELECT c.Email, Contacts.Phone FROM Contacts c) FROM Account",
                "SELECT Id, (SELECT Email, Phone FROM Contacts LIMIT 100) FROM Account LIMIT 100",
                LimitAdjustment::Added,
            ),
            (
                "SELECT COUNT() FROM Lead",
                "SELECT COUNT() FROM Lead",
                LimitAdjustment::Kept,
            ),
            (
                "SELECT Status, COUNT(Id) FROM Lead GROUP BY Status",
                "SELECT Status, COUNT(Id) FROM Lead GROUP BY Status LIMIT 100",
                LimitAdjustment::Added,
            ),
        ];
        for (input, output, adjustment) in table {
            let checked = guard().check(input).unwrap();
            assert_eq!(checked.to_soql(), *output, "{input}");
            assert_eq!(checked.limit_adjustment(), *adjustment, "{input}");
        }
    }

    #[test]
    fn own_paths_leave_subqueries_out() {
        let query = parse(
            "SELECT Name, Owner.Name, (SELECT Email FROM Contacts) FROM Account WHERE Parent.Name = 'x' ORDER BY CreatedBy.Name",
        )
        .unwrap();
        let paths: Vec<String> = own_field_paths(&query)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            paths,
            ["Name", "Owner.Name", "Parent.Name", "CreatedBy.Name"]
        );
    }

    #[test]
    fn refusals() {
        let not_object = |o: &str| Error::ObjectNotAllowed { object: o.into() };
        let not_rel = |r: &str| Error::RelationshipNotAllowed {
            relationship: r.into(),
        };
        let table: Vec<(&str, Error)> = vec![
            ("SELECT Id FROM User", not_object("User")),
            (
                "SELECT Id, (SELECT Id FROM Cases) FROM Account",
                not_object("Cases"),
            ),
            (
                "SELECT Id, (SELECT Id FROM Lead) FROM Account",
                not_object("Lead"),
            ),
            ("SELECT CreatedBy.Email FROM Lead", not_rel("CreatedBy")),
            (
                "SELECT Id FROM Lead WHERE CreatedBy.Email = 'x'",
                not_rel("CreatedBy"),
            ),
            (
                "SELECT Id FROM Lead WHERE NOT (A = 1 OR Manager__r.B IN (1))",
                not_rel("Manager__r"),
            ),
            (
                "SELECT Id FROM Lead ORDER BY LastModifiedBy.Name",
                not_rel("LastModifiedBy"),
            ),
            (
                "SELECT Id FROM Lead GROUP BY Parent.Name",
                not_rel("Parent"),
            ),
            (
                "SELECT MAX(Owner.Manager.Age__c) FROM Lead",
                not_rel("Manager"),
            ),
            (
                "SELECT Id FROM Lead GROUP BY Id HAVING COUNT(CreatedBy.Id) > 1",
                not_rel("CreatedBy"),
            ),
            (
                "SELECT Id, (SELECT CreatedBy.Name FROM Contacts) FROM Account",
                not_rel("CreatedBy"),
            ),
            ("SELECT Lead.Owner.Name FROM Account", not_rel("Lead")),
        ];
        for (input, expected) in table {
            let got = guard().check(input).map_err(|e| e.to_string());
            assert_eq!(got, Err(expected.to_string()), "{input}");
        }
        for malformed in [
            "SELECT Id FROM Lead; SELECT Id FROM User",
            "SELECT Id FROM Lead SELECT Id FROM User",
            "SELECT Id FROM Lead WHERE Name = :name",
            "DELETE FROM Lead",
            "SELECT Id FROM Lead WHERE Id IN (SELECT Id FROM User)",
            "SELECT Id FROM Lead OFFSET 5000",
        ] {
            assert!(
                matches!(guard().check(malformed), Err(Error::Soql(_))),
                "{malformed}"
            );
        }
        assert!(matches!(QueryGuard::new(0), Err(Error::InvalidLimitCap)));
        assert!(
            QueryGuard::new(1)
                .unwrap()
                .allow_objects(["Lead; x"])
                .is_err()
        );
        // Nothing is allowed until configured.
        assert_eq!(
            QueryGuard::new(1)
                .unwrap()
                .check("SELECT Id FROM Lead")
                .map_err(|e| e.to_string()),
            Err(not_object("Lead").to_string())
        );
    }
}
