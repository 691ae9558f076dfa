//! The org's data: one in-memory table per object behind a single `RwLock`, id generation,
//! audit fields, validation with Salesforce's error codes, soft deletes, and transactions with
//! an undo log (for `allOrNone`).
//!
//! A SOQL evaluator reads through [`Store::read`]: [`OrgData::schema`] resolves objects, fields
//! and relationships; [`OrgData::table`] scans rows ([`Table::rows`]) or probes equality indexes
//! ([`Table::lookup`]); [`OrgData::resolve`] follows a lookup id to its parent record and
//! [`OrgData::children`] lists a parent's child rows.

pub mod changes;
pub mod convert;
pub(crate) mod derive;
pub mod history;
pub mod record;
pub mod table;

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use chrono::{DateTime, Utc};
use http::StatusCode;
use salesforce_core::id::RecordId;
use salesforce_core::wire::{ApiError, error_code};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value as Json};

pub use changes::{Change, CommitObserver};
pub use record::Record;
pub use table::{RowIdx, Table};

use crate::error::ApiFailure;
use crate::schema::{FieldIdx, FieldType, ObjectDef, ObjectIdx, Schema};
use crate::value::Value;
use derive::Derivation;

/// The well-known users every org has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrgUsers {
    /// The demo user who logs in through the web-server flow (`demo@sfmcp.example`).
    pub admin: RecordId,
    /// The integration user of the client-credentials flow.
    pub integration: RecordId,
}

/// Everything in the org: schema, tables and counters.
#[derive(Debug, Clone)]
pub struct OrgData {
    schema: Schema,
    tables: Vec<Table>,
    next_id: u64,
    next_case_number: u64,
    org_id: RecordId,
    users: OrgUsers,
    /// Told about every committed [`Txn`] (outbound messages); survives resets.
    observer: Option<Arc<dyn CommitObserver>>,
}

/// The org's data behind one lock.
#[derive(Debug)]
pub struct Store {
    data: RwLock<OrgData>,
}

/// Builds an id from a key prefix and a counter: deterministic, unique per counter value.
pub fn make_id(prefix: &str, n: u64) -> RecordId {
    RecordId::mint(prefix, n)
}

impl OrgData {
    fn new(schema: Schema, now: DateTime<Utc>) -> Self {
        let tables = schema.objects().iter().map(Table::new).collect();
        let mut data = Self {
            schema,
            tables,
            next_id: 1,
            next_case_number: 1,
            org_id: make_id("00D", 1),
            users: OrgUsers {
                admin: make_id("005", 1),
                integration: make_id("005", 2),
            },
            observer: None,
        };
        data.seed_org(now);
        data
    }

    fn seed_org(&mut self, now: DateTime<Utc>) {
        let org_id = self.org_id;
        let admin = self.users.admin;
        let users = [
            (
                self.users.admin,
                "demo@sfmcp.example",
                "Dana",
                "Demo",
                "ddemo",
                "Standard",
            ),
            (
                self.users.integration,
                "integration@sfmcp.example",
                "Integration",
                "User",
                "integ",
                "AutomatedProcess",
            ),
        ];
        for (id, username, first, last, alias, kind) in users {
            let fields = [
                ("Username", Value::text(username)),
                ("FirstName", Value::text(first)),
                ("LastName", Value::text(last)),
                ("Alias", Value::text(alias)),
                ("Email", Value::text(username)),
                ("IsActive", Value::Bool(true)),
                ("TimeZoneSidKey", Value::text("America/Los_Angeles")),
                ("UserType", Value::text(kind)),
            ];
            self.insert_seeded("User", id, &fields, admin, now);
        }
        let org = [
            ("Name", Value::text("sfmcp Sandbox")),
            ("OrganizationType", Value::text("Developer Edition")),
            ("InstanceName", Value::text("SBX1")),
            ("IsSandbox", Value::Bool(true)),
            ("TimeZoneSidKey", Value::text("America/Los_Angeles")),
        ];
        self.insert_seeded("Organization", org_id, &org, admin, now);
    }

    fn insert_seeded(
        &mut self,
        object: &str,
        id: RecordId,
        fields: &[(&str, Value)],
        user: RecordId,
        now: DateTime<Utc>,
    ) {
        let Some((obj, def)) = self.schema.object(object) else {
            return;
        };
        let mut record = Record::new(id);
        for (name, value) in fields {
            if let Some(idx) = def.field_index(name) {
                record.set(idx, value.clone());
            }
        }
        self.insert_record(obj, record, user, now);
    }

    /// The schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The org's id (`00D…`).
    pub fn org_id(&self) -> RecordId {
        self.org_id
    }

    /// The well-known users.
    pub fn users(&self) -> OrgUsers {
        self.users
    }

    /// The table of the object at `object`.
    pub fn table(&self, object: ObjectIdx) -> Option<&Table> {
        self.tables.get(object)
    }

    /// An object's definition and table by API name, case-insensitively.
    pub fn object(&self, name: &str) -> Option<(ObjectIdx, &ObjectDef, &Table)> {
        let (idx, def) = self.schema.object(name)?;
        Some((idx, def, self.tables.get(idx)?))
    }

    /// The record an id names, in whichever table its key prefix points to (deleted ones too).
    pub fn resolve(&self, id: &RecordId) -> Option<(ObjectIdx, &Record)> {
        let (obj, _) = self.schema.object_for_prefix(id.key_prefix())?;
        let record = self.tables.get(obj)?.get(id)?;
        Some((obj, record))
    }

    /// The rows of `child` whose lookup `field` points at `parent` (deleted ones too).
    pub fn children(&self, child: ObjectIdx, field: FieldIdx, parent: &RecordId) -> &[RowIdx] {
        self.tables
            .get(child)
            .and_then(|t| t.lookup(field, &Value::Id(*parent)))
            .unwrap_or(&[])
    }

    /// Whether a record is soft-deleted.
    pub fn is_deleted(&self, object: ObjectIdx, record: &Record) -> bool {
        self.schema
            .object_at(object)
            .and_then(|o| o.field_index("IsDeleted"))
            .is_some_and(|idx| record.get(idx).as_bool() == Some(true))
    }

    /// Number of live (not deleted) records of each object, for admin and tests.
    pub fn counts(&self) -> Vec<(String, usize)> {
        self.schema
            .objects()
            .iter()
            .zip(&self.tables)
            .map(|(def, table)| {
                let deleted = def.field_index("IsDeleted");
                let live = table
                    .rows()
                    .iter()
                    .filter(|r| deleted.is_none_or(|d| r.get(d).as_bool() != Some(true)))
                    .count();
                (def.name.clone(), live)
            })
            .collect()
    }

    /// A fresh id for `object` (key prefix plus a counter; deterministic).
    pub fn next_id(&mut self, object: ObjectIdx) -> RecordId {
        let prefix = self
            .schema
            .object_at(object)
            .map_or("000", |o| o.key_prefix.as_str());
        let n = self.next_id;
        self.next_id += 1;
        make_id(prefix, n + 100)
    }

    /// Applies a schema extension and gives new objects their tables.
    pub fn extend_schema(
        &mut self,
        extension: &crate::schema::custom::SchemaExtension,
    ) -> Result<(), crate::schema::custom::ExtensionError> {
        self.schema.extend(extension)?;
        for (idx, def) in self.schema.objects().iter().enumerate() {
            match self.tables.get_mut(idx) {
                Some(table) => table.ensure_indexes(def),
                None => self.tables.push(Table::new(def)),
            }
        }
        Ok(())
    }

    /// Makes room for `additional` more records of `object` (bulk loads).
    pub fn reserve(&mut self, object: ObjectIdx, additional: usize) {
        if let Some(table) = self.tables.get_mut(object) {
            table.reserve(additional);
        }
    }

    /// How to stamp new records of `object`; build once and reuse for many inserts.
    pub fn insert_plan(&self, object: ObjectIdx) -> Option<InsertPlan> {
        let def = self.schema.object_at(object)?;
        let idx = |name: &str| def.field_index(name);
        Some(InsertPlan {
            object,
            id: idx("Id"),
            derivation: Derivation::for_object(def),
            created_date: idx("CreatedDate"),
            created_by: idx("CreatedById"),
            owner: idx("OwnerId"),
            last_modified_date: idx("LastModifiedDate"),
            last_modified_by: idx("LastModifiedById"),
            system_modstamp: idx("SystemModstamp"),
            case_number: (def.name == "Case").then(|| idx("CaseNumber")).flatten(),
            time_zone: (def.name == "User")
                .then(|| idx("TimeZoneSidKey"))
                .flatten(),
            defaults: def
                .fields()
                .iter()
                .enumerate()
                .filter_map(|(i, f)| Some((i, Value::text(f.default_picklist_value()?))))
                .collect(),
        })
    }

    /// Inserts a record the caller built and validated (the dataset generator's fast path):
    /// fills audit fields, owner, defaults, derived fields and the case number, then appends it.
    /// Values already set (e.g. a back-dated `CreatedDate`) are kept.
    pub fn insert_record(
        &mut self,
        object: ObjectIdx,
        record: Record,
        user: RecordId,
        now: DateTime<Utc>,
    ) -> RecordId {
        match self.insert_plan(object) {
            Some(plan) => self.insert_planned(&plan, record, user, now),
            None => record.id,
        }
    }

    /// [`OrgData::insert_record`] with a plan from [`OrgData::insert_plan`].
    pub fn insert_planned(
        &mut self,
        plan: &InsertPlan,
        mut record: Record,
        user: RecordId,
        now: DateTime<Utc>,
    ) -> RecordId {
        let given: Vec<FieldIdx> = record.values().map(|(idx, _)| idx).collect();
        self.stamp_new(plan, &mut record, user, now, &|idx| given.contains(&idx));
        let id = record.id;
        if let Some(table) = self.tables.get_mut(plan.object) {
            table.push(record);
        }
        id
    }

    fn stamp_new(
        &mut self,
        plan: &InsertPlan,
        record: &mut Record,
        user: RecordId,
        now: DateTime<Utc>,
        explicit: &dyn Fn(FieldIdx) -> bool,
    ) {
        let set_if_null = |record: &mut Record, idx: Option<FieldIdx>, value: Value| {
            if let Some(idx) = idx
                && record.get(idx).is_null()
            {
                record.set(idx, value);
            }
        };
        // The id is also a field value, so readers need no special case for `Id`.
        if let Some(idx) = plan.id {
            record.set(idx, Value::Id(record.id));
        }
        set_if_null(record, plan.created_date, Value::DateTime(now));
        set_if_null(record, plan.created_by, Value::Id(user));
        set_if_null(record, plan.owner, Value::Id(user));
        let created = plan
            .created_date
            .map_or(Value::DateTime(now), |i| record.get(i).clone());
        set_if_null(record, plan.last_modified_date, created.clone());
        set_if_null(record, plan.system_modstamp, created);
        set_if_null(record, plan.last_modified_by, Value::Id(user));
        for (idx, value) in &plan.defaults {
            set_if_null(record, Some(*idx), value.clone());
        }
        set_if_null(record, plan.time_zone, Value::text("America/Los_Angeles"));
        plan.derivation.apply(record, None, explicit, now);
        if let Some(idx) = plan.case_number {
            record.set(idx, Value::text(&format!("{:08}", self.next_case_number)));
            self.next_case_number += 1;
        }
    }
}

/// Field positions for stamping new records of one object, computed once (see
/// [`OrgData::insert_plan`]).
#[derive(Debug, Clone)]
pub struct InsertPlan {
    object: ObjectIdx,
    id: Option<FieldIdx>,
    derivation: Derivation,
    created_date: Option<FieldIdx>,
    created_by: Option<FieldIdx>,
    owner: Option<FieldIdx>,
    last_modified_date: Option<FieldIdx>,
    last_modified_by: Option<FieldIdx>,
    system_modstamp: Option<FieldIdx>,
    case_number: Option<FieldIdx>,
    time_zone: Option<FieldIdx>,
    defaults: Vec<(FieldIdx, Value)>,
}

impl Store {
    /// An org with the standard schema, the demo and integration users and no other data.
    pub fn new(now: DateTime<Utc>) -> Self {
        Self::with_schema(Schema::standard(), now)
    }

    /// An org with the given schema.
    pub fn with_schema(schema: Schema, now: DateTime<Utc>) -> Self {
        Self {
            data: RwLock::new(OrgData::new(schema, now)),
        }
    }

    /// Shared access for readers (describe, GET, SOQL).
    pub fn read(&self) -> RwLockReadGuard<'_, OrgData> {
        // The data is consistent between operations, so a poisoned lock is still usable.
        self.data.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Exclusive access for writers; wrap it in a [`Txn`] to validate and undo.
    pub fn write(&self) -> RwLockWriteGuard<'_, OrgData> {
        self.data.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces all data with an empty org with the same schema.
    pub fn reset(&self, now: DateTime<Utc>) {
        let mut data = self.write();
        let schema = data.schema.clone();
        let observer = data.observer.take();
        *data = OrgData::new(schema, now);
        data.observer = observer;
    }

    /// Registers the one observer told about committed transactions (replacing any other).
    pub fn set_observer(&self, observer: Arc<dyn CommitObserver>) {
        self.write().observer = Some(observer);
    }
}

enum Undo {
    Insert(ObjectIdx, RowIdx),
    Replace(ObjectIdx, RowIdx, Box<Record>),
}

/// A unit of writes over the org with an undo log: every change can be rolled back to a
/// savepoint. Dropping it keeps (commits) the changes and tells the store's
/// [`CommitObserver`] what survived.
pub struct Txn<'a> {
    data: &'a mut OrgData,
    undo: Vec<Undo>,
    now: DateTime<Utc>,
    user: RecordId,
}

impl Drop for Txn<'_> {
    fn drop(&mut self) {
        // The undo log holds exactly the changes that survived every rollback.
        if let Some(observer) = self.data.observer.clone()
            && !self.undo.is_empty()
            && observer.is_active()
        {
            let changes = changes::committed(self.data, &self.undo);
            observer.committed(self.data, changes, self.user, self.now);
        }
    }
}

fn resolve_object<'d>(
    data: &'d OrgData,
    name: &str,
) -> Result<(ObjectIdx, &'d ObjectDef), ApiFailure> {
    data.schema
        .object(name)
        .ok_or_else(|| ApiFailure::invalid_type(name))
}

fn bad(code: &str, message: impl Into<String>, fields: Vec<String>) -> ApiError {
    ApiError::new(code, message).with_fields(fields)
}

fn failure(errors: Vec<ApiError>) -> ApiFailure {
    ApiFailure {
        status: StatusCode::BAD_REQUEST,
        errors,
    }
}

impl<'a> Txn<'a> {
    /// Starts writes as `user` at time `now` (used for audit fields).
    pub fn new(data: &'a mut OrgData, user: RecordId, now: DateTime<Utc>) -> Self {
        Self {
            data,
            undo: Vec::new(),
            now,
            user,
        }
    }

    /// Read access to the data as it stands inside the transaction.
    pub fn data(&self) -> &OrgData {
        self.data
    }

    /// The time the transaction stamps on records.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// The user the transaction acts as.
    pub fn user(&self) -> RecordId {
        self.user
    }

    /// A point to roll back to.
    pub fn savepoint(&self) -> usize {
        self.undo.len()
    }

    /// Undoes every change made after `savepoint`.
    pub fn rollback_to(&mut self, savepoint: usize) {
        while self.undo.len() > savepoint {
            match self.undo.pop() {
                Some(Undo::Insert(obj, _)) => {
                    if let Some(t) = self.data.tables.get_mut(obj) {
                        t.pop();
                    }
                }
                Some(Undo::Replace(obj, row, old)) => {
                    if let Some(t) = self.data.tables.get_mut(obj) {
                        t.replace(row, *old);
                    }
                }
                None => break,
            }
        }
    }

    /// Converts and checks the body's fields for insert (`creating`) or update.
    fn apply_fields(
        &self,
        def: &ObjectDef,
        record: &mut Record,
        fields: &Map<String, Json>,
        creating: bool,
        explicit: &mut Vec<FieldIdx>,
    ) -> Result<(), ApiFailure> {
        let mut errors = Vec::new();
        let mut not_writable = Vec::new();
        for (name, json) in fields {
            if name == "attributes" {
                continue;
            }
            let Some((idx, field)) = def.field(name) else {
                errors.push(bad(
                    error_code::INVALID_FIELD,
                    format!("No such column '{name}' on sobject of type {}", def.name),
                    vec![],
                ));
                continue;
            };
            if field.field_type == FieldType::Id {
                if creating {
                    errors.push(ApiError::new(
                        error_code::INVALID_FIELD,
                        "The Id field should not be specified in the sobject data.",
                    ));
                } else if !json.as_str().is_some_and(|s| record.id.matches(s)) {
                    // An Id in an update body is allowed when it names the same record.
                    not_writable.push(field.name.clone());
                }
                continue;
            }
            let allowed = if creating {
                field.createable
            } else {
                field.updateable
            };
            if !allowed {
                not_writable.push(field.name.clone());
                continue;
            }
            match convert::to_value(field, json) {
                Ok(value) => {
                    if let Err(e) = self.check_reference(field, &value) {
                        errors.push(e);
                    } else {
                        record.set(idx, value);
                        explicit.push(idx);
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        if !not_writable.is_empty() {
            errors.insert(
                0,
                bad(
                    error_code::INVALID_FIELD_FOR_INSERT_UPDATE,
                    format!(
                        "Unable to create/update fields: {}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
                        not_writable.join(", ")
                    ),
                    not_writable,
                ),
            );
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(failure(errors))
        }
    }

    fn check_reference(
        &self,
        field: &crate::schema::FieldDef,
        value: &Value,
    ) -> Result<(), ApiError> {
        let Value::Id(id) = value else {
            return Ok(());
        };
        let target = self.data.schema.object_for_prefix(id.key_prefix());
        let Some((obj, _)) = target.filter(|(_, t)| {
            field
                .reference_to
                .iter()
                .any(|r| r.eq_ignore_ascii_case(&t.name))
        }) else {
            return Err(bad(
                error_code::MALFORMED_ID,
                format!("{}: id value of incorrect type: {id}", field.label),
                vec![field.name.clone()],
            ));
        };
        match self.data.tables.get(obj).and_then(|t| t.get(id)) {
            Some(record) if self.data.is_deleted(obj, record) => Err(bad(
                error_code::ENTITY_IS_DELETED,
                "entity is deleted",
                vec![field.name.clone()],
            )),
            Some(_) => Ok(()),
            None => Err(bad(
                error_code::INVALID_CROSS_REFERENCE_KEY,
                "invalid cross reference id",
                vec![field.name.clone()],
            )),
        }
    }

    fn check_required_and_unique(
        &self,
        obj: ObjectIdx,
        def: &ObjectDef,
        record: &Record,
    ) -> Result<(), ApiFailure> {
        let missing: Vec<String> = def
            .fields()
            .iter()
            .enumerate()
            .filter(|(idx, f)| !f.nillable && f.createable && record.get(*idx).is_null())
            .map(|(_, f)| f.name.clone())
            .collect();
        if !missing.is_empty() {
            return Err(failure(vec![bad(
                error_code::REQUIRED_FIELD_MISSING,
                format!("Required fields are missing: [{}]", missing.join(", ")),
                missing,
            )]));
        }
        let table = self.data.tables.get(obj);
        for (idx, field) in def.fields().iter().enumerate() {
            if !field.unique {
                continue;
            }
            let value = record.get(idx);
            let clash = table
                .and_then(|t| {
                    t.lookup(idx, value)?
                        .iter()
                        .filter_map(|row| t.row(*row))
                        .find(|r| r.id != record.id && !self.data.is_deleted(obj, r))
                })
                .map(|r| r.id);
            if let Some(other) = clash {
                return Err(failure(vec![bad(
                    error_code::DUPLICATE_VALUE,
                    format!(
                        "duplicate value found: {} duplicates value on record with id: {other}",
                        field.name
                    ),
                    vec![field.name.clone()],
                )]));
            }
        }
        Ok(())
    }

    /// Creates a record from a JSON body; returns its id.
    pub fn insert(
        &mut self,
        object: &str,
        fields: &Map<String, Json>,
    ) -> Result<RecordId, ApiFailure> {
        let (obj, def) = resolve_object(self.data, object)?;
        if !def.createable {
            return Err(ApiFailure::read_only_entity("inserted", &def.label));
        }
        let def = def.clone();
        let mut record = Record::new(make_id(&def.key_prefix, 0));
        let mut explicit = Vec::new();
        self.apply_fields(&def, &mut record, fields, true, &mut explicit)?;
        let plan = self
            .data
            .insert_plan(obj)
            .ok_or_else(ApiFailure::not_found)?;
        let mut probe = record.clone();
        let explicit_fn = |idx: FieldIdx| explicit.contains(&idx);
        // Validate a stamped copy so defaults count as values, then stamp the real one.
        let case_number = self.data.next_case_number;
        self.data
            .stamp_new(&plan, &mut probe, self.user, self.now, &explicit_fn);
        self.data.next_case_number = case_number;
        self.check_required_and_unique(obj, &def, &probe)?;
        let id = self.data.next_id(obj);
        record.id = id;
        self.data
            .stamp_new(&plan, &mut record, self.user, self.now, &explicit_fn);
        let history = history::row(self.data, obj, &record, None);
        self.push(obj, record);
        if let Some((history, row)) = history {
            self.push_history(history, row);
        }
        Ok(id)
    }

    fn push(&mut self, obj: ObjectIdx, record: Record) {
        if let Some(table) = self.data.tables.get_mut(obj) {
            let row = table.push(record);
            self.undo.push(Undo::Insert(obj, row));
        }
    }

    /// Stamps and stores a history row the org writes itself (never through the API checks).
    fn push_history(&mut self, obj: ObjectIdx, mut row: Record) {
        let Some(plan) = self.data.insert_plan(obj) else {
            return;
        };
        row.id = self.data.next_id(obj);
        self.data
            .stamp_new(&plan, &mut row, self.user, self.now, &|_| false);
        self.push(obj, row);
    }

    fn live_row(
        &self,
        obj: ObjectIdx,
        def: &ObjectDef,
        id: &str,
    ) -> Result<(RowIdx, Record), ApiFailure> {
        let parsed = RecordId::parse_lenient(id).map_err(|_| ApiFailure::not_found())?;
        if parsed.key_prefix() != def.key_prefix {
            return Err(ApiFailure::not_found());
        }
        let table = self
            .data
            .tables
            .get(obj)
            .ok_or_else(ApiFailure::not_found)?;
        let row = table.find(&parsed).ok_or_else(ApiFailure::not_found)?;
        let record = table.row(row).ok_or_else(ApiFailure::not_found)?;
        if self.data.is_deleted(obj, record) {
            return Err(ApiFailure::new(
                StatusCode::NOT_FOUND,
                error_code::ENTITY_IS_DELETED,
                "entity is deleted",
            ));
        }
        Ok((row, record.clone()))
    }

    /// Updates the record `id` from a JSON body.
    pub fn update(
        &mut self,
        object: &str,
        id: &str,
        fields: &Map<String, Json>,
    ) -> Result<RecordId, ApiFailure> {
        let (obj, def) = resolve_object(self.data, object)?;
        if !def.updateable {
            return Err(ApiFailure::read_only_entity("updated", &def.label));
        }
        let def = def.clone();
        let (row, old) = self.live_row(obj, &def, id)?;
        let mut record = old.clone();
        let mut explicit = Vec::new();
        self.apply_fields(&def, &mut record, fields, false, &mut explicit)?;
        let explicit_fn = |idx: FieldIdx| explicit.contains(&idx);
        // Derive first: a checkbox set to null reads as false, as in Salesforce.
        Derivation::for_object(&def).apply(&mut record, Some(&old), explicit_fn, self.now);
        self.check_required_and_unique(obj, &def, &record)?;
        for name in ["LastModifiedDate", "SystemModstamp"] {
            if let Some(idx) = def.field_index(name) {
                record.set(idx, Value::DateTime(self.now));
            }
        }
        if let Some(idx) = def.field_index("LastModifiedById") {
            record.set(idx, Value::Id(self.user));
        }
        let new_id = record.id;
        let history = history::row(self.data, obj, &record, Some(&old));
        self.replace(obj, row, record);
        if let Some((history, row)) = history {
            self.push_history(history, row);
        }
        Ok(new_id)
    }

    fn replace(&mut self, obj: ObjectIdx, row: RowIdx, record: Record) {
        if let Some(old) = self
            .data
            .tables
            .get_mut(obj)
            .and_then(|t| t.replace(row, record))
        {
            self.undo.push(Undo::Replace(obj, row, Box::new(old)));
        }
    }

    /// Upserts by external id: updates the one live record whose `ext_field` equals `value`
    /// (case-insensitively) or creates one. Returns the id and whether it was created.
    pub fn upsert(
        &mut self,
        object: &str,
        ext_field: &str,
        value: &str,
        fields: &Map<String, Json>,
    ) -> Result<(RecordId, bool), ApiFailure> {
        let (obj, def) = resolve_object(self.data, object)?;
        let def = def.clone();
        let Some((idx, field)) = def
            .field(ext_field)
            .filter(|(_, f)| f.external_id || f.field_type == FieldType::Id)
        else {
            return Err(ApiFailure::new(
                StatusCode::NOT_FOUND,
                error_code::NOT_FOUND,
                format!(
                    "Provided external ID field does not exist or is not accessible: {ext_field}"
                ),
            ));
        };
        if field.field_type == FieldType::Id {
            return self.update(object, value, fields).map(|id| (id, false));
        }
        let key = convert::to_value(field, &Json::String(value.to_owned()))
            .map_err(|e| failure(vec![e]))?;
        let table = self
            .data
            .tables
            .get(obj)
            .ok_or_else(ApiFailure::not_found)?;
        let matches: Vec<RecordId> = table
            .lookup(idx, &key)
            .unwrap_or(&[])
            .iter()
            .filter_map(|row| table.row(*row))
            .filter(|r| !self.data.is_deleted(obj, r))
            .map(|r| r.id)
            .collect();
        match matches.as_slice() {
            [] => {
                let mut body = fields.clone();
                body.insert(field.name.clone(), Json::String(value.to_owned()));
                self.insert(object, &body).map(|id| (id, true))
            }
            [one] => {
                let mut body = fields.clone();
                body.remove(&field.name);
                self.update(object, one.as_str(), &body)
                    .map(|id| (id, false))
            }
            many => Err(ApiFailure {
                status: StatusCode::MULTIPLE_CHOICES,
                errors: vec![ApiError::new(
                    error_code::MULTIPLE_CHOICES,
                    format!(
                        "More than one record found for external id field {}: {}",
                        field.name,
                        many.iter()
                            .map(RecordId::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )],
            }),
        }
    }

    /// Soft-deletes the record `id` and, through cascade-delete lookups, its children.
    pub fn delete(&mut self, object: &str, id: &str) -> Result<RecordId, ApiFailure> {
        let (obj, def) = resolve_object(self.data, object)?;
        let def = def.clone();
        if !def.deletable {
            return Err(ApiFailure::read_only_entity("deleted", &def.label));
        }
        let (row, record) = self.live_row(obj, &def, id)?;
        let record_id = record.id;
        self.mark_deleted(obj, &def, row, record);
        for child in self.data.schema.child_relationships(&def.name) {
            if !child.cascade_delete {
                continue;
            }
            let Some((child_obj, child_def)) = self.data.schema.object(&child.child_object) else {
                continue;
            };
            let child_def = child_def.clone();
            let Some(field) = child_def.field_index(&child.field) else {
                continue;
            };
            let rows: Vec<RowIdx> = self.data.children(child_obj, field, &record_id).to_vec();
            for row in rows {
                let Some(child_record) = self.data.tables.get(child_obj).and_then(|t| t.row(row))
                else {
                    continue;
                };
                if !self.data.is_deleted(child_obj, child_record) {
                    let child_record = child_record.clone();
                    self.mark_deleted(child_obj, &child_def, row, child_record);
                }
            }
        }
        Ok(record_id)
    }

    fn mark_deleted(&mut self, obj: ObjectIdx, def: &ObjectDef, row: RowIdx, mut record: Record) {
        for (name, value) in [
            ("IsDeleted", Value::Bool(true)),
            ("SystemModstamp", Value::DateTime(self.now)),
            ("LastModifiedDate", Value::DateTime(self.now)),
            ("LastModifiedById", Value::Id(self.user)),
        ] {
            if let Some(idx) = def.field_index(name) {
                record.set(idx, value);
            }
        }
        self.replace(obj, row, record);
    }
}

/// Which fields a record view shows.
#[derive(Debug, Clone, Copy)]
pub enum FieldSelection<'s> {
    /// Every field of the object.
    All,
    /// Only these fields (in this order), plus `attributes`.
    Only(&'s [FieldIdx]),
}

/// A record as the REST API returns it: `attributes` first, then fields in order.
pub struct RecordView<'r> {
    /// The record's object.
    pub object: &'r ObjectDef,
    /// The record.
    pub record: &'r Record,
    /// Which fields to include.
    pub fields: FieldSelection<'r>,
    /// API version for the `attributes.url`, e.g. `62.0`.
    pub version: &'r str,
}

/// The `attributes` object of a record: `{"type":…,"url":…}`.
pub struct Attributes<'r> {
    /// Object name.
    pub object: &'r str,
    /// Record id.
    pub id: &'r RecordId,
    /// API version.
    pub version: &'r str,
}

impl Serialize for Attributes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("type", self.object)?;
        map.serialize_entry(
            "url",
            &format!(
                "/services/data/v{}/sobjects/{}/{}",
                self.version, self.object, self.id
            ),
        )?;
        map.end()
    }
}

impl Serialize for RecordView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry(
            "attributes",
            &Attributes {
                object: &self.object.name,
                id: &self.record.id,
                version: self.version,
            },
        )?;
        let mut entry = |idx: FieldIdx| -> Result<(), S::Error> {
            if let Some(field) = self.object.field_at(idx) {
                if field.field_type == FieldType::Id {
                    map.serialize_entry(&field.name, &self.record.id)?;
                } else {
                    map.serialize_entry(&field.name, self.record.get(idx))?;
                }
            }
            Ok(())
        };
        match self.fields {
            FieldSelection::All => {
                for idx in 0..self.object.fields().len() {
                    entry(idx)?;
                }
            }
            FieldSelection::Only(fields) => {
                for idx in fields {
                    entry(*idx)?;
                }
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-02T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn body(v: Json) -> Map<String, Json> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn ids_are_valid_and_distinct() {
        let a = make_id("001", 1);
        let b = make_id("001", 2);
        assert_ne!(a, b);
        assert_eq!(a.key_prefix(), "001");
        assert_eq!(a.to_string().parse::<RecordId>().unwrap(), a);
    }

    #[test]
    fn insert_validates_and_derives() {
        let store = Store::new(now());
        let mut data = store.write();
        let user = data.users().admin;
        let mut txn = Txn::new(&mut data, user, now());
        let err = txn
            .insert("Account", &body(json!({"Industry": "Energy"})))
            .unwrap_err();
        assert_eq!(err.code(), "REQUIRED_FIELD_MISSING");
        assert_eq!(err.errors[0].message, "Required fields are missing: [Name]");
        let err = txn
            .insert("Account", &body(json!({"Name": "A", "Foo": 1})))
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_FIELD");
        let acct = txn
            .insert("Account", &body(json!({"Name": "Acme"})))
            .unwrap();
        let opp = txn
            .insert(
                "Opportunity",
                &body(json!({"Name": "Deal", "StageName": "Closed Won", "CloseDate": "2026-03-31", "AccountId": acct.as_str(), "Amount": 1000})),
            )
            .unwrap();
        let (obj, def, table) = txn.data().object("Opportunity").unwrap();
        let record = table.get(&opp).unwrap();
        let get = |n: &str| record.get(def.field_index(n).unwrap()).clone();
        assert_eq!(get("Probability"), Value::Number(100.0));
        assert_eq!(get("IsWon"), Value::Bool(true));
        assert_eq!(get("IsClosed"), Value::Bool(true));
        assert_eq!(get("OwnerId"), Value::Id(user));
        assert_eq!(get("CreatedDate"), Value::DateTime(now()));
        assert_eq!(get("Id"), Value::Id(opp));
        assert!(!txn.data().is_deleted(obj, record));
        let err = txn
            .insert(
                "Contact",
                &body(json!({"LastName": "X", "AccountId": opp.as_str()})),
            )
            .unwrap_err();
        assert_eq!(err.code(), "MALFORMED_ID");
    }

    #[test]
    fn evaluator_api_follows_lookups_and_child_relationships() {
        let store = Store::new(now());
        let mut data = store.write();
        let user = data.users().admin;
        let mut txn = Txn::new(&mut data, user, now());
        let acct = txn
            .insert("Account", &body(json!({"Name": "Parent"})))
            .unwrap();
        let con = txn
            .insert(
                "Contact",
                &body(json!({"LastName": "Kid", "AccountId": acct.as_str()})),
            )
            .unwrap();
        let data = txn.data();
        // Parent path Contact.Account.Name.
        let (_, contact_def, contacts) = data.object("Contact").unwrap();
        let (lookup, field) = contact_def.parent_relationship("account").unwrap();
        assert_eq!(field.reference_to, vec!["Account".to_owned()]);
        let contact = contacts.get(&con).unwrap();
        let parent_id = contact.get(lookup).as_id().unwrap();
        let (parent_obj, parent) = data.resolve(&parent_id).unwrap();
        let account_def = data.schema().object_at(parent_obj).unwrap();
        assert_eq!(
            parent.get(account_def.field_index("Name").unwrap()),
            &Value::text("Parent")
        );
        // Child subquery Account.Contacts.
        let rel = data
            .schema()
            .child_relationship("Account", "Contacts")
            .unwrap();
        let (child_obj, child_def, _) = data.object(&rel.child_object).unwrap();
        let rows = data.children(child_obj, child_def.field_index(&rel.field).unwrap(), &acct);
        assert_eq!(rows.len(), 1);
        // Equality index, case-insensitive for text.
        let (_, def, table) = data.object("Account").unwrap();
        let hits = table
            .lookup(def.field_index("Name").unwrap(), &Value::text("PARENT"))
            .unwrap();
        assert_eq!(hits.len(), 1);
        assert!(
            table
                .lookup(def.field_index("Description").unwrap(), &Value::Null)
                .is_none()
        );
    }

    #[test]
    fn rollback_restores_rows_and_indexes() {
        let store = Store::new(now());
        let mut data = store.write();
        let user = data.users().admin;
        let mut txn = Txn::new(&mut data, user, now());
        let acct = txn
            .insert("Account", &body(json!({"Name": "Keep"})))
            .unwrap();
        let sp = txn.savepoint();
        txn.insert("Account", &body(json!({"Name": "Gone"})))
            .unwrap();
        txn.update("Account", acct.as_str(), &body(json!({"Name": "Changed"})))
            .unwrap();
        txn.delete("Account", acct.as_str()).unwrap();
        txn.rollback_to(sp);
        let (_, def, table) = txn.data().object("Account").unwrap();
        assert_eq!(table.len(), 1);
        let name = def.field_index("Name").unwrap();
        assert_eq!(table.lookup(name, &Value::text("keep")).unwrap().len(), 1);
        assert!(
            table
                .lookup(name, &Value::text("changed"))
                .unwrap()
                .is_empty()
        );
    }
}
