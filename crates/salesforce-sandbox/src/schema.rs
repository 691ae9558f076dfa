//! The org's schema: standard and custom objects, their fields, lookups and child relationships,
//! from which describe and describeGlobal are generated and against which records are validated.

pub mod custom;
pub mod describe;
pub mod field;
pub mod object;
pub mod standard;

use std::collections::HashMap;

pub use field::{FieldDef, FieldType, PicklistValue};
pub use object::{ChildRelationship, FieldIdx, ObjectDef};

/// Index of an object within the schema; the store keeps one table per index.
pub type ObjectIdx = usize;

/// All objects of the org.
#[derive(Debug, Clone)]
pub struct Schema {
    objects: Vec<ObjectDef>,
    by_name: HashMap<String, ObjectIdx>,
    by_prefix: HashMap<String, ObjectIdx>,
    next_custom_prefix: u32,
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

impl Schema {
    /// The standard objects only.
    pub fn standard() -> Self {
        let mut schema = Self {
            objects: Vec::new(),
            by_name: HashMap::new(),
            by_prefix: HashMap::new(),
            next_custom_prefix: 0,
        };
        for object in standard::objects() {
            schema.insert(object);
        }
        schema
    }

    fn insert(&mut self, object: ObjectDef) -> ObjectIdx {
        let idx = self.objects.len();
        self.by_name.insert(object.name.to_ascii_lowercase(), idx);
        self.by_prefix.insert(object.key_prefix.clone(), idx);
        self.objects.push(object);
        idx
    }

    /// The next unused custom-object key prefix (`a00`, `a01`, …).
    pub(crate) fn allocate_custom_prefix(&mut self) -> String {
        loop {
            let n = self.next_custom_prefix as usize;
            self.next_custom_prefix += 1;
            let prefix = format!(
                "a{}{}",
                BASE62[(n / 62) % 62] as char,
                BASE62[n % 62] as char
            );
            if !self.by_prefix.contains_key(&prefix) {
                return prefix;
            }
        }
    }

    /// Adds a new object (its name must be unused) and returns its index.
    pub(crate) fn add_object(&mut self, object: ObjectDef) -> ObjectIdx {
        self.insert(object)
    }

    /// All objects in definition order.
    pub fn objects(&self) -> &[ObjectDef] {
        &self.objects
    }

    /// Looks an object up by API name, case-insensitively.
    pub fn object(&self, name: &str) -> Option<(ObjectIdx, &ObjectDef)> {
        let idx = *self.by_name.get(&name.to_ascii_lowercase())?;
        self.objects.get(idx).map(|o| (idx, o))
    }

    /// The object at `idx`.
    pub fn object_at(&self, idx: ObjectIdx) -> Option<&ObjectDef> {
        self.objects.get(idx)
    }

    pub(crate) fn object_at_mut(&mut self, idx: ObjectIdx) -> Option<&mut ObjectDef> {
        self.objects.get_mut(idx)
    }

    /// The object whose records have ids starting with `prefix`.
    pub fn object_for_prefix(&self, prefix: &str) -> Option<(ObjectIdx, &ObjectDef)> {
        let idx = *self.by_prefix.get(prefix)?;
        self.objects.get(idx).map(|o| (idx, o))
    }

    /// The child relationships of `parent`, in a stable order.
    pub fn child_relationships(&self, parent: &str) -> Vec<ChildRelationship> {
        let mut out = Vec::new();
        for child in &self.objects {
            for field in child.fields() {
                if field.field_type == FieldType::Reference
                    && field
                        .reference_to
                        .iter()
                        .any(|t| t.eq_ignore_ascii_case(parent))
                {
                    out.push(ChildRelationship {
                        child_object: child.name.clone(),
                        field: field.name.clone(),
                        relationship_name: field.child_relationship_name.clone(),
                        cascade_delete: field.cascade_delete,
                    });
                }
            }
        }
        out
    }

    /// The child relationship of `parent` called `name` (`Contacts`), case-insensitively.
    pub fn child_relationship(&self, parent: &str, name: &str) -> Option<ChildRelationship> {
        self.child_relationships(parent).into_iter().find(|c| {
            c.relationship_name
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(name))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_objects_resolve() {
        let schema = Schema::standard();
        let (_, account) = schema.object("account").unwrap();
        assert_eq!(account.key_prefix, "001");
        assert!(account.field("name").unwrap().1.is_required());
        let (_, contact) = schema.object("Contact").unwrap();
        let (_, account_id) = contact.parent_relationship("account").unwrap();
        assert_eq!(account_id.name, "AccountId");
        let rel = schema.child_relationship("Account", "contacts").unwrap();
        assert_eq!(
            (rel.child_object.as_str(), rel.field.as_str()),
            ("Contact", "AccountId")
        );
        assert!(schema.child_relationship("Lead", "Tasks").is_some());
        assert!(schema.child_relationship("Case", "Events").is_some());
        assert_eq!(schema.object_for_prefix("00Q").unwrap().1.name, "Lead");
    }

    #[test]
    fn custom_prefixes_are_fresh() {
        let mut schema = Schema::standard();
        assert_eq!(schema.allocate_custom_prefix(), "a00");
        assert_eq!(schema.allocate_custom_prefix(), "a01");
    }
}
