//! Custom objects and fields (`__c`) from a JSON definition, loaded from a file at start-up or
//! posted to the admin API at runtime.

use serde::Deserialize;

use super::Schema;
use super::field::{FieldDef, FieldType};
use super::standard::custom_object_base;

/// A schema extension: new custom objects and custom fields on existing objects.
///
/// ```json
/// {"objects":[{"name":"Invoice__c","label":"Invoice","fields":[
///    {"name":"Amount__c","type":"currency","required":true},
///    {"name":"Account__c","type":"reference","referenceTo":["Account"],"childRelationshipName":"Invoices__r"}]}],
///  "fields":{"Lead":[{"name":"Score__c","type":"double"}]}}
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaExtension {
    /// New custom objects.
    #[serde(default)]
    pub objects: Vec<CustomObjectSpec>,
    /// Custom fields to add to existing objects, by object name.
    #[serde(default)]
    pub fields: std::collections::BTreeMap<String, Vec<CustomFieldSpec>>,
}

/// A custom object to define.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomObjectSpec {
    /// API name ending in `__c`.
    pub name: String,
    /// Label (defaults to the name without `__c`).
    #[serde(default)]
    pub label: Option<String>,
    /// Plural label (defaults to label + "s").
    #[serde(default)]
    pub label_plural: Option<String>,
    /// Its custom fields.
    #[serde(default)]
    pub fields: Vec<CustomFieldSpec>,
}

/// A custom field to define.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomFieldSpec {
    /// API name ending in `__c`.
    pub name: String,
    /// Label (defaults to the name without `__c`).
    #[serde(default)]
    pub label: Option<String>,
    /// Field type.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Maximum text length.
    #[serde(default)]
    pub length: Option<u32>,
    /// Total digits.
    #[serde(default)]
    pub precision: Option<u32>,
    /// Digits after the decimal point.
    #[serde(default)]
    pub scale: Option<u32>,
    /// Whether a value is required on create.
    #[serde(default)]
    pub required: bool,
    /// Whether it is an external id.
    #[serde(default)]
    pub external_id: bool,
    /// Whether values must be unique.
    #[serde(default)]
    pub unique: bool,
    /// Picklist values.
    #[serde(default)]
    pub picklist_values: Vec<String>,
    /// Whether the picklist is restricted.
    #[serde(default)]
    pub restricted: bool,
    /// Lookup targets.
    #[serde(default)]
    pub reference_to: Vec<String>,
    /// Child relationship name created on the parent (should end in `__r`).
    #[serde(default)]
    pub child_relationship_name: Option<String>,
}

/// Why an extension was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ExtensionError(pub String);

fn is_custom_name(name: &str) -> bool {
    let Some(stem) = name.strip_suffix("__c") else {
        return false;
    };
    let mut chars = stem.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && stem.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !stem.contains("__")
        && !stem.ends_with('_')
        && name.len() <= 43
}

fn default_label(name: &str) -> String {
    name.trim_end_matches("__c").replace('_', " ")
}

impl CustomFieldSpec {
    fn build(&self, schema: &Schema) -> Result<FieldDef, ExtensionError> {
        if !is_custom_name(&self.name) {
            return Err(ExtensionError(format!(
                "custom field name `{}` must be an identifier ending in __c",
                self.name
            )));
        }
        let label = self
            .label
            .clone()
            .unwrap_or_else(|| default_label(&self.name));
        let mut field = FieldDef::new(&self.name, &label, self.field_type);
        match self.field_type {
            FieldType::Id => {
                return Err(ExtensionError("a custom field cannot have type id".into()));
            }
            FieldType::Reference => {
                if self.reference_to.is_empty() {
                    return Err(ExtensionError(format!(
                        "lookup `{}` needs referenceTo",
                        self.name
                    )));
                }
                let mut targets = Vec::new();
                for target in &self.reference_to {
                    let (_, object) = schema.object(target).ok_or_else(|| {
                        ExtensionError(format!("lookup target `{target}` does not exist"))
                    })?;
                    targets.push(object.name.clone());
                }
                let relationship = format!("{}__r", self.name.trim_end_matches("__c"));
                let refs: Vec<&str> = targets.iter().map(String::as_str).collect();
                field = field.lookup(&refs, &relationship);
                if let Some(child) = &self.child_relationship_name {
                    field = field.children(child);
                }
            }
            FieldType::Picklist | FieldType::Multipicklist => {
                let values: Vec<&str> = self.picklist_values.iter().map(String::as_str).collect();
                field = field.values(&values, None);
                field.defaulted_on_create = false;
                if self.restricted {
                    field = field.restricted();
                }
            }
            _ => {}
        }
        if let Some(length) = self.length {
            if !self.field_type.is_text() || length == 0 || length > 131_072 {
                return Err(ExtensionError(format!(
                    "length {length} is not valid for `{}`",
                    self.name
                )));
            }
            field.length = length;
        }
        if self.precision.is_some() || self.scale.is_some() {
            let precision = self.precision.unwrap_or(field.precision).min(18);
            let scale = self.scale.unwrap_or(field.scale).min(precision);
            field = field.digits(precision, scale);
        }
        if self.required {
            field = field.required();
        }
        if self.external_id {
            field = field.external_id(self.unique);
        } else if self.unique {
            field.unique = true;
            field.indexed = true;
        }
        Ok(field)
    }
}

impl Schema {
    /// Applies an extension atomically: either every object and field is added or none is.
    pub fn extend(&mut self, extension: &SchemaExtension) -> Result<(), ExtensionError> {
        let mut next = self.clone();
        for spec in &extension.objects {
            if !is_custom_name(&spec.name) {
                return Err(ExtensionError(format!(
                    "custom object name `{}` must be an identifier ending in __c",
                    spec.name
                )));
            }
            if next.object(&spec.name).is_some() {
                return Err(ExtensionError(format!(
                    "object `{}` already exists",
                    spec.name
                )));
            }
            let label = spec
                .label
                .clone()
                .unwrap_or_else(|| default_label(&spec.name));
            let plural = spec
                .label_plural
                .clone()
                .unwrap_or_else(|| format!("{label}s"));
            let prefix = next.allocate_custom_prefix();
            next.add_object(custom_object_base(&spec.name, &label, &plural, &prefix));
        }
        // Fields after all objects exist, so lookups between new objects resolve.
        let mut additions: Vec<(&str, &CustomFieldSpec)> = Vec::new();
        for spec in &extension.objects {
            additions.extend(spec.fields.iter().map(|f| (spec.name.as_str(), f)));
        }
        for (object, fields) in &extension.fields {
            additions.extend(fields.iter().map(|f| (object.as_str(), f)));
        }
        for (object, spec) in additions {
            let field = spec.build(&next)?;
            let (idx, def) = next
                .object(object)
                .ok_or_else(|| ExtensionError(format!("object `{object}` does not exist")))?;
            if def.field(&field.name).is_some() {
                return Err(ExtensionError(format!(
                    "field `{}.{}` already exists",
                    def.name, field.name
                )));
            }
            if let Some(def) = next.object_at_mut(idx) {
                def.push_field(field);
            }
        }
        *self = next;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_adds_objects_and_fields() {
        let mut schema = Schema::standard();
        let ext: SchemaExtension = serde_json::from_str(
            r#"{"objects":[{"name":"Invoice__c","label":"Invoice","fields":[
                {"name":"Amount__c","type":"currency","required":true},
                {"name":"Account__c","type":"reference","referenceTo":["Account"],"childRelationshipName":"Invoices__r"}]}],
               "fields":{"Lead":[{"name":"Score__c","type":"double"}]}}"#,
        )
        .unwrap();
        schema.extend(&ext).unwrap();
        let (_, invoice) = schema.object("invoice__c").unwrap();
        assert_eq!(invoice.key_prefix, "a00");
        assert!(invoice.field("Amount__c").unwrap().1.is_required());
        assert_eq!(
            invoice.parent_relationship("Account__r").unwrap().1.name,
            "Account__c"
        );
        assert!(
            schema
                .child_relationship("Account", "Invoices__r")
                .is_some()
        );
        assert!(schema.object("Lead").unwrap().1.field("score__c").is_some());
    }

    #[test]
    fn extension_is_atomic_and_validated() {
        let mut schema = Schema::standard();
        let bad: SchemaExtension = serde_json::from_str(
            r#"{"objects":[{"name":"Ok__c"}],"fields":{"Nope":[{"name":"X__c","type":"string"}]}}"#,
        )
        .unwrap();
        assert!(schema.extend(&bad).is_err());
        assert!(schema.object("Ok__c").is_none());
        let bad_name: SchemaExtension =
            serde_json::from_str(r#"{"objects":[{"name":"Bad Name"}]}"#).unwrap();
        assert!(schema.extend(&bad_name).is_err());
    }
}
