//! Running a plan over the store: choosing rows through an equality index when a conjunct allows
//! it (else scanning), filtering on borrowed values, sorting, `OFFSET`/`LIMIT`, and turning
//! records into response rows with their parents and child subqueries.

use std::borrow::Cow;
use std::sync::Arc;

use salesforce_core::id::RecordId;
use salesforce_core::soql::ComparisonOperator;

use super::output::{Cell, ChildResult, Row};
use super::predicate::{Lit, Pred, Test, order_values};
use super::resolve::{ChildPlan, Ctx, Item, Leaf, Path, Plan, Projection, Shape, SortKey};
use crate::schema::ObjectIdx;
use crate::store::{OrgData, Record, RowIdx, Table};
use crate::value::{NULL, Value};

/// The whole result of a query, before paging.
pub(crate) enum Outcome {
    /// The matching records, in result order (after `ORDER BY`, `OFFSET` and `LIMIT`).
    Records(Vec<RecordId>),
    /// `COUNT()`.
    Count(usize),
    /// Aggregate rows, ready to serialise.
    Rows(Vec<Row>),
}

/// Runs `plan` (`include_deleted` for `queryAll`).
pub(crate) fn execute(data: &OrgData, plan: &Plan, include_deleted: bool) -> Outcome {
    let cx = Ctx::new(data, include_deleted);
    let Some(table) = data.table(plan.object) else {
        return Outcome::Records(Vec::new());
    };
    let window = |len: usize| {
        let start = usize::try_from(plan.offset).unwrap_or(usize::MAX).min(len);
        let take = plan
            .limit
            .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
        (start, take)
    };
    match &plan.shape {
        Shape::Count => {
            let matched = matching(&cx, table, plan.object, plan.filter.as_ref(), None).len();
            let (start, take) = window(matched);
            Outcome::Count((matched - start).min(take))
        }
        Shape::Records(_) => {
            // Without ORDER BY the first matches are the result: stop scanning there.
            let enough = if plan.order.is_empty() {
                plan.limit
                    .map(|l| l.saturating_add(plan.offset))
                    .and_then(|n| usize::try_from(n).ok())
            } else {
                None
            };
            let mut records = matching(&cx, table, plan.object, plan.filter.as_ref(), enough);
            let keep = plan
                .limit
                .map(|l| l.saturating_add(plan.offset))
                .and_then(|n| usize::try_from(n).ok());
            sort(&cx, plan.object, &mut records, &plan.order, keep);
            let (start, take) = window(records.len());
            Outcome::Records(
                records
                    .into_iter()
                    .skip(start)
                    .take(take)
                    .map(|r| r.id)
                    .collect(),
            )
        }
        Shape::Aggregate(aggregate) => {
            let records = matching(&cx, table, plan.object, plan.filter.as_ref(), None);
            let groups = aggregate.run(&cx, plan.object, records.into_iter());
            let (start, take) = window(groups.len());
            Outcome::Rows(
                groups
                    .iter()
                    .skip(start)
                    .take(take)
                    .map(|group| {
                        let mut row = Row::aggregate();
                        for (name, column) in &aggregate.columns {
                            row.push(name.clone(), Cell::Value(group.get(*column).clone()));
                        }
                        row
                    })
                    .collect(),
            )
        }
    }
}

/// The visible records of `table` that pass `filter`, in table order; at most `enough`.
fn matching<'d>(
    cx: &Ctx<'d>,
    table: &'d Table,
    object: ObjectIdx,
    filter: Option<&Pred<Path>>,
    enough: Option<usize>,
) -> Vec<&'d Record> {
    let limit = enough.unwrap_or(usize::MAX);
    let mut out = Vec::new();
    if limit == 0 {
        return out;
    }
    let mut accept = |record: &'d Record| -> bool {
        if cx.visible(object, record)
            && filter.is_none_or(|f| f.eval(&mut |path| path.eval(cx, object, record)))
        {
            out.push(record);
        }
        out.len() < limit
    };
    match filter.and_then(|f| candidates(table, f)) {
        Some(rows) => {
            for row in rows {
                if let Some(record) = table.row(row)
                    && !accept(record)
                {
                    break;
                }
            }
        }
        None => {
            for record in table.rows() {
                if !accept(record) {
                    break;
                }
            }
        }
    }
    out
}

/// Rows an index says may match `pred` (a superset of the matches, in table order), or `None`
/// when no index helps and the table must be scanned. For `AND`, the smallest candidate set of
/// any conjunct; for `OR`, the union when every branch has one.
fn candidates(table: &Table, pred: &Pred<Path>) -> Option<Vec<RowIdx>> {
    match pred {
        Pred::Test(path, test) if path.hops.is_empty() => {
            let Leaf::Field { idx, id } = path.leaf else {
                return None;
            };
            let literals: Vec<&Lit> = match test {
                Test::Compare(ComparisonOperator::Eq, lit) => vec![lit],
                Test::In {
                    values,
                    negated: false,
                } => values.iter().collect(),
                _ => return None,
            };
            let mut rows = Vec::new();
            for lit in literals {
                if id {
                    let Lit::Id(record_id) = lit else {
                        return None;
                    };
                    rows.extend(table.find(record_id));
                } else {
                    let value = lit.index_value()?;
                    rows.extend_from_slice(table.lookup(idx, &value)?);
                }
            }
            rows.sort_unstable();
            rows.dedup();
            Some(rows)
        }
        Pred::And(parts) => parts
            .iter()
            .filter_map(|p| candidates(table, p))
            .min_by_key(Vec::len),
        Pred::Or(parts) => {
            let mut rows = Vec::new();
            for part in parts {
                rows.extend(candidates(table, part)?);
            }
            rows.sort_unstable();
            rows.dedup();
            Some(rows)
        }
        _ => None,
    }
}

/// Sorts records by the `ORDER BY` keys, ties in table order (records arrive in table order).
/// Each key is evaluated once per record; when only the first `keep` records are wanted (a
/// `LIMIT`), only those are fully sorted.
fn sort<'d>(
    cx: &Ctx<'d>,
    object: ObjectIdx,
    records: &mut Vec<&'d Record>,
    keys: &[SortKey],
    keep: Option<usize>,
) {
    if keys.is_empty() || records.len() < 2 {
        return;
    }
    let width = keys.len();
    let values: Vec<Cow<'d, Value>> = records
        .iter()
        .flat_map(|r| keys.iter().map(move |k| k.path.eval(cx, object, r)))
        .collect();
    let value = |row: usize, key: usize| -> &Value {
        values.get(row * width + key).map_or(&NULL, |v| v.as_ref())
    };
    let compare = |a: &usize, b: &usize| {
        keys.iter()
            .enumerate()
            .map(|(i, k)| order_values(value(*a, i), value(*b, i), k.descending, k.nulls_first))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| a.cmp(b))
    };
    let mut order: Vec<usize> = (0..records.len()).collect();
    match keep {
        Some(0) => order.clear(),
        Some(n) if n < order.len() / 2 => {
            order.select_nth_unstable_by(n - 1, compare);
            order.truncate(n);
            order.sort_unstable_by(compare);
        }
        _ => order.sort_unstable_by(compare),
    }
    *records = order
        .into_iter()
        .filter_map(|i| records.get(i).copied())
        .collect();
}

/// A record as a response row with the projection's fields, parents and children.
pub(crate) fn materialize(
    cx: &Ctx<'_>,
    projection: &Projection,
    object: ObjectIdx,
    record: &Record,
    version: &Arc<str>,
) -> Row {
    let mut row = Row::record(cx.object_name(object), record.id, version.clone());
    for item in &projection.items {
        match item {
            Item::Field { name, leaf } => {
                let value = leaf.eval(cx, object, record).into_owned();
                row.push(name.clone(), Cell::Value(value));
            }
            Item::Parent { hop, sub } => {
                let parent = cx
                    .parent(record, hop)
                    .map(|(o, r)| Box::new(materialize(cx, sub, o, r, version)));
                row.push(hop.name.clone(), Cell::Parent(parent));
            }
            Item::Children(child) => {
                let result = children(cx, child, record, version);
                row.push(child.name.clone(), Cell::Children(result));
            }
        }
    }
    row
}

/// A child subquery's result for one parent (`None` when nothing matches).
fn children(
    cx: &Ctx<'_>,
    child: &ChildPlan,
    parent: &Record,
    version: &Arc<str>,
) -> Option<ChildResult> {
    let table = cx.data.table(child.object)?;
    let mut rows = cx
        .data
        .children(child.object, child.lookup, &parent.id)
        .to_vec();
    rows.sort_unstable();
    let mut records: Vec<&Record> = rows
        .iter()
        .filter_map(|r| table.row(*r))
        .filter(|r| {
            cx.visible(child.object, r)
                && child
                    .filter
                    .as_ref()
                    .is_none_or(|f| f.eval(&mut |path| path.eval(cx, child.object, r)))
        })
        .collect();
    let keep = child
        .limit
        .map(|l| l.saturating_add(child.offset))
        .and_then(|n| usize::try_from(n).ok());
    sort(cx, child.object, &mut records, &child.order, keep);
    let start = usize::try_from(child.offset).unwrap_or(usize::MAX);
    let take = child
        .limit
        .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    let records: Vec<Row> = records
        .into_iter()
        .skip(start)
        .take(take)
        .map(|r| materialize(cx, &child.projection, child.object, r, version))
        .collect();
    if records.is_empty() {
        return None;
    }
    Some(ChildResult {
        total_size: records.len(),
        records,
    })
}
