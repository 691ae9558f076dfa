//! Aggregate queries: `COUNT(field)`, `COUNT_DISTINCT`, `SUM`, `AVG`, `MIN`, `MAX` with aliases
//! (unaliased ones are `expr0`, `expr1`, … in select order), `GROUP BY`, `HAVING` and ordering
//! by group fields or aggregates.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use chrono::NaiveDate;
use salesforce_core::soql::{
    Aggregate, AggregateFunction, Identifier, Operand, Query, SelectItem, SortDirection,
};

use super::predicate::{self, Kind, Pred, Subject, order_values};
use super::resolve::{Ctx, Path, resolve_path};
use super::{invalid_field, malformed};
use crate::error::ApiFailure;
use crate::schema::{FieldType, ObjectIdx, Schema};
use crate::store::Record;
use crate::value::Value;

/// A column of an aggregate row: a group field or an aggregate, by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    Group(usize),
    Aggregate(usize),
}

/// One aggregate the query computes (selected, or only used by `HAVING`/`ORDER BY`).
#[derive(Debug, Clone)]
struct Spec {
    function: AggregateFunction,
    path: Path,
    /// `function(path)`, lowercased, to share one computation between clauses.
    key: String,
}

/// An aggregate query, resolved.
#[derive(Debug, Clone)]
pub(crate) struct AggregatePlan {
    groups: Vec<Path>,
    specs: Vec<Spec>,
    /// The output columns in select order, with their names.
    pub(crate) columns: Vec<(Arc<str>, Column)>,
    having: Option<Pred<Column>>,
    order: Vec<(Column, bool, bool)>,
}

/// One result row: the group's values, then every aggregate's.
#[derive(Debug, Clone)]
pub(crate) struct GroupRow {
    groups: Vec<Value>,
    aggregates: Vec<Value>,
}

impl GroupRow {
    /// The value of a column.
    pub(crate) fn get(&self, column: Column) -> &Value {
        let value = match column {
            Column::Group(i) => self.groups.get(i),
            Column::Aggregate(i) => self.aggregates.get(i),
        };
        value.unwrap_or(&crate::value::NULL)
    }
}

fn result_type(function: AggregateFunction, field: FieldType) -> FieldType {
    match function {
        AggregateFunction::Count | AggregateFunction::CountDistinct => FieldType::Int,
        AggregateFunction::Sum | AggregateFunction::Avg => FieldType::Double,
        AggregateFunction::Min | AggregateFunction::Max => field,
    }
}

struct Builder<'s> {
    schema: &'s Schema,
    object: ObjectIdx,
    alias: Option<&'s Identifier>,
    groups: Vec<Path>,
    specs: Vec<Spec>,
}

impl Builder<'_> {
    fn group_column(
        &self,
        path: &salesforce_core::soql::FieldPath,
    ) -> Result<(Column, Path), ApiFailure> {
        let path = resolve_path(self.schema, self.object, self.alias, path)?;
        match self.groups.iter().position(|g| g.key == path.key) {
            Some(i) => Ok((Column::Group(i), path)),
            None => Err(malformed(format!(
                "Field must be grouped or aggregated: {}",
                path.name
            ))),
        }
    }

    fn aggregate_column(
        &mut self,
        aggregate: &Aggregate,
    ) -> Result<(Column, FieldType), ApiFailure> {
        let path = resolve_path(self.schema, self.object, self.alias, &aggregate.field)?;
        let function = aggregate.function;
        let supported = match function {
            AggregateFunction::Count | AggregateFunction::CountDistinct => true,
            AggregateFunction::Sum | AggregateFunction::Avg => Kind::of(path.ty) == Kind::Number,
            AggregateFunction::Min | AggregateFunction::Max => {
                path.sortable && path.ty != FieldType::Boolean
            }
        };
        if !supported {
            return Err(invalid_field(format!(
                "field {} does not support aggregate operator {}",
                path.name,
                function.name()
            )));
        }
        let ty = result_type(function, path.ty);
        let key = format!("{}({})", function.name(), path.key);
        let index = match self.specs.iter().position(|s| s.key == key) {
            Some(i) => i,
            None => {
                self.specs.push(Spec {
                    function,
                    path,
                    key,
                });
                self.specs.len() - 1
            }
        };
        Ok((Column::Aggregate(index), ty))
    }

    fn column(&mut self, operand: &Operand) -> Result<Subject<Column>, ApiFailure> {
        match operand {
            Operand::Field(path) => {
                let (column, path) = self.group_column(path)?;
                Ok(Subject {
                    key: column,
                    name: path.name.to_string(),
                    ty: path.ty,
                    filterable: true,
                })
            }
            Operand::Aggregate(aggregate) => {
                let (column, ty) = self.aggregate_column(aggregate)?;
                Ok(Subject {
                    key: column,
                    name: format!(
                        "{}({})",
                        aggregate.function.name(),
                        aggregate.field.field_name().as_str()
                    ),
                    ty,
                    filterable: true,
                })
            }
        }
    }
}

/// Resolves an aggregate query's select list, `GROUP BY`, `HAVING` and `ORDER BY`.
pub(crate) fn plan(
    schema: &Schema,
    object: ObjectIdx,
    alias: Option<&Identifier>,
    query: &Query,
    today: NaiveDate,
) -> Result<AggregatePlan, ApiFailure> {
    let groups = query
        .group_by
        .iter()
        .map(|p| {
            let path = resolve_path(schema, object, alias, p)?;
            if path.groupable {
                Ok(path)
            } else {
                Err(invalid_field(format!(
                    "field '{}' can not be grouped in a query call",
                    path.name
                )))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut builder = Builder {
        schema,
        object,
        alias,
        groups,
        specs: Vec::new(),
    };
    let mut columns = Vec::new();
    let mut unnamed = 0usize;
    for item in &query.select {
        match item {
            SelectItem::Field(path) => {
                let (column, path) = builder.group_column(path)?;
                columns.push((path.name, column));
            }
            SelectItem::Aggregate { aggregate, alias } => {
                let (column, _) = builder.aggregate_column(aggregate)?;
                let name: Arc<str> = match alias {
                    Some(a) => a.as_str().into(),
                    None => {
                        unnamed += 1;
                        format!("expr{}", unnamed - 1).into()
                    }
                };
                columns.push((name, column));
            }
            SelectItem::Subquery(_) | SelectItem::CountAll => {
                return Err(malformed(
                    "Only fields and aggregate functions can be selected in an aggregate query",
                ));
            }
        }
    }
    let having = match &query.having {
        Some(condition) => Some(predicate::compile(condition, today, &mut |o| {
            builder.column(o)
        })?),
        None => None,
    };
    let order = query
        .order_by
        .iter()
        .map(|key| {
            let subject = builder.column(&key.key)?;
            Ok((
                subject.key,
                key.effective_direction() == SortDirection::Desc,
                key.nulls_first(),
            ))
        })
        .collect::<Result<Vec<_>, ApiFailure>>()?;
    Ok(AggregatePlan {
        groups: builder.groups,
        specs: builder.specs,
        columns,
        having,
        order,
    })
}

/// A running aggregate.
enum Acc {
    Count(i64),
    Distinct(HashSet<Box<str>>),
    Sum(Option<f64>),
    Avg(f64, i64),
    Min(Option<Value>),
    Max(Option<Value>),
}

impl Acc {
    fn new(function: AggregateFunction) -> Self {
        match function {
            AggregateFunction::Count => Self::Count(0),
            AggregateFunction::CountDistinct => Self::Distinct(HashSet::new()),
            AggregateFunction::Sum => Self::Sum(None),
            AggregateFunction::Avg => Self::Avg(0.0, 0),
            AggregateFunction::Min => Self::Min(None),
            AggregateFunction::Max => Self::Max(None),
        }
    }

    fn add(&mut self, value: &Value) {
        if value.is_null() {
            return;
        }
        match self {
            Self::Count(n) => *n += 1,
            Self::Distinct(seen) => {
                if let Some(key) = value.index_key() {
                    seen.insert(key);
                }
            }
            Self::Sum(sum) => *sum = Some(sum.unwrap_or(0.0) + value.as_f64().unwrap_or(0.0)),
            Self::Avg(sum, n) => {
                *sum += value.as_f64().unwrap_or(0.0);
                *n += 1;
            }
            Self::Min(best) => keep(best, value, true),
            Self::Max(best) => keep(best, value, false),
        }
    }

    fn finish(self, field: FieldType) -> Value {
        match self {
            Self::Count(n) => Value::Int(n),
            Self::Distinct(seen) => Value::Int(i64::try_from(seen.len()).unwrap_or(i64::MAX)),
            Self::Sum(None) | Self::Avg(_, 0) => Value::Null,
            Self::Sum(Some(sum)) if field == FieldType::Int => Value::Int(sum as i64),
            Self::Sum(Some(sum)) => Value::Number(sum),
            Self::Avg(sum, n) => Value::Number(sum / n as f64),
            Self::Min(v) | Self::Max(v) => v.unwrap_or(Value::Null),
        }
    }
}

impl AggregatePlan {
    /// Groups `records` (already filtered) and computes every aggregate, then applies `HAVING`
    /// and `ORDER BY`. Without `GROUP BY` there is exactly one row, even over no records.
    pub(crate) fn run<'d>(
        &self,
        cx: &Ctx<'d>,
        object: ObjectIdx,
        records: impl Iterator<Item = &'d Record>,
    ) -> Vec<GroupRow> {
        // Groups are found by a hash of their values (computed without allocating) and then
        // compared, so only a new group allocates.
        let mut buckets: HashMap<u64, Vec<usize>> = HashMap::new();
        let mut groups: Vec<(Vec<Value>, Vec<Acc>)> = Vec::new();
        let new_accs = || {
            self.specs
                .iter()
                .map(|s| Acc::new(s.function))
                .collect::<Vec<_>>()
        };
        if self.groups.is_empty() {
            groups.push((Vec::new(), new_accs()));
        }
        for record in records {
            let slot = if self.groups.is_empty() {
                0
            } else {
                let mut hasher = DefaultHasher::new();
                for path in &self.groups {
                    hash_value(&path.eval(cx, object, record), &mut hasher);
                }
                let bucket = buckets.entry(hasher.finish()).or_default();
                let found = bucket.iter().copied().find(|g| {
                    groups.get(*g).is_some_and(|(values, _)| {
                        values
                            .iter()
                            .zip(&self.groups)
                            .all(|(v, path)| same_group(v, &path.eval(cx, object, record)))
                    })
                });
                match found {
                    Some(g) => g,
                    None => {
                        let values = self
                            .groups
                            .iter()
                            .map(|path| path.eval(cx, object, record).into_owned())
                            .collect();
                        groups.push((values, new_accs()));
                        bucket.push(groups.len() - 1);
                        groups.len() - 1
                    }
                }
            };
            if let Some((_, accs)) = groups.get_mut(slot) {
                for (spec, acc) in self.specs.iter().zip(accs.iter_mut()) {
                    acc.add(&spec.path.eval(cx, object, record));
                }
            }
        }
        let mut rows: Vec<GroupRow> = groups
            .into_iter()
            .map(|(groups, accs)| GroupRow {
                groups,
                aggregates: accs
                    .into_iter()
                    .zip(&self.specs)
                    .map(|(acc, spec)| acc.finish(spec.path.ty))
                    .collect(),
            })
            .collect();
        if let Some(having) = &self.having {
            rows.retain(|row| having.eval(&mut |c| Cow::Borrowed(row.get(*c))));
        }
        if !self.order.is_empty() {
            rows.sort_by(|a, b| {
                self.order
                    .iter()
                    .map(|(c, desc, nulls_first)| {
                        order_values(a.get(*c), b.get(*c), *desc, *nulls_first)
                    })
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
        }
        rows
    }
}

/// Whether two group values are the same group (text ignoring case, as SOQL groups it).
fn same_group(a: &Value, b: &Value) -> bool {
    match (a.is_null(), b.is_null()) {
        (true, true) => true,
        (false, false) => predicate::compare_values(a, b).is_eq(),
        _ => false,
    }
}

/// Hashes a value consistently with [`same_group`].
fn hash_value(value: &Value, hasher: &mut impl Hasher) {
    match value {
        Value::Null => 0u8.hash(hasher),
        Value::Bool(b) => (1u8, b).hash(hasher),
        Value::Int(_) | Value::Number(_) => {
            let n = value.as_f64().unwrap_or(0.0);
            // -0.0 and 0.0 are the same group.
            (2u8, if n == 0.0 { 0 } else { n.to_bits() }).hash(hasher);
        }
        Value::Text(t) => {
            3u8.hash(hasher);
            for c in t.chars().flat_map(char::to_lowercase) {
                c.hash(hasher);
            }
        }
        Value::Id(id) => (4u8, id.as_str()).hash(hasher),
        Value::Date(d) => (5u8, d).hash(hasher),
        Value::DateTime(t) => (6u8, t.timestamp_millis()).hash(hasher),
    }
}

/// Keeps the smaller (`min`) or larger value in `best`.
fn keep(best: &mut Option<Value>, value: &Value, min: bool) {
    if value.is_null() {
        return;
    }
    let better = best.as_ref().is_none_or(|b| {
        let ord = predicate::compare_values(value, b);
        if min { ord.is_lt() } else { ord.is_gt() }
    });
    if better {
        *best = Some(value.clone());
    }
}
