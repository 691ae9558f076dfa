//! describeGlobal (`GET /sobjects`) and describe (`GET /sobjects/X/describe`) bodies, generated
//! from the schema in Salesforce's shape (keys in alphabetical order, as Salesforce sends them).

use serde_json::{Value, json};

use super::Schema;
use super::field::{FieldDef, FieldType};
use super::object::ObjectDef;

fn sobject_urls(object: &ObjectDef, version: &str) -> Value {
    let base = format!("/services/data/v{version}/sobjects/{}", object.name);
    json!({
        "describe": format!("{base}/describe"),
        "rowTemplate": format!("{base}/{{ID}}"),
        "sobject": base,
    })
}

fn global_entry(object: &ObjectDef, version: &str) -> Value {
    json!({
        "activateable": false,
        "createable": object.createable,
        "custom": object.custom,
        "customSetting": false,
        "deletable": object.deletable,
        "deprecatedAndHidden": false,
        "feedEnabled": false,
        "keyPrefix": object.key_prefix,
        "label": object.label,
        "labelPlural": object.label_plural,
        "layoutable": true,
        "mergeable": false,
        "mruEnabled": true,
        "name": object.name,
        "queryable": object.queryable,
        "replicateable": true,
        "retrieveable": true,
        "searchable": object.searchable,
        "triggerable": true,
        "undeletable": object.deletable,
        "updateable": object.updateable,
        "urls": sobject_urls(object, version),
    })
}

/// The describeGlobal body: `{encoding, maxBatchSize, sobjects:[…]}`.
pub fn describe_global(schema: &Schema, version: &str) -> Value {
    let sobjects: Vec<Value> = schema
        .objects()
        .iter()
        .map(|o| global_entry(o, version))
        .collect();
    json!({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects})
}

fn field_json(field: &FieldDef) -> Value {
    let ty = field.field_type;
    let sortable_filterable = ty != FieldType::Textarea && ty != FieldType::Multipicklist;
    let digits = if ty == FieldType::Int {
        field.precision
    } else {
        0
    };
    let (precision, scale) = if ty.is_decimal() {
        (field.precision, field.scale)
    } else {
        (0, 0)
    };
    let picklist: Vec<Value> = field
        .picklist_values
        .iter()
        .map(|v| {
            json!({
                "active": v.active,
                "defaultValue": v.default_value,
                "label": v.label,
                "validFor": null,
                "value": v.value,
            })
        })
        .collect();
    json!({
        "aggregatable": sortable_filterable,
        "autoNumber": false,
        "byteLength": if ty.is_text() || ty == FieldType::Id || ty == FieldType::Reference { field.length * 3 } else { 0 },
        "calculated": field.calculated,
        "cascadeDelete": field.cascade_delete,
        "caseSensitive": false,
        "createable": field.createable,
        "custom": field.custom,
        "defaultValue": null,
        "defaultedOnCreate": field.defaulted_on_create,
        "dependentPicklist": false,
        "digits": digits,
        "externalId": field.external_id,
        "filterable": sortable_filterable,
        "groupable": sortable_filterable && !ty.is_decimal() && ty != FieldType::Datetime,
        "htmlFormatted": false,
        "idLookup": ty == FieldType::Id || field.external_id,
        "label": field.label,
        "length": if ty.is_text() || ty == FieldType::Id || ty == FieldType::Reference { field.length } else { 0 },
        "name": field.name,
        "nameField": field.name_field,
        "nillable": field.nillable,
        "picklistValues": picklist,
        "polymorphicForeignKey": field.reference_to.len() > 1,
        "precision": precision,
        "referenceTo": field.reference_to,
        "relationshipName": field.relationship_name,
        "restrictedPicklist": field.restricted_picklist,
        "scale": scale,
        "soapType": ty.soap_type(),
        "sortable": sortable_filterable,
        "type": ty.as_str(),
        "unique": field.unique,
        "updateable": field.updateable,
    })
}

/// The describe body of `object`.
pub fn describe(schema: &Schema, object: &ObjectDef, version: &str) -> Value {
    let mut global = global_entry(object, version);
    let fields: Vec<Value> = object.fields().iter().map(field_json).collect();
    let children: Vec<Value> = schema
        .child_relationships(&object.name)
        .into_iter()
        .map(|c| {
            json!({
                "cascadeDelete": c.cascade_delete,
                "childSObject": c.child_object,
                "deprecatedAndHidden": false,
                "field": c.field,
                "junctionIdListNames": [],
                "junctionReferenceTo": [],
                "relationshipName": c.relationship_name,
                "restrictedDelete": false,
            })
        })
        .collect();
    if let Some(map) = global.as_object_mut() {
        map.insert("childRelationships".into(), Value::Array(children));
        map.insert("fields".into(), Value::Array(fields));
        map.insert(
            "recordTypeInfos".into(),
            json!([{
                "active": true,
                "available": true,
                "defaultRecordTypeMapping": true,
                "developerName": "Master",
                "master": true,
                "name": "Master",
                "recordTypeId": "012000000000000AAA",
            }]),
        );
    }
    global
}
