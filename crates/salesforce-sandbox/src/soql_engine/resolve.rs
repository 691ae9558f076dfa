//! Resolving a parsed query against the schema: the object, field paths through parent
//! relationships (polymorphic ones like `What` and `Who` included), child subqueries, and the
//! plan the executor runs. Every name error is found here, before any row is read.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::NaiveDate;
use salesforce_core::soql::{FieldPath, Identifier, Operand, OrderBy, Query, SelectItem};

use super::aggregate::{self, AggregatePlan};
use super::predicate::{self, Pred, Subject};
use super::{malformed, no_such_child_relationship, no_such_column, no_such_relationship};
use crate::error::ApiFailure;
use crate::schema::{FieldDef, FieldIdx, FieldType, ObjectIdx, Schema};
use crate::store::{OrgData, Record};
use crate::value::{NULL, Value};

/// A step from a record to its parent through a lookup field.
#[derive(Debug, Clone)]
pub(crate) struct Hop {
    /// The lookup field on the child.
    pub(crate) field: FieldIdx,
    /// The parent object, or `None` for a polymorphic lookup (any of several objects).
    pub(crate) target: Option<ObjectIdx>,
    /// The relationship name, canonical casing (`Account`, `Owner`, `What`).
    pub(crate) name: Arc<str>,
}

/// The field a path ends in.
#[derive(Debug, Clone)]
pub(crate) enum Leaf {
    /// A field of a known object; `id` marks the `Id` field, which records keep outside their
    /// values.
    Field { idx: FieldIdx, id: bool },
    /// `Id` through a polymorphic relationship.
    PolyId,
    /// `Name` through a polymorphic relationship: the target's name field.
    PolyName,
    /// `Type` through a polymorphic relationship: the target's object name.
    PolyType,
}

/// A resolved field reference.
#[derive(Debug, Clone)]
pub(crate) struct Path {
    pub(crate) hops: Vec<Hop>,
    pub(crate) leaf: Leaf,
    /// The field's API name, canonical casing.
    pub(crate) name: Arc<str>,
    /// The whole path, lowercased, for matching `GROUP BY` and `ORDER BY` against the select list.
    pub(crate) key: String,
    pub(crate) ty: FieldType,
    pub(crate) filterable: bool,
    pub(crate) sortable: bool,
    pub(crate) groupable: bool,
}

/// What evaluation needs besides the record: the data, which rows count as deleted, and
/// whether deleted rows are visible (`queryAll`).
pub(crate) struct Ctx<'d> {
    pub(crate) data: &'d OrgData,
    /// The `IsDeleted` field of every object, by object index.
    deleted: Vec<Option<FieldIdx>>,
    /// Every object's name, by object index, shared by the rows that carry it.
    names: Vec<Arc<str>>,
    pub(crate) include_deleted: bool,
}

impl<'d> Ctx<'d> {
    pub(crate) fn new(data: &'d OrgData, include_deleted: bool) -> Self {
        let deleted = data
            .schema()
            .objects()
            .iter()
            .map(|o| o.field_index("IsDeleted"))
            .collect();
        let names = data
            .schema()
            .objects()
            .iter()
            .map(|o| Arc::from(o.name.as_str()))
            .collect();
        Self {
            data,
            deleted,
            names,
            include_deleted,
        }
    }

    /// The object's API name.
    pub(crate) fn object_name(&self, object: ObjectIdx) -> Arc<str> {
        self.names
            .get(object)
            .cloned()
            .unwrap_or_else(|| Arc::from(""))
    }

    /// Whether the record is soft-deleted.
    pub(crate) fn is_deleted(&self, object: ObjectIdx, record: &Record) -> bool {
        self.deleted
            .get(object)
            .copied()
            .flatten()
            .is_some_and(|idx| record.get(idx).as_bool() == Some(true))
    }

    /// Whether the query can see the record.
    pub(crate) fn visible(&self, object: ObjectIdx, record: &Record) -> bool {
        self.include_deleted || !self.is_deleted(object, record)
    }

    /// The parent a hop leads to, if the lookup is set and the parent is visible.
    pub(crate) fn parent(&self, record: &Record, hop: &Hop) -> Option<(ObjectIdx, &'d Record)> {
        let id = record.get(hop.field).as_id()?;
        let (object, parent) = self.data.resolve(&id)?;
        if hop.target.is_some_and(|t| t != object) || !self.visible(object, parent) {
            return None;
        }
        Some((object, parent))
    }
}

impl Leaf {
    /// The leaf's value on `record` of `object`.
    pub(crate) fn eval<'d>(
        &self,
        cx: &Ctx<'d>,
        object: ObjectIdx,
        record: &'d Record,
    ) -> Cow<'d, Value> {
        match self {
            Self::Field { id: true, .. } | Self::PolyId => Cow::Owned(Value::Id(record.id)),
            Self::Field { idx, .. } => Cow::Borrowed(record.get(*idx)),
            Self::PolyName => cx
                .data
                .schema()
                .object_at(object)
                .and_then(|o| o.name_field())
                .map_or(Cow::Borrowed(&NULL), |(idx, _)| {
                    Cow::Borrowed(record.get(idx))
                }),
            Self::PolyType => cx
                .data
                .schema()
                .object_at(object)
                .map_or(Cow::Borrowed(&NULL), |o| Cow::Owned(Value::text(&o.name))),
        }
    }
}

impl Path {
    /// The path's value starting from `record` of `object` (null when a lookup on the way is
    /// empty or its parent is not visible).
    pub(crate) fn eval<'d>(
        &self,
        cx: &Ctx<'d>,
        object: ObjectIdx,
        record: &'d Record,
    ) -> Cow<'d, Value> {
        let (mut object, mut record) = (object, record);
        for hop in &self.hops {
            match cx.parent(record, hop) {
                Some((o, r)) => (object, record) = (o, r),
                None => return Cow::Borrowed(&NULL),
            }
        }
        self.leaf.eval(cx, object, record)
    }

    /// The subject a condition on this path tests.
    pub(crate) fn subject(self) -> Subject<Path> {
        Subject {
            name: self.name.to_string(),
            ty: self.ty,
            filterable: self.filterable,
            key: self,
        }
    }
}

fn long_text(field: &FieldDef) -> bool {
    field.field_type == FieldType::Textarea && field.length > 255
}

/// Resolves a field path from `root`: an optional leading object name or alias, parent
/// relationships, then the field.
pub(crate) fn resolve_path(
    schema: &Schema,
    root: ObjectIdx,
    alias: Option<&Identifier>,
    path: &FieldPath,
) -> Result<Path, ApiFailure> {
    let root_def = schema
        .object_at(root)
        .ok_or_else(|| no_such_column(path.field_name().as_str(), "?"))?;
    let mut segments: Vec<&Identifier> = path.segments().collect();
    if segments.len() > 1 {
        let first = path.first();
        let is_alias = alias.is_some_and(|a| a.eq_ignore_case(first.as_str()));
        let is_object = first.eq_ignore_case(&root_def.name)
            && root_def.parent_relationship(first.as_str()).is_none();
        if is_alias || is_object {
            segments.remove(0);
        }
    }
    let Some((field_name, relationships)) = segments.split_last() else {
        return Err(no_such_column("", &root_def.name));
    };
    let mut current = Some(root);
    let mut hops = Vec::with_capacity(relationships.len());
    let mut key = String::new();
    for relationship in relationships {
        let def = current
            .and_then(|o| schema.object_at(o))
            .ok_or_else(|| no_such_relationship(relationship.as_str()))?;
        let (field, lookup) = def
            .parent_relationship(relationship.as_str())
            .ok_or_else(|| no_such_relationship(relationship.as_str()))?;
        let name: Arc<str> = lookup
            .relationship_name
            .as_deref()
            .unwrap_or(relationship.as_str())
            .into();
        let target = match lookup.reference_to.as_slice() {
            [one] => schema.object(one).map(|(idx, _)| idx),
            _ => None,
        };
        key.push_str(&name.to_ascii_lowercase());
        key.push('.');
        hops.push(Hop {
            field,
            target,
            name,
        });
        current = target;
    }
    let name = field_name.as_str();
    let resolved = match current.and_then(|o| schema.object_at(o)) {
        Some(def) => {
            let (idx, field) = def
                .field(name)
                .ok_or_else(|| no_such_column(name, &def.name))?;
            let ty = field.field_type;
            Path {
                leaf: Leaf::Field {
                    idx,
                    id: ty == FieldType::Id,
                },
                name: field.name.as_str().into(),
                key: String::new(),
                ty,
                filterable: !long_text(field),
                sortable: !long_text(field) && ty != FieldType::Multipicklist,
                groupable: !matches!(
                    ty,
                    FieldType::Textarea
                        | FieldType::Multipicklist
                        | FieldType::Datetime
                        | FieldType::Currency
                        | FieldType::Double
                        | FieldType::Percent
                ),
                hops,
            }
        }
        // Through a polymorphic lookup only the fields of Salesforce's `Name` entity are known.
        None => {
            let (leaf, canonical, ty) = if name.eq_ignore_ascii_case("Id") {
                (Leaf::PolyId, "Id", FieldType::Id)
            } else if name.eq_ignore_ascii_case("Name") {
                (Leaf::PolyName, "Name", FieldType::String)
            } else if name.eq_ignore_ascii_case("Type") {
                (Leaf::PolyType, "Type", FieldType::String)
            } else {
                return Err(no_such_column(name, "Name"));
            };
            Path {
                hops,
                leaf,
                name: canonical.into(),
                key: String::new(),
                ty,
                filterable: true,
                sortable: true,
                groupable: true,
            }
        }
    };
    key.push_str(&resolved.name.to_ascii_lowercase());
    Ok(Path { key, ..resolved })
}

/// One `ORDER BY` key over records.
#[derive(Debug, Clone)]
pub(crate) struct SortKey {
    pub(crate) path: Path,
    pub(crate) descending: bool,
    pub(crate) nulls_first: bool,
}

/// The fields a record is serialised with, nested the way Salesforce nests them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Projection {
    pub(crate) items: Vec<Item>,
}

/// One entry of a [`Projection`].
#[derive(Debug, Clone)]
pub(crate) enum Item {
    /// A field of this record.
    Field { name: Arc<str>, leaf: Leaf },
    /// A parent record, as a nested object (or null).
    Parent { hop: Hop, sub: Projection },
    /// A child subquery, as a nested result (or null).
    Children(Box<ChildPlan>),
}

impl Projection {
    fn insert(&mut self, hops: &[Hop], leaf: Leaf, name: Arc<str>) -> Result<(), ApiFailure> {
        let Some((hop, rest)) = hops.split_first() else {
            let duplicate = self
                .items
                .iter()
                .any(|i| matches!(i, Item::Field { name: n, .. } if n.eq_ignore_ascii_case(&name)));
            if duplicate {
                return Err(malformed(format!("duplicate field selected: {name}")));
            }
            self.items.push(Item::Field { name, leaf });
            return Ok(());
        };
        let existing = self.items.iter().position(
            |i| matches!(i, Item::Parent { hop: h, .. } if h.name.eq_ignore_ascii_case(&hop.name)),
        );
        let pos = match existing {
            Some(pos) => pos,
            None => {
                self.items.push(Item::Parent {
                    hop: hop.clone(),
                    sub: Projection::default(),
                });
                self.items.len() - 1
            }
        };
        match self.items.get_mut(pos) {
            Some(Item::Parent { sub, .. }) => sub.insert(rest, leaf, name),
            _ => Ok(()),
        }
    }
}

/// A child relationship subquery, run once per parent record.
#[derive(Debug, Clone)]
pub(crate) struct ChildPlan {
    /// The relationship name, canonical casing (`Contacts`).
    pub(crate) name: Arc<str>,
    pub(crate) object: ObjectIdx,
    /// The child's lookup field pointing at the parent.
    pub(crate) lookup: FieldIdx,
    pub(crate) filter: Option<Pred<Path>>,
    pub(crate) order: Vec<SortKey>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: u64,
    pub(crate) projection: Projection,
}

/// What a query returns.
#[derive(Debug, Clone)]
pub(crate) enum Shape {
    /// Records with these fields.
    Records(Projection),
    /// `COUNT()`: only a number.
    Count,
    /// Aggregate rows.
    Aggregate(AggregatePlan),
}

/// A query resolved against the schema, ready to run (and to rerun pages of).
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) object: ObjectIdx,
    pub(crate) filter: Option<Pred<Path>>,
    pub(crate) shape: Shape,
    pub(crate) order: Vec<SortKey>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: u64,
}

/// Resolves `query` against `schema`; `today` anchors relative date literals.
pub(crate) fn plan(schema: &Schema, query: &Query, today: NaiveDate) -> Result<Plan, ApiFailure> {
    let name = query.from.object.as_str();
    let (object, _) = schema
        .object(name)
        .filter(|(_, d)| d.queryable)
        .ok_or_else(|| ApiFailure::invalid_type(name))?;
    let alias = query.from.alias.as_ref();
    let filter = where_filter(schema, object, alias, query, today)?;
    let is_count = query
        .select
        .iter()
        .any(|i| matches!(i, SelectItem::CountAll));
    let is_aggregate = !query.group_by.is_empty()
        || query
            .select
            .iter()
            .any(|i| matches!(i, SelectItem::Aggregate { .. }));
    let (shape, order) = if is_count {
        if !query.group_by.is_empty() || !query.order_by.is_empty() {
            return Err(malformed(
                "COUNT() cannot be combined with GROUP BY or ORDER BY",
            ));
        }
        (Shape::Count, Vec::new())
    } else if is_aggregate {
        let aggregate = aggregate::plan(schema, object, alias, query, today)?;
        (Shape::Aggregate(aggregate), Vec::new())
    } else {
        if query.having.is_some() {
            return Err(malformed("HAVING requires GROUP BY or an aggregate"));
        }
        let projection = projection(schema, object, alias, query, today, true)?;
        let order = sort_keys(schema, object, alias, &query.order_by)?;
        (Shape::Records(projection), order)
    };
    Ok(Plan {
        object,
        filter,
        shape,
        order,
        limit: query.limit,
        offset: query.offset.unwrap_or(0),
    })
}

fn where_filter(
    schema: &Schema,
    object: ObjectIdx,
    alias: Option<&Identifier>,
    query: &Query,
    today: NaiveDate,
) -> Result<Option<Pred<Path>>, ApiFailure> {
    let Some(condition) = &query.where_ else {
        return Ok(None);
    };
    let mut resolve = |operand: &Operand| match operand {
        Operand::Field(path) => resolve_path(schema, object, alias, path).map(Path::subject),
        Operand::Aggregate(_) => Err(predicate::no_aggregates_in_where()),
    };
    predicate::compile(condition, today, &mut resolve).map(Some)
}

fn sort_keys(
    schema: &Schema,
    object: ObjectIdx,
    alias: Option<&Identifier>,
    order_by: &[OrderBy],
) -> Result<Vec<SortKey>, ApiFailure> {
    order_by
        .iter()
        .map(|key| {
            let Operand::Field(path) = &key.key else {
                return Err(malformed(
                    "Ordered field must be grouped or aggregated in a query without GROUP BY",
                ));
            };
            let path = resolve_path(schema, object, alias, path)?;
            if !path.sortable {
                return Err(super::invalid_field(format!(
                    "field '{}' can not be sorted in a query call",
                    path.name
                )));
            }
            Ok(SortKey {
                path,
                descending: key.effective_direction() == salesforce_core::soql::SortDirection::Desc,
                nulls_first: key.nulls_first(),
            })
        })
        .collect()
}

/// The select list of a record query (`subqueries` false inside a subquery, where Salesforce
/// allows no further nesting).
fn projection(
    schema: &Schema,
    object: ObjectIdx,
    alias: Option<&Identifier>,
    query: &Query,
    today: NaiveDate,
    subqueries: bool,
) -> Result<Projection, ApiFailure> {
    let mut projection = Projection::default();
    for item in &query.select {
        match item {
            SelectItem::Field(path) => {
                let path = resolve_path(schema, object, alias, path)?;
                projection.insert(&path.hops, path.leaf, path.name)?;
            }
            SelectItem::Subquery(sub) if subqueries => {
                let child = child_plan(schema, object, sub, today)?;
                let duplicate = projection.items.iter().any(
                    |i| matches!(i, Item::Children(c) if c.name.eq_ignore_ascii_case(&child.name)),
                );
                if duplicate {
                    return Err(malformed(format!(
                        "duplicate relationship selected: {}",
                        child.name
                    )));
                }
                projection.items.push(Item::Children(Box::new(child)));
            }
            SelectItem::Subquery(_) => {
                return Err(malformed(
                    "Nesting of semi join sub-selects is not supported",
                ));
            }
            SelectItem::Aggregate { .. } | SelectItem::CountAll => {
                return Err(malformed(
                    "Aggregate functions are not supported in a subquery",
                ));
            }
        }
    }
    Ok(projection)
}

fn child_plan(
    schema: &Schema,
    parent: ObjectIdx,
    sub: &Query,
    today: NaiveDate,
) -> Result<ChildPlan, ApiFailure> {
    let relationship = sub.from.object.as_str();
    let parent_name = schema
        .object_at(parent)
        .map(|d| d.name.clone())
        .unwrap_or_default();
    let child = schema
        .child_relationship(&parent_name, relationship)
        .ok_or_else(|| no_such_child_relationship(relationship))?;
    let (object, child_def) = schema
        .object(&child.child_object)
        .ok_or_else(|| no_such_child_relationship(relationship))?;
    let lookup = child_def
        .field_index(&child.field)
        .ok_or_else(|| no_such_child_relationship(relationship))?;
    if !sub.group_by.is_empty() || sub.having.is_some() {
        return Err(malformed("GROUP BY is not supported in a subquery"));
    }
    let alias = sub.from.alias.as_ref();
    Ok(ChildPlan {
        name: child
            .relationship_name
            .as_deref()
            .unwrap_or(relationship)
            .into(),
        object,
        lookup,
        filter: where_filter(schema, object, alias, sub, today)?,
        order: sort_keys(schema, object, alias, &sub.order_by)?,
        limit: sub.limit,
        offset: sub.offset.unwrap_or(0),
        projection: projection(schema, object, alias, sub, today, false)?,
    })
}
