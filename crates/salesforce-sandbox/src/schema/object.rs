//! Object definitions: name, key prefix, flags and the ordered field list with a
//! case-insensitive name index.

use std::collections::HashMap;

use super::field::{FieldDef, FieldType};

/// Index of a field within its object's field list; records store values by this index.
pub type FieldIdx = usize;

/// Everything the sandbox knows about one sObject type.
#[derive(Debug, Clone)]
pub struct ObjectDef {
    /// API name, e.g. `Account` or `Invoice__c`.
    pub name: String,
    /// Label.
    pub label: String,
    /// Plural label.
    pub label_plural: String,
    /// The three-character id prefix.
    pub key_prefix: String,
    /// Whether it is a custom object.
    pub custom: bool,
    /// Whether records can be created through the API.
    pub createable: bool,
    /// Whether records can be updated.
    pub updateable: bool,
    /// Whether records can be deleted.
    pub deletable: bool,
    /// Whether it can be queried with SOQL.
    pub queryable: bool,
    /// Whether SOSL searches it.
    pub searchable: bool,
    fields: Vec<FieldDef>,
    by_name: HashMap<String, FieldIdx>,
}

impl ObjectDef {
    /// An object with the given fields (in describe order).
    pub fn new(name: &str, label: &str, label_plural: &str, key_prefix: &str) -> Self {
        Self {
            name: name.to_owned(),
            label: label.to_owned(),
            label_plural: label_plural.to_owned(),
            key_prefix: key_prefix.to_owned(),
            custom: name.ends_with("__c"),
            createable: true,
            updateable: true,
            deletable: true,
            queryable: true,
            searchable: true,
            fields: Vec::new(),
            by_name: HashMap::new(),
        }
    }

    /// Adds a field; a field of the same name (case-insensitively) is replaced in place.
    pub fn push_field(&mut self, field: FieldDef) {
        let key = field.name.to_ascii_lowercase();
        match self.by_name.get(&key) {
            Some(&idx) => {
                if let Some(slot) = self.fields.get_mut(idx) {
                    *slot = field;
                }
            }
            None => {
                self.by_name.insert(key, self.fields.len());
                self.fields.push(field);
            }
        }
    }

    /// Builder form of [`ObjectDef::push_field`].
    pub fn with(mut self, field: FieldDef) -> Self {
        self.push_field(field);
        self
    }

    /// All fields in describe order.
    pub fn fields(&self) -> &[FieldDef] {
        &self.fields
    }

    /// The field at `idx`.
    pub fn field_at(&self, idx: FieldIdx) -> Option<&FieldDef> {
        self.fields.get(idx)
    }

    /// Looks a field up by API name, case-insensitively.
    pub fn field(&self, name: &str) -> Option<(FieldIdx, &FieldDef)> {
        let idx = *self.by_name.get(&name.to_ascii_lowercase())?;
        self.fields.get(idx).map(|f| (idx, f))
    }

    /// The index of a field by API name, case-insensitively.
    pub fn field_index(&self, name: &str) -> Option<FieldIdx> {
        self.by_name.get(&name.to_ascii_lowercase()).copied()
    }

    /// The lookup field behind a parent relationship name (`Account` → `AccountId`,
    /// `Foo__r` → `Foo__c`), case-insensitively.
    pub fn parent_relationship(&self, relationship: &str) -> Option<(FieldIdx, &FieldDef)> {
        self.fields.iter().enumerate().find(|(_, f)| {
            f.field_type == FieldType::Reference
                && f.relationship_name
                    .as_deref()
                    .is_some_and(|r| r.eq_ignore_ascii_case(relationship))
        })
    }

    /// Whether records have an `OwnerId`.
    pub fn has_owner(&self) -> bool {
        self.by_name.contains_key("ownerid")
    }

    /// The name field, if the object has one.
    pub fn name_field(&self) -> Option<(FieldIdx, &FieldDef)> {
        self.fields.iter().enumerate().find(|(_, f)| f.name_field)
    }
}

/// A child relationship as describe lists it on the parent (`Account.Contacts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildRelationship {
    /// The child object (`Contact`).
    pub child_object: String,
    /// The lookup field on the child (`AccountId`).
    pub field: String,
    /// The relationship name used in subqueries (`Contacts`), if it has one.
    pub relationship_name: Option<String>,
    /// Whether deleting the parent deletes the children.
    pub cascade_delete: bool,
}
